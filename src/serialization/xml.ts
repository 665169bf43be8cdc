// XML content [TS-0004 §8.3]: the root element is the resource type name (m2m:cin), children are the
// attributes by short name; repeated elements are lists. DOCTYPE and entities are refused outright, so
// no entity expansion ("billion laughs") or external entity can be triggered.
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import type { Codec } from './codec.js';
import { MAX_JSON_DEPTH, NOT_XML_REFUSED, depthOf, hasNonXmlCharacter, plainData } from './json.js';
import { SDT_CATALOG, type SdtDefinition } from '../resources/sdt/catalog.js';

const parser = new XMLParser({
  // Attributes carry a resource's name (rn="…") and a child reference's name and type (nm, typ) [TS-0004 §8.3].
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // The five predefined entities and character references (&#60;, &#x3C;) are text, and are decoded (XML 1.0 §4.6,
  // §4.1); no other entity can be declared, since DOCTYPE is refused before parsing. htmlEntities is what decodes
  // character references in fast-xml-parser; it also reads a few HTML names (&copy;), which XML would reject.
  processEntities: true,
  htmlEntities: true,
  // Values stay text; the tables below give numbers and booleans back their type (an rn of "123" stays a name).
  parseTagValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});
const builder = new XMLBuilder({ ignoreAttributes: false, suppressEmptyNode: false });

const NUMBERS = new Set([
  'ty', 'cst', 'st', 'cni', 'cbs', 'cs', 'mni', 'mbs', 'mia', 'acop', 'mnm', 'cnm', 'mt', 'csy', 'nct', 'exc', 'pn', 'nsp', 'nec',
  'dcnt', 'rcn', 'op', 'rsc', 'drt', 'lvl', 'lim', 'off', 'rtv', 'num', 'dur', 'fu', 'fo', 'sza', 'szb', 'sts', 'stb', 'ec', 'net', 'typ', 'gmty', 'gsf', 'cfs', 'dcrp', 'rs', 'cnst', 'cnot',
  // <node> and <mgmtObj>
  'nty', 'mgd', 'sus', 'mma', 'mmt', 'sli', 'sld', 'btl', 'bts', 'lgt', 'lgst', 'meil',
  'enct', 'cons', 'sist', 'sity', 'cnb', 'rss', 'liqu', 'ceid', 'smnc', 'smcc', 'lac', 'coel',
  'od', 'dev', 'dqet', 'dset', 'doet', 'drp', 'mrv', 'swt', 'mbfs', 'sgp', 'nwa', 'ibt', 'abt', 'mbt', 'rbt',
  // <timeSeries> and <timeSeriesInstance>
  'pei', 'peid', 'mdn', 'mdc', 'mdt', 'snr',
  // <crossResourceSubscription>
  'twt', 'eem',
  // <timeSyncBeacon>
  'bcnc',
  // <action> and <dependency>
  'apy', 'evm', 'ecp', 'optr',
  // <remoteCSE>
  'trn',
  // notification target policies
  'acn', 'rrs', 'drr',
  // <locationPolicy>
  'los', 'lit', 'gec', 'luec',
  // announcement (Release 4): announceSyncType
  'ast',
  // m2m:securityInfo (a DAS request or response in a NOTIFY): securityInfoType, dreq's targetedResourceType
  'sit', 'trt',
]);
const NUMBER_LISTS = new Set(['srt', 'chty', 'pty', 'net', 'accr', 'suids', 'aec', 'aecs', 'lec', 'lqet', 'lset', 'loet', 'lrp']);
/** xs:lists of booleans (a CMDH limit's permitted Delivery Aggregation settings). */
const BOOLEAN_LISTS = new Set(['lda']);
const BOOLEANS = new Set([
  'rr', 'acaf', 'disr', 'ln', 'mtv', 'vrq', 'sud', 'rqag', 'tqi', 'da', 'vlde', 'svd', 'sqi', 'tren',
  'rms', 'ud', 'in', 'un', 'act', 'dea', 'att', 'ena', 'dis', 'cus', 'rbo', 'far', 'lga', 'lgo', 'scan', 'trdst', 'rdst', 'mdd',
  'dda', 'rctn',
  // <schedule>
  'nco',
  // <dependency>
  'sfc',
  // <dynamicAuthorizationConsultation>
  'dae',
  // notification target policies
  'tra', 'trr', 'rlkl',
]);
/** Lists that may arrive as one element, or as one space-separated value (xs:list). */
const STRING_LISTS = new Set([
  'lbl', 'acpi', 'poa', 'srv', 'csz', 'nu', 'mid', 'macp', 'acor', 'actw', 'ipv4', 'ipv6', 'accc', 'cty', 'atrl', 'rels', 'clbl', 'palb', 'm2m:uril',
  'hael', 'hsl', 'mgca', 'obis', 'obps', 'ldv', 'lnh', 'ptl', 'scanr', 'mdlt',
  'ror', 'ttn',
  // <crossResourceSubscription>
  'rrat', 'srat', 'rrats', 'acrs',
  // <timeSyncBeacon>
  'bcnu',
  // <dependency>
  'dep',
  // <remoteCSE>
  'dcse',
  // <dynamicAuthorizationConsultation>
  'daci', 'dap',
  // notification target policies, <locationPolicy>
  'ntu', 'lou',
  // <token> audience
  'tkau',
  // <token> permissions (m2m:tokenPermission: resourceIDs, roleIDs); a DAS request's role and token IDs, a DAS
  // response's tokens (m2m:dynAuthDasRequest orid, rfa, tids; m2m:dynAuthDasResponse tkns)
  'ris', 'rids', 'orid', 'rfa', 'tids', 'tkns',
  // announcement
  'at', 'aa',
]);
/** Lists given as repeated elements only: one element is a list of one, and a value with spaces is never split (a schedule). */
const OBJECT_LISTS = new Set(['acr', 'acco', 'acod', 'rrf', 'ch', 'm2m:sgn', 'm2m:rsp', 'om', 'conr', 'cmlk', 'rpsc', 'mesc', 'sce', 'ipad', 'ripa', 'bops', 'tod',
  // <token>: tokenPermissions' permission (m2m:tokenPermission 0..n)
  'pm']);

