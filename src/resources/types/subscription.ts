// <subscription> (ty 23, TS-0001 §9.6.8, TS-0004 §7.4.8): who is told what about the parent resource.
// Validation lives here; matching is notifications/matcher.ts, delivery notifications/deliver.ts.
import { ACCESS_CONTROL, CREATOR, EXPIRATION, LABELS, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributesOf, type AttributeSpec, type HookContext } from '../define.js';
import type { StoredResource } from '../../storage/store.js';
import { RESOURCE_TYPE } from '../types.js';
import { CseError, badRequest, quotedName } from '../../primitive/errors.js';
import { RSC } from '../../primitive/rsc.js';
import { parseTimestamp } from '../../primitive/identifiers.js';
import { checkDuration, durationMs } from '../validate.js';
import { notificationScheduleRemoved, pendingPolicyChanged } from './schedule.js';

/** notificationEventType [TS-0004 §6.3.4.2.19]. */
export const EVENT = {
  UPDATE: 1,
  DELETE: 2,
  CREATE_CHILD: 3,
  DELETE_CHILD: 4,
  RETRIEVE_CONTAINER_NO_CHILD: 5,
  TRIGGER_RECEIVED_FOR_AE: 6,
  BLOCKING_UPDATE: 7,
  MISSING_DATA: 8,
} as const;
/** Document key of a subscription's missingData window, where versions before the windows moved to the timeSeries (MISSING_DATA_WINDOWS_KEY) kept it. */
export const MISSING_DATA_WINDOW_KEY = '__mdWindow';
/** Document key of a <timeSeries>: its subscriptions' missing-data windows, by subscription (notifications/missingData.ts). */
export const MISSING_DATA_WINDOWS_KEY = '__mdWindows';
/** notificationContentType [TS-0004 §6.3.4.2.18]. */
export const CONTENT = { ALL_ATTRIBUTES: 1, MODIFIED_ATTRIBUTES: 2, RESOURCE_ID: 3, TRIGGER_PAYLOAD: 4, TIME_SERIES: 5 } as const;

/**
 * The content types each event type can be told with, the first its default (ACME's table: the spec names the
 * pairs only in the event types' own clauses): a trigger carries its payload, a blocking update the attributes
 * the UPDATE would change, a missing-data report its time series notification.
 */
const CONTENT_TYPES_OF_EVENT: Readonly<Record<number, readonly number[]>> = {
  [EVENT.UPDATE]: [CONTENT.ALL_ATTRIBUTES, CONTENT.MODIFIED_ATTRIBUTES, CONTENT.RESOURCE_ID],
  [EVENT.DELETE]: [CONTENT.ALL_ATTRIBUTES, CONTENT.RESOURCE_ID],
  [EVENT.CREATE_CHILD]: [CONTENT.ALL_ATTRIBUTES, CONTENT.RESOURCE_ID],
  [EVENT.DELETE_CHILD]: [CONTENT.ALL_ATTRIBUTES, CONTENT.RESOURCE_ID],
  [EVENT.RETRIEVE_CONTAINER_NO_CHILD]: [CONTENT.ALL_ATTRIBUTES, CONTENT.RESOURCE_ID],
  [EVENT.TRIGGER_RECEIVED_FOR_AE]: [CONTENT.TRIGGER_PAYLOAD],
  [EVENT.BLOCKING_UPDATE]: [CONTENT.MODIFIED_ATTRIBUTES],
  [EVENT.MISSING_DATA]: [CONTENT.TIME_SERIES],
};

/**
 * Not a notificationEventType: the event of a RETRIEVE, which only operationMonitor subscriptions (and
 * Retrieve_of_Container_Resource_With_No_Child_Resource, which has its own type) listen to.
 */
export const RETRIEVED = 0;

/**
 * Document key of a resource some subscription listens to RETRIEVEs of (operationMonitor, net 5): only such
 * resources pay for looking at their subscriptions when read. Set when such a subscription is made, never cleared
 * (a resource whose watcher went only costs that look).
 */
export const RETRIEVE_WATCHED_KEY = '__rw';
/** Document key of a resource that has (or had) a Blocking_Update subscription: only its UPDATEs look for one. */
export const BLOCKING_WATCHED_KEY = '__bu';

