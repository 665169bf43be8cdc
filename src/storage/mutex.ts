/** A FIFO async lock: acquire() resolves with the function that releases it. */
export class AsyncMutex {
  private held = false;
  private readonly waiters: Array<() => void> = [];

  get locked(): boolean {
    return this.held;
  }

  /** How many are queued for the lock. */
  get waiting(): number {
    return this.waiters.length;
  }

  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = (): void => {
        this.held = true;
        resolve(() => this.release());
      };
      if (this.held) this.waiters.push(grant);
      else grant();
    });
  }

  private release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.held = false;
  }
}
