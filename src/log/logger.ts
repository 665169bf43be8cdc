// Structured logging (pino). One logger per CSE instance, passed down; never a module-level singleton.
import { pino, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** The keys whose values never reach the log, at the top of a record or one level down. */
const SECRET_KEYS = ['authorization', 'password', 'key'] as const;
const CENSOR = '[redacted]';

/** Credentials never reach the log, whatever a caller passes in. */
export const LOG_REDACT = { paths: SECRET_KEYS.flatMap((k) => [k, `*.${k}`]), censor: CENSOR };

/** The request line's fields (one line per request, src/pipeline/pipeline.ts): a fixed shape, no free-form keys. */
export interface RequestLine {
  rqi: string;
  originator: string;
  authenticated: boolean;
  op: string | number;
  to: string;
  rsc: number;
  ms: number;
  binding: string;
  access?: { basis: string; policy?: string | undefined; rule?: number | undefined } | { denied: string };
}

interface PinoInternals {
  [key: symbol]: unknown;
}

/**
 * Writes the request line: the bytes pino's `info(line, 'request')` writes (its level, time and child bindings
 * first, then the fields in this order, `msg` last), put together here without pino's generic record walk. That
 * walk (a serializer look-up, a type switch and the redaction pass per field) was 4.4 of the 15.6 µs a read
 * costs in the pipeline called in-process, and about 2 µs of a read's CPU in the server (issue #18). Redaction
 * has nothing to do on this line: its keys are fixed and none is a secret key (LOG_REDACT). Values go through
 * JSON.stringify, so a hostile rqi or target cannot break the line (test/unit/requestLine.test.ts holds the
 * bytes to pino's). A logger whose stream wants pino's metadata (a multistream) gets the line through pino.
 */
export function requestLineWriter(log: Logger): (line: RequestLine) => void {
  const internals = log as unknown as PinoInternals;
  const { streamSym, lsCacheSym, timeSym, chindingsSym, endSym, needsMetadataGsym, mixinSym, hooksSym } = pino.symbols;
  const stream = internals[streamSym] as { write(line: string): unknown; [key: symbol]: unknown } | undefined;
  const levels = internals[lsCacheSym] as Record<number, string> | undefined;
  const time = internals[timeSym] as (() => string) | undefined;
  const hooks = internals[hooksSym] as { streamWrite?: unknown } | undefined;
  const direct =
    stream !== undefined && typeof stream.write === 'function' && stream[needsMetadataGsym] !== true && typeof levels?.[30] === 'string' && typeof time === 'function' && internals[mixinSym] === undefined && hooks?.streamWrite === undefined;
  if (!direct) return (line) => log.info(line, 'request');
  const infoLevel = levels[30] as string;
  const end = internals[endSym] as string;
  const chindings = (internals[chindingsSym] as string | undefined) ?? '';
  return (line) => {
    if (!log.isLevelEnabled('info')) return;
    const access = line.access === undefined ? '' : `,"access":${JSON.stringify(line.access)}`;
    stream.write(
      `${infoLevel}${time.call(log)}${chindings},"rqi":${JSON.stringify(line.rqi)},"originator":${JSON.stringify(line.originator)},"authenticated":${line.authenticated},"op":${JSON.stringify(line.op)},"to":${JSON.stringify(line.to)},"rsc":${line.rsc},"ms":${line.ms},"binding":${JSON.stringify(line.binding)}${access},"msg":"request"${end}`,
    );
  };
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
  return pino(options, new LineBatch(pino.destination({ dest: 1 }), 16_384, 250));
}

type Destination = ReturnType<typeof pino.destination>;

/**
 * Lines leave in writes of at least 16 KiB, and at least every 250 ms. pino's default (a write as soon as the
 * previous one is done, each through the thread pool) cost about 7 µs per request in the read-latest benchmark
 * (issue #18), and a write per 4 KiB still about 2 µs (the hand-over to the thread pool wakes a thread). Not
 * sonic-boom's own `minLength`: it appends each line to one growing string and measures that string's bytes again
 * on every line (a copy of up to the whole batch per line, 1.4 µs a request line at 4 KiB). Here the lines wait in
 * a list and are joined once per write. Everything still reaches stdout when the process exits (an uncaught error
 * and a handled signal included: both leave through 'exit'); only a kill -9 loses what waits: less than 16 KiB,
 * written in the last 250 ms.
 */
class LineBatch {
  private lines: string[] = [];
  private chars = 0;

  constructor(
    private readonly out: Destination,
    private readonly minChars: number,
    everyMs: number,
  ) {
    setInterval(() => this.flush(), everyMs).unref();
    BATCHES.add(this);
  }

  write(line: string): boolean {
    this.lines.push(line);
    this.chars += line.length;
    if (this.chars >= this.minChars) this.flush();
    return true;
  }

  /** What waits goes to the destination (which writes it without blocking); pino's `logger.flush()` calls this too. */
  flush(callback?: (err?: Error) => void): void {
    if (this.chars > 0) {
      const text = this.lines.join('');
      this.lines = [];
      this.chars = 0;
      this.out.write(text);
    }
    if (callback) this.out.flush(callback);
  }

  flushSync(): void {
    this.flush();
    this.out.flushSync();
  }
}

/** Every batch, written out synchronously at exit (before pino's own exit hook for the destination, or after: both work). */
const BATCHES = new Set<LineBatch>();
process.on('exit', () => {
  for (const batch of BATCHES) {
    try {
      batch.flushSync();
    } catch {
      // stdout gone (EPIPE): nothing left to tell
    }
  }
});
