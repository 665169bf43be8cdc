// Universal and common attributes (TS-0001 §9.6.1.3), shared by every type's table.
import type { AttributeSpec } from './define.js';
import { checkLocation } from './geometry.js';

const readOnly = (type: AttributeSpec['type']): AttributeSpec => ({ type, create: 'NP', update: 'NP' });

export const UNIVERSAL = {
  ty: readOnly('enum'),
  ri: readOnly('string'),
  rn: { type: 'string', create: 'O', update: 'NP' },
  pi: readOnly('string'),
  ct: readOnly('timestamp'),
  lt: readOnly('timestamp'),
} as const satisfies Record<string, AttributeSpec>;

export const EXPIRATION = { et: { type: 'timestamp', create: 'O', update: 'O' } } as const satisfies Record<string, AttributeSpec>;
/**
 * labels is a list of xs:token [TS-0004 §6.3.3, m2m:labels]: no tab, line feed or carriage return, no leading or
 * trailing space, no two spaces in a row. xs:token allows an empty one, which no discovery can name; like ACME,
 * Warden refuses it.
 */
const XS_TOKEN = /^[^\t\n\r ](?:[^\t\n\r ]| (?! ))*(?<! )$/u;
function checkLabels(value: unknown): string | undefined {
  if (!Array.isArray(value)) return 'must be a list of labels';
  const bad: unknown = value.find((label) => typeof label === 'string' && !XS_TOKEN.test(label));
  return bad === undefined ? undefined : `contains ${JSON.stringify(bad)}, which is no token (empty, or with tabs, line breaks, or leading, trailing or double spaces)`;
}
export const LABELS = { lbl: { type: 'stringList', create: 'O', update: 'O', check: checkLabels } } as const satisfies Record<string, AttributeSpec>;
export const ACCESS_CONTROL = {
  // A request pays for every linked policy, so a resource may link only a few.
  acpi: { type: 'anyURIList', create: 'O', update: 'O', maxLength: 16 },
  cstn: { type: 'anyURI', create: 'O', update: 'O' },
  // Few, for the same reason: a denied request may consult each linked <dynamicAuthorizationConsultation>.
  daci: { type: 'anyURIList', create: 'O', update: 'O', maxLength: 8 },
} as const satisfies Record<string, AttributeSpec>;
/** creator: the request may only name it (with null); the CSE fills in the originator [TS-0001 §9.6.1.3.2]. */
export const CREATOR = { cr: { type: 'any', create: 'O', update: 'NP', check: (v) => (v === null ? undefined : 'must be null in a request: the CSE sets it') } } as const satisfies Record<string, AttributeSpec>;
/** location (Release 4): a geometry that geoQuery filter criteria test [TS-0004 §7.3.3.17]. */
export const LOCATION = { loc: { type: 'object', create: 'O', update: 'O', check: checkLocation } } as const satisfies Record<string, AttributeSpec>;
/** A contentInstance's location is fixed with it, like the rest of the instance. */
export const FIXED_LOCATION = { loc: { ...LOCATION.loc, update: 'NP' } } as const satisfies Record<string, AttributeSpec>;
export const STATE_TAG = { st: readOnly('nonNegInteger') } as const satisfies Record<string, AttributeSpec>;

/** Internal record of who created a resource, for the default access policy [TS-0001 §9.6.1.3.2]. */
export const CREATOR_KEY = '__creator';
/**
 * Beside it, for a resource an AE registered here created outside its own subtree (which its deregistration does not
 * take away): the seq of that registration. The default policy grants the creator only while it stands, not whoever
 * registers the same AE-ID later (security/authorize.ts).
 */
export const CREATOR_REGISTRATION_KEY = '__creatorSeq';

/** Universal attributes live in store columns; the document holds everything else. */
export const COLUMN_ATTRIBUTES = new Set(['ri', 'rn', 'pi', 'ty', 'ct', 'lt', 'et']);
