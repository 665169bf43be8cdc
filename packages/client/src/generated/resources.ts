// GENERATED from Warden's attribute tables (src/resources/types/*.ts, src/primitive/rsc.ts) by
// packages/client/generate/generate.ts. Do not edit: change the tables and run the generator;
// test/client/generated.test.ts fails when this file and the tables differ.

/** Every resource type by its content name: its number (ty) and its name in TS-0004. */
export const RESOURCE_TYPES = {
  'm2m:acp': { ty: 1, name: 'AccessControlPolicy', creatable: true, updatable: true },
  'm2m:ae': { ty: 2, name: 'AE', creatable: true, updatable: true },
  'm2m:cnt': { ty: 3, name: 'Container', creatable: true, updatable: true },
  'm2m:cin': { ty: 4, name: 'ContentInstance', creatable: true, updatable: false },
  'm2m:cb': { ty: 5, name: 'CSEBase', creatable: false, updatable: false },
  'm2m:grp': { ty: 9, name: 'Group', creatable: true, updatable: true },
  'm2m:lcp': { ty: 10, name: 'LocationPolicy', creatable: true, updatable: true },
  'm2m:mgo': { ty: 13, name: 'MgmtObj', creatable: true, updatable: true },
  'm2m:fwr': { ty: 13, name: 'MgmtObjFwr', creatable: true, updatable: true },
  'm2m:swr': { ty: 13, name: 'MgmtObjSwr', creatable: true, updatable: true },
  'm2m:mem': { ty: 13, name: 'MgmtObjMem', creatable: true, updatable: true },
  'm2m:ani': { ty: 13, name: 'MgmtObjAni', creatable: true, updatable: true },
  'm2m:andi': { ty: 13, name: 'MgmtObjAndi', creatable: true, updatable: true },
  'm2m:bat': { ty: 13, name: 'MgmtObjBat', creatable: true, updatable: true },
  'm2m:dvi': { ty: 13, name: 'MgmtObjDvi', creatable: true, updatable: true },
  'm2m:dvc': { ty: 13, name: 'MgmtObjDvc', creatable: true, updatable: true },
  'm2m:rbo': { ty: 13, name: 'MgmtObjRbo', creatable: true, updatable: true },
  'm2m:evl': { ty: 13, name: 'MgmtObjEvl', creatable: true, updatable: true },
  'm2m:cmp': { ty: 13, name: 'MgmtObjCmp', creatable: true, updatable: true },
  'm2m:acmp': { ty: 13, name: 'MgmtObjAcmp', creatable: true, updatable: true },
  'm2m:cmdf': { ty: 13, name: 'MgmtObjCmdf', creatable: true, updatable: true },
  'm2m:cmdv': { ty: 13, name: 'MgmtObjCmdv', creatable: true, updatable: true },
  'm2m:cmpv': { ty: 13, name: 'MgmtObjCmpv', creatable: true, updatable: true },
  'm2m:cml': { ty: 13, name: 'MgmtObjCml', creatable: true, updatable: true },
  'm2m:cmnr': { ty: 13, name: 'MgmtObjCmnr', creatable: true, updatable: true },
  'm2m:cmwr': { ty: 13, name: 'MgmtObjCmwr', creatable: true, updatable: true },
  'm2m:cmbf': { ty: 13, name: 'MgmtObjCmbf', creatable: true, updatable: true },
  'dcfg:datc': { ty: 13, name: 'MgmtObjDatc', creatable: true, updatable: true },
  'dcfg:nycfc': { ty: 13, name: 'MgmtObjNycfc', creatable: true, updatable: true },
  'dcfg:wific': { ty: 13, name: 'MgmtObjWific', creatable: true, updatable: true },
  'dcfg:crds': { ty: 13, name: 'MgmtObjCrds', creatable: true, updatable: true },
  'dcfg:sim': { ty: 13, name: 'MgmtObjSim', creatable: true, updatable: true },
  'dcfg:mnwk': { ty: 13, name: 'MgmtObjMnwk', creatable: true, updatable: true },
  'm2m:nod': { ty: 14, name: 'Node', creatable: true, updatable: true },
  'm2m:pch': { ty: 15, name: 'PollingChannel', creatable: true, updatable: true },
  'm2m:csr': { ty: 16, name: 'RemoteCSE', creatable: true, updatable: true },
  'm2m:req': { ty: 17, name: 'Request', creatable: false, updatable: false },
  'm2m:sch': { ty: 18, name: 'Schedule', creatable: true, updatable: true },
  'm2m:sub': { ty: 23, name: 'Subscription', creatable: true, updatable: true },
  'm2m:smd': { ty: 24, name: 'SemanticDescriptor', creatable: true, updatable: true },
  'm2m:ntpr': { ty: 25, name: 'NotificationTargetMgmtPolicyRef', creatable: true, updatable: true },
  'm2m:ntp': { ty: 26, name: 'NotificationTargetPolicy', creatable: true, updatable: true },
  'm2m:pdr': { ty: 27, name: 'PolicyDeletionRules', creatable: true, updatable: true },
  'm2m:fcnt': { ty: 28, name: 'FlexContainer', creatable: true, updatable: true },
  'm2m:ts': { ty: 29, name: 'TimeSeries', creatable: true, updatable: true },
  'm2m:tsi': { ty: 30, name: 'TimeSeriesInstance', creatable: true, updatable: false },
  'm2m:rol': { ty: 31, name: 'Role', creatable: true, updatable: true },
  'm2m:tk': { ty: 32, name: 'Token', creatable: true, updatable: true },
  'm2m:dac': { ty: 34, name: 'DynamicAuthorizationConsultation', creatable: true, updatable: true },
  'm2m:crs': { ty: 48, name: 'CrossResourceSubscription', creatable: true, updatable: true },
  'm2m:fci': { ty: 58, name: 'FlexContainerInstance', creatable: false, updatable: false },
  'm2m:tsb': { ty: 60, name: 'TimeSyncBeacon', creatable: true, updatable: true },
  'm2m:actr': { ty: 65, name: 'Action', creatable: true, updatable: true },
  'm2m:depr': { ty: 66, name: 'Dependency', creatable: true, updatable: true },
} as const;

/** A content name such as `m2m:cnt`. */
export type TypeName = keyof typeof RESOURCE_TYPES;

/** <m2m:acp> (ty 1) as the CSE shows it. */
export interface AccessControlPolicy {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** timestamp; create NP, update NP */
  ct?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** string; create NP, update NP */
  pi?: string;
  /** object; create M, update O */
  pv?: Record<string, unknown>;
  /** object; create M, update O */
  pvs?: Record<string, unknown>;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:acp> may carry (M required, O optional, NP left out). */
export interface AccessControlPolicyCreate {
  aa?: string[];
  ast?: 1 | 2;
  at?: string[];
  et?: string;
  lbl?: string[];
  pv: Record<string, unknown>;
  pvs: Record<string, unknown>;
  rn?: string;
}

/** What an UPDATE of <m2m:acp> may carry (null removes an optional attribute). */
export interface AccessControlPolicyUpdate {
  aa?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  et?: string | null;
  lbl?: string[] | null;
  pv?: Record<string, unknown> | null;
  pvs?: Record<string, unknown> | null;
}

/** <m2m:ae> (ty 2) as the CSE shows it. */
export interface AE {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** string; create NP, update NP */
  aei?: string;
  /** string; create M, update NP, at most 255 */
  api?: string;
  /** string; create O, update O, at most 255 */
  apn?: string;
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** anyURI; create O, update O */
  cstn?: string;
  /** stringList; create O, update O, at most 8 */
  csz?: string[];
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** object; create O, update O */
  loc?: Record<string, unknown>;
  /** timestamp; create NP, update NP */
  lt?: string;
  /** anyURI; create O, update O */
  nl?: string;
  /** anyURI; create O, update O */
  or?: string;
  /** string; create NP, update NP */
  pi?: string;
  /** anyURIList; create O, update O, at most 32 */
  poa?: string[];
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** boolean; create M, update O */
  rr?: boolean;
  /** stringList; create O, update O, at most 16 */
  srv?: string[];
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:ae> may carry (M required, O optional, NP left out). */
export interface AECreate {
  aa?: string[];
  acpi?: string[];
  api: string;
  apn?: string;
  ast?: 1 | 2;
  at?: string[];
  cstn?: string;
  csz?: string[];
  daci?: string[];
  et?: string;
  lbl?: string[];
  loc?: Record<string, unknown>;
  nl?: string;
  or?: string;
  poa?: string[];
  rn?: string;
  rr: boolean;
  srv?: string[];
}

/** What an UPDATE of <m2m:ae> may carry (null removes an optional attribute). */
export interface AEUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  apn?: string | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cstn?: string | null;
  csz?: string[] | null;
  daci?: string[] | null;
  et?: string | null;
  lbl?: string[] | null;
  loc?: Record<string, unknown> | null;
  nl?: string | null;
  or?: string | null;
  poa?: string[] | null;
  rr?: boolean | null;
  srv?: string[] | null;
}

/** <m2m:cnt> (ty 3) as the CSE shows it. */
export interface Container {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** nonNegInteger; create NP, update NP */
  cbs?: number;
  /** nonNegInteger; create NP, update NP */
  cni?: number;
  /** any; create O, update NP */
  cr?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** boolean; create O, update O */
  disr?: boolean;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** anyURI; create NP, update NP */
  li?: string;
  /** object; create O, update O */
  loc?: Record<string, unknown>;
  /** timestamp; create NP, update NP */
  lt?: string;
  /** nonNegInteger; create O, update O */
  mbs?: number;
  /** nonNegInteger; create O, update O */
  mia?: number;
  /** nonNegInteger; create O, update O */
  mni?: number;
  /** anyURI; create O, update O */
  or?: string;
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** nonNegInteger; create NP, update NP */
  st?: number;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:cnt> may carry (M required, O optional, NP left out). */
export interface ContainerCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  cr?: null;
  cstn?: string;
  daci?: string[];
  disr?: boolean;
  et?: string;
  lbl?: string[];
  loc?: Record<string, unknown>;
  mbs?: number;
  mia?: number;
  mni?: number;
  or?: string;
  rn?: string;
}

/** What an UPDATE of <m2m:cnt> may carry (null removes an optional attribute). */
export interface ContainerUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cstn?: string | null;
  daci?: string[] | null;
  disr?: boolean | null;
  et?: string | null;
  lbl?: string[] | null;
  loc?: Record<string, unknown> | null;
  mbs?: number | null;
  mia?: number | null;
  mni?: number | null;
  or?: string | null;
}

