// <flexContainer> (ty 28, TS-0001 §9.6.35; TS-0004 §7.4.37): a container whose custom attributes are typed by its
// specialization (containerDefinition, the SDT models of TS-0023), optionally keeping flexContainerInstances of
// its past states like a container keeps contentInstances.
import { ACCESS_CONTROL, CREATOR, EXPIRATION, LABELS, LOCATION, STATE_TAG, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributeSpec, type Specialization } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { announceAttributes } from '../announceable.js';
import { SDT_CATALOG, SPECIALIZATION_KEY, customAttributeNames, specializedTables, storedSpecialization } from '../sdt/catalog.js';
import { countInstanceRemoved, dropAllInstances, instancesStale, purgeExpiredInstances, trimInstances, type InstanceLimits } from '../instances.js';
import { contentSize } from '../instances.js';
import { storeSnapshot } from './flexContainerInstance.js';
import { CseError, badRequest } from '../../primitive/errors.js';
import { RSC } from '../../primitive/rsc.js';
import type { StoredResource } from '../../storage/store.js';

const attributes = {
  ...UNIVERSAL,
  ...EXPIRATION,
  ...LABELS,
  ...LOCATION,
  ...ACCESS_CONTROL,
  ...CREATOR,
  ...STATE_TAG,
  cnd: { type: 'string', create: 'M', update: 'NP' },
  or: { type: 'anyURI', create: 'O', update: 'O' },
  nl: { type: 'anyURI', create: 'O', update: 'O' },
  cs: { type: 'nonNegInteger', create: 'NP', update: 'NP' },
  // 0 would keep nothing: ACME refuses it, and so does Warden.
  mni: { type: 'positiveInteger', create: 'O', update: 'O' },
  mbs: { type: 'positiveInteger', create: 'O', update: 'O' },
  mia: { type: 'positiveInteger', create: 'O', update: 'O' },
  cni: { type: 'nonNegInteger', create: 'NP', update: 'NP' },
  cbs: { type: 'nonNegInteger', create: 'NP', update: 'NP' },
  /**
   * flexContainerInstance enabled (Release 5, as ACME implements it): absent, the flexContainer keeps no
   * instances (and mni / mbs / mia mean nothing, so they are refused); true, it keeps them within mni / mbs /
   * mia; false, it keeps only the latest.
   */
  fcied: { type: 'boolean', create: 'O', update: 'O' },
  ...announceAttributes(RESOURCE_TYPE.flexContainer, undefined, (name) => SDT_CATALOG.definesDataPoint(name)),
} as const satisfies Record<string, AttributeSpec>;

const INSTANCE = RESOURCE_TYPE.flexContainerInstance;
const LIMITS = ['mni', 'mbs', 'mia'] as const;
const tables = specializedTables(attributes, false);
const BASE: Specialization = { typeName: 'm2m:fcnt', attributes };

const specializationOf = (resource: StoredResource): Specialization => storedSpecialization(resource, tables, BASE);

/**
 * The specialization a CREATE names: its content name must be the one the containerDefinition defines, and an
 * unknown containerDefinition is SPECIALIZATION_SCHEMA_NOT_FOUND [TS-0004 §7.4.37.2.1]. The interworking
 * specializations of TS-0004 Annex J (m2m:gis, …) leave containerDefinition to the creator.
 */
function forCreate(contentName: string, content: Record<string, unknown>): Specialization {
  const named = SDT_CATALOG.named(contentName);
  if (named && named.containerDefinition === undefined) return tables(named);
  const cnd = content.cnd;
  if (cnd === undefined) throw badRequest(`mandatory attribute 'cnd' is missing in CREATE of ${contentName}`);
  if (typeof cnd !== 'string') throw badRequest("attribute 'cnd' must be a string");
  const defined = SDT_CATALOG.forContainerDefinition(cnd);
  if (!defined) throw new CseError(RSC.SPECIALIZATION_SCHEMA_NOT_FOUND, `attribute 'cnd': no specialization '${cnd}' is known to this CSE`);
  if (defined.typeName !== contentName) {
    throw badRequest(`attribute 'cnd' '${cnd}' is the specialization '${defined.typeName}': the content must be named so, not '${contentName}'`);
  }
  return tables(defined);
}

/** contentSize: the bytes of the custom attributes [TS-0001 §9.6.35]. */
function customSize(resource: StoredResource, specialization: Specialization): number {
  return customAttributeNames(specialization, attributes).reduce((sum, name) => (resource.doc[name] === undefined ? sum : sum + contentSize(resource.doc[name])), 0);
}

