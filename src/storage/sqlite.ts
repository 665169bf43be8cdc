// The embedded default backend: one SQLite file (better-sqlite3), WAL journal, one connection.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { AsyncMutex } from './mutex.js';
import { PathCache } from './pathCache.js';
import { checkWal, type WalDamage } from './walCheck.js';
import { SubscriptionCache } from './subscriptionCache.js';
import { RESOURCE_COLUMNS, toAccessClass, toHit, toMessage, toResource, toResourceFromValues, toSlimHits, type AccessClassRow, type OutboxRow, type ResourceRow, type ResourceValues } from './rows.js';
import { LARGE_SUBTREE, childAccessSql, searchRounds, searchSql, subtreeProbeSql, type ProbeRow, type SearchPlan, type SqlDialect } from './search.js';
import {
  type SearchQuery,
  type ChildCondition,
  StoreConflictError,
  type DeletedSubtree,
  type DroppedChildren,
  type EdgeChild,
  type NewOutboxMessage,
  type LeaseScope,
  type OutboxMessage,
  type ChildQuery,
  type FindQuery,
  type ResourceStore, type SearchHit,
  type StoredResource,
  type TokenRecord,
  type Usage,
  type UsageLimits,
  NO_USAGE,
  SUBSCRIPTION_TY,
  CHARGE_INDEXED_CONDITION,
  CHARGE_INDEXED_TYPES,
  exceededLimit,
  prefixEnd,
  leaseRanges,
  byDueTime,
  refusal,
  sqlLimit,
} from './store.js';

/** Most transactions one COMMIT may carry before it happens even though more are queued. */
const MAX_COMMIT_GROUP = 64;

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE resources (
     seq   INTEGER PRIMARY KEY AUTOINCREMENT,
     ri    TEXT NOT NULL UNIQUE,
     pi    TEXT NOT NULL,
     ty    INTEGER NOT NULL,
     rn    TEXT NOT NULL,
     srn   TEXT NOT NULL UNIQUE,
     ct    TEXT NOT NULL,
     lt    TEXT NOT NULL,
     et    INTEGER,
     owner TEXT,
     doc   TEXT NOT NULL
   );
   CREATE INDEX resources_children ON resources (pi, ty, seq);
   CREATE INDEX resources_expiry ON resources (et) WHERE et IS NOT NULL;`,
  `CREATE INDEX resources_parent_expiry ON resources (pi, et) WHERE et IS NOT NULL;`,
  `CREATE TABLE outbox (
     id           INTEGER PRIMARY KEY AUTOINCREMENT,
     target       TEXT NOT NULL,
     subscription TEXT NOT NULL,
     content      TEXT NOT NULL,
     created      INTEGER NOT NULL,
     not_before   INTEGER NOT NULL,
     attempts     INTEGER NOT NULL DEFAULT 0,
     lease_owner  TEXT,
     lease_until  INTEGER
   );
   CREATE INDEX outbox_target ON outbox (target, id);`,
  `CREATE TABLE claims (key TEXT PRIMARY KEY, until INTEGER NOT NULL);
   CREATE INDEX claims_until ON claims (until);`,
  // One event's payload stored once for all its notifications; outbox bytes counted per originator.
  `CREATE TABLE outbox_payloads (id INTEGER PRIMARY KEY AUTOINCREMENT, content TEXT NOT NULL);
   ALTER TABLE outbox ADD COLUMN payload INTEGER;
   ALTER TABLE outbox ADD COLUMN originator TEXT;
   ALTER TABLE outbox ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
   CREATE INDEX outbox_payload ON outbox (payload) WHERE payload IS NOT NULL;
   CREATE TABLE outbox_usage (originator TEXT PRIMARY KEY, bytes INTEGER NOT NULL);`,
  // Quotas: each resource knows whose quota it counts against and its size; the sums per originator are kept
  // in the transaction that changes them. Resources stored before count for the creator they record.
  `ALTER TABLE resources ADD COLUMN charge TEXT;
   ALTER TABLE resources ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE quota_usage (
     originator    TEXT PRIMARY KEY,
     resources     INTEGER NOT NULL DEFAULT 0,
     bytes         INTEGER NOT NULL DEFAULT 0,
     subscriptions INTEGER NOT NULL DEFAULT 0
   );
   UPDATE resources SET charge = json_extract(doc, '$.__creator'), bytes = length(CAST(doc AS BLOB));
   INSERT INTO quota_usage (originator, resources, bytes, subscriptions)
     SELECT charge, count(*), sum(bytes), sum(ty = ${SUBSCRIPTION_TY}) FROM resources WHERE charge IS NOT NULL GROUP BY charge;
   -- Updates and deletes give back inside SQLite, whoever runs them (the insert counts, and checks, in JS).
   CREATE TRIGGER quota_resize AFTER UPDATE OF bytes ON resources WHEN old.charge IS NOT NULL AND old.bytes <> new.bytes
   BEGIN UPDATE quota_usage SET bytes = bytes + new.bytes - old.bytes WHERE originator = old.charge; END;
   CREATE TRIGGER quota_free AFTER DELETE ON resources WHEN old.charge IS NOT NULL
   BEGIN UPDATE quota_usage SET resources = resources - 1, bytes = bytes - old.bytes, subscriptions = subscriptions - (old.ty = ${SUBSCRIPTION_TY}) WHERE originator = old.charge; END;`,
  // Local-Token-IDs and the built-in DAS's tokens (TokenRecord), kept across restarts; trimmed per holder in
  // insertion (rowid) order.
  `CREATE TABLE token_records (
     kind   TEXT NOT NULL,
     id     TEXT NOT NULL,
     holder TEXT NOT NULL,
     ref    TEXT NOT NULL,
     token  TEXT NOT NULL,
     until  INTEGER NOT NULL,
     PRIMARY KEY (kind, id),
     UNIQUE (kind, holder, ref)
   );
   CREATE INDEX token_records_until ON token_records (until);`,
  // chargedOfType: one creator's periodic resources are counted without reading every resource (periodicWork.ts).
  `CREATE INDEX resources_charged_periodic ON resources (charge, ty) WHERE ${CHARGE_INDEXED_CONDITION};`,
];

/** Rows of one INSERT into the outbox at most; fewer go in statements of 16, 8, 4, 2 and 1 rows (few statement texts). */
const OUTBOX_ROWS_PER_INSERT = 32;

/** Outbox rows with the content of the payload they refer to. */
const OUTBOX_SELECT = 'SELECT o.*, p.content AS shared FROM outbox o LEFT JOIN outbox_payloads p ON p.id = o.payload';

export interface SqliteOptions {
  path: string;
  /** 'full' fsyncs each commit; 'normal' survives a process crash but not a power cut. */
  durability: 'full' | 'normal';
  /** Told when the write-ahead log holds acknowledged transactions behind a damaged frame (walCheck.ts). */
  onDamagedWal?: (damage: WalDamage) => void;
  /** Told when the write-ahead log could not be checked (the database opens all the same). */
  onWalUnchecked?: (reason: string) => void;
}

export function openSqliteStore(options: SqliteOptions): ResourceStore {
  let lock: Database.Database | undefined;
  let db: Database.Database | undefined;
  try {
    if (options.path !== ':memory:') {
      mkdirSync(dirname(options.path), { recursive: true });
      lock = lockDatabaseFile(options.path);
      // Before SQLite replays (and then drops) the WAL, with the file ours alone. A check that cannot be made (the log
      // unreadable, no room for its copy) does not keep the CSE from starting: SQLite decides as it always would.
      try {
        const damage = checkWal(options.path, Date.now());
        if (damage) options.onDamagedWal?.(damage);
      } catch (err) {
        options.onWalUnchecked?.(err instanceof Error ? err.message : String(err));
      }
    }
    db = new Database(options.path);
    // The file is this process's alone (lockDatabaseFile), so SQLite need not lock it for every statement: in
    // EXCLUSIVE locking mode, set before the WAL is first used, the WAL index lives in this process's memory and a
    // read takes no file lock. Measured on the development machine: a point read 12.9 → 3.9 µs, about 10 % of the
    // CPU of a read-latest or an ingest request. The price: no other process can open the file while Warden runs.
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    // Each transaction of a commit group runs in a savepoint (SqliteStore.transaction), whose statement journal keeps
    // the pages it changes. An ingest changes about 20; past 64 KiB SQLite spills the journal to a temporary file, and
    // it did on every ingest: about 40 writes (80 kB) to /var/tmp per ingest, measured. In memory the journal is
    // dropped at the savepoint's release; it grows with the largest single transaction (a subtree delete), which
    // per-originator storage quotas bound.
    db.pragma('temp_store = MEMORY');
    db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma('foreign_keys = OFF');
    db.pragma('busy_timeout = 5000');
    migrate(db);
    // The file is this process's alone: a lease left in it was held by an earlier run, which ended (a kill -9, a
    // crash) before it sent or gave back what it leased. Its messages are due now, not when that run's lease would
    // have run out (up to a minute of notifications and non-blocking requests held back after every restart).
    if (options.path !== ':memory:') db.prepare('UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL').run();
    return new SqliteStore(db, lock);
  } catch (err) {
    db?.close();
    lock?.close();
    if (err instanceof StorageOpenError) throw err;
    throw new StorageOpenError(`storage.path ${options.path}: cannot open the SQLite database: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Start-up failures of the store, worded for the operator (one line naming the path or URL). */
