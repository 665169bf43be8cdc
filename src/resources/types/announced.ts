// The announced resource types (ty 100xx, TS-0001 §9.6.26, TS-0004 §7.4.26): what another CSE announced here of a
// resource it hosts. Each carries link (lnk) to its original and copies of the announced attributes, validated by
// the original type's own rules; only the CSE that lnk names creates, updates and deletes them (the access rule is
// in security/authorize.ts). They are stored and served here; rcn 7 retrieves the original (pipeline/execute.ts).
import { ACCESS_CONTROL, EXPIRATION, LABELS, LOCATION, UNIVERSAL } from '../common.js';
import { defineResourceType, requestedName, type AttributeSpec, type AttributeTable, type HookContext, type ResourceTypeDefinition } from '../define.js';
import { ANNOUNCEABLE, ANNOUNCE_SYNC_TYPE, CSE_BASE_ANNC, NEVER_ANNOUNCED, cseIdOfAddress } from '../announceable.js';
import { mgmtObjType } from './mgmtObj.js';
import { flexContainerType } from './flexContainer.js';
import { SDT_CATALOG, SPECIALIZATION_KEY, type SdtDefinition } from '../sdt/catalog.js';
import type { Specialization } from '../define.js';
import { CseError } from '../../primitive/errors.js';
import { RSC } from '../../primitive/rsc.js';
import { RESOURCE_TYPE } from '../types.js';
import { badRequest } from '../../primitive/errors.js';
import type { StoredResource } from '../../storage/store.js';
import { accessControlPolicyType } from './accessControlPolicy.js';
import { aeType } from './ae.js';
import { containerType } from './container.js';
import { contentInstanceType } from './contentInstance.js';
import { groupType } from './group.js';
import { nodeType } from './node.js';
import { scheduleType } from './schedule.js';
import { timeSeriesType } from './timeSeries.js';
import { timeSeriesInstanceType } from './timeSeriesInstance.js';
import { SP_RELATIVE_CSE_ID } from './remoteCse.js';
import { locationPolicyType } from './locationPolicy.js';
import { semanticDescriptorType } from './semanticDescriptor.js';
import { timeSyncBeaconType } from './timeSyncBeacon.js';
import { actionType } from './action.js';
import { dependencyType } from './dependency.js';

const COMMON = {
  ...UNIVERSAL,
  ...EXPIRATION,
  ...LABELS,
  ...LOCATION,
  ...ACCESS_CONTROL,
  // The original's address, SP-relative or absolute [TS-0001 §9.6.26.1]; it does not move.
  lnk: { type: 'anyURI', create: 'M', update: 'NP', maxLength: 512 },
  // The original's announceSyncType, sent with it (MA): 2 sends changes made here back to the original.
  ast: ANNOUNCE_SYNC_TYPE,
} as const satisfies Record<string, AttributeSpec>;

/**
 * An announced resource comes from the CSE hosting its original: lnk names a resource of the originator (the
 * CSE-ID authenticated by the link), and an announced parent, where there is one, came from the same CSE.
 */
function checkOrigin(ctx: HookContext, resource: StoredResource, parent: StoredResource): void {
  const from = ctx.originator;
  const lnk = resource.doc.lnk;
  if (!SP_RELATIVE_CSE_ID.test(from)) throw badRequest(`an announced resource is created by the CSE hosting its original, not by '${from}'`);
  if (typeof lnk !== 'string' || cseIdOfAddress(lnk, ctx.self.spId) !== from) throw badRequest(`link must name a resource of the announcing CSE ${from}`);
  // A dot segment would make the link name something else wherever a path is normalised (/id-x/../id-in/…).
  if (lnk.split('/').some((segment) => segment === '.' || segment === '..')) throw badRequest("link may not hold '.' or '..' segments");
  // An absolute link names the SP too, and the announcing CSE is of this SP (from is SP-relative): a link into another
  // SP would name some other SP's CSE of the same CSE-ID, which rcn 7 and announceSyncType 2 would then reach as this
  // CSE's request (remote/remoteCses.ts forwardTo) [TS-0001 §9.6.26.1].
  const sp = /^\/\/([^/]+)\//.exec(lnk)?.[1];
  if (sp !== undefined && sp.toLowerCase() !== ctx.self.spId.toLowerCase()) throw badRequest(`link must name a resource of the announcing CSE ${from} in this SP, not in ${sp}`);
  if (parent.ty !== RESOURCE_TYPE.CSEBase && (typeof parent.doc.lnk !== 'string' || cseIdOfAddress(parent.doc.lnk, ctx.self.spId) !== from)) {
    throw badRequest(`the parent was announced by another CSE than ${from}`);
  }
}

