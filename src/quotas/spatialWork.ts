// Spatial tests (geoQuery in discovery) run on the event loop, and a test of two large geometries costs milliseconds
// (Turf: about a microsecond per pair of positions, measured). Each discovery page bounds its own work
// (operations/discover.ts); these buckets bound the work over time, so that neither one originator sending many such
// pages at once nor many originators together hold every other request up: 100 000 units (pairs of positions) a
// second per originator, 300 000 for the whole process (a tenth and three tenths of a core). A page started while
// the originator's or the process's bucket is empty is refused 4141 with Retry-After; a page that empties one ends
// early with a continuation, as when its own budget runs out. The admin is not limited.
import type { RequestContext } from '../pipeline/context.js';
import { CseError } from '../primitive/errors.js';
import { RSC } from '../primitive/rsc.js';
import { quotaKey } from './keys.js';
import { TokenBuckets } from './rateLimiter.js';

const PER_ORIGINATOR = { rate: 100_000, burst: 300_000 };
const PROCESS = { rate: 300_000, burst: 600_000 };
const PROCESS_KEY = '';

interface Meters {
  readonly perOriginator: TokenBuckets;
  readonly process: TokenBuckets;
}

const meters = new WeakMap<RequestContext['services'], Meters>();

function metersOf(services: RequestContext['services']): Meters {
  let found = meters.get(services);
  if (!found) {
    found = { perOriginator: new TokenBuckets(PER_ORIGINATOR, services.clock), process: new TokenBuckets(PROCESS, services.clock) };
    meters.set(services, found);
  }
  return found;
}

export interface SpatialWork {
  /** Spends `units` of work about to be done; false (nothing spent) when the originator's or the process's bucket is empty. */
  spend(units: number): boolean;
}

/** The spatial work account of one request; 4141 when it may not start any now. */
export function spatialWorkOf(ctx: RequestContext): SpatialWork {
  const key = quotaKey(ctx);
  if (key === undefined) return { spend: () => true };
  const { perOriginator, process } = metersOf(ctx.services);
  for (const [bucket, bucketKey, whose] of [
    [perOriginator, key, 'this originator'],
    [process, PROCESS_KEY, 'this CSE (all originators together)'],
  ] as const) {
    const admission = bucket.check(bucketKey);
    if (!admission.admitted) {
      throw new CseError(RSC.SERVICE_SUBSCRIPTION_LIMITS_EXCEEDED, `the spatial tests of geoQuery used up what ${whose} may spend for now; retry in ${admission.retryAfterSeconds} s`, admission.retryAfterSeconds);
    }
  }
  return {
    spend(units) {
      if (process.check(PROCESS_KEY).admitted !== true || !perOriginator.spend(key, units)) return false;
      process.spend(PROCESS_KEY, units);
      return true;
    },
  };
}
