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
/** Calls waiting for the worker at once; more are refused rather than queued without bound. */
const MAX_PENDING = 64;
/**
 * Oxigraph's WebAssembly memory is outside the worker's heap limit and never shrinks: the process's resident
 * memory is watched while calls run (a call that grows it by more than this is stopped), and a worker that
 * has grown by more than RECYCLE_GROWTH is replaced once it is idle.
 */
const MAX_CALL_GROWTH = 768 * 1024 * 1024;
const RECYCLE_GROWTH = 256 * 1024 * 1024;
const WATCH_INTERVAL_MS = 50;

interface Pending {
  resolve: (reply: SparqlReply) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class SparqlEngine {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  private rssAtWorkerStart = 0;
  private watch: NodeJS.Timeout | undefined;
  private rssLimit = Infinity;

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
    this.stopWatching();
    this.failAll(new CseError(RSC.INTERNAL_SERVER_ERROR, 'the CSE is stopping'));
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private call(message: Omit<SparqlCall, 'id'>): Promise<SparqlReply> {
    if (this.closed) return Promise.reject(new CseError(RSC.INTERNAL_SERVER_ERROR, 'the CSE is stopping'));
    if (this.pending.size >= MAX_PENDING) return Promise.reject(new CseError(RSC.INTERNAL_SERVER_ERROR, 'too many semantic operations at once; retry later'));
    const worker = this.ensureWorker();
    const id = this.nextId++;
    this.startWatching();
    return new Promise<SparqlReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Every call queued on this worker is lost with it; they fail rather than wait for ever.
        this.stop(new CseError(RSC.REQUEST_TIMEOUT, `a semantic operation took longer than ${this.timeLimitMs} ms and was stopped`));
      }, this.timeLimitMs);
      this.pending.set(id, { resolve, reject, timer });
      worker.postMessage({ ...message, id } satisfies SparqlCall);
    });
  }

  /** Ends the worker and every call on it. */
  private stop(err: Error): void {
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(err);
    if (worker) void worker.terminate();
  }

  private startWatching(): void {
    if (this.watch) return;
    this.rssLimit = process.memoryUsage.rss() + MAX_CALL_GROWTH;
    this.watch = setInterval(() => {
      if (process.memoryUsage.rss() > this.rssLimit) {
        this.stop(new CseError(RSC.NOT_ACCEPTABLE, `a semantic operation needed more than ${MAX_CALL_GROWTH >> 20} MiB and was stopped`));
      }
    }, WATCH_INTERVAL_MS);
    this.watch.unref();
  }

  private stopWatching(): void {
    if (this.watch) clearInterval(this.watch);
    this.watch = undefined;
  }

  /** Once idle: stop watching, and replace a worker whose memory has grown (WebAssembly memory never shrinks). */
  private idle(): void {
    if (this.pending.size > 0) return;
    this.stopWatching();
    if (this.worker && process.memoryUsage.rss() - this.rssAtWorkerStart > RECYCLE_GROWTH) {
      void this.worker.terminate();
      this.worker = undefined;
    }
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    // The worker's heap is bounded: a query that materialises too much ends the worker, not the CSE.
    const worker = new Worker(new URL('./sparqlWorker.js', import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: 512 } });
    worker.unref();
    this.rssAtWorkerStart = process.memoryUsage.rss();
    worker.on('message', (reply: SparqlReply) => {
      const pending = this.pending.get(reply.id);
      if (!pending) return;
      this.pending.delete(reply.id);
      clearTimeout(pending.timer);
      pending.resolve(reply);
      this.idle();
    });
    worker.on('error', (err) => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(new CseError(RSC.INTERNAL_SERVER_ERROR, `the semantic engine failed: ${err.message}`));
    });
    worker.on('exit', () => {
      if (this.worker === worker) {
        this.worker = undefined;
        this.failAll(new CseError(RSC.INTERNAL_SERVER_ERROR, 'the semantic engine stopped'));
      }
    });
    this.worker = worker;
    return worker;
  }

  private failAll(err: Error): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(err);
      this.pending.delete(id);
    }
    this.stopWatching();
  }
}

function checkLength(sparql: string): void {
  if (sparql.length > MAX_SPARQL_LENGTH) throw badRequest(`a SPARQL text may be at most ${MAX_SPARQL_LENGTH} characters`);
}
