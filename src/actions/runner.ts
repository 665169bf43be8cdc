// Evaluating <action> resources and carrying out their primitives. A change of a subject resource queues one
// evaluation job for the actions watching it (carried out in actionPriority order), in the change's transaction
// (the event path, notifications/events.ts);
// a periodic action's durable timer queues one each period. The job reads the subject and the dependencies, and
// carries out the primitive, as the action's creator through the whole pipeline: authenticated again against the
// evidence of the connection the action was written on, its access decided as for any request. A primitive the
// creator may not carry out is refused there (4103), never executed; the refusal is logged, counted on the action
// and shown in its actionResult.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { CseServices } from '../pipeline/context.js';
import { formatTimestamp, randomIdSuffix } from '../primitive/identifiers.js';
import { OPERATION, type Operation, type RequestPrimitive } from '../primitive/request.js';
import type { ResponsePrimitive } from '../primitive/response.js';
import { RSC } from '../primitive/rsc.js';
import type { TransportContext } from '../primitive/transport.js';
import { evidenceNow } from '../operations/nonBlocking.js';
import { localResource } from '../operations/localResource.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { EVENT } from '../resources/types/subscription.js';
import type { NotificationEvent } from '../notifications/matcher.js';
import { OUTBOX_TOPIC } from '../notifications/events.js';
import { setTimer, type TimerHandler } from '../scheduler/timers.js';
import type { OutboxMessage, ResourceStore, StoredResource } from '../storage/store.js';
import { criteriaMet, type EvalCriteria } from './criteria.js';
import { EVAL_MODE, MAX_WATCHERS, MODE_KEY, PERIOD_TIMER, REFUSED_KEY, RUN_AS_KEY, RUN_AS_REGISTRATION_KEY, SUBJECT_KEY, TRANSPORT_KEY, periodOf, unwatch, watchersOf, type ModeState } from './state.js';

/** Outbox targets of evaluation jobs: one queue per action, so one action is evaluated by one process at a time, in order. */
export const ACTION_JOB_PREFIX = 'act:';

/**
 * How many actions one outside change may set off in a chain: an action whose primitive changes its own subject
 * (or another action's) is evaluated again one level deeper, and a job deeper than this is dropped, logged and
 * counted instead of evaluated. An action that triggers itself therefore runs at most MAX_ACTION_DEPTH + 1 times
 * per outside change, whatever its mode (ACME has no bound).
 */
export const MAX_ACTION_DEPTH = 3;
/**
 * Evaluations one outside change may set off beyond its own (depth 1 and deeper), all actions together: the depth
 * bounds each action, but every action watching a subject is evaluated again at every level, so N actions that change
 * their subject made N + N² + N³ + N⁴ runs (32 actions: a million contentInstances from one CREATE, found by a probe).
 */
export const MAX_CHAIN_EVALUATIONS = 64;
/** Dependencies one evaluation reads at most (dep holds at most 16 entries anyway). */
const MAX_DEPENDENCIES = 16;

/**
 * The depth of the action whose primitive the current request carries out. Carried with the request's async
 * context rather than through every call: it must reach every event the primitive causes, however deep in the
 * operation (a hook, a subtree's removal) the event is recorded.
 */
const actionDepth = new AsyncLocalStorage<{ depth: number; chain: string }>();

interface EvaluationJob {
  /** The subject whose change queued it (absent for a period's evaluation). */
  readonly subject?: string;
  readonly depth: number;
  /** The outside change (or period) the chain started from: its follow-ups share MAX_CHAIN_EVALUATIONS. */
  readonly chain?: string;
  /**
   * A change's job: every action watching the subject, evaluated in one job in actionPriority order, so that the
   * primitives of the actions one change sets off are carried out in that order. Absent: the one action the job's
   * queue is named after (a period's evaluation).
   */
  readonly actions?: readonly string[];
}

