// <timeSyncBeacon> (ty 60, Release 4): the CSE tells the beaconNotificationURIs (bcnu) its current time, periodically
// every beaconInterval (bcni), or when a beaconRequester (bcnr) is out of sync by more than beaconThreshold (bcnt),
// as the originating timestamp of its requests shows.
// The V3 texts Warden follows do not have it: attributes, defaults and rules are taken from ACME's reference data and
// its TSB resource (say docs/conformance.md). The beacons themselves: notifications/timeSyncBeacon.ts.
import { ACCESS_CONTROL, EXPIRATION, LABELS, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributesOf, type AttributeSpec, type HookContext } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { CseError, badRequest } from '../../primitive/errors.js';
import { RSC } from '../../primitive/rsc.js';
import type { StoredResource } from '../../storage/store.js';
import { cancelTimer, setTimer } from '../../scheduler/timers.js';
import { checkDuration, durationMs } from '../validate.js';
import { checkTargets } from './subscription.js';
import { announceAttributes } from '../announceable.js';
import { checkPeriodicAllowance } from '../periodicWork.js';

/** m2m:beaconCriteria (ACME's BeaconCriteria). */
export const BEACON_CRITERIA = { PERIODIC: 1, LOSS_OF_SYNCHRONIZATION: 2 } as const;
/** Durable timer kind (scheduler/timers.ts) of a periodic beacon. */
export const TIME_SYNC_BEACON_TIMER = 'timeSyncBeacon';
/** Broadcast when a beacon is written: each process reloads its index of loss-of-synchronization requesters. */
export const TIME_SYNC_BEACON_TOPIC = 'timeSyncBeacon';
/** ACME's defaults ([resource.tsb] bcni and bcnt): an hour between periodic beacons, a minute of tolerated drift. */
export const DEFAULT_BEACON_INTERVAL = 'PT1H';
export const DEFAULT_BEACON_THRESHOLD_MS = 60_000;
/**
 * The shortest beaconInterval: each beacon is a notification to every bcnu, so an interval of a millisecond would
 * make one resource a flood. A day is the longest, so that a beacon's timer is never out of reach.
 */
export const BEACON_INTERVAL_LIMITS = { minMs: 1_000, maxMs: 86_400_000 } as const;

const attributes = {
  ...UNIVERSAL,
  ...announceAttributes(RESOURCE_TYPE.timeSyncBeacon),
  ...EXPIRATION,
  ...LABELS,
  ...ACCESS_CONTROL,
  bcnc: { type: 'enum', create: 'M', update: 'O', values: Object.values(BEACON_CRITERIA) },
  bcni: { type: 'duration', create: 'O', update: 'O', check: (v) => checkDuration(v, BEACON_INTERVAL_LIMITS.minMs, BEACON_INTERVAL_LIMITS.maxMs) },
  bcnt: { type: 'duration', create: 'O', update: 'O', check: (v) => checkDuration(v, 1) },
  bcnr: { type: 'string', create: 'O', update: 'NP', maxLength: 256 },
  // ACME's cardinality 1LN: at least one target; the same target forms as a subscription's nu.
  bcnu: { type: 'anyURIList', create: 'M', update: 'O', check: checkTargets },
} as const satisfies Record<string, AttributeSpec>;

export type TimeSyncBeaconAttributes = AttributesOf<typeof attributes>;

/**
 * The rules between the attributes, on the beacon as it will be (ACME's TSB.validate): bcni only with periodic
 * beacons (defaulted there), bcnt and bcnr only with loss-of-synchronization ones (bcnt defaulted, bcnr required).
 */
function checkCriteria(beacon: TimeSyncBeaconAttributes): void {
  const periodic = beacon.bcnc === BEACON_CRITERIA.PERIODIC;
  if (beacon.bcni !== undefined && !periodic) throw badRequest("attribute 'bcni' (beaconInterval) is only allowed when 'bcnc' is 1 (periodic)");
  if (beacon.bcnt !== undefined && periodic) throw badRequest("attribute 'bcnt' (beaconThreshold) is only allowed when 'bcnc' is 2 (loss of synchronization)");
  if (beacon.bcnr !== undefined && periodic) throw badRequest("attribute 'bcnr' (beaconRequester) is only allowed when 'bcnc' is 2 (loss of synchronization)");
  if (beacon.bcnr === undefined && !periodic) throw badRequest("attribute 'bcnr' (beaconRequester) is required when 'bcnc' is 2 (loss of synchronization)");
  if (periodic) beacon.bcni ??= DEFAULT_BEACON_INTERVAL;
  else beacon.bcnt ??= DEFAULT_BEACON_THRESHOLD_MS;
}

