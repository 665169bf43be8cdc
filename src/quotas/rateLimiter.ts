// Token buckets, one per originator key, in this process's memory: a request costs no database round trip.
import type { Clock } from '../pipeline/clock.js';

/** Keys remembered at once; beyond it, buckets that have refilled completely (no different from new ones) go. */
const MAX_BUCKETS = 100_000;

export interface BucketShape {
  /** Tokens added per second; 0: no limit. */
  readonly rate: number;
  /** Tokens a bucket holds at most (the burst an originator may send at once). */
  readonly burst: number;
}

export type Admission = { readonly admitted: true } | { readonly admitted: false; readonly retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly shape: BucketShape,
    private readonly clock: Clock,
  ) {}

  /** Takes one token from the key's bucket, or says when the next one will be there. */
  take(key: string): Admission {
    const { rate } = this.shape;
    if (rate <= 0) return { admitted: true };
    const bucket = this.refilled(key);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { admitted: true };
    }
    return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / rate)) };
  }

  /**
   * For work measured as it is done (a token a unit): whether the key's bucket holds any token now, or when it will
   * again after the debt that work left.
   */
  check(key: string): Admission {
    const { rate } = this.shape;
    if (rate <= 0) return { admitted: true };
    const bucket = this.refilled(key);
    return bucket.tokens > 0 ? { admitted: true } : { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil(-bucket.tokens / rate)) };
  }

  /** Spends `amount` tokens of the key's bucket, into debt if need be; false when it held none before. */
  spend(key: string, amount: number): boolean {
    if (this.shape.rate <= 0) return true;
    const bucket = this.refilled(key);
    if (bucket.tokens <= 0) return false;
    bucket.tokens -= amount;
    return true;
  }

  private refilled(key: string): Bucket {
    const { rate, burst } = this.shape;
    const now = this.clock.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= MAX_BUCKETS) this.forgetFull(now);
      bucket = { tokens: burst, at: now };
      this.buckets.set(key, bucket);
    } else if (now > bucket.at) {
      // A clock that goes back (a corrected wall clock) adds nothing, and takes nothing away.
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate);
      bucket.at = now;
    }
    return bucket;
  }

  private forgetFull(now: number): void {
    const { rate, burst } = this.shape;
    for (const [key, b] of this.buckets) {
      if (b.tokens + (Math.max(0, now - b.at) / 1000) * rate >= burst) this.buckets.delete(key);
    }
    // Still full of busy buckets (only possible with more identities than MAX_BUCKETS): the oldest go, and
    // their originators start again with a full burst. Memory stays bounded whatever the number of keys.
    if (this.buckets.size >= MAX_BUCKETS) {
      let drop = this.buckets.size - MAX_BUCKETS / 2;
      for (const key of this.buckets.keys()) {
        if (drop-- <= 0) break;
        this.buckets.delete(key);
      }
    }
  }
}
