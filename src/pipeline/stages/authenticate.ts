// Stage 2: bind the originator to evidence [TS-0004 §7.3.2.1, TS-0003 §7.2.1]. The evidence is what the
// connection's TLS handshake proved (a verified certificate or a PSK identity); From is only a claim that
// the evidence must allow. rq_authn is true only when there is evidence and From matches it.
import { absoluteSegments } from '../../security/originators.js';
import { CseError, badRequest } from '../../primitive/errors.js';
import { isCseBaseTarget, parseTarget } from '../../primitive/identifiers.js';
import { OPERATION } from '../../primitive/request.js';
import { RSC } from '../../primitive/rsc.js';
import type { TransportContext } from '../../primitive/transport.js';
import { RESOURCE_TYPE } from '../../resources/types.js';
import { REGISTRAR_KEY, remoteCseRi } from '../../resources/types/remoteCse.js';
import { isLoopbackAddress } from '../../security/addresses.js';
import type { Evidence } from '../../security/credentials.js';
import type { CseServices, RequestContext } from '../context.js';
import type { Stage } from '../pipeline.js';
import { certificateNamesCse } from '../../remote/link.js';

const ORIGINATOR = /^[A-Za-z0-9\-._~/]{1,1024}$/;

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
  if (cert) {
    // The IN-CSE of a peer SP (peers.list) is known by the `//SP/CSE-ID` its certificate names: a certificate of
    // another SP names nothing in this one (credentials.ts), so this is the only way its links are recognised.
    const peer = services.remote?.peers.find((p) => certificateNamesCse(cert.subjectAltNameUris, p));
    // With peers.ca, a peer SP's CA vouches for its own IN-CSE only, and only that peer's CAs vouch for it: otherwise
    // that CA could issue a certificate naming this SP's admin or CSEs, or another peer's IN-CSE, as the handshake
    // accepts them alike.
    const anchors = services.credentials.anchorsOf(cert);
    if (peer) {
      if (anchors && !anchors.peerSps.has(peer.spId.toLowerCase())) throw associationRequired(`a certificate naming the IN-CSE of SP ${peer.spId} must be issued under the CA peers.ca names for that SP`);
      return { credentialId: `32-//${peer.spId}${peer.csi}`, aeIds: [], cseIds: [], bindsAtRegistration: false, peerSp: peer.spId };
    }
    if (anchors && !anchors.own) throw associationRequired('a certificate issued under a peer SP\'s CA (peers.ca) names no originator of this SP');
    return services.credentials.evidenceOfCertificate(cert.subjectAltNameUris, cert.fingerprint256);
  }
  if (transport.pskIdentity !== undefined) return services.credentials.evidenceOfPsk(transport.pskIdentity);
  // A CSE link through an MQTT broker that authenticates CSEs (mqtt.cseLinks): the broker's client certificate check
  // and ACL are the security association [TS-0003 §6.1.2.2.1]; the CSE is the one whose topic carried the request.
  if (transport.binding === 'mqtt' && transport.brokerCse !== undefined && services.config.mqtt.cseLinks) {
    return { credentialId: `mqtt-broker:${transport.brokerCse}`, aeIds: [], cseIds: [transport.brokerCse], bindsAtRegistration: false };
  }
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

/**
 * Whether the request is an AE registration: a CREATE of <AE> whose target is this CSE's CSEBase, in any
 * address form [TS-0001 §9.3.1, §10.2.2.2]. A CREATE of <AE> anywhere else is no registration: its From is
 * checked like any other request's, so it cannot make a credential act as an AE it does not hold.
 */
function isRegistration(ctx: RequestContext): boolean {
  const r = ctx.request;
  if (r.op !== OPERATION.CREATE || r.ty !== RESOURCE_TYPE.AE) return false;
  const { self } = ctx.services;
  let target;
  try {
    target = parseTarget(r.to, self);
  } catch {
    return false; // the route stage answers a malformed target
  }
  return isCseBaseTarget(target, self);
}

/** The admin originator: by the credential that names it, else (when allowed) by connecting from this machine. */
function checkAdmin(ctx: RequestContext, id: string, evidence: Evidence | undefined): boolean {
  const { services } = ctx;
  if (evidence) {
    if (evidence.aeIds.includes(id)) return true;
    throw notAuthenticated(`credential ${evidence.credentialId} does not allow the admin originator`);
  }
  if (mustAuthenticate(services, id)) throw associationRequired('the admin originator requires an authenticated connection');
  // A reverse proxy on this machine makes every client a loopback peer: such deployments turn this off.
  if (!services.config.security.adminFromLoopback) {
    throw associationRequired('the admin originator requires a credential that names it (security.adminFromLoopback is off)');
  }
  if (!isLoopbackAddress(ctx.transport.remoteAddress)) throw notAuthenticated('the admin originator must connect from the local machine');
  return false;
}

