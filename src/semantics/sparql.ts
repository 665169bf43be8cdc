// The CSE's side of SPARQL (TS-0034 via TS-0004 §7.3.3.18-19): descriptor checks, semanticOpExec updates,
// semantic discovery and semantic queries, each carried out by one worker thread. A call that runs longer
// than its time limit terminates the worker (a SPARQL query can be made arbitrarily costly); the next call
// starts a fresh one. The worker is shared fairly: each originator has its own queue, served in turn, and a
// budget of worker time per minute (Warden's policy: TS-0004 sets no such limit).
import { Worker } from 'node:worker_threads';
import { CseError, badRequest } from '../primitive/errors.js';
import { RSC } from '../primitive/rsc.js';
import { READY, type Descriptor, type SparqlCall, type SparqlReply } from './protocol.js';

export type { Descriptor } from './protocol.js';

/** descriptorRepresentation (m2m:semanticFormat) → the RDF media type Oxigraph reads and writes. */
export const SEMANTIC_FORMATS: Readonly<Record<number, string>> = {
  4: 'application/rdf+xml',
  5: 'text/turtle',
  7: 'application/ld+json',
};

/** Longest SPARQL text accepted. */
export const MAX_SPARQL_LENGTH = 16_384;
/** Calls waiting for the worker; more are refused rather than queued without bound. */
const MAX_PENDING = 64;
/**
 * Beyond MAX_PENDING, a caller with no call waiting may still queue one, up to this many more, and the admin and the
 * CSE itself (unlimited callers) up to twice as many: the lanes take turns, so one more waiting call costs the others
 * little, while a shared cap that a few originators filled (nine new AEs, eight calls each) refused every other
 * originator, the admin included (found by a probe).
 */
const RESERVE = 32;
/** Originators whose spent budget is remembered at once; beyond it, those whose budget is whole again go. */
const MAX_BUDGETS = 10_000;
const MINUTE_MS = 60_000;
/**
 * Budget an originator must have left for a call to start: a started call runs up to its time limit whatever
 * is left, so the last crumbs of a budget do not buy a whole call.
 */
const MIN_START_MS = 250;
/** The key that originators the CSE cannot vouch for share; no oneM2M ID holds '(' or ')'. */
export const ANONYMOUS_CALLER = '(anonymous)';
/**
 * Oxigraph's WebAssembly memory is outside the worker's heap limit and never shrinks: the process's resident
 * memory is watched while a call runs (a call that grows it by more than this is stopped), and a worker that
 * has grown by more than RECYCLE_GROWTH is replaced between calls.
 */
const MAX_CALL_GROWTH = 768 * 1024 * 1024;
const RECYCLE_GROWTH = 256 * 1024 * 1024;
const WATCH_INTERVAL_MS = 50;
/** A fresh worker that has not loaded Oxigraph by then is given up (the call fails, 5000). */
const STARTUP_LIMIT_MS = 60_000;

/** Whom a semantic operation is carried out for. */
export interface SemanticCaller {
  /**
   * The originator's quota key: an authenticated or registered identity; every other originator shares one
   * key (see semanticCaller), so inventing From values buys no extra share of the worker.
   */
  readonly key: string;
  /** False for the admin and the CSE itself: served in turn with the others, but held to no time budget. */
  readonly limited: boolean;
}

/** The semantic operations, on behalf of one caller. */
export interface SemanticOperations {
  /** Refuses descriptor text that does not parse in its format (4000, as in ACME). */
  checkDescriptor(text: string, format: string): Promise<void>;
  /** Applies a SPARQL Update (semanticOpExec) to a descriptor and returns the new descriptor text. */
  applyUpdate(text: string, format: string, update: string): Promise<string>;
  /** Semantic discovery: the keys of the groups whose descriptors answer the query (a row, true, a triple). */
  matching(query: string, descriptors: Descriptor[], groups: Array<{ key: string; names: string[] }>): Promise<Set<string>>;
  /** Semantic query: the query over all the descriptors together, in a SPARQL results format. */
  query(query: string, descriptors: Descriptor[], resultsFormat: 'json' | 'xml'): Promise<string>;
}

export interface FairnessOptions {
  /** Seconds of worker time one originator may use per minute (a bucket refilled continuously); 0: no budget. */
  secondsPerMinute: number;
  /** Calls one originator may have waiting at once. */
  queuedPerOriginator: number;
}

interface Waiting {
  caller: SemanticCaller;
  message: Omit<SparqlCall, 'id'>;
  resolve: (reply: SparqlReply) => void;
  reject: (err: Error) => void;
}

/** One originator's waiting calls, and when it was last served (0: not while it has had calls waiting). */
interface Lane {
  calls: Waiting[];
  servedAt: number;
}

