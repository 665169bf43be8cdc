// Turns a change into outbox messages in two steps, so that an acknowledged change never loses its
// notifications and a rolled-back one never sends any, while a write pays for one row however many
// subscriptions it matches:
// 1. inside the transaction of the change: the subscriptions the event matches, and one event row carrying
//    the event's payload (stored once, shared by all its notifications);
// 2. after the commit, the fan-out job (fanout.ts) checks each subscriber's access, resolves and
//    deduplicates targets, applies the outbox bounds, and writes the per-target messages in the same
//    transaction that removes the event row.
import type { LocalIdentity } from '../primitive/identifiers.js';
import { CREATOR_KEY } from '../resources/common.js';
import { representation } from '../resources/representation.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { ANNOUNCEABLE, cseIdOfAddress } from '../resources/announceable.js';
import { CONTENT, EVENT, RETRIEVED, SUBSCRIPTION_LIMITS, type SubscriptionAttributes } from '../resources/types/subscription.js';
import type { ResourceRegistry } from '../resources/registry.js';
import type { NewOutboxMessage, OutboxMessage, ResourceStore, StoredResource } from '../storage/store.js';
import { matches, type NotificationEvent } from './matcher.js';
import { durationMs } from '../resources/validate.js';
import { queueEvaluations } from '../actions/runner.js';

/** What the deliverer needs besides the primitive content; stored with the message. */
export interface Envelope {
  readonly pc: Record<string, unknown>;
  /** Event category: 4 (latest) when only the latest notification counts [TS-0004 §7.5.1.2.2]. */
  readonly ec?: number;
  /** The subscription counts deliveries (expirationCounter). */
  readonly counted?: boolean;
  readonly batch?: { num?: number; dur?: number | string };
  readonly latest?: boolean;
  readonly pendingLatest?: boolean;
  /** Sent even though its subscription is gone (the deletion notification). */
  readonly final?: boolean;
  /** A whole request primitive the CSE passes through a polling channel and awaits the answer of (polling.ts). */
  readonly rqp?: Record<string, unknown>;
  /** When a request passed through a polling channel stops being handed out (epoch ms): nobody awaits its answer then. */
  readonly expires?: number;
}

/** The per-subscription part of a notification whose representation is its event's shared payload. */
export interface SharedSgn {
  readonly sur: string;
  readonly cr?: string;
  readonly net: number;
  /**
   * Which representation of the payload: all attributes, the modified ones, or the resource ID (nct 1/2/3);
   * `tsn`: the time series notification carried in the message itself (missing data reports).
   */
  readonly rep: 'full' | 'mod' | 'uri' | 'tsn';
  readonly tsn?: MissingDataReport;
  /** The operation monitored (operationMonitor subscriptions): the operation and its originator. */
  readonly om?: Readonly<Record<string, unknown>>;
  /**
   * A member's notification of a group subscription whose group is on another CSE: the notificationForwardingURI
   * the group hosting CSE aggregates it for [TS-0001 §10.2.7.11 "include the notificationForwardingURI"].
   */
  readonly nfu?: string;
}

/** An outbox message as stored: either a whole primitive content, or `sgn` over the shared payload. */
export type StoredEnvelope = Omit<Envelope, 'pc'> & { pc?: Record<string, unknown>; sgn?: SharedSgn };

/** An event's payload, stored once for all its notifications (only the representations some subscription asked for). */
export interface EventPayload {
  readonly typeName: string;
  readonly uri: string;
  readonly full?: Record<string, unknown>;
  readonly mod?: Record<string, unknown>;
}

/**
 * The envelope of a queued message, its primitive content rebuilt from the shared payload where it has one.
 * `parsed`: the message's content, when the caller parsed it already.
 */
export function readEnvelope(message: Pick<OutboxMessage, 'content' | 'shared'>, parsed?: StoredEnvelope): Envelope {
  const stored = parsed ?? (JSON.parse(message.content) as StoredEnvelope);
  const { sgn, ...rest } = stored;
  if (!sgn) return stored as Envelope;
  const payload = (message.shared === undefined ? {} : JSON.parse(message.shared)) as Partial<EventPayload>;
  const typeName = payload.typeName ?? 'm2m:rsc';
  const rep =
    sgn.rep === 'uri' ? { 'm2m:uri': payload.uri } : sgn.rep === 'tsn' ? { 'm2m:tsn': sgn.tsn ?? {} } : { [typeName]: (sgn.rep === 'mod' ? payload.mod : payload.full) ?? {} };
  // A RETRIEVE seen by an operationMonitor has no notificationEventType.
  const out: Record<string, unknown> = { nev: { rep, ...(sgn.net === RETRIEVED ? {} : { net: sgn.net }), ...(sgn.om ? { om: sgn.om } : {}) }, sur: sgn.sur };
  if (sgn.cr !== undefined) out.cr = sgn.cr;
  if (sgn.nfu !== undefined) out.nfu = sgn.nfu;
  return { ...rest, pc: { 'm2m:sgn': out } };
}

