// Resources that make the CSE work on a clock of its own: how many one creator may have.
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
 * PERIODIC_PER_CREATOR periodic resources of its type: those charged to it (its quota identity: an AE's AE-ID, a
 * relayed originator as relayed; originators without one share the anonymous charge) whose document holds every one
 * of `marks`. Called where the resource becomes periodic (CREATE, or an UPDATE that makes it so); the
 * resource itself is not counted.
 */
export async function checkPeriodicAllowance(ctx: HookContext, resource: StoredResource, marks: ReadonlyArray<readonly [string, string]>, what: string): Promise<void> {
  if (ctx.originator === ctx.config.security.admin) return;
  // Stored: its charge; being created: the charge it will get (none for the admin's).
  const charge = resource.charge ?? ctx.storage?.charge;
  if (charge === undefined) return;
  // One count at a time per charge and type, in every process (on PostgreSQL two CREATEs at once each saw 15).
  await ctx.store.lockKey(`periodic ${resource.ty} ${charge}`);
  // An index by charge serves it (store.chargedOfType): the creator's own resources of the type, not the tree's.
  const periodic = (await ctx.store.chargedOfType(charge, resource.ty, marks, ctx.now, PERIODIC_PER_CREATOR + 1)).filter((r) => r.ri !== resource.ri);
  if (periodic.length >= PERIODIC_PER_CREATOR) {
    throw new CseError(RSC.NOT_ACCEPTABLE, `'${charge}' already has ${PERIODIC_PER_CREATOR} ${what}`);
  }
}
