// Discovery (RETRIEVE with filterUsage 1) and conditional retrieval [TS-0004 §7.3.3.14, §7.3.3.17]: the
// conditions become one database query; every result must be discoverable by the originator.
import { CseError, badRequest } from '../primitive/errors.js';
import { formatTimestamp, parseTimestamp } from '../primitive/identifiers.js';
import { FILTER_USAGE, type FilterCriteria } from '../primitive/request.js';
import { RSC } from '../primitive/rsc.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import type { Outcome, RequestContext } from '../pipeline/context.js';
import { ACCESS_OPERATION } from '../security/acp.js';
import { OriginatorDecisions, originatorMay } from '../pipeline/access.js';
import type { ChildCondition, ResourceStore, SearchHit, SearchQuery, StoredResource } from '../storage/store.js';
import { spatialWorkOf } from '../quotas/spatialWork.js';
import { GEO_FUNCTION, GeometryError, MAX_QUERY_POSITIONS, boxConditions, locationOf, positionCount, parseCoordinates, spatialMatch, toGeometry } from '../resources/geometry.js';
import { compileLabelsQuery } from './labelsQuery.js';
import { compileContentFilter } from './contentFilter.js';
import { semanticCondition, semanticsQueryText } from './semantic.js';
import { discoverOnDemand } from './ipeDiscovery.js';
import type { Geometry } from 'geojson';

/** Rows read per query round. */
const BATCH = 500;
/** Bytes of whole contentInstances read per query round (a round with a content filter stops early). */
export const CHUNK_BYTES = 4 * 1024 * 1024;
/**
 * Rows one discovery may pass over to reach its offset, in scan limits. Offsets count results the originator
 * may see, so a page that ended early at the scan limit (discovery.scanLimit) is followed by one that first
 * skips those results (all within the rows already read) and then reads up to the limit further: paging always
 * advances, until an offset lies deeper than this many limits (then narrower criteria are needed).
 */
const MAX_SKIP_SCANS = 5;

function epoch(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseTimestamp(value);
  if (ms === undefined) throw badRequest(`filter criterion '${name}' is not a timestamp`);
  return ms;
}

/** A time condition in the stored form of ct and lt (YYYYMMDDTHHMMSS,ffffff). */
function timestamp(name: string, value: string | undefined): string | undefined {
  const ms = epoch(name, value);
  return ms === undefined ? undefined : formatTimestamp(ms);
}

/** limit (at most `max`) and offset (1-based) of a page, as discovery and result content 4/5/6/8 page. */
export function pageOf(fc: FilterCriteria, max: number): { limit: number; offset: number } {
  if (fc.lim !== undefined && fc.lim < 0) throw badRequest('limit must not be negative');
  if (fc.off !== undefined && fc.off < 0) throw badRequest('offset must not be negative');
  return { limit: Math.min(fc.lim ?? max, max), offset: Math.max(1, fc.off ?? 1) };
}

/** A filter compiled once per request: the database part, and the conditions tested on each row found. */
export interface CompiledFilter {
  query: SearchQuery;
  residual: ResidualCondition[];
  /** Whether a row test reads contentInstances' content (con): otherwise rows are read without it. */
  needsContent: boolean;
}

/** A condition the database cannot decide: tested on each row found, after an optional look at the batch. */
export interface ResidualCondition {
  prepare?(rows: readonly StoredResource[]): Promise<void>;
  test(row: StoredResource): boolean;
  /**
   * True once the condition has spent its work budget for this request: the row just tested is undecided and
   * the page ends there (partial content; the next page carries on with a fresh budget).
   */
  exhausted?(): boolean;
  /**
   * Discovery passes over `skip` results first, then fills the page; each phase has its own budget. A page
   * whose budget runs out before its first result gets one larger budget ('extend'): a page either returns a
   * result or ends the paging, so paging cannot stand still.
   */
  phase?(phase: 'skip' | 'fill' | 'extend'): void;
  /** Database reads the condition made since it was last asked, counted like rows scanned (then reset). */
  work?(): number;
}

