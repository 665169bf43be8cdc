// SQL for SearchQuery, shared by the backends: they differ only in placeholders and JSON access.
import type { ChildCondition, SearchQuery, SlimView } from './store.js';
import { CREATOR_KEY } from '../resources/common.js';

export interface SqlDialect {
  /** The next positional parameter for a value. */
  param(args: unknown[], value: unknown): string;
  /** An attribute of the JSON document as text (name passed as a parameter). */
  jsonText(args: unknown[], name: string): string;
  /** An attribute of the JSON document as a number. */
  jsonNumber(args: unknown[], name: string): string;
  /** TRUE when the document's list attribute has an entry that is one of `keys` or starts with `<key>:`. */
  jsonListHasKey(args: unknown[], name: string, keys: readonly string[]): string;
  /** TRUE when the document's list attribute contains any of `values`. */
  jsonListHasAny(args: unknown[], name: string, values: readonly string[]): string;
  /** The document as JSON text without the attribute `name`. */
  docWithout(args: unknown[], name: string): string;
  /**
   * TRUE when `text` matches `pattern`, in which `*` stands for any 0 or more characters and everything else for
   * itself, case-sensitively (SQLite's LIKE ignores case, so it uses GLOB with the other GLOB characters escaped).
   */
  wildcardMatch(args: unknown[], text: string, pattern: string): string;
  /** A column in a comparison that must not choose the index (SQLite: `+column`). */
  unindexed(column: string): string;
  /** A LIMIT or OFFSET value, as a parameter (SQLite: see ROW_COUNT in sqlite.ts). */
  rowCount(args: unknown[], value: number): string;
  /** A JSON array of these attributes of the document (null where one is not set), in this order. */
  docAttributes(args: unknown[], names: readonly string[]): string;
  /** A JSON array of these values (`json` marks those that are JSON already and are embedded as such). */
  jsonArray(items: ReadonlyArray<{ sql: string; json?: boolean }>): string;
  /** The JSON array of `item` over every row of the sub-query `from` (an empty result: [] or NULL). */
  jsonRows(item: string, from: string): string;
}

/**
 * How the database walks the rows: by default the subtree's path range (its index lists the subtree in path
 * order, so the rows are sorted by seq afterwards: a cost in the size of the subtree); `sequenceUpTo` instead
 * walks the table in seq order from afterSeq to this seq, testing the path of each row (a cost in the size of
 * that window, whatever the subtree holds).
 */
export interface SearchPlan {
  sequenceUpTo?: number;
}

/**
 * A subtree with at least this many rows is searched by windows of seq (see searchRounds): below it, the path
 * range read whole and sorted costs less than any window.
 */
export const LARGE_SUBTREE = 512;
/** Rows of seq windows one search may walk before it reads the rest by the path range after all. */
const SEQUENCE_BUDGET = 16_384;

/**
 * The statements one search runs, as (query, plan) rounds; the caller runs each and answers with the number of
 * rows it returned. Ordering a path range by seq reads the whole subtree and sorts it, so a page of a big subtree
 * would cost the whole subtree. A big subtree (at least LARGE_SUBTREE rows, as `probe` says: subtreeProbeSql) is
 * read instead in windows of seq (the table in insertion order, each row's path tested), growing until the page
 * is full: a cost in the rows up to the page's last one when the subtree holds much of what was stored since
 * the cursor. When it holds little (a window finds few rows), the windows stop after a bounded walk and the path
 * range serves the rest. The rows and their order are those of the one query over the path range.
 *
 * The probe's `root` is the seq of the resource at `below` (0 when unknown): a descendant is inserted after its
 * ancestors (its parent must exist then), so nothing older is in the subtree. Its `last` is the newest seq stored.
 */
export function* searchRounds(q: SearchQuery, probe: ProbeRow | undefined): Generator<{ query: SearchQuery; plan: SearchPlan }, void, number> {
  const large = probe !== undefined && (probe.large === true || Number(probe.large) === 1);
  if (q.only !== undefined || q.limit <= 0 || !large) {
    yield { query: q, plan: {} };
    return;
  }
  const rootSeq = Number(probe.root ?? 0);
  const lastSeq = Number(probe.last ?? 0);
  let found = 0;
  let after = Math.max(q.afterSeq ?? 0, rootSeq);
  let window = Math.max(256, 4 * q.limit);
  let walked = 0;
  while (found < q.limit && after < lastSeq) {
    const query = { ...q, afterSeq: after, limit: q.limit - found };
    if (walked >= SEQUENCE_BUDGET) {
      yield { query, plan: {} };
      return;
    }
    const upTo = Math.min(lastSeq, after + window);
    found += yield { query, plan: { sequenceUpTo: upTo } };
    walked += upTo - after;
    after = upTo;
    window *= 2;
  }
}

