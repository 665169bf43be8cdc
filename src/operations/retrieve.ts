// RETRIEVE [TS-0004 §7.3.3.7]: bring derived state up to date, then read.
import { CseError } from '../primitive/errors.js';
import { FILTER_USAGE, RESULT_CONTENT } from '../primitive/request.js';
import { RSC } from '../primitive/rsc.js';
import type { Outcome, RequestContext } from '../pipeline/context.js';
import { effectiveResultContent } from '../pipeline/stages/checkPrimitive.js';
import type { StoredResource } from '../storage/store.js';
import { hookContext } from './hookContext.js';

/** Runs the type's beforeRetrieve hook (e.g. a container dropping instances past maxInstanceAge). */
export async function refreshResource(ctx: RequestContext, resource: StoredResource): Promise<StoredResource> {
  const hooks = ctx.services.registry.get(resource.ty)?.hooks;
  if (!hooks?.beforeRetrieve) return resource;
  if (hooks.isStale && !(await hooks.isStale(hookContext(ctx, ctx.services.store), resource))) return resource;
  return ctx.services.store.transaction(async (tx) => {
    const fresh = (await tx.getForUpdate(resource.ri)) ?? resource;
    await hooks.beforeRetrieve?.(hookContext(ctx, tx), fresh);
    return fresh;
  });
}

/** Most children embedded in one response (rcn 4, 5, 6, 8); paging of larger sets comes with discovery. */
export const MAX_EMBEDDED_CHILDREN = 1_000;

const WITH_CHILDREN: readonly number[] = [
  RESULT_CONTENT.ATTRIBUTES_AND_CHILD_RESOURCES,
  RESULT_CONTENT.ATTRIBUTES_AND_CHILD_RESOURCE_REFERENCES,
  RESULT_CONTENT.CHILD_RESOURCE_REFERENCES,
  RESULT_CONTENT.CHILD_RESOURCES,
];

export function needsChildren(ctx: RequestContext): boolean {
  return WITH_CHILDREN.includes(effectiveResultContent(ctx.request.op, ctx.request.rcn));
}

export async function childrenOf(ctx: RequestContext, resource: StoredResource): Promise<StoredResource[]> {
  return ctx.services.store.children(resource.ri, { aliveAt: ctx.services.clock.now(), limit: MAX_EMBEDDED_CHILDREN });
}

export async function retrieveResource(ctx: RequestContext): Promise<Outcome> {
  const target = ctx.resource;
  if (!target) throw new Error('retrieve runs after resolveTarget');
  if (ctx.request.fc?.fu === FILTER_USAGE.DISCOVERY) throw new CseError(RSC.NOT_IMPLEMENTED, 'discovery (fu=1) is not supported yet');
  const resource = ctx.virtual ? target : await refreshResource(ctx, target);
  const outcome: Outcome = { rsc: RSC.OK, resource };
  if (needsChildren(ctx)) outcome.children = await childrenOf(ctx, resource);
  return outcome;
}