function scalar(name: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (NUMBERS.has(name) || NUMBER_LISTS.has(name)) return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  if (BOOLEANS.has(name) || BOOLEAN_LISTS.has(name)) return value === 'true' ? true : value === 'false' ? false : value;
  return value;
}

/** Elements that are child resource references: <ch nm="…" typ="…">address</ch> [TS-0004 m2m:childResourceRef]. */
const REFERENCE_ELEMENTS = new Set(['ch', 'rrf']);

/**
 * The SDT specialization an element names: a flexContainer's (cod:binSh), or its announced variant's, whose name is
 * the specialization's + 'Annc' (cod:binShAnnc, as resources/announceable.ts names it) and whose data points are its.
 */
function specializationOf(name: string): SdtDefinition | undefined {
  return SDT_CATALOG.named(name) ?? (name.endsWith('Annc') ? SDT_CATALOG.named(name.slice(0, -'Annc'.length)) : undefined);
}

/**
 * Whether an element name is a resource type name (m2m:cnt, m2m:fwrA, a flexContainer's cod:binSh or its announced
 * cod:binShAnnc …), whose element carries the rn attribute.
 */
function isResourceElement(name: string): boolean {
  // dcfg: is the namespace of the TS-0022 device configuration mgmtObjs (dcfg:datc, announced dcfg:datcA).
  return name.startsWith('m2m:') || name.startsWith('dcfg:') || specializationOf(name) !== undefined;
}

/**
 * The namespaces of the TS-0023 SDT domains, by the prefix their flexContainer specializations use (cod:binSh).
 * TS-0004 §6.3.1 lets a specialization employ a target namespace other than m2m:, and a document must declare
 * every prefix it uses. The URIs are those the TS-0023 XSDs are generated with (ankraft/SDTTool, its
 * namespacePrefixMappings). dcfg: (TS-0022) has no URI in any source at hand and stays undeclared.
 */
const DOMAIN_NAMESPACES: Readonly<Record<string, string>> = {
  agd: 'http://www.onem2m.org/xml/protocols/agriculturedomain',
  cid: 'http://www.onem2m.org/xml/protocols/citydomain',
  cod: 'http://www.onem2m.org/xml/protocols/commondomain',
  hed: 'http://www.onem2m.org/xml/protocols/healthdomain',
  hod: 'http://www.onem2m.org/xml/protocols/homedomain',
  ind: 'http://www.onem2m.org/xml/protocols/industrydomain',
  mad: 'http://www.onem2m.org/xml/protocols/managementdomain',
  mdd: 'http://www.onem2m.org/xml/protocols/metadata',
  psd: 'http://www.onem2m.org/xml/protocols/publicsafetydomain',
  rad: 'http://www.onem2m.org/xml/protocols/railwaydomain',
  ved: 'http://www.onem2m.org/xml/protocols/vehiculardomain',
};

/** The SDT domain prefixes of the element names in a document (a flexContainer, or one inside a list or a response). */
function domainPrefixes(value: unknown, found = new Set<string>(), depth = 0): Set<string> {
  if (depth > MAX_JSON_DEPTH || typeof value !== 'object' || value === null) return found;
  for (const [key, inner] of Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value)) {
    const prefix = key.slice(0, Math.max(0, key.indexOf(':')));
    if (Object.hasOwn(DOMAIN_NAMESPACES, prefix)) found.add(prefix);
    domainPrefixes(inner, found, depth + 1);
  }
  return found;
}

