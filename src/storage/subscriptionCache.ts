// Subscriptions as the notification path reads them, remembered by the store that holds them (issue #18): every
// ingest reads its container's subscriptions to record the event, its fan-out reads them again, and the deliverer
// read each message's subscription before sending it. The store drops an entry on every write of a subscription
// (insert, update, a subtree or an oldest child deleted) through its own write methods, which are the only ways a
// row changes, and on every rollback. SQLite: one process, one connection, so the cache is the connection's view,
// exactly. PostgreSQL: other processes write too; their writes reach this one by the store's broadcast (sent in the
// writing transaction, so delivered at its commit), and an entry is never used longer than `ttlMs` after it was read,
// which bounds the staleness when a broadcast is lost (the listening connection was re-established).
import { SUBSCRIPTION_TY, type StoredResource } from './store.js';

/** Entries kept at most, per map; beyond it the map starts again (the bound on memory, like the access caches). */
const ENTRIES_KEPT = 10_000;
/** <subscription> and <crossResourceSubscription>: the resources a queued notification names. */
const NOTIFYING_TYPES: ReadonlySet<number> = new Set([SUBSCRIPTION_TY, 48]);
export const SUBSCRIPTION_CACHE_TOPIC = 'subscription-cache';

/** Deeply frozen: entries are shared by every caller, and a change made to one would be seen by the next. */
export function frozen<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const item of Object.values(value)) frozen(item);
    Object.freeze(value);
  }
  return value;
}

export class SubscriptionCache {
  private readonly lists = new Map<string, { readonly at: number; readonly limit: number; readonly subs: readonly StoredResource[] }>();
  private readonly one = new Map<string, { readonly at: number; readonly sub: StoredResource }>();
  /**
   * Bumped by every invalidation: a read that started before one must not fill the cache with what it read (it
   * may be from before the change).
   */
  private generation = 0;

  /** `ttlMs`: how long an entry may be used after its read (undefined: until a write drops it). */
  constructor(private readonly ttlMs?: number) {}

  isNotifying(ty: number): boolean {
    return NOTIFYING_TYPES.has(ty);
  }

  /** The generation a read starts in, to hand to fillList/fillOne afterwards. */
  get current(): number {
    return this.generation;
  }

  private fresh(at: number): boolean {
    return this.ttlMs === undefined || Date.now() - at < this.ttlMs;
  }

  list(pi: string, limit: number): readonly StoredResource[] | undefined {
    const entry = this.lists.get(pi);
    return entry && entry.limit === limit && this.fresh(entry.at) ? entry.subs : undefined;
  }

  fillList(pi: string, limit: number, subs: readonly StoredResource[], generation: number): readonly StoredResource[] {
    const shared = frozen(subs);
    if (generation !== this.generation) return shared;
    if (this.lists.size >= ENTRIES_KEPT) this.lists.clear();
    this.lists.set(pi, { at: Date.now(), limit, subs: shared });
    return shared;
  }

  notifying(ri: string): StoredResource | undefined {
    const entry = this.one.get(ri);
    return entry && this.fresh(entry.at) ? entry.sub : undefined;
  }

  fillOne(sub: StoredResource, generation: number): StoredResource {
    const shared = frozen(sub);
    if (generation !== this.generation || !this.isNotifying(sub.ty)) return shared;
    if (this.one.size >= ENTRIES_KEPT) this.one.clear();
    this.one.set(sub.ri, { at: Date.now(), sub: shared });
    return shared;
  }

  /** A resource was inserted or updated. */
  written(r: Pick<StoredResource, 'ri' | 'pi' | 'ty'>): void {
    if (!this.isNotifying(r.ty)) return;
    this.drop(r.ri, r.pi);
  }

  /** Resources were deleted (a subtree, or oldest children of `pi`): each may have been a subscription or held some. */
  removed(pi: string, removed: ReadonlyArray<{ readonly ri: string; readonly ty: number }>): void {
    // Only when a subscription went, the parent's list and the reads under way: a container dropping its oldest
    // instance on every ingest keeps its subscriptions remembered. A resource removed without subscriptions below it
    // had an empty list, if any, which a read under way may still fill in.
    if (removed.some((r) => this.isNotifying(r.ty))) {
      this.generation++;
      this.lists.delete(pi);
    }
    for (const r of removed) {
      this.lists.delete(r.ri);
      this.one.delete(r.ri);
    }
  }

  /** A broadcast invalidation: `ri` and `pi` (either may be empty). */
  drop(ri: string, pi: string): void {
    this.generation++;
    if (pi) this.lists.delete(pi);
    if (ri) {
      this.one.delete(ri);
      this.lists.delete(ri);
    }
  }

  /** Everything goes (a rollback: what was read inside the transaction may never have been). */
  clear(): void {
    this.generation++;
    this.lists.clear();
    this.one.clear();
  }
}
