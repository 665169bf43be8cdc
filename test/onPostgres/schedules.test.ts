// The schedule and beacon suites once more on PostgreSQL: held queues, their timers and beacons' timers run
// through the other backend too. Each suite's CSEs get a database of their own.
import { TEST_BACKEND_VARIABLE } from '../harness.js';

process.env[TEST_BACKEND_VARIABLE] = 'postgres';
await import('../conformance/schedule.test.js');
