// The beacons of <timeSyncBeacon> resources (resources/types/timeSyncBeacon.ts): a durable timer per periodic beacon
// queues one notification per beaconNotificationURI in the outbox, then sets itself an interval later. The content
// is ACME's m2m:tsbn (Release 4, not in the V3 texts): the beacon's resource ID (tbr) and the CSE's time (ctm).
import { formatTimestamp } from '../primitive/identifiers.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { CREATOR_KEY } from '../resources/common.js';
import { TIME_SYNC_BEACON_TIMER, beaconIntervalMs, type TimeSyncBeaconAttributes } from '../resources/types/timeSyncBeacon.js';
import { setTimer, type TimerHandler } from '../scheduler/timers.js';
import type { NewOutboxMessage } from '../storage/store.js';
import { OUTBOX_TOPIC, resolveTarget, type StoredEnvelope } from './events.js';

export const sendTimeSyncBeacon: TimerHandler = async (tx, services, beacon) => {
  if (beacon?.ty !== RESOURCE_TYPE.timeSyncBeacon) return; // deleted: its timer ends here
  const interval = beaconIntervalMs(beacon);
  if (interval === undefined) return; // no longer periodic
  const { clock, config, self, log } = services;
  const now = clock.now();
  await setTimer(tx, TIME_SYNC_BEACON_TIMER, beacon.ri, now + interval, null, now);
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
    return;
  }
  const messages: NewOutboxMessage[] = [...keys].map((target) => ({ target, subscription: beacon.ri, content, created: now, notBefore: now, originator: creator, bytes }));
  await tx.enqueue(messages);
  await tx.broadcast(OUTBOX_TOPIC, '');
};
