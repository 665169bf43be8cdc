// Stage 2: bind the originator to evidence [TS-0004 §7.3.2.1, TS-0003 §7.2.1]. Until mutual authentication
// exists no request is authenticated (rq_authn = false), so rules with acaf=true grant nothing; what can be
// checked without a credential is checked here.
import { CseError, badRequest } from '../../primitive/errors.js';
import { OPERATION } from '../../primitive/request.js';
import { RSC } from '../../primitive/rsc.js';
import { RESOURCE_TYPE } from '../../resources/types.js';
import type { Stage } from '../pipeline.js';

const ORIGINATOR = /^[A-Za-z0-9\-._~/]{1,1024}$/;

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

export const authenticate: Stage = {
  name: 'authenticate',
  async run(ctx) {
    const { self, access, registrations } = ctx.services;
    const r = ctx.request;
    const registration = r.op === OPERATION.CREATE && r.ty === RESOURCE_TYPE.AE;
    let id = r.fr;
    if (id !== '' && !ORIGINATOR.test(id)) throw badRequest('the originator contains characters that no oneM2M ID may contain');
    // The SP-relative form of an AE registered here is the same originator as its CSE-relative AE-ID.
    if (id.startsWith(`/${self.cseId}/`) && /^[CS][^/]*$/.test(id.slice(self.cseId.length + 2))) id = id.slice(self.cseId.length + 2);
    ctx.originator = { id, authenticated: false };
    if (registration) return;
    if (access.isAdmin(id)) {
      // Until the admin is bound to a credential, its name alone is honoured only from this machine.
      if (!isLoopback(ctx.transport.remoteAddress)) throw new CseError(RSC.ORIGINATOR_NOT_AUTHENTICATED, 'the admin originator must connect from the local machine');
      return;
    }
    if (id === 'C' || id === 'S') throw badRequest(`'${id}' only asks for an AE-ID at registration; use the assigned AE-ID`);
    // An AE-ID that is not registered here may not act outside a security association [TS-0004 §7.3.2.1].
    if (/^[CS]/.test(id) && !(await registrations.isRegistered(id))) {
      throw new CseError(RSC.ORIGINATOR_NOT_AUTHENTICATED, `originator '${id}' is not a registered AE`);
    }
    // A CSE-ID outside a security association must not be trusted [TS-0004 §7.3.2.1].
    if (id.startsWith('/')) throw new CseError(RSC.SECURITY_ASSOCIATION_REQUIRED, `originator '${id}' is a CSE-ID, which requires a security association`);
  },
};
