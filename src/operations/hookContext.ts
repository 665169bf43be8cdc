import type { HookContext } from '../resources/define.js';
import type { RequestContext } from '../pipeline/context.js';
import type { ResourceStore } from '../storage/store.js';
import { semanticCaller } from '../semantics/caller.js';
import { recordEvent } from '../notifications/events.js';
import { OPERATION } from '../primitive/request.js';
import { CseError } from '../primitive/errors.js';
import { RSC } from '../primitive/rsc.js';
import { randomIdSuffix } from '../primitive/identifiers.js';
import { EVENT } from '../resources/types/subscription.js';
import { eventContext } from './events.js';
import { storageCharge } from '../quotas/stored.js';
import { originatorMay } from '../pipeline/access.js';

/** A RETRIEVE of another CSE's resource as this request's originator, through the tree (remote/remoteCses.ts). */
async function retrieveElsewhere(ctx: RequestContext, address: string): Promise<{ rsc: number; pc?: Record<string, unknown> }> {
  const remote = ctx.services.remote;
  if (!remote) return { rsc: RSC.TARGET_NOT_REACHABLE };
  const request = { op: OPERATION.RETRIEVE, to: address, fr: ctx.request.fr, rqi: `${ctx.request.rqi}-m${randomIdSuffix(6)}`, rvi: ctx.request.rvi ?? '3' };
  try {
    const answer = await remote.forwardTo({ ...ctx, request }, address);
    return { rsc: answer.rsc, ...(answer.pc === undefined ? {} : { pc: answer.pc }) };
  } catch (err) {
    if (err instanceof CseError) return { rsc: err.rsc };
    throw err;
  }
}

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
    ...(ctx.services.remote ? { retrieveElsewhere: (address: string) => retrieveElsewhere(ctx, address) } : {}),
    ...(ctx.originator?.credentialId ? { credentialId: ctx.originator.credentialId } : {}),
    ...(ctx.originator?.unnamedCredential ? { unnamedCredential: true } : {}),
  };
}
