// Turns a change into outbox messages, inside the transaction of the change itself: an acknowledged change
// never loses its notifications, and a rolled-back one never sends any.
import type { LocalIdentity } from '../primitive/identifiers.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { EVENT, SUBSCRIPTION_LIMITS, countStats, type SubscriptionAttributes } from '../resources/types/subscription.js';
import type { ResourceRegistry } from '../resources/registry.js';
import type { NewOutboxMessage, ResourceStore, StoredResource } from '../storage/store.js';
import { matches, notificationFor, type NotificationEvent } from './matcher.js';

/** What the deliverer needs besides the primitive content; stored with the message. */
export interface Envelope {
  readonly pc: Record<string, unknown>;
  /** Event category: 4 (latest) when only the latest notification counts [TS-0004 §7.5.1.2.2]. */
  readonly ec?: number;
  /** The subscription counts deliveries (expirationCounter). */
  readonly counted?: boolean;
  readonly batch?: { num?: number; dur?: number };
  readonly latest?: boolean;
  readonly pendingLatest?: boolean;
  /** Sent even though its subscription is gone (the deletion notification). */
  readonly final?: boolean;
}

export const OUTBOX_TOPIC = 'outbox';

/** How long a group gathers its members' notifications when notifyAggregation gives no duration, ms. */
const GROUP_AGGREGATION_MS = 1_000;

/** The group of a group subscription and its aggregation: nar, else one notification per member [TS-0001 §10.2.7.11]. */
async function groupAggregation(store: ResourceStore, self: LocalIdentity, gpi: string): Promise<{ ri: string; batch: { num: number; dur: number } } | undefined> {
  const ri = gpi.startsWith(`/${self.cseId}/`) ? gpi.slice(self.cseId.length + 2) : gpi;
  const group = await store.get(ri);
  if (group?.ty !== RESOURCE_TYPE.group) return undefined;
  const nar = (group.doc.nar ?? {}) as { num?: number; dur?: number };
  const members = typeof group.doc.cnm === 'number' && group.doc.cnm > 0 ? group.doc.cnm : 1;
  return { ri, batch: { num: Number.isSafeInteger(nar.num) && (nar.num as number) > 0 ? (nar.num as number) : members, dur: Number.isSafeInteger(nar.dur) && (nar.dur as number) > 0 ? (nar.dur as number) : GROUP_AGGREGATION_MS } };
}
/** The subscriptions of a resource an event reads: all of them, as creation refuses more. */
export const MAX_SUBSCRIPTIONS_PER_RESOURCE = SUBSCRIPTION_LIMITS.perResource;

/** The queue a notification target belongs to: a URL, an AE reached through its poa, or its polling channel. */
export async function targetKey(store: ResourceStore, self: LocalIdentity, target: string): Promise<string> {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return target;
  const id = target.startsWith(`/${self.cseId}/`) ? target.slice(self.cseId.length + 2) : target;
  const resource = id.startsWith(`${self.cseRn}/`) ? await store.getByPath(id) : await store.get(id);
  if (resource?.ty === RESOURCE_TYPE.AE) return resource.doc.rr === false ? `pch:${resource.ri}` : `ae:${resource.ri}`;
  return `id:${target}`;
}

