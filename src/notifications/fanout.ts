// The second step of making notifications (see events.ts): an outbox job that turns one recorded event into
// per-target messages after the change has committed, so that however many subscriptions an event matches,
// other writers never wait for its fan-out inside their transaction. Its messages and the removal of the
// event row commit together: the event is fanned out exactly once, or retried when its lease ends.
import type { CseServices } from '../pipeline/context.js';
import type { LocalIdentity } from '../primitive/identifiers.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { cseIdOfAddress } from '../resources/announceable.js';
import { durationMs } from '../resources/validate.js';
import { CONTENT, countStats, type SubscriptionAttributes } from '../resources/types/subscription.js';
import { ACCESS_OPERATION, type AccessOperation } from '../security/acp.js';
import { OUTBOX_LEASE_MS, type NewOutboxMessage, type OutboxMessage, type ResourceStore, type StoredResource } from '../storage/store.js';
import { monitoringEntry } from './matcher.js';
import { afterHolding, beforeHolding, heldMessage, scheduleVerdict } from './notificationSchedule.js';
import {
  MAX_SUBSCRIPTIONS_PER_RESOURCE,
  OUTBOX_TOPIC,
  SUBSCRIBER_AUTHENTICATED_KEY,
  creatorOf,
  deliveryPolicy,
  interleaveByCreator,
  resolveTarget,
  sameRegistration,
  subscriptionUri,
  type RecordedEvent,
  type ResolvedTarget,
  type SharedSgn,
  type StoredEnvelope,
} from './events.js';

/** When a group gathers its members' notifications and notifyAggregation gives no duration, ms. */
const GROUP_AGGREGATION_MS = 1_000;
/** Subscriptions and originators whose dropped notifications are counted here (memory bound). */
const COUNTED_LIMIT = 10_000;

/**
 * Notifications not made, per subscription (withheld: its creator may no longer read the resource) and per
 * originator (over its outbox bound), in this process. Logged at the 1st, 2nd, 4th, 8th … occurrence.
 */
export const notificationCounters = {
  withheld: new Map<string, number>(),
  overOriginatorBound: new Map<string, number>(),
  overEventBound: new Map<string, number>(),
};

function count(map: Map<string, number>, key: string, by = 1): { total: number; log: boolean } {
  const before = map.get(key) ?? 0;
  if (before === 0 && map.size >= COUNTED_LIMIT) map.clear();
  const total = before + by;
  map.set(key, total);
  // Logged when the count passes a power of two: nobody can flood the log through it.
  return { total, log: before === 0 || Math.floor(Math.log2(total)) > Math.floor(Math.log2(before)) };
}

/**
 * The privilege a notification needs of the resource it is about. Warden policy beyond TS-0004, which
 * checks RETRIEVE only when the subscription is created [TS-0004 §7.4.8.2.1]: privileges change
 * afterwards, and a subscription to a parent would otherwise carry new children its creator may not read.
 * A representation (nct 1, 2) needs RETRIEVE; a resource ID alone (nct 3) discloses what discovery
 * discloses [TS-0001 §9.6.2], so RETRIEVE or DISCOVERY suffices.
 */
function operationsFor(sub: StoredResource): AccessOperation[] {
  const nct = (sub.doc as SubscriptionAttributes).nct ?? CONTENT.ALL_ATTRIBUTES;
  return nct === CONTENT.RESOURCE_ID ? [ACCESS_OPERATION.RETRIEVE, ACCESS_OPERATION.DISCOVERY] : [ACCESS_OPERATION.RETRIEVE];
}

/**
 * Everything a decision reads of the resource but its ID (which only a policy's own decision reads): the events of one
 * container's instances share their decisions. Made once per event, not per subscription.
 */
function decisionFacts(about: StoredResource): string {
  return about.ty === RESOURCE_TYPE.accessControlPolicy ? about.ri : `${about.ty}|${about.pi}|${about.owner ?? ''}|${JSON.stringify(about.doc)}`;
}

/** Whether the subscription's creator may be told about `about` now; decisions memoised per run of events. */
async function creatorMay(
  services: CseServices,
  sub: StoredResource,
  about: StoredResource,
  facts: string,
  now: number,
  memo: Map<string, boolean>,
  granted: Readonly<Record<string, boolean>> | undefined,
): Promise<boolean> {
  const creator = creatorOf(sub);
  const authenticated = sub.doc[SUBSCRIBER_AUTHENTICATED_KEY] === true;
  for (const operation of operationsFor(sub)) {
    const key = `${creator}|${operation}`;
    const memoKey = `${key}|${authenticated}|${facts}`;
    let allowed = granted?.[key] ?? memo.get(memoKey);
    if (allowed === undefined) {
      // No request carries a notification: no peer address (rules bound to one grant nothing), the
      // subscription's authentication as it was made, and the time of the notification.
      const decision = await services.access.decide({ originator: creator, authenticated, roleIds: [], operation, resource: about, ip: '', time: now });
      allowed = decision.granted;
      memo.set(memoKey, allowed);
    }
    if (allowed) return true;
  }
  return false;
}

