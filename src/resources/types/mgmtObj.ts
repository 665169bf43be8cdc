// <mgmtObj> (ty 13, TS-0001 §9.6.15 and Annex D; TS-0022 for the dcfg: ones): device management data of a
// <node>, one specialization per mgmtDefinition (mgd), each with its own root element (m2m:fwr …) and table.
// Attribute facts (short names, types, create/update rules) are those of ../../../shared/reference.
//
// An action (reboot, factoryReset, install, update …) is an UPDATE of the mgmtObj. The CSE stores and checks
// it; the device-management IPE that serves the device learns of it through its own <subscription> to the
// mgmtObj (notificationContentType 2 carries the action as written) and reports the outcome by updating the
// state attributes the table lets it write (updateStatus …). There is no other wire format.
import { ACCESS_CONTROL, EXPIRATION, LABELS, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributeSpec, type AttributeTable, type ResourceTypeDefinition, type TypeHooks } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { announceAttributes } from '../announceable.js';
import { badRequest, quotedName } from '../../primitive/errors.js';
import { compileSchedule } from '../../security/schedule.js';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** m2m:actionStatus {acn: action, sus: status 0 uninitialized, 1 successful, 2 failure, 3 in process}. */
function checkActionStatus(v: unknown): string | undefined {
  if (!isRecord(v)) return 'must be an actionStatus {acn, sus}';
  for (const key of Object.keys(v)) if (key !== 'acn' && key !== 'sus') return `member '${quotedName(key)}' is not part of actionStatus`;
  if (v.acn !== undefined && (typeof v.acn !== 'string' || v.acn.length > 2048)) return "member 'acn' must be a string";
  if (v.sus !== undefined && ![0, 1, 2, 3].includes(v.sus as number)) return "member 'sus' must be 0, 1, 2 or 3";
  return undefined;
}

/** m2m:mgmtLinkRef list [{nm, typ, val}]. */
function checkLinks(v: unknown): string | undefined {
  if (!Array.isArray(v) || v.length > 64) return 'must be a list of at most 64 mgmtLinkRef {nm, typ, val}';
  for (const link of v) {
    if (!isRecord(link) || typeof link.nm !== 'string' || !Number.isSafeInteger(link.typ)) return 'must be a list of mgmtLinkRef {nm, typ, val}';
    if (Object.keys(link).some((k) => !['nm', 'typ', 'val'].includes(k))) return 'must be a list of mgmtLinkRef {nm, typ, val}';
    if (link.val !== undefined && typeof link.val !== 'string') return "has a mgmtLinkRef whose 'val' is not a resource ID";
  }
  return undefined;
}

/** A list of m2m:scheduleEntries [{sce: [7-field schedule …]}], each entry checked as the access windows are. */
function checkSchedules(v: unknown): string | undefined {
  if (!Array.isArray(v) || v.length > 16) return 'must be a list of at most 16 scheduleEntries {sce}';
  for (const entries of v) {
    if (!isRecord(entries) || Object.keys(entries).some((k) => k !== 'sce')) return 'must be a list of scheduleEntries {sce: [schedule …]}';
    const sce = entries.sce;
    if (!Array.isArray(sce) || sce.length === 0 || sce.length > 32 || sce.some((e) => typeof e !== 'string')) return "must give 'sce' as a non-empty list of schedule strings";
    for (const entry of sce as string[]) {
      try {
        compileSchedule(entry);
      } catch (err) {
        return `has an invalid schedule: ${(err as Error).message}`;
      }
    }
  }
  return undefined;
}

function refuseBothTrue(changes: Record<string, unknown>, first: string, second: string): void {
  if (changes[first] === true && changes[second] === true) throw badRequest(`attributes '${first}' and '${second}' cannot both be true in one request`);
}

/** Attributes every specialization has [TS-0001 table 9.6.15-3]. */
const MGMT_OBJ = {
  ...UNIVERSAL,
  ...EXPIRATION,
  ...LABELS,
  ...ACCESS_CONTROL,
  obis: { type: 'anyURIList', create: 'O', update: 'NP' },
  obps: { type: 'anyURIList', create: 'O', update: 'NP' },
  dc: { type: 'string', create: 'O', update: 'O' },
  mgs: { type: 'anyURI', create: 'O', update: 'NP' },
  cmlk: { type: 'any', create: 'O', update: 'O', check: checkLinks },
} as const satisfies Record<string, AttributeSpec>;

