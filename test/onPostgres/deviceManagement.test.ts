// The node and mgmtObj suites once more on PostgreSQL: the AE/node links are written under row locks there.
import { TEST_BACKEND_VARIABLE } from '../harness.js';

process.env[TEST_BACKEND_VARIABLE] = 'postgres';
await import('../conformance/node.test.js');
await import('../conformance/mgmtObj.test.js');