/** An event's payload as read for the bodies of its notifications, and the JSON of each representation made of it. */
interface ReadPayload {
  readonly text: string;
  readonly payload: Partial<EventPayload>;
  readonly reps: Map<string, string>;
}

/**
 * Payloads read for JSON bodies, by payload id (never reused; the text is compared too): the notifications of one
 * event to its targets read the same payload, in each target's own run, while a backlog may put those runs far
 * apart. Bounded in entries and in bytes; the oldest go first.
 */
const readPayloads = new Map<number, ReadPayload>();
const PAYLOADS_KEPT = 4_096;
const PAYLOAD_BYTES_KEPT = 16 * 1_048_576;
let readPayloadBytes = 0;

function readPayload(id: number, text: string): ReadPayload {
  const known = readPayloads.get(id);
  if (known && known.text === text) return known;
  while (readPayloads.size > 0 && (readPayloads.size >= PAYLOADS_KEPT || readPayloadBytes + text.length > PAYLOAD_BYTES_KEPT)) {
    const [oldest, entry] = readPayloads.entries().next().value as [number, ReadPayload];
    readPayloads.delete(oldest);
    readPayloadBytes -= entry.text.length;
  }
  if (known) {
    readPayloads.delete(id);
    readPayloadBytes -= known.text.length;
  }
  const read: ReadPayload = { text, payload: JSON.parse(text) as Partial<EventPayload>, reps: new Map() };
  readPayloads.set(id, read);
  readPayloadBytes += text.length;
  return read;
}

/**
 * The JSON body (JSON.stringify of readEnvelope's pc, the same bytes) of a notification over its event's shared
 * payload, written as text: the representation's JSON is made once per event and kind, and per notification only
 * what is its subscription's (sur, cr, nfu, the event type, om). Undefined when the message carries its content
 * whole: the caller encodes readEnvelope's pc. Issue #18: parsing the payload and encoding the body again for each
 * target was about a tenth of the CPU of a notification.
 */
export function jsonBodyOf(message: Pick<OutboxMessage, 'payload' | 'shared'>, stored: StoredEnvelope): string | undefined {
  const { sgn } = stored;
  if (!sgn || message.payload === undefined || message.shared === undefined) return undefined;
  let rep: string;
  if (sgn.rep === 'tsn') rep = JSON.stringify({ 'm2m:tsn': sgn.tsn ?? {} });
  else {
    const read = readPayload(message.payload, message.shared);
    const known = read.reps.get(sgn.rep);
    if (known !== undefined) rep = known;
    else {
      const { payload } = read;
      const typeName = payload.typeName ?? 'm2m:rsc';
      rep = JSON.stringify(sgn.rep === 'uri' ? { 'm2m:uri': payload.uri } : { [typeName]: (sgn.rep === 'mod' ? payload.mod : payload.full) ?? {} });
      read.reps.set(sgn.rep, rep);
    }
  }
  // The order of readEnvelope's object: nev (rep, net, om), sur, cr, nfu.
  const net = sgn.net === RETRIEVED || sgn.net === undefined ? '' : `,"net":${JSON.stringify(sgn.net)}`;
  const om = sgn.om ? `,"om":${JSON.stringify(sgn.om)}` : '';
  const cr = sgn.cr !== undefined ? `,"cr":${JSON.stringify(sgn.cr)}` : '';
  const nfu = sgn.nfu !== undefined ? `,"nfu":${JSON.stringify(sgn.nfu)}` : '';
  return `{"m2m:sgn":{"nev":{"rep":${rep}${net}${om}},"sur":${JSON.stringify(sgn.sur)}${cr}${nfu}}}`;
}

export const OUTBOX_TOPIC = 'outbox';
/** Outbox job target of the events recorded for a resource's subscriptions: one queue per resource keeps them in order. */
export const FANOUT_TARGET_PREFIX = 'fanout:';
/** Queue key of notifications to a <crossResourceSubscription> of this CSE. */
export const CRS_TARGET_PREFIX = 'crs:';
/** Subscription document key: the creator's request was authenticated (rq_authn) when it made the subscription. */
export const SUBSCRIBER_AUTHENTICATED_KEY = '__authn';
/** Subscription document key: AE resource ID → seq of the registration its targets named (see sameRegistration). */
export const TARGET_BINDING_KEY = '__nub';

