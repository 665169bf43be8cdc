// DELETE [TS-0004 §7.3.3.9]: the whole subtree, then the parent's bookkeeping, in one transaction.
import { badRequest, notAllowed, notFound } from '../primitive/errors.js';
import { RSC } from '../primitive/rsc.js';
import type { Outcome, RequestContext } from '../pipeline/context.js';
import { deleteWithBookkeeping } from './removal.js';
import { needsChildren, resolveVirtual } from './retrieve.js';
import { descendantsOf } from './descendants.js';
import { removeNotificationTarget } from '../notifications/targetRemoval.js';

export async function deleteResource(ctx: RequestContext): Promise<Outcome> {
  const addressed = ctx.resource;
  if (!addressed) throw new Error('delete runs after resolveTarget');
  if (ctx.virtual === 'ntsr') return removeNotificationTarget(ctx);
  const target = ctx.virtual ? await resolveVirtual(ctx, addressed) : addressed;
  const definition = ctx.services.registry.of(target);
  if (!definition?.deletable) throw notAllowed(`${definition?.typeName ?? 'this resource'} cannot be deleted`);
  const refusal = definition.hooks.refuseDeletion?.(target);
  if (refusal !== undefined) throw badRequest(refusal);
  // What a DELETE with rcn 4/5/6/8 shows is read before the subtree goes.
  const children = needsChildren(ctx) ? await descendantsOf(ctx, target, false) : undefined;
  const removed = await deleteWithBookkeeping(ctx.services, target.ri, ctx.services.clock.now(), ctx.originator?.id ?? '', ctx.request);
  // Another request (or process) deleted it between resolving the target and now.
  if (!removed) throw notFound(`resource '${ctx.request.to}' does not exist`);
  const outcome: Outcome = { rsc: RSC.DELETED, resource: removed };
  if (children) {
    outcome.children = children.resources;
    if (children.nextOffset !== undefined) outcome.contentStatus = 1;
  }
  return outcome;
}
