// The client an AE codes against: typed CRUD, registration, discovery with paging, subscriptions, polling
// channels, non-blocking requests and group fan-out, over HTTP(S), MQTT or WebSocket. Every failure is a typed
// error (errors.ts), every wait bounded by a time limit.
import type { Format } from './codec.js';
import { errorFor, ProtocolError, TimeoutError } from './errors.js';
import { RESOURCE_TYPES, type AE, type AECreate, type CreateMap, type ResourceMap, type Subscription, type SubscriptionCreate, type TypeName, type UpdateMap } from './generated/resources.js';
import { httpTransport } from './http.js';
import { mqttTransport } from './mqtt.js';
import { ResponseType, ResultContent, type FilterCriteria, type OperationCode, type RequestPrimitive, type ResponsePrimitive, type ResultContentCode } from './primitive.js';
import { NotificationSink } from './receiver.js';
import { nextRequestId, type TlsOptions, type Transport } from './transport.js';
import { wsTransport } from './ws.js';

export type Binding = 'http' | 'mqtt' | 'ws';

export interface ClientOptions {
  /** http(s)://host:port of the CSE, mqtt(s)://broker:port, or ws(s)://host:port. */
  url: string;
  /** Which binding; by default the URL's scheme decides. */
  binding?: Binding;
  /** The originator (From) of requests; after registerAe() the assigned AE-ID. Default 'C' (a CSE-assigned C-AE-ID). */
  originator?: string;
  /** CSE-ID of the CSE (MQTT topics need it; default 'id-in'). */
  cseId?: string;
  /** Resource name of the CSEBase, where registerAe() creates the AE (default 'cse-in'). */
  cseBase?: string;
  /** Serialization (default json). */
  format?: Format;
  /** Time limit of each request (and of connecting), milliseconds (default 10 000). */
  timeoutMs?: number;
  tls?: TlsOptions;
  /** MQTT client settings. */
  mqtt?: { clientId?: string; username?: string; password?: string };
  /** Release version indicator sent (default '3'). */
  releaseVersion?: string;
  /** Largest response accepted (default 16 MiB). */
  maxResponseBytes?: number;
}

/** Options every operation takes. */
export interface RequestOptions {
  /** Send as this originator instead of the client's. */
  from?: string;
  rcn?: ResultContentCode;
  /** This request's time limit (default: the client's). */
  timeoutMs?: number;
  /** requestExpirationTimestamp sent to the CSE (X-M2M-RET). */
  rqet?: string;
  rset?: string;
  oet?: string;
  gid?: string;
  atrl?: string[];
  /** Conditions on the target (filterUsage 2, conditional retrieval). */
  filter?: FilterCriteria;
}

/** A page of a discovery. */
export interface DiscoveryPage {
  /** The addresses found (structured by default, resource IDs with drt=2). */
  uris: string[];
  /** With rcn=6 (child resource references): name, type and address of each. */
  references?: Array<{ nm: string; typ: number; val: string }>;
  /** False while the CSE has more matches (contentStatus 1). */
  complete: boolean;
  /** The offset of the next page (contentOffset), when not complete. */
  nextOffset?: number;
}

export interface DiscoveryOptions extends RequestOptions {
  /** 1 structured (default), 2 unstructured (resource IDs). */
  drt?: 1 | 2;
  /** Most pages discoverAll() reads (default 1000): a bound against a CSE that never says complete. */
  maxPages?: number;
}

/** One member's answer to a group request (m2m:agr). */
export interface MemberResponse {
  /** The member (its ID in mid). */
  member: string;
  rsc: number;
  content: Record<string, unknown> | undefined;
  /** The typed error for a member that refused, else undefined. */
  error: ReturnType<typeof errorFor> | undefined;
}

/** A request the CSE queued on a polling channel for the AE. */
export interface PolledRequest {
  op: number;
  rqi: string;
  fr: string;
  to: string;
  pc: unknown;
  raw: Record<string, unknown>;
}

