// A parent's instances (a container's contentInstances, a flexContainer's flexContainerInstances): kept within
// mni / mbs / mia, with cni / cbs counting them [TS-0004 §7.4.7.2.1, §7.4.37.2.3].
import { CseError, badRequest } from '../primitive/errors.js';
import { formatTimestamp, parseTimestamp } from '../primitive/identifiers.js';
import { RSC } from '../primitive/rsc.js';
import type { ResourceStore, StoredResource } from '../storage/store.js';
import type { HookContext } from './define.js';

export interface InstanceLimits {
  readonly mni?: number | undefined;
  readonly mbs?: number | undefined;
  readonly mia?: number | undefined;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

/** Where an instance keeps its contentSize. */
const SIZE = 'cs';

/** An instance's contentSize. */
export const instanceSize = (instance: StoredResource): number => num(instance.doc[SIZE]);

/** contentSize is the size of con in bytes [TS-0001 §9.6.7]: UTF-8 for strings, the JSON text otherwise. */
export function contentSize(con: unknown): number {
  return Buffer.byteLength(typeof con === 'string' ? con : JSON.stringify(con) ?? '', 'utf8');
}

/**
 * The contentSize of a new instance's con: beyond its parent's maxByteSize it could never be kept (5207), beyond a
 * request body it is 4000. `parentName` names the parent in the message ("container", "timeSeries'").
 */
export function admittedContentSize(ctx: HookContext, instance: StoredResource, parent: StoredResource, parentName: string): number {
  const mbs = parent.doc.mbs;
  const cs = contentSize(instance.doc.con);
  if (typeof mbs === 'number' && cs > mbs) throw new CseError(RSC.NOT_ACCEPTABLE, `content of ${cs} bytes exceeds the ${parentName} maxByteSize of ${mbs}`);
  if (cs > ctx.config.http.maxBodyBytes) throw badRequest('content is too large');
  return cs;
}

/** maxInstanceAge bounds a new instance's life [TS-0004 §7.4.7.2.1 step 7]. */
export function boundByMaxInstanceAge(ctx: HookContext, instance: StoredResource, parent: StoredResource): void {
  const mia = parent.doc.mia;
  if (typeof mia === 'number' && instance.et !== undefined) instance.et = Math.min(instance.et, ctx.now + mia * 1000);
}

export function countInstanceAdded(parent: StoredResource, instance: StoredResource): void {
  parent.doc.cni = num(parent.doc.cni) + 1;
  parent.doc.cbs = num(parent.doc.cbs) + instanceSize(instance);
}

export function countInstanceRemoved(parent: StoredResource, instance: StoredResource): void {
  parent.doc.cni = Math.max(0, num(parent.doc.cni) - 1);
  parent.doc.cbs = Math.max(0, num(parent.doc.cbs) - instanceSize(instance));
}

/**
 * The bookkeeping of a container or timeSeries whose instance was removed: cni and cbs changed, a modification
 * of the parent that its stateTag counts [TS-0001 §9.6.1.3.2] and its lastModifiedTime shows.
 */
export async function instanceRemoved(ctx: HookContext, parent: StoredResource, instance: StoredResource): Promise<void> {
  countInstanceRemoved(parent, instance);
  parent.doc.st = num(parent.doc.st) + 1;
  parent.lt = formatTimestamp(ctx.now);
  await ctx.store.update(parent);
}

/**
 * A read of a container or timeSeries first removes its expired and aged-out instances; that changes cni and cbs
 * as a deletion does, so it is the same modification of the parent (st, lt).
 */
export async function tidyBeforeRead(ctx: HookContext, parent: StoredResource, instanceType: number): Promise<void> {
  const purged = await purgeExpiredInstances(ctx, parent, instanceType);
  const trimmed = await trimInstances(ctx, parent, instanceType);
  if (!purged && !trimmed) return;
  parent.doc.st = num(parent.doc.st) + 1;
  parent.lt = formatTimestamp(ctx.now);
  await ctx.store.update(parent);
}

/**
 * Drops the oldest instances until cni ≤ mni, cbs ≤ mbs and none is older than mia. These removals are
 * housekeeping: they send no deletion notifications. Returns true when it removed any.
 */
export async function trimInstances(ctx: HookContext, parent: StoredResource, instanceType: number, limits: InstanceLimits = parent.doc): Promise<boolean> {
  const { mni, mbs } = limits;
  const oldestAllowed = limits.mia === undefined ? undefined : ctx.now - limits.mia * 1000;
  let removed = false;
  for (;;) {
    const excess = mni === undefined ? 0 : num(parent.doc.cni) - mni;
    const overSize = mbs !== undefined && num(parent.doc.cbs) > mbs;
    let drop = Math.max(excess, overSize ? 1 : 0);
    if (drop === 0) {
      if (oldestAllowed === undefined) break;
      const [oldest] = await ctx.store.children(parent.ri, { ty: instanceType, limit: 1 });
      if (!oldest || (parseTimestamp(oldest.ct) ?? 0) > oldestAllowed) break;
      drop = 1;
    }
    // Over mni by n: the n oldest go at once. Over mbs, one at a time: how many depends on their sizes.
    const dropped = await ctx.store.dropOldestChildren(parent.ri, instanceType, drop, SIZE);
    if (dropped.count === 0) break;
    parent.doc.cni = Math.max(0, num(parent.doc.cni) - dropped.count);
    parent.doc.cbs = Math.max(0, num(parent.doc.cbs) - dropped.size);
    removed = true;
  }
  return removed;
}

/** Removes instances whose et has passed, so counters and la/ol never show expired data. */
export async function purgeExpiredInstances(ctx: HookContext, parent: StoredResource, instanceType: number): Promise<boolean> {
  const expired = await ctx.store.find({ pi: parent.ri, ty: instanceType, expiredAt: ctx.now, limit: 10_000 });
  for (const instance of expired) {
    await ctx.store.deleteSubtree(instance.ri);
    countInstanceRemoved(parent, instance);
  }
  return expired.length > 0;
}

/** Whether instances past mia or their et wait for removal (checked outside any transaction, before a read). */
export async function instancesStale(ctx: HookContext, parent: StoredResource, instanceType: number): Promise<boolean> {
  const mia = (parent.doc as InstanceLimits).mia;
  if (mia !== undefined) {
    const [oldest] = await ctx.store.children(parent.ri, { ty: instanceType, limit: 1 });
    if (oldest && (parseTimestamp(oldest.ct) ?? 0) <= ctx.now - mia * 1000) return true;
  }
  const expired = await ctx.store.find({ pi: parent.ri, ty: instanceType, expiredAt: ctx.now, limit: 1 });
  return expired.length > 0;
}

/**
 * The newest (or oldest) living instance in one read, when that read can also tell that nothing waits for removal
 * (what instancesStale checks): undefined when there is none, 'refresh first' when an instance expired or mia
 * applies (whether one aged out needs the oldest instance's ct).
 */
export async function edgeInstanceIfFresh(store: ResourceStore, parent: StoredResource, instanceType: number, newest: boolean, now: number): Promise<StoredResource | undefined | 'refresh first'> {
  if ((parent.doc as InstanceLimits).mia !== undefined) return 'refresh first';
  const { child, expired } = await store.edgeChild(parent.ri, instanceType, newest, now);
  return expired ? 'refresh first' : child;
}

/** Removes every instance, as housekeeping (no deletion notifications, like trimming); cni and cbs go to 0. */
export async function dropAllInstances(ctx: HookContext, parent: StoredResource, instanceType: number): Promise<void> {
  while ((await ctx.store.dropOldestChildren(parent.ri, instanceType, 500, SIZE)).count === 500);
  parent.doc.cni = 0;
  parent.doc.cbs = 0;
}
