// Group fan-out through <group>/fopt [TS-0004 §7.4.14.2.4-5]: the request goes to every member, each
// through the whole pipeline as the original originator (so each member's own access control applies),
// and the answers come back aggregated.
import { CseError } from '../primitive/errors.js';
import { OPERATION, type RequestPrimitive } from '../primitive/request.js';
import { formatTimestamp, randomIdSuffix } from '../primitive/identifiers.js';
import { targetsToVerify, unverifiedSubscriberUri, verificationOptions, verifyTargets, type VerifiedRegistrations } from '../notifications/verify.js';
import { absoluteSegments } from '../security/originators.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { RSC } from '../primitive/rsc.js';
import { SUB_GROUP_FAN_OUT, isMemberElsewhere, memberResource, resolveLocalMember } from '../resources/types/group.js';
import type { Outcome, RequestContext } from '../pipeline/context.js';
import { INTERNAL_PREFIX } from '../resources/representation.js';

/**
 * Group document key: the notificationForwardingURIs of the group subscriptions made through this group's fopt. A
 * member on another CSE sends its notifications to the group with one of them [TS-0001 §10.2.7.11]; the group
 * aggregates for those only (operations/notify.ts), so a member CSE cannot make it notify anything else.
 */
export const GROUP_FORWARDING_KEY = `${INTERNAL_PREFIX}nfu`;
/** Forwarding URIs a group keeps, the latest: a group subscription made more often than this loses its oldest. */
const MAX_FORWARDING_URIS = 64;

/** Groups of groups fan out at most this deep: a cycle through other groups cannot loop. */
const MAX_FAN_OUT_DEPTH = 3;
/** Less than this left of the answer bytes: a RETRIEVE asks no further members (nothing useful would fit). */
const MIN_ANSWER_BYTES = 256;
/** Member requests in flight at once: a group of thousands must not start thousands of requests together. */
const FAN_OUT_CONCURRENCY = 32;

async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * A subscription created through fopt is a group subscription [TS-0004 §7.4.14.2.3]: each member's copy
 * carries the group's ID (gpi), and when the subscriber asked for forwarding (nfu) the members' notifications
 * are aggregated by the group and sent there (notifications/events.ts).
 */
function groupSubscription(ctx: RequestContext, groupRi: string): Partial<RequestPrimitive> {
  const pc = ctx.request.pc as Record<string, unknown> | undefined;
  const sub = pc?.['m2m:sub'];
  if (ctx.request.op !== OPERATION.CREATE || ctx.request.ty !== RESOURCE_TYPE.subscription || typeof sub !== 'object' || sub === null) return {};
  return { pc: { 'm2m:sub': { ...(sub as Record<string, unknown>), gpi: `/${ctx.services.self.cseId}/${groupRi}` } } };
}

/**
 * A group subscription asking for aggregation (nfu): the group keeps its nfu before the members are asked. This CSE
 * sends the aggregated notifications there, so it verifies the nfu as any notification target first (notifications/
 * verify.ts): a member on another CSE has its subscription made (and its nfu "verified") by that CSE, and then sends
 * member notifications for the nfu here — unverified, any originator that may fan out and a member's CSE would make
 * this CSE send what they like to any address (an AE, a polling channel, a URL).
 */
async function rememberForwarding(ctx: RequestContext, groupRi: string): Promise<void> {
  const pc = ctx.request.pc as Record<string, unknown> | undefined;
  const sub = pc?.['m2m:sub'] as Record<string, unknown> | undefined;
  const nfu = sub?.nfu;
  if (ctx.request.op !== OPERATION.CREATE || ctx.request.ty !== RESOURCE_TYPE.subscription || typeof nfu !== 'string') return;
  // Each time, whoever asks: an nfu another subscriber verified is not this one's to use. The subscriber itself, in
  // any of its address forms (`/id-in/CAdmin` for the admin, which has no <AE> to be found by), needs none.
  const { services } = ctx;
  const originator = ctx.originator?.id ?? ctx.request.fr;
  if (absoluteSegments(nfu, services.self).join('/') !== absoluteSegments(originator, services.self).join('/')) {
    await verifyTargets(services, [nfu], originator, `/${services.self.cseId}/${groupRi}`, undefined, verificationOptions(ctx));
  }
  await ctx.services.store.transaction(async (tx) => {
    const current = await tx.getForUpdate(groupRi);
    if (!current) return;
    const known = Array.isArray(current.doc[GROUP_FORWARDING_KEY]) ? (current.doc[GROUP_FORWARDING_KEY] as unknown[]).filter((u): u is string => typeof u === 'string') : [];
    if (known.includes(nfu)) return;
    current.doc[GROUP_FORWARDING_KEY] = [...known, nfu].slice(-MAX_FORWARDING_URIS);
    await tx.update(current);
  });
}

