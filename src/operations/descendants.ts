// The children and descendants that result content 4, 5, 6 and 8 return [TS-0001 §8.1.2]: every descendant
// (not only the direct children), parents before children, each one the originator may RETRIEVE, selected by
// the request's filter criteria when it has them (a RETRIEVE without fu=1); level limits the depth, offset
// skips direct children with their subtrees, limit caps the count. Nested forms (4, 8) place each resource
// under its nearest ancestor in the answer (or at the top: as ACME does for a match whose parent is not one);
// reference lists (5, 6) are flat. Too much for one response is partial content
// with the offset of the direct child to restart at.
import { CseError, badRequest } from '../primitive/errors.js';
import { RSC } from '../primitive/rsc.js';
import { RESULT_CONTENT, isDiscovery, type FilterCriteria } from '../primitive/request.js';
import type { RequestContext } from '../pipeline/context.js';
import { OriginatorDecisions } from '../pipeline/access.js';
import { effectiveResultContent } from '../pipeline/stages/checkPrimitive.js';
import { ACCESS_OPERATION } from '../security/acp.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import type { SearchHit, StoredResource } from '../storage/store.js';
import { CHUNK_BYTES, compileFilter, filterExhausted, filterWork, meetsFilter, pageOf, prepareBatch, readRows, relativePathSegments, resolveRelative, yieldToEventLoop } from './discover.js';

const BATCH = 500;
/** Rows one request may pass over to reach its offset, in scan limits (discovery.scanLimit). */
const MAX_PASS_OVER_SCANS = 5;
/** Bytes of embedded representations one response may carry (rcn 4, 8). */
export const MAX_EMBEDDED_BYTES = 4 * 1024 * 1024;

export interface Descendants {
  /** In insertion order: a parent always comes before its children. */
  resources: StoredResource[];
  /** Set when not everything fitted: the offset (1-based direct child) where the next request restarts. */
  nextOffset?: number;
}

/** Whether this result content embeds whole representations (4, 8) rather than references (5, 6). */
export function embedsRepresentations(rcn: number): boolean {
  return rcn === RESULT_CONTENT.ATTRIBUTES_AND_CHILD_RESOURCES || rcn === RESULT_CONTENT.CHILD_RESOURCES;
}

/**
 * The descendants of `root` for the request's result content. `filtered`: apply the request's matching
 * conditions (a RETRIEVE); without it only level, offset and limit apply (a DELETE showing what it removed).
 */
