// The one storage interface. Type-agnostic: a resource is its universal columns plus a JSON document.

export interface StoredResource {
  ri: string;
  /** Parent resource ID; empty for the CSEBase. */
  pi: string;
  ty: number;
  rn: string;
  /** Structured (hierarchical) CSE-relative address, e.g. `cse-in/lamp/data`. */
  srn: string;
  ct: string;
  lt: string;
  /** Expiration as epoch milliseconds; undefined: never expires (the CSEBase). */
  et?: number;
  /** AE-ID at the root of the AE subtree that holds this resource, if any. */
  owner?: string;
  /** Insertion order, assigned by the store; orders siblings (oldest/latest). */
  seq?: number;
  /**
   * Whose quota the resource counts against (set at insert, never changed): one resource, the bytes of its
   * document as stored (kept current by every update), and one subscription if it is one.
   */
  charge?: string;
  /** Every other attribute, by short name. */
  doc: Record<string, unknown>;
}

export interface ChildQuery {
  ty?: number;
  limit?: number;
  offset?: number;
  /** Newest first (by insertion order) instead of oldest first. */
  newestFirst?: boolean;
  /** Leave out children whose et is at or before this instant (epoch ms). */
  aliveAt?: number;
}

export interface FindQuery {
  /** Resources whose et is at or before this instant (epoch ms). */
  expiredAt?: number;
  ty?: number;
  /** Only children of this parent. */
  pi?: string;
  limit: number;
}

/**
 * One pending outgoing message (a notification) in the durable outbox. It is written in the same
 * transaction as the change that caused it, so an acknowledged change never loses its notification.
 * Messages to one target are delivered in id order, one at a time, by whichever process leases the head.
 */
export interface OutboxMessage {
  id: number;
  /** Where it goes: a URL, or 'pch:<polling channel ri>'. */
  target: string;
  /** The subscription it belongs to (for batching, latestNotify and expirationCounter). */
  subscription: string;
  /** The primitive content, JSON. */
  content: string;
  created: number;
  /** Not before this instant (retries back off; batches wait). */
  notBefore: number;
  attempts: number;
  /** The payload the message refers to (see NewOutboxMessage.payload), and its content read with it. */
  payload?: number;
  shared?: string;
}

export interface NewOutboxMessage extends Omit<OutboxMessage, 'id' | 'attempts' | 'shared'> {
  /**
   * A payload stored once with storePayload() for every message of one event; the message reads it as
   * `shared`. It goes when the last message referring to it goes.
   */
  payload?: number;
  /** Whose outbox usage the message counts against (the creator of its subscription). */
  originator?: string;
  /** What it counts for there, bytes (default: its content's length). */
  bytes?: number;
}

/** How long a process holds what it leased from the outbox (queue heads, and what it took behind them) before others may take it. */
export const OUTBOX_LEASE_MS = 60_000;

/** Which outbox queues a lease looks at, by target prefix. */
export interface LeaseScope {
  readonly only?: string;
  readonly except?: readonly string[];
}

export interface DeletedSubtree {
  root: StoredResource;
  removed: ReadonlyArray<{ ri: string; ty: number }>;
}

/** What edgeChild found. */
export interface EdgeChild {
  /** The newest (or oldest) child of the type alive at the instant; undefined when none is. */
  child: StoredResource | undefined;
  /** Whether a child of the type had expired by then (it waits for removal). */
  expired: boolean;
}

/** What dropOldestChildren removed. */
export interface DroppedChildren {
  /** Children dropped (their descendants not counted). */
  count: number;
  /** The sum of their documents' numeric size attribute (absent: 0). */
  size: number;
  /** The identity of every deleted row, descendants included. */
  removed: ReadonlyArray<{ ri: string; ty: number }>;
}

/**
 * A filtered search below a resource (discovery, conditional retrieval), run by the database
 * [TS-0004 §7.3.3.17]. Conditions of different kinds combine with `operation`; values of one kind OR.
 */
