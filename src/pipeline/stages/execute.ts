// Stage 9: carry out the operation.
import { CseError } from '../../primitive/errors.js';
import { FILTER_USAGE, OPERATION, RESPONSE_TYPE } from '../../primitive/request.js';
import { acceptNonBlocking } from '../../operations/nonBlocking.js';
import { checkConditions } from '../../operations/discover.js';
import { fanOut } from '../../operations/fanOut.js';
import { RSC } from '../../primitive/rsc.js';
import { createResource } from '../../operations/create.js';
import { deleteResource } from '../../operations/delete.js';
import { retrieveResource } from '../../operations/retrieve.js';
import { updateResource } from '../../operations/update.js';
import type { Stage } from '../pipeline.js';

export const execute: Stage = {
  name: 'execute',
  async run(ctx) {
    const r = ctx.request;
    // Conditional retrieve / update / delete: the addressed resource must match [TS-0004 §7.3.3.1].
    if (ctx.resource && !ctx.virtual && r.fc && r.fc.fu !== FILTER_USAGE.DISCOVERY && r.op !== OPERATION.CREATE) await checkConditions(ctx, ctx.resource);
    // Non-blocking: answered now, carried out in the background as a blocking request.
    if (r.rt && (r.rt.rtv === RESPONSE_TYPE.NON_BLOCKING_SYNCH || r.rt.rtv === RESPONSE_TYPE.NON_BLOCKING_ASYNCH)) {
      ctx.outcome = await acceptNonBlocking(ctx);
      return;
    }
    if (ctx.virtual === 'fopt') {
      ctx.outcome = await fanOut(ctx);
      return;
    }
    switch (ctx.request.op) {
      case OPERATION.CREATE:
        ctx.outcome = await createResource(ctx);
        return;
      case OPERATION.RETRIEVE:
        ctx.outcome = await retrieveResource(ctx);
        return;
      case OPERATION.UPDATE:
        ctx.outcome = await updateResource(ctx);
        return;
      case OPERATION.DELETE:
        ctx.outcome = await deleteResource(ctx);
        return;
      case OPERATION.NOTIFY:
        // An AE answers the requests it polled with a NOTIFY to its pcu; nothing here waits for those answers.
        if (ctx.virtual === 'pcu') {
          ctx.outcome = { rsc: RSC.OK };
          return;
        }
        throw new CseError(RSC.NOT_IMPLEMENTED, 'NOTIFY to this CSE is not supported yet (a POST without ty in Content-Type is a NOTIFY)');
    }
  },
};
