// Notification Target removal [TS-0001 §10.2.10.8, §10.2.10.9]: a DELETE of a subscription's
// notificationTargetSelfReference (ntsr) by one of its Notification Targets (security/authorize.ts lets no one
// else through) is decided by the <notificationTargetPolicy> that applies to that target, and by its
// <policyDeletionRules>; only the requester's own entries of notificationURI are ever removed.
import type { CseServices, Outcome, RequestContext } from '../pipeline/context.js';
import { noPrivilege, notFound } from '../primitive/errors.js';
import { formatTimestamp } from '../primitive/identifiers.js';
import { RSC } from '../primitive/rsc.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { DEFAULT_POLICY_LABEL, LOGICAL_OPERATOR, SYSTEM_DEFAULT_POLICY_ID, TARGET_POLICY_ACTION, policyCreator, targetPolicies } from '../resources/types/notificationTargetPolicy.js';
import { MAX_RULE_GROUPS } from '../resources/types/policyDeletionRules.js';
import { SUBSCRIPTION_LIMITS } from '../resources/types/subscription.js';
import { compileSchedule, scheduleMatches, timeFields } from '../security/schedule.js';
import type { ResourceStore, StoredResource } from '../storage/store.js';
import { notifyThroughChannel } from './blocking.js';
import { notifyTarget } from './deliver.js';
import { OUTBOX_TOPIC, creatorOf, resolveTarget, sameRegistration, subscriptionUri, type StoredEnvelope } from './events.js';
import { redactUrl } from '../log/redact.js';
import { requestExpiry } from './polling.js';
import { entriesNaming } from './selfReference.js';

const alive = (r: StoredResource | undefined, now: number): r is StoredResource => r !== undefined && (r.et === undefined || r.et > now);

/** A policy a notificationPolicyID names, when it names a live local <notificationTargetPolicy>. */
async function policyNamed(services: CseServices, npi: unknown, now: number): Promise<StoredResource | undefined> {
  if (typeof npi !== 'string' || npi === '') return undefined;
  const { store, self } = services;
  const id = npi.startsWith(`/${self.cseId}/`) ? npi.slice(self.cseId.length + 2) : npi;
  if (id.startsWith('/')) return undefined; // another CSE's: Warden decides by its own policies only
  const found = id.startsWith(`${self.cseRn}/`) ? await store.getByPath(id) : await store.get(id);
  return alive(found, now) && found.ty === RESOURCE_TYPE.notificationTargetPolicy ? found : undefined;
}

/**
 * The <notificationTargetPolicy> for this target of this subscription [TS-0001 §10.2.10.8]: the one a
 * <notificationTargetMgmtPolicyRef> of the subscription names for it; else the subscription creator's "Default";
 * else the system default. A reference without a (live, local) policy falls through to the defaults, as ACME does
 * ("If none is specified than the default policy shall apply", TS-0001 table 9.6.31-2).
 */
async function applicablePolicy(services: CseServices, sub: StoredResource, names: ReadonlySet<string>, now: number): Promise<StoredResource | undefined> {
  const { store, self } = services;
  const references = await store.children(sub.ri, { ty: RESOURCE_TYPE.notificationTargetMgmtPolicyRef, aliveAt: now, limit: SUBSCRIPTION_LIMITS.targets * 4 });
  const reference = references.find((r) => Array.isArray(r.doc.ntu) && (r.doc.ntu as unknown[]).some((t) => typeof t === 'string' && names.has(t)));
  const referenced = reference && (await policyNamed(services, reference.doc.npi, now));
  if (referenced) return referenced;
  const creator = creatorOf(sub);
  if (creator !== '') {
    const own = (await targetPolicies({ store, now }, self.cseId)).find((p) => p.doc.plbl === DEFAULT_POLICY_LABEL && policyCreator(p) === creator);
    if (own) return own;
  }
  const system = await store.get(SYSTEM_DEFAULT_POLICY_ID);
  return alive(system, now) && system.ty === RESOURCE_TYPE.notificationTargetPolicy ? system : undefined;
}

/** Whether one group of rules holds now: no rules hold; timeOfDay entries combine by deletionRulesRelation (OR by default, TS-0004 table 7.4.32.1-3). */
function groupHolds(group: StoredResource, now: number): boolean {
  const dr = (group.doc.dr ?? {}) as { tod?: string[]; lr?: unknown[] };
  // Location rules are refused when written (policyDeletionRules.ts); one that is there anyway never holds.
  if (dr.lr !== undefined && dr.lr.length > 0) return false;
  const tod = dr.tod ?? [];
  if (tod.length === 0) return true;
  const time = timeFields(now);
  const matching = tod.map((entry) => {
    try {
      return scheduleMatches(compileSchedule(entry), time);
    } catch {
      return false; // validated when written; anything unreadable grants nothing
    }
  });
  return group.doc.drr === LOGICAL_OPERATOR.AND ? matching.every(Boolean) : matching.some(Boolean);
}