export interface SearchQuery {
  /** Descendants of the resource at this path (the resource itself only with `only`). */
  below: string;
  /** Only this resource (conditional retrieval of the target). */
  only?: string;
  /** Only resources of these types (a requirement, unlike the `ty` condition). */
  onlyTypes?: readonly number[];
  /** Only resources with a child of this type. */
  withChildType?: number;
  /** Only resources whose numeric attribute lies in [min, max] (either bound optional). */
  numberRanges?: ReadonlyArray<readonly [string, number | undefined, number | undefined]>;
  /** Only resources with a label whose key (the part before ':', or the whole label) is one of these. */
  labelKeys?: readonly string[];
  /** Only resources carrying one of these labels (a requirement, unlike the `labels` condition). */
  labelsIn?: readonly string[];
  /** Only resources whose list attribute (name) holds one of these values (a requirement). */
  listHasAny?: readonly [string, readonly string[]];
  /** Deepest level below `below` (1 = children). */
  level?: number;
  ty?: readonly number[];
  /** Normalised timestamps (YYYYMMDDTHHMMSS,ffffff): ct < createdBefore, ct >= createdAfter … */
  createdBefore?: string;
  createdAfter?: string;
  modifiedSince?: string;
  unmodifiedSince?: string;
  /** epoch ms */
  expireBefore?: number;
  expireAfter?: number;
  stateTagSmaller?: number;
  stateTagBigger?: number;
  sizeAbove?: number;
  sizeBelow?: number;
  labels?: readonly string[];
  /** Media types matched against the part of cnf before ':'. */
  contentTypes?: readonly string[];
  /** Attribute name (validated: letters and digits) → value compared as text. */
  attributes?: ReadonlyArray<readonly [string, string]>;
  childTypes?: readonly number[];
  parentTypes?: readonly number[];
  /** Labels of a child / of the parent (childLabels, parentLabels). */
  childLabels?: readonly string[];
  parentLabels?: readonly string[];
  /** Attribute conditions on a child / on the parent. */
  childAttributes?: ReadonlyArray<readonly [string, string]>;
  parentAttributes?: ReadonlyArray<readonly [string, string]>;
  /**
   * How conditions combine [TS-0004 §6.3.4.2.34 filterOperation]. XOR is the logical exclusive or over all
   * conditions: an odd number of them hold (the spec gives no n-ary rule; this is the usual one).
   */
  operation: 'and' | 'or' | 'xor';
  /**
   * How many conditions the caller evaluates itself on the rows found (label queries, geo queries). With
   * OR / XOR the database then returns every row in scope, each with `matched`.
   */
  residual?: number;
  /** Alive at this instant (expired resources are never found). */
  aliveAt: number;
  /** Insertion order cursor: only resources with seq greater than this. */
  afterSeq?: number;
  /**
   * Documents come back without `con` (and each hit says its stored size): a search that needs only metadata
   * does not read and parse what may be megabytes of content per row.
   */
  withoutContent?: boolean;
  /**
   * The rows are wanted only to be named and decided on (a discovery that tests nothing on them): see SlimView.
   * The same rows come back, in the same order; only what is read of each differs.
   */
  slim?: SlimView;
  limit: number;
}

/**
 * What a slim search reads of a row: ri, pi, ty, rn, srn, owner and seq (ct and lt come back empty, et absent: the
 * row is alive at the query's aliveAt, all a discovery needs to know) and, of its document, only `attributes`
 * (those set), or nothing for rows of the `bare` types. The whole document of a row is not read, copied or
 * parsed: in a discovery page of 100 small instances that was most of the database's and the parser's work
 * (issue #18).
 */
export interface SlimView {
  readonly attributes: readonly string[];
  readonly bare: readonly number[];
}

/** A search result; `matched` is set when the query has residual conditions under OR / XOR. */
export interface SearchHit extends StoredResource {
  matched?: number;
  /** Characters of document text this row made the CSE parse (set by the stores). */
  bytes?: number;
  /** Characters of the whole stored document (set for withoutContent searches). */
  size?: number;
}

/** Conditions on a child itself (a child condition of discovery turned around): any label, every attribute, any type. */
export interface ChildCondition {
  labels?: readonly string[];
  attributes?: ReadonlyArray<readonly [string, string]>;
  ty?: readonly number[];
}

