// Receiving what the CSE sends an AE: notifications (m2m:sgn, batches as m2m:agn), subscription verification
// requests, and results of asynchronous non-blocking requests (m2m:rsp). One sink reads them whatever carried
// them (the HTTP receiver here, a WebSocket or MQTT connection, a polling channel); the HTTP receiver is a small
// server an AE runs as its point of access.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { codecForMediaType, codecOf } from './codec.js';
import { TimeoutError } from './errors.js';
import { responseFromDocument, type ResponsePrimitive } from './primitive.js';

/** A notification as an AE reads it. */
export interface Notification {
  /** subscriptionReference: the subscription that sent it. */
  subscription: string | undefined;
  /** notificationEventType (1 update, 2 delete, 3 child created, 4 child deleted, …). */
  event: number | undefined;
  /** The content name of the representation (`m2m:cin`), when it carries one resource. */
  typeName: string | undefined;
  /** The representation's attributes (under its content name), when it carries one resource. */
  resource: Record<string, unknown> | undefined;
  /** The creator of the subscription. */
  creator: string | undefined;
  /** subscriptionDeletion: the subscription is gone and this is its last notification. */
  deleted: boolean;
  /** Who sent it (X-M2M-Origin / fr): the CSE. */
  from: string;
  /** The whole m2m:sgn. */
  raw: Record<string, unknown>;
}

/** A subscription verification request [TS-0004 §7.3.8.2.2]: the CSE asks whether this target wants the notifications. */
export interface Verification {
  subscription: string | undefined;
  creator: string | undefined;
  from: string;
}

/** The result of an asynchronous non-blocking request (rt=2), as the CSE notified it. */
export interface NonBlockingResult {
  response: ResponsePrimitive;
  from: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function notificationOf(sgn: Record<string, unknown>, from: string): Notification {
  const nev = isRecord(sgn.nev) ? sgn.nev : undefined;
  const rep = nev && isRecord(nev.rep) ? nev.rep : undefined;
  const names = rep ? Object.keys(rep) : [];
  const single = names.length === 1 && rep && isRecord(rep[names[0] as string]);
  return {
    subscription: typeof sgn.sur === 'string' ? sgn.sur : undefined,
    event: nev && Number.isInteger(nev.net) ? (nev.net as number) : undefined,
    typeName: single ? names[0] : undefined,
    resource: single ? (rep[names[0] as string] as Record<string, unknown>) : undefined,
    creator: typeof sgn.cr === 'string' ? sgn.cr : undefined,
    deleted: sgn.sud === true,
    from,
    raw: sgn,
  };
}

type Waiter<T> = { test: (v: T) => boolean; resolve: (v: T) => void };

/** A queue that hands each item to the first waiter that wants it, or keeps it (bounded) until one asks. */
class Mailbox<T> {
  private readonly items: T[] = [];
  private readonly waiters = new Set<Waiter<T>>();
  constructor(private readonly bound: number) {}

  put(item: T): void {
    for (const w of this.waiters) {
      if (!w.test(item)) continue;
      this.waiters.delete(w);
      w.resolve(item);
      return;
    }
    this.items.push(item);
    // Nobody reads them: the oldest go, so a busy subscription cannot fill the AE's memory.
    if (this.items.length > this.bound) this.items.shift();
  }

  take(test: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> {
    const at = this.items.findIndex(test);
    if (at >= 0) return Promise.resolve(this.items.splice(at, 1)[0] as T);
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        test,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new TimeoutError(timeoutMs, what));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  get size(): number {
    return this.items.length;
  }
}

export interface SinkOptions {
  /** How many unread notifications are kept for next() (default 1000; the oldest go first). */
  keep?: number;
  /**
   * Take notifications only of subscriptions this sink knows: verified here, or created through
   * `WardenClient.subscribe` with it. Others are refused (4101). Off by default, so that subscriptions made
   * before a restart keep being heard; on, a stranger who can reach the receiver cannot feed it notifications
   * without knowing a subscription's resource ID.
   */
  knownSubscriptionsOnly?: boolean;
}

/** The resource ID at the end of a subscription reference (sur is SP-relative or absolute, or the ID alone). */
const lastSegment = (sur: string): string => sur.slice(sur.lastIndexOf('/') + 1);

/**
 * What the CSE sends, read and answered. A verification is accepted only for subscriptions whose creator this
 * sink was told to accept (`acceptCreator`, done by `WardenClient.subscribe`) or that `verify` approves: a CSE
 * must not be able to point somebody else's subscription at this AE [TS-0001 §10.2.10.1].
 */
export class NotificationSink {
  private readonly creators = new Set<string>();
  private readonly subscriptions = new Set<string>();
  private readonly awaitedResults = new Set<string>();
  private readonly knownOnly: boolean;
  private readonly notifications: Mailbox<Notification>;
  private readonly results: Mailbox<NonBlockingResult>;
  private readonly listeners = new Set<(n: Notification) => void>();
  /** Extra verification policy; true accepts. Called only for creators not accepted already. */
  verify: ((v: Verification) => boolean | Promise<boolean>) | undefined;