function batchInMs(bn: { num?: number; dur?: unknown }): { num?: number; dur?: number } {
  const dur = durationMs(bn.dur);
  return { ...(bn.num !== undefined ? { num: bn.num } : {}), ...(dur !== undefined ? { dur } : {}) };
}

/**
 * How the deliverer treats a subscription's notifications: latestNotify (event category 4) or its
 * notificationEventCat, expirationCounter, batchNotify, pendingNotification. Every notification of the
 * subscription carries it, missing data reports included (they are fanned out like any event).
 */
export function deliveryPolicy(attrs: SubscriptionAttributes): Pick<StoredEnvelope, 'ec' | 'latest' | 'counted' | 'batch' | 'pendingLatest'> {
  return {
    ...(attrs.ln ? { ec: 4, latest: true } : attrs.nec !== undefined ? { ec: attrs.nec } : {}),
    ...(attrs.exc !== undefined ? { counted: true } : {}),
    // Delivery counts in milliseconds; bn.dur may be an xs:duration.
    ...(attrs.bn ? { batch: batchInMs(attrs.bn) } : {}),
    ...(attrs.pn === 1 ? { pendingLatest: true } : {}),
  };
}

/** The subscriptions of a resource an event reads: all of them, as creation refuses more. */
export const MAX_SUBSCRIPTIONS_PER_RESOURCE = SUBSCRIPTION_LIMITS.perResource;

/** An event as recorded in the transaction of the change, for the fan-out job. */
export interface RecordedEvent {
  readonly net: number;
  readonly at: number;
  /** What access control reads of the resource the notifications are about (the event's resource). */
  readonly about: StoredResource;
  /** The matched subscriptions, in order, read again at fan-out. */
  readonly subs: readonly string[];
  /** Matched subscriptions that end with the event (a DELETE of the subscribed-to resource), as they were. */
  readonly ending?: readonly StoredResource[];
  /**
   * Batching subscriptions the event matched that were deleted before it was fanned out, as they were: the
   * event is fanned out to them alone, and their gathered batch still goes (see keepPendingBatches).
   */
  readonly gone?: readonly StoredResource[];
  /** Access decisions taken before the change removed the policies they rest on: `${creator}|${operation}`. */
  readonly granted?: Readonly<Record<string, boolean>>;
  /** The request that caused the event: its operation and originator (operationMonitor, eeno). */
  readonly op?: number;
  readonly by?: string;
  /** Missing data events (net 8): the time series notifications each subscription is owed (notifications/missingData.ts). */
  readonly reports?: Readonly<Record<string, readonly MissingDataReport[]>>;
}

/** m2m:timeSeriesNotification [TS-0004 §6.3.5.41]: the missing points of one report and their count. */
export interface MissingDataReport {
  readonly mdlt: readonly string[];
  readonly mdc: number;
}

export interface ResolvedTarget {
  /** The queue: a URL, `ae:<ri>` (through its poa), `pch:<ri>` (its polling channel), or `id:<target>`. */
  readonly key: string;
  /** The AE the target names, when it names one. */
  readonly ae?: StoredResource;
}

/** The type of <AEAnnc>. */
const ANNOUNCED_AE = ANNOUNCEABLE[RESOURCE_TYPE.AE]?.annc;

/** A target that names a scheme (http:, mqtt:, coap: …): notified at that address, not through a resource. */
export function isUrlTarget(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target);
}

export async function resolveTarget(store: ResourceStore, self: LocalIdentity, target: string): Promise<ResolvedTarget> {
  if (isUrlTarget(target)) return { key: canonicalUrl(target) };
  const id = target.startsWith(`/${self.cseId}/`) ? target.slice(self.cseId.length + 2) : target;
  const resource = id.startsWith(`${self.cseRn}/`) ? await store.getByPath(id) : await store.get(id);
  if (resource?.ty === RESOURCE_TYPE.AE) return { key: resource.doc.rr === false ? `pch:${resource.ri}` : `ae:${resource.ri}`, ae: resource };
  // An <AEAnnc> stands for an AE registered with the CSE that announced it: its notifications go to that AE, through
  // the CSE tree [TS-0001 §10.2.13.12]. lnk was set by that CSE alone (resources/types/announced.ts).
  if (resource && resource.ty === ANNOUNCED_AE && typeof resource.doc.lnk === 'string' && cseIdOfAddress(resource.doc.lnk, self.spId) !== undefined) return { key: `id:${resource.doc.lnk}` };
  // A <crossResourceSubscription> of this CSE takes its sources' notifications itself (deliver.ts).
  if (resource?.ty === RESOURCE_TYPE.crossResourceSubscription) return { key: `${CRS_TARGET_PREFIX}${resource.ri}` };
  return { key: `id:${target}` };
}

