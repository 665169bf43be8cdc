// <timeSeries> (ty 29, TS-0001 §9.6.36; TS-0004 §7.4.38): keeps timeSeriesInstances within mni / mbs / mia like a
// container, and may watch for readings that do not arrive every periodicInterval (missing data detection).
import { ACCESS_CONTROL, CREATOR, EXPIRATION, LABELS, STATE_TAG, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributesOf, type AttributeSpec } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { formatTimestamp, parseTimestamp } from '../../primitive/identifiers.js';
import { badRequest } from '../../primitive/errors.js';
import { countInstanceAdded, instanceRemoved, instancesStale, tidyBeforeRead, purgeExpiredInstances, trimInstances } from '../instances.js';
import { checkContentInfo } from './contentInstance.js';
import { cancelTimer, setTimer } from '../../scheduler/timers.js';
import type { HookContext } from '../define.js';
import type { StoredResource } from '../../storage/store.js';
import { announceAttributes } from '../announceable.js';

const attributes = {
  ...UNIVERSAL,
  ...announceAttributes(RESOURCE_TYPE.timeSeries),
  ...EXPIRATION,
  ...LABELS,
  ...ACCESS_CONTROL,
  ...CREATOR,
  ...STATE_TAG,
  mni: { type: 'nonNegInteger', create: 'O', update: 'O' },
  mbs: { type: 'nonNegInteger', create: 'O', update: 'O' },
  mia: { type: 'nonNegInteger', create: 'O', update: 'O' },
  cni: { type: 'nonNegInteger', create: 'NP', update: 'NP' },
  cbs: { type: 'nonNegInteger', create: 'NP', update: 'NP' },
  /** periodicInterval and its tolerance, in milliseconds. */
  pei: { type: 'positiveInteger', create: 'O', update: 'O' },
  peid: { type: 'nonNegInteger', create: 'O', update: 'O' },
  mdd: { type: 'boolean', create: 'O', update: 'O' },
  // The list is rewritten with every detection run: its length is bounded like a batch's (bn.num ≤ 1000).
  mdn: { type: 'positiveInteger', create: 'O', update: 'O', check: (v) => (typeof v === 'number' && v > MISSING_DATA_LIST_MAX ? `must be at most ${MISSING_DATA_LIST_MAX}` : undefined) },
  mdlt: { type: 'list', create: 'NP', update: 'NP' },
  mdc: { type: 'nonNegInteger', create: 'NP', update: 'NP' },
  /** missingDataDetectTimer, in milliseconds. */
  mdt: { type: 'positiveInteger', create: 'O', update: 'O' },
  or: { type: 'anyURI', create: 'O', update: 'O' },
  cnf: { type: 'string', create: 'O', update: 'NP', maxLength: 1024, check: checkContentInfo },
} as const satisfies Record<string, AttributeSpec>;

export type TimeSeriesAttributes = AttributesOf<typeof attributes>;

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

/** The timer kind of missing data detection (notifications/missingData.ts runs it). */
export const MISSING_DATA_TIMER = 'missingData';
/**
 * Document key of the monitoring state while it runs: the dataGenerationTime of the first reading (epoch ms),
 * the number of the next expected one, and the numbers of expected ones whose reading has arrived already.
 */
export const WATCH_KEY = '__mdWatch';
/** Expected readings ahead of the detection that an early reading may fill, at most. */
const SLOTS_AHEAD = 1_000;
/** Longest missingDataList: the largest mdn accepted, and the list kept without one. */
export const MISSING_DATA_LIST_MAX = 1_000;

export interface MissingDataWatch {
  first: number;
  next: number;
  filled: number[];
}

/**
 * The expected dataGenerationTimes are the first reading's plus N periodicIntervals, each with a tolerance of
 * ± periodicIntervalDelta, and one is missing when no reading within it is present missingDataDetectTimer after
 * it [TS-0001 §10.2.4.29]. The first instance starts monitoring; later readings fill the expected one they fall
 * within (readings off the grid fill none, and never move it).
 */
async function watchAfterReading(ctx: HookContext, timeSeries: StoredResource, instance: StoredResource): Promise<void> {
  const attrs = timeSeries.doc as TimeSeriesAttributes;
  if (attrs.mdd !== true || attrs.pei === undefined || attrs.mdt === undefined) return;
  const generated = parseTimestamp(String(instance.doc.dgt));
  if (generated === undefined) return;
  const watch = timeSeries.doc[WATCH_KEY] as MissingDataWatch | undefined;
  if (!watch) {
    // Detection begins with monitoring: an expected point whose detection time had passed before this first reading
    // arrived was never expected by the CSE (a first dgt years back would otherwise owe billions of points).
    const next = Math.max(1, Math.ceil((ctx.now - attrs.mdt - generated) / attrs.pei));
    timeSeries.doc[WATCH_KEY] = { first: generated, next, filled: [] } satisfies MissingDataWatch;
    await setTimer(ctx.store, MISSING_DATA_TIMER, timeSeries.ri, generated + next * attrs.pei + attrs.mdt, { first: generated }, ctx.now);
    return;
  }
  const slot = Math.round((generated - watch.first) / attrs.pei);
  const inRange = Math.abs(generated - (watch.first + slot * attrs.pei)) <= num(attrs.peid);
  if (inRange && slot >= watch.next && slot < watch.next + SLOTS_AHEAD && !watch.filled.includes(slot)) watch.filled.push(slot);
}

