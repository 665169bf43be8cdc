// Which of a subscription's Notification Targets an originator is: the only ones it may remove through the
// subscription's notificationTargetSelfReference [TS-0001 §9.6.34] (security/authorize.ts asks, and
// targetRemoval.ts removes exactly these).
import type { LocalIdentity } from '../primitive/identifiers.js';
import { absoluteSegments } from '../security/originators.js';
import type { ResourceStore, StoredResource } from '../storage/store.js';
import { resolveTarget, sameRegistration } from './events.js';

const URL_SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/**
 * The notificationURI entries of `sub` that name `originator`: its AE (by AE-ID, resource ID or path, and only the
 * registration the subscription named, not a later holder of the AE-ID), or its ID as written. A URL names no
 * originator: whoever answers at an address has not shown it is the one the subscription meant, so such a target
 * cannot remove itself this way.
 */
export async function entriesNaming(store: ResourceStore, self: LocalIdentity, sub: StoredResource, originator: string): Promise<string[]> {
  if (originator === '') return [];
  const nu = Array.isArray(sub.doc.nu) ? (sub.doc.nu as unknown[]).filter((e): e is string => typeof e === 'string') : [];
  const localId = originator.startsWith(`/${self.cseId}/`) ? originator.slice(self.cseId.length + 2) : originator;
  const absolute = absoluteSegments(originator, self).join('/');
  const naming: string[] = [];
  for (const entry of nu) {
    if (URL_SCHEME.test(entry)) continue;
    const { ae } = await resolveTarget(store, self, entry);
    if (ae) {
      if (ae.ri === localId && sameRegistration(sub, ae)) naming.push(entry);
    } else if (absoluteSegments(entry, self).join('/') === absolute) naming.push(entry);
  }
  return naming;
}