/** How much longer than its wait a poll may take before the client gives up on the CSE's answer. */
const POLL_MARGIN_MS = 5_000;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A text field of an untrusted document, '' when it is none. */
const textOf = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The resource under its content name in a response, checked to be the type asked for. */
function resourceIn<N extends TypeName>(pc: Record<string, unknown> | undefined, type: N, what: string): ResourceMap[N] {
  const value = pc?.[type];
  if (!isRecord(value)) throw new ProtocolError(`${what}: the response holds no ${type} (it has ${pc ? Object.keys(pc).join(', ') || 'nothing' : 'no content'})`);
  return value;
}

function bindingOf(url: string): Binding {
  const scheme = url.slice(0, url.indexOf(':')).toLowerCase();
  if (scheme === 'http' || scheme === 'https') return 'http';
  if (scheme === 'mqtt' || scheme === 'mqtts') return 'mqtt';
  if (scheme === 'ws' || scheme === 'wss') return 'ws';
  throw new Error(`cannot tell the binding of '${url}' (http, https, mqtt, mqtts, ws, wss)`);
}

/** Opens a client: the connection for MQTT and WebSocket, nothing yet for HTTP. */
export async function connect(options: ClientOptions): Promise<WardenClient> {
  const binding = options.binding ?? bindingOf(options.url);
  const format = options.format ?? 'json';
  const timeoutMs = options.timeoutMs ?? 10_000;
  let transport: Transport;
  if (binding === 'http') {
    transport = httpTransport({ url: options.url, format, ...(options.tls ? { tls: options.tls } : {}), ...(options.maxResponseBytes ? { maxResponseBytes: options.maxResponseBytes } : {}) });
  } else if (binding === 'mqtt') {
    transport = await mqttTransport({ url: options.url, cseId: options.cseId ?? 'id-in', format, connectTimeoutMs: timeoutMs, ...(options.tls ? { tls: options.tls } : {}), ...options.mqtt });
  } else {
    transport = await wsTransport({ url: options.url, format, connectTimeoutMs: timeoutMs, ...(options.tls ? { tls: options.tls } : {}), ...(options.maxResponseBytes ? { maxResponseBytes: options.maxResponseBytes } : {}) });
  }
  return new WardenClient(transport, binding, options);
}

export class WardenClient {
  /** The originator requests are sent as. */
  originator: string;
  readonly cseBase: string;
  private readonly timeoutMs: number;
  private readonly rvi: string;
  /** Where this client's AE is, once registered: its address and AE-ID. */
  private ae: { path: string; aei: string } | undefined;
  /** Notifications that reach this client over its own connection (WebSocket, MQTT) or a polling channel. */
  readonly notifications = new NotificationSink();

  constructor(
    private readonly transport: Transport,
    readonly binding: Binding,
    options: ClientOptions,
  ) {
    this.originator = options.originator ?? 'C';
    this.cseBase = options.cseBase ?? 'cse-in';
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.rvi = options.releaseVersion ?? '3';
  }

  /** Sends a request primitive and returns the response whatever its status (no error is thrown for 4xxx). */
  async send(request: Omit<RequestPrimitive, 'rqi' | 'rvi' | 'fr'> & Partial<Pick<RequestPrimitive, 'rqi' | 'rvi' | 'fr'>>, timeoutMs = this.timeoutMs): Promise<ResponsePrimitive> {
    const primitive: RequestPrimitive = { ...request, fr: request.fr ?? this.originator, rqi: request.rqi ?? nextRequestId(), rvi: request.rvi ?? this.rvi };
    return this.transport.send(primitive, timeoutMs);
  }

  /** Sends a request primitive; an error status becomes the typed OneM2MError of its RSC. */
  async request(request: Omit<RequestPrimitive, 'rqi' | 'rvi' | 'fr'> & Partial<Pick<RequestPrimitive, 'rqi' | 'rvi' | 'fr'>>, timeoutMs = this.timeoutMs): Promise<ResponsePrimitive> {
    const response = await this.send(request, timeoutMs);
    if (response.rsc >= 4000) throw errorFor(response.rsc, response.pc, response.rqi);
    return response;
  }