  constructor(options: SinkOptions = {}) {
    this.notifications = new Mailbox(options.keep ?? 1000);
    this.results = new Mailbox(options.keep ?? 1000);
    this.knownOnly = options.knownSubscriptionsOnly === true;
  }

  /** A subscription (its resource ID or reference) whose notifications this sink takes. */
  expectSubscription(ri: string): void {
    this.subscriptions.add(lastSegment(ri));
  }

  /** A non-blocking request (its rqi) whose result this sink takes. */
  expectResult(rqi: string): void {
    this.awaitedResults.add(rqi);
  }

  private knows(sur: unknown): boolean {
    return !this.knownOnly || (typeof sur === 'string' && this.subscriptions.has(lastSegment(sur)));
  }

  /** Accept verification requests for subscriptions this originator creates. */
  acceptCreator(originator: string): void {
    this.creators.add(originator);
  }

  /** Called with every notification as it arrives (besides being kept for next()); returns the way to stop. */
  onNotification(listener: (n: Notification) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The next notification that nobody has taken yet; of one subscription when `subscription` is given (its
   * resource ID or address: the CSE names it in sur, by resource ID in Warden's case).
   */
  next(options: { subscription?: string; timeoutMs?: number; where?: (n: Notification) => boolean } = {}): Promise<Notification> {
    const { subscription, where } = options;
    const test = (n: Notification): boolean => (subscription === undefined || n.subscription === subscription || n.subscription?.endsWith(`/${subscription}`) === true) && (where?.(n) ?? true);
    return this.notifications.take(test, options.timeoutMs ?? 10_000, `a notification${subscription === undefined ? '' : ` of ${subscription}`}`);
  }

  /** The result of a non-blocking asynchronous request, by its request identifier. */
  nextResult(rqi: string | undefined, timeoutMs = 10_000): Promise<NonBlockingResult> {
    return this.results.take((r) => rqi === undefined || r.response.rqi === rqi, timeoutMs, `the result of request ${rqi ?? '(any)'}`);
  }

  /** Unread notifications kept. */
  get pending(): number {
    return this.notifications.size;
  }

  /** Reads one NOTIFY's content and gives the answer for it (2000, 4000 for what is no notification, 4101 for a refused verification). */
  async handle(content: unknown, from: string): Promise<{ rsc: number; pc?: Record<string, unknown> }> {
    if (!isRecord(content)) return { rsc: 4000, pc: { 'm2m:dbg': 'the content is not a notification' } };
    const sgn = content['m2m:sgn'];
    if (isRecord(sgn)) {
      if (sgn.vrq === true) {
        const v: Verification = { subscription: typeof sgn.sur === 'string' ? sgn.sur : undefined, creator: typeof sgn.cr === 'string' ? sgn.cr : undefined, from };
        const accepted = (v.creator !== undefined && this.creators.has(v.creator)) || (this.verify ? await this.verify(v) : false);
        if (!accepted) return { rsc: 4101, pc: { 'm2m:dbg': 'this receiver does not accept notifications of that subscription' } };
        if (v.subscription !== undefined) this.expectSubscription(v.subscription);
        return { rsc: 2000 };
      }
      if (!this.knows(sgn.sur)) return { rsc: 4101, pc: { 'm2m:dbg': 'no subscription of this receiver' } };
      this.deliver(notificationOf(sgn, from));
      return { rsc: 2000 };
    }
    // A batch: m2m:agn holds a list of m2m:sgn [TS-0004 §7.5.1.2.3].
    const agn = content['m2m:agn'];
    if (isRecord(agn) && Array.isArray(agn['m2m:sgn'])) {
      const items = agn['m2m:sgn'].filter(isRecord);
      if (!items.every((item) => this.knows(item.sur))) return { rsc: 4101, pc: { 'm2m:dbg': 'no subscription of this receiver' } };
      for (const item of items) this.deliver(notificationOf(item, from));
      return { rsc: 2000 };
    }
    if (isRecord(content['m2m:rsp'])) {
      const response = responseFromDocument(content['m2m:rsp']);
      if (!response) return { rsc: 4000, pc: { 'm2m:dbg': 'm2m:rsp without a status code' } };
      if (this.knownOnly && !this.awaitedResults.delete(response.rqi)) return { rsc: 4101, pc: { 'm2m:dbg': 'no request of this receiver' } };
      this.results.put({ response, from });
      return { rsc: 2000 };
    }
    return { rsc: 4000, pc: { 'm2m:dbg': 'the content is neither m2m:sgn, m2m:agn nor m2m:rsp' } };
  }

  private deliver(n: Notification): void {
    for (const listener of this.listeners) {
      try {
        listener(n);
      } catch {
        // a listener's failure is its own; the CSE still gets its 2000
      }
    }
    this.notifications.put(n);
  }
}

export interface ReceiverOptions extends SinkOptions {
  host?: string;
  port?: number;
  /** The URL the CSE must use, when it differs from http://host:port/ (a proxy, a public name). */
  publicUrl?: string;
  /** HTTPS: the receiver's certificate and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Largest accepted request body (default 1 MiB). */
  maxBodyBytes?: number;
}

const STATUS: Record<number, number> = { 2000: 200, 4000: 400, 4101: 403, 4015: 415, 5000: 500 };

/** An HTTP(S) server that receives notifications for an AE: `url` is its point of access / notification URI. */
export class NotificationReceiver extends NotificationSink {
  private server: Server | undefined;
  private address = '';

  private constructor(private readonly options: ReceiverOptions) {
    super(options);
  }

  static async start(options: ReceiverOptions = {}): Promise<NotificationReceiver> {
    const receiver = new NotificationReceiver(options);
    await receiver.listen();
    return receiver;
  }

  /** The notification URI to give the CSE. */
  get url(): string {
    return this.options.publicUrl ?? this.address;
  }

  private async listen(): Promise<void> {
    const limit = this.options.maxBodyBytes ?? 1024 * 1024;
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      const chunks: Buffer[] = [];
      let size = 0;
      let refused = false;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit && !refused) {
          refused = true;
          this.answer(req, res, { rsc: 4000, pc: { 'm2m:dbg': `the request exceeds ${limit} bytes` } }, true);
        }
        if (!refused) chunks.push(chunk);
      });
      req.on('end', () => {
        if (refused) return;
        void this.read(req, Buffer.concat(chunks)).then((answer) => this.answer(req, res, answer, false));
      });
      req.on('error', () => res.destroy());
    };
    const server = this.options.tls ? createHttpsServer({ cert: this.options.tls.cert, key: this.options.tls.key }, handler) : createHttpServer(handler);
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const port = (server.address() as AddressInfo).port;
    const shownHost = host.includes(':') ? `[${host}]` : host;
    this.address = `${this.options.tls ? 'https' : 'http'}://${shownHost}:${port}/notify`;
  }