/** Whether a subscription listens to RETRIEVEs of its parent. */
function watchesRetrieve(sub: SubscriptionAttributes): boolean {
  const enc = (isRecord(sub.enc) ? sub.enc : {}) as { net?: number[]; om?: Array<{ ops?: number }> };
  return (enc.net ?? []).includes(EVENT.RETRIEVE_CONTAINER_NO_CHILD) || (enc.om ?? []).some((o) => o.ops === undefined || o.ops === 2);
}

/** Marks the parent as read-watched (in the subscription's transaction, the parent's row locked). */
async function markRetrieveWatched(ctx: HookContext, sub: SubscriptionAttributes, parent: StoredResource): Promise<void> {
  if (!watchesRetrieve(sub) || parent.doc[RETRIEVE_WATCHED_KEY] === true) return;
  parent.doc[RETRIEVE_WATCHED_KEY] = true;
  await ctx.store.update(parent);
}

/** Subscription attributes a Blocking_Update subscription may not carry [TS-0004 §7.4.8.2.1 Recv-6.4]. */
const NOT_WITH_BLOCKING_UPDATE = ['exc', 'gpi', 'nfu', 'bn', 'pn', 'nsp', 'ln', 'nec', 'su', 'nse'];
/**
 * Bounds that keep one subscription's cost on every write of its parent small. perResource: the most
 * subscriptions a resource holds; an event reads no more than these (notifications/events.ts), so more are
 * refused at creation rather than silently never notified.
 */
export const SUBSCRIPTION_LIMITS = { targets: 16, batchNumber: 1_000, batchSeconds: 86_400, perResource: 1_000 } as const;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Target forms Warden can deliver to: http(s) URLs, and AE resource IDs / AE-IDs (through poa or a polling channel). */
export function checkTargets(v: unknown): string | undefined {
  if (!Array.isArray(v) || v.length === 0) return 'must list at least one notification target';
  if (v.length > SUBSCRIPTION_LIMITS.targets) return `may list at most ${SUBSCRIPTION_LIMITS.targets} targets`;
  for (const target of v) {
    if (typeof target !== 'string' || target.length === 0 || target.length > 2048) return 'must be a list of URIs';
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
      let url: URL;
      try {
        url = new URL(target);
      } catch {
        return `'${target}' is not a valid URI`;
      }
      // console: is the web console's live view (src/console/live.ts); it accepts only its own subscriptions.
      if (url.protocol !== 'http:' && url.protocol !== 'https:' && url.protocol !== 'console:') return `scheme '${url.protocol}' of '${target}' is not supported (http, https, or an AE-ID)`;
    } else if (!/^[A-Za-z0-9\-._~/]+$/.test(target)) return `'${target}' is neither a URL nor a oneM2M ID`;
  }
  return undefined;
}

const ENC_KEYS = ['net', 'atr', 'chty', 'crb', 'cra', 'ms', 'us', 'sts', 'stb', 'exb', 'exa', 'sza', 'szb', 'om', 'fo', 'md'];
/** The operations an operationMonitor can name (m2m:operation). */
const MONITORED_OPERATIONS = [1, 2, 3, 4, 5];

/**
 * One m2m:operationMonitor: operations (`ops`) and originator. The complex type's short name of the originator
 * is `or` (TS-0004 m2m:operationMonitor); ACME, and clients written against it, send `org`: both are read,
 * and the subscription keeps the spelling it was given.
 */
function checkOperationMonitor(entry: unknown): string | undefined {
  if (!isRecord(entry)) return "member 'om' must be a list of {ops, or}";
  for (const key of Object.keys(entry)) if (key !== 'ops' && key !== 'or' && key !== 'org') return `member 'om' entry member '${quotedName(key)}' is not part of m2m:operationMonitor`;
  if (entry.ops === undefined && entry.or === undefined && entry.org === undefined) return "each entry of member 'om' needs 'ops' or an originator";
  if (entry.ops !== undefined && !MONITORED_OPERATIONS.includes(entry.ops as number)) return "member 'om' entry 'ops' must be an operation (1 to 5)";
  for (const key of ['or', 'org']) {
    const originator = entry[key];
    if (originator !== undefined && (typeof originator !== 'string' || originator.length === 0 || originator.length > 256)) return `member 'om' entry '${key}' must be an originator ID`;
  }
  return undefined;
}