async function checkRegistration(ctx: RequestContext, id: string, evidence: Evidence | undefined): Promise<boolean> {
  const { services } = ctx;
  // Registering under the admin's name needs whatever acting as the admin needs.
  if (services.access.isAdmin(id)) return checkAdmin(ctx, id, evidence);
  const registered = /^[CS]./.test(id) ? await services.registrations.lookup(id) : undefined;
  if (!evidence) {
    if (mustAuthenticate(services, id || 'C')) throw associationRequired('registration requires an authenticated connection (TLS client certificate or PSK)');
    if (registered?.credentialId !== undefined) throw notAuthenticated(`AE '${id}' is bound to a credential and must present it`);
    // An AE-ID a key of the PSK store names is that key's, registered or not (a certificate's names are not known
    // before it is presented: deployments where they matter require authentication, security.authentication).
    if (services.credentials.pskNames(id)) throw notAuthenticated(`AE-ID '${id}' belongs to a pre-shared key and is registered with it`);
    return false;
  }
  // A credential that names its AE-IDs may register only those.
  if (evidence.aeIds.includes(id)) return true;
  if (!evidence.bindsAtRegistration) throw notAuthenticated(`credential ${evidence.credentialId} may not register as '${id || '(assigned)'}'`);
  // One that names none registers under an AE-ID the CSE assigns (From empty, or a bare 'C' or 'S'), bound to it
  // from then on. Never one it chooses: an AE-ID is also what policies, DAS rules and tokens name, and another
  // credential may name it (a certificate's subjectAltName cannot be known before it is presented), so a chosen
  // one took over what was granted to a device that had not registered yet or had deregistered.
  if (id !== '' && id !== 'C' && id !== 'S') {
    if (registered && registered.credentialId === evidence.credentialId) return true; // its own AE: 4117 by the AE type
    throw notAuthenticated(`credential ${evidence.credentialId} names no AE-ID: it registers under one the CSE assigns (From empty, 'C' or 'S'), not as '${id}'`);
  }
  return true;
}

/** The SP-relative CSE-ID an SP-relative or absolute (same SP) originator starts with, or undefined. */
function cseIdOf(id: string, spId: string): string | undefined {
  let rest = id;
  if (rest.startsWith('//')) {
    const [sp, ...tail] = rest.slice(2).split('/');
    if (sp?.toLowerCase() !== spId.toLowerCase()) return undefined;
    rest = `/${tail.join('/')}`;
  }
  const [, cse] = rest.split('/');
  return cse ? `/${cse}` : undefined;
}

/**
 * Whose requests a CSE may relay to this one [TS-0004 §7.3.2.1]: never as this CSE or its AEs, nor as another
 * CSE registered here or its AEs (4106). The registrar relays whatever reaches it from the rest of the tree; a
 * registree only its own descendants (descendantCSEs) and their AEs, which is all a tree routes up through it.
 */
async function checkRelayedOriginator(ctx: RequestContext, id: string, evidence: Evidence): Promise<void> {
  const { services } = ctx;
  const { self, config, store } = services;
  const refuse = (why: string): never => {
    throw notAuthenticated(`credential ${evidence.credentialId} may not relay originator '${id}': ${why}`);
  };
  const cse = cseIdOf(id, self.spId);
  const fromRegistrar = config.registrar.cseId !== '' && evidence.cseIds.includes(`/${config.registrar.cseId}`);
  if (cse === undefined) {
    // Another SP's originator reaches this CSE only from above.
    if (fromRegistrar) return;
    return refuse('it is of another service provider');
  }
  if (cse === `/${self.cseId}`) return refuse('that is this CSE or one of its AEs');
  // /S… and //SP/S… alone are an S-AE-ID in other spellings (absoluteSegments): one registered here comes to this CSE
  // itself, never relayed.
  const segments = absoluteSegments(id, self);
  const sAeId = segments.length === 2 && segments[0]?.toLowerCase() === self.spId.toLowerCase() && segments[1]?.startsWith('S') ? segments[1] : undefined;
  if (sAeId !== undefined && (await services.registrations.lookup(sAeId))) return refuse('that is an AE registered here');
  const registree = await store.get(remoteCseRi(cse));
  const isRegistree = registree?.ty === RESOURCE_TYPE.remoteCSE && registree.pi === self.cseId && registree.doc[REGISTRAR_KEY] !== true;
  if (isRegistree && !evidence.cseIds.includes(cse)) return refuse(`CSE '${cse}' is registered here itself`);
  // The CSE's own AEs, and whatever the registrar relays.
  if (evidence.cseIds.includes(cse) || fromRegistrar) return;
  // The registree that may stand for the CSE, as routing finds it: names the registrar refused (or, where there is
  // one, has not accepted yet) and S-AE-IDs are nobody's (DescendantCses.registreeListing).
  const listing = await services.descendants.registreeListing(cse);
  if (listing && evidence.cseIds.includes(String(listing.doc.csi))) return;
  return refuse(`'${cse}' is not among the descendants of ${evidence.cseIds.join(', ')}`);
}

