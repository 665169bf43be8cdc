// The behaviour of <crossResourceSubscription> (TS-0001 §9.6.58, §10.2.10.22-26; TS-0004 §7.4.58, §7.5.1.2.18):
// the subscriptions it makes or joins on its creator's behalf, the time window in which their notifications are
// gathered, and the cross-resource notification when the window's events meet the evaluation mode.
//
// Notifications from its sources reach it through the outbox like any notification (target key `crs:<ri>`,
// deliver.ts); the window ends on a durable timer (scheduler/timers.ts), so it survives a restart and runs in one
// process only; what it sends goes into the outbox too. All window state lives in the resource's row.
import { formatTimestamp, randomIdSuffix } from '../primitive/identifiers.js';
import { CseError, badRequest } from '../primitive/errors.js';
import { OPERATION, type RequestPrimitive } from '../primitive/request.js';
import { RSC, type Rsc } from '../primitive/rsc.js';
import type { CseServices, RequestContext } from '../pipeline/context.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { countStats } from '../resources/types/subscription.js';
import { durationMs } from '../resources/validate.js';
import { cancelTimer, setTimer } from '../scheduler/timers.js';
import type { NewOutboxMessage, ResourceStore, StoredResource } from '../storage/store.js';
import { OUTBOX_TOPIC, creatorOf, recordDeletion, resolveTarget, sameRegistration, type StoredEnvelope } from './events.js';
import { scheduleVerdict } from './notificationSchedule.js';

/** m2m:timeWindowType [TS-0004 §6.3.4.2.61]. */
export const TIME_WINDOW = { PERIODIC: 1, SLIDING: 2 } as const;
/** m2m:eventEvaluationMode (Release 4; values from ACME's reference data, /work/shared/reference). */
export const EVALUATION = { ALL_PRESENT: 1, ALL_OR_SOME_PRESENT: 2, ALL_OR_SOME_MISSING: 3, ALL_MISSING: 4, SOME_MISSING: 5 } as const;

/** The durable timer that ends a window. */
export const CRS_WINDOW_TIMER = 'crsWindow';
/** Document key: the open window (the sources heard from in it, and whether a sliding one is open). */
const WINDOW_KEY = '__crsWindow';
/** Document key: the resource IDs of the subscriptions named in srat, as found when they were joined. */
const SRAT_KEY = '__crsSrat';

interface Window {
  /** Source subscriptions (resource IDs) heard from in the window, each once. */
  seen: string[];
  /** A sliding window is open (it opens with the first notification after the last one ended). */
  open?: boolean;
}

export const isNotifying = (ty: number | undefined): boolean => ty === RESOURCE_TYPE.subscription || ty === RESOURCE_TYPE.crossResourceSubscription;

/** The address a subscription names the <crossResourceSubscription> by (nu, acrs, sur): SP-relative, as ACME does. */
export const crsUri = (services: Pick<CseServices, 'self'>, ri: string): string => `/${services.self.cseId}/${ri}`;

/** The local resource ID an address of this CSE names, or the address itself (a CSE-relative ID). */
function localRi(self: CseServices['self'], address: string): string {
  return address.startsWith(`/${self.cseId}/`) ? address.slice(self.cseId.length + 2) : address;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);

/** The resource IDs of the subscriptions whose notifications count in the window: rrats and the joined srat. */
function sourcesOf(self: CseServices['self'], crs: StoredResource): string[] {
  return [...strings(crs.doc.rrats).map((a) => localRi(self, a)), ...strings(crs.doc[SRAT_KEY])];
}

/** Whether the events heard from in a window meet the evaluation mode, `expected` sources in all. */
export function windowMet(eem: number, heard: number, expected: number): boolean {
  switch (eem) {
    case EVALUATION.ALL_OR_SOME_PRESENT:
      return heard >= 1 && heard <= expected;
    case EVALUATION.ALL_OR_SOME_MISSING:
      return heard < expected;
    case EVALUATION.ALL_MISSING:
      return heard === 0;
    case EVALUATION.SOME_MISSING:
      return heard >= 1 && heard < expected;
    default:
      return heard === expected;
  }
}

