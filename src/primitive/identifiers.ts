// Resource identifiers, addressing forms (TS-0001 §7.2) and oneM2M timestamps (TS-0004 §6.3.3: ISO 8601 basic).
import { randomBytes } from 'node:crypto';
import { badRequest } from './errors.js';

/** Virtual child resources that are addressed by a reserved name under their parent. */
export const VIRTUAL_NAMES = ['la', 'ol', 'pcu', 'fopt', 'ntsr'] as const;
export type VirtualName = (typeof VIRTUAL_NAMES)[number];

/** Characters a resourceName may use: URI unreserved characters (RFC 3986 §2.3). */
const RESOURCE_NAME = /^[A-Za-z0-9\-._~]+$/;
export const MAX_NAME_LENGTH = 255;
export const MAX_PATH_SEGMENTS = 64;

export function checkResourceName(rn: string): string | undefined {
  if (rn.length === 0) return 'must not be empty';
  if (rn.length > MAX_NAME_LENGTH) return `must be at most ${MAX_NAME_LENGTH} characters`;
  if (!RESOURCE_NAME.test(rn)) return 'may only contain letters, digits and - . _ ~';
  if (rn === '.' || rn === '..') return 'must not be a path step';
  if ((VIRTUAL_NAMES as readonly string[]).includes(rn)) return `'${rn}' is reserved for a virtual resource`;
  return undefined;
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Random bytes drawn from the system generator ahead of use, a few kilobytes at a time: one call per identifier
 * cost more than everything else of making it (as crypto.randomUUID does with its own cache). The bytes name
 * resources and requests; they are no secret.
 */
const RANDOM_POOL_BYTES = 4_096;
let randomPool = Buffer.alloc(0);
let randomPoolAt = 0;

function randomRun(length: number): Buffer {
  if (randomPoolAt + length > randomPool.length) {
    randomPool = randomBytes(Math.max(RANDOM_POOL_BYTES, length));
    randomPoolAt = 0;
  }
  const run = randomPool.subarray(randomPoolAt, randomPoolAt + length);
  randomPoolAt += length;
  return run;
}

/** A random identifier suffix; 16 base-36 characters carry ~82 bits, enough to never collide in practice. */
export function randomIdSuffix(length = 16): string {
  const bytes = randomRun(length);
  let out = '';
  for (const b of bytes) out += ID_ALPHABET[b % ID_ALPHABET.length];
  return out;
}

/**
 * A new resource's identifier: its type's short name, the creation time, then randomness:
 * `cin` + 9 base-36 characters of milliseconds + 10 random characters (~51 bits, never colliding in practice).
 * Time first, so identifiers (and the default resourceName, which is the identifier) sort by creation: a
 * container's new instance is written at the end of the ri and srn indexes and its oldest is dropped from their
 * start, where a random identifier touches a random page of each index twice per ingest. At a million instances
 * in one container that was about 20–35 % more CPU per ingest (issue #18). It reveals the creation time, which the
 * resource's ct carries anyway. Fixed width, and '0'-'9' < 'a'-'z' as in ASCII, so text order is time order.
 */
export function newResourceId(shortType: string, nowMs: number): string {
  return `${shortType}${Math.max(0, Math.floor(nowMs)).toString(36).padStart(9, '0')}${randomIdSuffix(10)}`;
}

/**
 * Whether `id` has the shape of an identifier this CSE gave a resource of `shortType`: newResourceId's (19
 * characters after the type), or the 16 random characters of identifiers given before it (still stored).
 */
export function hasAssignedIdShape(id: string, shortType: string): boolean {
  if (!id.startsWith(shortType)) return false;
  const rest = id.slice(shortType.length);
  return (rest.length === 19 || rest.length === 16) && /^[a-z0-9]+$/.test(rest);
}

/** Where a request's `to` points, after the CSE-ID / SP-ID prefixes are checked. */
export type ParsedTarget =
  /** `suffix`: what follows a group's fopt (`grp/fopt/la` → ['la']), addressed on every member. */
  | { kind: 'local'; structured: boolean; segments: string[]; virtual?: VirtualName; suffix?: string[] }
  | { kind: 'remote'; cseId: string; spId?: string };

export interface LocalIdentity {
  cseId: string;
  cseRn: string;
  spId: string;
}

/**
 * Splits `to` into a local target or a remote CSE. Forms (TS-0001 §9.3.1):
 * CSE-relative `cse-in/ae/cnt` or `ri`; SP-relative `/id-in/...`; absolute `//sp/id-in/...`.
 * Structured addresses start with the CSEBase name (or `-`, its shorthand).
 */
export function parseTarget(to: string, self: LocalIdentity): ParsedTarget {
  if (to.length === 0) throw badRequest('target (to) is missing');
  if (to.length > 4096) throw badRequest('target (to) is longer than 4096 characters');
  let rest = to;
  if (rest.startsWith('//')) {
    const [spId, cseId, ...tail] = rest.slice(2).split('/');
    if (!spId || !cseId) throw badRequest(`target '${to}' is not a valid absolute address`);
    // An M2M-SP-ID is a domain name: compared without case, as routing (remoteCses.ts) and certificates do.
    if (spId.toLowerCase() !== self.spId.toLowerCase() || cseId !== self.cseId) return { kind: 'remote', cseId: `/${cseId}`, spId };
    if (tail.length === 0) throw badRequest(`target '${to}' is an absolute CSE-ID, not a resource: add the CSEBase name or a resource ID`);
    rest = tail.join('/');
  } else if (rest.startsWith('/')) {
    const [cseId, ...tail] = rest.slice(1).split('/');
    if (!cseId) throw badRequest(`target '${to}' is not a valid SP-relative address`);
    if (cseId !== self.cseId) return { kind: 'remote', cseId: `/${cseId}` };
    // An SP-relative-Resource-ID is {SP-relative-CSE-ID}/{CSE-relative-Resource-ID} [TS-0001 table 7.2-1]: the
    // CSE-ID alone names the CSE, not a resource (ACME answers 4000 too).
    if (tail.length === 0) throw badRequest(`target '${to}' is an SP-relative CSE-ID, not a resource: add the CSEBase name or a resource ID`);
    rest = tail.join('/');
  }
  const segments = rest.split('/');
  if (segments.length > MAX_PATH_SEGMENTS) throw badRequest(`target has more than ${MAX_PATH_SEGMENTS} path segments`);
  if (rest === '') return { kind: 'local', structured: true, segments: [self.cseRn] };
  for (const s of segments) {
    if (s === '') throw badRequest(`target '${to}' has an empty path segment`);
    if (s === '.' || s === '..') throw badRequest(`target '${to}' contains a path traversal step`);
    if (!RESOURCE_NAME.test(s)) throw badRequest(`target '${to}' contains invalid characters`);
  }
  const fanOut = segments.indexOf('fopt');
  if (fanOut > 0) {
    const suffix = segments.slice(fanOut + 1);
    const groupSegments = segments.slice(0, fanOut);
    const structuredGroup = groupSegments[0] === self.cseRn || groupSegments[0] === '-';
    if (groupSegments[0] === '-') groupSegments[0] = self.cseRn;
    return { kind: 'local', structured: structuredGroup, segments: groupSegments, virtual: 'fopt', suffix };
  }
  let virtual: VirtualName | undefined;
  const last = segments[segments.length - 1] as string;
  if (segments.length > 1 && (VIRTUAL_NAMES as readonly string[]).includes(last)) {
    virtual = last as VirtualName;
    segments.pop();
  }
  const first = segments[0] as string;
  const structured = first === self.cseRn || first === '-';
  if (first === '-') segments[0] = self.cseRn;
  return virtual ? { kind: 'local', structured, segments, virtual } : { kind: 'local', structured, segments };
}

/** Whether a parsed target is this CSE's CSEBase: its name (structured) or its resource ID, the CSE-ID (unstructured). */
export function isCseBaseTarget(target: ParsedTarget, self: LocalIdentity): boolean {
  if (target.kind !== 'local' || target.virtual !== undefined || target.segments.length !== 1) return false;
  return target.structured ? target.segments[0] === self.cseRn : target.segments[0] === self.cseId;
}

/** oneM2M timestamp, basic ISO 8601 with microsecond fraction: 20261125T131327,123000. */
export function formatTimestamp(ms: number): string {
  // Every response carries one (ot) and most representations one more (et, usually in another second): the part up
  // to the second is kept for the last two seconds asked for.
  const second = Math.floor(ms / 1000);
  let prefix: string;
  if (second === recentSeconds[0]) prefix = recentPrefixes[0];
  else if (second === recentSeconds[1]) prefix = recentPrefixes[1];
  else {
    if (!Number.isFinite(second)) return formatFully(ms);
    // Whatever computed it (a time plus a duration), never a five-digit or negative year.
    if (ms < YEAR_ZERO || ms >= YEAR_TEN_THOUSAND) return formatTimestamp(withinTimestamps(ms));
    prefix = formatFully(second * 1000).slice(0, -7);
    const slot = recentSeconds.next;
    recentSeconds[slot] = second;
    recentPrefixes[slot] = prefix;
    recentSeconds.next = slot === 0 ? 1 : 0;
  }
  const millis = Math.floor(ms) - second * 1000;
  return `${prefix},${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}000`;
}

const recentSeconds: { 0: number; 1: number; next: 0 | 1 } = { 0: NaN, 1: NaN, next: 0 };
const recentPrefixes: { 0: string; 1: string } = { 0: '', 1: '' };

function formatFully(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return (
    `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}T` +
    `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())},${p(d.getUTCMilliseconds(), 3)}000`
  );
}

const YEAR_ZERO = Date.UTC(2000, 0, 1) - 2000 * 365.2425 * 86_400_000;
const YEAR_TEN_THOUSAND = Date.UTC(2000, 0, 1) + 8000 * 365.2425 * 86_400_000;
const TIMESTAMP = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * m2m:absRelTimestamp [TS-0004 §6.3.3]: an absolute timestamp, or a number of milliseconds relative to
 * `now`. Undefined when it is neither.
 */
export function parseAbsRelTimestamp(value: string, now: number): number | undefined {
  if (/^-?\d{1,15}$/.test(value)) return withinTimestamps(now + Number(value));
  const duration = parseDuration(value);
  if (duration !== undefined) return withinTimestamps(now + duration);
  return parseTimestamp(value);
}

/**
 * A relative time (up to 15 digits of ms, or 9999 years) can lead outside the instants a timestamp can name, years
 * 0000-9999 in UTC (four digits of year: timestamps are compared as text, and a fifth digit inverts the order). It
 * is held to the nearest one: as far in the future, or in the past, as a timestamp can say.
 */
function withinTimestamps(ms: number): number {
  return ms < YEAR_ZERO ? YEAR_ZERO : ms >= YEAR_TEN_THOUSAND ? YEAR_TEN_THOUSAND - 1 : ms;
}

const DURATION = /^P(?:(\d{1,4})Y)?(?:(\d{1,5})M)?(?:(\d{1,6})W)?(?:(\d{1,7})D)?(?:T(?:(\d{1,8})H)?(?:(\d{1,9})M)?(?:(\d{1,10}(?:\.\d{1,6})?)S)?)?$/;

/**
 * An ISO 8601 duration (xs:duration, e.g. PT30S, P1DT2H) in ms; resultPersistence is one, and open CSEs (ACME)
 * accept one wherever a relative time is allowed. Years and months count 365 and 30 days.
 */
export function parseDuration(value: string): number | undefined {
  const m = DURATION.exec(value);
  if (!m || value === 'P' || value.endsWith('T')) return undefined;
  const [, y, mo, w, d, h, mi, s] = m.map((part) => (part === undefined ? 0 : Number(part)));
  return ((((((y ?? 0) * 365 + (mo ?? 0) * 30 + (w ?? 0) * 7 + (d ?? 0)) * 24 + (h ?? 0)) * 60 + (mi ?? 0)) * 60 + (s ?? 0)) * 1000);
}

/** Parses a oneM2M timestamp (UTC unless an offset is given); undefined when it is not one. */
export function parseTimestamp(value: string): number | undefined {
  const m = TIMESTAMP.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999.
  const date = new Date(Date.UTC(2000, Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0));
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  const ms = date.getTime();
  if (Number.isNaN(ms)) return undefined;
  if (date.getUTCFullYear() !== Number(y) || date.getUTCMonth() !== Number(mo) - 1 || date.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  if (!zone || zone === 'Z') return ms;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2, 4));
  // ISO 8601 offsets: hours 00-23 (real zones reach 14), minutes 00-59; +99:99 is no offset.
  if (hours > 23 || minutes > 59) return undefined;
  const utc = ms - sign * (hours * 60 + minutes) * 60_000;
  // Four digits of year in UTC too: 00000101T000000+01:00 would be year -1 (compared as text, and not writable back).
  return utc < YEAR_ZERO || utc >= YEAR_TEN_THOUSAND ? undefined : utc;
}