export async function descendantsOf(ctx: RequestContext, root: StoredResource, filtered: boolean): Promise<Descendants> {
  const { store, config } = ctx.services;
  const rcn = effectiveResultContent(ctx.request.op, ctx.request.rcn);
  const nested = embedsRepresentations(rcn);
  const fc: FilterCriteria = ctx.request.fc && !isDiscovery(ctx.request.fc) ? ctx.request.fc : {};
  const structural: FilterCriteria = {};
  if (fc.lvl !== undefined) structural.lvl = fc.lvl;
  const filter = compileFilter(ctx, filtered ? fc : structural, root, BATCH);
  const { limit, offset: skipBefore } = pageOf(fc, config.discovery.maxResults);
  if (limit === 0) return { resources: [] };
  // applyRelativePath replaces each match by the resource at that path from it [TS-0004 §7.3.3.17.17].
  const relativePath = filtered && fc.arp !== undefined ? relativePathSegments(fc.arp) : undefined;
  const seen = new Set<string>();

  // One memo for the request: rows passed over before the offset are decided too now, siblings at once.
  const decisions = new OriginatorDecisions(ctx, ACCESS_OPERATION.RETRIEVE);
  const may = async (resource: StoredResource): Promise<boolean> => {
    const allowed = decisions.may(resource);
    return typeof allowed === 'boolean' ? allowed : await allowed;
  };
  // As discovery does: the rows before the offset and the page each have a budget for spatial tests, and a page
  // whose budget runs out before its first result gets one larger one; it then returns a result or ends paging.
  const phase = (p: 'skip' | 'fill' | 'extend'): void => {
    for (const c of filter.residual) c.phase?.(p);
  };
  let filling = skipBefore <= 1;
  let extended = false;
  phase(filling ? 'fill' : 'skip');
  const out: StoredResource[] = [];
  /** Direct child (first path segment below the root) → its 1-based position among those met. */
  const positions = new Map<string, number>();
  const hiddenInstances = new Map<string, boolean>();
  let bytes = 0;
  let scanned = 0;
  // Rows below the direct children that the offset skips: bounded on their own, so paging always advances.
  let passedOver = 0;
  let cursor: number | undefined;

  const instancesHidden = async (containerRi: string): Promise<boolean> => {
    let hidden = hiddenInstances.get(containerRi);
    if (hidden === undefined) {
      hidden = containerRi === root.ri ? root.doc.disr === true : (await store.get(containerRi))?.doc.disr === true;
      hiddenInstances.set(containerRi, hidden);
    }
    return hidden;
  };

  // Embedded representations need whole documents; references, access decisions and most row tests do not.
  const pageBytes = config.discovery.maxPageBytes;
  let read = 0;
  let passedBytes = 0;
  for (;;) {
    const { rows, end } = await readRows(
      store,
      cursor === undefined ? filter.query : { ...filter.query, afterSeq: cursor },
      nested || filter.needsContent,
      // What is left of the page's bytes; until the page has a result, a page's worth a round (bounded by what one
      // request may pass over), not one row a round.
      Math.min(CHUNK_BYTES, Math.max(out.length === 0 ? pageBytes : 0, pageBytes - read)),
      (hit) => may(hit),
    );
    await prepareBatch(filter, rows);
    scanned += filterWork(filter);
    for (const row of rows) {
      cursor = row.seq;
      const segment = directChildOf(root, row);
      // A direct child is numbered (for offset, and the offset a partial answer restarts at) only once a result of
      // its subtree is one this originator gets: numbered as met, hidden rows matching the filter moved the
      // numbers, and a filter OR-ed with a visible anchor read hidden content through them.
      const numbered = positions.get(segment) ?? positions.size + 1;
      const beforeOffset = numbered < skipBefore;
      if (beforeOffset) {
        passedOver++;
        passedBytes += row.bytes ?? 0;
      } else {
        scanned++;
        read += row.bytes ?? 0;
      }
      // A later row of a direct child numbered already, before the offset, changes nothing: not tested (its budget
      // for spatial tests, its access decisions), unless a relative path may lead from it to what a later row reaches.
      if (beforeOffset && positions.has(segment) && !relativePath) continue;
      if (!beforeOffset && !filling) {
        filling = true;
        phase('fill');
      }
      let meets = meetsFilter(filter, row);
      if (filterExhausted(filter)) {
        if (beforeOffset) throw badRequest(`offset ${skipBefore} lies too deep for this query's spatial tests; use discovery (fu=1) or narrower criteria`);
        if (out.length > 0) return cut(out, positions, root, numbered);
        if (extended) throw new CseError(RSC.NOT_ACCEPTABLE, "no further match within this query's budget for spatial tests; narrow the filter criteria");
        extended = true;
        phase('extend');
        meets = meetsFilter(filter, row);
      }
      // (Expired rows never come back: the search asks for the living.)
      if (!meets) continue;
      // The match must be readable itself: otherwise what its relative path leads to would tell that it matches.
      if (relativePath && !(await may(row))) continue;
      const result: SearchHit | undefined = relativePath ? await resolveRelative(ctx, row, relativePath) : row;
      if (!result) continue;
      if (relativePath) {
        if (seen.has(result.ri)) continue;
        seen.add(result.ri);
      }
      // disableRetrieval keeps a container's instances out of every retrieval [TS-0001 §9.6.6].
      if (result.ty === RESOURCE_TYPE.contentInstance && (await instancesHidden(result.pi))) continue;
      if (!(await may(result))) continue;
      positions.set(segment, numbered);
      if (beforeOffset) continue;
      const size = nested ? (result.size ?? result.bytes ?? JSON.stringify(result.doc).length) : 0;
      if (out.length >= limit || bytes + size > MAX_EMBEDDED_BYTES) return cut(out, positions, root, numbered);
      bytes += size;
      out.push(result);
    }
    if (end) return { resources: out };
    const passedBound = passedOver + scanned >= MAX_PASS_OVER_SCANS * config.discovery.scanLimit || passedBytes + read >= MAX_PASS_OVER_SCANS * pageBytes;
    // A page with results ends at the scan limit (partial content). One without cannot say where to go on (no row it
    // passed is numbered): it scans on, up to the bound on what one request may pass over, then answers as
    // discovery does (offset too deep: 4000; no result within the bound: 4006).
    if (out.length > 0 && (passedBound || scanned >= config.discovery.scanLimit || read >= pageBytes)) {
      // After the highest direct child in the page: rows come in insertion order, so the last result may be a late
      // descendant of an earlier child.
      const highest = Math.max(...out.map((r) => positions.get(directChildOf(root, r)) ?? 0));
      return { resources: out, nextOffset: highest + 1 };
    }
    // What a DELETE removed is listed as far as the bound allows: the deletion itself does not depend on it.
    if (passedBound && !filtered) return { resources: out };
    if (passedBound) {
      if (filling) throw new CseError(RSC.NOT_ACCEPTABLE, 'no result among the resources one request may examine; use discovery (fu=1) or narrower criteria');
      throw badRequest(`offset ${skipBefore} lies beyond what one request may pass over; use discovery (fu=1) or narrower criteria`);
    }
    await yieldToEventLoop();
  }
}

/**
 * Stops before a resource that does not fit. The direct child it belongs to is left out whole (it is sent from
 * the restart offset), unless it is the only one in the response: then what fitted is kept and paging moves on.
 */
function cut(out: StoredResource[], positions: Map<string, number>, root: StoredResource, position: number): Descendants {
  const positionOf = (r: StoredResource): number => positions.get(directChildOf(root, r)) ?? 0;
  const kept = out.filter((r) => positionOf(r) < position);
  if (kept.length > 0) return { resources: kept, nextOffset: position };
  // Only the direct child that does not fit is in the page (in part), and paging moves past it. Not the whole page:
  // a late row of an earlier child sorts after later children, which the next page, from position + 1, sends again.
  return { resources: out.filter((r) => positionOf(r) === position), nextOffset: position + 1 };
}

/** The direct child of `root` that `r` lies below (or is): the first path segment under the root. */
function directChildOf(root: StoredResource, r: { readonly srn: string }): string {
  return r.srn.slice(root.srn.length + 1).split('/')[0] as string;
}
