// Structured logging (pino). One logger per CSE instance, passed down; never a module-level singleton.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: undefined,
    // Credentials never reach the log, whatever a caller passes in.
    redact: { paths: ['authorization', '*.authorization', 'password', '*.password', 'key', '*.key'], censor: '[redacted]' },
  });
}