/**
 * One queue per destination, however the URL is spelled: the WHATWG parser lowers the scheme and host, writes
 * every IPv4 spelling (2130706433, 0x7f.1) and IPv6 form one way and drops a default port; the fragment is never
 * sent, so it is dropped too. Without this, one subscription listing a URL in many spellings made one event send
 * that many notifications to one receiver.
 */
export function canonicalUrl(target: string): string {
  try {
    const url = new URL(target);
    url.hash = '';
    return url.href;
  } catch {
    return target;
  }
}

/** The queue a notification target belongs to: a URL, an AE reached through its poa, or its polling channel. */
export async function targetKey(store: ResourceStore, self: LocalIdentity, target: string): Promise<string> {
  return (await resolveTarget(store, self, target)).key;
}

/** The registration (store seq) of each AE these targets name, recorded when a subscription names them. */
export async function bindTargets(store: ResourceStore, self: LocalIdentity, targets: readonly string[]): Promise<Record<string, number>> {
  const bound: Record<string, number> = {};
  for (const target of targets) {
    const { ae } = await resolveTarget(store, self, target);
    if (ae?.seq !== undefined) bound[ae.ri] = ae.seq;
  }
  return bound;
}

/**
 * Whether an AE a subscription's target resolves to now is the registration the subscription named, and
 * not a later holder of the same AE-ID (an AE's resource ID is its AE-ID): seq is never reused. A
 * subscription made before bindings were recorded accepts only an AE registered before it.
 */
export function sameRegistration(sub: StoredResource, ae: StoredResource): boolean {
  const bound = sub.doc[TARGET_BINDING_KEY] as Record<string, unknown> | undefined;
  const seq = bound?.[ae.ri];
  if (typeof seq === 'number') return seq === ae.seq;
  return ae.ct <= sub.ct;
}

