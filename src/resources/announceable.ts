// Which types can be announced to other CSEs [TS-0001 §9.6.26, §10.2.13], the type of their announced variant, and
// which attributes travel: MA ones always (when the original has them), OA ones when announcedAttribute names them.
// The MA/OA columns are those of the TS-0001 resource tables (as in ../shared/reference attributePolicies.ap).
// A leaf module: the type files import it for their announceTo / announcedAttribute entries.
import type { AttributeSpec } from './define.js';

export interface Announceable {
  /** The resource type of the announced variant (ty 100xx). */
  readonly annc: number;
  /** Its content name, e.g. `m2m:aeA`. */
  readonly anncName: string;
  /** Mandatory announced attributes: sent whenever the original has them. */
  readonly ma: readonly string[];
  /** Optional announced attributes: sent only when announcedAttribute names them. */
  readonly oa: readonly string[];
}

/** Keyed by the original's ty (RESOURCE_TYPE numbers; literal here so that this module imports no type file). */
export const ANNOUNCEABLE: Readonly<Record<number, Announceable>> = {
  1: { annc: 10001, anncName: 'm2m:acpA', ma: ['et', 'lbl', 'pv', 'pvs'], oa: [] },
  2: { annc: 10002, anncName: 'm2m:aeA', ma: ['et', 'lbl', 'srv'], oa: ['apn', 'api', 'aei', 'poa', 'nl', 'rr', 'csz', 'loc', 'tren', 'ape', 'or'] },
  3: { annc: 10003, anncName: 'm2m:cntA', ma: ['et', 'lbl'], oa: ['mni', 'mbs', 'mia', 'li', 'or', 'disr', 'loc'] },
  4: { annc: 10004, anncName: 'm2m:cinA', ma: ['et', 'lbl'], oa: ['cnf', 'con', 'or', 'loc'] },
  9: { annc: 10009, anncName: 'm2m:grpA', ma: ['et', 'lbl'], oa: ['mt', 'spty', 'mnm', 'mid', 'mtv', 'csy', 'gn'] },
  14: { annc: 10014, anncName: 'm2m:nodA', ma: ['et', 'lbl', 'ni'], oa: ['hcl', 'hael', 'hsl', 'mgca', 'rms', 'nid', 'nty'] },
  18: { annc: 10018, anncName: 'm2m:schA', ma: ['et', 'lbl'], oa: ['se', 'nco'] },
  29: { annc: 10029, anncName: 'm2m:tsA', ma: ['et', 'lbl'], oa: ['loc', 'mni', 'mbs', 'mia', 'pei', 'peid', 'mdn', 'mdt', 'cnf', 'or'] },
  30: { annc: 10030, anncName: 'm2m:tsiA', ma: ['et', 'lbl'], oa: ['loc', 'dgt', 'con', 'snr'] },
  // mgmtObj: each specialization (mgd) is announced as its own content name + 'A' (m2m:fwr → m2m:fwrA, as in TS-0004
  // and ACME); its own attributes are its OA ones (SPECIALIZED_OA), mgd and mgs are MA [TS-0001 table 9.6.15-3].
  13: { annc: 10013, anncName: 'm2m:mgoA', ma: ['et', 'lbl', 'mgd', 'mgs'], oa: ['obis', 'obps', 'dc', 'cmlk'] },
  // flexContainer: a specialization is announced as its content name + 'Annc' (cod:tempe → cod:tempeAnnc, as ACME
  // names it), the plain one as m2m:fcntA; its custom attributes (SDT data points) are OA ones [TS-0001 §9.6.35].
  28: { annc: 10028, anncName: 'm2m:fcntA', ma: ['et', 'lbl', 'cnd'], oa: ['or', 'nl', 'loc', 'mni', 'mbs', 'mia', 'fcied'] },
  // locationPolicy [TS-0001 table 9.6.10-2: all its own attributes OA]; no child types there.
  10: { annc: 10010, anncName: 'm2m:lcpA', ma: ['et', 'lbl'], oa: ['los', 'lit', 'lou', 'lot', 'lor', 'loi', 'lon', 'lost', 'gta', 'gec', 'aid', 'rlkl', 'luec'] },
  // semanticDescriptor [TS-0001 table 9.6.30-2: semanticOpExec NA, the rest OA].
  24: { annc: 10024, anncName: 'm2m:smdA', ma: ['et', 'lbl'], oa: ['dcrp', 'dsp', 'or', 'rels', 'svd', 'vlde'] },
  // timeSyncBeacon (Release 4, not in the V3 texts): as ACME's TSBAnnc, 10060, all its own attributes OA.
  60: { annc: 10060, anncName: 'm2m:tsbA', ma: ['et', 'lbl'], oa: ['bcnc', 'bcni', 'bcnt', 'bcnr', 'bcnu'] },
  // action and dependency (Release 4, TS-0001 §9.6.61-62 as ACME's ACTRAnnc/DEPRAnnc, 10065/10066): apv, orc and rri MA.
  65: { annc: 10065, anncName: 'm2m:actrA', ma: ['et', 'lbl', 'apv', 'orc'], oa: ['apy', 'sri', 'evc', 'evm', 'ecp', 'dep', 'ipu', 'air'] },
  66: { annc: 10066, anncName: 'm2m:deprA', ma: ['et', 'lbl', 'rri'], oa: ['sfc', 'evc'] },
};