/** The originator an operationMonitor entry names, however it is spelled. */
export function monitoredOriginator(entry: { or?: unknown; org?: unknown }): string | undefined {
  const originator = entry.or ?? entry.org;
  return typeof originator === 'string' ? originator : undefined;
}

/** m2m:missingData [TS-0004 §6.3.5.40]: a number of missing points (positive) within a duration. */
function checkMissingData(md: unknown): string | undefined {
  if (!isRecord(md)) return "member 'md' must be {num, dur}";
  const extra = Object.keys(md).find((key) => key !== 'num' && key !== 'dur');
  if (extra !== undefined) return `member 'md' member '${extra}' is not part of m2m:missingData`;
  if (!Number.isSafeInteger(md.num) || (md.num as number) < 1) return "member 'md' member 'num' must be a positive integer";
  // m2m:missingData's duration is an xs:duration (TS-0004 §6.3.5.40): a new member, so no milliseconds as bn.dur takes.
  const dur = typeof md.dur === 'string' && md.dur.startsWith('P') ? durationMs(md.dur) : undefined;
  if (dur === undefined || dur === 0) return "member 'md' member 'dur' must be a positive xs:duration such as 'PT10S'";
  return undefined;
}

export function checkCriteria(v: unknown): string | undefined {
  if (!isRecord(v)) return 'must be an object of event notification criteria';
  for (const key of Object.keys(v)) if (!ENC_KEYS.includes(key)) return `member '${quotedName(key)}' is not supported`;
  const intList = (name: string, allowed?: readonly number[]): string | undefined => {
    const list = v[name];
    if (list === undefined) return undefined;
    if (!Array.isArray(list) || list.length > 64 || list.some((n) => !Number.isSafeInteger(n))) return `member '${name}' must be a list of integers`;
    if (allowed && list.some((n) => !allowed.includes(n as number))) return `member '${name}' may only hold ${allowed.join(', ')}`;
    return undefined;
  };
  const problem = intList('net', Object.values(EVENT)) ?? intList('chty');
  if (problem) return problem;
  // TS-0004 §7.4.8.2.1 Recv-6.4: both present is a BAD_REQUEST.
  if (v.net !== undefined && v.om !== undefined) return "'net' and 'om' cannot be combined";
  if (v.om !== undefined) {
    if (!Array.isArray(v.om) || v.om.length === 0 || v.om.length > 16) return "member 'om' must be a list of {ops, or}";
    for (const entry of v.om) {
      const wrong = checkOperationMonitor(entry);
      if (wrong) return wrong;
    }
  }
  if (v.atr !== undefined && (!Array.isArray(v.atr) || v.atr.length > 64 || v.atr.some((a) => typeof a !== 'string'))) return "member 'atr' must be a list of attribute names";
  for (const t of ['crb', 'cra', 'ms', 'us', 'exb', 'exa']) {
    if (v[t] !== undefined && (typeof v[t] !== 'string' || parseTimestamp(v[t]) === undefined)) return `member '${t}' must be a timestamp`;
  }
  for (const n of ['sts', 'stb', 'sza', 'szb']) {
    if (v[n] !== undefined && (!Number.isSafeInteger(v[n]) || (v[n] as number) < 0)) return `member '${n}' must be a non-negative integer`;
  }
  if (v.fo !== undefined && v.fo !== 1 && v.fo !== 2) return "member 'fo' must be 1 (AND) or 2 (OR)";
  return v.md === undefined ? undefined : checkMissingData(v.md);
}

function checkBatch(v: unknown): string | undefined {
  if (!isRecord(v)) return 'must be {num, dur}';
  for (const key of Object.keys(v)) if (key !== 'num' && key !== 'dur') return `member '${quotedName(key)}' is not part of batchNotify`;
  if (v.num !== undefined && (!Number.isSafeInteger(v.num) || (v.num as number) < 1 || (v.num as number) > SUBSCRIPTION_LIMITS.batchNumber)) {
    return `num must be 1 to ${SUBSCRIPTION_LIMITS.batchNumber}`;
  }
  // xs:duration in the XSD (m2m:batchNotify, TS-0004 §6.3.5.6); milliseconds as before are still taken.
  const problem = v.dur === undefined ? undefined : checkDuration(v.dur, 1, SUBSCRIPTION_LIMITS.batchSeconds * 1000);
  return problem ? `dur ${problem}` : undefined;
}