const CHILD_TYPES = [RESOURCE_TYPE.subscription, RESOURCE_TYPE.semanticDescriptor];

function specialization(typeName: string, mgd: number, own: AttributeTable, hooks: TypeHooks = {}, childTypes: readonly number[] = CHILD_TYPES): ResourceTypeDefinition {
  return defineResourceType({
    ty: RESOURCE_TYPE.mgmtObj,
    typeName,
    attributes: { ...MGMT_OBJ, mgd: { type: 'enum', create: 'M', update: 'NP', values: [mgd] }, ...own, ...announceAttributes(RESOURCE_TYPE.mgmtObj, [...Object.keys(MGMT_OBJ), ...Object.keys(own)]) },
    childTypes,
    creatable: true,
    updatable: true,
    deletable: true,
    hasAcpi: true,
    hooks,
    specializedBy: { attribute: 'mgd', value: mgd },
  });
}

const text = (create: 'M' | 'O' = 'O', update: 'O' | 'NP' = 'O'): AttributeSpec => ({ type: 'string', create, update });
const flag = (create: 'M' | 'O' | 'NP' = 'O'): AttributeSpec => ({ type: 'boolean', create, update: 'O' });
const count = (create: 'M' | 'O' = 'O'): AttributeSpec => ({ type: 'nonNegInteger', create, update: 'O' });
const actionStatus = (create: 'M' | 'NP', update: 'O' | 'NP'): AttributeSpec => ({ type: 'object', create, update, check: checkActionStatus });

/** A status nobody has reported yet. */
const UNINITIALIZED = { sus: 0 };

// Annex D.2 firmware: ud (update) is the action; uds is the state the IPE reports.
const firmware = specialization('m2m:fwr', 1001, {
  vr: text('M'),
  fwn: text('M'),
  url: { type: 'anyURI', create: 'M', update: 'O' },
  ud: flag('M'),
  uds: actionStatus('NP', 'O'),
}, {
  beforeCreate(_ctx, resource) {
    resource.doc.uds = { ...UNINITIALIZED };
  },
});

// Annex D.3 software: in / un / act / dea are the actions; ins and acts are read-only states [table D.3-1].
const software = specialization('m2m:swr', 1002, {
  vr: text('M'),
  swn: text('M'),
  url: { type: 'anyURI', create: 'M', update: 'O' },
  ins: actionStatus('NP', 'NP'),
  acts: actionStatus('NP', 'NP'),
  in: flag('NP'),
  un: flag('NP'),
  act: flag('NP'),
  dea: flag('NP'),
}, {
  beforeCreate(_ctx, resource) {
    Object.assign(resource.doc, { ins: { ...UNINITIALIZED }, acts: { ...UNINITIALIZED }, in: false, un: false, act: false, dea: false });
  },
});

const memory = specialization('m2m:mem', 1003, { mma: count('M'), mmt: count('M') });

const areaNwkInfo = specialization('m2m:ani', 1004, {
  ant: text('M'),
  ldv: { type: 'anyURIList', create: 'O', update: 'O' },
});

const areaNwkDeviceInfo = specialization('m2m:andi', 1005, {
  dvd: text('M'),
  dvt: text('M'),
  awi: { type: 'anyURI', create: 'M', update: 'O' },
  sli: count(),
  sld: count(),
  ss: text(),
  lnh: { type: 'anyURIList', create: 'O', update: 'O' },
});

const battery = specialization('m2m:bat', 1006, {
  btl: count('M'),
  bts: { type: 'enum', create: 'M', update: 'O', values: [1, 2, 3, 4, 5, 6, 7] },
});

// loc here is a plain string [table D.8-1], not the geometry of the Release 4 location attribute.
const deviceInfo = specialization('m2m:dvi', 1007, {
  dlb: text('M'),
  man: text('M'),
  mfdl: text(),
  mfd: { type: 'timestamp', create: 'O', update: 'O' },
  mod: text('M'),
  smod: text(),
  dty: text('M'),
  dvnm: text(),
  fwv: text(),
  swv: text(),
  hwv: text('O', 'NP'),
  osv: text(),
  cnty: text('O', 'NP'),
  loc: text(),
  syst: { type: 'timestamp', create: 'O', update: 'O' },
  spur: { type: 'anyURI', create: 'O', update: 'O' },
  purl: { type: 'anyURI', create: 'O', update: 'O' },
  ptl: { type: 'stringList', create: 'O', update: 'O' },
});

