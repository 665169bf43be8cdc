// Stage 1: mandatory parameters, value ranges and the release version [TS-0004 §7.3.2.1].
import { hasNonXmlCharacter } from '../../serialization/json.js';
import { CseError, badRequest, quotedName } from '../../primitive/errors.js';
import { parseAbsRelTimestamp } from '../../primitive/identifiers.js';
import { OPERATION, RESPONSE_TYPE, RESULT_CONTENT, isDiscovery, type FilterCriteria, type Operation } from '../../primitive/request.js';
import type { ResourceRegistry } from '../../resources/registry.js';
import { RSC } from '../../primitive/rsc.js';
import { RESOURCE_TYPE } from '../../resources/types.js';
import type { Stage } from '../pipeline.js';

/** Release versions this CSE serves; a request without X-M2M-RVI is a Release 1 request [TS-0004 §7.3.2.1]. */
export const SUPPORTED_RELEASES = ['1', '2', '2a', '3', '4', '5'] as const;

/**
 * Values a Release Version Indicator may carry: m2m:releaseVersion has no "1" [TS-0004 §6.3.3, "the permitted values
 * are 2, 2a, and 3" in Release 3, 4 and 5 added since], because a Release 1 originator sends no indicator at all.
 * An explicit "1" is therefore a release this CSE does not support as a value: 4001, as ACME answers.
 */
const RELEASE_INDICATORS: readonly string[] = SUPPORTED_RELEASES.filter((release) => release !== '1');

/** Result content values allowed per operation, and the default [TS-0001 table 8.1.2-1, TS-0004 §7.3.3.12]. */
const RESULT_CONTENT_RULES: Readonly<Record<Operation, { allowed: readonly number[]; default: number }>> = {
  [OPERATION.CREATE]: { allowed: [0, 1, 2, 3, 9], default: RESULT_CONTENT.ATTRIBUTES },
  [OPERATION.RETRIEVE]: { allowed: [1, 4, 5, 6, 7, 8], default: RESULT_CONTENT.ATTRIBUTES },
  [OPERATION.UPDATE]: { allowed: [0, 1, 9], default: RESULT_CONTENT.ATTRIBUTES },
  [OPERATION.DELETE]: { allowed: [0, 1, 4, 5, 6, 8], default: RESULT_CONTENT.NOTHING },
  [OPERATION.NOTIFY]: { allowed: [0], default: RESULT_CONTENT.NOTHING },
};

export function effectiveResultContent(op: Operation, rcn: number | undefined): number {
  return rcn ?? RESULT_CONTENT_RULES[op].default;
}

const OPERATIONS: ReadonlySet<number> = new Set(Object.values(OPERATION));

/** Every resource type number of TS-0004 §6.3.4.2.1 that Warden does not (yet) implement → 5001, not 4000. */
const KNOWN_TYPES = new Set([
  ...Array.from({ length: 65 }, (_, i) => i + 1),
  ...Array.from({ length: 65 }, (_, i) => 10_001 + i),
]);

/** m2m:requestID is any xs:string [TS-0004 §6.3.3]: spaces included; bounded, and no control characters. */
const RQI = /^\P{Cc}{1,256}$/u;
const CONTROL = /\p{Cc}/u;
/** Control characters (C0 and C1), and what no xs:string holds (U+FFFE, U+FFFF, unpaired surrogates): no header, and no XML answer, carries them. */
const unfit = (value: string): boolean => CONTROL.test(value) || hasNonXmlCharacter(value);

/** Absolute or relative timestamps of the request, resolved against its arrival (undefined when absent). */
function requestTime(value: string | undefined, receivedAt: number): number | undefined {
  return value === undefined ? undefined : parseAbsRelTimestamp(value, receivedAt);
}

/**
 * The request's deadlines must be consistent [TS-0001 §8.1.2]: the result cannot be due before the request expires,
 * and the operation cannot be executed at or after either deadline. TS-0004 names no code; like ACME
 * (oneM2M issue 217), Warden answers 4000.
 */