/**
 * A subscription created through fopt has its notification targets verified once, here, for every member: each
 * member's CREATE verified them again, so one request made as many verification requests to a third party as the
 * group has members (10 000 at most). The verification names the group's fopt as the subscription. Returns the
 * targets verified (with those an enclosing fan-out verified); undefined when the request creates no subscription.
 */
async function verifyGroupSubscription(ctx: RequestContext, groupRi: string): Promise<{ targets: ReadonlySet<string>; registrations: VerifiedRegistrations } | undefined> {
  const pc = ctx.request.pc as Record<string, unknown> | undefined;
  const sub = pc?.['m2m:sub'];
  if (ctx.request.op !== OPERATION.CREATE || ctx.request.ty !== RESOURCE_TYPE.subscription || typeof sub !== 'object' || sub === null) return undefined;
  const content = sub as Record<string, unknown>;
  const before = ctx.transport.internal ? ctx.transport.verifiedTargets : undefined;
  // nfu was verified by rememberForwarding, which keeps it for the group.
  const targets = targetsToVerify(content).filter((t) => t !== content.nfu && !before?.has(t));
  const { services } = ctx;
  const asked = await verifyTargets(services, targets, ctx.originator?.id ?? ctx.request.fr, `/${services.self.cseId}/${groupRi}/fopt`, unverifiedSubscriberUri(content), verificationOptions(ctx));
  const earlier = ctx.transport.internal ? ctx.transport.verifiedRegistrations : undefined;
  return { targets: new Set([...(before ?? []), ...targets]), registrations: new Map([...(earlier ?? []), ...asked]) };
}

async function removeMembers(ctx: RequestContext, groupRi: string, gone: ReadonlySet<string>): Promise<void> {
  const { store, clock, access } = ctx.services;
  const group = await store.transaction(async (tx) => {
    const current = await tx.getForUpdate(groupRi);
    if (!current) return undefined;
    const mid = (Array.isArray(current.doc.mid) ? (current.doc.mid as string[]) : []).filter((m) => !gone.has(m));
    current.doc.mid = mid;
    current.doc.cnm = mid.length;
    current.lt = formatTimestamp(clock.now());
    await tx.update(current);
    return current;
  });
  if (group) await access.invalidate(group);
}

/**
 * Where a member request goes: the member, and what followed fopt below it. A path below a resource ID is no
 * address (TS-0001 §9.3.1: an unstructured ID names one resource), so a local member listed by its ID is
 * addressed by its structured name when a suffix follows.
 */
async function memberTarget(ctx: RequestContext, member: string, suffix: string): Promise<string> {
  if (!suffix) return member;
  const local = await resolveLocalMember(ctx.services, member);
  // A sub-group fan-out member (`…/fopt`) keeps its fanOutPoint before the path.
  return local && local !== 'remote' ? `${local.srn}${memberResource(member).fanOut ? SUB_GROUP_FAN_OUT : ''}${suffix}` : `${member}${suffix}`;
}

function isAggregate(pc: unknown): boolean {
  return typeof pc === 'object' && pc !== null && 'm2m:agr' in pc;
}

type Aggregate = { 'm2m:agr'?: { 'm2m:rsp'?: unknown } };

function omitted(maxAnswerBytes: number): Record<string, unknown> {
  return { 'm2m:dbg': `content omitted: the aggregated answer reached groups.maxAnswerBytes (${maxAnswerBytes} bytes)` };
}

/** A member address on another CSE (resolveLocalMember's reading of it, without a lookup). */
function elsewhere(ctx: RequestContext, member: string): boolean {
  return isMemberElsewhere(ctx.services.self, member);
}

/**
 * Another CSE's aggregate, counted against this fan-out's answer bytes: each entry keeps its status and member, and
 * its content while it fits (as a member answer here would).
 */
function withinBudget(pc: Aggregate, budget: { bytes: number }, maxAnswerBytes: number): Aggregate {
  const entries = pc['m2m:agr']?.['m2m:rsp'];
  if (!Array.isArray(entries)) return pc;
  const kept = entries.map((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) return entry;
    const { pc: content, ...rest } = entry as Record<string, unknown>;
    if (content === undefined) return entry;
    const size = JSON.stringify(content).length;
    if (size > budget.bytes) return { ...rest, pc: omitted(maxAnswerBytes) };
    budget.bytes -= size;
    return entry;
  });
  return { 'm2m:agr': { ...pc['m2m:agr'], 'm2m:rsp': kept } };
}