// Triggers that are not states: enable/disable, reboot/factoryReset and logStart/logStop read back as ACME
// keeps them (ena/dis true, rbo/far false, lga/lgo true); the spec gives them no stored meaning. What was
// asked reaches the IPE in the update's notification (the modified attributes), not through the stored value.
const deviceCapability = specialization('m2m:dvc', 1008, {
  can: text('M'),
  att: flag('M'),
  cas: actionStatus('M', 'O'),
  ena: flag(),
  dis: flag(),
  cus: flag('M'),
}, {
  beforeCreate(_ctx, resource) {
    Object.assign(resource.doc, { ena: true, dis: true });
  },
  beforeUpdate(_ctx, resource, changes) {
    refuseBothTrue(changes, 'ena', 'dis');
    Object.assign(resource.doc, { ena: true, dis: true });
  },
});

const reboot = specialization('m2m:rbo', 1009, { rbo: flag(), far: flag() }, {
  beforeCreate(_ctx, resource) {
    Object.assign(resource.doc, { rbo: false, far: false });
  },
  beforeUpdate(_ctx, resource, changes) {
    refuseBothTrue(changes, 'rbo', 'far');
    Object.assign(resource.doc, { rbo: false, far: false });
  },
});

const eventLog = specialization('m2m:evl', 1010, {
  lgt: { type: 'enum', create: 'M', update: 'O', values: [1, 2, 3, 4, 5] },
  lgd: text('M'),
  lgst: { type: 'enum', create: 'M', update: 'O', values: [1, 2, 3, 4, 5] },
  lga: flag(),
  lgo: flag(),
}, {
  beforeCreate(_ctx, resource) {
    Object.assign(resource.doc, { lga: true, lgo: true });
  },
  beforeUpdate(_ctx, resource, changes) {
    refuseBothTrue(changes, 'lga', 'lgo');
    Object.assign(resource.doc, { lga: true, lgo: true });
  },
});

// The CMDH policies of a node [TS-0001 Annex D.12; TS-0004 Annex D.12 for short names, types and create/update
// rules]. Warden stores and checks them for the device-management IPE that provisions them to the field node; it
// forwards no requests to other CSEs, so it applies none itself. TS-0004 D.12.1: "the optional <subscription>
// child resources are not used for CMDH policies".
const CMDH_CHILD_TYPES = [RESOURCE_TYPE.semanticDescriptor];

const STD_EVENT_CATS = [2, 3, 4];
/** m2m:eventCat: 2 immediate, 3 best effort, 4 latest, or a user-defined category 100 to 999 [TS-0004 §6.3.3]. */
const isEventCat = (v: unknown): boolean => Number.isSafeInteger(v) && (STD_EVENT_CATS.includes(v as number) || ((v as number) >= 100 && (v as number) <= 999));

/** A list of m2m:eventCatWithDef: event categories, or 0 for "default"; at least one. */
function checkEventCatsWithDefault(v: unknown): string | undefined {
  if (!Array.isArray(v) || v.length === 0 || v.length > 64) return 'must be a list of 1 to 64 event categories (2, 3, 4, 100 to 999, or 0 for default)';
  return v.every((c) => c === 0 || isEventCat(c)) ? undefined : 'must hold event categories 2, 3, 4, 100 to 999, or 0 for default';
}

function checkEventCats(v: unknown): string | undefined {
  if (!Array.isArray(v) || v.length === 0 || v.length > 64) return 'must be a list of 1 to 64 event categories (2, 3, 4, 100 to 999)';
  return v.every(isEventCat) ? undefined : 'must hold event categories 2, 3, 4 or 100 to 999';
}

/** m2m:listOfMinMax: [min, max] in milliseconds, -1 for infinity. */
function checkMinMax(v: unknown): string | undefined {
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => Number.isSafeInteger(x) && (x as number) >= -1)) return 'must be [min, max] in milliseconds (-1 for infinity)';
  const [min, max] = v as [number, number];
  return max !== -1 && (min === -1 || min > max) ? 'must have its min at most its max' : undefined;
}

