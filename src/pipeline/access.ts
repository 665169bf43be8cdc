// Asking the access decider about one more resource on behalf of the request's originator (children of a
// result, discovery results, the subscribed-to resource).
import type { AccessOperation } from '../security/acp.js';
import type { StoredResource } from '../storage/store.js';
import type { RequestContext } from './context.js';

export async function originatorMay(ctx: RequestContext, operation: AccessOperation, resource: StoredResource): Promise<boolean> {
  const decision = await ctx.services.access.decide({
    originator: ctx.originator?.id ?? '',
    authenticated: ctx.originator?.authenticated ?? false,
    roleIds: [],
    operation,
    resource,
    ip: ctx.transport.remoteAddress,
    time: ctx.receivedAt,
  });
  return decision.granted;
}