function checkDeadlines(rqet: number | undefined, rset: number | undefined, oet: number | undefined, receivedAt: number): void {
  // A deadline that has passed already is 4008, answered by checkExpiry: that is what is wrong with the request.
  if ((rqet !== undefined && rqet <= receivedAt) || (rset !== undefined && rset <= receivedAt)) return;
  if (rqet !== undefined && rset !== undefined && rset < rqet) throw badRequest('the result expiration timestamp (rset) is before the request expiration timestamp (rqet)');
  if (oet !== undefined && rqet !== undefined && oet >= rqet) throw badRequest('the operation execution time (oet) is not before the request expiration timestamp (rqet)');
  if (oet !== undefined && rset !== undefined && oet >= rset) throw badRequest('the operation execution time (oet) is not before the result expiration timestamp (rset)');
}

/**
 * An attribute condition (`<attribute>=<value>`, `c.<attribute>`, `p.<attribute>`) must name an attribute of some
 * resource type this CSE has; anything else is an unknown parameter (4000), not a condition nothing can meet.
 */
function checkAttributeConditions(registry: ResourceRegistry, fc: FilterCriteria | undefined): void {
  if (!fc) return;
  for (const conditions of [fc.atr, fc.catr, fc.patr]) {
    for (const name of Object.keys(conditions ?? {})) {
      if (!registry.knowsAttribute(name)) throw badRequest(`'${quotedName(name)}' is neither a request parameter nor an attribute of a resource type`);
    }
  }
}

/**
 * Entries one filter criterion may list (`ty`, `cty`, `lbl`, … and the attribute conditions) [Warden policy; TS-0004
 * sets no bound]. Each becomes a term of one SQL statement: unbounded, a long list failed in SQLite (expression depth,
 * bound parameters) as 5000, and cost a query as long as the list for a request of a few bytes more.
 */
const MAX_FILTER_ENTRIES = 256;

function checkFilterSizes(fc: FilterCriteria | undefined): void {
  if (!fc) return;
  for (const [name, value] of Object.entries(fc) as Array<[string, unknown]>) {
    const entries = Array.isArray(value) ? value.length : value !== null && typeof value === 'object' ? Object.keys(value).length : 0;
    if (entries > MAX_FILTER_ENTRIES) throw badRequest(`filter criterion '${name}' lists ${entries} entries; at most ${MAX_FILTER_ENTRIES} are accepted`);
  }
  // Resource types are m2m:resourceType values (xs:integer in TS-0004's schemas, none beyond 5 digits); both
  // stores keep them in 32-bit columns, where a larger number failed the statement (PostgreSQL: 5000).
  for (const name of ['ty', 'chty', 'pty'] as const) {
    const types: unknown = fc[name];
    if (types === undefined) continue;
    if (!Array.isArray(types) || !types.every((t) => Number.isInteger(t) && (t as number) >= 0 && (t as number) <= MAX_RESOURCE_TYPE)) {
      throw badRequest(`filter criterion '${name}' must list resource types (integers from 0 to ${MAX_RESOURCE_TYPE})`);
    }
  }
}

const MAX_RESOURCE_TYPE = 2_147_483_647;

