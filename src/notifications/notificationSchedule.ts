// A subscription's notificationSchedule [TS-0004 §7.5.1.2.2 steps 3.0–7.0]: outside its windows a notification is
// not sent; with pendingNotification it is held (sendAllPending: all, sendLatest: the newest per target, sent with
// Event Category 'latest'), without it it is dropped; Event Category 'immediate' (nec 2) sends it anyway.
//
// Held notifications stay in the durable outbox, in a queue of their own per subscription (`held:<ri>`) that no
// deliverer serves: kept in a target's queue they would block the notifications of every other subscription to that
// target until the window opened. A durable timer (scheduler/timers.ts) at the window's opening moves them into their
// targets' queues, in the order they were made.
import { createHash } from 'node:crypto';
import type { CseServices } from '../pipeline/context.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { NOTIFICATION_SCHEDULE_KEY, NOTIFICATION_SCHEDULE_TIMER } from '../resources/types/schedule.js';
import type { SubscriptionAttributes } from '../resources/types/subscription.js';
import { SCHEDULE_HORIZON_DAYS, anyScheduleMatches, compileSchedule, nextScheduleMatch, type Schedule } from '../security/schedule.js';
import { setTimer, timerTarget, type TimerHandler } from '../scheduler/timers.js';
import type { NewOutboxMessage, OutboxMessage, ResourceStore, StoredResource } from '../storage/store.js';
import { OUTBOX_TOPIC, creatorOf, sameRegistration, type StoredEnvelope } from './events.js';

/** Outbox targets of held notifications; deliverers never lease them. */
export const HELD_PREFIX = 'held:';
export const heldQueue = (subscriptionRi: string): string => `${HELD_PREFIX}${subscriptionRi}`;
/**
 * What a deleted subscription leaves in the outbox: its held notifications and the timer that would release them,
 * which may be due years ahead (a schedule that never opens is looked at again after SCHEDULE_HORIZON_DAYS).
 */
export const queuesLeftBy = (subscriptionRi: string): string[] => [heldQueue(subscriptionRi), timerTarget(NOTIFICATION_SCHEDULE_TIMER, subscriptionRi)];

/** m2m:eventCat [TS-0004 §6.3.4.2.3]: 2 immediate, 4 latest. */
const EVENT_CATEGORY = { IMMEDIATE: 2, LATEST: 4 } as const;
/** m2m:pendingNotification [TS-0004 §6.3.4.2.17]. */
const PENDING = { SEND_LATEST: 1, SEND_ALL_PENDING: 2 } as const;
/** Held messages moved per timer run; more are moved by the next run, at once. */
const RELEASE_BATCH = 500;

/** A held message's content: the notification's envelope and the queue it goes to once released. */
interface HeldContent {
  readonly target: string;
  readonly content: string;
}

const compiled = new Map<string, Schedule>();
/**
 * Entries kept compiled: every event asks each held subscription whether its window is open, and a cache smaller than
 * the entries of one busy resource's subscriptions (1 000 × 32) was cleared before it served any. A compiled entry
 * is a list of shared fields (schedule.ts), a few hundred bytes.
 */
const COMPILED_KEPT = 32_768;

/** The compiled entries of a subscription's notificationSchedule; undefined when it has none. */
function notificationSchedule(doc: Readonly<Record<string, unknown>>): Schedule[] | undefined {
  const entries = doc[NOTIFICATION_SCHEDULE_KEY];
  if (!Array.isArray(entries)) return undefined;
  const schedules: Schedule[] = [];
  for (const entry of entries) {
    if (typeof entry !== 'string') continue;
    let schedule = compiled.get(entry);
    if (!schedule) {
      try {
        schedule = compileSchedule(entry);
      } catch {
        continue; // validated when written; an entry that no longer compiles opens no window
      }
      if (compiled.size >= COMPILED_KEPT) compiled.clear();
      compiled.set(entry, schedule);
    }
    schedules.push(schedule);
  }
  return schedules;
}

export type ScheduleVerdict = 'send' | 'hold' | 'drop';

