// <request> (ty 17, TS-0001 §9.6.12): the state of a non-blocking request, created by the CSE itself and
// read by the originator until its result persistence ends.
import { EXPIRATION, LABELS, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributeSpec } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';

/** requestStatus [TS-0004 §6.3.4.2.15]. */
export const REQUEST_STATUS = { COMPLETED: 1, FAILED: 2, PENDING: 3, FORWARDED: 4, PARTIALLY_COMPLETED: 5 } as const;

const readOnly = (type: AttributeSpec['type']): AttributeSpec => ({ type, create: 'NP', update: 'NP' });

const attributes = {
  ...UNIVERSAL,
  ...EXPIRATION,
  ...LABELS,
  op: readOnly('enum'),
  tg: readOnly('anyURI'),
  org: readOnly('anyURI'),
  rid: readOnly('string'),
  mi: readOnly('object'),
  pc: readOnly('any'),
  rs: readOnly('enum'),
  ors: readOnly('object'),
} as const satisfies Record<string, AttributeSpec>;

export const requestType = defineResourceType({
  ty: RESOURCE_TYPE.request,
  typeName: 'm2m:req',
  attributes,
  childTypes: [],
  // Only the CSE creates it [TS-0004 §7.4.12]; the originator reads and deletes it.
  creatable: false,
  updatable: false,
  deletable: true,
  hasAcpi: true,
  hooks: {},
});
