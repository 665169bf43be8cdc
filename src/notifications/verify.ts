// Verification of notification targets at subscription CREATE/UPDATE [TS-0004 §7.4.8.2.1, §7.5.1.2.3].
// TS-0001 sends it only to targets in resource-ID form; like ACME (which interoperability suites are built
// against) Warden also verifies URL targets, so a subscription never points at a receiver that refuses it.
// Warden verifies subscriberURI (the deletion notification's target) and notificationForwardingURI (the
// target of a group's aggregated notifications) the same way: both are targets the CSE will send to on the
// subscriber's word, and TS-0001 verifies neither.
import { CseError } from '../primitive/errors.js';
import { RSC } from '../primitive/rsc.js';
import { randomIdSuffix } from '../primitive/identifiers.js';
import { OPERATION, type RequestPrimitive } from '../primitive/request.js';
import type { CseServices, RequestContext } from '../pipeline/context.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { CRS_TARGET_PREFIX, canonicalUrl, resolveTarget, urlsOfTarget } from './events.js';
import { hasPollingChannel, requestExpiry, requestThroughChannel } from './polling.js';
import { MIN_ATTEMPT_MS, targetDeadline } from './deliver.js';
import { ACCESS_OPERATION } from '../security/acp.js';

/** The strings a list attribute of a document holds. */
function stringsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((t): t is string => typeof t === 'string') : [];
}

/** The targets `listed` finds in `content` that it does not find in `before` (the resource as stored), each once. */
function added(listed: (doc: Readonly<Record<string, unknown>>) => string[], content: Readonly<Record<string, unknown>>, before?: Readonly<Record<string, unknown>>): string[] {
  const known = new Set(before ? listed(before) : []);
  return [...new Set(listed(content))].filter((t) => !known.has(t));
}

/**
 * The targets a CREATE or UPDATE of a subscription would make the CSE send to that it does not send to yet
 * (nu, su, nfu), each once; `before` is the subscription as stored (UPDATE).
 */
export function targetsToVerify(content: Readonly<Record<string, unknown>>, before?: Readonly<Record<string, unknown>>): string[] {
  return added((doc) => [...stringsOf(doc.nu), ...[doc.su, doc.nfu].filter((t): t is string => typeof t === 'string')], content, before);
}

/**
 * The beaconNotificationURIs a CREATE or UPDATE of a <timeSyncBeacon> would add (`before`: the beacon as stored).
 * Beacons go to them on the creator's word as notifications go to nu, so they are verified the same way [Warden
 * policy: TS-0001 has no <timeSyncBeacon>; without it any AE could have beacons sent to any receiver, or queued in
 * another AE's polling channel].
 */
export function beaconTargetsToVerify(content: Readonly<Record<string, unknown>>, before?: Readonly<Record<string, unknown>>): string[] {
  return added((doc) => stringsOf(doc.bcnu), content, before);
}

/** What verification takes of the request that names the targets: its authentication and its expiry. */
export function verificationOptions(ctx: RequestContext): VerificationOptions {
  return { authenticated: ctx.originator?.authenticated === true, deadline: requestExpiry(ctx) };
}

/**
 * The subscriber's own points of access, as queue keys. A subscriberURI among them names the subscriber itself, as
 * its AE-ID would, so it needs no verification request (ACME sends none for su); the outbound policy still decides
 * when the deletion notification is sent. nu URLs are verified whatever they are, as before.
 */
async function ownPointsOfAccess(services: CseServices, originator: string): Promise<ReadonlySet<string>> {
  const ae = /^[CS]/.test(originator) ? await services.store.get(originator) : undefined;
  if (ae?.ty !== RESOURCE_TYPE.AE || !Array.isArray(ae.doc.poa)) return new Set();
  return new Set(ae.doc.poa.filter((p): p is string => typeof p === 'string').map(canonicalUrl));
}

/**
 * The subscriberURI that may go unverified when it is the subscriber's own point of access: not when the same
 * URI is also a notification target, which is verified whatever it is (the community suite expects that request).
 */
export function unverifiedSubscriberUri(content: Readonly<Record<string, unknown>>): string | undefined {
  const su = content.su;
  if (typeof su !== 'string') return undefined;
  return Array.isArray(content.nu) && content.nu.includes(su) ? undefined : su;
}

/** What verification needs to know of the request that names the targets. */
export interface VerificationOptions {
  /** The subscriber's request was authenticated (rq_authn): what access control sees of it. */
  readonly authenticated?: boolean;
  /** When the request expires (epoch ms): a verification through a polling channel waits no longer. */
  readonly deadline?: number;
}

/**
 * Verification of a target that is another AE reachable only by polling (rr=false) [TS-0001 §10.2.5.12]: the
 * request is queued on that AE's <pollingChannel> and the AE's answer awaited. Nobody may push into another AE's
 * channel unless that AE's policies grant the subscriber NOTIFY on it (ACME asks the same privilege of a request
 * it sends on somebody's behalf); without it, or without a channel, or without a positive answer in time: 5204.
 */