/** <m2m:cin> (ty 4) as the CSE shows it. */
export interface ContentInstance {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** string; create O, update NP, at most 1024 */
  cnf?: string;
  /** any; create M, update NP */
  con?: unknown;
  /** any; create O, update NP */
  conr?: unknown;
  /** any; create O, update NP */
  cr?: unknown;
  /** nonNegInteger; create NP, update NP */
  cs?: number;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** positiveInteger; create O, update NP */
  dcnt?: number;
  /** timestamp; create O, update NP */
  dgt?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** object; create O, update NP */
  loc?: Record<string, unknown>;
  /** timestamp; create NP, update NP */
  lt?: string;
  /** anyURI; create O, update NP */
  or?: string;
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** nonNegInteger; create NP, update NP */
  st?: number;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:cin> may carry (M required, O optional, NP left out). */
export interface ContentInstanceCreate {
  aa?: string[];
  ast?: 1 | 2;
  at?: string[];
  cnf?: string;
  con: unknown;
  conr?: unknown;
  cr?: null;
  dcnt?: number;
  dgt?: string;
  et?: string;
  lbl?: string[];
  loc?: Record<string, unknown>;
  or?: string;
  rn?: string;
}

/** What an UPDATE of <m2m:cin> may carry (null removes an optional attribute). */
export interface ContentInstanceUpdate {
  aa?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  et?: string | null;
  lbl?: string[] | null;
}

/** <m2m:cb> (ty 5) as the CSE shows it. */
export interface CSEBase {
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** string; create NP, update NP */
  csi?: string;
  /** enum; create NP, update NP */
  cst?: 1 | 2 | 3;
  /** anyURI; create O, update O */
  cstn?: string;
  /** stringList; create NP, update NP */
  csz?: string[];
  /** timestamp; create NP, update NP */
  ct?: string;
  /** timestamp; create NP, update NP */
  ctm?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** stringList; create O, update O */
  lbl?: string[];
  /** object; create O, update O */
  loc?: Record<string, unknown>;
  /** timestamp; create NP, update NP */
  lt?: string;
  /** string; create NP, update NP */
  pi?: string;
  /** anyURIList; create NP, update O */
  poa?: string[];
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** string; create NP, update NP */
  spi?: string;
  /** enumList; create NP, update NP */
  srt?: number[];
  /** stringList; create NP, update NP */
  srv?: string[];
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:cb> may carry (M required, O optional, NP left out). */
export interface CSEBaseCreate {
  acpi?: string[];
  cstn?: string;
  daci?: string[];
  lbl?: string[];
  loc?: Record<string, unknown>;
  rn?: string;
}

/** What an UPDATE of <m2m:cb> may carry (null removes an optional attribute). */
export interface CSEBaseUpdate {
  acpi?: string[] | null;
  cstn?: string | null;
  daci?: string[] | null;
  lbl?: string[] | null;
  loc?: Record<string, unknown> | null;
  poa?: string[] | null;
}

/** <m2m:grp> (ty 9) as the CSE shows it. */
export interface Group {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** nonNegInteger; create NP, update NP */
  cnm?: number;
  /** any; create O, update NP */
  cr?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** enum; create O, update NP */
  csy?: 1 | 2 | 3;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** timestamp; create O, update O */
  et?: string;
  /** string; create O, update O, at most 255 */
  gn?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** anyURIList; create O, update O */
  macp?: string[];
  /** anyURIList; create M, update O, at most 10000 */
  mid?: string[];
  /** positiveInteger; create M, update O */
  mnm?: number;
  /** nonNegInteger; create O, update NP */
  mt?: number;
  /** boolean; create NP, update NP */
  mtv?: boolean;
  /** object; create O, update O */
  nar?: Record<string, unknown>;
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:grp> may carry (M required, O optional, NP left out). */
export interface GroupCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  cr?: null;
  cstn?: string;
  csy?: 1 | 2 | 3;
  daci?: string[];
  et?: string;
  gn?: string;
  lbl?: string[];
  macp?: string[];
  mid: string[];
  mnm: number;
  mt?: number;
  nar?: Record<string, unknown>;
  rn?: string;
}

/** What an UPDATE of <m2m:grp> may carry (null removes an optional attribute). */
export interface GroupUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cstn?: string | null;
  daci?: string[] | null;
  et?: string | null;
  gn?: string | null;
  lbl?: string[] | null;
  macp?: string[] | null;
  mid?: string[] | null;
  mnm?: number | null;
  nar?: Record<string, unknown> | null;
}

/** <m2m:lcp> (ty 10) as the CSE shows it. */
export interface LocationPolicy {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** string; create O, update O, at most 256 */
  aid?: string;
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** timestamp; create O, update O */
  et?: string;
  /** enum; create O, update O */
  gec?: 1 | 2 | 3 | 4;
  /** any; create O, update O */
  gta?: unknown;
  /** stringList; create O, update O */
  lbl?: string[];
  /** enum; create O, update O */
  lit?: 1 | 2;
  /** anyURI; create NP, update NP */
  loi?: string;
  /** string; create O, update NP */
  lon?: string;
  /** anyURI; create O, update NP */
  lor?: string;
  /** enum; create M, update NP */
  los?: 1 | 2 | 3;
  /** string; create NP, update NP */
  lost?: string;
  /** string; create O, update NP, at most 256 */
  lot?: string;
  /** list; create O, update O */
  lou?: unknown[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** enum; create O, update O */
  luec?: 0;
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** boolean; create O, update O */
  rlkl?: boolean;
  /** string; create O, update NP */
  rn?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:lcp> may carry (M required, O optional, NP left out). */
export interface LocationPolicyCreate {
  aa?: string[];
  acpi?: string[];
  aid?: string;
  ast?: 1 | 2;
  at?: string[];
  cstn?: string;
  daci?: string[];
  et?: string;
  gec?: 1 | 2 | 3 | 4;
  gta?: unknown;
  lbl?: string[];
  lit?: 1 | 2;
  lon?: string;
  lor?: string;
  los: 1 | 2 | 3;
  lot?: string;
  lou?: unknown[];
  luec?: 0;
  rlkl?: boolean;
  rn?: string;
}

/** What an UPDATE of <m2m:lcp> may carry (null removes an optional attribute). */
export interface LocationPolicyUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  aid?: string | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cstn?: string | null;
  daci?: string[] | null;
  et?: string | null;
  gec?: 1 | 2 | 3 | 4 | null;
  gta?: unknown;
  lbl?: string[] | null;
  lit?: 1 | 2 | null;
  lou?: unknown[] | null;
  luec?: 0 | null;
  rlkl?: boolean | null;
}

/** <m2m:mgo> (ty 13) as the CSE shows it. */
export interface MgmtObj {
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** any; create O, update O */
  cmlk?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** string; create O, update O */
  dc?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** enum; create M, update NP */
  mgd?: 1001 | 1002 | 1003 | 1004 | 1005 | 1006 | 1007 | 1008 | 1009 | 1010 | 1011 | 1012 | 1013 | 1014 | 1015 | 1016 | 1017 | 1018 | 1019 | 1021 | 1023 | 1028 | 1029 | 1030 | 1031;
  /** anyURI; create O, update NP */
  mgs?: string;
  /** anyURIList; create O, update NP */
  obis?: string[];
  /** anyURIList; create O, update NP */
  obps?: string[];
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:mgo> may carry (M required, O optional, NP left out). */
export interface MgmtObjCreate {
  acpi?: string[];
  cmlk?: unknown;
  cstn?: string;
  daci?: string[];
  dc?: string;
  et?: string;
  lbl?: string[];
  mgd: 1001 | 1002 | 1003 | 1004 | 1005 | 1006 | 1007 | 1008 | 1009 | 1010 | 1011 | 1012 | 1013 | 1014 | 1015 | 1016 | 1017 | 1018 | 1019 | 1021 | 1023 | 1028 | 1029 | 1030 | 1031;
  mgs?: string;
  obis?: string[];
  obps?: string[];
  rn?: string;
}

/** What an UPDATE of <m2m:mgo> may carry (null removes an optional attribute). */
export interface MgmtObjUpdate {
  acpi?: string[] | null;
  cmlk?: unknown;
  cstn?: string | null;
  daci?: string[] | null;
  dc?: string | null;
  et?: string | null;
  lbl?: string[] | null;
}

/** <m2m:fwr> (ty 13) as the CSE shows it. */
export interface MgmtObjFwr {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** any; create O, update O */
  cmlk?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** string; create O, update O */
  dc?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** string; create M, update O */
  fwn?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** enum; create M, update NP */
  mgd?: 1001;
  /** anyURI; create O, update NP */
  mgs?: string;
  /** anyURIList; create O, update NP */
  obis?: string[];
  /** anyURIList; create O, update NP */
  obps?: string[];
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** enum; create NP, update NP */
  ty?: number;
  /** boolean; create M, update O */
  ud?: boolean;
  /** object; create NP, update O */
  uds?: Record<string, unknown>;
  /** anyURI; create M, update O */
  url?: string;
  /** string; create M, update O */
  vr?: string;
}

/** What a CREATE of <m2m:fwr> may carry (M required, O optional, NP left out). */
export interface MgmtObjFwrCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  cmlk?: unknown;
  cstn?: string;
  daci?: string[];
  dc?: string;
  et?: string;
  fwn: string;
  lbl?: string[];
  mgd: 1001;
  mgs?: string;
  obis?: string[];
  obps?: string[];
  rn?: string;
  ud: boolean;
  url: string;
  vr: string;
}

/** What an UPDATE of <m2m:fwr> may carry (null removes an optional attribute). */
export interface MgmtObjFwrUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cmlk?: unknown;
  cstn?: string | null;
  daci?: string[] | null;
  dc?: string | null;
  et?: string | null;
  fwn?: string | null;
  lbl?: string[] | null;
  ud?: boolean | null;
  uds?: Record<string, unknown> | null;
  url?: string | null;
  vr?: string | null;
}

/** <m2m:swr> (ty 13) as the CSE shows it. */
export interface MgmtObjSwr {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** boolean; create NP, update O */
  act?: boolean;
  /** object; create NP, update NP */
  acts?: Record<string, unknown>;
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** any; create O, update O */
  cmlk?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** string; create O, update O */
  dc?: string;
  /** boolean; create NP, update O */
  dea?: boolean;
  /** timestamp; create O, update O */
  et?: string;
  /** boolean; create NP, update O */
  in?: boolean;
  /** object; create NP, update NP */
  ins?: Record<string, unknown>;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** enum; create M, update NP */
  mgd?: 1002;
  /** anyURI; create O, update NP */
  mgs?: string;
  /** anyURIList; create O, update NP */
  obis?: string[];
  /** anyURIList; create O, update NP */
  obps?: string[];
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** string; create M, update O */
  swn?: string;
  /** enum; create NP, update NP */
  ty?: number;
  /** boolean; create NP, update O */
  un?: boolean;
  /** anyURI; create M, update O */
  url?: string;
  /** string; create M, update O */
  vr?: string;
}

/** What a CREATE of <m2m:swr> may carry (M required, O optional, NP left out). */
export interface MgmtObjSwrCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  cmlk?: unknown;
  cstn?: string;
  daci?: string[];
  dc?: string;
  et?: string;
  lbl?: string[];
  mgd: 1002;
  mgs?: string;
  obis?: string[];
  obps?: string[];
  rn?: string;
  swn: string;
  url: string;
  vr: string;
}

/** What an UPDATE of <m2m:swr> may carry (null removes an optional attribute). */
export interface MgmtObjSwrUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  act?: boolean | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cmlk?: unknown;
  cstn?: string | null;
  daci?: string[] | null;
  dc?: string | null;
  dea?: boolean | null;
  et?: string | null;
  in?: boolean | null;
  lbl?: string[] | null;
  swn?: string | null;
  un?: boolean | null;
  url?: string | null;
  vr?: string | null;
}

/** <m2m:mem> (ty 13) as the CSE shows it. */
export interface MgmtObjMem {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** any; create O, update O */
  cmlk?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** string; create O, update O */
  dc?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** enum; create M, update NP */
  mgd?: 1003;
  /** anyURI; create O, update NP */
  mgs?: string;
  /** nonNegInteger; create M, update O */
  mma?: number;
  /** nonNegInteger; create M, update O */
  mmt?: number;
  /** anyURIList; create O, update NP */
  obis?: string[];
  /** anyURIList; create O, update NP */
  obps?: string[];
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:mem> may carry (M required, O optional, NP left out). */
export interface MgmtObjMemCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  cmlk?: unknown;
  cstn?: string;
  daci?: string[];
  dc?: string;
  et?: string;
  lbl?: string[];
  mgd: 1003;
  mgs?: string;
  mma: number;
  mmt: number;
  obis?: string[];
  obps?: string[];
  rn?: string;
}

/** What an UPDATE of <m2m:mem> may carry (null removes an optional attribute). */
export interface MgmtObjMemUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cmlk?: unknown;
  cstn?: string | null;
  daci?: string[] | null;
  dc?: string | null;
  et?: string | null;
  lbl?: string[] | null;
  mma?: number | null;
  mmt?: number | null;
}

/** <m2m:ani> (ty 13) as the CSE shows it. */
export interface MgmtObjAni {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** string; create M, update O */
  ant?: string;
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** any; create O, update O */
  cmlk?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** string; create O, update O */
  dc?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** anyURIList; create O, update O */
  ldv?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** enum; create M, update NP */
  mgd?: 1004;
  /** anyURI; create O, update NP */
  mgs?: string;
  /** anyURIList; create O, update NP */
  obis?: string[];
  /** anyURIList; create O, update NP */
  obps?: string[];
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:ani> may carry (M required, O optional, NP left out). */
export interface MgmtObjAniCreate {
  aa?: string[];
  acpi?: string[];
  ant: string;
  ast?: 1 | 2;
  at?: string[];
  cmlk?: unknown;
  cstn?: string;
  daci?: string[];
  dc?: string;
  et?: string;
  lbl?: string[];
  ldv?: string[];
  mgd: 1004;
  mgs?: string;
  obis?: string[];
  obps?: string[];
  rn?: string;
}

/** What an UPDATE of <m2m:ani> may carry (null removes an optional attribute). */
export interface MgmtObjAniUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ant?: string | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cmlk?: unknown;
  cstn?: string | null;
  daci?: string[] | null;
  dc?: string | null;
  et?: string | null;
  lbl?: string[] | null;
  ldv?: string[] | null;
}

/** <m2m:andi> (ty 13) as the CSE shows it. */
export interface MgmtObjAndi {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** anyURI; create M, update O */
  awi?: string;
  /** any; create O, update O */
  cmlk?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** string; create O, update O */
  dc?: string;
  /** string; create M, update O */
  dvd?: string;
  /** string; create M, update O */
  dvt?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** anyURIList; create O, update O */
  lnh?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** enum; create M, update NP */
  mgd?: 1005;
  /** anyURI; create O, update NP */
  mgs?: string;
  /** anyURIList; create O, update NP */
  obis?: string[];
  /** anyURIList; create O, update NP */
  obps?: string[];
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** nonNegInteger; create O, update O */
  sld?: number;
  /** nonNegInteger; create O, update O */
  sli?: number;
  /** string; create O, update O */
  ss?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:andi> may carry (M required, O optional, NP left out). */
export interface MgmtObjAndiCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  awi: string;
  cmlk?: unknown;
  cstn?: string;
  daci?: string[];
  dc?: string;
  dvd: string;
  dvt: string;
  et?: string;
  lbl?: string[];
  lnh?: string[];
  mgd: 1005;
  mgs?: string;
  obis?: string[];
  obps?: string[];
  rn?: string;
  sld?: number;
  sli?: number;
  ss?: string;
}