const attributes = {
  ...UNIVERSAL,
  ...EXPIRATION,
  ...LABELS,
  ...ACCESS_CONTROL,
  ...CREATOR,
  enc: { type: 'object', create: 'O', update: 'O', check: checkCriteria },
  exc: { type: 'positiveInteger', create: 'O', update: 'O' },
  nu: { type: 'anyURIList', create: 'M', update: 'O', check: checkTargets },
  bn: { type: 'object', create: 'O', update: 'O', check: checkBatch },
  pn: { type: 'enum', create: 'O', update: 'O', values: [1, 2] },
  nsp: { type: 'positiveInteger', create: 'O', update: 'O' },
  ln: { type: 'boolean', create: 'O', update: 'O' },
  nct: { type: 'enum', create: 'O', update: 'O', values: Object.values(CONTENT) },
  nec: { type: 'nonNegInteger', create: 'O', update: 'O' },
  su: { type: 'anyURI', create: 'O', update: 'NP', check: (v) => checkTargets([v]) },
  // Set by the group host on subscriptions made through a group's fopt [TS-0004 §7.4.14.2.3].
  gpi: { type: 'anyURI', create: 'O', update: 'NP' },
  // Notification statistics (Release 4): per target, events, requests sent and responses received.
  nse: { type: 'boolean', create: 'O', update: 'O' },
  nsi: { type: 'object', create: 'NP', update: 'NP' },
  nfu: { type: 'anyURI', create: 'O', update: 'O', check: (v) => checkTargets([v]) },
  // enableEventNotificationOriginator (Release 4, from ACME's reference data): without a creator in the
  // notification, it names the originator of the request that caused the event.
  eeno: { type: 'boolean', create: 'O', update: 'O' },
  // associatedCrossResourceSub: the <crossResourceSubscription>s this subscription is a source of
  // (notifications/crossResource.ts); removing one ends it [TS-0004 §7.4.8.2.3 Recv-6.5].
  acrs: { type: 'anyURIList', create: 'O', update: 'O', maxLength: 16 },
} as const satisfies Record<string, AttributeSpec>;

export type SubscriptionAttributes = AttributesOf<typeof attributes>;

export interface NotificationStats {
  tg: string;
  /** Requests sent, responses received, events that caused a notification. */
  rqs: number;
  rsr: number;
  noec: number;
}

/** Adds to the statistics of one target of a subscription whose nse is true (in place). */
export function countStats(doc: Record<string, unknown>, target: string, add: Partial<Omit<NotificationStats, 'tg'>>): boolean {
  if (doc.nse !== true) return false;
  const list = (Array.isArray(doc.nsi) ? doc.nsi : []) as NotificationStats[];
  let entry = list.find((e) => e.tg === target);
  if (!entry) {
    entry = { tg: target, rqs: 0, rsr: 0, noec: 0 };
    list.push(entry);
  }
  entry.rqs += add.rqs ?? 0;
  entry.rsr += add.rsr ?? 0;
  entry.noec += add.noec ?? 0;
  doc.nsi = list;
  return true;
}

/** The event types a subscription listens to: update by default [TS-0004 §7.4.8.2.1]. */
export function eventTypes(sub: SubscriptionAttributes): number[] {
  const net = (sub.enc as { net?: number[] } | undefined)?.net;
  return net && net.length > 0 ? net : [EVENT.UPDATE];
}

/**
 * nct defaults to what the first event type is told with (ACME: the spec gives each event type its content
 * type in its own clause); every event type listed must be able to use it [TS-0001 table 9.6.8-4].
 */
function checkContentType(sub: SubscriptionAttributes): void {
  const events = eventTypes(sub);
  const first = events[0] ?? EVENT.UPDATE;
  const nct = sub.nct ?? CONTENT_TYPES_OF_EVENT[first]?.[0] ?? CONTENT.ALL_ATTRIBUTES;
  for (const net of events) {
    if (!(CONTENT_TYPES_OF_EVENT[net] ?? []).includes(nct)) {
      throw badRequest(`notificationContentType ${nct} cannot be used with notificationEventType ${net}`);
    }
  }
  sub.nct = nct;
}