export class SparqlEngine {
  private worker: Worker | undefined;
  private nextId = READY + 1;
  private readonly lanes = new Map<string, Lane>();
  private queued = 0;
  private dispatched = 0;
  /** Budget left per originator key, in ms, as of `at`; an originator missing here has its whole budget. */
  private readonly budgets = new Map<string, { left: number; at: number }>();
  private current:
    | {
        id: number;
        caller: SemanticCaller;
        servedAt: number;
        /** When the worker, ready, got the call: its time limit and its cost count from here. */
        startedAt?: number;
        resolve: (reply: SparqlReply) => void;
        reject: (err: Error) => void;
        timer: NodeJS.Timeout;
        watch?: NodeJS.Timeout;
      }
    | undefined;
  private closed = false;
  /** The worker has loaded Oxigraph (it says so once): its start-up is nobody's call time. */
  private workerReady = false;
  private paused = false;
  private rssAtWorkerStart = 0;

  constructor(
    private readonly timeLimitMs: number,
    private readonly fairness: FairnessOptions = { secondsPerMinute: 0, queuedPerOriginator: MAX_PENDING },
  ) {}

  /** The operations on behalf of one caller: its calls queue, and count, as its own. */
  as(caller: SemanticCaller): SemanticOperations {
    return {
      checkDescriptor: (text, format) => this.checkDescriptor(caller, text, format),
      applyUpdate: (text, format, update) => this.applyUpdate(caller, text, format, update),
      matching: (query, descriptors, groups) => this.matching(caller, query, descriptors, groups),
      query: (query, descriptors, resultsFormat) => this.query(caller, query, descriptors, resultsFormat),
    };
  }

  /** Calls of this originator key waiting for the worker (not counting one it runs). */
  waiting(key: string): number {
    return this.lanes.get(key)?.calls.length ?? 0;
  }

  /**
   * Starts no call until the returned function is called: tests queue calls with it in a known order instead
   * of racing a running one. Nothing outside the process can reach it.
   */
  pause(): () => void {
    this.paused = true;
    return () => {
      this.paused = false;
      this.next();
    };
  }

  private async checkDescriptor(caller: SemanticCaller, text: string, format: string): Promise<void> {
    const reply = await this.call(caller, { op: 'check', text, format });
    if (reply.error) throw badRequest(`the descriptor is not valid ${format}: ${reply.error.message.slice(0, 300)}`);
  }

  private async applyUpdate(caller: SemanticCaller, text: string, format: string, update: string): Promise<string> {
    checkLength(update);
    const reply = await this.call(caller, { op: 'update', text, format, query: update });
    if (reply.error?.kind === 'update') throw new CseError(RSC.SPARQL_UPDATE_ERROR, `semanticOpExec failed: ${reply.error.message.slice(0, 300)}`);
    if (reply.error?.kind === 'size') throw new CseError(RSC.NOT_ACCEPTABLE, reply.error.message);
    if (reply.error) throw badRequest(`the stored descriptor is not valid ${format}: ${reply.error.message.slice(0, 300)}`);
    return reply.text ?? '';
  }

  private async matching(caller: SemanticCaller, query: string, descriptors: Descriptor[], groups: Array<{ key: string; names: string[] }>): Promise<Set<string>> {
    checkLength(query);
    if (groups.length === 0) return new Set();
    const reply = await this.call(caller, { op: 'match', query, descriptors, groups });
    if (reply.error) throw new CseError(RSC.INVALID_SPARQL_QUERY, `semanticsFilter: ${reply.error.message.slice(0, 300)}`);
    return new Set(reply.keys ?? []);
  }

  private async query(caller: SemanticCaller, query: string, descriptors: Descriptor[], resultsFormat: 'json' | 'xml'): Promise<string> {
    checkLength(query);
    const reply = await this.call(caller, { op: 'query', query, descriptors, resultsFormat });
    if (reply.error?.kind === 'size') throw new CseError(RSC.NOT_ACCEPTABLE, reply.error.message);
    if (reply.error) throw new CseError(RSC.INVALID_SPARQL_QUERY, `semantic query: ${reply.error.message.slice(0, 300)}`);
    return reply.text ?? '';
  }