/** URLs to try for a target key: the URL itself, or the points of access of an AE. */
export async function urlsOfTarget(store: ResourceStore, target: string): Promise<string[]> {
  if (target.startsWith('ae:')) {
    const ae = await store.get(target.slice(3));
    const poa = Array.isArray(ae?.doc.poa) ? (ae.doc.poa as string[]) : [];
    return poa.filter((p) => /^(https?|mqtts?|coap|wss?):\/\//i.test(p));
  }
  if (target.startsWith('pch:') || target.startsWith('id:')) return [];
  return [target];
}

export function subscriptionUri(self: LocalIdentity, sub: StoredResource): string {
  return `/${self.cseId}/${sub.ri}`;
}

/** Records the notifications an event causes for the subscriptions of `subscribedTo`. */
export interface EventContext {
  readonly self: LocalIdentity;
  readonly registry: ResourceRegistry;
  readonly now: number;
  /** notifications.maxEventBytes: also bounds the subscriptions an ending event carries along. */
  readonly maxEventBytes: number;
}

/** What the access decider reads of a resource: its identity, owner and governing attributes. */
function accessFacts(r: StoredResource): StoredResource {
  const doc: Record<string, unknown> = {};
  for (const key of ['acpi', 'cstn', CREATOR_KEY]) if (r.doc[key] !== undefined) doc[key] = r.doc[key];
  return { ri: r.ri, pi: r.pi, ty: r.ty, rn: r.rn, srn: r.srn, ct: r.ct, lt: r.lt, ...(r.owner === undefined ? {} : { owner: r.owner }), doc };
}

/** The subscription's creator (who it notifies on behalf of); empty when unknown. */
export function creatorOf(sub: StoredResource): string {
  const creator = sub.doc[CREATOR_KEY];
  return typeof creator === 'string' ? creator : '';
}

/** Round-robin by creator, so a bound cuts every creator's share alike rather than the last creators' whole. */
export function interleaveByCreator<T extends StoredResource>(subs: readonly T[]): T[] {
  const byCreator = new Map<string, T[]>();
  for (const sub of subs) {
    const creator = creatorOf(sub);
    const list = byCreator.get(creator);
    // Appended in place: copying the list for each subscription made an event of a resource with many
    // subscriptions of one creator quadratic.
    if (list) list.push(sub);
    else byCreator.set(creator, [sub]);
  }
  const out: T[] = [];
  for (let i = 0; out.length < subs.length; i++) for (const list of byCreator.values()) if (i < list.length) out.push(list[i] as T);
  return out;
}

export async function recordEvent(
  tx: ResourceStore,
  ctx: EventContext,
  subscribedTo: StoredResource,
  event: NotificationEvent & { granted?: Readonly<Record<string, boolean>> },
): Promise<number> {
  const { registry, now } = ctx;
  // The same change is what <action> resources watching the resource are evaluated on (actions/runner.ts).
  await queueEvaluations(tx, subscribedTo, event, now);
  // Subscriptions are not notified about subscriptions coming and going (as ACME does).
  if ((event.type === EVENT.CREATE_CHILD || event.type === EVENT.DELETE_CHILD) && event.resource.ty === RESOURCE_TYPE.subscription) return 0;
  // Every ingest asks: the store remembers a resource's subscriptions (subscriptionsOf), expired ones with them.
  const subs = await tx.subscriptionsOf(subscribedTo.ri, MAX_SUBSCRIPTIONS_PER_RESOURCE);
  const matched = subs.filter((sub) => (sub.et === undefined || sub.et > now) && matches(sub.doc as SubscriptionAttributes, event));
  if (matched.length === 0) return 0;
  const kinds = new Set(matched.map((sub) => (sub.doc as SubscriptionAttributes).nct ?? CONTENT.ALL_ATTRIBUTES));
  const payload: EventPayload = {
    typeName: registry.contentName(event.resource),
    uri: event.resource.ri,
    ...(kinds.has(CONTENT.ALL_ATTRIBUTES) ? { full: representation(event.resource) } : {}),
    ...(kinds.has(CONTENT.MODIFIED_ATTRIBUTES) ? { mod: { ...(event.modified ?? {}) } } : {}),
  };
  // The deletion of the subscribed-to resource ends its subscriptions in this transaction: they travel
  // with the event, as many as fit in the event's byte bound.
  let ending: StoredResource[] | undefined;
  if (event.type === EVENT.DELETE) {
    ending = [];
    let bytes = 0;
    for (const sub of interleaveByCreator(matched)) {
      const size = JSON.stringify(sub).length;
      if (bytes + size > ctx.maxEventBytes) break;
      bytes += size;
      ending.push(sub);
    }
  }
  const recorded: RecordedEvent = {
    net: event.type,
    at: now,
    about: accessFacts(event.resource),
    subs: matched.map((sub) => sub.ri),
    ...(ending ? { ending } : {}),
    ...(event.granted ? { granted: event.granted } : {}),
    op: event.operation,
    by: event.originator,
  };
  const shared = await tx.storePayload(JSON.stringify(payload));
  await tx.enqueue([{ target: `${FANOUT_TARGET_PREFIX}${subscribedTo.ri}`, subscription: subscribedTo.ri, content: JSON.stringify(recorded), created: now, notBefore: now, payload: shared }]);
  await tx.broadcast(OUTBOX_TOPIC, '');
  return matched.length;
}

/**
 * Missing data reports of a <timeSeries> [TS-0004 §7.5.1.2.9] go through fan-out like any other event, so that
 * they are sent only while each subscription's creator may still read the timeSeries, and count against its
 * outbox bound.
 */
export async function recordMissingData(tx: ResourceStore, registry: ResourceRegistry, timeSeries: StoredResource, reports: ReadonlyMap<string, readonly MissingDataReport[]>, now: number): Promise<void> {
  if (reports.size === 0) return;
  const payload: EventPayload = { typeName: registry.contentName(timeSeries), uri: timeSeries.ri };
  const recorded: RecordedEvent = { net: EVENT.MISSING_DATA, at: now, about: accessFacts(timeSeries), subs: [...reports.keys()], reports: Object.fromEntries(reports) };
  const shared = await tx.storePayload(JSON.stringify(payload));
  await tx.enqueue([{ target: `${FANOUT_TARGET_PREFIX}${timeSeries.ri}`, subscription: timeSeries.ri, content: JSON.stringify(recorded), created: now, notBefore: now, payload: shared }]);
  await tx.broadcast(OUTBOX_TOPIC, '');
}

/** Events copied for the batching subscriptions one deletion ends, at most: a deletion's transaction stays bounded. */
export const PENDING_EVENTS_KEPT = 1_000;

/**
 * A batching subscription that is deleted still sends the batch it was gathering (see deliver.ts). The
 * specifications leave this open: TS-0004 §7.4.8.2.4 removes the "cached pending Notify request primitives" on
 * deletion, which Warden reads as those held for an unreachable target (pendingNotification, TS-0001 §9.6.8); no
 * clause says what becomes of a batch being gathered, and ACME sends it. The batch includes the events the
 * subscription matched whose fan-out has not run yet, which would otherwise find it gone. Each such
 * event is queued again behind the others for its fan-out, carrying the subscriptions as they were (`gone`).
 * Returns how many events were left out over PENDING_EVENTS_KEPT.
 */
export async function keepPendingBatches(tx: ResourceStore, ctx: EventContext, ended: readonly StoredResource[]): Promise<number> {
  const byParent = new Map<string, StoredResource[]>();
  // Locked in resource-ID order, as a fan-out locks them (lockBatching in fanout.ts).
  for (const sub of [...ended].sort((a, b) => (a.ri < b.ri ? -1 : a.ri > b.ri ? 1 : 0))) {
    if (!(sub.doc as SubscriptionAttributes).bn) continue;
    // Locked in the deletion's transaction: a fan-out that read the subscription before and writes its messages
    // now takes the same lock (fanout.ts), so the event is either fanned out to it already or copied here.
    if (!(await tx.getForUpdate(sub.ri))) continue;
    byParent.set(sub.pi, [...(byParent.get(sub.pi) ?? []), sub]);
  }
  let room = PENDING_EVENTS_KEPT;
  let left = 0;
  for (const [pi, subs] of byParent) {
    const copies: NewOutboxMessage[] = [];
    const pending = room > 0 ? await tx.queued(`${FANOUT_TARGET_PREFIX}${pi}`, undefined, PENDING_EVENTS_KEPT) : [];
    for (const message of pending) {
      const event = JSON.parse(message.content) as RecordedEvent;
      // An ending event carries its subscriptions itself; a copy was made for subscriptions deleted earlier.
      if (event.ending || event.gone) continue;
      const matched = subs.filter((sub) => event.subs.includes(sub.ri));
      if (matched.length === 0) continue;
      if (copies.length >= room) {
        left++;
        continue;
      }
      const gone: StoredResource[] = [];
      let bytes = 0;
      for (const sub of matched) {
        bytes += JSON.stringify(sub).length;
        if (bytes > ctx.maxEventBytes) break;
        gone.push(sub);
      }
      if (gone.length === 0) continue;
      const copy: RecordedEvent = { ...event, subs: gone.map((sub) => sub.ri), gone };
      const m: NewOutboxMessage = { target: message.target, subscription: message.subscription, content: JSON.stringify(copy), created: ctx.now, notBefore: ctx.now };
      copies.push(message.payload === undefined ? m : { ...m, payload: message.payload });
    }
    room -= copies.length;
    await tx.enqueue(copies);
  }
  return left;
}

/** The deletion notification of a subscription to its subscriberURI [TS-0004 §7.5.1.2.4]. */
export async function recordDeletion(tx: ResourceStore, self: LocalIdentity, sub: StoredResource, now: number): Promise<void> {
  const su = (sub.doc as SubscriptionAttributes).su;
  if (!su) return;
  const { key, ae } = await resolveTarget(tx, self, su);
  // Not to a later holder of the subscriber's AE-ID.
  if (ae && !sameRegistration(sub, ae)) return;
  const attrs = sub.doc as SubscriptionAttributes;
  // The creator goes along when the subscription asked for it (cr), as in every notification of it.
  const envelope: StoredEnvelope = {
    pc: { 'm2m:sgn': { sud: true, sur: subscriptionUri(self, sub), ...(typeof attrs.cr === 'string' ? { cr: attrs.cr } : {}) } },
    final: true,
    ...(attrs.nec !== undefined ? { ec: attrs.nec } : {}),
    ...(attrs.pn === 1 ? { pendingLatest: true } : {}),
  };
  const creator = sub.doc[CREATOR_KEY];
  const message: NewOutboxMessage = { target: key, subscription: sub.ri, content: JSON.stringify(envelope), created: now, notBefore: now };
  await tx.enqueue([typeof creator === 'string' ? { ...message, originator: creator } : message]);
  await tx.broadcast(OUTBOX_TOPIC, '');
}
