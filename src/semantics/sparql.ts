// The CSE's side of SPARQL (TS-0034 via TS-0004 §7.3.3.18-19): descriptor checks, semanticOpExec updates,
// semantic discovery and semantic queries, each carried out by one worker thread. A call that runs longer
// than its time limit terminates the worker (a SPARQL query can be made arbitrarily costly); the next call
// starts a fresh one.
import { Worker } from 'node:worker_threads';
import { CseError, badRequest } from '../primitive/errors.js';
import { RSC } from '../primitive/rsc.js';
import type { Descriptor, SparqlCall, SparqlReply } from './protocol.js';

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
 * Oxigraph's WebAssembly memory is outside the worker's heap limit and never shrinks: the process's resident
 * memory is watched while a call runs (a call that grows it by more than this is stopped), and a worker that
 * has grown by more than RECYCLE_GROWTH is replaced between calls.
 */
const MAX_CALL_GROWTH = 768 * 1024 * 1024;
const RECYCLE_GROWTH = 256 * 1024 * 1024;
const WATCH_INTERVAL_MS = 50;

export class SparqlEngine {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly queue: Array<{ message: Omit<SparqlCall, 'id'>; resolve: (reply: SparqlReply) => void; reject: (err: Error) => void }> = [];
  private current: { id: number; resolve: (reply: SparqlReply) => void; reject: (err: Error) => void; timer: NodeJS.Timeout; watch: NodeJS.Timeout } | undefined;
  private closed = false;
  private rssAtWorkerStart = 0;

  constructor(private readonly timeLimitMs: number) {}

  /** Refuses descriptor text that does not parse in its format (4000, as in ACME). */
  async checkDescriptor(text: string, format: string): Promise<void> {
    const reply = await this.call({ op: 'check', text, format });
    if (reply.error) throw badRequest(`the descriptor is not valid ${format}: ${reply.error.message.slice(0, 300)}`);
  }

  /** Applies a SPARQL Update (semanticOpExec) to a descriptor and returns the new descriptor text. */
  async applyUpdate(text: string, format: string, update: string): Promise<string> {
    checkLength(update);
    const reply = await this.call({ op: 'update', text, format, query: update });
    if (reply.error?.kind === 'update') throw new CseError(RSC.SPARQL_UPDATE_ERROR, `semanticOpExec failed: ${reply.error.message.slice(0, 300)}`);
    if (reply.error?.kind === 'size') throw new CseError(RSC.NOT_ACCEPTABLE, reply.error.message);
    if (reply.error) throw badRequest(`the stored descriptor is not valid ${format}: ${reply.error.message.slice(0, 300)}`);
    return reply.text ?? '';
  }

  /** Semantic discovery: the keys of the groups whose descriptors answer the query (a row, true, a triple). */
  async matching(query: string, descriptors: Descriptor[], groups: Array<{ key: string; names: string[] }>): Promise<Set<string>> {
    checkLength(query);
    if (groups.length === 0) return new Set();
    const reply = await this.call({ op: 'match', query, descriptors, groups });
    if (reply.error) throw new CseError(RSC.INVALID_SPARQL_QUERY, `semanticsFilter: ${reply.error.message.slice(0, 300)}`);
    return new Set(reply.keys ?? []);
  }

  /** Semantic query: the query over all the descriptors together, in a SPARQL results format. */
  async query(query: string, descriptors: Descriptor[], resultsFormat: 'json' | 'xml'): Promise<string> {
    checkLength(query);
    const reply = await this.call({ op: 'query', query, descriptors, resultsFormat });
    if (reply.error?.kind === 'size') throw new CseError(RSC.NOT_ACCEPTABLE, reply.error.message);
    if (reply.error) throw new CseError(RSC.INVALID_SPARQL_QUERY, `semantic query: ${reply.error.message.slice(0, 300)}`);
    return reply.text ?? '';
  }

  async close(): Promise<void> {
    this.closed = true;
    const stopping = new CseError(RSC.INTERNAL_SERVER_ERROR, 'the CSE is stopping');
    for (const waiting of this.queue.splice(0)) waiting.reject(stopping);
    this.endCurrent(stopping);
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  /**
   * Calls run one at a time, each with its own time limit and memory watch from the moment it is sent: a
   * costly call is stopped alone, and the calls queued behind it go to a fresh worker.
   */
  private call(message: Omit<SparqlCall, 'id'>): Promise<SparqlReply> {
    if (this.closed) return Promise.reject(new CseError(RSC.INTERNAL_SERVER_ERROR, 'the CSE is stopping'));
    if (this.queue.length >= MAX_PENDING) return Promise.reject(new CseError(RSC.INTERNAL_SERVER_ERROR, 'too many semantic operations at once; retry later'));
    return new Promise<SparqlReply>((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      this.next();
    });
  }

  private next(): void {
    if (this.current || this.closed) return;
    const waiting = this.queue.shift();
    if (!waiting) return;
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
    const rssLimit = process.memoryUsage.rss() + MAX_CALL_GROWTH;
    const timer = setTimeout(() => {
      this.fail(new CseError(RSC.REQUEST_TIMEOUT, `a semantic operation took longer than ${this.timeLimitMs} ms and was stopped`));
    }, this.timeLimitMs);
    const watch = setInterval(() => {
      if (process.memoryUsage.rss() > rssLimit) this.fail(new CseError(RSC.NOT_ACCEPTABLE, `a semantic operation needed more than ${MAX_CALL_GROWTH >> 20} MiB and was stopped`));
    }, WATCH_INTERVAL_MS);
    watch.unref();
    this.current = { id, resolve: waiting.resolve, reject: waiting.reject, timer, watch };
    worker.postMessage({ ...waiting.message, id } satisfies SparqlCall);
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
    worker.on('message', (reply: SparqlReply) => {
      if (this.worker !== worker || this.current?.id !== reply.id) return;
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