  private primitive(op: OperationCode, to: string, options: RequestOptions): Omit<RequestPrimitive, 'rqi' | 'rvi'> {
    const p: Omit<RequestPrimitive, 'rqi' | 'rvi'> = { op, to, fr: options.from ?? this.originator };
    if (options.rcn !== undefined) p.rcn = options.rcn;
    if (options.rqet !== undefined) p.rqet = options.rqet;
    if (options.rset !== undefined) p.rset = options.rset;
    if (options.oet !== undefined) p.oet = options.oet;
    if (options.gid !== undefined) p.gid = options.gid;
    if (options.atrl !== undefined) p.atrl = options.atrl;
    if (options.filter !== undefined) p.fc = { fu: 2, ...options.filter };
    return p;
  }

  /**
   * Registers an AE (a CREATE of <AE> on the CSEBase). The client then speaks as the AE-ID the CSE assigned,
   * and a WebSocket or MQTT client receives the CSE's requests for it in `notifications`.
   */
  async registerAe(ae: AECreate, options: RequestOptions = {}): Promise<AE> {
    const response = await this.request({ ...this.primitive(1, this.cseBase, options), ty: 2, pc: { 'm2m:ae': ae } }, options.timeoutMs);
    const created = resourceIn(response.pc, 'm2m:ae', 'registration');
    if (typeof created.aei !== 'string' || typeof created.rn !== 'string') throw new ProtocolError('registration: the created AE has no aei or rn');
    this.ae = { path: `${this.cseBase}/${created.rn}`, aei: created.aei };
    this.originator = created.aei;
    this.notifications.acceptCreator(created.aei);
    await this.transport.listen?.(created.aei, (request) => this.answerIncoming(request));
    return created;
  }

  /** The AE this client registered (its address and AE-ID), if any. */
  get registeredAe(): { path: string; aei: string } | undefined {
    return this.ae;
  }

  /** Deletes the AE this client registered (or the one at `path`). */
  async deregisterAe(path = this.ae?.path, options: RequestOptions = {}): Promise<void> {
    if (path === undefined) throw new Error('no AE registered through this client: give its address');
    await this.delete(path, options);
    if (path === this.ae?.path) this.ae = undefined;
  }

  /** Creates a resource of `type` under `parent` and returns it as the CSE stored it. */
  async create<N extends TypeName>(parent: string, type: N, attributes: CreateMap[N], options: RequestOptions = {}): Promise<ResourceMap[N]> {
    const response = await this.request({ ...this.primitive(1, parent, options), ty: RESOURCE_TYPES[type].ty, pc: { [type]: attributes } }, options.timeoutMs);
    // rcn 0 (nothing) or 2 (address) carry no representation: the caller asked for that.
    if (options.rcn === ResultContent.Nothing || options.rcn === ResultContent.HierarchicalAddress) return (response.pc ?? {});
    return resourceIn(response.pc, type, `create ${type}`);
  }

  /** Retrieves a resource, checked to be of `type`. */
  async retrieve<N extends TypeName>(target: string, type: N, options: RequestOptions = {}): Promise<ResourceMap[N]> {
    const response = await this.request(this.primitive(2, target, options), options.timeoutMs);
    return resourceIn(response.pc, type, `retrieve ${target}`);
  }

  /** Retrieves whatever `target` is: the response content as the CSE sent it (`{'m2m:cnt': {...}}`). */
  async retrieveContent(target: string, options: RequestOptions = {}): Promise<Record<string, unknown>> {
    const response = await this.request(this.primitive(2, target, options), options.timeoutMs);
    return response.pc ?? {};
  }

  /** Updates attributes of a resource of `type`; null removes an optional attribute. */
  async update<N extends TypeName>(target: string, type: N, changes: UpdateMap[N], options: RequestOptions = {}): Promise<ResourceMap[N]> {
    const response = await this.request({ ...this.primitive(3, target, options), pc: { [type]: changes } }, options.timeoutMs);
    if (options.rcn === ResultContent.Nothing) return (response.pc ?? {});
    return resourceIn(response.pc, type, `update ${target}`);
  }

  async delete(target: string, options: RequestOptions = {}): Promise<void> {
    await this.request(this.primitive(4, target, options), options.timeoutMs);
  }

