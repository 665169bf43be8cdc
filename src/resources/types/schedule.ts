// <schedule> (ty 18, TS-0001 §9.6.9, TS-0004 §7.4.9): time windows as crontab entries (scheduleElement, the format of
// TS-0004 table 7.4.9.1-4, compiled by the one parser in security/schedule.ts that ACP windows use too). Under a
// <subscription> it is its notificationSchedule: notifications outside it are held or dropped per the subscription's
// pendingNotification (notifications/notificationSchedule.ts). Under the CSEBase and a <node> it is stored as the
// information TS-0001 describes (anticipated availability, reachability) and acts on nothing in Warden.
import { ACCESS_CONTROL, EXPIRATION, LABELS, UNIVERSAL } from '../common.js';
import { defineResourceType, requestedName, type AttributeSpec, type HookContext } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { CseError, badRequest } from '../../primitive/errors.js';
import { RSC } from '../../primitive/rsc.js';
import type { StoredResource } from '../../storage/store.js';
import { WINDOW_LIMITS, compileSchedule } from '../../security/schedule.js';
import { setTimer } from '../../scheduler/timers.js';
import { announceAttributes } from '../announceable.js';

/** The one name a <schedule> under a <subscription> (or <crossResourceSubscription>) may have [TS-0001 table 9.6.8-1]. */
export const NOTIFICATION_SCHEDULE_NAME = 'notificationSchedule';
/**
 * Subscription document key: the scheduleElement entries of its notificationSchedule, kept on the subscription so
 * that a fan-out reads no child resource to decide (only subscriptions with a schedule carry it).
 */
export const NOTIFICATION_SCHEDULE_KEY = '__nsch';
/** Durable timer kind (scheduler/timers.ts) that releases a subscription's held notifications when its window opens. */
export const NOTIFICATION_SCHEDULE_TIMER = 'notificationSchedule';
/** Entries one scheduleElement may list: each is tested on every notification of its subscription. */
export const MAX_SCHEDULE_ENTRIES = 32;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** m2m:scheduleEntries: {sce: [entry, …]}, at least one entry, each a valid crontab of seven fields. */
function checkScheduleElement(value: unknown): string | undefined {
  if (!isRecord(value)) return "must be {sce: ['<second> <minute> <hour> <day> <month> <weekday> <year>', …]}";
  const extra = Object.keys(value).find((key) => key !== 'sce');
  if (extra !== undefined) return `member '${extra}' is not part of m2m:scheduleEntries`;
  const entries = value.sce;
  // "No Default and shall not be blank" [TS-0004 table 7.4.9.1-3].
  if (!Array.isArray(entries) || entries.length === 0) return "member 'sce' must list at least one schedule entry";
  if (entries.length > MAX_SCHEDULE_ENTRIES) return `member 'sce' may list at most ${MAX_SCHEDULE_ENTRIES} entries`;
  for (const entry of entries) {
    if (typeof entry !== 'string') return "member 'sce' must be a list of strings";
    try {
      compileSchedule(entry);
    } catch (err) {
      return `entry '${entry.slice(0, WINDOW_LIMITS.characters)}': ${(err as Error).message}`;
    }
  }
  return undefined;
}

const attributes = {
  ...UNIVERSAL,
  ...announceAttributes(RESOURCE_TYPE.schedule),
  ...EXPIRATION,
  ...LABELS,
  ...ACCESS_CONTROL,
  se: { type: 'object', create: 'M', update: 'O', check: checkScheduleElement },
  nco: { type: 'boolean', create: 'O', update: 'O' },
} as const satisfies Record<string, AttributeSpec>;

/** The entries of a stored schedule's scheduleElement. */
export function scheduleEntries(schedule: StoredResource): string[] {
  const se = schedule.doc.se;
  return isRecord(se) && Array.isArray(se.sce) ? se.sce.filter((e): e is string => typeof e === 'string') : [];
}

/**
 * networkCoordinated "is only applicable when <schedule> is a child resource of <node>" [TS-0004 table 7.4.9.1-3];
 * elsewhere it is refused with 4102 and, as Warden coordinates with no Underlying Network, true under a <node> is
 * 5001 (both as ACME answers).
 */