/** What an UPDATE of <m2m:andi> may carry (null removes an optional attribute). */
export interface MgmtObjAndiUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  awi?: string | null;
  cmlk?: unknown;
  cstn?: string | null;
  daci?: string[] | null;
  dc?: string | null;
  dvd?: string | null;
  dvt?: string | null;
  et?: string | null;
  lbl?: string[] | null;
  lnh?: string[] | null;
  sld?: number | null;
  sli?: number | null;
  ss?: string | null;
}

/** <m2m:bat> (ty 13) as the CSE shows it. */
export interface MgmtObjBat {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** nonNegInteger; create M, update O */
  btl?: number;
  /** enum; create M, update O */
  bts?: 1 | 2 | 3 | 4 | 5 | 6 | 7;
  /** any; create O, update O */
  cmlk?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** string; create O, update O */
  dc?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** enum; create M, update NP */
  mgd?: 1006;
  /** anyURI; create O, update NP */
  mgs?: string;
  /** anyURIList; create O, update NP */
  obis?: string[];
  /** anyURIList; create O, update NP */
  obps?: string[];
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:bat> may carry (M required, O optional, NP left out). */
export interface MgmtObjBatCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  btl: number;
  bts: 1 | 2 | 3 | 4 | 5 | 6 | 7;
  cmlk?: unknown;
  cstn?: string;
  daci?: string[];
  dc?: string;
  et?: string;
  lbl?: string[];
  mgd: 1006;
  mgs?: string;
  obis?: string[];
  obps?: string[];
  rn?: string;
}

/** What an UPDATE of <m2m:bat> may carry (null removes an optional attribute). */
export interface MgmtObjBatUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  btl?: number | null;
  bts?: 1 | 2 | 3 | 4 | 5 | 6 | 7 | null;
  cmlk?: unknown;
  cstn?: string | null;
  daci?: string[] | null;
  dc?: string | null;
  et?: string | null;
  lbl?: string[] | null;
}

/** <m2m:dvi> (ty 13) as the CSE shows it. */
export interface MgmtObjDvi {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** any; create O, update O */
  cmlk?: unknown;
  /** string; create O, update NP */
  cnty?: string;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** string; create O, update O */
  dc?: string;
  /** string; create M, update O */
  dlb?: string;
  /** string; create M, update O */
  dty?: string;
  /** string; create O, update O */
  dvnm?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** string; create O, update O */
  fwv?: string;
  /** string; create O, update NP */
  hwv?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** string; create O, update O */
  loc?: string;
  /** timestamp; create NP, update NP */
  lt?: string;
  /** string; create M, update O */
  man?: string;
  /** timestamp; create O, update O */
  mfd?: string;
  /** string; create O, update O */
  mfdl?: string;
  /** enum; create M, update NP */
  mgd?: 1007;
  /** anyURI; create O, update NP */
  mgs?: string;
  /** string; create M, update O */
  mod?: string;
  /** anyURIList; create O, update NP */
  obis?: string[];
  /** anyURIList; create O, update NP */
  obps?: string[];
  /** string; create O, update O */
  osv?: string;
  /** string; create NP, update NP */
  pi?: string;
  /** stringList; create O, update O */
  ptl?: string[];
  /** anyURI; create O, update O */
  purl?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** string; create O, update O */
  smod?: string;
  /** anyURI; create O, update O */
  spur?: string;
  /** string; create O, update O */
  swv?: string;
  /** timestamp; create O, update O */
  syst?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:dvi> may carry (M required, O optional, NP left out). */
export interface MgmtObjDviCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  cmlk?: unknown;
  cnty?: string;
  cstn?: string;
  daci?: string[];
  dc?: string;
  dlb: string;
  dty: string;
  dvnm?: string;
  et?: string;
  fwv?: string;
  hwv?: string;
  lbl?: string[];
  loc?: string;
  man: string;
  mfd?: string;
  mfdl?: string;
  mgd: 1007;
  mgs?: string;
  mod: string;
  obis?: string[];
  obps?: string[];
  osv?: string;
  ptl?: string[];
  purl?: string;
  rn?: string;
  smod?: string;
  spur?: string;
  swv?: string;
  syst?: string;
}

/** What an UPDATE of <m2m:dvi> may carry (null removes an optional attribute). */
export interface MgmtObjDviUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cmlk?: unknown;
  cstn?: string | null;
  daci?: string[] | null;
  dc?: string | null;
  dlb?: string | null;
  dty?: string | null;
  dvnm?: string | null;
  et?: string | null;
  fwv?: string | null;
  lbl?: string[] | null;
  loc?: string | null;
  man?: string | null;
  mfd?: string | null;
  mfdl?: string | null;
  mod?: string | null;
  osv?: string | null;
  ptl?: string[] | null;
  purl?: string | null;
  smod?: string | null;
  spur?: string | null;
  swv?: string | null;
  syst?: string | null;
}

/** <m2m:dvc> (ty 13) as the CSE shows it. */
export interface MgmtObjDvc {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** boolean; create M, update O */
  att?: boolean;
  /** string; create M, update O */
  can?: string;
  /** object; create M, update O */
  cas?: Record<string, unknown>;
  /** any; create O, update O */
  cmlk?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** boolean; create M, update O */
  cus?: boolean;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** string; create O, update O */
  dc?: string;
  /** boolean; create O, update O */
  dis?: boolean;
  /** boolean; create O, update O */
  ena?: boolean;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** enum; create M, update NP */
  mgd?: 1008;
  /** anyURI; create O, update NP */
  mgs?: string;
  /** anyURIList; create O, update NP */
  obis?: string[];
  /** anyURIList; create O, update NP */
  obps?: string[];
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:dvc> may carry (M required, O optional, NP left out). */
export interface MgmtObjDvcCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  att: boolean;
  can: string;
  cas: Record<string, unknown>;
  cmlk?: unknown;
  cstn?: string;
  cus: boolean;
  daci?: string[];
  dc?: string;
  dis?: boolean;
  ena?: boolean;
  et?: string;
  lbl?: string[];
  mgd: 1008;
  mgs?: string;
  obis?: string[];
  obps?: string[];
  rn?: string;
}

/** What an UPDATE of <m2m:dvc> may carry (null removes an optional attribute). */
export interface MgmtObjDvcUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  att?: boolean | null;
  can?: string | null;
  cas?: Record<string, unknown> | null;
  cmlk?: unknown;
  cstn?: string | null;
  cus?: boolean | null;
  daci?: string[] | null;
  dc?: string | null;
  dis?: boolean | null;
  ena?: boolean | null;
  et?: string | null;
  lbl?: string[] | null;
}

/** <m2m:rbo> (ty 13) as the CSE shows it. */
export interface MgmtObjRbo {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** any; create O, update O */
  cmlk?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** string; create O, update O */
  dc?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** boolean; create O, update O */
  far?: boolean;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** enum; create M, update NP */
  mgd?: 1009;
  /** anyURI; create O, update NP */
  mgs?: string;
  /** anyURIList; create O, update NP */
  obis?: string[];
  /** anyURIList; create O, update NP */
  obps?: string[];
  /** string; create NP, update NP */
  pi?: string;
  /** boolean; create O, update O */
  rbo?: boolean;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:rbo> may carry (M required, O optional, NP left out). */
export interface MgmtObjRboCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  cmlk?: unknown;
  cstn?: string;
  daci?: string[];
  dc?: string;
  et?: string;
  far?: boolean;
  lbl?: string[];
  mgd: 1009;
  mgs?: string;
  obis?: string[];
  obps?: string[];
  rbo?: boolean;
  rn?: string;
}

/** What an UPDATE of <m2m:rbo> may carry (null removes an optional attribute). */
export interface MgmtObjRboUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cmlk?: unknown;
  cstn?: string | null;
  daci?: string[] | null;
  dc?: string | null;
  et?: string | null;
  far?: boolean | null;
  lbl?: string[] | null;
  rbo?: boolean | null;
}

/** <m2m:evl> (ty 13) as the CSE shows it. */
export interface MgmtObjEvl {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** any; create O, update O */
  cmlk?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** string; create O, update O */
  dc?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** boolean; create O, update O */
  lga?: boolean;
  /** string; create M, update O */
  lgd?: string;
  /** boolean; create O, update O */
  lgo?: boolean;
  /** enum; create M, update O */
  lgst?: 1 | 2 | 3 | 4 | 5;
  /** enum; create M, update O */
  lgt?: 1 | 2 | 3 | 4 | 5;
  /** timestamp; create NP, update NP */
  lt?: string;
  /** enum; create M, update NP */
  mgd?: 1010;
  /** anyURI; create O, update NP */
  mgs?: string;
  /** anyURIList; create O, update NP */
  obis?: string[];
  /** anyURIList; create O, update NP */
  obps?: string[];
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:evl> may carry (M required, O optional, NP left out). */
export interface MgmtObjEvlCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  cmlk?: unknown;
  cstn?: string;
  daci?: string[];
  dc?: string;
  et?: string;
  lbl?: string[];
  lga?: boolean;
  lgd: string;
  lgo?: boolean;
  lgst: 1 | 2 | 3 | 4 | 5;
  lgt: 1 | 2 | 3 | 4 | 5;
  mgd: 1010;
  mgs?: string;
  obis?: string[];
  obps?: string[];
  rn?: string;
}

/** What an UPDATE of <m2m:evl> may carry (null removes an optional attribute). */
export interface MgmtObjEvlUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cmlk?: unknown;
  cstn?: string | null;
  daci?: string[] | null;
  dc?: string | null;
  et?: string | null;
  lbl?: string[] | null;
  lga?: boolean | null;
  lgd?: string | null;
  lgo?: boolean | null;
  lgst?: 1 | 2 | 3 | 4 | 5 | null;
  lgt?: 1 | 2 | 3 | 4 | 5 | null;
}

/** <m2m:cmp> (ty 13) as the CSE shows it. */
export interface MgmtObjCmp {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** any; create M, update O */
  cmlk?: unknown;
  /** string; create M, update O */
  cpn?: string;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** string; create O, update O */
  dc?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** enum; create M, update NP */
  mgd?: 1011;
  /** anyURI; create O, update NP */
  mgs?: string;
  /** anyURIList; create O, update NP */
  obis?: string[];
  /** anyURIList; create O, update NP */
  obps?: string[];
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:cmp> may carry (M required, O optional, NP left out). */
export interface MgmtObjCmpCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  cmlk: unknown;
  cpn: string;
  cstn?: string;
  daci?: string[];
  dc?: string;
  et?: string;
  lbl?: string[];
  mgd: 1011;
  mgs?: string;
  obis?: string[];
  obps?: string[];
  rn?: string;
}

/** What an UPDATE of <m2m:cmp> may carry (null removes an optional attribute). */
export interface MgmtObjCmpUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cmlk?: unknown;
  cpn?: string | null;
  cstn?: string | null;
  daci?: string[] | null;
  dc?: string | null;
  et?: string | null;
  lbl?: string[] | null;
}

/** <m2m:acmp> (ty 13) as the CSE shows it. */
export interface MgmtObjAcmp {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** string; create M, update O */
  acmlk?: string;
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** any; create O, update O */
  cmlk?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** string; create O, update O */
  dc?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** enum; create M, update NP */
  mgd?: 1012;
  /** anyURI; create O, update NP */
  mgs?: string;
  /** anyURIList; create O, update NP */
  obis?: string[];
  /** anyURIList; create O, update NP */
  obps?: string[];
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:acmp> may carry (M required, O optional, NP left out). */
export interface MgmtObjAcmpCreate {
  aa?: string[];
  acmlk: string;
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  cmlk?: unknown;
  cstn?: string;
  daci?: string[];
  dc?: string;
  et?: string;
  lbl?: string[];
  mgd: 1012;
  mgs?: string;
  obis?: string[];
  obps?: string[];
  rn?: string;
}

/** What an UPDATE of <m2m:acmp> may carry (null removes an optional attribute). */
export interface MgmtObjAcmpUpdate {
  aa?: string[] | null;
  acmlk?: string | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cmlk?: unknown;
  cstn?: string | null;
  daci?: string[] | null;
  dc?: string | null;
  et?: string | null;
  lbl?: string[] | null;
}

/** <m2m:cmdf> (ty 13) as the CSE shows it. */
export interface MgmtObjCmdf {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** any; create M, update O */
  cmlk?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** string; create O, update O */
  dc?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** enum; create M, update NP */
  mgd?: 1013;
  /** anyURI; create O, update NP */
  mgs?: string;
  /** anyURIList; create O, update NP */
  obis?: string[];
  /** anyURIList; create O, update NP */
  obps?: string[];
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:cmdf> may carry (M required, O optional, NP left out). */
export interface MgmtObjCmdfCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  cmlk: unknown;
  cstn?: string;
  daci?: string[];
  dc?: string;
  et?: string;
  lbl?: string[];
  mgd: 1013;
  mgs?: string;
  obis?: string[];
  obps?: string[];
  rn?: string;
}

/** What an UPDATE of <m2m:cmdf> may carry (null removes an optional attribute). */
export interface MgmtObjCmdfUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cmlk?: unknown;
  cstn?: string | null;
  daci?: string[] | null;
  dc?: string | null;
  et?: string | null;
  lbl?: string[] | null;
}

