// Positions of M2M Nodes: the periodic positioning of <locationPolicy> resources (locationUpdatePeriod), and the
// network-based source — the Underlying Network's location server, asked by the CSE over Mcn [TS-0001 §10.2.9.2,
// §7.3.x "Location Request"]. TS-0001 leaves the protocol to the network ("For example, it could be either the OMA
// Mobile Location Protocol or OMA RESTful NetAPI for Terminal Location"); Warden speaks the latter's location query:
//   GET <location.server>/queries/location?address=<lot>&requestedAccuracy=<m>[&maximumAge=<s>]
// answered with {"terminalLocationList": {"terminalLocation": [{address, locationRetrievalStatus, currentLocation:
// {latitude, longitude, timestamp, ...}}]}}. The request goes through the outbound destination policy, as every
// connection the CSE makes.
//
// Such a position is the only location Warden trusts for accessControlLocationRegion (aclr) [TS-0003 §7.1.2: the
// requester's location is obtained from the Underlying Network, not claimed by the requester]: a network-based
// policy that the CSE's admin wrote under an <AE> (the admin vouches that locationTargetID is that AE's terminal)
// makes its latest position that AE's rq_loc until location.maxAge has passed. Nothing a device or an AE writes
// ever does.
import type { CseServices } from '../pipeline/context.js';

import { RESOURCE_TYPE } from '../resources/types.js';
import { CREATOR_KEY } from '../resources/common.js';
import {
  LOCATION_INFORMATION,
  LOCATION_JOB_PREFIX,
  LOCATION_SOURCE,
  LOCATION_UPDATE_TIMER,
  activeUpdatePeriod,
  evaluateFence,
  evaluateLatestReport,
  requestLocation,
  storeLocationInstance,
  type LocationWriteContext,
} from '../resources/types/locationPolicy.js';
import { setTimer, type TimerHandler } from '../scheduler/timers.js';
import type { OutboxMessage, ResourceStore, StoredResource } from '../storage/store.js';
import { recordEvent } from '../notifications/events.js';
import { EVENT } from '../resources/types/subscription.js';
import { OPERATION } from '../primitive/request.js';
import { eventContext } from '../operations/events.js';
import { redactUrl } from '../log/redact.js';

/** Kept on the located <AE>: the latest network position, when it was taken, and the policy that obtained it. Internal. */
export const TRUSTED_LOCATION_KEY = '__netLocation';
/** NetAPI's requestedAccuracy (metres), required by the query: "default values for other parameters (e.g. required quality of position) [...] according to local policies". */
export const REQUESTED_ACCURACY_M = 1_000;
/** A position time this far ahead of the CSE's clock is not believed (clock skew with the server). */
const FUTURE_SKEW_MS = 60_000;

interface TrustedLocation {
  readonly latitude: number;
  readonly longitude: number;
  /** When the network took the position (epoch ms). */
  readonly at: number;
  readonly policy: string;
}

