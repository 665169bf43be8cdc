// The notification policy suites once more on PostgreSQL: the outbox's shared payloads, per-originator counts
// and purges run through the other backend too. Each suite's CSEs get a database of their own.
import { TEST_BACKEND_VARIABLE } from '../harness.js';

process.env[TEST_BACKEND_VARIABLE] = 'postgres';
await import('../conformance/notificationPolicy.test.js');
