// Whose quota a request counts against. Only identities the CSE can vouch for get a quota of their own:
// an authenticated originator, or a registered AE (authenticate has refused unregistered AE-IDs by then).
// Everything else shares one anonymous key, so inventing new From values never buys a fresh quota.
import type { RequestContext } from '../pipeline/context.js';
import { OPERATION } from '../primitive/request.js';
import { RESOURCE_TYPE } from '../resources/types.js';

/** The key of every originator that is neither authenticated nor registered; no oneM2M ID holds '(' or ')'. */
export const ANONYMOUS = '(anonymous)';

/**
 * The quota key of the request's originator, or undefined for the admin, whose requests are never limited
 * (it is one configured identity, and the one that has to clean up after an originator that went wild).
 */
export function quotaKey(ctx: RequestContext): string | undefined {
  const originator = ctx.originator;
  if (!originator) return ANONYMOUS;
  if (ctx.services.access.isAdmin(originator.id)) return undefined;
  const r = ctx.request;
  // A registration names an AE-ID that is not registered yet: only its credential identifies the sender.
  if (r.op === OPERATION.CREATE && r.ty === RESOURCE_TYPE.AE) {
    return originator.authenticated && originator.credentialId !== undefined ? `credential:${encodeURIComponent(originator.credentialId)}` : ANONYMOUS;
  }
  if (originator.authenticated) return originator.id;
  // Relayed by an authenticated CSE that may relay it (authenticate checks that), of this SP or a peer SP's IN-CSE over
  // Mcc' (only absolute originators of that SP): its own identity, not the crowd's.
  if (originator.via !== undefined || originator.viaSp !== undefined) return originator.id;
  // Without evidence, authenticate lets through only registered AE-IDs among the C/S names.
  if (/^[CS]/.test(originator.id)) return originator.id;
  return ANONYMOUS;
}

/**
 * The key of the CSE (or peer SP) that sent or relayed the request, for the limit on everything it passes on; undefined
 * when no other CSE is at the other end. Originators relayed by another CSE are that CSE's word (this CSE cannot
 * authenticate them, and authenticate only checks that the relaying CSE may speak for such an ID), so each relayed
 * originator keeps its own bucket, and what one relaying CSE passes on adds up to this one besides: a gateway that is
 * taken over cannot multiply its rate by inventing AE-IDs.
 */
export function relayKey(ctx: RequestContext): string | undefined {
  const originator = ctx.originator;
  if (!originator) return undefined;
  if (originator.via !== undefined) return `cse:${originator.via}`;
  if (originator.viaSp !== undefined) return `sp:${originator.viaSp}`;
  return undefined;
}
