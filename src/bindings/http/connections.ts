// Kept-alive HTTP/1.1 connections for outbound primitives (notifications above all), on undici (Node's own HTTP
// client library): it writes the requests and parses the answers (llhttp, strict: no Content-Length next to a
// Transfer-Encoding, no differing Content-Lengths, no obsolete line folding, bounded head), keeps connections
// alive per origin, checks an idle connection for a close from the receiver before writing on it again, and
// pipelines. node:http's client cost about four times the CPU of the exchange itself per notification (issue #18).
//
// What stays ours: every connection resolves through the outbound destination policy's lookup (so a connection
// only goes to an address it accepted), TLS verifies against the system roots plus the CSE's trust anchors, the
// answer's body is bounded, a total deadline cuts off a receiver that trickles bytes (undici's header and body
// timeouts only notice silence), and lanes (below) keep one sender's requests in order on one connection.
import { Agent, buildConnector, Client, type Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import type { LookupFunction, Socket } from 'node:net';

export interface HttpAnswer {
  readonly status: number;
  /** A header by its name in lower case; repeated ones joined with ", " (as node:http does for most). */
  readonly headers: { get(name: string): string | undefined };
  readonly body: Buffer;
}

/** The answer's headers as undici parsed them, read when asked (a delivery reads two of them). */
class AnswerHeaders {
  constructor(private readonly parsed: IncomingHttpHeaders) {}

  get(name: string): string | undefined {
    // Own properties only: a receiver's header named like something of Object.prototype is not that.
    const value = Object.hasOwn(this.parsed, name) ? this.parsed[name] : undefined;
    return Array.isArray(value) ? value.join(', ') : value;
  }
}

export interface ConnectionsOptions {
  /** Resolves host names (the outbound policy's lookup: a connection only goes to an address it accepted). */
  readonly lookup: LookupFunction;
  /** Trust anchors for https: (the CSE's, with the system roots). */
  readonly ca: readonly string[];
  /** Connections open to one origin at most for single exchanges (lanes hold one each besides). */
  readonly perOrigin: number;
  /** An idle connection is closed after this long (ms), before a receiver's own keep-alive timeout races a request. */
  readonly idleMs: number;
  readonly maxBodyBytes: number;
}

/**
 * Requests a lane writes before the first is answered, at most: the deliverer's own window (notifications.pipelining,
 * at most 64) is the real bound.
 */
const LANE_PIPELINING = 64;
/** Origins remembered as refusing pipelined requests, at most (beyond it the list starts again). */
const SERIAL_ORIGINS_KEPT = 10_000;
/** Idle lane connections kept per origin, at most (more are closed when released). */
const IDLE_LANES_PER_ORIGIN = 64;

/** The origin (scheme, host, port) of a URL: connections are kept and reused per origin. */
const originOf = (url: URL): string => `${url.protocol}//${url.host}`;

/**
 * A failure that says the receiver closed a kept-alive connection before any of this answer came: the request
 * most likely never reached it (a receiver's keep-alive timeout racing our write), so it may go once more.
 * `reused`: whether the connection had carried an earlier answer; when the caller cannot tell, undici's socket
 * details can (bytes read before this request). A fresh connection closed without a word is a receiver that
 * drops what we send: not retried.
 */
function closedBeforeAnswer(err: Error, answerStarted: boolean, reused?: boolean): boolean {
  if (answerStarted) return false;
  const { code, socket } = err as Error & { code?: unknown; socket?: { bytesRead?: unknown } };
  if (reused !== undefined) return reused && (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE');
  return code === 'UND_ERR_SOCKET' && typeof socket?.bytesRead === 'number' && socket.bytesRead > 0;
}

/** One request: the handler undici calls with its answer, bounded, settled once (whatever undici calls after). */
class Exchange implements Dispatcher.DispatchHandler {
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private controller: Dispatcher.DispatchController | undefined;
  /** An answer's head came for this attempt. */
  answerStarted = false;
  /** Settled, or superseded by another attempt: what undici still reports for it is ignored. */
  done = false;

  constructor(
    private readonly maxBodyBytes: number,
    private readonly finish: (err: Error | undefined, answer: HttpAnswer | undefined) => void,
  ) {}

  /** Ends the attempt: a written request is aborted (undici closes its connection), an unwritten one never goes. */
  abandon(reason: Error): void {
    this.done = true;
    this.controller?.abort(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.done) {
      controller.abort(new Error('abandoned'));
      return;
    }
    this.controller = controller;
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    this.answerStarted = true;
    this.status = status;
    this.headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.done) return;
    this.size += chunk.length;
    if (this.size > this.maxBodyBytes) controller.abort(new Error('answer body too large'));
    else this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.done) return;
    this.done = true;
    this.finish(undefined, { status: this.status, headers: new AnswerHeaders(this.headers), body: this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks) });
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.done) return;
    this.done = true;
    this.finish(err, undefined);
  }
}