/**
 * What the IN-CSE of a peer SP may send over Mcc': requests of its own SP's originators, which it converted to
 * absolute form when they left that SP [TS-0004 §7.3.2.6]. Anything else — a relative originator, or an absolute
 * one of another SP (this one included) — is not an originator that credential can vouch for: 4106, as for a
 * registree CSE relaying another's originator [TS-0004 §7.3.2.1]. Not authenticated by this CSE (rq_authn false).
 */
function checkPeerSpOriginator(id: string, evidence: Evidence, peerSp: string, ownSp: string): boolean {
  const m = /^\/\/([^/]+)\/[^/]+/.exec(id);
  if (!m) throw notAuthenticated(`credential ${evidence.credentialId} (an IN-CSE of SP ${peerSp}) relays only absolute originators //${peerSp}/…, not '${id}'`);
  const sp = (m[1] as string).toLowerCase();
  if (sp !== peerSp.toLowerCase()) {
    throw notAuthenticated(`credential ${evidence.credentialId} may not relay originator '${id}': it names ${sp === ownSp.toLowerCase() ? 'this SP' : `SP ${m[1] as string}`}, not ${peerSp}`);
  }
  return false;
}

/**
 * Whether the CSE is one this CSE deals with: registered here (its <remoteCSE>), a descendant a registree lists,
 * or this CSE's registrar. A valid certificate from tls.ca only proves the name; a CSE must register before it
 * accesses resources [TS-0001 §10.2.2.6].
 */
async function isKnownCse(services: CseServices, csi: string): Promise<boolean> {
  const { store, self, config, clock } = services;
  if (config.registrar.cseId !== '' && csi === `/${config.registrar.cseId}`) return true;
  const alive = (csr: { et?: number }): boolean => csr.et === undefined || csr.et > clock.now();
  const csr = await store.get(remoteCseRi(csi));
  if (csr?.ty === RESOURCE_TYPE.remoteCSE && csr.pi === self.cseId && csr.doc.csi === csi && alive(csr)) return true;
  return (await services.descendants.registreeListing(csi)) !== undefined;
}

/** Whether the request targets the <remoteCSE> the CSE would have here (`/id-in/id-x`, `cse-in/id-x`, …). */
function targetsOwnRemoteCse(ctx: RequestContext, csi: string): boolean {
  const { self } = ctx.services;
  let target;
  try {
    target = parseTarget(ctx.request.to, self);
  } catch {
    return false;
  }
  if (target.kind !== 'local' || target.virtual !== undefined) return false;
  const ri = remoteCseRi(csi);
  const s = target.segments;
  return target.structured ? s.length === 2 && s[0] === self.cseRn && s[1] === ri : s.length === 1 && s[0] === ri;
}

/**
 * A CSE that is not registered here may only register [TS-0001 §10.2.2.7: "the registrar CSE shall allow unknown
 * remote CSE to attempt to 'CREATE'"]; anything else it sends is refused as TS-0004 §7.3.2.1 refuses an AE-ID that
 * is not registered to the Receiver: ORIGINATOR_NOT_AUTHENTICATED (4106) — the specification has no
 * "not registered" code for CSEs, and ACME has none either. A request on the <remoteCSE> it would have here is let
 * through (answered 4004 by resolution, as it does not exist): registrees look for it before registering (Warden
 * RETRIEVEs it, ACME DELETEs it) and register only on 4004.
 */
