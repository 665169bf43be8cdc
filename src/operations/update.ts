// UPDATE [TS-0004 §7.3.3.5]: merge, null deletes an optional attribute, hooks check and derive, one transaction.
import { notFound } from '../primitive/errors.js';
import { formatTimestamp } from '../primitive/identifiers.js';
import { RSC } from '../primitive/rsc.js';
import type { Outcome, RequestContext } from '../pipeline/context.js';
import { representation } from '../resources/representation.js';
import { resolveExpiration } from './expiration.js';
import { hookContext } from './hookContext.js';
import { modifiedAttributes } from './modified.js';
import { deriveLocationBox } from '../resources/geometry.js';
import type { StoredResource } from '../storage/store.js';
import { resolvePolicyLinks } from './policyLinks.js';
import { cseIdOfAddress, isAnnouncedType } from '../resources/announceable.js';
import { eventContext } from './events.js';
import { TARGET_BINDING_KEY, bindTargets, recordEvent, resolveTarget } from '../notifications/events.js';
import type { LocalIdentity } from '../primitive/identifiers.js';
import type { ResourceStore } from '../storage/store.js';
import { requestExpiry } from '../notifications/polling.js';
import { assertAsked, beaconTargetsToVerify, targetsToVerify, verificationOptions, verifyTargets, type VerifiedRegistrations } from '../notifications/verify.js';
import { EVENT } from '../resources/types/subscription.js';
import { isNotifying, leaveCrossResourceSubscriptions } from '../notifications/crossResource.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { OPERATION } from '../primitive/request.js';
import { checkGrowth, documentBytes } from '../quotas/stored.js';
import { blockingUpdate } from '../notifications/blocking.js';

export async function updateResource(ctx: RequestContext): Promise<Outcome> {
  const { registry, store } = ctx.services;
  const content = ctx.content;
  const targetRi = ctx.resource?.ri;
  if (!content || targetRi === undefined) throw new Error('update runs after validateContent');
  // New notification targets are verified first, outside the transaction [TS-0001 table 10.2.10.4-1].
  let added: string[] | undefined;
  let asked: VerifiedRegistrations = new Map();
  if (ctx.resource && isNotifying(ctx.resource.ty)) {
    // nu, su and nfu targets the subscription did not have yet are verified; the new nu ones are bound below.
    const toVerify = targetsToVerify(content, ctx.resource.doc);
    asked = await verifyTargets(ctx.services, toVerify, ctx.originator?.id ?? '', `/${ctx.services.self.cseId}/${targetRi}`, undefined, verificationOptions(ctx));
    const nu = content.nu;
    if (Array.isArray(nu)) added = toVerify.filter((t) => nu.includes(t));
  } else if (ctx.resource?.ty === RESOURCE_TYPE.timeSyncBeacon) {
    await verifyTargets(ctx.services, beaconTargetsToVerify(content, ctx.resource.doc), ctx.originator?.id ?? '', `/${ctx.services.self.cseId}/${targetRi}`, undefined, verificationOptions(ctx));
  }
  if (ctx.resource) await registry.of(ctx.resource)?.hooks.prepare?.(hookContext(ctx, store), content, 'update', ctx.resource);
  const release = await blockingUpdate(ctx.services, ctx.resource as StoredResource, content, requestExpiry(ctx));
  let outcome: Outcome;
  try {
    outcome = await applyUpdate(ctx, content, targetRi, added, asked);
  } finally {
    release();
  }
  if (outcome.resource) {
    const hooks = registry.of(outcome.resource)?.hooks;
    if (hooks?.afterUpdateCommit) outcome.resource = await hooks.afterUpdateCommit(ctx, outcome.resource);
  }
  // Announced resources follow the original after the commit: at, and the announced attributes [TS-0004 §7.3.3.10–11].
  const previous = ctx.resource?.doc;
  if (previous && outcome.resource && ctx.services.remote) outcome.resource = await ctx.services.remote.announcements.afterUpdate(ctx, previous, outcome.resource);
  return outcome;
}

