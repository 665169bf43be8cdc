// accessControlPolicyIDs must name policies that exist on this CSE; they are stored as resource IDs, so
// that the decision finds them whichever ID form the request used.
import { badRequest } from '../primitive/errors.js';
import type { LocalIdentity } from '../primitive/identifiers.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { ANNOUNCEABLE, cseIdOfAddress } from '../resources/announceable.js';
import type { ResourceStore } from '../storage/store.js';

const ANNOUNCED_POLICY = ANNOUNCEABLE[RESOURCE_TYPE.accessControlPolicy]?.annc;

/**
 * `announcedBy`: the resource is an announced one, announced by that CSE; its acpi may also name the announced
 * policies (<accessControlPolicyAnnc>) that CSE announced here [TS-0001 §9.6.26.1: acpi of an announced resource
 * lists policies announced by the original's Hosting CSE] — and no other CSE's, so that no CSE governs another's.
 */
export async function resolvePolicyLinks(store: ResourceStore, self: LocalIdentity, acpi: unknown, announcedBy?: string): Promise<string[] | undefined> {
  if (!Array.isArray(acpi)) return undefined;
  const out: string[] = [];
  for (const entry of acpi as string[]) {
    let id = entry;
    if (id.startsWith(`//${self.spId}/${self.cseId}/`)) id = id.slice(self.spId.length + self.cseId.length + 4);
    else if (id.startsWith(`/${self.cseId}/`)) id = id.slice(self.cseId.length + 2);
    const policy = id.startsWith(`${self.cseRn}/`) ? await store.getByPath(id) : await store.get(id);
    const announcedPolicy = announcedBy !== undefined && policy?.ty === ANNOUNCED_POLICY && cseIdOfAddress(policy?.doc.lnk, self.spId) === announcedBy;
    if (policy?.ty !== RESOURCE_TYPE.accessControlPolicy && !announcedPolicy) throw badRequest(`acpi entry '${entry}' is not an accessControlPolicy of this CSE`);
    if (policy && !out.includes(policy.ri)) out.push(policy.ri);
  }
  return out;
}