/** "If there is <policyDeletionRules> resource(s) then the action shall be applied when the rule(s) is satisfied" [TS-0001 §10.2.10.8]. */
async function rulesHold(store: ResourceStore, policy: StoredResource, now: number): Promise<boolean> {
  const groups = await store.children(policy.ri, { ty: RESOURCE_TYPE.policyDeletionRules, aliveAt: now, limit: MAX_RULE_GROUPS });
  const results = groups.map((group) => groupHolds(group, now));
  if (results.length === 0) return true;
  return policy.doc.rrs === LOGICAL_OPERATOR.OR ? results.some(Boolean) : results.every(Boolean);
}

/** The notificationURI entries one Notification Target holds in a subscription (as it is now). */
type EntriesOf = (tx: ResourceStore, sub: StoredResource) => Promise<string[]>;

/** Removes the target's entries from notificationURI, in a transaction with the subscription locked. */
async function removeEntries(services: CseServices, sub: StoredResource, entriesOf: EntriesOf, now: number): Promise<void> {
  const { store } = services;
  return store.transaction(async (tx) => {
    const current = await tx.getForUpdate(sub.ri);
    if (!alive(current, now)) throw notFound('the subscription does not exist any more');
    const naming = new Set(await entriesOf(tx, current));
    const nu = Array.isArray(current.doc.nu) ? (current.doc.nu as string[]) : [];
    current.doc.nu = nu.filter((entry) => !naming.has(entry));
    current.lt = formatTimestamp(now);
    await tx.update(current);
  });
}

/** The notification to the subscription's creator about this target (its ID, the subscription's) [TS-0001 §10.2.10.8]. */
function notificationFor(services: CseServices, sub: StoredResource, originator: string, indicator: 'tra' | 'trr'): Record<string, unknown> {
  return { sur: subscriptionUri(services.self, sub), ntt: originator, [indicator]: true };
}

/**
 * Seek authorization: the creator is asked with targetRemovalAllowance and its answer decides, while the target
 * waits (TS-0001 lets the Notifier answer the target first; Warden, as ACME, answers with the outcome, so the
 * target learns whether it was removed). A creator that cannot be reached has not allowed it.
 */
async function creatorAllows(services: CseServices, sub: StoredResource, originator: string, expiry: number): Promise<boolean> {
  const creator = creatorOf(sub);
  if (creator === '') return false;
  const { key } = await resolveTarget(services.store, services.self, creator);
  const sgn = notificationFor(services, sub, originator, 'tra');
  const rsc = key.startsWith('pch:')
    ? await notifyThroughChannel(services, key.slice(4), creator, sgn, expiry)
    : key.startsWith('id:')
      ? RSC.TARGET_NOT_REACHABLE
      : await notifyTarget(services, services.outbound, key, { 'm2m:sgn': sgn });
  services.log.info({ subscription: sub.ri, target: originator, creator, rsc }, 'notification target removal: the subscription creator answered');
  return rsc === RSC.OK;
}

/** Inform: the creator is told with targetRemovalRequest, durably (through the outbox); it decides later. */
async function informCreator(services: CseServices, sub: StoredResource, originator: string, now: number): Promise<void> {
  const creator = creatorOf(sub);
  if (creator === '') return;
  await services.store.transaction(async (tx) => {
    const { key } = await resolveTarget(tx, services.self, creator);
    if (key.startsWith('id:')) return; // not an AE of this CSE: nowhere to tell it
    const envelope: StoredEnvelope = { pc: { 'm2m:sgn': notificationFor(services, sub, originator, 'trr') } };
    await tx.enqueue([{ target: key, subscription: sub.ri, content: JSON.stringify(envelope), created: now, notBefore: now, originator: creator }]);
    await tx.broadcast(OUTBOX_TOPIC, '');
  });
}

/** DELETE <subscription>/ntsr. */
export async function removeNotificationTarget(ctx: RequestContext): Promise<Outcome> {
  const sub = ctx.resource;
  const originator = ctx.originator?.id;
  if (!sub || originator === undefined) throw new Error('target removal runs after resolveTarget and authenticate');
  const services = ctx.services;
  const now = services.clock.now();
  const entriesOf: EntriesOf = (tx, current) => entriesNaming(tx, services.self, current, originator);
  const names = new Set([originator, ...(await entriesOf(services.store, sub))]);
  const policy = await applicablePolicy(services, sub, names, now);
  // No policy at all (the system default is missing): nothing allows the removal.
  if (!policy) throw noPrivilege('no notificationTargetPolicy applies to this target');
  if (!(await rulesHold(services.store, policy, now))) throw noPrivilege(`the policyDeletionRules of notificationTargetPolicy '${policy.rn}' do not hold now`);
  switch (policy.doc.acn) {
    case TARGET_POLICY_ACTION.ACCEPT:
      await removeEntries(services, sub, entriesOf, now);
      // The subscription is not shown: its target need not be allowed to read it.
      return { rsc: RSC.DELETED };
    case TARGET_POLICY_ACTION.SEEK_AUTHORIZATION:
      if (!(await creatorAllows(services, sub, originator, requestExpiry(ctx)))) throw noPrivilege('the subscription creator did not allow the removal');
      await removeEntries(services, sub, entriesOf, services.clock.now());
      return { rsc: RSC.DELETED };
    case TARGET_POLICY_ACTION.INFORM:
      // The target stays until the creator removes it: answered as a refusal (as ACME does), which is the truth
      // the target can act on; TS-0001 §10.2.10.8 would answer success ("if applicable").
      await informCreator(services, sub, originator, now);
      throw noPrivilege('the subscription creator was informed of the removal request; it decides');
    default:
      throw noPrivilege(`notificationTargetPolicy '${policy.rn}' rejects the removal`);
  }
}

