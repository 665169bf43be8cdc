// Delivery of the outbox: per-target ordered queues in the database, served in order (pipelined to HTTP(S) URLs),
// retries with exponential back-off, batching and latestNotify, expirationCounter. Triggering requests
// never wait for any of it; a dead receiver only grows its own bounded queue.
//
// Targets never wait for each other: each target whose queue head this process leased is served by a
// worker of its own (at most notifications.concurrency at once), and a slot is taken up again as soon as
// its worker ends, whatever the others do. A target that answers, but slower than notifications.slowAfter,
// has its queue backed off like a failing one, so a receiver that answers just under the timeout cannot
// keep a slot busy on every event.
import { redactUrl } from '../log/redact.js';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { HttpOutbound } from '../bindings/http/client.js';
import type { Lane } from '../bindings/http/connections.js';
import type { CseServices } from '../pipeline/context.js';
import { OPERATION, type RequestPrimitive } from '../primitive/request.js';
import { randomIdSuffix } from '../primitive/identifiers.js';
import type { SubscriptionAttributes } from '../resources/types/subscription.js';
import { OUTBOX_LEASE_MS, type OutboxMessage, type StoredResource } from '../storage/store.js';
import { deleteWithBookkeeping } from '../operations/removal.js';
import { CRS_TARGET_PREFIX, OUTBOX_TOPIC, jsonBodyOf, readEnvelope, targetKey, urlsOfTarget, type StoredEnvelope } from './events.js';
import { isNotifying, receiveAtCrossResourceSubscription } from './crossResource.js';
import { HELD_PREFIX } from './notificationSchedule.js';
import { asksForRemoval, removalRequestedInResponse } from './targetRemoval.js';
import { countStats } from '../resources/types/subscription.js';
import { durationMs } from '../resources/validate.js';
import { baseMediaType, codecByName, type Codec } from '../serialization/codec.js';
import { jsonCodec } from '../serialization/json.js';
import { cborCodec } from '../serialization/cbor.js';
import { xmlCodec } from '../serialization/xml.js';

export interface DeliveryOptions {
  /** Attempts before a message is given up (and logged). */
  maxAttempts: number;
  /** Longest back-off between two attempts, ms. */
  maxBackoffMs: number;
  /** Messages kept per target; beyond it the oldest are dropped (logged). */
  maxQueue: number;
  /** Targets served at once (one worker each). */
  concurrency: number;
  /** Default batch duration when batchNotify gives only num, ms. */
  defaultBatchMs: number;
  /** A target that takes at least this long to answer is backed off like a failing one, ms. */
  slowAfterMs?: number;
  /**
   * Notifications to one HTTP(S) URL target written on its connection before the first is answered (HTTP/1.1
   * pipelining, answered in order); 1 (or absent): one at a time.
   */
  pipelining?: number;
  /**
   * Other work kept in the outbox, by target prefix (non-blocking request jobs): the handler carries out a
   * leased message and removes it itself; if it throws, the message is retried once its lease ends.
   */
  jobs?: Readonly<Record<string, (message: OutboxMessage, owner: string) => Promise<void>>>;
}

/** Outbox jobs running at once in this process, and held (leased, waiting for a slot) at most. */
const JOBS_RUNNING = 16;
const JOBS_HELD = 64;
/** Messages sent to one target by one worker, one after the other, behind its leased head. */
const RUN_LENGTH = 64;
/** Notifications a pipelined run goes on with at most, reading RUN_LENGTH more at a time, before its worker ends. */
const PIPELINED_RUN_LENGTH = 1_024;
/** A target whose last run ended with every notification answered quickly at most this long ago gets a full window at once, ms. */
const ANSWERED_WELL_MS = 1_000;
const BATCH_RECHECK_MS = 50;
/** The longest a gathering batch waits before it is looked at again, ms (see batchRecheckAt). */
const BATCH_RECHECK_MAX_MS = 5_000;

/**
 * When a batch that is not full yet is looked at again: soon while it is young, then a twentieth of its age, at most
 * BATCH_RECHECK_MAX_MS, never after its duration ends. A fixed 50 ms read up to bn.num messages twenty times a second
 * for as long as a batch gathered (a day for bn.dur PT24H: 26 % of a core for one subscription, found by a probe); a
 * batch that fills up is now sent within a twentieth of its age (5 s at most) of filling.
 */
function batchRecheckAt(created: number, due: number, now: number): number {
  const wait = Math.min(BATCH_RECHECK_MAX_MS, Math.max(BATCH_RECHECK_MS, (now - created) / 20));
  return Math.min(due, now + wait);
}
/** How long the asks for a delivery round gather before one round serves them all. */
const WAKE_COALESCE_MS = 2;
/** Polling-channel queues are read by their AE (notifications/polling.ts), never delivered from here. */
const POLLED_PREFIX = 'pch:';
/** Slow targets remembered at most; beyond it those whose back-off has ended are forgotten. */
const SLOW_TARGETS_KEPT = 10_000;
/** How long the head of a failing or slow target waits when the slots such targets may use are all busy. */
const PENALIZED_HAND_BACK_MS = 1_000;
/** Heads a delivery round leases at once when it may have to look past heads it hands back (see rounds). */
const HEADS_PER_BATCH = 64;
/**
 * Heads one delivery round looks at, at most: past them, the next round goes on. Heads are taken oldest due first and
 * those handed back are due a second later, so a few rounds reach any head however many targets hang.
 */
const HEADS_LOOKED_AT_PER_ROUND = 256;

/** What one worker decided about its target's queue, applied to the outbox in one transaction at its end. */
interface RunResult {
  done: number[];
  postponed: Array<{ id: number; notBefore: number; attempts: number }>;
  /** The target answered slowly: what is left of its queue waits until then. */
  slowUntil?: number;
  /** Messages taken behind the head (takeBehind) and not removed yet: given back at the end unless done. */
  taken: number[];
}

