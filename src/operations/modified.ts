// rcn=9: the attributes the CSE set or changed beyond what the request asked for [TS-0004 §7.3.3.12].
import { representation } from '../resources/representation.js';
import type { StoredResource } from '../storage/store.js';

export function modifiedAttributes(requested: Record<string, unknown>, result: StoredResource, before?: Record<string, unknown>): Record<string, unknown> {
  const after = representation(result);
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(after)) {
    const asked = requested[name];
    if (asked !== undefined && JSON.stringify(asked) === JSON.stringify(value)) continue;
    if (before && asked === undefined && JSON.stringify(before[name]) === JSON.stringify(value)) continue;
    out[name] = value;
  }
  for (const [name, value] of Object.entries(requested)) {
    if (value === null && name in (before ?? {})) out[name] = null;
  }
  return out;
}
