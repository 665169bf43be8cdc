// The request-language suites once more on PostgreSQL: the filter SQL, row tests, descendants, semantics and
// non-blocking jobs run through the other dialect too. Each suite's CSEs get a database of their own.
import { TEST_BACKEND_VARIABLE } from '../harness.js';

process.env[TEST_BACKEND_VARIABLE] = 'postgres';
await import('../conformance/discovery.test.js');
await import('../conformance/filterLanguage.test.js');
await import('../conformance/resultContent.test.js');
await import('../conformance/semantics.test.js');
await import('../conformance/groups.test.js');