/** A notification written to its target and not yet answered (deliverPipelined). */
interface InFlight {
  readonly message: OutboxMessage;
  readonly subscription: StoredResource | undefined;
  readonly sentAt: number;
  /** Whether the target took it (a removal it asked for handled); never rejects. */
  readonly answer: Promise<boolean>;
}

/**
 * Document key of a subscription with an expirationCounter: its deliveries in flight, by the process that started
 * them (the deliverer's owner), each entry good until a time (epoch ms) so that a process that died gives its
 * share back. Internal.
 */
const EXC_IN_FLIGHT_KEY = '__excInFlight';
type InFlightDeliveries = Record<string, { n: number; until: number }>;

/** The entries of a subscription's deliveries in flight that are still good at `now`. */
function inFlightOf(doc: Readonly<Record<string, unknown>>, now: number): InFlightDeliveries {
  const stored = doc[EXC_IN_FLIGHT_KEY];
  const live: InFlightDeliveries = {};
  if (typeof stored !== 'object' || stored === null) return live;
  for (const [owner, entry] of Object.entries(stored as InFlightDeliveries)) if (entry.n > 0 && entry.until > now) live[owner] = entry;
  return live;
}

export class Deliverer {
  private readonly owner = randomUUID();
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private wakeRequested = false;
  private stopped = false;
  /** Nothing is fanned out or delivered before start(): a test may look at the outbox between a change and its fan-out. */
  private started = false;
  private loop: Promise<void> = Promise.resolve();
  /** Jobs this process has leased: waiting for a slot, or running (their leases are renewed meanwhile). */
  private readonly heldJobs = new Map<number, { message: OutboxMessage; handler: (message: OutboxMessage, owner: string) => Promise<void> }>();
  private readonly runningJobs = new Map<number, Promise<void>>();
  /** Targets being served, by target key: the head this process leased for it, its worker, and whether it was failing or slow. */
  private readonly serving = new Map<string, { head: number; worker: Promise<void>; penalized: boolean; result: RunResult }>();
  /** Targets that answered slowly: consecutive slow answers, and until when their queue waits. */
  private readonly slow = new Map<string, { strikes: number; until: number }>();
  /** When each target's last run ended with every notification answered, none slowly (see deliverPipelined). */
  private readonly answeredWell = new Map<string, number>();
  /**
   * Targets whose last notification was answered, and in time: only these are in good standing for the quarter of
   * the slots kept for healthy targets. A target never heard from has to earn it in the other slots: new targets
   * cost nothing to make (new URL paths of one receiver), and hanging once each they took the healthy slots too.
   */
  private readonly goodStanding = new Set<string>();
  private leaseRenewal: NodeJS.Timeout | undefined;
  delivered = 0;
  /** DELETE requests waiting for their subscription's deletion notification to be answered, by subscription ri. */
  private readonly endWaiters = new Map<string, Set<() => void>>();

  constructor(
    private readonly services: CseServices,
    private readonly outbound: HttpOutbound,
    private readonly options: DeliveryOptions,
  ) {
    services.store.subscribe(OUTBOX_TOPIC, () => this.wake());
    services.store.onBroadcastsMissed?.(() => this.wake());
  }

  start(): void {
    this.started = true;
    this.timer = setInterval(() => this.wake(), 250);
    this.timer.unref();
    // A job, or a run of messages to one target, may take longer than its lease: while this process holds
    // it, nobody else may take it over.
    this.leaseRenewal = setInterval(() => void this.renewLeases(), OUTBOX_LEASE_MS / 3);
    this.leaseRenewal.unref();
    this.wake();
  }

