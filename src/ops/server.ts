// The operations listener: liveness, readiness and Prometheus metrics on an address of their own (ops.host,
// ops.port), apart from the oneM2M bindings. It serves no resource data and takes no input beyond the path.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log/logger.js';
import type { CseMetrics } from './metrics.js';
import { hostAllowed } from '../bindings/browserGuard.js';

/** One dependency's state: `required` ones make the CSE not ready; others only degrade it (local service goes on). */
export interface ReadinessCheck {
  readonly name: string;
  readonly required: boolean;
  /** Resolves when the dependency answers; rejects (or times out) with the reason when it does not. */
  check(): Promise<void>;
}

export interface RunningOpsListener {
  readonly port: number;
  close(): Promise<void>;
}

/** A probe that does not answer within this time counts as failed: /ready must answer while the database hangs. */
const CHECK_TIMEOUT_MS = 2_000;

export async function probe(check: ReadinessCheck): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check.check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS / 1000} s`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message || err.name : String(err);
  } finally {
    clearTimeout(timer);
  }
}

/** Readiness: 200 when every required dependency answers, else 503 with the reasons; optional ones degrade only. */
export async function readiness(checks: readonly ReadinessCheck[], metrics: CseMetrics): Promise<{ status: number; body: Record<string, unknown> }> {
  const results = await Promise.all(checks.map(async (c) => ({ check: c, problem: await probe(c) })));
  const dependencies: Record<string, string> = {};
  const reasons: string[] = [];
  const degraded: string[] = [];
  for (const { check, problem } of results) {
    dependencies[check.name] = problem === undefined ? 'up' : `down: ${problem}`;
    metrics.dependency(check.name, problem === undefined);
    if (problem === undefined) continue;
    if (check.required) reasons.push(`${check.name}: ${problem}`);
    else degraded.push(check.name);
  }
  if (reasons.length > 0) return { status: 503, body: { status: 'not ready', reason: reasons.join('; '), dependencies } };
  return { status: 200, body: { status: degraded.length > 0 ? 'degraded' : 'ready', ...(degraded.length > 0 ? { degraded } : {}), dependencies } };
}

export async function startOpsListener(options: { host: string; port: number; allowedHosts: readonly string[] }, checks: readonly ReadinessCheck[], metrics: CseMetrics, log: Logger): Promise<RunningOpsListener> {
  const json = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    // A web page whose name was rebound to this address would read /ready's dependency errors and /metrics: the same
    // DNS-rebinding guard as the HTTP binding's (IP literals and localhost, or ops.allowedHosts).
    if (!hostAllowed(req.headers.host, options.allowedHosts)) return json(res, 400, { error: 'this Host is not served here (ops.allowedHosts)' });
    const path = (req.url ?? '/').split('?')[0];
    void (async () => {
      switch (path) {
        case '/live':
          return json(res, 200, { status: 'live' });
        case '/ready': {
          const { status, body } = await readiness(checks, metrics);
          return json(res, status, body);
        }
        case '/metrics': {
          const text = await metrics.registry.metrics();
          res.writeHead(200, { 'Content-Type': metrics.registry.contentType, 'Cache-Control': 'no-store' });
          res.end(text);
          return;
        }
        default:
          return json(res, 404, { error: 'not found: /live, /ready and /metrics are served here' });
      }
    })().catch((err: unknown) => {
      log.error({ err }, 'operations listener failure');
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error): void => reject(new Error(`the operations listener cannot listen on ${options.host}:${options.port} (ops.port): ${err.message}`));
    server.once('error', failed);
    server.listen(options.port, options.host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
