// The request line is put together by hand (src/log/logger.ts, issue #18). It must be, byte for byte, what pino
// writes for the same record through the CSE's logger (its redaction included), whatever the values hold.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino, type Logger } from 'pino';
import { LOG_REDACT, requestLineWriter, type RequestLine } from '../../src/log/logger.js';

function capture(options: { level?: string } = {}): { logger: Logger; raw: string[] } {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(chunk.toString());
      done();
    },
  });
  // A fixed time, so that two loggers' lines can be compared byte for byte.
  return { logger: pino({ level: options.level ?? 'info', base: undefined, redact: LOG_REDACT, timestamp: () => ',"time":1700000000000' }, stream), raw };
}

const LINES: RequestLine[] = [
  { rqi: 'r1', originator: 'CAdmin', authenticated: true, op: 'RETRIEVE', to: '/cse-in/app/box/la', rsc: 2000, ms: 0.412, binding: 'http', access: { basis: 'owner', policy: undefined, rule: undefined } },
  { rqi: 'r2', originator: 'Cother', authenticated: false, op: 'CREATE', to: '/cse-in/app', rsc: 4103, ms: 1.5, binding: 'mqtt', access: { denied: 'no rule grants "Cother" CREATE' } },
  { rqi: 'r3', originator: 'C', authenticated: false, op: 7, to: '/x', rsc: 4000, ms: 0, binding: 'coap' },
  { rqi: 'r4', originator: 'Cacp', authenticated: true, op: 'UPDATE', to: 'cse-in/a', rsc: 2004, ms: 12.25, binding: 'ws', access: { basis: 'acp', policy: 'acp1', rule: 0 } },
  // Hostile values: quotes, backslashes, line breaks, control characters, U+2028, a lone surrogate, non-ASCII.
  { rqi: 'a"b\\c\nd\r\u0000\u001f', originator: '\u2028C\ud800', authenticated: false, op: 'DELETE', to: '/cse-in/ä/"}{', rsc: 4004, ms: 3, binding: 'http', access: { denied: 'line\nbreak' } },
];

describe('request line', () => {
  it("writes pino's bytes for every line, hostile values included", async () => {
    const byPino = capture();
    const byHand = capture();
    const write = requestLineWriter(byHand.logger);
    for (const line of LINES) {
      byPino.logger.info(line, 'request');
      write(line);
    }
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(byHand.raw.length, LINES.length);
    assert.deepEqual(byHand.raw, byPino.raw);
    for (const [i, text] of byHand.raw.entries()) {
      assert.equal(text.indexOf('\n'), text.length - 1, 'one line each');
      const parsed = JSON.parse(text) as Record<string, unknown>;
      assert.equal(parsed.rqi, LINES[i]?.rqi);
      assert.equal(parsed.msg, 'request');
    }
  });

  it("keeps a child logger's bindings, where pino puts them", async () => {
    const byPino = capture();
    const byHand = capture();
    const line = LINES[0] as RequestLine;
    byPino.logger.child({ cse: 'id-in' }).info(line, 'request');
    requestLineWriter(byHand.logger.child({ cse: 'id-in' }))(line);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(byHand.raw, byPino.raw);
    assert.match(byHand.raw[0] ?? '', /^\{"level":30,"time":1700000000000,"cse":"id-in","rqi":"r1"/);
  });

  it('writes nothing below info, and follows a later change of level', async () => {
    const { logger, raw } = capture({ level: 'warn' });
    const write = requestLineWriter(logger);
    write(LINES[0] as RequestLine);
    logger.level = 'info';
    write(LINES[1] as RequestLine);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(raw.length, 1);
    assert.match(raw[0] ?? '', /"rqi":"r2"/);
  });

  it('goes through pino where the stream wants its metadata (a multistream)', async () => {
    const raw: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        raw.push(chunk.toString());
        done();
      },
    });
    const logger = pino({ level: 'info', base: undefined }, pino.multistream([{ stream: sink, level: 'info' }]));
    requestLineWriter(logger)(LINES[1] as RequestLine);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(raw.length, 1);
    assert.deepEqual((JSON.parse(raw[0] ?? '{}') as { access?: unknown }).access, { denied: 'no rule grants "Cother" CREATE' });
  });
});
