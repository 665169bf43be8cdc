// <contentInstance> (ty 4, TS-0001 §9.6.7; TS-0004 §7.4.7): immutable data under a container.
import { CREATOR, EXPIRATION, LABELS, FIXED_LOCATION, STATE_TAG, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributesOf, type AttributeSpec } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { nextStateTag } from './container.js';
import { admittedContentSize, boundByMaxInstanceAge } from '../instances.js';
import { announceAttributes } from '../announceable.js';

/** A media type's type or subtype [RFC 6838 §4.2 restricted-name]. */
const MEDIA_NAME = "[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}";
/**
 * m2m:contentInfo [TS-0004 Table 6.3.3-1]: a media type (with optional parameters), ':' an m2m:encodingType
 * (0-2, Table 6.3.4.2.28-1) and optionally ':' an m2m:contentSecurity (0-5, Table 6.3.4.2.38-1).
 */
const CONTENT_INFO = new RegExp(`^${MEDIA_NAME}/${MEDIA_NAME}(?:\\s*;\\s*${MEDIA_NAME}=(?:[^;:"\\s]+|"[^";:]*"))*:[0-2](?::[0-5])?$`);

export function checkContentInfo(value: unknown): string | undefined {
  return typeof value === 'string' && CONTENT_INFO.test(value) ? undefined : "must be '<type>/<subtype>:<encodingType 0-2>[:<contentSecurity 0-5>]', e.g. 'text/plain:0'";
}

const MAX_CONTENT_REFS = 64;

/** contentRef: a list of m2m:contentRef, each a name (NCName) and the URI of a resource the content refers to. */
function checkContentRefs(value: unknown): string | undefined {
  if (!Array.isArray(value) || value.length === 0) return 'must be a non-empty list of {nm, uri}';
  if (value.length > MAX_CONTENT_REFS) return `may hold at most ${MAX_CONTENT_REFS} entries`;
  for (const ref of value) {
    if (typeof ref !== 'object' || ref === null || Array.isArray(ref)) return 'must be a list of {nm, uri}';
    const { nm, uri, ...rest } = ref as Record<string, unknown>;
    if (Object.keys(rest).length > 0) return `entries hold only nm and uri, not '${Object.keys(rest).join("', '")}'`;
    if (typeof nm !== 'string' || !NCNAME.test(nm)) return 'entries need nm, a name (NCName)';
    if (typeof uri !== 'string' || uri.length === 0 || uri.length > 2048) return 'entries need uri, a URI';
  }
  return undefined;
}

/** xs:NCName, restricted to ASCII. */
const NCNAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,254}$/;

const attributes = {
  ...UNIVERSAL,
  ...announceAttributes(RESOURCE_TYPE.contentInstance),
  ...EXPIRATION,
  ...LABELS,
  ...FIXED_LOCATION,
  ...CREATOR,
  ...STATE_TAG,
  cnf: { type: 'string', create: 'O', update: 'NP', maxLength: 1024, check: checkContentInfo },
  cs: { type: 'nonNegInteger', create: 'NP', update: 'NP' },
  con: { type: 'any', create: 'M', update: 'NP' },
  or: { type: 'anyURI', create: 'O', update: 'NP' },
  dgt: { type: 'timestamp', create: 'O', update: 'NP' },
  // deletionCnt and contentRef (Release 4): not in the V3 texts; taken from ACME's reference data
  // (attributePolicies.ap: dcnt positiveInteger, conr list of m2m:contentRef {nm, uri}; both O on create, NP on update).
  dcnt: { type: 'positiveInteger', create: 'O', update: 'NP' },
  conr: { type: 'any', create: 'O', update: 'NP', check: checkContentRefs },
} as const satisfies Record<string, AttributeSpec>;

export type ContentInstanceAttributes = AttributesOf<typeof attributes>;

export const contentInstanceType = defineResourceType({
  ty: RESOURCE_TYPE.contentInstance,
  typeName: 'm2m:cin',
  attributes,
  childTypes: [RESOURCE_TYPE.semanticDescriptor],
  creatable: true,
  updatable: false,
  deletable: true,
  hasAcpi: false,
  hooks: {
    beforeCreate(ctx, resource, container) {
      resource.doc.cs = admittedContentSize(ctx, resource, container, "container's");
      resource.doc.st = nextStateTag(container);
      boundByMaxInstanceAge(ctx, resource, container);
    },
  },
});
