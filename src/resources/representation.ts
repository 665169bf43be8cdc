// How a stored resource is shown to clients: universal columns plus the document, internal keys removed.
import { formatTimestamp } from '../primitive/identifiers.js';
import type { StoredResource } from '../storage/store.js';
import { RESOURCE_TYPE } from './types.js';

/** Document keys starting with this prefix are the CSE's own bookkeeping and never leave it. */
export const INTERNAL_PREFIX = '__';

export function representation(r: StoredResource): Record<string, unknown> {
  const out: Record<string, unknown> = { ty: r.ty, ri: r.ri, rn: r.rn };
  // The CSEBase has no parent: its parentID "shall be an empty string" [TS-0004 §7.4.3.1].
  out.pi = r.ty === RESOURCE_TYPE.CSEBase ? '' : r.pi;
  out.ct = r.ct;
  out.lt = r.lt;
  if (r.et !== undefined) out.et = formatTimestamp(r.et);
  for (const [k, v] of Object.entries(r.doc)) {
    if (!k.startsWith(INTERNAL_PREFIX)) out[k] = v;
  }
  return out;
}