/** What undici needs for one request to `url`, the deadline's time left as its header and body timeouts. */
function dispatchOptions(url: URL, method: string, headers: Readonly<Record<string, string>>, body: Buffer | undefined, timeoutMs: number): Dispatcher.DispatchOptions {
  const all: Record<string, string> = { ...headers };
  if (url.username !== '' || url.password !== '') {
    all.Authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
  }
  const timeout = Math.max(1, timeoutMs);
  return {
    origin: originOf(url),
    path: `${url.pathname}${url.search}`,
    method: method,
    headers: all,
    body: body ?? null,
    headersTimeout: timeout,
    bodyTimeout: timeout,
    // A NOTIFY is a POST, which undici neither pipelines nor sends again after a connection failure unless told it
    // may: delivery is at-least-once, so a notification the receiver may already have had can go again, and a
    // lane's order is kept by the lane (it never lets one go after a later one, see Lane). `blocking: false`: an
    // answer is not expected to take long enough to hold back the requests behind it.
    idempotent: true,
    blocking: false,
  };
}

/**
 * Kept-alive connections by origin: single exchanges share a pool per origin (undici's Agent), lanes hold a
 * connection each (undici's Client), taken from and given back to an idle list per origin.
 */
export class HttpConnections {
  private readonly agent: Agent;
  private readonly connect: { lookup: LookupFunction; ca: string[]; rejectUnauthorized: true };
  /** Opens lane connections with `connect`'s options (and undici's defaults: connect timeout, TLS session cache). */
  private readonly connector: buildConnector.connector;
  /** The socket a lane connection currently has, so that a lane can cork it (see Lane.write). */
  private readonly sockets = new WeakMap<Client, Socket>();
  private readonly idleLanes = new Map<string, Client[]>();
  /** Every lane connection, idle or held, so that destroy() ends them all. */
  private readonly laneClients = new Set<Client>();
  /** Lane connections given up on, to be destroyed as soon as undici allows. */
  private readonly discarded = new WeakSet<Client>();
  /** Origins seen dropping pipelined requests: lanes to them send one request at a time. */
  private readonly serial = new Set<string>();
  private destroyed = false;

  constructor(private readonly options: ConnectionsOptions) {
    // The certificate is verified against the URL's host name (never the address connected to); undici sends it as
    // SNI only when it is a name (RFC 6066 §3).
    this.connect = { lookup: options.lookup, ca: [...options.ca], rejectUnauthorized: true };
    this.agent = new Agent({
      connections: options.perOrigin,
      pipelining: 1,
      keepAliveTimeout: options.idleMs,
      // A receiver's Keep-Alive: timeout= hint may shorten the wait, never lengthen it past ours.
      keepAliveMaxTimeout: options.idleMs,
      maxResponseSize: options.maxBodyBytes,
      connect: this.connect,
    });
    this.connector = buildConnector(this.connect);
  }

  get maxBodyBytes(): number {
    return this.options.maxBodyBytes;
  }

