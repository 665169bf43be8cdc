// Non-blocking requests [TS-0004 §7.3.3.2 responseType, TS-0001 §8.2.2]: the originator is answered at
// once (1001 with a <request> resource to poll, or 1002 with the result notified later); the request is
// kept as a job in the durable outbox, in the same transaction as its <request>, and carried out as a
// blocking request by whichever process leases it: at its operation execution time (oet), and again after a
// crash or restart. A job that had started when its process died is not run twice: its outcome is unknown,
// so it is recorded as failed.
import { formatTimestamp, parseAbsRelTimestamp, randomIdSuffix } from '../primitive/identifiers.js';
import { OPERATION, RESPONSE_TYPE, filterCriteriaContent, type RequestPrimitive } from '../primitive/request.js';
import type { ResponsePrimitive } from '../primitive/response.js';
import { RSC } from '../primitive/rsc.js';
import { CseError, badRequest } from '../primitive/errors.js';
import type { TransportContext } from '../primitive/transport.js';
import type { CseServices, Outcome, RequestContext } from '../pipeline/context.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { REQUEST_STATUS } from '../resources/types/request.js';
import { targetKey } from '../notifications/events.js';
import { verifyTargets } from '../notifications/verify.js';
import { OUTBOX_TOPIC } from '../notifications/events.js';
import { storageCharge } from '../quotas/stored.js';
import { ANONYMOUS, quotaKey } from '../quotas/keys.js';
import type { NewOutboxMessage, OutboxMessage, ResourceStore } from '../storage/store.js';

/** How long a <request> keeps its result without rp/rset: one hour. */
const DEFAULT_PERSISTENCE_MS = 3_600_000;
/** Outbox targets of request jobs: one queue per job, so jobs never wait behind each other. */
export const JOB_TARGET_PREFIX = 'req:';
/**
 * Jobs waiting or running at once over the whole cluster (nonBlocking.maxJobs); more are refused rather than queued
 * without bound. Each originator may have quota.jobs of them, but open registration hands out originators, and 101
 * new AEs filled the 10 000 with jobs due two days later, for every originator, the admin included (found by a probe).
 * So past the bound an originator with no job in progress may still add one, up to a tenth more, and the admin (no
 * quota key) up to twice the bound.
 */
function jobBound(config: CseServices['config'], admin: boolean, jobsInProgress: number): number {
  const max = config.nonBlocking.maxJobs;
  if (admin) return 2 * max;
  return jobsInProgress === 0 ? max + Math.ceil(max / 10) : max;
}

/** The outbox target of a job: its originator first (originators hold no blanks), so they can be counted. */
function jobTarget(originator: string, ri: string): string {
  return `${JOB_TARGET_PREFIX}${originator || '-'} ${ri}`;
}
/** Marks a <request> whose job has started, with the runner that started it. */
const STARTED_KEY = '__startedBy';

/** What a job message carries: the request as it is to be carried out, and the connection it came on. */
interface RequestJob {
  request: RequestPrimitive;
  /** The transport as authenticated when the request arrived; authentication runs again against it. */
  transport: TransportContext;
  ri: string;
  notify: string[];
}

function responseRecord(response: Pick<ResponsePrimitive, 'rsc' | 'rqi' | 'pc' | 'fr'>): Record<string, unknown> {
  return { rsc: response.rsc, rqi: response.rqi, ...(response.pc === undefined ? {} : { pc: response.pc }), ...(response.fr ? { fr: response.fr } : {}) };
}

/** Queues the result for the rt=2 targets, in the transaction that records it. */
async function notifyResult(tx: ResourceStore, services: CseServices, targets: readonly string[], response: Record<string, unknown>, requestRi: string): Promise<void> {
  if (targets.length === 0) return;
  const now = services.clock.now();
  const content = JSON.stringify({ pc: { 'm2m:rsp': response }, final: true });
  const messages: NewOutboxMessage[] = [];
  for (const target of targets) messages.push({ target: await targetKey(tx, services.self, target), subscription: requestRi, content, created: now, notBefore: now });
  await tx.enqueue(messages);
  await tx.broadcast(OUTBOX_TOPIC, '');
}

