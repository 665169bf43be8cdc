// Rows as both SQL backends return them, and the store's types they become. PostgreSQL returns BIGINT columns
// as strings and SQLite as numbers; Number() makes them one.
import type { EdgeChild, OutboxMessage, SearchHit, SlimView, StoredResource } from './store.js';
import { CREATOR_KEY } from '../resources/common.js';

export interface ResourceRow {
  seq: number | string;
  ri: string;
  pi: string;
  ty: number;
  rn: string;
  srn: string;
  ct: string;
  lt: string;
  et: number | string | null;
  owner: string | null;
  doc: string;
  charge?: string | null;
}

export interface OutboxRow {
  id: number | string;
  target: string;
  subscription: string;
  content: string;
  created: number | string;
  not_before: number | string;
  attempts: number;
  payload?: number | string | null;
  /** The referenced payload's content, where the query joins it. */
  shared?: string | null;
}

export function toResource(row: ResourceRow): StoredResource {
  const charge = typeof row.charge === 'string' ? row.charge : null;
  return toResourceFromValues([Number(row.seq), row.ri, row.pi, row.ty, row.rn, row.srn, row.ct, row.lt, row.et === null ? null : Number(row.et), row.owner, row.doc, charge]);
}

/**
 * The columns of a resource in a fixed order, for statements that read rows as arrays (SQLite's raw mode): a row
 * object is built through the native API with every column name looked up again, about a third of a point read
 * (issue #18); an array named here in one shape is not. Listed, not `*`: columns added by a migration come last.
 */
export const RESOURCE_COLUMNS = 'seq, ri, pi, ty, rn, srn, ct, lt, et, owner, doc, charge';

/** A row of RESOURCE_COLUMNS read as an array. */
export type ResourceValues = [seq: number, ri: string, pi: string, ty: number, rn: string, srn: string, ct: string, lt: string, et: number | null, owner: string | null, doc: string, charge: string | null];

export function toResourceFromValues(v: ResourceValues): StoredResource {
  const r: StoredResource = { ri: v[1], pi: v[2], ty: v[3], rn: v[4], srn: v[5], ct: v[6], lt: v[7], seq: v[0], doc: JSON.parse(v[10]) as Record<string, unknown> };
  if (v[8] !== null) r.et = v[8];
  if (v[9] !== null) r.owner = v[9];
  if (v[11] !== null) r.charge = v[11];
  return r;
}

/** A search row: a resource, with the number of conditions it met when the query asked for it. */
export function toHit(row: ResourceRow & { matched?: number | string | null; size?: number | string | null }): SearchHit {
  // Built on the resource in place, not spread into a copy: a discovery page makes hundreds of these.
  const hit = toResource(row) as SearchHit;
  hit.bytes = row.doc.length;
  if (row.size !== undefined && row.size !== null) hit.size = Number(row.size);
  if (row.matched !== undefined && row.matched !== null) hit.matched = Number(row.matched);
  return hit;
}

/**
 * The rows of a slim search (search.ts slimRows): the JSON array of the page's rows, as text (SQLite) or parsed
 * (PostgreSQL; NULL when there is none), each an array of SLIM_COLUMNS and maybe `matched`. Sorted into seq
 * order here, since an aggregate need not keep its input's order.
 */
export function toSlimHits(value: unknown, view: SlimView): SearchHit[] {
  const rows = (typeof value === 'string' ? JSON.parse(value) : (value ?? [])) as unknown[][];
  const hits = rows.map((r): SearchHit => {
    const doc: Record<string, unknown> = {};
    const attrs = r[6] as unknown[] | null;
    if (attrs !== null) {
      for (let i = 0; i < view.attributes.length; i++) if (attrs[i] !== null && attrs[i] !== undefined) doc[view.attributes[i] as string] = attrs[i];
    }
    const srn = r[4] as string;
    // A resource's path is its parent's and its name (operations/create.ts), the CSEBase's its name alone.
    const hit: SearchHit = { seq: Number(r[0]), ri: r[1] as string, pi: r[2] as string, ty: Number(r[3]), rn: srn.slice(srn.lastIndexOf('/') + 1), srn, ct: '', lt: '', doc };
    if (r[5] !== null) hit.owner = r[5] as string;
    if (r.length > 7 && r[7] !== null) hit.matched = Number(r[7]);
    return hit;
  });
  return hits.sort((a, b) => (a.seq as number) - (b.seq as number));
}

/** A row of childAccessSql: a stand-in resource that carries only what an access decision reads. */
export interface AccessClassRow {
  ty: number;
  owner: string | null;
  pi: string;
  first_ri: string;
  acpi: string | null;
  cstn: string | null;
  creator: string | null;
}

export function toAccessClass(row: AccessClassRow): StoredResource {
  const doc: Record<string, unknown> = {};
  if (row.acpi !== null) {
    try {
      doc.acpi = JSON.parse(row.acpi) as unknown;
    } catch {
      doc.acpi = []; // stored documents were validated on write; unreadable grants nothing beyond the default
    }
  }
  if (row.cstn !== null) doc.cstn = row.cstn;
  if (row.creator !== null) doc[CREATOR_KEY] = row.creator;
  const r: StoredResource = { ri: row.first_ri, pi: row.pi, ty: Number(row.ty), rn: '', srn: '', ct: '', lt: '', doc };
  if (row.owner !== null) r.owner = row.owner;
  return r;
}

export function toMessage(row: OutboxRow): OutboxMessage {
  return {
    id: Number(row.id),
    target: row.target,
    subscription: row.subscription,
    content: row.content,
    created: Number(row.created),
    notBefore: Number(row.not_before),
    attempts: row.attempts,
    ...(row.payload !== undefined && row.payload !== null ? { payload: Number(row.payload) } : {}),
    ...(typeof row.shared === 'string' ? { shared: row.shared } : {}),
  };
}

/** A child row or, when there is none, a row of NULLs; either with whether a sibling expired. */
export type EdgeRow = { [K in keyof ResourceRow]: ResourceRow[K] | null } & { expired: number | boolean };

export function toEdgeChild(row: EdgeRow | undefined): EdgeChild {
  const expired = row?.expired === true || Number(row?.expired) === 1;
  return { child: row?.ri == null ? undefined : toResource(row as ResourceRow), expired };
}
