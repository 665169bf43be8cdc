// RETRIEVE [TS-0004 §7.3.3.7]: bring derived state up to date, then read.
import { positionBeforeLatest } from '../location/networkLocation.js';
import { CseError, badRequest } from '../primitive/errors.js';
import { OPERATION, RESULT_CONTENT, isDiscovery } from '../primitive/request.js';
import { EVENT, RETRIEVED, RETRIEVE_WATCHED_KEY } from '../resources/types/subscription.js';
import { recordEvent } from '../notifications/events.js';
import { eventContext } from './events.js';
import { RSC } from '../primitive/rsc.js';
import type { Outcome, RequestContext } from '../pipeline/context.js';
import { effectiveResultContent } from '../pipeline/stages/checkPrimitive.js';
import type { StoredResource } from '../storage/store.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { pollChannel } from '../notifications/polling.js';
import { semanticQuery } from './semantic.js';
import { discover } from './discover.js';
import { descendantsOf } from './descendants.js';
import { hookContext } from './hookContext.js';
import { deleteWithBookkeeping } from './removal.js';
import { withCurrentTime } from '../resources/types/cseBase.js';
import { edgeInstanceIfFresh } from '../resources/instances.js';

/** Runs the type's beforeRetrieve hook (e.g. a container dropping instances past maxInstanceAge). */
export async function refreshResource(ctx: RequestContext, resource: StoredResource): Promise<StoredResource> {
  const hooks = ctx.services.registry.of(resource)?.hooks;
  if (!hooks?.beforeRetrieve) return resource;
  if (hooks.isStale && !(await hooks.isStale(hookContext(ctx, ctx.services.store), resource))) return resource;
  return ctx.services.store.transaction(async (tx) => {
    const fresh = (await tx.getForUpdate(resource.ri)) ?? resource;
    await hooks.beforeRetrieve?.(hookContext(ctx, tx), fresh);
    return fresh;
  });
}

const WITH_CHILDREN: readonly number[] = [
  RESULT_CONTENT.ATTRIBUTES_AND_CHILD_RESOURCES,
  RESULT_CONTENT.ATTRIBUTES_AND_CHILD_RESOURCE_REFERENCES,
  RESULT_CONTENT.CHILD_RESOURCE_REFERENCES,
  RESULT_CONTENT.CHILD_RESOURCES,
];

/** Whether the result content returns children and descendants (rcn 4, 5, 6, 8). */
export function needsChildren(ctx: RequestContext): boolean {
  return WITH_CHILDREN.includes(effectiveResultContent(ctx.request.op, ctx.request.rcn));
}

/** Adds the descendants the result content asks for, with partial-content paging when they do not all fit. */
export async function withDescendants(ctx: RequestContext, outcome: Outcome, root: StoredResource, filtered: boolean): Promise<Outcome> {
  const found = await descendantsOf(ctx, root, filtered);
  outcome.children = found.resources;
  if (found.nextOffset !== undefined) {
    outcome.contentStatus = 1;
    outcome.contentOffset = found.nextOffset;
  }
  return outcome;
}

/** The instance that la / ol name in a container, after the container's housekeeping [TS-0004 §7.4.27-28]. */
export async function resolveVirtual(ctx: RequestContext, container: StoredResource): Promise<StoredResource> {
  if (container.doc.disr === true) throw new CseError(RSC.OPERATION_NOT_ALLOWED, 'the container has disableRetrieval set');
  const { store, clock, registry } = ctx.services;
  const instanceType = registry.get(container.ty)?.instanceType ?? RESOURCE_TYPE.contentInstance;
  const newestFirst = ctx.virtual === 'la';
  // A network-based <locationPolicy> without a period positions its node when its <latest> is read.
  if (newestFirst && container.ty === RESOURCE_TYPE.container && typeof container.doc.li === 'string') await positionBeforeLatest(ctx.services, container);
  let instance = await edgeInstanceIfFresh(store, container, instanceType, newestFirst, clock.now());
  if (instance === 'refresh first') {
    const fresh = await refreshResource(ctx, container);
    [instance] = await store.children(fresh.ri, { ty: instanceType, limit: 1, newestFirst, aliveAt: clock.now() });
  }
  if (!instance) throw new CseError(RSC.NOT_FOUND, `'${container.rn}' has no instance`);
  return instance;
}

