// <dependency> (ty 66, Release 4; facts from ACME's data files, see docs/conformance.md): a condition on a
// referenced resource (rri) that gates its parent <action> once the action lists it in `dep`. A sufficient one
// (sfc true) that holds lets the action run by itself; otherwise every necessary one (sfc false) must hold.
import { ACCESS_CONTROL, CREATOR, EXPIRATION, LABELS, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributeSpec } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { ACCESS_OPERATION } from '../../security/acp.js';
import { badRequest } from '../../primitive/errors.js';
import { checkCriteriaShape } from '../../actions/criteria.js';
import { checkCriteriaOn, usableResource } from '../../actions/references.js';
import { announceAttributes } from '../announceable.js';

const attributes = {
  ...UNIVERSAL,
  ...announceAttributes(RESOURCE_TYPE.dependency),
  ...EXPIRATION,
  ...LABELS,
  ...ACCESS_CONTROL,
  ...CREATOR,
  sfc: { type: 'boolean', create: 'M', update: 'O' },
  evc: { type: 'object', create: 'M', update: 'O', check: checkCriteriaShape },
  rri: { type: 'anyURI', create: 'M', update: 'O', maxLength: 4096 },
} as const satisfies Record<string, AttributeSpec>;

export const dependencyType = defineResourceType({
  ty: RESOURCE_TYPE.dependency,
  typeName: 'm2m:depr',
  attributes,
  childTypes: [RESOURCE_TYPE.subscription],
  creatable: true,
  updatable: true,
  deletable: true,
  hasAcpi: true,
  hooks: {
    async prepare(ctx, content, operation, target) {
      for (const name of ['sfc', 'evc', 'rri'] as const) {
        if (content[name] === null) throw badRequest(`attribute '${name}' cannot be removed from a dependency`);
      }
      if (operation === 'update' && !('rri' in content) && !('evc' in content)) return;
      // The writer must be able to read what the dependency watches; the CSE reads it as the action's creator.
      const rri = content.rri ?? target.doc.rri;
      const evc = content.evc ?? target.doc.evc;
      checkCriteriaOn(ctx, evc, await usableResource(ctx, rri, 'rri', ACCESS_OPERATION.RETRIEVE));
    },
  },
});
