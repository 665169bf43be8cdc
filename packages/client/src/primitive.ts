// Request and response primitives as the client sends and reads them (TS-0004 §7.2.1), with short names.

export const Operation = { Create: 1, Retrieve: 2, Update: 3, Delete: 4, Notify: 5 } as const;
export type OperationCode = (typeof Operation)[keyof typeof Operation];

/** resultContent (TS-0004 §6.3.4.2.7). */
export const ResultContent = {
  Nothing: 0,
  Attributes: 1,
  HierarchicalAddress: 2,
  HierarchicalAddressAndAttributes: 3,
  AttributesAndChildResources: 4,
  AttributesAndChildResourceReferences: 5,
  ChildResourceReferences: 6,
  OriginalResource: 7,
  ChildResources: 8,
  ModifiedAttributes: 9,
  SemanticContent: 10,
  DiscoveryResultReferences: 11,
} as const;
export type ResultContentCode = (typeof ResultContent)[keyof typeof ResultContent];

/** responseTypeValue (TS-0004 §6.3.4.2.6). */
export const ResponseType = { NonBlockingSynch: 1, NonBlockingAsynch: 2, Blocking: 3, FlexBlocking: 4, NoResponse: 5 } as const;
export type ResponseTypeCode = (typeof ResponseType)[keyof typeof ResponseType];

/** notificationEventType (TS-0004 §6.3.4.2.20). */
export const NotificationEventType = {
  UpdateOfResource: 1,
  DeleteOfResource: 2,
  CreateOfDirectChild: 3,
  DeleteOfDirectChild: 4,
  RetrieveOfContainerWithNoChild: 5,
  TriggerForAeNotification: 6,
  BlockingUpdate: 7,
  ReportOnMissingData: 8,
} as const;

/** Filter criteria (TS-0004 §6.3.5.8) with their short names; `atr` / `catr` / `patr` as name → value. */
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
  lbq?: string[];
  ty?: number[];
  chty?: number[];
  pty?: number[];
  sza?: number;
  szb?: number;
  cty?: string[];
  atr?: Record<string, string>;
  catr?: Record<string, string>;
  patr?: Record<string, string>;
  /** filterUsage: 1 discovery, 2 conditional retrieval. */
  fu?: number;
  lim?: number;
  /** offset: 1 is the first match [TS-0004 §7.3.3.17.15]. */
  ofst?: number;
  lvl?: number;
  fo?: number;
  arp?: string;
  cfs?: number;
  cfq?: string;
  smf?: string[];
  gmty?: number;
  geom?: string;
  gsf?: number;
}

export interface RequestPrimitive {
  op: OperationCode;
  to: string;
  fr: string;
  rqi: string;
  rvi: string;
  ty?: number;
  pc?: unknown;
  rcn?: ResultContentCode;
  rt?: { rtv: ResponseTypeCode; nu?: string[] };
  /** resultPersistence of a non-blocking request: an xs:duration or milliseconds. */
  rp?: string;
  /** requestExpirationTimestamp: absolute (YYYYMMDDTHHMMSS) or relative milliseconds / xs:duration. */
  rqet?: string;
  rset?: string;
  oet?: string;
  gid?: string;
  drt?: number;
  fc?: FilterCriteria;
  atrl?: string[];
}

export interface ResponsePrimitive {
  rsc: number;
  rqi: string;
  pc?: Record<string, unknown>;
  fr?: string;
  to?: string;
  ot?: string;
  rset?: string;
  /** contentStatus: 1 partial (more follow), 2 full. */
  cnst?: number;
  /** contentOffset: the offset of the next part (give it back as ofst). */
  cnot?: number;
}

/** The members of a filterCriteria as a primitive document carries them (atr etc. as lists of {nm, val}). */
export function filterCriteriaDocument(fc: FilterCriteria): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fc)) {
    if (value === undefined) continue;
    if (key === 'atr' || key === 'catr' || key === 'patr') out[key] = Object.entries(value as Record<string, string>).map(([nm, val]) => ({ nm, val }));
    else out[key] = value;
  }
  return out;
}

/** A request primitive as a whole document (MQTT, WebSocket, a polling channel's answer): only what is set. */
export function requestDocument(r: RequestPrimitive): Record<string, unknown> {
  const doc: Record<string, unknown> = { op: r.op, to: r.to, fr: r.fr, rqi: r.rqi, rvi: r.rvi };
  for (const key of ['ty', 'pc', 'rcn', 'rt', 'rp', 'rqet', 'rset', 'oet', 'gid', 'drt', 'atrl'] as const) {
    if (r[key] !== undefined) doc[key] = r[key];
  }
  if (r.fc) doc.fc = filterCriteriaDocument(r.fc);
  return doc;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A response primitive read from a whole document, or undefined when it is none (no numeric rsc). Nothing of a
 * hostile answer is trusted beyond its shape: pc must be an object, counters integers.
 */
export function responseFromDocument(doc: unknown): ResponsePrimitive | undefined {
  const body = isRecord(doc) && Object.keys(doc).length === 1 && isRecord(doc['m2m:rsp']) ? doc['m2m:rsp'] : doc;
  if (!isRecord(body)) return undefined;
  const rsc = typeof body.rsc === 'string' && /^\d{4}$/.test(body.rsc) ? Number(body.rsc) : body.rsc;
  if (typeof rsc !== 'number' || !Number.isInteger(rsc)) return undefined;
  const out: ResponsePrimitive = { rsc, rqi: typeof body.rqi === 'string' ? body.rqi : '' };
  if (isRecord(body.pc)) out.pc = body.pc;
  for (const key of ['fr', 'to', 'ot', 'rset'] as const) if (typeof body[key] === 'string') out[key] = body[key];
  for (const key of ['cnst', 'cnot'] as const) if (Number.isInteger(body[key])) out[key] = body[key] as number;
  return out;
}

export function isRequestDocument(doc: unknown): doc is Record<string, unknown> & { op: number; rqi: string } {
  return isRecord(doc) && Number.isInteger(doc.op) && typeof doc.rqi === 'string';
}
