// <notificationTargetMgmtPolicyRef> (ty 25, TS-0001 §9.6.31, TS-0004 §7.4.30): under a <subscription>, which
// <notificationTargetPolicy> (npi) decides the removal of which of its Notification Targets (ntu).
import { ACCESS_CONTROL, EXPIRATION, LABELS, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributeSpec, type HookContext } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { CseError } from '../../primitive/errors.js';
import { RSC } from '../../primitive/rsc.js';
import type { StoredResource } from '../../storage/store.js';
import { SUBSCRIPTION_LIMITS } from './subscription.js';

/** References one subscription may hold: one per target at most is useful (they may not overlap). */
const MAX_REFERENCES_PER_SUBSCRIPTION = SUBSCRIPTION_LIMITS.targets * 4;

function checkTargetList(value: unknown): string | undefined {
  if (!Array.isArray(value) || value.length === 0) return 'must list at least one notification target';
  if (value.length > SUBSCRIPTION_LIMITS.targets) return `may list at most ${SUBSCRIPTION_LIMITS.targets} targets, as a subscription may`;
  if (value.some((t) => typeof t !== 'string' || t.length === 0 || t.length > 2048)) return 'must be a list of URIs';
  return undefined;
}

const attributes = {
  ...UNIVERSAL,
  ...EXPIRATION,
  ...LABELS,
  ...ACCESS_CONTROL,
  ntu: { type: 'anyURIList', create: 'M', update: 'O', check: checkTargetList },
  npi: { type: 'anyURI', create: 'O', update: 'O', maxLength: 2048 },
} as const satisfies Record<string, AttributeSpec>;

/**
 * "If any Notification Target in the notificationTargetURI ... already exists in other
 * <notificationTargetMgmtPolicyRef> resources which are the children of the targeted <subscription> resource
 * ... CONFLICT" [TS-0004 §7.4.30.2.1]; an UPDATE is held to it too (as ACME does), or it could make the overlap.
 */
async function checkNoOverlap(ctx: HookContext, reference: StoredResource, subscriptionRi: string): Promise<void> {
  const mine = new Set((reference.doc.ntu as string[] | undefined) ?? []);
  const siblings = await ctx.store.children(subscriptionRi, { ty: RESOURCE_TYPE.notificationTargetMgmtPolicyRef, aliveAt: ctx.now, limit: MAX_REFERENCES_PER_SUBSCRIPTION });
  for (const other of siblings) {
    if (other.ri === reference.ri) continue;
    const shared = ((other.doc.ntu as string[] | undefined) ?? []).find((target) => mine.has(target));
    if (shared !== undefined) throw new CseError(RSC.CONFLICT, `notification target '${shared}' already has a notificationTargetMgmtPolicyRef ('${other.rn}')`);
  }
}

export const notificationTargetMgmtPolicyRefType = defineResourceType({
  ty: RESOURCE_TYPE.notificationTargetMgmtPolicyRef,
  typeName: 'm2m:ntpr',
  attributes,
  childTypes: [RESOURCE_TYPE.subscription],
  creatable: true,
  updatable: true,
  deletable: true,
  hasAcpi: true,
  hooks: {
    async beforeCreate(ctx, resource, parent) {
      // The subscription's row is locked by the creating transaction (operations/create.ts).
      if ((await ctx.store.count(parent.ri, RESOURCE_TYPE.notificationTargetMgmtPolicyRef)) >= MAX_REFERENCES_PER_SUBSCRIPTION) {
        throw new CseError(RSC.NOT_ACCEPTABLE, `a subscription holds at most ${MAX_REFERENCES_PER_SUBSCRIPTION} notificationTargetMgmtPolicyRefs`);
      }
      await checkNoOverlap(ctx, resource, parent.ri);
    },
    async beforeUpdate(ctx, resource, changes) {
      if (changes.ntu === undefined) return;
      if (changes.ntu === null) throw new CseError(RSC.BAD_REQUEST, "attribute 'ntu' is mandatory and cannot be removed");
      // Locked as a CREATE locks it, so two writes cannot both take one target.
      await ctx.store.getForUpdate(resource.pi);
      await checkNoOverlap(ctx, resource, resource.pi);
    },
  },
});
