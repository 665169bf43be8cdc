// Does an event match a subscription's eventNotificationCriteria, and what does its notification say?
// Pure functions [TS-0004 §7.5.1.2.2, table 6.3.5.7-1].
import { parseTimestamp } from '../primitive/identifiers.js';
import type { FilterCriteria } from '../primitive/request.js';
import { representation } from '../resources/representation.js';
import { CONTENT, EVENT, RETRIEVED, eventTypes, monitoredOriginator, type SubscriptionAttributes } from '../resources/types/subscription.js';
import type { StoredResource } from '../storage/store.js';

export interface NotificationEvent {
  readonly type: (typeof EVENT)[keyof typeof EVENT] | typeof RETRIEVED;
  /** The resource the event is about: the updated/deleted one, or the created/deleted child. */
  readonly resource: StoredResource;
  /** For updates: the attributes the request changed, with their new values. */
  readonly modified?: Readonly<Record<string, unknown>>;
  readonly operation: number;
  readonly originator: string;
}

/** eventNotificationCriteria: the time, stateTag and size conditions of filterCriteria plus the event ones. */
type Criteria = Pick<FilterCriteria, 'chty' | 'crb' | 'cra' | 'ms' | 'us' | 'sts' | 'stb' | 'exb' | 'exa' | 'sza' | 'szb' | 'fo'> & {
  net?: number[];
  atr?: string[];
  om?: Array<{ ops?: number; or?: string; org?: string }>;
};

const at = (v: string | undefined): number | undefined => (v === undefined ? undefined : parseTimestamp(v));

/** The condition tags present in enc, each evaluated on the event's resource [TS-0004 §7.5.1.2.2]. */
function conditions(enc: Criteria, r: StoredResource): boolean[] {
  const out: boolean[] = [];
  // Parsed only for a condition that reads them: every subscription of a resource is matched on each of its events,
  // and most have no time condition (issue #18).
  const ct = enc.crb !== undefined || enc.cra !== undefined ? (parseTimestamp(r.ct) ?? 0) : 0;
  const lt = enc.ms !== undefined || enc.us !== undefined ? (parseTimestamp(r.lt) ?? 0) : 0;
  const st = typeof r.doc.st === 'number' ? r.doc.st : undefined;
  const cs = typeof r.doc.cs === 'number' ? r.doc.cs : undefined;
  const crb = at(enc.crb);
  const cra = at(enc.cra);
  const ms = at(enc.ms);
  const us = at(enc.us);
  const exb = at(enc.exb);
  const exa = at(enc.exa);
  if (crb !== undefined) out.push(ct < crb);
  if (cra !== undefined) out.push(ct > cra);
  if (ms !== undefined) out.push(lt > ms);
  if (us !== undefined) out.push(lt < us);
  if (enc.sts !== undefined) out.push(st !== undefined && st < enc.sts);
  if (enc.stb !== undefined) out.push(st !== undefined && st > enc.stb);
  if (exb !== undefined) out.push(r.et !== undefined && r.et < exb);
  if (exa !== undefined) out.push(r.et !== undefined && r.et > exa);
  if (enc.sza !== undefined) out.push(cs !== undefined && cs >= enc.sza);
  if (enc.szb !== undefined) out.push(cs !== undefined && cs < enc.szb);
  return out;
}

/** The operationMonitor entry an event's operation and originator fall under, if any. */
export function monitoringEntry<T extends { ops?: number; or?: string; org?: string }>(om: readonly T[], event: Pick<NotificationEvent, 'operation' | 'originator'>): T | undefined {
  return om.find((o) => {
    const originator = monitoredOriginator(o);
    return (o.ops === undefined || o.ops === event.operation) && (originator === undefined || originator === event.originator);
  });
}

export function matches(sub: SubscriptionAttributes, event: NotificationEvent): boolean {
  const enc = (sub.enc ?? {}) as Criteria;
  if (enc.om) {
    // A RETRIEVE reaches an operationMonitor once, as the RETRIEVED event, not again as net 5.
    if (event.type === EVENT.RETRIEVE_CONTAINER_NO_CHILD || !monitoringEntry(enc.om, event)) return false;
  } else if (event.type === RETRIEVED || !eventTypes(sub).includes(event.type)) return false;
  if (event.type === EVENT.UPDATE && enc.atr && enc.atr.length > 0) {
    const changed = Object.keys(event.modified ?? {});
    if (!enc.atr.some((a) => changed.includes(a))) return false;
  }
  if ((event.type === EVENT.CREATE_CHILD || event.type === EVENT.DELETE_CHILD) && enc.chty && enc.chty.length > 0) {
    if (!enc.chty.includes(event.resource.ty)) return false;
  }
  const results = conditions(enc, event.resource);
  if (results.length === 0) return true;
  return enc.fo === 2 ? results.some(Boolean) : results.every(Boolean);
}

/** The m2m:sgn of an event for this subscription, per notificationContentType. */
export function notificationFor(sub: SubscriptionAttributes, subscriptionId: string, typeName: string, event: NotificationEvent): Record<string, unknown> {
  let rep: Record<string, unknown>;
  switch (sub.nct ?? CONTENT.ALL_ATTRIBUTES) {
    case CONTENT.MODIFIED_ATTRIBUTES:
      rep = { [typeName]: { ...(event.modified ?? {}) } };
      break;
    case CONTENT.RESOURCE_ID:
      rep = { 'm2m:uri': event.resource.ri };
      break;
    default:
      rep = { [typeName]: representation(event.resource) };
  }
  const sgn: Record<string, unknown> = { nev: { rep, net: event.type }, sur: subscriptionId };
  if (typeof sub.cr === 'string') sgn.cr = sub.cr;
  return { 'm2m:sgn': sgn };
}