/**
 * The one statement a search of a subtree starts with: whether the subtree below a path holds at least `bound`
 * rows (`large`), the seq of the resource at the path (`root`) and the newest seq stored (`last`). The subtree is
 * one run of the path index from `<below>/`: it is large when the bound-th entry from there is still inside it,
 * which the database finds by stepping over index entries without counting or reading them (a third of what
 * counting them cost). With only a lower bound no planner collects the whole range first (PostgreSQL without
 * statistics would, for a closed range).
 */
export function subtreeProbeSql(below: string, bound: number, d: SqlDialect): { sql: string; args: unknown[] } {
  const args: unknown[] = [];
  const p = (v: unknown): string => d.param(args, v);
  const from = p(`${below}/`);
  const offset = d.rowCount(args, bound - 1);
  const to = p(`${below}0`);
  const boundth = `SELECT srn FROM resources WHERE srn >= ${from} ORDER BY srn LIMIT 1 OFFSET ${offset}`;
  return {
    sql: `SELECT EXISTS (SELECT 1 FROM (${boundth}) s WHERE srn < ${to}) AS large, (SELECT seq FROM resources WHERE srn = ${p(below)}) AS root, (SELECT max(seq) FROM resources) AS last`,
    args,
  };
}

/** A row of subtreeProbeSql, as either backend returns it. */
export interface ProbeRow {
  large: number | boolean;
  root: number | string | null;
  last: number | string | null;
}

/** Common attributes stored as columns, in the form the representation shows them. */
const COLUMN_ATTRIBUTES: ReadonlySet<string> = new Set(['ri', 'rn', 'pi', 'ct', 'lt']);

/**
 * An attribute condition: equality, or with `*` in the value a match where `*` stands for 0 or more characters
 * [TS-0001 table 8.1.2-2 "attribute": "creator=Sam*"; TS-0004 §7.3.3.17.9]. The JSON accessor is placed first,
 * as SQLite's positional parameters need.
 */
function attributeCondition(d: SqlDialect, args: unknown[], name: string, value: string): string {
  // These are columns, not part of the stored document (in a child or parent sub-query they name its columns).
  const text = COLUMN_ATTRIBUTES.has(name) ? name : d.jsonText(args, name);
  return value.includes('*') ? d.wildcardMatch(args, text, value) : `${text} = ${d.param(args, value)}`;
}

function scopeOf(q: SearchQuery, d: SqlDialect, args: unknown[], plan: SearchPlan): string[] {
  const p = (v: unknown): string => d.param(args, v);
  const scope: string[] = [];
  const srn = plan.sequenceUpTo === undefined ? 'srn' : d.unindexed('srn');
  if (q.only !== undefined) scope.push(`ri = ${p(q.only)}`);
  else scope.push(`${srn} >= ${p(`${q.below}/`)} AND ${srn} < ${p(`${q.below}0`)}`);
  if (q.level !== undefined) {
    const baseDepth = q.below.split('/').length;
    scope.push(`(length(srn) - length(replace(srn, '/', ''))) + 1 <= ${p(baseDepth + q.level)}`);
  }
  scope.push(`(et IS NULL OR et > ${p(q.aliveAt)})`);
  for (const [name, min, max] of q.numberRanges ?? []) {
    if (min !== undefined) scope.push(`${d.jsonNumber(args, name)} >= ${p(min)}`);
    if (max !== undefined) scope.push(`${d.jsonNumber(args, name)} <= ${p(max)}`);
  }
  if (q.labelKeys?.length) scope.push(d.jsonListHasKey(args, 'lbl', q.labelKeys));
  if (q.labelsIn?.length) scope.push(d.jsonListHasAny(args, 'lbl', q.labelsIn));
  if (q.listHasAny?.[1].length) scope.push(d.jsonListHasAny(args, q.listHasAny[0], q.listHasAny[1]));
  if (q.onlyTypes?.length) scope.push(`ty IN (${q.onlyTypes.map((t) => p(t)).join(', ')})`);
  if (q.withChildType !== undefined) scope.push(`EXISTS (SELECT 1 FROM resources c WHERE c.pi = resources.ri AND c.ty = ${p(q.withChildType)})`);
  if (q.afterSeq !== undefined) scope.push(`seq > ${p(q.afterSeq)}`);
  if (plan.sequenceUpTo !== undefined) scope.push(`seq <= ${p(plan.sequenceUpTo)}`);
  return scope;
}