/** limitsDelAggregation: the permitted Delivery Aggregation settings, false and/or true. */
function checkPermittedFlags(v: unknown): string | undefined {
  if (!Array.isArray(v) || v.length === 0 || v.length > 2 || !v.every((x) => typeof x === 'boolean') || new Set(v).size !== v.length) return 'must list false, true, or both';
  return undefined;
}

/** m2m:backOffParameters {bops: [{nwa, ibt, abt, mbt, rbt}]} [TS-0004 §6.3.5.54]. */
function checkBackOff(v: unknown): string | undefined {
  if (!isRecord(v) || Object.keys(v).some((k) => k !== 'bops')) return 'must be backOffParameters {bops}';
  const sets = v.bops;
  if (!Array.isArray(sets) || sets.length === 0 || sets.length > 16) return "must give 'bops' as a list of 1 to 16 backOffParametersSet";
  for (const set of sets) {
    if (!isRecord(set)) return 'must give each backOffParametersSet as {nwa, ibt, abt, mbt, rbt}';
    for (const [key, value] of Object.entries(set)) {
      if (!['nwa', 'ibt', 'abt', 'mbt', 'rbt'].includes(key)) return `member '${quotedName(key)}' is not part of backOffParametersSet`;
      if (key === 'nwa' ? ![1, 2, 3, 4, 5].includes(value as number) : !(Number.isSafeInteger(value) && (value as number) >= 0)) {
        return key === 'nwa' ? "member 'nwa' must be a networkAction 1 to 5" : `member '${key}' must be a non-negative number of milliseconds`;
      }
    }
    for (const key of ['ibt', 'abt', 'mbt']) if (set[key] === undefined) return `needs '${key}' in each backOffParametersSet`;
  }
  return undefined;
}

const cmdhLinks = (create: 'M' | 'O'): AttributeSpec => ({ type: 'any', create, update: 'O', check: checkLinks });
/** xs:long milliseconds, -1 for infinity. */
const milliseconds = (): AttributeSpec => ({ type: 'integer', create: 'M', update: 'O', check: (v) => ((v as number) >= -1 ? undefined : 'must be milliseconds, or -1 for infinity') });
const minMax = (): AttributeSpec => ({ type: 'any', create: 'M', update: 'O', check: checkMinMax });
/** Where cmdhDefEcValue and cmdhLimits apply: AE-IDs, App-IDs, 'localAE' or 'thisCSE' (m2m:listOfM2MID). */
const REQUEST_MATCH = {
  od: { type: 'positiveInteger', create: 'M', update: 'O' },
  ror: { type: 'stringList', create: 'M', update: 'O' },
  rct: { type: 'any', create: 'O', update: 'O' },
  rctn: { type: 'boolean', create: 'O', update: 'O' },
  rch: { type: 'any', create: 'O', update: 'O' },
} as const satisfies Record<string, AttributeSpec>;