export function windowSizeMs(crs: StoredResource): number {
  return durationMs(crs.doc.tws) ?? 0;
}

/**
 * (Re)starts the time window [TS-0004 §7.4.58.2.1 d), §7.4.58.2.3]: a periodic one at once, a sliding one with
 * the next notification. What was gathered so far is dropped. Part of the caller's transaction.
 */
export async function restartWindow(tx: ResourceStore, crs: StoredResource, now: number): Promise<void> {
  crs.doc[WINDOW_KEY] = { seen: [] } satisfies Window;
  if (crs.doc.twt === TIME_WINDOW.PERIODIC) await setTimer(tx, CRS_WINDOW_TIMER, crs.ri, now + windowSizeMs(crs), { due: now + windowSizeMs(crs) }, now);
  else await cancelTimer(tx, CRS_WINDOW_TIMER, crs.ri);
}

/**
 * The cross-resource notification [TS-0004 §7.5.1.2.18]: subscriptionReference names the resource; it goes to
 * each notificationURI through the outbox, counted against expirationCounter as it is delivered (deliver.ts).
 */
async function enqueueNotification(tx: ResourceStore, services: CseServices, crs: StoredResource, now: number): Promise<void> {
  // Outside its notificationSchedule the notification is dropped, as a <subscription>'s without pendingNotification
  // (notificationSchedule.ts): a <crossResourceSubscription> has no pendingNotification to hold it by.
  if (scheduleVerdict(crs, now) !== 'send') return;
  const { self, config, log } = services;
  const creator = creatorOf(crs);
  const envelope: StoredEnvelope = {
    pc: { 'm2m:sgn': { sur: crsUri(services, crs.ri) } },
    ...(typeof crs.doc.nec === 'number' ? { ec: crs.doc.nec } : {}),
    ...(crs.doc.exc !== undefined ? { counted: true } : {}),
  };
  const content = JSON.stringify(envelope);
  const bytes = Buffer.byteLength(content, 'utf8');
  const keys = new Map<string, string>();
  for (const target of strings(crs.doc.nu)) {
    const found = await resolveTarget(tx, self, target);
    if (keys.has(found.key)) continue;
    if (found.ae && !sameRegistration(crs, found.ae)) continue;
    keys.set(found.key, target);
  }
  let used = (await tx.outboxUsage([creator])).get(creator) ?? 0;
  const messages: NewOutboxMessage[] = [];
  for (const [key, target] of keys) {
    if (used + bytes > config.notifications.maxOutboxBytesPerOriginator) {
      log.warn({ event: 'notifications-over-originator-bound', originator: creator, crossResourceSubscription: crs.ri }, 'cross-resource notification dropped: its creator is over notifications.maxOutboxBytesPerOriginator');
      continue;
    }
    used += bytes;
    messages.push({ target: key, subscription: crs.ri, content, created: now, notBefore: now, originator: creator, bytes });
    countStats(crs.doc, target, { noec: 1 });
  }
  if (messages.length === 0) return;
  await tx.enqueue(messages);
  await tx.broadcast(OUTBOX_TOPIC, '');
}

/** The timer at the end of a window: evaluate, notify if met, and start the next periodic window. */
export async function crossResourceWindowTimer(tx: ResourceStore, services: CseServices, crs: StoredResource | undefined, payload: unknown): Promise<void> {
  if (crs?.ty !== RESOURCE_TYPE.crossResourceSubscription) return;
  const now = services.clock.now();
  const window = (crs.doc[WINDOW_KEY] ?? { seen: [] }) as Window;
  const sources = new Set(sourcesOf(services.self, crs));
  const heard = new Set(window.seen.filter((ri) => sources.has(ri))).size;
  const eem = typeof crs.doc.eem === 'number' ? crs.doc.eem : EVALUATION.ALL_PRESENT;
  if (windowMet(eem, heard, sources.size)) await enqueueNotification(tx, services, crs, now);
  crs.doc[WINDOW_KEY] = { seen: [] } satisfies Window;
  if (crs.doc.twt === TIME_WINDOW.PERIODIC) {
    // The next window follows on from this one; windows missed while no process ran are not made up for.
    const size = windowSizeMs(crs);
    const due = (payload as { due?: number } | undefined)?.due;
    let next = (typeof due === 'number' ? due : now) + size;
    if (next <= now) next = now + size;
    await setTimer(tx, CRS_WINDOW_TIMER, crs.ri, next, { due: next }, now);
  }
  await tx.update(crs);
}

