// Semantic discovery and semantic queries [TS-0004 §7.3.3.18-19, TS-0034 §7.4]. A resource meets a
// semanticsFilter when the SPARQL query answers (a row, true, a triple) over its semanticDescriptor children
// together with the descriptors they link through relatedSemantics; a semantic query (sqi=true, rcn=10) runs
// the query once over every descriptor below the target and returns the SPARQL results.
import { CseError, badRequest } from '../primitive/errors.js';
import { RSC } from '../primitive/rsc.js';
import type { Outcome, RequestContext } from '../pipeline/context.js';
import { originatorMay } from '../pipeline/access.js';
import { ACCESS_OPERATION, type AccessOperation } from '../security/acp.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { descriptorText, formatOf } from '../resources/types/semanticDescriptor.js';
import { localResource } from './localResource.js';
import type { Descriptor } from '../semantics/sparql.js';
import { semanticCaller } from '../semantics/caller.js';
import type { StoredResource } from '../storage/store.js';

/** Descriptors considered per resource (its own, then linked ones). */
const MAX_DESCRIPTORS_PER_RESOURCE = 16;
/** Descriptor text sent to the worker in one call; larger batches are split. */
const MAX_BATCH_BYTES = 8 * 1024 * 1024;
/** Descriptors one semantic query may span. */
const MAX_QUERY_DESCRIPTORS = 2_000;

function toDescriptor(smd: StoredResource): Descriptor | undefined {
  try {
    return { name: smd.ri, text: descriptorText(smd.doc.dsp), format: formatOf(smd.doc.dcrp) };
  } catch {
    return undefined;
  }
}

/** The descriptors a descriptor links through relatedSemantics (one hop, TS-0034 §7.4.2) that the originator may use. */
async function linkedDescriptors(ctx: RequestContext, smd: StoredResource, operation: AccessOperation): Promise<StoredResource[]> {
  const out: StoredResource[] = [];
  for (const uri of Array.isArray(smd.doc.rels) ? (smd.doc.rels as string[]) : []) {
    const linked = await localResource(ctx.services, uri);
    if (linked?.ty === RESOURCE_TYPE.semanticDescriptor && (await originatorMay(ctx, operation, linked))) out.push(linked);
  }
  return out;
}

/** A resource's descriptors: its semanticDescriptor children and what they link, each one the originator may use. */
async function descriptorsOf(ctx: RequestContext, resource: StoredResource, operation: AccessOperation): Promise<StoredResource[]> {
  const { store, clock } = ctx.services;
  const own = await store.children(resource.ri, { ty: RESOURCE_TYPE.semanticDescriptor, aliveAt: clock.now(), limit: MAX_DESCRIPTORS_PER_RESOURCE });
  const out: StoredResource[] = [];
  const seen = new Set<string>();
  const add = (smd: StoredResource): void => {
    if (out.length < MAX_DESCRIPTORS_PER_RESOURCE && !seen.has(smd.ri)) {
      seen.add(smd.ri);
      out.push(smd);
    }
  };
  for (const smd of own) if (await originatorMay(ctx, operation, smd)) add(smd);
  for (const smd of [...out]) for (const linked of await linkedDescriptors(ctx, smd, operation)) add(linked);
  return out;
}

export function semanticsQueryText(smf: readonly string[]): string {
  const text = smf.join('\n').trim();
  if (text === '') throw badRequest('semanticsFilter is empty');
  return text;
}

/** The semanticsFilter condition: prepared for a batch of rows (one worker call per budget), then tested per row. */
export function semanticCondition(ctx: RequestContext, query: string): { prepare(rows: readonly StoredResource[]): Promise<void>; test(row: StoredResource): boolean } {
  let matched = new Set<string>();
  return {
    async prepare(rows) {
      matched = new Set();
      let descriptors = new Map<string, Descriptor>();
      let groups: Array<{ key: string; names: string[] }> = [];
      let bytes = 0;
      const flush = async (): Promise<void> => {
        if (groups.length === 0) return;
        for (const key of await ctx.services.semantics.as(semanticCaller(ctx)).matching(query, [...descriptors.values()], groups)) matched.add(key);
        descriptors = new Map();
        groups = [];
        bytes = 0;
      };
      for (const row of rows) {
        const smds = await descriptorsOf(ctx, row, ACCESS_OPERATION.DISCOVERY);
        const own: Descriptor[] = [];
        for (const smd of smds) {
          const d = descriptors.get(smd.ri) ?? toDescriptor(smd);
          if (d) own.push(d);
        }
        if (own.length === 0) continue;
        // A row's descriptors travel in one call: the batch is flushed before them, never between them.
        const added = own.filter((d) => !descriptors.has(d.name)).reduce((n, d) => n + d.text.length, 0);
        if (bytes + added > MAX_BATCH_BYTES) await flush();
        for (const d of own) {
          if (!descriptors.has(d.name)) {
            descriptors.set(d.name, d);
            bytes += d.text.length;
          }
        }
        groups.push({ key: row.ri, names: own.map((d) => d.name) });
      }
      await flush();
    },
    test: (row) => matched.has(row.ri),
  };
}