  /** Sends a NOTIFY to an AE or the CSEBase (content e.g. {'m2m:sgn': …}). */
  async notify(target: string, content: Record<string, unknown>, options: RequestOptions = {}): Promise<ResponsePrimitive> {
    return this.request({ ...this.primitive(5, target, options), pc: content }, options.timeoutMs);
  }

  /** One page of a discovery (filterUsage 1) below `target`: `lim` and `ofst` choose the page. */
  async discover(target: string, filter: FilterCriteria = {}, options: DiscoveryOptions = {}): Promise<DiscoveryPage> {
    const p = this.primitive(2, target, { ...options, filter: undefined });
    p.fc = { ...filter, fu: 1 };
    if (options.drt !== undefined) p.drt = options.drt;
    const response = await this.request(p, options.timeoutMs);
    const pc = response.pc ?? {};
    const page: DiscoveryPage = { uris: [], complete: response.cnst !== 1 };
    if (Array.isArray(pc['m2m:uril'])) page.uris = pc['m2m:uril'].filter((u): u is string => typeof u === 'string');
    else if (isRecord(pc['m2m:rrl']) && Array.isArray(pc['m2m:rrl'].rrf)) {
      page.references = pc['m2m:rrl'].rrf.filter(isRecord).map((r) => ({ nm: String(r.nm), typ: Number(r.typ), val: String(r.val) }));
      page.uris = page.references.map((r) => r.val);
    } else throw new ProtocolError(`discovery of ${target}: the response holds neither m2m:uril nor m2m:rrl`);
    if (!page.complete) {
      if (response.cnot === undefined || response.cnot < 1) throw new ProtocolError(`discovery of ${target}: a partial result without the offset of the next page`);
      page.nextOffset = response.cnot;
    }
    return page;
  }

  /**
   * Every match of a discovery, page after page: each next page asks from the offset the CSE gave
   * (contentOffset), as Warden pages a discovery that is too big for one answer.
   */
  async *discoverAll(target: string, filter: FilterCriteria = {}, options: DiscoveryOptions = {}): AsyncGenerator<string, void, undefined> {
    let offset = filter.ofst;
    const maxPages = options.maxPages ?? 1000;
    for (let pages = 0; ; pages++) {
      if (pages >= maxPages) throw new ProtocolError(`discovery of ${target}: still incomplete after ${maxPages} pages`);
      const page = await this.discover(target, { ...filter, ...(offset === undefined ? {} : { ofst: offset }) }, options);
      yield* page.uris;
      if (page.complete) return;
      // The offset must move on, or a hostile or broken CSE would keep the loop here for ever.
      if (offset !== undefined && (page.nextOffset as number) <= offset) throw new ProtocolError(`discovery of ${target}: the next offset ${String(page.nextOffset)} does not move on from ${offset}`);
      offset = page.nextOffset;
    }
  }

  /**
   * Creates a <subscription> on `target` whose notifications go to `receiver` (a NotificationReceiver, whose
   * url becomes nu, or this client's own connection when omitted on WebSocket/MQTT: the AE-ID). The receiver is
   * told to accept the verification request of subscriptions this originator creates.
   */
  async subscribe(target: string, subscription: Omit<SubscriptionCreate, 'nu'> & { nu?: string[] } = {}, receiver?: NotificationSink & { url?: string }, options: RequestOptions = {}): Promise<Subscription & { ri: string }> {
    const sink = receiver ?? this.notifications;
    const nu = subscription.nu ?? (receiver?.url !== undefined ? [receiver.url] : this.ae ? [this.ae.aei] : undefined);
    if (!nu) throw new Error('subscribe: give a receiver, nu, or register the AE first (notifications then come to the AE)');
    sink.acceptCreator(options.from ?? this.originator);
    const created = await this.create(target, 'm2m:sub', { ...subscription, nu }, options);
    if (typeof created.ri !== 'string') throw new ProtocolError('subscribe: the created subscription has no ri');
    sink.expectSubscription(created.ri);
    return created as Subscription & { ri: string };
  }

  /** Creates a <pollingChannel> under the AE (or `parent`) and returns it to poll. */
  async createPollingChannel(rn = 'pch', parent = this.ae?.path, options: RequestOptions = {}): Promise<PollingChannel> {
    if (parent === undefined) throw new Error('createPollingChannel: register the AE first or give the parent');
    await this.create(parent, 'm2m:pch', { rn }, options);
    return new PollingChannel(this, `${parent}/${rn}`);
  }