/**
 * Ends what a <crossResourceSubscription> set up [TS-0004 §7.4.58.2.4]: its window timer, the subscriptions it
 * made (rrats), its address in the nu and acrs of the subscriptions it joined (srat), and the deletion
 * notification to its subscriberURI. `except` is a subscription whose own end causes this one (it is gone or
 * leaves by itself). Done in the caller's transaction, directly on the store: these are the CSE's own
 * bookkeeping of what it did on the creator's behalf, and the spec ignores their failures anyway.
 */
export async function endCrossResourceSubscription(
  tx: ResourceStore,
  services: Pick<CseServices, 'self'>,
  crs: StoredResource,
  now: number,
  options: { except?: string; deleteItself: boolean },
): Promise<void> {
  const { self } = services;
  const uri = crsUri(services, crs.ri);
  await cancelTimer(tx, CRS_WINDOW_TIMER, crs.ri);
  for (const address of strings(crs.doc.rrats)) {
    const ri = localRi(self, address);
    if (ri === options.except) continue;
    const sub = await tx.getForUpdate(ri);
    if (sub?.ty === RESOURCE_TYPE.subscription && strings(sub.doc.acrs).includes(uri)) await tx.deleteSubtree(ri);
  }
  for (const ri of strings(crs.doc[SRAT_KEY])) {
    if (ri === options.except) continue;
    const sub = await tx.getForUpdate(ri);
    if (sub?.ty !== RESOURCE_TYPE.subscription) continue;
    sub.doc.nu = strings(sub.doc.nu).filter((t) => localRi(self, t) !== crs.ri);
    const acrs = strings(sub.doc.acrs).filter((t) => localRi(self, t) !== crs.ri);
    if (acrs.length > 0) sub.doc.acrs = acrs;
    else delete sub.doc.acrs;
    await tx.update(sub);
  }
  await recordDeletion(tx, self, crs, now);
  if (options.deleteItself) await tx.deleteSubtree(crs.ri);
}

/**
 * A subscription that leaves <crossResourceSubscription>s (it is deleted, or they are removed from its acrs):
 * each one hosted here that counts it as a source is deleted, as the subscription deletion notification to it
 * would have it [TS-0004 §7.4.8.2.3, §7.4.8.2.4, §7.5.1.2.4 Receiver]. Handled at once, in the caller's
 * transaction, instead of as a notification to itself: the CSE hosts both.
 */
export async function leaveCrossResourceSubscriptions(tx: ResourceStore, services: Pick<CseServices, 'self'>, sub: StoredResource, left: readonly string[], now: number, deleting: ReadonlySet<string> = new Set()): Promise<void> {
  for (const address of left) {
    const ri = localRi(services.self, address);
    if (deleting.has(ri)) continue;
    const crs = await tx.getForUpdate(ri);
    // Only a source it really has: acrs is the subscriber's to write, and must not end somebody else's.
    if (crs?.ty !== RESOURCE_TYPE.crossResourceSubscription || !sourcesOf(services.self, crs).includes(sub.ri)) continue;
    await endCrossResourceSubscription(tx, services, crs, now, { except: sub.ri, deleteItself: true });
  }
}