/** Children that change nothing an action could test on their parent. */
const QUIET_CHILDREN: ReadonlySet<number> = new Set([RESOURCE_TYPE.subscription, RESOURCE_TYPE.action, RESOURCE_TYPE.dependency]);

/** Counted per action in this process, logged when a count passes a power of two (nobody can flood the log). */
const tooDeep = new Map<string, number>();

/** Queues the evaluation of the actions watching a resource that changed; part of the change's transaction. */
export async function queueEvaluations(tx: ResourceStore, changed: StoredResource, event: NotificationEvent, now: number): Promise<void> {
  if (event.type !== EVENT.UPDATE && event.type !== EVENT.CREATE_CHILD && event.type !== EVENT.DELETE_CHILD) return;
  if (event.type !== EVENT.UPDATE && QUIET_CHILDREN.has(event.resource.ty)) return;
  const watchers = watchersOf(changed);
  if (watchers.length === 0) return;
  const parent = actionDepth.getStore();
  const job: EvaluationJob = { subject: changed.ri, depth: parent === undefined ? 0 : parent.depth + 1, chain: parent?.chain ?? randomIdSuffix(), actions: watchers };
  // One queue per subject: its changes are evaluated one job at a time, in order, by whichever process leases it.
  await tx.enqueue([{ target: `${ACTION_JOB_PREFIX}${changed.ri}`, subscription: changed.ri, content: JSON.stringify(job), created: now, notBefore: now }]);
  await tx.broadcast(OUTBOX_TOPIC, '');
}

/** The periodic evaluation: queues this period's job and sets the timer of the next period. */
export const actionPeriodTimer: TimerHandler = async (tx, services, action, payload) => {
  if (action?.ty !== RESOURCE_TYPE.action || action.doc.evm !== EVAL_MODE.PERIODIC) return;
  const state = action.doc[MODE_KEY] as ModeState | undefined;
  // A timer of a mode restarted (or changed) since it was set.
  if (state?.anchor === undefined || state.anchor !== (payload as { anchor?: unknown }).anchor) return;
  const now = services.clock.now();
  const period = periodOf(action);
  const next = state.anchor + (Math.floor((now - state.anchor) / period) + 1) * period;
  await setTimer(tx, PERIOD_TIMER, action.ri, next, { anchor: state.anchor }, now);
  const job: EvaluationJob = { depth: 0, chain: randomIdSuffix() };
  await tx.enqueue([{ target: `${ACTION_JOB_PREFIX}${action.ri}`, subscription: action.ri, content: JSON.stringify(job), created: now, notBefore: now }]);
  await tx.broadcast(OUTBOX_TOPIC, '');
};

interface Actor {
  readonly originator: string;
  readonly transport: TransportContext;
  readonly depth: number;
  readonly chain: string;
}

/**
 * Whom the action acts as, or undefined when that is no longer its writer: an AE deregistered since (its AE-ID may
 * now be another's; registrations are told apart by their store seq, as subscriptions tell their targets apart).
 */
async function actorOf(services: CseServices, action: StoredResource, depth: number, chain: string): Promise<Actor | undefined> {
  const originator = action.doc[RUN_AS_KEY];
  const transport = action.doc[TRANSPORT_KEY] as TransportContext | undefined;
  if (typeof originator !== 'string' || !transport) return undefined;
  const seq = action.doc[RUN_AS_REGISTRATION_KEY];
  if (typeof seq === 'number') {
    const registered = await services.store.get(originator);
    if (registered?.ty !== RESOURCE_TYPE.AE || registered.seq !== seq) {
      services.log.info({ event: 'action-writer-gone', action: action.ri, originator }, 'action not evaluated: the AE that wrote it is no longer registered');
      return undefined;
    }
  }
  return { originator, transport: evidenceNow(services, transport), depth, chain };
}

/** A request as the action's creator, through the whole pipeline, one level deeper in the action chain. */
async function dispatchAs(services: CseServices, actor: Actor, request: Omit<RequestPrimitive, 'fr'>): Promise<ResponsePrimitive> {
  const dispatch = services.dispatcher.handle;
  if (!dispatch) throw new Error('no dispatcher');
  return actionDepth.run({ depth: actor.depth, chain: actor.chain }, () => dispatch({ ...request, fr: actor.originator }, actor.transport));
}

