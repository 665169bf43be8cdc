// <locationPolicy> (ty 10, TS-0001 §9.6.10, §10.2.9): how a node's location is obtained, and the <container> the
// CSE creates beside it (locationContainerID ↔ the container's locationID) where locations and geofence events go.
// Device-based only: the device reports its positions into that container, and with a geographicalTargetArea the
// CSE turns each report into the geofence event geofenceEventCriteria asks for. Network- and sharing-based sources
// are 5001: Warden has no location server connection, so no location it stores is ever one the network vouched for.
import { ACCESS_CONTROL, CREATOR_KEY, EXPIRATION, LABELS, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributeSpec, type HookContext } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { CseError, badRequest } from '../../primitive/errors.js';
import { RSC } from '../../primitive/rsc.js';
import { checkResourceName, formatTimestamp, randomIdSuffix } from '../../primitive/identifiers.js';
import type { StoredResource } from '../../storage/store.js';
import { checkDuration } from '../validate.js';
import { MAX_LOCATION_POSITIONS } from '../geometry.js';
import { contentSize, countInstanceAdded } from '../instances.js';
import { containerType, nextStateTag } from './container.js';

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

function checkUpdatePeriods(value: unknown): string | undefined {
  if (!Array.isArray(value) || value.length > 16) return 'must be a list of at most 16 xs:durations';
  for (const period of value) {
    const problem = checkDuration(period);
    if (problem) return problem;
  }
  return undefined;
}

const attributes = {
  ...UNIVERSAL,
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

/** Only a device-based source is provided; it takes none of the network-based attributes (as ACME: 4000). */
function checkSource(doc: Record<string, unknown>): void {
  if (doc.los !== LOCATION_SOURCE.DEVICE) {
    throw new CseError(RSC.NOT_IMPLEMENTED, 'only a device-based locationSource (2) is supported: Warden has no location server connection');
  }
  const networkOnly = NETWORK_ONLY.find((name) => doc[name] !== undefined);
  if (networkOnly) throw badRequest(`attribute '${networkOnly}' applies to a network-based locationSource only`);
}

/**
 * The <container> that holds the locations [TS-0001 §10.2.9.6], beside the policy, named by locationContainerName
 * (an existing name is the generic CONFLICT of TS-0001 §10.1.2) or by the CSE; it has the policy's expiry and acpi.
 */
async function createLocationContainer(ctx: HookContext, policy: StoredResource): Promise<StoredResource> {
  const parent = await ctx.store.get(policy.pi);
  if (!parent) throw new CseError(RSC.NOT_FOUND, 'the parent resource was deleted meanwhile');
  const ri = `cnt${randomIdSuffix()}`;
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

/**
 * A position a device reported into a policy's container [TS-0001 §9.6.10, figure 9.6.10-1]: compared with the
 * geographicalTargetArea, and the geofence event the policy's geofenceEventCriteria asks for, when this report makes
 * it, is stored as the next <contentInstance> (its content the event number), as ACME does. The position before
 * the first report counts as inside (ACME's default). Called in the transaction that stores the report.
 */
export async function reportedLocation(ctx: HookContext, container: StoredResource, report: StoredResource): Promise<void> {
  const point = reportedPoint(report.doc.con);
  if (!point || typeof container.doc.li !== 'string') return;
  const policy = await ctx.store.getForUpdate(container.doc.li);
  if (policy?.ty !== RESOURCE_TYPE.locationPolicy || policy.doc.lit !== LOCATION_INFORMATION.GEOFENCE_EVENT) return;
  const area = targetArea(policy.doc.gta);
  if (!area) return;
  const wasInside = policy.doc[POSITION_KEY] !== GEOFENCE_EVENT.OUTSIDE;
  const isInside = insideArea(area, point);
  policy.doc[POSITION_KEY] = isInside ? GEOFENCE_EVENT.INSIDE : GEOFENCE_EVENT.OUTSIDE;
  await ctx.store.update(policy);
  const event = isInside ? (wasInside ? GEOFENCE_EVENT.INSIDE : GEOFENCE_EVENT.ENTERING) : wasInside ? GEOFENCE_EVENT.LEAVING : GEOFENCE_EVENT.OUTSIDE;
  if (policy.doc.gec !== event) return;
  const ri = `cin${randomIdSuffix()}`;
  const ts = formatTimestamp(ctx.now);
  const doc: Record<string, unknown> = { con: event, cs: contentSize(event), st: nextStateTag(container), [CREATOR_KEY]: policy.doc[CREATOR_KEY] };
  const instance: StoredResource = { ri, pi: container.ri, ty: RESOURCE_TYPE.contentInstance, rn: ri, srn: `${container.srn}/${ri}`, ct: ts, lt: ts, doc };
  if (report.et !== undefined) instance.et = report.et;
  if (container.owner !== undefined) instance.owner = container.owner;
  instance.charge = ctx.storage?.charge ?? ctx.originator;
  const stored = await ctx.store.insert(instance, ctx.storage?.limits);
  countInstanceAdded(container, stored);
  await ctx.recordChildCreated?.(container, stored);
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
    beforeCreate(_ctx, resource) {
      checkSource(resource.doc);
      // locationStatus: no location server, so no status of one (ACME writes the empty string too).
      resource.doc.lost = '';
    },
    async afterCreate(ctx, resource) {
      const container = await createLocationContainer(ctx, resource);
      resource.doc.loi = container.ri;
      await ctx.store.update(resource);
    },
    beforeUpdate(_ctx, resource, changes) {
      checkSource(resource.doc);
      // A new area or criterion starts from the default position again.
      if (changes.gta !== undefined || changes.gec !== undefined || changes.lit !== undefined) delete resource.doc[POSITION_KEY];
    },
  },
});
