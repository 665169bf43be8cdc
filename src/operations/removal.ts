// Removing a subtree, shared by DELETE and the expiry sweep: the parent's hooks keep counters right and the
// access decider drops what it cached about deleted policies and groups.
import type { CseServices } from '../pipeline/context.js';
import type { RequestPrimitive } from '../primitive/request.js';
import type { ResourceStore, StoredResource } from '../storage/store.js';
import { eventContext } from './events.js';
import { MAX_SUBSCRIPTIONS_PER_RESOURCE, PENDING_EVENTS_KEPT, keepPendingBatches, recordDeletion, recordEvent } from '../notifications/events.js';
import { decideBeforeDeletion } from '../notifications/fanout.js';
import { EVENT } from '../resources/types/subscription.js';
import { OPERATION } from '../primitive/request.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { isGroupMember, leaveGroups } from '../resources/types/group.js';
import { endCrossResourceLinks } from '../notifications/crossResource.js';
import { queuesLeftBy } from '../notifications/notificationSchedule.js';
import { ANNOUNCED_TO_KEY } from '../resources/announceable.js';
import { queueWithdrawals } from '../remote/withdrawals.js';

/** Before a subtree goes: delete events for the root's and its parent's subscribers, and the end of every subscription in it. */
async function recordDeletionEvents(
  tx: ResourceStore,
  services: CseServices,
  root: StoredResource,
  parent: StoredResource | undefined,
  now: number,
  originator: string,
  granted: Readonly<Record<string, boolean>> | undefined,
): Promise<void> {
  const ctx = eventContext(services, now);
  const decided = granted ? { granted } : {};
  const ended = root.ty === RESOURCE_TYPE.subscription ? [root] : [];
  ended.push(...(await tx.findInSubtree(root.srn, RESOURCE_TYPE.subscription, MAX_SUBSCRIPTIONS_PER_RESOURCE)));
  // Before the deletion's own events: a batch keeps the order of its events, the deletion of the resource last.
  const left = await keepPendingBatches(tx, ctx, ended);
  if (left > 0) {
    services.log.warn({ event: 'notifications-over-event-bound', resource: root.ri, dropped: left, kept: PENDING_EVENTS_KEPT }, 'events not yet fanned out to deleted batching subscriptions dropped beyond the bound');
  }
  await recordEvent(tx, ctx, root, { type: EVENT.DELETE, resource: root, operation: OPERATION.DELETE, originator, ...decided });
  if (parent) await recordEvent(tx, ctx, parent, { type: EVENT.DELETE_CHILD, resource: root, operation: OPERATION.DELETE, originator, ...decided });
  for (const sub of ended) await recordDeletion(tx, services.self, sub, now);
  // What a subscription held outside its notificationSchedule goes with it, and its release timer (a
  // crossResourceSubscription's: crossResource.ts).
  if (ended.length > 0) await tx.dropQueued(ended.flatMap((sub) => queuesLeftBy(sub.ri)));
}

