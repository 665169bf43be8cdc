// <pollingChannel> (ty 15, TS-0001 §9.6.21): where notifications for an AE that cannot be reached (rr=false)
// wait until the AE fetches them through the virtual pollingChannelURI (pcu). Only its AE may use it.
import { EXPIRATION, LABELS, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributeSpec } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { CseError, badRequest } from '../../primitive/errors.js';
import { RSC } from '../../primitive/rsc.js';

const attributes = {
  ...UNIVERSAL,
  ...EXPIRATION,
  ...LABELS,
  rqag: { type: 'boolean', create: 'O', update: 'O' },
} as const satisfies Record<string, AttributeSpec>;

export const pollingChannelType = defineResourceType({
  ty: RESOURCE_TYPE.pollingChannel,
  typeName: 'm2m:pch',
  attributes,
  childTypes: [],
  virtualChildren: ['pcu'],
  creatable: true,
  updatable: true,
  deletable: true,
  hasAcpi: false,
  hooks: {
    async beforeCreate(ctx, resource, parent) {
      // One polling channel per AE, created by that AE [TS-0004 §7.4.21.2.1].
      if (ctx.originator !== parent.ri) throw new CseError(RSC.ORIGINATOR_HAS_NO_PRIVILEGE, 'only the AE itself may create its polling channel');
      const existing = await ctx.store.children(parent.ri, { ty: RESOURCE_TYPE.pollingChannel, limit: 1 });
      // An <AE> has at most one <pollingChannel> child [TS-0004 table 7.4.5.1-4, multiplicity 0..1]. TS-0004 names no
      // code for a second one; like ACME, Warden answers 4000 (the request breaks a rule of the resource type).
      if (existing.length > 0) throw badRequest(`the AE already has a polling channel ('${existing[0]?.rn ?? ''}'); an AE may have one`);
      resource.owner = parent.ri;
    },
  },
});
