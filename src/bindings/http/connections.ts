// Kept-alive HTTP/1.1 connections for outbound primitives (notifications above all), one exchange at a time on
// each. node:http's client (ClientRequest, agent bookkeeping, IncomingMessage streams) cost about 60 µs of CPU per
// request on this machine against about 15 µs for writing the request and reading the answer on a socket of our
// own, and a notification fan-out makes one request per target and event: delivery was bounded by it (issue #18).
//
// Everything a receiver sends is hostile input: the answer's head, each chunk and the whole body are bounded, the
// framing is the strict reading of RFC 9112 §6.3 (a Content-Length and a Transfer-Encoding together, differing
// Content-Lengths, a folded header line or a malformed status line end the connection), a 101 or an answer nobody
// asked for ends it too, and a total deadline cuts off a receiver that trickles bytes. Requests are never
// pipelined: a receiver sees one request at a time, as with node:http, and per-target order is the caller's.
import { connect as netConnect, isIP, type LookupFunction, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface HttpAnswer {
  readonly status: number;
  /** Header names in lower case; repeated headers joined with ", " (as node:http does for most). */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
}

export interface ConnectionsOptions {
  /** Resolves host names (the outbound policy's lookup: a connection only goes to an address it accepted). */
  readonly lookup: LookupFunction;
  /** Trust anchors for https: (the CSE's, with the system roots). */
  readonly ca: readonly string[];
  /** Connections open to one origin at most; more exchanges wait for one to come free. */
  readonly perOrigin: number;
  /** An idle connection is closed after this long (ms), before a receiver's own keep-alive timeout races a request. */
  readonly idleMs: number;
  readonly maxBodyBytes: number;
}

/** The longest head (status line and header fields) accepted, as node:http's default. */
const MAX_HEAD_BYTES = 16_384;
/** A chunk-size line longer than this is not a chunk size. */
const MAX_CHUNK_LINE = 1_024;
/** Interim (1xx) answers skipped before the final one, at most. */
const MAX_INTERIM = 8;

const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [\t\x20-\x7e\x80-\xff]*)?$/;
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[\t ]*([\t\x20-\x7e\x80-\xff]*?)[\t ]*$/;
const CHUNK_SIZE = /^([0-9A-Fa-f]{1,15})[\t ]*(?:;[\t\x20-\x7e\x80-\xff]*)?$/;
/** Characters a header value of ours may not carry (a request is never split by a value). */
const UNSAFE_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

export class HttpFramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HttpFramingError';
  }
}

type BodyMode = { kind: 'length'; left: number } | { kind: 'chunked' } | { kind: 'close' } | { kind: 'none' };

/**
 * Reads one answer from the bytes of a connection. `feed` returns true once the answer is complete; bytes after it
 * are left in `rest` (there should be none: nothing was asked for).
 */
export class AnswerReader {
  private buffered: Buffer = Buffer.alloc(0);
  private head: { status: number; minor: number; headers: Map<string, string> } | undefined;
  private mode: BodyMode | undefined;
  private readonly chunks: Buffer[] = [];
  private bodyBytes = 0;
  private chunkLeft = 0;
  /** Inside a chunked body: the size line, the chunk's data, the CRLF after it, or the trailer section. */
  private chunkState: 'size' | 'data' | 'data-end' | 'trailer' = 'size';
  private interim = 0;
  rest: Buffer = Buffer.alloc(0);

  constructor(private readonly maxBodyBytes: number) {}

  /** Whether the connection may carry another exchange once this answer is complete. */
  get reusable(): boolean {
    if (!this.head || !this.mode || this.mode.kind === 'close') return false;
    if (this.head.minor === 0) return false;
    const connection = this.head.headers.get('connection') ?? '';
    return !connection.split(',').some((token) => token.trim().toLowerCase() === 'close');
  }

  /** Whether the answer's body runs until the connection closes (no length, not chunked). */
  get untilClose(): boolean {
    return this.mode?.kind === 'close';
  }

