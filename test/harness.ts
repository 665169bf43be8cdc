// In-process CSE on an ephemeral loopback port, and a small oneM2M-over-HTTP client for tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config, type ConfigOverrides } from '../src/config/config.js';
import { createLogger, type Logger } from '../src/log/logger.js';
import { startCse, type RunningCse } from '../src/main.js';
import type { Clock } from '../src/pipeline/clock.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

export interface Reply {
  status: number;
  rsc: number;
  headers: Headers;
  body: Record<string, unknown> | undefined;
  text: string;
}

export interface RequestOptions {
  origin?: string | undefined;
  ty?: number;
  body?: unknown;
  /** Raw body text, sent as is (for malformed-input tests). */
  raw?: string;
  headers?: Record<string, string>;
  rvi?: string | null;
  rqi?: string | null;
  host?: string;
}

let counter = 0;

export class TestClient {
  constructor(readonly baseUrl: string) {}

  async request(method: string, path: string, options: RequestOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
    if (options.origin !== undefined) headers['X-M2M-Origin'] = options.origin;
    if (options.rqi !== null) headers['X-M2M-RI'] = options.rqi ?? `rq-${++counter}`;
    if (options.rvi !== null) headers['X-M2M-RVI'] = options.rvi ?? '3';
    let body: string | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined && headers['Content-Type'] === undefined) {
      headers['Content-Type'] = options.ty === undefined ? 'application/json' : `application/json;ty=${options.ty}`;
    }
    const res = await fetch(`${options.host ?? this.baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    let parsed: Record<string, unknown> | undefined;
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, rsc: Number(res.headers.get('x-m2m-rsc')), headers: res.headers, body: parsed, text };
  }

  create(path: string, ty: number, body: unknown, origin: string, extra: RequestOptions = {}): Promise<Reply> {
    return this.request('POST', path, { ...extra, origin, ty, body });
  }
  retrieve(path: string, origin: string, extra: RequestOptions = {}): Promise<Reply> {
    return this.request('GET', path, { ...extra, origin });
  }
  update(path: string, body: unknown, origin: string, extra: RequestOptions = {}): Promise<Reply> {
    return this.request('PUT', path, { ...extra, origin, body });
  }
  delete(path: string, origin: string, extra: RequestOptions = {}): Promise<Reply> {
    return this.request('DELETE', path, { ...extra, origin });
  }

  /** Registers an AE named `name` with AE-ID `C<name>` and returns that AE-ID. */
  async registerAe(name: string, extra: Record<string, unknown> = {}): Promise<string> {
    const reply = await this.create('/cse-in', 2, { 'm2m:ae': { rn: name, api: `N${name}`, rr: false, srv: ['3'], ...extra } }, `C${name}`);
    if (reply.rsc !== 2001) throw new Error(`registration of ${name} failed: ${reply.rsc} ${reply.text}`);
    return `C${name}`;
  }
}

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private current = Date.UTC(2026, 10, 25, 12, 0, 0)) {}
  now(): number {
    return this.current;
  }
  set(ms: number): void {
    this.current = ms;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

export interface TestCse {
  readonly cse: RunningCse;
  readonly client: TestClient;
  readonly config: Config;
  readonly url: string;
  close(): Promise<void>;
}

export function tempDatabase(): string {
  return join(mkdtempSync(join(tmpdir(), 'warden-test-')), 'warden.sqlite');
}

/** Test files that set this to 'postgres' run their CSEs on a database of their own (see test/onPostgres). */
export const TEST_BACKEND_VARIABLE = 'WARDEN_TEST_BACKEND';

/**
 * Every test topology puts its receivers (and IPEs, brokers, CoAP servers) on loopback, which the outbound
 * policy refuses by default: test CSEs allow it here, in one place. Tests of the policy itself override it.
 */
export const TEST_OUTBOUND_ALLOW = '127.0.0.0/8,::1/128';

export async function startTestCse(overrides: ConfigOverrides = {}, options: { clock?: Clock; holdDeliveries?: boolean; opsPort?: number; logger?: Logger } = {}): Promise<TestCse> {
  let db: TestDatabase | undefined;
  if (process.env[TEST_BACKEND_VARIABLE] === 'postgres' && overrides['storage.backend'] === undefined) {
    db = await createTestDatabase();
    overrides = { ...overrides, 'storage.backend': 'postgres', 'storage.url': db.url };
  }
  const config = loadConfig({
    flags: { 'http.port': 0, 'ops.port': 0, 'storage.path': ':memory:', 'storage.durability': 'normal', 'log.level': 'silent', 'outbound.allow': TEST_OUTBOUND_ALLOW, ...overrides },
  });
  let cse: RunningCse;
  try {
    cse = await startCse(config, { logger: createLogger('silent'), ...options });
  } catch (err) {
    await db?.drop();
    throw err;
  }
  const url = `http://127.0.0.1:${cse.httpPort}`;
  return {
    cse,
    client: new TestClient(url),
    config,
    url,
    async close() {
      try {
        await cse.close();
      } finally {
        await db?.drop();
      }
    },
  };
}

const WARDEN = fileURLToPath(new URL('../../bin/warden.js', import.meta.url));

/** Stops a spawned Warden and waits for it, whether or not it is still running. */
export async function stopWarden(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Starts `warden serve` as a separate process and resolves once it listens. */
export async function spawnWarden(flags: string[]): Promise<{ child: ChildProcess; client: TestClient; port: number }> {
  const child = spawn(process.execPath, [WARDEN, 'serve', '--http.port=0', '--ops.port=0', '--log.level=warn', `--outbound.allow=${TEST_OUTBOUND_ALLOW}`, ...flags], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    out += chunk.toString();
    const m = /listening on https?:\/\/127\.0\.0\.1:(\d+)/.exec(out);
    if (m) return { child, client: new TestClient(`http://127.0.0.1:${m[1]}`), port: Number(m[1]) };
  }
  throw new Error(`warden did not start: ${out}`);
}

/** A TCP port that was free a moment ago, for helpers that cannot bind to port 0 themselves. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
