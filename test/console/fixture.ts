// A test CSE with the web console on, sign-in tokens in a directory of its own, and a small console API client.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigOverrides } from '../../src/config/config.js';
import type { Clock } from '../../src/pipeline/clock.js';
import { mintToken } from '../../src/console/signInTokens.js';
import { startTestCse, type TestCse } from '../harness.js';

export interface ConsoleCse extends TestCse {
  readonly tokenDir: string;
  /** A sign-in token for `originator`, as `warden console-token` mints it. */
  mint(originator: string, lifetimeSeconds?: number): string;
}

export async function startConsoleCse(overrides: ConfigOverrides = {}, options: { clock?: Clock } = {}): Promise<ConsoleCse> {
  const tokenDir = join(mkdtempSync(join(tmpdir(), 'warden-console-')), 'tokens');
  const t = await startTestCse({ 'console.tokenDir': tokenDir, ...overrides }, options);
  const now = (): number => (options.clock ?? { now: () => Date.now() }).now();
  return { ...t, tokenDir, mint: (originator, lifetimeSeconds = 300) => mintToken(tokenDir, originator, lifetimeSeconds, now()).token };
}

export interface ApiReply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

export interface Signed {
  cookie: string;
  csrf: string;
}

/** One console API call; `session` adds the cookie and the CSRF header, `origin` overrides the Origin header. */
export async function api(base: string, method: string, route: string, body?: unknown, session?: Partial<Signed>, origin: string | null = base): Promise<ApiReply> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (origin !== null) headers.Origin = origin;
  if (session?.cookie) headers.Cookie = session.cookie;
  if (session?.csrf) headers['X-Console-CSRF'] = session.csrf;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${base}/console/api/${route}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { text };
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Signs in with a token; the session's cookie (name=value) and CSRF token. */
export async function signIn(base: string, token: string, cookie?: string): Promise<Signed & { reply: ApiReply }> {
  const reply = await api(base, 'POST', 'session', { token }, cookie ? { cookie } : undefined);
  const set = reply.headers.get('set-cookie') ?? '';
  return { cookie: set.split(';')[0] ?? '', csrf: String(reply.body.csrf ?? ''), reply };
}

/** A oneM2M request through the console as the session's originator. */
export async function consoleRequest(base: string, session: Signed, method: string, path: string, body?: unknown, ty?: number): Promise<{ rsc: number; pc: Record<string, unknown> | undefined }> {
  const reply = await api(base, 'POST', 'request', { method, path, ...(body === undefined ? {} : { body }), ...(ty === undefined ? {} : { ty }) }, session);
  if (reply.status !== 200) throw new Error(`console request refused: ${reply.status} ${JSON.stringify(reply.body)}`);
  return { rsc: Number(reply.body.rsc), pc: reply.body.pc as Record<string, unknown> | undefined };
}
