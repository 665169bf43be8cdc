// A small closed-loop HTTP load generator: N clients, each sending its next request when the last returns.
import { Agent, request } from 'node:http';
import { Agent as TlsAgent, request as tlsRequest } from 'node:https';

/** Client TLS material, when the CSE serves HTTPS with mutual authentication. */
export interface ClientTls {
  ca: string;
  cert: string;
  key: string;
}

export interface LoadRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** Each request's latency (ms), sorted, where the run kept them. */
  latencies?: number[];
}

function send(agent: Agent, port: number, r: LoadRequest, tls: ClientTls | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port, method: r.method, path: r.path, headers: r.headers, agent };
    const call = tls ? tlsRequest : request;
    const req = call(options, (res) => {
      res.resume();
      res.on('end', () => resolve(Number(res.headers['x-m2m-rsc'] ?? 0)));
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

/** One request outside the measured run (scenario set-up): its RSC and parsed body. */
export function sendOnce(port: number, r: LoadRequest, tls?: ClientTls): Promise<{ rsc: number; body: Record<string, unknown> | undefined; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port, method: r.method, path: r.path, headers: r.headers, ...(tls ? { ...tls, servername: 'localhost', agent: false } : {}) };
    const call = tls ? tlsRequest : request;
    const req = call(options, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ rsc: Number(res.headers['x-m2m-rsc'] ?? 0), body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/**
 * Runs `total` requests from `concurrency` clients; `make(i)` builds request i (unique request IDs).
 * `ok` decides which RSCs count as success.
 */
export async function runLoad(
  ports: readonly number[],
  concurrency: number,
  total: number,
  make: (i: number) => LoadRequest,
  ok: (rsc: number) => boolean,
  tls?: ClientTls,
): Promise<LoadResult> {
  const agent = tls ? new TlsAgent({ keepAlive: true, maxSockets: concurrency, ...tls, servername: 'localhost' }) : new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = process.hrtime.bigint();
  const client = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      const t0 = process.hrtime.bigint();
      // Round robin over the processes, as a load balancer would.
      const rsc = await send(agent, ports[i % ports.length] as number, make(i), tls).catch(() => 0);
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (!ok(rsc)) errors++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { requests: total, errors, seconds, perSecond: total / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), latencies };
}
