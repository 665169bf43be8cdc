import type { HookContext } from '../resources/define.js';
import type { RequestContext } from '../pipeline/context.js';
import type { ResourceStore } from '../storage/store.js';
import { semanticCaller } from '../semantics/caller.js';

/** The view of a request that type hooks get: the transaction's store, the time, the originator. */
export function hookContext(ctx: RequestContext, store: ResourceStore): HookContext {
  return {
    store,
    now: ctx.services.clock.now(),
    config: ctx.services.config,
    self: ctx.services.self,
    originator: ctx.originator?.id ?? ctx.request.fr,
    request: ctx.request,
    semantics: ctx.services.semantics.as(semanticCaller(ctx)),
    childTypesOf: (ty) => ctx.services.registry.get(ty)?.childTypes ?? [],
    ...(ctx.originator?.credentialId ? { credentialId: ctx.originator.credentialId } : {}),
    ...(ctx.originator?.unnamedCredential ? { unnamedCredential: true } : {}),
  };
}
