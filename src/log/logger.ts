// Structured logging (pino). One logger per CSE instance, passed down; never a module-level singleton.
import { pino, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** JSON lines for machines; with `pretty` (--log.pretty) coloured lines for a human at a terminal. */
export function createLogger(level: string, prettyLines = false): Logger {
  const options: LoggerOptions = {
    level,
    base: undefined,
    // Credentials never reach the log, whatever a caller passes in.
    redact: { paths: ['authorization', '*.authorization', 'password', '*.password', 'key', '*.key'], censor: '[redacted]' },
  };
  // In this thread and synchronous: a line is out before the process exits (no transport worker to flush).
  if (prettyLines) return pino(options, pretty({ colorize: process.stdout.isTTY, translateTime: 'SYS:standard', sync: true }));
  return pino(options);
}
