// NOTIFY addressed to a resource of this CSE [TS-0004 §7.3.3.9]. A notification to an <AE> is re-targeted to the
// AE through its points of access (§7.3.3.9.1); one to the <CSEBase> is processed by the CSE (§7.3.3.9.2), and this
// CSE makes no subscriptions of its own, so no notification can be for it. An <AE> with a <pollingChannel> gets it
// through the channel, and its answer at the pollingChannelURI is the response. A polling channel's pcu answers are
// handled by the caller.
import { CseError, badRequest } from '../primitive/errors.js';
import type { RequestPrimitive } from '../primitive/request.js';
import type { ResponsePrimitive } from '../primitive/response.js';
import { RSC, isKnownRsc, type Rsc } from '../primitive/rsc.js';
import type { Outcome, RequestContext } from '../pipeline/context.js';
import { SUPPORTED_RELEASES } from '../pipeline/stages/checkPrimitive.js';
import { OUTBOX_TOPIC, resolveTarget, targetKey, urlsOfTarget } from '../notifications/events.js';
import { groupAggregation } from '../notifications/fanout.js';
import { GROUP_FORWARDING_KEY } from './fanOut.js';
import { hasPollingChannel, requestExpiry, requestThroughChannel } from '../notifications/polling.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { cseIdOfAddress } from '../resources/announceable.js';
import type { StoredResource } from '../storage/store.js';
import { builtInDasFor } from '../security/das.js';

/** Content a NOTIFY may carry [TS-0004 §7.2.1.1]: a notification, an aggregated notification, or a response primitive. */
const NOTIFY_CONTENT = ['m2m:sgn', 'm2m:agn', 'm2m:rsp', 'm2m:seci'];

/** Points of access tried, in order, before the AE counts as unreachable. */
const MAX_POINTS_OF_ACCESS = 3;

function checkContent(pc: unknown): void {
  const names = typeof pc === 'object' && pc !== null && !Array.isArray(pc) ? Object.keys(pc) : [];
  if (names.length !== 1 || !NOTIFY_CONTENT.includes(names[0] as string)) {
    // Over HTTP a POST without ty in Content-Type is a NOTIFY: a CREATE that forgot ty lands here (4000, as for a
    // missing ty [TS-0004 §7.3.2.1]).
    throw badRequest(`NOTIFY content must be one of ${NOTIFY_CONTENT.join(', ')} (a CREATE needs ty in Content-Type)`);
  }
}

/**
 * The release version the re-targeted primitive is sent with: the highest this CSE serves among the AE's
 * supportedReleaseVersions, so that the AE gets a primitive of a release it declared (ACME does the same);
 * an AE that declares none gets the originator's.
 */
function releaseForAe(ae: StoredResource, requested: string | undefined): string | undefined {
  const declared = Array.isArray(ae.doc.srv) ? ae.doc.srv.map(String) : [];
  const usable = SUPPORTED_RELEASES.filter((release) => release !== '1' && declared.includes(release));
  return usable.length > 0 ? usable[usable.length - 1] : requested;
}

/**
 * An <AE> with a <pollingChannel> gets the NOTIFY through it (TS-0004 §7.3.3.9.1 re-targets directly only to an AE
 * without one): the primitive is queued on the channel and the AE's response, sent to its pollingChannelURI, is the
 * answer. None in time: 4008 when the originator's request expired, else 5103 (notifications.pollResponseTimeout).
 */
async function relayThroughChannel(ctx: RequestContext, ae: StoredResource, primitive: RequestPrimitive): Promise<Outcome> {
  const deadline = requestExpiry(ctx);
  // The relayed primitive gets a request identifier of the CSE's making (see requestThroughChannel).
  const answer = await requestThroughChannel(ctx.services, ae.ri, primitive, deadline);
  if (!answer) {
    if (deadline <= ctx.services.clock.now()) throw new CseError(RSC.REQUEST_TIMEOUT, `AE '${ae.ri}' did not answer through its polling channel before the request expired`);
    throw new CseError(RSC.TARGET_NOT_REACHABLE, `AE '${ae.ri}' did not answer through its polling channel in time`);
  }
  if (!isKnownRsc(answer.rsc)) throw new CseError(RSC.TARGET_NOT_REACHABLE, `AE '${ae.ri}' answered with ${answer.rsc}, which is no oneM2M response status code`);
  return { rsc: answer.rsc as Rsc, ...(answer.pc ? { content: answer.pc } : {}) };
}

