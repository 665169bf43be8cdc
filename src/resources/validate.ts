// The one table-driven validator: presence per operation, data types and lengths, from the type's table.
import { badRequest, quotedName } from '../primitive/errors.js';
import { parseDuration, parseTimestamp } from '../primitive/identifiers.js';
import type { AttributeSpec, AttributeTable } from './define.js';

export const MAX_STRING_LENGTH = 65_536;
export const MAX_LIST_LENGTH = 1_024;

export type ValidatedOperation = 'create' | 'update';

/**
 * A duration in milliseconds, from what the XSD types xs:duration ('PT1S', 'P1DT2H') or from a number of
 * milliseconds (what Warden took before, and what a relative time is elsewhere in oneM2M). Undefined when it is
 * neither. The one reading of a duration attribute for every type, and for whoever acts on the stored value.
 */
export function durationMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  return typeof value === 'string' ? parseDuration(value) : undefined;
}

/**
 * Points of access (poa) of an AE or a CSE: never the console's own scheme. console: is the web console's route to a
 * live view (console/live.ts), and a NOTIFY re-targeted to a point of access naming one would reach that view by
 * another way than the subscription it was made for.
 */
export function checkPointsOfAccess(value: unknown): string | undefined {
  return Array.isArray(value) && value.some((p) => typeof p === 'string' && schemeOf(p) === 'console:') ? "may not name the console's own scheme (console:)" : undefined;
}

/** The scheme a URL parser reads in `text` (it drops surrounding spaces, tabs and newlines inside); '' when none. */
function schemeOf(text: string): string {
  try {
    return new URL(text).protocol.toLowerCase();
  } catch {
    return '';
  }
}

/** Validation of a duration attribute or member within [min, max] ms; returns a problem or undefined. */
export function checkDuration(value: unknown, minMs = 0, maxMs = Number.MAX_SAFE_INTEGER): string | undefined {
  const ms = durationMs(value);
  if (ms === undefined) return "must be an xs:duration such as 'PT1S', or a number of milliseconds";
  if (ms < minMs || ms > maxMs) return `must be from ${minMs} to ${maxMs} milliseconds`;
  return undefined;
}

/**
 * Checks request content against a type's attribute table and returns the content the operation takes. Throws
 * 4000 naming the attribute and the problem.
 *
 * A null value: on UPDATE it deletes an optional attribute (TS-0004 §7.3.3.7), so it is accepted there. On CREATE
 * TS-0004 §7.3.3.3 gives null a meaning for the creator alone (cr: null asks the CSE to set it, kept here through
 * the attribute's own check); for any other attribute it is silent. As ACME does (its Validator takes a null as
 * absent before the presence checks): an optional attribute given as null is absent, and is dropped from the
 * returned content (ACME's announcements carry `"et": null` for an original without one); a mandatory or
 * not-permitted one given as null is 4000, as when it is missing or present.
 */
export function validateAttributes(typeName: string, table: AttributeTable, attrs: Record<string, unknown>, op: ValidatedOperation): Record<string, unknown> {
  let absent: string[] | undefined;
  for (const [name, value] of Object.entries(attrs)) {
    // Own properties only: a key such as '__proto__' must never reach Object.prototype.
    const spec = Object.hasOwn(table, name) ? table[name] : undefined;
    if (!spec) throw badRequest(`attribute '${quotedName(name)}' is not defined for ${typeName}`);
    const presence = op === 'create' ? spec.create : spec.update;
    if (presence === 'NP') throw badRequest(`attribute '${quotedName(name)}' is not permitted in ${op.toUpperCase()} of ${typeName}`);
    if (value === null) {
      if (op === 'update' && presence !== 'M') continue;
      if (op === 'create' && presence === 'M') throw badRequest(`mandatory attribute '${name}' must not be null in CREATE of ${typeName}`);
      if (spec.check && spec.check(null) === undefined) continue;
      if (op === 'create') {
        (absent ??= []).push(name);
        continue;
      }
      throw badRequest(`attribute '${name}' must not be null`);
    }
    const problem = checkValue(spec, value);
    if (problem) throw badRequest(`attribute '${name}' ${problem}`);
  }
  if (op === 'create') {
    for (const [name, spec] of Object.entries(table)) {
      if (spec.create === 'M' && attrs[name] === undefined) throw badRequest(`mandatory attribute '${name}' is missing in CREATE of ${typeName}`);
    }
  }
  if (!absent) return attrs;
  // A copy: the request's own content stays as it came (it may be kept, as a <request>'s, or forwarded).
  const taken = { ...attrs };
  for (const name of absent) delete taken[name];
  return taken;
}

/** One value against one attribute spec (its type and its own check): a problem, or undefined. */
export function checkValue(spec: AttributeSpec, value: unknown): string | undefined {
  const basic = checkType(spec, value);
  if (basic) return basic;
  return spec.check?.(value);
}

function checkType(spec: AttributeSpec, value: unknown): string | undefined {
  const maxLength = spec.maxLength ?? (spec.type.endsWith('List') ? MAX_LIST_LENGTH : MAX_STRING_LENGTH);
  switch (spec.type) {
    case 'string':
    case 'anyURI':
      if (typeof value !== 'string') return 'must be a string';
      if (value.length > maxLength) return `is longer than ${maxLength} characters`;
      return undefined;
    case 'timestamp':
      if (typeof value !== 'string' || parseTimestamp(value) === undefined) return 'must be a timestamp like 20261125T120000';
      return undefined;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be a boolean';
    case 'integer':
      return Number.isSafeInteger(value) ? undefined : 'must be an integer';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'must be a number';
    case 'nonNegInteger':
      return Number.isSafeInteger(value) && (value as number) >= 0 ? undefined : 'must be a non-negative integer';
    case 'positiveInteger':
      return Number.isSafeInteger(value) && (value as number) > 0 ? undefined : 'must be a positive integer';
    case 'enum':
      if (!Number.isSafeInteger(value)) return 'must be an integer';
      return !spec.values || spec.values.includes(value as number) ? undefined : `must be one of ${spec.values.join(', ')}`;
    case 'stringList':
    case 'anyURIList':
      if (!Array.isArray(value)) return 'must be a list of strings';
      if (value.length > maxLength) return `has more than ${maxLength} entries`;
      for (const item of value) {
        if (typeof item !== 'string') return 'must be a list of strings';
        if (item.length > MAX_STRING_LENGTH) return `has an entry longer than ${MAX_STRING_LENGTH} characters`;
      }
      return undefined;
    case 'list':
      if (!Array.isArray(value)) return 'must be a list';
      return value.length > maxLength ? `has more than ${maxLength} entries` : undefined;
    case 'enumList':
      if (!Array.isArray(value)) return 'must be a list of integers';
      if (value.length > maxLength) return `has more than ${maxLength} entries`;
      for (const item of value) {
        if (!Number.isSafeInteger(item)) return 'must be a list of integers';
        if (spec.values && !spec.values.includes(item as number)) return `contains ${String(item)}, not one of ${spec.values.join(', ')}`;
      }
      return undefined;
    case 'duration':
      return checkDuration(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value) ? undefined : 'must be an object';
    case 'any':
      return undefined;
  }
}
