// The accessControlPolicy language [TS-0003 §7.1; TS-0004 §6.3.5.26-28]: parsing (with a precise message
// for every malformed element) and evaluation of one set of rules. Fail closed: what cannot be decided denies.
import type { LocalIdentity } from '../primitive/identifiers.js';
import { OPERATION, type Operation } from '../primitive/request.js';
import { inRange, parseAddress, type AddressRange, type ParsedAddress } from './addresses.js';
import { compileOriginator, originatorMatches, type OriginatorMatcher } from './originators.js';
import { compileSchedule, scheduleMatches, type Schedule, type TimeFields } from './schedule.js';

/** accessControlOperations bits [TS-0004 §6.3.4.2.29]. */
export const ACCESS_OPERATION = { CREATE: 1, RETRIEVE: 2, UPDATE: 4, DELETE: 8, NOTIFY: 16, DISCOVERY: 32 } as const;
export type AccessOperation = (typeof ACCESS_OPERATION)[keyof typeof ACCESS_OPERATION];

const PRIVILEGE_OF: Readonly<Record<Operation, AccessOperation>> = {
  [OPERATION.CREATE]: ACCESS_OPERATION.CREATE,
  [OPERATION.RETRIEVE]: ACCESS_OPERATION.RETRIEVE,
  [OPERATION.UPDATE]: ACCESS_OPERATION.UPDATE,
  [OPERATION.DELETE]: ACCESS_OPERATION.DELETE,
  [OPERATION.NOTIFY]: ACCESS_OPERATION.NOTIFY,
};

/** The privilege an operation needs of its target (a RETRIEVE that is a discovery needs DISCOVERY instead: the authorize stage). */
export function privilegeOf(op: Operation): AccessOperation {
  return PRIVILEGE_OF[op];
}
const ALL_OPERATIONS = 63;

/**
 * Bounds on one policy. A policy is compiled and evaluated on requests of other originators, so its size
 * is a cost they pay: these limits keep one decision cheap whatever a policy author writes.
 */
export const POLICY_LIMITS = { rules: 64, originators: 64, contexts: 16, windows: 16, addresses: 64, objectDetails: 16, childTypes: 64, attributes: 64, conditions: 256 } as const;

/**
 * The time windows, address ranges and regions in all contexts of a rule set (`conditions` at most): the per-rule
 * bounds alone allowed 64 × 16 × 16 windows in one policy, a few seconds of the event loop to compile and 20 MB
 * cached per policy (found by a probe of time inputs), tested on every decision that reaches its rules.
 */
function conditionsIn(acr: readonly unknown[]): number {
  let n = 0;
  for (const rule of acr) {
    const acco = isRecord(rule) ? rule.acco : undefined;
    if (!Array.isArray(acco)) continue;
    for (const context of acco) {
      if (!isRecord(context)) continue;
      const acip = isRecord(context.acip) ? context.acip : {};
      const listed = (list: unknown): number => (Array.isArray(list) ? list.length : 0);
      n += listed(context.actw) + listed(acip.ipv4) + listed(acip.ipv6) + (context.aclr === undefined ? 0 : 1);
    }
  }
  return n;
}

/** The conditions a compiled rule set holds: the weight of a cached policy. */
export function compiledConditions(rules: readonly CompiledRule[]): number {
  let n = 0;
  for (const rule of rules) for (const c of rule.contexts ?? []) n += (c.windows?.length ?? 0) + (c.addresses?.length ?? 0) + (c.region ? 1 : 0);
  return n;
}

interface CompiledContext {
  readonly windows?: readonly Schedule[];
  readonly addresses?: readonly AddressRange[];
  /** Any location region makes the context depend on the originator's location. */
  readonly region?: { countries?: readonly string[]; circle?: readonly [number, number, number] };
}

interface CompiledObjectDetails {
  readonly ty?: number;
  readonly spty?: number | string;
  readonly chty: readonly number[];
}

export interface CompiledRule {
  readonly originators: readonly OriginatorMatcher[];
  readonly operations: number;
  readonly contexts?: readonly CompiledContext[];
  readonly requiresAuthentication: boolean;
  readonly objectDetails?: readonly CompiledObjectDetails[];
  /**
   * accessControlAttributes (aca, Release 4): the rule grants its operations on these attributes only. Release 4
   * TS-0001 text was not available here; the reading is ACME's (testACP test_*ACA*): a CREATE or UPDATE may send
   * only these, a RETRIEVE may return only these (all of them, or the atrl asked for), a DELETE is allowed only
   * when the resource has no other attribute. Undefined: every attribute.
   */
  readonly attributes?: readonly string[];
}