async function applyUpdate(ctx: RequestContext, content: Record<string, unknown>, targetRi: string, added: string[] | undefined, asked: VerifiedRegistrations): Promise<Outcome> {
  const { registry, store, clock, config, access } = ctx.services;
  const outcome = await store.transaction(async (tx) => {
    const resource = await tx.getForUpdate(targetRi);
    if (!resource) throw notFound('the resource was deleted meanwhile');
    const before = representation(resource);
    const sizeBefore = documentBytes(resource);
    const definition = registry.of(resource);
    const now = clock.now();
    const { et, ...changes } = content;
    if (et !== undefined) {
      const parent = await tx.get(resource.pi);
      resource.et = et === null ? resolveExpiration(undefined, parent, now, config) : resolveExpiration(et, parent, now, config);
    }
    const adding = ctx.transport.internal ? ctx.transport.addToLists : undefined;
    for (const [name, entries] of Object.entries(adding ?? {})) {
      if (!(name in changes)) continue;
      const stored = Array.isArray(resource.doc[name]) ? (resource.doc[name] as unknown[]) : [];
      changes[name] = [...stored, ...entries.filter((entry) => !stored.includes(entry))];
    }
    const links = await resolvePolicyLinks(tx, ctx.services.self, changes.acpi, isAnnouncedType(resource.ty) ? cseIdOfAddress(resource.doc.lnk, ctx.services.self.spId) : undefined);
    if (links) changes.acpi = links;
    const previous = { ...resource.doc };
    for (const [name, value] of Object.entries(changes)) {
      if (value === null) delete resource.doc[name];
      else resource.doc[name] = value;
    }
    if ('loc' in changes) deriveLocationBox(resource.doc);
    await definition?.hooks.beforeUpdate?.(hookContext(ctx, tx), resource, changes, previous);
    if (resource.ty === RESOURCE_TYPE.subscription && 'acrs' in changes) {
      const kept = new Set(Array.isArray(resource.doc.acrs) ? resource.doc.acrs : []);
      const left = (Array.isArray(previous.acrs) ? (previous.acrs as unknown[]) : []).filter((a): a is string => typeof a === 'string' && !kept.has(a));
      await leaveCrossResourceSubscriptions(tx, ctx.services, resource, left, now);
    }
    if (isNotifying(resource.ty) && ('nu' in changes || 'nfu' in changes)) {
      // Bound afresh: nu targets just added (and verified) that the list now holds (a join's addToLists builds it
      // from what is stored), and an nfu that changed; an nfu repeated unchanged keeps the registration it named.
      const nfu = 'nfu' in changes && typeof changes.nfu === 'string' && changes.nfu !== previous.nfu ? [changes.nfu] : [];
      const listed = new Set(Array.isArray(resource.doc.nu) ? (resource.doc.nu as unknown[]) : []);
      const rebound = [...(added ?? []).filter((target) => listed.has(target)), ...nfu];
      await rebindTargets(tx, ctx.services.self, resource, rebound);
      assertAsked(asked, resource.doc[TARGET_BINDING_KEY] as Record<string, unknown>, rebound);
    }
    resource.lt = formatTimestamp(now);
    await tx.update(resource);
    await checkGrowth(ctx, tx, resource, sizeBefore);
    await recordEvent(tx, eventContext(ctx.services, now), resource, {
      type: EVENT.UPDATE,
      resource,
      modified: { ...content, lt: resource.lt },
      operation: OPERATION.UPDATE,
      originator: ctx.originator?.id ?? '',
    });
    return { rsc: RSC.UPDATED, resource, modified: modifiedAttributes(content, resource, before) } satisfies Outcome;
  });
  await access.invalidate(outcome.resource);
  return outcome;
}

/**
 * The registrations a subscription's targets name after an update: added targets (just verified) name the
 * AE holding their AE-ID now; a target kept keeps the registration it named before, so an update never
 * hands a subscription over to a later holder of an AE-ID it named.
 */
async function rebindTargets(tx: ResourceStore, self: LocalIdentity, sub: StoredResource, added: readonly string[]): Promise<void> {
  const before = (sub.doc[TARGET_BINDING_KEY] ?? {}) as Record<string, number>;
  const current = [...((sub.doc.nu as string[] | undefined) ?? []), sub.doc.su, sub.doc.nfu].filter((t): t is string => typeof t === 'string');
  const addedSet = new Set(added);
  const bound = await bindTargets(tx, self, current.filter((t) => addedSet.has(t)));
  for (const target of current.filter((t) => !addedSet.has(t))) {
    const { ae } = await resolveTarget(tx, self, target);
    if (ae && typeof before[ae.ri] === 'number') bound[ae.ri] = before[ae.ri] as number;
  }
  sub.doc[TARGET_BINDING_KEY] = bound;
}
