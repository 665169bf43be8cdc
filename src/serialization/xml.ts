// XML content [TS-0004 §8.3]: the root element is the resource type name (m2m:cin), children are the
// attributes by short name; repeated elements are lists. DOCTYPE and entities are refused outright, so
// no entity expansion ("billion laughs") or external entity can be triggered.
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import type { Codec } from './codec.js';
import { MAX_JSON_DEPTH, depthOf } from './json.js';

const parser = new XMLParser({
  // Attributes carry a resource's name (rn="…") and a child reference's name and type (nm, typ) [TS-0004 §8.3].
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  processEntities: false,
  // Values stay text; the tables below give numbers and booleans back their type (an rn of "123" stays a name).
  parseTagValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});
const builder = new XMLBuilder({ ignoreAttributes: false, suppressEmptyNode: false });

const NUMBERS = new Set([
  'ty', 'cst', 'st', 'cni', 'cbs', 'cs', 'mni', 'mbs', 'mia', 'acop', 'mnm', 'cnm', 'mt', 'csy', 'nct', 'exc', 'pn', 'nsp', 'nec',
  'rcn', 'op', 'rsc', 'drt', 'lvl', 'lim', 'off', 'rtv', 'num', 'dur', 'fu', 'fo', 'sza', 'szb', 'sts', 'stb', 'ec', 'net', 'typ', 'gmty', 'gsf', 'cfs', 'dcrp', 'rs', 'cnst', 'cnot',
]);
const NUMBER_LISTS = new Set(['srt', 'chty', 'pty', 'net', 'accr']);
const BOOLEANS = new Set(['rr', 'acaf', 'disr', 'ln', 'mtv', 'vrq', 'sud', 'rqag', 'tqi', 'da', 'vlde', 'svd', 'sqi']);
/** Lists that may arrive as one element, or as one space-separated value (xs:list). */
const STRING_LISTS = new Set(['lbl', 'acpi', 'poa', 'srv', 'csz', 'nu', 'mid', 'macp', 'acor', 'actw', 'ipv4', 'ipv6', 'accc', 'cty', 'atrl', 'rels', 'clbl', 'palb', 'm2m:uril']);
const OBJECT_LISTS = new Set(['acr', 'acco', 'acod', 'rrf', 'ch', 'm2m:sgn', 'm2m:rsp', 'om']);

function scalar(name: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (NUMBERS.has(name) || NUMBER_LISTS.has(name)) return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  if (BOOLEANS.has(name)) return value === 'true' ? true : value === 'false' ? false : value;
  return value;
}

function normalise(value: unknown, name: string, root = false): unknown {
  if (Array.isArray(value)) return value.map((v) => normalise(v, name));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    const attributes = value as Record<string, unknown>;
    // <ch nm="…" typ="…">address</ch>: a child resource reference with its address as text.
    const isReference = '@_nm' in attributes || '@_typ' in attributes;
    for (const [k, v] of Object.entries(value)) {
      if (k === '@_rn' || k === '@_nm' || k === '@_typ') {
        out[k.slice(2)] = scalar(k.slice(2), v);
        continue;
      }
      if (k === '#text' && isReference) {
        out.val = v;
        continue;
      }
      if (k.startsWith('@_')) continue;
      let n = normalise(v, k);
      // The root element is the document itself, never a list.
      if (root) out[k] = n;
      else if (STRING_LISTS.has(k) && !Array.isArray(n)) n = typeof n === 'string' ? n.split(/\s+/).filter(Boolean) : [n];
      else if (NUMBER_LISTS.has(k) && !Array.isArray(n)) n = typeof n === 'string' ? n.split(/\s+/).filter(Boolean).map((x) => scalar(k, x)) : [n];
      else if (OBJECT_LISTS.has(k) && !Array.isArray(n)) n = [n];
      if (!root) out[k] = n;
    }
    return out;
  }
  return scalar(name, value);
}

/** A resource's rn, and a child reference's nm and typ, are XML attributes; the reference's address is its text. */
function toXmlShape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toXmlShape);
  if (typeof value !== 'object' || value === null) return value;
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.includes('nm') && keys.includes('val') && keys.every((k) => k === 'nm' || k === 'typ' || k === 'val' || k === 'spty')) {
    const ref: Record<string, unknown> = { '@_nm': o.nm };
    if (o.typ !== undefined) ref['@_typ'] = o.typ;
    if (o.spty !== undefined) ref['@_spty'] = o.spty;
    ref['#text'] = o.val;
    return ref;
  }
  const out: Record<string, unknown> = {};
  if (typeof o.rn === 'string' && typeof o.ty === 'number') out['@_rn'] = o.rn;
  for (const [k, v] of Object.entries(o)) {
    if (k === 'rn' && '@_rn' in out) continue;
    out[k] = toXmlShape(v);
  }
  return out;
}

export const xmlCodec: Codec = {
  mediaType: 'application/xml',
  accepts: ['application/xml', 'text/xml', 'application/vnd.onem2m-res+xml', 'application/vnd.onem2m-ntfy+xml'],
  decode(body) {
    const text = body.toString('utf8');
    if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new Error('DOCTYPE and ENTITY declarations are not accepted');
    const parsed = parser.parse(text, true) as Record<string, unknown>;
    if (depthOf(parsed) > MAX_JSON_DEPTH) throw new Error(`nesting deeper than ${MAX_JSON_DEPTH} levels`);
    return normalise(parsed, '', true);
  },
  encode(value) {
    const root = typeof value === 'object' && value !== null ? (toXmlShape(value) as Record<string, unknown>) : { 'm2m:dbg': String(value) };
    const withNamespace: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(root)) {
      withNamespace[k] = typeof v === 'object' && v !== null && !Array.isArray(v) ? { '@_xmlns:m2m': 'http://www.onem2m.org/xml/protocols', ...(v as Record<string, unknown>) } : v;
    }
    return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>${String(builder.build(withNamespace))}`, 'utf8');
  },
};
