// The neutral request primitive (TS-0004 §7.2.1.1). Bindings build it; the pipeline reads only this.

export const OPERATION = { CREATE: 1, RETRIEVE: 2, UPDATE: 3, DELETE: 4, NOTIFY: 5 } as const;
export type Operation = (typeof OPERATION)[keyof typeof OPERATION];
export const OPERATION_NAMES: Readonly<Record<Operation, string>> = {
  1: 'CREATE',
  2: 'RETRIEVE',
  3: 'UPDATE',
  4: 'DELETE',
  5: 'NOTIFY',
};

/** responseTypeValue (TS-0004 §6.3.4.2.6). */
export const RESPONSE_TYPE = {
  NON_BLOCKING_SYNCH: 1,
  NON_BLOCKING_ASYNCH: 2,
  BLOCKING: 3,
  FLEX_BLOCKING: 4,
  NO_RESPONSE: 5,
} as const;
export type ResponseTypeValue = (typeof RESPONSE_TYPE)[keyof typeof RESPONSE_TYPE];

/** resultContent (TS-0004 §6.3.4.2.7). */
export const RESULT_CONTENT = {
  NOTHING: 0,
  ATTRIBUTES: 1,
  HIERARCHICAL_ADDRESS: 2,
  HIERARCHICAL_ADDRESS_AND_ATTRIBUTES: 3,
  ATTRIBUTES_AND_CHILD_RESOURCES: 4,
  ATTRIBUTES_AND_CHILD_RESOURCE_REFERENCES: 5,
  CHILD_RESOURCE_REFERENCES: 6,
  ORIGINAL_RESOURCE: 7,
  CHILD_RESOURCES: 8,
  MODIFIED_ATTRIBUTES: 9,
  SEMANTIC_CONTENT: 10,
  /** The default of discovery (a list of addresses), as ACME and the oneM2M tests number it. */
  DISCOVERY_RESULT_REFERENCES: 11,
  /** Release 4 "permissions": no normative representation exists yet, so Warden refuses it. */
  PERMISSIONS: 12,
} as const;
export type ResultContent = (typeof RESULT_CONTENT)[keyof typeof RESULT_CONTENT];

/** discoveryResultType (TS-0004 §6.3.4.2.5). */
export const DISCOVERY_RESULT_TYPE = { STRUCTURED: 1, UNSTRUCTURED: 2 } as const;

/** filterUsage (TS-0004 §6.3.4.2.31). */
export const FILTER_USAGE = { DISCOVERY: 1, CONDITIONAL_RETRIEVAL: 2, IPE_ON_DEMAND_DISCOVERY: 3, DISCOVERY_BASED_OPERATION: 4 } as const;

/**
 * Whether the filter asks for a discovery: fu=1, or fu=3 (IPE on-demand discovery), which is a discovery whose
 * empty result would be completed by asking an IPE [TS-0004 §7.3.3.14] — Warden has no IPE link, so it answers
 * what it holds. (ACME treats 3 as conditional retrieval; the spec says discovery.)
 */
export function isDiscovery(fc: { fu?: number } | undefined): boolean {
  return fc?.fu === FILTER_USAGE.DISCOVERY || fc?.fu === FILTER_USAGE.IPE_ON_DEMAND_DISCOVERY;
}

/** Filter criteria (TS-0004 §6.3.5.8), kept with short names; their behaviour comes with discovery. */
export interface FilterCriteria {
  crb?: string;
  cra?: string;
  ms?: string;
  us?: string;
  sts?: number;
  stb?: number;
  exb?: string;
  exa?: string;
  lbl?: string[];
  clbl?: string[];
  palb?: string[];
  /** labelsQuery expressions (TS-0004 §7.3.3.17.16); the condition holds when any of them matches. */
  lbq?: string[];
  ty?: number[];
  chty?: number[];
  /** parentResourceType: the parent is of one of these types. */
  pty?: number[];
  sza?: number;
  szb?: number;
  cty?: string[];
  atr?: Record<string, string>;
  /** childAttribute / parentAttribute: conditions on a child's or the parent's attributes (R4). */
  catr?: Record<string, string>;
  patr?: Record<string, string>;
  fu?: number;
  lim?: number;
  off?: number;
  lvl?: number;
  fo?: number;
  arp?: string;
  /** semanticsFilter: SPARQL (TS-0004 §7.3.3.18); a list is one query, its parts joined by line breaks. */
  smf?: string[];
  /** geoQuery (Release 4): geometryType, geometry (coordinates as JSON text) and geoSpatialFunction. */
  /** contentFilterSyntax (1 = JSON-path) and contentFilterQuery (Release 3, content-based discovery). */
  cfs?: number;
  cfq?: string;
  gmty?: number;
  geom?: string;
  gsf?: number;
}

/** The filter criteria as m2m:filterCriteria content (short names, lists of {nm, val} for attributes). */
export function filterCriteriaContent(fc: FilterCriteria): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fc)) {
    if (value === undefined) continue;
    if (key === 'off') out.ofst = value;
    else if (key === 'atr' || key === 'catr' || key === 'patr') out[key] = Object.entries(value as Record<string, string>).map(([nm, val]) => ({ nm, val }));
    else out[key] = value;
  }
  return out;
}

export interface ResponseType {
  rtv: ResponseTypeValue;
  nu?: string[];
}

export interface RequestPrimitive {
  op: Operation;
  /** Target in the form the originator sent it (CSE-relative, SP-relative or absolute). */
  to: string;
  /** Originator as claimed; authenticate decides what it is worth. Empty string when absent. */
  fr: string;
  rqi: string;
  /** Release version indicator; undefined means the originator is a Release 1 entity. */
  rvi?: string;
  ty?: number;
  pc?: unknown;
  rcn?: ResultContent;
  rt?: ResponseType;
  rp?: string;
  rqet?: string;
  rset?: string;
  oet?: string;
  ot?: string;
  ec?: number;
  da?: boolean;
  gid?: string;
  /** semanticQueryIndicator: true asks for a semantic query (rcn 10) instead of semantic discovery. */
  sqi?: boolean;
  fc?: FilterCriteria;
  drt?: number;
  atrl?: string[];
  vsi?: string;
  /** Role IDs, token IDs, tokens, local token IDs, token request indicator: given behaviour by later issues. */
  rids?: string[];
  tids?: string[];
  tkns?: string[];
  ltids?: string[];
  tqi?: boolean;
}
