// Whose share of the SPARQL worker a request's semantic operations use. Only identities the CSE can vouch for
// get a share of their own: an authenticated originator, or a registered AE (the authenticate stage has
// refused unregistered C/S AE-IDs by then). Every other originator shares one key, so inventing From values
// buys no extra share.
import type { RequestContext } from '../pipeline/context.js';
import { OPERATION } from '../primitive/request.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { ANONYMOUS_CALLER, type SemanticCaller } from './sparql.js';

const ANONYMOUS: SemanticCaller = { key: ANONYMOUS_CALLER, limited: true };

export function semanticCaller(ctx: RequestContext): SemanticCaller {
  const originator = ctx.originator;
  if (!originator) return ANONYMOUS;
  // The admin is one configured identity, and the one that has to clean up after an originator gone wild.
  if (ctx.services.access.isAdmin(originator.id)) return { key: originator.id, limited: false };
  const r = ctx.request;
  // A registration names an AE-ID that is not registered yet: only a credential identifies its sender.
  if (r.op === OPERATION.CREATE && r.ty === RESOURCE_TYPE.AE) {
    return originator.authenticated && originator.credentialId !== undefined ? { key: `credential:${encodeURIComponent(originator.credentialId)}`, limited: true } : ANONYMOUS;
  }
  if (originator.authenticated || /^[CS]/.test(originator.id)) return { key: originator.id, limited: true };
  return ANONYMOUS;
}