  answer(): HttpAnswer {
    if (!this.head) throw new HttpFramingError('no answer');
    return { status: this.head.status, headers: this.head.headers, body: this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks) };
  }

  feed(data: Buffer): boolean {
    this.buffered = this.buffered.length === 0 ? data : Buffer.concat([this.buffered, data]);
    for (;;) {
      if (!this.mode) {
        const end = this.buffered.indexOf('\r\n\r\n');
        if (end < 0) {
          if (this.buffered.length > MAX_HEAD_BYTES) throw new HttpFramingError('answer head too long');
          return false;
        }
        if (end > MAX_HEAD_BYTES) throw new HttpFramingError('answer head too long');
        const text = this.buffered.subarray(0, end).toString('latin1');
        this.buffered = this.buffered.subarray(end + 4);
        this.readHead(text);
        if (!this.mode) continue; // an interim answer: the final one follows
      }
      if (this.readBody()) {
        this.rest = this.buffered;
        return true;
      }
      return false;
    }
  }

  /** The connection closed: complete when the body was to run until then. */
  closed(): boolean {
    return this.mode?.kind === 'close';
  }

  private readHead(text: string): void {
    const lines = text.split('\r\n');
    const status = STATUS_LINE.exec(lines[0] ?? '');
    if (!status) throw new HttpFramingError('malformed status line');
    const headers = new Map<string, string>();
    for (let i = 1; i < lines.length; i++) {
      const field = HEADER_LINE.exec(lines[i] as string);
      // A line starting with white space is an obsolete folding, any other mismatch garbage: neither is read on.
      if (!field) throw new HttpFramingError('malformed header line');
      const name = (field[1] as string).toLowerCase();
      const value = field[2] as string;
      const before = headers.get(name);
      if (before === undefined) headers.set(name, value);
      else if (name === 'content-length') {
        if (before !== value) throw new HttpFramingError('differing Content-Length');
      } else headers.set(name, `${before}, ${value}`);
    }
    const code = Number(status[2]);
    const minor = Number(status[1]);
    if (code === 101) throw new HttpFramingError('unexpected protocol switch');
    if (code < 200) {
      if (++this.interim > MAX_INTERIM) throw new HttpFramingError('too many interim answers');
      return;
    }
    this.head = { status: code, minor, headers };
    const transferEncoding = headers.get('transfer-encoding');
    const contentLength = headers.get('content-length');
    if (code === 204 || code === 304) this.mode = { kind: 'none' };
    else if (transferEncoding !== undefined) {
      if (contentLength !== undefined) throw new HttpFramingError('Content-Length with Transfer-Encoding');
      const codings = transferEncoding.split(',').map((c) => c.trim().toLowerCase());
      this.mode = codings[codings.length - 1] === 'chunked' && minor === 1 ? { kind: 'chunked' } : { kind: 'close' };
    } else if (contentLength !== undefined) {
      if (!/^\d{1,15}$/.test(contentLength)) throw new HttpFramingError('malformed Content-Length');
      const left = Number(contentLength);
      if (left > this.maxBodyBytes) throw new HttpFramingError('answer body too large');
      this.mode = left === 0 ? { kind: 'none' } : { kind: 'length', left };
    } else this.mode = { kind: 'close' };
  }

  private take(bytes: Buffer): void {
    this.bodyBytes += bytes.length;
    if (this.bodyBytes > this.maxBodyBytes) throw new HttpFramingError('answer body too large');
    if (bytes.length > 0) this.chunks.push(bytes);
  }

  /** True when the body is complete. */
  private readBody(): boolean {
    const mode = this.mode as BodyMode;
    switch (mode.kind) {
      case 'none':
        return true;
      case 'close':
        this.take(this.buffered);
        this.buffered = Buffer.alloc(0);
        return false;
      case 'length': {
        const part = this.buffered.subarray(0, mode.left);
        this.take(part);
        mode.left -= part.length;
        this.buffered = this.buffered.subarray(part.length);
        return mode.left === 0;
      }
      case 'chunked':
        return this.readChunks();
    }
  }

  private readChunks(): boolean {
    for (;;) {
      if (this.chunkState === 'data') {
        const part = this.buffered.subarray(0, this.chunkLeft);
        this.take(part);
        this.chunkLeft -= part.length;
        this.buffered = this.buffered.subarray(part.length);
        if (this.chunkLeft > 0) return false;
        this.chunkState = 'data-end';
      }
      if (this.chunkState === 'data-end') {
        if (this.buffered.length < 2) return false;
        if (this.buffered[0] !== 0x0d || this.buffered[1] !== 0x0a) throw new HttpFramingError('malformed chunk end');
        this.buffered = this.buffered.subarray(2);
        this.chunkState = 'size';
      }
      if (this.chunkState === 'size') {
        const end = this.buffered.indexOf('\r\n');
        if (end < 0) {
          if (this.buffered.length > MAX_CHUNK_LINE) throw new HttpFramingError('chunk size line too long');
          return false;
        }
        const size = CHUNK_SIZE.exec(this.buffered.subarray(0, end).toString('latin1'));
        if (!size) throw new HttpFramingError('malformed chunk size');
        this.chunkLeft = parseInt(size[1] as string, 16);
        if (this.bodyBytes + this.chunkLeft > this.maxBodyBytes) throw new HttpFramingError('answer body too large');
        this.buffered = this.buffered.subarray(end + 2);
        this.chunkState = this.chunkLeft === 0 ? 'trailer' : 'data';
        continue;
      }
      // The trailer section: header lines up to an empty one, bounded like a head; their content is not read.
      const end = this.buffered.indexOf('\r\n');
      if (end < 0) {
        if (this.buffered.length > MAX_HEAD_BYTES) throw new HttpFramingError('trailer too long');
        return false;
      }
      const line = this.buffered.subarray(0, end).toString('latin1');
      this.buffered = this.buffered.subarray(end + 2);
      if (line === '') return true;
      if (!HEADER_LINE.test(line)) throw new HttpFramingError('malformed trailer line');
      this.trailerBytes += end + 2;
      if (this.trailerBytes > MAX_HEAD_BYTES) throw new HttpFramingError('trailer too long');
    }
  }

  private trailerBytes = 0;
}