/**
 * Children of one resource a child condition looks at (oldest first), and distinct access settings among them.
 * Beyond these, a resource whose matching children are all hidden from the originator does not meet it.
 */
const RELATION_SCAN = 1_000;
const RELATION_CLASSES = 32;

/**
 * A condition on a child (clbl, catr, chty) holds only through a child the originator may DISCOVER: otherwise the
 * answer would tell, one guess at a time, the labels and attributes of children it may not see. The children
 * that meet the condition are reduced to their distinct access settings in the database, and each setting is
 * decided once.
 */
function childCondition(ctx: RequestContext, condition: ChildCondition, aliveAt: number): ResidualCondition {
  let met = new Set<string>();
  let reads = 0;
  return {
    async prepare(rows) {
      met = new Set();
      for (const row of rows) {
        reads++;
        for (const setting of await ctx.services.store.childAccessClasses(row.ri, condition, aliveAt, RELATION_SCAN, RELATION_CLASSES)) {
          if (await originatorMay(ctx, ACCESS_OPERATION.DISCOVERY, setting)) {
            met.add(row.ri);
            break;
          }
        }
      }
    },
    test: (row) => met.has(row.ri),
    work() {
      const n = reads;
      reads = 0;
      return n;
    },
  };
}

/** Parents decided per request, at most: beyond, a parent is decided again when it comes up again. */
const PARENTS_REMEMBERED = 10_000;

/** A condition on the parent (palb, patr, pty) holds only when the originator may DISCOVER the parent. */
function parentCondition(ctx: RequestContext, condition: ChildCondition, aliveAt: number): ResidualCondition {
  const decided = new Map<string, boolean>();
  let reads = 0;
  return {
    async prepare(rows) {
      const { store } = ctx.services;
      for (const pi of new Set(rows.map((r) => r.pi))) {
        if (decided.has(pi)) continue;
        reads++;
        const parent = await store.get(pi);
        let meets = false;
        if (parent && (parent.et === undefined || parent.et > aliveAt) && (await originatorMay(ctx, ACCESS_OPERATION.DISCOVERY, parent))) {
          const query: SearchQuery = { below: parent.srn, only: parent.ri, operation: 'and', aliveAt, limit: 1, withoutContent: true };
          if (condition.labels) query.labels = condition.labels;
          if (condition.attributes) query.attributes = condition.attributes;
          if (condition.ty) query.ty = condition.ty;
          meets = (await store.search(query)).length > 0;
        }
        if (decided.size >= PARENTS_REMEMBERED) decided.clear();
        decided.set(pi, meets);
      }
    },
    test: (row) => decided.get(row.pi) === true,
    work() {
      const n = reads;
      reads = 0;
      return n;
    },
  };
}

/** The child and parent conditions of a filter, one row test each (each is one condition of filterOperation). */
function relationConditions(ctx: RequestContext, fc: FilterCriteria, aliveAt: number): ResidualCondition[] {
  const out: ResidualCondition[] = [];
  if (fc.chty?.length) out.push(childCondition(ctx, { ty: fc.chty }, aliveAt));
  if (fc.clbl?.length) out.push(childCondition(ctx, { labels: fc.clbl }, aliveAt));
  for (const pair of Object.entries(fc.catr ?? {})) out.push(childCondition(ctx, { attributes: [pair] }, aliveAt));
  if (fc.pty?.length) out.push(parentCondition(ctx, { ty: fc.pty }, aliveAt));
  if (fc.palb?.length) out.push(parentCondition(ctx, { labels: fc.palb }, aliveAt));
  for (const pair of Object.entries(fc.patr ?? {})) out.push(parentCondition(ctx, { attributes: [pair] }, aliveAt));
  return out;
}

/** Reads counted by the row tests since the last call (see ResidualCondition.work). */
export function filterWork(filter: CompiledFilter): number {
  let n = 0;
  for (const c of filter.residual) n += c.work?.() ?? 0;
  return n;
}

