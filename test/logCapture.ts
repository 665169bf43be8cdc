// A logger whose JSON lines a test can read, for the tests that check what a decision logged (its basis).
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../src/log/logger.js';

export function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info', base: undefined }, stream), lines };
}