function conditionsOf(q: SearchQuery, d: SqlDialect, args: unknown[]): string[] {
  const p = (v: unknown): string => d.param(args, v);
  const conditions: string[] = [];
  const list = (values: readonly (string | number)[]): string => values.map((v) => p(v)).join(', ');
  if (q.ty?.length) conditions.push(`ty IN (${list(q.ty)})`);
  if (q.createdBefore !== undefined) conditions.push(`ct < ${p(q.createdBefore)}`);
  if (q.createdAfter !== undefined) conditions.push(`ct >= ${p(q.createdAfter)}`);
  if (q.modifiedSince !== undefined) conditions.push(`lt >= ${p(q.modifiedSince)}`);
  if (q.unmodifiedSince !== undefined) conditions.push(`lt < ${p(q.unmodifiedSince)}`);
  if (q.expireBefore !== undefined) conditions.push(`(et IS NOT NULL AND et < ${p(q.expireBefore)})`);
  if (q.expireAfter !== undefined) conditions.push(`(et IS NULL OR et >= ${p(q.expireAfter)})`);
  if (q.stateTagSmaller !== undefined) conditions.push(`${d.jsonNumber(args, 'st')} < ${p(q.stateTagSmaller)}`);
  if (q.stateTagBigger !== undefined) conditions.push(`${d.jsonNumber(args, 'st')} >= ${p(q.stateTagBigger)}`);
  if (q.sizeAbove !== undefined) conditions.push(`${d.jsonNumber(args, 'cs')} >= ${p(q.sizeAbove)}`);
  if (q.sizeBelow !== undefined) conditions.push(`${d.jsonNumber(args, 'cs')} < ${p(q.sizeBelow)}`);
  if (q.labels?.length) conditions.push(d.jsonListHasAny(args, 'lbl', q.labels));
  if (q.contentTypes?.length) {
    // Each use of a JSON accessor takes its own parameter (SQLite's '?' are positional).
    const matchers = q.contentTypes.map((t) => {
      const exact = `${d.jsonText(args, 'cnf')} = ${p(t)}`;
      const withEncoding = `${d.jsonText(args, 'cnf')} LIKE ${p(`${t.replace(/[%_\\]/g, '')}:%`)}`;
      return `(${exact} OR ${withEncoding})`;
    });
    conditions.push(`(${matchers.join(' OR ')})`);
  }
  for (const [name, value] of q.attributes ?? []) conditions.push(attributeCondition(d, args, name, value));
  if (q.childTypes?.length) conditions.push(`EXISTS (SELECT 1 FROM resources c WHERE c.pi = resources.ri AND c.ty IN (${list(q.childTypes)}))`);
  // Inside these sub-queries the JSON accessors read the child's / the parent's document.
  if (q.childLabels?.length) conditions.push(`EXISTS (SELECT 1 FROM resources c WHERE c.pi = resources.ri AND ${d.jsonListHasAny(args, 'lbl', q.childLabels)})`);
  if (q.parentLabels?.length) conditions.push(`EXISTS (SELECT 1 FROM resources pr WHERE pr.ri = resources.pi AND ${d.jsonListHasAny(args, 'lbl', q.parentLabels)})`);
  for (const [name, value] of q.childAttributes ?? []) {
    conditions.push(`EXISTS (SELECT 1 FROM resources c WHERE c.pi = resources.ri AND ${attributeCondition(d, args, name, value)})`);
  }
  for (const [name, value] of q.parentAttributes ?? []) {
    conditions.push(`EXISTS (SELECT 1 FROM resources pr WHERE pr.ri = resources.pi AND ${attributeCondition(d, args, name, value)})`);
  }
  if (q.parentTypes?.length) conditions.push(`EXISTS (SELECT 1 FROM resources pr WHERE pr.ri = resources.pi AND pr.ty IN (${list(q.parentTypes)}))`);
  return conditions;
}

/**
 * The columns of a slim row (SlimView), in the order of the JSON array each row comes back as; then `matched`.
 * Not rn (the last segment of srn), nor et, ct, lt: each column costs the database and the parser a few
 * microseconds per page.
 */
export const SLIM_COLUMNS = ['seq', 'ri', 'pi', 'ty', 'srn', 'owner', 'attrs'] as const;

