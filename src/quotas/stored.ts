// Stored amounts per originator [Warden policy]: resources, bytes of their documents and subscriptions are
// counted by the store in the transaction that creates, updates or deletes them (so every process of a
// cluster sees one count), and checked by the same statement that counts.
import type { Config } from '../config/config.js';
import type { RequestContext } from '../pipeline/context.js';
import { CseError } from '../primitive/errors.js';
import { RSC } from '../primitive/rsc.js';
import { QuotaExceededError, type ResourceStore, type StoredResource, type UsageLimits } from '../storage/store.js';
import { ANONYMOUS, quotaKey } from './keys.js';

export function storedLimits(config: Config): UsageLimits {
  return { resources: config.quota.resources, bytes: config.quota.storedBytes, subscriptions: config.quota.subscriptions };
}

/**
 * Whose quota what the request stores counts against, and the limits that apply: the admin's resources are
 * counted under its name but never refused.
 */
export function storageCharge(ctx: RequestContext): { charge: string; limits: UsageLimits | undefined } {
  const key = quotaKey(ctx);
  if (key === undefined) return { charge: ctx.originator?.id ?? '', limits: undefined };
  return { charge: relayedCharge(ctx) ?? key, limits: storedLimits(ctx.services.config) };
}

/**
 * What an originator relayed by another CSE stores counts against that CSE (or, over Mcc', that peer SP): relayed
 * originators are its word, and a registree may relay for any ID in its branch, descendants it lists itself
 * included. Counted per relayed originator, one that invented names had a fresh quota for each (150 resources past
 * a quota of 5 in the probe). So a branch shares the quota of the CSE that speaks for it, as with
 * quota.relayRate for the rate; its AEs' own resources on their own CSE are not counted here.
 */
function relayedCharge(ctx: RequestContext): string | undefined {
  const originator = ctx.originator;
  if (!originator || originator.authenticated) return undefined;
  if (originator.via !== undefined) return originator.via;
  if (originator.viaSp !== undefined) return `sp:${originator.viaSp}`;
  return undefined;
}

const SETTING: Record<QuotaExceededError['quota'], string> = { resources: 'quota.resources', bytes: 'quota.storedBytes', subscriptions: 'quota.subscriptions' };
const WHAT: Record<QuotaExceededError['quota'], string> = { resources: 'resources', bytes: 'bytes of stored resources', subscriptions: 'subscriptions' };

/**
 * A full quota refuses with NOT_ACCEPTABLE, as TS-0004 §7.4.7.2.1 refuses a <contentInstance> that a container's
 * maxByteSize cannot take: the request is well-formed, the receiver will not store it; retrying does not help
 * until the originator deletes something.
 */
export function quotaRefusal(err: QuotaExceededError): CseError {
  const who = err.originator === ANONYMOUS ? 'originators that are neither authenticated nor registered (they share one quota)' : `originator '${err.originator}'`;
  return new CseError(
    RSC.NOT_ACCEPTABLE,
    `the quota of ${err.limit} ${WHAT[err.quota]} of ${who} is reached (${err.usage[err.quota]} in use; ${SETTING[err.quota]}); delete some to store more`,
  );
}

/** The size the store counts for a resource: its document as stored. */
export function documentBytes(resource: StoredResource): number {
  return Buffer.byteLength(JSON.stringify(resource.doc));
}

/**
 * An UPDATE that makes a resource larger is refused (and rolled back with the transaction) when it takes the
 * resource's creator past its byte quota: growth is charged to whoever the resource counts against. Smaller or
 * equal updates always pass, so an originator over its quota can still trim what it holds.
 */
export async function checkGrowth(ctx: RequestContext, tx: ResourceStore, resource: StoredResource, sizeBefore: number): Promise<void> {
  const limit = ctx.services.config.quota.storedBytes;
  const charge = resource.charge;
  if (limit <= 0 || charge === undefined || ctx.services.access.isAdmin(charge) || quotaKey(ctx) === undefined) return;
  if (documentBytes(resource) <= sizeBefore) return;
  const usage = await tx.usage(charge);
  if (usage.bytes > limit) throw quotaRefusal(new QuotaExceededError(charge, 'bytes', limit, usage));
}