/** What the location server said, reduced to what Warden keeps: a status for locationStatus, and a position. */
interface ServerAnswer {
  readonly status: string;
  readonly position?: { latitude: number; longitude: number; at: number };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Reads a NetAPI TerminalLocationList answer for one address; anything malformed is no position. */
export function readAnswer(body: unknown, address: string, now: number): ServerAnswer {
  const list = isRecord(body) && isRecord(body.terminalLocationList) ? body.terminalLocationList.terminalLocation : undefined;
  const entries = Array.isArray(list) ? list : list === undefined ? [] : [list];
  const entry = entries.find((e): e is Record<string, unknown> => isRecord(e) && e.address === address);
  if (!entry) return { status: 'Error: the location server answered no location for locationTargetID' };
  const status = typeof entry.locationRetrievalStatus === 'string' ? entry.locationRetrievalStatus.slice(0, 64) : 'Error';
  const current = entry.currentLocation;
  if (status !== 'Retrieved' || !isRecord(current)) return { status };
  const { latitude, longitude } = current;
  if (!finite(latitude) || !finite(longitude) || Math.abs(latitude) > 90 || Math.abs(longitude) > 180) return { status: 'Error: the location server answered a malformed position' };
  // ISO 8601 from the server; without one, the position is as old as the answer.
  const stamped = typeof current.timestamp === 'string' ? Date.parse(current.timestamp) : now;
  const at = Number.isFinite(stamped) ? Math.min(stamped, now) : now;
  if (Number.isFinite(stamped) && stamped > now + FUTURE_SKEW_MS) return { status: 'Error: the location server answered a position from the future' };
  return { status, position: { latitude, longitude, at } };
}

/** The location query of a policy, or undefined when the policy asks nothing of the network. */
function queryUrl(services: CseServices, policy: StoredResource): string | undefined {
  const server = services.config.location.server;
  if (server === '' || typeof policy.doc.lot !== 'string') return undefined;
  const url = new URL(`${server.replace(/\/+$/, '')}/queries/location`);
  url.searchParams.set('address', policy.doc.lot);
  url.searchParams.set('requestedAccuracy', String(REQUESTED_ACCURACY_M));
  // retrieveLastKnownLocation: a last known position will do, up to the age the CSE trusts at all (NetAPI maximumAge, s).
  if (policy.doc.rlkl === true) url.searchParams.set('maximumAge', String(services.config.location.maxAge));
  return url.href;
}

/** The work a background write of location data does in place of a request: as the policy's creator, events recorded. */
function writeContext(services: CseServices, tx: ResourceStore, policy: StoredResource, now: number): LocationWriteContext {
  const creator = typeof policy.doc[CREATOR_KEY] === 'string' ? policy.doc[CREATOR_KEY] : services.config.security.admin;
  return {
    store: tx,
    now,
    originator: creator,
    recordChildCreated: async (parent, child) => {
      await recordEvent(tx, eventContext(services, now), parent, { type: EVENT.CREATE_CHILD, resource: child, operation: OPERATION.CREATE, originator: creator });
    },
  };
}

/** The durable timer of locationUpdatePeriod: the next period's timer, and this period's positioning. */
export const locationUpdateTimer: TimerHandler = async (tx, services, policy) => {
  if (policy?.ty !== RESOURCE_TYPE.locationPolicy) return; // deleted: its timer ends here
  const period = activeUpdatePeriod(policy);
  if (period === undefined) return; // set to 0 or removed since
  const now = services.clock.now();
  await setTimer(tx, LOCATION_UPDATE_TIMER, policy.ri, now + period, null, now);
  if (policy.doc.los === LOCATION_SOURCE.NETWORK) await requestLocation({ store: tx, now }, policy);
  else if (policy.doc.los === LOCATION_SOURCE.DEVICE) await evaluateLatestReport(writeContext(services, tx, policy, now), policy);
};

/** Whether the admin wrote the policy under an AE: then its positions are that AE's location for aclr. */
function vouchedFor(services: CseServices, policy: StoredResource, parent: StoredResource | undefined): parent is StoredResource {
  return parent?.ty === RESOURCE_TYPE.AE && policy.doc[CREATOR_KEY] === services.config.security.admin;
}

/** Asks the location server for a network-based policy's terminal; undefined when the policy asks nothing. */
async function askServer(services: CseServices, policy: StoredResource | undefined): Promise<ServerAnswer | undefined> {
  const url = policy?.ty === RESOURCE_TYPE.locationPolicy && policy.doc.los === LOCATION_SOURCE.NETWORK ? queryUrl(services, policy) : undefined;
  if (!url || !policy) return undefined;
  const reply = await services.outbound.getJson(url, services.config.location.timeout * 1000);
  let answer: ServerAnswer;
  if (reply === undefined) answer = { status: 'Error: the location server could not be reached' };
  else if ('refused' in reply) answer = { status: `Error: the outbound destination policy refused the location server (${reply.refused})` };
  else if (reply.status < 200 || reply.status >= 300) answer = { status: `Error: the location server answered HTTP ${reply.status}` };
  else answer = readAnswer(reply.body, String(policy.doc.lot), services.clock.now());
  if (!answer.position) services.log.warn({ event: 'location-not-retrieved', policy: policy.ri, server: redactUrl(services.config.location.server), status: answer.status }, 'network location not retrieved');
  return answer;
}

/**
 * Takes an answer in, in the caller's transaction: locationStatus, the position fix or geofence event in the
 * policy's container, and the located AE's trusted location (set from a position, removed when the request failed:
 * unknown fails closed).
 */
async function keepAnswer(services: CseServices, tx: ResourceStore, ri: string, lot: unknown, answer: ServerAnswer, now: number): Promise<void> {
  const current = await tx.getForUpdate(ri);
  if (current?.ty !== RESOURCE_TYPE.locationPolicy || current.doc.los !== LOCATION_SOURCE.NETWORK || current.doc.lot !== lot) return;
  const parent = await tx.getForUpdate(current.pi);
  current.doc.lost = answer.status;
  await tx.update(current);
  const container = typeof current.doc.loi === 'string' ? await tx.getForUpdate(current.doc.loi) : undefined;
  const position = answer.position;
  if (position && container?.ty === RESOURCE_TYPE.container) {
    const ctx = writeContext(services, tx, current, now);
    const point: [number, number] = [position.longitude, position.latitude];
    // Position fix: the position as a GeoJSON Point (as devices report theirs); geofence: only the event.
    if (current.doc.lit === LOCATION_INFORMATION.GEOFENCE_EVENT) await evaluateFence(ctx, container, current, point);
    else await storeLocationInstance(ctx, container, current, JSON.stringify({ type: 'Point', coordinates: point }));
    await tx.update(container);
  }
  if (vouchedFor(services, current, parent)) {
    const previous = parent.doc[TRUSTED_LOCATION_KEY] as TrustedLocation | undefined;
    if (position) {
      const trusted: TrustedLocation = { latitude: position.latitude, longitude: position.longitude, at: position.at, policy: current.ri };
      parent.doc[TRUSTED_LOCATION_KEY] = trusted;
      await tx.update(parent);
    } else if (previous?.policy === current.ri) {
      delete parent.doc[TRUSTED_LOCATION_KEY];
      await tx.update(parent);
    }
  }
}

/** The outbox job of a network-based policy: one location request (outside any transaction), its answer kept with the job's removal. */
export async function runLocationJob(services: CseServices, message: OutboxMessage, owner: string): Promise<void> {
  const ri = message.target.slice(LOCATION_JOB_PREFIX.length);
  const policy = await services.store.get(ri);
  const answer = await askServer(services, policy);
  const now = services.clock.now();
  await services.store.transaction(async (tx) => {
    if (!(await tx.dequeueLeased(message.id, owner))) return;
    if (answer) await keepAnswer(services, tx, ri, policy?.doc.lot, answer, now);
  });
}

/** Readers of one policy's <latest> at once share one location request (per process). */
const positioning = new Map<string, Promise<void>>();

/**
 * A RETRIEVE of <latest> of a location container: when its policy is network-based without a locationUpdatePeriod,
 * "location information is updated only when a retrieval request to the <latest> child resource [...] is detected"
 * (TS-0001 table 9.6.10-2, §10.2.9.7): the server is asked first, and the reader gets the position it answered. The
 * reader waits at most location.timeout; concurrent readers share one request.
 */
export async function positionBeforeLatest(services: CseServices, container: StoredResource): Promise<void> {
  const ri = container.doc.li;
  if (typeof ri !== 'string' || services.config.location.server === '') return;
  const pending = positioning.get(ri);
  if (pending) return pending;
  const run = (async () => {
    const policy = await services.store.get(ri);
    if (policy?.ty !== RESOURCE_TYPE.locationPolicy || policy.doc.los !== LOCATION_SOURCE.NETWORK || activeUpdatePeriod(policy) !== undefined) return;
    const answer = await askServer(services, policy);
    if (answer) await services.store.transaction((tx) => keepAnswer(services, tx, ri, policy.doc.lot, answer, services.clock.now()));
  })().finally(() => positioning.delete(ri));
  positioning.set(ri, run);
  return run;
}

/**
 * rq_loc of an originator for accessControlLocationRegion: the position the network last gave for its AE, while a
 * policy the admin wrote under that AE still vouches for it and it is younger than location.maxAge. Undefined
 * (unknown, so the rule does not admit) otherwise: another CSE's originators, CSEs, AEs no such policy locates.
 */
export async function trustedLocationOf(services: CseServices, originator: readonly string[], now: number): Promise<{ latitude: number; longitude: number } | undefined> {
  const { self, store, config } = services;
  if (config.location.server === '') return undefined;
  const aeId = originator.length === 3 && originator[0] === self.spId && originator[1] === self.cseId ? originator[2] : originator.length === 2 && originator[0] === self.spId ? originator[1] : undefined;
  if (aeId === undefined || aeId === '') return undefined;
  const ae = await store.get(aeId);
  const trusted = ae?.ty === RESOURCE_TYPE.AE ? (ae.doc[TRUSTED_LOCATION_KEY] as TrustedLocation | undefined) : undefined;
  if (!ae || !trusted || !finite(trusted.latitude) || !finite(trusted.longitude) || !finite(trusted.at)) return undefined;
  if (now - trusted.at > config.location.maxAge * 1000 || trusted.at > now + FUTURE_SKEW_MS) return undefined;
  const policy = await store.get(trusted.policy);
  if (policy?.ty !== RESOURCE_TYPE.locationPolicy || policy.doc.los !== LOCATION_SOURCE.NETWORK || policy.pi !== ae.ri || !vouchedFor(services, policy, ae)) return undefined;
  if (policy.et !== undefined && policy.et <= now) return undefined;
  return { latitude: trusted.latitude, longitude: trusted.longitude };
}