const cmdhPolicy = specialization('m2m:cmp', 1011, { cpn: text('M'), cmlk: cmdhLinks('M') }, {}, CMDH_CHILD_TYPES);
const activeCmdhPolicy = specialization('m2m:acmp', 1012, { acmlk: text('M') }, {}, CMDH_CHILD_TYPES);
const cmdhDefaults = specialization('m2m:cmdf', 1013, { cmlk: cmdhLinks('M') }, {}, CMDH_CHILD_TYPES);
const cmdhDefEcValue = specialization('m2m:cmdv', 1014, {
  ...REQUEST_MATCH,
  dev: { type: 'integer', create: 'M', update: 'O', check: (v) => (isEventCat(v) ? undefined : 'must be an event category 2, 3, 4 or 100 to 999') },
}, {}, CMDH_CHILD_TYPES);
const cmdhEcDefParamValues = specialization('m2m:cmpv', 1015, {
  aec: { type: 'any', create: 'M', update: 'O', check: checkEventCatsWithDefault },
  dqet: milliseconds(),
  dset: milliseconds(),
  doet: milliseconds(),
  drp: milliseconds(),
  dda: { type: 'boolean', create: 'M', update: 'O' },
}, {}, CMDH_CHILD_TYPES);
const cmdhLimits = specialization('m2m:cml', 1016, {
  ...REQUEST_MATCH,
  lec: { type: 'any', create: 'M', update: 'O', check: checkEventCats },
  lqet: minMax(),
  lset: minMax(),
  loet: minMax(),
  lrp: minMax(),
  lda: { type: 'any', create: 'M', update: 'O', check: checkPermittedFlags },
}, {}, CMDH_CHILD_TYPES);
const cmdhNetworkAccessRules = specialization('m2m:cmnr', 1017, {
  aecs: { type: 'any', create: 'M', update: 'O', check: checkEventCatsWithDefault },
  cmlk: cmdhLinks('O'),
}, {}, CMDH_CHILD_TYPES);
const cmdhNwAccessRule = specialization('m2m:cmwr', 1018, {
  ttn: { type: 'stringList', create: 'M', update: 'O' },
  mrv: count('M'),
  swt: count('M'),
  bop: { type: 'object', create: 'M', update: 'O', check: checkBackOff },
  ohc: { type: 'any', create: 'O', update: 'O' },
  cmlk: cmdhLinks('M'),
}, {}, CMDH_CHILD_TYPES);
const cmdhBuffer = specialization('m2m:cmbf', 1019, {
  aec: { type: 'any', create: 'M', update: 'O', check: checkEventCatsWithDefault },
  mbfs: count('M'),
  sgp: { type: 'enum', create: 'M', update: 'O', values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] },
}, {}, CMDH_CHILD_TYPES);

// TS-0022 dataCollection: measurements either on a schedule (mesc) or at an interval (meil), never both.
function checkCollection(doc: Record<string, unknown>): void {
  if (doc.mesc !== undefined && doc.meil !== undefined) throw badRequest("attributes 'mesc' and 'meil' cannot both be set: measure on a schedule or at an interval");
}
const dataCollection = specialization('dcfg:datc', 1021, {
  cntp: text('M'),
  rpsc: { type: 'any', create: 'O', update: 'O', check: checkSchedules },
  mesc: { type: 'any', create: 'O', update: 'O', check: checkSchedules },
  meil: { type: 'positiveInteger', create: 'O', update: 'O' },
}, {
  beforeCreate(_ctx, resource) {
    checkCollection(resource.doc);
  },
  beforeUpdate(_ctx, resource) {
    checkCollection(resource.doc);
  },
});

// The other TS-0022 device configuration objects the community suite exercises: plain tables, except the
// WiFi credentials, whose members must fit the encryption type (as ACME checks them).
const myCertFileCred = specialization('dcfg:nycfc', 1023, {
  suids: { type: 'enumList', create: 'M', update: 'O', values: [10, 11, 12, 13, 14, 15, 21, 22, 23, 24, 25, 32, 33, 34, 35, 40, 41, 42, 43, 44, 45] },
  mcff: { type: 'anyURI', create: 'M', update: 'NP' },
  mcfc: text('M', 'NP'),
});

/** dcfg:wifiCredentials {enct, unm, pwd, wepk, wpap}: user name and password for enterprise, a WEP key for WEP, a pre-shared key for personal. */
function checkWifiCredentials(v: unknown): string | undefined {
  if (!isRecord(v)) return 'must be wifiCredentials {enct, …}';
  for (const [key, value] of Object.entries(v)) {
    if (!['enct', 'unm', 'pwd', 'wepk', 'wpap'].includes(key)) return `member '${quotedName(key)}' is not part of wifiCredentials`;
    if (key !== 'enct' && (typeof value !== 'string' || value.length > 1024)) return `member '${key}' must be a string`;
  }
  const enct = v.enct;
  if (!Number.isSafeInteger(enct) || (enct as number) < 1 || (enct as number) > 8) return "member 'enct' must be an encryption type 1 to 8";
  const enterprise = [6, 7, 8].includes(enct as number);
  const personal = [3, 4, 5].includes(enct as number);
  if ((v.unm !== undefined || v.pwd !== undefined) !== enterprise) return enterprise ? "needs 'unm' and 'pwd' for enct 6, 7 and 8" : "may hold 'unm' and 'pwd' only for enct 6, 7 and 8";
  if ((v.wepk !== undefined) !== (enct === 2)) return enct === 2 ? "needs 'wepk' for enct 2" : "may hold 'wepk' only for enct 2";
  if ((v.wpap !== undefined) !== personal) return personal ? "needs 'wpap' for enct 3, 4 and 5" : "may hold 'wpap' only for enct 3, 4 and 5";
  return undefined;
}