  /**
   * Sends a request non-blocking [TS-0001 §8.2.2]: synch (rt=1) answers 1001 with the address of a <request>
   * resource that result() polls; asynch (rt=2) answers 1002 and the CSE notifies the result to `notify` (a
   * NotificationReceiver's url), where result() waits for it.
   */
  async nonBlocking(request: Omit<RequestPrimitive, 'rqi' | 'rvi' | 'fr' | 'rt'> & { fr?: string }, mode: 'synch' | 'asynch' = 'synch', notify?: NotificationSink & { url?: string }): Promise<PendingRequest> {
    const rqi = nextRequestId();
    const rt = mode === 'synch' ? { rtv: ResponseType.NonBlockingSynch } : { rtv: ResponseType.NonBlockingAsynch, ...(notify?.url ? { nu: [notify.url] } : {}) };
    if (mode === 'asynch') {
      const sink = notify ?? this.notifications;
      sink.acceptCreator(request.fr ?? this.originator);
      sink.expectResult(rqi);
    }
    const response = await this.request({ ...request, rqi, rt });
    if (mode === 'synch') {
      const uri = response.pc?.['m2m:uri'];
      if (response.rsc !== 1001 || typeof uri !== 'string') throw new ProtocolError(`non-blocking request: expected 1001 with m2m:uri, got ${response.rsc}`);
      return new PendingRequest(this, rqi, uri, undefined);
    }
    if (response.rsc !== 1002) throw new ProtocolError(`non-blocking request: expected 1002, got ${response.rsc}`);
    return new PendingRequest(this, rqi, undefined, notify ?? this.notifications);
  }

  /**
   * A request to every member of a group through its fanOutPoint [TS-0001 §9.6.14]: `path` continues below
   * each member (e.g. 'la'). Returns each member's answer; refusals carry their typed error.
   */
  async fanOut(group: string, op: OperationCode, options: RequestOptions & { path?: string; content?: Record<string, unknown>; ty?: number } = {}): Promise<MemberResponse[]> {
    const to = `${group}/fopt${options.path ? `/${options.path}` : ''}`;
    const p = { ...this.primitive(op, to, options), ...(options.content === undefined ? {} : { pc: options.content }), ...(options.ty === undefined ? {} : { ty: options.ty }) };
    const response = await this.request(p, options.timeoutMs);
    const agr = response.pc?.['m2m:agr'];
    const list = isRecord(agr) ? agr['m2m:rsp'] : undefined;
    if (!Array.isArray(list)) throw new ProtocolError(`group request to ${group}: the response holds no m2m:agr`);
    return list.filter(isRecord).map((r) => {
      const rsc = Number(r.rsc);
      const content = isRecord(r.pc) ? r.pc : undefined;
      return { member: textOf(r.fr), rsc, content, error: rsc >= 4000 ? errorFor(rsc, content, textOf(r.rqi)) : undefined };
    });
  }

  /** Answers a request the CSE sent on this client's connection: notifications go to `notifications`. */
  private async answerIncoming(request: Record<string, unknown>): Promise<{ rsc: number; pc?: unknown }> {
    if (request.op !== 5) return { rsc: 4005, pc: { 'm2m:dbg': 'this AE only takes notifications' } };
    return this.notifications.handle(request.pc, typeof request.fr === 'string' ? request.fr : '');
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}

/** A non-blocking request in progress. */
export class PendingRequest {
  constructor(
    private readonly client: WardenClient,
    /** The request identifier it was sent with. */
    readonly rqi: string,
    /** The <request> resource that tracks it (synch mode). */
    readonly requestResource: string | undefined,
    private readonly sink: NotificationSink | undefined,
  ) {}

