// Group fan-out through <group>/fopt [TS-0004 §7.4.14.2.4-5]: the request goes to every member, each
// through the whole pipeline as the original originator (so each member's own access control applies),
// and the answers come back aggregated.
import { CseError } from '../primitive/errors.js';
import type { RequestPrimitive } from '../primitive/request.js';
import { RSC } from '../primitive/rsc.js';
import type { Outcome, RequestContext } from '../pipeline/context.js';

/** Groups of groups fan out at most this deep: a cycle through other groups cannot loop. */
const MAX_FAN_OUT_DEPTH = 3;

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
  const responses = await Promise.all(
    members.map(async (member) => {
      const request: RequestPrimitive = { ...ctx.request, to: `${member}${suffix}` };
      const response = await dispatch(request, { ...ctx.transport, fanOutDepth: depth });
      // Each member's answer says which member it is [TS-0004 table 6.3.5.33-1].
      return { rsc: response.rsc, rqi: response.rqi, fr: member, ...(response.pc === undefined ? {} : { pc: response.pc }), ...(response.rvi ? { rvi: response.rvi } : {}) };
    }),
  );
  return { rsc: RSC.OK, content: { 'm2m:agr': { 'm2m:rsp': responses } } };
}
