// Stage 5: is the target on this CSE? Transit forwarding comes with CSE-to-CSE registration; until then a
// target on another CSE cannot be reached [TS-0004 §7.3.2.6].
import { CseError, badRequest } from '../../primitive/errors.js';
import { parseTarget } from '../../primitive/identifiers.js';
import { OPERATION } from '../../primitive/request.js';
import { RSC } from '../../primitive/rsc.js';
import { RESOURCE_TYPE } from '../../resources/types.js';
import type { Stage } from '../pipeline.js';

export const route: Stage = {
  name: 'route',
  run(ctx) {
    const target = parseTarget(ctx.request.to, ctx.services.self);
    if (target.kind === 'remote') {
      if (ctx.request.op === OPERATION.CREATE && ctx.request.ty === RESOURCE_TYPE.AE) {
        throw badRequest('an AE registers with its registrar CSE, not through a transit CSE');
      }
      // No <remoteCSE> matches (Warden has none): an IN-CSE answers NOT_FOUND [TS-0004 §7.3.2.6]; another CSE
      // would retarget to its registrar, which Warden does not have, so the target is unreachable.
      if (ctx.services.config.cse.type === 'IN') {
        throw new CseError(RSC.NOT_FOUND, `no CSE ${target.spId === undefined ? '' : `//${target.spId}`}${target.cseId} is known to this IN-CSE`);
      }
      throw new CseError(RSC.TARGET_NOT_REACHABLE, `no route to CSE ${target.cseId}: it is not registered with this CSE`);
    }
    ctx.target = target;
    return Promise.resolve();
  },
};
