// Missing data detection of a <timeSeries> [TS-0001 §10.2.4.29, TS-0004 §7.4.38.2.1] and its reports to the subscriptions with
// notificationEventType 8 [TS-0004 §7.5.1.2.9], run by the durable timer the timeSeries sets (scheduler/timers.ts).
import type { CseServices } from '../pipeline/context.js';
import { formatTimestamp } from '../primitive/identifiers.js';
import { durationMs } from '../resources/validate.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { MISSING_DATA_LIST_MAX, MISSING_DATA_TIMER, WATCH_KEY, type MissingDataWatch, type TimeSeriesAttributes } from '../resources/types/timeSeries.js';
import { EVENT, MISSING_DATA_WINDOWS_KEY, MISSING_DATA_WINDOW_KEY as WINDOW_KEY, type SubscriptionAttributes } from '../resources/types/subscription.js';
import { setTimer, type TimerHandler } from '../scheduler/timers.js';
import type { ResourceStore, StoredResource } from '../storage/store.js';
import { MAX_SUBSCRIPTIONS_PER_RESOURCE, recordMissingData, type MissingDataReport } from './events.js';

/** Points recorded in one run at most: a long outage is caught up in several runs, not one long transaction. */
const POINTS_PER_RUN = 1_000;
/**
 * Points × subscriptions with missing-data criteria one run counts at most: the points of a run are fewer when more
 * subscriptions watch the timeSeries (down to one), so that one run's work does not grow with their product (1 000 ×
 * 1 000 made a run take a core for seconds and 1.5 GB; found by a probe). The rest waits for the next run.
 */
const WORK_PER_RUN = 20_000;
/**
 * Reports one run sends at most, shared by the subscriptions: a subscription whose share is used up gets the rest of
 * its points of this run in one last report. One subscription keeps a report per point (2 000 a run); a thousand get
 * two each.
 */
const REPORTS_PER_RUN = 2_000;
/** missingDataList without missingDataMaxNr keeps this many points, the newest. */
const UNBOUNDED_LIST = MISSING_DATA_LIST_MAX;
/**
 * Expected points caught up after the CSE was stopped, at most: older ones are skipped. A reading every millisecond
 * (pei 1) would otherwise owe 86 million points a day of downtime, each run a transaction of its own.
 */
const CATCH_UP_MAX = 10 * POINTS_PER_RUN;
/**
 * Shortest time between two detection runs of one timeSeries (ms). Points are placed by their detection time, not the
 * run's, so a run that takes several only reports them up to this late; it bounds the work one small pei can ask of
 * the CSE (one transaction rewriting the timeSeries per run) to a few runs a second.
 */
const RUN_GAP_MIN = 250;

interface Window {
  /** When the window started (epoch ms): the first missing point after the previous window ended. */
  start: number;
  /** Missing points in this window. */
  count: number;
  /** Points not reported yet (timestamps). */
  pending: string[];
}

export const missingDataTimer: TimerHandler = async (tx, services, timeSeries, payload) => {
  if (timeSeries?.ty !== RESOURCE_TYPE.timeSeries) return;
  const attrs = timeSeries.doc as TimeSeriesAttributes;
  const watch = timeSeries.doc[WATCH_KEY] as MissingDataWatch | undefined;
  // A timer of a monitoring stopped (and perhaps started again from another first reading) since it was set.
  if (attrs.mdd !== true || attrs.pei === undefined || attrs.mdt === undefined || !watch || watch.first !== (payload as { first?: unknown }).first) return;
  const { pei, mdt } = attrs;
  const now = services.clock.now();
  const subs = (await tx.children(timeSeries.ri, { ty: RESOURCE_TYPE.subscription, aliveAt: now, limit: MAX_SUBSCRIPTIONS_PER_RESOURCE })).filter(watchesMissingData);
  const pointsThisRun = Math.max(1, Math.min(POINTS_PER_RUN, Math.floor(WORK_PER_RUN / Math.max(1, subs.length))));
  const missing: number[] = [];
  const expectedAt = (slot: number): number => watch.first + slot * pei;
  const due = Math.floor((now - mdt - watch.first) / pei) - watch.next + 1;
  if (due > CATCH_UP_MAX) {
    services.log.warn({ ri: timeSeries.ri, skipped: due - CATCH_UP_MAX }, 'missing-data-catch-up-skipped');
    watch.next += due - CATCH_UP_MAX;
    watch.filled = watch.filled.filter((slot) => slot >= watch.next);
  }
  for (let points = 0; expectedAt(watch.next) + mdt <= now && points < pointsThisRun; points++, watch.next++) {
    const filled = watch.filled.indexOf(watch.next);
    if (filled >= 0) watch.filled.splice(filled, 1);
    else missing.push(expectedAt(watch.next));
  }
  const stamps = missing.map(formatTimestamp);
  if (missing.length > 0) {
    // The oldest points leave the list beyond missingDataMaxNr, and the count stays at it [TS-0001 §10.2.4.29].
    const list = [...(Array.isArray(attrs.mdlt) ? (attrs.mdlt as string[]) : []), ...stamps];
    attrs.mdlt = list.slice(-(attrs.mdn ?? UNBOUNDED_LIST));
    attrs.mdc = Math.min((attrs.mdc ?? 0) + missing.length, attrs.mdn ?? Number.MAX_SAFE_INTEGER);
    attrs.st = (typeof attrs.st === 'number' ? attrs.st : 0) + 1;
    timeSeries.lt = formatTimestamp(now);
  }
  // The windows of subscriptions that no longer watch (deleted, or their missingData gone) are forgotten.
  const windows = windowsOf(timeSeries);
  const watching = new Set(subs.map((sub) => sub.ri));
  for (const ri of Object.keys(windows)) if (!watching.has(ri)) delete windows[ri];
  if (missing.length > 0) await report(tx, services, timeSeries, windows, subs, missing, stamps, mdt, now);
  await tx.update(timeSeries);
  await setTimer(tx, MISSING_DATA_TIMER, timeSeries.ri, Math.max(expectedAt(watch.next) + mdt, now + RUN_GAP_MIN), { first: watch.first }, now);
};

