// <crossResourceSubscription> (ty 48, TS-0001 §9.6.58, TS-0004 §7.4.58): one notification when events on several
// resources happen within a time window. The table and its checks live here; the subscriptions it makes or
// joins, its window and its notification are notifications/crossResource.ts.
import { ACCESS_CONTROL, CREATOR, EXPIRATION, LABELS, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributeSpec, type HookContext } from '../define.js';
import type { StoredResource } from '../../storage/store.js';
import { RESOURCE_TYPE } from '../types.js';
import { badRequest } from '../../primitive/errors.js';
import { checkDuration } from '../validate.js';
import { checkCriteria, checkTargets } from './subscription.js';
import { notificationScheduleRemoved } from './schedule.js';
import { EVALUATION, TIME_WINDOW, linkSources, restartWindow } from '../../notifications/crossResource.js';
import { checkPeriodicAllowance } from '../periodicWork.js';

/**
 * Bounds of one cross-resource subscription: the sources it may name (each a subscription the CSE makes or joins
 * on the creator's behalf), and the window size. TS-0001 §9.6.58 lets the Hosting CSE enforce a maximum window
 * size; the minimum keeps a periodic window from becoming a timer that runs away.
 */
export const CROSS_RESOURCE_LIMITS = { sources: 16, minWindowMs: 1_000, maxWindowMs: 86_400_000 } as const;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkSources(v: unknown): string | undefined {
  if (!Array.isArray(v) || v.length === 0) return 'must list at least one resource';
  if (v.length > CROSS_RESOURCE_LIMITS.sources) return `may list at most ${CROSS_RESOURCE_LIMITS.sources} resources`;
  if (v.some((a) => typeof a !== 'string' || !/^[A-Za-z0-9\-._~/]{1,1024}$/.test(a))) return 'must be a list of resource IDs';
  if (new Set(v).size !== v.length) return 'names a resource twice';
  return undefined;
}

/** m2m:eventNotificationCriteriaSet [TS-0004 §6.3.5.x]: {enc: [eventNotificationCriteria, …]}, at least one. */
function checkCriteriaSet(v: unknown): string | undefined {
  if (!isRecord(v)) return "must be {enc: [eventNotificationCriteria, ...]}";
  const extra = Object.keys(v).find((k) => k !== 'enc');
  if (extra !== undefined) return `member '${extra}' is not part of eventNotificationCriteriaSet`;
  if (!Array.isArray(v.enc) || v.enc.length === 0) return "member 'enc' must list at least one eventNotificationCriteria";
  if (v.enc.length > CROSS_RESOURCE_LIMITS.sources) return `member 'enc' may list at most ${CROSS_RESOURCE_LIMITS.sources} entries`;
  for (const enc of v.enc) {
    const problem = checkCriteria(enc);
    if (problem) return `member 'enc': ${problem}`;
  }
  return undefined;
}

const attributes = {
  ...UNIVERSAL,
  ...EXPIRATION,
  ...LABELS,
  ...ACCESS_CONTROL,
  ...CREATOR,
  exc: { type: 'positiveInteger', create: 'O', update: 'O' },
  nu: { type: 'anyURIList', create: 'M', update: 'O', check: checkTargets },
  nec: { type: 'nonNegInteger', create: 'O', update: 'NP' },
  su: { type: 'anyURI', create: 'O', update: 'NP', check: (v) => checkTargets([v]) },
  rrat: { type: 'anyURIList', create: 'O', update: 'NP', check: checkSources },
  srat: { type: 'anyURIList', create: 'O', update: 'NP', check: checkSources },
  rrats: { type: 'anyURIList', create: 'NP', update: 'NP' },
  eem: { type: 'enum', create: 'O', update: 'O', values: Object.values(EVALUATION) },
  twt: { type: 'enum', create: 'M', update: 'O', values: Object.values(TIME_WINDOW) },
  tws: { type: 'duration', create: 'M', update: 'O', check: (v) => checkDuration(v, CROSS_RESOURCE_LIMITS.minWindowMs, CROSS_RESOURCE_LIMITS.maxWindowMs) },
  encs: { type: 'object', create: 'O', update: 'NP', check: checkCriteriaSet },
  nse: { type: 'boolean', create: 'O', update: 'O' },
  nsi: { type: 'list', create: 'NP', update: 'NP' },
} as const satisfies Record<string, AttributeSpec>;