/**
 * eventNotificationCriteria with neither event types nor an operationMonitor listen to updates: the default is
 * written out (as ACME does), so that removing `enc` leaves a subscription that says what it listens to.
 */
function applyDefaultCriteria(sub: SubscriptionAttributes): void {
  const enc = isRecord(sub.enc) ? sub.enc : {};
  if (enc.net === undefined && enc.om === undefined) sub.enc = { ...enc, net: [EVENT.UPDATE] };
}

/** A batchNotify without a duration gets the CSE's (notifications.batchDuration), written out as ACME does, in ms. */
function applyDefaultBatchDuration(ctx: HookContext, sub: SubscriptionAttributes): void {
  if (isRecord(sub.bn) && sub.bn.dur === undefined) sub.bn = { ...sub.bn, dur: ctx.config.notifications.batchDuration * 1000 };
}

/** Checks that depend on the subscribed-to resource and the event types [TS-0004 §7.4.8.2.1 Recv-6.4]. */
function checkCriteriaFor(ctx: HookContext, sub: SubscriptionAttributes, parent: StoredResource): void {
  const enc = (isRecord(sub.enc) ? sub.enc : {}) as { net?: number[]; chty?: number[]; md?: unknown };
  const childTypes = ctx.childTypesOf?.(parent.ty);
  if (childTypes && enc.chty) {
    const invalid = enc.chty.find((ty) => !childTypes.includes(ty));
    // "If the Originator provides a value of childResourceType which is not a valid child of the subscribed-to
    // resource, the request shall be rejected with ... BAD_REQUEST".
    if (invalid !== undefined) throw badRequest(`attribute 'enc' member 'chty': resource type ${invalid} cannot be a child of resource type ${parent.ty}`);
  }
  // Missing data points are reported for a <timeSeries> only, and net 8 needs md to say how [TS-0004 §7.4.8.2.1].
  const reportsMissingData = enc.net?.includes(EVENT.MISSING_DATA) === true;
  if ((enc.md !== undefined || reportsMissingData) && parent.ty !== RESOURCE_TYPE.timeSeries) {
    throw badRequest("attribute 'enc': missing data reports (net 8, md) need a timeSeries as subscribed-to resource");
  }
  if (reportsMissingData && enc.md === undefined) throw badRequest("attribute 'enc': notificationEventType 8 (missing data) needs member 'md'");
}

/** A Blocking_Update subscription's own rules [TS-0004 §7.4.8.2.1 Recv-6.4]. */
async function checkBlockingUpdate(ctx: HookContext, sub: SubscriptionAttributes, parent: StoredResource, self: string): Promise<void> {
  const enc = isRecord(sub.enc) ? sub.enc : {};
  const net = (enc.net as number[] | undefined) ?? [];
  if (!net.includes(EVENT.BLOCKING_UPDATE)) return;
  if (net.length > 1) throw badRequest("attribute 'enc' member 'net': Blocking_Update (7) must be the only event type");
  const extra = Object.keys(enc).find((k) => k !== 'net' && k !== 'atr');
  if (extra) throw badRequest(`attribute 'enc' member '${extra}' cannot be used with Blocking_Update: only the attribute condition (atr) can`);
  const other = NOT_WITH_BLOCKING_UPDATE.find((k) => (sub as Record<string, unknown>)[k] !== undefined);
  if (other) throw badRequest(`attribute '${other}' cannot be used in a Blocking_Update subscription`);
  if ((sub.nu ?? []).length !== 1) throw badRequest("attribute 'nu': a Blocking_Update subscription has exactly one notification target");
  if (/^[a-z][a-z0-9+.-]*:/i.test(sub.nu?.[0] ?? '')) throw badRequest("attribute 'nu': the target of a Blocking_Update subscription must be a oneM2M resource ID, not a URL");
  const siblings = await ctx.store.children(parent.ri, { ty: RESOURCE_TYPE.subscription, aliveAt: ctx.now, limit: SUBSCRIPTION_LIMITS.perResource });
  if (siblings.some((s) => s.ri !== self && ((s.doc.enc as { net?: number[] } | undefined)?.net ?? []).includes(EVENT.BLOCKING_UPDATE))) {
    throw new CseError(RSC.BLOCKING_SUBSCRIPTION_ALREADY_EXISTS, 'the resource already has a Blocking_Update subscription');
  }
  // The parent's row is locked by the creating transaction (operations/create.ts).
  if (parent.doc[BLOCKING_WATCHED_KEY] !== true) {
    parent.doc[BLOCKING_WATCHED_KEY] = true;
    await ctx.store.update(parent);
  }
}

