// IPE on-demand discovery (filterUsage 3) [TS-0004 §7.3.3.14, §7.5.1.2.8; TS-0001 §10.2.6.1]: when a discovery
// addressed to an <AE> finds nothing, the CSE asks that AE — an interworking proxy — with a NOTIFY carrying the
// originator and the filter criteria (m2m:sgn/idr). The IPE creates the resources it can offer and answers with
// their addresses; the CSE answers the originator with those of them that meet the criteria and that the
// originator may DISCOVER. A refusal (e.g. 5208 DISCOVERY_DENIED_BY_IPE) is passed on.
// TS-0004 speaks of an AE "representing the IPE by its labels" without naming a label; TS-0001 asks any <AE>
// target. Warden follows TS-0001: an AE that is no IPE has no reason to answer otherwise than 2000 with nothing.
import { CseError } from '../primitive/errors.js';
import { randomIdSuffix } from '../primitive/identifiers.js';
import { filterCriteriaContent, type FilterCriteria } from '../primitive/request.js';
import { RSC } from '../primitive/rsc.js';
import type { RequestContext } from '../pipeline/context.js';
import { originatorMay } from '../pipeline/access.js';
import { ACCESS_OPERATION } from '../security/acp.js';
import { targetKey, urlsOfTarget } from '../notifications/events.js';
import type { StoredResource } from '../storage/store.js';
import { compileFilter, meetsFilter, prepareBatch } from './discover.js';
import { localResource } from './localResource.js';

/** Addresses taken from one IPE answer, and points of access tried. */
const MAX_OFFERED = 100;
const MAX_URLS = 3;

/** The addresses in an IPE's answer: a list of URIs (m2m:uril), or child references (m2m:rrl). */
function offeredAddresses(body: unknown): string[] {
  if (typeof body !== 'object' || body === null) return [];
  const doc = body as Record<string, unknown>;
  const uril = doc['m2m:uril'];
  if (Array.isArray(uril)) return uril.filter((u): u is string => typeof u === 'string').slice(0, MAX_OFFERED);
  const rrf = (doc['m2m:rrl'] as { rrf?: unknown } | undefined)?.rrf;
  if (Array.isArray(rrf)) {
    return rrf
      .map((r) => (typeof r === 'object' && r !== null ? (r as { val?: unknown }).val : undefined))
      .filter((v): v is string => typeof v === 'string')
      .slice(0, MAX_OFFERED);
  }
  return [];
}

/**
 * Asks the IPE behind `ae`; returns what it created that the originator may discover and that matches. The
 * originator must be allowed to DISCOVER the AE itself (the CSE sends a request on its behalf); an AE that
 * cannot be reached this way (no point of access, or reachable by polling only) gives no result.
 */
export async function discoverOnDemand(ctx: RequestContext, ae: StoredResource, fc: FilterCriteria): Promise<StoredResource[]> {
  const { store, self, outbound } = ctx.services;
  if (!(await originatorMay(ctx, ACCESS_OPERATION.DISCOVERY, ae))) return [];
  const aei = typeof ae.doc.aei === 'string' ? ae.doc.aei : ae.ri;
  const urls = (await urlsOfTarget(store, await targetKey(store, self, ae.ri))).slice(0, MAX_URLS);
  if (urls.length === 0) return [];
  const originator = ctx.originator?.id ?? ctx.request.fr;
  let answer: { rsc: number; body?: unknown } = { rsc: RSC.TARGET_NOT_REACHABLE };
  for (const url of urls) {
    answer = await outbound.send(url, {
      op: 5,
      to: aei,
      fr: `/${self.cseId}`,
      rqi: `ipe-${randomIdSuffix()}`,
      rvi: '3',
      pc: { 'm2m:sgn': { idr: { or: originator, fc: filterCriteriaContent(fc) } } },
    });
    if (answer.rsc !== RSC.TARGET_NOT_REACHABLE) break;
  }
  if (answer.rsc < 2000 || answer.rsc >= 3000) {
    // The IPE's refusal is the answer [TS-0004 §7.3.3.14]; its other codes would describe the IPE, not the
    // discovery (a 4004 there is no missing target here), so they read as "the IPE could not be reached".
    if (answer.rsc === RSC.DISCOVERY_DENIED_BY_IPE) throw new CseError(RSC.DISCOVERY_DENIED_BY_IPE, 'the IPE refused the on-demand discovery');
    throw new CseError(RSC.TARGET_NOT_REACHABLE, `the IPE did not carry out the on-demand discovery (${answer.rsc})`);
  }
  // The offered resources meet the same criteria, and the originator must be allowed to discover them.
  const filter = compileFilter(ctx, fc, ae, 1);
  const candidates: StoredResource[] = [];
  const seen = new Set<string>();
  for (const address of offeredAddresses(answer.body)) {
    const resource = await localResource(ctx.services, address);
    if (!resource || seen.has(resource.ri) || !resource.srn.startsWith(`${ae.srn}/`)) continue;
    seen.add(resource.ri);
    const [row] = await store.search({ ...filter.query, only: resource.ri });
    if (row) candidates.push(row);
  }
  // One look at them all (one SPARQL call for a semantic filter, one spatial budget for a geo filter).
  await prepareBatch(filter, candidates);
  const out: StoredResource[] = [];
  for (const row of candidates) {
    if (meetsFilter(filter, row) && (await originatorMay(ctx, ACCESS_OPERATION.DISCOVERY, row))) out.push(row);
  }
  return out;
}
