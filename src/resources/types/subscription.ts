// <subscription> (ty 23, TS-0001 §9.6.8, TS-0004 §7.4.8): who is told what about the parent resource.
// Validation lives here; matching is notifications/matcher.ts, delivery notifications/deliver.ts.
import { ACCESS_CONTROL, CREATOR, EXPIRATION, LABELS, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributesOf, type AttributeSpec } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { CseError, badRequest } from '../../primitive/errors.js';
import { RSC } from '../../primitive/rsc.js';
import { parseTimestamp } from '../../primitive/identifiers.js';
import { checkDuration } from '../validate.js';

/** notificationEventType [TS-0004 §6.3.4.2.19]. */
export const EVENT = { UPDATE: 1, DELETE: 2, CREATE_CHILD: 3, DELETE_CHILD: 4 } as const;
/** notificationContentType [TS-0004 §6.3.4.2.18]. */
export const CONTENT = { ALL_ATTRIBUTES: 1, MODIFIED_ATTRIBUTES: 2, RESOURCE_ID: 3 } as const;
/**
 * Bounds that keep one subscription's cost on every write of its parent small. perResource: the most
 * subscriptions a resource holds; an event reads no more than these (notifications/events.ts), so more are
 * refused at creation rather than silently never notified.
 */
export const SUBSCRIPTION_LIMITS = { targets: 16, batchNumber: 1_000, batchSeconds: 86_400, perResource: 1_000 } as const;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Target forms Warden can deliver to: http(s) URLs, and AE resource IDs / AE-IDs (through poa or a polling channel). */
function checkTargets(v: unknown): string | undefined {
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
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return `scheme '${url.protocol}' of '${target}' is not supported (http, https, or an AE-ID)`;
    } else if (!/^[A-Za-z0-9\-._~/]+$/.test(target)) return `'${target}' is neither a URL nor a oneM2M ID`;
  }
  return undefined;
}

const ENC_KEYS = ['net', 'atr', 'chty', 'crb', 'cra', 'ms', 'us', 'sts', 'stb', 'exb', 'exa', 'sza', 'szb', 'om', 'fo'];

function checkCriteria(v: unknown): string | undefined {
  if (!isRecord(v)) return 'must be an object of event notification criteria';
  for (const key of Object.keys(v)) if (!ENC_KEYS.includes(key)) return `member '${key}' is not supported`;
  const intList = (name: string, allowed?: readonly number[]): string | undefined => {
    const list = v[name];
    if (list === undefined) return undefined;
    if (!Array.isArray(list) || list.length > 64 || list.some((n) => !Number.isSafeInteger(n))) return `member '${name}' must be a list of integers`;
    if (allowed && list.some((n) => !allowed.includes(n as number))) return `member '${name}' may only hold ${allowed.join(', ')}`;
    return undefined;
  };
  const problem = intList('net', [1, 2, 3, 4]) ?? intList('chty');
  if (problem) return problem;
  if (v.net !== undefined && v.om !== undefined) return "'net' and 'om' cannot be combined";
  if (v.om !== undefined) {
    if (!Array.isArray(v.om) || v.om.length > 16 || !v.om.every((o) => isRecord(o) && Object.keys(o).every((k) => k === 'ops' || k === 'or'))) {
      return "member 'om' must be a list of {ops, or}";
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
  return undefined;
}

function checkBatch(v: unknown): string | undefined {
  if (!isRecord(v)) return 'must be {num, dur}';
  for (const key of Object.keys(v)) if (key !== 'num' && key !== 'dur') return `member '${key}' is not part of batchNotify`;
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
  nct: { type: 'enum', create: 'O', update: 'O', values: [1, 2, 3] },
  nec: { type: 'nonNegInteger', create: 'O', update: 'O' },
  su: { type: 'anyURI', create: 'O', update: 'NP', check: (v) => checkTargets([v]) },
  // Set by the group host on subscriptions made through a group's fopt [TS-0004 §7.4.14.2.3].
  gpi: { type: 'anyURI', create: 'O', update: 'NP' },
  // Notification statistics (Release 4): per target, events, requests sent and responses received.
  nse: { type: 'boolean', create: 'O', update: 'O' },
  nsi: { type: 'object', create: 'NP', update: 'NP' },
  nfu: { type: 'anyURI', create: 'O', update: 'O', check: (v) => checkTargets([v]) },
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

/** nct defaults to all attributes; modified attributes only make sense for updates [TS-0001 table 9.6.8-4]. */
function checkContentType(sub: SubscriptionAttributes): void {
  const nct = sub.nct ?? CONTENT.ALL_ATTRIBUTES;
  if (nct === CONTENT.MODIFIED_ATTRIBUTES && eventTypes(sub).some((e) => e !== EVENT.UPDATE)) {
    throw badRequest('notificationContentType 2 (modified attributes) applies to update events only');
  }
  sub.nct = nct;
}

export const subscriptionType = defineResourceType({
  ty: RESOURCE_TYPE.subscription,
  typeName: 'm2m:sub',
  attributes,
  childTypes: [],
  creatable: true,
  updatable: true,
  deletable: true,
  hasAcpi: true,
  hooks: {
    async beforeCreate(ctx, resource, parent) {
      checkContentType(resource.doc);
      // Counted inside the creating transaction, with the parent's row locked (operations/create.ts):
      // concurrent creates under one parent cannot both take the last place. Expired subscriptions not yet
      // swept count too, which only errs on the safe side. 5207 as for the CSE's other structural limits
      // (nesting depth): the request is well-formed (not 4000), and MAX_NUMBER_OF_MEMBER_EXCEEDED (6010)
      // is about group members; TS-0004 has no code of its own for it.
      const limit = Math.min(ctx.config.notifications.maxSubscriptionsPerResource, SUBSCRIPTION_LIMITS.perResource);
      if ((await ctx.store.count(parent.ri, RESOURCE_TYPE.subscription)) >= limit) {
        throw new CseError(RSC.NOT_ACCEPTABLE, `the resource already has ${limit} subscriptions, the most it may hold`);
      }
      if (resource.doc.nse === true) resource.doc.nsi = [];
    },
    beforeUpdate(_ctx, resource, changes) {
      checkContentType(resource.doc);
      // Switching statistics on starts them afresh; switching them off drops them (Release 4).
      if (changes.nse === true) resource.doc.nsi = [];
      if (changes.nse === false || changes.nse === null) delete resource.doc.nsi;
    },
  },
});
