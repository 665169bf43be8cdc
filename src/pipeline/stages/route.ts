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
      throw new CseError(RSC.TARGET_NOT_REACHABLE, `no route to CSE ${target.cseId}: it is not registered with this CSE`);
    }
    ctx.target = target;
    return Promise.resolve();
  },
};
