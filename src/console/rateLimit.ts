// Sign-in attempts per client address and in total, in fixed one-minute windows: enough to make guessing a
// 256-bit token pointless and to keep a flood from costing the server work.
const WINDOW_MS = 60_000;
/** Addresses remembered at most; beyond it the window is reset for everyone (fail closed for the total). */
const MAX_KEYS = 10_000;

/** The key every address shares once MAX_KEYS addresses are counted in a window. */
const OVERFLOW_KEY = '';

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

  /** The key an address is counted under: its own, or the one all share once the table is full. */
  private keyOf(key: string): string {
    return this.perKey.has(key) || this.perKey.size < MAX_KEYS ? key : OVERFLOW_KEY;
  }

  /**
   * Counts an attempt as it starts (before its body is read, so that attempts sent at once are counted too); false
   * when this address has used up its window, which then waits (429). An attempt that succeeds is given back
   * (succeeded): only failures use the window up.
   */
  attempt(key: string, now: number): boolean {
    this.roll(now);
    const counted = this.keyOf(key);
    const used = this.perKey.get(counted) ?? 0;
    if (used >= this.perKeyLimit) return false;
    this.perKey.set(counted, used + 1);
    this.total++;
    return true;
  }

  /** An attempt that signed in: it does not count. */
  succeeded(key: string): void {
    const counted = this.keyOf(key);
    const used = this.perKey.get(counted) ?? 0;
    if (used > 0) this.perKey.set(counted, used - 1);
    if (this.total > 0) this.total--;
  }

  /**
   * Whether failures from all addresses together are past the total: such a failure is answered 429 and not
   * logged. The total never stops an attempt (a valid token signs in whatever others sent, so that failures from many
   * addresses, behind a proxy or over IPv6, cannot lock the operators out), and guessing a 256-bit token stays
   * pointless.
   */
  overTotal(): boolean {
    return this.total > this.totalLimit;
  }

  /** Seconds until the window ends, for Retry-After. */
  retryAfter(now: number): number {
    return Math.max(1, Math.ceil((this.windowStart + WINDOW_MS - now) / 1000));
  }
}
