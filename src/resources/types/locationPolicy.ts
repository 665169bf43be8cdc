// <locationPolicy> (ty 10, TS-0001 §9.6.10, §10.2.9): how a node's location is obtained, and the <container> the
// CSE creates beside it (locationContainerID ↔ the container's locationID) where locations and geofence events go.
// Device-based: the device reports its positions into that container, and with a geographicalTargetArea the CSE
// turns them into the geofence event geofenceEventCriteria asks for: each report as it is written, or, with a
// locationUpdatePeriod (lou), the latest report once per period. Network-based (when location.server is
// configured): the CSE asks the Underlying Network's location server for locationTargetID's position at creation,
// update and each period (location/networkLocation.ts). Sharing-based is 5001.
import { ACCESS_CONTROL, CREATOR_KEY, EXPIRATION, LABELS, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributeSpec, type HookContext } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { CseError, badRequest } from '../../primitive/errors.js';
import { RSC } from '../../primitive/rsc.js';
import { checkResourceName, formatTimestamp, newResourceId } from '../../primitive/identifiers.js';
import type { StoredResource } from '../../storage/store.js';
import { checkDuration } from '../validate.js';
import { MAX_LOCATION_POSITIONS } from '../geometry.js';
import { contentSize, countInstanceAdded } from '../instances.js';
import { containerType, nextStateTag } from './container.js';
import { cancelTimer, setTimer } from '../../scheduler/timers.js';
import { durationMs } from '../validate.js';
import { checkPeriodicAllowance } from '../periodicWork.js';
import { OUTBOX_TOPIC } from '../../notifications/events.js';
import { announceAttributes } from '../announceable.js';

/** m2m:locationSource [TS-0004 §6.3.4.2.x]. */
export const LOCATION_SOURCE = { NETWORK: 1, DEVICE: 2, SHARING: 3 } as const;
/** m2m:locationInformationType. */
export const LOCATION_INFORMATION = { POSITION_FIX: 1, GEOFENCE_EVENT: 2 } as const;
/** m2m:geofenceEventCriteria. */
export const GEOFENCE_EVENT = { ENTERING: 1, LEAVING: 2, INSIDE: 3, OUTSIDE: 4 } as const;

/** Document key of the policy's last known geofence position (inside or outside), internal. */
const POSITION_KEY = '__geofence';
/** The attributes that only a network-based source uses [TS-0001 table 9.6.10-2]. */
const NETWORK_ONLY = ['lot', 'aid', 'lor', 'rlkl', 'luec'] as const;

type Position = readonly [number, number];

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A GeoJSON value given as an object or as its JSON text. */
function geoJson(value: unknown): Record<string, unknown> | undefined {
  if (isRecord(value)) return value;
  if (typeof value !== 'string' || value.length > 256 * 1024) return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function position(value: unknown): Position | undefined {
  if (!Array.isArray(value) || value.length < 2 || value.length > 3 || !value.every((c) => typeof c === 'number' && Number.isFinite(c))) return undefined;
  return [value[0] as number, value[1] as number];
}

/**
 * The perimeter of a geographicalTargetArea: a GeoJSON Polygon's outer ring. An open ring is closed (as ACME reads
 * it: TS-0001 lists "the perimeter corner points"); at least three corners, at most MAX_LOCATION_POSITIONS.
 */
export function targetArea(value: unknown): Position[] | undefined {
  const area = geoJson(value);
  if (area?.type !== 'Polygon' || !Array.isArray(area.coordinates)) return undefined;
  const outer: unknown = area.coordinates[0];
  if (!Array.isArray(outer) || outer.length > MAX_LOCATION_POSITIONS) return undefined;
  const corners = outer.map(position);
  if (corners.some((c) => c === undefined)) return undefined;
  const ring = corners as Position[];
  const first = ring[0];
  const last = ring[ring.length - 1];
  if (first && last && (first[0] !== last[0] || first[1] !== last[1])) ring.push(first);
  return ring.length >= 4 ? ring : undefined;
}

/** A reported location: a GeoJSON Point (object or text); anything else is no position. */
export function reportedPoint(con: unknown): Position | undefined {
  const point = geoJson(con);
  return point?.type === 'Point' ? position(point.coordinates) : undefined;
}

/** Even-odd rule on the plane of the coordinates as given (a fence of a few km: the curvature does not matter). */
export function insideArea(ring: readonly Position[], [x, y]: Position): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i] as Position;
    const [xj, yj] = ring[j] as Position;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** The shortest locationUpdatePeriod Warden runs: each period is a location request (or a fence evaluation). */
export const MIN_UPDATE_PERIOD_MS = 1_000;
/** Durable timer kind (scheduler/timers.ts) of a policy's periodic positioning. */
export const LOCATION_UPDATE_TIMER = 'locationUpdate';