/**
 * A sliding window opens with an event, so it can never see every event missing: evaluation modes 3 and 4 are
 * refused with it (ACME; the Release 4 text that defines eventEvaluationMode is not among the V3 texts).
 */
function checkEvaluationMode(doc: Record<string, unknown>): void {
  if (doc.twt === TIME_WINDOW.SLIDING && (doc.eem === EVALUATION.ALL_OR_SOME_MISSING || doc.eem === EVALUATION.ALL_MISSING)) {
    throw badRequest(`eventEvaluationMode ${String(doc.eem)} cannot be used with a sliding window (timeWindowType 2)`);
  }
}

/** A periodic window is a timer run per window size (down to 1 s) for as long as the resource lives (periodicWork.ts). */
function checkPeriodicWindows(ctx: HookContext, crs: StoredResource): Promise<void> {
  return checkPeriodicAllowance(ctx, crs, [['twt', String(TIME_WINDOW.PERIODIC)]], 'cross-resource subscriptions with a periodic window');
}

export const crossResourceSubscriptionType = defineResourceType({
  ty: RESOURCE_TYPE.crossResourceSubscription,
  typeName: 'm2m:crs',
  attributes,
  // Its notificationSchedule: notifications outside it are dropped (it has no pn); its Notification Targets may
  // remove themselves as a <subscription>'s can [TS-0001 §9.6.58, table 9.6.58-1].
  childTypes: [RESOURCE_TYPE.schedule, RESOURCE_TYPE.notificationTargetMgmtPolicyRef],
  virtualChildren: ['ntsr'],
  creatable: true,
  updatable: true,
  deletable: true,
  hasAcpi: true,
  hooks: {
    async beforeCreate(ctx, resource) {
      const doc = resource.doc;
      // TS-0004 §7.4.58.2.1 Recv-6.5 a) and c) i).
      if (doc.rrat === undefined && doc.srat === undefined) throw badRequest('at least one of regularResourcesAsTarget (rrat) and subscriptionResourcesAsTarget (srat) is needed');
      if (doc.rrat !== undefined) {
        const criteria = (doc.encs as { enc?: unknown[] } | undefined)?.enc;
        if (!criteria) throw badRequest('eventNotificationCriteriaSet (encs) is needed with regularResourcesAsTarget (rrat)');
        const sources = (doc.rrat as unknown[]).length;
        if (criteria.length !== 1 && criteria.length !== sources) {
          throw badRequest(`eventNotificationCriteriaSet (encs) must hold one eventNotificationCriteria or one per rrat entry (${sources})`);
        }
      }
      // Written out, as ACME does.
      if (doc.eem === undefined) doc.eem = EVALUATION.ALL_PRESENT;
      checkEvaluationMode(doc);
      // nsi appears with the first statistics recorded (as for <subscription>).
      delete doc.nsi;
      if (doc.twt === TIME_WINDOW.PERIODIC) await checkPeriodicWindows(ctx, resource);
    },
    async beforeUpdate(ctx, resource, changes, previous) {
      if ('nu' in changes && changes.nu === null) throw badRequest("attribute 'nu' is mandatory and cannot be removed");
      if (changes.twt === TIME_WINDOW.PERIODIC && previous.twt !== TIME_WINDOW.PERIODIC) await checkPeriodicWindows(ctx, resource);
      if (('twt' in changes && changes.twt === null) || ('tws' in changes && changes.tws === null)) throw badRequest('timeWindowType and timeWindowSize are mandatory and cannot be removed');
      if (resource.doc.eem === undefined) resource.doc.eem = EVALUATION.ALL_PRESENT;
      checkEvaluationMode(resource.doc);
      // Switching statistics on starts them afresh; removing nse removes them too (as for <subscription>).
      if (changes.nse === true || changes.nse === null) delete resource.doc.nsi;
      // TS-0004 §7.4.58.2.3: a new window size or type restarts the window.
      if (changes.twt !== undefined || changes.tws !== undefined) await restartWindow(ctx.store, resource, ctx.now);
    },
    afterCommit: linkSources,
    afterChildRemoved: (ctx, crs, child) => notificationScheduleRemoved(ctx, crs, child),
  },
});