/** Before a subtree goes: the <crossResourceSubscription>s in it end, and the subscriptions in it leave theirs. */
export async function endCrossResourceLinks(tx: ResourceStore, services: Pick<CseServices, 'self'>, root: StoredResource, now: number, limit: number): Promise<void> {
  const inTree = (ty: number): Promise<StoredResource[]> => tx.findInSubtree(root.srn, ty, limit);
  const crss = [...(root.ty === RESOURCE_TYPE.crossResourceSubscription ? [root] : []), ...(await inTree(RESOURCE_TYPE.crossResourceSubscription))];
  const deleting = new Set(crss.map((c) => c.ri));
  for (const crs of crss) await endCrossResourceSubscription(tx, services, crs, now, { deleteItself: false });
  const subs = [...(root.ty === RESOURCE_TYPE.subscription ? [root] : []), ...(await inTree(RESOURCE_TYPE.subscription))];
  for (const sub of subs) {
    const acrs = strings(sub.doc.acrs);
    if (acrs.length > 0) await leaveCrossResourceSubscriptions(tx, services, sub, acrs, now, deleting);
  }
}

/**
 * A notification delivered to a <crossResourceSubscription> (deliver.ts, target `crs:<ri>`): a verification
 * request is accepted, a deletion of one of its sources deletes it, an event of one of its sources is gathered
 * in the window. Notifications from anything but its sources are answered and ignored [TS-0001 §10.2.10.26].
 */
export async function receiveAtCrossResourceSubscription(services: CseServices, ri: string, pc: Record<string, unknown>): Promise<Rsc> {
  const sgn = pc['m2m:sgn'] as Record<string, unknown> | undefined;
  if (typeof sgn !== 'object' || sgn === null) return RSC.BAD_REQUEST;
  if (sgn.vrq === true) return RSC.OK;
  const sur = typeof sgn.sur === 'string' ? localRi(services.self, sgn.sur) : undefined;
  if (sur === undefined) return RSC.BAD_REQUEST;
  const { store, clock } = services;
  return store.transaction(async (tx) => {
    const crs = await tx.getForUpdate(ri);
    // Gone (resource IDs are never reused): the notification is done with, not retried.
    if (crs?.ty !== RESOURCE_TYPE.crossResourceSubscription) return RSC.OK;
    if (!sourcesOf(services.self, crs).includes(sur)) return RSC.OK;
    const now = clock.now();
    if (sgn.sud === true) {
      await endCrossResourceSubscription(tx, services, crs, now, { except: sur, deleteItself: true });
      return RSC.OK;
    }
    const window = (crs.doc[WINDOW_KEY] ?? { seen: [] }) as Window;
    if (!window.seen.includes(sur)) window.seen.push(sur);
    if (crs.doc.twt === TIME_WINDOW.SLIDING && window.open !== true) {
      window.open = true;
      await setTimer(tx, CRS_WINDOW_TIMER, crs.ri, now + windowSizeMs(crs), { due: now + windowSizeMs(crs) }, now);
    }
    crs.doc[WINDOW_KEY] = window;
    await tx.update(crs);
    return RSC.OK;
  });
}

/** A request the CSE makes on the creator's behalf, through the whole pipeline (access control included). */
async function onBehalf(ctx: RequestContext, request: Omit<RequestPrimitive, 'fr' | 'rqi' | 'rvi'>, addToLists?: Readonly<Record<string, readonly string[]>>): Promise<{ rsc: number; pc?: Record<string, unknown> }> {
  const dispatch = ctx.services.dispatcher.handle;
  if (!dispatch) throw new Error('no dispatcher');
  const primitive: RequestPrimitive = { ...request, fr: ctx.originator?.id ?? ctx.request.fr, rqi: `crs-${randomIdSuffix()}`, rvi: ctx.request.rvi ?? '3' };
  return dispatch(primitive, { ...ctx.transport, internal: true, ...(addToLists ? { addToLists } : {}) });
}

const failure = (message: string): CseError => new CseError(RSC.CROSS_RESOURCE_OPERATION_FAILURE, message);

/** The answer's debugging text, shown to the originator of the CREATE (it is its own request's answer). */
function reason(answer: { rsc: number; pc?: Record<string, unknown> }): string {
  const dbg = answer.pc?.['m2m:dbg'];
  return typeof dbg === 'string' ? `${answer.rsc}: ${dbg}` : String(answer.rsc);
}

