// HTTP → request primitive [TS-0009 §6]: method, path (three addressing forms), X-M2M-* headers, query.
import type { IncomingHttpHeaders } from 'node:http';
import { badRequest } from '../../primitive/errors.js';
import {
  OPERATION,
  type FilterCriteria,
  type Operation,
  type RequestPrimitive,
  type ResponseTypeValue,
  type ResultContent,
} from '../../primitive/request.js';
import { codecForContentType, decodeBody } from '../../serialization/codec.js';
import { hasNonXmlCharacter } from '../../serialization/json.js';

export interface HttpRequestParts {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `ty` from `application/json;ty=3` (parameters in any order, white space allowed). */
function resourceTypeOf(contentType: string | undefined): number | undefined {
  if (!contentType) return undefined;
  for (const param of contentType.split(';').slice(1)) {
    const [key, value] = param.split('=').map((s) => s.trim());
    if (key?.toLowerCase() !== 'ty') continue;
    if (!value || !/^\d{1,6}$/.test(value)) throw badRequest(`resource type '${value ?? ''}' in Content-Type is not a number`);
    return Number(value);
  }
  return undefined;
}

/** URL path → To [TS-0009 table 6.2.2.1-1]: /~/x is SP-relative /x, /_/x is absolute //x, /x is CSE-relative x. */
export function targetOf(path: string): string {
  let decoded = path;
  // Only a percent sign starts an escape; most paths have none and are used as they are.
  if (path.includes('%')) {
    const segments = path.split('/');
    try {
      for (let i = 0; i < segments.length; i++) segments[i] = decodeURIComponent(segments[i] as string);
    } catch {
      throw badRequest('the request path has invalid percent-encoding');
    }
    // An escaped '/' is a character of one segment (RFC 3986 §2.2), and no resource name holds it: read as a separator
    // it would let `/cse-in%2Fbox` (or a CoAP Uri-Path option `cse-in/box`) address what a path-based rule in front of
    // the CSE sees as another resource.
    if (segments.some((segment) => segment.includes('/'))) throw badRequest("a segment of the request path holds an escaped '/' (%2F); no resource name contains one");
    decoded = segments.join('/');
  }
  if (decoded.includes('\u0000')) throw badRequest('the request path contains a NUL character');
  if (decoded.startsWith('/~/')) return decoded.slice(2);
  if (decoded === '/~') return '';
  if (decoded.startsWith('/_/')) return `/${decoded.slice(2)}`;
  return decoded.slice(1);
}

const INT = /^-?\d{1,15}$/;

function integer(name: string, raw: string): number {
  if (!INT.test(raw)) throw badRequest(`query parameter '${name}' must be an integer, got '${raw}'`);
  return Number(raw);
}

function boolean(name: string, raw: string): boolean {
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw badRequest(`query parameter '${name}' must be true or false, got '${raw}'`);
}

/** Multi-valued parameters may repeat or be joined with '+' (a space once decoded) [TS-0009 §6.2.2.2]. */
function list(values: string[]): string[] {
  return values.flatMap((v) => v.split(/[ +]/)).filter((v) => v !== '');
}

const FILTER_INTEGERS = ['sts', 'stb', 'sza', 'szb', 'fu', 'lim', 'ofst', 'lvl', 'fo', 'gmty', 'gsf', 'cfs'] as const;
const FILTER_STRINGS = ['crb', 'cra', 'ms', 'us', 'exb', 'exa', 'arp', 'geom', 'cfq'] as const;
const REQUEST_KEYS = new Set(['rcn', 'rt', 'rp', 'da', 'drt', 'atrl', 'rids', 'tids', 'ltids', 'tqi', 'nu', 'sqi']);
const FILTER_LISTS = new Set(['lbl', 'clbl', 'palb', 'ty', 'chty', 'pty', 'cty']);

function applyQuery(primitive: RequestPrimitive, query: URLSearchParams, maxParameters: number): void {
  const keys = new Set<string>();
  let count = 0;
  for (const [key, value] of query) {
    if (++count > maxParameters) throw badRequest(`more than ${maxParameters} query parameters`);
    // As in the path: no parameter of a primitive holds U+0000, and a store refuses it (PostgreSQL: 5000).
    if (hasNonXmlCharacter(key) || hasNonXmlCharacter(value)) throw badRequest('a query parameter contains a control character (other than tab, line feed, carriage return) or another character no xs:string holds');
    keys.add(key);
  }
  const one = (key: string): string => {
    const all = query.getAll(key);
    if (all.length > 1) throw badRequest(`query parameter '${key}' is given more than once`);
    return all[0] as string;
  };
  const fc: FilterCriteria = {};
  let hasFilter = false;
  for (const key of keys) {
    if (key === 'rcn') primitive.rcn = integer(key, one(key)) as ResultContent;
    else if (key === 'rt') primitive.rt = { rtv: integer(key, one(key)) as ResponseTypeValue };
    else if (key === 'rp') primitive.rp = one(key);
    else if (key === 'da') primitive.da = boolean(key, one(key));
    else if (key === 'drt') primitive.drt = integer(key, one(key));
    else if (key === 'atrl') primitive.atrl = list(query.getAll(key));
    else if (key === 'rids') primitive.rids = list(query.getAll(key));
    else if (key === 'tids') primitive.tids = list(query.getAll(key));
    else if (key === 'ltids') primitive.ltids = list(query.getAll(key));
    else if (key === 'tqi') primitive.tqi = boolean(key, one(key));
    else if (key === 'sqi') primitive.sqi = boolean(key, one(key));
    else if (REQUEST_KEYS.has(key)) continue;
    else {
      hasFilter = true;
      applyFilter(fc, key, query);
    }
  }
  if (hasFilter) primitive.fc = fc;
}

function applyFilter(fc: FilterCriteria, key: string, query: URLSearchParams): void {
  const values = query.getAll(key);
  if ((FILTER_INTEGERS as readonly string[]).includes(key)) {
    if (values.length > 1) throw badRequest(`query parameter '${key}' is given more than once`);
    const n = integer(key, values[0] as string);
    if (key === 'ofst') fc.off = n;
    else (fc as Record<string, unknown>)[key] = n;
  } else if ((FILTER_STRINGS as readonly string[]).includes(key)) {
    if (values.length > 1) throw badRequest(`query parameter '${key}' is given more than once`);
    (fc as Record<string, unknown>)[key] = values[0];
  } else if (key === 'lbq' || key === 'smf') {
    // Label queries and SPARQL hold spaces and '+', so each value is its own parameter.
    fc[key] = values;
  } else if (FILTER_LISTS.has(key)) {
    const items = list(values);
    if (key === 'ty' || key === 'chty' || key === 'pty') fc[key] = items.map((v) => integer(key, v));
    else (fc as Record<string, unknown>)[key] = items;
  } else {
    // c.<attribute> / p.<attribute> are child / parent attribute conditions [TS-0009 §6.2.2.2, R4].
    const scoped = /^([cp])\.([A-Za-z][A-Za-z0-9]{0,31})$/.exec(key);
    if (scoped) {
      const target = scoped[1] === 'c' ? (fc.catr ??= {}) : (fc.patr ??= {});
      target[scoped[2] as string] = values.join(' ');
      return;
    }
    // Any other key is an attribute condition, written <attribute>=<value> [TS-0009 table 6.2.2.2-1, atr].
    if (!/^[A-Za-z][A-Za-z0-9]{0,31}$/.test(key)) throw badRequest(`query parameter '${key}' is not recognised`);
    (fc.atr ??= {})[key] = values.join(' ');
  }
}

/** A JWS (3 parts) or JWE (5 parts) in compact serialization. */
const COMPACT_JOSE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]*){2}(\.[A-Za-z0-9_-]*){0,2}$/;
const BEARER = /^Bearer [A-Za-z0-9\-._~+/]+=*$/;

