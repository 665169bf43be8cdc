// Sign-in attempts per client address and in total, in fixed one-minute windows: enough to make guessing a
// 256-bit token pointless and to keep a flood from costing the server work.
const WINDOW_MS = 60_000;
/** Addresses remembered at most; beyond it the window is reset for everyone (fail closed for the total). */
const MAX_KEYS = 10_000;

export class AttemptLimiter {
  private windowStart = 0;
  private total = 0;
  private readonly perKey = new Map<string, number>();

  constructor(
    private readonly perKeyLimit: number,
    private readonly totalLimit: number,
  ) {}

  /** Counts one attempt; false when this address or everyone together has used up the window. */
  allow(key: string, now: number): boolean {
    if (now - this.windowStart >= WINDOW_MS) {
      this.windowStart = now;
      this.total = 0;
      this.perKey.clear();
    }
    if (this.perKey.size >= MAX_KEYS && !this.perKey.has(key)) return false;
    const used = this.perKey.get(key) ?? 0;
    if (used >= this.perKeyLimit || this.total >= this.totalLimit) return false;
    this.perKey.set(key, used + 1);
    this.total++;
    return true;
  }

  /** Seconds until the window ends, for Retry-After. */
  retryAfter(now: number): number {
    return Math.max(1, Math.ceil((this.windowStart + WINDOW_MS - now) / 1000));
  }
}