  async close(): Promise<void> {
    this.closed = true;
    const stopping = new CseError(RSC.INTERNAL_SERVER_ERROR, 'the CSE is stopping');
    for (const lane of this.lanes.values()) for (const waiting of lane.calls) waiting.reject(stopping);
    this.lanes.clear();
    this.queued = 0;
    this.endCurrent(stopping);
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  /**
   * Calls run one at a time, each with its own time limit and memory watch from the moment it is sent: a
   * costly call is stopped alone, and the calls queued behind it go to a fresh worker. Each originator key
   * has a lane of its own and the lanes take turns, so one originator's backlog delays another's call by at
   * most the call running when it arrives.
   */
  private call(caller: SemanticCaller, message: Omit<SparqlCall, 'id'>): Promise<SparqlReply> {
    if (this.closed) return Promise.reject(new CseError(RSC.INTERNAL_SERVER_ERROR, 'the CSE is stopping'));
    let lane = this.lanes.get(caller.key);
    if (this.queued >= MAX_PENDING) {
      const waiting = lane?.calls.length ?? 0;
      const bound = caller.limited ? (waiting === 0 ? MAX_PENDING + RESERVE : MAX_PENDING) : MAX_PENDING + 2 * RESERVE;
      if (this.queued >= bound) return Promise.reject(new CseError(RSC.SERVICE_SUBSCRIPTION_LIMITS_EXCEEDED, 'too many semantic operations are waiting; retry later', 1));
    }
    if ((lane?.calls.length ?? 0) >= this.fairness.queuedPerOriginator) {
      return Promise.reject(
        new CseError(RSC.SERVICE_SUBSCRIPTION_LIMITS_EXCEEDED, `${whoIs(caller)} already has ${this.fairness.queuedPerOriginator} semantic operations waiting; retry later`, 1),
      );
    }
    const refusal = this.overBudget(caller, performance.now());
    if (refusal) return Promise.reject(refusal);
    return new Promise<SparqlReply>((resolve, reject) => {
      if (!lane) {
        // An originator whose call is running is not new: it waits for the lanes served since, or a caller that
        // always keeps one call waiting behind its running one would never let the others have a turn.
        lane = { calls: [], servedAt: this.current?.caller.key === caller.key ? this.current.servedAt : 0 };
        this.lanes.set(caller.key, lane);
      }
      lane.calls.push({ caller, message, resolve, reject });
      this.queued++;
      this.next();
    });
  }

  /** The lane served longest ago (one that just got calls again counts as never), oldest first among equals. */
  private takeNext(): { waiting: Waiting; servedAt: number } | undefined {
    let chosen: [string, Lane] | undefined;
    for (const entry of this.lanes) if (!chosen || entry[1].servedAt < chosen[1].servedAt) chosen = entry;
    if (!chosen) return undefined;
    const [key, lane] = chosen;
    const waiting = lane.calls.shift();
    if (!waiting) {
      this.lanes.delete(key);
      return this.takeNext();
    }
    this.queued--;
    const servedAt = ++this.dispatched;
    // Re-inserted at the end: among lanes served equally long ago, the others come first next time.
    this.lanes.delete(key);
    if (lane.calls.length > 0) this.lanes.set(key, { calls: lane.calls, servedAt });
    return { waiting, servedAt };
  }

  private next(): void {
    if (this.current || this.closed || this.paused) return;
    let waiting: Waiting;
    let servedAt: number;
    for (;;) {
      const taken = this.takeNext();
      if (!taken) return;
      ({ waiting, servedAt } = taken);
      // The budget is checked again when the call's turn comes: calls queued before it ran out wait no more.
      const refusal = this.overBudget(waiting.caller, performance.now());
      if (!refusal) break;
      waiting.reject(refusal);
    }
    // A worker whose WebAssembly memory has grown is replaced between calls (that memory never shrinks).
    if (this.worker && process.memoryUsage.rss() - this.rssAtWorkerStart > RECYCLE_GROWTH) this.discardWorker();
    let worker: Worker;
    try {
      worker = this.ensureWorker();
    } catch (err) {
      waiting.reject(new CseError(RSC.INTERNAL_SERVER_ERROR, `the semantic engine could not start: ${(err as Error).message}`));
      this.next();
      return;
    }
    const id = this.nextId++;
    // Until the worker is ready, only its start-up is timed; the call's own time starts in startClock.
    const timer = setTimeout(() => this.fail(new CseError(RSC.INTERNAL_SERVER_ERROR, 'the semantic engine did not start in time')), STARTUP_LIMIT_MS);
    this.current = { id, caller: waiting.caller, servedAt, resolve: waiting.resolve, reject: waiting.reject, timer };
    if (this.workerReady) this.startClock();
    worker.postMessage({ ...waiting.message, id } satisfies SparqlCall);
  }

  /** The current call reaches a ready worker: its time limit, memory watch and cost start now. */
  private startClock(): void {
    const current = this.current;
    if (!current || current.startedAt !== undefined) return;
    clearTimeout(current.timer);
    current.startedAt = performance.now();
    const rssLimit = process.memoryUsage.rss() + MAX_CALL_GROWTH;
    // A started call may run its whole time limit even past its originator's budget: the budget may go into
    // debt by one call at most, which the originator then waits out. The budget refuses calls, never cuts
    // one short, so a call's fate does not depend on what else its originator did that minute.
    current.timer = setTimeout(() => {
      this.fail(new CseError(RSC.REQUEST_TIMEOUT, `a semantic operation took longer than ${this.timeLimitMs} ms and was stopped`));
    }, this.timeLimitMs);
    current.watch = setInterval(() => {
      if (process.memoryUsage.rss() > rssLimit) this.fail(new CseError(RSC.NOT_ACCEPTABLE, `a semantic operation needed more than ${MAX_CALL_GROWTH >> 20} MiB and was stopped`));
    }, WATCH_INTERVAL_MS);
    current.watch.unref();
  }

  /** What is left of the caller's budget at `now`, in ms (Infinity without a budget). */
  private budgetLeft(caller: SemanticCaller, now: number): number {
    const perMinute = this.fairness.secondsPerMinute * 1000;
    if (!caller.limited || perMinute <= 0) return Infinity;
    const spent = this.budgets.get(caller.key);
    if (!spent) return perMinute;
    return Math.min(perMinute, spent.left + (Math.max(0, now - spent.at) * perMinute) / MINUTE_MS);
  }

  private overBudget(caller: SemanticCaller, now: number): CseError | undefined {
    const left = this.budgetLeft(caller, now);
    if (left >= Math.min(MIN_START_MS, this.fairness.secondsPerMinute * 1000)) return undefined;
    const perMs = (this.fairness.secondsPerMinute * 1000) / MINUTE_MS;
    const retry = Math.max(1, Math.ceil((MIN_START_MS - left) / perMs / 1000));
    return new CseError(
      RSC.SERVICE_SUBSCRIPTION_LIMITS_EXCEEDED,
      `${whoIs(caller)} is out of semantic processing time: it has used its ${this.fairness.secondsPerMinute} s per minute (discovery.semanticSecondsPerMinute); retry in ${retry} s`,
      retry,
    );
  }

  private charge(caller: SemanticCaller, ms: number, now: number): void {
    const left = this.budgetLeft(caller, now);
    if (left === Infinity) return;
    if (this.budgets.size >= MAX_BUDGETS && !this.budgets.has(caller.key)) {
      for (const key of this.budgets.keys()) if (this.budgetLeft({ key, limited: true }, now) >= this.fairness.secondsPerMinute * 1000) this.budgets.delete(key);
      // Still full (that many originators busy within a minute): the oldest entries go, and memory stays bounded.
      for (const key of this.budgets.keys()) {
        if (this.budgets.size < MAX_BUDGETS / 2) break;
        this.budgets.delete(key);
      }
    }
    this.budgets.set(caller.key, { left: left - ms, at: now });
  }

  /** Ends the current call with an error, and the worker with it (it may be stuck in the call). */
  private fail(err: Error): void {
    this.endCurrent(err);
    this.discardWorker();
    this.next();
  }

  private endCurrent(err?: Error, reply?: SparqlReply): void {
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    clearTimeout(current.timer);
    clearInterval(current.watch);
    const now = performance.now();
    if (current.startedAt !== undefined) this.charge(current.caller, now - current.startedAt, now);
    if (reply) current.resolve(reply);
    else current.reject(err ?? new CseError(RSC.INTERNAL_SERVER_ERROR, 'the semantic engine stopped'));
  }

  private discardWorker(): void {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) void worker.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    // The worker's heap is bounded: a query that materialises too much ends the worker, not the CSE.
    const worker = new Worker(new URL('./sparqlWorker.js', import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: 512 } });
    worker.unref();
    this.rssAtWorkerStart = process.memoryUsage.rss();
    this.workerReady = false;
    worker.on('message', (reply: SparqlReply) => {
      if (this.worker !== worker) return;
      if (reply.id === READY) {
        this.workerReady = true;
        // Growth is counted from the loaded engine, not from an empty thread.
        this.rssAtWorkerStart = process.memoryUsage.rss();
        this.startClock();
        return;
      }
      if (this.current?.id !== reply.id) return;
      this.endCurrent(undefined, reply);
      this.next();
    });
    worker.on('error', (err) => {
      if (this.worker === worker) this.fail(new CseError(RSC.INTERNAL_SERVER_ERROR, `the semantic engine failed: ${err.message}`));
    });
    worker.on('exit', () => {
      if (this.worker === worker) this.fail(new CseError(RSC.INTERNAL_SERVER_ERROR, 'the semantic engine stopped'));
    });
    this.worker = worker;
    return worker;
  }
}

function checkLength(sparql: string): void {
  if (sparql.length > MAX_SPARQL_LENGTH) throw badRequest(`a SPARQL text may be at most ${MAX_SPARQL_LENGTH} characters`);
}

function whoIs(caller: SemanticCaller): string {
  return caller.key === ANONYMOUS_CALLER ? 'the originators that are neither authenticated nor registered (they share one quota)' : `originator '${caller.key}'`;
}