/**
 * Resource types the stores index by charge (`chargedOfType`): those whose periodic kind one creator may have only so
 * many of (resources/periodicWork.ts): <locationPolicy> 10, <crossResourceSubscription> 48, <timeSyncBeacon> 60.
 */
export const CHARGE_INDEXED_TYPES: readonly number[] = [10, 48, 60];
/** The index's condition, as the migrations write it and the query repeats it (so that both planners use it). */
export const CHARGE_INDEXED_CONDITION = `ty IN (${CHARGE_INDEXED_TYPES.join(', ')})`;

/** The <subscription> resource type [TS-0004 table 6.3.4.2.1-1]: counted separately in a quota. */
export const SUBSCRIPTION_TY = 23;

/** What the resources charged to one originator add up to, as the store counts them. */
export interface Usage {
  resources: number;
  bytes: number;
  subscriptions: number;
}

/**
 * A token kept for later requests by its ID, shared by every process on the store: a Local-Token-ID assigned to a
 * token an originator presented (kind 'lti'), or a token the built-in DAS issued, for DAS requests naming it in
 * tids (kind 'das'). The token itself is kept in compact form and verified again by whoever uses the record.
 */
export interface TokenRecord {
  readonly kind: 'lti' | 'das';
  /** The Local-Token-ID, or the tokenID. */
  readonly id: string;
  /** The originator it is for, absolute (//SP/CSE/AE): the only one it may serve. */
  readonly holder: string;
  /** What it stands for, unique per holder and kind (issuer and tokenID of the token). */
  readonly ref: string;
  readonly token: string;
  /** epoch ms: useless from then on (the token's exp), and removed by forgetTokens. */
  readonly until: number;
}

/** The most an insert may bring an originator's usage to; 0 or absent: no limit. */
export interface UsageLimits {
  readonly resources?: number;
  readonly bytes?: number;
  readonly subscriptions?: number;
}

/** An insert would have taken its charge's usage above a limit; nothing was stored. */
export class QuotaExceededError extends Error {
  constructor(
    readonly originator: string,
    readonly quota: keyof Usage,
    readonly limit: number,
    readonly usage: Usage,
  ) {
    super(`the ${quota} quota (${limit}) of '${originator}' is exhausted: ${usage[quota]} in use`);
    this.name = 'QuotaExceededError';
  }
}

/** Which limit, if any, one more resource of `bytes` (a subscription or not) would break, for `usage`. */
export function exceededLimit(originator: string, usage: Usage, bytes: number, subscription: boolean, limits: UsageLimits): QuotaExceededError | undefined {
  const over = (quota: keyof Usage, add: number): QuotaExceededError | undefined => {
    const limit = limits[quota] ?? 0;
    return limit > 0 && usage[quota] + add > limit ? new QuotaExceededError(originator, quota, limit, usage) : undefined;
  };
  return over('resources', 1) ?? over('bytes', bytes) ?? (subscription ? over('subscriptions', 1) : undefined);
}

export const NO_USAGE: Usage = { resources: 0, bytes: 0, subscriptions: 0 };

/** The error for an insert the database refused to count: the limit `usage` is at. */
export function refusal(originator: string, usage: Usage, bytes: number, subscription: boolean, limits: UsageLimits): QuotaExceededError {
  return exceededLimit(originator, usage, bytes, subscription, limits) ?? new QuotaExceededError(originator, 'resources', limits.resources ?? 0, usage);
}

/** A limit as the SQL compares it: 0 (none) becomes a bound no usage reaches. */
export function sqlLimit(limit: number | undefined): number {
  return limit === undefined || limit <= 0 ? Number.MAX_SAFE_INTEGER : limit;
}