/**
 * Attributes of a specialized type (a mgmtObj's own) that are never announced: the common ones, which the announced
 * resource has of its own, and the announcement's own.
 */
export const NEVER_ANNOUNCED: ReadonlySet<string> = new Set(['ri', 'pi', 'ty', 'rn', 'ct', 'lt', 'st', 'et', 'lbl', 'acpi', 'cstn', 'daci', 'at', 'aa', 'ast', 'cr', 'lnk']);

/** The OA attributes of a resource whose type has specializations: the type's, and the specialization's own. */
export function specializedOa(ty: number, attributeNames: Iterable<string>): string[] {
  const announceable = ANNOUNCEABLE[ty];
  if (!announceable) return [];
  const out = new Set(announceable.oa);
  for (const name of attributeNames) if (!NEVER_ANNOUNCED.has(name) && !announceable.ma.includes(name)) out.add(name);
  return [...out];
}

/** Document key: CSE-ID → SP-relative address of the announced resource there (the CSEBase: of its <CSEBaseAnnc>). */
export const ANNOUNCED_TO_KEY = '__announcedTo';

export type AnnouncedTo = Record<string, string>;

/** A resource's announcement record (a copy). */
export function announcedToOf(doc: Readonly<Record<string, unknown>>): AnnouncedTo {
  const value = doc[ANNOUNCED_TO_KEY];
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...(value as AnnouncedTo) } : {};
}

/** The <CSEBaseAnnc> that stands for the announcing CSE on the target CSE [TS-0004 §7.3.3.10]. */
export const CSE_BASE_ANNC = 10005;

/**
 * Types whose announcement needs the parent announced to the same CSE first: contentInstance, timeSeriesInstance
 * [TS-0001 table 10.2.13.2-1], and dependency, whose announced variant exists only under an announced action (no
 * <CSEBaseAnnc> takes one, in TS-0001 or ACME).
 */
export const NEEDS_ANNOUNCED_PARENT: ReadonlySet<number> = new Set([4, 30, 66]);

/**
 * The SP-relative CSE-ID of this SP (`spId`) an SP-relative (/csi/…) or absolute (//sp/csi/…) address starts with.
 * An absolute address of another SP names none: `//other-sp/id-mn/…` is another SP's CSE, not this SP's `/id-mn`
 * (the SP-ID compared without case, a domain name).
 */
export function cseIdOfAddress(address: unknown, spId: string): string | undefined {
  if (typeof address !== 'string') return undefined;
  const m = /^(?:\/\/([^/]+))?(\/[^/]+)\//.exec(address);
  if (!m) return undefined;
  if (m[1] !== undefined && m[1].toLowerCase() !== spId.toLowerCase()) return undefined;
  return m[2];
}

export function isAnnouncedType(ty: number): boolean {
  return ty > 10000 && ty < 10100;
}

/**
 * announceTo and announcedAttribute for an announceable type's table. An announcedAttribute entry must be one of
 * the type's OA attributes [TS-0001 table 10.2.13.7-1: others are invalid], 4000 otherwise.
 */
/**
 * announceSyncType (Release 4; as ACME: 1 uni-directional, the default, 2 bi-directional): with 2, a change of an
 * announced attribute made on the announced resource is sent back to the original (remote/announcement.ts).
 */
export const ANNOUNCE_SYNC_TYPE: AttributeSpec = { type: 'enum', create: 'O', update: 'O', values: [1, 2] };
export const BI_DIRECTIONAL = 2;

export function announceAttributes(ty: number, specializedNames?: Iterable<string>, customAttribute?: (name: string) => boolean): { at: AttributeSpec; aa: AttributeSpec; ast: AttributeSpec } {
  const oa = new Set(specializedNames === undefined ? (ANNOUNCEABLE[ty]?.oa ?? []) : specializedOa(ty, specializedNames));
  return {
    ast: ANNOUNCE_SYNC_TYPE,
    at: { type: 'anyURIList', create: 'O', update: 'O', maxLength: 16 },
    aa: {
      type: 'stringList',
      create: 'O',
      update: 'O',
      maxLength: 32,
      check: (v) => {
        // customAttribute: a type whose specialization is chosen per resource (flexContainer) also takes the custom
        // attributes some specialization defines; only those the resource has are announced (remote/announcement.ts).
        const bad: unknown = Array.isArray(v) ? v.find((name) => !oa.has(String(name)) && customAttribute?.(String(name)) !== true) : undefined;
        return bad === undefined ? undefined : `${JSON.stringify(bad)} is no optional announced attribute of this type (allowed: ${[...oa].join(', ') || 'none'})`;
      },
    },
  };
}