  /**
   * Waits, at most `timeoutMs`, until the deletion notification of subscription `ri` has been answered by its
   * subscriberURI (or failed). Called before the deletion commits, so an answer that comes first is not missed;
   * `cancel` when no deletion notification was queued. Resolves at once when this process does not deliver.
   */
  expectEnd(ri: string, timeoutMs: number): { done: Promise<void>; cancel: () => void } {
    if (!this.started || this.stopped) return { done: Promise.resolve(), cancel: () => undefined };
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(() => finish(), timeoutMs);
      timer.unref();
      finish = (): void => {
        clearTimeout(timer);
        const waiting = this.endWaiters.get(ri);
        waiting?.delete(finish);
        if (waiting?.size === 0) this.endWaiters.delete(ri);
        resolve();
      };
    });
    let waiting = this.endWaiters.get(ri);
    if (!waiting) {
      waiting = new Set();
      this.endWaiters.set(ri, waiting);
    }
    waiting.add(finish);
    return { done, cancel: finish };
  }

  /** The deletion notification of `ri` was answered (or failed): its DELETE may answer now. */
  private endAnswered(ri: string): void {
    const waiting = this.endWaiters.get(ri);
    if (waiting) for (const finish of [...waiting]) finish();
  }

  /**
   * Whether a notification is being sent now: tests wait for none before they move a manual clock, so that what they
   * assert next does not race a delivery still on its way.
   */
  get sending(): boolean {
    return this.serving.size > 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.loop;
    // Workers end after the message they are sending; running jobs finish (a job stopped half-way would be
    // recorded as interrupted), their leases renewed meanwhile; held ones go back.
    while (this.serving.size > 0) await Promise.all([...this.serving.values()].map(({ worker }) => worker));
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

  private async renewLeases(): Promise<void> {
    // What a worker took behind its head too: a run may outlast a lease.
    const held = [...this.heldJobs.keys(), ...[...this.serving.values()].flatMap(({ head, result }) => [head, ...result.taken])];
    if (held.length === 0) return;
    try {
      await this.services.store.renewLeases(held, this.owner, this.services.clock.now() + OUTBOX_LEASE_MS);
    } catch (err) {
      this.services.log.error({ err }, 'renewing the leases of outbox messages failed');
    }
  }

  /** Starts held jobs while there are free slots; a job never holds up a delivery. */
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

  /**
   * Asks for free slots to be filled shortly: every commit that queues messages and every worker that ends asks,
   * and a round scans the outbox for due heads, so the asks of one moment share one round instead of a scan each.
   */
  private wakeSoon(): void {
    if (this.wakeScheduled || this.stopped) return;
    this.wakeScheduled = true;
    setTimeout(() => {
      this.wakeScheduled = false;
      this.wake();
    }, WAKE_COALESCE_MS).unref();
  }

  private wakeScheduled = false;

  /** Asks for free slots to be filled now. */
  wake(): void {
    if (this.stopped || !this.started) return;
    if (this.running) {
      this.wakeRequested = true;
      return;
    }
    this.running = true;
    this.loop = this.rounds().finally(() => {
      this.running = false;
    });
  }

  /** Leases due queue heads for the free slots and starts a worker per target; never waits for a worker. */
  private async rounds(): Promise<void> {
    do {
      this.wakeRequested = false;
      const handBack: Array<{ id: number; notBefore: number; attempts: number }> = [];
      try {
        const { store, clock } = this.services;
        const jobPrefixes = Object.keys(this.options.jobs ?? {});
        let started = 0;
        // Deliveries and jobs have slots of their own: targets that keep every delivery slot busy do not
        // hold jobs up, nor jobs deliveries. The head of a queue this process serves is leased by it
        // already: only other targets come back.
        // A quarter of the slots stays for targets in good standing: however many receivers hang or fail,
        // they take their turns in the rest, and healthy targets are never all queued behind them.
        const penalizedSlots = Math.max(1, this.options.concurrency - Math.ceil(this.options.concurrency / 4));
        let penalizedServing = [...this.serving.values()].filter((s) => s.penalized).length;
        let room = this.options.concurrency - this.serving.size;
        // Heads come oldest due first. Failing or new targets' heads handed back because their slots are full would
        // hide every head behind them (a probe's 400 hanging targets kept a healthy target's notifications back for
        // good): while some were, the round looks further, in batches, up to a bound. The heads it holds meanwhile
        // are leased, so each batch is new ones.
        for (let looked = 0; room > 0 && looked < HEADS_LOOKED_AT_PER_ROUND; ) {
          // The first batch is the free slots, as many as can start; only looking past crowded-out heads takes more.
          const batch = Math.min(looked === 0 ? room : Math.max(room, HEADS_PER_BATCH), HEADS_LOOKED_AT_PER_ROUND - looked);
          const heads = await store.leaseHeads(this.owner, clock.now(), OUTBOX_LEASE_MS, batch, { except: [POLLED_PREFIX, HELD_PREFIX, ...jobPrefixes] });
          looked += batch;
          let crowdedOut = 0;
          for (const head of heads) {
            // A queue this process serves already has a new head only when an older message committed after the
            // newer one its worker holds (PostgreSQL): it goes when that worker is done, not in a second worker.
            if (this.serving.has(head.target) || room === 0) {
              handBack.push({ id: head.id, notBefore: clock.now(), attempts: head.attempts });
              continue;
            }
            const slowUntil = this.slow.get(head.target)?.until ?? 0;
            const penalized = head.attempts > 0 || this.slow.has(head.target) || !this.goodStanding.has(head.target);
            if (slowUntil > clock.now()) handBack.push({ id: head.id, notBefore: slowUntil, attempts: head.attempts });
            else if (penalized && penalizedServing >= penalizedSlots) {
              handBack.push({ id: head.id, notBefore: clock.now() + PENALIZED_HAND_BACK_MS, attempts: head.attempts });
              crowdedOut++;
            } else {
              this.serve(head, penalized);
              if (penalized) penalizedServing++;
              room--;
              started++;
            }
          }
          if (heads.length < batch || crowdedOut === 0) break;
        }
        for (const prefix of jobPrefixes) {
          const room = JOBS_HELD - this.heldJobs.size;
          const handler = this.options.jobs?.[prefix];
          if (room <= 0 || !handler) break;
          for (const job of await store.leaseHeads(this.owner, clock.now(), OUTBOX_LEASE_MS, room, { only: prefix })) {
            this.heldJobs.set(job.id, { message: job, handler });
            started++;
          }
        }
        this.pumpJobs();
        // Keep going while there was work: more heads may be due. Heads handed back are not work.
        if (started > 0) this.wakeRequested = true;
      } catch (err) {
        this.services.log.error({ err }, 'leasing notifications for delivery failed');
      } finally {
        // Also after a failure: the heads leased so far must not wait out their leases. Only while still this
        // process's (a round that took longer than a lease must not free a head another process holds since).
        if (handBack.length > 0) {
          await this.services.store
            .transaction(async (tx) => {
              for (const p of handBack) await tx.postpone(p.id, p.notBefore, p.attempts, this.owner);
            })
            .catch((err: unknown) => this.services.log.error({ err }, 'handing notification heads back failed; they are due again when their leases end'));
        }
      }
    } while (this.wakeRequested && !this.stopped);
  }

  /** Serves one target's queue in a worker of its own; its slot frees (and refills) when the worker ends. */
  private serve(head: OutboxMessage, penalized: boolean): void {
    const result: RunResult = { done: [], postponed: [], taken: [] };
    const worker = this.serveTarget(head, result)
      .catch(async (err: unknown) => {
        this.services.log.error({ err, target: redactUrl(head.target) }, 'notification delivery failed; retried when its lease ends');
        // The head waits out its lease; what was taken behind it may go to its next holder then.
        await this.services.store.releaseTaken(result.taken, this.owner).catch(() => undefined);
      })
      .finally(() => {
        this.serving.delete(head.target);
        this.wakeSoon();
      });
    this.serving.set(head.target, { head: head.id, worker, penalized, result });
  }

  private async serveTarget(head: OutboxMessage, result: RunResult): Promise<void> {
    const { store } = this.services;
    await this.boundFailingQueue(head);
    await this.deliverRun(head, result);
    await store.transaction(async (tx) => {
      await tx.dequeue(result.done);
      for (const p of result.postponed) await tx.postpone(p.id, p.notBefore, p.attempts);
      const done = new Set(result.done);
      const unsent = result.taken.filter((id) => !done.has(id));
      if (unsent.length > 0) await tx.releaseTaken(unsent, this.owner);
      if (result.slowUntil === undefined) return;
      // The next message waits out the back-off, in every process: only a queue's head can be leased,
      // and until this commits the head is still ours.
      const [next] = await tx.queued(head.target, undefined, 1);
      if (next && next.notBefore < result.slowUntil) await tx.postpone(next.id, result.slowUntil, next.attempts, this.owner);
    });
  }

  /**
   * Delivers a target's leased head and, while they succeed, the messages queued behind it (nobody else
   * can lease those: only a queue's head is leasable, and the head is ours). Stops at the first failure,
   * or at a slow answer.
   */
  private async deliverRun(head: OutboxMessage, result: RunResult): Promise<void> {
    const envelope = JSON.parse(head.content) as StoredEnvelope;
    if (envelope.batch || envelope.latest || envelope.pendingLatest) {
      await this.deliver(head, result, envelope);
      return;
    }
    const run = [head, ...(await this.takeBehind(head, undefined, RUN_LENGTH, head.id, result))];
    const depth = this.options.pipelining ?? 1;
    if (depth > 1 && isHttpUrlTarget(head.target)) {
      await this.deliverPipelined(run, envelope, depth, result);
      return;
    }
    for (const message of run) {
      const m = message === head ? envelope : (JSON.parse(message.content) as StoredEnvelope);
      if (m.batch || m.latest || m.pendingLatest) break; // another subscription's policy: its own run
      if (!(await this.deliver(message, result, m)) || result.slowUntil !== undefined || this.stopped) break;
    }
  }

  /**
   * A run to an HTTP(S) URL, up to `depth` notifications written before the oldest is answered (one round trip
   * to the receiver carries many of them: with one at a time, a busy receiver's latency bounded a target's rate,
   * and every answer cost the CSE a read and a write of its own). Answers are taken in order; what each one
   * decides is what deliver() decides. At the first failure the notifications written after it count as not
   * delivered, whatever they were answered: they stay queued behind the failed one and go again after it, so
   * the target's order holds and at worst a receiver sees a notification twice (at-least-once). Notifications
   * of an expirationCounter subscription go one at a time: the counter is decided on each answer.
   */
  private async deliverPipelined(run: readonly OutboxMessage[], headEnvelope: StoredEnvelope, depth: number, result: RunResult): Promise<void> {
    const head = run[0] as OutboxMessage;
    const lane = this.outbound.lane();
    const window: InFlight[] = [];
    let failed = false;
    // The first notification of a run goes alone, unless the target's last run ended well a moment ago: only a target
    // that has just answered, and quickly, gets more than one at a time, so a failing or slow one (issue #20) is
    // backed off before anything else is written to it.
    let open = (this.answeredWell.get(head.target) ?? -Infinity) > this.services.clock.now() - ANSWERED_WELL_MS ? depth : 1;
    let answered = false;
    const settle = async (): Promise<boolean> => {
      const ok = await this.settleOldest(window, result);
      if (ok && result.slowUntil === undefined) open = depth;
      answered ||= ok;
      return ok;
    };
    let batch = run;
    let sent = 0;
    try {
      reading: for (;;) {
        for (const message of batch) {
          const envelope = message === head ? headEnvelope : (JSON.parse(message.content) as StoredEnvelope);
          if (envelope.batch || envelope.latest || envelope.pendingLatest) break reading; // another subscription's policy: its own run
          while (!failed && window.length > 0 && (envelope.counted || window.length >= open)) failed = !(await settle());
          if (failed || result.slowUntil !== undefined || this.stopped) break reading;
          sent++;
          if (envelope.counted) {
            if (!(await this.deliver(message, result, envelope))) break reading;
            continue;
          }
          const started = await this.startDelivery(message, envelope, result, lane);
          if (started) window.push(started);
        }
        // While the target keeps answering, the run goes on with what was queued behind it meanwhile, before the
        // lane drains: a run that ended and the next that started had the lane wait for its last answer, the next
        // lease, and (undici) a turn of the event loop before reusing the connection.
        if (sent >= PIPELINED_RUN_LENGTH || window.length === 0) break;
        const last = (batch[batch.length - 1] as OutboxMessage).id;
        await this.dequeueDone(head, result);
        batch = await this.takeBehind(head, undefined, RUN_LENGTH, last, result);
        if (batch.length === 0) break;
      }
      while (!failed && window.length > 0) failed = !(await settle());
    } finally {
      // Written after a failure: not delivered (see above). The lane's connection is closed if they are unanswered.
      lane.release();
      await Promise.all(window.map((w) => w.answer));
    }
    if (!failed && result.slowUntil === undefined && answered) {
      if (this.answeredWell.size >= SLOW_TARGETS_KEPT) this.answeredWell.clear();
      this.answeredWell.set(head.target, this.services.clock.now());
    } else this.answeredWell.delete(head.target);
  }

  /**
   * A long run removes what it has delivered as it goes (not its head, whose lease keeps the queue this worker's):
   * a crash then sends again at most a run's length.
   */
  private async dequeueDone(head: OutboxMessage, result: RunResult): Promise<void> {
    if (result.done.length < RUN_LENGTH) return;
    const ids = result.done.filter((id) => id !== head.id);
    result.done = result.done.length === ids.length ? [] : [head.id];
    await this.services.store.dequeue(ids);
    const removed = new Set(ids);
    result.taken = result.taken.filter((id) => !removed.has(id));
  }

  /** The messages behind a head this worker holds, taken for it (see ResourceStore.takeBehind). */
  private async takeBehind(head: OutboxMessage, subscription: string | undefined, limit: number, after: number, result: RunResult): Promise<OutboxMessage[]> {
    const now = this.services.clock.now();
    const taken = await this.services.store.takeBehind(this.owner, now, now + OUTBOX_LEASE_MS, head.target, subscription, limit, after);
    for (const m of taken) result.taken.push(m.id);
    return taken;
  }

  /** Reads what a notification needs and writes it on the lane at once; undefined when it is done with unsent. */
  private async startDelivery(message: OutboxMessage, envelope: StoredEnvelope, result: RunResult, lane: Lane): Promise<InFlight | undefined> {
    const subscription = envelope.final ? undefined : await this.services.store.notifying(message.subscription);
    // Messages of a subscription that has ended meanwhile (deleted, expired, counter spent) are not sent.
    if (!envelope.final && !isNotifying(subscription?.ty)) {
      result.done.push(message.id);
      return undefined;
    }
    const sentAt = performance.now();
    const answer = notifyUrlNow(this.services, this.outbound, message.target, message, envelope, lane)
      .then((answered) => this.afterAnswer(answered, message.target, envelope.final ? undefined : message.subscription))
      .catch(() => false)
      .finally(() => {
        if (envelope.final) this.endAnswered(message.subscription);
      });
    return { message, subscription, sentAt, answer };
  }

  /** The oldest notification in flight answered: applies its outcome; false when it failed and waits for a retry. */
  private async settleOldest(window: InFlight[], result: RunResult): Promise<boolean> {
    const oldest = window.shift() as InFlight;
    const ok = await oldest.answer;
    return this.outcome(oldest.message, ok, 1, [oldest.message], oldest.subscription, performance.now() - oldest.sentAt, result);
  }

  /** Delivers one message (or a batch starting with it); true when it is done with (sent or dropped). */
  private async deliver(head: OutboxMessage, result: RunResult, envelope: StoredEnvelope): Promise<boolean> {
    const { store, clock } = this.services;
    // Messages of a subscription that has ended meanwhile (deleted, expired, counter spent) are not sent, but for
    // a batch it was gathering: that goes at once (as ACME does on deletion), nothing is left waiting for it.
    const subscription = envelope.final ? undefined : await store.notifying(head.subscription);
    const ended = !envelope.final && !isNotifying(subscription?.ty);
    if (ended && !envelope.batch) {
      result.done.push(head.id);
      return true;
    }
    let batch: OutboxMessage[] = [head];
    if (envelope.batch || envelope.latest || envelope.pendingLatest) {
      const limit = envelope.batch?.num ?? 1_000;
      // A batch goes when it is full or its duration has passed, whichever comes first [TS-0001 §10.2.10.7]; until
      // then (`due`) it is looked at again (batchRecheckAt).
      const due = envelope.batch && !ended ? head.created + (durationMs(envelope.batch.dur) ?? this.options.defaultBatchMs) : undefined;
      const num = envelope.batch?.num;
      const gathering = (): boolean => due !== undefined && clock.now() < due;
      const lookAgain = (): false => {
        result.postponed.push({ id: head.id, notBefore: batchRecheckAt(head.created, due ?? 0, clock.now()), attempts: head.attempts });
        return false;
      };
      // Its messages are not read to learn that it is not full yet: fewer messages queued for the target than its
      // number say so at the cost of a count.
      if (gathering() && num !== undefined && (await store.queueLength(head.target)) < num) return lookAgain();
      batch = [head, ...(await this.takeBehind(head, head.subscription, (envelope.batch ? limit : 1_000) - 1, head.id, result))];
      if (gathering() && !(num !== undefined && batch.length >= num)) return lookAgain();
    }
    const counted = envelope.counted === true && subscription !== undefined && !ended;
    if (counted) {
      const verdict = await this.reserveCount(head.subscription);
      if (verdict === 'spent') {
        result.done.push(head.id); // the counter ran out (or the subscription ended) meanwhile
        return true;
      }
      if (verdict === 'wait') {
        // Deliveries to other targets may still spend the counter: decide once they have answered.
        result.postponed.push({ id: head.id, notBefore: clock.now() + BATCH_RECHECK_MS, attempts: head.attempts });
        return false;
      }
    }
    const contents = batch.map((m) => readEnvelope(m, m === head ? envelope : undefined).pc);
    let pc: Record<string, unknown>;
    // latestNotify with batchNotify: the batch carries its latest notification only [TS-0001 §10.2.10.8].
    const sent = envelope.latest || envelope.pendingLatest ? contents.slice(-1) : contents;
    if (envelope.batch) pc = { 'm2m:agn': { 'm2m:sgn': sent.map((c) => c['m2m:sgn']) } };
    else if (envelope.latest || envelope.pendingLatest) pc = sent[0] as Record<string, unknown>;
    else pc = contents[0] as Record<string, unknown>;
    const sentAt = performance.now();
    let ok = false;
    try {
      ok = await this.send(head.target, pc, envelope.ec, envelope.final || ended ? undefined : head.subscription);
    } finally {
      if (counted) await this.settleCount(head.subscription, ok);
      if (envelope.final) this.endAnswered(head.subscription);
    }
    return this.outcome(head, ok, sent.length, batch, subscription, performance.now() - sentAt, result);
  }

  /** What an answer decides: sent (with the messages it carried), retried later, or given up. True when done with. */
  private async outcome(head: OutboxMessage, ok: boolean, notifications: number, batch: readonly OutboxMessage[], subscription: StoredResource | undefined, took: number, result: RunResult): Promise<boolean> {
    const { clock, log } = this.services;
    await this.recordStats(head, ok, notifications, subscription);
    if (ok) {
      result.done.push(...batch.map((m) => m.id));
      this.delivered += batch.length;
      this.noteAnswerTime(head.target, took, result);
      return true;
    }
    this.goodStanding.delete(head.target);
    const attempts = head.attempts + 1;
    if (attempts >= this.options.maxAttempts) {
      log.warn({ event: 'notification-dropped', target: redactUrl(head.target), subscription: head.subscription, attempts }, 'notification given up');
      result.done.push(head.id);
      return true;
    }
    result.postponed.push({ id: head.id, notBefore: clock.now() + this.backoff(attempts), attempts });
    return false;
  }

  /** Exponential back-off after `failures` failed (or slow) tries in a row. */
  private backoff(failures: number): number {
    return Math.min(this.options.maxBackoffMs, 500 * 2 ** (Math.min(failures, 32) - 1));
  }

  /**
   * A successful answer that took slowAfter or longer counts like a failure for the back-off of the
   * target's queue (the message itself was delivered and is not sent again); a quick one clears it. `took` is
   * elapsed time on a monotonic clock (performance.now), not on the CSE's clock: a step of the wall clock (an NTP
   * correction, or a test's manual clock) during a delivery says nothing about how slow the target is.
   */
  private noteAnswerTime(target: string, took: number, result: RunResult): void {
    const { clock, log } = this.services;
    const limit = this.options.slowAfterMs;
    if (limit === undefined || took < limit) {
      this.slow.delete(target);
      if (this.goodStanding.size >= SLOW_TARGETS_KEPT) this.goodStanding.clear();
      this.goodStanding.add(target);
      return;
    }
    this.goodStanding.delete(target);
    const strikes = (this.slow.get(target)?.strikes ?? 0) + 1;
    const until = clock.now() + this.backoff(strikes);
    if (this.slow.size >= SLOW_TARGETS_KEPT) {
      for (const [key, entry] of this.slow) if (entry.until <= clock.now()) this.slow.delete(key);
    }
    if (this.slow.size < SLOW_TARGETS_KEPT || this.slow.has(target)) this.slow.set(target, { strikes, until });
    result.slowUntil = until;
    log.warn({ event: 'notification-target-slow', target: redactUrl(target), tookMs: took, strikes }, 'notification target answers slowly; its queue is backed off');
  }

  /**
   * expirationCounter with several targets served at once: a delivery is only started while the counter, less the
   * deliveries of the subscription in flight, is above zero [TS-0001 §9.6.8]. Those in flight are kept in the
   * subscription, under its lock: each process (PostgreSQL) counted only its own, and two sent where exc was 1.
   * 'wait' when only the outcome of those in flight decides it.
   */
  private async reserveCount(subscriptionRi: string): Promise<'go' | 'wait' | 'spent'> {
    const { store, clock, config } = this.services;
    let exhausted = false;
    const verdict = await store.transaction(async (tx): Promise<'go' | 'wait' | 'spent'> => {
      const sub = await tx.getForUpdate(subscriptionRi);
      if (!sub || !isNotifying(sub.ty)) return 'spent';
      const now = clock.now();
      const exc = typeof sub.doc.exc === 'number' ? sub.doc.exc : Infinity;
      const inFlight = inFlightOf(sub.doc, now);
      const total = Object.values(inFlight).reduce((sum, entry) => sum + entry.n, 0);
      if (exc - total <= 0) {
        // Spent, and nothing in flight: its deletion after the last count did not happen (a failure, a restart).
        exhausted = total === 0 && exc <= 0;
        return total > 0 ? 'wait' : 'spent';
      }
      // Good for as long as a delivery may take, and a lease besides: an entry outlives its process's deliveries only when the process died.
      inFlight[this.owner] = { n: (inFlight[this.owner]?.n ?? 0) + 1, until: now + config.notifications.timeout * 1000 + OUTBOX_LEASE_MS };
      sub.doc[EXC_IN_FLIGHT_KEY] = inFlight;
      await tx.update(sub);
      return 'go';
    });
    if (exhausted) await this.deleteSpent(subscriptionRi);
    return verdict;
  }

  /** Deletes a subscription whose expirationCounter is spent [TS-0001 §9.6.8], as the CSE. */
  private async deleteSpent(subscriptionRi: string): Promise<void> {
    await deleteWithBookkeeping(this.services, subscriptionRi, this.services.clock.now(), `/${this.services.self.cseId}`, {
      op: OPERATION.DELETE,
      to: subscriptionRi,
      fr: `/${this.services.self.cseId}`,
      rqi: 'expiration-counter',
    });
  }

  /**
   * Ends a reserved delivery, in the transaction that counts a successful one [TS-0001 §9.6.8]: a counter that
   * reaches zero is written before the subscription is deleted, so no delivery starts on it meanwhile.
   */
  private async settleCount(subscriptionRi: string, delivered: boolean): Promise<void> {
    const { store, clock } = this.services;
    try {
      const exhausted = await store.transaction(async (tx) => {
        const sub = await tx.getForUpdate(subscriptionRi);
        if (!sub || !isNotifying(sub.ty)) return false;
        const inFlight = inFlightOf(sub.doc, clock.now());
        const mine = inFlight[this.owner];
        if (mine && --mine.n <= 0) delete inFlight[this.owner];
        if (Object.keys(inFlight).length > 0) sub.doc[EXC_IN_FLIGHT_KEY] = inFlight;
        else delete sub.doc[EXC_IN_FLIGHT_KEY];
        const attrs = sub.doc as SubscriptionAttributes;
        const counted = delivered && typeof attrs.exc === 'number';
        if (counted) attrs.exc = Math.max(0, (attrs.exc as number) - 1);
        await tx.update(sub);
        return counted && attrs.exc === 0;
      });
      if (exhausted) await this.deleteSpent(subscriptionRi);
    } catch (err) {
      this.services.log.error({ err, subscription: subscriptionRi }, 'counting a delivery against expirationCounter failed');
    }
  }

  /**
   * A target that fails (or is backed off as slow) keeps its notifications, but only the newest maxQueue
   * of them: the queue of a dead receiver cannot grow without bound. Healthy targets drain and are not
   * counted (the ingest path stays cheap).
   */
  private async boundFailingQueue(head: OutboxMessage): Promise<void> {
    const { store, log } = this.services;
    if (head.attempts === 0 && !this.slow.has(head.target)) return;
    const excess = (await store.queueLength(head.target)) - this.options.maxQueue;
    if (excess <= 0) return;
    const dropped = (await store.queued(head.target, undefined, excess + 1)).filter((m) => m.id !== head.id).slice(0, excess);
    await store.dequeue(dropped.map((m) => m.id));
    log.warn({ event: 'notifications-dropped', target: redactUrl(head.target), dropped: dropped.length }, 'notification queue of an unreachable target is full');
  }

  /** Notification statistics of subscriptions that asked for them (nse). */
  /**
   * A batch counts as the notifications it carries (as ACME counts them). `sub` is the subscription as deliver() read it before sending (one read of it per message, not two: a second
   * read was 7 % of the CPU of a fan-out to 10 targets); it is read again, locked, only when it asks for statistics.
   */
  private async recordStats(message: OutboxMessage, answered: boolean, notifications: number, sub: StoredResource | undefined): Promise<void> {
    const { store, self } = this.services;
    if (!isNotifying(sub?.ty) || sub?.doc.nse !== true) return;
    await store.transaction(async (tx) => {
      const fresh = await tx.getForUpdate(sub.ri);
      if (!fresh || fresh.doc.nse !== true) return;
      for (const nu of (fresh.doc.nu as string[] | undefined) ?? []) {
        if ((await targetKey(tx, self, nu)) === message.target) countStats(fresh.doc, nu, { rqs: notifications, rsr: answered ? notifications : 0 });
      }
      await tx.update(fresh);
    });
  }

  /** One NOTIFY to a target key; true when it answered with a success RSC. */
  async send(target: string, pc: Record<string, unknown>, ec?: number, subscriptionRi?: string): Promise<boolean> {
    return this.afterAnswer(await notifyTargetAnswer(this.services, this.outbound, target, pc, ec), target, subscriptionRi);
  }

  /** Whether a target's answer is a delivery; a removal it asks for in it is handled here. */
  private async afterAnswer({ rsc, body }: { rsc: number; body?: unknown }, target: string, subscriptionRi: string | undefined): Promise<boolean> {
    const ok = rsc >= 2000 && rsc < 3000;
    // The target answered that it wants to be removed from notificationURI [TS-0001 table 10.2.10.7-1]:
    // decided by its notificationTargetPolicy (targetRemoval.ts). Never fails the delivery, which happened.
    if (ok && subscriptionRi !== undefined && asksForRemoval(body)) {
      try {
        await removalRequestedInResponse(this.services, subscriptionRi, target);
      } catch (err) {
        this.services.log.warn({ err, subscription: subscriptionRi, target: redactUrl(target) }, 'notification target removal requested in a Notify response could not be handled');
      }
    }
    return ok;
  }

}