/**
 * After the CREATE committed [TS-0004 §7.4.58.2.1 Recv-6.5]: joins each subscription in srat (an UPDATE adding
 * this resource to its nu and acrs) and makes a subscription under each resource in rrat (a CREATE with the
 * criteria of encs), both as the CREATE's originator, so its privileges decide. Any failure undoes what was done
 * and deletes the resource: CROSS_RESOURCE_OPERATION_FAILURE (BAD_REQUEST when a srat entry is no subscription).
 * Then the window starts.
 */
export async function linkSources(ctx: RequestContext, created: StoredResource): Promise<StoredResource> {
  const { services } = ctx;
  const uri = crsUri(services, created.ri);
  const rrats: string[] = [];
  const joined: string[] = [];
  try {
    for (const address of strings(created.doc.srat)) {
      const found = await onBehalf(ctx, { op: OPERATION.RETRIEVE, to: address });
      if (found.rsc !== RSC.OK) throw failure(`subscription '${address}' in srat cannot be retrieved (${reason(found)})`);
      const sub = found.pc?.['m2m:sub'] as Record<string, unknown> | undefined;
      if (!sub || typeof sub.ri !== 'string') throw badRequest(`srat entry '${address}' is not a <subscription>`);
      const nu = strings(sub.nu);
      const acrs = strings(sub.acrs);
      const updated = await onBehalf(
        ctx,
        { op: OPERATION.UPDATE, to: address, pc: { 'm2m:sub': { nu: nu.includes(uri) ? nu : [...nu, uri], acrs: acrs.includes(uri) ? acrs : [...acrs, uri] } } },
        { nu: [uri], acrs: [uri] },
      );
      if (updated.rsc !== RSC.UPDATED) throw failure(`subscription '${address}' in srat cannot be updated (${reason(updated)})`);
      joined.push(sub.ri);
    }
    const criteria = ((created.doc.encs as { enc?: unknown[] } | undefined)?.enc ?? []) as Array<Record<string, unknown>>;
    const rrat = strings(created.doc.rrat);
    for (const [i, address] of rrat.entries()) {
      const enc = criteria.length === 1 ? criteria[0] : criteria[i];
      const answer = await onBehalf(ctx, {
        op: OPERATION.CREATE,
        to: address,
        ty: RESOURCE_TYPE.subscription,
        pc: {
          'm2m:sub': {
            nu: [uri],
            acrs: [uri],
            ...(enc ? { enc } : {}),
            ...(created.et !== undefined ? { et: formatTimestamp(created.et) } : {}),
            ...(typeof created.doc.nec === 'number' ? { nec: created.doc.nec } : {}),
          },
        },
      });
      const sub = answer.pc?.['m2m:sub'] as Record<string, unknown> | undefined;
      if (answer.rsc !== RSC.CREATED || typeof sub?.ri !== 'string') throw failure(`no subscription could be made under '${address}' in rrat (${reason(answer)})`);
      // SP-relative, as the subscription's nu and acrs name this resource and as ACME writes it: an address
      // that holds beyond this CSE.
      rrats.push(crsUri(services, sub.ri));
    }
  } catch (err) {
    await services.store.transaction(async (tx) => {
      const crs = await tx.getForUpdate(created.ri);
      if (!crs) return;
      crs.doc.rrats = rrats;
      crs.doc[SRAT_KEY] = joined;
      // Undone quietly: the subscriber hears of this CREATE's failure in its answer, not by a deletion notification.
      delete crs.doc.su;
      await endCrossResourceSubscription(tx, services, crs, services.clock.now(), { deleteItself: true });
    });
    throw err;
  }
  return services.store.transaction(async (tx) => {
    const crs = await tx.getForUpdate(created.ri);
    if (!crs) throw new CseError(RSC.NOT_FOUND, 'the crossResourceSubscription was deleted meanwhile');
    if (rrats.length > 0) crs.doc.rrats = rrats;
    crs.doc[SRAT_KEY] = joined;
    await restartWindow(tx, crs, services.clock.now());
    await tx.update(crs);
    return crs;
  });
}
