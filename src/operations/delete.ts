// DELETE [TS-0004 §7.3.3.9]: the whole subtree, then the parent's bookkeeping, in one transaction.
import { badRequest, notAllowed, notFound } from '../primitive/errors.js';
import { RSC } from '../primitive/rsc.js';
import type { Outcome, RequestContext } from '../pipeline/context.js';
import { deleteWithBookkeeping } from './removal.js';
import { needsChildren, resolveVirtual } from './retrieve.js';
import { descendantsOf } from './descendants.js';
import { removeNotificationTarget } from '../notifications/targetRemoval.js';
import { MAX_SUBSCRIPTIONS_PER_RESOURCE, isUrlTarget } from '../notifications/events.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import type { StoredResource } from '../storage/store.js';

/** The longest a DELETE waits for the deletion notifications of the subscriptions it ends to be answered. */
const SUBSCRIPTION_END_WAIT_MS = 1_000;

/**
 * A <subscription> or <crossResourceSubscription> whose subscriberURI is a URL (as resolveTarget tells one): its
 * deletion notification is sent at once. (One to an AE-ID may wait in the AE's polling channel: nothing to wait for.)
 */
function endsWithNotification(target: StoredResource): boolean {
  return (target.ty === RESOURCE_TYPE.subscription || target.ty === RESOURCE_TYPE.crossResourceSubscription) && typeof target.doc.su === 'string' && isUrlTarget(target.doc.su);
}

/**
 * The subscriptions a DELETE of `target` ends with a notification sent at once: the target, and those below it, found
 * as removal.ts finds them (same types, same bound). One created below after this look lands in the deletion all the
 * same, unwaited for: the wait is a courtesy to the subscriber, not a guarantee.
 */
async function endingWithNotification(ctx: RequestContext, target: StoredResource, childTypes: readonly number[]): Promise<StoredResource[]> {
  const ending = endsWithNotification(target) ? [target] : [];
  if (childTypes.length === 0) return ending;
  for (const ty of [RESOURCE_TYPE.subscription, RESOURCE_TYPE.crossResourceSubscription]) {
    ending.push(...(await ctx.services.store.findInSubtree(target.srn, ty, MAX_SUBSCRIPTIONS_PER_RESOURCE)).filter(endsWithNotification));
  }
  return ending;
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
  // sends it (blocking) and as a subscriber reading both expects; TS-0004 §7.5.1.2.4 does not order them. So for
  // every subscription the DELETE ends, itself or in the subtree below it (the suite's testSUB test_removeCNT).
  // Bounded once for the whole request: the waits start together, so subscriberURIs that do not answer delay the
  // DELETE by SUBSCRIPTION_END_WAIT_MS at most, however many there are.
  const ends = ctx.services.subscriptionEnds;
  const waits = ends ? (await endingWithNotification(ctx, target, definition.childTypes)).map((sub) => ends.expectEnd(sub.ri, SUBSCRIPTION_END_WAIT_MS)) : [];
  const cancel = (): void => {
    for (const wait of waits) wait.cancel();
  };
  let removed: StoredResource | undefined;
  try {
    removed = await deleteWithBookkeeping(ctx.services, target.ri, ctx.services.clock.now(), ctx.originator?.id ?? '', ctx.request);
  } catch (err) {
    cancel();
    throw err;
  }
  if (removed) await Promise.all(waits.map((wait) => wait.done));
  else cancel();
  // Another request (or process) deleted it between resolving the target and now.
  if (!removed) throw notFound(`resource '${ctx.request.to}' does not exist`);
  const outcome: Outcome = { rsc: RSC.DELETED, resource: removed };
  if (children) {
    outcome.children = children.resources;
    if (children.nextOffset !== undefined) outcome.contentStatus = 1;
  }
  return outcome;
}
