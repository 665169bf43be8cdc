// Whose share of the SPARQL worker a request's semantic operations use: the request's quota key
// (quotas/keys.ts), so the identities that get a share of their own are exactly those that get quotas of their
// own, and every other originator shares one. The admin takes turns but has no budget.
import type { RequestContext } from '../pipeline/context.js';
import { ANONYMOUS, quotaKey } from '../quotas/keys.js';
import { ANONYMOUS_CALLER, type SemanticCaller } from './sparql.js';

export function semanticCaller(ctx: RequestContext): SemanticCaller {
  const key = quotaKey(ctx);
  if (key === undefined) return { key: ctx.originator?.id ?? '', limited: false };
  return { key: key === ANONYMOUS ? ANONYMOUS_CALLER : key, limited: true };
}