async function stopWatching(ctx: HookContext, timeSeries: StoredResource): Promise<void> {
  delete timeSeries.doc[WATCH_KEY];
  await cancelTimer(ctx.store, MISSING_DATA_TIMER, timeSeries.ri);
}

const INSTANCE = RESOURCE_TYPE.timeSeriesInstance;
/** The attributes that shape the monitoring: fixed while it runs [TS-0004 §7.4.38.2.3]. */
const MONITORING = ['mdt', 'mdn', 'peid', 'pei'] as const;

/**
 * periodicIntervalDelta at most half the periodicInterval, and a detection timer longer than that tolerance
 * [TS-0004 §7.4.38.2.1, §7.4.38.2.3]. Without peid the "local policy" is ACME's: half of mdt when mdt ≤ pei/2,
 * else half of pei.
 */
function checkPeriodicity(attrs: TimeSeriesAttributes, peidGiven: boolean): void {
  if (attrs.pei !== undefined && !peidGiven) {
    attrs.peid = Math.floor(attrs.mdt !== undefined && attrs.mdt <= attrs.pei / 2 ? attrs.mdt / 2 : attrs.pei / 2);
  }
  if (attrs.pei !== undefined && attrs.peid !== undefined && attrs.peid > attrs.pei / 2) {
    throw badRequest(`attribute 'peid' (${attrs.peid}) must be at most half of 'pei' (${attrs.pei})`);
  }
  if (attrs.mdd === true) {
    if (attrs.mdt === undefined) throw badRequest("attribute 'mdt' is needed when 'mdd' is true");
    if (attrs.peid !== undefined && attrs.mdt <= attrs.peid) throw badRequest(`attribute 'mdt' (${attrs.mdt}) must be greater than 'peid' (${attrs.peid})`);
  }
}

export const timeSeriesType = defineResourceType({
  ty: RESOURCE_TYPE.timeSeries,
  typeName: 'm2m:ts',
  attributes,
  childTypes: [INSTANCE, RESOURCE_TYPE.subscription, RESOURCE_TYPE.semanticDescriptor, RESOURCE_TYPE.action],
  virtualChildren: ['la', 'ol'],
  instanceType: INSTANCE,
  creatable: true,
  updatable: true,
  deletable: true,
  hasAcpi: true,
  hooks: {
    beforeCreate(_ctx, resource) {
      const attrs = resource.doc as TimeSeriesAttributes;
      checkPeriodicity(attrs, attrs.peid !== undefined);
      // mdlt appears with the first missing data point (ACME shows no empty list either).
      Object.assign(resource.doc, { st: 0, cni: 0, cbs: 0, mdc: 0 });
      if (attrs.mdd === undefined) attrs.mdd = false;
    },
    async afterChildAdded(ctx, timeSeries, child) {
      if (child.ty !== INSTANCE) return;
      countInstanceAdded(timeSeries, child);
      await trimInstances(ctx, timeSeries, INSTANCE);
      await watchAfterReading(ctx, timeSeries, child);
      timeSeries.lt = formatTimestamp(ctx.now);
      await ctx.store.update(timeSeries);
    },
    async afterChildRemoved(ctx, timeSeries, child) {
      if (child.ty === INSTANCE) await instanceRemoved(ctx, timeSeries, child);
    },
    async beforeUpdate(ctx, timeSeries, changes, previous) {
      const attrs = timeSeries.doc as TimeSeriesAttributes;
      const fixed = MONITORING.filter((name) => name in changes);
      if ('mdd' in changes && fixed.length > 0) throw badRequest(`attribute 'mdd' cannot be updated together with '${fixed.join("', '")}'`);
      if (previous.mdd === true && fixed.length > 0) throw badRequest(`attribute '${fixed[0]}' cannot change while missing data detection runs (mdd true)`);
      if (changes.mdd === null) attrs.mdd = false;
      checkPeriodicity(attrs, 'peid' in changes || (previous.peid !== undefined && !('pei' in changes)));
      // Turning detection on (again) starts from a clean list [TS-0004 §7.4.38.2.3], and so does a change of its
      // parameters while it is paused [TS-0001 table 10.2.4.23-1]; turning it off keeps the list. Monitoring
      // starts again with the next reading.
      if (changes.mdd === true || fixed.length > 0) {
        delete attrs.mdlt;
        attrs.mdc = 0;
      }
      if ('mdd' in changes) await stopWatching(ctx, timeSeries);
      attrs.st = num(attrs.st) + 1;
      await purgeExpiredInstances(ctx, timeSeries, INSTANCE);
      await trimInstances(ctx, timeSeries, INSTANCE);
    },
    isStale(ctx, timeSeries) {
      return instancesStale(ctx, timeSeries, INSTANCE);
    },
    beforeRetrieve(ctx, timeSeries) {
      return tidyBeforeRead(ctx, timeSeries, INSTANCE);
    },
  },
});