export class StorageOpenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageOpenError';
  }
}

/**
 * One SQLite file serves one process (the caches, the commit grouping and the local bus assume it): a second
 * Warden on the same file is refused. The lock is an exclusive SQLite lock on a companion file, held for the life
 * of the store and released by the operating system if the process dies, so a crash leaves no stale lock. (The
 * database file itself is then opened in EXCLUSIVE locking mode, so other tools cannot read it while Warden runs;
 * this companion lock is what turns a second Warden away with a clear message rather than SQLITE_BUSY.)
 */
function lockDatabaseFile(path: string): Database.Database {
  const lock = new Database(`${path}.lock`);
  try {
    // No waiting: a held lock means another process, and start-up must say so at once.
    lock.pragma('busy_timeout = 0');
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE');
    lock.exec('COMMIT');
    return lock;
  } catch (err) {
    lock.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') {
      throw new StorageOpenError(`storage.path ${path}: the database is in use by another Warden process (one SQLite file serves one process; use storage.backend=postgres for several)`);
    }
    throw err;
  }
}

function migrate(db: Database.Database): void {
  const current = Number(db.pragma('user_version', { simple: true }));
  for (let v = current; v < MIGRATIONS.length; v++) {
    const step = db.transaction(() => {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    });
    step.immediate();
  }
}

/**
 * A LIMIT or OFFSET parameter. SQLite (3.47 and later) plans with the value of a parameter it finds there, and so
 * prepares the statement again every time the parameter is bound, at each run: measured, 10 µs of the 11 µs of
 * a children() lookup. An expression it does not read as a number keeps the prepared plan (the planner never
 * knew the value of a parameter before either). Every LIMIT and OFFSET of a bound value uses it.
 */
const ROW_COUNT = '(? + 0)';

