// The server backend: PostgreSQL through a connection pool (pg). Several Warden processes may share one
// database: writers lock the rows they derive state from (getForUpdate), schema changes run under an
// advisory lock, and broadcast() rides on LISTEN/NOTIFY so caches in every process stay correct.
import pg from 'pg';
import { toAccessClass, toEdgeChild, toHit, toMessage, toResource, toSlimHits, type AccessClassRow, type EdgeRow, type OutboxRow, type ResourceRow } from './rows.js';
import { SUBSCRIPTION_CACHE_TOPIC, SubscriptionCache } from './subscriptionCache.js';
import { LARGE_SUBTREE, childAccessSql, searchRounds, searchSql, subtreeProbeSql, type ProbeRow, type SqlDialect } from './search.js';
import {
  type SearchQuery,
  type ChildCondition,
  StoreConflictError,
  StoreUnavailableError,
  type NewOutboxMessage,
  type LeaseScope,
  type OutboxMessage,
  type ChildQuery,
  type DeletedSubtree, type DroppedChildren, type EdgeChild, type FindQuery, type ResourceStore, type SearchHit, type StoredResource,
  type TokenRecord,
  type Usage,
  type UsageLimits,
  NO_USAGE,
  SUBSCRIPTION_TY,
  CHARGE_INDEXED_CONDITION,
  CHARGE_INDEXED_TYPES,
  exceededLimit,
  refusal,
  sqlLimit,
  leaseRanges,
  byDueTime,
} from './store.js';

/** Versioned migrations; applied in order, each once, in one transaction with the version bump. */
export const MIGRATIONS: readonly string[] = [
  // srn is compared byte-wise (COLLATE "C") so that the subtree range 'a/b/' <= srn < 'a/b0' is exact.
  // doc is text, not jsonb: content is kept exactly as it was sent.
  `CREATE TABLE resources (
     seq   BIGSERIAL PRIMARY KEY,
     ri    TEXT NOT NULL UNIQUE,
     pi    TEXT NOT NULL,
     ty    INTEGER NOT NULL,
     rn    TEXT NOT NULL,
     srn   TEXT COLLATE "C" NOT NULL UNIQUE,
     ct    TEXT NOT NULL,
     lt    TEXT NOT NULL,
     et    BIGINT,
     owner TEXT,
     doc   TEXT NOT NULL
   );
   CREATE INDEX resources_children ON resources (pi, ty, seq);
   CREATE INDEX resources_expiry ON resources (et) WHERE et IS NOT NULL;
   CREATE INDEX resources_parent_expiry ON resources (pi, et) WHERE et IS NOT NULL;`,
  `CREATE TABLE outbox (
     id           BIGSERIAL PRIMARY KEY,
     target       TEXT NOT NULL,
     subscription TEXT NOT NULL,
     content      TEXT NOT NULL,
     created      BIGINT NOT NULL,
     not_before   BIGINT NOT NULL,
     attempts     INTEGER NOT NULL DEFAULT 0,
     lease_owner  TEXT,
     lease_until  BIGINT
   );
   CREATE INDEX outbox_target ON outbox (target, id);`,
  `CREATE TABLE claims (key TEXT PRIMARY KEY, until BIGINT NOT NULL);
   CREATE INDEX claims_until ON claims (until);`,
  // One event's payload stored once for all its notifications; outbox bytes counted per originator.
  `CREATE TABLE outbox_payloads (id BIGSERIAL PRIMARY KEY, content TEXT NOT NULL);
   ALTER TABLE outbox ADD COLUMN payload BIGINT;
   ALTER TABLE outbox ADD COLUMN originator TEXT;
   ALTER TABLE outbox ADD COLUMN bytes BIGINT NOT NULL DEFAULT 0;
   CREATE INDEX outbox_payload ON outbox (payload) WHERE payload IS NOT NULL;
   CREATE TABLE outbox_usage (originator TEXT PRIMARY KEY, bytes BIGINT NOT NULL);`,
  // Quotas: each resource knows whose quota it counts against and its size; the sums per originator are kept
  // in the statement that changes them. Resources stored before count for the creator they record.
  `ALTER TABLE resources ADD COLUMN charge TEXT;
   ALTER TABLE resources ADD COLUMN bytes BIGINT NOT NULL DEFAULT 0;
   CREATE TABLE quota_usage (
     originator    TEXT PRIMARY KEY,
     resources     BIGINT NOT NULL DEFAULT 0,
     bytes         BIGINT NOT NULL DEFAULT 0,
     subscriptions BIGINT NOT NULL DEFAULT 0
   );
   UPDATE resources SET charge = doc::json ->> '__creator', bytes = octet_length(doc);
   INSERT INTO quota_usage (originator, resources, bytes, subscriptions)
     SELECT charge, count(*), sum(bytes), count(*) FILTER (WHERE ty = ${SUBSCRIPTION_TY}) FROM resources WHERE charge IS NOT NULL GROUP BY charge;`,
  // Outbox targets compare byte-wise, so that the deliverer can walk the queue heads on the (target, id) index
  // and skip a prefix's queues as one range (leaseHeads), whatever the database's collation.
  `ALTER TABLE outbox ALTER COLUMN target TYPE TEXT COLLATE "C";`,
  // A subtree deleted in one round trip. The root is locked in a statement of its own and the DELETE runs in
  // the next: a VOLATILE function takes a new snapshot for each statement it runs (as statements of a READ
  // COMMITTED transaction do), so the DELETE sees every row that inserts holding the root, or an ancestor, when
  // the lock was asked for had added (see deleteSubtree). Returns the root's row as JSON on its first line and
  // the identity of every deleted row; nothing when the root is gone.
  `CREATE FUNCTION warden_delete_subtree(root_ri TEXT) RETURNS TABLE (ri TEXT, ty INTEGER, srn TEXT, root TEXT)
   LANGUAGE plpgsql VOLATILE AS $fn$
   DECLARE
     r resources%ROWTYPE;
   BEGIN
     SELECT * INTO r FROM resources WHERE resources.ri = root_ri FOR UPDATE;
     IF NOT FOUND THEN RETURN; END IF;
     RETURN QUERY
       WITH del AS (DELETE FROM resources d WHERE d.srn = r.srn OR (d.srn >= (r.srn || '/') COLLATE "C" AND d.srn < (r.srn || '0') COLLATE "C")
                    RETURNING d.ri, d.ty, d.srn, d.charge, d.bytes),
         freed AS (SELECT del.charge, count(*) AS n, sum(del.bytes) AS b, count(*) FILTER (WHERE del.ty = ${SUBSCRIPTION_TY}) AS s
                   FROM del WHERE del.charge IS NOT NULL GROUP BY del.charge),
         q AS (UPDATE quota_usage u SET resources = u.resources - freed.n, bytes = u.bytes - freed.b, subscriptions = u.subscriptions - freed.s
               FROM freed WHERE u.originator = freed.charge RETURNING 1)
       SELECT del.ri, del.ty, del.srn, CASE WHEN del.ri = root_ri THEN row_to_json(r)::text END FROM del;
   END $fn$;`,
  // A container's oldest instances dropped in one round trip: each is locked (one statement, oldest first) and
  // then deleted with its subtree in a statement of its own, as warden_delete_subtree does for one root. A child
  // that a concurrent transaction deleted first is skipped (it neither counts nor comes back). Returns every
  // deleted row with the child it was deleted with, and on the child's own row the numeric value of size_attr
  // (null when it has none).
  `CREATE FUNCTION warden_drop_oldest(parent TEXT, child_ty INTEGER, n INTEGER, size_attr TEXT)
   RETURNS TABLE (ri TEXT, ty INTEGER, srn TEXT, of_child TEXT, size DOUBLE PRECISION)
   LANGUAGE plpgsql VOLATILE AS $fn$
   DECLARE
     c RECORD;
   BEGIN
     FOR c IN SELECT o.ri, o.srn, CASE WHEN json_typeof(o.doc::json -> size_attr) = 'number' THEN (o.doc::json ->> size_attr)::double precision END AS size
              FROM resources o WHERE o.pi = parent AND o.ty = child_ty ORDER BY o.seq LIMIT n FOR UPDATE LOOP
       RETURN QUERY
         WITH del AS (DELETE FROM resources d WHERE d.srn = c.srn OR (d.srn >= (c.srn || '/') COLLATE "C" AND d.srn < (c.srn || '0') COLLATE "C")
                      RETURNING d.ri, d.ty, d.srn, d.charge, d.bytes),
           freed AS (SELECT del.charge, count(*) AS n, sum(del.bytes) AS b, count(*) FILTER (WHERE del.ty = ${SUBSCRIPTION_TY}) AS s
                     FROM del WHERE del.charge IS NOT NULL GROUP BY del.charge),
           q AS (UPDATE quota_usage u SET resources = u.resources - freed.n, bytes = u.bytes - freed.b, subscriptions = u.subscriptions - freed.s
                 FROM freed WHERE u.originator = freed.charge RETURNING 1)
         SELECT del.ri, del.ty, del.srn, c.ri, CASE WHEN del.ri = c.ri THEN c.size END FROM del;
     END LOOP;
   END $fn$;`,
  // Local-Token-IDs and the built-in DAS's tokens (TokenRecord), shared by every process on the database; trimmed
  // per holder in insertion (seq) order.
  `CREATE TABLE token_records (
     seq    BIGSERIAL,
     kind   TEXT NOT NULL,
     id     TEXT NOT NULL,
     holder TEXT NOT NULL,
     ref    TEXT NOT NULL,
     token  TEXT NOT NULL,
     until  BIGINT NOT NULL,
     PRIMARY KEY (kind, id),
     UNIQUE (kind, holder, ref)
   );
   CREATE INDEX token_records_holder ON token_records (kind, holder, seq);
   CREATE INDEX token_records_until ON token_records (until);`,
  // chargedOfType: one creator's periodic resources are counted without reading every resource (periodicWork.ts).
  `CREATE INDEX resources_charged_periodic ON resources (charge, ty) WHERE ${CHARGE_INDEXED_CONDITION};`,
];

