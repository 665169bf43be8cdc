// Stage 3: the request rate of each originator [Warden policy; TS-0004 defines no rate limit]. Right after
// authenticate, so that only identities the CSE vouches for get a bucket of their own (see keys.ts), and
// before anything reads the database.
import { CseError } from '../primitive/errors.js';
import { RSC } from '../primitive/rsc.js';
import type { CseServices } from '../pipeline/context.js';
import type { Stage } from '../pipeline/pipeline.js';
import { ANONYMOUS, quotaKey } from './keys.js';
import { TokenBuckets } from './rateLimiter.js';

interface Limiters {
  readonly named: TokenBuckets;
  readonly anonymous: TokenBuckets;
}

const limiters = new WeakMap<CseServices, Limiters>();

/**
 * Each process enforces its share of the configured rate: requests spread over n processes together get the
 * configured rate, and no request waits for a database round trip to learn whether it may run.
 */
function limitersOf(services: CseServices): Limiters {
  let found = limiters.get(services);
  if (!found) {
    const q = services.config.quota;
    const share = (n: number): number => (n === 0 ? 0 : Math.max(1, Math.ceil(n / q.processes)));
    found = {
      named: new TokenBuckets({ rate: share(q.rate), burst: share(q.burst) }, services.clock),
      anonymous: new TokenBuckets({ rate: share(q.anonymousRate), burst: share(q.anonymousBurst) }, services.clock),
    };
    limiters.set(services, found);
  }
  return found;
}

export const rateLimit: Stage = {
  name: 'rateLimit',
  run(ctx) {
    // Requests the CSE makes to itself (group members, non-blocking jobs) were counted when they arrived.
    if (ctx.transport.internal) return Promise.resolve();
    const key = quotaKey(ctx);
    if (key === undefined) return Promise.resolve();
    const buckets = limitersOf(ctx.services);
    const admission = key === ANONYMOUS ? buckets.anonymous.take(key) : buckets.named.take(key);
    if (admission.admitted) return Promise.resolve();
    const who = key === ANONYMOUS ? 'originators that are neither authenticated nor registered (they share one limit)' : `originator '${key}'`;
    return Promise.reject(
      new CseError(RSC.SERVICE_SUBSCRIPTION_LIMITS_EXCEEDED, `too many requests from ${who}; retry in ${admission.retryAfterSeconds} s`, admission.retryAfterSeconds),
    );
  },
};
