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
  return { cookie: set.split(';')[0] ?? '', csrf: typeof reply.body.csrf === 'string' ? reply.body.csrf : '', reply };
}

/** A oneM2M request through the console as the session's originator. */
export async function consoleRequest(base: string, session: Signed, method: string, path: string, body?: unknown, ty?: number): Promise<{ rsc: number; pc: Record<string, unknown> | undefined }> {
  const reply = await api(base, 'POST', 'request', { method, path, ...(body === undefined ? {} : { body }), ...(ty === undefined ? {} : { ty }) }, session);
  if (reply.status !== 200) throw new Error(`console request refused: ${reply.status} ${JSON.stringify(reply.body)}`);
  return { rsc: Number(reply.body.rsc), pc: reply.body.pc as Record<string, unknown> | undefined };
}

/** A stored XSS attempt: markup in labels and content, which the console must show as text. */
export const XSS_LABELS = ['<img src=x onerror="window.__xss=1">', '<script>window.__xss=2</script>'];

export interface Demo {
  /** The policy on alice's `data` container: bob may RETRIEVE (and discover) it, alice may do anything. */
  readonly acpRi: string;
}

/**
 * The tree the browser tests and the screenshots use: AEs alice and bob; alice's `data` (readable by bob through a
 * policy only alice may read), `private` (alice's alone, no policy) and `labelled` (an XSS payload in its labels).
 */
export async function seedDemo(t: TestCse): Promise<Demo> {
  await t.client.registerAe('alice');
  await t.client.registerAe('bob');
  const acp = await t.client.create(
    '/cse-in/alice',
    1,
    { 'm2m:acp': { rn: 'acp', pv: { acr: [{ acor: ['Cbob'], acop: 34 }, { acor: ['Calice'], acop: 63 }] }, pvs: { acr: [{ acor: ['Calice'], acop: 63 }] } } },
    'Calice',
  );
  const acpRi = String((acp.body?.['m2m:acp'] as Record<string, unknown>).ri);
  const made = [
    await t.client.create('/cse-in/alice', 3, { 'm2m:cnt': { rn: 'data', acpi: [acpRi], lbl: ['sensor', 'temperature'] } }, 'Calice'),
    await t.client.create('/cse-in/alice/data', 4, { 'm2m:cin': { cnf: 'text/plain:0', con: '21.5' } }, 'Calice'),
    await t.client.create('/cse-in/alice', 3, { 'm2m:cnt': { rn: 'private' } }, 'Calice'),
    await t.client.create('/cse-in/alice', 3, { 'm2m:cnt': { rn: 'labelled', lbl: XSS_LABELS } }, 'Calice'),
    await t.client.create('/cse-in/alice/labelled', 4, { 'm2m:cin': { con: '<svg onload="window.__xss=3"></svg>' } }, 'Calice'),
  ];
  for (const reply of made) if (reply.rsc !== 2001) throw new Error(`seeding the demo tree failed: ${reply.rsc} ${reply.text}`);
  return { acpRi };
}
