// Stage 9: carry out the operation.
import { createHash } from 'node:crypto';
import { CseError, badRequest, noPrivilege } from '../../primitive/errors.js';
import { ACCESS_OPERATION } from '../../security/acp.js';
import { originatorMay } from '../access.js';
import { isRealDiscovery } from './authorize.js';
import { parseAbsRelTimestamp } from '../../primitive/identifiers.js';
import type { RequestContext } from '../context.js';
import { OPERATION, RESPONSE_TYPE, isDiscovery } from '../../primitive/request.js';
import { acceptNonBlocking } from '../../operations/nonBlocking.js';
import { ANONYMOUS, quotaKey } from '../../quotas/keys.js';
import { admitExecutionWait } from '../../quotas/stage.js';
import { checkConditions } from '../../operations/discover.js';
import { fanOut } from '../../operations/fanOut.js';
import { RSC } from '../../primitive/rsc.js';
import { createResource } from '../../operations/create.js';
import { deleteResource } from '../../operations/delete.js';
import { needsChildren, retrieveResource } from '../../operations/retrieve.js';
import { updateResource } from '../../operations/update.js';
import { notifyOriginalAe, notifyResource } from '../../operations/notify.js';
import { RESOURCE_TYPE } from '../../resources/types.js';
import { answerThroughChannel } from '../../notifications/polling.js';
import type { Stage } from '../pipeline.js';
import type { ResponsePrimitive } from '../../primitive/response.js';
import { RESULT_CONTENT } from '../../primitive/request.js';
import { ANNOUNCEABLE, isAnnouncedType } from '../../resources/announceable.js';

/** Longest wait for an operation execution time (oet) in a blocking request; later ones need rt=1 or 2. */
const MAX_EXECUTION_DELAY_MS = 60_000;

/** oet: the operation is carried out at that time, not before [TS-0004 §7.3.3.2]. */
async function awaitExecutionTime(ctx: RequestContext): Promise<void> {
  const oet = ctx.request.oet;
  if (oet === undefined) return;
  const at = parseAbsRelTimestamp(oet, ctx.receivedAt);
  const delay = (at ?? 0) - ctx.services.clock.now();
  if (delay <= 0) return;
  // An oet at or after rqet or rset was refused as inconsistent by checkPrimitive.
  if (delay > MAX_EXECUTION_DELAY_MS) throw badRequest(`an operation execution time more than ${MAX_EXECUTION_DELAY_MS / 1000} s ahead needs a non-blocking request`);
  // Bounded, and holding no in-flight place meanwhile (quotas/stage.ts).
  const stopWaiting = admitExecutionWait(ctx);
  try {
    await new Promise((resolve) => setTimeout(resolve, delay));
  } finally {
    stopWaiting();
  }
}

/**
 * rcn 7 on an announced resource: the original, retrieved from the CSE that link names through forwarding, for the
 * same originator (whose access the original's Hosting CSE decides) [TS-0001 §10.2.13.3, TS-0004 §7.3.3.12].
 */
async function retrieveOriginal(ctx: RequestContext): Promise<ResponsePrimitive> {
  const target = ctx.resource;
  const lnk = target?.doc.lnk;
  if (!target || ctx.virtual || !isAnnouncedType(target.ty) || typeof lnk !== 'string') throw badRequest('result content 7 (original resource) applies to announced resources only');
  const remote = ctx.services.remote;
  if (!remote) throw new CseError(RSC.TARGET_NOT_REACHABLE, `the original ${lnk} cannot be reached from this CSE`);
  const { rcn: _rcn, ...request } = ctx.request;
  void _rcn;
  // link is SP-relative (/csi/...) or absolute (//sp/csi/...) [TS-0001 §9.6.26.1].
  return remote.forwardTo({ ...ctx, request }, lnk);
}

/** How long a group request identifier is remembered when the request has no expiration timestamp. */
const GROUP_REQUEST_MEMORY_MS = 60_000;
/** The longest a group request identifier is remembered, whatever rqet says: the memory is bounded. */
const GROUP_REQUEST_MAX_MEMORY_MS = 86_400_000;

/**
 * A member that receives the same group request twice (through two groups, or a retry) carries it out once
 * [TS-0004 §7.3.3.2 gid]; the memory is in the store, so every process of a cluster shares it.
 */
