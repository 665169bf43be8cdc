// DELETE [TS-0004 §7.3.3.9]: the whole subtree, then the parent's bookkeeping, in one transaction.
import { badRequest, notAllowed, notFound } from '../primitive/errors.js';
import { RSC } from '../primitive/rsc.js';
import type { Outcome, RequestContext } from '../pipeline/context.js';
import { deleteWithBookkeeping } from './removal.js';
import { needsChildren, resolveVirtual } from './retrieve.js';
import { descendantsOf } from './descendants.js';
import { removeNotificationTarget } from '../notifications/targetRemoval.js';
import { isUrlTarget } from '../notifications/events.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import type { StoredResource } from '../storage/store.js';

/** The longest a DELETE of a subscription waits for its deletion notification to be answered. */
const SUBSCRIPTION_END_WAIT_MS = 1_000;

/**
 * A <subscription> or <crossResourceSubscription> whose subscriberURI is a URL (as resolveTarget tells one): its
 * deletion notification is sent at once. (One to an AE-ID may wait in the AE's polling channel: nothing to wait for.)
 */
function endsWithNotification(target: StoredResource): boolean {
  return (target.ty === RESOURCE_TYPE.subscription || target.ty === RESOURCE_TYPE.crossResourceSubscription) && typeof target.doc.su === 'string' && isUrlTarget(target.doc.su);
}

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
  // The deletion notification of a subscription reaches its subscriberURI before the DELETE is answered, as ACME
  // sends it (blocking) and as a subscriber reading both expects; TS-0004 §7.5.1.2.4 does not order them. Bounded:
  // a subscriberURI that does not answer delays its DELETE by SUBSCRIPTION_END_WAIT_MS at most.
  const end = endsWithNotification(target) ? ctx.services.subscriptionEnds?.expectEnd(target.ri, SUBSCRIPTION_END_WAIT_MS) : undefined;
  let removed: StoredResource | undefined;
  try {
    removed = await deleteWithBookkeeping(ctx.services, target.ri, ctx.services.clock.now(), ctx.originator?.id ?? '', ctx.request);
  } catch (err) {
    end?.cancel();
    throw err;
  }
  if (removed) await end?.done;
  else end?.cancel();
  // Another request (or process) deleted it between resolving the target and now.
  if (!removed) throw notFound(`resource '${ctx.request.to}' does not exist`);
  const outcome: Outcome = { rsc: RSC.DELETED, resource: removed };
  if (children) {
    outcome.children = children.resources;
    if (children.nextOffset !== undefined) outcome.contentStatus = 1;
  }
  return outcome;
}