/**
 * A resource's attributes as the actor may read them (an access control rule may show only some), or undefined.
 * Addressed by its structured name, which names the CSEBase too (its resource ID alone would be the CSE-ID).
 */
async function readAs(services: CseServices, actor: Actor, srn: string): Promise<Record<string, unknown> | undefined> {
  const response = await dispatchAs(services, actor, { op: OPERATION.RETRIEVE, to: srn, rqi: `actr-read-${randomIdSuffix(8)}`, rvi: '3' });
  if (response.rsc !== RSC.OK || typeof response.pc !== 'object') return undefined;
  const representation = Object.values(response.pc)[0];
  return typeof representation === 'object' && representation !== null ? (representation as Record<string, unknown>) : undefined;
}

/**
 * Whether the dependencies let the action run: a sufficient one that holds does by itself; otherwise there must be
 * necessary ones and all must hold. One that is gone, or that the creator can no longer read, does not hold (ACME
 * reads the list in order and stops at the first decisive entry; the result differs only where it is order-dependent).
 */
async function dependenciesMet(services: CseServices, actor: Actor, action: StoredResource): Promise<boolean> {
  const dep = Array.isArray(action.doc.dep) ? (action.doc.dep as unknown[]).slice(0, MAX_DEPENDENCIES) : [];
  if (dep.length === 0) return true;
  let necessary = 0;
  let necessaryMet = 0;
  for (const address of dep) {
    const dependency = typeof address === 'string' ? await localResource(services, address) : undefined;
    if (dependency?.ty !== RESOURCE_TYPE.dependency || dependency.pi !== action.ri) {
      necessary += 1;
      continue;
    }
    const referenced = typeof dependency.doc.rri === 'string' ? await localResource(services, dependency.doc.rri) : undefined;
    const attributes = referenced ? await readAs(services, actor, referenced.srn) : undefined;
    const met = attributes !== undefined && criteriaMet(dependency.doc.evc as EvalCriteria, attributes);
    if (dependency.doc.sfc === true) {
      if (met) return true;
    } else {
      necessary += 1;
      if (met) necessaryMet += 1;
    }
  }
  return necessary > 0 && necessary === necessaryMet;
}

/** Takes the evaluation's outcome into the mode's state; true when the action is to be carried out now. */
function claim(action: StoredResource, met: boolean, now: number): boolean {
  const state = (action.doc[MODE_KEY] ?? {}) as ModeState;
  switch (action.doc.evm) {
    case EVAL_MODE.ONCE:
      if (state.fired === true || !met) return false;
      state.fired = true;
      break;
    case EVAL_MODE.CONTINUOUS:
      // evalControlParam counts evaluations, met or not (ACME's configuration: "the maximum number of evaluations").
      if ((state.left ?? 0) <= 0) return false;
      state.left = (state.left ?? 0) - 1;
      action.doc[MODE_KEY] = state;
      return met;
    case EVAL_MODE.PERIODIC: {
      // One run per period at most: at the first change in a period that meets the criteria (as ACME), or at the
      // period's start when its timer finds them met.
      const current = Math.floor((now - (state.anchor ?? now)) / periodOf(action));
      if (!met || state.lastPeriod === current) return false;
      state.lastPeriod = current;
      break;
    }
    default:
      return false;
  }
  action.doc[MODE_KEY] = state;
  return true;
}

/** Follow-up evaluations each chain has had in this process (a chain's jobs are leased by one process at a time). */
const chainEvaluations = new Map<string, number>();

function takeChainEvaluation(chain: string): boolean {
  const taken = chainEvaluations.get(chain) ?? 0;
  if (taken >= MAX_CHAIN_EVALUATIONS) return false;
  if (taken === 0 && chainEvaluations.size >= 10_000) chainEvaluations.clear();
  chainEvaluations.set(chain, taken + 1);
  return true;
}

