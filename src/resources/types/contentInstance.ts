// <contentInstance> (ty 4, TS-0001 §9.6.7; TS-0004 §7.4.7): immutable data under a container.
import { CREATOR, EXPIRATION, LABELS, FIXED_LOCATION, STATE_TAG, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributesOf, type AttributeSpec } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { nextStateTag, type ContainerAttributes } from './container.js';
import { CseError, badRequest } from '../../primitive/errors.js';
import { RSC } from '../../primitive/rsc.js';

const attributes = {
  ...UNIVERSAL,
  ...EXPIRATION,
  ...LABELS,
  ...FIXED_LOCATION,
  ...CREATOR,
  ...STATE_TAG,
  cnf: { type: 'string', create: 'O', update: 'NP', maxLength: 1024 },
  cs: { type: 'nonNegInteger', create: 'NP', update: 'NP' },
  con: { type: 'any', create: 'M', update: 'NP' },
  or: { type: 'anyURI', create: 'O', update: 'NP' },
  dgt: { type: 'timestamp', create: 'O', update: 'NP' },
} as const satisfies Record<string, AttributeSpec>;

export type ContentInstanceAttributes = AttributesOf<typeof attributes>;

/** contentSize is the size of con in bytes [TS-0001 §9.6.7]: UTF-8 for strings, the JSON text otherwise. */
export function contentSize(con: unknown): number {
  return Buffer.byteLength(typeof con === 'string' ? con : JSON.stringify(con) ?? '', 'utf8');
}

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
      const parentAttrs = container.doc as ContainerAttributes;
      const cs = contentSize(resource.doc.con);
      if (parentAttrs.mbs !== undefined && cs > parentAttrs.mbs) {
        throw new CseError(RSC.NOT_ACCEPTABLE, `content of ${cs} bytes exceeds the container's maxByteSize of ${parentAttrs.mbs}`);
      }
      if (cs > ctx.config.http.maxBodyBytes) throw badRequest('content is too large');
      resource.doc.cs = cs;
      resource.doc.st = nextStateTag(container);
      // maxInstanceAge bounds the instance's life [TS-0004 §7.4.7.2.1 step 7].
      if (parentAttrs.mia !== undefined && resource.et !== undefined) {
        resource.et = Math.min(resource.et, ctx.now + parentAttrs.mia * 1000);
      }
    },
  },
});
