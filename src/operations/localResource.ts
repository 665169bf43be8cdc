// A resource of this CSE named by an address in any ID form (as resources and peers name each other: related
// semantics, addresses an IPE offers); undefined when it is elsewhere, virtual, unknown or expired.
import { parseTarget } from '../primitive/identifiers.js';
import type { CseServices } from '../pipeline/context.js';
import type { StoredResource } from '../storage/store.js';

export async function localResource(services: CseServices, address: string): Promise<StoredResource | undefined> {
  const { store, self, clock } = services;
  try {
    const target = parseTarget(address, self);
    if (target.kind !== 'local' || target.virtual) return undefined;
    const resource = target.structured ? await store.getByPath(target.segments.join('/')) : await store.get(target.segments[0] as string);
    return resource && (resource.et === undefined || resource.et > clock.now()) ? resource : undefined;
  } catch {
    return undefined;
  }
}