export async function fanOut(ctx: RequestContext): Promise<Outcome> {
  const group = ctx.resource;
  if (!group) throw new Error('fan-out runs after resolveTarget');
  const members = Array.isArray(group.doc.mid) ? (group.doc.mid as string[]) : [];
  if (members.length === 0) throw new CseError(RSC.NO_MEMBERS, 'the group has no members');
  const depth = (ctx.transport.fanOutDepth ?? 0) + 1;
  if (depth > MAX_FAN_OUT_DEPTH) throw new CseError(RSC.BAD_REQUEST, `groups may fan out at most ${MAX_FAN_OUT_DEPTH} levels deep`);
  const dispatch = ctx.services.dispatcher.handle;
  if (!dispatch) throw new Error('no dispatcher');
  const suffix = ctx.fanOutSuffix?.length ? `/${ctx.fanOutSuffix.join('/')}` : '';
  // One group request identifier for every fanned-out request, so members can spot duplicates [TS-0004 §7.4.14.2.4].
  const gid = ctx.request.gid ?? `${ctx.services.self.cseId}-${randomIdSuffix()}`;
  // One budget for the whole fan-out, nested groups included: a group of groups costs what its leaves cost up to
  // the bound, not members × members, and its answer cannot grow beyond maxAnswerBytes.
  const { maxFanOutRequests, maxAnswerBytes } = ctx.services.config.groups;
  const budget = ctx.transport.fanOutBudget ?? { requests: maxFanOutRequests, bytes: maxAnswerBytes };
  const retrieving = ctx.request.op === OPERATION.RETRIEVE;
  await rememberForwarding(ctx, group.ri);
  const verified = await verifyGroupSubscription(ctx, group.ri);
  const responses = await mapBounded(members, FAN_OUT_CONCURRENCY, async (member) => {
      // A RETRIEVE changes nothing, so once no answer fits, the remaining members are not asked either.
      if (budget.requests <= 0 || (retrieving && budget.bytes <= MIN_ANSWER_BYTES)) {
        const bound = budget.requests <= 0 ? `${maxFanOutRequests} member requests` : `${maxAnswerBytes} bytes of answers`;
        return { rsc: RSC.GROUP_MEMBERS_NOT_RESPONDED, rqi: ctx.request.rqi, fr: member, pc: { 'm2m:dbg': `not sent: the fan-out reached its bound of ${bound} (groups.maxFanOutRequests / groups.maxAnswerBytes)` } };
      }
      budget.requests--;
      // The group's request waited for its oet already (execute.ts): its members carry it out now, once (a relative
      // oet measured again from each member request's arrival made each wait again).
      const { oet: _waited, ...asked } = ctx.request;
      void _waited;
      const request: RequestPrimitive = { ...asked, to: await memberTarget(ctx, member, suffix), gid, ...groupSubscription(ctx, group.ri) };
      const response = await dispatch(request, { ...ctx.transport, fanOutDepth: depth, fanOutBudget: budget, ...(verified ? { verifiedTargets: verified.targets, verifiedRegistrations: verified.registrations } : {}) });
      let pc = response.pc;
      // A nested aggregate made here was counted member by member where it was made; one that another CSE made (a
      // member group there, fanned out by its Hosting CSE) was bounded by that CSE's budget only, so it is counted
      // here entry by entry: a group of remote groups cannot answer members × their maxAnswerBytes.
      if (pc !== undefined && isAggregate(pc)) {
        if (elsewhere(ctx, member)) pc = withinBudget(pc, budget, maxAnswerBytes);
      } else if (pc !== undefined) {
        const size = JSON.stringify(pc).length;
        if (size > budget.bytes) pc = omitted(maxAnswerBytes);
        else budget.bytes -= size;
      }
      // Each member's answer says which member it is [TS-0004 table 6.3.5.33-1].
      return { rsc: response.rsc, rqi: response.rqi, fr: member, ...(pc === undefined ? {} : { pc }), ...(response.rvi ? { rvi: response.rvi } : {}) };
  });
  // Members deleted through the group leave it [TS-0004 §7.4.14.3.5].
  if (ctx.request.op === OPERATION.DELETE && !suffix) {
    const gone = new Set(responses.filter((r) => r.rsc === RSC.DELETED).map((r) => r.fr));
    if (gone.size > 0) await removeMembers(ctx, group.ri, gone);
  }
  return { rsc: RSC.OK, content: { 'm2m:agr': { 'm2m:rsp': responses } } };
}