export interface ResourceStore {
  get(ri: string): Promise<StoredResource | undefined>;
  /**
   * Reads a row that the transaction will derive a write from (a container's counters), locking it
   * against concurrent writers until the transaction ends. Outside a transaction it is a plain get.
   */
  getForUpdate(ri: string): Promise<StoredResource | undefined>;
  /**
   * Reads the parent of a resource about to be inserted, locked as getForUpdate, after locking its ancestors
   * (from the top) against deletion; undefined when the parent or an ancestor is gone. With lockSubtree it
   * keeps a resource from being inserted below a subtree that a concurrent transaction is deleting (it would
   * outlive its parent, and the next resource at the same path would inherit it).
   */
  getParentForInsert(parent: Pick<StoredResource, 'ri' | 'srn'>): Promise<StoredResource | undefined>;
  /**
   * Reads the root of a subtree about to be deleted and locks it: until the transaction ends nothing can be
   * inserted anywhere below it, and every later read in the transaction sees the whole subtree, including
   * what inserts that held the root when the lock was asked for added. deleteSubtree takes it itself.
   */
  lockSubtree(ri: string): Promise<StoredResource | undefined>;
  getByPath(srn: string): Promise<StoredResource | undefined>;
  children(pi: string, query?: ChildQuery): Promise<StoredResource[]>;
  /**
   * The <subscription> children of `pi`, oldest first, at most `limit`, expired ones included (the caller checks
   * `et`): what every event and fan-out of the resource reads. Remembered by the store (subscriptionCache.ts) and
   * shared by every caller: the objects are frozen, never to be changed. SQLite: always the current rows;
   * PostgreSQL: rows another process changed may be used until its broadcast arrives, at most 1 s.
   */
  subscriptionsOf(pi: string, limit: number): Promise<readonly StoredResource[]>;
  /**
   * The <subscription> or <crossResourceSubscription> `ri` (undefined when it is gone or another type), remembered
   * and shared as subscriptionsOf's are: what the deliverer checks before each notification.
   */
  notifying(ri: string): Promise<StoredResource | undefined>;
  count(pi: string, ty?: number): Promise<number>;
  /**
   * Resources of type `ty` (one of CHARGE_INDEXED_TYPES) charged to `charge`, alive at `aliveAt`, whose document holds
   * every one of `marks` (attribute, its value as text), at most `limit`: an index serves it, so its cost follows
   * that originator's own resources of the type, not the whole tree.
   */
  chargedOfType(charge: string, ty: number, marks: ReadonlyArray<readonly [string, string]>, aliveAt: number, limit: number): Promise<StoredResource[]>;
  /**
   * The newest (or oldest) child of type `ty` alive at `aliveAt`, and whether one of that type had expired by then,
   * in one read: a container's la / ol when no housekeeping waits.
   */
  edgeChild(pi: string, ty: number, newest: boolean, aliveAt: number): Promise<EdgeChild>;
  /**
   * Inserts; throws StoreConflictError when ri or srn exists. Returns the stored row (with seq). A resource with
   * a `charge` is counted to it in the same statement; with `limits`, an insert that would take the charge's usage
   * above one throws QuotaExceededError and stores nothing (atomic across processes: the count is a locked row).
   */
  insert(resource: StoredResource, limits?: UsageLimits): Promise<StoredResource>;
  /**
   * Replaces the row with the same ri; the universal columns ri, pi, ty, rn, srn and the charge never change.
   * The charge's byte count follows the document's new size.
   */
  update(resource: StoredResource): Promise<void>;
  /** What is charged to `originator` now (zeros when nothing is). */
  usage(originator: string): Promise<Usage>;
  /**
   * Deletes the resource and all its descendants. Returns the root as it was and the identity of every
   * deleted row (root first), or undefined when nothing was there. Descendants are not materialised:
   * a subtree may hold millions of rows.
   */
  deleteSubtree(ri: string): Promise<DeletedSubtree | undefined>;
  /**
   * Deletes the `count` oldest (by insertion order) children of `pi` of type `ty`, each with its subtree, and says
   * how many went and what their `sizeAttribute` (a top-level numeric attribute of the document, e.g. cs) adds up
   * to: a container's instance bookkeeping in one step instead of a look-up and a deleteSubtree per instance.
   * Fewer go when fewer are there (or a concurrent transaction deleted some first: only what this call deleted
   * counts).
   */
  dropOldestChildren(pi: string, ty: number, count: number, sizeAttribute: string): Promise<DroppedChildren>;
  find(query: FindQuery): Promise<StoredResource[]>;
  search(query: SearchQuery): Promise<SearchHit[]>;
  /**
   * The distinct access settings (type, owner, acpi, custodian, creator; each policy on its own) among the
   * oldest `scan` living children of `pi` that meet `condition`, at most `limit` of them, each as a resource
   * whose document holds only those attributes: enough for an access decision about every such child.
   */
  childAccessClasses(pi: string, condition: ChildCondition, aliveAt: number, scan: number, limit: number): Promise<StoredResource[]>;
  /** Resources of one type anywhere below (not including) the resource at `srn`. */
  findInSubtree(srn: string, ty: number, limit: number): Promise<StoredResource[]>;