interface Exchange {
  readonly reader: AnswerReader;
  /** The request's bytes: written again, in order, when a kept-alive connection turns out closed (see Lane). */
  readonly request: Buffer;
  /** Whether any byte of the answer arrived (a reused connection that fails before is retried once on a new one). */
  answered: boolean;
  /** Written while an earlier request on the connection was unanswered. */
  pipelined: boolean;
  settle(err: Error | undefined): void;
}

class Connection {
  /** Exchanges written on this connection and not answered yet, oldest first (one unless a lane pipelines). */
  readonly queue: Exchange[] = [];
  idleTimer: NodeJS.Timeout | undefined;
  used = false;
  /** Taken from the idle list: the receiver may have closed it meanwhile. */
  reused = false;
  /** Answers read on this connection. */
  answers = 0;
  closed = false;
  /** The lane that holds this connection, if one does (else it belongs to the pool). */
  lane: Lane | undefined;

  constructor(
    readonly socket: Socket,
    readonly origin: string,
    private readonly pool: HttpConnections,
  ) {
    socket.on('data', (data: Buffer) => this.onData(data));
    socket.on('error', (err: Error) => this.end(err));
    socket.on('close', () => this.end(undefined));
  }

  write(exchange: Exchange): void {
    exchange.pipelined = this.queue.length > 0;
    this.queue.push(exchange);
    this.used = true;
    // Requests made in one turn of the event loop (a lane refilled from one read of answers) leave in one write.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(exchange.request);
  }

  private corked = false;

  private onData(data: Buffer): void {
    let bytes = data;
    for (;;) {
      const exchange = this.queue[0];
      // Bytes nobody asked for: the receiver does not speak this protocol, or answers twice.
      if (!exchange) {
        this.socket.destroy();
        return;
      }
      exchange.answered = true;
      let complete: boolean;
      try {
        complete = exchange.reader.feed(bytes);
      } catch (err) {
        this.queue.shift();
        exchange.settle(err as Error);
        this.socket.destroy();
        return;
      }
      if (!complete) return;
      this.queue.shift();
      this.answers++;
      const { rest, reusable } = exchange.reader;
      exchange.settle(undefined);
      if (!reusable) {
        // The receiver closes after this answer (RFC 9112 §9.6): what was written after it was not read, and
        // goes again on another connection.
        const unread = this.queue.splice(0);
        this.socket.destroy();
        if (this.lane) this.lane.closing(this, unread);
        else for (const e of unread) e.settle(new Error('connection closed before the answer was complete'));
        return;
      }
      if (rest.length === 0) break;
      bytes = rest;
    }
    if (this.lane) this.lane.answered(this);
    else if (this.queue.length === 0) this.pool.release(this);
  }

  private end(err: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.pool.forget(this);
    const pending = this.queue.splice(0);
    // A receiver that answered on the connection and then dropped it (or let it time out) with a pipelined request
    // unanswered does not take them pipelined.
    if (this.answers > 0 && pending.some((e) => e.pipelined)) this.pool.serialOnly(this.origin);
    const first = pending[0];
    // A body that runs until the connection closes ends here, when it closed cleanly.
    if (first && err === undefined && first.reader.closed()) {
      pending.shift();
      first.settle(undefined);
    }
    if (this.lane && this.lane.reconnect(this, pending)) return;
    for (const exchange of pending) exchange.settle(err ?? new Error('connection closed before the answer was complete'));
  }
}