/**
 * A contentInstance with deletionCnt (Release 4, ACME's reading) may be retrieved that many times: each RETRIEVE
 * shows the count before it and takes one off; the last one deletes the instance. The count is taken under the
 * row's lock, and only the request whose delete succeeds gets the last read, so no count is read twice.
 */
async function countDownRetrievals(ctx: RequestContext, instance: StoredResource): Promise<StoredResource> {
  const { store, clock } = ctx.services;
  const gone = (): CseError => new CseError(RSC.NOT_FOUND, `resource '${ctx.request.to}' does not exist`);
  const counted = await store.transaction(async (tx) => {
    const fresh = await tx.getForUpdate(instance.ri);
    if (!fresh) throw gone();
    const left = typeof fresh.doc.dcnt === 'number' ? fresh.doc.dcnt : 1;
    if (left <= 1) return { last: true, shown: fresh };
    const shown: StoredResource = { ...fresh, doc: { ...fresh.doc } };
    fresh.doc.dcnt = left - 1;
    await tx.update(fresh);
    return { last: false, shown };
  });
  if (!counted.last) return counted.shown;
  const removed = await deleteWithBookkeeping(ctx.services, instance.ri, clock.now(), ctx.originator?.id ?? '', ctx.request);
  if (!removed) throw gone();
  return counted.shown;
}

export async function retrieveResource(ctx: RequestContext): Promise<Outcome> {
  const addressed = ctx.resource;
  if (!addressed) throw new Error('retrieve runs after resolveTarget');
  // A virtual resource has no descendants to discover; it was authorized as a RETRIEVE, so it must not act as one.
  if (ctx.virtual && isDiscovery(ctx.request.fc)) throw badRequest(`'${ctx.virtual}' is a virtual resource and takes no discovery (fu=1); discover below its parent`);
  if (ctx.virtual === 'pcu') return { rsc: RSC.OK, content: await pollChannel(ctx, addressed) };
  const target = ctx.virtual ? await resolveVirtual(ctx, addressed) : addressed;
  if (ctx.request.sqi === true) return semanticQuery(ctx, target);
  if (isDiscovery(ctx.request.fc)) return discover(ctx);
  const refreshed = ctx.virtual ? target : await refreshResource(ctx, target);
  if (refreshed.doc[RETRIEVE_WATCHED_KEY] === true) await recordRetrieval(ctx, refreshed);
  const resource =
    refreshed.ty === RESOURCE_TYPE.contentInstance && refreshed.doc.dcnt !== undefined
      ? await countDownRetrievals(ctx, refreshed)
      : refreshed.ty === RESOURCE_TYPE.CSEBase
        ? withCurrentTime(refreshed, ctx.services.clock.now())
        : refreshed;
  const outcome: Outcome = { rsc: RSC.OK, resource };
  return needsChildren(ctx) ? withDescendants(ctx, outcome, resource, true) : outcome;
}

/**
 * The notifications a RETRIEVE causes, for resources whose subscriptions listen to reads: operationMonitor, and
 * Retrieve_of_Container_Resource_With_No_Child_Resource [TS-0004 table 6.3.4.2.19-1: a RETRIEVE of the container
 * with rcn child-resources or attributes+child-resources, when it has no contentInstance].
 */
async function recordRetrieval(ctx: RequestContext, resource: StoredResource): Promise<void> {
  const { store, clock } = ctx.services;
  const now = clock.now();
  const rcn = effectiveResultContent(ctx.request.op, ctx.request.rcn);
  const asksChildren = rcn === RESULT_CONTENT.ATTRIBUTES_AND_CHILD_RESOURCES || rcn === RESULT_CONTENT.CHILD_RESOURCES;
  const empty =
    resource.ty === RESOURCE_TYPE.container &&
    asksChildren &&
    (await store.children(resource.ri, { ty: RESOURCE_TYPE.contentInstance, limit: 1, aliveAt: now })).length === 0;
  const originator = ctx.originator?.id ?? ctx.request.fr;
  await store.transaction(async (tx) => {
    const context = eventContext(ctx.services, now);
    const seen = { resource, operation: OPERATION.RETRIEVE, originator } as const;
    if (empty) await recordEvent(tx, context, resource, { ...seen, type: EVENT.RETRIEVE_CONTAINER_NO_CHILD });
    await recordEvent(tx, context, resource, { ...seen, type: RETRIEVED });
  });
}
