// Discovery (RETRIEVE with filterUsage 1) and conditional retrieval [TS-0004 §7.3.3.14, §7.3.3.17]: the
// conditions become one database query; every result must be discoverable by the originator.
import { CseError, badRequest } from '../primitive/errors.js';
import { formatTimestamp, parseTimestamp } from '../primitive/identifiers.js';
import type { FilterCriteria } from '../primitive/request.js';
import { RSC } from '../primitive/rsc.js';
import type { Outcome, RequestContext } from '../pipeline/context.js';
import { ACCESS_OPERATION } from '../security/acp.js';
import { originatorMay } from '../pipeline/access.js';
import type { SearchQuery, StoredResource } from '../storage/store.js';

/** Rows read per query round, and the most rows one discovery may look at before answering partially. */
const BATCH = 500;
const MAX_SCAN = 20_000;

function timestamp(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ms = parseTimestamp(value);
  if (ms === undefined) throw badRequest(`filter criterion '${name}' is not a timestamp`);
  return formatTimestamp(ms);
}

function epoch(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseTimestamp(value);
  if (ms === undefined) throw badRequest(`filter criterion '${name}' is not a timestamp`);
  return ms;
}

/** Filter criteria → a store query; refuses what is malformed (4000) or not supported (5001). */
export function searchQuery(fc: FilterCriteria, below: StoredResource, now: number, limit: number): SearchQuery {
  const unsupported = (['lbq', 'smf', 'arp'] as const).filter((k) => fc[k] !== undefined);
  if (fc.gq !== undefined) unsupported.push('lbq');
  if (unsupported.length > 0) throw new CseError(RSC.NOT_IMPLEMENTED, `filter criteria ${unsupported.join(', ')} are not supported`);
  if (fc.fo !== undefined && fc.fo !== 1 && fc.fo !== 2) {
    throw fc.fo === 3 ? new CseError(RSC.NOT_IMPLEMENTED, 'filterOperation XOR is not supported') : badRequest('filterOperation must be 1 (AND) or 2 (OR)');
  }
  if (fc.lvl !== undefined && fc.lvl < 1) throw badRequest('level must be at least 1');
  for (const n of ['sts', 'stb', 'sza', 'szb'] as const) if (fc[n] !== undefined && (fc[n]) < 0) throw badRequest(`filter criterion '${n}' must not be negative`);
  const q: SearchQuery = { below: below.srn, operation: fc.fo === 2 ? 'or' : 'and', aliveAt: now, limit };
  if (fc.lvl !== undefined) q.level = Math.min(fc.lvl, 64);
  if (fc.ty) q.ty = fc.ty;
  if (fc.chty) q.childTypes = fc.chty;
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
  if (fc.clbl?.length) q.childLabels = fc.clbl;
  if (fc.palb?.length) q.parentLabels = fc.palb;
  if (fc.cty?.length) q.contentTypes = fc.cty;
  if (fc.atr) q.attributes = Object.entries(fc.atr);
  if (fc.catr) q.childAttributes = Object.entries(fc.catr);
  if (fc.patr) q.parentAttributes = Object.entries(fc.patr);
  return q;
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
  const query = { ...searchQuery(fc, target, ctx.services.clock.now(), 1), only: target.ri };
  const found = await ctx.services.store.search(query);
  if (found.length === 0) throw new CseError(RSC.NOT_FOUND, 'the target does not match the filter criteria');
}

export async function discover(ctx: RequestContext): Promise<Outcome> {
  const target = ctx.resource;
  const fc = ctx.request.fc ?? {};
  if (!target) throw new Error('discovery runs after resolveTarget');
  const { store, clock, config } = ctx.services;
  if (fc.lim !== undefined && fc.lim < 0) throw badRequest('limit must not be negative');
  if (fc.off !== undefined && fc.off < 0) throw badRequest('offset must not be negative');
  const max = config.discovery.maxResults;
  const limit = Math.min(fc.lim ?? max, max);
  const skip = Math.max(0, (fc.off ?? 1) - 1);
  const query = searchQuery(fc, target, clock.now(), BATCH);
  const found: StoredResource[] = [];
  let skipped = 0;
  let scanned = 0;
  let more = false;
  let cursor: number | undefined;
  outer: for (;;) {
    const rows = await store.search(cursor === undefined ? query : { ...query, afterSeq: cursor });
    for (const row of rows) {
      cursor = row.seq;
      if (!(await originatorMay(ctx, ACCESS_OPERATION.DISCOVERY, row))) continue;
      if (skipped < skip) {
        skipped++;
        continue;
      }
      if (found.length >= limit) {
        more = true;
        break outer;
      }
      found.push(row);
    }
    scanned += rows.length;
    if (rows.length < BATCH) break;
    // A bounded amount of work per request: the rest is for the next page.
    if (scanned >= MAX_SCAN) {
      more = true;
      break;
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
