// <container> (ty 3, TS-0001 §9.6.6; TS-0004 §7.4.6): keeps contentInstances within mni / mbs / mia.
import { ACCESS_CONTROL, CREATOR, EXPIRATION, LABELS, LOCATION, STATE_TAG, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributesOf, type AttributeSpec, type HookContext } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { formatTimestamp, parseTimestamp } from '../../primitive/identifiers.js';
import type { StoredResource } from '../../storage/store.js';

const attributes = {
  ...UNIVERSAL,
  ...EXPIRATION,
  ...LABELS,
  ...LOCATION,
  ...ACCESS_CONTROL,
  ...CREATOR,
  ...STATE_TAG,
  mni: { type: 'nonNegInteger', create: 'O', update: 'O' },
  mbs: { type: 'nonNegInteger', create: 'O', update: 'O' },
  mia: { type: 'nonNegInteger', create: 'O', update: 'O' },
  cni: { type: 'nonNegInteger', create: 'NP', update: 'NP' },
  cbs: { type: 'nonNegInteger', create: 'NP', update: 'NP' },
  li: { type: 'anyURI', create: 'NP', update: 'NP' },
  or: { type: 'anyURI', create: 'O', update: 'O' },
  disr: { type: 'boolean', create: 'O', update: 'O' },
} as const satisfies Record<string, AttributeSpec>;

export type ContainerAttributes = AttributesOf<typeof attributes>;

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const sizeOf = (cin: StoredResource): number => num(cin.doc.cs);

/**
 * Drops the oldest instances until cni ≤ mni, cbs ≤ mbs and none is older than mia [TS-0004 §7.4.7.2.1].
 * These removals are housekeeping: they send no deletion notifications. Returns true when it removed any.
 */
async function trimInstances(ctx: HookContext, container: StoredResource): Promise<boolean> {
  const attrs = container.doc as ContainerAttributes;
  const mni = attrs.mni;
  const mbs = attrs.mbs;
  const oldestAllowed = attrs.mia === undefined ? undefined : ctx.now - attrs.mia * 1000;
  let removed = false;
  for (;;) {
    const cni = num(attrs.cni);
    const cbs = num(attrs.cbs);
    const overCount = mni !== undefined && cni > mni;
    const overSize = mbs !== undefined && cbs > mbs;
    if (!overCount && !overSize && oldestAllowed === undefined) break;
    const [oldest] = await ctx.store.children(container.ri, { ty: RESOURCE_TYPE.contentInstance, limit: 1 });
    if (!oldest) break;
    const tooOld = oldestAllowed !== undefined && (parseTimestamp(oldest.ct) ?? 0) <= oldestAllowed;
    if (!overCount && !overSize && !tooOld) break;
    await ctx.store.deleteSubtree(oldest.ri);
    attrs.cni = Math.max(0, cni - 1);
    attrs.cbs = Math.max(0, cbs - sizeOf(oldest));
    removed = true;
  }
  return removed;
}

/** Removes instances whose et has passed, so counters and la/ol never show expired data. */
async function purgeExpired(ctx: HookContext, container: StoredResource): Promise<boolean> {
  const expired = await ctx.store.find({ pi: container.ri, ty: RESOURCE_TYPE.contentInstance, expiredAt: ctx.now, limit: 10_000 });
  const attrs = container.doc as ContainerAttributes;
  for (const cin of expired) {
    await ctx.store.deleteSubtree(cin.ri);
    attrs.cni = Math.max(0, num(attrs.cni) - 1);
    attrs.cbs = Math.max(0, num(attrs.cbs) - sizeOf(cin));
  }
  return expired.length > 0;
}

/** Removes every instance of a container, as housekeeping (no deletion notifications, like trimming). */
async function dropAllInstances(ctx: HookContext, container: StoredResource): Promise<void> {
  const attrs = container.doc as ContainerAttributes;
  for (;;) {
    const batch = await ctx.store.children(container.ri, { ty: RESOURCE_TYPE.contentInstance, limit: 500 });
    for (const cin of batch) await ctx.store.deleteSubtree(cin.ri);
    if (batch.length < 500) break;
  }
  attrs.cni = 0;
  attrs.cbs = 0;
}

export const containerType = defineResourceType({
  ty: RESOURCE_TYPE.container,
  typeName: 'm2m:cnt',
  attributes,
  childTypes: [RESOURCE_TYPE.container, RESOURCE_TYPE.contentInstance, RESOURCE_TYPE.subscription, RESOURCE_TYPE.semanticDescriptor],
  virtualChildren: ['la', 'ol'],
  creatable: true,
  updatable: true,
  deletable: true,
  hasAcpi: true,
  hooks: {
    beforeCreate(_ctx, resource) {
      Object.assign(resource.doc, { st: 0, cni: 0, cbs: 0 });
    },
    async afterChildAdded(ctx, container, child) {
      if (child.ty !== RESOURCE_TYPE.contentInstance) return;
      const attrs = container.doc as ContainerAttributes;
      attrs.cni = num(attrs.cni) + 1;
      attrs.cbs = num(attrs.cbs) + sizeOf(child);
      await trimInstances(ctx, container);
      container.lt = formatTimestamp(ctx.now);
      await ctx.store.update(container);
    },
    async afterChildRemoved(ctx, container, child) {
      if (child.ty !== RESOURCE_TYPE.contentInstance) return;
      const attrs = container.doc as ContainerAttributes;
      attrs.cni = Math.max(0, num(attrs.cni) - 1);
      attrs.cbs = Math.max(0, num(attrs.cbs) - sizeOf(child));
      // cni and cbs changed: a modification of the container, which its stateTag counts [TS-0001 §9.6.1.3.2].
      attrs.st = num(attrs.st) + 1;
      container.lt = formatTimestamp(ctx.now);
      await ctx.store.update(container);
    },
    async beforeUpdate(ctx, container, _changes, previous) {
      const attrs = container.doc as ContainerAttributes;
      attrs.st = num(attrs.st) + 1;
      // Instances written while retrieval was disabled are never to be read: when disableRetrieval goes from
      // TRUE to FALSE they are all deleted [TS-0001 §9.6.6 disableRetrieval]. Removing the attribute (null) makes
      // it FALSE too (its default, TS-0004 §7.4.6.1), so that deletes them as well; ACME does so only for false.
      if (previous.disr === true && attrs.disr !== true) await dropAllInstances(ctx, container);
      await purgeExpired(ctx, container);
      await trimInstances(ctx, container);
    },
    async isStale(ctx, container) {
      const attrs = container.doc as ContainerAttributes;
      if (attrs.mia !== undefined) {
        const [oldest] = await ctx.store.children(container.ri, { ty: RESOURCE_TYPE.contentInstance, limit: 1 });
        if (oldest && (parseTimestamp(oldest.ct) ?? 0) <= ctx.now - attrs.mia * 1000) return true;
      }
      const expired = await ctx.store.find({ pi: container.ri, ty: RESOURCE_TYPE.contentInstance, expiredAt: ctx.now, limit: 1 });
      return expired.length > 0;
    },
    async beforeRetrieve(ctx, container) {
      const purged = await purgeExpired(ctx, container);
      const trimmed = await trimInstances(ctx, container);
      if (purged || trimmed) await ctx.store.update(container);
    },
  },
});

/** The next stateTag of a container, taken by a new instance [TS-0004 §7.4.7.2.1 step 8]. */
export function nextStateTag(container: StoredResource): number {
  const attrs = container.doc as ContainerAttributes;
  const st = num(attrs.st) + 1;
  attrs.st = st;
  return st;
}