/**
 * Decisions for an event whose resource goes away with the policies it may hold (an AE and its
 * accessControlPolicies): taken before the deletion, for the subscriptions of the resource and of its parent.
 */
export async function decideBeforeDeletion(services: CseServices, root: StoredResource, now: number): Promise<Record<string, boolean> | undefined> {
  const { registry, store } = services;
  if (!(registry.get(root.ty)?.childTypes ?? []).includes(RESOURCE_TYPE.accessControlPolicy)) return undefined;
  const granted: Record<string, boolean> = {};
  for (const holder of [root.ri, root.pi]) {
    const subs = await store.children(holder, { ty: RESOURCE_TYPE.subscription, aliveAt: now, limit: MAX_SUBSCRIPTIONS_PER_RESOURCE });
    for (const sub of subs) {
      const creator = creatorOf(sub);
      const authenticated = sub.doc[SUBSCRIBER_AUTHENTICATED_KEY] === true;
      for (const operation of operationsFor(sub)) {
        const key = `${creator}|${operation}`;
        if (key in granted) continue;
        granted[key] = (await services.access.decide({ originator: creator, authenticated, roleIds: [], operation, resource: root, ip: '', time: now })).granted;
      }
    }
  }
  return granted;
}

/** The group of a group subscription and its aggregation: nar, else one notification per member [TS-0001 §10.2.7.11]. */
export async function groupAggregation(services: CseServices, gpi: string): Promise<{ ri: string; batch: { num: number; dur: number } } | undefined> {
  const { store, self } = services;
  const ri = gpi.startsWith(`/${self.cseId}/`) ? gpi.slice(self.cseId.length + 2) : gpi;
  const group = await store.get(ri);
  if (group?.ty !== RESOURCE_TYPE.group) return undefined;
  const nar = (group.doc.nar ?? {}) as { num?: number; dur?: unknown };
  const members = typeof group.doc.cnm === 'number' && group.doc.cnm > 0 ? group.doc.cnm : 1;
  const dur = durationMs(nar.dur);
  return { ri, batch: { num: Number.isSafeInteger(nar.num) && (nar.num as number) > 0 ? (nar.num as number) : members, dur: dur !== undefined && dur > 0 ? dur : GROUP_AGGREGATION_MS } };
}