function countTooDeep(services: CseServices, ri: string, depth: number): void {
  const before = tooDeep.get(ri) ?? 0;
  if (before === 0 && tooDeep.size >= 10_000) tooDeep.clear();
  tooDeep.set(ri, before + 1);
  if (before === 0 || Math.floor(Math.log2(before + 1)) > Math.floor(Math.log2(before))) {
    services.log.warn({ event: 'action-chain-too-deep', action: ri, depth, dropped: before + 1 }, `action not evaluated: it was set off by a chain of more than ${MAX_ACTION_DEPTH} actions or ${MAX_CHAIN_EVALUATIONS} evaluations`);
  }
}

/** actionPriority: lower first; an action without one after those with one (as ACME sorts them). */
function priorityOf(action: StoredResource | undefined): number {
  const apy = action?.doc.apy;
  return typeof apy === 'number' ? apy : Number.MAX_SAFE_INTEGER;
}

interface Evaluation {
  readonly ri: string;
  readonly action: StoredResource | undefined;
  readonly met: boolean | undefined;
  readonly actor: Actor | undefined;
}

/** Reads the subject and the dependencies as the action's creator: whether its criteria are met (undefined: not evaluated). */
async function evaluate(services: CseServices, ri: string, job: EvaluationJob): Promise<Evaluation> {
  const { store, log } = services;
  const action = await store.get(ri);
  if (action?.ty !== RESOURCE_TYPE.action || action.doc.evm === EVAL_MODE.OFF || (job.subject !== undefined && action.doc[SUBJECT_KEY] !== job.subject)) {
    return { ri, action, met: undefined, actor: undefined };
  }
  const chain = job.chain ?? ri;
  const actor = await actorOf(services, action, job.depth, chain);
  if (job.depth > MAX_ACTION_DEPTH || (job.depth > 0 && !takeChainEvaluation(chain))) {
    countTooDeep(services, ri, job.depth);
    return { ri, action, met: undefined, actor };
  }
  if (!actor || typeof action.doc[SUBJECT_KEY] !== 'string') return { ri, action, met: undefined, actor };
  const stored = await store.get(action.doc[SUBJECT_KEY]);
  const subject = stored ? await readAs(services, actor, stored.srn) : undefined;
  if (subject === undefined) log.info({ event: 'action-subject-unreadable', action: ri, originator: actor.originator }, 'action evaluated as not met: its creator cannot read its subject');
  const met = subject !== undefined && criteriaMet(action.doc.evc as EvalCriteria, subject) && (await dependenciesMet(services, actor, action));
  return { ri, action, met, actor };
}

/** In the job's transaction, the action locked: takes the evaluation into its mode's state; the action when it is to run. */
async function settle(tx: ResourceStore, job: EvaluationJob, evaluation: Evaluation, now: number): Promise<StoredResource | undefined> {
  const { ri, met } = evaluation;
  const current = await tx.getForUpdate(ri);
  if (current?.ty !== RESOURCE_TYPE.action) {
    // Deleted: the subject forgets it, so its changes stop queueing jobs for it.
    if (job.subject !== undefined) await unwatch(tx, job.subject, ri);
    return undefined;
  }
  // The subject changed since this action was queued for it: the subject's list is out of date.
  if (job.subject !== undefined && current.doc[SUBJECT_KEY] !== job.subject) {
    await unwatch(tx, job.subject, ri);
    return undefined;
  }
  if (met === undefined || !claim(current, met, now)) {
    if (met !== undefined) await tx.update(current);
    return undefined;
  }
  await tx.update(current);
  return current;
}

/**
 * The outbox job: evaluate the actions a change (or a period) concerns, and carry out the primitives of those the
 * evaluation says so, in actionPriority order. What each evaluation decided (its claim on its mode: fired, this
 * period's run, an evaluation less) commits with the job's removal, in one transaction that only the process
 * holding the job's lease can make: whatever the number of processes, each claim is made once, and a primitive is
 * carried out at most once per claim (a process that stops after the commit leaves it not carried out).
 */
