// accessControlPolicyIDs must name policies that exist on this CSE; they are stored as resource IDs, so
// that the decision finds them whichever ID form the request used.
import { badRequest } from '../primitive/errors.js';
import type { LocalIdentity } from '../primitive/identifiers.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import type { ResourceStore } from '../storage/store.js';

export async function resolvePolicyLinks(store: ResourceStore, self: LocalIdentity, acpi: unknown): Promise<string[] | undefined> {
  if (!Array.isArray(acpi)) return undefined;
  const out: string[] = [];
  for (const entry of acpi as string[]) {
    let id = entry;
    if (id.startsWith(`//${self.spId}/${self.cseId}/`)) id = id.slice(self.spId.length + self.cseId.length + 4);
    else if (id.startsWith(`/${self.cseId}/`)) id = id.slice(self.cseId.length + 2);
    const policy = id.startsWith(`${self.cseRn}/`) ? await store.getByPath(id) : await store.get(id);
    if (policy?.ty !== RESOURCE_TYPE.accessControlPolicy) throw badRequest(`acpi entry '${entry}' is not an accessControlPolicy of this CSE`);
    if (!out.includes(policy.ri)) out.push(policy.ri);
  }
  return out;
}
