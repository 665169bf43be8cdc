// CREATE [TS-0004 §7.3.3.3 / §7.4.x]: defaults, identifiers, hooks and the parent's bookkeeping in one transaction.
import { CseError, notFound } from '../primitive/errors.js';
import { MAX_PATH_SEGMENTS, formatTimestamp, newResourceId } from '../primitive/identifiers.js';
import { RSC } from '../primitive/rsc.js';
import type { Outcome, RequestContext } from '../pipeline/context.js';
import { CREATOR_KEY, CREATOR_REGISTRATION_KEY } from '../resources/common.js';
import { deriveLocationBox } from '../resources/geometry.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { registrationSeq } from '../security/registrations.js';
import { StoreConflictError, type StoredResource } from '../storage/store.js';
import { resolveExpiration } from './expiration.js';
import { hookContext } from './hookContext.js';
import { modifiedAttributes } from './modified.js';
import { resolvePolicyLinks } from './policyLinks.js';
import { cseIdOfAddress, isAnnouncedType } from '../resources/announceable.js';
import { eventContext } from './events.js';
import { SUBSCRIBER_AUTHENTICATED_KEY, TARGET_BINDING_KEY, bindTargets, recordEvent } from '../notifications/events.js';
import { assertAsked, beaconTargetsToVerify, targetsToVerify, unverifiedSubscriberUri, verificationOptions, verifyTargets, type VerifiedRegistrations } from '../notifications/verify.js';
import { EVENT } from '../resources/types/subscription.js';
import { isNotifying } from '../notifications/crossResource.js';
import { OPERATION } from '../primitive/request.js';
import { storageCharge } from '../quotas/stored.js';
import { createdDefinition } from '../pipeline/stages/validateContent.js';