/** Everything announced is optional here: the original's rules decided what it holds, these check the copy's shape. */
function copies(original: AttributeTable, names: readonly string[]): Record<string, AttributeSpec> {
  const out: Record<string, AttributeSpec> = {};
  for (const name of names) {
    const spec = original[name];
    if (spec) out[name] = { ...spec, create: 'O', update: 'O' };
  }
  return out;
}

function announcedType(original: ResourceTypeDefinition, childTypes: readonly number[]): ResourceTypeDefinition {
  const announceable = ANNOUNCEABLE[original.ty];
  if (!announceable) throw new Error(`type ${original.ty} is not announceable`);
  return defineResourceType({
    ty: announceable.annc,
    typeName: announceable.anncName,
    attributes: { ...copies(original.attributes, [...announceable.ma, ...announceable.oa]), ...COMMON },
    childTypes,
    creatable: true,
    updatable: true,
    deletable: true,
    hasAcpi: true,
    hooks: {
      beforeCreate(ctx, resource, parent) {
        checkOrigin(ctx, resource, parent);
      },
    },
  });
}

/**
 * <mgmtObjAnnc> (ty 10013): one announced specialization per mgmtObj specialization, told apart by mgd as the
 * originals are, named as its original + 'A' (m2m:fwrA); it holds copies of whatever its original announced.
 */
function announcedMgmtObjType(): ResourceTypeDefinition {
  const announceable = ANNOUNCEABLE[RESOURCE_TYPE.mgmtObj];
  if (!announceable) throw new Error('mgmtObj is not announceable');
  const hooks = {
    beforeCreate(ctx: HookContext, resource: StoredResource, parent: StoredResource) {
      checkOrigin(ctx, resource, parent);
    },
  };
  const specializations = (mgmtObjType.specializations ?? []).map((original) =>
    defineResourceType({
      ty: announceable.annc,
      typeName: `${original.typeName}A`,
      attributes: { ...copies(original.attributes, Object.keys(original.attributes).filter((n) => !NEVER_ANNOUNCED.has(n) || n === 'lbl')), ...COMMON },
      childTypes: [],
      creatable: true,
      updatable: true,
      deletable: true,
      hasAcpi: true,
      hooks,
      ...(original.specializedBy ? { specializedBy: original.specializedBy } : {}),
    }),
  );
  return defineResourceType({
    ty: announceable.annc,
    typeName: announceable.anncName,
    attributes: { ...copies(mgmtObjType.attributes, [...announceable.ma, ...announceable.oa]), ...COMMON },
    childTypes: [],
    creatable: true,
    updatable: true,
    deletable: true,
    hasAcpi: true,
    hooks,
    specializations,
  });
}

/**
 * <flexContainerAnnc> (ty 10028): m2m:fcntA, or a specialization's content name + 'Annc' (cod:tempeAnnc) with copies
 * of its custom attributes — the specialization this CSE knows by that name, whose containerDefinition must be cnd.
 */
