// <semanticDescriptor> (ty 24, TS-0001 §9.6.30, TS-0034 §6.1): an RDF description of its parent, which
// semantic discovery (semanticsFilter) and semantic queries run SPARQL against. The descriptor travels
// base64-encoded in the format descriptorRepresentation names; it is checked by parsing it when written.
import { ACCESS_CONTROL, CREATOR, EXPIRATION, LABELS, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributeSpec, type HookContext } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { CseError, badRequest } from '../../primitive/errors.js';
import { RSC } from '../../primitive/rsc.js';
import { SEMANTIC_FORMATS } from '../../semantics/sparql.js';
import type { StoredResource } from '../../storage/store.js';
import { announceAttributes } from '../announceable.js';

/** A descriptor is a description, not a data set: 512 KiB of base64 at most. */
const MAX_DESCRIPTOR_LENGTH = 512 * 1024;

const attributes = {
  ...UNIVERSAL,
  ...announceAttributes(RESOURCE_TYPE.semanticDescriptor),
  ...EXPIRATION,
  ...LABELS,
  ...ACCESS_CONTROL,
  ...CREATOR,
  dcrp: { type: 'enum', create: 'M', update: 'O', values: [1, 2, 3, 4, 5, 6, 7] },
  dsp: { type: 'string', create: 'M', update: 'O', maxLength: MAX_DESCRIPTOR_LENGTH },
  // semanticOpExec: a SPARQL Update applied to the descriptor; write-only, never stored [TS-0034 §6.1].
  soe: { type: 'string', create: 'NP', update: 'O' },
  or: { type: 'anyURI', create: 'O', update: 'O' },
  rels: { type: 'anyURIList', create: 'O', update: 'O', maxLength: 16 },
  svd: { type: 'boolean', create: 'NP', update: 'NP' },
  vlde: { type: 'boolean', create: 'O', update: 'O' },
} as const satisfies Record<string, AttributeSpec>;

/** semanticOpExec results, computed in prepare, applied in beforeUpdate (keyed by the request). */
const updatedBySoe = new WeakMap<object, { from: unknown; to: string }>();

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The media type of a descriptorRepresentation Warden can read (RDF/XML, Turtle, JSON-LD, as ACME). */
export function formatOf(dcrp: unknown): string {
  const format = typeof dcrp === 'number' ? SEMANTIC_FORMATS[dcrp] : undefined;
  if (!format) throw badRequest('descriptorRepresentation must be 4 (RDF/XML), 5 (RDF/Turtle) or 7 (JSON-LD)');
  return format;
}

/** The descriptor text of a stored or requested dsp (strict base64 of UTF-8). */
export function descriptorText(dsp: unknown): string {
  if (typeof dsp !== 'string' || !BASE64.test(dsp)) throw badRequest('descriptor must be base64-encoded');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(dsp, 'base64'));
  } catch {
    throw badRequest('descriptor must be base64-encoded UTF-8 text');
  }
}

async function checkDescriptor(ctx: HookContext, doc: Record<string, unknown>): Promise<void> {
  const format = formatOf(doc.dcrp);
  const text = descriptorText(doc.dsp);
  // An XML document type may declare entities that expand without bound: RDF/XML descriptors have none.
  if (format === SEMANTIC_FORMATS[4] && /<!DOCTYPE/i.test(text)) throw badRequest('an RDF/XML descriptor must not declare a document type');
  await ctx.semantics.checkDescriptor(text, format);
}

/**
 * semanticValidated: Warden checks the descriptor's syntax, and with validationEnable says so; ontology-based
 * validation [TS-0034 §7.10] is not performed (as in ACME).
 */
function markValidation(doc: Record<string, unknown>): void {
  doc.vlde ??= false;
  doc.svd = doc.vlde === true;
}

export const semanticDescriptorType = defineResourceType({
  ty: RESOURCE_TYPE.semanticDescriptor,
  typeName: 'm2m:smd',
  attributes,
  childTypes: [RESOURCE_TYPE.subscription],
  creatable: true,
  updatable: true,
  deletable: true,
  hasAcpi: true,
  hooks: {
    // The parsing and SPARQL run in a worker, before the transaction: never while the store is held.
    async prepare(ctx: HookContext, content: Record<string, unknown>, operation: 'create' | 'update', target: StoredResource) {
      if (operation === 'create') {
        await checkDescriptor(ctx, content);
        return;
      }
      if (content.soe !== undefined && content.dsp !== undefined) throw badRequest('semanticOpExec and descriptor cannot be updated in one request');
      if (content.dcrp === null || content.dsp === null) throw badRequest('descriptorRepresentation and descriptor cannot be removed');
      const merged = { ...target.doc, ...content };
      if (typeof content.soe === 'string') {
        const format = formatOf(merged.dcrp);
        const updated = Buffer.from(await ctx.semantics.applyUpdate(descriptorText(target.doc.dsp), format, content.soe), 'utf8').toString('base64');
        if (updated.length > MAX_DESCRIPTOR_LENGTH) throw badRequest('the descriptor would grow beyond its limit');
        updatedBySoe.set(ctx.request, { from: target.doc.dsp, to: updated });
      } else if (content.dsp !== undefined || content.dcrp !== undefined) await checkDescriptor(ctx, merged);
    },
    beforeCreate(_ctx: HookContext, resource: StoredResource) {
      markValidation(resource.doc);
    },
    beforeUpdate(ctx: HookContext, resource: StoredResource) {
      const soe = updatedBySoe.get(ctx.request);
      if (soe) {
        // The update was computed from the descriptor as read before the transaction; if another update
        // changed it since, applying this one would lose that change.
        if (resource.doc.dsp !== soe.from) throw new CseError(RSC.CONFLICT, 'the descriptor changed while semanticOpExec was applied; retry');
        resource.doc.dsp = soe.to;
      }
      delete resource.doc.soe;
      markValidation(resource.doc);
    },
  },
});
