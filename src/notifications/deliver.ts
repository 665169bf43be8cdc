// Delivery of the outbox: per-target ordered queues in the database, one message in flight per target,
// retries with exponential back-off, batching and latestNotify, expirationCounter. Triggering requests
// never wait for any of it; a dead receiver only grows its own bounded queue.
import { randomUUID } from 'node:crypto';
import type { HttpOutbound } from '../bindings/http/client.js';
import type { CseServices } from '../pipeline/context.js';
import { OPERATION, type RequestPrimitive } from '../primitive/request.js';
import { randomIdSuffix } from '../primitive/identifiers.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import type { SubscriptionAttributes } from '../resources/types/subscription.js';
import type { OutboxMessage } from '../storage/store.js';
import { deleteWithBookkeeping } from '../operations/removal.js';
import { OUTBOX_TOPIC, readEnvelope, targetKey, urlsOfTarget, type Envelope } from './events.js';
import { countStats } from '../resources/types/subscription.js';

export interface DeliveryOptions {
  /** Attempts before a message is given up (and logged). */
  maxAttempts: number;
  /** Longest back-off between two attempts, ms. */
  maxBackoffMs: number;
  /** Messages kept per target; beyond it the oldest are dropped (logged). */
  maxQueue: number;
  /** Messages in flight at once, over all targets. */
  concurrency: number;
  /** Default batch duration when batchNotify gives only num, ms. */
  defaultBatchMs: number;
  /**
   * Other work kept in the outbox, by target prefix (non-blocking request jobs): the handler carries out a
   * leased message and removes it itself; if it throws, the message is retried once its lease ends.
   */
  jobs?: Readonly<Record<string, (message: OutboxMessage, owner: string) => Promise<void>>>;
}

const LEASE_MS = 60_000;
/** Outbox jobs running at once in this process, and held (leased, waiting for a slot) at most. */
const JOBS_RUNNING = 16;
const JOBS_HELD = 64;
/** How long a job this process could not take stays with the outbox before it is offered again. */
const JOB_HAND_BACK_MS = 2_000;
/** Messages sent to one target in one round, one after the other, behind its leased head. */
const RUN_LENGTH = 64;
const BATCH_RECHECK_MS = 50;

/** What one delivery round decided, applied to the outbox in one transaction at its end. */
interface RoundResult {
  done: number[];
  postponed: Array<{ id: number; notBefore: number; attempts: number }>;
  counted: string[];
  /** expirationCounter left per subscription during this round (the store is updated at its end). */
  remaining: Map<string, number>;
}

export class Deliverer {
  private readonly owner = randomUUID();
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private wakeRequested = false;
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();
  /** Jobs this process has leased: waiting for a slot, or running (their leases are renewed meanwhile). */
  private readonly heldJobs = new Map<number, { message: OutboxMessage; handler: (message: OutboxMessage, owner: string) => Promise<void> }>();
  private readonly runningJobs = new Map<number, Promise<void>>();
  private leaseRenewal: NodeJS.Timeout | undefined;
  delivered = 0;

  constructor(
    private readonly services: CseServices,
    private readonly outbound: HttpOutbound,
    private readonly options: DeliveryOptions,
  ) {
    services.store.subscribe(OUTBOX_TOPIC, () => this.wake());
  }

  start(): void {
    this.timer = setInterval(() => this.wake(), 250);
    this.timer.unref();
    // A job may run longer than its lease: while this process holds it, nobody else may take it over.
    this.leaseRenewal = setInterval(() => void this.renewJobLeases(), LEASE_MS / 3);
    this.leaseRenewal.unref();
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.loop;
    // Running jobs finish (a job stopped half-way would be recorded as interrupted), their leases renewed
    // meanwhile; held ones go back.
    while (this.runningJobs.size > 0) await Promise.all(this.runningJobs.values());
    if (this.leaseRenewal) clearInterval(this.leaseRenewal);
    const waiting = [...this.heldJobs.values()].map(({ message }) => message);
    this.heldJobs.clear();
    if (waiting.length === 0) return;
    try {
      await this.services.store.transaction(async (tx) => {
        for (const m of waiting) await tx.postpone(m.id, this.services.clock.now(), m.attempts);
      });
    } catch (err) {
      this.services.log.warn({ err }, 'held outbox jobs could not be handed back; they are taken up when their leases end');
    }
  }

  private async renewJobLeases(): Promise<void> {
    if (this.heldJobs.size === 0) return;
    try {
      await this.services.store.renewLeases([...this.heldJobs.keys()], this.owner, this.services.clock.now() + LEASE_MS);
    } catch (err) {
      this.services.log.error({ err }, 'renewing the leases of outbox jobs failed');
    }
  }

