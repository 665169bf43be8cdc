// The action suite once more on PostgreSQL: an action locks its subject (to keep the list of actions watching it)
// inside the transaction that writes the action, and its jobs and period timers are leased from the shared outbox.
import { TEST_BACKEND_VARIABLE } from '../harness.js';

process.env[TEST_BACKEND_VARIABLE] = 'postgres';
await import('../conformance/actions.test.js');
