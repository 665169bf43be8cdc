// Removing a subtree, shared by DELETE and the expiry sweep: the parent's hooks keep counters right and the
// access decider drops what it cached about deleted policies and groups.
import type { CseServices } from '../pipeline/context.js';
import type { RequestPrimitive } from '../primitive/request.js';
import type { StoredResource } from '../storage/store.js';

export async function deleteWithBookkeeping(
  services: CseServices,
  ri: string,
  now: number,
  originator: string,
  request: RequestPrimitive,
): Promise<StoredResource | undefined> {
  const { store, registry, config, self, access } = services;
  const removed = await store.transaction(async (tx) => {
    const deleted = await tx.deleteSubtree(ri);
    const root = deleted[0];
    if (!root) return deleted;
    const parent = await tx.getForUpdate(root.pi);
    if (parent) {
      const hooks = { store: tx, now, config, self, originator, request };
      await registry.get(parent.ty)?.hooks.afterChildRemoved?.(hooks, parent, root);
    }
    return deleted;
  });
  for (const r of removed) await access.invalidate(r);
  return removed[0];
}
