// The beacons of <timeSyncBeacon> resources (resources/types/timeSyncBeacon.ts). Periodic ones (bcnc 1): a durable
// timer per beacon queues one notification per beaconNotificationURI in the outbox, then sets itself an interval
// later. Loss-of-synchronization ones (bcnc 2): a request from the beaconRequester (bcnr) whose originating
// timestamp (ot) is further from the CSE's time than beaconThreshold (bcnt) queues one, as ACME's TimeManager
// decides (isLossOfSynchronization: |now - ot| of a request from bcnr, against bcnt). The content is ACME's
// m2m:tsbn (Release 4, not in the V3 texts): the beacon's resource ID (tbr) and the CSE's time (ctm).
import type { CseServices, RequestContext } from '../pipeline/context.js';
import { formatTimestamp, parseTimestamp } from '../primitive/identifiers.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { CREATOR_KEY } from '../resources/common.js';
import { BEACON_CRITERIA, TIME_SYNC_BEACON_TIMER, TIME_SYNC_BEACON_TOPIC, beaconIntervalMs, requesterSpellings, type TimeSyncBeaconAttributes } from '../resources/types/timeSyncBeacon.js';
import { durationMs } from '../resources/validate.js';
import { setTimer, type TimerHandler } from '../scheduler/timers.js';
import type { NewOutboxMessage, ResourceStore, StoredResource } from '../storage/store.js';
import { OUTBOX_TOPIC, resolveTarget, type StoredEnvelope } from './events.js';

/**
 * The least time between two loss-of-synchronization beacons of one resource: a requester whose clock is off sends
 * that ot with every request, and each would otherwise be a notification to every bcnu. Warden's bound (ACME sends
 * none); the beacon's targets hear of the drift at once, and again while it lasts.
 */
export const LOSS_OF_SYNC_GAP_MS = 10_000;
/** Document key of a loss-of-synchronization beacon: when it last sent one (epoch ms), internal. */
const LAST_SENT_KEY = '__lastBeacon';

/** Queues one beacon to each bcnu, part of the caller's transaction (bounded by the creator's outbox share). */
async function queueBeacon(tx: ResourceStore, services: CseServices, beacon: StoredResource, now: number): Promise<boolean> {
  const { config, self, log } = services;
  // Not part of an event: nothing is held back, and its subscription check is skipped (final).
  const envelope: StoredEnvelope = { pc: { 'm2m:tsbn': { tbr: beacon.ri, ctm: formatTimestamp(now) } }, final: true };
  const content = JSON.stringify(envelope);
  const bytes = Buffer.byteLength(content, 'utf8');
  const creator = typeof beacon.doc[CREATOR_KEY] === 'string' ? beacon.doc[CREATOR_KEY] : '';
  const keys = new Set<string>();
  for (const target of (beacon.doc as TimeSyncBeaconAttributes).bcnu ?? []) keys.add((await resolveTarget(tx, self, target)).key);
  // A creator's queued notifications are bounded alike, whatever makes them: beacons to a dead receiver pile up no further.
  const used = (await tx.outboxUsage([creator])).get(creator) ?? 0;
  if (used + bytes * keys.size > config.notifications.maxOutboxBytesPerOriginator) {
    log.warn({ event: 'beacon-over-originator-bound', beacon: beacon.ri, originator: creator }, "time sync beacon not sent: its creator is over notifications.maxOutboxBytesPerOriginator");
    return false;
  }
  const messages: NewOutboxMessage[] = [...keys].map((target) => ({ target, subscription: beacon.ri, content, created: now, notBefore: now, originator: creator, bytes }));
  await tx.enqueue(messages);
  await tx.broadcast(OUTBOX_TOPIC, '');
  return true;
}

export const sendTimeSyncBeacon: TimerHandler = async (tx, services, beacon) => {
  if (beacon?.ty !== RESOURCE_TYPE.timeSyncBeacon) return; // deleted: its timer ends here
  const interval = beaconIntervalMs(beacon);
  if (interval === undefined) return; // no longer periodic
  const now = services.clock.now();
  await setTimer(tx, TIME_SYNC_BEACON_TIMER, beacon.ri, now + interval, null, now);
  await queueBeacon(tx, services, beacon, now);
};

/** Loss-of-synchronization beacons by requester, per process; reloaded when one is written anywhere (a broadcast) or has aged. */
interface RequesterIndex {
  byRequester: Map<string, Array<{ ri: string; thresholdMs: number }>>;
  loadedAt: number;
}
const INDEX_MAX_AGE_MS = 30_000;
/** Loss-of-synchronization beacons one process watches at most (each is one map entry; more are left unwatched, logged). */
const MAX_WATCHED = 10_000;
const indexes = new WeakMap<CseServices, { index?: Promise<RequesterIndex> }>();