function checkUpdatePeriods(value: unknown): string | undefined {
  if (!Array.isArray(value) || value.length > 16) return 'must be a list of at most 16 xs:durations';
  for (const period of value) {
    const problem = checkDuration(period);
    if (problem) return problem;
    const ms = durationMs(period);
    if (ms !== undefined && ms > 0 && ms < MIN_UPDATE_PERIOD_MS) return `has a period shorter than ${MIN_UPDATE_PERIOD_MS / 1000} s, the shortest this CSE runs`;
  }
  // TS-0001 table 9.6.10-2: "Zero ('0') shall not be stored with non zero value(s)."
  const zero = value.some((p) => durationMs(p) === 0);
  if (zero && value.some((p) => (durationMs(p) ?? 0) > 0)) return "may not hold zero ('0') with non-zero values";
  return undefined;
}

/** The active locationUpdatePeriod, ms: "the first value in the list is the current active update period"; undefined when 0 or absent. */
export function activeUpdatePeriod(policy: StoredResource): number | undefined {
  const lou = policy.doc.lou;
  const first = Array.isArray(lou) ? durationMs(lou[0]) : undefined;
  return first !== undefined && first > 0 ? first : undefined;
}

const attributes = {
  ...UNIVERSAL,
  ...announceAttributes(RESOURCE_TYPE.locationPolicy),
  ...EXPIRATION,
  ...LABELS,
  ...ACCESS_CONTROL,
  los: { type: 'enum', create: 'M', update: 'NP', values: Object.values(LOCATION_SOURCE) },
  lit: { type: 'enum', create: 'O', update: 'O', values: Object.values(LOCATION_INFORMATION) },
  lou: { type: 'list', create: 'O', update: 'O', check: checkUpdatePeriods },
  lot: { type: 'string', create: 'O', update: 'NP', maxLength: 256 },
  lor: { type: 'anyURI', create: 'O', update: 'NP' },
  loi: { type: 'anyURI', create: 'NP', update: 'NP' },
  lon: { type: 'string', create: 'O', update: 'NP', check: (v) => (typeof v === 'string' ? checkResourceName(v) : 'must be a resource name') },
  lost: { type: 'string', create: 'NP', update: 'NP' },
  gta: { type: 'any', create: 'O', update: 'O', check: (v) => (targetArea(v) ? undefined : 'must be a GeoJSON Polygon of at least three corners') },
  gec: { type: 'enum', create: 'O', update: 'O', values: Object.values(GEOFENCE_EVENT) },
  aid: { type: 'string', create: 'O', update: 'O', maxLength: 256 },
  rlkl: { type: 'boolean', create: 'O', update: 'O' },
  luec: { type: 'enum', create: 'O', update: 'O', values: [0] },
} as const satisfies Record<string, AttributeSpec>;

/**
 * Device-based takes none of the network-based attributes (as ACME: 4000). Network-based needs a configured
 * location server (else 5001, as before) and a locationTargetID; a locationServer, when given, must be that server:
 * the CSE asks no server an originator names (it would be a request to any address, on the CSE's credentials).
 */
function checkSource(doc: Record<string, unknown>, config: HookContext['config']): void {
  if (doc.los === LOCATION_SOURCE.DEVICE) {
    const networkOnly = NETWORK_ONLY.find((name) => doc[name] !== undefined);
    if (networkOnly) throw badRequest(`attribute '${networkOnly}' applies to a network-based locationSource only`);
    return;
  }
  if (doc.los !== LOCATION_SOURCE.NETWORK || config.location.server === '') {
    throw new CseError(RSC.NOT_IMPLEMENTED, 'only a device-based locationSource (2), or a network-based one (1) when a location server is configured (location.server), is supported');
  }
  if (typeof doc.lot !== 'string' || doc.lot === '') throw badRequest("a network-based locationPolicy needs 'lot' (locationTargetID), the terminal the location server locates");
  if (doc.lor !== undefined && doc.lor !== config.location.server) throw badRequest("'lor' (locationServer) must be the location server this CSE is configured with, or absent");
}

/**
 * The <container> that holds the locations [TS-0001 §10.2.9.6], beside the policy, named by locationContainerName
 * (an existing name is the generic CONFLICT of TS-0001 §10.1.2) or by the CSE; it has the policy's expiry and acpi.
 */
