// Stage 5: is the target on this CSE? A target on another CSE is forwarded towards it, down to a registree or up
// to the registrar [TS-0004 §7.3.2.6] (src/remote); its response is this request's response.
import { CseError, badRequest } from '../../primitive/errors.js';
import { parseTarget } from '../../primitive/identifiers.js';
import { OPERATION, RESPONSE_TYPE } from '../../primitive/request.js';
import { acceptNonBlockingForOtherCse } from '../../operations/nonBlocking.js';
import { RSC } from '../../primitive/rsc.js';
import { RESOURCE_TYPE } from '../../resources/types.js';
import type { Stage } from '../pipeline.js';

export const route: Stage = {
  name: 'route',
  async run(ctx) {
    const target = parseTarget(ctx.request.to, ctx.services.self);
    if (target.kind === 'remote') {
      // A registration goes to the registrar itself, never through a transit CSE [TS-0001 §10.2.2.2, §10.2.2.6].
      if (ctx.request.op === OPERATION.CREATE && ctx.request.ty === RESOURCE_TYPE.AE) {
        throw badRequest('an AE registers with its registrar CSE, not through a transit CSE');
      }
      if (ctx.request.op === OPERATION.CREATE && ctx.request.ty === RESOURCE_TYPE.remoteCSE) {
        throw new CseError(RSC.OPERATION_NOT_ALLOWED, 'a CSE registers with its registrar CSE, not through a transit CSE');
      }
      const remote = ctx.services.remote;
      if (!remote) {
        throw new CseError(RSC.NOT_FOUND, `no CSE ${target.spId === undefined ? '' : `//${target.spId}`}${target.cseId} is known to this CSE`);
      }
      // Non-blocking: this CSE is the Receiver CSE and keeps the <request> [TS-0004 §7.3.2.2] — once a route is
      // known, so that a CSE nobody knows is refused now rather than in the result.
      const rtv = ctx.request.rt?.rtv;
      if ((rtv === RESPONSE_TYPE.NON_BLOCKING_SYNCH || rtv === RESPONSE_TYPE.NON_BLOCKING_ASYNCH) && (await remote.nextHop(target.cseId, target.spId, ctx.originator?.via, ctx.originator?.viaSp))) {
        ctx.response = await acceptNonBlockingForOtherCse(ctx);
        return;
      }
      ctx.response = await remote.forward(ctx, target.cseId, target.spId);
      return;
    }
    ctx.target = target;
  },
};