export async function runActionJob(services: CseServices, message: OutboxMessage, owner: string): Promise<void> {
  const { store, clock } = services;
  const job = JSON.parse(message.content) as EvaluationJob;
  const ris = [...new Set(job.actions ?? [message.target.slice(ACTION_JOB_PREFIX.length)])].slice(0, MAX_WATCHERS);
  const evaluations: Evaluation[] = [];
  for (const ri of ris) evaluations.push(await evaluate(services, ri, job));
  const now = clock.now();
  const toRun = await store.transaction(async (tx) => {
    if (!(await tx.dequeueLeased(message.id, owner))) return [];
    const claimed: Array<{ action: StoredResource; actor: Actor }> = [];
    // Locked in resource ID order, whatever their priorities: two jobs never wait for each other's locks.
    for (const evaluation of [...evaluations].sort((x, y) => (x.ri < y.ri ? -1 : x.ri > y.ri ? 1 : 0))) {
      const action = await settle(tx, job, evaluation, now);
      if (action && evaluation.actor) claimed.push({ action, actor: evaluation.actor });
    }
    return claimed;
  });
  const ordered = toRun
    .map((run) => ({ ...run, position: ris.indexOf(run.action.ri) }))
    .sort((x, y) => priorityOf(x.action) - priorityOf(y.action) || x.position - y.position);
  for (const { action, actor } of ordered) {
    try {
      await carryOut(services, action, actor);
    } catch (err) {
      // One action's failure does not keep the actions after it from running.
      services.log.error({ err, action: action.ri }, 'carrying out an action primitive failed');
    }
  }
}

/** The primitive, sent to objectResourceID (as ACME); its response becomes the action's actionResult. */
async function carryOut(services: CseServices, action: StoredResource, actor: Actor): Promise<void> {
  const apv = action.doc.apv as Record<string, unknown>;
  const request: Omit<RequestPrimitive, 'fr'> = {
    op: apv.op as Operation,
    to: String(action.doc.orc),
    rqi: typeof apv.rqi === 'string' ? apv.rqi : `actr-${randomIdSuffix(8)}`,
    rvi: typeof apv.rvi === 'string' ? apv.rvi : '3',
    ...(apv.ty === undefined ? {} : { ty: apv.ty as number }),
    ...(apv.pc === undefined ? {} : { pc: apv.pc }),
    ...(apv.rcn === undefined ? {} : { rcn: apv.rcn as NonNullable<RequestPrimitive['rcn']> }),
  };
  const response = await dispatchAs(services, actor, request);
  const result: Record<string, unknown> = { rsc: response.rsc, rqi: response.rqi, ...(response.pc === undefined ? {} : { pc: response.pc }) };
  const refused = response.rsc === RSC.ORIGINATOR_HAS_NO_PRIVILEGE;
  const count = await services.store.transaction(async (tx) => {
    const current = await tx.getForUpdate(action.ri);
    if (current?.ty !== RESOURCE_TYPE.action) return undefined;
    current.doc.air = result;
    if (refused) current.doc[REFUSED_KEY] = (typeof current.doc[REFUSED_KEY] === 'number' ? current.doc[REFUSED_KEY] : 0) + 1;
    current.lt = formatTimestamp(services.clock.now());
    await tx.update(current);
    return current.doc[REFUSED_KEY];
  });
  if (refused) {
    services.log.warn(
      { event: 'action-refused', action: action.ri, originator: actor.originator, op: request.op, to: request.to, refused: count },
      "action primitive refused (4103): its creator may not carry it out, and it was not executed",
    );
  } else if (response.rsc >= 4000) {
    services.log.info({ event: 'action-failed', action: action.ri, originator: actor.originator, rsc: response.rsc }, 'action primitive failed');
  }
}