export async function deleteWithBookkeeping(
  services: CseServices,
  ri: string,
  now: number,
  originator: string,
  request: RequestPrimitive,
  /** Only while the resource's et is at or before this instant (the expiry sweep): an UPDATE that extended it since the sweep found it wins. */
  expiredBy?: number,
): Promise<StoredResource | undefined> {
  const { store, registry, config, self, access } = services;
  // Notifications are made after the commit; the policies an AE holds go with it, so the decisions that
  // rest on them are taken now (the decider cannot read through a transaction).
  const before = await store.get(ri);
  const granted = before ? await decideBeforeDeletion(services, before, now) : undefined;
  let leftGroups: StoredResource[] = [];
  const deleted = await store.transaction(async (tx) => {
    leftGroups = [];
    const seen = await tx.get(ri);
    if (!seen) return undefined;
    // Locks are taken from the top down, as inserts take them: the parent (whose counters the hook below
    // derives), then the root. A delete below waits for a delete above instead of deadlocking with it. The
    // CSEBase is never deleted, so an AE's deregistration locks it only at the end, not holding up
    // registrations while the subtree goes.
    const topLevel = seen.pi === self.cseId;
    let parent = topLevel ? undefined : await tx.getForUpdate(seen.pi);
    // From here on nothing can be created below the root: the subscriptions found below are all there are.
    const target = await tx.lockSubtree(ri);
    if (!target) return undefined;
    if (expiredBy !== undefined && (target.et === undefined || target.et > expiredBy)) return undefined;
    await recordDeletionEvents(tx, services, target, parent ?? (await tx.get(target.pi)), now, originator, granted);
    await endCrossResourceLinks(tx, services, target, now, MAX_SUBSCRIPTIONS_PER_RESOURCE);
    await queueWithdrawals(tx, await announcedIn(tx, target), now);
    const subtree = await tx.deleteSubtree(ri);
    if (!subtree) return undefined;
    const root = subtree.root;
    // Whatever is queued for a deregistered AE goes with it, in the same transaction: whoever registers its
    // AE-ID next (an AE's resource ID is its AE-ID) must not poll or receive it.
    const aes = subtree.removed.filter((r) => r.ty === RESOURCE_TYPE.AE).map((r) => r.ri);
    if (aes.length > 0) await tx.dropQueued(aes.flatMap((aei) => [`pch:${aei}`, `ae:${aei}`, `id:${aei}`]));
    leftGroups = await leaveGroups(tx, self, target, now);
    if (topLevel) parent = await tx.getForUpdate(root.pi);
    if (parent) {
      const hooks = { store: tx, now, config, self, originator, request, semantics: services.semantics.as({ key: `/${self.cseId}`, limited: false }) };
      await registry.of(parent)?.hooks.afterChildRemoved?.(hooks, parent, root);
    }
    return subtree;
  });
  for (const group of leftGroups) await access.invalidate(group);
  for (const r of deleted?.removed ?? []) {
    await access.invalidate(r);
    if (r.ty === RESOURCE_TYPE.AE) {
      await services.registrations.deregistered(r.ri);
      // An AE's resource ID is its AE-ID.
      await forgetRequestsOf(services, r.ri, now);
    }
  }
  // A group that newly listed the root and committed while this deletion was under way was not found by its search:
  // a second look after the commit finds it (or that group's own look after its commit found the root gone). The
  // deletion is done: a failure here leaves the member listed (a fan-out answers 4004 for it).
  if (deleted && isGroupMember(deleted.root)) {
    try {
      for (const group of await store.transaction((tx) => leaveGroups(tx, self, deleted.root, now))) await access.invalidate(group);
    } catch (err) {
      services.log.warn({ err, resource: deleted.root.ri }, 'a deleted member could not look again for groups written meanwhile; a fan-out finds it gone');
    }
  }
  // A <locationPolicy>'s container goes with it [TS-0001 table 10.2.9.5-1], as a deletion of its own (events and
  // all). Only a policy deleted by itself needs it: one in a deleted subtree has its container there too.
  if (deleted && before?.ty === RESOURCE_TYPE.locationPolicy && typeof before.doc.loi === 'string') {
    const container = await store.get(before.doc.loi);
    if (container?.ty === RESOURCE_TYPE.container && container.doc.li === before.ri) await deleteWithBookkeeping(services, container.ri, now, originator, request);
  }
  return deleted?.root;
}

/** Bound on the announced descendants a deletion de-announces one by one (the rest go with their announced parent). */
const ANNOUNCED_DESCENDANTS = 100;

/** The resources of a subtree that are announced to other CSEs: the root, and descendants of the types that can be. */
async function announcedIn(tx: ResourceStore, root: StoredResource): Promise<StoredResource[]> {
  const out = [root];
  if (root.ty === RESOURCE_TYPE.AE || root.ty === RESOURCE_TYPE.container || root.ty === RESOURCE_TYPE.node) {
    for (const ty of [RESOURCE_TYPE.container, RESOURCE_TYPE.group, RESOURCE_TYPE.accessControlPolicy, RESOURCE_TYPE.timeSeries, RESOURCE_TYPE.schedule]) {
      out.push(...(await tx.findInSubtree(root.srn, ty, ANNOUNCED_DESCENDANTS)));
    }
  }
  return out.filter((r) => r.doc[ANNOUNCED_TO_KEY] !== undefined);
}

/**
 * A deregistered AE's <request> resources go with it: they hold its requests and results, and whoever registers
 * the same AE-ID later must not read them.
 */
async function forgetRequestsOf(services: CseServices, aei: string, now: number): Promise<void> {
  const { store, self } = services;
  for (;;) {
    const owned = await store.search({ below: self.cseRn, level: 1, ty: [RESOURCE_TYPE.request], attributes: [['org', aei]], operation: 'and', aliveAt: now, limit: 500 });
    for (const request of owned) await store.deleteSubtree(request.ri);
    if (owned.length < 500) return;
  }
}