/**
 * A specialization's custom attributes arrive as text like every element: its data point types (the catalog)
 * give numbers, booleans and lists back their type, as the tables above do for the attributes of every type.
 */
function typedDataPoints(root: Record<string, unknown>): void {
  for (const [name, attrs] of Object.entries(root)) {
    const points = specializationOf(name)?.dataPoints;
    if (!points || typeof attrs !== 'object' || attrs === null || Array.isArray(attrs)) continue;
    const values = attrs as Record<string, unknown>;
    for (const [key, value] of Object.entries(values)) {
      const type = Object.hasOwn(points, key) ? points[key]?.type : undefined;
      if (typeof value !== 'string' || !type) continue;
      if ((type === 'number' || type === 'integer' || type === 'nonNegInteger') && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(value)) values[key] = Number(value);
      else if (type === 'boolean' && (value === 'true' || value === 'false')) values[key] = value === 'true';
      else if (type === 'list') values[key] = value.split(/\s+/).filter(Boolean);
    }
  }
}

function normalise(value: unknown, name: string, root = false): unknown {
  if (Array.isArray(value)) return value.map((v) => normalise(v, name));
  if (typeof value === 'object' && value !== null) {
    const element = value as Record<string, unknown>;
    if (REFERENCE_ELEMENTS.has(name) && ('@_nm' in element || '@_typ' in element)) {
      const ref: Record<string, unknown> = {};
      if (element['@_nm'] !== undefined) ref.nm = element['@_nm'];
      if (element['@_typ'] !== undefined) ref.typ = scalar('typ', element['@_typ']);
      if (element['#text'] !== undefined) ref.val = element['#text'];
      return ref;
    }
    const keys = Object.keys(element);
    // Text with attributes elsewhere (xsi:type, xml:lang …): the attributes say nothing the CSE keeps.
    if ('#text' in element && keys.every((k) => k === '#text' || k.startsWith('@_'))) return scalar(name, element['#text']);
    if (keys.length > 0 && keys.every((k) => k.startsWith('@_')) && !(isResourceElement(name) && '@_rn' in element)) return scalar(name, '');
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(element)) {
      if (k.startsWith('@_') || k === '#text') continue;
      let n = normalise(v, k);
      // The root element is the document itself, never a list.
      if (root) out[k] = n;
      else if (STRING_LISTS.has(k) && !Array.isArray(n)) n = typeof n === 'string' ? n.split(/\s+/).filter(Boolean) : [n];
      else if ((NUMBER_LISTS.has(k) || BOOLEAN_LISTS.has(k)) && !Array.isArray(n)) n = typeof n === 'string' ? n.split(/\s+/).filter(Boolean).map((x) => scalar(k, x)) : [n];
      else if (OBJECT_LISTS.has(k) && !Array.isArray(n)) n = [n];
      if (!root) out[k] = n;
    }
    // The resource name is an attribute of the resource element [TS-0004 §8.3]; given twice, it is ambiguous.
    if (isResourceElement(name) && element['@_rn'] !== undefined) {
      if ('rn' in out) throw new Error('rn is given both as an attribute and as an element');
      out.rn = element['@_rn'];
    }
    return out;
  }
  return scalar(name, value);
}

/** An XML element name (a Name with at most one prefix; ASCII, as every oneM2M short name is). */
const ELEMENT_NAME = /^[A-Za-z_][A-Za-z0-9._-]*(?::[A-Za-z_][A-Za-z0-9._-]*)?$/;

/**
 * Whether a key can be written as an element name: a Name whose prefix, if any, is one the answer declares (m2m
 * and the domain prefixes, see xmlText). `foo:bar` or `xmlns:m2m` is well-formed text but no namespace-aware
 * parser reads it (an unbound prefix; xmlns is no element's prefix).
 */
function isElementName(key: string): boolean {
  if (!ELEMENT_NAME.test(key)) return false;
  const colon = key.indexOf(':');
  // dcfg: (TS-0022 resource names) is written as before, undeclared: no source at hand gives its URI (see above).
  return colon < 0 || key.startsWith('m2m:') || key.startsWith('dcfg:') || Object.hasOwn(DOMAIN_NAMESPACES, key.slice(0, colon));
}

/**
 * Whether every key in a value can be written as an element. Content is the application's own (`con`, a custom
 * attribute): a key such as `x></con><acpi>…` or `@_rn` would otherwise be written as markup, or as an attribute.
 * A list is written as its element repeated: a list directly inside a list has no element to repeat (the builder
 * wrote `<0>`, no XML name, and every reader of the answer failed on it).
 */
function writableAsElements(value: unknown, depth = 0): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (depth > MAX_JSON_DEPTH) return false;
  if (Array.isArray(value)) return value.every((v) => !Array.isArray(v) && writableAsElements(v, depth + 1));
  return Object.entries(value).every(([k, v]) => isElementName(k) && writableAsElements(v, depth + 1));
}