/** What becomes of a notification of this subscription made at `now`. */
export function scheduleVerdict(sub: StoredResource, now: number): ScheduleVerdict {
  const schedules = notificationSchedule(sub.doc);
  if (!schedules) return 'send';
  const attrs = sub.doc as SubscriptionAttributes;
  // "if the notificationEventCat attribute is set to 'immediate' … send … by temporarily ignoring the Originator's
  // notification schedule" [TS-0004 §7.5.1.2.2 step 3.0].
  if (attrs.nec === EVENT_CATEGORY.IMMEDIATE || anyScheduleMatches(schedules, now)) return 'send';
  return attrs.pn === PENDING.SEND_LATEST || attrs.pn === PENDING.SEND_ALL_PENDING ? 'hold' : 'drop';
}

/** A message bound for `m.target`, put in its subscription's held queue instead. */
export function heldMessage(m: NewOutboxMessage, subscriptionRi: string): NewOutboxMessage {
  const held: HeldContent = { target: m.target, content: m.content };
  return { ...m, target: heldQueue(subscriptionRi), content: JSON.stringify(held) };
}

/**
 * Before a notification is held for `targets`: sendLatest keeps only the newest per target, so what was held for
 * them goes. Part of the fan-out's transaction.
 */
export async function beforeHolding(tx: ResourceStore, sub: StoredResource, targets: readonly string[]): Promise<void> {
  if ((sub.doc as SubscriptionAttributes).pn !== PENDING.SEND_LATEST) return;
  const held = await tx.queued(heldQueue(sub.ri), undefined, RELEASE_BATCH);
  const older = held.filter((m) => targets.includes((JSON.parse(m.content) as HeldContent).target));
  if (older.length > 0) await tx.dequeue(older.map((m) => m.id));
}

/**
 * After notifications were held: the release timer is set to the window's opening, and sendAllPending keeps at most
 * notifications.maxQueue of them (the oldest go first), like the queue of an unreachable target.
 */
export async function afterHolding(tx: ResourceStore, services: CseServices, sub: StoredResource, now: number): Promise<void> {
  const queue = heldQueue(sub.ri);
  const excess = (await tx.queueLength(queue)) - services.config.notifications.maxQueue;
  if (excess > 0) {
    const oldest = await tx.queued(queue, undefined, excess);
    await tx.dequeue(oldest.map((m) => m.id));
    services.log.warn({ event: 'notifications-dropped', subscription: sub.ri, dropped: oldest.length }, 'held notifications of a subscription outside its notificationSchedule exceed notifications.maxQueue');
  }
  await armRelease(tx, sub, now);
}

/**
 * When to look at a subscription's held notifications again, by its schedule entries: the next opening as computed
 * from `from`, which holds until that opening (no window opens in between). Searching can take milliseconds (a
 * schedule that opens years ahead, or never), and every held notification asks.
 */
const releaseTimes = new Map<string, { readonly from: number; readonly at: number }>();
/**
 * Schedules whose next opening is remembered, by a digest of their entries (up to 32 × 512 characters each). As many
 * as the subscriptions a few busy resources can hold (1 000 each): one event asks for all of its held subscriptions,
 * and a cache smaller than them was cleared before it served any (the probe's 1 200 distinct schedules).
 */
const RELEASE_TIMES_KEPT = 16_384;

function releaseTime(sub: StoredResource, now: number): number {
  const key = createHash('sha256').update(JSON.stringify(sub.doc[NOTIFICATION_SCHEDULE_KEY] ?? null)).digest('base64');
  const known = releaseTimes.get(key);
  if (known && now >= known.from && now < known.at) return known.at;
  // No opening within the horizon: looked at again then (the schedule may change, or a year field come closer).
  const at = nextScheduleMatch(notificationSchedule(sub.doc) ?? [], now + 1) ?? now + SCHEDULE_HORIZON_DAYS * 86_400_000;
  if (releaseTimes.size >= RELEASE_TIMES_KEPT) releaseTimes.clear();
  releaseTimes.set(key, { from: now, at });
  return at;
}

async function armRelease(tx: ResourceStore, sub: StoredResource, now: number): Promise<void> {
  await setTimer(tx, NOTIFICATION_SCHEDULE_TIMER, sub.ri, releaseTime(sub, now), null, now);
}