/** Whether a groupID names a <group> hosted by another CSE (SP-relative /csi/ri, or absolute //spid/csi/ri). */
function groupOnOtherCse(self: LocalIdentity, gpi: string): boolean {
  // Another SP's absolute address is another CSE's, whatever CSE-ID it names.
  if (/^\/\/[^/]+\/[^/]+\//.test(gpi) && cseIdOfAddress(gpi, self.spId) === undefined) return true;
  const csi = cseIdOfAddress(gpi, self.spId);
  return csi !== undefined && csi !== `/${self.cseId}`;
}

const byteLength = (s: string): number => Buffer.byteLength(s, 'utf8');

class FanOutTakenOver extends Error {
  constructor() {
    super('another process holds the lease of this event now');
    this.name = 'FanOutTakenOver';
  }
}

/** An event read and decided on, ready to be written as messages. */
interface PreparedEvent {
  readonly message: OutboxMessage;
  readonly event: RecordedEvent;
  /** Subscriptions whose creator may be told, fairest order first. */
  readonly notify: readonly StoredResource[];
}

/** Events of one resource fanned out together, in order, by the holder of the first one's lease. */
const RUN_LENGTH = 64;

/**
 * The fan-out job for the event rows of one resource (target `fanout:<subscribed-to ri>`): it takes the leased
 * head and the events queued behind it (taken for it: see ResourceStore.takeBehind) and removes them itself, in
 * the transaction that writes their messages.
 */
export async function runFanOut(services: CseServices, head: OutboxMessage, owner: string): Promise<void> {
  const { store, clock, log } = services;
  const now = clock.now();
  const run = [head, ...(await store.takeBehind(owner, now, now + OUTBOX_LEASE_MS, head.target, undefined, RUN_LENGTH, head.id))];
  // Read again: a subscription deleted since the event is not notified (its messages would be dropped anyway).
  const current = await store.subscriptionsOf(head.subscription, MAX_SUBSCRIPTIONS_PER_RESOURCE);
  // Access decisions first, outside the transaction: the decider reads policies through the store.
  const memo = new Map<string, boolean>();
  const prepared: PreparedEvent[] = [];
  for (const message of run) {
    const event = JSON.parse(message.content) as RecordedEvent;
    let subs: StoredResource[];
    if (event.ending) {
      subs = [...event.ending];
      if (subs.length < event.subs.length) {
        log.warn({ event: 'notifications-over-event-bound', resource: head.subscription, dropped: event.subs.length - subs.length }, 'deletion notifications beyond notifications.maxEventBytes dropped');
      }
    } else if (event.gone) {
      subs = [...event.gone];
    } else {
      const wanted = new Set(event.subs);
      subs = current.filter((s) => wanted.has(s.ri));
    }
    const notify: StoredResource[] = [];
    const facts = decisionFacts(event.about);
    for (const sub of interleaveByCreator(subs)) {
      if (await creatorMay(services, sub, event.about, facts, now, memo, event.granted)) {
        notify.push(sub);
        continue;
      }
      const { total, log: shouldLog } = count(notificationCounters.withheld, sub.ri);
      if (shouldLog) {
        log.warn(
          { event: 'notification-withheld', subscription: sub.ri, creator: creatorOf(sub), resource: event.about.ri, withheld: total },
          "notification not sent: the subscription's creator may not read the resource (the subscription stays)",
        );
      }
    }
    prepared.push({ message, event, notify });
  }
  const groups = new Map<string, Awaited<ReturnType<typeof groupAggregation>>>();
  for (const sub of prepared.flatMap((p) => p.notify)) {
    const attrs = sub.doc as SubscriptionAttributes;
    if (typeof attrs.gpi === 'string' && typeof attrs.nfu === 'string' && !groups.has(attrs.gpi)) groups.set(attrs.gpi, await groupAggregation(services, attrs.gpi));
  }

  const over: Over = { event: new Map(), originator: new Map() };
  try {
    await store.transaction(async (tx) => {
      over.event.clear();
      over.originator.clear();
      const usage = await tx.outboxUsage(prepared.flatMap((p) => p.notify.map(creatorOf)));
      const keeping = await lockKeeping(tx, prepared, now);
      // Subscriptions of one resource tend to name the same targets: each is looked up once per run.
      const resolved = new Map<string, ResolvedTarget>();
      const polled = new Set<string>();
      // A run writes about as much as one event may: a transaction other writers wait for stays short.
      let written = 0;
      const done: OutboxMessage[] = [];
      for (const p of prepared) {
        if (done.length > 0 && written >= services.config.notifications.maxEventBytes) break;
        written += await writeMessages(services, tx, p, { usage, resolved, polled, groups, over, now, keeping });
        done.push(p.message);
      }
      // A polling channel's queue is bounded like any target's: its oldest messages go first.
      for (const key of polled) {
        const excess = (await tx.queueLength(key)) - services.config.notifications.maxQueue;
        if (excess <= 0) continue;
        const oldest = await tx.queued(key, undefined, excess);
        await tx.dequeue(oldest.map((m) => m.id));
        log.warn({ event: 'notifications-dropped', target: key, dropped: oldest.length }, 'notification queue of a polling channel is full');
      }
      // Each event once: one that someone else removed meanwhile (a run that outlasted its leases) was theirs.
      const behind = done.slice(1).map((m) => m.id);
      if ((await tx.dequeue(behind)).length !== behind.length) throw new FanOutTakenOver();
      // Events taken and left for a later run (the run's byte bound) go back at once: a lease would hold them a minute.
      const left = run.slice(done.length).map((m) => m.id);
      if (left.length > 0) await tx.releaseTaken(left, owner);
      // Of two processes holding this run (a lease that ran out meanwhile), only the lease holder's fan-out
      // commits: the other one rolls back.
      if (!(await tx.dequeueLeased(head.id, owner))) throw new FanOutTakenOver();
      await tx.broadcast(OUTBOX_TOPIC, '');
    });
  } catch (err) {
    if (!(err instanceof FanOutTakenOver)) throw err;
    // The head's new holder takes these in turn (they are behind it).
    await store.releaseTaken(run.slice(1).map((m) => m.id), owner);
    return;
  }
  for (const [ri, n] of over.event) {
    const { total, log: shouldLog } = count(notificationCounters.overEventBound, ri, n);
    if (shouldLog) log.warn({ event: 'notifications-over-event-bound', subscription: ri, resource: head.subscription, dropped: total }, 'notifications beyond notifications.maxEventBytes dropped');
  }
  for (const [creator, n] of over.originator) {
    const { total, log: shouldLog } = count(notificationCounters.overOriginatorBound, creator, n);
    if (shouldLog) {
      log.warn({ event: 'notifications-over-originator-bound', originator: creator, dropped: total }, "notifications dropped: their subscriptions' creator is over notifications.maxOutboxBytesPerOriginator");
    }
  }
}

/** Notifications not made for the bounds: per subscription (one event's bound) and per creator. */
interface Over {
  readonly event: Map<string, number>;
  readonly originator: Map<string, number>;
}

interface RunState {
  /** Bytes counted against each creator, as the run adds messages. */
  readonly usage: Map<string, number>;
  readonly resolved: Map<string, ResolvedTarget>;
  readonly polled: Set<string>;
  readonly groups: ReadonlyMap<string, Awaited<ReturnType<typeof groupAggregation>>>;
  readonly over: Over;
  readonly now: number;
  /** Whether each subscription that keeps notifications (batching, or holding outside its schedule) read before the run still exists (lockKeeping). */
  readonly keeping: Map<string, boolean>;
}

/**
 * Whether each subscription that keeps notifications in the store, read before the transaction, still exists,
 * locked in resource-ID order (as their deletion locks them): batching ones (bn), and those outside their
 * notificationSchedule that hold what they get (pn). The lock orders this fan-out with their deletion: a deletion
 * that committed first copied the event for a batching one (keepPendingBatches), which a message written here
 * would duplicate, and dropped a holding one's held queue, which a message written here would outlive, counted
 * against its creator for ever; one that comes after finds the event gone from the queue. It orders the fan-out
 * with the release of held notifications too (releaseHeldNotifications runs with the subscription locked).
 */
async function lockKeeping(tx: ResourceStore, prepared: readonly PreparedEvent[], now: number): Promise<Map<string, boolean>> {
  const keeping = new Map<string, boolean>();
  const read = prepared.filter((p) => p.event.ending === undefined && p.event.gone === undefined).flatMap((p) => p.notify);
  const ris = [...new Set(read.filter((sub) => keeps(sub, now)).map((sub) => sub.ri))].sort();
  for (const ri of ris) keeping.set(ri, (await tx.getForUpdate(ri))?.ty === RESOURCE_TYPE.subscription);
  return keeping;
}

/** Whether a subscription keeps what it is sent in the store for later: it batches, or holds it now (outside its schedule). */
function keeps(sub: StoredResource, now: number): boolean {
  return Boolean((sub.doc as SubscriptionAttributes).bn) || scheduleVerdict(sub, now) === 'hold';
}

/**
 * The `cr` of a notification: the subscription's creator when it asked for it (cr), else, with
 * enableEventNotificationOriginator (Release 4), the originator of the request that caused the event (ACME).
 */
function creatorInNotification(attrs: SubscriptionAttributes, event: RecordedEvent): { cr?: string } {
  if (typeof attrs.cr === 'string') return { cr: attrs.cr };
  if (attrs.eeno === true && event.by) return { cr: event.by };
  return {};
}

/** nev.om of an operationMonitor subscription: the operation and originator that matched, spelled as the subscription spells it. */
function monitoredOperation(attrs: SubscriptionAttributes, event: RecordedEvent): { om?: Record<string, unknown> } {
  const om = (attrs.enc as { om?: Array<{ ops?: number; or?: string; org?: string }> } | undefined)?.om;
  if (!om || event.op === undefined) return {};
  const entry = monitoringEntry(om, { operation: event.op, originator: event.by ?? '' });
  const key = entry && 'org' in entry ? 'org' : 'or';
  return { om: { ops: event.op, ...(event.by ? { [key]: event.by } : {}) } };
}

/** The messages of one event: a target once per subscription, within the event's and each creator's bound; returns the bytes written. */
async function writeMessages(services: CseServices, tx: ResourceStore, prepared: PreparedEvent, state: RunState): Promise<number> {
  const { config, self, log } = services;
  const { message, event, notify } = prepared;
  const { usage, resolved, polled, groups, over, now } = state;
  const ending = event.ending !== undefined;
  const current = !ending && event.gone === undefined;
  const sharedBytes = message.shared === undefined ? 0 : byteLength(message.shared);
  const messages: NewOutboxMessage[] = [];
  let eventBytes = 0;
  for (const sub of notify) {
    const attrs = sub.doc as SubscriptionAttributes;
    if (current && keeps(sub, now) && state.keeping.get(sub.ri) !== true) continue;
    const creator = creatorOf(sub);
    const group = typeof attrs.gpi === 'string' && typeof attrs.nfu === 'string' ? groups.get(attrs.gpi) : undefined;
    // A member of a group on another CSE: its Hosting CSE aggregates, so the notification goes to the group with the
    // nfu in it [TS-0001 §10.2.7.11], travelling the tree like any notification to another CSE (notify.ts there).
    const remoteGroup = !group && typeof attrs.gpi === 'string' && typeof attrs.nfu === 'string' && groupOnOtherCse(self, attrs.gpi) ? attrs.gpi : undefined;
    const targets = group && typeof attrs.nfu === 'string' ? [attrs.nfu] : remoteGroup ? [remoteGroup] : (attrs.nu ?? []);
    // One message per queue: the same target named twice (or as AE-ID and as path) is notified once.
    const keys = new Map<string, string>();
    for (const target of targets) {
      const found = resolved.get(target) ?? (await resolveTarget(tx, self, target));
      resolved.set(target, found);
      if (keys.has(found.key)) continue;
      // An AE-ID the subscription named may have been deregistered and taken by another AE since.
      if (found.ae && !sameRegistration(sub, found.ae)) {
        log.warn({ event: 'notification-target-reregistered', subscription: sub.ri, target }, 'notification not sent: the AE-ID it names belongs to a later registration');
        continue;
      }
      keys.set(found.key, target);
    }
    const sgn: SharedSgn = {
      sur: subscriptionUri(self, sub),
      ...creatorInNotification(attrs, event),
      net: event.net,
      rep: attrs.nct === CONTENT.RESOURCE_ID ? 'uri' : attrs.nct === CONTENT.MODIFIED_ATTRIBUTES ? 'mod' : 'full',
      ...monitoredOperation(attrs, event),
      ...(remoteGroup && typeof attrs.nfu === 'string' ? { nfu: attrs.nfu } : {}),
    };
    // A missing data event owes each subscription its own reports (m2m:tsn), one notification each.
    const sgns: SharedSgn[] = event.reports ? (event.reports[sub.ri] ?? []).map((tsn) => (sgn.rep === 'uri' ? sgn : { ...sgn, rep: 'tsn', tsn })) : [sgn];
    for (const sgn of sgns) {
      let envelope: StoredEnvelope;
      let subscription = sub.ri;
      if (group) {
        // A group subscription with forwarding: the group gathers its members' notifications for the nfu.
        envelope = { sgn, final: true, batch: group.batch };
        subscription = `group:${group.ri}`;
      } else {
        envelope = {
          sgn,
          // The deletion of the subscribed-to resource ends the subscription too; its last notification still goes.
          ...(ending ? { final: true } : {}),
          ...deliveryPolicy(attrs),
        };
      }
      const content = JSON.stringify(envelope);
      const own = byteLength(content);
      // Outside the subscription's notificationSchedule it is held or dropped (notificationSchedule.ts).
      const verdict = group ? 'send' : scheduleVerdict(sub, now);
      if (verdict === 'drop') continue;
      if (verdict === 'hold') await beforeHolding(tx, sub, [...keys.keys()]);
      let made = 0;
      for (const key of keys.keys()) {
        // The event's bound counts what it writes (its payload is stored once); a creator's counts every
        // queued notification with its payload, what delivering it costs.
        if (eventBytes + own > config.notifications.maxEventBytes) {
          over.event.set(sub.ri, (over.event.get(sub.ri) ?? 0) + 1);
          continue;
        }
        const used = usage.get(creator) ?? 0;
        if (used + own + sharedBytes > config.notifications.maxOutboxBytesPerOriginator) {
          over.originator.set(creator, (over.originator.get(creator) ?? 0) + 1);
          continue;
        }
        eventBytes += own;
        usage.set(creator, used + own + sharedBytes);
        const m: NewOutboxMessage = { target: key, subscription, content, created: now, notBefore: now, originator: creator, bytes: own + sharedBytes };
        const queued = message.payload === undefined ? m : { ...m, payload: message.payload };
        messages.push(verdict === 'hold' ? heldMessage(queued, sub.ri) : queued);
        if (key.startsWith('pch:') && verdict === 'send') polled.add(key);
        made++;
      }
      if (made > 0 && verdict === 'hold') await afterHolding(tx, services, sub, now);
      if (made > 0 && attrs.nse === true && !ending) {
        const fresh = await tx.getForUpdate(sub.ri);
        if (fresh) {
          for (const target of keys.values()) countStats(fresh.doc, target, { noec: 1 });
          await tx.update(fresh);
        }
      }
    }
  }
  await tx.enqueue(messages);
  return eventBytes;
}