function slimColumns(view: SlimView, d: SqlDialect, args: unknown[]): string {
  const p = (v: unknown): string => d.param(args, v);
  const plain = SLIM_COLUMNS.filter((c) => c !== 'attrs').join(', ');
  if (view.attributes.length === 0) return `${plain}, NULL AS attrs`;
  // Rows of the bare types (all of a page of contentInstances) do not touch their document at all.
  const bare = view.bare.length > 0 ? `ty IN (${view.bare.map((t) => p(t)).join(', ')})` : undefined;
  const attributes = d.docAttributes(args, view.attributes);
  return `${plain}, ${bare ? `CASE WHEN ${bare} THEN NULL ELSE ${attributes} END` : attributes} AS attrs`;
}

/**
 * A slim search answers one row whose one column is the JSON array of the page's rows (each an array of
 * SLIM_COLUMNS, then `matched` when the query has it): one value to hand over and parse instead of a dozen per
 * row. The rows of the array are not necessarily in seq order.
 */
function slimRows(page: string, matched: boolean, d: SqlDialect): string {
  const items = SLIM_COLUMNS.map((c) => ({ sql: `page.${c}`, json: c === 'attrs' }));
  if (matched) items.push({ sql: 'page.matched', json: false });
  return d.jsonRows(d.jsonArray(items), `(${page}) page`);
}

export function searchSql(q: SearchQuery, d: SqlDialect, plan: SearchPlan = {}): { sql: string; args: unknown[] } {
  // Placeholders are positional in SQLite: the parts are built in the order they appear in the text.
  const args: unknown[] = [];
  const columns = q.slim ? slimColumns(q.slim, d, args) : q.withoutContent ? `seq, ri, pi, ty, rn, srn, ct, lt, et, owner, ${d.docWithout(args, 'con')} AS doc, length(doc) AS size` : '*';
  const truth = (c: string): string => `(CASE WHEN ${c} THEN 1 ELSE 0 END)`;
  let select = columns;
  let where: string[];
  const withMatched = q.residual !== undefined && q.residual > 0 && q.operation !== 'and';
  if (withMatched) {
    // Conditions evaluated after the query take part in OR / XOR: every row in scope comes back with the
    // number of database conditions it meets, and the caller adds its own.
    const conditions = conditionsOf(q, d, args);
    select = `${columns}, ${conditions.length > 0 ? conditions.map(truth).join(' + ') : '0'} AS matched`;
    where = scopeOf(q, d, args, plan);
  } else {
    where = scopeOf(q, d, args, plan);
    const conditions = conditionsOf(q, d, args);
    if (conditions.length > 0) {
      if (q.operation === 'xor') where.push(`(${conditions.map(truth).join(' + ')}) % 2 = 1`);
      else where.push(`(${conditions.join(q.operation === 'or' ? ' OR ' : ' AND ')})`);
    }
  }
  const page = `SELECT ${select} FROM resources WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ${d.rowCount(args, q.limit)}`;
  return { sql: q.slim ? slimRows(page, withMatched, d) : page, args };
}

/**
 * The distinct access settings among the children of `pi` that meet `condition` (see ResourceStore
 * childAccessClasses). An accessControlPolicy is governed by itself, so each one is a class of its own.
 */
export function childAccessSql(pi: string, condition: ChildCondition, aliveAt: number, scan: number, limit: number, d: SqlDialect): { sql: string; args: unknown[] } {
  const args: unknown[] = [];
  const p = (v: unknown): string => d.param(args, v);
  const select = `ty, owner, pi, MIN(ri) AS first_ri, ${d.jsonText(args, 'acpi')} AS acpi, ${d.jsonText(args, 'cstn')} AS cstn, ${d.jsonText(args, CREATOR_KEY)} AS creator`;
  const where = [`pi = ${p(pi)}`, `(et IS NULL OR et > ${p(aliveAt)})`];
  if (condition.ty?.length) where.push(`ty IN (${condition.ty.map((t) => p(t)).join(', ')})`);
  if (condition.labels?.length) where.push(d.jsonListHasAny(args, 'lbl', condition.labels));
  for (const [name, value] of condition.attributes ?? []) where.push(attributeCondition(d, args, name, value));
  const inner = `SELECT ri, pi, ty, owner, doc FROM resources WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ${d.rowCount(args, scan)}`;
  const policyType = p(1);
  return { sql: `SELECT ${select} FROM (${inner}) c GROUP BY 1, 2, 3, 5, 6, 7, CASE WHEN ty = ${policyType} THEN ri END LIMIT ${d.rowCount(args, limit)}`, args };
}