/** The facts a rule is evaluated against: the request context of TS-0003 table 7.1.2-2. */
export interface AccessFacts {
  /** Originator in absolute segments (see originators.ts). */
  readonly originator: readonly string[];
  /** Verified Role-IDs of the originator; never taken from the request unverified. */
  readonly roleIds: readonly string[];
  /** Local <group> resource IDs whose members (transitively) include the originator. */
  readonly groups: ReadonlySet<string>;
  readonly operation: AccessOperation;
  readonly authenticated: boolean;
  /** rq_time, split into the fields a schedule tests (see schedule.ts). */
  readonly time: TimeFields;
  /** rq_ip: the real peer address of the connection; undefined when it is not an IP address. */
  readonly address: ParsedAddress | undefined;
  /** rq_loc: undefined when no trusted location is known, which makes location rules indeterminate (deny). */
  readonly location?: { country?: string; latitude?: number; longitude?: number };
  /** For CREATE: the type of the parent (the target) and of the resource to be created. */
  readonly targetType?: number;
  readonly childType?: number;
  readonly specialization?: number | string;
}

export class PolicyFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyFormatError';
  }
}

const fail = (path: string, problem: string): never => {
  throw new PolicyFormatError(`${path}: ${problem}`);
};

/** An attribute short name (an NCName in practice: letters and digits). */
const ATTRIBUTE_NAME = /^[A-Za-z][A-Za-z0-9]{0,31}$/;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(value)) if (!allowed.includes(key)) fail(`${path}.${key}`, 'is not an element of this structure');
}

function stringList(value: unknown, path: string, max: number): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) return fail(path, 'must be a list of strings');
  if (value.length > max) fail(path, `has more than ${max} entries`);
  return value as string[];
}

function compileAddresses(value: unknown, path: string): AddressRange[] {
  if (!isRecord(value)) return fail(path, 'must be an object with ipv4 and/or ipv6 lists');
  onlyKeys(value, ['ipv4', 'ipv6'], path);
  if (value.ipv4 === undefined && value.ipv6 === undefined) fail(path, 'needs ipv4 or ipv6');
  const ranges: AddressRange[] = [];
  for (const family of ['ipv4', 'ipv6'] as const) {
    if (value[family] === undefined) continue;
    for (const [i, entry] of stringList(value[family], `${path}.${family}`, POLICY_LIMITS.addresses).entries()) {
      const [text, prefixText, extra] = entry.split('/');
      const address = parseAddress(text ?? '');
      const maxPrefix = family === 'ipv4' ? 32 : 128;
      if (address?.family !== family || extra !== undefined || text?.includes('%')) {
        fail(`${path}.${family}[${i}]`, `'${entry}' is not an ${family} address or CIDR range`);
      }
      const prefix = prefixText === undefined ? maxPrefix : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
      if (!(prefix >= 0 && prefix <= maxPrefix)) fail(`${path}.${family}[${i}]`, `'${entry}' has an invalid prefix length`);
      ranges.push({ address: address as ParsedAddress, prefix });
    }
  }
  return ranges;
}

function compileRegion(value: unknown, path: string): NonNullable<CompiledContext['region']> {
  if (!isRecord(value)) return fail(path, 'must be an object with accc or accr');
  onlyKeys(value, ['accc', 'accr'], path);
  // locationRegion is a choice: exactly one of countryCode and circRegion [TS-0004 table 6.3.5.28-1].
  if ((value.accc === undefined) === (value.accr === undefined)) fail(path, 'needs exactly one of accc (country codes) or accr (circular region)');
  if (value.accc !== undefined) {
    const codes = stringList(value.accc, `${path}.accc`, 256);
    if (codes.length === 0) fail(`${path}.accc`, 'must not be empty');
    for (const c of codes) if (!/^[A-Z]{2}$/.test(c)) fail(`${path}.accc`, `'${c}' is not an ISO 3166-1 alpha-2 country code`);
    return { countries: codes };
  }
  const circle = value.accr;
  if (!Array.isArray(circle) || circle.length !== 3 || circle.some((n) => typeof n !== 'number' || !Number.isFinite(n))) {
    return fail(`${path}.accr`, 'must be [latitude, longitude, radius in metres]');
  }
  const [lat, lon, radius] = circle as [number, number, number];
  if (lat < -90 || lat > 90) fail(`${path}.accr`, `latitude ${lat} is outside -90..90`);
  if (lon < -180 || lon > 180) fail(`${path}.accr`, `longitude ${lon} is outside -180..180`);
  if (!(radius > 0)) fail(`${path}.accr`, 'radius must be positive');
  return { circle: [lat, lon, radius] };
}