  /**
   * One request and its answer. `headers` are the request's own (Host, Content-Length and Authorization from the
   * URL's user info are added). Rejects on any failure: refused by the lookup, unreachable, malformed answer,
   * over its bounds, or past `timeoutMs`. A request on a kept-alive connection the receiver closed before
   * answering goes once more on a new one (as browsers do): at worst a receiver sees it twice, which
   * at-least-once delivery allows.
   */
  exchange(url: URL, method: string, headers: Readonly<Record<string, string>>, body: Buffer | undefined, timeoutMs: number): Promise<HttpAnswer> {
    if (this.destroyed) return Promise.reject(new Error('connections closed'));
    const deadline = Date.now() + timeoutMs;
    return new Promise<HttpAnswer>((resolve, reject) => {
      let retried = false;
      let current: Exchange | undefined;
      const timer = setTimeout(() => {
        const late = new Error('deadline');
        current?.abandon(late);
        reject(late);
      }, timeoutMs);
      const finish = (err: Error | undefined, answer: HttpAnswer | undefined): void => {
        if (err && !retried && current && closedBeforeAnswer(err, current.answerStarted) && Date.now() < deadline && !this.destroyed) {
          retried = true;
          attempt();
          return;
        }
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(answer as HttpAnswer);
      };
      const attempt = (): void => {
        const exchange = new Exchange(this.options.maxBodyBytes, (err, answer) => {
          if (exchange === current) finish(err, answer);
        });
        current = exchange;
        try {
          this.agent.dispatch(dispatchOptions(url, method, headers, body, deadline - Date.now()), exchange);
        } catch (err) {
          exchange.done = true;
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      };
      attempt();
    });
  }

  /** A lane: requests written one after the other on one connection, answered in order (see Lane). */
  lane(): Lane {
    return new Lane(this);
  }

  /** An idle lane connection to the origin (unless `fresh`), or a new one. */
  takeLaneClient(origin: string, fresh: boolean): { client: Client; reused: boolean } {
    if (this.destroyed) throw new Error('connections closed');
    const idle = fresh ? undefined : this.idleLanes.get(origin);
    const client = idle?.pop();
    if (idle?.length === 0) this.idleLanes.delete(origin);
    if (client) {
      client.pipelining = this.serial.has(origin) ? 1 : LANE_PIPELINING;
      return { client, reused: true };
    }
    // An idle lane connection the receiver (or our keep-alive timeout) closed is not kept: the list only holds
    // live connections, so it stays as small as the traffic that needs it.
    const created: Client = new Client(origin, {
      pipelining: this.serial.has(origin) ? 1 : LANE_PIPELINING,
      keepAliveTimeout: this.options.idleMs,
      keepAliveMaxTimeout: this.options.idleMs,
      maxResponseSize: this.options.maxBodyBytes,
      connect: (options, callback) =>
        this.connector(options, (...args) => {
          if (args[0] === null) this.sockets.set(created, args[1]);
          callback(...args);
        }),
    });
    created.on('disconnect', () => {
      // A discarded connection that failed: undici is about to open another for the requests it still holds (it
      // tells of the disconnect first), which must not go (see Lane). Ending it here leaves it nothing to open.
      if (this.discarded.has(created)) created.destroy(new Error('discarded')).catch(() => undefined);
      else if (this.idleLanes.get(origin)?.includes(created)) this.discard(origin, created, new Error('closed while idle'));
    });
    this.laneClients.add(created);
    return { client: created, reused: false };
  }

  /** A lane is done with its connection, nothing pending on it: it waits for the next lane to the origin. */
  giveBackLaneClient(origin: string, client: Client): void {
    const idle = this.idleLanes.get(origin) ?? [];
    if (this.destroyed || idle.length >= IDLE_LANES_PER_ORIGIN) {
      this.discard(origin, client, new Error('not kept'));
      return;
    }
    idle.push(client);
    this.idleLanes.set(origin, idle);
  }

  /**
   * Ends a lane connection and fails what is still queued on it. Never synchronously from inside one of undici's
   * request callbacks (it is in the middle of its bookkeeping then): at its disconnect event, or on the next
   * microtask, whichever comes first; either is before a new connection could carry anything.
   */
  discard(origin: string, client: Client, reason: Error): void {
    this.discarded.add(client);
    this.laneClients.delete(client);
    const idle = this.idleLanes.get(origin);
    const at = idle?.indexOf(client) ?? -1;
    if (idle && at >= 0) idle.splice(at, 1);
    if (idle?.length === 0) this.idleLanes.delete(origin);
    queueMicrotask(() => {
      client.destroy(reason).catch(() => undefined);
    });
  }

  /** The lane connection's socket while it is open (undici opens another when it needs to). */
  socketOf(client: Client): Socket | undefined {
    const socket = this.sockets.get(client);
    return socket && !socket.destroyed ? socket : undefined;
  }

  isSerial(origin: string): boolean {
    return this.serial.has(origin);
  }

  serialOnly(origin: string): void {
    if (this.serial.size >= SERIAL_ORIGINS_KEPT) this.serial.clear();
    this.serial.add(origin);
  }

  destroy(): void {
    this.destroyed = true;
    const closed = new Error('connections closed');
    for (const client of this.laneClients) client.destroy(closed).catch(() => undefined);
    this.laneClients.clear();
    this.idleLanes.clear();
    this.agent.destroy(closed).catch(() => undefined);
  }
}

/** A request of a lane, from its call to its answer; its undici attempt may be replaced once (see Lane). */
interface LaneRequest {
  readonly options: Dispatcher.DispatchOptions;
  readonly deadline: number;
  readonly resolve: (answer: HttpAnswer) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
  attempt: Exchange | undefined;
}

/**
 * The requests of one sender to one origin, in order, on one connection: each is written as soon as it is made
 * (pipelined, RFC 9112 §9.3.2) and the answers come back in the same order, so a receiver sees them in the order
 * they were sent and the sender waits one round trip for many of them instead of one each. The requests are
 * handed to undici in the order `exchange` is called, synchronously: the caller's order is the wire's.
 *
 * Order over failures: undici, when a connection fails, fails the request at the head and writes those behind it
 * again on a new connection, which would let them overtake the failed one. A lane does not let that happen: at
 * its first failure it ends its connection and every request still unanswered on it fails too (the caller sees
 * each as undelivered and sends them again after the failed one). Two exceptions, as before undici:
 * - a kept-alive connection the receiver closed before answering anything on it (its keep-alive timeout racing
 *   our write) gets all of them again, in order, on a new connection, once per lane;
 * - an answer that closes the connection (Connection: close, RFC 9112 §9.6) is no failure: undici writes what
 *   was behind it again, in order, on a new connection.
 * An origin seen dropping pipelined requests (it answered one and closed the connection under the others) gets
 * one request at a time from then on. Whoever uses a lane releases it when done.
 */
export class Lane {
  private client: Client | undefined;
  private origin: string | undefined;
  /** Requests handed to undici and not settled, oldest first. */
  private readonly pending: LaneRequest[] = [];
  /** Answers taken on the current connection. */
  private answers = 0;
  /** The current connection was a kept-alive one from an earlier lane. */
  private reused = false;
  private retried = false;