function limitsOf(resource: StoredResource): InstanceLimits {
  const own = resource.doc as InstanceLimits;
  return resource.doc.fcied === false ? { ...own, mni: 1 } : own;
}

function refuseLimitsWithoutInstances(values: Record<string, unknown>): void {
  for (const name of LIMITS) {
    if (values[name] !== undefined && values[name] !== null) throw badRequest(`attribute '${name}' needs fcied: without it the flexContainer keeps no instances`);
  }
}

function checkMaxByteSize(resource: StoredResource): void {
  const { mbs } = resource.doc as InstanceLimits;
  const cs = resource.doc.cs as number;
  if (mbs !== undefined && mbs < cs) throw badRequest(`attribute 'mbs' (${mbs}) is smaller than the contentSize of the custom attributes (${cs})`);
}

export const flexContainerType = defineResourceType({
  ty: RESOURCE_TYPE.flexContainer,
  typeName: 'm2m:fcnt',
  attributes,
  childTypes: [RESOURCE_TYPE.container, RESOURCE_TYPE.flexContainer, INSTANCE, RESOURCE_TYPE.subscription, RESOURCE_TYPE.semanticDescriptor, RESOURCE_TYPE.timeSeries, RESOURCE_TYPE.action],
  virtualChildren: ['la', 'ol'],
  instanceType: INSTANCE,
  creatable: true,
  updatable: true,
  deletable: true,
  hasAcpi: true,
  specialization: {
    forCreate,
    of: specializationOf,
    knowsAttribute: (name) => SDT_CATALOG.definesDataPoint(name),
  },
  hooks: {
    beforeCreate(ctx, resource) {
      const [contentName = ''] = Object.keys(ctx.request.pc as object);
      const specialization = forCreate(contentName, resource.doc);
      resource.doc[SPECIALIZATION_KEY] = specialization.typeName;
      resource.doc.st = 0;
      resource.doc.cs = customSize(resource, specialization);
      if (resource.doc.fcied === undefined) refuseLimitsWithoutInstances(resource.doc);
      else checkMaxByteSize(resource);
    },
    async afterCreate(ctx, resource) {
      if (resource.doc.fcied === undefined) return;
      Object.assign(resource.doc, { cni: 0, cbs: 0 });
      await storeSnapshot(ctx, resource, specializationOf(resource), attributes);
      await ctx.store.update(resource);
    },
    async afterChildRemoved(ctx, flexContainer, child) {
      if (child.ty !== INSTANCE || flexContainer.doc.cni === undefined) return;
      countInstanceRemoved(flexContainer, child);
      await ctx.store.update(flexContainer);
    },
    async beforeUpdate(ctx, resource, changes) {
      const specialization = specializationOf(resource);
      const hadInstances = resource.doc.cni !== undefined;
      resource.doc.st = (resource.doc.st as number) + 1;
      resource.doc.cs = customSize(resource, specialization);
      if (resource.doc.fcied === undefined) {
        refuseLimitsWithoutInstances(changes);
        if (hadInstances) await dropAllInstances(ctx, resource, INSTANCE);
        for (const name of [...LIMITS, 'cni', 'cbs']) delete resource.doc[name];
        return;
      }
      checkMaxByteSize(resource);
      if (!hadInstances) Object.assign(resource.doc, { cni: 0, cbs: 0 });
      const custom = new Set(customAttributeNames(specialization, attributes));
      // A snapshot records the custom attributes, labels and location; a change of the limits alone is none.
      const snapshotChanged = Object.keys(changes).some((name) => name === 'lbl' || name === 'loc' || custom.has(name));
      await purgeExpiredInstances(ctx, resource, INSTANCE);
      if (!hadInstances || snapshotChanged) await storeSnapshot(ctx, resource, specialization, attributes);
      await trimInstances(ctx, resource, INSTANCE, limitsOf(resource));
    },
    async isStale(ctx, resource) {
      return resource.doc.cni !== undefined && (await instancesStale(ctx, resource, INSTANCE));
    },
    async beforeRetrieve(ctx, resource) {
      const purged = await purgeExpiredInstances(ctx, resource, INSTANCE);
      const trimmed = await trimInstances(ctx, resource, INSTANCE, limitsOf(resource));
      if (purged || trimmed) await ctx.store.update(resource);
    },
  },
});
