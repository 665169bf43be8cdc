// Resources that make the CSE work on a clock of its own: how many one creator may have.
import { CREATOR_KEY } from './common.js';
import type { HookContext } from './define.js';
import { CseError } from '../primitive/errors.js';
import { RSC } from '../primitive/rsc.js';
import type { StoredResource } from '../storage/store.js';

/**
 * Periodic resources of one kind one creator may have (the admin excepted). Each is a timer run (a transaction,
 * and for some a request out of the CSE) per period, down to one second, for as long as it lives, whatever its
 * creator sends: the resource quotas bound how many it may store, not how much work they make. 3 300 periodic
 * beacons of one AE at one second kept 0.9 of a core busy (a probe of time inputs); periodic cross-resource
 * windows and location update periods have the same shape.
 */
export const PERIODIC_PER_CREATOR = 16;

/**
 * Refuses (5207, as the other structural limits) a resource about to become periodic when its creator already has
 * PERIODIC_PER_CREATOR periodic resources of its type: those of type `ty` whose document holds every one of
 * `marks`. Called where the resource becomes periodic (CREATE, or an UPDATE that makes it so); the resource itself
 * is not counted.
 */
export async function checkPeriodicAllowance(ctx: HookContext, resource: StoredResource, marks: ReadonlyArray<readonly [string, string]>, what: string): Promise<void> {
  const creator = typeof resource.doc[CREATOR_KEY] === 'string' ? resource.doc[CREATOR_KEY] : ctx.originator;
  if (creator === ctx.config.security.admin) return;
  const found = await ctx.store.search({
    below: ctx.self.cseRn,
    onlyTypes: [resource.ty],
    attributes: [...marks, [CREATOR_KEY, creator]],
    operation: 'and',
    aliveAt: ctx.now,
    limit: PERIODIC_PER_CREATOR + 1,
  });
  if (found.filter((hit) => hit.ri !== resource.ri).length >= PERIODIC_PER_CREATOR) {
    throw new CseError(RSC.NOT_ACCEPTABLE, `'${creator}' already has ${PERIODIC_PER_CREATOR} ${what}`);
  }
}
