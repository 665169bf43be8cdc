// Verification of notification targets at subscription CREATE/UPDATE [TS-0004 §7.4.8.2.1, §7.5.1.2.3].
// TS-0001 sends it only to targets in resource-ID form; like ACME (which interoperability suites are built
// against) Warden also verifies URL targets, so a subscription never points at a receiver that refuses it.
// Warden verifies subscriberURI (the deletion notification's target) and notificationForwardingURI (the
// target of a group's aggregated notifications) the same way: both are targets the CSE will send to on the
// subscriber's word, and TS-0001 verifies neither.
import { CseError } from '../primitive/errors.js';
import { RSC } from '../primitive/rsc.js';
import { randomIdSuffix } from '../primitive/identifiers.js';
import type { CseServices } from '../pipeline/context.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { canonicalUrl, targetKey, urlsOfTarget } from './events.js';

/**
 * The targets a CREATE or UPDATE of a subscription would make the CSE send to that it does not send to yet
 * (nu, su, nfu), each once; `before` is the subscription as stored (UPDATE).
 */
export function targetsToVerify(content: Readonly<Record<string, unknown>>, before?: Readonly<Record<string, unknown>>): string[] {
  const listed = (doc: Readonly<Record<string, unknown>> | undefined): string[] => {
    if (!doc) return [];
    const nu = Array.isArray(doc.nu) ? doc.nu.filter((t): t is string => typeof t === 'string') : [];
    return [...nu, ...[doc.su, doc.nfu].filter((t): t is string => typeof t === 'string')];
  };
  const known = new Set(listed(before));
  return [...new Set(listed(content))].filter((t) => !known.has(t));
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

export async function verifyTargets(
  services: CseServices,
  targets: readonly string[],
  originator: string,
  subscriptionUri: string,
  subscriberUri?: string,
): Promise<void> {
  const { store, self } = services;
  let own: ReadonlySet<string> | undefined;
  for (const target of targets) {
    const key = await targetKey(store, self, target);
    // Not the subscriber itself (its own AE, its own polling channel, or a su that is one of its own points of access).
    if (key === `ae:${originator}` || key === `pch:${originator}` || target === originator) continue;
    if (target === subscriberUri && /^[a-z][a-z0-9+.-]*:\/\//i.test(key) && (own ??= await ownPointsOfAccess(services, originator)).has(key)) continue;
    // Another AE's polling channel cannot answer a verification until that AE polls: never accept it
    // unverified, or anyone could push notifications into another AE's channel.
    if (key.startsWith('pch:')) {
      throw new CseError(RSC.SUBSCRIPTION_VERIFICATION_INITIATION_FAILED, `notification target '${target}' is only reachable by polling and cannot be verified`);
    }
    const urls = await urlsOfTarget(store, key);
    if (urls.length === 0) throw new CseError(RSC.SUBSCRIPTION_VERIFICATION_INITIATION_FAILED, `notification target '${target}' cannot be reached`);
    let verified = false;
    let refused = true;
    for (const url of urls) {
      const result = await services.outbound.send(url, {
        op: 5,
        to: target,
        fr: `/${self.cseId}`,
        rqi: `vrq-${randomIdSuffix()}`,
        rvi: '3',
        pc: { 'm2m:sgn': { vrq: true, sur: subscriptionUri, cr: originator } },
      });
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
}