/**
 * Whether a Notify response asks for the target's removal: TS-0001 table 10.2.10.7-1 ("If the response includes
 * 'targetRemoval' indicator which is set to TRUE") names no response parameter for it, and TS-0004 has none; the
 * only carrier TS-0004 defines is m2m:notification's targetRemovalRequest (`trr`, table 6.3.5.13-1), so the
 * response's content must be an m2m:notification with trr true. Anything else asks nothing.
 */
export function asksForRemoval(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const sgn = (body as Record<string, unknown>)['m2m:sgn'];
  return typeof sgn === 'object' && sgn !== null && !Array.isArray(sgn) && (sgn as Record<string, unknown>).trr === true;
}

/** How long the subscription creator is given to answer a seek-authorization Notify sent from the delivery path. */
const CREATOR_ANSWER_MS = 30_000;

/**
 * A Notification Target answered a Notify with the 'targetRemoval' indicator [TS-0001 §10.2.10.6, table
 * 10.2.10.7-1]: the Notifier handles it per clause 10.2.10.8, as a DELETE of ntsr is handled, except that there is
 * nobody to answer. The target is the queue the notification went to (`targetKey`, a URL or an AE reached through
 * its poa): whoever answered there is the receiver the subscription sends to, so only the entries of notificationURI
 * that lead to that same queue are removed, and an AE's only while it is the registration the subscription named.
 */
export async function removalRequestedInResponse(services: CseServices, subscriptionRi: string, targetKey: string): Promise<void> {
  const { store, self, clock, log } = services;
  const now = clock.now();
  const sub = await store.get(subscriptionRi);
  if (!alive(sub, now) || (sub.ty !== RESOURCE_TYPE.subscription && sub.ty !== RESOURCE_TYPE.crossResourceSubscription)) return;
  const entriesOf: EntriesOf = async (tx, current) => {
    const nu = Array.isArray(current.doc.nu) ? (current.doc.nu as unknown[]).filter((e): e is string => typeof e === 'string') : [];
    const leading: string[] = [];
    for (const entry of nu) {
      const { key, ae } = await resolveTarget(tx, self, entry);
      if (key === targetKey && (!ae || sameRegistration(current, ae))) leading.push(entry);
    }
    return leading;
  };
  const entries = await entriesOf(store, sub);
  if (entries.length === 0) return;
  // The Notification Target as the policies and the creator know it: the AE's ID, else the address written in nu.
  const target = targetKey.startsWith('ae:') ? targetKey.slice(3) : (entries[0] as string);
  const names = new Set([target, ...entries]);
  const policy = await applicablePolicy(services, sub, names, now);
  const context = { subscription: sub.ri, target: redactUrl(target) };
  if (!policy || !(await rulesHold(store, policy, now))) {
    log.info({ ...context, event: 'target-removal-refused' }, 'notification target removal requested in a Notify response: no applicable policy, or its policyDeletionRules do not hold');
    return;
  }
  switch (policy.doc.acn) {
    case TARGET_POLICY_ACTION.ACCEPT:
      await removeEntries(services, sub, entriesOf, now);
      break;
    case TARGET_POLICY_ACTION.SEEK_AUTHORIZATION:
      if (!(await creatorAllows(services, sub, target, now + CREATOR_ANSWER_MS))) {
        log.info({ ...context, event: 'target-removal-refused' }, 'notification target removal requested in a Notify response: the subscription creator did not allow it');
        return;
      }
      await removeEntries(services, sub, entriesOf, clock.now());
      break;
    case TARGET_POLICY_ACTION.INFORM:
      await informCreator(services, sub, target, now);
      break;
    default:
      log.info({ ...context, event: 'target-removal-refused', policy: policy.rn }, 'notification target removal requested in a Notify response: its notificationTargetPolicy rejects it');
      return;
  }
  log.info({ ...context, event: 'target-removal', action: policy.doc.acn }, 'notification target removal requested in a Notify response handled');
}