/** The queue a held message goes to, and its envelope as it is sent then. */
function released(message: OutboxMessage, latest: boolean): { target: string; content: string } {
  const held = JSON.parse(message.content) as HeldContent;
  if (!latest) return held;
  // sendLatest: the cached notification "shall set the Event Category parameter to 'latest'" [TS-0004 §7.5.1.2.2 step 4.0].
  const envelope = JSON.parse(held.content) as StoredEnvelope;
  return { target: held.target, content: JSON.stringify({ ...envelope, ec: EVENT_CATEGORY.LATEST }) };
}

/**
 * The queue a held notification goes to now. An AE named as target may have deregistered while it was held (its
 * AE-ID then perhaps taken by another AE, which must not get it: the notification is dropped), or changed its
 * requestReachability (its poa or its polling channel).
 */
async function currentQueue(tx: ResourceStore, sub: StoredResource, heldFor: string): Promise<string | undefined> {
  const aeKey = /^(ae|pch):/.exec(heldFor);
  if (!aeKey) return heldFor;
  const ae = await tx.get(heldFor.slice(aeKey[0].length));
  if (ae?.ty !== RESOURCE_TYPE.AE || !sameRegistration(sub, ae)) return undefined;
  return ae.doc.rr === false ? `pch:${ae.ri}` : `ae:${ae.ri}`;
}

/**
 * The timer at a window's opening (also set when a schedule is changed or removed, or pendingNotification changed):
 * keeps what the subscription holds as pendingNotification says now (removed: nothing; changed to sendLatest: the
 * newest per target [TS-0004 §7.4.8.2.3]) and, when the window is open, moves it into its targets' queues. Runs
 * with the subscription locked.
 */
export const releaseHeldNotifications: TimerHandler = async (tx, services, resource) => {
  // A deleted subscription's held queue went with it; a <crossResourceSubscription> holds nothing (it has no pn).
  if (resource?.ty !== RESOURCE_TYPE.subscription) return;
  const now = services.clock.now();
  const queue = heldQueue(resource.ri);
  const held = await tx.queued(queue, undefined, RELEASE_BATCH);
  if (held.length === 0) return;
  const pn = (resource.doc as SubscriptionAttributes).pn;
  let kept = pn === undefined ? [] : held;
  if (pn === PENDING.SEND_LATEST) {
    const newest = new Map<string, OutboxMessage>();
    for (const m of held) newest.set((JSON.parse(m.content) as HeldContent).target, m);
    kept = held.filter((m) => newest.get((JSON.parse(m.content) as HeldContent).target) === m);
  }
  const schedules = notificationSchedule(resource.doc);
  if (schedules && !anyScheduleMatches(schedules, now)) {
    // Still closed: only what the policy no longer keeps goes now.
    const dropped = held.filter((m) => !kept.includes(m));
    if (dropped.length > 0) await tx.dequeue(dropped.map((m) => m.id));
    if (kept.length > 0) await armRelease(tx, resource, now);
    return;
  }
  const creator = creatorOf(resource);
  const messages: NewOutboxMessage[] = [];
  for (const m of kept) {
    const { target: heldFor, content } = released(m, pn === PENDING.SEND_LATEST);
    const target = await currentQueue(tx, resource, heldFor);
    if (target === undefined) continue;
    const bytes = Buffer.byteLength(content, 'utf8') + (m.shared === undefined ? 0 : Buffer.byteLength(m.shared, 'utf8'));
    const out: NewOutboxMessage = { target, subscription: resource.ri, content, created: now, notBefore: now, originator: creator, bytes };
    messages.push(m.payload === undefined ? out : { ...out, payload: m.payload });
  }
  // Added before the held ones go: a payload they share is kept while a message refers to it.
  await tx.enqueue(messages);
  await tx.dequeue(held.map((m) => m.id));
  if (held.length === RELEASE_BATCH) await setTimer(tx, NOTIFICATION_SCHEDULE_TIMER, resource.ri, now, null, now);
  await tx.broadcast(OUTBOX_TOPIC, '');
};