function checkNetworkCoordinated(doc: Readonly<Record<string, unknown>>, parent: StoredResource): void {
  if (doc.nco === undefined || doc.nco === null) return;
  if (parent.ty !== RESOURCE_TYPE.node) throw new CseError(RSC.CONTENTS_UNACCEPTABLE, "attribute 'nco' is only applicable to a <schedule> under a <node>");
  if (doc.nco === true) throw new CseError(RSC.NOT_IMPLEMENTED, "attribute 'nco': this CSE performs no schedule coordination with an Underlying Network");
}

/** A <subscription> or <crossResourceSubscription>: the parents whose notificationSchedule holds their notifications. */
function isNotifying(parent: StoredResource): boolean {
  return parent.ty === RESOURCE_TYPE.subscription || parent.ty === RESOURCE_TYPE.crossResourceSubscription;
}

/** Copies a notificationSchedule onto its subscription (or removes it) and has its held notifications looked at now. */
export async function applyNotificationSchedule(ctx: HookContext, subscription: StoredResource, entries: string[] | undefined): Promise<void> {
  if (entries) subscription.doc[NOTIFICATION_SCHEDULE_KEY] = entries;
  else delete subscription.doc[NOTIFICATION_SCHEDULE_KEY];
  await ctx.store.update(subscription);
  await setTimer(ctx.store, NOTIFICATION_SCHEDULE_TIMER, subscription.ri, ctx.now, null, ctx.now);
}

/**
 * For the <subscription>'s beforeUpdate: a pendingNotification removed or changed applies to what is held at once
 * [TS-0004 §7.4.8.2.3] (the release timer runs now, and keeps what the new policy keeps).
 */
export async function pendingPolicyChanged(ctx: HookContext, subscription: StoredResource, changes: Readonly<Record<string, unknown>>): Promise<void> {
  if ('pn' in changes && subscription.doc[NOTIFICATION_SCHEDULE_KEY] !== undefined) {
    await setTimer(ctx.store, NOTIFICATION_SCHEDULE_TIMER, subscription.ri, ctx.now, null, ctx.now);
  }
}

/** For the parent <subscription>'s (or <crossResourceSubscription>'s) afterChildRemoved: without its schedule, whatever it held may go now. */
export async function notificationScheduleRemoved(ctx: HookContext, subscription: StoredResource, child: StoredResource): Promise<void> {
  if (child.ty !== RESOURCE_TYPE.schedule) return;
  const fresh = await ctx.store.getForUpdate(subscription.ri);
  if (fresh) await applyNotificationSchedule(ctx, fresh, undefined);
}

export const scheduleType = defineResourceType({
  ty: RESOURCE_TYPE.schedule,
  typeName: 'm2m:sch',
  attributes,
  childTypes: [RESOURCE_TYPE.subscription],
  creatable: true,
  updatable: true,
  deletable: true,
  hasAcpi: true,
  hooks: {
    async beforeCreate(ctx, resource, parent) {
      checkNetworkCoordinated(resource.doc, parent);
      if (parent.ty === RESOURCE_TYPE.CSEBase && (await ctx.store.children(parent.ri, { ty: RESOURCE_TYPE.schedule, limit: 1 })).length > 0) {
        // The CSEBase has at most one [TS-0001 table 9.6.3-1, multiplicity 0..1]; 4000 as ACME answers.
        throw badRequest('the CSEBase already has a <schedule>; it may have one');
      }
      if (parent.ty === RESOURCE_TYPE.subscription || parent.ty === RESOURCE_TYPE.crossResourceSubscription) {
        // Its name is fixed [TS-0001 table 9.6.8-1 "notificationSchedule"]: given otherwise it is 4000, left out it is
        // filled in (ACME does both).
        const rn = requestedName(ctx, 'm2m:sch');
        if (rn !== undefined && rn !== NOTIFICATION_SCHEDULE_NAME) throw badRequest(`attribute 'rn': a <schedule> under a subscription must be named '${NOTIFICATION_SCHEDULE_NAME}'`);
        resource.rn = NOTIFICATION_SCHEDULE_NAME;
      }
      // The parent's row is locked by the creating transaction (operations/create.ts).
      if (isNotifying(parent)) await applyNotificationSchedule(ctx, parent, scheduleEntries(resource));
    },
    async beforeUpdate(ctx, resource, changes) {
      const parent = await ctx.store.getForUpdate(resource.pi);
      if (!parent) return;
      checkNetworkCoordinated(changes, parent);
      if (isNotifying(parent) && changes.se !== undefined) await applyNotificationSchedule(ctx, parent, scheduleEntries(resource));
    },
  },
});
