// Blocking_Update (notificationEventType 7) [TS-0004 §7.5.1.2.19, §7.3.2.9]: an UPDATE of a resource that has
// such a subscription waits for its subscriber's answer to the notification, and fails when the subscriber
// says no. This is the one notification that cannot go through the outbox: the request's outcome depends on it.
// Creation allows one Blocking_Update subscription per resource, with one target (subscription.ts).
import type { CseServices } from '../pipeline/context.js';
import { CseError } from '../primitive/errors.js';
import { RSC } from '../primitive/rsc.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { BLOCKING_WATCHED_KEY, EVENT, SUBSCRIPTION_LIMITS, type SubscriptionAttributes } from '../resources/types/subscription.js';
import { ACCESS_OPERATION } from '../security/acp.js';
import type { StoredResource } from '../storage/store.js';
import { AsyncMutex } from '../storage/mutex.js';
import { notifyTarget } from './deliver.js';
import { hasPollingChannel, requestThroughChannel } from './polling.js';
import { OPERATION } from '../primitive/request.js';
import { SUBSCRIBER_AUTHENTICATED_KEY, creatorOf, resolveTarget, sameRegistration, subscriptionUri } from './events.js';

/** Attributes that say who may access a resource: an UPDATE of these alone is not put to the subscriber. */
const ACCESS_ATTRIBUTES: ReadonlySet<string> = new Set(['acpi', 'cstn', 'daci']);

/** UPDATEs of one resource waiting for its Blocking_Update subscriber, one after the other (in this process). */
const held = new Map<string, AsyncMutex>();

/**
 * Runs the Blocking_Update procedure for an UPDATE of `target` with `content`, when the target has such a
 * subscription whose attribute condition the UPDATE meets; returns what releases the resource to other UPDATEs
 * once this one is done (`deadline`: when the UPDATE expires). Throws 4127 when the subscriber refuses, 5107 when it
 * cannot be reached.
 */
export async function blockingUpdate(services: CseServices, target: StoredResource, content: Record<string, unknown>, deadline = Infinity): Promise<() => void> {
  const none = (): void => undefined;
  if (target.doc[BLOCKING_WATCHED_KEY] !== true) return none;
  // A change of who may access it (acpi, and cstn and daci, decided like acpi) is not the subscriber's to refuse or
  // to hold up: otherwise a reader granted CREATE and RETRIEVE could subscribe, answer "no" to everything, and veto
  // the revocation of its own access (Warden policy, docs/conformance.md).
  const keys = Object.keys(content);
  if (keys.length > 0 && keys.every((name) => ACCESS_ATTRIBUTES.has(name))) return none;
  const sub = await blockingSubscription(services, target);
  if (!sub) return none;
  const attrs = sub.doc as SubscriptionAttributes;
  const atr = (attrs.enc as { atr?: string[] } | undefined)?.atr;
  if (atr && atr.length > 0 && !atr.some((name) => name in content)) return none;
  // "Prevent or block all other UPDATE request primitives to this target resource" until the answer is in.
  let lock = held.get(target.ri);
  if (!lock) {
    lock = new AsyncMutex();
    held.set(target.ri, lock);
  }
  const mutex = lock;
  const unlock = await mutex.acquire();
  let claim: { key: string; until: number } | undefined;
  const release = (): void => {
    if (claim) void services.store.forgetClaim(claim.key, claim.until).catch((err: unknown) => services.log.warn({ err, resource: target.ri }, 'a Blocking_Update hold could not be given back; it ends at its time'));
    unlock();
    if (!mutex.locked && mutex.waiting === 0) held.delete(target.ri);
  };
  try {
    claim = await holdAcrossProcesses(services, target.ri, deadline);
    await notifySubscriber(services, sub, target, content, deadline);
  } catch (err) {
    release();
    throw err;
  }
  return release;
}

/** How often an UPDATE that another process holds back looks again. */
const HOLD_POLL_MS = 50;
/** What an UPDATE held back takes, beyond waiting for its subscriber, at most (its own transaction). */
const HOLD_MARGIN_MS = 30_000;

/**
 * The hold of the resource for every process on the store (a claim), besides this process's mutex: UPDATEs arriving
 * at two processes each asked the subscriber at once. The claim lasts as long as one UPDATE can take, so one whose
 * process died ends by itself. An UPDATE that is still held back when its request expires is 4008.
 */