/** Descriptors a semantic query looks at (slim rows, for the access decision) before it gives up on a target. */
const QUERY_SCAN = 20_000;

/**
 * The descriptors below `target` that the originator may RETRIEVE, whole. The bound on how many a query takes counts
 * these only: counted before access control, another AE's 2 001 descriptors under its own AE made every semantic query
 * at the CSEBase refuse 5207 for everyone, and told them such descriptors exist (found by a probe). The rows are first
 * read slim (what the access decision needs) in pages of insertion order, at most QUERY_SCAN of them.
 */
async function readableDescriptorsBelow(ctx: RequestContext, target: StoredResource, now: number): Promise<StoredResource[]> {
  const { store, access } = ctx.services;
  const readable: string[] = [];
  let scanned = 0;
  let afterSeq: number | undefined;
  for (;;) {
    const page = await store.search({ below: target.srn, onlyTypes: [RESOURCE_TYPE.semanticDescriptor], operation: 'and', aliveAt: now, slim: access.discoveryView(), limit: 500, ...(afterSeq === undefined ? {} : { afterSeq }) });
    for (const row of page) {
      if (!(await originatorMay(ctx, ACCESS_OPERATION.RETRIEVE, row))) continue;
      // An answer over part of the descriptors would look complete: too many is refused, not cut.
      if (readable.push(row.ri) > MAX_QUERY_DESCRIPTORS) throw new CseError(RSC.NOT_ACCEPTABLE, `more than ${MAX_QUERY_DESCRIPTORS} semanticDescriptors you may read lie below the target; query a narrower target`);
    }
    scanned += page.length;
    if (page.length < 500) break;
    if (scanned >= QUERY_SCAN) throw new CseError(RSC.NOT_ACCEPTABLE, `${QUERY_SCAN} or more semanticDescriptors lie below the target; query a narrower target`);
    afterSeq = page[page.length - 1]?.seq;
  }
  const whole: StoredResource[] = [];
  for (const ri of readable) {
    const descriptor = await store.get(ri);
    if (descriptor) whole.push(descriptor);
  }
  return whole;
}

/**
 * Semantic query (sqi=true): the SPARQL query over all descriptors below the target that the originator may
 * retrieve, answered in the SPARQL results format of the request's serialization, as ACME does (m2m:qres).
 */
export async function semanticQuery(ctx: RequestContext, target: StoredResource): Promise<Outcome> {
  const fc = ctx.request.fc;
  if (!fc?.smf?.length) throw badRequest('a semantic query (sqi=true) needs a semanticsFilter (smf)');
  const query = semanticsQueryText(fc.smf);
  const { clock } = ctx.services;
  const now = clock.now();
  const candidates = target.ty === RESOURCE_TYPE.semanticDescriptor ? [target] : await readableDescriptorsBelow(ctx, target, now);
  const descriptors = new Map<string, Descriptor>();
  let bytes = 0;
  for (const smd of candidates) {
    if (smd.et !== undefined && smd.et <= now) continue;
    if (!(await originatorMay(ctx, ACCESS_OPERATION.RETRIEVE, smd))) continue;
    const found = [smd, ...(await linkedDescriptors(ctx, smd, ACCESS_OPERATION.RETRIEVE))].map(toDescriptor).filter((d): d is Descriptor => d !== undefined);
    for (const one of found) {
      if (descriptors.has(one.name)) continue;
      bytes += one.text.length;
      if (bytes > MAX_BATCH_BYTES) throw new CseError(RSC.NOT_ACCEPTABLE, 'the semanticDescriptors below the target are too large for one semantic query; query a narrower target');
      descriptors.set(one.name, one);
    }
  }
  const format = ctx.transport.responseFormat === 'xml' ? 'xml' : 'json';
  const result = await ctx.services.semantics.as(semanticCaller(ctx)).query(query, [...descriptors.values()], format);
  return { rsc: RSC.OK, content: { 'm2m:qres': result } };
}
