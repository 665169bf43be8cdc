// <container> (ty 3, TS-0001 §9.6.6; TS-0004 §7.4.6): keeps contentInstances within mni / mbs / mia.
import { ACCESS_CONTROL, CREATOR, EXPIRATION, LABELS, LOCATION, STATE_TAG, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributesOf, type AttributeSpec } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { formatTimestamp } from '../../primitive/identifiers.js';
import { countInstanceAdded, dropAllInstances, instanceRemoved, instancesStale, tidyBeforeRead, purgeExpiredInstances, trimInstances } from '../instances.js';
import type { StoredResource } from '../../storage/store.js';
import { reportedLocation } from './locationPolicy.js';
import { announceAttributes } from '../announceable.js';

const attributes = {
  ...UNIVERSAL,
  ...announceAttributes(RESOURCE_TYPE.container),
  ...EXPIRATION,
  ...LABELS,
  ...LOCATION,
  ...ACCESS_CONTROL,
  ...CREATOR,
  ...STATE_TAG,
  mni: { type: 'nonNegInteger', create: 'O', update: 'O' },
  mbs: { type: 'nonNegInteger', create: 'O', update: 'O' },
  mia: { type: 'nonNegInteger', create: 'O', update: 'O' },
  cni: { type: 'nonNegInteger', create: 'NP', update: 'NP' },
  cbs: { type: 'nonNegInteger', create: 'NP', update: 'NP' },
  li: { type: 'anyURI', create: 'NP', update: 'NP' },
  or: { type: 'anyURI', create: 'O', update: 'O' },
  disr: { type: 'boolean', create: 'O', update: 'O' },
} as const satisfies Record<string, AttributeSpec>;

export type ContainerAttributes = AttributesOf<typeof attributes>;

const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const INSTANCE = RESOURCE_TYPE.contentInstance;

export const containerType = defineResourceType({
  ty: RESOURCE_TYPE.container,
  typeName: 'm2m:cnt',
  attributes,
  childTypes: [RESOURCE_TYPE.container, RESOURCE_TYPE.contentInstance, RESOURCE_TYPE.flexContainer, RESOURCE_TYPE.subscription, RESOURCE_TYPE.semanticDescriptor, RESOURCE_TYPE.timeSeries, RESOURCE_TYPE.action],
  virtualChildren: ['la', 'ol'],
  instanceType: INSTANCE,
  creatable: true,
  updatable: true,
  deletable: true,
  hasAcpi: true,
  hooks: {
    beforeCreate(_ctx, resource) {
      Object.assign(resource.doc, { st: 0, cni: 0, cbs: 0 });
    },
    async afterChildAdded(ctx, container, child) {
      if (child.ty !== INSTANCE) return;
      countInstanceAdded(container, child);
      // A location reported into a <locationPolicy>'s container may make a geofence event.
      if (container.doc.li !== undefined) await reportedLocation(ctx, container, child);
      await trimInstances(ctx, container, INSTANCE);
      container.lt = formatTimestamp(ctx.now);
      await ctx.store.update(container);
    },
    async afterChildRemoved(ctx, container, child) {
      if (child.ty === INSTANCE) await instanceRemoved(ctx, container, child);
    },
    async beforeUpdate(ctx, container, _changes, previous) {
      const attrs = container.doc as ContainerAttributes;
      attrs.st = num(attrs.st) + 1;
      // Instances written while retrieval was disabled are never to be read: when disableRetrieval goes from
      // TRUE to FALSE they are all deleted [TS-0001 §9.6.6 disableRetrieval]. Removing the attribute (null) makes
      // it FALSE too (its default, TS-0004 §7.4.6.1), so that deletes them as well; ACME does so only for false.
      if (previous.disr === true && attrs.disr !== true) await dropAllInstances(ctx, container, INSTANCE);
      await purgeExpiredInstances(ctx, container, INSTANCE);
      await trimInstances(ctx, container, INSTANCE);
    },
    isStale(ctx, container) {
      return instancesStale(ctx, container, INSTANCE);
    },
    beforeRetrieve(ctx, container) {
      return tidyBeforeRead(ctx, container, INSTANCE);
    },
  },
});

/** The next stateTag of a container, taken by a new instance [TS-0004 §7.4.7.2.1 step 8]. */
export function nextStateTag(container: StoredResource): number {
  const attrs = container.doc as ContainerAttributes;
  const st = num(attrs.st) + 1;
  attrs.st = st;
  return st;
}