const SQLITE_DIALECT: SqlDialect = {
  param(args, value) {
    args.push(value);
    return '?';
  },
  jsonText(args, name) {
    // As text, like PostgreSQL's ->>: numbers as digits, booleans as true/false.
    args.push(`$.${name}`, `$.${name}`);
    return "(CASE json_type(doc, ?) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(json_extract(doc, ?) AS TEXT) END)";
  },
  jsonNumber(args, name) {
    // Only numbers compare (as in PostgreSQL): SQLite would order any text above every number.
    args.push(`$.${name}`, `$.${name}`);
    return "(CASE WHEN json_type(doc, ?) IN ('integer', 'real') THEN json_extract(doc, ?) END)";
  },
  jsonListHasKey(args, name, keys) {
    args.push(`$.${name}`, ...keys, ...keys);
    const list = keys.map(() => '?').join(', ');
    return `EXISTS (SELECT 1 FROM json_each(doc, ?) WHERE json_each.value IN (${list}) OR substr(json_each.value, 1, instr(json_each.value, ':') - 1) IN (${list}))`;
  },
  jsonListHasAny(args, name, values) {
    args.push(`$.${name}`, ...values);
    return `EXISTS (SELECT 1 FROM json_each(doc, ?) WHERE json_each.value IN (${values.map(() => '?').join(', ')}))`;
  },
  docWithout(args, name) {
    args.push(`$.${name}`);
    return 'json_remove(doc, ?)';
  },
  docAttributes(args, names) {
    args.push(...names.map((n) => `$.${n}`));
    // With two paths or more json_extract answers the JSON array of their values (null where missing) itself.
    return names.length === 1 ? 'json_array(json_extract(doc, ?))' : `json_extract(doc, ${names.map(() => '?').join(', ')})`;
  },
  // JSON text read from a sub-query's column is text again to json_array: json() marks it as JSON.
  jsonArray: (items) => `json_array(${items.map((i) => (i.json === true ? `json(${i.sql})` : i.sql)).join(', ')})`,
  jsonRows: (item, from) => `SELECT json_group_array(${item}) AS rows FROM ${from}`,
  wildcardMatch(args, text, pattern) {
    // In GLOB only '*' keeps its meaning: '?' and '[' stand for themselves inside brackets.
    args.push(pattern.replace(/[?[]/g, (c) => `[${c}]`));
    return `(${text} GLOB ?)`;
  },
  unindexed: (column) => `+${column}`,
  rowCount(args, value) {
    args.push(value);
    return ROW_COUNT;
  },
};

class SqliteStatements {
  readonly get;
  readonly getByPath;
  readonly insert;
  readonly update;
  readonly count;
  readonly countTy;
  readonly subtree;
  readonly deleteSubtree;
  readonly newestChild;
  readonly oldestChild;
  readonly childExpired;
  readonly oldestChildren;
  readonly dropSubtree;
  readonly uncharge;
  readonly charge;
  readonly usage;

  constructor(db: Database.Database) {
    this.get = db.prepare<[string], ResourceValues>(`SELECT ${RESOURCE_COLUMNS} FROM resources WHERE ri = ?`).raw(true);
    this.getByPath = db.prepare<[string], ResourceValues>(`SELECT ${RESOURCE_COLUMNS} FROM resources WHERE srn = ?`).raw(true);
    this.insert = db.prepare(
      'INSERT INTO resources (ri, pi, ty, rn, srn, ct, lt, et, owner, doc, charge, bytes) VALUES (@ri, @pi, @ty, @rn, @srn, @ct, @lt, @et, @owner, @doc, @charge, @bytes)',
    );
    this.update = db.prepare('UPDATE resources SET ct = @ct, lt = @lt, et = @et, owner = @owner, doc = @doc, bytes = @bytes WHERE ri = @ri');
    this.uncharge = db.prepare<[number, number, string]>('UPDATE quota_usage SET resources = resources - 1, bytes = bytes - ?, subscriptions = subscriptions - ? WHERE originator = ?');
    // The check and the count in one statement: the WHERE of the upsert refuses to go above a limit.
    this.charge = db.prepare(
      `INSERT INTO quota_usage (originator, resources, bytes, subscriptions) VALUES (@originator, 1, @bytes, @subscriptions)
       ON CONFLICT (originator) DO UPDATE SET resources = resources + 1, bytes = bytes + excluded.bytes, subscriptions = subscriptions + excluded.subscriptions
       WHERE resources + 1 <= @maxResources AND bytes + excluded.bytes <= @maxBytes AND subscriptions + excluded.subscriptions <= @maxSubscriptions`,
    );
    this.usage = db.prepare<[string], Usage>('SELECT resources, bytes, subscriptions FROM quota_usage WHERE originator = ?');
    this.count = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM resources WHERE pi = ?');
    this.countTy = db.prepare<[string, number], { n: number }>('SELECT count(*) AS n FROM resources WHERE pi = ? AND ty = ?');
    // Descendants by range on the unique srn index: 'a/b/' <= srn < 'a/b0' ('0' follows '/').
    this.subtree = db.prepare<[string, string, string], { ri: string; ty: number; srn: string }>(
      'SELECT ri, ty, srn FROM resources WHERE srn = ? OR (srn >= ? AND srn < ?) ORDER BY length(srn)',
    );
    this.deleteSubtree = db.prepare<[string, string, string]>('DELETE FROM resources WHERE srn = ? OR (srn >= ? AND srn < ?)');
    // The newest (oldest) living child and, in the same read, whether a sibling has expired: the scalar EXISTS is
    // evaluated once. With no living child there is no row, and childExpired answers the second half alone.
    const expiredSibling = 'EXISTS (SELECT 1 FROM resources WHERE pi = @pi AND ty = @ty AND et IS NOT NULL AND et <= @at)';
    const edgeChild = (order: 'ASC' | 'DESC'): string =>
      `SELECT ${RESOURCE_COLUMNS}, ${expiredSibling} FROM resources WHERE pi = @pi AND ty = @ty AND (et IS NULL OR et > @at) ORDER BY seq ${order} LIMIT 1`;
    this.newestChild = db.prepare<[{ pi: string; ty: number; at: number }], [...ResourceValues, number]>(edgeChild('DESC')).raw(true);
    this.oldestChild = db.prepare<[{ pi: string; ty: number; at: number }], [...ResourceValues, number]>(edgeChild('ASC')).raw(true);
    this.childExpired = db.prepare<[{ pi: string; ty: number; at: number }], { expired: number }>(`SELECT ${expiredSibling} AS expired`);
    // The oldest children by the (pi, ty, seq) index from its low end. Then each with its subtree by the srn range
    // (the quota trigger frees every row's charge): measured, this pair costs half of a DELETE … WHERE seq IN
    // (SELECT …), which SQLite runs in two passes.
    this.oldestChildren = db.prepare<[string, string, number, number], { ri: string; srn: string; size: unknown }>(
      `SELECT ri, srn, json_extract(doc, ?) AS size FROM resources WHERE pi = ? AND ty = ? ORDER BY seq LIMIT ${ROW_COUNT}`,
    );
    this.dropSubtree = db.prepare<[string, string, string], { ri: string; ty: number; srn: string }>(
      'DELETE FROM resources WHERE srn = ? OR (srn >= ? AND srn < ?) RETURNING ri, ty, srn',
    );
  }
}

/** Direct access to the connection; used both outside and inside a transaction. */
class SqliteOperations {
  private readonly statementCache = new Map<string, Database.Statement<unknown[], ResourceRow>>();
  /** INSERTs into the outbox by their number of rows (enqueue). */
  private readonly outboxInserts = new Map<number, Database.Statement<Array<string | number | null>>>();
  /** Exact: this connection makes every change, and each write (or rollback) drops what it touches. */
  readonly subscriptions = new SubscriptionCache();
  /** Exact, like the subscriptions: what getByPath read, dropped by every write of the same rows. */
  readonly paths = new PathCache();

  constructor(
    private readonly db: Database.Database,
    private readonly s: SqliteStatements,
  ) {}

  /**
   * Statements by SQL text: preparing one costs more than running most of them (the deliverer leases queue heads
   * many times a second), and the texts are few (dynamic SQL differs only by the shape of a scope or a filter).
   */
  private readonly statements = new Map<string, unknown>();
  private readonly prepare = ((sql: string) => {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      if (this.statements.size >= 512) this.statements.clear();
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }) as Database.Database['prepare'];

  get(ri: string): StoredResource | undefined {
    const row = this.s.get.get(ri);
    return row && toResourceFromValues(row);
  }

  getByPath(srn: string): StoredResource | undefined {
    const known = this.paths.get(srn);
    if (known) return known;
    const row = this.s.getByPath.get(srn);
    return row && this.paths.fill(toResourceFromValues(row), row[10].length);
  }

  children(pi: string, q: ChildQuery = {}): StoredResource[] {
    const key = `${q.ty !== undefined}|${q.aliveAt !== undefined}|${q.newestFirst === true}`;
    let stmt = this.statementCache.get(key);
    if (!stmt) {
      const where = ['pi = @pi'];
      if (q.ty !== undefined) where.push('ty = @ty');
      if (q.aliveAt !== undefined) where.push('(et IS NULL OR et > @aliveAt)');
      const sql = `SELECT * FROM resources WHERE ${where.join(' AND ')} ORDER BY seq ${q.newestFirst ? 'DESC' : 'ASC'} LIMIT (@limit + 0) OFFSET (@offset + 0)`; // see ROW_COUNT
      stmt = this.prepare<unknown[], ResourceRow>(sql);
      this.statementCache.set(key, stmt);
    }
    const rows = stmt.all({ pi, ty: q.ty, aliveAt: q.aliveAt, limit: q.limit ?? -1, offset: q.offset ?? 0 });
    return rows.map(toResource);
  }

  subscriptionsOf(pi: string, limit: number): readonly StoredResource[] {
    const cached = this.subscriptions.list(pi, limit);
    if (cached) return cached;
    const generation = this.subscriptions.current;
    return this.subscriptions.fillList(pi, limit, this.children(pi, { ty: SUBSCRIPTION_TY, limit }), generation);
  }

  notifying(ri: string): StoredResource | undefined {
    const cached = this.subscriptions.notifying(ri);
    if (cached) return cached;
    const generation = this.subscriptions.current;
    const found = this.get(ri);
    return found && this.subscriptions.isNotifying(found.ty) ? this.subscriptions.fillOne(found, generation) : undefined;
  }

  edgeChild(pi: string, ty: number, newest: boolean, aliveAt: number): EdgeChild {
    const args = { pi, ty, at: aliveAt };
    const row = (newest ? this.s.newestChild : this.s.oldestChild).get(args);
    if (row === undefined) return { child: undefined, expired: this.s.childExpired.get(args)?.expired === 1 };
    return { child: toResourceFromValues(row.slice(0, -1) as ResourceValues), expired: row[row.length - 1] === 1 };
  }

  count(pi: string, ty?: number): number {
    const row = ty === undefined ? this.s.count.get(pi) : this.s.countTy.get(pi, ty);
    return row?.n ?? 0;
  }

  chargedOfType(charge: string, ty: number, marks: ReadonlyArray<readonly [string, string]>, aliveAt: number, limit: number): StoredResource[] {
    if (!CHARGE_INDEXED_TYPES.includes(ty)) throw new Error(`chargedOfType: type ${ty} is not indexed by charge`);
    const args: unknown[] = [charge, ty, aliveAt];
    const conditions = marks.map(([name, value]) => `${SQLITE_DIALECT.jsonText(args, name)} = ${SQLITE_DIALECT.param(args, value)}`);
    args.push(limit);
    return this.prepare<unknown[], ResourceRow>(
      `SELECT ${RESOURCE_COLUMNS} FROM resources WHERE charge = ? AND ty = ? AND ${CHARGE_INDEXED_CONDITION} AND (et IS NULL OR et > ?)${conditions.map((c) => ` AND ${c}`).join('')} LIMIT ${ROW_COUNT}`,
    )
      .all(...args)
      .map(toResource);
  }

  insert(r: StoredResource, limits: UsageLimits = {}): StoredResource {
    const row = bind(r);
    const store = (): StoredResource => {
      try {
        const info = this.s.insert.run(row);
        this.paths.drop(r.srn);
        this.subscriptions.written(r);
        return { ...r, seq: Number(info.lastInsertRowid) };
      } catch (err) {
        if (err instanceof Error && 'code' in err && String(err.code).startsWith('SQLITE_CONSTRAINT')) {
          // SQLite names the column of the unique index that refused the row ("UNIQUE constraint failed: resources.srn").
          const on = /resources\.srn\b/.test(err.message) ? 'srn' : /resources\.ri\b/.test(err.message) ? 'ri' : undefined;
          throw new StoreConflictError(`a resource with ri '${r.ri}' or path '${r.srn}' exists`, on);
        }
        throw err;
      }
    };
    const charge = r.charge;
    if (charge === undefined) return store();
    const subscription = r.ty === SUBSCRIPTION_TY;
    const alone = exceededLimit(charge, NO_USAGE, row.bytes, subscription, limits);
    if (alone) throw alone;
    // The count first, checked by the upsert's WHERE; an insert that then conflicts gives the count back (the
    // trigger that frees a deleted row's charge makes a compensating delete impossible). Nothing runs in between:
    // better-sqlite3 is synchronous.
    const counted = this.s.charge.run({
      originator: charge,
      bytes: row.bytes,
      subscriptions: subscription ? 1 : 0,
      maxResources: sqlLimit(limits.resources),
      maxBytes: sqlLimit(limits.bytes),
      maxSubscriptions: sqlLimit(limits.subscriptions),
    });
    if (counted.changes === 0) throw refusal(charge, this.usage(charge), row.bytes, subscription, limits);
    try {
      return store();
    } catch (err) {
      this.s.uncharge.run(row.bytes, subscription ? 1 : 0, charge);
      throw err;
    }
  }

  update(r: StoredResource): void {
    this.s.update.run(bind(r));
    this.paths.drop(r.srn);
    this.subscriptions.written(r);
  }

  usage(originator: string): Usage {
    return this.s.usage.get(originator) ?? { resources: 0, bytes: 0, subscriptions: 0 };
  }

  deleteSubtree(ri: string): DeletedSubtree | undefined {
    const root = this.get(ri);
    if (!root) return undefined;
    const args: [string, string, string] = [root.srn, `${root.srn}/`, `${root.srn}0`];
    const rows = this.s.subtree.all(...args);
    this.s.deleteSubtree.run(...args);
    const removed = rows.map(({ ri, ty, srn }) => {
      this.paths.drop(srn);
      return { ri, ty };
    });
    this.subscriptions.removed(root.pi, removed);
    return { root, removed };
  }

  dropOldestChildren(pi: string, ty: number, count: number, sizeAttribute: string): DroppedChildren {
    const dropped = { count: 0, size: 0, removed: [] as Array<{ ri: string; ty: number }> };
    if (count <= 0) return dropped;
    for (const child of this.s.oldestChildren.all(`$.${sizeAttribute}`, pi, ty, count)) {
      const rows = this.s.dropSubtree.all(child.srn, `${child.srn}/`, `${child.srn}0`);
      rows.sort((a, b) => a.srn.length - b.srn.length);
      for (const row of rows) {
        dropped.removed.push({ ri: row.ri, ty: row.ty });
        this.paths.drop(row.srn);
      }
      dropped.count++;
      if (typeof child.size === 'number') dropped.size += child.size;
    }
    this.subscriptions.removed(pi, dropped.removed);
    return dropped;
  }

  /** See searchRounds: a page of a big subtree is read by windows of insertion order. */
  search(q: SearchQuery): SearchHit[] {
    let probe: ProbeRow | undefined;
    if (q.only === undefined) {
      const { sql, args } = subtreeProbeSql(q.below, LARGE_SUBTREE, SQLITE_DIALECT);
      probe = this.prepare<unknown[], ProbeRow>(sql).get(...args);
    }
    const hits: SearchHit[] = [];
    const rounds = searchRounds(q, probe);
    for (let round = rounds.next(); !round.done; ) {
      const found = this.searchBy(round.value.query, round.value.plan);
      hits.push(...found);
      round = rounds.next(found.length);
    }
    return hits;
  }

  private searchBy(q: SearchQuery, plan: SearchPlan): SearchHit[] {
    const { sql, args } = searchSql(q, SQLITE_DIALECT, plan);
    if (q.slim) return toSlimHits(this.prepare<unknown[], { rows: string }>(sql).get(...args)?.rows, q.slim);
    // A discovery page reads hundreds of rows of a dozen columns. better-sqlite3 builds each row object through
    // its native API, a third of the cost of the query measured; rows read as arrays and named here in one
    // shape cost that much less. Only searchBy runs these texts, so the raw mode set on the cached statement
    // changes no other reader.
    const statement = this.prepare<unknown[], unknown[]>(sql).raw(true);
    const names = statement.columns().map((c) => c.name);
    return statement.all(...args).map((values) => {
      const row: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i++) row[names[i] as string] = values[i];
      return toHit(row as unknown as ResourceRow & { matched?: number });
    });
  }

  childAccessClasses(pi: string, condition: ChildCondition, aliveAt: number, scan: number, limit: number): StoredResource[] {
    const { sql, args } = childAccessSql(pi, condition, aliveAt, scan, limit, SQLITE_DIALECT);
    return this.prepare<unknown[], AccessClassRow>(sql).all(...args).map(toAccessClass);
  }

  findInSubtree(srn: string, ty: number, limit: number): StoredResource[] {
    return this
      .prepare<[string, string, number, number], ResourceRow>(`SELECT * FROM resources WHERE srn >= ? AND srn < ? AND ty = ? ORDER BY seq LIMIT ${ROW_COUNT}`)
      .all(`${srn}/`, `${srn}0`, ty, limit)
      .map(toResource);
  }

  enqueue(messages: readonly NewOutboxMessage[]): void {
    // Positional parameters (binding by name from a spread object cost a third of each insert), and a fan-out's rows
    // in statements of many rows each: one run of a statement per row cost more than the row's own b-tree work.
    const usage = new Map<string, number>();
    const args: Array<string | number | null> = [];
    for (const m of messages) {
      const bytes = m.bytes ?? m.content.length;
      args.push(m.target, m.subscription, m.content, m.created, m.notBefore, m.payload ?? null, m.originator ?? null, bytes);
      if (m.originator !== undefined) usage.set(m.originator, (usage.get(m.originator) ?? 0) + bytes);
    }
    // In id order as given: rows of one statement get their ids in the order of its VALUES.
    let at = 0;
    for (let rows = OUTBOX_ROWS_PER_INSERT; rows >= 1; rows >>= 1) {
      if (messages.length - at < rows) continue;
      let insert = this.outboxInserts.get(rows);
      if (!insert) {
        insert = this.db.prepare<Array<string | number | null>>(
          `INSERT INTO outbox (target, subscription, content, created, not_before, payload, originator, bytes) VALUES ${new Array<string>(rows).fill('(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        );
        this.outboxInserts.set(rows, insert);
      }
      for (; messages.length - at >= rows; at += rows) insert.run(...args.slice(at * 8, (at + rows) * 8));
    }
    const count = this.prepare('INSERT INTO outbox_usage (originator, bytes) VALUES (?, ?) ON CONFLICT (originator) DO UPDATE SET bytes = bytes + excluded.bytes');
    for (const [originator, bytes] of usage) count.run(originator, bytes);
  }

  storePayload(content: string): number {
    return Number(this.prepare('INSERT INTO outbox_payloads (content) VALUES (?)').run(content).lastInsertRowid);
  }

  outboxUsage(originators: readonly string[]): Map<string, number> {
    const read = this.prepare<[string], { bytes: number }>('SELECT bytes FROM outbox_usage WHERE originator = ?');
    const out = new Map<string, number>();
    for (const o of new Set(originators)) out.set(o, read.get(o)?.bytes ?? 0);
    return out;
  }

  /** Deletes rows, uncounts them, and drops the payloads no row refers to any more. */
  private remove(rows: ReadonlyArray<{ payload: number | null; originator: string | null; bytes: number }>): void {
    const usage = new Map<string, number>();
    const payloads = new Set<number>();
    for (const r of rows) {
      if (r.originator !== null) usage.set(r.originator, (usage.get(r.originator) ?? 0) + r.bytes);
      if (r.payload !== null) payloads.add(r.payload);
    }
    const uncount = this.prepare('UPDATE outbox_usage SET bytes = bytes - ? WHERE originator = ?');
    const forget = this.prepare('DELETE FROM outbox_usage WHERE originator = ? AND bytes <= 0');
    for (const [originator, bytes] of usage) {
      uncount.run(bytes, originator);
      forget.run(originator);
    }
    if (payloads.size === 0) return;
    const drop = this.prepare(
      'DELETE FROM outbox_payloads WHERE id IN (SELECT value FROM json_each(?)) AND NOT EXISTS (SELECT 1 FROM outbox WHERE payload = outbox_payloads.id)',
    );
    drop.run(JSON.stringify([...payloads]));
  }

  dropQueued(targets: readonly string[]): number {
    const del = this.prepare<[string], { payload: number | null; originator: string | null; bytes: number }>(
      'DELETE FROM outbox WHERE target = ? RETURNING payload, originator, bytes',
    );
    const rows = targets.flatMap((t) => del.all(t));
    this.remove(rows);
    return rows.length;
  }

  dequeueLeased(id: number, owner: string): boolean {
    const rows = this
      .prepare<[number, string], { payload: number | null; originator: string | null; bytes: number }>(
        'DELETE FROM outbox WHERE id = ? AND lease_owner = ? RETURNING payload, originator, bytes',
      )
      .all(id, owner);
    this.remove(rows);
    return rows.length > 0;
  }

  leaseHeads(owner: string, now: number, leaseMs: number, limit: number, scope: LeaseScope = {}): OutboxMessage[] {
    // The deliverer asks on every round, many times a second under load. Grouping the outbox by target read
    // every queued row, so a backlog made each round slower and the backlog grew further (13 % of the CPU of
    // an ingest with 10 subscriptions). The heads are walked on the (target, id) index instead, one seek per
    // target in the scope whatever the queues' lengths, and excluded prefixes are never entered.
    const due: Array<{ id: number; notBefore: number }> = [];
    for (const [from, below] of leaseRanges(scope)) {
      const walk = this.prepare<Record<string, string | number>, { id: number; notBefore: number }>(
        `WITH RECURSIVE walk(target) AS (
           SELECT (SELECT target FROM outbox WHERE target >= @from${below === undefined ? '' : ' AND target < @below'} ORDER BY target LIMIT 1)
           UNION ALL
           SELECT (SELECT o.target FROM outbox o WHERE o.target > walk.target${below === undefined ? '' : ' AND o.target < @below'} ORDER BY o.target LIMIT 1)
             FROM walk WHERE walk.target IS NOT NULL)
         SELECT h.id, h.not_before AS notBefore FROM walk JOIN outbox h ON h.id = (SELECT min(id) FROM outbox WHERE target = walk.target)
           WHERE h.not_before <= @now AND (h.lease_until IS NULL OR h.lease_until <= @now) ORDER BY h.not_before, h.id LIMIT (@limit + 0)`, // see ROW_COUNT
      );
      due.push(...walk.all({ from, now, limit, ...(below === undefined ? {} : { below }) }));
    }
    due.sort(byDueTime);
    const read = this.prepare<[number], OutboxRow>(`${OUTBOX_SELECT} WHERE o.id = ?`);
    const lease = this.prepare('UPDATE outbox SET lease_owner = ?, lease_until = ? WHERE id = ?');
    const leased: OutboxMessage[] = [];
    for (const { id } of due.slice(0, Math.max(0, limit))) {
      const row = read.get(id);
      if (row === undefined) continue;
      lease.run(owner, now + leaseMs, id);
      leased.push(toMessage(row));
    }
    return leased;
  }

  queued(target: string, subscription: string | undefined, limit: number, after = 0): OutboxMessage[] {
    const rows =
      subscription === undefined
        ? this.prepare<[string, number, number], OutboxRow>(`${OUTBOX_SELECT} WHERE o.target = ? AND o.id > ? ORDER BY o.id LIMIT ${ROW_COUNT}`).all(target, after, limit)
        : this
            .prepare<[string, string, number, number], OutboxRow>(`${OUTBOX_SELECT} WHERE o.target = ? AND o.subscription = ? AND o.id > ? ORDER BY o.id LIMIT ${ROW_COUNT}`)
            .all(target, subscription, after, limit);
    return rows.map(toMessage);
  }

  takeBehind(target: string, subscription: string | undefined, limit: number, after: number): OutboxMessage[] {
    // One process writes a SQLite file, one transaction at a time: ids are committed in their order, so a queue's
    // head is its oldest message for every reader and nobody else can hold what is behind it. Nothing to lease.
    return this.queued(target, subscription, limit, after);
  }

  renewLeases(ids: readonly number[], owner: string, until: number): void {
    const renew = this.prepare('UPDATE outbox SET lease_until = ? WHERE id = ? AND lease_owner = ?');
    for (const id of ids) renew.run(until, id, owner);
  }

  dequeue(ids: readonly number[]): number[] {
    if (ids.length === 0) return [];
    // A delivery run removes up to RUN_LENGTH messages: one statement for all of them, not one each.
    const del = this.prepare<[string], { id: number; payload: number | null; originator: string | null; bytes: number }>(
      'DELETE FROM outbox WHERE id IN (SELECT value FROM json_each(?)) RETURNING id, payload, originator, bytes',
    );
    const rows = del.all(JSON.stringify(ids));
    this.remove(rows);
    return rows.map((r) => r.id);
  }

  postpone(id: number, notBefore: number, attempts: number, unlessHeldByOtherThan?: string): void {
    this.prepare('UPDATE outbox SET not_before = @notBefore, attempts = @attempts, lease_owner = NULL, lease_until = NULL WHERE id = @id AND (@owner IS NULL OR lease_owner IS NULL OR lease_owner = @owner)')
      .run({ id, notBefore, attempts, owner: unlessHeldByOtherThan ?? null });
  }

  queueLength(target: string): number {
    return this.prepare<[string], { n: number }>('SELECT count(*) AS n FROM outbox WHERE target = ?').get(target)?.n ?? 0;
  }

  claimOnce(key: string, until: number, now: number): boolean {
    const result = this
      .prepare('INSERT INTO claims (key, until) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET until = excluded.until WHERE claims.until <= ?')
      .run(key, until, now);
    return result.changes === 1;
  }

  forgetClaims(now: number): number {
    return this.prepare('DELETE FROM claims WHERE until <= ?').run(now).changes;
  }

  forgetClaim(key: string, until: number): void {
    this.prepare('DELETE FROM claims WHERE key = ? AND until = ?').run(key, until);
  }

  keepToken(record: TokenRecord, perHolder: number, now: number): { id: string; fresh: boolean } {
    const kept = this.prepare<[string, string, string, number], { id: string }>('SELECT id FROM token_records WHERE kind = ? AND holder = ? AND ref = ? AND until > ?').get(record.kind, record.holder, record.ref, now);
    if (kept) return { id: kept.id, fresh: false };
    // An expired record of the same token and holder is replaced (a new ID: the old one is never valid again).
    this.prepare('INSERT INTO token_records (kind, id, holder, ref, token, until) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kind, holder, ref) DO UPDATE SET id = excluded.id, token = excluded.token, until = excluded.until').run(
      record.kind, record.id, record.holder, record.ref, record.token, record.until,
    );
    this.prepare(
      'DELETE FROM token_records WHERE kind = ? AND holder = ? AND rowid <= (SELECT rowid FROM token_records WHERE kind = ? AND holder = ? ORDER BY rowid DESC LIMIT 1 OFFSET ?)',
    ).run(record.kind, record.holder, record.kind, record.holder, Math.max(1, perHolder));
    return { id: record.id, fresh: true };
  }

  tokenRecord(kind: TokenRecord['kind'], id: string, now: number): TokenRecord | undefined {
    return this.prepare<[string, string, number], TokenRecord>('SELECT kind, id, holder, ref, token, until FROM token_records WHERE kind = ? AND id = ? AND until > ?').get(kind, id, now);
  }

  forgetTokens(now: number): number {
    return this.prepare('DELETE FROM token_records WHERE until <= ?').run(now).changes;
  }

  countQueuedByPrefix(prefix: string, limit: number): number {
    return (
      this
        .prepare<[string, string, number], { n: number }>(`SELECT count(*) AS n FROM (SELECT 1 FROM outbox WHERE target >= ? AND target < ? LIMIT ${ROW_COUNT})`)
        .get(prefix, prefixEnd(prefix), limit)?.n ?? 0
    );
  }

  find(q: FindQuery): StoredResource[] {
    const key = `find|${q.expiredAt !== undefined}|${q.ty !== undefined}|${q.pi !== undefined}`;
    let stmt = this.statementCache.get(key);
    if (!stmt) {
      const where = ['1 = 1'];
      if (q.expiredAt !== undefined) where.push('et IS NOT NULL AND et <= @expiredAt');
      if (q.ty !== undefined) where.push('ty = @ty');
      if (q.pi !== undefined) where.push('pi = @pi');
      stmt = this.prepare<unknown[], ResourceRow>(`SELECT * FROM resources WHERE ${where.join(' AND ')} ORDER BY seq LIMIT (@limit + 0)`); // see ROW_COUNT
      this.statementCache.set(key, stmt);
    }
    return stmt.all({ expiredAt: q.expiredAt, ty: q.ty, pi: q.pi, limit: q.limit }).map(toResource);
  }
}

function bind(r: StoredResource): Record<string, unknown> & { bytes: number } {
  const doc = JSON.stringify(r.doc);
  return {
    ri: r.ri,
    pi: r.pi,
    ty: r.ty,
    rn: r.rn,
    srn: r.srn,
    ct: r.ct,
    lt: r.lt,
    et: r.et ?? null,
    owner: r.owner ?? null,
    doc,
    charge: r.charge ?? null,
    bytes: Buffer.byteLength(doc),
  };
}

/** The view handed to a transaction body: same operations, no locking (the body holds the lock). */
class SqliteTransactionView implements ResourceStore {
  /**
   * Broadcasts of the running transaction: sent when its body has succeeded, dropped when it is undone, as PostgreSQL
   * sends them at commit. Sent at once, a "removed" heard by a listener (a deregistration from the registrar) stood
   * even when the deletion then rolled back.
   */
  private pending: Array<[string, string]> = [];

  constructor(
    private readonly ops: SqliteOperations,
    private readonly bus: LocalBus,
  ) {}

  /** The running transaction's broadcasts, taken when it ends: sent when it succeeded, dropped when it is undone. */
  takePending(): Array<[string, string]> {
    const pending = this.pending;
    this.pending = [];
    return pending;
  }
  get(ri: string): Promise<StoredResource | undefined> {
    return Promise.resolve(this.ops.get(ri));
  }
  // BEGIN IMMEDIATE already holds the database's only write lock.
  getForUpdate(ri: string): Promise<StoredResource | undefined> {
    return Promise.resolve(this.ops.get(ri));
  }
  // Transactions run one after the other: a subtree is deleted in one, so a parent that exists at the
  // start of an insert's transaction has all its ancestors, and none of them goes before it commits.
  getParentForInsert(parent: Pick<StoredResource, 'ri' | 'srn'>): Promise<StoredResource | undefined> {
    return Promise.resolve(this.ops.get(parent.ri));
  }
  lockSubtree(ri: string): Promise<StoredResource | undefined> {
    return Promise.resolve(this.ops.get(ri));
  }
  getByPath(srn: string): Promise<StoredResource | undefined> {
    return Promise.resolve(this.ops.getByPath(srn));
  }
  children(pi: string, q?: ChildQuery): Promise<StoredResource[]> {
    return Promise.resolve(this.ops.children(pi, q));
  }
  subscriptionsOf(pi: string, limit: number): Promise<readonly StoredResource[]> {
    return Promise.resolve(this.ops.subscriptionsOf(pi, limit));
  }
  notifying(ri: string): Promise<StoredResource | undefined> {
    return Promise.resolve(this.ops.notifying(ri));
  }
  count(pi: string, ty?: number): Promise<number> {
    return Promise.resolve(this.ops.count(pi, ty));
  }
  chargedOfType(charge: string, ty: number, marks: ReadonlyArray<readonly [string, string]>, aliveAt: number, limit: number): Promise<StoredResource[]> {
    return Promise.resolve(this.ops.chargedOfType(charge, ty, marks, aliveAt, limit));
  }
  edgeChild(pi: string, ty: number, newest: boolean, aliveAt: number): Promise<EdgeChild> {
    return Promise.resolve(this.ops.edgeChild(pi, ty, newest, aliveAt));
  }
  insert(r: StoredResource, limits?: UsageLimits): Promise<StoredResource> {
    return Promise.resolve(this.ops.insert(r, limits));
  }
  usage(originator: string): Promise<Usage> {
    return Promise.resolve(this.ops.usage(originator));
  }
  update(r: StoredResource): Promise<void> {
    this.ops.update(r);
    return Promise.resolve();
  }
  deleteSubtree(ri: string): Promise<DeletedSubtree | undefined> {
    return Promise.resolve(this.ops.deleteSubtree(ri));
  }
  dropOldestChildren(pi: string, ty: number, count: number, sizeAttribute: string): Promise<DroppedChildren> {
    return Promise.resolve(this.ops.dropOldestChildren(pi, ty, count, sizeAttribute));
  }
  find(q: FindQuery): Promise<StoredResource[]> {
    return Promise.resolve(this.ops.find(q));
  }
  search(q: SearchQuery): Promise<SearchHit[]> {
    return Promise.resolve(this.ops.search(q));
  }
  childAccessClasses(pi: string, condition: ChildCondition, aliveAt: number, scan: number, limit: number): Promise<StoredResource[]> {
    return Promise.resolve(this.ops.childAccessClasses(pi, condition, aliveAt, scan, limit));
  }
  findInSubtree(srn: string, ty: number, limit: number): Promise<StoredResource[]> {
    return Promise.resolve(this.ops.findInSubtree(srn, ty, limit));
  }
  enqueue(messages: readonly NewOutboxMessage[]): Promise<void> {
    this.ops.enqueue(messages);
    return Promise.resolve();
  }
  storePayload(content: string): Promise<number> {
    return Promise.resolve(this.ops.storePayload(content));
  }
  outboxUsage(originators: readonly string[]): Promise<Map<string, number>> {
    return Promise.resolve(this.ops.outboxUsage(originators));
  }
  dropQueued(targets: readonly string[]): Promise<number> {
    return Promise.resolve(this.ops.dropQueued(targets));
  }
  dequeueLeased(id: number, owner: string): Promise<boolean> {
    return Promise.resolve(this.ops.dequeueLeased(id, owner));
  }
  leaseHeads(owner: string, now: number, leaseMs: number, limit: number, scope?: LeaseScope): Promise<OutboxMessage[]> {
    return Promise.resolve(this.ops.leaseHeads(owner, now, leaseMs, limit, scope));
  }
  queued(target: string, subscription: string | undefined, limit: number, after?: number): Promise<OutboxMessage[]> {
    return Promise.resolve(this.ops.queued(target, subscription, limit, after));
  }
  dequeue(ids: readonly number[]): Promise<number[]> {
    return Promise.resolve(this.ops.dequeue(ids));
  }
  takeBehind(_owner: string, _now: number, _leaseUntil: number, target: string, subscription: string | undefined, limit: number, after: number): Promise<OutboxMessage[]> {
    return Promise.resolve(this.ops.takeBehind(target, subscription, limit, after));
  }
  releaseTaken(): Promise<void> {
    return Promise.resolve(); // takeBehind leases nothing here
  }
  renewLeases(ids: readonly number[], owner: string, until: number): Promise<void> {
    this.ops.renewLeases(ids, owner, until);
    return Promise.resolve();
  }
  postpone(id: number, notBefore: number, attempts: number, unlessHeldByOtherThan?: string): Promise<void> {
    this.ops.postpone(id, notBefore, attempts, unlessHeldByOtherThan);
    return Promise.resolve();
  }
  queueLength(target: string): Promise<number> {
    return Promise.resolve(this.ops.queueLength(target));
  }
  countQueuedByPrefix(prefix: string, limit: number): Promise<number> {
    return Promise.resolve(this.ops.countQueuedByPrefix(prefix, limit));
  }
  lockKey(): Promise<void> {
    return Promise.resolve(); // this transaction is the only one running
  }
  claimOnce(key: string, until: number, now: number): Promise<boolean> {
    return Promise.resolve(this.ops.claimOnce(key, until, now));
  }
  forgetClaims(now: number): Promise<number> {
    return Promise.resolve(this.ops.forgetClaims(now));
  }
  forgetClaim(key: string, until: number): Promise<void> {
    this.ops.forgetClaim(key, until);
    return Promise.resolve();
  }
  keepToken(record: TokenRecord, perHolder: number, now: number): Promise<{ id: string; fresh: boolean }> {
    return Promise.resolve(this.ops.keepToken(record, perHolder, now));
  }
  tokenRecord(kind: TokenRecord['kind'], id: string, now: number): Promise<TokenRecord | undefined> {
    return Promise.resolve(this.ops.tokenRecord(kind, id, now));
  }
  forgetTokens(now: number): Promise<number> {
    return Promise.resolve(this.ops.forgetTokens(now));
  }
  transaction<T>(fn: (tx: ResourceStore) => Promise<T>): Promise<T> {
    return fn(this);
  }
  broadcast(topic: string, payload: string): Promise<void> {
    this.pending.push([topic, payload]);
    return Promise.resolve();
  }
  subscribe(topic: string, listener: (payload: string) => void): () => void {
    return this.bus.on(topic, listener);
  }
  close(): Promise<void> {
    return Promise.reject(new Error('close() inside a transaction'));
  }
}

/** One SQLite file serves one process, so a broadcast only has local listeners. */
class LocalBus {
  private readonly listeners = new Map<string, Array<(payload: string) => void>>();
  on(topic: string, listener: (payload: string) => void): () => void {
    this.listeners.set(topic, [...(this.listeners.get(topic) ?? []), listener]);
    return () => this.listeners.set(topic, (this.listeners.get(topic) ?? []).filter((l) => l !== listener));
  }
  emit(topic: string, payload: string): void {
    for (const l of this.listeners.get(topic) ?? []) {
      try {
        l(payload);
      } catch {
        // A listener's failure is its own, as with PostgreSQL's notifications: the sender's write stands.
      }
    }
  }
}

/**
 * One connection serves every request. A transaction body is async, so other requests could run
 * between its awaits and their statements would land inside it; the mutex makes every operation
 * outside a transaction wait until the running transaction has committed or rolled back.
 */
class SqliteStore implements ResourceStore {
  private readonly mutex = new AsyncMutex();
  private readonly ops: SqliteOperations;
  private readonly view: SqliteTransactionView;
  private readonly bus = new LocalBus();

  constructor(
    private readonly db: Database.Database,
    private readonly fileLock?: Database.Database,
  ) {
    this.ops = new SqliteOperations(db, new SqliteStatements(db));
    this.view = new SqliteTransactionView(this.ops, this.bus);
  }

  private async exclusive<T>(fn: () => T): Promise<T> {
    if (!this.mutex.locked && !this.db.inTransaction) return fn();
    const release = await this.mutex.acquire();
    try {
      return fn();
    } finally {
      this.settle();
      release();
    }
  }

  get(ri: string): Promise<StoredResource | undefined> {
    return this.exclusive(() => this.ops.get(ri));
  }
  getForUpdate(ri: string): Promise<StoredResource | undefined> {
    return this.get(ri);
  }
  getParentForInsert(parent: Pick<StoredResource, 'ri' | 'srn'>): Promise<StoredResource | undefined> {
    return this.get(parent.ri);
  }
  lockSubtree(ri: string): Promise<StoredResource | undefined> {
    return this.get(ri);
  }
  getByPath(srn: string): Promise<StoredResource | undefined> {
    return this.exclusive(() => this.ops.getByPath(srn));
  }
  children(pi: string, q?: ChildQuery): Promise<StoredResource[]> {
    return this.exclusive(() => this.ops.children(pi, q));
  }
  broadcast(topic: string, payload: string): Promise<void> {
    this.bus.emit(topic, payload);
    return Promise.resolve();
  }
  subscribe(topic: string, listener: (payload: string) => void): () => void {
    return this.bus.on(topic, listener);
  }
  subscriptionsOf(pi: string, limit: number): Promise<readonly StoredResource[]> {
    return this.exclusive(() => this.ops.subscriptionsOf(pi, limit));
  }
  notifying(ri: string): Promise<StoredResource | undefined> {
    return this.exclusive(() => this.ops.notifying(ri));
  }
  count(pi: string, ty?: number): Promise<number> {
    return this.exclusive(() => this.ops.count(pi, ty));
  }
  chargedOfType(charge: string, ty: number, marks: ReadonlyArray<readonly [string, string]>, aliveAt: number, limit: number): Promise<StoredResource[]> {
    return this.exclusive(() => this.ops.chargedOfType(charge, ty, marks, aliveAt, limit));
  }
  edgeChild(pi: string, ty: number, newest: boolean, aliveAt: number): Promise<EdgeChild> {
    return this.exclusive(() => this.ops.edgeChild(pi, ty, newest, aliveAt));
  }
  insert(r: StoredResource, limits?: UsageLimits): Promise<StoredResource> {
    return this.write(() => this.ops.insert(r, limits));
  }
  usage(originator: string): Promise<Usage> {
    return this.exclusive(() => this.ops.usage(originator));
  }
  update(r: StoredResource): Promise<void> {
    return this.write(() => this.ops.update(r));
  }
  deleteSubtree(ri: string): Promise<DeletedSubtree | undefined> {
    return this.transaction(() => Promise.resolve(this.ops.deleteSubtree(ri)));
  }
  dropOldestChildren(pi: string, ty: number, count: number, sizeAttribute: string): Promise<DroppedChildren> {
    return this.transaction(() => Promise.resolve(this.ops.dropOldestChildren(pi, ty, count, sizeAttribute)));
  }
  find(q: FindQuery): Promise<StoredResource[]> {
    return this.exclusive(() => this.ops.find(q));
  }
  search(q: SearchQuery): Promise<SearchHit[]> {
    return this.exclusive(() => this.ops.search(q));
  }
  childAccessClasses(pi: string, condition: ChildCondition, aliveAt: number, scan: number, limit: number): Promise<StoredResource[]> {
    return this.exclusive(() => this.ops.childAccessClasses(pi, condition, aliveAt, scan, limit));
  }
  findInSubtree(srn: string, ty: number, limit: number): Promise<StoredResource[]> {
    return this.exclusive(() => this.ops.findInSubtree(srn, ty, limit));
  }
  enqueue(messages: readonly NewOutboxMessage[]): Promise<void> {
    return this.transaction(() => Promise.resolve(this.ops.enqueue(messages)));
  }
  storePayload(content: string): Promise<number> {
    return this.transaction(() => Promise.resolve(this.ops.storePayload(content)));
  }
  outboxUsage(originators: readonly string[]): Promise<Map<string, number>> {
    return this.exclusive(() => this.ops.outboxUsage(originators));
  }
  dropQueued(targets: readonly string[]): Promise<number> {
    return this.transaction(() => Promise.resolve(this.ops.dropQueued(targets)));
  }
  dequeueLeased(id: number, owner: string): Promise<boolean> {
    return this.transaction(() => Promise.resolve(this.ops.dequeueLeased(id, owner)));
  }
  leaseHeads(owner: string, now: number, leaseMs: number, limit: number, scope?: LeaseScope): Promise<OutboxMessage[]> {
    return this.transaction(() => Promise.resolve(this.ops.leaseHeads(owner, now, leaseMs, limit, scope)));
  }
  queued(target: string, subscription: string | undefined, limit: number, after?: number): Promise<OutboxMessage[]> {
    return this.exclusive(() => this.ops.queued(target, subscription, limit, after));
  }
  dequeue(ids: readonly number[]): Promise<number[]> {
    return this.transaction(() => Promise.resolve(this.ops.dequeue(ids)));
  }
  takeBehind(_owner: string, _now: number, _leaseUntil: number, target: string, subscription: string | undefined, limit: number, after: number): Promise<OutboxMessage[]> {
    return this.exclusive(() => this.ops.takeBehind(target, subscription, limit, after));
  }
  releaseTaken(): Promise<void> {
    return Promise.resolve(); // takeBehind leases nothing here
  }
  renewLeases(ids: readonly number[], owner: string, until: number): Promise<void> {
    return this.write(() => this.ops.renewLeases(ids, owner, until));
  }
  postpone(id: number, notBefore: number, attempts: number, unlessHeldByOtherThan?: string): Promise<void> {
    return this.write(() => this.ops.postpone(id, notBefore, attempts, unlessHeldByOtherThan));
  }
  queueLength(target: string): Promise<number> {
    return this.exclusive(() => this.ops.queueLength(target));
  }

  countQueuedByPrefix(prefix: string, limit: number): Promise<number> {
    return this.exclusive(() => this.ops.countQueuedByPrefix(prefix, limit));
  }
  lockKey(): Promise<void> {
    return Promise.resolve(); // outside a transaction a lock would end at once
  }

  claimOnce(key: string, until: number, now: number): Promise<boolean> {
    return this.write(() => this.ops.claimOnce(key, until, now));
  }

  forgetClaims(now: number): Promise<number> {
    return this.write(() => this.ops.forgetClaims(now));
  }
  forgetClaim(key: string, until: number): Promise<void> {
    return this.write(() => this.ops.forgetClaim(key, until));
  }

  keepToken(record: TokenRecord, perHolder: number, now: number): Promise<{ id: string; fresh: boolean }> {
    return this.write(() => this.ops.keepToken(record, perHolder, now));
  }

  tokenRecord(kind: TokenRecord['kind'], id: string, now: number): Promise<TokenRecord | undefined> {
    return this.exclusive(() => this.ops.tokenRecord(kind, id, now));
  }

  forgetTokens(now: number): Promise<number> {
    return this.write(() => this.ops.forgetTokens(now));
  }

  /**
   * A write outside a transaction is a transaction of its own, acknowledged once its group has committed like any
   * other. (Run as a plain statement while a group was open, it joined that group and returned before its COMMIT:
   * a crash or a failed COMMIT then undid a write its caller had been told was done.)
   */
  private write<T>(fn: () => T): Promise<T> {
    return this.transaction(() => Promise.resolve(fn()));
  }

  /**
   * Group commit: transactions that queue up behind each other share one database transaction (each in
   * its own savepoint, so one that fails undoes only itself) and one fsync. None of them returns before
   * the COMMIT that makes it durable, so "acknowledged means on disk" still holds.
   */
  async transaction<T>(fn: (tx: ResourceStore) => Promise<T>): Promise<T> {
    const release = await this.mutex.acquire();
    let result!: T;
    let durable!: Promise<void>;
    try {
      if (!this.db.inTransaction) this.db.exec('BEGIN IMMEDIATE');
      this.db.exec('SAVEPOINT warden_tx');
      try {
        result = await fn(this.view);
        this.db.exec('RELEASE warden_tx');
        for (const [topic, payload] of this.view.takePending()) this.bus.emit(topic, payload);
      } catch (err) {
        this.view.takePending();
        if (this.db.inTransaction) {
          this.db.exec('ROLLBACK TO warden_tx');
          this.db.exec('RELEASE warden_tx');
        }
        // What the cache took in during the transaction may be undone now.
        this.ops.subscriptions.clear();
        this.ops.paths.clear();
        throw err;
      }
      durable = new Promise<void>((resolve, reject) => this.awaitingCommit.push({ resolve, reject }));
    } finally {
      this.settle();
      release();
    }
    await durable;
    return result;
  }

  private readonly awaitingCommit: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];

  private flushScheduled = false;

  /**
   * Commits the shared transaction — not at once: better-sqlite3 is synchronous, so requests that arrived
   * meanwhile only start on the next turn of the event loop. The COMMIT waits for that turn (setImmediate),
   * so they join the group; a large group commits at once.
   */
  private settle(force = false): void {
    if (!this.db.open || !this.db.inTransaction) return;
    if (force || this.awaitingCommit.length >= MAX_COMMIT_GROUP) {
      this.commitGroup();
      return;
    }
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    const release = await this.mutex.acquire();
    try {
      this.flushScheduled = false;
      this.commitGroup();
    } finally {
      release();
    }
  }

  private commitGroup(): void {
    // A flush scheduled before close() finds the connection closed: close() already committed.
    if (!this.db.open || !this.db.inTransaction) return;
    const group = this.awaitingCommit.splice(0);
    try {
      this.db.exec('COMMIT');
      for (const t of group) t.resolve();
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      this.ops.subscriptions.clear();
      this.ops.paths.clear();
      for (const t of group) t.reject(err);
    }
  }

  ping(): Promise<void> {
    return this.exclusive(() => {
      this.db.prepare('SELECT 1').get();
    });
  }

  async close(): Promise<void> {
    const release = await this.mutex.acquire();
    try {
      this.settle(true);
      if (this.db.open) this.db.close();
      if (this.fileLock?.open) this.fileLock.close();
    } finally {
      release();
    }
  }
}