/** Lets other requests run between two rounds of a long read (SQLite answers synchronously). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * One round of a search: rows without their content, unless the filter reads it; then contentInstances are read
 * whole only while they fit `chunkBytes` (at least one), and `end` is false when the round stopped early.
 */
/**
 * Rows of one round, whole (with `con`) only where `content` asks for it and only for rows `visible` admits: a row
 * the originator may not see can never be a result, so its content is never read or parsed on its behalf (an
 * originator without privileges must not make the CSE parse other AEs' instances).
 */
export async function readRows(
  store: ResourceStore,
  query: SearchQuery,
  content: boolean,
  chunkBytes: number,
  visible: (hit: SearchHit) => boolean | Promise<boolean>,
): Promise<{ rows: SearchHit[]; end: boolean }> {
  const fetched = await store.search({ ...query, withoutContent: true });
  const end = fetched.length < query.limit;
  if (!content) return { rows: fetched, end };
  const rows: SearchHit[] = [];
  let bytes = 0;
  for (const hit of fetched) {
    if (hit.ty !== RESOURCE_TYPE.contentInstance || !(await visible(hit))) {
      rows.push(hit);
      continue;
    }
    const size = hit.size ?? 0;
    if (rows.length > 0 && bytes + size > chunkBytes) return { rows, end: false };
    const whole = await store.get(hit.ri);
    bytes += size;
    // One deleted since the search stays as it was found (without content), so the cursor still moves past it.
    rows.push(whole ? { ...whole, ...(hit.matched === undefined ? {} : { matched: hit.matched }), bytes: size } : hit);
  }
  return { rows, end };
}

/** Characters of stored documents these rows made the CSE parse. */
export function rowBytes(rows: readonly SearchHit[]): number {
  let n = 0;
  for (const r of rows) n += r.bytes ?? 0;
  return n;
}

/**
 * Spatial test work one page may do: the sum over rows of (location positions × query positions); a pair costs
 * about a microsecond (measured up to 1.1 µs for a star polygon of 500 positions around a MultiPolygon), so a page
 * spends at most about 0.1 s on the main thread. Passing over earlier pages' results may cost more (their work is
 * done again), up to a bound that ends deep paging. The same work counts against the originator's and the process's
 * spatial work over time (quotas/spatialWork.ts).
 */
const GEO_WORK_BUDGET = 100_000;
const GEO_SKIP_BUDGET = 300_000;

const FILTER_OPERATION: Record<number, SearchQuery['operation']> = { 1: 'and', 2: 'or', 3: 'xor' };

/** geoQuery: geometryType, geometry and geoSpatialFunction come together or not at all (4000, as in ACME). */
function geoCondition(ctx: RequestContext, fc: FilterCriteria): (ResidualCondition & { box: ReturnType<typeof boxConditions> }) | undefined {
  const given = [fc.gmty, fc.geom, fc.gsf].filter((v) => v !== undefined).length;
  if (given === 0) return undefined;
  if (given < 3) throw badRequest('geoQuery needs geometryType (gmty), geometry (geom) and geoSpatialFunction (gsf) together');
  if (!Object.values(GEO_FUNCTION).includes(fc.gsf as 1 | 2 | 3)) throw badRequest('geoSpatialFunction (gsf) must be 1 (Within), 2 (Contains) or 3 (Intersects)');
  let query: Geometry;
  try {
    query = toGeometry(fc.gmty as number, parseCoordinates(fc.geom as string), MAX_QUERY_POSITIONS);
  } catch (err) {
    throw badRequest(`geoQuery geometry is not valid: ${err instanceof GeometryError ? err.message : 'unreadable'}`);
  }
  const fn = fc.gsf as number;
  const querySize = positionCount(query);
  const work = spatialWorkOf(ctx);
  let budget = GEO_WORK_BUDGET;
  let spent = 0;
  let exhausted = false;
  // A resource without a location never meets a geo condition.
  return {
    box: boxConditions(fn, query),
    test(row) {
      const location = locationOf(row.doc);
      if (location === undefined) return false;
      // Within a fresh budget the first test always runs: a single test costs at most the product of the caps.
      const cost = positionCount(location) * querySize;
      if ((spent > 0 && spent + cost > budget) || !work.spend(cost)) {
        exhausted = true;
        return false;
      }
      spent += cost;
      return spatialMatch(fn, query, location);
    },
    exhausted: () => exhausted,
    phase(phase) {
      budget = phase === 'fill' ? GEO_WORK_BUDGET : GEO_SKIP_BUDGET;
      spent = 0;
      exhausted = false;
    },
  };
}

