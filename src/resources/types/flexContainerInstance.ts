// <flexContainerInstance> (ty 58, Release 4): an immutable snapshot of a flexContainer's
// custom attributes, stored by the CSE itself when the flexContainer changes; no request creates or updates one.
import { EXPIRATION, FIXED_LOCATION, LABELS, STATE_TAG, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributeSpec, type AttributeTable, type HookContext, type Specialization } from '../define.js';
import { deriveLocationBox } from '../geometry.js';
import { RESOURCE_TYPE } from '../types.js';
import { SPECIALIZATION_KEY, customAttributeNames, specializedTables, storedSpecialization } from '../sdt/catalog.js';
import { countInstanceAdded } from '../instances.js';
import { notAllowed } from '../../primitive/errors.js';
import { formatTimestamp, newResourceId } from '../../primitive/identifiers.js';
import type { StoredResource } from '../../storage/store.js';

const attributes = {
  ...UNIVERSAL,
  ...EXPIRATION,
  ...LABELS,
  ...FIXED_LOCATION,
  ...STATE_TAG,
  cs: { type: 'nonNegInteger', create: 'NP', update: 'NP' },
  /** originator: who made the change the snapshot records. */
  org: { type: 'string', create: 'NP', update: 'NP' },
} as const satisfies Record<string, AttributeSpec>;

const tables = specializedTables(attributes, true);
const BASE: Specialization = { typeName: 'm2m:fci', attributes };

/**
 * Stores a snapshot of the flexContainer as it is now, counted in its cni / cbs. Its content goes under the
 * flexContainer's own specialization name (e.g. `cod:tempe`), as ACME serves it; its stateTag is the
 * flexContainer's; maxInstanceAge bounds its life as it bounds a contentInstance's.
 */
export async function storeSnapshot(ctx: HookContext, flexContainer: StoredResource, specialization: Specialization, base: AttributeTable): Promise<void> {
  const doc: Record<string, unknown> = { [SPECIALIZATION_KEY]: specialization.typeName, st: flexContainer.doc.st, cs: flexContainer.doc.cs, org: ctx.originator };
  for (const name of ['lbl', 'loc', ...customAttributeNames(specialization, base)]) {
    if (flexContainer.doc[name] !== undefined) doc[name] = flexContainer.doc[name];
  }
  deriveLocationBox(doc);
  const mia = flexContainer.doc.mia;
  const maxAgeEnd = typeof mia === 'number' ? ctx.now + mia * 1000 : undefined;
  const et = maxAgeEnd !== undefined && (flexContainer.et === undefined || maxAgeEnd < flexContainer.et) ? maxAgeEnd : flexContainer.et;
  const ri = newResourceId('fci', ctx.now);
  const ts = formatTimestamp(ctx.now);
  const instance: StoredResource = { ri, pi: flexContainer.ri, ty: RESOURCE_TYPE.flexContainerInstance, rn: ri, srn: `${flexContainer.srn}/${ri}`, ct: ts, lt: ts, doc };
  if (et !== undefined) instance.et = et;
  if (flexContainer.owner !== undefined) instance.owner = flexContainer.owner;
  // Like a contentInstance, a snapshot counts against the quota of whoever caused it.
  instance.charge = ctx.storage?.charge ?? ctx.originator;
  const stored = await ctx.store.insert(instance, ctx.storage?.limits);
  countInstanceAdded(flexContainer, stored);
  await ctx.recordChildCreated?.(flexContainer, stored);
}

export const flexContainerInstanceType = defineResourceType({
  ty: RESOURCE_TYPE.flexContainerInstance,
  typeName: 'm2m:fci',
  attributes,
  childTypes: [],
  creatable: false,
  updatable: false,
  deletable: true,
  hasAcpi: false,
  specialization: {
    forCreate() {
      throw notAllowed('a flexContainerInstance is created by the CSE only, when its flexContainer changes');
    },
    of: (resource) => storedSpecialization(resource, tables, BASE),
    knowsAttribute: () => false,
  },
  hooks: {},
});
