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
import { OUTBOX_TOPIC, urlsOfTarget, type Envelope } from './events.js';

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
}

const LEASE_MS = 60_000;

export class Deliverer {
  private readonly owner = randomUUID();
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private wakeRequested = false;
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();
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
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.loop;
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
        const heads = await this.services.store.leaseHeads(this.owner, this.services.clock.now(), LEASE_MS, this.options.concurrency);
        await Promise.all(heads.filter((m) => !m.target.startsWith('pch:')).map((m) => this.deliver(m)));
        if (heads.length === this.options.concurrency) this.wakeRequested = true;
      } catch (err) {
        this.services.log.error({ err }, 'notification delivery round failed');
      }
    } while (this.wakeRequested && !this.stopped);
  }

  private async deliver(head: OutboxMessage): Promise<void> {
    const { store, clock, log } = this.services;
    const envelope = JSON.parse(head.content) as Envelope;
    // Messages of a subscription that has ended meanwhile (deleted, expired, counter spent) are not sent.
    if (!envelope.final && (await store.get(head.subscription))?.ty !== RESOURCE_TYPE.subscription) {
      await store.dequeue([head.id]);
      return;
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
          await store.postpone(head.id, due, head.attempts);
          return;
        }
      }
    }
    const contents = batch.map((m) => (JSON.parse(m.content) as Envelope).pc);
    let pc: Record<string, unknown>;
    if (envelope.latest || envelope.pendingLatest) pc = contents[contents.length - 1] as Record<string, unknown>;
    else if (envelope.batch) pc = { 'm2m:agn': { 'm2m:sgn': contents.map((c) => c['m2m:sgn']) } };
    else pc = contents[0] as Record<string, unknown>;
    const ok = await this.send(head.target, pc, envelope.ec);
    if (ok) {
      await store.dequeue(batch.map((m) => m.id));
      this.delivered += batch.length;
      if (envelope.counted) await this.count(head.subscription);
      return;
    }
    const attempts = head.attempts + 1;
    if (attempts >= this.options.maxAttempts) {
      log.warn({ event: 'notification-dropped', target: head.target, subscription: head.subscription, attempts }, 'notification given up');
      await store.dequeue([head.id]);
      return;
    }
    const backoff = Math.min(this.options.maxBackoffMs, 500 * 2 ** (attempts - 1));
    await store.postpone(head.id, clock.now() + backoff, attempts);
  }

  /** One NOTIFY to a target key; true when it answered with a success RSC. */
  async send(target: string, pc: Record<string, unknown>, ec?: number): Promise<boolean> {
    const primitive: RequestPrimitive = { op: OPERATION.NOTIFY, to: target, fr: `/${this.services.self.cseId}`, rqi: `ntf-${randomIdSuffix()}`, rvi: '3', pc };
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