  /** Starts held jobs while there are free slots; a job never holds up a delivery round. */
  private pumpJobs(): void {
    if (this.stopped) return;
    for (const [id, { message, handler }] of this.heldJobs) {
      if (this.runningJobs.size >= JOBS_RUNNING) return;
      if (this.runningJobs.has(id)) continue;
      const run = handler(message, this.owner)
        .catch((err: unknown) => this.services.log.error({ err, target: message.target }, 'outbox job failed; retried when its lease ends'))
        .finally(() => {
          this.runningJobs.delete(id);
          this.heldJobs.delete(id);
          this.pumpJobs();
        });
      this.runningJobs.set(id, run);
    }
  }

  /** Asks for a delivery round now (after a commit that queued messages). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.wakeRequested = true;
      return;
    }
    this.running = true;
    this.loop = this.rounds().finally(() => {
      this.running = false;
    });
  }

  private async rounds(): Promise<void> {
    do {
      this.wakeRequested = false;
      try {
        const { store, clock } = this.services;
        const leased = (await store.leaseHeads(this.owner, clock.now(), LEASE_MS, this.options.concurrency)).filter((m) => !m.target.startsWith('pch:'));
        const heads: OutboxMessage[] = [];
        const result: RoundResult = { done: [], postponed: [], counted: [], remaining: new Map() };
        let taken = 0;
        for (const head of leased) {
          const handler = this.jobHandler(head.target);
          if (!handler) heads.push(head);
          else if (this.heldJobs.size < JOBS_HELD) {
            this.heldJobs.set(head.id, { message: head, handler });
            taken++;
          }
          // More than this process takes on: handed back, for another process or once a slot is free.
          else result.postponed.push({ id: head.id, notBefore: clock.now() + JOB_HAND_BACK_MS, attempts: head.attempts });
        }
        this.pumpJobs();
        await this.boundFailingQueues(heads);
        await Promise.all(heads.map((head) => this.deliverRun(head, result)));
        if (result.done.length > 0 || result.postponed.length > 0) {
          await store.transaction(async (tx) => {
            await tx.dequeue(result.done);
            for (const p of result.postponed) await tx.postpone(p.id, p.notBefore, p.attempts);
          });
        }
        for (const subscription of result.counted) await this.count(subscription);
        // Keep going while there was work: the next heads may already be due. Jobs handed back are not work.
        if (heads.length > 0 || taken > 0) this.wakeRequested = true;
      } catch (err) {
        this.services.log.error({ err }, 'notification delivery round failed');
      }
    } while (this.wakeRequested && !this.stopped);
  }

  private jobHandler(target: string): ((message: OutboxMessage, owner: string) => Promise<void>) | undefined {
    for (const [prefix, handler] of Object.entries(this.options.jobs ?? {})) if (target.startsWith(prefix)) return handler;
    return undefined;
  }

  /**
   * Delivers a target's leased head and, while they succeed, the messages queued behind it (nobody else
   * can lease those: only a queue's head is leasable, and the head is ours). Stops at the first failure.
   */
  private async deliverRun(head: OutboxMessage, result: RoundResult): Promise<void> {
    const envelope = JSON.parse(head.content) as Envelope;
    if (envelope.batch || envelope.latest || envelope.pendingLatest) {
      await this.deliver(head, result);
      return;
    }
    const run = [head, ...(await this.services.store.queued(head.target, undefined, RUN_LENGTH)).filter((m) => m.id > head.id)];
    for (const message of run) {
      const m = JSON.parse(message.content) as Envelope;
      if (m.batch || m.latest || m.pendingLatest) break; // another subscription's policy: its own round
      if (!(await this.deliver(message, result))) break;
    }
  }

  /** Delivers one message (or a batch starting with it); true when it is done with (sent or dropped). */
  private async deliver(head: OutboxMessage, result: RoundResult): Promise<boolean> {
    const { store, clock, log } = this.services;
    const envelope = JSON.parse(head.content) as Envelope;
    // Messages of a subscription that has ended meanwhile (deleted, expired, counter spent) are not sent.
    const subscription = envelope.final ? undefined : await store.get(head.subscription);
    if (!envelope.final && subscription?.ty !== RESOURCE_TYPE.subscription) {
      result.done.push(head.id);
      return true;
    }
    if (envelope.counted && subscription) {
      const left = result.remaining.get(subscription.ri) ?? (typeof subscription.doc.exc === 'number' ? subscription.doc.exc : Infinity);
      if (left <= 0) {
        result.done.push(head.id); // the counter ran out earlier in this round
        return true;
      }
    }
    let batch: OutboxMessage[] = [head];
    if (envelope.batch || envelope.latest || envelope.pendingLatest) {
      const limit = envelope.batch?.num ?? 1_000;
      batch = await store.queued(head.target, head.subscription, envelope.batch ? limit : 1_000);
      if (batch[0]?.id !== head.id) batch = [head, ...batch.filter((m) => m.id !== head.id)];
      if (envelope.batch) {
        const due = head.created + (envelope.batch.dur ?? this.options.defaultBatchMs);
        const complete = envelope.batch.num !== undefined && batch.length >= envelope.batch.num;
        // A batch goes when it is full or its duration has passed, whichever comes first [TS-0001 §10.2.10.7].
        if (!complete && clock.now() < due) {
          // Look again soon: the batch may fill up before its duration ends.
          result.postponed.push({ id: head.id, notBefore: Math.min(due, clock.now() + BATCH_RECHECK_MS), attempts: head.attempts });
          return false;
        }
      }
    }
    const contents = batch.map((m) => readEnvelope(m).pc);
    let pc: Record<string, unknown>;
    if (envelope.latest || envelope.pendingLatest) pc = contents[contents.length - 1] as Record<string, unknown>;
    else if (envelope.batch) pc = { 'm2m:agn': { 'm2m:sgn': contents.map((c) => c['m2m:sgn']) } };
    else pc = contents[0] as Record<string, unknown>;
    const ok = await this.send(head.target, pc, envelope.ec);
    await this.recordStats(head, ok);
    if (ok) {
      result.done.push(...batch.map((m) => m.id));
      this.delivered += batch.length;
      if (envelope.counted) {
        result.counted.push(head.subscription);
        const left = result.remaining.get(head.subscription) ?? (typeof subscription?.doc.exc === 'number' ? subscription.doc.exc : Infinity);
        result.remaining.set(head.subscription, left - 1);
      }
      return true;
    }
    const attempts = head.attempts + 1;
    if (attempts >= this.options.maxAttempts) {
      log.warn({ event: 'notification-dropped', target: head.target, subscription: head.subscription, attempts }, 'notification given up');
      result.done.push(head.id);
      return true;
    }
    const backoff = Math.min(this.options.maxBackoffMs, 500 * 2 ** (attempts - 1));
    result.postponed.push({ id: head.id, notBefore: clock.now() + backoff, attempts });
    return false;
  }