/** Filter criteria → a store query plus row tests; refuses what is malformed (4000) or not supported (5001). */
export function compileFilter(ctx: RequestContext, fc: FilterCriteria, below: StoredResource, limit: number): CompiledFilter {
  const now = ctx.services.clock.now();
  // filterOperation itself is checked with the primitive (checkPrimitive), for every request.
  if (fc.lvl !== undefined && fc.lvl < 1) throw badRequest('level must be at least 1');
  for (const n of ['sts', 'stb', 'sza', 'szb'] as const) if (fc[n] !== undefined && (fc[n]) < 0) throw badRequest(`filter criterion '${n}' must not be negative`);
  const residual: CompiledFilter['residual'] = [];
  const labelsQuery = fc.lbq === undefined ? undefined : compileLabelsQuery(fc.lbq);
  if (labelsQuery) residual.push({ test: (row) => labelsQuery.test(row.doc.lbl) });
  const geo = geoCondition(ctx, fc);
  if (geo) residual.push(geo);
  // Content-based discovery applies to contentInstances only [TS-0001 annex on jsonpath query syntax].
  const contentFilter = fc.cfs !== undefined || fc.cfq !== undefined ? compileContentFilter(fc.cfs, fc.cfq) : undefined;
  if (contentFilter) residual.push({ test: (row) => row.ty === RESOURCE_TYPE.contentInstance && contentFilter(row.doc) });
  // A semantic query (sqi=true) uses smf differently: it is answered by semanticQuery, not filtered here.
  const semantic = fc.smf !== undefined && ctx.request.sqi !== true ? semanticCondition(ctx, semanticsQueryText(fc.smf)) : undefined;
  if (semantic) residual.push(semantic);
  residual.push(...relationConditions(ctx, fc, now));
  const operation = FILTER_OPERATION[fc.fo ?? 1] as SearchQuery['operation'];
  const q: SearchQuery = { below: below.srn, operation, aliveAt: now, limit };
  if (residual.length > 0) q.residual = residual.length;
  // Under AND, what the row tests need is also required of the rows: the database narrows by it first (a
  // location whose bounding box fits the query's, a label with a key the query names).
  if (geo && operation === 'and') q.numberRanges = geo.box;
  if (contentFilter && operation === 'and') q.onlyTypes = [RESOURCE_TYPE.contentInstance];
  if (labelsQuery?.exact && operation === 'and') q.labelsIn = labelsQuery.exact;
  else if (labelsQuery?.keys && operation === 'and') q.labelKeys = labelsQuery.keys;
  // Likewise a semantic condition needs a semanticDescriptor child.
  if (semantic && operation === 'and') q.withChildType = RESOURCE_TYPE.semanticDescriptor;
  if (fc.lvl !== undefined) q.level = Math.min(fc.lvl, 64);
  if (fc.ty) q.ty = fc.ty;
  // Under AND the database narrows by the child and parent conditions first (any child, any parent); the row
  // tests then require a discoverable one. Under OR / XOR only the row tests count them.
  if (fc.chty && operation === 'and') q.childTypes = fc.chty;
  if (fc.pty && operation === 'and') q.parentTypes = fc.pty;
  const set = <K extends keyof SearchQuery>(key: K, value: SearchQuery[K] | undefined): void => {
    if (value !== undefined) q[key] = value;
  };
  set('createdBefore', timestamp('crb', fc.crb));
  set('createdAfter', timestamp('cra', fc.cra));
  set('modifiedSince', timestamp('ms', fc.ms));
  set('unmodifiedSince', timestamp('us', fc.us));
  set('expireBefore', epoch('exb', fc.exb));
  set('expireAfter', epoch('exa', fc.exa));
  set('stateTagSmaller', fc.sts);
  set('stateTagBigger', fc.stb);
  set('sizeAbove', fc.sza);
  set('sizeBelow', fc.szb);
  if (fc.lbl?.length) q.labels = fc.lbl;
  if (fc.clbl?.length && operation === 'and') q.childLabels = fc.clbl;
  if (fc.palb?.length && operation === 'and') q.parentLabels = fc.palb;
  if (fc.cty?.length) q.contentTypes = fc.cty;
  if (fc.atr) q.attributes = Object.entries(fc.atr);
  if (fc.catr && operation === 'and') q.childAttributes = Object.entries(fc.catr);
  if (fc.patr && operation === 'and') q.parentAttributes = Object.entries(fc.patr);
  return { query: q, residual, needsContent: contentFilter !== undefined };
}

