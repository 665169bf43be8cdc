// Asking the access decider about one more resource on behalf of the request's originator (children of a
// result, discovery results, the subscribed-to resource).
import type { AccessOperation } from '../security/acp.js';
import { DecisionMemo, type Asker } from '../security/authorize.js';
import type { StoredResource } from '../storage/store.js';
import type { RequestContext } from './context.js';

function askerOf(ctx: RequestContext, operation: AccessOperation): Asker {
  const held = ctx.heldCredentials;
  return {
    originator: ctx.originator?.id ?? '',
    authenticated: ctx.originator?.authenticated ?? false,
    // The tokens and roles the request's own decision found: a token's permission naming a child, or a role a child's
    // policy names, grants there as it would have granted a request addressed to that child.
    roleIds: held?.roleIds ?? [],
    ...(held?.tokens ? { tokens: held.tokens } : {}),
    operation,
    ip: ctx.transport.remoteAddress,
    time: ctx.receivedAt,
  };
}

export async function originatorMay(ctx: RequestContext, operation: AccessOperation, resource: StoredResource): Promise<boolean> {
  const decision = await ctx.services.access.decide({ ...askerOf(ctx, operation), resource });
  return decision.granted;
}

/**
 * One request's questions about many resources (the rows of a discovery page): a grant about a resource governed
 * by its parent is remembered for its siblings (DecisionMemo), and a remembered one is answered at once, without a
 * turn of the event loop per row.
 */
export class OriginatorDecisions {
  private readonly memo: DecisionMemo;

  constructor(
    private readonly ctx: RequestContext,
    operation: AccessOperation,
  ) {
    this.memo = new DecisionMemo(askerOf(ctx, operation));
  }

  may(resource: StoredResource): boolean | Promise<boolean> {
    const { access } = this.ctx.services;
    const known = access.remembered(this.memo, resource);
    if (known !== undefined) return known.granted;
    return access.decide({ ...this.memo.asker, resource, memo: this.memo }).then((decision) => decision.granted);
  }
}
