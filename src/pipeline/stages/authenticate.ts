// Stage 2: bind the originator to evidence. Until mutual authentication exists no request is authenticated
// (rq_authn = false), so rules with acaf=true grant nothing [TS-0003 §7.1.2].
import type { Stage } from '../pipeline.js';

export const authenticate: Stage = {
  name: 'authenticate',
  run(ctx) {
    ctx.originator = { id: ctx.request.fr, authenticated: false };
    return Promise.resolve();
  },
};
