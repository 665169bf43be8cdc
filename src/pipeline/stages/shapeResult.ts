// Stage 11: the response content for the requested result content (rcn) [TS-0004 §7.3.3.12, §6.3.4.2.7].
import { RESULT_CONTENT } from '../../primitive/request.js';
import { badRequest, quotedName } from '../../primitive/errors.js';
import { representation } from '../../resources/representation.js';
import type { StoredResource } from '../../storage/store.js';
import type { CseServices } from '../context.js';
import type { Stage } from '../pipeline.js';
import { effectiveResultContent } from './checkPrimitive.js';

function typeNameOf(services: CseServices, r: StoredResource): string {
  return services.registry.contentName(r);
}

/** Child references {nm, typ, val} [TS-0004 m2m:childResourceRef]; val follows drt (structured by default). */
function references(children: readonly StoredResource[], unstructured: boolean): Array<{ nm: string; typ: number; val: string }> {
  return children.map((c) => ({ nm: c.rn, typ: c.ty, val: unstructured ? c.ri : c.srn }));
}

/**
 * Descendants nested under their nearest ancestor in the answer (or at the top), grouped under their type
 * names, as rcn 4 and 8 embed them. The list comes parents first, so an ancestor's node exists before its
 * descendants are attached.
 */
function embedded(services: CseServices, root: StoredResource, descendants: readonly StoredResource[]): Record<string, unknown[]> {
  const top: Record<string, unknown[]> = {};
  const nodes = new Map<string, Record<string, unknown>>();
  for (const d of descendants) {
    const node = representation(d);
    nodes.set(d.srn, node);
    let parent: Record<string, unknown> | undefined;
    for (let path = d.srn.slice(0, d.srn.lastIndexOf('/')); path.length > root.srn.length; path = path.slice(0, path.lastIndexOf('/'))) {
      parent = nodes.get(path);
      if (parent) break;
    }
    const holder: Record<string, unknown> = parent ?? top;
    const name = typeNameOf(services, d);
    const siblings = (holder[name] ??= []) as unknown[];
    siblings.push(node);
  }
  return top;
}

/** Partial retrieve: the named attributes only; one the type does not define is 4000 [TS-0004 §7.3.3.6]. */
function partial(services: CseServices, r: StoredResource, names: readonly string[]): Record<string, unknown> {
  const table = services.registry.attributesOf(r);
  const full = representation(r);
  const out: Record<string, unknown> = {};
  for (const name of names) {
    if (!Object.hasOwn(table, name)) throw badRequest(`attribute '${quotedName(name)}' is not defined for this resource type`);
    if (name in full) out[name] = full[name];
  }
  return out;
}

/**
 * A grant through rules with accessControlAttributes covers those attributes only: the answer about the target
 * shows no other (a CREATE or UPDATE answer would otherwise reveal what the rule does not grant, as in ACME).
 */
function onlyGranted(granted: readonly string[] | undefined, attributes: Record<string, unknown>): Record<string, unknown> {
  if (!granted) return attributes;
  return Object.fromEntries(Object.entries(attributes).filter(([name]) => granted.includes(name)));
}

/** Result contents that show the target's own attributes (9: those the CSE changed). */
export const SHOWS_TARGET: ReadonlySet<number> = new Set([
  RESULT_CONTENT.ATTRIBUTES,
  RESULT_CONTENT.HIERARCHICAL_ADDRESS_AND_ATTRIBUTES,
  RESULT_CONTENT.ATTRIBUTES_AND_CHILD_RESOURCES,
  RESULT_CONTENT.ATTRIBUTES_AND_CHILD_RESOURCE_REFERENCES,
  RESULT_CONTENT.MODIFIED_ATTRIBUTES,
]);

export const shapeResult: Stage = {
  name: 'shapeResult',
  run(ctx) {
    const outcome = ctx.outcome;
    if (!outcome) throw new Error('shapeResult runs after execute');
    const services = ctx.services;
    const response: NonNullable<typeof ctx.response> = {
      rsc: outcome.rsc,
      rqi: ctx.request.rqi,
      fr: `/${services.self.cseId}`,
      ...(ctx.request.rvi ? { rvi: ctx.request.rvi } : {}),
      ...(ctx.request.vsi ? { vsi: ctx.request.vsi } : {}),
    };
    const r = outcome.resource;
    if (outcome.content) response.pc = outcome.content;
    if (outcome.contentStatus !== undefined) response.cnst = outcome.contentStatus;
    if (outcome.contentOffset !== undefined) response.cnot = outcome.contentOffset;
    if (ctx.assignedTokens) response.ati = { ltia: ctx.assignedTokens };
    if (r && !outcome.content) {
      const name = typeNameOf(services, r);
      const shortName = name.slice(name.indexOf(':') + 1);
      const children = outcome.children ?? [];
      const unstructured = ctx.request.drt === 2;
      // Only the attributes an aca rule grants, or (authorize) only those an originator that may not RETRIEVE the
      // target sent.
      const granted = ctx.answerLimitedTo ?? (ctx.decision?.granted ? ctx.decision.attributes : undefined);
      const shown = (resource: StoredResource): Record<string, unknown> => onlyGranted(granted, representation(resource));
      switch (effectiveResultContent(ctx.request.op, ctx.request.rcn)) {
        case RESULT_CONTENT.NOTHING:
          break;
        case RESULT_CONTENT.ATTRIBUTES:
          response.pc = { [name]: ctx.request.atrl ? partial(services, r, ctx.request.atrl) : shown(r) };
          break;
        case RESULT_CONTENT.HIERARCHICAL_ADDRESS:
          response.pc = { 'm2m:uri': r.srn };
          response.location = r.srn;
          break;
        case RESULT_CONTENT.HIERARCHICAL_ADDRESS_AND_ATTRIBUTES:
          response.pc = { 'm2m:rce': { [shortName]: shown(r), uri: r.srn } };
          response.location = r.srn;
          break;
        case RESULT_CONTENT.ATTRIBUTES_AND_CHILD_RESOURCES:
          response.pc = { [name]: { ...shown(r), ...embedded(services, r, children) } };
          break;
        case RESULT_CONTENT.ATTRIBUTES_AND_CHILD_RESOURCE_REFERENCES:
          response.pc = { [name]: { ...shown(r), ch: references(children, unstructured) } };
          break;
        case RESULT_CONTENT.CHILD_RESOURCE_REFERENCES:
          response.pc = { 'm2m:rrl': { rrf: references(children, unstructured) } };
          break;
        case RESULT_CONTENT.CHILD_RESOURCES:
          response.pc = { [name]: embedded(services, r, children) };
          break;
        case RESULT_CONTENT.MODIFIED_ATTRIBUTES:
          if (outcome.modified && Object.keys(outcome.modified).length > 0) response.pc = { [name]: onlyGranted(granted, outcome.modified) };
          break;
      }
    }
    ctx.response = response;
    return undefined;
  },
};