/** <m2m:cmdv> (ty 13) as the CSE shows it. */
export interface MgmtObjCmdv {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** any; create O, update O */
  cmlk?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** string; create O, update O */
  dc?: string;
  /** integer; create M, update O */
  dev?: number;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** enum; create M, update NP */
  mgd?: 1014;
  /** anyURI; create O, update NP */
  mgs?: string;
  /** anyURIList; create O, update NP */
  obis?: string[];
  /** anyURIList; create O, update NP */
  obps?: string[];
  /** positiveInteger; create M, update O */
  od?: number;
  /** string; create NP, update NP */
  pi?: string;
  /** any; create O, update O */
  rch?: unknown;
  /** any; create O, update O */
  rct?: unknown;
  /** boolean; create O, update O */
  rctn?: boolean;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** stringList; create M, update O */
  ror?: string[];
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:cmdv> may carry (M required, O optional, NP left out). */
export interface MgmtObjCmdvCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  cmlk?: unknown;
  cstn?: string;
  daci?: string[];
  dc?: string;
  dev: number;
  et?: string;
  lbl?: string[];
  mgd: 1014;
  mgs?: string;
  obis?: string[];
  obps?: string[];
  od: number;
  rch?: unknown;
  rct?: unknown;
  rctn?: boolean;
  rn?: string;
  ror: string[];
}

/** What an UPDATE of <m2m:cmdv> may carry (null removes an optional attribute). */
export interface MgmtObjCmdvUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cmlk?: unknown;
  cstn?: string | null;
  daci?: string[] | null;
  dc?: string | null;
  dev?: number | null;
  et?: string | null;
  lbl?: string[] | null;
  od?: number | null;
  rch?: unknown;
  rct?: unknown;
  rctn?: boolean | null;
  ror?: string[] | null;
}

/** <m2m:cmpv> (ty 13) as the CSE shows it. */
export interface MgmtObjCmpv {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** any; create M, update O */
  aec?: unknown;
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** any; create O, update O */
  cmlk?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** string; create O, update O */
  dc?: string;
  /** boolean; create M, update O */
  dda?: boolean;
  /** integer; create M, update O */
  doet?: number;
  /** integer; create M, update O */
  dqet?: number;
  /** integer; create M, update O */
  drp?: number;
  /** integer; create M, update O */
  dset?: number;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** enum; create M, update NP */
  mgd?: 1015;
  /** anyURI; create O, update NP */
  mgs?: string;
  /** anyURIList; create O, update NP */
  obis?: string[];
  /** anyURIList; create O, update NP */
  obps?: string[];
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:cmpv> may carry (M required, O optional, NP left out). */
export interface MgmtObjCmpvCreate {
  aa?: string[];
  acpi?: string[];
  aec: unknown;
  ast?: 1 | 2;
  at?: string[];
  cmlk?: unknown;
  cstn?: string;
  daci?: string[];
  dc?: string;
  dda: boolean;
  doet: number;
  dqet: number;
  drp: number;
  dset: number;
  et?: string;
  lbl?: string[];
  mgd: 1015;
  mgs?: string;
  obis?: string[];
  obps?: string[];
  rn?: string;
}

/** What an UPDATE of <m2m:cmpv> may carry (null removes an optional attribute). */
export interface MgmtObjCmpvUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  aec?: unknown;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cmlk?: unknown;
  cstn?: string | null;
  daci?: string[] | null;
  dc?: string | null;
  dda?: boolean | null;
  doet?: number | null;
  dqet?: number | null;
  drp?: number | null;
  dset?: number | null;
  et?: string | null;
  lbl?: string[] | null;
}

/** <m2m:cml> (ty 13) as the CSE shows it. */
export interface MgmtObjCml {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** any; create O, update O */
  cmlk?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** string; create O, update O */
  dc?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** any; create M, update O */
  lda?: unknown;
  /** any; create M, update O */
  lec?: unknown;
  /** any; create M, update O */
  loet?: unknown;
  /** any; create M, update O */
  lqet?: unknown;
  /** any; create M, update O */
  lrp?: unknown;
  /** any; create M, update O */
  lset?: unknown;
  /** timestamp; create NP, update NP */
  lt?: string;
  /** enum; create M, update NP */
  mgd?: 1016;
  /** anyURI; create O, update NP */
  mgs?: string;
  /** anyURIList; create O, update NP */
  obis?: string[];
  /** anyURIList; create O, update NP */
  obps?: string[];
  /** positiveInteger; create M, update O */
  od?: number;
  /** string; create NP, update NP */
  pi?: string;
  /** any; create O, update O */
  rch?: unknown;
  /** any; create O, update O */
  rct?: unknown;
  /** boolean; create O, update O */
  rctn?: boolean;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** stringList; create M, update O */
  ror?: string[];
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:cml> may carry (M required, O optional, NP left out). */
export interface MgmtObjCmlCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  cmlk?: unknown;
  cstn?: string;
  daci?: string[];
  dc?: string;
  et?: string;
  lbl?: string[];
  lda: unknown;
  lec: unknown;
  loet: unknown;
  lqet: unknown;
  lrp: unknown;
  lset: unknown;
  mgd: 1016;
  mgs?: string;
  obis?: string[];
  obps?: string[];
  od: number;
  rch?: unknown;
  rct?: unknown;
  rctn?: boolean;
  rn?: string;
  ror: string[];
}

/** What an UPDATE of <m2m:cml> may carry (null removes an optional attribute). */
export interface MgmtObjCmlUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cmlk?: unknown;
  cstn?: string | null;
  daci?: string[] | null;
  dc?: string | null;
  et?: string | null;
  lbl?: string[] | null;
  lda?: unknown;
  lec?: unknown;
  loet?: unknown;
  lqet?: unknown;
  lrp?: unknown;
  lset?: unknown;
  od?: number | null;
  rch?: unknown;
  rct?: unknown;
  rctn?: boolean | null;
  ror?: string[] | null;
}

/** <m2m:cmnr> (ty 13) as the CSE shows it. */
export interface MgmtObjCmnr {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** any; create M, update O */
  aecs?: unknown;
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** any; create O, update O */
  cmlk?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** string; create O, update O */
  dc?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** enum; create M, update NP */
  mgd?: 1017;
  /** anyURI; create O, update NP */
  mgs?: string;
  /** anyURIList; create O, update NP */
  obis?: string[];
  /** anyURIList; create O, update NP */
  obps?: string[];
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:cmnr> may carry (M required, O optional, NP left out). */
export interface MgmtObjCmnrCreate {
  aa?: string[];
  acpi?: string[];
  aecs: unknown;
  ast?: 1 | 2;
  at?: string[];
  cmlk?: unknown;
  cstn?: string;
  daci?: string[];
  dc?: string;
  et?: string;
  lbl?: string[];
  mgd: 1017;
  mgs?: string;
  obis?: string[];
  obps?: string[];
  rn?: string;
}

/** What an UPDATE of <m2m:cmnr> may carry (null removes an optional attribute). */
export interface MgmtObjCmnrUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  aecs?: unknown;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cmlk?: unknown;
  cstn?: string | null;
  daci?: string[] | null;
  dc?: string | null;
  et?: string | null;
  lbl?: string[] | null;
}

/** <m2m:cmwr> (ty 13) as the CSE shows it. */
export interface MgmtObjCmwr {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** object; create M, update O */
  bop?: Record<string, unknown>;
  /** any; create M, update O */
  cmlk?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** string; create O, update O */
  dc?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** enum; create M, update NP */
  mgd?: 1018;
  /** anyURI; create O, update NP */
  mgs?: string;
  /** nonNegInteger; create M, update O */
  mrv?: number;
  /** anyURIList; create O, update NP */
  obis?: string[];
  /** anyURIList; create O, update NP */
  obps?: string[];
  /** any; create O, update O */
  ohc?: unknown;
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** nonNegInteger; create M, update O */
  swt?: number;
  /** stringList; create M, update O */
  ttn?: string[];
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:cmwr> may carry (M required, O optional, NP left out). */
export interface MgmtObjCmwrCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  bop: Record<string, unknown>;
  cmlk: unknown;
  cstn?: string;
  daci?: string[];
  dc?: string;
  et?: string;
  lbl?: string[];
  mgd: 1018;
  mgs?: string;
  mrv: number;
  obis?: string[];
  obps?: string[];
  ohc?: unknown;
  rn?: string;
  swt: number;
  ttn: string[];
}

/** What an UPDATE of <m2m:cmwr> may carry (null removes an optional attribute). */
export interface MgmtObjCmwrUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  bop?: Record<string, unknown> | null;
  cmlk?: unknown;
  cstn?: string | null;
  daci?: string[] | null;
  dc?: string | null;
  et?: string | null;
  lbl?: string[] | null;
  mrv?: number | null;
  ohc?: unknown;
  swt?: number | null;
  ttn?: string[] | null;
}

/** <m2m:cmbf> (ty 13) as the CSE shows it. */
export interface MgmtObjCmbf {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** any; create M, update O */
  aec?: unknown;
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** any; create O, update O */
  cmlk?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** string; create O, update O */
  dc?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** nonNegInteger; create M, update O */
  mbfs?: number;
  /** enum; create M, update NP */
  mgd?: 1019;
  /** anyURI; create O, update NP */
  mgs?: string;
  /** anyURIList; create O, update NP */
  obis?: string[];
  /** anyURIList; create O, update NP */
  obps?: string[];
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** enum; create M, update O */
  sgp?: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:cmbf> may carry (M required, O optional, NP left out). */
export interface MgmtObjCmbfCreate {
  aa?: string[];
  acpi?: string[];
  aec: unknown;
  ast?: 1 | 2;
  at?: string[];
  cmlk?: unknown;
  cstn?: string;
  daci?: string[];
  dc?: string;
  et?: string;
  lbl?: string[];
  mbfs: number;
  mgd: 1019;
  mgs?: string;
  obis?: string[];
  obps?: string[];
  rn?: string;
  sgp: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;
}

/** What an UPDATE of <m2m:cmbf> may carry (null removes an optional attribute). */
export interface MgmtObjCmbfUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  aec?: unknown;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cmlk?: unknown;
  cstn?: string | null;
  daci?: string[] | null;
  dc?: string | null;
  et?: string | null;
  lbl?: string[] | null;
  mbfs?: number | null;
  sgp?: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | null;
}

/** <dcfg:datc> (ty 13) as the CSE shows it. */
export interface MgmtObjDatc {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** any; create O, update O */
  cmlk?: unknown;
  /** string; create M, update O */
  cntp?: string;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** string; create O, update O */
  dc?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** positiveInteger; create O, update O */
  meil?: number;
  /** any; create O, update O */
  mesc?: unknown;
  /** enum; create M, update NP */
  mgd?: 1021;
  /** anyURI; create O, update NP */
  mgs?: string;
  /** anyURIList; create O, update NP */
  obis?: string[];
  /** anyURIList; create O, update NP */
  obps?: string[];
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** any; create O, update O */
  rpsc?: unknown;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <dcfg:datc> may carry (M required, O optional, NP left out). */
export interface MgmtObjDatcCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  cmlk?: unknown;
  cntp: string;
  cstn?: string;
  daci?: string[];
  dc?: string;
  et?: string;
  lbl?: string[];
  meil?: number;
  mesc?: unknown;
  mgd: 1021;
  mgs?: string;
  obis?: string[];
  obps?: string[];
  rn?: string;
  rpsc?: unknown;
}

/** What an UPDATE of <dcfg:datc> may carry (null removes an optional attribute). */
export interface MgmtObjDatcUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cmlk?: unknown;
  cntp?: string | null;
  cstn?: string | null;
  daci?: string[] | null;
  dc?: string | null;
  et?: string | null;
  lbl?: string[] | null;
  meil?: number | null;
  mesc?: unknown;
  rpsc?: unknown;
}

/** <dcfg:nycfc> (ty 13) as the CSE shows it. */
export interface MgmtObjNycfc {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** any; create O, update O */
  cmlk?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** string; create O, update O */
  dc?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** string; create M, update NP */
  mcfc?: string;
  /** anyURI; create M, update NP */
  mcff?: string;
  /** enum; create M, update NP */
  mgd?: 1023;
  /** anyURI; create O, update NP */
  mgs?: string;
  /** anyURIList; create O, update NP */
  obis?: string[];
  /** anyURIList; create O, update NP */
  obps?: string[];
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** enumList; create M, update O */
  suids?: Array<10 | 11 | 12 | 13 | 14 | 15 | 21 | 22 | 23 | 24 | 25 | 32 | 33 | 34 | 35 | 40 | 41 | 42 | 43 | 44 | 45>;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <dcfg:nycfc> may carry (M required, O optional, NP left out). */
export interface MgmtObjNycfcCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  cmlk?: unknown;
  cstn?: string;
  daci?: string[];
  dc?: string;
  et?: string;
  lbl?: string[];
  mcfc: string;
  mcff: string;
  mgd: 1023;
  mgs?: string;
  obis?: string[];
  obps?: string[];
  rn?: string;
  suids: Array<10 | 11 | 12 | 13 | 14 | 15 | 21 | 22 | 23 | 24 | 25 | 32 | 33 | 34 | 35 | 40 | 41 | 42 | 43 | 44 | 45>;
}

