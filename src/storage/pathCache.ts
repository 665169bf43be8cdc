// Resources as a RETRIEVE by path finds them, remembered by the SQLite store (issue #18): every request that
// addresses a resource by its structured name (`cse-in/meter/data/la`, the usual form) read the target's row and
// parsed its document again, about 2 µs of a read of the latest instance, whose container rarely changes.
// SQLite only: one process and one connection make every change (the store holds the database's lock), and the
// store drops an entry through its own write methods, the only ways a row changes: an update, a deleted subtree, an
// oldest child dropped (each by the paths the statement reports), and everything on a rollback. PostgreSQL, where
// other processes write too, keeps no such cache.
import { frozen } from './subscriptionCache.js';
import type { StoredResource } from './store.js';

/** Entries kept at most; beyond it the map starts again (the bound on memory, like the other caches of the store). */
const ENTRIES_KEPT = 4_096;
/**
 * Documents longer than this (characters of stored JSON) are not kept: the cache is for the resources many requests
 * address (containers, AEs, policies), not for large instances read once, and this bounds it to a few tens of MB.
 */
const LONGEST_DOCUMENT = 4_096;
/** Instances are addressed once each, and mostly through `la`/`ol` (a child query), not by their own path. */
const INSTANCE_TYPES: ReadonlySet<number> = new Set([4, 30, 58]);

export class PathCache {
  private readonly entries = new Map<string, StoredResource>();

  /** The resource at `srn` as last read, shared and deeply frozen: a caller that changes it makes a copy. */
  get(srn: string): StoredResource | undefined {
    return this.entries.get(srn);
  }

  /** Keeps `resource`, read by its path, when it is worth keeping; returns it frozen either way (one behaviour for callers). */
  fill(resource: StoredResource, documentLength: number): StoredResource {
    const shared = frozen(resource);
    if (documentLength > LONGEST_DOCUMENT || INSTANCE_TYPES.has(resource.ty)) return shared;
    if (this.entries.size >= ENTRIES_KEPT) this.entries.clear();
    this.entries.set(resource.srn, shared);
    return shared;
  }

  /** The resource at `srn` was written or deleted. */
  drop(srn: string): void {
    this.entries.delete(srn);
  }

  /** Everything goes (a rollback: what was read inside the transaction may never have been). */
  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
