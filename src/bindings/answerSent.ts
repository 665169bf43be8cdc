/**
 * What the requests made for one incoming message hold (their quota.inFlight places, quotas/stage.ts), given back
 * once the message's answer has left. A message may be served by several pipeline runs that each settle through the
 * same transport (a group's member requests carry it on, fanOut.ts), and a run that settles after the answer left (a
 * non-blocking request's job) gives its place back at once.
 */
export interface AnswerSent {
  /** For TransportContext.settle. */
  readonly settle: (release: () => void) => void;
  /** The answer has left, or none will be sent: give everything back. Idempotent. */
  readonly sent: () => void;
}

export function whenAnswerSent(): AnswerSent {
  let releases: Array<() => void> | undefined = [];
  return {
    settle: (release) => {
      if (releases === undefined) release();
      else releases.push(release);
    },
    sent: () => {
      const waiting = releases;
      releases = undefined;
      waiting?.forEach((release) => release());
    },
  };
}