  /**
   * A target that fails keeps its notifications, but only the newest maxQueue of them: the queue of a dead
   * receiver cannot grow without bound. Healthy targets drain and are not counted (the ingest path stays cheap).
   */
  private async boundFailingQueues(heads: readonly OutboxMessage[]): Promise<void> {
    const { store, log } = this.services;
    for (const head of heads) {
      if (head.attempts === 0) continue;
      const excess = (await store.queueLength(head.target)) - this.options.maxQueue;
      if (excess <= 0) continue;
      const dropped = (await store.queued(head.target, undefined, excess + 1)).filter((m) => m.id !== head.id).slice(0, excess);
      await store.dequeue(dropped.map((m) => m.id));
      log.warn({ event: 'notifications-dropped', target: head.target, dropped: dropped.length }, 'notification queue of an unreachable target is full');
    }
  }

  /** Notification statistics of subscriptions that asked for them (nse). */
  private async recordStats(message: OutboxMessage, answered: boolean): Promise<void> {
    const { store, self } = this.services;
    const sub = await store.get(message.subscription);
    if (sub?.ty !== RESOURCE_TYPE.subscription || sub.doc.nse !== true) return;
    await store.transaction(async (tx) => {
      const fresh = await tx.getForUpdate(sub.ri);
      if (!fresh) return;
      for (const nu of (fresh.doc.nu as string[] | undefined) ?? []) {
        if ((await targetKey(tx, self, nu)) === message.target) countStats(fresh.doc, nu, { rqs: 1, rsr: answered ? 1 : 0 });
      }
      await tx.update(fresh);
    });
  }

  /** One NOTIFY to a target key; true when it answered with a success RSC. */
  async send(target: string, pc: Record<string, unknown>, ec?: number): Promise<boolean> {
    const to = target.startsWith('ae:') ? target.slice(3) : target;
    const primitive: RequestPrimitive = { op: OPERATION.NOTIFY, to, fr: `/${this.services.self.cseId}`, rqi: `ntf-${randomIdSuffix()}`, rvi: '3', pc };
    if (ec !== undefined) primitive.ec = ec;
    for (const url of await urlsOfTarget(this.services.store, target)) {
      const result = await this.outbound.send(url, primitive);
      if (result.rsc >= 2000 && result.rsc < 3000) return true;
      if (result.rsc !== 5103) return false; // it answered: another point of access would not change its mind
    }
    return false;
  }

  /** expirationCounter: one less per delivered notification; at zero the subscription ends [TS-0001 §9.6.8]. */
  private async count(subscriptionRi: string): Promise<void> {
    const { store, clock } = this.services;
    const exhausted = await store.transaction(async (tx) => {
      const sub = await tx.getForUpdate(subscriptionRi);
      if (sub?.ty !== RESOURCE_TYPE.subscription) return false;
      const attrs = sub.doc as SubscriptionAttributes;
      if (attrs.exc === undefined) return false;
      attrs.exc = attrs.exc - 1;
      if (attrs.exc > 0) {
        await tx.update(sub);
        return false;
      }
      return true;
    });
    if (exhausted) {
      await deleteWithBookkeeping(this.services, subscriptionRi, clock.now(), `/${this.services.self.cseId}`, {
        op: OPERATION.DELETE,
        to: subscriptionRi,
        fr: `/${this.services.self.cseId}`,
        rqi: 'expiration-counter',
      });
    }
  }
}