export const subscriptionType = defineResourceType({
  ty: RESOURCE_TYPE.subscription,
  typeName: 'm2m:sub',
  attributes,
  childTypes: [RESOURCE_TYPE.schedule, RESOURCE_TYPE.notificationTargetMgmtPolicyRef],
  virtualChildren: ['ntsr'],
  creatable: true,
  updatable: true,
  deletable: true,
  hasAcpi: true,
  hooks: {
    async beforeCreate(ctx, resource, parent) {
      applyDefaultCriteria(resource.doc);
      checkCriteriaFor(ctx, resource.doc, parent);
      checkContentType(resource.doc);
      await checkBlockingUpdate(ctx, resource.doc, parent, resource.ri);
      await markRetrieveWatched(ctx, resource.doc, parent);
      // Counted inside the creating transaction, with the parent's row locked (operations/create.ts):
      // concurrent creates under one parent cannot both take the last place. Expired subscriptions not yet
      // swept count too, which only errs on the safe side. 5207 as for the CSE's other structural limits
      // (nesting depth): the request is well-formed (not 4000), and MAX_NUMBER_OF_MEMBER_EXCEEDED (6010)
      // is about group members; TS-0004 has no code of its own for it.
      const limit = Math.min(ctx.config.notifications.maxSubscriptionsPerResource, SUBSCRIPTION_LIMITS.perResource);
      if ((await ctx.store.count(parent.ri, RESOURCE_TYPE.subscription)) >= limit) {
        throw new CseError(RSC.NOT_ACCEPTABLE, `the resource already has ${limit} subscriptions, the most it may hold`);
      }
      // nsi appears with the first statistics recorded (as in ACME).
      delete resource.doc.nsi;
      applyDefaultBatchDuration(ctx, resource.doc);
    },
    async beforeUpdate(ctx, resource, changes) {
      // nu is mandatory: an UPDATE may replace the targets, not remove them [TS-0001 table 9.6.8-2].
      if ('nu' in changes && changes.nu === null) throw badRequest("attribute 'nu' is mandatory and cannot be removed");
      const net = (changes.enc as { net?: unknown } | null | undefined)?.net;
      // A Blocking_Update is only ever set up by CREATE, where the checks for a second one hold (ACME).
      if (Array.isArray(net) && net.includes(EVENT.BLOCKING_UPDATE)) throw badRequest("attribute 'enc' member 'net': Blocking_Update (7) can only be set when the subscription is created");
      applyDefaultCriteria(resource.doc);
      // A new event type list brings its own default content type.
      if (changes.enc !== undefined && changes.nct === undefined) delete resource.doc.nct;
      const parent = changes.enc === undefined ? await ctx.store.get(resource.pi) : await ctx.store.getForUpdate(resource.pi);
      if (parent) checkCriteriaFor(ctx, resource.doc, parent);
      checkContentType(resource.doc);
      if (parent && changes.enc !== undefined) await markRetrieveWatched(ctx, resource.doc, parent);
      // Switching statistics on starts them afresh; switching them off keeps what was counted, removing nse
      // removes them too (Release 4, as ACME does).
      if (changes.nse === true || changes.nse === null) delete resource.doc.nsi;
      if (changes.bn !== undefined) applyDefaultBatchDuration(ctx, resource.doc);
      // A new missingData condition stops and restarts its window and counter [TS-0001 table 9.6.8-2 missingData].
      if (changes.enc !== undefined) {
        delete resource.doc[MISSING_DATA_WINDOW_KEY];
        // The parent (locked above when enc changes) keeps the window.
        const windows = parent?.doc[MISSING_DATA_WINDOWS_KEY] as Record<string, unknown> | undefined;
        if (parent && windows && typeof windows === 'object' && resource.ri in windows) {
          delete windows[resource.ri];
          await ctx.store.update(parent);
        }
      }
      await pendingPolicyChanged(ctx, resource, changes);
    },
    afterChildRemoved: (ctx, subscription, child) => notificationScheduleRemoved(ctx, subscription, child),
  },
});