function compileContext(value: unknown, path: string): CompiledContext {
  if (!isRecord(value)) return fail(path, 'must be an object');
  onlyKeys(value, ['actw', 'acip', 'aclr'], path);
  const ctx: { windows?: Schedule[]; addresses?: AddressRange[]; region?: CompiledContext['region'] } = {};
  if (value.actw !== undefined) {
    ctx.windows = stringList(value.actw, `${path}.actw`, POLICY_LIMITS.windows).map((entry, i) => {
      try {
        return compileSchedule(entry);
      } catch (err) {
        return fail(`${path}.actw[${i}]`, (err as Error).message);
      }
    });
  }
  if (value.acip !== undefined) ctx.addresses = compileAddresses(value.acip, `${path}.acip`);
  if (value.aclr !== undefined) ctx.region = compileRegion(value.aclr, `${path}.aclr`);
  return ctx;
}

function compileObjectDetails(value: unknown, path: string): CompiledObjectDetails {
  if (!isRecord(value)) return fail(path, 'must be an object');
  onlyKeys(value, ['ty', 'spty', 'chty'], path);
  const chty = value.chty;
  if (!Array.isArray(chty) || chty.length === 0 || chty.some((t) => !Number.isSafeInteger(t) || (t as number) < 1)) {
    return fail(`${path}.chty`, 'is mandatory and must be a non-empty list of resource types');
  }
  if (chty.length > POLICY_LIMITS.childTypes) fail(`${path}.chty`, `has more than ${POLICY_LIMITS.childTypes} entries`);
  const details: { ty?: number; spty?: number | string; chty: number[] } = { chty: chty as number[] };
  if (value.ty !== undefined) {
    if (!Number.isSafeInteger(value.ty) || (value.ty as number) < 1) fail(`${path}.ty`, 'must be a resource type number');
    details.ty = value.ty as number;
  }
  if (value.spty !== undefined) {
    if (typeof value.spty !== 'string' && !Number.isSafeInteger(value.spty)) fail(`${path}.spty`, 'must be a specialization type');
    details.spty = value.spty as number | string;
  }
  return details;
}

function compileRule(value: unknown, path: string, self: LocalIdentity): CompiledRule {
  if (!isRecord(value)) return fail(path, 'must be an object');
  onlyKeys(value, ['acor', 'acop', 'acco', 'acaf', 'acod', 'aca'], path);
  const acor = stringList(value.acor, `${path}.acor`, POLICY_LIMITS.originators);
  if (acor.length === 0) fail(`${path}.acor`, 'must name at least one originator');
  const originators = acor.map((entry, i) => {
    try {
      return compileOriginator(entry, self);
    } catch (err) {
      return fail(`${path}.acor[${i}]`, (err as Error).message);
    }
  });
  const acop = value.acop;
  if (!Number.isSafeInteger(acop) || (acop as number) < 1 || (acop as number) > ALL_OPERATIONS) {
    fail(`${path}.acop`, 'must be an operation bitmask from 1 to 63 (CREATE 1, RETRIEVE 2, UPDATE 4, DELETE 8, NOTIFY 16, DISCOVERY 32)');
  }
  const rule: { -readonly [K in keyof CompiledRule]: CompiledRule[K] } = {
    originators,
    operations: acop as number,
    requiresAuthentication: false,
  };
  if (value.acco !== undefined) {
    if (!Array.isArray(value.acco)) fail(`${path}.acco`, 'must be a list of contexts');
    if ((value.acco as unknown[]).length > POLICY_LIMITS.contexts) fail(`${path}.acco`, `has more than ${POLICY_LIMITS.contexts} contexts`);
    rule.contexts = (value.acco as unknown[]).map((c, i) => compileContext(c, `${path}.acco[${i}]`));
  }
  if (value.acaf !== undefined) {
    if (typeof value.acaf !== 'boolean') fail(`${path}.acaf`, 'must be a boolean');
    rule.requiresAuthentication = value.acaf as boolean;
  }
  if (value.acod !== undefined) {
    if (!Array.isArray(value.acod)) fail(`${path}.acod`, 'must be a list of object details');
    if ((value.acod as unknown[]).length > POLICY_LIMITS.objectDetails) fail(`${path}.acod`, `has more than ${POLICY_LIMITS.objectDetails} entries`);
    rule.objectDetails = (value.acod as unknown[]).map((d, i) => compileObjectDetails(d, `${path}.acod[${i}]`));
  }
  if (value.aca !== undefined) {
    const names = stringList(value.aca, `${path}.aca`, POLICY_LIMITS.attributes);
    // An empty list would read as "no attribute" to some and "every attribute" to others (ACME): refuse it.
    if (names.length === 0) fail(`${path}.aca`, 'must name at least one attribute (leave aca out to grant every attribute)');
    for (const name of names) if (!ATTRIBUTE_NAME.test(name)) fail(`${path}.aca`, `'${name}' is not an attribute short name`);
    rule.attributes = names;
  }
  return rule;
}