export async function prepareBatch(filter: CompiledFilter, rows: readonly StoredResource[]): Promise<void> {
  for (const condition of filter.residual) await condition.prepare?.(rows);
}

/** Whether a row test has run out of budget: the last row is undecided and the page must end before it. */
export function filterExhausted(filter: CompiledFilter): boolean {
  return filter.residual.some((c) => c.exhausted?.() === true);
}

/** Whether a row the database returned meets the whole filter, row tests included. */
export function meetsFilter(filter: CompiledFilter, hit: SearchHit): boolean {
  if (filter.residual.length === 0) return true;
  let met = 0;
  for (const condition of filter.residual) if (condition.test(hit)) met++;
  switch (filter.query.operation) {
    case 'and':
      // The database already required its own conditions.
      return met === filter.residual.length;
    case 'or':
      return (hit.matched ?? 0) + met > 0;
    case 'xor':
      return ((hit.matched ?? 0) + met) % 2 === 1;
  }
}

/** Whether the request's conditions (other than usage and paging) say anything at all. */
export function hasConditions(fc: FilterCriteria | undefined): boolean {
  if (!fc) return false;
  return Object.keys(fc).some((k) => !['fu', 'lim', 'off', 'lvl', 'fo', 'arp'].includes(k));
}

/** Conditional retrieval / update / delete: the target must match, or it is not found [TS-0004 §7.3.3.1]. */
export async function checkConditions(ctx: RequestContext, target: StoredResource): Promise<void> {
  const fc = ctx.request.fc;
  if (!fc || !hasConditions(fc)) return;
  const filter = compileFilter(ctx, fc, target, 1);
  const [found] = await ctx.services.store.search({ ...filter.query, only: target.ri });
  if (found) await prepareBatch(filter, [found]);
  if (!found || !meetsFilter(filter, found)) throw new CseError(RSC.NOT_FOUND, 'the target does not match the filter criteria');
}

/**
 * applyRelativePath (Release 4): the result is each matching resource's path extended by this relative path
 * (`..` climbs, `la`/`ol` name a container's newest/oldest instance); where that names nothing, there is no
 * entry [TS-0004 §7.3.3.17.17]. It applies to every use of filter criteria: discovery and the children a
 * RETRIEVE returns (rcn 4, 5, 6, 8; as in ACME).
 */
export function relativePathSegments(arp: string): string[] {
  const segments = arp.split('/');
  if (arp.length > 1_024 || arp.startsWith('/') || segments.some((s) => s === '' || s.length > 255)) {
    throw badRequest('applyRelativePath must be a relative path such as ../container/la');
  }
  if (segments.length > 32) throw badRequest('applyRelativePath has too many segments');
  return segments;
}

