/** Time source; tests substitute a controllable one (access-control windows, expiry). */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