/**
 * The two spellings by which a beaconRequester names an originator of this CSE: as sent in From (an AE-ID, or a
 * CSE-relative `/…` form) and SP-relative (`/<CSE-ID>/…`). The watch matches a request's originator by both
 * (checkClockDrift), and the bound per requester counts both.
 */
export function requesterSpellings(originator: string, cseId: string): [string, string] {
  return [originator, originator.startsWith('/') ? `/${cseId}${originator}` : `/${cseId}/${originator}`];
}

/** Loss-of-synchronization beacons one beaconRequester may have (all creators together, the admin's included). */
const BEACONS_PER_REQUESTER = 16;

/**
 * Warden policy (TS-0001 names no rule): a loss-of-synchronization beacon watches the requests of its creator only;
 * the admin may name any requester. Watching another originator told a third party when that originator sent
 * requests, cost that originator's requests a transaction per watching beacon, and could fill the watch list so that
 * the originator's own beacon was never watched (found by a probe). A requester has at most BEACONS_PER_REQUESTER.
 */
async function checkRequester(ctx: HookContext, beacon: TimeSyncBeaconAttributes): Promise<void> {
  const requester = beacon.bcnr;
  if (requester === undefined) return;
  const creator = ctx.originator;
  if (creator !== ctx.config.security.admin && !requesterSpellings(creator, ctx.self.cseId).includes(requester)) {
    throw new CseError(RSC.ORIGINATOR_HAS_NO_PRIVILEGE, "a loss-of-synchronization beacon watches its creator's own requests: 'bcnr' (beaconRequester) must be the originator's own ID");
  }
  // Given in either spelling, counted by both (either one matches: 'or').
  const bare = requester.startsWith(`/${ctx.self.cseId}/`) ? requester.slice(ctx.self.cseId.length + 2) : requester;
  const spellings = requesterSpellings(bare, ctx.self.cseId).map((name) => ['bcnr', name] as const);
  const watching = await ctx.store.search({ below: ctx.self.cseRn, onlyTypes: [RESOURCE_TYPE.timeSyncBeacon], attributes: spellings, operation: 'or', aliveAt: ctx.now, limit: BEACONS_PER_REQUESTER });
  if (watching.length >= BEACONS_PER_REQUESTER) {
    throw new CseError(RSC.NOT_ACCEPTABLE, `'${requester}' is already watched by ${BEACONS_PER_REQUESTER} loss-of-synchronization beacons`);
  }
}

async function checkPeriodicBeacons(ctx: HookContext, beacon: StoredResource): Promise<void> {
  // Checked at CREATE only: an UPDATE cannot make a loss-of-synchronization beacon periodic (bcnr stays, checkCriteria).
  if (beacon.doc.bcnc !== BEACON_CRITERIA.PERIODIC) return;
  await checkPeriodicAllowance(ctx, beacon, [['bcnc', String(BEACON_CRITERIA.PERIODIC)]], 'periodic time sync beacons');
}

/** The interval of a periodic beacon, ms; undefined for any other. */
export function beaconIntervalMs(beacon: StoredResource): number | undefined {
  const attrs = beacon.doc as TimeSyncBeaconAttributes;
  return attrs.bcnc === BEACON_CRITERIA.PERIODIC ? durationMs(attrs.bcni) : undefined;
}

/** A periodic beacon's first one goes an interval after it was set up (ACME starts its worker with a delay too). */
async function armBeacon(ctx: HookContext, beacon: StoredResource): Promise<void> {
  const interval = beaconIntervalMs(beacon);
  if (interval === undefined) await cancelTimer(ctx.store, TIME_SYNC_BEACON_TIMER, beacon.ri);
  else await setTimer(ctx.store, TIME_SYNC_BEACON_TIMER, beacon.ri, ctx.now + interval, null, ctx.now);
}

export const timeSyncBeaconType = defineResourceType({
  ty: RESOURCE_TYPE.timeSyncBeacon,
  typeName: 'm2m:tsb',
  attributes,
  childTypes: [RESOURCE_TYPE.subscription],
  creatable: true,
  updatable: true,
  deletable: true,
  hasAcpi: true,
  hooks: {
    async beforeCreate(ctx, resource) {
      checkCriteria(resource.doc);
      await checkRequester(ctx, resource.doc);
      await checkPeriodicBeacons(ctx, resource);
      await armBeacon(ctx, resource);
      await ctx.store.broadcast(TIME_SYNC_BEACON_TOPIC, resource.ri);
    },
    async beforeUpdate(ctx, resource, changes) {
      checkCriteria(resource.doc);
      if ('bcnc' in changes || 'bcni' in changes) await armBeacon(ctx, resource);
      await ctx.store.broadcast(TIME_SYNC_BEACON_TOPIC, resource.ri);
    },
  },
});