/** The missing-data windows of a timeSeries's subscriptions, by subscription (in its document, made when absent). */
function windowsOf(timeSeries: StoredResource): Record<string, Window> {
  const kept = timeSeries.doc[MISSING_DATA_WINDOWS_KEY];
  if (typeof kept === 'object' && kept !== null && !Array.isArray(kept)) return kept as Record<string, Window>;
  const made: Record<string, Window> = {};
  timeSeries.doc[MISSING_DATA_WINDOWS_KEY] = made;
  return made;
}

function watchesMissingData(sub: StoredResource): boolean {
  const enc = (sub.doc as SubscriptionAttributes).enc as { net?: number[]; md?: unknown } | undefined;
  return enc?.net?.includes(EVENT.MISSING_DATA) === true && enc.md !== undefined;
}

/**
 * Each subscription counts the points in its window of md.dur, opened at the detection time of the first point
 * after the last window ended; every point from the md.num-th of a window on is reported, with those not reported
 * yet [TS-0001 §10.2.4.29]. Detection times, not the time this runs, place a point: a catch-up after a stop counts
 * as the points would have been counted, a report per point — within the subscription's share of REPORTS_PER_RUN,
 * beyond which its remaining points of the run go in one report (the newest 1 000, and its current window's count).
 */
async function report(
  tx: ResourceStore,
  services: CseServices,
  timeSeries: StoredResource,
  windows: Record<string, Window>,
  subs: readonly StoredResource[],
  missing: readonly number[],
  stamps: readonly string[],
  mdt: number,
  now: number,
): Promise<void> {
  const owed = new Map<string, MissingDataReport[]>();
  const share = Math.max(1, Math.floor(REPORTS_PER_RUN / Math.max(1, subs.length)));
  for (const sub of subs) {
    const md = ((sub.doc as SubscriptionAttributes).enc as { md: { num?: number; dur?: unknown } }).md;
    const num = md.num ?? 1;
    const dur = durationMs(md.dur) ?? 0;
    // Kept in the timeSeries, which this timer holds locked, not in the subscription: a subscription written here
    // undid UPDATEs of it that committed meanwhile, and locking it took locks in the reverse order of its UPDATE
    // (subscription, then timeSeries). A window written by an earlier version in the subscription still counts.
    const stored = windows[sub.ri] ?? (sub.doc[WINDOW_KEY] as Window | undefined);
    let window = stored && { ...stored, pending: [...stored.pending] };
    const reports: MissingDataReport[] = [];
    /** Points reported after the share was used up: they go in the last report. */
    let merged: string[] = [];
    missing.forEach((point, i) => {
      const detectedAt = point + mdt;
      if (!window || detectedAt >= window.start + dur) window = { start: detectedAt, count: 0, pending: [] };
      window.count++;
      window.pending.push(stamps[i] as string);
      if (window.count >= num) {
        if (reports.length < share - 1) reports.push({ mdlt: window.pending, mdc: window.count });
        else merged = merged.concat(window.pending).slice(-UNBOUNDED_LIST);
        if (merged.length > 0) reports[share - 1] = { mdlt: merged, mdc: window.count };
        window.pending = [];
      }
      if (window.pending.length > UNBOUNDED_LIST) window.pending = window.pending.slice(-UNBOUNDED_LIST);
    });
    if (!window) continue;
    windows[sub.ri] = window;
    if (reports.length > 0) owed.set(sub.ri, reports);
  }
  // The reports go through fan-out (fanout.ts), which sends each only while the subscription's creator may
  // still read the timeSeries, within its outbox bound and notificationSchedule, like every other notification.
  await recordMissingData(tx, services.registry, timeSeries, owed, now);
}