/** A resource's rn, and a child reference's nm and typ, are XML attributes; the reference's address is its text. */
function toXmlShape(value: unknown, name = '', writable = false): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (!writable) {
    // Checked once for a whole subtree; where it fails, level by level. An object with a key no element can carry
    // goes as its JSON text, escaped like any text [Warden's choice: TS-0004 §8.3 does not say how XML carries
    // content that JSON can and XML cannot].
    writable = writableAsElements(value);
    if (!writable && (Array.isArray(value) ? value.some((v) => Array.isArray(v)) : !Object.keys(value).every(isElementName))) return JSON.stringify(value);
  }
  if (Array.isArray(value)) return value.map((v) => toXmlShape(v, name, writable));
  const o = value as Record<string, unknown>;
  if (REFERENCE_ELEMENTS.has(name) && typeof o.nm === 'string' && o.val !== undefined) {
    const ref: Record<string, unknown> = { '@_nm': o.nm };
    if (o.typ !== undefined) ref['@_typ'] = o.typ;
    ref['#text'] = o.val;
    return ref;
  }
  const out: Record<string, unknown> = {};
  const named = isResourceElement(name) && typeof o.rn === 'string' && typeof o.ty === 'number';
  if (named) out['@_rn'] = o.rn;
  for (const [k, v] of Object.entries(o)) {
    if (k === 'rn' && named) continue;
    // An instance's content is the application's own: it is never reshaped.
    out[k] = k === 'con' ? (writable || writableAsElements(v) ? v : JSON.stringify(v)) : toXmlShape(v, k, writable);
  }
  return out;
}

export const xmlCodec: Codec = {
  mediaType: 'application/xml',
  accepts: ['application/xml', 'text/xml', 'application/vnd.onem2m-res+xml', 'application/vnd.onem2m-ntfy+xml'],
  decode(body) {
    const text = body.toString('utf8');
    if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new Error('DOCTYPE and ENTITY declarations are not accepted');
    // A reference to a character XML does not allow (&#1;, &#xD800;) is no well-formed XML (XML 1.0 §4.1): the
    // parser dropped it, and such a value was stored without it instead of being refused like the character itself.
    // The parser also reads malformed ones (&#X1;, &#1z;) and drops what they name: a reference is either of the two
    // forms XML has (§4.1: &#x, lowercase, and hex digits; or decimal digits) or refused. CDATA sections and
    // comments are no references: they are left out of the scan.
    const markup = text.replace(/<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->/g, '');
    for (const [reference] of markup.matchAll(/&#[^;]*;/g)) {
      const form = /^&#(?:x([0-9a-fA-F]+)|([0-9]+));$/.exec(reference);
      if (!form) throw new Error('a character reference is malformed');
      const code = form[1] === undefined ? Number(form[2]) : Number.parseInt(form[1], 16);
      if (!(code <= 0x10ffff) || hasNonXmlCharacter(String.fromCodePoint(code))) throw new Error(NOT_XML_REFUSED);
    }
    const parsed = parser.parse(text, true) as Record<string, unknown>;
    if (depthOf(parsed) > MAX_JSON_DEPTH) throw new Error(`nesting deeper than ${MAX_JSON_DEPTH} levels`);
    const root = normalise(parsed, '', true) as Record<string, unknown>;
    typedDataPoints(root);
    // Numbers are read from text (scalar): 400 digits become Infinity, refused like in JSON.
    return plainData(root, body.length);
  },
  encode(value) {
    return Buffer.from(xmlText(value), 'utf8');
  },
  encodeText(value) {
    return xmlText(value);
  },
};

function xmlText(value: unknown): string {
  // The root's keys are the CSE's own (a resource type's name, m2m:rsp, m2m:dbg): shaped one by one, never sent as text.
  const root: Record<string, unknown> =
    typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toXmlShape(v, k)])) : { 'm2m:dbg': String(value) };
  const withNamespace: Record<string, unknown> = {};
  // Declared once on the root element: every element inside is in their scope.
  const domains = Object.fromEntries([...domainPrefixes(root)].sort().map((prefix) => [`@_xmlns:${prefix}`, DOMAIN_NAMESPACES[prefix]]));
  for (const [k, v] of Object.entries(root)) {
    // A root of text (an error's m2m:dbg) declares the prefix too: without it no namespace-aware parser read any error.
    const element = Array.isArray(v) ? v : typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : { '#text': v };
    withNamespace[k] = Array.isArray(element) ? element : { '@_xmlns:m2m': 'http://www.onem2m.org/xml/protocols', ...domains, ...element };
  }
  return `<?xml version="1.0" encoding="UTF-8"?>${String(builder.build(withNamespace))}`;
}
