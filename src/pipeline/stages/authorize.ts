// Stage 7: the privilege decision, made by security/authorize.ts. Deny answers 4103 with a message that
// names the operation and target but never the policy contents.
import { badRequest, noPrivilege } from '../../primitive/errors.js';
import { OPERATION, OPERATION_NAMES, isDiscovery, type Operation } from '../../primitive/request.js';
import { ACCESS_OPERATION, type AccessOperation } from '../../security/acp.js';
import { RESOURCE_TYPE } from '../../resources/types.js';
import type { RequestContext } from '../context.js';
import { originatorMay } from '../access.js';
import type { Stage } from '../pipeline.js';

function accessOperation(op: Operation, ctx: RequestContext): AccessOperation {
  switch (op) {
    case OPERATION.CREATE:
      return ACCESS_OPERATION.CREATE;
    case OPERATION.RETRIEVE:
      // A RETRIEVE with filterUsage discovery needs DISCOVERY [TS-0003 §7.1.3]; through fopt that is what each
      // member carries out. pcu, la and ol perform a RETRIEVE (a poll dequeues) whatever the filterUsage says.
      return isDiscovery(ctx.request.fc) && (!ctx.virtual || ctx.virtual === 'fopt') ? ACCESS_OPERATION.DISCOVERY : ACCESS_OPERATION.RETRIEVE;
    case OPERATION.UPDATE:
      return ACCESS_OPERATION.UPDATE;
    case OPERATION.DELETE:
      return ACCESS_OPERATION.DELETE;
    case OPERATION.NOTIFY:
      return ACCESS_OPERATION.NOTIFY;
  }
}

/** A RETRIEVE with filterUsage discovery (or IPE on-demand discovery) of a resource that is not virtual. */
export function isRealDiscovery(ctx: RequestContext): boolean {
  return ctx.request.op === OPERATION.RETRIEVE && isDiscovery(ctx.request.fc) && ctx.virtual === undefined;
}

/** The attributes a CREATE or UPDATE sends, whatever its type wrapper (the acpi rule, accessControlAttributes). */
function sentAttributes(pc: unknown): string[] {
  if (typeof pc !== 'object' || pc === null) return [];
  const [inner] = Object.values(pc as Record<string, unknown>);
  return typeof inner === 'object' && inner !== null ? Object.keys(inner) : [];
}

export const authorize: Stage = {
  name: 'authorize',
  async run(ctx) {
    const resource = ctx.resource;
    const originator = ctx.originator;
    if (!resource || !originator) throw new Error('authorize runs after resolveTarget and authenticate');
    const r = ctx.request;
    // AE registration is not an ACP decision [TS-0004 §7.3.2.7]; the AE hook applies the AE-ID rules.
    if (r.op === OPERATION.CREATE && r.ty === RESOURCE_TYPE.AE && resource.ty === RESOURCE_TYPE.CSEBase) {
      ctx.decision = { granted: true, basis: 'registration' };
      return;
    }
    // Discovery is not authorized on its target: each result needs DISCOVERY instead [TS-0004 §7.3.3.14]. Only a
    // real discovery: a virtual resource (pcu, fopt, la, ol) is always authorized as the operation it performs,
    // or fu=1 would open another AE's polling channel or a group's fan-out to anyone.
    if (isRealDiscovery(ctx)) {
      ctx.decision = { granted: true, basis: 'discovery' };
      return;
    }
    let updatesAcpi = false;
    const sent = r.op === OPERATION.CREATE || r.op === OPERATION.UPDATE ? sentAttributes(r.pc) : undefined;
    if (r.op === OPERATION.UPDATE) {
      const names = sent ?? [];
      updatesAcpi = names.includes('acpi');
      // acpi must be the only attribute of such an UPDATE [TS-0001 table 9.6.1.3.2-1].
      if (updatesAcpi && names.length > 1) throw badRequest('an UPDATE of acpi must not change other attributes');
    }
    const decision = await ctx.services.access.decide({
      originator: originator.id,
      authenticated: originator.authenticated,
      roleIds: [],
      operation: accessOperation(r.op, ctx),
      resource,
      ip: ctx.transport.remoteAddress,
      time: ctx.receivedAt,
      ...(r.op === OPERATION.CREATE && r.ty !== undefined ? { childType: r.ty } : {}),
      updatesAcpi: updatesAcpi && ctx.virtual !== 'fopt',
      // Fan-out is decided by the group's membersAccessControlPolicyIDs, else its acpi [TS-0001 §9.6.14].
      ...(ctx.virtual === 'fopt' && Array.isArray(resource.doc.macp) ? { policyIds: resource.doc.macp as string[] } : {}),
      // What a rule with accessControlAttributes must cover; a RETRIEVE without atrl touches every attribute. A
      // virtual resource answers with another resource (la, ol) or other resources (fopt, pcu): not known yet.
      attributes: ctx.virtual ? null : (sent ?? (r.op === OPERATION.RETRIEVE ? r.atrl : undefined)),
      ...(ctx.virtual === 'ntsr' ? { selfReference: true } : {}),
    });
    ctx.decision = decision;
    if (!decision.granted) {
      throw noPrivilege(`originator '${originator.id}' has no privilege to ${OPERATION_NAMES[r.op]} '${r.to}'`);
    }
    // A subscriber must also be allowed to RETRIEVE what it subscribes to [TS-0004 §7.4.8.2.1 Recv-6.3].
    if (r.op === OPERATION.CREATE && r.ty === RESOURCE_TYPE.subscription) {
      if (!(await originatorMay(ctx, ACCESS_OPERATION.RETRIEVE, resource))) throw noPrivilege(`originator '${originator.id}' may not RETRIEVE '${r.to}', so it may not subscribe to it`);
    }
  },
};