async function createLocationContainer(ctx: HookContext, policy: StoredResource): Promise<StoredResource> {
  const parent = await ctx.store.get(policy.pi);
  if (!parent) throw new CseError(RSC.NOT_FOUND, 'the parent resource was deleted meanwhile');
  const ri = newResourceId('cnt', ctx.now);
  const rn = typeof policy.doc.lon === 'string' ? policy.doc.lon : ri;
  if (await ctx.store.getByPath(`${parent.srn}/${rn}`)) throw new CseError(RSC.CONFLICT, `a resource named '${rn}' already exists under '${parent.srn}': locationContainerName must be free`);
  const ts = formatTimestamp(ctx.now);
  const doc: Record<string, unknown> = { li: policy.ri, [CREATOR_KEY]: policy.doc[CREATOR_KEY] };
  if (Array.isArray(policy.doc.acpi)) doc.acpi = policy.doc.acpi;
  const container: StoredResource = { ri, pi: parent.ri, ty: RESOURCE_TYPE.container, rn, srn: `${parent.srn}/${rn}`, ct: ts, lt: ts, doc };
  if (policy.et !== undefined) container.et = policy.et;
  if (parent.owner !== undefined) container.owner = parent.owner;
  container.charge = ctx.storage?.charge ?? ctx.originator;
  containerType.hooks.beforeCreate?.(ctx, container);
  const stored = await ctx.store.insert(container, ctx.storage?.limits);
  await ctx.recordChildCreated?.(parent, stored);
  return stored;
}

/** What writing a location instance needs of a request, or of the background work that stands in for one. */
export type LocationWriteContext = Pick<HookContext, 'store' | 'now' | 'originator' | 'storage' | 'recordChildCreated'>;

/**
 * Stores the next <contentInstance> of a policy's container (a geofence event, or a network position fix), in the
 * caller's transaction; the caller stores the container (its counters changed) unless the request does.
 */
export async function storeLocationInstance(ctx: LocationWriteContext, container: StoredResource, policy: StoredResource, con: unknown, et?: number): Promise<void> {
  const ri = newResourceId('cin', ctx.now);
  const ts = formatTimestamp(ctx.now);
  const doc: Record<string, unknown> = { con, cs: contentSize(con), st: nextStateTag(container), [CREATOR_KEY]: policy.doc[CREATOR_KEY] };
  const instance: StoredResource = { ri, pi: container.ri, ty: RESOURCE_TYPE.contentInstance, rn: ri, srn: `${container.srn}/${ri}`, ct: ts, lt: ts, doc };
  if (et !== undefined) instance.et = et;
  if (container.owner !== undefined) instance.owner = container.owner;
  instance.charge = ctx.storage?.charge ?? ctx.originator;
  const stored = await ctx.store.insert(instance, ctx.storage?.limits);
  countInstanceAdded(container, stored);
  await ctx.recordChildCreated?.(container, stored);
}

/**
 * A position of the policy's node [TS-0001 §9.6.10, figure 9.6.10-1], with the policy locked: compared with the
 * geographicalTargetArea, and the geofence event the policy's geofenceEventCriteria asks for, when this position
 * makes it, is stored as the next <contentInstance> (its content the event number), as ACME does. The position
 * before the first one counts as inside (ACME's default).
 */
export async function evaluateFence(ctx: LocationWriteContext, container: StoredResource, policy: StoredResource, point: readonly [number, number], et?: number): Promise<void> {
  if (policy.doc.lit !== LOCATION_INFORMATION.GEOFENCE_EVENT) return;
  const area = targetArea(policy.doc.gta);
  if (!area) return;
  const wasInside = policy.doc[POSITION_KEY] !== GEOFENCE_EVENT.OUTSIDE;
  const isInside = insideArea(area, point);
  policy.doc[POSITION_KEY] = isInside ? GEOFENCE_EVENT.INSIDE : GEOFENCE_EVENT.OUTSIDE;
  await ctx.store.update(policy);
  const event = isInside ? (wasInside ? GEOFENCE_EVENT.INSIDE : GEOFENCE_EVENT.ENTERING) : wasInside ? GEOFENCE_EVENT.LEAVING : GEOFENCE_EVENT.OUTSIDE;
  if (policy.doc.gec === event) await storeLocationInstance(ctx, container, policy, event, et);
}

/**
 * A position a device reported into a device-based policy's container: evaluated as it is stored (in its
 * transaction) when the policy has no locationUpdatePeriod; with one, the period's timer evaluates the latest
 * report instead (the time between t1 and t2 of figure 9.6.10-1 "is defined by locationUpdatePeriod"). A report
 * written into a network-based policy's container is stored and nothing more: that policy's positions are the
 * network's.
 */
export async function reportedLocation(ctx: HookContext, container: StoredResource, report: StoredResource): Promise<void> {
  const point = reportedPoint(report.doc.con);
  if (!point || typeof container.doc.li !== 'string') return;
  const policy = await ctx.store.getForUpdate(container.doc.li);
  if (policy?.ty !== RESOURCE_TYPE.locationPolicy || policy.doc.los !== LOCATION_SOURCE.DEVICE || activeUpdatePeriod(policy) !== undefined) return;
  await evaluateFence(ctx, container, policy, point, report.et);
}