/** Outbox rows with the content of the payload they refer to. */
const OUTBOX_SELECT = 'SELECT o.*, p.content AS shared FROM outbox o LEFT JOIN outbox_payloads p ON p.id = o.payload';

interface RemovedRow {
  payload: string | null;
  originator: string | null;
  bytes: string;
}

/** Arbitrary constant naming Warden's schema lock among the database's advisory locks. */
const MIGRATION_LOCK = 0x57415244;
const CHANNEL = 'warden_broadcast';

export interface PostgresOptions {
  url: string;
  poolSize: number;
  /** Longest a statement, or the wait for a pooled connection, may take; 0 or absent: no limit. */
  waitTimeoutMs?: number;
}

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

const POSTGRES_DIALECT: SqlDialect = {
  param(args, value) {
    args.push(value);
    return `$${args.length}`;
  },
  jsonText(args, name) {
    args.push(name);
    return `(doc::json ->> $${args.length})`;
  },
  jsonNumber(args, name) {
    args.push(name);
    // Only numbers compare: a non-numeric value never matches a size or stateTag condition.
    return `(CASE WHEN json_typeof(doc::json -> $${args.length}) = 'number' THEN (doc::json ->> $${args.length})::numeric END)`;
  },
  jsonListHasKey(args, name, keys) {
    args.push(name);
    const list = `$${args.length}`;
    args.push([...keys]);
    return `(json_typeof(doc::json -> ${list}) = 'array' AND EXISTS (SELECT 1 FROM json_array_elements_text(doc::json -> ${list}) v WHERE v = ANY($${args.length}::text[]) OR split_part(v, ':', 1) = ANY($${args.length}::text[])))`;
  },
  jsonListHasAny(args, name, values) {
    args.push(name);
    const list = `$${args.length}`;
    args.push([...values]);
    return `(json_typeof(doc::json -> ${list}) = 'array' AND EXISTS (SELECT 1 FROM json_array_elements_text(doc::json -> ${list}) v WHERE v = ANY($${args.length}::text[])))`;
  },
  wildcardMatch(args, text, pattern) {
    args.push(pattern.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%'));
    return `(${text} LIKE $${args.length} ESCAPE '\\')`;
  },
  docWithout(args, name) {
    args.push(name);
    return `((doc::jsonb - $${args.length}::text)::text)`;
  },
  docAttributes(args, names) {
    const values = names.map((n) => `doc::json -> $${args.push(n)}::text`);
    return `json_build_array(${values.join(', ')})`;
  },
  jsonArray: (items) => `json_build_array(${items.map((i) => i.sql).join(', ')})`,
  // json_agg of no rows is NULL.
  jsonRows: (item, from) => `SELECT json_agg(${item}) AS rows FROM ${from}`,
  // An expression the path index does not serve (its collation stays the column's, "C").
  unindexed: (column) => `(${column} || '')`,
  rowCount(args, value) {
    args.push(value);
    return `$${args.length}`;
  },
};

function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  // 57014: statement_timeout (storage.waitTimeout); 'timeout exceeded when trying to connect': no pooled connection in time.
  return code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === '57P01' || code === '57014' || code.startsWith('08') || /Connection terminated|connect ECONNREFUSED|not queryable|Connection ended|timeout exceeded when trying to connect/.test(String(err));
}

/** A database error as the store reports it: a lost or refused connection is StoreUnavailableError. */
function storeError(err: unknown): Error {
  if (isConnectionError(err)) return new StoreUnavailableError('the database is unavailable');
  return err instanceof Error ? err : new Error(String(err));
}

async function run<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw storeError(err);
  }
}