/**
 * One NOTIFY to a target key, tried on each of its URLs until one answers; the receiver's RSC, 5103 when none
 * did. Serialized as the receiver asked: the `ct=` key of a URL (removed before sending, as ACME does), else
 * the first serialization of the target AE's csz that the CSE produces [TS-0001 §9.6.5 contentSerialization],
 * else JSON.
 */
export async function notifyTarget(services: CseServices, outbound: HttpOutbound, target: string, pc: Record<string, unknown>, ec?: number, deadline?: number): Promise<number> {
  return (await notifyTargetAnswer(services, outbound, target, pc, ec, deadline)).rsc;
}

/** Less time left than this for another point of access of the same target: it is not tried (the timeout is spent). */
export const MIN_ATTEMPT_MS = 100;

/**
 * When the points of access of one target have had their time, in real time (Date.now, as the outbound timeouts):
 * notifications.timeout from now, or `deadline` (epoch ms on the CSE's clock, a request's expiry) when sooner.
 */
export function targetDeadline(services: CseServices, deadline?: number): number {
  const whole = Date.now() + services.config.notifications.timeout * 1000;
  return deadline === undefined || !Number.isFinite(deadline) ? whole : Math.min(whole, Date.now() + (deadline - services.clock.now()));
}

/**
 * notifyTarget, with the content of the answer when one came back over HTTP (a targetRemoval request may be in it).
 * The points of access of one target share notifications.timeout (the README: seconds a target has "in total"), or
 * less when `deadline` (epoch ms on the CSE's clock) comes first: an AE listing 32 that never answer held a delivery slot, a
 * verification or a Blocking_Update for 32 timeouts one after another.
 */
