// Request and response primitives as whole documents, for bindings that carry them as messages
// (MQTT, TS-0010; WebSocket, TS-0020). Every field is checked before it becomes a RequestPrimitive.
import { badRequest, quotedName } from '../primitive/errors.js';
import { filterCriteriaContent, type FilterCriteria, type Operation, type RequestPrimitive, type ResponseTypeValue, type ResultContent } from '../primitive/request.js';
import type { ResponsePrimitive } from '../primitive/response.js';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function text(o: Record<string, unknown>, name: string, max = 4096): string | undefined {
  const v = o[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > max) throw badRequest(`primitive parameter '${name}' must be a string`);
  return v;
}

function int(o: Record<string, unknown>, name: string): number | undefined {
  const v = o[name];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && /^-?\d{1,15}$/.test(v) ? Number(v) : v;
  if (!Number.isSafeInteger(n)) throw badRequest(`primitive parameter '${name}' must be an integer`);
  return n as number;
}

const FC_NUMBERS = ['sts', 'stb', 'sza', 'szb', 'fu', 'lim', 'off', 'lvl', 'fo', 'gmty', 'gsf', 'cfs'] as const;
const FC_STRINGS = ['crb', 'cra', 'ms', 'us', 'exb', 'exa', 'arp', 'cfq'] as const;
const FC_STRING_LISTS = ['lbl', 'clbl', 'palb', 'cty', 'lbq', 'smf'] as const;

/** geometry: coordinates as JSON text, or already as a JSON array. */
function geometryText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return JSON.stringify(value);
  throw badRequest("filter criterion 'geom' must be coordinates (a JSON array or its text)");
}

function filterCriteria(v: unknown): FilterCriteria {
  if (!isRecord(v)) throw badRequest("primitive parameter 'fc' must be an object");
  const fc: FilterCriteria = {};
  for (const [key, value] of Object.entries(v)) {
    // offset is `ofst` in a primitive [TS-0004 table 8.2.5-1]; `off` (the name inside Warden) stays accepted.
    if (key === 'ofst') fc.off = int(v, key);
    else if ((FC_NUMBERS as readonly string[]).includes(key)) (fc as Record<string, unknown>)[key] = int(v, key);
    else if ((FC_STRINGS as readonly string[]).includes(key)) (fc as Record<string, unknown>)[key] = text(v, key);
    else if (key === 'ty' || key === 'chty' || key === 'pty') {
      const list = Array.isArray(value) ? value : [value];
      if (list.some((n) => !Number.isSafeInteger(n))) throw badRequest(`filter criterion '${key}' must list integers`);
      fc[key] = list as number[];
    } else if ((FC_STRING_LISTS as readonly string[]).includes(key)) {
      const list = Array.isArray(value) ? value : [value];
      if (list.some((s) => typeof s !== 'string')) throw badRequest(`filter criterion '${key}' must list strings`);
      fc[key as (typeof FC_STRING_LISTS)[number]] = list as string[];
    } else if (key === 'geom') {
      fc.geom = geometryText(value);
    } else if (key === 'gq') {
      // geoQuery as one complex value {gmty, geom, gsf}.
      if (!isRecord(value)) throw badRequest("filter criterion 'gq' must be {gmty, geom, gsf}");
      const gmty = int(value, 'gmty');
      const gsf = int(value, 'gsf');
      if (gmty !== undefined) fc.gmty = gmty;
      if (gsf !== undefined) fc.gsf = gsf;
      if (value.geom !== undefined) fc.geom = geometryText(value.geom);
    } else if (key === 'atr' || key === 'catr' || key === 'patr') {
      const list = Array.isArray(value) ? value : [value];
      const atr: Record<string, string> = {};
      for (const item of list) {
        if (!isRecord(item) || typeof item.nm !== 'string' || !/^[A-Za-z][A-Za-z0-9]{0,31}$/.test(item.nm)) throw badRequest("filter criterion 'atr' must list {nm, val}");
        // A condition compares text; a structure (over JSON, CBOR or XML) is no value to compare.
        if (item.val !== null && typeof item.val === 'object') throw badRequest(`filter criterion '${key}' ${item.nm}: the value must be a string, number or boolean`);
        atr[item.nm] = String(item.val);
      }
      fc[key] = atr;
    } else throw badRequest(`filter criterion '${quotedName(key)}' is not recognised`);
  }
  return fc;
}

/** The request identifier an answer (m2m:rsp) names, when it names one: only a string or a number is one. */
export function answerRqi(doc: { rqi?: unknown }): string | undefined {
  return typeof doc.rqi === 'string' || typeof doc.rqi === 'number' ? String(doc.rqi) : undefined;
}

/**
 * The RSC an answer carries (a number, or its text as in X-M2M-RSC or a CoAP option), whatever binding brought it;
 * undefined when it carries none that is one: such an answer is no oneM2M answer, and its sender counts as not
 * reached (5103).
 */
export function rscOf(value: unknown): number | undefined {
  const rsc = typeof value === 'number' || typeof value === 'string' ? Number(value) : Number.NaN;
  return Number.isInteger(rsc) && rsc > 0 ? rsc : undefined;
}