  constructor(private readonly pool: HttpConnections) {}

  exchange(url: URL, method: string, headers: Readonly<Record<string, string>>, body: Buffer | undefined, timeoutMs: number): Promise<HttpAnswer> {
    const origin = originOf(url);
    if (this.origin !== undefined && this.origin !== origin) return this.pool.exchange(url, method, headers, body, timeoutMs);
    this.origin = origin;
    return new Promise<HttpAnswer>((resolve, reject) => {
      const request: LaneRequest = {
        options: dispatchOptions(url, method, headers, body, timeoutMs),
        deadline: Date.now() + timeoutMs,
        resolve,
        reject,
        // The answers behind a late one can no longer be told apart from its own: the lane fails from it on.
        timer: setTimeout(() => this.fail(request, new Error('deadline')), timeoutMs),
        attempt: undefined,
      };
      this.pending.push(request);
      try {
        this.write(request);
      } catch (err) {
        this.fail(request, err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  private write(request: LaneRequest, fresh = false): void {
    if (!this.client) {
      const { client, reused } = this.pool.takeLaneClient(this.origin as string, fresh);
      this.client = client;
      this.reused = reused;
      this.answers = 0;
    }
    const exchange = new Exchange(this.pool.maxBodyBytes, (err, answer) => {
      if (request.attempt !== exchange) return;
      if (err) this.failed(request, err);
      else this.answered(request, answer as HttpAnswer);
    });
    request.attempt = exchange;
    this.cork(this.client);
    this.client.dispatch({ ...request.options, headersTimeout: Math.max(1, request.deadline - Date.now()) }, exchange);
  }

  private corked = false;

  /**
   * Requests made in one turn of the event loop (a lane refilled from one read of answers) leave in one write:
   * undici writes each request on its own, which cost a system call per notification, more CPU than the rest of
   * the exchange. Only the flushing is held back: undici still writes, frames and orders the requests.
   */
  private cork(client: Client): void {
    if (this.corked) return;
    const socket = this.pool.socketOf(client);
    if (!socket) return;
    this.corked = true;
    socket.cork();
    process.nextTick(() => {
      this.corked = false;
      socket.uncork();
    });
  }

  private answered(request: LaneRequest, answer: HttpAnswer): void {
    this.answers++;
    // An answer that closes the connection (RFC 9112 §9.6) with requests written behind it: undici writes those
    // again on a new connection, all of them, and a receiver that closes after each answer would get the rest of
    // the run once per request. It reads one request a connection: pipelining to it is wasted. After undici's own
    // bookkeeping of this answer (a microtask), before the new connection is open.
    if (this.pending.length > 1 && /(?:^|,)\s*close\s*(?:,|$)/i.test(answer.headers.get('connection') ?? '')) {
      const client = this.client;
      this.pool.serialOnly(this.origin as string);
      queueMicrotask(() => {
        if (client && !client.destroyed) client.pipelining = 1;
      });
    }
    this.settle(request);
    request.resolve(answer);
  }

  /** undici reported a failure of one request of the lane. */
  private failed(request: LaneRequest, err: Error): void {
    const exchange = request.attempt as Exchange;
    if (!this.retried && this.answers === 0 && request === this.pending[0] && closedBeforeAnswer(err, exchange.answerStarted, this.reused) && request.deadline > Date.now()) {
      // Nothing answered on a kept-alive connection: the receiver closed it while idle. All of them go again, in
      // order, on a new one.
      this.retried = true;
      this.replaceConnection(err);
      for (const waiting of this.pending) this.write(waiting, true);
      return;
    }
    // It answered on this connection and then closed it under requests written behind: it does not take them
    // pipelined.
    if (this.answers > 0 && this.pending.length > 1 && (err as { code?: unknown }).code === 'UND_ERR_SOCKET') this.pool.serialOnly(this.origin as string);
    this.fail(request, err);
  }

  /** Fails `request` and every request behind it on the lane; the connection goes with them. */
  private fail(request: LaneRequest, err: Error): void {
    if (!this.pending.includes(request)) return;
    this.replaceConnection(err);
    // Those behind it must not overtake it; those ahead of it had their answers on the connection just ended.
    for (const r of this.pending.splice(0)) {
      this.settle(r);
      r.reject(err);
    }
  }

  private settle(request: LaneRequest): void {
    clearTimeout(request.timer);
    const at = this.pending.indexOf(request);
    if (at >= 0) this.pending.splice(at, 1);
  }

  /** Drops the current connection; what undici still holds of it is abandoned and never written again. */
  private replaceConnection(reason: Error): void {
    for (const r of this.pending) r.attempt?.abandon(reason);
    if (this.client) this.pool.discard(this.origin as string, this.client, reason);
    this.client = undefined;
    this.answers = 0;
  }

  /** Done with the lane: its connection goes back to the pool when nothing is pending on it, else it is closed. */
  release(): void {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if (this.pending.length === 0) this.pool.giveBackLaneClient(this.origin as string, client);
    else this.fail(this.pending[0] as LaneRequest, new Error('lane released with requests unanswered'));
  }
}
