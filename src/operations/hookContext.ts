import type { HookContext } from '../resources/define.js';
import type { RequestContext } from '../pipeline/context.js';
import type { ResourceStore } from '../storage/store.js';
import { semanticCaller } from '../semantics/caller.js';
import { recordEvent } from '../notifications/events.js';
import { OPERATION } from '../primitive/request.js';
import { EVENT } from '../resources/types/subscription.js';
import { eventContext } from './events.js';
import { storageCharge } from '../quotas/stored.js';
import { originatorMay } from '../pipeline/access.js';

/** The view of a request that type hooks get: the transaction's store, the time, the originator. */
export function hookContext(ctx: RequestContext, store: ResourceStore): HookContext {
  const now = ctx.services.clock.now();
  const originator = ctx.originator?.id ?? ctx.request.fr;
  return {
    store,
    now,
    config: ctx.services.config,
    self: ctx.services.self,
    originator,
    request: ctx.request,
    semantics: ctx.services.semantics.as(semanticCaller(ctx)),
    storage: storageCharge(ctx),
    recordChildCreated: async (parent, child) => {
      await recordEvent(store, eventContext(ctx.services, now), parent, { type: EVENT.CREATE_CHILD, resource: child, operation: OPERATION.CREATE, originator });
    },
    childTypesOf: (ty) => ctx.services.registry.get(ty)?.childTypes ?? [],
    may: (operation, resource) => originatorMay(ctx, operation, resource),
    transport: ctx.transport,
    attributesOf: (resource) => ctx.services.registry.attributesOf(resource),
    ...(ctx.originator?.credentialId ? { credentialId: ctx.originator.credentialId } : {}),
    ...(ctx.originator?.unnamedCredential ? { unnamedCredential: true } : {}),
  };
}