async function holdAcrossProcesses(services: CseServices, ri: string, deadline: number): Promise<{ key: string; until: number }> {
  const { store, clock, config } = services;
  const key = `blocking-update ${ri}`;
  const longest = Math.max(config.notifications.timeout, config.notifications.pollResponseTimeout) * 1000 + HOLD_MARGIN_MS;
  for (;;) {
    const now = clock.now();
    const until = now + longest;
    if (await store.claimOnce(key, until, now)) return { key, until };
    if (now >= deadline) throw new CseError(RSC.REQUEST_TIMEOUT, 'another UPDATE of this resource was waiting for its Blocking_Update subscriber until the request expired');
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(HOLD_POLL_MS, deadline - now))));
  }
}

async function blockingSubscription(services: CseServices, target: StoredResource): Promise<StoredResource | undefined> {
  const { store, clock } = services;
  const subs = await store.children(target.ri, { ty: RESOURCE_TYPE.subscription, aliveAt: clock.now(), limit: SUBSCRIPTION_LIMITS.perResource });
  return subs.find((s) => ((s.doc.enc as { net?: number[] } | undefined)?.net ?? []).includes(EVENT.BLOCKING_UPDATE));
}

/**
 * A subscriber reachable only by polling answers through its polling channel [TS-0001 §10.2.5.12], while the UPDATE
 * waits (until its request expires, at most notifications.pollResponseTimeout); no channel or no answer in time:
 * TARGET_NOT_REACHABLE.
 */
export async function notifyThroughChannel(services: CseServices, aei: string, nu: string, sgn: Record<string, unknown>, deadline: number): Promise<number> {
  if (!(await hasPollingChannel(services.store, aei))) return RSC.TARGET_NOT_REACHABLE;
  const request = { op: OPERATION.NOTIFY, to: nu, fr: `/${services.self.cseId}`, rvi: '3', pc: { 'm2m:sgn': sgn } };
  return (await requestThroughChannel(services, aei, request, deadline))?.rsc ?? RSC.TARGET_NOT_REACHABLE;
}

async function notifySubscriber(services: CseServices, sub: StoredResource, target: StoredResource, content: Record<string, unknown>, deadline: number): Promise<void> {
  const { store, self, registry, access, clock } = services;
  // Warden asks the access decision for every notification (docs/conformance.md): a subscriber that may no
  // longer read the resource is not told, and so has no say.
  const decision = await access.decide({
    originator: creatorOf(sub),
    authenticated: sub.doc[SUBSCRIBER_AUTHENTICATED_KEY] === true,
    roleIds: [],
    operation: ACCESS_OPERATION.RETRIEVE,
    resource: target,
    ip: '',
    time: clock.now(),
  });
  if (!decision.granted) return;
  const nu = (sub.doc as SubscriptionAttributes).nu?.[0];
  if (!nu) return;
  const { key, ae } = await resolveTarget(store, self, nu);
  if (ae && !sameRegistration(sub, ae)) throw new CseError(RSC.REMOTE_ENTITY_NOT_REACHABLE, 'the Blocking_Update subscriber is no longer registered');
  const typeName = registry.get(target.ty)?.typeName ?? `m2m:ty${target.ty}`;
  // "Set the representation attribute of the notification to the representation of the target resource
  // contained in the received UPDATE request primitive": the attributes the UPDATE carries.
  const sgn: Record<string, unknown> = { nev: { rep: { [typeName]: content }, net: EVENT.BLOCKING_UPDATE }, sur: subscriptionUri(self, sub) };
  if (typeof sub.doc.cr === 'string') sgn.cr = sub.doc.cr;
  const rsc = key.startsWith('pch:')
    ? await notifyThroughChannel(services, key.slice(4), nu, sgn, deadline)
    : key.startsWith('id:')
      ? RSC.TARGET_NOT_REACHABLE
      : await notifyTarget(services, services.outbound, key, { 'm2m:sgn': sgn }, undefined, deadline);
  if (rsc >= 2000 && rsc < 3000) return;
  // §7.3.2.9: TARGET_NOT_REACHABLE → REMOTE_ENTITY_NOT_REACHABLE, OPERATION_NOT_ALLOWED → OPERATION_DENIED_BY_REMOTE_ENTITY;
  // any other refusal is a refusal by the remote entity too.
  if (rsc === RSC.TARGET_NOT_REACHABLE) throw new CseError(RSC.REMOTE_ENTITY_NOT_REACHABLE, 'the Blocking_Update subscriber could not be reached');
  throw new CseError(RSC.OPERATION_DENIED_BY_REMOTE_ENTITY, `the Blocking_Update subscriber refused the update (${rsc})`);
}