async function retargetToAe(ctx: RequestContext, ae: StoredResource): Promise<Outcome> {
  const { store, self, outbound } = ctx.services;
  const r = ctx.request;
  const rvi = releaseForAe(ae, r.rvi);
  const primitive: RequestPrimitive = { op: r.op, to: ae.ri, fr: ctx.originator?.id ?? r.fr, rqi: r.rqi, pc: r.pc, ...(rvi === undefined ? {} : { rvi }) };
  if (await hasPollingChannel(store, ae.ri)) return relayThroughChannel(ctx, ae, primitive);
  const urls = (await urlsOfTarget(store, await targetKey(store, self, ae.ri))).slice(0, MAX_POINTS_OF_ACCESS);
  if (urls.length === 0) throw new CseError(RSC.TARGET_NOT_REACHABLE, `AE '${ae.ri}' has no point of access (poa) to re-target the NOTIFY to`);
  for (const url of urls) {
    const answer = await outbound.send(url, primitive);
    // "If the forwarding fails due to 'Target not reachable', iterate with the next address."
    if (answer.rsc === RSC.TARGET_NOT_REACHABLE) continue;
    if (!isKnownRsc(answer.rsc)) throw new CseError(RSC.TARGET_NOT_REACHABLE, `AE '${ae.ri}' answered with ${answer.rsc}, which is no oneM2M response status code`);
    const body = answer.body;
    const content = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
    return { rsc: answer.rsc as Rsc, ...(content ? { content } : {}) };
  }
  throw new CseError(RSC.TARGET_NOT_REACHABLE, `AE '${ae.ri}' could not be reached at any of its points of access`);
}

/**
 * A NOTIFY to an <AEAnnc> goes on to the original <AE> on the CSE that announced it [TS-0001 §10.2.13.12], forwarded
 * for the same originator (the original's Hosting CSE decides its access); its answer is the answer.
 */
export async function notifyOriginalAe(ctx: RequestContext): Promise<ResponsePrimitive> {
  const target = ctx.resource;
  const lnk = target?.doc.lnk;
  if (!target || typeof lnk !== 'string') throw new Error('notifyOriginalAe runs on an announced resource');
  checkContent(ctx.request.pc);
  const remote = ctx.services.remote;
  if (!remote) throw new CseError(RSC.TARGET_NOT_REACHABLE, `the original AE ${lnk} cannot be reached from this CSE`);
  return remote.forwardTo(ctx, lnk);
}

/**
 * A member's notification of a group subscription, sent by the CSE hosting that member to the group [TS-0001
 * §10.2.7.11, "Processing at Group Hosting CSE"] (notifications/fanout.ts there): accepted with an nfu one of this
 * group's subscriptions asked for (authorize.ts admitted only a CSE hosting a member), then queued where the group
 * gathers its local members' notifications for that nfu, and sent aggregated as notifyAggregation says. The member's
 * CSE is answered once it is queued: the aggregate goes later, and the spec's split of the subscriber's answer among
 * member CSEs would hold each member's notification for the whole aggregation period.
 */
