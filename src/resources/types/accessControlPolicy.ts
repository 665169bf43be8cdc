// <accessControlPolicy> (ty 1, TS-0001 §9.6.2): privileges for the resources that link it, and
// selfPrivileges for itself. The language lives in security/acp.ts; this file validates on write.
import { EXPIRATION, LABELS, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributeSpec } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { badRequest } from '../../primitive/errors.js';
import { compileRules, PolicyFormatError } from '../../security/acp.js';
import type { LocalIdentity } from '../../primitive/identifiers.js';
import { announceAttributes } from '../announceable.js';

const attributes = {
  ...UNIVERSAL,
  ...announceAttributes(RESOURCE_TYPE.accessControlPolicy),
  ...EXPIRATION,
  ...LABELS,
  pv: { type: 'object', create: 'M', update: 'O' },
  pvs: { type: 'object', create: 'M', update: 'O' },
} as const satisfies Record<string, AttributeSpec>;

/**
 * Rejects a malformed policy with 4000 naming the element, before it can ever reach evaluation. `written`: the rule
 * sets the request writes; one it leaves as stored is checked as stored (a policy written before the bound on
 * conditions may still have its labels or expiration changed).
 */
function checkPolicy(doc: Record<string, unknown>, self: LocalIdentity, written: { pv: boolean; pvs: boolean } = { pv: true, pvs: true }): void {
  try {
    if (doc.pv !== undefined) compileRules(doc.pv, 'pv', self, 0, !written.pv);
    // selfPrivileges needs at least one rule, on CREATE and after any UPDATE [TS-0004 §7.4.2.2].
    if (doc.pvs !== undefined) compileRules(doc.pvs, 'pvs', self, 1, !written.pvs);
  } catch (err) {
    if (err instanceof PolicyFormatError) throw badRequest(`invalid accessControlPolicy: ${err.message}`);
    throw err;
  }
}

export const accessControlPolicyType = defineResourceType({
  ty: RESOURCE_TYPE.accessControlPolicy,
  typeName: 'm2m:acp',
  attributes,
  childTypes: [RESOURCE_TYPE.subscription],
  creatable: true,
  updatable: true,
  deletable: true,
  hasAcpi: false,
  hooks: {
    beforeCreate(ctx, resource) {
      checkPolicy(resource.doc, ctx.self);
    },
    beforeUpdate(ctx, resource, changes) {
      if (changes.pvs === null) throw badRequest('invalid accessControlPolicy: pvs cannot be removed');
      if (changes.pv === null) throw badRequest('invalid accessControlPolicy: pv cannot be removed');
      checkPolicy(resource.doc, ctx.self, { pv: 'pv' in changes, pvs: 'pvs' in changes });
    },
  },
});