function announcedFlexContainerType(childTypes: readonly number[]): ResourceTypeDefinition {
  const announceable = ANNOUNCEABLE[RESOURCE_TYPE.flexContainer];
  if (!announceable) throw new Error('flexContainer is not announceable');
  const attributes = { ...copies(flexContainerType.attributes, [...announceable.ma, ...announceable.oa]), ...COMMON };
  const base: Specialization = { typeName: announceable.anncName, attributes };
  const built = new Map<string, Specialization>();
  const tableFor = (definition: SdtDefinition): Specialization => {
    let specialization = built.get(definition.typeName);
    if (!specialization) {
      specialization = { typeName: `${definition.typeName}Annc`, attributes: { ...copies(definition.dataPoints, Object.keys(definition.dataPoints)), ...attributes } };
      built.set(definition.typeName, specialization);
    }
    return specialization;
  };
  const forCreate = (contentName: string, content: Record<string, unknown>): Specialization => {
    if (contentName === announceable.anncName) return base;
    const definition = contentName.endsWith('Annc') ? SDT_CATALOG.named(contentName.slice(0, -'Annc'.length)) : undefined;
    if (!definition) throw new CseError(RSC.SPECIALIZATION_SCHEMA_NOT_FOUND, `'${contentName}' is no announced flexContainer specialization known to this CSE`);
    if (definition.containerDefinition !== undefined && content.cnd !== definition.containerDefinition) {
      throw badRequest(`attribute 'cnd' must be '${definition.containerDefinition}' for ${contentName}`);
    }
    return tableFor(definition);
  };
  return defineResourceType({
    ty: announceable.annc,
    typeName: announceable.anncName,
    attributes,
    childTypes,
    creatable: true,
    updatable: true,
    deletable: true,
    hasAcpi: true,
    specialization: {
      forCreate,
      of: (resource) => {
        const name = resource.doc[SPECIALIZATION_KEY];
        const definition = typeof name === 'string' ? SDT_CATALOG.named(name) : undefined;
        return definition ? tableFor(definition) : base;
      },
      knowsAttribute: (name) => SDT_CATALOG.definesDataPoint(name),
    },
    hooks: {
      beforeCreate(ctx, resource, parent) {
        checkOrigin(ctx, resource, parent);
        const [contentName = ''] = Object.keys(ctx.request.pc as object);
        if (forCreate(contentName, resource.doc) !== base) resource.doc[SPECIALIZATION_KEY] = contentName.slice(0, -'Annc'.length);
      },
    },
  });
}

const ANNC = {
  fcnt: ANNOUNCEABLE[RESOURCE_TYPE.flexContainer]?.annc ?? 0,
  mgo: ANNOUNCEABLE[RESOURCE_TYPE.mgmtObj]?.annc ?? 0,
  acp: ANNOUNCEABLE[RESOURCE_TYPE.accessControlPolicy]?.annc ?? 0,
  ae: ANNOUNCEABLE[RESOURCE_TYPE.AE]?.annc ?? 0,
  cnt: ANNOUNCEABLE[RESOURCE_TYPE.container]?.annc ?? 0,
  cin: ANNOUNCEABLE[RESOURCE_TYPE.contentInstance]?.annc ?? 0,
  grp: ANNOUNCEABLE[RESOURCE_TYPE.group]?.annc ?? 0,
  nod: ANNOUNCEABLE[RESOURCE_TYPE.node]?.annc ?? 0,
  sch: ANNOUNCEABLE[RESOURCE_TYPE.schedule]?.annc ?? 0,
  ts: ANNOUNCEABLE[RESOURCE_TYPE.timeSeries]?.annc ?? 0,
  tsi: ANNOUNCEABLE[RESOURCE_TYPE.timeSeriesInstance]?.annc ?? 0,
  lcp: ANNOUNCEABLE[RESOURCE_TYPE.locationPolicy]?.annc ?? 0,
  smd: ANNOUNCEABLE[RESOURCE_TYPE.semanticDescriptor]?.annc ?? 0,
  tsb: ANNOUNCEABLE[RESOURCE_TYPE.timeSyncBeacon]?.annc ?? 0,
  actr: ANNOUNCEABLE[RESOURCE_TYPE.action]?.annc ?? 0,
  depr: ANNOUNCEABLE[RESOURCE_TYPE.dependency]?.annc ?? 0,
};

/** Announcing CSEs one CSEBase has a <CSEBaseAnnc> of, at most (each is one CSE of the SP). */
const MAX_CSE_BASE_ANNC = 10_000;