/** The request's other parameters, as a <request> shows them (m2m:metaInformation) [TS-0004 §6.3.5.x]. */
function metaInformation(request: RequestPrimitive): Record<string, unknown> {
  const mi: Record<string, unknown> = {};
  for (const name of ['ty', 'ot', 'rqet', 'rset', 'oet', 'rp', 'rcn', 'ec', 'gid', 'drt', 'vsi'] as const) {
    if (request[name] !== undefined) mi[name] = request[name];
  }
  if (request.fc) mi.fc = filterCriteriaContent(request.fc);
  if (request.rt) mi.rt = request.rt;
  return mi;
}

/**
 * Accepts a non-blocking request. `hostedElsewhere`: its target is on another CSE, and this CSE is its Receiver
 * CSE, which hosts the <request> [TS-0004 §7.3.2.2]; the job forwards it as a blocking request (a transit CSE that
 * cannot take asynchronous messages from the next hop does so, §7.3.2.8), and the answer is its result.
 */
export async function acceptNonBlocking(ctx: RequestContext, options: { hostedElsewhere?: boolean } = {}): Promise<Outcome> {
  const { services, request } = ctx;
  const { store, clock, self, config } = services;
  const originator = ctx.originator?.id ?? request.fr;
  // Jobs are counted per quota key (authenticated or registered identities; the rest share one), never per
  // claimed From; the admin has no per-originator cap.
  const { charge, limits } = storageCharge(ctx);
  // Checked before the work below and again, under a lock per quota key, in the transaction that adds the job:
  // requests at once (on several processes) each counted the others' jobs as not there yet, 8 where quota.jobs was 2.
  const admit = async (reader: ResourceStore): Promise<void> => {
    const perOriginator = config.quota.jobs;
    const inProgress = limits ? await reader.countQueuedByPrefix(jobTarget(charge, ''), perOriginator) : 0;
    if (limits && inProgress >= perOriginator) {
      throw new CseError(RSC.SERVICE_SUBSCRIPTION_LIMITS_EXCEEDED, `${perOriginator} non-blocking requests of this originator are in progress (quota.jobs); retry when one has finished`);
    }
    const bound = jobBound(config, limits === undefined, inProgress);
    if ((await reader.countQueuedByPrefix(JOB_TARGET_PREFIX, bound)) >= bound) {
      throw new CseError(RSC.NOT_ACCEPTABLE, 'this CSE has as many non-blocking requests in progress as it takes; retry later or use a blocking request');
    }
  };
  await admit(store);
  const now = clock.now();
  const asynchronous = request.rt?.rtv === RESPONSE_TYPE.NON_BLOCKING_ASYNCH;
  const persistence = request.rp === undefined ? undefined : parseAbsRelTimestamp(request.rp, now);
  const rset = request.rset === undefined ? undefined : parseAbsRelTimestamp(request.rset, now);
  const ri = `req${randomIdSuffix()}`;
  const notify = asynchronous ? (request.rt?.nu ?? []) : [];
  // Result targets are verified like notification targets: a request cannot make the CSE push its result
  // into somebody else's receiver or polling channel.
  if (asynchronous) await verifyTargets(services, notify, originator, `/${self.cseId}/${ri}`);
  // oet is when the job becomes due; rqet and the rest stay in the request, checked again when it runs.
  const executeAt = request.oet === undefined ? now : Math.max(now, parseAbsRelTimestamp(request.oet, ctx.receivedAt) ?? now);
  // The <request> lives until its result has been kept for rp (or until rset), counted from when it runs.
  // Bounded by nonBlocking.maxRetention (from now): the originator chooses rp, and the CSE pays for the storage.
  const et = Math.min(persistence ?? rset ?? executeAt + DEFAULT_PERSISTENCE_MS, now + config.cse.maxExpiration * 1000, now + config.nonBlocking.maxRetention * 1000);
  if (et <= executeAt) throw badRequest('the request would be forgotten before its operation execution time (see rp, rset and oet)');
  const blocking: RequestPrimitive = { ...request, rt: { rtv: RESPONSE_TYPE.BLOCKING } };
  delete blocking.oet;
  // The group request identifier was claimed when the request was accepted; the job must not claim it again.
  // The Hosting CSE of a target elsewhere claims it there instead [TS-0004 §7.3.3.2].
  if (!options.hostedElsewhere) delete blocking.gid;
  // Relative expiration times count from when the request arrived, not from when the job runs.
  for (const name of ['rqet', 'rset'] as const) {
    const at = request[name] === undefined ? undefined : parseAbsRelTimestamp(request[name], ctx.receivedAt);
    if (at !== undefined) blocking[name] = formatTimestamp(at);
  }
  const job: RequestJob = { request: blocking, transport: ctx.transport, ri, notify };
  const ts = formatTimestamp(now);
  const stored = await store.transaction(async (tx) => {
    // The CSE-wide bound is checked without a lock of its own (one would serialize every acceptance): requests at
    // once may pass it by as many as are accepted at that moment.
    await tx.lockKey(`jobs ${charge}`);
    await admit(tx);
    // The <request> of an AE goes when the AE is deregistered (removal.ts forgets them after the deletion
    // commits). Its AE is locked against deletion here: a request accepted while the AE is being deregistered
    // commits first and is forgotten with the others, or finds the AE gone, and is refused. Otherwise it would
    // outlive its AE, readable by the next holder of the AE-ID.
    // (Past the authenticate stage, a C/S originator other than the admin is an AE registered here, unless the
    // request registers it.)
    if (/^[CS]/.test(originator) && !services.access.isAdmin(originator) && !(request.op === OPERATION.CREATE && request.ty === RESOURCE_TYPE.AE)) {
      const ae = await tx.get(originator);
      if (ae?.ty !== RESOURCE_TYPE.AE || !(await tx.getParentForInsert(ae))) {
        throw new CseError(RSC.ORIGINATOR_NOT_AUTHENTICATED, `originator '${originator}' was deregistered meanwhile`);
      }
    }
    const inserted = await tx.insert({
      ri,
      pi: self.cseId,
      ty: RESOURCE_TYPE.request,
      rn: ri,
      srn: `${self.cseRn}/${ri}`,
      ct: ts,
      lt: ts,
      et,
      // The originator owns its request: it may read and delete it [TS-0004 table 7.3.2.2-1].
      owner: originator,
      charge,
      doc: {
        op: request.op,
        tg: request.to,
        org: originator,
        rid: request.rqi,
        ...(request.pc === undefined ? {} : { pc: request.pc }),
        mi: metaInformation(request),
        rs: REQUEST_STATUS.PENDING,
        __creator: originator,
      },
    }, limits);
    await tx.enqueue([{ target: jobTarget(charge, ri), subscription: ri, content: JSON.stringify(job), created: now, notBefore: executeAt }]);
    await tx.broadcast(OUTBOX_TOPIC, '');
    return inserted;
  });
  return asynchronous
    ? { rsc: RSC.ACCEPTED_NON_BLOCKING_REQUEST_ASYNCH }
    : { rsc: RSC.ACCEPTED_NON_BLOCKING_REQUEST_SYNCH, content: { 'm2m:uri': requestReference(ctx, stored.srn) } };
}