/** The origin (scheme, host, port) of a URL: connections are kept and reused per origin. */
const originOf = (url: URL): string => `${url.protocol}//${url.host}`;

/**
 * Kept-alive connections by origin. An exchange writes one request and reads its answer; the connection then goes
 * back to the origin's idle list (most recently used first) unless the answer said otherwise.
 */
export class HttpConnections {
  private readonly idle = new Map<string, Connection[]>();
  private readonly open = new Map<string, number>();
  private readonly waiting = new Map<string, Array<() => void>>();
  private readonly all = new Set<Connection>();
  /** Origins seen dropping pipelined requests: lanes to them send one request at a time. */
  private readonly serial = new Set<string>();
  private destroyed = false;

  constructor(private readonly options: ConnectionsOptions) {}

  /**
   * One request and its answer. `headers` are the request's own (Host, Content-Length and Authorization from the
   * URL's user info are added here). Rejects on any failure: refused by the lookup, unreachable, malformed
   * answer, over its bounds, or past `timeoutMs`.
   */
  async exchange(url: URL, method: string, headers: Readonly<Record<string, string>>, body: Buffer | undefined, timeoutMs: number): Promise<HttpAnswer> {
    const request = requestBytes(url, method, headers, body);
    const deadline = Date.now() + timeoutMs;
    const origin = originOf(url);
    const first = await this.take(url, origin, deadline);
    const reused = first.used;
    try {
      return await this.run(first, request, deadline);
    } catch (err) {
      // A kept-alive connection the receiver closed while it was idle fails before any answer: the request never
      // reached it, so it goes once more on a new connection (as browsers do). At worst a receiver that read it
      // and then dropped the connection sees it twice, which at-least-once delivery allows.
      const exchange = (err as { exchange?: Exchange }).exchange;
      if (!reused || !exchange || exchange.answered || Date.now() >= deadline || (err as Error).message === 'deadline') throw err;
      return this.run(await this.take(url, origin, deadline, true), request, deadline);
    }
  }

  /** A lane: requests written one after the other on one connection, answered in order (see Lane). */
  lane(): Lane {
    return new Lane(this);
  }

  private run(connection: Connection, request: Buffer, deadline: number): Promise<HttpAnswer> {
    return new Promise<HttpAnswer>((resolve, reject) => {
      const exchange = newExchange(request, this.options.maxBodyBytes, deadline, (err) => connection.socket.destroy(err), resolve, reject);
      connection.write(exchange);
    });
  }

  /** A free connection to the origin: the most recently used idle one, a new one, or the next one freed. */
  private async take(url: URL, origin: string, deadline: number, fresh = false): Promise<Connection> {
    for (;;) {
      const ready = this.takeNow(url, origin, fresh, false);
      if (ready) return ready;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('deadline');
      await new Promise<void>((resolve) => {
        const queue = this.waiting.get(origin) ?? [];
        const timer = setTimeout(() => {
          const at = queue.indexOf(wake);
          if (at >= 0) queue.splice(at, 1);
          resolve();
        }, left);
        const wake = (): void => {
          clearTimeout(timer);
          resolve();
        };
        queue.push(wake);
        this.waiting.set(origin, queue);
      });
    }
  }

  /**
   * An idle connection or a new one, if the origin has room (`anyway`: a lane's, which its caller bounds: the
   * deliverer serves a bounded number of targets at once).
   */
  takeNow(url: URL, origin: string, fresh: boolean, anyway: boolean): Connection | undefined {
    if (this.destroyed) throw new Error('connections closed');
    for (;;) {
      const idle = fresh ? undefined : this.idle.get(origin)?.pop();
      if (!idle) break;
      if (idle.idleTimer) clearTimeout(idle.idleTimer);
      idle.idleTimer = undefined;
      idle.reused = true;
      if (!idle.closed) return idle;
    }
    const open = this.open.get(origin) ?? 0;
    if (open >= this.options.perOrigin && !anyway) return undefined;
    this.open.set(origin, open + 1);
    const connection = new Connection(this.connect(url), origin, this);
    this.all.add(connection);
    return connection;
  }