const wifiClient = specialization('dcfg:wific', 1028, {
  ssid: text('M'),
  wcrds: { type: 'object', create: 'O', update: 'O', check: checkWifiCredentials },
  maca: text(),
  chanl: text(),
  cons: { type: 'enum', create: 'O', update: 'O', values: [0, 1, 2, 3, 4, 5, 6] },
  scan: flag('M'),
  scanr: { type: 'stringList', create: 'O', update: 'O' },
  ud: flag(),
  uds: actionStatus('NP', 'O'),
  trdst: flag(),
  rdst: flag(),
}, {
  beforeCreate(_ctx, resource) {
    resource.doc = { scanr: [], ud: false, rdst: false, ...resource.doc, trdst: false, uds: { ...UNINITIALIZED } };
  },
  beforeUpdate(_ctx, resource) {
    // toggleRadioStatus is a trigger: it reads back false, as ACME keeps it.
    resource.doc.trdst = false;
  },
});

const credentials = specialization('dcfg:crds', 1029, { pur: text(), crid: text(), crse: text(), crtk: text() });

const sim = specialization('dcfg:sim', 1030, {
  imsi: text(),
  icid: text('M'),
  sist: { type: 'enum', create: 'O', update: 'O', values: [0, 1] },
  sity: { type: 'enum', create: 'O', update: 'O', values: [0, 1, 2, 3] },
  spn: text(),
});

/** A list of m2m:ipAddress {ip4, ip6}. */
function checkAddresses(v: unknown): string | undefined {
  if (!Array.isArray(v) || v.length > 64) return 'must be a list of at most 64 ipAddress {ip4, ip6}';
  for (const address of v) {
    if (!isRecord(address) || Object.entries(address).some(([k, a]) => !['ip4', 'ip6'].includes(k) || typeof a !== 'string' || a.length > 64)) return 'must be a list of ipAddress {ip4, ip6}';
  }
  return undefined;
}

const integer = (): AttributeSpec => ({ type: 'integer', create: 'O', update: 'O' });
const mobileNetwork = specialization('dcfg:mnwk', 1031, {
  cnb: { type: 'enum', create: 'M', update: 'O', values: [0, 1, 2, 3, 4, 5, 6, 7] },
  rss: integer(),
  liqu: integer(),
  ipad: { type: 'any', create: 'O', update: 'O', check: checkAddresses },
  ripa: { type: 'any', create: 'O', update: 'O', check: checkAddresses },
  apna: text(),
  ceid: integer(),
  smnc: integer(),
  smcc: integer(),
  lac: integer(),
  coel: { type: 'enum', create: 'O', update: 'O', values: [0, 1, 2, 3, 4] },
});

export const MGMT_OBJ_SPECIALIZATIONS: readonly ResourceTypeDefinition[] = [
  firmware,
  software,
  memory,
  areaNwkInfo,
  areaNwkDeviceInfo,
  battery,
  deviceInfo,
  deviceCapability,
  reboot,
  eventLog,
  cmdhPolicy,
  activeCmdhPolicy,
  cmdhDefaults,
  cmdhDefEcValue,
  cmdhEcDefParamValues,
  cmdhLimits,
  cmdhNetworkAccessRules,
  cmdhNwAccessRule,
  cmdhBuffer,
  dataCollection,
  myCertFileCred,
  wifiClient,
  credentials,
  sim,
  mobileNetwork,
];

/** The base type: what all specializations share; a request always names one of them. */
export const mgmtObjType = defineResourceType({
  ty: RESOURCE_TYPE.mgmtObj,
  typeName: 'm2m:mgo',
  attributes: { ...MGMT_OBJ, mgd: { type: 'enum', create: 'M', update: 'NP', values: MGMT_OBJ_SPECIALIZATIONS.map((s) => s.specializedBy?.value as number) } },
  childTypes: CHILD_TYPES,
  creatable: true,
  updatable: true,
  deletable: true,
  hasAcpi: true,
  hooks: {},
  specializations: MGMT_OBJ_SPECIALIZATIONS,
});
