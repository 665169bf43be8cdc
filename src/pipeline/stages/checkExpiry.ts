// Stage 4: a request or result that has already expired is answered with REQUEST_TIMEOUT [TS-0004 §7.3.2.1].
import { CseError } from '../../primitive/errors.js';
import { parseAbsRelTimestamp } from '../../primitive/identifiers.js';
import { RSC } from '../../primitive/rsc.js';
import type { Stage } from '../pipeline.js';

export const checkExpiry: Stage = {
  name: 'checkExpiry',
  run(ctx) {
    for (const [name, value] of [
      ['request expiration timestamp', ctx.request.rqet],
      ['result expiration timestamp', ctx.request.rset],
    ] as const) {
      const at = value === undefined ? undefined : parseAbsRelTimestamp(value, ctx.receivedAt);
      if (at !== undefined && at <= ctx.receivedAt) throw new CseError(RSC.REQUEST_TIMEOUT, `the ${name} ${value ?? ''} has passed`);
    }
    return undefined;
  },
};
