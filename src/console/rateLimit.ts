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

  private roll(now: number): void {
    if (now - this.windowStart >= WINDOW_MS) {
      this.windowStart = now;
      this.total = 0;
      this.perKey.clear();
    }
  }

  /** Whether this address may try now: its failed attempts in this window are below its limit. */
  mayTry(key: string, now: number): boolean {
    this.roll(now);
    return (this.perKey.get(key) ?? 0) < this.perKeyLimit;
  }

  /**
   * Counts a failed attempt; false when, with it, this address or everyone together has used up the window (the
   * failure is then answered 429). Only failures count, and the total only decides how a failure is answered: a
   * valid token signs in whatever others sent, so that failures from many addresses (a proxy, IPv6) cannot lock
   * the operators out, while guessing a 256-bit token stays pointless.
   */
  failed(key: string, now: number): boolean {
    this.roll(now);
    this.total++;
    if (this.perKey.size >= MAX_KEYS && !this.perKey.has(key)) return false;
    const used = (this.perKey.get(key) ?? 0) + 1;
    this.perKey.set(key, used);
    return used <= this.perKeyLimit && this.total <= this.totalLimit;
  }

  /** Seconds until the window ends, for Retry-After. */
  retryAfter(now: number): number {
    return Math.max(1, Math.ceil((this.windowStart + WINDOW_MS - now) / 1000));
  }
}