/** Applies pending migrations; safe when several processes start at once. Returns the resulting version. */
export async function migratePostgres(url: string): Promise<number> {
  // A server that never answers (a firewall dropping packets) fails start-up or `warden migrate` in seconds.
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS warden_schema (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM warden_schema');
    const current = rows[0]?.v ?? 0;
    for (let v = current; v < MIGRATIONS.length; v++) {
      await client.query(MIGRATIONS[v] as string);
      await client.query('INSERT INTO warden_schema (version) VALUES ($1)', [v + 1]);
    }
    await client.query('COMMIT');
    return Math.max(current, MIGRATIONS.length);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
}

/**
 * The paths of a parent's ancestors that an insert below it locks: not the CSEBase, which is never deleted (and
 * would be one row every insert in the CSE locks), nor the parent, which the insert locks for update.
 */
function ancestorPaths(srn: string): string[] {
  const segments = srn.split('/');
  const paths: string[] = [];
  for (let n = 2; n < segments.length; n++) paths.push(segments.slice(0, n).join('/'));
  return paths;
}

class PostgresOperations {
  /** Parents this transaction holds FOR NO KEY UPDATE (getParentForInsert): no subscription can be created below them meanwhile. */
  private readonly lockedParents = new Set<string>();
  /**
   * Locked parents that had no subscription when a child was inserted below them (the insert's own statement looked,
   * after the lock: issue #18, one round trip less per ingest). Creating a subscription takes the same parent lock,
   * so none can appear before this transaction ends; one deleted meanwhile changes nothing. A subscription this
   * transaction inserts below a parent drops the parent from the set.
   */
  private readonly unsubscribedParents = new Set<string>();

  constructor(
    protected readonly db: Queryable,
    /** Shared by the store and its transactions; filled only from reads outside a transaction (committed rows). */
    protected readonly subscriptionCache: SubscriptionCache,
    private readonly inTransaction: boolean,
  ) {}

  async subscriptionsOf(pi: string, limit: number): Promise<readonly StoredResource[]> {
    const cache = this.subscriptionCache;
    if (this.inTransaction) return this.unsubscribedParents.has(pi) ? [] : this.children(pi, { ty: SUBSCRIPTION_TY, limit });
    const cached = cache.list(pi, limit);
    if (cached) return cached;
    const generation = cache.current;
    return cache.fillList(pi, limit, await this.children(pi, { ty: SUBSCRIPTION_TY, limit }), generation);
  }

  async notifying(ri: string): Promise<StoredResource | undefined> {
    const cache = this.subscriptionCache;
    const cached = this.inTransaction ? undefined : cache.notifying(ri);
    if (cached) return cached;
    const generation = cache.current;
    const found = await this.get(ri);
    if (!found || !cache.isNotifying(found.ty)) return undefined;
    return this.inTransaction ? found : cache.fillOne(found, generation);
  }

  /**
   * A subscription was written: dropped here at once, and in every process (this one again) when the write commits;
   * `*`: a deletion removed subscriptions whose parents are not known here.
   */
  private async subscriptionsChanged(payload: string): Promise<void> {
    await this.broadcast(SUBSCRIPTION_CACHE_TOPIC, payload);
  }

  /**
   * A write whose answer nothing reads. Outside a transaction it is awaited; a transaction sends it without waiting
   * and collects its answer with the COMMIT's (PostgresTransactionView.write).
   */
  protected async write(query: pg.QueryConfig): Promise<void> {
    await run(() => this.db.query(query));
  }

  /**
   * One row by a statement run on every request (reads by path, the locks of every write): prepared once per
   * connection under its name, so PostgreSQL parses and plans it once, not each time (issue #18: the three
   * unnamed statements of an ingest spent more in parse and bind than in execution).
   */
  private async one(name: string, text: string, values: unknown[]): Promise<StoredResource | undefined> {
    const { rows } = await run(() => this.db.query<ResourceRow>({ name, text, values }));
    return rows[0] && toResource(rows[0]);
  }

  get(ri: string): Promise<StoredResource | undefined> {
    return this.one('warden_get', 'SELECT * FROM resources WHERE ri = $1', [ri]);
  }

  getForUpdate(ri: string): Promise<StoredResource | undefined> {
    // NO KEY UPDATE (what an UPDATE that keeps ri and srn takes): it excludes other writers and deletes, but not
    // the KEY SHARE locks that inserts further down take on their ancestors (getParentForInsert).
    return this.one('warden_get_for_update', 'SELECT * FROM resources WHERE ri = $1 FOR NO KEY UPDATE', [ri]);
  }

  async getParentForInsert(parent: Pick<StoredResource, 'ri' | 'srn'>): Promise<StoredResource | undefined> {
    const ancestors = ancestorPaths(parent.srn);
    if (ancestors.length > 0) {
      // KEY SHARE conflicts only with a delete's lock (lockSubtree, FOR UPDATE): inserts below one AE do not wait
      // for each other nor for updates of it. Sorted by srn, a path before its extensions, the rows are locked
      // from the top down, the order deletes lock in, so an insert and a delete cannot deadlock. (Both locks in
      // one PL/pgSQL function saved a round trip but cost a tenth of the rate of 16 clients ingesting into one
      // container, measured: this statement and the next stay apart.)
      const { rowCount } = await run(() =>
        this.db.query({ name: 'warden_lock_ancestors', text: 'SELECT 1 FROM resources WHERE srn = ANY($1::text[]) ORDER BY srn FOR KEY SHARE', values: [ancestors] }),
      );
      // A row deleted by a transaction that committed meanwhile is skipped, not locked.
      if (rowCount !== ancestors.length) return undefined;
    }
    const locked = await this.getForUpdate(parent.ri);
    if (locked && this.inTransaction) this.lockedParents.add(parent.ri);
    return locked;
  }

  lockSubtree(ri: string): Promise<StoredResource | undefined> {
    return this.one('warden_lock_subtree', 'SELECT * FROM resources WHERE ri = $1 FOR UPDATE', [ri]);
  }

  getByPath(srn: string): Promise<StoredResource | undefined> {
    return this.one('warden_get_by_path', 'SELECT * FROM resources WHERE srn = $1', [srn]);
  }

  async children(pi: string, q: ChildQuery = {}): Promise<StoredResource[]> {
    const where = ['pi = $1'];
    const args: unknown[] = [pi];
    if (q.ty !== undefined) where.push(`ty = $${args.push(q.ty)}`);
    if (q.aliveAt !== undefined) where.push(`(et IS NULL OR et > $${args.push(q.aliveAt)})`);
    const limit = `$${args.push(q.limit ?? null)}`;
    const offset = `$${args.push(q.offset ?? 0)}`;
    const sql = `SELECT * FROM resources WHERE ${where.join(' AND ')} ORDER BY seq ${q.newestFirst ? 'DESC' : 'ASC'} LIMIT ${limit} OFFSET ${offset}`;
    const { rows } = await run(() => this.db.query<ResourceRow>(sql, args));
    return rows.map(toResource);
  }

  async edgeChild(pi: string, ty: number, newest: boolean, aliveAt: number): Promise<EdgeChild> {
    const order = newest ? 'DESC' : 'ASC';
    const { rows } = await run(() =>
      this.db.query<EdgeRow>({
        name: `warden_edge_child_${order}`,
        text: `SELECT r.*, EXISTS (SELECT 1 FROM resources WHERE pi = $1 AND ty = $2 AND et IS NOT NULL AND et <= $3) AS expired
               FROM (SELECT 1) one LEFT JOIN (SELECT * FROM resources WHERE pi = $1 AND ty = $2 AND (et IS NULL OR et > $3) ORDER BY seq ${order} LIMIT 1) r ON TRUE`,
        values: [pi, ty, aliveAt],
      }),
    );
    return toEdgeChild(rows[0]);
  }

  async chargedOfType(charge: string, ty: number, marks: ReadonlyArray<readonly [string, string]>, aliveAt: number, limit: number): Promise<StoredResource[]> {
    if (!CHARGE_INDEXED_TYPES.includes(ty)) throw new Error(`chargedOfType: type ${ty} is not indexed by charge`);
    const args: unknown[] = [charge, ty, aliveAt];
    const conditions = marks.map(([name, value]) => `${POSTGRES_DIALECT.jsonText(args, name)} = ${POSTGRES_DIALECT.param(args, value)}`);
    const text = `SELECT * FROM resources WHERE charge = $1 AND ty = $2 AND ${CHARGE_INDEXED_CONDITION} AND (et IS NULL OR et > $3)${conditions.map((c) => ` AND ${c}`).join('')} LIMIT ${POSTGRES_DIALECT.param(args, limit)}`;
    const { rows } = await run(() => this.db.query<ResourceRow>(text, args));
    return rows.map(toResource);
  }

  async count(pi: string, ty?: number): Promise<number> {
    const { rows } = await run(() =>
      ty === undefined
        ? this.db.query<{ n: string }>('SELECT count(*) AS n FROM resources WHERE pi = $1', [pi])
        : this.db.query<{ n: string }>('SELECT count(*) AS n FROM resources WHERE pi = $1 AND ty = $2', [pi, ty]),
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Inside a transaction when the resource has a charge (PostgresStore makes one): a refusal must undo the row. */
  async insert(r: StoredResource, limits: UsageLimits = {}): Promise<StoredResource> {
    const doc = JSON.stringify(r.doc);
    const bytes = Buffer.byteLength(doc);
    const args: unknown[] = [r.ri, r.pi, r.ty, r.rn, r.srn, r.ct, r.lt, r.et ?? null, r.owner ?? null, doc, r.charge ?? null, bytes];
    const insert = 'INSERT INTO resources (ri, pi, ty, rn, srn, ct, lt, et, owner, doc, charge, bytes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING seq';
    // Whether the parent has subscriptions, seen by this statement (after the parent's lock; see unsubscribedParents).
    const subscribed = `EXISTS (SELECT 1 FROM resources WHERE pi = $2 AND ty = ${SUBSCRIPTION_TY}) AS subscribed`;
    const charge = r.charge;
    const subscription = r.ty === SUBSCRIPTION_TY;
    if (charge !== undefined) {
      const alone = exceededLimit(charge, NO_USAGE, bytes, subscription, limits);
      if (alone) throw alone;
    }
    let row: { seq: string; charged: string | null; subscribed: boolean } | undefined;
    try {
      if (charge === undefined) {
        const sql = `WITH ins AS (${insert}) SELECT (SELECT seq FROM ins) AS seq, NULL AS charged, ${subscribed}`;
        row = (await run(() => this.db.query<{ seq: string; charged: null; subscribed: boolean }>({ name: 'warden_insert', text: sql, values: args }))).rows[0];
      } else {
        // The row and its count in one round trip; the upsert's WHERE refuses to go above a limit (the usage row
        // stays locked until commit, so processes never both take the last unit).
        args.push(subscription ? 1 : 0, sqlLimit(limits.resources), sqlLimit(limits.bytes), sqlLimit(limits.subscriptions));
        const sql = `WITH ins AS (${insert}),
          q AS (INSERT INTO quota_usage AS u (originator, resources, bytes, subscriptions) VALUES ($11, 1, $12, $13)
                ON CONFLICT (originator) DO UPDATE SET resources = u.resources + 1, bytes = u.bytes + excluded.bytes, subscriptions = u.subscriptions + excluded.subscriptions
                WHERE u.resources + 1 <= $14 AND u.bytes + excluded.bytes <= $15 AND u.subscriptions + excluded.subscriptions <= $16
                RETURNING 1)
          SELECT (SELECT seq FROM ins) AS seq, (SELECT count(*) FROM q) AS charged, ${subscribed}`;
        row = (await run(() => this.db.query<{ seq: string; charged: string; subscribed: boolean }>({ name: 'warden_insert_charged', text: sql, values: args }))).rows[0];
      }
    } catch (err) {
      if ((err as { code?: string }).code === '23505') {
        // The unique constraints of the resources table as CREATE TABLE named them.
        const constraint = (err as { constraint?: string }).constraint;
        const on = constraint === 'resources_srn_key' ? 'srn' : constraint === 'resources_ri_key' ? 'ri' : undefined;
        throw new StoreConflictError(`a resource with ri '${r.ri}' or path '${r.srn}' exists`, on);
      }
      throw err;
    }
    if (charge !== undefined && Number(row?.charged) === 0) throw refusal(charge, await this.usage(charge), bytes, subscription, limits);
    if (subscription) this.unsubscribedParents.delete(r.pi);
    else if (row?.subscribed === false && this.lockedParents.has(r.pi)) this.unsubscribedParents.add(r.pi);
    if (this.subscriptionCache.isNotifying(r.ty)) {
      this.subscriptionCache.written(r);
      await this.subscriptionsChanged(`${r.ri} ${r.pi}`);
    }
    return { ...r, seq: Number(row?.seq) };
  }

  async update(r: StoredResource): Promise<void> {
    const doc = JSON.stringify(r.doc);
    // The charge follows the document's size; the old size is read under the row's lock, in the same statement.
    await this.write({
      name: 'warden_update',
      text: `WITH upd AS (UPDATE resources r SET ct = $2, lt = $3, et = $4, owner = $5, doc = $6, bytes = $7
                     FROM (SELECT ri, charge, bytes AS old_bytes FROM resources WHERE ri = $1 FOR UPDATE) o
                     WHERE r.ri = o.ri RETURNING o.charge, o.old_bytes)
       UPDATE quota_usage u SET bytes = u.bytes + $7 - upd.old_bytes FROM upd
       WHERE upd.charge IS NOT NULL AND u.originator = upd.charge AND upd.old_bytes <> $7`,
      values: [r.ri, r.ct, r.lt, r.et ?? null, r.owner ?? null, doc, Buffer.byteLength(doc)],
    });
    if (this.subscriptionCache.isNotifying(r.ty)) {
      this.subscriptionCache.written(r);
      await this.subscriptionsChanged(`${r.ri} ${r.pi}`);
    }
  }

  async usage(originator: string): Promise<Usage> {
    const { rows } = await run(() =>
      this.db.query<{ resources: string; bytes: string; subscriptions: string }>('SELECT resources, bytes, subscriptions FROM quota_usage WHERE originator = $1', [originator]),
    );
    const row = rows[0];
    return row ? { resources: Number(row.resources), bytes: Number(row.bytes), subscriptions: Number(row.subscriptions) } : { ...NO_USAGE };
  }

  async deleteSubtree(ri: string): Promise<DeletedSubtree | undefined> {
    // One round trip (warden_delete_subtree): the root's lock is taken in a statement of its own, before the
    // DELETE: under READ COMMITTED each statement reads its own snapshot, and the DELETE's is then taken after
    // every insert that held the root (or a row below it) when the lock was asked for has committed, so it sees
    // their rows. A DELETE alone reads a snapshot from before it waits for those inserts and leaves their rows
    // behind, parentless. DELETE … RETURNING is atomic: of two processes deleting one subtree, only one gets the
    // rows back, and only that one gives back what they were charged. Outside a transaction the call is one
    // statement, its own transaction, and the lock lasts until it ends.
    const { rows } = await run(() =>
      this.db.query<{ ri: string; ty: number; srn: string; root: string | null }>({
        name: 'warden_delete_subtree',
        text: 'SELECT ri, ty, srn, root FROM warden_delete_subtree($1)',
        values: [ri],
      }),
    );
    const rootRow = rows.find((r) => r.ri === ri)?.root;
    if (rootRow === undefined || rootRow === null) return undefined;
    rows.sort((a, b) => a.srn.length - b.srn.length);
    const root = toResource(JSON.parse(rootRow) as ResourceRow);
    const removed = rows.map(({ ri: id, ty }) => ({ ri: id, ty }));
    await this.subscriptionsRemoved(root.pi, removed);
    return { root, removed };
  }

  async dropOldestChildren(pi: string, ty: number, count: number, sizeAttribute: string): Promise<DroppedChildren> {
    if (count <= 0) return { count: 0, size: 0, removed: [] };
    // One round trip (warden_drop_oldest): the children are locked before they are deleted, for the reason
    // deleteSubtree gives. A child a concurrent transaction deleted meanwhile is skipped: fewer come back, and
    // only those this transaction deletes count.
    const { rows } = await run(() =>
      this.db.query<{ ri: string; ty: number; srn: string; of_child: string; size: number | null }>({
        name: 'warden_drop_oldest',
        text: 'SELECT ri, ty, srn, of_child, size FROM warden_drop_oldest($1, $2, $3, $4)',
        values: [pi, ty, count, sizeAttribute],
      }),
    );
    const dropped: DroppedChildren = { count: 0, size: 0, removed: [] };
    // Each child before its descendants, child after child, as deleteSubtree lists one subtree.
    const groups = new Map<string, typeof rows>();
    for (const r of rows) {
      if (r.ri === r.of_child) {
        dropped.count++;
        if (r.size !== null) dropped.size += r.size;
      }
      const group = groups.get(r.of_child);
      if (group) group.push(r);
      else groups.set(r.of_child, [r]);
    }
    const removed: Array<{ ri: string; ty: number }> = [];
    for (const group of groups.values()) {
      group.sort((a, b) => a.srn.length - b.srn.length);
      for (const { ri, ty: t } of group) removed.push({ ri, ty: t });
    }
    await this.subscriptionsRemoved(pi, removed);
    return { ...dropped, removed };
  }

  private async subscriptionsRemoved(pi: string, removed: ReadonlyArray<{ ri: string; ty: number }>): Promise<void> {
    this.subscriptionCache.removed(pi, removed);
    if (removed.some((r) => this.subscriptionCache.isNotifying(r.ty))) await this.subscriptionsChanged('*');
  }

  async find(q: FindQuery): Promise<StoredResource[]> {
    const where = ['TRUE'];
    const args: unknown[] = [];
    if (q.expiredAt !== undefined) where.push(`et IS NOT NULL AND et <= $${args.push(q.expiredAt)}`);
    if (q.ty !== undefined) where.push(`ty = $${args.push(q.ty)}`);
    if (q.pi !== undefined) where.push(`pi = $${args.push(q.pi)}`);
    const sql = `SELECT * FROM resources WHERE ${where.join(' AND ')} ORDER BY seq LIMIT $${args.push(q.limit)}`;
    const { rows } = await run(() => this.db.query<ResourceRow>(sql, args));
    return rows.map(toResource);
  }

  /** See searchRounds: a page of a big subtree is read by windows of insertion order. */
  async search(q: SearchQuery): Promise<SearchHit[]> {
    let probe: ProbeRow | undefined;
    if (q.only === undefined) {
      const { sql, args } = subtreeProbeSql(q.below, LARGE_SUBTREE, POSTGRES_DIALECT);
      probe = (await run(() => this.db.query<ProbeRow>(sql, args))).rows[0];
    }
    const hits: SearchHit[] = [];
    const rounds = searchRounds(q, probe);
    for (let round = rounds.next(); !round.done; ) {
      const { sql, args } = searchSql(round.value.query, POSTGRES_DIALECT, round.value.plan);
      let found: SearchHit[];
      if (q.slim) {
        const { rows } = await run(() => this.db.query<{ rows: unknown }>(sql, args));
        found = toSlimHits(rows[0]?.rows, q.slim);
      } else {
        const { rows } = await run(() => this.db.query<ResourceRow & { matched?: number }>(sql, args));
        found = rows.map(toHit);
      }
      hits.push(...found);
      round = rounds.next(found.length);
    }
    return hits;
  }

  async childAccessClasses(pi: string, condition: ChildCondition, aliveAt: number, scan: number, limit: number): Promise<StoredResource[]> {
    const { sql, args } = childAccessSql(pi, condition, aliveAt, scan, limit, POSTGRES_DIALECT);
    const { rows } = await run(() => this.db.query<AccessClassRow>(sql, args));
    return rows.map(toAccessClass);
  }

  async findInSubtree(srn: string, ty: number, limit: number): Promise<StoredResource[]> {
    const { rows } = await run(() =>
      this.db.query<ResourceRow>('SELECT * FROM resources WHERE srn >= $1 AND srn < $2 AND ty = $3 ORDER BY seq LIMIT $4', [`${srn}/`, `${srn}0`, ty, limit]),
    );
    return rows.map(toResource);
  }

  async enqueue(messages: readonly NewOutboxMessage[]): Promise<void> {
    const usage = new Map<string, number>();
    for (const m of messages) {
      const bytes = m.bytes ?? m.content.length;
      await this.write({
        name: 'warden_enqueue',
        text: 'INSERT INTO outbox (target, subscription, content, created, not_before, payload, originator, bytes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
        values: [m.target, m.subscription, m.content, m.created, m.notBefore, m.payload ?? null, m.originator ?? null, bytes],
      });
      if (m.originator !== undefined) usage.set(m.originator, (usage.get(m.originator) ?? 0) + bytes);
    }
    for (const [originator, bytes] of usage) {
      await this.write({
        name: 'warden_enqueue_usage',
        text: 'INSERT INTO outbox_usage (originator, bytes) VALUES ($1, $2) ON CONFLICT (originator) DO UPDATE SET bytes = outbox_usage.bytes + excluded.bytes',
        values: [originator, bytes],
      });
    }
  }

  async storePayload(content: string): Promise<number> {
    const { rows } = await run(() => this.db.query<{ id: string }>('INSERT INTO outbox_payloads (content) VALUES ($1) RETURNING id', [content]));
    return Number(rows[0]?.id);
  }

  async outboxUsage(originators: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>(originators.map((o) => [o, 0]));
    if (originators.length === 0) return out;
    const { rows } = await run(() =>
      this.db.query<{ originator: string; bytes: string }>('SELECT originator, bytes FROM outbox_usage WHERE originator = ANY($1::text[])', [[...out.keys()]]),
    );
    for (const r of rows) out.set(r.originator, Number(r.bytes));
    return out;
  }

  /** Uncounts deleted rows and drops the payloads no row refers to any more. */
  private async removed(rows: readonly RemovedRow[]): Promise<void> {
    const usage = new Map<string, number>();
    const payloads = new Set<number>();
    for (const r of rows) {
      if (r.originator !== null) usage.set(r.originator, (usage.get(r.originator) ?? 0) + Number(r.bytes));
      if (r.payload !== null) payloads.add(Number(r.payload));
    }
    for (const [originator, bytes] of usage) {
      await run(() => this.db.query('UPDATE outbox_usage SET bytes = bytes - $2 WHERE originator = $1', [originator, bytes]));
      await run(() => this.db.query('DELETE FROM outbox_usage WHERE originator = $1 AND bytes <= 0', [originator]));
    }
    if (payloads.size > 0) {
      await run(() =>
        this.db.query('DELETE FROM outbox_payloads p WHERE p.id = ANY($1::bigint[]) AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.payload = p.id)', [[...payloads]]),
      );
    }
  }

  async dropQueued(targets: readonly string[]): Promise<number> {
    if (targets.length === 0) return 0;
    const { rows } = await run(() =>
      this.db.query<RemovedRow>('DELETE FROM outbox WHERE target = ANY($1::text[]) RETURNING payload, originator, bytes', [[...targets]]),
    );
    await this.removed(rows);
    return rows.length;
  }

  async dequeueLeased(id: number, owner: string): Promise<boolean> {
    const { rows } = await run(() => this.db.query<RemovedRow>('DELETE FROM outbox WHERE id = $1 AND lease_owner = $2 RETURNING payload, originator, bytes', [id, owner]));
    await this.removed(rows);
    return rows.length > 0;
  }

  async leaseHeads(owner: string, now: number, leaseMs: number, limit: number, scope: LeaseScope = {}): Promise<OutboxMessage[]> {
    // The deliverer asks on every round, many times a second under load. Grouping the outbox by target read every
    // queued row, so a backlog made each round slower and the backlog grew further. The heads are walked on the
    // (target, id) index instead (targets compare byte-wise, see MIGRATIONS), one seek per target in the scope
    // whatever the queues' lengths; excluded prefixes are ranges never entered (leaseRanges, as for SQLite). Each
    // step seeks the next target with no upper bound (a bound the planner can only filter on would make the seek
    // read every entry beyond the range); a range's walk stops at the first target past its end.
    const ranges = leaseRanges(scope);
    const args: unknown[] = [owner, now, now + leaseMs, limit, ranges.map(([from]) => from), ranges.map(([, below]) => below ?? null)];
    // SKIP LOCKED: processes polling at once lease different heads; a head already leased is not due, and one
    // leased or delivered since the walk's snapshot is re-checked on its newest version by the UPDATE.
    const { rows } = await run(() =>
      this.db.query<OutboxRow>({
        name: 'warden_lease_heads',
        text: `WITH RECURSIVE ranges(lo, hi) AS (SELECT * FROM unnest($5::text[], $6::text[])),
           walk(target, hi) AS (
             SELECT (SELECT o.target FROM outbox o WHERE o.target >= r.lo ORDER BY o.target LIMIT 1), r.hi FROM ranges r
             UNION ALL
             SELECT (SELECT o.target FROM outbox o WHERE o.target > w.target ORDER BY o.target LIMIT 1), w.hi
               FROM walk w WHERE w.target IS NOT NULL AND (w.hi IS NULL OR w.target < w.hi)),
           heads AS (SELECT h.id FROM walk w CROSS JOIN LATERAL (SELECT o.id, o.not_before, o.lease_until FROM outbox o WHERE o.target = w.target ORDER BY o.id LIMIT 1) h
             WHERE (w.hi IS NULL OR w.target < w.hi) AND h.not_before <= $2 AND (h.lease_until IS NULL OR h.lease_until <= $2) ORDER BY h.not_before, h.id LIMIT $4),
           leased AS (UPDATE outbox SET lease_owner = $1, lease_until = $3 WHERE id IN (
             SELECT id FROM outbox WHERE id IN (SELECT id FROM heads) AND not_before <= $2 AND (lease_until IS NULL OR lease_until <= $2)
               FOR UPDATE SKIP LOCKED)
           RETURNING *)
         SELECT o.*, p.content AS shared FROM leased o LEFT JOIN outbox_payloads p ON p.id = o.payload`,
        values: args,
      }),
    );
    return rows.map(toMessage).sort(byDueTime);
  }

  async queued(target: string, subscription: string | undefined, limit: number, after = 0): Promise<OutboxMessage[]> {
    const { rows } = await run(() =>
      subscription === undefined
        ? this.db.query<OutboxRow>(`${OUTBOX_SELECT} WHERE o.target = $1 AND o.id > $3 ORDER BY o.id LIMIT $2`, [target, limit, after])
        : this.db.query<OutboxRow>(`${OUTBOX_SELECT} WHERE o.target = $1 AND o.subscription = $2 AND o.id > $4 ORDER BY o.id LIMIT $3`, [target, subscription, limit, after]),
    );
    return rows.map(toMessage);
  }

  async takeBehind(owner: string, now: number, leaseUntil: number, target: string, subscription: string | undefined, limit: number, after: number): Promise<OutboxMessage[]> {
    // Ids come from a sequence when rows are inserted, not when they commit: a message committed before an older
    // one of its queue was that queue's head to a leaseHeads meanwhile, and its holder sends it. Reading what is
    // behind our head (queued) sent it twice: two processes, one time sync beacon twice in a CI run. So each row is
    // taken under a lock and leased to us; the list ends at the first row anyone holds (another process, or
    // another worker of ours: every caller starts after what it took last) or locks now (SKIP LOCKED: `locked`
    // then misses a row `seen` has), so the queue's order holds as far as we go.
    const bySubscription = subscription === undefined ? '' : ' AND subscription = $7';
    const values: unknown[] = [target, after, limit, owner, now, leaseUntil];
    if (subscription !== undefined) values.push(subscription);
    const { rows } = await run(() =>
      this.db.query<OutboxRow>({
        name: subscription === undefined ? 'warden_take_behind' : 'warden_take_behind_of',
        text: `WITH seen AS (SELECT id FROM outbox WHERE target = $1 AND id > $2${bySubscription} ORDER BY id LIMIT $3),
           locked AS (SELECT id, lease_owner, lease_until FROM outbox WHERE target = $1 AND id > $2${bySubscription} ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED),
           stop AS (SELECT min(id) AS id FROM (
             (SELECT id FROM seen EXCEPT SELECT id FROM locked)
             UNION ALL SELECT id FROM locked WHERE lease_until > $5) held),
           taken AS (UPDATE outbox o SET lease_owner = $4, lease_until = $6 FROM locked l
             WHERE o.id = l.id AND l.id <= (SELECT coalesce(max(id), 0) FROM seen) AND ((SELECT id FROM stop) IS NULL OR o.id < (SELECT id FROM stop))
             RETURNING o.*)
         SELECT t.*, p.content AS shared FROM taken t LEFT JOIN outbox_payloads p ON p.id = t.payload`,
        values,
      }),
    );
    return rows.map(toMessage).sort((a, b) => a.id - b.id);
  }

  async releaseTaken(ids: readonly number[], owner: string): Promise<void> {
    if (ids.length > 0) await run(() => this.db.query('UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE id = ANY($1::bigint[]) AND lease_owner = $2', [ids, owner]));
  }

  async renewLeases(ids: readonly number[], owner: string, until: number): Promise<void> {
    if (ids.length > 0) await run(() => this.db.query('UPDATE outbox SET lease_until = $1 WHERE id = ANY($2::bigint[]) AND lease_owner = $3', [until, ids, owner]));
  }

  async dequeue(ids: readonly number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const { rows } = await run(() => this.db.query<RemovedRow & { id: string }>('DELETE FROM outbox WHERE id = ANY($1::bigint[]) RETURNING id, payload, originator, bytes', [ids]));
    await this.removed(rows);
    return rows.map((r) => Number(r.id));
  }

  async postpone(id: number, notBefore: number, attempts: number, unlessHeldByOtherThan?: string): Promise<void> {
    // A write: a delivery round hands many heads back in one transaction, and they go out together (see write()).
    await this.write({
      name: 'warden_postpone',
      text: 'UPDATE outbox SET not_before = $2, attempts = $3, lease_owner = NULL, lease_until = NULL WHERE id = $1 AND ($4::text IS NULL OR lease_owner IS NULL OR lease_owner = $4)',
      values: [id, notBefore, attempts, unlessHeldByOtherThan ?? null],
    });
  }

  async queueLength(target: string): Promise<number> {
    const { rows } = await run(() => this.db.query<{ n: string }>('SELECT count(*) AS n FROM outbox WHERE target = $1', [target]));
    return Number(rows[0]?.n ?? 0);
  }

  async claimOnce(key: string, until: number, now: number): Promise<boolean> {
    const { rowCount } = await run(() =>
      this.db.query('INSERT INTO claims (key, until) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET until = excluded.until WHERE claims.until <= $3', [key, until, now]),
    );
    return rowCount === 1;
  }

  async forgetClaims(now: number): Promise<number> {
    const { rowCount } = await run(() => this.db.query('DELETE FROM claims WHERE until <= $1', [now]));
    return rowCount ?? 0;
  }

  async forgetClaim(key: string, until: number): Promise<void> {
    await run(() => this.db.query('DELETE FROM claims WHERE key = $1 AND until = $2', [key, until]));
  }

  async keepToken(record: TokenRecord, perHolder: number, now: number): Promise<{ id: string; fresh: boolean }> {
    // Two processes keeping the same token for the same holder at once: the unique (kind, holder, ref) makes one
    // insert win; the other finds its record. An expired record of it is replaced (with the new ID).
    for (let attempt = 0; attempt < 2; attempt++) {
      const { rows } = await run(() =>
        this.db.query<{ id: string }>(
          `INSERT INTO token_records (kind, id, holder, ref, token, until) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (kind, holder, ref) DO UPDATE SET id = excluded.id, token = excluded.token, until = excluded.until WHERE token_records.until <= $7
           RETURNING id`,
          [record.kind, record.id, record.holder, record.ref, record.token, record.until, now],
        ),
      );
      if (rows.length > 0) {
        await run(() =>
          this.db.query(
            'DELETE FROM token_records WHERE kind = $1 AND holder = $2 AND seq <= (SELECT seq FROM token_records WHERE kind = $1 AND holder = $2 ORDER BY seq DESC LIMIT 1 OFFSET $3)',
            [record.kind, record.holder, Math.max(1, perHolder)],
          ),
        );
        return { id: record.id, fresh: true };
      }
      const kept = await run(() => this.db.query<{ id: string }>('SELECT id FROM token_records WHERE kind = $1 AND holder = $2 AND ref = $3 AND until > $4', [record.kind, record.holder, record.ref, now]));
      const found = kept.rows[0];
      if (found) return { id: found.id, fresh: false };
    }
    throw new Error('a token record could be neither kept nor found');
  }

  async tokenRecord(kind: TokenRecord['kind'], id: string, now: number): Promise<TokenRecord | undefined> {
    const { rows } = await run(() =>
      this.db.query<{ kind: TokenRecord['kind']; id: string; holder: string; ref: string; token: string; until: string }>(
        'SELECT kind, id, holder, ref, token, until FROM token_records WHERE kind = $1 AND id = $2 AND until > $3',
        [kind, id, now],
      ),
    );
    const row = rows[0];
    return row ? { ...row, until: Number(row.until) } : undefined;
  }

  async forgetTokens(now: number): Promise<number> {
    const { rowCount } = await run(() => this.db.query('DELETE FROM token_records WHERE until <= $1', [now]));
    return rowCount ?? 0;
  }

  async lockKey(key: string): Promise<void> {
    // A 64-bit hash of the key: two keys sharing one only wait for each other needlessly.
    await run(() => this.db.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]));
  }

  async countQueuedByPrefix(prefix: string, limit: number): Promise<number> {
    const { rows } = await run(() =>
      // starts_with, not a range: under a linguistic collation punctuation does not order by code point.
      this.db.query<{ n: string }>('SELECT count(*) AS n FROM (SELECT 1 FROM outbox WHERE starts_with(target, $1) LIMIT $2) q', [prefix, limit]),
    );
    return Number(rows[0]?.n ?? 0);
  }

  async broadcast(topic: string, payload: string): Promise<void> {
    await this.write({ name: 'warden_broadcast', text: 'SELECT pg_notify($1, $2)', values: [CHANNEL, JSON.stringify([topic, payload])] });
  }
}

/**
 * A transaction's statements on its connection. The pool's connections pipeline (issue #18): a write whose answer
 * nothing reads (write) goes out at once and the transaction goes on without waiting for it; its answer comes
 * back with the COMMIT's, sent behind it, so the writes at the end of an ingest (the container's counters, the
 * outbox rows) and the COMMIT cost one round trip, not one each, while the parent's row is locked. PostgreSQL runs
 * a connection's statements in order: a later read sees the write. A write that fails aborts the transaction;
 * the COMMIT sent behind it is then answered ROLLBACK, and the transaction fails with the write's error.
 */
class PostgresTransactionView extends PostgresOperations implements ResourceStore {
  private readonly unanswered: Array<Promise<void>> = [];
  private failure: { error: unknown } | undefined;

  protected override write(query: pg.QueryConfig): Promise<void> {
    // Settled here, never rejected: a failure is kept for commit() and for the error the transaction ends with.
    this.unanswered.push(
      this.db.query(query).then(
        () => undefined,
        (error: unknown) => {
          this.failure ??= { error };
        },
      ),
    );
    return Promise.resolve();
  }

  /** Every write sent so far answered; the first failure's error, if any (a later statement fails only for it). */
  async firstFailure(): Promise<Error | undefined> {
    await Promise.all(this.unanswered);
    return this.failure && storeError(this.failure.error);
  }

  /** COMMIT behind the writes still unanswered; throws, with nothing committed, when any of them failed. */
  async commit(): Promise<void> {
    // A write the driver refused before sending it never ran (it is known at once): no COMMIT may go then.
    if (this.failure) throw storeError(this.failure.error);
    const [failure, commit] = await Promise.all([this.firstFailure(), run(() => this.db.query('COMMIT')).then(() => ({}), (error: unknown) => ({ error: storeError(error) }))]);
    if (failure !== undefined) throw failure;
    // A statement whose failure the caller handled (a conflict it expected) leaves the transaction aborted: its
    // COMMIT is answered ROLLBACK, as it always was, and what the caller returned stands.
    if ('error' in commit) throw commit.error;
  }

  transaction<T>(fn: (tx: ResourceStore) => Promise<T>): Promise<T> {
    return fn(this);
  }
  subscribe(): () => void {
    throw new Error('subscribe() inside a transaction');
  }
  close(): Promise<void> {
    return Promise.reject(new Error('close() inside a transaction'));
  }
}

/**
 * How long a subscription read from the database may be used for the notification path (subscriptionCache.ts): the
 * longest a change another process committed goes unseen here if its broadcast is lost.
 */
const SUBSCRIPTION_CACHE_MS = 1_000;

/**
 * How often the LISTEN connection is asked a trivial query, and how long it has to answer: a connection that died
 * without the socket saying so (a peer gone silent, a NAT that forgot it) is found within their sum and replaced.
 */
const LISTEN_CHECK_MS = 10_000;
const LISTEN_ANSWER_MS = 5_000;

class PostgresStore extends PostgresOperations implements ResourceStore {
  private readonly listeners = new Map<string, Array<(payload: string) => void>>();
  private readonly missedListeners = new Set<() => void>();
  private listener: pg.Client | undefined;
  private listenCheck: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly url: string,
  ) {
    super(pool, new SubscriptionCache(SUBSCRIPTION_CACHE_MS), false);
    this.subscribe(SUBSCRIPTION_CACHE_TOPIC, (payload) => {
      if (payload === '*') this.subscriptionCache.clear();
      else this.subscriptionCache.drop(...(payload.split(' ', 2) as [string, string]));
    });
    this.onBroadcastsMissed(() => this.subscriptionCache.clear());
  }

  onBroadcastsMissed(listener: () => void): () => void {
    this.missedListeners.add(listener);
    return () => this.missedListeners.delete(listener);
  }

  async ping(): Promise<void> {
    await run(() => this.pool.query('SELECT 1'));
  }

  poolStats(): { total: number; idle: number; waiting: number } {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  /** A charged insert outside a transaction gets one, so that a refused charge leaves no row behind. */
  override insert(r: StoredResource, limits?: UsageLimits): Promise<StoredResource> {
    if (r.charge === undefined) return super.insert(r, limits);
    return this.transaction((tx) => tx.insert(r, limits));
  }

  async transaction<T>(fn: (tx: ResourceStore) => Promise<T>): Promise<T> {
    const client = await run(() => this.pool.connect());
    // A connection that drops between the transaction's queries reports it as an 'error' event on the
    // checked-out client: unheard, it would end the process. The next query fails instead, and the broken
    // client is destroyed rather than returned to the pool.
    let broken: Error | undefined;
    const onError = (err: Error): void => {
      broken = err;
    };
    client.on('error', onError);
    try {
      await run(() => client.query('BEGIN'));
      const view = new PostgresTransactionView(client, this.subscriptionCache, true);
      try {
        const result = await fn(view);
        await view.commit();
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        // A statement after a failed write fails only because the transaction is aborted: the write's error is the one.
        throw (await view.firstFailure()) ?? err;
      }
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  subscribe(topic: string, listener: (payload: string) => void): () => void {
    this.listeners.set(topic, [...(this.listeners.get(topic) ?? []), listener]);
    if (!this.listener) void this.listen();
    return () => this.listeners.set(topic, (this.listeners.get(topic) ?? []).filter((l) => l !== listener));
  }

  /**
   * One dedicated connection LISTENs; it reconnects with back-off when the database goes away. Whatever was
   * broadcast while it was down is lost, so once it listens again every cache fed by broadcasts starts over:
   * without that, a policy revoked meanwhile through another process kept granting here for good.
   */
  private async listen(delay = 100): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url, keepAlive: true, application_name: `warden-listen-${process.pid}` });
    this.listener = client;
    let listening = false;
    const retry = (): void => {
      if (this.closed || this.listener !== client) return;
      this.listener = undefined;
      clearInterval(this.listenCheck);
      client.removeAllListeners();
      void client.end().catch(() => undefined);
      // The back-off grows only while connecting fails; a connection that listened starts it over.
      const wait = listening ? 100 : delay;
      setTimeout(() => void this.listen(Math.min(wait * 2, 5_000)), wait).unref();
    };
    client.on('error', retry);
    client.on('end', retry);
    client.on('notification', (msg) => {
      if (msg.channel !== CHANNEL || !msg.payload) return;
      try {
        const [topic, payload] = JSON.parse(msg.payload) as [string, string];
        for (const l of this.listeners.get(topic) ?? []) l(payload);
      } catch {
        // a malformed notification is not ours to act on
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch {
      retry();
      return;
    }
    if (this.listener !== client) return;
    listening = true;
    this.listenCheck = setInterval(() => {
      const answered = client.query('SELECT 1');
      const late = setTimeout(retry, LISTEN_ANSWER_MS).unref();
      answered.then(() => clearTimeout(late), () => {
        clearTimeout(late);
        retry();
      });
    }, LISTEN_CHECK_MS);
    this.listenCheck.unref();
    for (const l of this.missedListeners) l();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.missedListeners.clear();
    clearInterval(this.listenCheck);
    const l = this.listener;
    this.listener = undefined;
    if (l) {
      l.removeAllListeners();
      await l.end().catch(() => undefined);
    }
    await this.pool.end();
  }
}

export async function openPostgresStore(options: PostgresOptions): Promise<ResourceStore> {
  await run(() => migratePostgres(options.url));
  // Without a bound, a table another client locked held every request (and the pool) for as long as the lock;
  // a statement past it is cancelled by the server (57014) and its request refused with 5000, nothing carried out.
  const wait = options.waitTimeoutMs ?? 0;
  // pipeline: a connection sends a statement while earlier ones are unanswered (PostgresTransactionView.write).
  const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize, pipeline: true, ...(wait > 0 ? { connectionTimeoutMillis: wait, statement_timeout: wait } : {}) });
  pool.on('error', () => undefined); // idle clients that lose the server are replaced on the next query
  return new PostgresStore(pool, options.url);
}