function indexOf(services: CseServices): Promise<RequesterIndex> {
  let slot = indexes.get(services);
  if (!slot) {
    const created: { index?: Promise<RequesterIndex> } = {};
    slot = created;
    indexes.set(services, created);
    services.store.subscribe(TIME_SYNC_BEACON_TOPIC, () => {
      created.index = undefined;
    });
    services.store.onBroadcastsMissed?.(() => {
      created.index = undefined;
    });
  }
  const current = slot.index;
  const now = Date.now();
  if (current) return current.then((index) => (now - index.loadedAt < INDEX_MAX_AGE_MS ? index : reload(services, slot)));
  return reload(services, slot);
}

function reload(services: CseServices, slot: { index?: Promise<RequesterIndex> }): Promise<RequesterIndex> {
  const loading = (async () => {
    const byRequester = new Map<string, Array<{ ri: string; thresholdMs: number }>>();
    // Loss-of-synchronization beacons only: periodic ones, which have no requester and no bound per requester,
    // filled the watch list before them.
    const beacons = await services.store.search({
      below: services.self.cseRn,
      onlyTypes: [RESOURCE_TYPE.timeSyncBeacon],
      attributes: [['bcnc', String(BEACON_CRITERIA.LOSS_OF_SYNCHRONIZATION)]],
      operation: 'and',
      aliveAt: Date.now(),
      limit: MAX_WATCHED + 1,
    });
    if (beacons.length > MAX_WATCHED) services.log.warn({ event: 'beacons-unwatched', limit: MAX_WATCHED }, 'more time sync beacons than one process watches: some loss-of-synchronization beacons are not sent');
    for (const beacon of beacons.slice(0, MAX_WATCHED)) {
      const attrs = beacon.doc as TimeSyncBeaconAttributes;
      const thresholdMs = durationMs(attrs.bcnt);
      if (attrs.bcnc !== BEACON_CRITERIA.LOSS_OF_SYNCHRONIZATION || typeof attrs.bcnr !== 'string' || thresholdMs === undefined) continue;
      const list = byRequester.get(attrs.bcnr) ?? [];
      list.push({ ri: beacon.ri, thresholdMs });
      byRequester.set(attrs.bcnr, list);
    }
    return { byRequester, loadedAt: Date.now() };
  })();
  slot.index = loading;
  loading.catch(() => {
    if (slot.index === loading) slot.index = undefined;
  });
  return loading;
}

/**
 * After the originator is known: a request whose originating timestamp shows its originator's clock off by more
 * than a loss-of-synchronization beacon's threshold makes the beacon send the CSE's time to its targets. The
 * originator is the one the pipeline accepted (authenticated wherever the CSE requires it); a request without ot
 * says nothing about its clock. Never fails the request.
 */
export async function checkClockDrift(ctx: RequestContext): Promise<void> {
  const ot = ctx.request.ot;
  const originator = ctx.originator?.id;
  if (ot === undefined || originator === undefined || originator === '') return;
  const services = ctx.services;
  try {
    const index = await indexOf(services);
    if (index.byRequester.size === 0) return;
    const self = services.self;
    const names = requesterSpellings(originator, self.cseId);
    const watching = names.flatMap((name) => index.byRequester.get(name) ?? []);
    if (watching.length === 0) return;
    const their = parseTimestamp(ot);
    if (their === undefined) return; // checkPrimitive refused a malformed ot already
    const drift = Math.abs(ctx.receivedAt - their);
    for (const { ri, thresholdMs } of watching) {
      if (drift <= thresholdMs) continue;
      await services.store.transaction(async (tx) => {
        const beacon = await tx.getForUpdate(ri);
        const attrs = beacon?.doc as TimeSyncBeaconAttributes | undefined;
        if (beacon?.ty !== RESOURCE_TYPE.timeSyncBeacon || attrs?.bcnc !== BEACON_CRITERIA.LOSS_OF_SYNCHRONIZATION || !names.includes(String(attrs.bcnr))) return;
        const threshold = durationMs(attrs.bcnt);
        if (threshold === undefined || drift <= threshold) return;
        const now = services.clock.now();
        const last = beacon.doc[LAST_SENT_KEY];
        if (typeof last === 'number' && now - last < LOSS_OF_SYNC_GAP_MS && now >= last) return;
        if (!(await queueBeacon(tx, services, beacon, now))) return;
        beacon.doc[LAST_SENT_KEY] = now;
        await tx.update(beacon);
        services.log.info({ event: 'beacon-loss-of-sync', beacon: ri, requester: originator, driftMs: drift }, 'time sync beacon sent: the requester is out of synchronization');
      });
    }
  } catch (err) {
    services.log.warn({ err, originator }, 'checking a requester against its loss-of-synchronization beacons failed');
  }
}
