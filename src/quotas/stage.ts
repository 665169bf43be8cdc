// Stage 3: the request rate of each originator [Warden policy; TS-0004 defines no rate limit]. Right after
// authenticate, so that only identities the CSE vouches for get a bucket of their own (see keys.ts), and
// before anything reads the database.
import { CseError } from '../primitive/errors.js';
import { RSC } from '../primitive/rsc.js';
import type { CseServices, RequestContext } from '../pipeline/context.js';
import type { Stage } from '../pipeline/pipeline.js';
import { ANONYMOUS, quotaKey, relayKey } from './keys.js';
import { TokenBuckets } from './rateLimiter.js';

interface Limiters {
  readonly named: TokenBuckets;
  readonly anonymous: TokenBuckets;
  readonly relayed: TokenBuckets;
  readonly activity: RecentKeys;
  /** As activity, with every request another CSE sent or relayed counted as that CSE's. */
  readonly parties: RecentKeys;
  /** Requests of each originator being served now, and of all of them together. */
  readonly inFlight: Places;
  /** Blocking requests waiting for their operation execution time (oet), likewise. */
  readonly waitingForExecution: Places;
}

/** Places held per quota key (only keys holding one or more) and by all keys together. */
class Places {
  private readonly byKey = new Map<string, number>();
  total = 0;

  of(key: string): number {
    return this.byKey.get(key) ?? 0;
  }

  /** Takes a place for `key`; the function returned gives it back (once). */
  take(key: string): () => void {
    this.byKey.set(key, this.of(key) + 1);
    this.total++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.total--;
      const left = this.of(key) - 1;
      if (left <= 0) this.byKey.delete(key);
      else this.byKey.set(key, left);
    };
  }
}

/** How recently another originator must have sent a request for a spent bucket to refuse. */
const CONTENTION_WINDOW_MS = 1000;

/**
 * The two most recent distinct quota keys and when each last sent a request: enough to tell, in O(1), whether any
 * originator other than this one has been active within the contention window.
 */
class RecentKeys {
  private latest: { key: string; at: number } | undefined;
  private previous: { key: string; at: number } | undefined;

  /** Records a request of `key`; true when another key was active within the window. */
  seen(key: string, now: number): boolean {
    if (this.latest?.key === key) this.latest.at = now;
    else {
      this.previous = this.latest;
      this.latest = { key, at: now };
    }
    const other = this.previous;
    return other !== undefined && other.key !== key && now - other.at <= CONTENTION_WINDOW_MS;
  }
}

const limiters = new WeakMap<CseServices, Limiters>();

/** Whose requests a quota key counts, as a refusal names them (built only when refusing). */
function whose(key: string): string {
  return key === ANONYMOUS ? 'originators that are neither authenticated nor registered (they share one limit)' : `originator '${key}'`;
}

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
      relayed: new TokenBuckets({ rate: share(q.relayRate), burst: share(q.relayBurst) }, services.clock),
      activity: new RecentKeys(),
      parties: new RecentKeys(),
      inFlight: new Places(),
      waitingForExecution: new Places(),
    };
    limiters.set(services, found);
  }
  return found;
}

export const rateLimit: Stage = {
  name: 'rateLimit',
  run(ctx) {
    // Requests the CSE makes to itself (group members, non-blocking jobs) were counted when they arrived.
    if (ctx.transport.internal) return undefined;
    const key = quotaKey(ctx);
    if (key === undefined) return undefined;
    const buckets = limitersOf(ctx.services);
    const now = ctx.services.clock.now();
    const relay = relayKey(ctx);
    // Checked first, so that a relayed request refused here spends none of its originator's own bucket.
    if (relay !== undefined) {
      const sharedContended = buckets.parties.seen(relay, now);
      const shared = buckets.relayed.take(relay);
      if (!shared.admitted && sharedContended) {
        return Promise.reject(
          new CseError(RSC.SERVICE_SUBSCRIPTION_LIMITS_EXCEEDED, `too many requests sent or relayed by ${relay.startsWith('cse:') ? `CSE '${relay.slice(4)}'` : `peer SP '${relay.slice(3)}'`} (they share one limit); retry in ${shared.retryAfterSeconds} s`, shared.retryAfterSeconds),
        );
      }
    } else buckets.parties.seen(key, now);
    const contended = buckets.activity.seen(key, now);
    const admission = key === ANONYMOUS ? buckets.anonymous.take(key) : buckets.named.take(key);
    // Work-conserving: a spent bucket refuses only while another originator is active (within the last second).
    // The limit exists so that no originator can starve the others; one that has the CSE to itself (a gateway
    // catching up, a benchmark) is not slowed down for nobody's benefit.
    if (admission.admitted || !contended) return admitInFlight(ctx, buckets.inFlight, key);
    return Promise.reject(
      new CseError(RSC.SERVICE_SUBSCRIPTION_LIMITS_EXCEEDED, `too many requests from ${whose(key)}; retry in ${admission.retryAfterSeconds} s`, admission.retryAfterSeconds),
    );
  },
};

