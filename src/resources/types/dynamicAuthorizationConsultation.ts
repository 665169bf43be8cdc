// <dynamicAuthorizationConsultation> (ty 34, TS-0001 §9.6.40): where a hosting CSE asks a dynamic authorization
// server (DAS) for privileges after its access control policies denied a request. Resources link it through
// dynamicAuthorizationConsultationIDs (daci); the consultation itself is security/dynamicAuthorization.ts.
import { ACCESS_CONTROL, EXPIRATION, LABELS, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributeSpec } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { badRequest } from '../../primitive/errors.js';

/** A DAS is asked at most at this many points of access per consultation: each may cost a bounded wait. */
export const MAX_DAS_POINTS_OF_ACCESS = 8;

const attributes = {
  ...UNIVERSAL,
  ...EXPIRATION,
  ...LABELS,
  ...ACCESS_CONTROL,
  dae: { type: 'boolean', create: 'M', update: 'O' },
  // m2m:poaList, multiplicity 1 (L) [TS-0001 table 9.6.40-2]: an empty list names no DAS. Entries are not required
  // to be URLs here (an AE-ID or CSE-ID names a DAS too, and the community suite writes 'aURL'); an entry that
  // cannot be reached grants nothing when consulted.
  dap: {
    type: 'anyURIList',
    create: 'M',
    update: 'O',
    maxLength: MAX_DAS_POINTS_OF_ACCESS,
    check: (v) => (Array.isArray(v) && v.length > 0 ? undefined : 'must name at least one point of access of a dynamic authorization server'),
  },
  dal: { type: 'timestamp', create: 'O', update: 'O' },
} as const satisfies Record<string, AttributeSpec>;

export const dynamicAuthorizationConsultationType = defineResourceType({
  ty: RESOURCE_TYPE.dynamicAuthorizationConsultation,
  typeName: 'm2m:dac',
  attributes,
  childTypes: [RESOURCE_TYPE.subscription],
  creatable: true,
  updatable: true,
  deletable: true,
  hasAcpi: true,
  hooks: {
    beforeUpdate(_ctx, _resource, changes) {
      // dae and dap have multiplicity 1: an UPDATE may change them, never remove them [TS-0001 table 9.6.40-2].
      for (const name of ['dae', 'dap']) if (changes[name] === null) throw badRequest(`attribute '${name}' is mandatory and cannot be removed`);
    },
  },
});
