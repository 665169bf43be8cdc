// Structured logging (pino). One logger per CSE instance, passed down; never a module-level singleton.
import { pino, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** The keys whose values never reach the log, at the top of a record or one level down. */
const SECRET_KEYS = ['authorization', 'password', 'key'] as const;
const CENSOR = '[redacted]';

/** Credentials never reach the log, whatever a caller passes in. */
export const LOG_REDACT = { paths: SECRET_KEYS.flatMap((k) => [k, `*.${k}`]), censor: CENSOR };

/**
 * The request line (one per request, src/pipeline/pipeline.ts) has a fixed shape: scalar fields at the top and
 * one nested object, `access`. pino runs every top-level value of a record through the `*.` wildcard redactor
 * (about 6 µs a line, measured in the read-latest profile, issue #18), although only an object can hold a
 * nested key. For this shape the general rule (`x` and `*.x`) is exactly `x` and `access.x`, which pino applies
 * without the wildcard pass: the same keys are censored, the line is the same, the per-field work is gone.
 */
export const REQUEST_LINE_REDACT = { paths: SECRET_KEYS.flatMap((k) => [k, `access.${k}`]), censor: CENSOR };

/** The logger the request line is written through: the CSE's logger (same destination and level), its redaction narrowed to that line's shape. */
export function requestLineLogger(log: Logger): Logger {
  return log.child({}, { redact: REQUEST_LINE_REDACT });
}

/** JSON lines for machines; with `pretty` (--log.pretty) coloured lines for a human at a terminal. */
export function createLogger(level: string, prettyLines = false): Logger {
  const options: LoggerOptions = {
    level,
    base: undefined,
    redact: LOG_REDACT,
  };
  // In this thread and synchronous: a line is out before the process exits (no transport worker to flush).
  if (prettyLines) return pino(options, pretty({ colorize: process.stdout.isTTY, translateTime: 'SYS:standard', sync: true }));
  // Lines leave in writes of at least 4 KiB, and at least every 250 ms. pino's default (a write as soon as the
  // previous one is done, each through the thread pool) cost about 7 µs per request in the read-latest benchmark
  // (issue #18). pino flushes the rest when the process exits, on a signal or an error as well; only a kill -9
  // loses what waits: less than 4 KiB, written in the last 250 ms.
  return pino(options, pino.destination({ dest: 1, minLength: 4096, periodicFlush: 250 }));
}