  private connect(url: URL): Socket {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
    const { lookup } = this.options;
    if (url.protocol === 'https:') {
      // The certificate is verified against the host name of the URL (never the address connected to), and a name
      // is only sent as SNI when it is one (RFC 6066 §3).
      return tlsConnect({ host, port, lookup, ca: [...this.options.ca], rejectUnauthorized: true, ...(isIP(host) ? {} : { servername: host }) });
    }
    const socket = netConnect({ host, port, lookup });
    socket.setNoDelay(true);
    return socket;
  }

  get maxBodyBytes(): number {
    return this.options.maxBodyBytes;
  }

  isSerial(origin: string): boolean {
    return this.serial.has(origin);
  }

  serialOnly(origin: string): void {
    if (this.serial.size >= SERIAL_ORIGINS_KEPT) this.serial.clear();
    this.serial.add(origin);
  }

  /** Back to the idle list after a complete answer; a waiting exchange gets it first. */
  release(connection: Connection): void {
    connection.lane = undefined;
    if (this.destroyed || connection.closed || connection.queue.length > 0) return;
    const list = this.idle.get(connection.origin) ?? [];
    list.push(connection);
    this.idle.set(connection.origin, list);
    connection.idleTimer = setTimeout(() => connection.socket.destroy(), this.options.idleMs);
    connection.idleTimer.unref();
    this.waiting.get(connection.origin)?.shift()?.();
  }

  /** A connection closed: it no longer counts against its origin, and a waiting exchange may open another. */
  forget(connection: Connection): void {
    this.all.delete(connection);
    const list = this.idle.get(connection.origin);
    const at = list?.indexOf(connection) ?? -1;
    if (list && at >= 0) list.splice(at, 1);
    if (list?.length === 0) this.idle.delete(connection.origin);
    const open = (this.open.get(connection.origin) ?? 1) - 1;
    if (open <= 0) this.open.delete(connection.origin);
    else this.open.set(connection.origin, open);
    const queue = this.waiting.get(connection.origin);
    queue?.shift()?.();
    if (queue?.length === 0) this.waiting.delete(connection.origin);
  }

  destroy(): void {
    this.destroyed = true;
    for (const c of this.all) c.socket.destroy();
    this.all.clear();
    this.idle.clear();
    for (const queue of this.waiting.values()) for (const wake of queue) wake();
    this.waiting.clear();
  }
}

/** Origins remembered as refusing pipelined requests, at most (beyond it the list starts again). */
const SERIAL_ORIGINS_KEPT = 10_000;

function newExchange(
  request: Buffer,
  maxBodyBytes: number,
  deadline: number,
  expire: (err: Error) => void,
  resolve: (answer: HttpAnswer) => void,
  reject: (err: Error) => void,
): Exchange {
  const reader = new AnswerReader(maxBodyBytes);
  let settled = false;
  const timer = setTimeout(() => expire(new Error('deadline')), Math.max(0, deadline - Date.now()));
  const exchange: Exchange = {
    reader,
    request,
    answered: false,
    pipelined: false,
    settle: (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(Object.assign(err, { exchange }));
      else {
        try {
          resolve(reader.answer());
        } catch (failure) {
          reject(failure as Error);
        }
      }
    },
  };
  return exchange;
}

function requestBytes(url: URL, method: string, headers: Readonly<Record<string, string>>, body: Buffer | undefined): Buffer {
  let head = `${method} ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n`;
  const all: Record<string, string> = { ...headers };
  if (url.username !== '' || url.password !== '') {
    all.Authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
  }
  if (body !== undefined) all['Content-Length'] = String(body.length);
  for (const [name, value] of Object.entries(all)) {
    if (UNSAFE_VALUE.test(value) || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) throw new HttpFramingError(`invalid request header ${name}`);
    head += `${name}: ${value}\r\n`;
  }
  head += '\r\n';
  const bytes = Buffer.from(head, 'latin1');
  return body === undefined || body.length === 0 ? bytes : Buffer.concat([bytes, body]);
}

/**
 * The requests of one sender to one origin, in order, on one connection: each is written as soon as it is made
 * (pipelined, RFC 9112 §9.3.2) and the answers come back in the same order, so a receiver sees them in the order
 * they were sent and the sender waits one round trip for many of them instead of one each. An origin seen
 * dropping pipelined requests gets them one at a time. The requests are written in the order `exchange` is
 * called, synchronously: the caller's order is the wire's.
 *
 * A kept-alive connection found closed before anything was answered on it gets its requests again, in order, on
 * a new one, once. Whoever uses a lane releases it when done, which hands its connection back to the pool.
 */
