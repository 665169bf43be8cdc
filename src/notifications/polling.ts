// Request/response delivery through a polling channel [TS-0001 §10.2.5.12, TS-0004 §7.4.22.2].
//
// Long polling: the AE's RETRIEVE of its pollingChannelURI is held until a request for it is queued, or until its
// request expires (4008). A request the CSE itself must send to an AE that is reachable only by polling (a
// verification request, a NOTIFY relayed to the AE) is queued on the same channel as a whole request primitive;
// the CSE then waits, bounded, for the AE to send its response as a NOTIFY of `m2m:rsp` to the pollingChannelURI.
//
// Everything goes through the store, so the process that waits for an answer need not be the one the AE polls or
// answers at (several processes on PostgreSQL): the request is an outbox message of the channel's queue, the
// answer an outbox message of a queue of its own (CHANNEL_ANSWER_PREFIX, never delivered), found by the waiter
// when OUTBOX_TOPIC is broadcast; that an answer is awaited is a claim (claimOnce), shared by every process.
// An answer nobody collects is removed when its queue's head falls due (sweepChannelAnswer, an outbox job).
import { CseError, badRequest } from '../primitive/errors.js';
import { parseAbsRelTimestamp, randomIdSuffix, type LocalIdentity } from '../primitive/identifiers.js';
import { RSC } from '../primitive/rsc.js';
import type { CseServices, RequestContext } from '../pipeline/context.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import type { OutboxMessage, ResourceStore, StoredResource } from '../storage/store.js';
import { OUTBOX_TOPIC, readEnvelope, type StoredEnvelope } from './events.js';

/** Outbox queues of the answers to requests passed through a polling channel: one per request. */
export const CHANNEL_ANSWER_PREFIX = 'pcr:';
/** Request identifiers of the requests the CSE passes through a channel and awaits the answer of. */
const AWAITED_RQI_PREFIX = 'pcr-';
/** Requests one aggregated poll hands out at most (rqag). */
const AGGREGATED_AT_MOST = 100;
/** How long an answer nobody collected is kept before it is swept, beyond the longest wait for it. */
const ANSWER_GRACE_MS = 60_000;

const channelQueue = (aei: string): string => `pch:${aei}`;
const answerQueue = (aei: string, rqi: string): string => `${CHANNEL_ANSWER_PREFIX}${aei}|${rqi}`;
const awaitedClaim = (aei: string, rqi: string): string => `pcw:${aei}|${rqi}`;

/** The response primitive an AE sent through its polling channel. */
export interface ChannelAnswer {
  readonly rsc: number;
  readonly pc?: Record<string, unknown>;
}

/** Resolves when OUTBOX_TOPIC is broadcast (by any process on the store) or after `ms`, whichever is first. */
function outboxChangeOrTimeout(store: ResourceStore, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    let settled = false;
    const done = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsubscribe();
      resolve();
    };
    // Not longer than a second: a broadcast lost with a database connection costs at most that.
    const timer = setTimeout(done, Math.min(ms, 1000));
    const unsubscribe = store.subscribe(OUTBOX_TOPIC, done);
  });
}

/** The request primitive a queued message hands to the polling AE. */
function requestOf(message: OutboxMessage, aei: string, self: LocalIdentity): Record<string, unknown> {
  const envelope = readEnvelope(message);
  return envelope.rqp ?? { op: 5, to: aei, fr: `/${self.cseId}`, rqi: `pch-${message.id}`, rvi: '3', pc: envelope.pc };
}

/** When the request expires (X-M2M-RET), epoch ms; Infinity when it does not say. */
export function requestExpiry(ctx: RequestContext): number {
  return (ctx.request.rqet === undefined ? undefined : parseAbsRelTimestamp(ctx.request.rqet, ctx.receivedAt)) ?? Infinity;
}

export async function pollChannel(ctx: RequestContext, channel: StoredResource): Promise<Record<string, unknown>> {
  const { store, clock, config, self } = ctx.services;
  const aei = channel.pi;
  const deadline = Math.min(requestExpiry(ctx), ctx.receivedAt + config.notifications.pollTimeout * 1000);
  const aggregated = channel.doc.rqag === true;
  for (;;) {
    const queued = await store.queued(channelQueue(aei), undefined, aggregated ? AGGREGATED_AT_MOST : 1);
    if (queued.length > 0) {
      // Two polls at once (two requests of the AE, or two processes) read the same head: each hands out only
      // what its own removal took, so a request goes to one of them.
      const removed = new Set(await store.dequeue(queued.map((m) => m.id)));
      const taken = queued.filter((m) => removed.has(m.id));
      // A request whose waiter has given up is not handed out: its answer would be collected by nobody.
      const live = taken.filter((m) => (readEnvelope(m).expires ?? Infinity) > clock.now());
      if (live.length > 0) {
        const requests = live.map((m) => requestOf(m, aei, self));
        // requestAggregation is Release 4 (not in the V3 texts); like ACME, the requests go as a list under
        // m2m:agrp, each as the request primitive a poll without aggregation returns under m2m:rqp.
        return aggregated ? { 'm2m:agrp': requests } : { 'm2m:rqp': requests[0] };
      }
      continue;
    }
    const wait = deadline - clock.now();
    if (wait <= 0) throw new CseError(RSC.REQUEST_TIMEOUT, 'no request for the AE arrived before the polling request expired');
    await outboxChangeOrTimeout(store, wait);
  }
}