async function checkGroupRequestIdentifier(ctx: RequestContext): Promise<void> {
  const gid = ctx.request.gid;
  if (gid === undefined) return;
  const now = ctx.services.clock.now();
  const rqet = ctx.request.rqet === undefined ? undefined : parseAbsRelTimestamp(ctx.request.rqet, ctx.receivedAt);
  // Keyed by originator too: nobody can spoil another originator's group request by guessing its gid.
  const originator = ctx.originator?.id ?? ctx.request.fr;
  const key = createHash('sha256').update(`gid|${originator}|${gid}|${ctx.resource?.ri ?? ctx.request.to}`).digest('base64url');
  const until = Math.min(Math.max(rqet ?? 0, now + GROUP_REQUEST_MEMORY_MS), now + GROUP_REQUEST_MAX_MEMORY_MS);
  if (!(await ctx.services.store.claimOnce(key, until, now))) {
    throw new CseError(RSC.GROUP_REQUEST_IDENTIFIER_EXISTS, `group request '${gid.slice(0, 64)}' was already received for this target`);
  }
}

/**
 * A non-blocking request makes the CSE keep state for the originator (a <request> and a job) for as long as
 * rp says, so Warden accepts it only from an originator it can hold to account — one with a quota of its own
 * (quotas/keys.ts: authenticated, a registered AE or CSE, the admin; a registration only with a credential) —
 * and only once the request is authorized on its target. Refusals are 4103: TS-0004 names no code for this,
 * and it is a privilege this CSE grants (creating state on its behalf).
 */
async function admitNonBlocking(ctx: RequestContext): Promise<void> {
  const originator = ctx.originator;
  const r = ctx.request;
  if (!originator || !ctx.resource) throw new Error('execute runs after authenticate and resolveTarget');
  if (quotaKey(ctx) === ANONYMOUS) {
    throw noPrivilege('a non-blocking request needs a registered AE, a CSE, or an authenticated originator; send it blocking (rt=3)');
  }
  // A discovery is not authorized on its target when it is answered at once (each result is checked); one that
  // is kept for later needs DISCOVERY or RETRIEVE on its target, like every other kept request.
  if (isRealDiscovery(ctx)) {
    const target = ctx.resource;
    if (!(await originatorMay(ctx, ACCESS_OPERATION.DISCOVERY, target)) && !(await originatorMay(ctx, ACCESS_OPERATION.RETRIEVE, target))) {
      throw noPrivilege(`originator '${originator.id}' has no privilege to discover '${r.to}' in a non-blocking request`);
    }
  }
}

export const execute: Stage = {
  name: 'execute',
  async run(ctx) {
    const r = ctx.request;
    await checkGroupRequestIdentifier(ctx);
    // Conditional retrieve / update / delete: the addressed resource must match [TS-0004 §7.3.3.1].
    // With rcn 4/5/6/8 a RETRIEVE's conditions select the descendants returned instead [TS-0001 §8.1.2].
    const selectsDescendants = r.op === OPERATION.RETRIEVE && needsChildren(ctx);
    if (ctx.resource && !ctx.virtual && r.fc && !isDiscovery(r.fc) && r.op !== OPERATION.CREATE && !selectsDescendants) await checkConditions(ctx, ctx.resource);
    // Non-blocking: answered now, carried out in the background as a blocking request.
    if (r.rt && (r.rt.rtv === RESPONSE_TYPE.NON_BLOCKING_SYNCH || r.rt.rtv === RESPONSE_TYPE.NON_BLOCKING_ASYNCH)) {
      await admitNonBlocking(ctx);
      ctx.outcome = await acceptNonBlocking(ctx);
      return;
    }
    await awaitExecutionTime(ctx);
    if (ctx.virtual === 'fopt') {
      ctx.outcome = await fanOut(ctx);
      return;
    }
    switch (ctx.request.op) {
      case OPERATION.CREATE:
        ctx.outcome = await createResource(ctx);
        return;
      case OPERATION.RETRIEVE:
        if (ctx.request.rcn === RESULT_CONTENT.ORIGINAL_RESOURCE) {
          ctx.response = await retrieveOriginal(ctx);
          return;
        }
        ctx.outcome = await retrieveResource(ctx);
        return;
      case OPERATION.UPDATE:
        ctx.outcome = await updateResource(ctx);
        return;
      case OPERATION.DELETE:
        ctx.outcome = await deleteResource(ctx);
        return;
      case OPERATION.NOTIFY:
        // An AE answers the requests it polled with a NOTIFY to its pcu [TS-0004 §7.4.22.2.2].
        if (ctx.virtual === 'pcu' && ctx.resource) {
          await answerThroughChannel(ctx, ctx.resource);
          ctx.outcome = { rsc: RSC.OK };
          return;
        }
        if (ctx.resource && !ctx.virtual && ctx.resource.ty === ANNOUNCEABLE[RESOURCE_TYPE.AE]?.annc) {
          ctx.response = await notifyOriginalAe(ctx);
          return;
        }
        ctx.outcome = await notifyResource(ctx);
        return;
    }
  },
};