export async function notifyTargetAnswer(services: CseServices, outbound: HttpOutbound, target: string, pc: Record<string, unknown>, ec?: number, deadline?: number): Promise<{ rsc: number; body?: unknown }> {
  if (target.startsWith(CRS_TARGET_PREFIX)) return { rsc: await receiveAtCrossResourceSubscription(services, target.slice(CRS_TARGET_PREFIX.length), pc) };
  const primitive = notifyPrimitive(services, target.startsWith('ae:') ? target.slice(3) : target, pc, ec);
  // An AE registered with another CSE (nu = its SP-relative AE-ID) is reached through the CSE tree (src/remote).
  if (target.startsWith('id:') && services.remote?.otherCseOf(target.slice(3))) {
    return { rsc: (await services.remote.sendToOtherCse(target.slice(3), { ...primitive, to: target.slice(3) })).rsc };
  }
  const ae = target.startsWith('ae:') ? await services.store.get(target.slice(3)) : undefined;
  const preferred = preferredCodec(ae?.doc.csz);
  let rsc = 5103;
  const until = targetDeadline(services, deadline);
  for (const url of await urlsOfTarget(services.store, target)) {
    const left = until - Date.now();
    if (left < MIN_ATTEMPT_MS) break;
    const { url: plain, codec } = serializationOf(url, preferred);
    const answer = noteAttempt(services, plain, primitive.rqi, await outbound.send(plain, primitive, codec, left));
    rsc = answer.rsc;
    if (rsc !== 5103) return answer; // it answered: another point of access would not change its mind
  }
  return { rsc };
}

