// Messages between the CSE and its SPARQL worker.

/** A descriptor as the worker loads it: its name (the semanticDescriptor's ri), RDF text and media type. */
export interface Descriptor {
  name: string;
  text: string;
  format: string;
}

export interface SparqlCall {
  id: number;
  op: 'check' | 'update' | 'match' | 'query';
  text?: string;
  format?: string;
  /** The SPARQL query (match, query) or update (update). */
  query?: string;
  descriptors?: Descriptor[];
  /** match: the query runs once per group, over the group's descriptors; matching keys come back. */
  groups?: Array<{ key: string; names: string[] }>;
  /** query: SPARQL results format, 'json' or 'xml'. */
  resultsFormat?: string;
}

/** The id of the reply a worker sends, unasked, once it has loaded Oxigraph and takes calls. */
export const READY = 0;

export interface SparqlReply {
  id: number;
  ok?: true;
  text?: string;
  keys?: string[];
  error?: { kind: 'descriptor' | 'query' | 'update' | 'size'; message: string };
}
