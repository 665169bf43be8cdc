// Durable timers on the outbox: a timer is a queued message due at its time, leased and run by exactly one
// process (on SQLite and on PostgreSQL alike), kept across restarts, and set in the same transaction as the
// change that needs it. Every kind of timer (missing data detection today; schedules, windows, renewals later)
// goes through here: one scheduler, with a handler per kind.
import type { CseServices } from '../pipeline/context.js';
import type { OutboxMessage, ResourceStore, StoredResource } from '../storage/store.js';

/** Outbox targets of timers: one queue per (kind, resource), so setting a timer replaces the one pending. */
export const TIMER_TARGET_PREFIX = 'tmr:';

/**
 * Runs a due timer in the transaction that removes it. `resource` is the resource it was set for, locked, or
 * undefined when that is gone. What it changes (and the timers it sets) commits with the removal or not at all.
 */
export type TimerHandler = (tx: ResourceStore, services: CseServices, resource: StoredResource | undefined, payload: unknown) => Promise<void>;

interface TimerMessage {
  readonly kind: string;
  readonly ri: string;
  readonly payload: unknown;
}

export const timerTarget = (kind: string, ri: string): string => `${TIMER_TARGET_PREFIX}${kind} ${ri}`;

/** Sets (or moves) the timer of this kind for a resource to `at` (epoch ms); part of the caller's transaction. */
export async function setTimer(tx: ResourceStore, kind: string, ri: string, at: number, payload: unknown, now: number): Promise<void> {
  const target = timerTarget(kind, ri);
  await tx.dropQueued([target]);
  const content: TimerMessage = { kind, ri, payload };
  await tx.enqueue([{ target, subscription: ri, content: JSON.stringify(content), created: now, notBefore: at }]);
}

export async function cancelTimer(tx: ResourceStore, kind: string, ri: string): Promise<void> {
  await tx.dropQueued([timerTarget(kind, ri)]);
}

/**
 * The outbox job of the timers. The resource is locked before the timer is taken, in the order a request that
 * moves the timer locks them; a timer moved or cancelled meanwhile (or leased by another process since) is no
 * longer this process's, and nothing happens.
 */
export async function runTimer(services: CseServices, handlers: Readonly<Record<string, TimerHandler>>, message: OutboxMessage, owner: string): Promise<void> {
  const timer = JSON.parse(message.content) as TimerMessage;
  const handler = handlers[timer.kind];
  await services.store.transaction(async (tx) => {
    const resource = await tx.getForUpdate(timer.ri);
    if (!(await tx.dequeueLeased(message.id, owner))) return;
    if (!handler) {
      services.log.warn({ timer: message.target }, 'timer of an unknown kind dropped');
      return;
    }
    await handler(tx, services, resource, timer.payload);
  });
}