/** Parses an m2m:setOfAcrs ({acr: [...]}); `minRules` is 1 for selfPrivileges [TS-0004 §7.4.2.2.1]. */
/**
 * `stored`: rules read back from the database, validated when written. They are not held to `conditions`, which
 * came later: a policy written before (more than 256 windows in all) keeps granting what it granted; new and changed
 * ones are held to it.
 */
export function compileRules(value: unknown, name: string, self: LocalIdentity, minRules: number, stored = false): CompiledRule[] {
  if (!isRecord(value)) return fail(name, 'must be a set of access control rules: {"acr": [...]}');
  onlyKeys(value, ['acr'], name);
  const acr = value.acr ?? [];
  if (!Array.isArray(acr)) return fail(`${name}.acr`, 'must be a list of access control rules');
  if (acr.length < minRules) fail(`${name}.acr`, `must contain at least ${minRules} rule`);
  if (acr.length > POLICY_LIMITS.rules) fail(`${name}.acr`, `has more than ${POLICY_LIMITS.rules} rules`);
  const conditions = stored ? 0 : conditionsIn(acr);
  if (conditions > POLICY_LIMITS.conditions) {
    fail(`${name}.acr`, `holds ${conditions} time windows, address ranges and regions in its contexts; at most ${POLICY_LIMITS.conditions} in all`);
  }
  return acr.map((rule, i) => compileRule(rule, `${name}.acr[${i}]`, self));
}

/** Distance on the WGS84 mean sphere, metres (haversine). */
function distanceMetres(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * rad) / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.min(1, Math.sqrt(a)));
}

function regionMatches(region: NonNullable<CompiledContext['region']>, facts: AccessFacts): boolean {
  const loc = facts.location;
  if (!loc) return false; // unknown location: indeterminate, so the context does not admit [TS-0003 §7.1.4]
  if (region.countries) return loc.country !== undefined && region.countries.includes(loc.country);
  if (region.circle && loc.latitude !== undefined && loc.longitude !== undefined) {
    const [lat, lon, radius] = region.circle;
    return distanceMetres(lat, lon, loc.latitude, loc.longitude) <= radius;
  }
  return false;
}

function contextMatches(ctx: CompiledContext, facts: AccessFacts): boolean {
  if (ctx.windows && !ctx.windows.some((w) => scheduleMatches(w, facts.time))) return false;
  if (ctx.addresses) {
    const address = facts.address;
    if (!address || !ctx.addresses.some((range) => inRange(address, range))) return false;
  }
  if (ctx.region && !regionMatches(ctx.region, facts)) return false;
  return true;
}

function objectDetailsMatch(details: readonly CompiledObjectDetails[], facts: AccessFacts): boolean {
  if (facts.operation !== ACCESS_OPERATION.CREATE) return true; // acod governs CREATE only [TS-0003 §7.1.5]
  return details.some(
    (d) =>
      (d.ty === undefined || d.ty === facts.targetType) &&
      (d.spty === undefined || d.spty === facts.specialization) &&
      facts.childType !== undefined &&
      d.chty.includes(facts.childType),
  );
}

/** res_acr(k) of TS-0003 §7.1.5: authentication AND originator AND operation AND context AND object details. */
export function ruleGrants(rule: CompiledRule, facts: AccessFacts): boolean {
  if ((rule.operations & facts.operation) === 0) return false;
  if (rule.requiresAuthentication && !facts.authenticated) return false;
  if (!rule.originators.some((m) => originatorMatches(m, facts.originator, facts.roleIds, facts.groups))) return false;
  if (rule.contexts && rule.contexts.length > 0 && !rule.contexts.some((c) => contextMatches(c, facts))) return false;
  if (rule.objectDetails && rule.objectDetails.length > 0 && !objectDetailsMatch(rule.objectDetails, facts)) return false;
  return true;
}

/** Index of the first rule that permits on every attribute (permit-overrides), or -1. */
export function firstGrantingRule(rules: readonly CompiledRule[], facts: AccessFacts): number {
  return rules.findIndex((rule) => rule.attributes === undefined && ruleGrants(rule, facts));
}

/** The rules that permit the operation on some attributes only (aca), by index. */
export function attributeGrantingRules(rules: readonly CompiledRule[], facts: AccessFacts): number[] {
  const found: number[] = [];
  rules.forEach((rule, i) => {
    if (rule.attributes !== undefined && ruleGrants(rule, facts)) found.push(i);
  });
  return found;
}