export async function createResource(ctx: RequestContext): Promise<Outcome> {
  const { registry, store, clock, config } = ctx.services;
  const definition = createdDefinition(registry, ctx.request.ty, ctx.request.pc);
  const content = ctx.content;
  const addressed = ctx.resource;
  if (!definition || !content || addressed === undefined) throw new Error('create runs after validateContent');
  const originator = ctx.originator?.id ?? '';
  const shortType = definition.typeName.slice(definition.typeName.indexOf(':') + 1);
  const ri = newResourceId(shortType, clock.now());
  // Verification talks to the targets: it happens before, never inside, the transaction.
  let asked: VerifiedRegistrations = new Map();
  if (isNotifying(definition.ty)) {
    // A member request of a group fan-out: the targets the fan-out verified for all its members are not asked again.
    const verified = ctx.transport.internal ? ctx.transport.verifiedTargets : undefined;
    const targets = targetsToVerify(content).filter((t) => !verified?.has(t));
    const own = await verifyTargets(ctx.services, targets, originator, `/${ctx.services.self.cseId}/${ri}`, unverifiedSubscriberUri(content), verificationOptions(ctx));
    // Those the fan-out asked are bound to the registrations it asked, as those asked here are.
    asked = new Map([...((ctx.transport.internal ? ctx.transport.verifiedRegistrations : undefined) ?? []), ...own]);
  } else if (definition.ty === RESOURCE_TYPE.timeSyncBeacon) {
    await verifyTargets(ctx.services, beaconTargetsToVerify(content), originator, `/${ctx.services.self.cseId}/${ri}`, undefined, verificationOptions(ctx));
  }
  await definition.hooks.prepare?.(hookContext(ctx, store), content, 'create', addressed);
  if (content.at !== undefined) ctx.services.remote?.announcements.checkCreate(definition.ty, content, addressed);

  const outcome = await store.transaction(async (tx) => {
    // The parent's counters (cni, cbs, st) are derived from this row: lock it against concurrent writers. Its
    // ancestors are locked against deletion: a resource must not outlive a subtree deleted meanwhile.
    const parent = await tx.getParentForInsert(addressed);
    // The same ri at another path is an AE registered again under another name: not the parent addressed.
    if (parent?.srn !== addressed.srn) throw notFound('the parent resource was deleted meanwhile');
    const hooks = hookContext(ctx, tx);
    const now = clock.now();
    const { rn, et, ...attributes } = content;
    const doc: Record<string, unknown> = { ...attributes, [CREATOR_KEY]: originator };
    // creator is only ever filled in by the CSE, and only when the request asked for it with null.
    if ('cr' in doc) doc.cr = originator;
    deriveLocationBox(doc);
    const ts = formatTimestamp(now);
    const resource: StoredResource = {
      ri,
      pi: parent.ri,
      ty: definition.ty,
      rn: '',
      srn: '',
      ct: ts,
      lt: ts,
      et: resolveExpiration(et, parent, now, config),
      doc,
    };
    if (parent.owner !== undefined) resource.owner = parent.owner;
    // Made by an AE outside its own subtree: outlives its deregistration, so the registration is recorded with it.
    if (resource.owner !== originator && definition.ty !== RESOURCE_TYPE.AE && /^[CS][^/]*$/.test(originator)) {
      // Read in this transaction (the registrations' cache reads outside it, and would wait for it).
      const seq = await registrationSeq(tx, originator);
      if (seq !== undefined) doc[CREATOR_REGISTRATION_KEY] = seq;
    }
    const links = await resolvePolicyLinks(tx, ctx.services.self, doc.acpi, isAnnouncedType(definition.ty) ? cseIdOfAddress(doc.lnk, ctx.services.self.spId) : undefined);
    if (links) doc.acpi = links;
    await definition.hooks.beforeCreate?.(hooks, resource, parent);
    if (isNotifying(definition.ty)) {
      // What later notifications are decided by (fanout.ts): whether the subscriber was authenticated, and
      // which registration each AE-ID target named — its verification went to that AE, not to a later holder.
      doc[SUBSCRIBER_AUTHENTICATED_KEY] = ctx.originator?.authenticated === true;
      const targets = [...((doc.nu as string[] | undefined) ?? []), doc.su, doc.nfu].filter((t): t is string => typeof t === 'string');
      const bound = await bindTargets(tx, ctx.services.self, targets);
      assertAsked(asked, bound);
      doc[TARGET_BINDING_KEY] = bound;
    }
    // A hook may name a resource the request left unnamed (a subscription's notificationSchedule).
    resource.rn = typeof rn === 'string' ? rn : resource.rn || resource.ri;
    resource.srn = `${parent.srn}/${resource.rn}`;
    if (resource.srn.split('/').length > MAX_PATH_SEGMENTS) {
      throw new CseError(RSC.NOT_ACCEPTABLE, `resources may be nested at most ${MAX_PATH_SEGMENTS} levels deep`);
    }
    // An AE counts against its own quota (its registration had no identity yet); the rest against their creator.
    const { charge, limits } = storageCharge(ctx);
    resource.charge = resource.ty === RESOURCE_TYPE.AE && resource.owner !== undefined ? resource.owner : charge;
    let stored: StoredResource;
    try {
      stored = await tx.insert(resource, limits);
    } catch (err) {
      if (err instanceof StoreConflictError) {
        // The path is taken: the store's unique index decides (no look-up before the insert: on PostgreSQL it was
        // one more round trip while the parent's row is locked, on every create).
        if (err.on === 'srn') throw new CseError(RSC.CONFLICT, `a resource named '${resource.rn}' already exists under '${parent.srn}'`);
        // Another process registered the same AE-ID between our check and the insert.
        if (resource.ty === RESOURCE_TYPE.AE && resource.doc.aei === resource.ri) {
          throw new CseError(RSC.ORIGINATOR_HAS_ALREADY_REGISTERED, `an AE with AE-ID '${resource.ri}' is already registered`);
        }
        throw new CseError(RSC.CONFLICT, `resource '${resource.rn}' conflicts with an existing resource`);
      }
      throw err;
    }
    await definition.hooks.afterCreate?.(hooks, stored);
    await registry.of(parent)?.hooks.afterChildAdded?.(hooks, parent, stored);
    await recordEvent(tx, eventContext(ctx.services, now), parent, { type: EVENT.CREATE_CHILD, resource: stored, operation: OPERATION.CREATE, originator });
    await ctx.services.access.invalidate(stored, tx);
    return { rsc: RSC.CREATED, resource: stored, modified: modifiedAttributes(content, stored) } satisfies Outcome;
  });
  if (definition.hooks.afterCommit) outcome.resource = await definition.hooks.afterCommit(ctx, outcome.resource);
  // Announcement talks to other CSEs: after the commit, and at shows where it succeeded [TS-0004 §7.3.3.10].
  if (content.at !== undefined && ctx.services.remote) outcome.resource = await ctx.services.remote.announcements.afterCreate(outcome.resource);
  return outcome;
}