/**
 * The Authorization header [TS-0009 §6.4.19, §7.1]: an OAuth 2.0 `Bearer` access token, or oneM2M tokens
 * (JWS/JWE compact) joined by '+'. Anything else is refused rather than ignored.
 */
export function tokensOf(authorization: string): { bearer?: string; tokens?: string[] } {
  if (authorization.length > 16_384) throw badRequest('the Authorization header is too long');
  if (authorization.startsWith('Bearer ')) {
    if (!BEARER.test(authorization)) throw badRequest('the Authorization header has a malformed Bearer token');
    return { bearer: authorization.slice(7) };
  }
  const tokens = authorization.split('+');
  if (tokens.length > 32 || !tokens.every((t) => COMPACT_JOSE.test(t) && (t.split('.').length === 3 || t.split('.').length === 5))) {
    throw badRequest("the Authorization header is neither a Bearer token nor '+'-joined JWS/JWE compact tokens");
  }
  return { tokens };
}

export function decodeHttpRequest(parts: HttpRequestParts, maxQueryParameters: number): RequestPrimitive {
  const headers = parts.headers;
  const contentType = header(headers, 'content-type');
  const ty = resourceTypeOf(contentType);
  let op: Operation;
  switch (parts.method) {
    case 'POST':
      op = ty === undefined ? OPERATION.NOTIFY : OPERATION.CREATE;
      break;
    case 'GET':
      op = OPERATION.RETRIEVE;
      break;
    case 'PUT':
      op = OPERATION.UPDATE;
      break;
    case 'DELETE':
      op = OPERATION.DELETE;
      break;
    default:
      throw badRequest(`HTTP method ${parts.method} is not a oneM2M operation (use POST, GET, PUT or DELETE)`);
  }
  const queryAt = parts.url.indexOf('?');
  const path = queryAt < 0 ? parts.url : parts.url.slice(0, queryAt);
  const primitive: RequestPrimitive = {
    op,
    to: targetOf(path),
    fr: header(headers, 'x-m2m-origin') ?? '',
    rqi: header(headers, 'x-m2m-ri') ?? '',
  };
  const rvi = header(headers, 'x-m2m-rvi');
  if (rvi !== undefined) primitive.rvi = rvi;
  if (ty !== undefined) primitive.ty = ty;
  const optional = [
    ['x-m2m-rst', 'rset'],
    ['x-m2m-ret', 'rqet'],
    ['x-m2m-oet', 'oet'],
    ['x-m2m-ot', 'ot'],
    ['x-m2m-vsi', 'vsi'],
    ['x-m2m-gid', 'gid'],
  ] as const;
  for (const [name, field] of optional) {
    const v = header(headers, name);
    if (v !== undefined) primitive[field] = v;
  }
  const ec = header(headers, 'x-m2m-ec');
  if (ec !== undefined) primitive.ec = integer('X-M2M-EC', ec);
  if (queryAt >= 0) applyQuery(primitive, new URLSearchParams(parts.url.slice(queryAt + 1)), maxQueryParameters);
  const rtu = header(headers, 'x-m2m-rtu');
  if (rtu !== undefined) primitive.rt = { rtv: primitive.rt?.rtv ?? 3, nu: rtu.split('&').filter((u) => u !== '') };
  const authorization = header(headers, 'authorization');
  if (authorization !== undefined) {
    const { tokens } = tokensOf(authorization);
    if (tokens) primitive.tkns = tokens;
  }
  if (parts.body.length > 0) primitive.pc = decodeBody(codecForContentType(contentType), parts.body);
  return primitive;
}
