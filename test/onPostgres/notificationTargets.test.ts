// The notification target policy and locationPolicy suites once more on PostgreSQL: the policy's label check and
// the removal of a target run under row locks there, and the system default is made by whichever process starts.
import { TEST_BACKEND_VARIABLE } from '../harness.js';

process.env[TEST_BACKEND_VARIABLE] = 'postgres';
await import('../conformance/notificationTargetPolicy.test.js');
await import('../conformance/locationPolicy.test.js');