/** XML carries a primitive inside its root element (m2m:rqp / m2m:rsp); JSON and CBOR may or may not. */
export function unwrapPrimitive(doc: unknown, root: 'm2m:rqp' | 'm2m:rsp'): unknown {
  return isRecord(doc) && Object.keys(doc).length === 1 && isRecord(doc[root]) ? doc[root] : doc;
}

export function requestFromDocument(wrapped: unknown): RequestPrimitive {
  const doc = unwrapPrimitive(wrapped, 'm2m:rqp');
  if (!isRecord(doc)) throw badRequest('the message is not a request primitive (an object with op, to, fr, rqi)');
  const op = int(doc, 'op');
  if (op === undefined || op < 1 || op > 5) throw badRequest("primitive parameter 'op' must be 1 to 5");
  const to = text(doc, 'to');
  if (to === undefined) throw badRequest("primitive parameter 'to' is missing");
  const r: RequestPrimitive = { op: op as Operation, to, fr: text(doc, 'fr', 1024) ?? '', rqi: text(doc, 'rqi', 256) ?? '' };
  const rvi = text(doc, 'rvi', 8);
  if (rvi !== undefined) r.rvi = rvi;
  const ty = int(doc, 'ty');
  if (ty !== undefined) r.ty = ty;
  if (doc.pc !== undefined && doc.pc !== null) r.pc = doc.pc;
  const rcn = int(doc, 'rcn');
  if (rcn !== undefined) r.rcn = rcn as ResultContent;
  const drt = int(doc, 'drt');
  if (drt !== undefined) r.drt = drt;
  if (doc.rt !== undefined) {
    if (!isRecord(doc.rt)) throw badRequest("primitive parameter 'rt' must be {rtv, nu}");
    const rtv = int(doc.rt, 'rtv');
    if (rtv === undefined) throw badRequest("primitive parameter 'rt' needs rtv");
    r.rt = { rtv: rtv as ResponseTypeValue };
    if (Array.isArray(doc.rt.nu)) r.rt.nu = doc.rt.nu.filter((u): u is string => typeof u === 'string');
  }
  for (const name of ['rp', 'rqet', 'rset', 'oet', 'ot', 'vsi', 'gid'] as const) {
    const v = text(doc, name, 256);
    if (v !== undefined) r[name] = v;
  }
  if (doc.sqi !== undefined) {
    if (typeof doc.sqi !== 'boolean') throw badRequest("primitive parameter 'sqi' must be a boolean");
    r.sqi = doc.sqi;
  }
  const ec = int(doc, 'ec');
  if (ec !== undefined) r.ec = ec;
  if (doc.fc !== undefined) r.fc = filterCriteria(doc.fc);
  if (Array.isArray(doc.atrl)) r.atrl = doc.atrl.filter((a): a is string => typeof a === 'string');
  // Dynamic authorization parameters [TS-0004 table 8.2.2-1]: the same fields as the HTTP binding's Authorization
  // header (tkns) and query (rids, tids, ltids, tqi), checked here the same way.
  for (const name of ['tkns', 'rids', 'tids', 'ltids'] as const) {
    const v = doc[name];
    if (v === undefined || v === null) continue;
    const list = typeof v === 'string' ? v.split(/[ +]/).filter((s) => s !== '') : v;
    if (!Array.isArray(list) || list.length > 16 || list.some((s) => typeof s !== 'string' || s.length > 16_384)) throw badRequest(`primitive parameter '${name}' must be a list of at most 16 strings`);
    r[name] = list as string[];
  }
  if (doc.tqi !== undefined && doc.tqi !== null) {
    if (typeof doc.tqi !== 'boolean') throw badRequest("primitive parameter 'tqi' must be a boolean");
    r.tqi = doc.tqi;
  }
  return r;
}

/** A request primitive as a JSON document, the inverse of requestFromDocument (MQTT requests this CSE sends). */
export function requestDocument(p: RequestPrimitive): Record<string, unknown> {
  const doc: Record<string, unknown> = { op: p.op, to: p.to, fr: p.fr, rqi: p.rqi, rvi: p.rvi ?? '3' };
  const optional = { ty: p.ty, pc: p.pc, rcn: p.rcn, drt: p.drt, rt: p.rt, rp: p.rp, rqet: p.rqet, rset: p.rset, oet: p.oet, ot: p.ot, vsi: p.vsi, gid: p.gid, sqi: p.sqi, ec: p.ec, atrl: p.atrl };
  for (const [name, value] of Object.entries(optional)) if (value !== undefined) doc[name] = value;
  if (p.fc !== undefined) doc.fc = filterCriteriaContent(p.fc);
  return doc;
}

export function responseDocument(response: ResponsePrimitive, to: string, wrap = false): Record<string, unknown> {
  const doc = {
    rsc: response.rsc,
    rqi: response.rqi,
    ...(response.pc === undefined ? {} : { pc: response.pc }),
    to,
    ...(response.fr ? { fr: response.fr } : {}),
    ...(response.rvi ? { rvi: response.rvi } : {}),
    ...(response.cnst === undefined ? {} : { cnst: response.cnst }),
    ...(response.cnot === undefined ? {} : { cnot: response.cnot }),
    ...(response.ati === undefined ? {} : { ati: response.ati }),
    ...(response.ot ? { ot: response.ot } : {}),
    ...(response.rset ? { rset: response.rset } : {}),
  };
  return wrap ? { 'm2m:rsp': doc } : doc;
}