async function verifyThroughChannel(services: CseServices, aei: string, target: string, originator: string, subscriptionUri: string, options: VerificationOptions): Promise<void> {
  const { store, clock, self, access } = services;
  const fail = (why: string): CseError => new CseError(RSC.SUBSCRIPTION_VERIFICATION_INITIATION_FAILED, `notification target '${target}' ${why}`);
  const ae = await store.get(aei);
  if (ae?.ty !== RESOURCE_TYPE.AE) throw fail('cannot be reached');
  const decision = await access.decide({ originator, authenticated: options.authenticated ?? false, roleIds: [], operation: ACCESS_OPERATION.NOTIFY, resource: ae, ip: '', time: clock.now() });
  if (!decision.granted) throw fail("is only reachable by polling, and its AE's policies do not grant the subscriber NOTIFY on it");
  if (!(await hasPollingChannel(store, aei))) throw fail('is not request reachable and has no polling channel');
  const verification = { op: 5, to: target, fr: `/${self.cseId}`, rvi: '3', pc: { 'm2m:sgn': { vrq: true, sur: subscriptionUri, cr: originator } } };
  const answer = await requestThroughChannel(services, aei, verification, options.deadline ?? Infinity);
  if (!answer) throw fail('did not answer the verification request through its polling channel in time');
  if (answer.rsc !== RSC.OK) throw fail(`did not accept the verification request (it answered ${answer.rsc})`);
}

export async function verifyTargets(
  services: CseServices,
  targets: readonly string[],
  originator: string,
  subscriptionUri: string,
  subscriberUri?: string,
  options: VerificationOptions = {},
): Promise<VerifiedRegistrations> {
  const { store, self } = services;
  const registrations = new Map<string, { ri: string; seq: number }>();
  let own: ReadonlySet<string> | undefined;
  for (const target of targets) {
    // The verification request [TS-0004 §7.5.1.2.1]; each attempt has a request ID of its own.
    const verificationRequest = (): RequestPrimitive => ({
      op: OPERATION.NOTIFY,
      to: target,
      fr: `/${self.cseId}`,
      rqi: `vrq-${randomIdSuffix()}`,
      rvi: '3',
      pc: { 'm2m:sgn': { vrq: true, sur: subscriptionUri, cr: originator } },
    });
    const { key, ae } = await resolveTarget(store, self, target);
    // Not the subscriber itself (its own AE, its own polling channel, or a su that is one of its own points of access).
    if (key === `ae:${originator}` || key === `pch:${originator}` || target === originator) continue;
    // A <crossResourceSubscription> of this CSE accepts the subscriptions made for it [TS-0004 §7.4.58.2.1 Recv-6.5].
    if (key.startsWith(CRS_TARGET_PREFIX)) continue;
    if (target === subscriberUri && /^[a-z][a-z0-9+.-]*:\/\//i.test(key) && (own ??= await ownPointsOfAccess(services, originator)).has(key)) continue;
    // The registration asked, read before it is asked: the one the subscription may be bound to (assertAsked).
    if (ae?.seq !== undefined) registrations.set(target, { ri: ae.ri, seq: ae.seq });
    // Another AE reachable only by polling is verified through its channel, never accepted unverified.
    if (key.startsWith('pch:')) {
      await verifyThroughChannel(services, key.slice(4), target, originator, subscriptionUri, options);
      continue;
    }
    // A target on another CSE (an AE registered there) is asked through the CSE tree (src/remote).
    // The key names the AE itself where the target is an <AEAnnc> standing for it (events.ts resolveTarget).
    if (key.startsWith('id:') && services.remote?.otherCseOf(key.slice(3))) {
      if (key.slice(3) === originator) continue;
      const result = await services.remote.sendToOtherCse(key.slice(3), verificationRequest());
      if (result.rsc !== RSC.OK) throw new CseError(RSC.SUBSCRIPTION_VERIFICATION_INITIATION_FAILED, `notification target '${target}' did not accept the verification request (${result.rsc})`);
      continue;
    }
    const urls = await urlsOfTarget(store, key);
    if (urls.length === 0) throw new CseError(RSC.SUBSCRIPTION_VERIFICATION_INITIATION_FAILED, `notification target '${target}' cannot be reached`);
    let verified = false;
    let refused = true;
    // All its points of access share notifications.timeout, and the request's expiry when sooner (X-M2M-RET).
    const until = targetDeadline(services, options.deadline);
    for (const url of urls) {
      const left = until - Date.now();
      if (left < MIN_ATTEMPT_MS) break;
      const result = await services.outbound.send(url, verificationRequest(), undefined, left);
      if (result.refused === undefined) refused = false;
      if (result.rsc === 5103) continue;
      verified = result.rsc === RSC.OK;
      break;
    }
    // Every point of access refused by the outbound policy. Its reason (what a name resolved to) is logged, not
    // told to the originator.
    if (!verified && refused) throw new CseError(RSC.SUBSCRIPTION_VERIFICATION_INITIATION_FAILED, `notification target '${target}' is a destination the outbound policy refuses`);
    if (!verified) throw new CseError(RSC.SUBSCRIPTION_VERIFICATION_INITIATION_FAILED, `notification target '${target}' did not accept the verification request`);
  }
  return registrations;
}

/** The registration (AE-ID and store seq) each target a verification asked named, by target. */
export type VerifiedRegistrations = ReadonlyMap<string, { readonly ri: string; readonly seq: number }>;

/**
 * In the transaction that binds a subscription's targets to registrations (bindTargets): each AE asked must be the
 * registration bound. An AE-ID deregistered and registered again by someone else while its answer was awaited
 * (the old holder can time its answer) would otherwise be bound without ever having been asked [TS-0001 §10.2.10.4:
 * the target's consent]. `targets`: the targets just bound (all asked ones when omitted). 5204, nothing made or changed.
 */
export function assertAsked(asked: VerifiedRegistrations, bound: Readonly<Record<string, unknown>>, targets?: readonly string[]): void {
  for (const [target, { ri, seq }] of asked) {
    if (targets && !targets.includes(target)) continue;
    if (bound[ri] !== seq) throw new CseError(RSC.SUBSCRIPTION_VERIFICATION_INITIATION_FAILED, `notification target '${ri}' was registered again while it was asked; ask again`);
  }
}
