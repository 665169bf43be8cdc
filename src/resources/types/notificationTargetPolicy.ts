// <notificationTargetPolicy> (ty 26, TS-0001 §9.6.32, TS-0004 §7.4.31): what the CSE does when a Notification
// Target asks to be removed from a subscription (notifications/targetRemoval.ts): the action, applied when its
// <policyDeletionRules> children hold. The CSE keeps a system default one (resources/bootstrap.ts).
import { ACCESS_CONTROL, CREATOR, CREATOR_KEY, EXPIRATION, LABELS, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributeSpec, type HookContext } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { CseError, badRequest } from '../../primitive/errors.js';
import { RSC } from '../../primitive/rsc.js';
import type { StoredResource } from '../../storage/store.js';

/** m2m:notificationTargetPolicyAction [TS-0004 §6.3.4.2.32]. */
export const TARGET_POLICY_ACTION = { ACCEPT: 1, REJECT: 2, SEEK_AUTHORIZATION: 3, INFORM: 4 } as const;
/** m2m:logicalOperator [TS-0004 §6.3.4.2.33]. */
export const LOGICAL_OPERATOR = { AND: 1, OR: 2 } as const;

/** The label of the policy that applies when none names the target [TS-0001 §9.6.32: 'The policyLabel "Default" shall be used']. */
export const DEFAULT_POLICY_LABEL = 'Default';
/** Resource ID and name of the system default policy the CSE creates (as ACME names it). */
export const SYSTEM_DEFAULT_POLICY_ID = 'defaultNTP';
/**
 * Policies a CSE holds in all: creating one and choosing the default of a subscription's creator read them, so
 * their number is bounded (more are refused with 5207, as subscriptions beyond their bound are).
 */
export const MAX_TARGET_POLICIES = 10_000;
/** Policies one creator may hold: any registered AE may create them (security/authorize.ts), so no one takes all. */
export const MAX_TARGET_POLICIES_PER_CREATOR = 32;

const XS_TOKEN = /^[^\t\n\r ](?:[^\t\n\r ]| (?! ))*(?<! )$/u;

const attributes = {
  ...UNIVERSAL,
  ...EXPIRATION,
  ...LABELS,
  ...ACCESS_CONTROL,
  ...CREATOR,
  // action: multiplicity 1 [TS-0001 table 9.6.32-2] and not updatable [TS-0004 table 7.4.31.1-3].
  acn: { type: 'enum', create: 'M', update: 'NP', values: Object.values(TARGET_POLICY_ACTION) },
  // policyLabel: multiplicity 1 [TS-0001 table 9.6.32-2], an xs:token.
  plbl: { type: 'string', create: 'M', update: 'O', maxLength: 256, check: (v) => (typeof v === 'string' && XS_TOKEN.test(v) ? undefined : 'must be a non-empty token') },
  rrs: { type: 'enum', create: 'O', update: 'O', values: Object.values(LOGICAL_OPERATOR) },
} as const satisfies Record<string, AttributeSpec>;

/** Who made a policy: the originator that created it (its creator attribute, where asked for, says the same). */
export function policyCreator(policy: StoredResource): string | undefined {
  const creator = policy.doc[CREATOR_KEY];
  return typeof creator === 'string' ? creator : undefined;
}

/** The policies of the CSE (children of the CSEBase), as many as it may hold. */
export async function targetPolicies(ctx: Pick<HookContext, 'store' | 'now'>, cseBaseRi: string): Promise<StoredResource[]> {
  return ctx.store.children(cseBaseRi, { ty: RESOURCE_TYPE.notificationTargetPolicy, aliveAt: ctx.now, limit: MAX_TARGET_POLICIES });
}

/**
 * One policy per creator and label: the label is how the removal procedure finds a creator's default
 * [TS-0001 §10.2.10.8], so two would make the choice arbitrary. TS-0004 names no code; ACME answers 4000.
 */
function checkUniqueLabel(policies: readonly StoredResource[], policy: StoredResource): void {
  const creator = policyCreator(policy);
  const clash = policies.find((other) => other.ri !== policy.ri && other.doc.plbl === policy.doc.plbl && policyCreator(other) === creator);
  if (clash) throw badRequest(`the creator already has a notificationTargetPolicy with policyLabel '${String(policy.doc.plbl)}' ('${clash.rn}')`);
}

export const notificationTargetPolicyType = defineResourceType({
  ty: RESOURCE_TYPE.notificationTargetPolicy,
  typeName: 'm2m:ntp',
  attributes,
  childTypes: [RESOURCE_TYPE.policyDeletionRules, RESOURCE_TYPE.subscription],
  creatable: true,
  updatable: true,
  deletable: true,
  hasAcpi: true,
  hooks: {
    async beforeCreate(ctx, resource, parent) {
      // The policies the CSE administrator makes are the system's, not a creator's default: like ACME, such a
      // policy may not carry a creator (the removal procedure would take it for the admin's own default).
      if ('cr' in resource.doc && ctx.originator === ctx.config.security.admin) throw badRequest('a notificationTargetPolicy created by the CSE administrator cannot carry a creator');
      // rulesRelationship must be set when two groups of rules are [TS-0001 table 9.6.32-2]; the spec gives no
      // default for when it is not, ACME writes out AND, and so does Warden.
      resource.doc.rrs ??= LOGICAL_OPERATOR.AND;
      // The CSEBase row is locked by the creating transaction (operations/create.ts): no concurrent twin.
      if ((await ctx.store.count(parent.ri, RESOURCE_TYPE.notificationTargetPolicy)) >= MAX_TARGET_POLICIES) {
        throw new CseError(RSC.NOT_ACCEPTABLE, `the CSE already holds ${MAX_TARGET_POLICIES} notificationTargetPolicies, the most it may hold`);
      }
      const policies = await targetPolicies(ctx, parent.ri);
      checkUniqueLabel(policies, resource);
      const creator = policyCreator(resource);
      if (policies.filter((p) => policyCreator(p) === creator).length >= MAX_TARGET_POLICIES_PER_CREATOR) {
        throw new CseError(RSC.NOT_ACCEPTABLE, `the creator already holds ${MAX_TARGET_POLICIES_PER_CREATOR} notificationTargetPolicies, the most one may hold`);
      }
    },
    async beforeUpdate(ctx, resource, changes) {
      if (changes.plbl === undefined) return;
      if (changes.plbl === null) throw badRequest("attribute 'plbl' is mandatory and cannot be removed");
      // Locks the CSEBase as a CREATE does, so an UPDATE and a CREATE cannot both take one label.
      const parent = await ctx.store.getForUpdate(resource.pi);
      checkUniqueLabel(await targetPolicies(ctx, parent?.ri ?? resource.pi), resource);
    },
    refuseDeletion(resource) {
      // The system default applies whenever no other policy does [TS-0001 §9.6.31]; ACME answers 4000.
      return resource.ri === SYSTEM_DEFAULT_POLICY_ID ? 'the system default notificationTargetPolicy cannot be deleted' : undefined;
    },
  },
});