function notifyPrimitive(services: CseServices, to: string, pc: Record<string, unknown> | undefined, ec: number | undefined): RequestPrimitive {
  const primitive: RequestPrimitive = { op: OPERATION.NOTIFY, to, fr: `/${services.self.cseId}`, rqi: `ntf-${randomIdSuffix()}`, rvi: '3' };
  if (pc !== undefined) primitive.pc = pc;
  if (ec !== undefined) primitive.ec = ec;
  return primitive;
}

/** Counts and logs one attempt: where it went and how it was answered, never what it carried (nor a token in the URL). */
function noteAttempt(services: CseServices, url: string, rqi: string, answer: { rsc: number; body?: unknown }): { rsc: number; body?: unknown } {
  const delivered = answer.rsc >= 2000 && answer.rsc < 3000;
  services.metrics?.delivery(url, delivered);
  // Below debug the line is not built: redacting the URL for it was about 5 µs of every notification (issue #18).
  if (delivered) {
    if (services.log.isLevelEnabled('debug')) services.log.debug({ event: 'notification-delivered', target: redactUrl(url), rsc: answer.rsc, rqi }, 'notification delivered');
  } else services.log.warn({ event: 'notification-attempt-failed', target: redactUrl(url), rsc: answer.rsc, rqi }, 'notification attempt failed');
  return answer.rsc === 5103 ? { rsc: 5103 } : answer;
}