/** URLs to try for a target key: the URL itself, or the points of access of an AE. */
export async function urlsOfTarget(store: ResourceStore, target: string): Promise<string[]> {
  if (target.startsWith('ae:')) {
    const ae = await store.get(target.slice(3));
    const poa = Array.isArray(ae?.doc.poa) ? (ae.doc.poa as string[]) : [];
    return poa.filter((p) => /^(https?|mqtts?|coap|wss?):\/\//i.test(p));
  }
  if (target.startsWith('pch:') || target.startsWith('id:')) return [];
  return [target];
}

export function subscriptionUri(self: LocalIdentity, sub: StoredResource): string {
  return `/${self.cseId}/${sub.ri}`;
}

async function messagesFor(
  store: ResourceStore,
  self: LocalIdentity,
  sub: StoredResource,
  pc: Record<string, unknown>,
  targets: readonly string[],
  now: number,
  counted: boolean,
  final: boolean,
): Promise<NewOutboxMessage[]> {
  const attrs = sub.doc as SubscriptionAttributes;
  const envelope: Envelope = {
    pc,
    ...(final ? { final: true } : {}),
    ...(attrs.ln ? { ec: 4, latest: true } : attrs.nec !== undefined ? { ec: attrs.nec } : {}),
    ...(counted && attrs.exc !== undefined ? { counted: true } : {}),
    ...(attrs.bn ? { batch: attrs.bn } : {}),
    ...(attrs.pn === 1 ? { pendingLatest: true } : {}),
  };
  const content = JSON.stringify(envelope);
  const out: NewOutboxMessage[] = [];
  for (const target of targets) out.push({ target: await targetKey(store, self, target), subscription: sub.ri, content, created: now, notBefore: now });
  return out;
}

/** Records the notifications an event causes for the subscriptions of `subscribedTo`. */
export interface EventContext {
  readonly self: LocalIdentity;
  readonly registry: ResourceRegistry;
  readonly now: number;
}

export async function recordEvent(tx: ResourceStore, ctx: EventContext, subscribedTo: StoredResource, event: NotificationEvent): Promise<number> {
  const { self, registry, now } = ctx;
  // Subscriptions are not notified about subscriptions coming and going (as ACME does).
  if ((event.type === EVENT.CREATE_CHILD || event.type === EVENT.DELETE_CHILD) && event.resource.ty === RESOURCE_TYPE.subscription) return 0;
  const subs = await tx.children(subscribedTo.ri, { ty: RESOURCE_TYPE.subscription, aliveAt: now, limit: MAX_SUBSCRIPTIONS_PER_RESOURCE });
  const typeName = registry.get(event.resource.ty)?.typeName ?? `m2m:ty${event.resource.ty}`;
  const messages: NewOutboxMessage[] = [];
  for (const sub of subs) {
    const attrs = sub.doc as SubscriptionAttributes;
    if (!matches(attrs, event)) continue;
    const pc = notificationFor(attrs, subscriptionUri(self, sub), typeName, event);
    const group = typeof attrs.gpi === 'string' && typeof attrs.nfu === 'string' ? await groupAggregation(tx, self, attrs.gpi) : undefined;
    if (group && typeof attrs.nfu === 'string') {
      // A group subscription with forwarding: the group gathers its members' notifications for the nfu.
      const envelope: Envelope = { pc, final: true, batch: group.batch };
      messages.push({ target: await targetKey(tx, self, attrs.nfu), subscription: `group:${group.ri}`, content: JSON.stringify(envelope), created: now, notBefore: now });
      continue;
    }
    // The deletion of the subscribed resource ends the subscription too; its last notification still goes.
    messages.push(...(await messagesFor(tx, self, sub, pc, attrs.nu ?? [], now, true, event.type === EVENT.DELETE)));
    if (attrs.nse === true) {
      const fresh = (await tx.getForUpdate(sub.ri)) ?? sub;
      for (const target of attrs.nu ?? []) countStats(fresh.doc, target, { noec: 1 });
      await tx.update(fresh);
    }
  }
  if (messages.length > 0) {
    await tx.enqueue(messages);
    await tx.broadcast(OUTBOX_TOPIC, '');
  }
  return messages.length;
}

/** The deletion notification of a subscription to its subscriberURI [TS-0004 §7.5.1.2.4]. */
export async function recordDeletion(tx: ResourceStore, self: LocalIdentity, sub: StoredResource, now: number): Promise<void> {
  const su = (sub.doc as SubscriptionAttributes).su;
  if (!su) return;
  const pc = { 'm2m:sgn': { sud: true, sur: subscriptionUri(self, sub) } };
  await tx.enqueue(await messagesFor(tx, self, { ...sub, doc: { ...sub.doc, bn: undefined, ln: undefined } }, pc, [su], now, false, true));
  await tx.broadcast(OUTBOX_TOPIC, '');
}