  enqueue(messages: readonly NewOutboxMessage[]): Promise<void>;
  /** Stores content shared by several outbox messages once; returns its id for NewOutboxMessage.payload. */
  storePayload(content: string): Promise<number>;
  /** Bytes of queued messages counted against each of these originators (missing: none). */
  outboxUsage(originators: readonly string[]): Promise<Map<string, number>>;
  /** Removes every queued message of these targets (a deregistered AE's); returns how many. */
  dropQueued(targets: readonly string[]): Promise<number>;
  /**
   * Leases the head message of up to `limit` target queues whose head is due and not leased by anyone
   * else, for `leaseMs`. Only a queue's head is ever leased, so each target sees its messages in order.
   * `scope` narrows the queues by target prefix: only those starting with `only`, none starting with one
   * of `except` (so that kinds of work with slots of their own never take up each other's).
   */
  leaseHeads(owner: string, now: number, leaseMs: number, limit: number, scope?: LeaseScope): Promise<OutboxMessage[]>;
  /** The queued messages of a target, oldest first (optionally of one subscription; optionally only those after id `after`). */
  queued(target: string, subscription: string | undefined, limit: number, after?: number): Promise<OutboxMessage[]>;
  /**
   * The messages queued behind a head `owner` leased (ids above `after`, oldest first, optionally of one subscription),
   * for that holder to handle with it. Only a queue's head is leasable, but on a store several processes share
   * (PostgreSQL) a message committed before an older one of its queue was briefly that queue's head to the others,
   * and one of them may hold it: each message taken is leased to `owner` until `leaseUntil`, and the list ends
   * before the first one anyone holds, `owner` too (it goes out once, by its holder; a caller goes on after what
   * it took last). Give back what was taken and not removed with releaseTaken.
   */
  takeBehind(owner: string, now: number, leaseUntil: number, target: string, subscription: string | undefined, limit: number, after: number): Promise<OutboxMessage[]>;
  /** Releases the leases takeBehind gave `owner` on messages it did not remove: any holder of their queue's head may take them again. */
  releaseTaken(ids: readonly number[], owner: string): Promise<void>;
  /** Delivered or given up: removes them; returns the ids it removed (not those someone else removed first). */
  dequeue(ids: readonly number[]): Promise<number[]>;
  /** Removes a message `owner` holds the lease of; false (nothing removed) when its lease went to someone else. */
  dequeueLeased(id: number, owner: string): Promise<boolean>;
  /** Extends the leases `owner` holds on these messages (long-running outbox jobs). */
  renewLeases(ids: readonly number[], owner: string, until: number): Promise<void>;
  /**
   * Releases a lease and sets when the message may be tried again. With `unlessHeldByOtherThan`, a message someone
   * else holds is left as it is (a queue's next message, which another process may hold as a head: see takeBehind).
   */
  postpone(id: number, notBefore: number, attempts: number, unlessHeldByOtherThan?: string): Promise<void>;
  /** Number of queued messages for a target. */
  queueLength(target: string): Promise<number>;
  /**
   * Remembers `key` until `until` (epoch ms); true when it was not remembered at `now` (the first sighting),
   * false for a repeat. Shared by every process on the store (duplicate group requests).
   */
  claimOnce(key: string, until: number, now: number): Promise<boolean>;
  /** Forgets remembered keys whose time ended; returns how many. */
  forgetClaims(now: number): Promise<number>;
  /** Forgets `key` before its time, if it is still the claim that was made until `until` (not a later one). */
  forgetClaim(key: string, until: number): Promise<void>;
  /**
   * Keeps a token record unless one of the same kind, holder and ref is alive at `now`; then that one stays and is
   * returned with fresh false. A holder keeps at most `perHolder` records of a kind: the oldest beyond go.
   */
  keepToken(record: TokenRecord, perHolder: number, now: number): Promise<{ readonly id: string; readonly fresh: boolean }>;
  /** The token record of this kind and ID alive at `now`, or undefined. */
  tokenRecord(kind: TokenRecord['kind'], id: string, now: number): Promise<TokenRecord | undefined>;
  /** Removes token records whose time ended at `now`; returns how many. */
  forgetTokens(now: number): Promise<number>;
  /** Messages queued for all targets starting with `prefix`, counted up to `limit` (a bounded count). */
  countQueuedByPrefix(prefix: string, limit: number): Promise<number>;
  /**
   * In a transaction: holds a lock named `key` until it ends (another transaction asking for it waits), so that a
   * check of what is stored and the write it allows are one for every process sharing the store. SQLite runs one
   * transaction at a time already.
   */
  lockKey(key: string): Promise<void>;
  /** Runs fn atomically: every call on `tx` commits together or not at all. */
  transaction<T>(fn: (tx: ResourceStore) => Promise<T>): Promise<T>;
  /**
   * Tells every process on this store (this one included) about a change, e.g. so that caches drop
   * stale entries. Inside a transaction it is delivered only if the transaction commits.
   */
  broadcast(topic: string, payload: string): Promise<void>;
  /** Returns the function that removes the listener again. */
  subscribe(topic: string, listener: (payload: string) => void): () => void;
  /**
   * Calls `listener` whenever broadcasts may have been missed, so that whatever they keep current starts over
   * (PostgreSQL: each time the LISTEN connection is established, the first time included, since notifications sent
   * while it was down are never delivered). A store that cannot miss one (one process) has no such method.
   */
  onBroadcastsMissed?(listener: () => void): () => void;
  /** Resolves when the database answers a trivial query (readiness); rejects with the reason when it does not. */
  ping?(): Promise<void>;
  /** Connections of the backend's pool, where it keeps one (metrics). */
  poolStats?(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

/** The backend cannot be reached: the request was not carried out (never a success it cannot keep). */
export class StoreUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

/** The first string after every string starting with `prefix` (for range scans on an index). */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/**
 * The order queue heads are leased in: the one due longest first. Heads handed back because their target's slots
 * were full are due again later than heads that waited meanwhile, so they do not keep coming first (by id they did,
 * and a few hundred failing targets kept every newer head back).
 */
export function byDueTime(a: { id: number; notBefore: number }, b: { id: number; notBefore: number }): number {
  return a.notBefore - b.notBefore || a.id - b.id;
}

/**
 * The target ranges [from, below) a lease scope covers (below undefined: no upper end): the `only` prefix, less
 * each `except` prefix. Compared as JS strings, which order like SQLite's bytewise text (and PostgreSQL's COLLATE "C") for the ASCII prefixes
 * the callers use.
 */
export function leaseRanges(scope: LeaseScope): Array<[string, string | undefined]> {
  let ranges: Array<[string, string | undefined]> = [scope.only ? [scope.only, prefixEnd(scope.only)] : ['', undefined]];
  for (const prefix of scope.except ?? []) {
    if (!prefix) continue;
    const end = prefixEnd(prefix);
    ranges = ranges.flatMap(([from, below]): Array<[string, string | undefined]> => {
      const kept: Array<[string, string | undefined]> = [];
      const leftEnd = below === undefined || prefix < below ? prefix : below;
      if (from < leftEnd) kept.push([from, leftEnd]);
      const rightStart = end > from ? end : from;
      if (below === undefined || rightStart < below) kept.push([rightStart, below]);
      return kept;
    });
  }
  return ranges;
}

export class StoreConflictError extends Error {
  constructor(
    message: string,
    /** Which identity is taken, where the backend says: the ri, or the path (srn). */
    readonly on?: 'ri' | 'srn',
  ) {
    super(message);
    this.name = 'StoreConflictError';
  }
}
