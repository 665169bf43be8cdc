// De-announcement, and attribute sync-updates that could not be delivered (to an announced resource, or back to an
// original with announceSyncType 2), as outbox jobs [TS-0004 §7.3.3.11]: the announced resources of deleted originals are deleted on
// their CSEs after the commit, queued in the deleting transaction, and tried again while a CSE cannot be reached.
// Apart from announcement.ts so that removal (operations/removal.ts) can queue them without importing it back.
import type { CseServices } from '../pipeline/context.js';
import { RSC } from '../primitive/rsc.js';
import { announcedToOf } from '../resources/announceable.js';
import type { NewOutboxMessage, OutboxMessage, ResourceStore, StoredResource } from '../storage/store.js';
import type { LinkResult } from './link.js';

/** Outbox target prefix of de-announcements: one queue per target CSE (`annc:/id-in`). */
export const WITHDRAWAL_JOB_PREFIX = 'annc:';
/** Attempts at a de-announcement whose target cannot be reached (5 s apart, doubling up to an hour) before it is given up, logged. */
const WITHDRAWAL_ATTEMPTS = 24;

export interface Withdrawal {
  readonly csi: string;
  readonly address: string;
  readonly ri: string;
  /**
   * Not a de-announcement but an attribute sync-update that the target could not take [TS-0001 §10.2.13.11]: the
   * announced attributes are sent again, as the original has them when the job runs (later changes included).
   */
  readonly sync?: true;
  /**
   * Not a de-announcement but a change of an announced resource here (announceSyncType 2) that its original's CSE
   * (csi; address: the original, its lnk) could not take: these attributes of the announced resource (ri) are sent
   * back again, as they are when the job runs, so that the order of the failed sync-backs does not matter.
   */
  readonly syncBack?: readonly string[];
}

export function withdrawalMessage(job: Withdrawal, notBefore: number): NewOutboxMessage {
  return { target: `${WITHDRAWAL_JOB_PREFIX}${job.csi}`, subscription: job.ri, content: JSON.stringify(job), created: notBefore, notBefore };
}

/** Unreachable, or failing on its side: worth another attempt. A refusal is final (the target keeps what it refused to delete). */
export function retryable(result: LinkResult): boolean {
  return result.rsc === RSC.TARGET_NOT_REACHABLE || result.rsc >= 5000;
}

/**
 * The de-announcements of deleted resources, queued in the deleting transaction: the announced resources on other
 * CSEs are deleted after the commit, and again later while their CSE cannot be reached [TS-0004 §7.3.3.11]. What was
 * announced under an announced parent that goes too goes with it there, and is not sent separately.
 */
export async function queueWithdrawals(tx: ResourceStore, removed: readonly StoredResource[], now: number): Promise<void> {
  const records = new Map(removed.map((r) => [r.ri, announcedToOf(r.doc)]));
  const messages: NewOutboxMessage[] = [];
  for (const r of removed) {
    for (const [csi, address] of Object.entries(records.get(r.ri) ?? {})) {
      if (records.get(r.pi)?.[csi] !== undefined) continue;
      messages.push(withdrawalMessage({ csi, address, ri: r.ri }, now));
    }
  }
  if (messages.length > 0) await tx.enqueue(messages);
}

/** The outbox job of a de-announcement: sent, then done, or tried again later while the target is unreachable. */
export async function runWithdrawalJob(services: CseServices, message: OutboxMessage, owner: string): Promise<void> {
  const { store, clock, log, remote } = services;
  let job: Withdrawal;
  try {
    job = JSON.parse(message.content) as Withdrawal;
  } catch {
    await store.transaction(async (tx) => void (await tx.dequeueLeased(message.id, owner)));
    return;
  }
  const result = !remote
    ? { rsc: RSC.TARGET_NOT_REACHABLE }
    : job.syncBack
      ? await remote.announcements.sendSyncBack(job)
      : job.sync
        ? await remote.announcements.sendSync(job)
        : await remote.announcements.sendWithdrawal(job);
  const again = retryable(result);
  await store.transaction(async (tx) => {
    if (again && message.attempts + 1 < WITHDRAWAL_ATTEMPTS) {
      const delayMs = Math.min(5_000 * 2 ** message.attempts, 3_600_000);
      await tx.postpone(message.id, clock.now() + delayMs, message.attempts + 1);
      return;
    }
    if (again && job.syncBack) log.warn({ event: 'announcement-sync-back-given-up', target: job.csi, resource: job.ri, original: job.address }, `sync-back to ${job.csi} given up`);
    else if (again && job.sync) log.warn({ event: 'announcement-sync-given-up', target: job.csi, resource: job.ri, at: job.address }, `attribute sync to ${job.csi} given up`);
    else if (again) log.warn({ event: 'de-announcement-given-up', target: job.csi, resource: job.ri, at: job.address }, `de-announcement from ${job.csi} given up`);
    await tx.dequeueLeased(message.id, owner);
  });
}