  private async read(req: IncomingMessage, body: Buffer): Promise<{ rsc: number; pc?: Record<string, unknown> }> {
    if (req.method !== 'POST') return { rsc: 4000, pc: { 'm2m:dbg': 'a notification is a POST' } };
    const codec = body.length === 0 ? codecOf('json') : codecForMediaType(req.headers['content-type']);
    if (!codec) return { rsc: 4015, pc: { 'm2m:dbg': 'notifications are read as JSON or CBOR' } };
    let content: unknown;
    try {
      content = body.length === 0 ? undefined : codec.decode(body);
    } catch {
      return { rsc: 4000, pc: { 'm2m:dbg': `the body does not decode as ${codec.format}` } };
    }
    const from = req.headers['x-m2m-origin'];
    return this.handle(content, typeof from === 'string' ? from : '');
  }

  private answer(req: IncomingMessage, res: ServerResponse, answer: { rsc: number; pc?: Record<string, unknown> }, close: boolean): void {
    if (res.headersSent) return;
    const body = answer.pc === undefined ? undefined : Buffer.from(JSON.stringify(answer.pc));
    const rqi = req.headers['x-m2m-ri'];
    res.writeHead(STATUS[answer.rsc] ?? (answer.rsc < 3000 ? 200 : 400), {
      'X-M2M-RSC': String(answer.rsc),
      'X-M2M-RI': typeof rqi === 'string' ? rqi.slice(0, 256) : '',
      'X-M2M-RVI': '3',
      ...(body ? { 'Content-Type': 'application/json', 'Content-Length': String(body.length) } : { 'Content-Length': '0' }),
      ...(close ? { Connection: 'close' } : {}),
    });
    res.end(body);
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