/**
 * The reference to a <request> as its originator can use it: CSE-relative for an originator of this CSE, but
 * SP-relative (or absolute, over Mcc') for one another CSE relayed, whose own CSE would read a CSE-relative
 * address as one of its own resources.
 */
function requestReference(ctx: RequestContext, srn: string): string {
  const { self } = ctx.services;
  if (ctx.originator?.viaSp !== undefined) return `//${self.spId}/${self.cseId}/${srn}`;
  if (ctx.originator?.via !== undefined) return `/${self.cseId}/${srn}`;
  return srn;
}

/**
 * A non-blocking request for a resource on another CSE: this CSE, its Receiver CSE, keeps the <request> and answers
 * the acknowledgement [TS-0004 §7.3.2.2-7.3.2.4, TS-0001 §8.2.2]; the job forwards the request later, and its
 * result lands in that <request> (and, with rt=2, is notified from here), however many CSEs it crossed. Admitted as
 * a local one is (an originator this CSE can hold to account); access to the target is the Hosting CSE's to decide.
 */
export async function acceptNonBlockingForOtherCse(ctx: RequestContext): Promise<ResponsePrimitive> {
  if (quotaKey(ctx) === ANONYMOUS) {
    throw new CseError(RSC.ORIGINATOR_HAS_NO_PRIVILEGE, 'a non-blocking request needs a registered AE, a CSE, or an authenticated originator; send it blocking (rt=3)');
  }
  const outcome = await acceptNonBlocking(ctx, { hostedElsewhere: true });
  const { request, services } = ctx;
  return {
    rsc: outcome.rsc,
    rqi: request.rqi,
    fr: `/${services.self.cseId}`,
    ...(request.rvi ? { rvi: request.rvi } : {}),
    ...(outcome.content ? { pc: outcome.content } : {}),
  };
}

