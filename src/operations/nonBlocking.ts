// Non-blocking requests [TS-0004 §7.3.3.2 responseType, TS-0001 §8.2.2]: the originator is answered at
// once (1001 with a <request> resource to poll, or 1002 with the result notified later); the request then
// runs through the whole pipeline again, as a blocking request, in the background.
import { formatTimestamp, parseAbsRelTimestamp, randomIdSuffix } from '../primitive/identifiers.js';
import { RESPONSE_TYPE, type RequestPrimitive } from '../primitive/request.js';
import type { ResponsePrimitive } from '../primitive/response.js';
import { RSC } from '../primitive/rsc.js';
import { CseError } from '../primitive/errors.js';
import type { CseServices, Outcome, RequestContext } from '../pipeline/context.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { REQUEST_STATUS } from '../resources/types/request.js';
import { targetKey } from '../notifications/events.js';
import { verifyTargets } from '../notifications/verify.js';
import { OUTBOX_TOPIC } from '../notifications/events.js';
import type { NewOutboxMessage } from '../storage/store.js';

/** How long a <request> keeps its result without rp/rset: one hour. */
const DEFAULT_PERSISTENCE_MS = 3_600_000;

function responseRecord(response: ResponsePrimitive): Record<string, unknown> {
  return { rsc: response.rsc, rqi: response.rqi, ...(response.pc === undefined ? {} : { pc: response.pc }), ...(response.fr ? { fr: response.fr } : {}) };
}

async function notifyResult(services: CseServices, targets: readonly string[], response: ResponsePrimitive, requestRi: string): Promise<void> {
  if (targets.length === 0) return;
  const now = services.clock.now();
  const content = JSON.stringify({ pc: { 'm2m:rsp': responseRecord(response) }, final: true });
  const messages: NewOutboxMessage[] = [];
  for (const target of targets) messages.push({ target: await targetKey(services.store, services.self, target), subscription: requestRi, content, created: now, notBefore: now });
  await services.store.transaction(async (tx) => {
    await tx.enqueue(messages);
    await tx.broadcast(OUTBOX_TOPIC, '');
  });
}

/** Non-blocking requests running at once in this process; more are refused rather than queued without bound. */
const MAX_IN_FLIGHT = 256;

export async function acceptNonBlocking(ctx: RequestContext): Promise<Outcome> {
  const { services, request } = ctx;
  const background = services.backgroundWork;
  if (background.inFlight >= MAX_IN_FLIGHT) {
    throw new CseError(RSC.NON_BLOCKING_SYNCH_REQUEST_NOT_SUPPORTED, 'too many non-blocking requests are in progress; retry later or use a blocking request');
  }
  const { store, clock, self, config } = services;
  const now = clock.now();
  const asynchronous = request.rt?.rtv === RESPONSE_TYPE.NON_BLOCKING_ASYNCH;
  const persistence = request.rp === undefined ? undefined : parseAbsRelTimestamp(request.rp, now);
  const rset = request.rset === undefined ? undefined : parseAbsRelTimestamp(request.rset, now);
  const et = Math.min(persistence ?? rset ?? now + DEFAULT_PERSISTENCE_MS, now + config.cse.maxExpiration * 1000);
  const ri = `req${randomIdSuffix()}`;
  const originator = ctx.originator?.id ?? request.fr;
  // Result targets are verified like notification targets: a request cannot make the CSE push its result
  // into somebody else's receiver or polling channel.
  if (asynchronous) await verifyTargets(services, request.rt?.nu ?? [], originator, `/${self.cseId}/${ri}`);
  const ts = formatTimestamp(now);
  const stored = await store.insert({
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
    doc: { op: request.op, tg: request.to, org: originator, rid: request.rqi, rs: REQUEST_STATUS.PENDING, __creator: originator },
  });
  const blocking: RequestPrimitive = { ...request, rt: { rtv: RESPONSE_TYPE.BLOCKING } };
  const transport = ctx.transport;
  background.inFlight++;
  setImmediate(() => {
    void (async () => {
      const dispatch = services.dispatcher.handle;
      if (!dispatch) return;
      const response = await dispatch(blocking, transport);
      const done = await store.get(ri);
      if (done) {
        done.doc.rs = response.rsc >= 2000 && response.rsc < 3000 ? REQUEST_STATUS.COMPLETED : REQUEST_STATUS.FAILED;
        done.doc.ors = responseRecord(response);
        done.lt = formatTimestamp(clock.now());
        await store.update(done);
      }
      if (asynchronous) await notifyResult(services, request.rt?.nu ?? [], response, ri);
    })()
      .catch((err: unknown) => services.log.error({ err, rqi: request.rqi }, 'non-blocking request failed'))
      .finally(() => {
        background.inFlight--;
      });
  });
  return asynchronous
    ? { rsc: RSC.ACCEPTED_NON_BLOCKING_REQUEST_ASYNCH }
    : { rsc: RSC.ACCEPTED_NON_BLOCKING_REQUEST_SYNCH, content: { 'm2m:uri': stored.srn } };
}