async function checkCseRegistered(ctx: RequestContext, id: string, evidence: Evidence): Promise<void> {
  const { request, services } = ctx;
  const { self } = services;
  const own = cseIdOf(id, self.spId);
  // The CSE the request speaks as, when the credential names it; otherwise the CSE of the association relays it.
  const speaking = own !== undefined && evidence.cseIds.includes(own) ? [own] : evidence.cseIds;
  for (const csi of speaking) if (await isKnownCse(services, csi)) return;
  const registering = request.op === OPERATION.CREATE && request.ty === RESOURCE_TYPE.remoteCSE && id === own && evidence.cseIds.includes(id);
  if (registering) {
    try {
      if (isCseBaseTarget(parseTarget(request.to, self), self)) return;
    } catch {
      // the route stage answers a malformed target; an unregistered CSE gets no further than here
    }
  }
  if (own !== undefined && id === own && speaking.length === 1 && targetsOwnRemoteCse(ctx, own)) return;
  throw notAuthenticated(`CSE '${speaking.join(', ')}' is not registered with this CSE: it may only register (CREATE <remoteCSE> on the CSEBase)`);
}

async function check(ctx: RequestContext, id: string, evidence: Evidence | undefined): Promise<boolean> {
  const { services } = ctx;
  if (isRegistration(ctx)) return checkRegistration(ctx, id, evidence);
  if (evidence?.peerSp !== undefined) return checkPeerSpOriginator(id, evidence, evidence.peerSp, services.self.spId);
  if (evidence && evidence.cseIds.length > 0) await checkCseRegistered(ctx, id, evidence);
  if (services.access.isAdmin(id)) return checkAdmin(ctx, id, evidence);
  if ((id === 'C' || id === 'S' || id === '') && ctx.request.op === OPERATION.CREATE && ctx.request.ty === RESOURCE_TYPE.AE) {
    // An AE asking for an AE-ID anywhere but on the CSEBase: an <AE> is a child of the <CSEBase> only [TS-0004
    // table 7.4.3.1-4], so this is 4108 INVALID_CHILD_RESOURCE_TYPE (as ACME answers), not a malformed originator.
    throw new CseError(RSC.INVALID_CHILD_RESOURCE_TYPE, `an <AE> can only be created (registered) under the CSEBase, not under '${ctx.request.to}'`);
  }
  if (id === 'C' || id === 'S') throw badRequest(`'${id}' only asks for an AE-ID at registration; use the assigned AE-ID`);
  if (id === '') throw badRequest('an originator is required: only a registration (CREATE of <AE> on the CSEBase) may leave it empty');
  if (id.startsWith('/')) {
    if (!evidence) throw associationRequired(`originator '${id}' is a CSE-ID, which requires a security association`);
    if (evidence.cseIds.includes(id)) return true;
    if (evidence.cseIds.length > 0) {
      // Another CSE's originator, relayed by the CSE of the association: the relay is authenticated, the
      // originator was not by this CSE (rq_authn false; only end-to-end security would let it be).
      await checkRelayedOriginator(ctx, id, evidence);
      return false;
    }
    throw notAuthenticated(`credential ${evidence.credentialId} does not allow originator '${id}'`);
  }
  if (/^[CS]/.test(id)) {
    const registered = await services.registrations.lookup(id);
    if (!registered) throw notAuthenticated(`originator '${id}' is not a registered AE`);
    if (evidence) {
      if (evidence.aeIds.includes(id) || (registered.credentialId !== undefined && registered.credentialId === evidence.credentialId)) return true;
      throw notAuthenticated(`credential ${evidence.credentialId} does not allow originator '${id}'`);
    }
    // An AE registered over an authenticated connection must always come back with its credential; so must one whose
    // AE-ID a pre-shared key names (registered without it before the key named it).
    if (registered.credentialId !== undefined) throw notAuthenticated(`AE '${id}' is bound to a credential and must present it`);
    if (services.credentials.pskNames(id)) throw notAuthenticated(`AE-ID '${id}' belongs to a pre-shared key, which must be presented`);
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
      // The CSE at the other end of a CSE's security association: where a request came from, for routing.
      const via = evidence?.cseIds[0];
      const viaSp = evidence?.peerSp;
      ctx.originator =
        authenticated && evidence
          ? { id, authenticated, credentialId: evidence.credentialId, ...(evidence.bindsAtRegistration ? { unnamedCredential: true } : {}), ...(via ? { via } : {}) }
          : { id, authenticated, ...(via ? { via } : {}), ...(viaSp ? { viaSp } : {}) };
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
