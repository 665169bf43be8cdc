// Removing a subtree, shared by DELETE and the expiry sweep: the parent's hooks keep counters right and the
// access decider drops what it cached about deleted policies and groups.
import type { CseServices } from '../pipeline/context.js';
import type { RequestPrimitive } from '../primitive/request.js';
import type { StoredResource } from '../storage/store.js';
import { RESOURCE_TYPE } from '../resources/types.js';

export async function deleteWithBookkeeping(
  services: CseServices,
  ri: string,
  now: number,
  originator: string,
  request: RequestPrimitive,
): Promise<StoredResource | undefined> {
  const { store, registry, config, self, access } = services;
  const deleted = await store.transaction(async (tx) => {
    const subtree = await tx.deleteSubtree(ri);
    if (!subtree) return undefined;
    const root = subtree.root;
    const parent = await tx.getForUpdate(root.pi);
    if (parent) {
      const hooks = { store: tx, now, config, self, originator, request };
      await registry.get(parent.ty)?.hooks.afterChildRemoved?.(hooks, parent, root);
    }
    return subtree;
  });
  for (const r of deleted?.removed ?? []) {
    await access.invalidate(r);
    if (r.ty === RESOURCE_TYPE.AE) await services.registrations.deregistered(r.ri);
  }
  return deleted?.root;
}