  /**
   * The response of the original request once the CSE carried it out (an error status throws its typed
   * error). Synch: polls the <request> resource every `intervalMs` until its requestStatus is no longer pending.
   */
  async result(options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<ResponsePrimitive> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (this.sink) {
      const { response } = await this.sink.nextResult(this.rqi, timeoutMs);
      if (response.rsc >= 4000) throw errorFor(response.rsc, response.pc, response.rqi);
      return response;
    }
    const until = Date.now() + timeoutMs;
    const interval = options.intervalMs ?? 200;
    for (;;) {
      const req = await this.client.retrieve(this.requestResource as string, 'm2m:req', { timeoutMs: Math.max(1, Math.min(10_000, until - Date.now())) });
      // requestStatus: 1 completed, 2 failed, 3 pending, 4 forwarded, 5 partially completed [TS-0004 §6.3.4.2.24].
      if (req.rs !== 3 && req.rs !== 4) {
        const ors = isRecord(req.ors) ? req.ors : undefined;
        const response: ResponsePrimitive = { rsc: Number(ors?.rsc), rqi: this.rqi, ...(isRecord(ors?.pc) ? { pc: ors.pc } : {}) };
        if (!Number.isInteger(response.rsc)) throw new ProtocolError(`the <request> ${String(this.requestResource)} finished without a response status`);
        if (response.rsc >= 4000) throw errorFor(response.rsc, response.pc, this.rqi);
        return response;
      }
      if (Date.now() + interval > until) throw new TimeoutError(timeoutMs, `the result of non-blocking request ${this.rqi}`);
      await new Promise((r) => setTimeout(r, interval));
    }
  }
}

/**
 * A <pollingChannel>: the way an AE that cannot be reached (no server, behind NAT) gets the CSE's requests.
 * poll() waits for one; notifications and verification requests taken by `serve` are answered and delivered to
 * the client's `notifications`.
 */
export class PollingChannel {
  constructor(
    private readonly client: WardenClient,
    /** Address of the <pollingChannel>. */
    readonly path: string,
  ) {}

  /** The pollingChannelURI (pcu) the AE retrieves. */
  get uri(): string {
    return `${this.path}/pcu`;
  }

  /**
   * Waits up to `waitMs` for a request the CSE queued; undefined when none came (the CSE answers 4008). The
   * request's own time limit is a little longer than the wait, so the CSE's "nothing" arrives before it.
   */
  async poll(waitMs = 5_000): Promise<PolledRequest[] | undefined> {
    const response = await this.client.send({ op: 2, to: this.uri, rqet: String(waitMs) }, waitMs + POLL_MARGIN_MS);
    if (response.rsc === 4008) return undefined;
    if (response.rsc >= 4000) throw errorFor(response.rsc, response.pc, response.rqi);
    const pc = response.pc ?? {};
    // m2m:rqp is one request; with requestAggregation, m2m:agrp lists several.
    const list = isRecord(pc['m2m:rqp']) ? [pc['m2m:rqp']] : Array.isArray(pc['m2m:agrp']) ? pc['m2m:agrp'].filter(isRecord) : undefined;
    if (!list) throw new ProtocolError('a polling channel answered neither m2m:rqp nor m2m:agrp');
    return list.map((raw) => ({ op: Number(raw.op), rqi: textOf(raw.rqi), fr: textOf(raw.fr), to: textOf(raw.to), pc: raw.pc, raw }));
  }

  /** Answers a polled request (a NOTIFY of m2m:rsp to the pcu). */
  async respond(request: PolledRequest, rsc: number, pc?: Record<string, unknown>): Promise<void> {
    await this.client.notify(this.uri, { 'm2m:rsp': { rsc, rqi: request.rqi, fr: this.client.originator, rvi: '3', ...(pc === undefined ? {} : { pc }) } });
  }

  /**
   * Polls once and handles what arrived: notifications and verification requests are answered as the
   * client's `notifications` sink decides and delivered there. Returns how many requests were handled.
   */
  async serveOnce(waitMs = 5_000): Promise<number> {
    const polled = (await this.poll(waitMs)) ?? [];
    for (const request of polled) {
      const answer = request.op === 5 ? await this.client.notifications.handle(request.pc, request.fr) : { rsc: 4005, pc: { 'm2m:dbg': 'this AE only takes notifications' } };
      await this.respond(request, answer.rsc, answer.pc);
    }
    return polled.length;
  }

  async delete(): Promise<void> {
    await this.client.delete(this.path);
  }
}
