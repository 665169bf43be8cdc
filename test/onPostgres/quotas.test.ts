// The quota suites once more on PostgreSQL: stored amounts are counted by the database.
import { TEST_BACKEND_VARIABLE } from '../harness.js';

process.env[TEST_BACKEND_VARIABLE] = 'postgres';
await import('../conformance/quotas.test.js');