/**
 * Records the outcome on the <request> (if this runner still holds it), queues its notification (rt=2) and
 * removes the job, in one transaction: a crash cannot keep one without the others.
 */
async function finish(services: CseServices, message: OutboxMessage, job: RequestJob, runner: string, outcome: Record<string, unknown>): Promise<boolean> {
  return services.store.transaction(async (tx) => {
    await tx.dequeue([message.id]);
    const current = await tx.getForUpdate(job.ri);
    if (!current || current.doc[STARTED_KEY] !== runner) return false;
    await notifyResult(tx, services, job.notify, outcome, job.ri);
    const rsc = Number(outcome.rsc);
    current.doc.rs = rsc >= 2000 && rsc < 3000 ? REQUEST_STATUS.COMPLETED : REQUEST_STATUS.FAILED;
    current.doc.ors = outcome;
    delete current.doc[STARTED_KEY];
    current.lt = formatTimestamp(services.clock.now());
    await tx.update(current);
    return true;
  });
}

/**
 * The connection of a request carried out later (a job, an action), to authenticate it again as it runs: a
 * certificate revoked or expired since it was presented no longer counts. (Serials are matched without their
 * issuer: a collision can only refuse, never admit.)
 */
export function evidenceNow(services: CseServices, recorded: TransportContext): TransportContext {
  const transport = { ...recorded };
  const certificate = transport.peerCertificate;
  if (certificate?.verified && services.credentials.isRevoked(certificate.serialNumber)) {
    transport.peerCertificate = { ...certificate, verified: false, error: 'CERT_REVOKED' };
  } else if (certificate?.verified && certificate.validTo !== undefined && Date.parse(certificate.validTo) <= services.clock.now()) {
    transport.peerCertificate = { ...certificate, verified: false, error: 'CERT_HAS_EXPIRED' };
  }
  return transport;
}

/**
 * Carries out one leased job. The <request> is marked started before the request runs; a job found already
 * started belongs to a runner that died while running it, and is recorded as failed with its outcome unknown.
 */
export async function runRequestJob(services: CseServices, message: OutboxMessage, runner: string): Promise<void> {
  const { store, log } = services;
  const job = JSON.parse(message.content) as RequestJob;
  const claim = await store.transaction(async (tx) => {
    const current = await tx.getForUpdate(job.ri);
    if (!current || current.doc.rs !== REQUEST_STATUS.PENDING) {
      // Deleted by its originator, expired, or already finished: nothing left to do.
      await tx.dequeue([message.id]);
      return 'gone' as const;
    }
    const startedBy = current.doc[STARTED_KEY];
    if (startedBy !== undefined) return { state: 'interrupted' as const, startedBy: typeof startedBy === 'string' ? startedBy : '' };
    current.doc[STARTED_KEY] = runner;
    await tx.update(current);
    return 'claimed' as const;
  });
  if (claim === 'gone') return;
  if (claim !== 'claimed') {
    const outcome = responseRecord({ rsc: RSC.INTERNAL_SERVER_ERROR, rqi: job.request.rqi, pc: { 'm2m:dbg': 'the CSE stopped while carrying out this request; whether it took effect is unknown' } });
    if (await finish(services, message, job, claim.startedBy, outcome)) {
      log.warn({ request: job.ri }, 'non-blocking request interrupted by a stop of the CSE; recorded as failed');
    }
    return;
  }
  const dispatch = services.dispatcher.handle;
  if (!dispatch) throw new Error('no dispatcher');
  const response = await dispatch(job.request, evidenceNow(services, job.transport));
  const outcome = responseRecord(response);
  await finish(services, message, job, runner, outcome);
}
