// What the CSE keeps for <action> resources besides their attributes: which actions watch a subject resource
// (kept on the subject, so that a change finds its actions without a search), whom an action runs as, and the
// state of its evaluation mode. All of it in internal document keys, never shown.
import { CseError } from '../primitive/errors.js';
import { RSC } from '../primitive/rsc.js';
import type { TransportContext } from '../primitive/transport.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { cancelTimer, setTimer } from '../scheduler/timers.js';
import type { ResourceStore, StoredResource } from '../storage/store.js';

/** On a subject resource: the resource IDs of the actions evaluated when it changes. */
export const WATCHERS_KEY = '__actr';
/** On an action: the resource ID of its subject (sri resolved, or its parent). */
export const SUBJECT_KEY = '__subject';
/** On an action: the originator its primitive and its reads are carried out as, and the connection it proved. */
export const RUN_AS_KEY = '__runAs';
export const TRANSPORT_KEY = '__transport';
/** On an action written by an AE: the registration (store seq) of that AE, so that a later holder of its AE-ID is not it. */
export const RUN_AS_REGISTRATION_KEY = '__runAsSeq';
/** On an action: the state of its evaluation mode. */
export const MODE_KEY = '__evm';
/** On an action: how many of its primitives the pipeline refused at run time for want of privilege. */
export const REFUSED_KEY = '__refused';

/** The durable timer of periodic evaluation. */
export const PERIOD_TIMER = 'actionPeriod';

/** m2m:evalMode. */
export const EVAL_MODE = { OFF: 0, ONCE: 1, PERIODIC: 2, CONTINUOUS: 3 } as const;

/** ACME's defaults for a missing evalControlParam: 10 s between periodic evaluations, 1000 continuous evaluations. */
export const DEFAULT_PERIOD_MS = 10_000;
export const DEFAULT_EVALUATIONS = 1_000;
/** Warden's bound: a shorter period would let one action keep a timer firing (and a primitive running) without pause. */
export const MIN_PERIOD_MS = 1_000;
/** Actions one resource may be the subject of: each change of it costs one evaluation job per action. */
export const MAX_WATCHERS = 32;
/** Of those, one originator's at most: nobody can take every place on a resource they may only read. */
export const MAX_WATCHERS_PER_ORIGINATOR = 8;

export interface ModeState {
  /** continuous: evaluations left. */
  left?: number;
  /** once: it has fired. */
  fired?: boolean;
  /** periodic: when the first period began (epoch ms), and the last period (number) it fired in. */
  anchor?: number;
  lastPeriod?: number;
}

/** What of the creator's connection is kept to authenticate its action's requests again: its evidence only. */
export function evidenceOnly(transport: TransportContext | undefined): TransportContext {
  if (!transport) return { binding: 'http', remoteAddress: '', secure: false };
  return {
    binding: transport.binding,
    remoteAddress: transport.remoteAddress,
    secure: transport.secure,
    ...(transport.peerCertificate ? { peerCertificate: transport.peerCertificate } : {}),
    ...(transport.pskIdentity !== undefined ? { pskIdentity: transport.pskIdentity } : {}),
  };
}

/** Adds an action to the watchers of a subject the caller has locked, dropping entries of actions that are gone. */
export async function watch(store: ResourceStore, subject: StoredResource, actionRi: string, originator: string): Promise<void> {
  const kept: string[] = [];
  let sameOriginator = 0;
  for (const ri of watchersOf(subject)) {
    if (ri === actionRi) continue;
    const action = await store.get(ri);
    if (action?.ty !== RESOURCE_TYPE.action || action.doc[SUBJECT_KEY] !== subject.ri) continue;
    kept.push(ri);
    if (action.doc[RUN_AS_KEY] === originator) sameOriginator += 1;
  }
  if (kept.length >= MAX_WATCHERS || sameOriginator >= MAX_WATCHERS_PER_ORIGINATOR) {
    const limit = kept.length >= MAX_WATCHERS ? `${MAX_WATCHERS} actions` : `${MAX_WATCHERS_PER_ORIGINATOR} actions of this originator`;
    throw new CseError(RSC.NOT_ACCEPTABLE, `resource '${subject.ri}' is the subject of ${limit} already, as many as one resource may be`);
  }
  subject.doc[WATCHERS_KEY] = [...kept, actionRi];
  await store.update(subject);
}

export async function unwatch(store: ResourceStore, subjectRi: string, actionRi: string): Promise<void> {
  const subject = await store.getForUpdate(subjectRi);
  if (!subject || !watchersOf(subject).includes(actionRi)) return;
  const rest = watchersOf(subject).filter((ri) => ri !== actionRi);
  if (rest.length > 0) subject.doc[WATCHERS_KEY] = rest;
  else delete subject.doc[WATCHERS_KEY];
  await store.update(subject);
}

export function watchersOf(subject: StoredResource): string[] {
  const list = subject.doc[WATCHERS_KEY];
  return Array.isArray(list) ? list.filter((ri): ri is string => typeof ri === 'string') : [];
}

/** (Re)starts an action's evaluation mode: fresh counters, and the period timer of a periodic one. */
export async function startMode(store: ResourceStore, action: StoredResource, now: number): Promise<void> {
  const evm = action.doc.evm;
  const ecp = typeof action.doc.ecp === 'number' ? action.doc.ecp : undefined;
  await cancelTimer(store, PERIOD_TIMER, action.ri);
  if (evm === EVAL_MODE.CONTINUOUS) action.doc[MODE_KEY] = { left: ecp ?? DEFAULT_EVALUATIONS } satisfies ModeState;
  else if (evm === EVAL_MODE.ONCE) action.doc[MODE_KEY] = { fired: false } satisfies ModeState;
  else if (evm === EVAL_MODE.PERIODIC) {
    action.doc[MODE_KEY] = { anchor: now, lastPeriod: -1 } satisfies ModeState;
    await setTimer(store, PERIOD_TIMER, action.ri, now + (ecp ?? DEFAULT_PERIOD_MS), { anchor: now }, now);
  } else delete action.doc[MODE_KEY];
}

export function periodOf(action: StoredResource): number {
  return typeof action.doc.ecp === 'number' ? action.doc.ecp : DEFAULT_PERIOD_MS;
}
