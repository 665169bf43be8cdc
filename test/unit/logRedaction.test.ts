// The request line is written through a logger whose redaction is fitted to its fixed shape (issue #18: pino's
// wildcard pass over every field cost about 6 µs a request). It must censor exactly what the CSE's general
// redaction censors for a record of that shape, and write the same bytes.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino, type Logger } from 'pino';
import { LOG_REDACT, requestLineLogger } from '../../src/log/logger.js';

function capture(): { logger: Logger; raw: string[] } {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: pino({ level: 'info', base: undefined, redact: LOG_REDACT, timestamp: false }, stream), raw };
}

/** Records of the request line's shape: scalars at the top, `access` one level down; some carry secret keys. */
const RECORDS: Array<Record<string, unknown>> = [
  { rqi: 'r1', originator: 'CAdmin', authenticated: true, op: 'RETRIEVE', to: '/cse-in/app/box/la', rsc: 2000, ms: 0.412, binding: 'http', access: { basis: 'owner', policy: undefined, rule: undefined } },
  { rqi: 'r2', originator: 'Cother', authenticated: false, op: 'CREATE', to: '/cse-in/app', rsc: 4103, ms: 1.5, binding: 'mqtt', access: { denied: 'no rule grants "Cother" CREATE' } },
  { rqi: 'r3', op: 'RETRIEVE', to: '/x', rsc: 4000, ms: 0, binding: 'coap' },
  { rqi: 'r4', authorization: 'Bearer secret', password: 'p', key: 'k', access: { basis: 'acp', key: 'k2', password: 'p2', authorization: 'a2', rule: 0 } },
];

describe('request line redaction', () => {
  it('writes the same line as the general redaction for every record of the request line shape', async () => {
    const general = capture();
    const line = capture();
    const requestLog = requestLineLogger(line.logger);
    for (const r of RECORDS) {
      general.logger.info(r, 'request');
      requestLog.info(r, 'request');
    }
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(line.raw.length, RECORDS.length);
    assert.deepEqual(line.raw, general.raw);
  });

  it('censors secret keys at the top and inside access', async () => {
    const { logger, raw } = capture();
    requestLineLogger(logger).info(RECORDS[3], 'request');
    await new Promise((resolve) => setImmediate(resolve));
    const out = JSON.parse(raw[0] ?? '{}') as Record<string, unknown>;
    assert.equal(out.authorization, '[redacted]');
    assert.equal(out.password, '[redacted]');
    assert.equal(out.key, '[redacted]');
    assert.deepEqual(out.access, { basis: 'acp', key: '[redacted]', password: '[redacted]', authorization: '[redacted]', rule: 0 });
    assert.ok(!raw[0]?.includes('secret'));
  });

  it('follows the level of the logger it is made from', () => {
    const { logger } = capture();
    logger.level = 'warn';
    assert.equal(requestLineLogger(logger).isLevelEnabled('info'), false);
  });
});