export async function resolveRelative(ctx: RequestContext, from: StoredResource, relative: readonly string[]): Promise<StoredResource | undefined> {
  const { store, clock, registry } = ctx.services;
  const path = from.srn.split('/');
  for (const segment of relative) {
    if (segment === '.') continue;
    if (segment === '..') {
      // Never above the CSEBase.
      if (path.length <= 1) return undefined;
      path.pop();
    } else path.push(segment);
  }
  const now = clock.now();
  const last = path[path.length - 1];
  if ((last === 'la' || last === 'ol') && path.length > 1) {
    const container = await store.getByPath(path.slice(0, -1).join('/'));
    const definition = container && registry.get(container.ty);
    if (container && definition?.instanceType !== undefined && definition.virtualChildren?.includes(last) && container.doc.disr !== true) {
      const [instance] = await store.children(container.ri, { ty: definition.instanceType, limit: 1, newestFirst: last === 'la', aliveAt: now });
      return instance;
    }
  }
  const resource = await store.getByPath(path.join('/'));
  return resource && (resource.et === undefined || resource.et > now) ? resource : undefined;
}

export async function discover(ctx: RequestContext): Promise<Outcome> {
  const target = ctx.resource;
  const fc = ctx.request.fc ?? {};
  if (!target) throw new Error('discovery runs after resolveTarget');
  const { store, config } = ctx.services;
  const { limit, offset } = pageOf(fc, config.discovery.maxResults);
  if (limit === 0) return { rsc: RSC.OK, content: ctx.request.rcn === 6 ? { 'm2m:rrl': { rrf: [] } } : { 'm2m:uril': [] }, contentStatus: 2 };
  const skip = offset - 1;
  const filter = compileFilter(ctx, fc, target, BATCH);
  const query = filter.query;
  // Rows nothing is tested on are read only as far as naming them and deciding on them needs (their whole
  // documents were most of a page's cost), and a page of siblings is decided once (issue #18).
  if (filter.residual.length === 0 && !filter.needsContent) query.slim = ctx.services.access.discoveryView();
  const decisions = new OriginatorDecisions(ctx, ACCESS_OPERATION.DISCOVERY);
  const relativePath = fc.arp === undefined ? undefined : relativePathSegments(fc.arp);
  const seen = new Set<string>();
  const found: StoredResource[] = [];
  const phase = (p: 'skip' | 'fill' | 'extend'): void => {
    for (const c of filter.residual) c.phase?.(p);
  };
  phase(skip > 0 ? 'skip' : 'fill');
  const scanLimit = config.discovery.scanLimit;
  const hardLimit = MAX_SKIP_SCANS * scanLimit;
  const tooSparse = (examined: number): CseError =>
    skipped < skip
      ? badRequest(`offset ${skip + 1} lies beyond what one discovery may pass over (${examined} resources); narrow the filter criteria`)
      : new CseError(RSC.NOT_ACCEPTABLE, `no further match among the ${examined} resources one discovery may examine; narrow the filter criteria`);
  let skipped = 0;
  let scannedWhileSkipping = 0;
  let scanned = 0;
  let extended = false;
  let more = false;
  let cursor: number | undefined;
  // Bytes of stored documents one page may parse, like scanLimit for rows: a page of big instances ends early.
  const pageBytes = config.discovery.maxPageBytes;
  let bytes = 0;
  // Without row tests, the first round reads only what the page needs when every row passes (the results to
  // pass over, the page, and one more to tell that more follow); where rows are refused, the next round reads
  // the rest of the batch, and rounds then go by whole batches as before, so the points where a page may end
  // early (scanLimit, checked between rounds) are the same. A round of BATCH rows would cost the database and
  // the parsing of 500 rows for a page of 10.
  const firstRound = filter.residual.length === 0 && !filter.needsContent ? Math.min(BATCH, skip + limit + 1) : BATCH;
  let roundLimit = firstRound;
  outer: for (;;) {
    // A round reads whole instances up to what is left of the page's bytes (at least one).
    const chunkBytes = Math.min(CHUNK_BYTES, Math.max(0, pageBytes - bytes));
    const round: SearchQuery = { ...query, limit: roundLimit, ...(cursor === undefined ? {} : { afterSeq: cursor }) };
    const { rows, end } = await readRows(store, round, filter.needsContent, chunkBytes, (hit) => decisions.may(hit));
    // The second round completes the first batch; the following ones are whole batches.
    roundLimit = cursor === undefined && firstRound < BATCH ? BATCH - firstRound : BATCH;
    await prepareBatch(filter, rows);
    bytes += rowBytes(rows);
    if (skipped < skip) scannedWhileSkipping += filterWork(filter);
    else scanned += filterWork(filter);
    for (const hit of rows) {
      cursor = hit.seq;
      if (skipped < skip) scannedWhileSkipping++;
      else scanned++;
      let meets = meetsFilter(filter, hit);
      if (filterExhausted(filter)) {
        if (skipped < skip) throw badRequest(`offset ${skip + 1} lies too deep for this query's spatial tests; narrow the filter criteria`);
        if (found.length > 0) {
          more = true;
          break outer;
        }
        if (extended) throw new CseError(RSC.NOT_ACCEPTABLE, "no further match within this query's budget for spatial tests; narrow the filter criteria");
        extended = true;
        phase('extend');
        meets = meetsFilter(filter, hit);
      }
      if (!meets) continue;
      // The match itself must be discoverable too: otherwise a relative path would tell, by what it leads to,
      // which hidden resources meet the conditions.
      if (relativePath && !(await decisions.may(hit))) continue;
      const row = relativePath ? await resolveRelative(ctx, hit, relativePath) : hit;
      if (!row || seen.has(row.ri)) continue;
      if (relativePath) seen.add(row.ri);
      // A remembered grant comes without waiting: a page of siblings costs no turn of the event loop per row.
      const allowed = decisions.may(row);
      if (!(typeof allowed === 'boolean' ? allowed : await allowed)) continue;
      if (skipped < skip) {
        skipped++;
        if (skipped === skip) phase('fill');
        continue;
      }
      if (found.length >= limit) {
        more = true;
        break outer;
      }
      found.push(row);
    }
    if (end) break;
    // A bounded amount of work per page: the rest is for the next page, which starts after this page's
    // results. A page without a result could not move the offset on, so it reads further, up to a hard bound.
    if ((scanned >= scanLimit || bytes >= pageBytes) && found.length > 0) {
      // Partial only if anything is left to read: a last batch that happens to be full ends the results.
      more = (await store.search({ ...query, afterSeq: cursor, limit: 1, withoutContent: true })).length > 0;
      break;
    }
    if (scanned + scannedWhileSkipping >= hardLimit || bytes >= MAX_SKIP_SCANS * pageBytes) throw tooSparse(scanned + scannedWhileSkipping);
    await yieldToEventLoop();
  }
  // IPE on-demand discovery: nothing found below an <AE>, so the IPE it represents is asked [TS-0004 §7.3.3.14].
  if (fc.fu === FILTER_USAGE.IPE_ON_DEMAND_DISCOVERY && target.ty === RESOURCE_TYPE.AE && found.length === 0 && skip === 0 && !more) {
    for (const offered of await discoverOnDemand(ctx, target, fc)) {
      const row = relativePath ? await resolveRelative(ctx, offered, relativePath) : offered;
      if (!row || seen.has(row.ri) || found.length >= limit) continue;
      seen.add(row.ri);
      if (!relativePath || (await decisions.may(row))) found.push(row);
    }
  }
  const unstructured = ctx.request.drt === 2;
  const ids = found.map((r) => (unstructured ? r.ri : r.srn));
  const content =
    ctx.request.rcn === 6
      ? { 'm2m:rrl': { rrf: found.map((r, i) => ({ nm: r.rn, typ: r.ty, val: ids[i] })) } }
      : { 'm2m:uril': ids };
  // Content status 1 = partial, 2 = full; the offset tells where the next page starts [TS-0004 §7.3.3.14].
  const outcome: Outcome = { rsc: RSC.OK, content, contentStatus: more ? 1 : 2 };
  if (more) outcome.contentOffset = skip + found.length + 1;
  return outcome;
}
