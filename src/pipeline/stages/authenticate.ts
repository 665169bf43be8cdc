// Stage 2: bind the originator to evidence [TS-0004 §7.3.2.1, TS-0003 §7.2.1]. The evidence is what the
// connection's TLS handshake proved (a verified certificate or a PSK identity); From is only a claim that
// the evidence must allow. rq_authn is true only when there is evidence and From matches it.
import { CseError, badRequest } from '../../primitive/errors.js';
import { OPERATION } from '../../primitive/request.js';
import { RSC } from '../../primitive/rsc.js';
import type { TransportContext } from '../../primitive/transport.js';
import { RESOURCE_TYPE } from '../../resources/types.js';
import type { Evidence } from '../../security/credentials.js';
import type { CseServices, RequestContext } from '../context.js';
import type { Stage } from '../pipeline.js';

const ORIGINATOR = /^[A-Za-z0-9\-._~/]{1,1024}$/;

function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

function notAuthenticated(message: string): CseError {
  return new CseError(RSC.ORIGINATOR_NOT_AUTHENTICATED, message);
}

function associationRequired(message: string): CseError {
  return new CseError(RSC.SECURITY_ASSOCIATION_REQUIRED, message);
}

/** The credential the connection proved, or undefined; a presented but unverifiable certificate is refused. */
function evidenceOf(services: CseServices, transport: TransportContext): Evidence | undefined {
  const cert = transport.peerCertificate;
  if (cert && !cert.verified) {
    throw associationRequired(`the client certificate was not accepted (${cert.error ?? 'unverified'})`);
  }
  if (cert) return services.credentials.evidenceOfCertificate(cert.subjectAltNameUris, cert.fingerprint256);
  if (transport.pskIdentity !== undefined) return services.credentials.evidenceOfPsk(transport.pskIdentity);
  // Only where Warden itself terminates TLS: MQTT's TLS ends at the broker.
  if (transport.secure && (transport.binding === 'http' || transport.binding === 'ws') && services.config.tls.clientAuth === 'required') {
    throw associationRequired('this CSE requires a client credential: a certificate from its trust anchors or a pre-shared key');
  }
  return undefined;
}

/** Which originators must be authenticated [TS-0003 §6.1.2.2.1]: 'auto' is everything once TLS is on. */
function mustAuthenticate(services: CseServices, id: string): boolean {
  const setting = services.config.security.authentication;
  const rule = setting === 'auto' ? (services.config.http.tls || services.config.ws.tls ? 'all' : 'cse') : setting;
  switch (rule) {
    case 'all':
      return true;
    case 'cse-sae':
      return id.startsWith('/') || id.startsWith('S');
    case 'cse':
      return id.startsWith('/');
  }
}

async function check(ctx: RequestContext, id: string, evidence: Evidence | undefined): Promise<boolean> {
  const { services, request: r } = ctx;
  const registration = r.op === OPERATION.CREATE && r.ty === RESOURCE_TYPE.AE;
  if (registration) {
    if (!evidence) {
      if (mustAuthenticate(services, id || 'C')) throw associationRequired('registration requires an authenticated connection (TLS client certificate or PSK)');
      return false;
    }
    // A credential that names its AE-IDs may only register those; one that names none binds the new AE to itself.
    if (!evidence.bindsAtRegistration && !evidence.aeIds.includes(id)) {
      throw notAuthenticated(`credential ${evidence.credentialId} may not register as '${id || '(assigned)'}'`);
    }
    return true;
  }
  if (services.access.isAdmin(id)) {
    if (evidence) {
      if (evidence.aeIds.includes(id)) return true;
      throw notAuthenticated(`credential ${evidence.credentialId} does not allow the admin originator`);
    }
    if (mustAuthenticate(services, id)) throw associationRequired('the admin originator requires an authenticated connection');
    // Until the admin is bound to a credential, its name alone is honoured only from this machine.
    if (!isLoopback(ctx.transport.remoteAddress)) throw notAuthenticated('the admin originator must connect from the local machine');
    return false;
  }
  if (id === 'C' || id === 'S') throw badRequest(`'${id}' only asks for an AE-ID at registration; use the assigned AE-ID`);
  if (id.startsWith('/')) {
    if (!evidence) throw associationRequired(`originator '${id}' is a CSE-ID, which requires a security association`);
    if (evidence.cseIds.includes(id)) return true;
    throw notAuthenticated(`credential ${evidence.credentialId} does not allow originator '${id}'`);
  }
  if (/^[CS]/.test(id)) {
    const registered = await services.registrations.lookup(id);
    if (!registered) throw notAuthenticated(`originator '${id}' is not a registered AE`);
    if (evidence) {
      if (evidence.aeIds.includes(id) || (registered.credentialId !== undefined && registered.credentialId === evidence.credentialId)) return true;
      throw notAuthenticated(`credential ${evidence.credentialId} does not allow originator '${id}'`);
    }
    // An AE registered over an authenticated connection must always come back with its credential.
    if (registered.credentialId !== undefined) throw notAuthenticated(`AE '${id}' is bound to a credential and must present it`);
    if (mustAuthenticate(services, id)) throw associationRequired(`originator '${id}' must be authenticated`);
    return false;
  }
  if (evidence) throw notAuthenticated(`credential ${evidence.credentialId} does not allow originator '${id}'`);
  if (mustAuthenticate(services, id)) throw associationRequired(`originator '${id}' must be authenticated`);
  return false;
}

export const authenticate: Stage = {
  name: 'authenticate',
  async run(ctx) {
    const { self, log } = ctx.services;
    let id = ctx.request.fr;
    if (id !== '' && !ORIGINATOR.test(id)) throw badRequest('the originator contains characters that no oneM2M ID may contain');
    // The SP-relative form of an AE registered here is the same originator as its CSE-relative AE-ID.
    if (id.startsWith(`/${self.cseId}/`) && /^[CS][^/]*$/.test(id.slice(self.cseId.length + 2))) id = id.slice(self.cseId.length + 2);
    let evidence: Evidence | undefined;
    try {
      evidence = evidenceOf(ctx.services, ctx.transport);
      const authenticated = await check(ctx, id, evidence);
      ctx.originator = authenticated && evidence ? { id, authenticated, credentialId: evidence.credentialId } : { id, authenticated };
    } catch (err) {
      if (err instanceof CseError) {
        const cert = ctx.transport.peerCertificate;
        log.warn(
          {
            event: 'authentication-refused',
            rqi: ctx.request.rqi,
            originator: id,
            credential: evidence?.credentialId ?? ctx.transport.pskIdentity ?? (cert ? `${cert.subject} #${cert.serialNumber}` : 'none'),
            remote: ctx.transport.remoteAddress,
            rsc: err.rsc,
            reason: err.message,
          },
          'security event',
        );
      }
      throw err;
    }
  },
};
