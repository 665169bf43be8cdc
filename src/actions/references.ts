// The resources an <action> or <dependency> names (sri, orc, rri): they must exist on this CSE, and the originator
// writing the action must hold the privilege the action will use on them. Asked before the write's transaction (the
// access decision reads the store), in the types' prepare hooks.
import { badRequest } from '../primitive/errors.js';
import { OPERATION } from '../primitive/request.js';
import { ACCESS_OPERATION, privilegeOf, type AccessOperation } from '../security/acp.js';
import { localResourceIn } from '../operations/localResource.js';
import type { HookContext } from '../resources/define.js';
import type { StoredResource } from '../storage/store.js';
import { checkCriteriaFor } from './criteria.js';

/** The privilege an action primitive's operation needs of its target (security/acp.ts); any other value: NOTIFY. */
export function primitivePrivilege(op: unknown): AccessOperation {
  return op === OPERATION.CREATE || op === OPERATION.RETRIEVE || op === OPERATION.UPDATE || op === OPERATION.DELETE ? privilegeOf(op) : ACCESS_OPERATION.NOTIFY;
}

/**
 * The resource an attribute names, if the originator may do `operation` on it. A resource that does not exist
 * and one the originator may not use get the same answer, 4000 (as ACME answers both), so an action cannot be
 * used to learn what exists.
 */
export async function usableResource(ctx: HookContext, address: unknown, attribute: string, operation: AccessOperation): Promise<StoredResource> {
  const resource = typeof address === 'string' ? await localResourceIn(ctx.store, ctx.self, ctx.now, address) : undefined;
  if (!resource || !ctx.may || !(await ctx.may(operation, resource))) {
    throw badRequest(`${attribute} '${String(address)}' names no resource of this CSE that the originator may use for this`);
  }
  return resource;
}

/** The evalCriteria checked against the attribute table of the resource they will be evaluated on. */
export function checkCriteriaOn(ctx: HookContext, evc: unknown, subject: StoredResource): void {
  const table = ctx.attributesOf?.(subject);
  if (!table) throw badRequest('evalCriteria cannot be checked outside a request');
  checkCriteriaFor(evc, table, `the subject resource (type ${subject.ty})`);
}
