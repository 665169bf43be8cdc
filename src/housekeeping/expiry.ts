// Removes resources whose expirationTime has passed [TS-0001 §9.6.1.3.2 et], as if deleted by the CSE.
import type { CseServices } from '../pipeline/context.js';
import { OPERATION } from '../primitive/request.js';
import { deleteWithBookkeeping } from '../operations/removal.js';

const BATCH = 500;

/** One sweep; returns how many expired subtrees were removed. */
export async function sweepExpired(services: CseServices): Promise<number> {
  const now = services.clock.now();
  let removed = 0;
  for (;;) {
    const expired = await services.store.find({ expiredAt: now, limit: BATCH });
    if (expired.length === 0) break;
    for (const resource of expired) {
      const gone = await deleteWithBookkeeping(services, resource.ri, now, `/${services.self.cseId}`, {
        op: OPERATION.DELETE,
        to: resource.ri,
        fr: `/${services.self.cseId}`,
        rqi: 'expiry',
      }, now);
      if (gone) removed++;
    }
    if (expired.length < BATCH) break;
  }
  // Remembered group request identifiers whose time is over.
  await services.store.forgetClaims(now);
  // Local-Token-IDs and the built-in DAS's tokens whose token expired.
  await services.store.forgetTokens(now);
  return removed;
}

/** Runs sweeps every `intervalSeconds` until stopped; a failed sweep is logged and retried next time. */
export function startExpirySweeps(services: CseServices, intervalSeconds: number): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running) return; // a slow sweep is not queued behind by more sweeps
    running = (async () => {
      try {
        const n = await sweepExpired(services);
        if (n > 0) services.log.debug({ removed: n }, 'expired resources removed');
      } catch (err) {
        services.log.error({ err }, 'expiry sweep failed');
      } finally {
        running = undefined;
      }
    })();
  }, intervalSeconds * 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