/** Newest reports looked at for the latest position (events and other content in between are skipped). */
const REPORTS_SCANNED = 16;

/** A device-based policy's period: the fence evaluated on the latest position its device reported. */
export async function evaluateLatestReport(ctx: LocationWriteContext, policy: StoredResource): Promise<void> {
  if (policy.doc.lit !== LOCATION_INFORMATION.GEOFENCE_EVENT || typeof policy.doc.loi !== 'string') return;
  const container = await ctx.store.getForUpdate(policy.doc.loi);
  if (container?.ty !== RESOURCE_TYPE.container) return;
  const recent = await ctx.store.children(container.ri, { ty: RESOURCE_TYPE.contentInstance, newestFirst: true, limit: REPORTS_SCANNED, aliveAt: ctx.now });
  for (const report of recent) {
    const point = reportedPoint(report.doc.con);
    if (point) {
      await evaluateFence(ctx, container, policy, point);
      await ctx.store.update(container);
      return;
    }
  }
}

/** Marks a policy with an active update period, so that its creator's periodic policies can be counted (periodicWork.ts). */
const PERIODIC_KEY = '__periodic';

/**
 * An active update period is a timer run per period (down to 1 s; a request to the location server for a
 * network-based policy) for as long as the policy lives: bounded per creator, checked where a policy gets one.
 */
async function checkUpdatePeriod(ctx: HookContext, policy: StoredResource, previous?: Readonly<Record<string, unknown>>): Promise<void> {
  if (activeUpdatePeriod(policy) === undefined) {
    delete policy.doc[PERIODIC_KEY];
    return;
  }
  if (previous?.[PERIODIC_KEY] !== true) await checkPeriodicAllowance(ctx, policy, [[PERIODIC_KEY, 'true']], 'location policies with a locationUpdatePeriod');
  policy.doc[PERIODIC_KEY] = true;
}

/** Sets (or stops) the period's timer as the policy now says; part of the write's transaction. */
async function armUpdates(ctx: HookContext, policy: StoredResource): Promise<void> {
  const period = activeUpdatePeriod(policy);
  if (period === undefined) await cancelTimer(ctx.store, LOCATION_UPDATE_TIMER, policy.ri);
  else await setTimer(ctx.store, LOCATION_UPDATE_TIMER, policy.ri, ctx.now + period, null, ctx.now);
}

/** Outbox jobs of network-based policies (location/networkLocation.ts): one queue per policy, one request at a time. */
export const LOCATION_JOB_PREFIX = 'loc:';

/** Queues a location request for a network-based policy, replacing one still waiting; part of the caller's transaction. */
export async function requestLocation(ctx: Pick<HookContext, 'store' | 'now'>, policy: StoredResource): Promise<void> {
  const target = `${LOCATION_JOB_PREFIX}${policy.ri}`;
  await ctx.store.dropQueued([target]);
  await ctx.store.enqueue([{ target, subscription: policy.ri, content: '{}', created: ctx.now, notBefore: ctx.now }]);
  await ctx.store.broadcast(OUTBOX_TOPIC, '');
}

export const locationPolicyType = defineResourceType({
  ty: RESOURCE_TYPE.locationPolicy,
  typeName: 'm2m:lcp',
  attributes,
  childTypes: [RESOURCE_TYPE.subscription],
  creatable: true,
  updatable: true,
  deletable: true,
  hasAcpi: true,
  hooks: {
    async beforeCreate(ctx, resource) {
      checkSource(resource.doc, ctx.config);
      // locationStatus: none yet (a device-based source never has one; ACME writes the empty string too).
      resource.doc.lost = '';
      await checkUpdatePeriod(ctx, resource);
    },
    async afterCreate(ctx, resource) {
      const container = await createLocationContainer(ctx, resource);
      resource.doc.loi = container.ri;
      await ctx.store.update(resource);
      await armUpdates(ctx, resource);
      // "The Location Request can be triggered [...] the <locationPolicy> is created or updated" (TS-0001 §7.3.x NOTE 2).
      if (resource.doc.los === LOCATION_SOURCE.NETWORK) await requestLocation(ctx, resource);
    },
    async beforeUpdate(ctx, resource, changes, previous) {
      checkSource(resource.doc, ctx.config);
      if ('lou' in changes) {
        await checkUpdatePeriod(ctx, resource, previous);
        await armUpdates(ctx, resource);
      }
      // A new area or criterion starts from the default position again.
      if (changes.gta !== undefined || changes.gec !== undefined || changes.lit !== undefined) delete resource.doc[POSITION_KEY];
      if (resource.doc.los === LOCATION_SOURCE.NETWORK) await requestLocation(ctx, resource);
    },
  },
});