/** Whether `fr` of an answer names the polling AE, in any of the forms of its ID (TS-0001 §7.2). */
function namesAe(fr: unknown, aei: string, self: LocalIdentity): boolean {
  return fr === aei || fr === `/${self.cseId}/${aei}` || fr === `//${self.spId}/${self.cseId}/${aei}`;
}

/**
 * A NOTIFY to a pollingChannelURI: the AE's response to a request it polled [TS-0004 §7.4.22.2.2]. Only the
 * channel's AE gets here (a polling channel is its AE's alone). The content must be one `m2m:rsp` with an rqi; an
 * answer to a request the CSE awaits is kept for the waiter, any other one (to a notification) is acknowledged.
 */
export async function answerThroughChannel(ctx: RequestContext, channel: StoredResource): Promise<void> {
  const { store, clock, config, self } = ctx.services;
  const aei = channel.pi;
  const pc = ctx.request.pc;
  const names = typeof pc === 'object' && pc !== null && !Array.isArray(pc) ? Object.keys(pc) : [];
  if (names.length !== 1 || names[0] !== 'm2m:rsp') throw badRequest('a NOTIFY to a pollingChannelURI must carry the response to a polled request as m2m:rsp');
  const rsp = (pc as Record<string, unknown>)['m2m:rsp'];
  if (typeof rsp !== 'object' || rsp === null || Array.isArray(rsp)) throw badRequest('m2m:rsp must be a response primitive');
  const { rqi, rsc, fr } = rsp as Record<string, unknown>;
  if (typeof rqi !== 'string' || rqi === '') throw badRequest('m2m:rsp rqi (requestIdentifier) must name the polled request answered');
  if (typeof rsc !== 'number' || !Number.isInteger(rsc)) throw badRequest('m2m:rsp rsc (responseStatusCode) must be a response status code');
  // The AE answers for itself only: as ACME, a response from anybody else is refused.
  if (fr !== undefined && !namesAe(fr, aei, self)) throw badRequest(`m2m:rsp fr must be the polling AE '${aei}'`);
  const answerPc = (rsp as Record<string, unknown>).pc;
  if (answerPc !== undefined && (typeof answerPc !== 'object' || answerPc === null || Array.isArray(answerPc))) throw badRequest('m2m:rsp pc must be an object');
  const now = clock.now();
  // Only a request of the CSE's making can be awaited. Probing its claim with an end of `now` leaves nothing behind
  // that is still in force.
  const awaited = rqi.startsWith(AWAITED_RQI_PREFIX) && !(await store.claimOnce(awaitedClaim(aei, rqi), now, now));
  if (!awaited) return;
  const answer: StoredEnvelope = { pc: { rsc, ...(answerPc === undefined ? {} : { pc: answerPc }) } };
  const sweepAt = now + config.notifications.pollResponseTimeout * 1000 + ANSWER_GRACE_MS;
  await store.transaction(async (tx) => {
    await tx.enqueue([{ target: answerQueue(aei, rqi), subscription: '', content: JSON.stringify(answer), created: now, notBefore: sweepAt, originator: aei }]);
    await tx.broadcast(OUTBOX_TOPIC, '');
  });
}

/** Whether the AE has a <pollingChannel>, through which alone a request reaches it when it is not request reachable. */
export async function hasPollingChannel(store: ResourceStore, aei: string): Promise<boolean> {
  return (await store.children(aei, { ty: RESOURCE_TYPE.pollingChannel, limit: 1 })).length > 0;
}

/**
 * Queues a request for an AE reachable only through its polling channel and waits until `deadline` (at most
 * notifications.pollResponseTimeout) for the AE to poll it and answer. Undefined when no answer came in time.
 * The primitive gets a request identifier of the CSE's making: the AE's answer is matched by it, and no other
 * originator can know it in advance.
 */
export async function requestThroughChannel(
  services: CseServices,
  aei: string,
  primitive: Readonly<object>,
  deadline: number,
): Promise<ChannelAnswer | undefined> {
  const { store, clock, config } = services;
  const now = clock.now();
  const until = Math.min(deadline, now + config.notifications.pollResponseTimeout * 1000);
  const rqi = `${AWAITED_RQI_PREFIX}${randomIdSuffix()}`;
  const envelope: StoredEnvelope = { pc: {}, rqp: { ...primitive, rqi }, expires: until };
  await store.claimOnce(awaitedClaim(aei, rqi), until, now);
  await store.transaction(async (tx) => {
    await tx.enqueue([{ target: channelQueue(aei), subscription: '', content: JSON.stringify(envelope), created: now, notBefore: now }]);
    await tx.broadcast(OUTBOX_TOPIC, '');
  });
  for (;;) {
    const [answer] = await store.queued(answerQueue(aei, rqi), undefined, 1);
    if (answer) {
      await store.dropQueued([answerQueue(aei, rqi)]);
      const pc = readEnvelope(answer).pc as { rsc: number; pc?: Record<string, unknown> };
      return pc.pc === undefined ? { rsc: pc.rsc } : { rsc: pc.rsc, pc: pc.pc };
    }
    const wait = until - clock.now();
    if (wait <= 0) return undefined;
    await outboxChangeOrTimeout(store, wait);
  }
}

/** Outbox job: an answer nobody collected (its waiter gave up or ended) goes when its queue's head falls due. */
export async function sweepChannelAnswer(services: CseServices, message: OutboxMessage, owner: string): Promise<void> {
  await services.store.dequeueLeased(message.id, owner);
}