/** What an UPDATE of <dcfg:nycfc> may carry (null removes an optional attribute). */
export interface MgmtObjNycfcUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cmlk?: unknown;
  cstn?: string | null;
  daci?: string[] | null;
  dc?: string | null;
  et?: string | null;
  lbl?: string[] | null;
  suids?: Array<10 | 11 | 12 | 13 | 14 | 15 | 21 | 22 | 23 | 24 | 25 | 32 | 33 | 34 | 35 | 40 | 41 | 42 | 43 | 44 | 45> | null;
}

/** <dcfg:wific> (ty 13) as the CSE shows it. */
export interface MgmtObjWific {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** string; create O, update O */
  chanl?: string;
  /** any; create O, update O */
  cmlk?: unknown;
  /** enum; create O, update O */
  cons?: 0 | 1 | 2 | 3 | 4 | 5 | 6;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** string; create O, update O */
  dc?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** string; create O, update O */
  maca?: string;
  /** enum; create M, update NP */
  mgd?: 1028;
  /** anyURI; create O, update NP */
  mgs?: string;
  /** anyURIList; create O, update NP */
  obis?: string[];
  /** anyURIList; create O, update NP */
  obps?: string[];
  /** string; create NP, update NP */
  pi?: string;
  /** boolean; create O, update O */
  rdst?: boolean;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** boolean; create M, update O */
  scan?: boolean;
  /** stringList; create O, update O */
  scanr?: string[];
  /** string; create M, update O */
  ssid?: string;
  /** boolean; create O, update O */
  trdst?: boolean;
  /** enum; create NP, update NP */
  ty?: number;
  /** boolean; create O, update O */
  ud?: boolean;
  /** object; create NP, update O */
  uds?: Record<string, unknown>;
  /** object; create O, update O */
  wcrds?: Record<string, unknown>;
}

/** What a CREATE of <dcfg:wific> may carry (M required, O optional, NP left out). */
export interface MgmtObjWificCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  chanl?: string;
  cmlk?: unknown;
  cons?: 0 | 1 | 2 | 3 | 4 | 5 | 6;
  cstn?: string;
  daci?: string[];
  dc?: string;
  et?: string;
  lbl?: string[];
  maca?: string;
  mgd: 1028;
  mgs?: string;
  obis?: string[];
  obps?: string[];
  rdst?: boolean;
  rn?: string;
  scan: boolean;
  scanr?: string[];
  ssid: string;
  trdst?: boolean;
  ud?: boolean;
  wcrds?: Record<string, unknown>;
}

/** What an UPDATE of <dcfg:wific> may carry (null removes an optional attribute). */
export interface MgmtObjWificUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  chanl?: string | null;
  cmlk?: unknown;
  cons?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | null;
  cstn?: string | null;
  daci?: string[] | null;
  dc?: string | null;
  et?: string | null;
  lbl?: string[] | null;
  maca?: string | null;
  rdst?: boolean | null;
  scan?: boolean | null;
  scanr?: string[] | null;
  ssid?: string | null;
  trdst?: boolean | null;
  ud?: boolean | null;
  uds?: Record<string, unknown> | null;
  wcrds?: Record<string, unknown> | null;
}

/** <dcfg:crds> (ty 13) as the CSE shows it. */
export interface MgmtObjCrds {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** any; create O, update O */
  cmlk?: unknown;
  /** string; create O, update O */
  crid?: string;
  /** string; create O, update O */
  crse?: string;
  /** string; create O, update O */
  crtk?: string;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** string; create O, update O */
  dc?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** enum; create M, update NP */
  mgd?: 1029;
  /** anyURI; create O, update NP */
  mgs?: string;
  /** anyURIList; create O, update NP */
  obis?: string[];
  /** anyURIList; create O, update NP */
  obps?: string[];
  /** string; create NP, update NP */
  pi?: string;
  /** string; create O, update O */
  pur?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <dcfg:crds> may carry (M required, O optional, NP left out). */
export interface MgmtObjCrdsCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  cmlk?: unknown;
  crid?: string;
  crse?: string;
  crtk?: string;
  cstn?: string;
  daci?: string[];
  dc?: string;
  et?: string;
  lbl?: string[];
  mgd: 1029;
  mgs?: string;
  obis?: string[];
  obps?: string[];
  pur?: string;
  rn?: string;
}

/** What an UPDATE of <dcfg:crds> may carry (null removes an optional attribute). */
export interface MgmtObjCrdsUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cmlk?: unknown;
  crid?: string | null;
  crse?: string | null;
  crtk?: string | null;
  cstn?: string | null;
  daci?: string[] | null;
  dc?: string | null;
  et?: string | null;
  lbl?: string[] | null;
  pur?: string | null;
}

/** <dcfg:sim> (ty 13) as the CSE shows it. */
export interface MgmtObjSim {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** any; create O, update O */
  cmlk?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** string; create O, update O */
  dc?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** string; create M, update O */
  icid?: string;
  /** string; create O, update O */
  imsi?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** enum; create M, update NP */
  mgd?: 1030;
  /** anyURI; create O, update NP */
  mgs?: string;
  /** anyURIList; create O, update NP */
  obis?: string[];
  /** anyURIList; create O, update NP */
  obps?: string[];
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** enum; create O, update O */
  sist?: 0 | 1;
  /** enum; create O, update O */
  sity?: 0 | 1 | 2 | 3;
  /** string; create O, update O */
  spn?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <dcfg:sim> may carry (M required, O optional, NP left out). */
export interface MgmtObjSimCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  cmlk?: unknown;
  cstn?: string;
  daci?: string[];
  dc?: string;
  et?: string;
  icid: string;
  imsi?: string;
  lbl?: string[];
  mgd: 1030;
  mgs?: string;
  obis?: string[];
  obps?: string[];
  rn?: string;
  sist?: 0 | 1;
  sity?: 0 | 1 | 2 | 3;
  spn?: string;
}

/** What an UPDATE of <dcfg:sim> may carry (null removes an optional attribute). */
export interface MgmtObjSimUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cmlk?: unknown;
  cstn?: string | null;
  daci?: string[] | null;
  dc?: string | null;
  et?: string | null;
  icid?: string | null;
  imsi?: string | null;
  lbl?: string[] | null;
  sist?: 0 | 1 | null;
  sity?: 0 | 1 | 2 | 3 | null;
  spn?: string | null;
}

/** <dcfg:mnwk> (ty 13) as the CSE shows it. */
export interface MgmtObjMnwk {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** string; create O, update O */
  apna?: string;
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** integer; create O, update O */
  ceid?: number;
  /** any; create O, update O */
  cmlk?: unknown;
  /** enum; create M, update O */
  cnb?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;
  /** enum; create O, update O */
  coel?: 0 | 1 | 2 | 3 | 4;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** string; create O, update O */
  dc?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** any; create O, update O */
  ipad?: unknown;
  /** integer; create O, update O */
  lac?: number;
  /** stringList; create O, update O */
  lbl?: string[];
  /** integer; create O, update O */
  liqu?: number;
  /** timestamp; create NP, update NP */
  lt?: string;
  /** enum; create M, update NP */
  mgd?: 1031;
  /** anyURI; create O, update NP */
  mgs?: string;
  /** anyURIList; create O, update NP */
  obis?: string[];
  /** anyURIList; create O, update NP */
  obps?: string[];
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** any; create O, update O */
  ripa?: unknown;
  /** string; create O, update NP */
  rn?: string;
  /** integer; create O, update O */
  rss?: number;
  /** integer; create O, update O */
  smcc?: number;
  /** integer; create O, update O */
  smnc?: number;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <dcfg:mnwk> may carry (M required, O optional, NP left out). */
export interface MgmtObjMnwkCreate {
  aa?: string[];
  acpi?: string[];
  apna?: string;
  ast?: 1 | 2;
  at?: string[];
  ceid?: number;
  cmlk?: unknown;
  cnb: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;
  coel?: 0 | 1 | 2 | 3 | 4;
  cstn?: string;
  daci?: string[];
  dc?: string;
  et?: string;
  ipad?: unknown;
  lac?: number;
  lbl?: string[];
  liqu?: number;
  mgd: 1031;
  mgs?: string;
  obis?: string[];
  obps?: string[];
  ripa?: unknown;
  rn?: string;
  rss?: number;
  smcc?: number;
  smnc?: number;
}

/** What an UPDATE of <dcfg:mnwk> may carry (null removes an optional attribute). */
export interface MgmtObjMnwkUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  apna?: string | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  ceid?: number | null;
  cmlk?: unknown;
  cnb?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | null;
  coel?: 0 | 1 | 2 | 3 | 4 | null;
  cstn?: string | null;
  daci?: string[] | null;
  dc?: string | null;
  et?: string | null;
  ipad?: unknown;
  lac?: number | null;
  lbl?: string[] | null;
  liqu?: number | null;
  ripa?: unknown;
  rss?: number | null;
  smcc?: number | null;
  smnc?: number | null;
}

/** <m2m:nod> (ty 14) as the CSE shows it. */
export interface Node {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** timestamp; create O, update O */
  et?: string;
  /** anyURIList; create O, update O */
  hael?: string[];
  /** anyURI; create O, update O */
  hcl?: string;
  /** stringList; create O, update O */
  hsl?: string[];
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** stringList; create O, update O */
  mgca?: string[];
  /** string; create M, update O */
  ni?: string;
  /** string; create NP, update NP */
  nid?: string;
  /** nonNegInteger; create O, update O */
  nty?: number;
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** boolean; create NP, update NP */
  rms?: boolean;
  /** string; create O, update NP */
  rn?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:nod> may carry (M required, O optional, NP left out). */
export interface NodeCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  cstn?: string;
  daci?: string[];
  et?: string;
  hael?: string[];
  hcl?: string;
  hsl?: string[];
  lbl?: string[];
  mgca?: string[];
  ni: string;
  nty?: number;
  rn?: string;
}

/** What an UPDATE of <m2m:nod> may carry (null removes an optional attribute). */
export interface NodeUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cstn?: string | null;
  daci?: string[] | null;
  et?: string | null;
  hael?: string[] | null;
  hcl?: string | null;
  hsl?: string[] | null;
  lbl?: string[] | null;
  mgca?: string[] | null;
  ni?: string | null;
  nty?: number | null;
}

