// expirationTime rules [TS-0004 §7.3.3.3-5]: a past et is refused; a later one than the CSE allows, or
// than the parent's, is lowered (and reported through rcn=9), never refused.
import type { Config } from '../config/config.js';
import { badRequest } from '../primitive/errors.js';
import { parseTimestamp } from '../primitive/identifiers.js';
import type { StoredResource } from '../storage/store.js';

export function resolveExpiration(requested: unknown, parent: StoredResource | undefined, now: number, config: Config): number {
  let et = now + config.cse.defaultExpiration * 1000;
  if (requested !== undefined && requested !== null) {
    const at = typeof requested === 'string' ? parseTimestamp(requested) : undefined;
    if (at === undefined) throw badRequest(`attribute 'et' is not a timestamp`);
    if (at <= now) throw badRequest(`attribute 'et' ${requested as string} is in the past`);
    et = at;
  }
  et = Math.min(et, now + config.cse.maxExpiration * 1000);
  if (parent?.et !== undefined) et = Math.min(et, parent.et);
  return et;
}
