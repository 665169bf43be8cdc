// The SPARQL worker: parses descriptors and runs queries with Oxigraph, off the main thread, so that a
// costly query can be stopped (the worker is terminated) without stopping the CSE.
import { parentPort } from 'node:worker_threads';
import * as ox from 'oxigraph';
import { READY, type SparqlCall, type SparqlReply } from './protocol.js';

/** Largest SPARQL result (or updated descriptor) handed back. */
const MAX_RESULT_LENGTH = 16 * 1024 * 1024;

function graphName(name: string): ox.NamedNode {
  return ox.namedNode(`urn:warden:smd:${encodeURIComponent(name)}`);
}

function nonEmpty(result: ReturnType<ox.Store['query']>): boolean {
  if (typeof result === 'boolean') return result;
  if (typeof result === 'string') return result.length > 0;
  return result.length > 0;
}

function storeOf(descriptors: SparqlCall['descriptors']): ox.Store {
  const store = new ox.Store();
  for (const d of descriptors ?? []) {
    try {
      store.load(d.text, { format: d.format, to_graph_name: graphName(d.name) });
    } catch {
      // Descriptors were checked when stored; one that no longer parses is left out, not fatal.
    }
  }
  return store;
}

function handle(call: SparqlCall): SparqlReply {
  switch (call.op) {
    case 'check':
      try {
        ox.parse(call.text ?? '', { format: call.format ?? '' });
        return { id: call.id, ok: true };
      } catch (err) {
        return { id: call.id, error: { kind: 'descriptor', message: (err as Error).message } };
      }
    case 'update': {
      const store = new ox.Store();
      try {
        store.load(call.text ?? '', { format: call.format ?? '' });
      } catch (err) {
        return { id: call.id, error: { kind: 'descriptor', message: (err as Error).message } };
      }
      try {
        store.update(call.query ?? '');
      } catch (err) {
        return { id: call.id, error: { kind: 'update', message: (err as Error).message } };
      }
      const text = store.dump({ format: call.format ?? '', from_graph_name: ox.defaultGraph() });
      if (text.length > MAX_RESULT_LENGTH) return { id: call.id, error: { kind: 'size', message: 'the updated descriptor is too large' } };
      return { id: call.id, text };
    }
    case 'match': {
      const store = storeOf(call.descriptors);
      const keys: string[] = [];
      try {
        for (const group of call.groups ?? []) {
          if (group.names.length === 0) continue;
          // The group's own graphs, also for GRAPH patterns: no query sees another resource's descriptors.
          const graphs = group.names.map(graphName);
          if (nonEmpty(store.query(call.query ?? '', { default_graph: graphs, named_graphs: graphs }))) keys.push(group.key);
        }
      } catch (err) {
        return { id: call.id, error: { kind: 'query', message: (err as Error).message } };
      }
      return { id: call.id, keys };
    }
    case 'query': {
      const store = storeOf(call.descriptors);
      try {
        const names = (call.descriptors ?? []).map((d) => graphName(d.name));
        const result = store.query(call.query ?? '', { default_graph: names, named_graphs: names, results_format: call.resultsFormat ?? 'json' });
        const text = typeof result === 'string' ? result : JSON.stringify(result);
        if (text.length > MAX_RESULT_LENGTH) return { id: call.id, error: { kind: 'size', message: `the semantic query result exceeds ${MAX_RESULT_LENGTH >> 20} MiB` } };
        return { id: call.id, text };
      } catch (err) {
        return { id: call.id, error: { kind: 'query', message: (err as Error).message } };
      }
    }
  }
}

parentPort?.on('message', (call: SparqlCall) => {
  parentPort?.postMessage(handle(call));
});
// Oxigraph is loaded (the imports above ran first): the CSE starts timing calls from here.
parentPort?.postMessage({ id: READY, ok: true } satisfies SparqlReply);