/** <m2m:pch> (ty 15) as the CSE shows it. */
export interface PollingChannel {
  /** timestamp; create NP, update NP */
  ct?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** boolean; create O, update O */
  rqag?: boolean;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:pch> may carry (M required, O optional, NP left out). */
export interface PollingChannelCreate {
  et?: string;
  lbl?: string[];
  rn?: string;
  rqag?: boolean;
}

/** What an UPDATE of <m2m:pch> may carry (null removes an optional attribute). */
export interface PollingChannelUpdate {
  et?: string | null;
  lbl?: string[] | null;
  rqag?: boolean | null;
}

/** <m2m:csr> (ty 16) as the CSE shows it. */
export interface RemoteCSE {
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** list; create O, update O, at most 16 */
  ape?: unknown[];
  /** anyURI; create M, update NP, at most 512 */
  cb?: string;
  /** any; create O, update NP */
  cr?: unknown;
  /** string; create O, update NP, at most 65 */
  csi?: string;
  /** enum; create O, update NP */
  cst?: 1 | 2 | 3;
  /** anyURI; create O, update O */
  cstn?: string;
  /** stringList; create O, update O, at most 8 */
  csz?: string[];
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** stringList; create O, update O, at most 1000 */
  dcse?: string[];
  /** string; create O, update O, at most 255 */
  egid?: string;
  /** object; create O, update O */
  esi?: Record<string, unknown>;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** object; create O, update O */
  loc?: Record<string, unknown>;
  /** timestamp; create NP, update NP */
  lt?: string;
  /** string; create O, update O, at most 255 */
  mei?: string;
  /** list; create O, update O, at most 8 */
  mtcc?: unknown[];
  /** anyURI; create O, update O */
  nl?: string;
  /** string; create NP, update NP */
  pi?: string;
  /** anyURIList; create O, update O, at most 32 */
  poa?: string[];
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** boolean; create M, update O */
  rr?: boolean;
  /** stringList; create M, update O, at most 16 */
  srv?: string[];
  /** boolean; create O, update O */
  tren?: boolean;
  /** string; create O, update O, at most 255 */
  tri?: string;
  /** nonNegInteger; create O, update O */
  trn?: number;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:csr> may carry (M required, O optional, NP left out). */
export interface RemoteCSECreate {
  acpi?: string[];
  ape?: unknown[];
  cb: string;
  cr?: null;
  csi?: string;
  cst?: 1 | 2 | 3;
  cstn?: string;
  csz?: string[];
  daci?: string[];
  dcse?: string[];
  egid?: string;
  esi?: Record<string, unknown>;
  et?: string;
  lbl?: string[];
  loc?: Record<string, unknown>;
  mei?: string;
  mtcc?: unknown[];
  nl?: string;
  poa?: string[];
  rn?: string;
  rr: boolean;
  srv: string[];
  tren?: boolean;
  tri?: string;
  trn?: number;
}

/** What an UPDATE of <m2m:csr> may carry (null removes an optional attribute). */
export interface RemoteCSEUpdate {
  acpi?: string[] | null;
  ape?: unknown[] | null;
  cstn?: string | null;
  csz?: string[] | null;
  daci?: string[] | null;
  dcse?: string[] | null;
  egid?: string | null;
  esi?: Record<string, unknown> | null;
  et?: string | null;
  lbl?: string[] | null;
  loc?: Record<string, unknown> | null;
  mei?: string | null;
  mtcc?: unknown[] | null;
  nl?: string | null;
  poa?: string[] | null;
  rr?: boolean | null;
  srv?: string[] | null;
  tren?: boolean | null;
  tri?: string | null;
  trn?: number | null;
}

/** <m2m:req> (ty 17) as the CSE shows it. */
export interface Request {
  /** timestamp; create NP, update NP */
  ct?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** object; create NP, update NP */
  mi?: Record<string, unknown>;
  /** enum; create NP, update NP */
  op?: number;
  /** anyURI; create NP, update NP */
  org?: string;
  /** object; create NP, update NP */
  ors?: Record<string, unknown>;
  /** any; create NP, update NP */
  pc?: unknown;
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create NP, update NP */
  rid?: string;
  /** string; create O, update NP */
  rn?: string;
  /** enum; create NP, update NP */
  rs?: number;
  /** anyURI; create NP, update NP */
  tg?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:req> may carry (M required, O optional, NP left out). */
export interface RequestCreate {
  et?: string;
  lbl?: string[];
  rn?: string;
}

/** What an UPDATE of <m2m:req> may carry (null removes an optional attribute). */
export interface RequestUpdate {
  et?: string | null;
  lbl?: string[] | null;
}

/** <m2m:sch> (ty 18) as the CSE shows it. */
export interface Schedule {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** boolean; create O, update O */
  nco?: boolean;
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** object; create M, update O */
  se?: Record<string, unknown>;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:sch> may carry (M required, O optional, NP left out). */
export interface ScheduleCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  cstn?: string;
  daci?: string[];
  et?: string;
  lbl?: string[];
  nco?: boolean;
  rn?: string;
  se: Record<string, unknown>;
}

/** What an UPDATE of <m2m:sch> may carry (null removes an optional attribute). */
export interface ScheduleUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cstn?: string | null;
  daci?: string[] | null;
  et?: string | null;
  lbl?: string[] | null;
  nco?: boolean | null;
  se?: Record<string, unknown> | null;
}

/** <m2m:sub> (ty 23) as the CSE shows it. */
export interface Subscription {
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acrs?: string[];
  /** object; create O, update O */
  bn?: Record<string, unknown>;
  /** any; create O, update NP */
  cr?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** boolean; create O, update O */
  eeno?: boolean;
  /** object; create O, update O */
  enc?: Record<string, unknown>;
  /** timestamp; create O, update O */
  et?: string;
  /** positiveInteger; create O, update O */
  exc?: number;
  /** anyURI; create O, update NP */
  gpi?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** boolean; create O, update O */
  ln?: boolean;
  /** timestamp; create NP, update NP */
  lt?: string;
  /** enum; create O, update O */
  nct?: 1 | 2 | 3 | 4 | 5;
  /** nonNegInteger; create O, update O */
  nec?: number;
  /** anyURI; create O, update O */
  nfu?: string;
  /** boolean; create O, update O */
  nse?: boolean;
  /** object; create NP, update NP */
  nsi?: Record<string, unknown>;
  /** positiveInteger; create O, update O */
  nsp?: number;
  /** anyURIList; create M, update O */
  nu?: string[];
  /** string; create NP, update NP */
  pi?: string;
  /** enum; create O, update O */
  pn?: 1 | 2;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** anyURI; create O, update NP */
  su?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:sub> may carry (M required, O optional, NP left out). */
export interface SubscriptionCreate {
  acpi?: string[];
  acrs?: string[];
  bn?: Record<string, unknown>;
  cr?: null;
  cstn?: string;
  daci?: string[];
  eeno?: boolean;
  enc?: Record<string, unknown>;
  et?: string;
  exc?: number;
  gpi?: string;
  lbl?: string[];
  ln?: boolean;
  nct?: 1 | 2 | 3 | 4 | 5;
  nec?: number;
  nfu?: string;
  nse?: boolean;
  nsp?: number;
  nu: string[];
  pn?: 1 | 2;
  rn?: string;
  su?: string;
}

/** What an UPDATE of <m2m:sub> may carry (null removes an optional attribute). */
export interface SubscriptionUpdate {
  acpi?: string[] | null;
  acrs?: string[] | null;
  bn?: Record<string, unknown> | null;
  cstn?: string | null;
  daci?: string[] | null;
  eeno?: boolean | null;
  enc?: Record<string, unknown> | null;
  et?: string | null;
  exc?: number | null;
  lbl?: string[] | null;
  ln?: boolean | null;
  nct?: 1 | 2 | 3 | 4 | 5 | null;
  nec?: number | null;
  nfu?: string | null;
  nse?: boolean | null;
  nsp?: number | null;
  nu?: string[] | null;
  pn?: 1 | 2 | null;
}

/** <m2m:smd> (ty 24) as the CSE shows it. */
export interface SemanticDescriptor {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** any; create O, update NP */
  cr?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** enum; create M, update O */
  dcrp?: 1 | 2 | 3 | 4 | 5 | 6 | 7;
  /** string; create M, update O, at most 524288 */
  dsp?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** anyURI; create O, update O */
  or?: string;
  /** string; create NP, update NP */
  pi?: string;
  /** anyURIList; create O, update O, at most 16 */
  rels?: string[];
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** string; create NP, update O */
  soe?: string;
  /** boolean; create NP, update NP */
  svd?: boolean;
  /** enum; create NP, update NP */
  ty?: number;
  /** boolean; create O, update O */
  vlde?: boolean;
}

/** What a CREATE of <m2m:smd> may carry (M required, O optional, NP left out). */
export interface SemanticDescriptorCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  cr?: null;
  cstn?: string;
  daci?: string[];
  dcrp: 1 | 2 | 3 | 4 | 5 | 6 | 7;
  dsp: string;
  et?: string;
  lbl?: string[];
  or?: string;
  rels?: string[];
  rn?: string;
  vlde?: boolean;
}

/** What an UPDATE of <m2m:smd> may carry (null removes an optional attribute). */
export interface SemanticDescriptorUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cstn?: string | null;
  daci?: string[] | null;
  dcrp?: 1 | 2 | 3 | 4 | 5 | 6 | 7 | null;
  dsp?: string | null;
  et?: string | null;
  lbl?: string[] | null;
  or?: string | null;
  rels?: string[] | null;
  soe?: string | null;
  vlde?: boolean | null;
}

/** <m2m:ntpr> (ty 25) as the CSE shows it. */
export interface NotificationTargetMgmtPolicyRef {
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** anyURI; create O, update O, at most 2048 */
  npi?: string;
  /** anyURIList; create M, update O */
  ntu?: string[];
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:ntpr> may carry (M required, O optional, NP left out). */
export interface NotificationTargetMgmtPolicyRefCreate {
  acpi?: string[];
  cstn?: string;
  daci?: string[];
  et?: string;
  lbl?: string[];
  npi?: string;
  ntu: string[];
  rn?: string;
}

/** What an UPDATE of <m2m:ntpr> may carry (null removes an optional attribute). */
export interface NotificationTargetMgmtPolicyRefUpdate {
  acpi?: string[] | null;
  cstn?: string | null;
  daci?: string[] | null;
  et?: string | null;
  lbl?: string[] | null;
  npi?: string | null;
  ntu?: string[] | null;
}

/** <m2m:ntp> (ty 26) as the CSE shows it. */
export interface NotificationTargetPolicy {
  /** enum; create M, update NP */
  acn?: 1 | 2 | 3 | 4;
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** any; create O, update NP */
  cr?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** string; create NP, update NP */
  pi?: string;
  /** string; create M, update O, at most 256 */
  plbl?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** enum; create O, update O */
  rrs?: 1 | 2;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:ntp> may carry (M required, O optional, NP left out). */
export interface NotificationTargetPolicyCreate {
  acn: 1 | 2 | 3 | 4;
  acpi?: string[];
  cr?: null;
  cstn?: string;
  daci?: string[];
  et?: string;
  lbl?: string[];
  plbl: string;
  rn?: string;
  rrs?: 1 | 2;
}

/** What an UPDATE of <m2m:ntp> may carry (null removes an optional attribute). */
export interface NotificationTargetPolicyUpdate {
  acpi?: string[] | null;
  cstn?: string | null;
  daci?: string[] | null;
  et?: string | null;
  lbl?: string[] | null;
  plbl?: string | null;
  rrs?: 1 | 2 | null;
}

/** <m2m:pdr> (ty 27) as the CSE shows it. */
export interface PolicyDeletionRules {
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** object; create O, update NP */
  dr?: Record<string, unknown>;
  /** enum; create O, update O */
  drr?: 1 | 2;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:pdr> may carry (M required, O optional, NP left out). */
export interface PolicyDeletionRulesCreate {
  acpi?: string[];
  cstn?: string;
  daci?: string[];
  dr?: Record<string, unknown>;
  drr?: 1 | 2;
  et?: string;
  lbl?: string[];
  rn?: string;
}

/** What an UPDATE of <m2m:pdr> may carry (null removes an optional attribute). */
export interface PolicyDeletionRulesUpdate {
  acpi?: string[] | null;
  cstn?: string | null;
  daci?: string[] | null;
  drr?: 1 | 2 | null;
  et?: string | null;
  lbl?: string[] | null;
}

/** <m2m:fcnt> (ty 28) as the CSE shows it. */
export interface FlexContainer {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** nonNegInteger; create NP, update NP */
  cbs?: number;
  /** string; create M, update NP */
  cnd?: string;
  /** nonNegInteger; create NP, update NP */
  cni?: number;
  /** any; create O, update NP */
  cr?: unknown;
  /** nonNegInteger; create NP, update NP */
  cs?: number;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** timestamp; create O, update O */
  et?: string;
  /** boolean; create O, update O */
  fcied?: boolean;
  /** stringList; create O, update O */
  lbl?: string[];
  /** object; create O, update O */
  loc?: Record<string, unknown>;
  /** timestamp; create NP, update NP */
  lt?: string;
  /** positiveInteger; create O, update O */
  mbs?: number;
  /** positiveInteger; create O, update O */
  mia?: number;
  /** positiveInteger; create O, update O */
  mni?: number;
  /** anyURI; create O, update O */
  nl?: string;
  /** anyURI; create O, update O */
  or?: string;
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** nonNegInteger; create NP, update NP */
  st?: number;
  /** enum; create NP, update NP */
  ty?: number;
  /** Attributes of the specialization (containerDefinition). */
  [custom: string]: unknown;
}

/** What a CREATE of <m2m:fcnt> may carry (M required, O optional, NP left out). */
export interface FlexContainerCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  cnd: string;
  cr?: null;
  cstn?: string;
  daci?: string[];
  et?: string;
  fcied?: boolean;
  lbl?: string[];
  loc?: Record<string, unknown>;
  mbs?: number;
  mia?: number;
  mni?: number;
  nl?: string;
  or?: string;
  rn?: string;
  [custom: string]: unknown;
}

/** What an UPDATE of <m2m:fcnt> may carry (null removes an optional attribute). */
export interface FlexContainerUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cstn?: string | null;
  daci?: string[] | null;
  et?: string | null;
  fcied?: boolean | null;
  lbl?: string[] | null;
  loc?: Record<string, unknown> | null;
  mbs?: number | null;
  mia?: number | null;
  mni?: number | null;
  nl?: string | null;
  or?: string | null;
  [custom: string]: unknown;
}

/** <m2m:ts> (ty 29) as the CSE shows it. */
export interface TimeSeries {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** nonNegInteger; create NP, update NP */
  cbs?: number;
  /** string; create O, update NP, at most 1024 */
  cnf?: string;
  /** nonNegInteger; create NP, update NP */
  cni?: number;
  /** any; create O, update NP */
  cr?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** nonNegInteger; create O, update O */
  mbs?: number;
  /** nonNegInteger; create NP, update NP */
  mdc?: number;
  /** boolean; create O, update O */
  mdd?: boolean;
  /** list; create NP, update NP */
  mdlt?: unknown[];
  /** positiveInteger; create O, update O */
  mdn?: number;
  /** positiveInteger; create O, update O */
  mdt?: number;
  /** nonNegInteger; create O, update O */
  mia?: number;
  /** nonNegInteger; create O, update O */
  mni?: number;
  /** anyURI; create O, update O */
  or?: string;
  /** positiveInteger; create O, update O */
  pei?: number;
  /** nonNegInteger; create O, update O */
  peid?: number;
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** nonNegInteger; create NP, update NP */
  st?: number;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:ts> may carry (M required, O optional, NP left out). */
export interface TimeSeriesCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  cnf?: string;
  cr?: null;
  cstn?: string;
  daci?: string[];
  et?: string;
  lbl?: string[];
  mbs?: number;
  mdd?: boolean;
  mdn?: number;
  mdt?: number;
  mia?: number;
  mni?: number;
  or?: string;
  pei?: number;
  peid?: number;
  rn?: string;
}

/** What an UPDATE of <m2m:ts> may carry (null removes an optional attribute). */
export interface TimeSeriesUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cstn?: string | null;
  daci?: string[] | null;
  et?: string | null;
  lbl?: string[] | null;
  mbs?: number | null;
  mdd?: boolean | null;
  mdn?: number | null;
  mdt?: number | null;
  mia?: number | null;
  mni?: number | null;
  or?: string | null;
  pei?: number | null;
  peid?: number | null;
}

/** <m2m:tsi> (ty 30) as the CSE shows it. */
export interface TimeSeriesInstance {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** any; create M, update NP */
  con?: unknown;
  /** nonNegInteger; create NP, update NP */
  cs?: number;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** timestamp; create M, update NP */
  dgt?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** nonNegInteger; create O, update NP */
  snr?: number;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:tsi> may carry (M required, O optional, NP left out). */
export interface TimeSeriesInstanceCreate {
  aa?: string[];
  ast?: 1 | 2;
  at?: string[];
  con: unknown;
  dgt: string;
  et?: string;
  lbl?: string[];
  rn?: string;
  snr?: number;
}

/** What an UPDATE of <m2m:tsi> may carry (null removes an optional attribute). */
export interface TimeSeriesInstanceUpdate {
  aa?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  et?: string | null;
  lbl?: string[] | null;
}

/** <m2m:rol> (ty 31) as the CSE shows it. */
export interface Role {
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create M, update NP */
  rlid?: string;
  /** string; create O, update NP */
  rlnm?: string;
  /** anyURI; create O, update O */
  rltl?: string;
  /** string; create O, update NP */
  rn?: string;
  /** string; create M, update NP */
  tkhd?: string;
  /** string; create M, update NP */
  tkis?: string;
  /** timestamp; create M, update NP */
  tkna?: string;
  /** timestamp; create M, update NP */
  tknb?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:rol> may carry (M required, O optional, NP left out). */
export interface RoleCreate {
  acpi?: string[];
  cstn?: string;
  daci?: string[];
  et?: string;
  lbl?: string[];
  rlid: string;
  rlnm?: string;
  rltl?: string;
  rn?: string;
  tkhd: string;
  tkis: string;
  tkna: string;
  tknb: string;
}

/** What an UPDATE of <m2m:rol> may carry (null removes an optional attribute). */
export interface RoleUpdate {
  acpi?: string[] | null;
  cstn?: string | null;
  daci?: string[] | null;
  et?: string | null;
  lbl?: string[] | null;
  rltl?: string | null;
}

/** <m2m:tk> (ty 32) as the CSE shows it. */
export interface Token {
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** stringList; create O, update NP */
  tkau?: string[];
  /** string; create O, update NP */
  tkex?: string;
  /** string; create O, update NP */
  tkhd?: string;
  /** string; create M, update NP */
  tkid?: string;
  /** string; create O, update NP */
  tkis?: string;
  /** timestamp; create O, update NP */
  tkna?: string;
  /** timestamp; create O, update NP */
  tknb?: string;
  /** string; create O, update NP */
  tknm?: string;
  /** string; create M, update NP */
  tkob?: string;
  /** object; create O, update NP */
  tkps?: Record<string, unknown>;
  /** enum; create NP, update NP */
  ty?: number;
  /** string; create O, update NP */
  vr?: string;
}

/** What a CREATE of <m2m:tk> may carry (M required, O optional, NP left out). */
export interface TokenCreate {
  acpi?: string[];
  cstn?: string;
  daci?: string[];
  et?: string;
  lbl?: string[];
  rn?: string;
  tkau?: string[];
  tkex?: string;
  tkhd?: string;
  tkid: string;
  tkis?: string;
  tkna?: string;
  tknb?: string;
  tknm?: string;
  tkob: string;
  tkps?: Record<string, unknown>;
  vr?: string;
}

/** What an UPDATE of <m2m:tk> may carry (null removes an optional attribute). */
export interface TokenUpdate {
  acpi?: string[] | null;
  cstn?: string | null;
  daci?: string[] | null;
  et?: string | null;
  lbl?: string[] | null;
}

/** <m2m:dac> (ty 34) as the CSE shows it. */
export interface DynamicAuthorizationConsultation {
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** boolean; create M, update O */
  dae?: boolean;
  /** timestamp; create O, update O */
  dal?: string;
  /** anyURIList; create M, update O, at most 8 */
  dap?: string[];
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:dac> may carry (M required, O optional, NP left out). */
export interface DynamicAuthorizationConsultationCreate {
  acpi?: string[];
  cstn?: string;
  daci?: string[];
  dae: boolean;
  dal?: string;
  dap: string[];
  et?: string;
  lbl?: string[];
  rn?: string;
}

/** What an UPDATE of <m2m:dac> may carry (null removes an optional attribute). */
export interface DynamicAuthorizationConsultationUpdate {
  acpi?: string[] | null;
  cstn?: string | null;
  daci?: string[] | null;
  dae?: boolean | null;
  dal?: string | null;
  dap?: string[] | null;
  et?: string | null;
  lbl?: string[] | null;
}

/** <m2m:crs> (ty 48) as the CSE shows it. */
export interface CrossResourceSubscription {
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** any; create O, update NP */
  cr?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** enum; create O, update O */
  eem?: 1 | 2 | 3 | 4 | 5;
  /** object; create O, update NP */
  encs?: Record<string, unknown>;
  /** timestamp; create O, update O */
  et?: string;
  /** positiveInteger; create O, update O */
  exc?: number;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** nonNegInteger; create O, update NP */
  nec?: number;
  /** boolean; create O, update O */
  nse?: boolean;
  /** list; create NP, update NP */
  nsi?: unknown[];
  /** anyURIList; create M, update O */
  nu?: string[];
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** anyURIList; create O, update NP */
  rrat?: string[];
  /** anyURIList; create NP, update NP */
  rrats?: string[];
  /** anyURIList; create O, update NP */
  srat?: string[];
  /** anyURI; create O, update NP */
  su?: string;
  /** duration; create M, update O */
  tws?: string | number;
  /** enum; create M, update O */
  twt?: 1 | 2;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:crs> may carry (M required, O optional, NP left out). */
export interface CrossResourceSubscriptionCreate {
  acpi?: string[];
  cr?: null;
  cstn?: string;
  daci?: string[];
  eem?: 1 | 2 | 3 | 4 | 5;
  encs?: Record<string, unknown>;
  et?: string;
  exc?: number;
  lbl?: string[];
  nec?: number;
  nse?: boolean;
  nu: string[];
  rn?: string;
  rrat?: string[];
  srat?: string[];
  su?: string;
  tws: string | number;
  twt: 1 | 2;
}

/** What an UPDATE of <m2m:crs> may carry (null removes an optional attribute). */
export interface CrossResourceSubscriptionUpdate {
  acpi?: string[] | null;
  cstn?: string | null;
  daci?: string[] | null;
  eem?: 1 | 2 | 3 | 4 | 5 | null;
  et?: string | null;
  exc?: number | null;
  lbl?: string[] | null;
  nse?: boolean | null;
  nu?: string[] | null;
  tws?: string | number | null;
  twt?: 1 | 2 | null;
}

/** <m2m:fci> (ty 58) as the CSE shows it. */
export interface FlexContainerInstance {
  /** nonNegInteger; create NP, update NP */
  cs?: number;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** object; create O, update NP */
  loc?: Record<string, unknown>;
  /** timestamp; create NP, update NP */
  lt?: string;
  /** string; create NP, update NP */
  org?: string;
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** nonNegInteger; create NP, update NP */
  st?: number;
  /** enum; create NP, update NP */
  ty?: number;
  /** Attributes of the specialization (containerDefinition). */
  [custom: string]: unknown;
}

/** What a CREATE of <m2m:fci> may carry (M required, O optional, NP left out). */
export interface FlexContainerInstanceCreate {
  et?: string;
  lbl?: string[];
  loc?: Record<string, unknown>;
  rn?: string;
  [custom: string]: unknown;
}

/** What an UPDATE of <m2m:fci> may carry (null removes an optional attribute). */
export interface FlexContainerInstanceUpdate {
  et?: string | null;
  lbl?: string[] | null;
  [custom: string]: unknown;
}

/** <m2m:tsb> (ty 60) as the CSE shows it. */
export interface TimeSyncBeacon {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** enum; create M, update O */
  bcnc?: 1 | 2;
  /** duration; create O, update O */
  bcni?: string | number;
  /** string; create O, update NP, at most 256 */
  bcnr?: string;
  /** duration; create O, update O */
  bcnt?: string | number;
  /** anyURIList; create M, update O */
  bcnu?: string[];
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** timestamp; create O, update O */
  et?: string;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:tsb> may carry (M required, O optional, NP left out). */
export interface TimeSyncBeaconCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  bcnc: 1 | 2;
  bcni?: string | number;
  bcnr?: string;
  bcnt?: string | number;
  bcnu: string[];
  cstn?: string;
  daci?: string[];
  et?: string;
  lbl?: string[];
  rn?: string;
}

/** What an UPDATE of <m2m:tsb> may carry (null removes an optional attribute). */
export interface TimeSyncBeaconUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  bcnc?: 1 | 2 | null;
  bcni?: string | number | null;
  bcnt?: string | number | null;
  bcnu?: string[] | null;
  cstn?: string | null;
  daci?: string[] | null;
  et?: string | null;
  lbl?: string[] | null;
}

/** <m2m:actr> (ty 65) as the CSE shows it. */
export interface Action {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** any; create NP, update NP */
  air?: unknown;
  /** object; create M, update O */
  apv?: Record<string, unknown>;
  /** positiveInteger; create O, update O */
  apy?: number;
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** any; create O, update NP */
  cr?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** anyURIList; create NP, update O, at most 16 */
  dep?: string[];
  /** positiveInteger; create O, update O */
  ecp?: number;
  /** timestamp; create O, update O */
  et?: string;
  /** object; create M, update O */
  evc?: Record<string, unknown>;
  /** enum; create M, update O */
  evm?: 0 | 1 | 2 | 3;
  /** object; create O, update O */
  ipu?: Record<string, unknown>;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** anyURI; create M, update O, at most 4096 */
  orc?: string;
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** anyURI; create O, update O, at most 4096 */
  sri?: string;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:actr> may carry (M required, O optional, NP left out). */
export interface ActionCreate {
  aa?: string[];
  acpi?: string[];
  apv: Record<string, unknown>;
  apy?: number;
  ast?: 1 | 2;
  at?: string[];
  cr?: null;
  cstn?: string;
  daci?: string[];
  ecp?: number;
  et?: string;
  evc: Record<string, unknown>;
  evm: 0 | 1 | 2 | 3;
  ipu?: Record<string, unknown>;
  lbl?: string[];
  orc: string;
  rn?: string;
  sri?: string;
}

/** What an UPDATE of <m2m:actr> may carry (null removes an optional attribute). */
export interface ActionUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  apv?: Record<string, unknown> | null;
  apy?: number | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cstn?: string | null;
  daci?: string[] | null;
  dep?: string[] | null;
  ecp?: number | null;
  et?: string | null;
  evc?: Record<string, unknown> | null;
  evm?: 0 | 1 | 2 | 3 | null;
  ipu?: Record<string, unknown> | null;
  lbl?: string[] | null;
  orc?: string | null;
  sri?: string | null;
}

/** <m2m:depr> (ty 66) as the CSE shows it. */
export interface Dependency {
  /** stringList; create O, update O, at most 32 */
  aa?: string[];
  /** anyURIList; create O, update O, at most 16 */
  acpi?: string[];
  /** enum; create O, update O */
  ast?: 1 | 2;
  /** anyURIList; create O, update O, at most 16 */
  at?: string[];
  /** any; create O, update NP */
  cr?: unknown;
  /** anyURI; create O, update O */
  cstn?: string;
  /** timestamp; create NP, update NP */
  ct?: string;
  /** anyURIList; create O, update O, at most 8 */
  daci?: string[];
  /** timestamp; create O, update O */
  et?: string;
  /** object; create M, update O */
  evc?: Record<string, unknown>;
  /** stringList; create O, update O */
  lbl?: string[];
  /** timestamp; create NP, update NP */
  lt?: string;
  /** string; create NP, update NP */
  pi?: string;
  /** string; create NP, update NP */
  ri?: string;
  /** string; create O, update NP */
  rn?: string;
  /** anyURI; create M, update O, at most 4096 */
  rri?: string;
  /** boolean; create M, update O */
  sfc?: boolean;
  /** enum; create NP, update NP */
  ty?: number;
}

/** What a CREATE of <m2m:depr> may carry (M required, O optional, NP left out). */
export interface DependencyCreate {
  aa?: string[];
  acpi?: string[];
  ast?: 1 | 2;
  at?: string[];
  cr?: null;
  cstn?: string;
  daci?: string[];
  et?: string;
  evc: Record<string, unknown>;
  lbl?: string[];
  rn?: string;
  rri: string;
  sfc: boolean;
}

/** What an UPDATE of <m2m:depr> may carry (null removes an optional attribute). */
export interface DependencyUpdate {
  aa?: string[] | null;
  acpi?: string[] | null;
  ast?: 1 | 2 | null;
  at?: string[] | null;
  cstn?: string | null;
  daci?: string[] | null;
  et?: string | null;
  evc?: Record<string, unknown> | null;
  lbl?: string[] | null;
  rri?: string | null;
  sfc?: boolean | null;
}

export interface ResourceMap {
  'm2m:acp': AccessControlPolicy;
  'm2m:ae': AE;
  'm2m:cnt': Container;
  'm2m:cin': ContentInstance;
  'm2m:cb': CSEBase;
  'm2m:grp': Group;
  'm2m:lcp': LocationPolicy;
  'm2m:mgo': MgmtObj;
  'm2m:fwr': MgmtObjFwr;
  'm2m:swr': MgmtObjSwr;
  'm2m:mem': MgmtObjMem;
  'm2m:ani': MgmtObjAni;
  'm2m:andi': MgmtObjAndi;
  'm2m:bat': MgmtObjBat;
  'm2m:dvi': MgmtObjDvi;
  'm2m:dvc': MgmtObjDvc;
  'm2m:rbo': MgmtObjRbo;
  'm2m:evl': MgmtObjEvl;
  'm2m:cmp': MgmtObjCmp;
  'm2m:acmp': MgmtObjAcmp;
  'm2m:cmdf': MgmtObjCmdf;
  'm2m:cmdv': MgmtObjCmdv;
  'm2m:cmpv': MgmtObjCmpv;
  'm2m:cml': MgmtObjCml;
  'm2m:cmnr': MgmtObjCmnr;
  'm2m:cmwr': MgmtObjCmwr;
  'm2m:cmbf': MgmtObjCmbf;
  'dcfg:datc': MgmtObjDatc;
  'dcfg:nycfc': MgmtObjNycfc;
  'dcfg:wific': MgmtObjWific;
  'dcfg:crds': MgmtObjCrds;
  'dcfg:sim': MgmtObjSim;
  'dcfg:mnwk': MgmtObjMnwk;
  'm2m:nod': Node;
  'm2m:pch': PollingChannel;
  'm2m:csr': RemoteCSE;
  'm2m:req': Request;
  'm2m:sch': Schedule;
  'm2m:sub': Subscription;
  'm2m:smd': SemanticDescriptor;
  'm2m:ntpr': NotificationTargetMgmtPolicyRef;
  'm2m:ntp': NotificationTargetPolicy;
  'm2m:pdr': PolicyDeletionRules;
  'm2m:fcnt': FlexContainer;
  'm2m:ts': TimeSeries;
  'm2m:tsi': TimeSeriesInstance;
  'm2m:rol': Role;
  'm2m:tk': Token;
  'm2m:dac': DynamicAuthorizationConsultation;
  'm2m:crs': CrossResourceSubscription;
  'm2m:fci': FlexContainerInstance;
  'm2m:tsb': TimeSyncBeacon;
  'm2m:actr': Action;
  'm2m:depr': Dependency;
}

export interface CreateMap {
  'm2m:acp': AccessControlPolicyCreate;
  'm2m:ae': AECreate;
  'm2m:cnt': ContainerCreate;
  'm2m:cin': ContentInstanceCreate;
  'm2m:cb': CSEBaseCreate;
  'm2m:grp': GroupCreate;
  'm2m:lcp': LocationPolicyCreate;
  'm2m:mgo': MgmtObjCreate;
  'm2m:fwr': MgmtObjFwrCreate;
  'm2m:swr': MgmtObjSwrCreate;
  'm2m:mem': MgmtObjMemCreate;
  'm2m:ani': MgmtObjAniCreate;
  'm2m:andi': MgmtObjAndiCreate;
  'm2m:bat': MgmtObjBatCreate;
  'm2m:dvi': MgmtObjDviCreate;
  'm2m:dvc': MgmtObjDvcCreate;
  'm2m:rbo': MgmtObjRboCreate;
  'm2m:evl': MgmtObjEvlCreate;
  'm2m:cmp': MgmtObjCmpCreate;
  'm2m:acmp': MgmtObjAcmpCreate;
  'm2m:cmdf': MgmtObjCmdfCreate;
  'm2m:cmdv': MgmtObjCmdvCreate;
  'm2m:cmpv': MgmtObjCmpvCreate;
  'm2m:cml': MgmtObjCmlCreate;
  'm2m:cmnr': MgmtObjCmnrCreate;
  'm2m:cmwr': MgmtObjCmwrCreate;
  'm2m:cmbf': MgmtObjCmbfCreate;
  'dcfg:datc': MgmtObjDatcCreate;
  'dcfg:nycfc': MgmtObjNycfcCreate;
  'dcfg:wific': MgmtObjWificCreate;
  'dcfg:crds': MgmtObjCrdsCreate;
  'dcfg:sim': MgmtObjSimCreate;
  'dcfg:mnwk': MgmtObjMnwkCreate;
  'm2m:nod': NodeCreate;
  'm2m:pch': PollingChannelCreate;
  'm2m:csr': RemoteCSECreate;
  'm2m:req': RequestCreate;
  'm2m:sch': ScheduleCreate;
  'm2m:sub': SubscriptionCreate;
  'm2m:smd': SemanticDescriptorCreate;
  'm2m:ntpr': NotificationTargetMgmtPolicyRefCreate;
  'm2m:ntp': NotificationTargetPolicyCreate;
  'm2m:pdr': PolicyDeletionRulesCreate;
  'm2m:fcnt': FlexContainerCreate;
  'm2m:ts': TimeSeriesCreate;
  'm2m:tsi': TimeSeriesInstanceCreate;
  'm2m:rol': RoleCreate;
  'm2m:tk': TokenCreate;
  'm2m:dac': DynamicAuthorizationConsultationCreate;
  'm2m:crs': CrossResourceSubscriptionCreate;
  'm2m:fci': FlexContainerInstanceCreate;
  'm2m:tsb': TimeSyncBeaconCreate;
  'm2m:actr': ActionCreate;
  'm2m:depr': DependencyCreate;
}

export interface UpdateMap {
  'm2m:acp': AccessControlPolicyUpdate;
  'm2m:ae': AEUpdate;
  'm2m:cnt': ContainerUpdate;
  'm2m:cin': ContentInstanceUpdate;
  'm2m:cb': CSEBaseUpdate;
  'm2m:grp': GroupUpdate;
  'm2m:lcp': LocationPolicyUpdate;
  'm2m:mgo': MgmtObjUpdate;
  'm2m:fwr': MgmtObjFwrUpdate;
  'm2m:swr': MgmtObjSwrUpdate;
  'm2m:mem': MgmtObjMemUpdate;
  'm2m:ani': MgmtObjAniUpdate;
  'm2m:andi': MgmtObjAndiUpdate;
  'm2m:bat': MgmtObjBatUpdate;
  'm2m:dvi': MgmtObjDviUpdate;
  'm2m:dvc': MgmtObjDvcUpdate;
  'm2m:rbo': MgmtObjRboUpdate;
  'm2m:evl': MgmtObjEvlUpdate;
  'm2m:cmp': MgmtObjCmpUpdate;
  'm2m:acmp': MgmtObjAcmpUpdate;
  'm2m:cmdf': MgmtObjCmdfUpdate;
  'm2m:cmdv': MgmtObjCmdvUpdate;
  'm2m:cmpv': MgmtObjCmpvUpdate;
  'm2m:cml': MgmtObjCmlUpdate;
  'm2m:cmnr': MgmtObjCmnrUpdate;
  'm2m:cmwr': MgmtObjCmwrUpdate;
  'm2m:cmbf': MgmtObjCmbfUpdate;
  'dcfg:datc': MgmtObjDatcUpdate;
  'dcfg:nycfc': MgmtObjNycfcUpdate;
  'dcfg:wific': MgmtObjWificUpdate;
  'dcfg:crds': MgmtObjCrdsUpdate;
  'dcfg:sim': MgmtObjSimUpdate;
  'dcfg:mnwk': MgmtObjMnwkUpdate;
  'm2m:nod': NodeUpdate;
  'm2m:pch': PollingChannelUpdate;
  'm2m:csr': RemoteCSEUpdate;
  'm2m:req': RequestUpdate;
  'm2m:sch': ScheduleUpdate;
  'm2m:sub': SubscriptionUpdate;
  'm2m:smd': SemanticDescriptorUpdate;
  'm2m:ntpr': NotificationTargetMgmtPolicyRefUpdate;
  'm2m:ntp': NotificationTargetPolicyUpdate;
  'm2m:pdr': PolicyDeletionRulesUpdate;
  'm2m:fcnt': FlexContainerUpdate;
  'm2m:ts': TimeSeriesUpdate;
  'm2m:tsi': TimeSeriesInstanceUpdate;
  'm2m:rol': RoleUpdate;
  'm2m:tk': TokenUpdate;
  'm2m:dac': DynamicAuthorizationConsultationUpdate;
  'm2m:crs': CrossResourceSubscriptionUpdate;
  'm2m:fci': FlexContainerInstanceUpdate;
  'm2m:tsb': TimeSyncBeaconUpdate;
  'm2m:actr': ActionUpdate;
  'm2m:depr': DependencyUpdate;
}

/** Response status codes (TS-0004 §6.6.3) by name, as Warden answers them. */
export const RSC = {
  ACCEPTED: 1000,
  ACCEPTED_NON_BLOCKING_REQUEST_SYNCH: 1001,
  ACCEPTED_NON_BLOCKING_REQUEST_ASYNCH: 1002,
  OK: 2000,
  CREATED: 2001,
  DELETED: 2002,
  UPDATED: 2004,
  BAD_REQUEST: 4000,
  RELEASE_VERSION_NOT_SUPPORTED: 4001,
  NOT_FOUND: 4004,
  OPERATION_NOT_ALLOWED: 4005,
  REQUEST_TIMEOUT: 4008,
  UNSUPPORTED_MEDIA_TYPE: 4015,
  SUBSCRIPTION_CREATOR_HAS_NO_PRIVILEGE: 4101,
  CONTENTS_UNACCEPTABLE: 4102,
  ORIGINATOR_HAS_NO_PRIVILEGE: 4103,
  GROUP_REQUEST_IDENTIFIER_EXISTS: 4104,
  CONFLICT: 4105,
  ORIGINATOR_NOT_AUTHENTICATED: 4106,
  SECURITY_ASSOCIATION_REQUIRED: 4107,
  INVALID_CHILD_RESOURCE_TYPE: 4108,
  NO_MEMBERS: 4109,
  GROUP_MEMBER_TYPE_INCONSISTENT: 4110,
  ESPRIM_UNSUPPORTED_OPTION: 4111,
  ESPRIM_UNKNOWN_KEY_ID: 4112,
  ESPRIM_UNKNOWN_ORIG_RAND_ID: 4113,
  ESPRIM_UNKNOWN_RECV_RAND_ID: 4114,
  ESPRIM_BAD_MAC: 4115,
  ESPRIM_IMPERSONATION_ERROR: 4116,
  ORIGINATOR_HAS_ALREADY_REGISTERED: 4117,
  BLOCKING_SUBSCRIPTION_ALREADY_EXISTS: 4124,
  SPECIALIZATION_SCHEMA_NOT_FOUND: 4125,
  APP_RULE_VALIDATION_FAILED: 4126,
  OPERATION_DENIED_BY_REMOTE_ENTITY: 4127,
  SERVICE_SUBSCRIPTION_NOT_ESTABLISHED: 4128,
  SERVICE_SUBSCRIPTION_LIMITS_EXCEEDED: 4141,
  INVALID_SPARQL_QUERY: 4143,
  INTERNAL_SERVER_ERROR: 5000,
  NOT_IMPLEMENTED: 5001,
  TARGET_NOT_REACHABLE: 5103,
  RECEIVER_HAS_NO_PRIVILEGE: 5105,
  ALREADY_EXISTS: 5106,
  REMOTE_ENTITY_NOT_REACHABLE: 5107,
  TARGET_NOT_SUBSCRIBABLE: 5203,
  SUBSCRIPTION_VERIFICATION_INITIATION_FAILED: 5204,
  SUBSCRIPTION_HOST_HAS_NO_PRIVILEGE: 5205,
  NON_BLOCKING_SYNCH_REQUEST_NOT_SUPPORTED: 5206,
  NOT_ACCEPTABLE: 5207,
  DISCOVERY_DENIED_BY_IPE: 5208,
  GROUP_MEMBERS_NOT_RESPONDED: 5209,
  ESPRIM_DECRYPTION_ERROR: 5210,
  ESPRIM_ENCRYPTION_ERROR: 5211,
  SPARQL_UPDATE_ERROR: 5212,
  CROSS_RESOURCE_OPERATION_FAILURE: 5221,
  EXTERNAL_OBJECT_NOT_REACHABLE: 6003,
  EXTERNAL_OBJECT_NOT_FOUND: 6005,
  MAX_NUMBER_OF_MEMBER_EXCEEDED: 6010,
  MGMT_SESSION_CANNOT_BE_ESTABLISHED: 6020,
  MGMT_SESSION_ESTABLISHMENT_TIMEOUT: 6021,
  INVALID_CMDTYPE: 6022,
  INVALID_ARGUMENTS: 6023,
  INSUFFICIENT_ARGUMENTS: 6024,
  MGMT_CONVERSION_ERROR: 6025,
  MGMT_CANCELLATION_FAILED: 6026,
  ALREADY_COMPLETE: 6028,
  MGMT_COMMAND_NOT_CANCELLABLE: 6029,
} as const;