export const checkPrimitive: Stage = {
  name: 'checkPrimitive',
  run(ctx) {
    const r = ctx.request;
    if (!OPERATIONS.has(r.op)) throw badRequest(`operation ${String(r.op)} is not a oneM2M operation`);
    if (!RQI.test(r.rqi) || hasNonXmlCharacter(r.rqi)) throw badRequest('request identifier (X-M2M-RI) is missing or malformed');
    if (r.rvi !== undefined && !RELEASE_INDICATORS.includes(r.rvi)) {
      throw new CseError(RSC.RELEASE_VERSION_NOT_SUPPORTED, `release version '${r.rvi}' is not supported (X-M2M-RVI may be ${RELEASE_INDICATORS.join(', ')}; a Release 1 request sends none)`);
    }
    const registration = r.op === OPERATION.CREATE && r.ty === RESOURCE_TYPE.AE;
    if (r.fr === '' && !registration) throw badRequest('originator (X-M2M-Origin) is missing');
    if (r.fr.length > 1024) throw badRequest('originator is longer than 1024 characters');
    // Bindings that carry it in a body or an option (MQTT, WebSocket, CoAP) let any character through.
    if (unfit(r.fr)) throw badRequest('originator contains a control character or another character no xs:string holds');
    // The segments after the one or two slashes an SP-relative or absolute ID starts with.
    const segments = (r.fr.startsWith('//') ? r.fr.slice(2) : r.fr.startsWith('/') ? r.fr.slice(1) : r.fr).split('/');
    // An ID has no dot segments [TS-0001 §7.2]; relayed unchanged, '/id-mn/../id-in/CAdmin' could be read as another
    // originator by a CSE further on that normalises paths.
    if (segments.some((segment) => segment === '.' || segment === '..')) throw badRequest('originator has a "." or ".." segment');
    // Nor an empty one: //SP//Sx or /id-mn//Cx named no ID, and slipped past the checks that read the segments (an
    // S-AE-ID's spellings, a relayed CSE-ID).
    if (r.fr !== '' && segments.includes('')) throw badRequest('originator has an empty segment');
    if (r.op === OPERATION.CREATE) {
      if (r.ty === undefined) throw badRequest('resource type (ty) is missing for CREATE');
      if (!ctx.services.registry.get(r.ty)) {
        if (KNOWN_TYPES.has(r.ty)) throw new CseError(RSC.NOT_IMPLEMENTED, `resource type ${r.ty} is not supported by this CSE`);
        throw badRequest(`resource type ${r.ty} is not a oneM2M resource type`);
      }
      if (r.fc !== undefined) throw badRequest('filter criteria are not allowed in CREATE');
    } else if (r.ty !== undefined) {
      // Resource Type is NP in every request but CREATE [TS-0004 table 7.2.1.1-1].
      throw badRequest(`resource type (ty=${r.ty}) is only allowed in a CREATE request`);
    }
    if ((r.op === OPERATION.CREATE || r.op === OPERATION.UPDATE || r.op === OPERATION.NOTIFY) && r.pc === undefined) {
      throw badRequest('content is missing');
    }
    if (r.atrl !== undefined) {
      // Partial retrieve: RETRIEVE of attributes (rcn 1) only [TS-0004 §7.3.3.6].
      if (r.op !== OPERATION.RETRIEVE || (r.rcn !== undefined && r.rcn !== RESULT_CONTENT.ATTRIBUTES)) {
        throw badRequest('an attribute list (atrl) is only allowed in a RETRIEVE of attributes (rcn=1)');
      }
      if (r.atrl.length === 0 || r.atrl.length > 64 || r.atrl.some((a) => !/^[A-Za-z][A-Za-z0-9]{0,31}$/.test(a))) throw badRequest('atrl must list attribute short names');
    }
    if (r.drt !== undefined && r.drt !== 1 && r.drt !== 2) throw badRequest(`desired identifier result type ${r.drt} is not 1 (structured) or 2 (unstructured)`);
    if (r.rt !== undefined) {
      if (![1, 2, 3, 4, 5].includes(r.rt.rtv)) throw badRequest(`response type ${r.rt.rtv} is not a oneM2M response type`);
      // flexBlocking leaves the choice to the CSE: Warden answers blocking. noResponse is carried out blocking, its
      // result withheld by the binding (primitive/response.ts withholdsResult).
      if (r.rt.nu && r.rt.rtv !== RESPONSE_TYPE.NON_BLOCKING_ASYNCH) throw badRequest('notification targets for the result (X-M2M-RTU) need rt=2');
      if (r.rt.nu && (r.rt.nu.length > 16 || r.rt.nu.some((u) => u.length === 0 || u.length > 2048))) throw badRequest('X-M2M-RTU must list 1 to 16 targets');
    }
    if (r.fc?.fo !== undefined && ![1, 2, 3].includes(r.fc.fo)) throw badRequest('filterOperation must be 1 (AND), 2 (OR) or 3 (XOR)');
    checkFilterSizes(r.fc);
    checkAttributeConditions(ctx.services.registry, r.fc);
    if (r.fc?.fu !== undefined && r.fc.fu !== 1 && r.fc.fu !== 2 && r.fc.fu !== 3) {
      // 4, discovery-based operation (Release 4), is not implemented; other numbers are no filterUsage at all.
      if (r.fc.fu === 4) throw new CseError(RSC.NOT_IMPLEMENTED, 'filterUsage 4 (discovery-based operation) is not supported');
      throw badRequest('filterUsage must be 1 (discovery), 2 (conditional retrieval) or 3 (IPE on-demand discovery)');
    }
    // Semantic query: sqi=true asks for SPARQL results (rcn 10) of a RETRIEVE, not a discovery [TS-0004 §7.3.3.19].
    if (r.sqi !== undefined && r.op !== OPERATION.RETRIEVE) throw badRequest('semanticQueryIndicator (sqi) is only allowed in a RETRIEVE');
    if (r.sqi === true && (r.rcn !== RESULT_CONTENT.SEMANTIC_CONTENT || isDiscovery(r.fc))) throw badRequest('a semantic query (sqi=true) is a RETRIEVE with rcn=10, without fu=1');
    if (r.rcn === RESULT_CONTENT.ORIGINAL_RESOURCE && (r.op !== OPERATION.RETRIEVE || isDiscovery(r.fc))) {
      // Valid only in a RETRIEVE of an announced resource [TS-0004 §7.3.3.12]; the target is checked once known (execute).
      throw badRequest('result content 7 (original resource) applies to a RETRIEVE of an announced resource only');
    }
    // permissions (12) is about reading a resource: a CREATE, UPDATE or DELETE with it carries a result content
    // invalid for the operation, 4000 [TS-0004 §7.3.2.1] (as in ACME); only for a RETRIEVE is it a value Warden
    // does not implement.
    if (r.rcn === RESULT_CONTENT.PERMISSIONS && r.op !== OPERATION.RETRIEVE) throw badRequest('result content 12 (permissions) is only allowed in a RETRIEVE');
    if (r.rcn === RESULT_CONTENT.PERMISSIONS) {
      // TS-0004 names rcn 12 but defines no representation for it; ACME answers it like rcn 4 (a stub).
      throw new CseError(RSC.NOT_IMPLEMENTED, 'result content 12 (permissions) has no defined representation and is not supported');
    }
    if (r.rcn === RESULT_CONTENT.SEMANTIC_CONTENT) {
      if (r.sqi !== true) throw badRequest('result content 10 (semantic content) needs a semantic query (sqi=true)');
    } else if (r.op === OPERATION.RETRIEVE && isDiscovery(r.fc)) {
      // Discovery answers with references: rcn 11 (the default, a list of IDs) or 6 (child references).
      if (r.rcn !== undefined && r.rcn !== 11 && r.rcn !== 6) throw badRequest(`result content ${r.rcn} is not allowed for discovery (allowed: 6, 11)`);
    } else if (r.rcn !== undefined && !RESULT_CONTENT_RULES[r.op].allowed.includes(r.rcn)) {
      throw badRequest(`result content ${r.rcn} is not allowed for this operation (allowed: ${RESULT_CONTENT_RULES[r.op].allowed.join(', ')})`);
    }
    for (const [name, value] of [
      ['rqet', r.rqet],
      ['rset', r.rset],
      ['oet', r.oet],
      ['ot', r.ot],
      ['rp', r.rp],
    ] as const) {
      if (value !== undefined && parseAbsRelTimestamp(value, ctx.receivedAt) === undefined) throw badRequest(`${name} '${value}' is not a timestamp`);
    }
    // Parameters that travel as HTTP headers or query values when the request is forwarded to another CSE
    // (remote/link.ts): the bindings that carry them in a body (MQTT, WebSocket, CoAP) let control characters
    // through, which no header may hold; refused here as the malformed parameters they are, not a 5000 at the link.
    for (const [name, values] of [
      ['vsi', [r.vsi]],
      ['gid', [r.gid]],
      ['rt.nu', r.rt?.nu],
      ['tkns', r.tkns],
      ['tids', r.tids],
      ['ltids', r.ltids],
      ['rids', r.rids],
    ] as const) {
      if (values?.some((v) => v !== undefined && unfit(v))) throw badRequest(`${name} contains control characters or characters no xs:string holds`);
    }
    checkDeadlines(requestTime(r.rqet, ctx.receivedAt), requestTime(r.rset, ctx.receivedAt), requestTime(r.oet, ctx.receivedAt), ctx.receivedAt);
    return undefined;
  },
};
