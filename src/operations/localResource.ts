// A resource of this CSE named by an address in any ID form (as resources and peers name each other: related
// semantics, addresses an IPE offers, an AE's nodeLink); undefined when it is elsewhere, virtual, unknown or expired.
import { parseTarget, type LocalIdentity } from '../primitive/identifiers.js';
import type { CseServices } from '../pipeline/context.js';
import type { ResourceStore, StoredResource } from '../storage/store.js';

export async function localResource(services: CseServices, address: string): Promise<StoredResource | undefined> {
  return localResourceIn(services.store, services.self, services.clock.now(), address);
}

/** The same, read through a given store (a transaction's). */
export async function localResourceIn(store: ResourceStore, self: LocalIdentity, now: number, address: string): Promise<StoredResource | undefined> {
  try {
    const target = parseTarget(address, self);
    if (target.kind !== 'local' || target.virtual) return undefined;
    const resource = target.structured ? await store.getByPath(target.segments.join('/')) : await store.get(target.segments[0] as string);
    return resource && (resource.et === undefined || resource.et > now) ? resource : undefined;
  } catch {
    return undefined;
  }
}