async function gatherMemberNotification(ctx: RequestContext, group: StoredResource): Promise<Outcome> {
  const { store, self, clock, config } = ctx.services;
  const sgn = (ctx.request.pc as Record<string, unknown>)['m2m:sgn'];
  if (typeof sgn !== 'object' || sgn === null || Array.isArray(sgn)) throw badRequest("a <group> receives its members' notifications only (m2m:sgn)");
  const { nfu, ...notification } = sgn as Record<string, unknown>;
  if (typeof nfu !== 'string') throw badRequest('a member notification to a <group> names the notificationForwardingURI (nfu) it is aggregated for');
  if (typeof notification.sur !== 'string') throw badRequest('a member notification names its subscription (sur)');
  // "Validate if the notification is sent from its member resource": the subscription is one of the sending CSE's.
  const originator = ctx.originator?.id ?? ctx.request.fr ?? '';
  if (cseIdOfAddress(notification.sur, ctx.services.self.spId) !== originator) throw new CseError(RSC.ORIGINATOR_HAS_NO_PRIVILEGE, `${originator} sent a notification of a subscription it does not host (${notification.sur})`);
  const known = Array.isArray(group.doc[GROUP_FORWARDING_KEY]) ? (group.doc[GROUP_FORWARDING_KEY] as unknown[]) : [];
  if (!known.includes(nfu)) throw new CseError(RSC.ORIGINATOR_HAS_NO_PRIVILEGE, `no group subscription made through this group forwards to '${nfu}'`);
  const aggregation = await groupAggregation(ctx.services, group.ri);
  if (!aggregation) throw new CseError(RSC.NOT_FOUND, `group '${group.ri}' is gone`);
  const content = JSON.stringify({ pc: { 'm2m:sgn': notification }, final: true, batch: aggregation.batch });
  const bytes = Buffer.byteLength(content, 'utf8');
  // Counted against the member's CSE, the outbox bound of any originator: a member cannot flood the group's queue.
  if (bytes > config.notifications.maxEventBytes) throw new CseError(RSC.NOT_ACCEPTABLE, `the notification is larger than notifications.maxEventBytes (${config.notifications.maxEventBytes} bytes)`);
  const now = clock.now();
  await store.transaction(async (tx) => {
    const used = (await tx.outboxUsage([originator])).get(originator) ?? 0;
    if (used + bytes > config.notifications.maxOutboxBytesPerOriginator) {
      throw new CseError(RSC.SERVICE_SUBSCRIPTION_LIMITS_EXCEEDED, `notifications queued for ${originator} reached notifications.maxOutboxBytesPerOriginator`);
    }
    const target = (await resolveTarget(tx, self, nfu)).key;
    await tx.enqueue([{ target, subscription: `group:${aggregation.ri}`, content, created: now, notBefore: now, originator, bytes }]);
    await tx.broadcast(OUTBOX_TOPIC, '');
  });
  return { rsc: RSC.OK };
}

export async function notifyResource(ctx: RequestContext): Promise<Outcome> {
  const target = ctx.resource;
  if (!target) throw new Error('notify runs after resolveTarget');
  checkContent(ctx.request.pc);
  switch (target.ty) {
    case RESOURCE_TYPE.AE:
      return retargetToAe(ctx, target);
    case RESOURCE_TYPE.group:
      return gatherMemberNotification(ctx, target);
    case RESOURCE_TYPE.CSEBase: {
      // A DAS request [TS-0004 §7.5.1.2.10] to this CSE's built-in dynamic authorization server (security/das.ts).
      const seci = (ctx.request.pc as Record<string, unknown>)['m2m:seci'];
      if (seci !== undefined) {
        const das = builtInDasFor(ctx.services);
        if (!das.enabled) throw badRequest('this CSE is no dynamic authorization server (dynamicAuthorization.dasRules is not set)');
        const originator = ctx.originator;
        return { rsc: RSC.OK, content: await das.answer(seci, { id: originator?.id ?? ctx.request.fr, authenticated: originator?.authenticated === true, rqi: ctx.request.rqi, ...(originator?.via ? { via: originator.via } : {}) }) };
      }
      // §7.3.3.9.2: the CSE processes the notification; it is for none of this CSE's subscriptions (it makes none).
      throw badRequest('this CSE has made no subscription that a notification to its CSEBase could be for');
    }
    default:
      throw badRequest(`a resource of type ${target.ty} does not receive notifications (only an <AE>, a <group> or the <CSEBase> does)`);
  }
}