/**
 * Requests of one originator served at once, at most quota.inFlight — not work-conserving like the rate: a request
 * holds memory while its answer is made (a read of a large instance, a discovery page), so thousands of them sent
 * together by one originator, within its burst, exhausted the heap and stopped every binding. Each process counts
 * its own; the place is given back when the response is made (Pipeline.handle calls ctx.done).
 *
 * The per-originator bound alone does not bound the process: open registration hands out originators, and each
 * could hold its quota.inFlight. So all originators together hold at most quota.inFlightTotal; past it, only an
 * originator with nothing in progress is still let in, up to a reserve of an eighth more, so that a few heavy
 * originators filling the process do not lock out devices sending one request at a time. Past the reserve every
 * request is refused (the admin, never counted, excepted).
 */
function admitInFlight(ctx: RequestContext, inFlight: Places, key: string): Promise<void> | undefined {
  const { inFlight: limit, inFlightTotal: totalLimit } = ctx.services.config.quota;
  const serving = inFlight.of(key);
  if (limit !== 0 && serving >= limit) {
    return Promise.reject(new CseError(RSC.SERVICE_SUBSCRIPTION_LIMITS_EXCEEDED, `too many requests from ${whose(key)} in progress at once (at most ${limit}); retry when one is answered`, 1));
  }
  if (totalLimit !== 0 && inFlight.total >= totalLimit && (serving > 0 || inFlight.total >= totalLimit + reserveOf(totalLimit))) {
    return Promise.reject(new CseError(RSC.SERVICE_SUBSCRIPTION_LIMITS_EXCEEDED, `this CSE is serving as many requests at once as it may (quota.inFlightTotal ${totalLimit}); retry when fewer are in progress`, 1));
  }
  if (limit === 0 && totalLimit === 0) return undefined;
  ctx.done = inFlight.take(key);
  return undefined;
}

const OET_WAITING_PER_ORIGINATOR = 8;
const OET_WAITING_TOTAL = 128;

/**
 * Blocking requests waiting for their operation execution time (oet, up to a minute; pipeline/stages/execute.ts), in
 * each process: at most OET_WAITING_PER_ORIGINATOR of one originator and OET_WAITING_TOTAL in all; beyond, 4141 at
 * once. A waiting request gives its quota.inFlight place back while it waits: a request held for up to a minute kept
 * its place, and 576 such requests (three AEs' 256 and a few dozen more AEs' one) filled quota.inFlightTotal, so every
 * other originator was refused for that minute, even after the senders had closed their connections (found by a
 * probe of time inputs). Returns what gives the waiting place back; the admin is never limited, nor counted.
 */
export function admitExecutionWait(ctx: RequestContext): () => void {
  const key = quotaKey(ctx);
  if (key === undefined) return () => undefined;
  const waiting = limitersOf(ctx.services).waitingForExecution;
  const mine = waiting.of(key);
  if (mine >= OET_WAITING_PER_ORIGINATOR || waiting.total >= OET_WAITING_TOTAL) {
    const whose = mine >= OET_WAITING_PER_ORIGINATOR ? `this originator has ${mine}` : `${waiting.total} are`;
    throw new CseError(RSC.SERVICE_SUBSCRIPTION_LIMITS_EXCEEDED, `too many requests waiting for their operation execution time (${whose}); send it non-blocking (rt=1 or 2), or later`, 1);
  }
  ctx.done?.();
  ctx.done = undefined;
  return waiting.take(key);
}

/** Places past quota.inFlightTotal kept for originators with nothing in progress. */
function reserveOf(totalLimit: number): number {
  return Math.max(1, Math.floor(totalLimit / 8));
}
