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
import { eventContext } from './events.js';
import { recordEvent } from '../notifications/events.js';
import { verifyTargets } from '../notifications/verify.js';
import { EVENT } from '../resources/types/subscription.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { OPERATION } from '../primitive/request.js';
import { checkGrowth, documentBytes } from '../quotas/stored.js';

export async function updateResource(ctx: RequestContext): Promise<Outcome> {
  const { registry, store, clock, config, access } = ctx.services;
  const content = ctx.content;
  const targetRi = ctx.resource?.ri;
  if (!content || targetRi === undefined) throw new Error('update runs after validateContent');
  // New notification targets are verified first, outside the transaction [TS-0001 table 10.2.10.4-1].
  if (ctx.resource?.ty === RESOURCE_TYPE.subscription && Array.isArray(content.nu)) {
    const known = new Set((ctx.resource.doc.nu as string[] | undefined) ?? []);
    const added = (content.nu as string[]).filter((t) => !known.has(t));
    await verifyTargets(ctx.services, added, ctx.originator?.id ?? '', `/${ctx.services.self.cseId}/${targetRi}`);
  }
  await registry.get(ctx.resource?.ty ?? -1)?.hooks.prepare?.(hookContext(ctx, store), content, 'update', ctx.resource as StoredResource);
  const outcome = await store.transaction(async (tx) => {
    const resource = await tx.getForUpdate(targetRi);
    if (!resource) throw notFound('the resource was deleted meanwhile');
    const before = representation(resource);
    const sizeBefore = documentBytes(resource);
    const definition = registry.get(resource.ty);
    const now = clock.now();
    const { et, ...changes } = content;
    if (et !== undefined) {
      const parent = await tx.get(resource.pi);
      resource.et = et === null ? resolveExpiration(undefined, parent, now, config) : resolveExpiration(et, parent, now, config);
    }
    const links = await resolvePolicyLinks(tx, ctx.services.self, changes.acpi);
    if (links) changes.acpi = links;
    for (const [name, value] of Object.entries(changes)) {
      if (value === null) delete resource.doc[name];
      else resource.doc[name] = value;
    }
    if ('loc' in changes) deriveLocationBox(resource.doc);
    await definition?.hooks.beforeUpdate?.(hookContext(ctx, tx), resource, changes);
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