/** <CSEBaseAnnc>: the announcing CSE, under this CSEBase; the resources it announces go below it [TS-0004 §7.3.3.10]. */
export const cseBaseAnncType = defineResourceType({
  ty: CSE_BASE_ANNC,
  typeName: 'm2m:cbA',
  attributes: {
    ...COMMON,
    csi: { type: 'string', create: 'O', update: 'O', maxLength: 65 },
    cst: { type: 'enum', create: 'O', update: 'O', values: [1, 2, 3] },
    srv: { type: 'stringList', create: 'O', update: 'O', maxLength: 16 },
    poa: { type: 'anyURIList', create: 'O', update: 'O', maxLength: 32 },
    csz: { type: 'stringList', create: 'O', update: 'O', maxLength: 8 },
  },
  // As TS-0001 table 9.6.26.1-1 (and ACME's CSEBaseAnnc for timeSyncBeacon and action): the announced resources whose
  // originals' parents are not announced there.
  childTypes: [ANNC.acp, ANNC.ae, ANNC.cnt, ANNC.grp, ANNC.nod, ANNC.sch, ANNC.ts, ANNC.fcnt, ANNC.lcp, ANNC.smd, ANNC.tsb, ANNC.actr],
  creatable: true,
  updatable: true,
  deletable: true,
  hasAcpi: true,
  hooks: {
    async beforeCreate(ctx, resource, parent) {
      checkOrigin(ctx, resource, parent);
      if (resource.doc.csi !== undefined && resource.doc.csi !== ctx.originator) throw badRequest(`csi must be the announcing CSE's ${ctx.originator}`);
      // A name chosen by another CSE directly under the CSEBase could take the name another CSE's <remoteCSE> or
      // <CSEBaseAnnc> needs (its registration, or every announcement it makes, refused 4105). So an announcing CSE
      // has one <CSEBaseAnnc> here, named after its CSE-ID as Warden's announcer names it (remote/announcement.ts),
      // or in ACME's form <SP-ID>_<name> (ACME finds its own by lnk, not by name): names no registration or other
      // announcer asks for.
      const own = `${ctx.originator.slice(1)}Annc`;
      const rn = requestedName(ctx, 'm2m:cbA');
      if (rn !== undefined && rn !== own && !(typeof rn === 'string' && rn.startsWith(`${ctx.self.spId}_`))) {
        throw badRequest(`attribute 'rn': the <CSEBaseAnnc> of ${ctx.originator} is named '${own}' (or '${ctx.self.spId}_<name>')`);
      }
      resource.rn = own;
      const existing = await ctx.store.children(parent.ri, { ty: CSE_BASE_ANNC, limit: MAX_CSE_BASE_ANNC });
      if (existing.some((other) => cseIdOfAddress(other.doc.lnk, ctx.self.spId) === ctx.originator)) {
        throw new CseError(RSC.CONFLICT, `${ctx.originator} already has its <CSEBaseAnnc> here`);
      }
      if (existing.length >= MAX_CSE_BASE_ANNC) throw new CseError(RSC.NOT_ACCEPTABLE, `this CSE keeps at most ${MAX_CSE_BASE_ANNC} <CSEBaseAnnc>`);
    },
  },
});

export const ANNOUNCED_TYPES: readonly ResourceTypeDefinition[] = [
  cseBaseAnncType,
  announcedType(accessControlPolicyType, []),
  // The children of each announced type: TS-0001 table 9.6.26.1-1, with timeSyncBeacon and action where ACME puts
  // them (timeSyncBeaconAnnc also under AEAnnc, as Warden's <timeSyncBeacon> may be an <AE>'s).
  announcedType(aeType, [ANNC.acp, ANNC.cnt, ANNC.grp, ANNC.ts, ANNC.fcnt, ANNC.lcp, ANNC.smd, ANNC.tsb, ANNC.actr]),
  announcedType(containerType, [ANNC.cnt, ANNC.cin, ANNC.ts, ANNC.fcnt, ANNC.smd, ANNC.actr]),
  announcedFlexContainerType([ANNC.cnt, ANNC.fcnt, ANNC.ts, ANNC.smd, ANNC.actr]),
  announcedType(contentInstanceType, [ANNC.smd]),
  announcedType(groupType, [ANNC.smd, ANNC.actr]),
  announcedType(nodeType, [ANNC.sch, ANNC.mgo, ANNC.smd, ANNC.actr]),
  announcedMgmtObjType(),
  announcedType(scheduleType, []),
  announcedType(timeSeriesType, [ANNC.tsi, ANNC.smd, ANNC.actr]),
  announcedType(timeSeriesInstanceType, []),
  announcedType(locationPolicyType, []),
  announcedType(semanticDescriptorType, []),
  announcedType(timeSyncBeaconType, []),
  announcedType(actionType, [ANNC.depr]),
  announcedType(dependencyType, []),
];