/** Whether a target key is one HTTP(S) URL (not an AE's points of access, another CSE or a local resource). */
function isHttpUrlTarget(target: string): boolean {
  return /^https?:\/\//i.test(target);
}

/** What serializationOf made of a URL target (parsing it took as long as writing the request): a target's run asks each time. */
const urlSerializations = new Map<string, { url: string; codec: Codec }>();
const URL_SERIALIZATIONS_KEPT = 10_000;

/**
 * A NOTIFY to an HTTP(S) URL target, written on `lane` before this returns: the order of the calls is the order on
 * the wire (nothing is awaited before the write).
 */
function notifyUrlNow(services: CseServices, outbound: HttpOutbound, target: string, message: OutboxMessage, envelope: StoredEnvelope, lane: Lane): Promise<{ rsc: number; body?: unknown }> {
  let chosen = urlSerializations.get(target);
  if (!chosen) {
    if (urlSerializations.size >= URL_SERIALIZATIONS_KEPT) urlSerializations.clear();
    chosen = serializationOf(target, undefined);
    urlSerializations.set(target, chosen);
  }
  const { url: plain, codec } = chosen;
  // JSON over the event's shared payload: the body written as text (jsonBodyOf), the representation made once per event.
  const json = codec === jsonCodec ? jsonBodyOf(message, envelope) : undefined;
  const primitive = notifyPrimitive(services, target, json === undefined ? readEnvelope(message, envelope).pc : undefined, envelope.ec);
  const encoded = json === undefined ? undefined : Buffer.from(json, 'utf8');
  return outbound.send(plain, primitive, codec, undefined, lane, encoded).then((answer) => noteAttempt(services, plain, primitive.rqi, answer));
}

/** The first media type of a csz list that the CSE can produce. */
function preferredCodec(csz: unknown): Codec | undefined {
  if (!Array.isArray(csz)) return undefined;
  for (const entry of csz) {
    if (typeof entry !== 'string') continue;
    const codec = [jsonCodec, cborCodec, xmlCodec].find((c) => c.accepts.includes(baseMediaType(entry)));
    if (codec) return codec;
  }
  return undefined;
}

/** A URL's `ct=` key (json, cbor, xml) chooses the serialization and is not sent on. */
function serializationOf(url: string, fallback: Codec | undefined): { url: string; codec: Codec } {
  try {
    const parsed = new URL(url);
    const ct = parsed.searchParams.get('ct');
    if (ct !== null) {
      parsed.searchParams.delete('ct');
      return { url: parsed.href, codec: codecByName(ct.toLowerCase()) ?? fallback ?? jsonCodec };
    }
  } catch {
    // not a URL: sent as it is
  }
  return { url, codec: fallback ?? jsonCodec };
}