export class Lane {
  private connection: Connection | undefined;
  private origin: string | undefined;
  private url: URL | undefined;
  /** Requests made while an earlier one is unanswered on a serial origin: written as answers come. */
  private readonly unwritten: Exchange[] = [];
  private retried = false;

  constructor(private readonly pool: HttpConnections) {}

  exchange(url: URL, method: string, headers: Readonly<Record<string, string>>, body: Buffer | undefined, timeoutMs: number): Promise<HttpAnswer> {
    const origin = originOf(url);
    if (this.origin !== undefined && this.origin !== origin) return this.pool.exchange(url, method, headers, body, timeoutMs);
    let request: Buffer;
    try {
      request = requestBytes(url, method, headers, body);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    this.origin = origin;
    this.url = url;
    return new Promise<HttpAnswer>((resolve, reject) => {
      // The deadline of a request still waiting for its turn (serial origin) takes it out; of a written one, it ends
      // the connection (the answers behind it can no longer be told apart).
      const self: { exchange?: Exchange } = {};
      const expire = (err: Error): void => {
        const waiting = self.exchange ? this.unwritten.indexOf(self.exchange) : -1;
        if (waiting >= 0) {
          this.unwritten.splice(waiting, 1);
          self.exchange?.settle(err);
        } else this.connection?.socket.destroy(err);
      };
      const exchange = newExchange(request, this.pool.maxBodyBytes, Date.now() + timeoutMs, expire, resolve, reject);
      self.exchange = exchange;
      try {
        this.send(exchange);
      } catch (err) {
        const waiting = this.unwritten.indexOf(exchange);
        if (waiting >= 0) this.unwritten.splice(waiting, 1);
        exchange.settle(err as Error);
      }
    });
  }

  private send(exchange: Exchange): void {
    this.unwritten.push(exchange);
    this.flush();
  }

  /** Writes what waits, in order: all of it, or on a serial origin the next one once nothing is unanswered. */
  private flush(): void {
    while (this.unwritten.length > 0) {
      const connection = this.current();
      if (this.pool.isSerial(connection.origin) && connection.queue.length > 0) return;
      connection.write(this.unwritten.shift() as Exchange);
    }
  }

  private current(fresh = false): Connection {
    if (this.connection && !this.connection.closed) return this.connection;
    const connection = this.pool.takeNow(this.url as URL, this.origin as string, fresh, true) as Connection;
    connection.lane = this;
    this.connection = connection;
    return connection;
  }

  /** An answer came on the lane's connection: on a serial origin the next request goes now. */
  answered(connection: Connection): void {
    if (connection === this.connection) this.flush();
  }

  /** The lane's connection closes after an answer that said so: the requests written after it go on a new one. */
  closing(connection: Connection, unread: Exchange[]): void {
    if (connection !== this.connection) {
      for (const e of unread) e.settle(new Error('connection closed before the answer was complete'));
      return;
    }
    this.connection = undefined;
    // A receiver that closes after each answer reads one request a connection: pipelining to it is wasted.
    if (unread.length > 0) this.pool.serialOnly(connection.origin);
    this.unwritten.unshift(...unread);
    try {
      this.flush();
    } catch (err) {
      for (const e of this.unwritten.splice(0)) e.settle(err as Error);
    }
  }

  /**
   * The lane's connection closed with requests unanswered. Nothing answered on a kept-alive connection: the
   * receiver closed it while idle, so they go again on a new one (once per lane). True when they did.
   */
  reconnect(connection: Connection, pending: Exchange[]): boolean {
    if (connection !== this.connection) return false;
    this.connection = undefined;
    const again = connection.reused && connection.answers === 0 && !this.retried && pending.length > 0 && pending.every((e) => !e.answered);
    if (!again) {
      // Requests not yet written fail with those written: the caller sees every unanswered one as undelivered.
      for (const exchange of this.unwritten.splice(0)) exchange.settle(new Error('connection closed before the request was sent'));
      return false;
    }
    this.retried = true;
    const fresh = this.current(true);
    for (const exchange of pending) fresh.write(exchange);
    return true;
  }

  /** Done with the lane: its connection goes back to the pool once nothing is pending on it. */
  release(): void {
    const connection = this.connection;
    this.connection = undefined;
    if (connection && !connection.closed && connection.queue.length === 0 && this.unwritten.length === 0) this.pool.release(connection);
    else connection?.socket.destroy();
  }
}
