// DELETE [TS-0004 §7.3.3.9]: the whole subtree, then the parent's bookkeeping, in one transaction.
import { notAllowed, notFound } from '../primitive/errors.js';
import { RSC } from '../primitive/rsc.js';
import type { Outcome, RequestContext } from '../pipeline/context.js';
import { deleteWithBookkeeping } from './removal.js';
import { childrenOf, needsChildren, resolveVirtual } from './retrieve.js';

export async function deleteResource(ctx: RequestContext): Promise<Outcome> {
  const addressed = ctx.resource;
  if (!addressed) throw new Error('delete runs after resolveTarget');
  const target = ctx.virtual ? await resolveVirtual(ctx, addressed) : addressed;
  const definition = ctx.services.registry.get(target.ty);
  if (!definition?.deletable) throw notAllowed(`${definition?.typeName ?? 'this resource'} cannot be deleted`);
  const children = needsChildren(ctx) ? await childrenOf(ctx, target) : undefined;
  const removed = await deleteWithBookkeeping(ctx.services, target.ri, ctx.services.clock.now(), ctx.originator?.id ?? '', ctx.request);
  // Another request (or process) deleted it between resolving the target and now.
  if (!removed) throw notFound(`resource '${ctx.request.to}' does not exist`);
  const outcome: Outcome = { rsc: RSC.DELETED, resource: removed };
  if (children) outcome.children = children;
  return outcome;
}
