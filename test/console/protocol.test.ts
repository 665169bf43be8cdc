// The web console's server side through its HTTP API: sign-in tokens, sessions, CSRF, the pipeline as the
// session's originator, the why view, security events and live views.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { consoleEnabled } from '../../src/console/settings.js';
import { CONTENT_SECURITY_POLICY } from '../../src/console/httpKit.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../harness.js';
import { api, consoleRequest, signIn, startConsoleCse, type ConsoleCse } from './fixture.js';

describe('web console: configuration', () => {
  it('refuses a cse.rn that collides with /console/ or /.well-known/', () => {
    for (const rn of ['console', 'Console']) {
      assert.throws(() => loadConfig({ flags: { 'cse.rn': rn } }), (err: unknown) => err instanceof ConfigError && /reserved/.test(err.message));
    }
    // A name starting with '.' is no resource name to begin with.
    assert.throws(() => loadConfig({ flags: { 'cse.rn': '.well-known' } }), ConfigError);
    assert.doesNotThrow(() => loadConfig({ flags: { 'cse.rn': 'consoles' } }));
  });

  it('is on by default only while the HTTP listener is loopback-only', () => {
    assert.equal(consoleEnabled(loadConfig({})), true);
    assert.equal(consoleEnabled(loadConfig({ flags: { 'http.host': '::1' } })), true);
    assert.equal(consoleEnabled(loadConfig({ flags: { 'http.host': 'localhost' } })), true);
    assert.equal(consoleEnabled(loadConfig({ flags: { 'http.host': '0.0.0.0' } })), false);
    assert.equal(consoleEnabled(loadConfig({ flags: { 'http.host': '192.0.2.10' } })), false);
    assert.equal(consoleEnabled(loadConfig({ flags: { 'http.host': '0.0.0.0', 'console.enabled': 'on' } })), true);
    assert.equal(consoleEnabled(loadConfig({ flags: { 'console.enabled': 'off' } })), false);
  });

  it('when off, /console/ is not served (it is a oneM2M path like any other)', async () => {
    const t = await startConsoleCse({ 'console.enabled': 'off' });
    try {
      const res = await fetch(`${t.url}/console/`);
      assert.equal(res.headers.get('content-security-policy'), null);
      assert.notEqual(res.status, 200);
      assert.ok(res.headers.get('x-m2m-rsc'), 'answered by the oneM2M binding');
    } finally {
      await t.close();
    }
  });
});

describe('web console: pages', () => {
  let t: ConsoleCse;
  before(async () => {
    t = await startConsoleCse();
  });
  after(() => t.close());

  it('serves the page with a strict Content-Security-Policy and no inline script or style', async () => {
    const res = await fetch(`${t.url}/console/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
    assert.match(CONTENT_SECURITY_POLICY, /default-src 'none'/);
    assert.match(CONTENT_SECURITY_POLICY, /script-src 'self';/);
    assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval/);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const html = await res.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'every script is a file');
    assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i, 'no inline style or handler');
    const js = await fetch(`${t.url}/console/app.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    // The UI never builds HTML from text: Preact renders every value as a text node.
    const sources = new URL('../../../ui/console/', import.meta.url);
    for (const file of readdirSync(sources)) {
      if (/\.tsx?$/.test(file)) assert.doesNotMatch(readFileSync(new URL(file, sources), 'utf8'), /dangerouslySetInnerHTML|innerHTML|outerHTML|insertAdjacentHTML|document\.write/, file);
    }
  });

  it('serves only its own files, and reserves /.well-known/', async () => {
    for (const path of ['/console/../package.json', '/console/%2e%2e/package.json', '/console/nothing.js', '/console/app.js/x']) {
      const res = await fetch(`${t.url}${path}`);
      assert.ok(res.status === 404 || res.headers.get('x-m2m-rsc') !== null, `${path}: ${res.status}`);
      assert.doesNotMatch(await res.text(), /"name": "warden"/);
    }
    assert.equal((await fetch(`${t.url}/.well-known/security.txt`)).status, 404);
    assert.equal((await fetch(`${t.url}/console`, { redirect: 'manual' })).status, 308);
  });

  it('answers the DNS-rebinding guard before anything of the console', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${t.url}/console/`, { headers: { Host: 'attacker.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 400);
  });
});

describe('web console: sign-in', () => {
  const clock = new ManualClock(Date.now());
  let t: ConsoleCse;
  before(async () => {
    t = await startConsoleCse({ 'console.signInAttempts': 4, 'console.sessionLifetime': 600, 'console.tokenLifetime': 60 }, { clock });
  });
  after(() => t.close());

  it('exchanges a token once for an HttpOnly, SameSite=Strict session cookie', async () => {
    const token = t.mint('CAdmin');
    assert.equal(readdirSync(t.tokenDir).length, 1);
    const first = await signIn(t.url, token);
    assert.equal(first.reply.status, 200);
    assert.equal(first.reply.body.originator, 'CAdmin');
    assert.equal(first.reply.body.authenticated, false, 'a token session is not rq_authn');
    const set = first.reply.headers.get('set-cookie') ?? '';
    assert.match(set, /^warden-console=[A-Za-z0-9_-]{43};/);
    assert.match(set, /; HttpOnly/);
    assert.match(set, /; SameSite=Strict/);
    assert.match(set, /; Path=\/console\//);
    assert.doesNotMatch(set, /Secure/, 'plain HTTP: a Secure cookie would never be sent back');
    assert.equal(readdirSync(t.tokenDir).length, 0, 'the token is consumed');
    const again = await signIn(t.url, token);
    assert.equal(again.reply.status, 401);
    assert.equal(again.cookie, '');
    const me = await api(t.url, 'GET', 'session', undefined, { cookie: first.cookie });
    assert.equal(me.body.signedIn, true);
    assert.equal(me.body.csrf, first.csrf);
  });

  it('keeps only a hash of the token on disk, in a 0700 directory, in a 0600 file', () => {
    const token = t.mint('Cpending');
    const [name] = readdirSync(t.tokenDir);
    assert.ok(name);
    assert.equal(statSync(t.tokenDir).mode & 0o777, 0o700);
    assert.equal(statSync(`${t.tokenDir}/${name}`).mode & 0o777, 0o600);
    assert.ok(!readFileSync(`${t.tokenDir}/${name}`, 'utf8').includes(token));
    assert.ok(!name.includes(token));
  });

  it('refuses an expired token', async () => {
    const token = t.mint('CAdmin', 60);
    clock.advance(61_000);
    const reply = await signIn(t.url, token);
    assert.equal(reply.reply.status, 401);
    assert.match(String(reply.reply.body.error), /not valid/);
  });

  it('ends a session at its expiry, server-side', async () => {
    const s = await signIn(t.url, t.mint('CAdmin'));
    assert.equal((await api(t.url, 'GET', 'session', undefined, s)).body.signedIn, true);
    clock.advance(601_000);
    assert.equal((await api(t.url, 'GET', 'session', undefined, s)).body.signedIn, false);
    assert.equal((await api(t.url, 'POST', 'request', { method: 'GET', path: '/cse-in' }, s)).status, 401);
  });

  it('gives a new session id at every sign-in and ends the one the browser had (no fixation)', async () => {
    clock.advance(61_000); // a fresh rate-limit window
    const planted = 'warden-console=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const first = await signIn(t.url, t.mint('CAdmin'), planted);
    assert.equal(first.reply.status, 200);
    assert.notEqual(first.cookie, planted);
    const second = await signIn(t.url, t.mint('CAdmin'), first.cookie);
    assert.notEqual(second.cookie, first.cookie);
    assert.equal((await api(t.url, 'GET', 'session', undefined, { cookie: first.cookie })).body.signedIn, false, 'the previous session ended');
    assert.equal((await api(t.url, 'GET', 'session', undefined, { cookie: second.cookie })).body.signedIn, true);
  });

  it('rate-limits sign-in attempts per client address, valid token or not', async () => {
    clock.advance(61_000);
    for (let i = 0; i < 4; i++) assert.equal((await signIn(t.url, `guess${i}`.padEnd(43, 'x'))).reply.status, 401);
    const valid = t.mint('CAdmin');
    const limited = await signIn(t.url, valid);
    assert.equal(limited.reply.status, 429);
    assert.ok(Number(limited.reply.headers.get('retry-after')) >= 1);
    clock.advance(61_000);
    assert.equal((await signIn(t.url, valid)).reply.status, 200, 'the token was not consumed by the refused attempt');
  });

  it('lets a valid token sign in however many addresses failed (the total decides only how failures are answered)', async () => {
    clock.advance(61_000);
    /** A sign-in sent from `local` (any 127/8 address reaches the loopback listener). */
    const from = (local: string, body: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = httpRequest(`${t.url}/console/api/session`, { method: 'POST', localAddress: local, headers: { Origin: t.url, 'Content-Type': 'application/json' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(body);
      });
    // 11 addresses × 4 failures: past the total of 40 (10 × console.signInAttempts).
    const answers: number[] = [];
    for (let a = 2; a <= 12; a++) for (let i = 0; i < 4; i++) answers.push(await from(`127.0.0.${a}`, JSON.stringify({ token: `guess${a}-${i}`.padEnd(43, 'x') })));
    assert.ok(answers.includes(429), 'failures past the total are answered 429');
    assert.equal(await from('127.0.0.1', JSON.stringify({ token: t.mint('CAdmin') })), 200, 'an address that has not failed signs in');
    // JSON that is no object is a malformed sign-in (400), not an internal error.
    clock.advance(61_000);
    for (const body of ['null', '[]', '7']) assert.equal(await from('127.0.0.1', body), 400, body);
  });

  it('refuses sign-in from another origin and bodies that are not JSON', async () => {
    clock.advance(61_000);
    const token = t.mint('CAdmin');
    assert.equal((await api(t.url, 'POST', 'session', { token }, undefined, 'http://evil.example')).status, 403);
    assert.equal((await api(t.url, 'POST', 'session', { token }, undefined, null)).status, 403);
    const form = await fetch(`${t.url}/console/api/session`, { method: 'POST', headers: { Origin: t.url, 'Content-Type': 'application/x-www-form-urlencoded' }, body: `token=${token}` });
    assert.equal(form.status, 400);
    assert.equal((await signIn(t.url, token)).reply.status, 200, 'none of the refused calls consumed the token');
  });
});

describe('web console: requests as the signed-in originator', () => {
  let t: ConsoleCse;
  let admin: { cookie: string; csrf: string };
  let bob: { cookie: string; csrf: string };
  let alice: { cookie: string; csrf: string };
  let acpRi = '';
  before(async () => {
    t = await startConsoleCse();
    await t.client.registerAe('alice');
    await t.client.registerAe('bob');
    // alice's container is governed by a policy that lets bob RETRIEVE it and only alice read the policy.
    const acp = await t.client.create('/cse-in/alice', 1, { 'm2m:acp': { rn: 'acp', pv: { acr: [{ acor: ['Cbob'], acop: 2 }, { acor: ['Calice'], acop: 63 }] }, pvs: { acr: [{ acor: ['Calice'], acop: 63 }] } } }, 'Calice');
    acpRi = String((acp.body?.['m2m:acp'] as Record<string, unknown>).ri);
    await t.client.create('/cse-in/alice', 3, { 'm2m:cnt': { rn: 'data', acpi: [acpRi] } }, 'Calice');
    await t.client.create('/cse-in/alice', 3, { 'm2m:cnt': { rn: 'private' } }, 'Calice');
    admin = await signIn(t.url, t.mint('CAdmin'));
    bob = await signIn(t.url, t.mint('Cbob'));
    alice = await signIn(t.url, t.mint('Calice'));
  });
  after(() => t.close());

  it('refuses every data call without the CSRF token or from another origin', async () => {
    const call = { method: 'GET', path: '/cse-in' };
    assert.equal((await api(t.url, 'POST', 'request', call, { cookie: admin.cookie })).status, 403);
    assert.equal((await api(t.url, 'POST', 'request', call, { cookie: admin.cookie, csrf: bob.csrf })).status, 403, "another session's token");
    assert.equal((await api(t.url, 'POST', 'request', call, admin, 'http://evil.example')).status, 403);
    assert.equal((await api(t.url, 'POST', 'request', call, admin, null)).status, 403);
    assert.equal((await api(t.url, 'POST', 'request', call, { csrf: admin.csrf })).status, 401, 'no cookie, no session');
    assert.equal((await api(t.url, 'POST', 'request', call, admin)).status, 200);
    assert.equal((await api(t.url, 'DELETE', 'session', undefined, { cookie: admin.cookie })).status, 403, 'sign-out needs the CSRF token too');
  });

  it('sends each request through the pipeline as the session originator: the API answers, messages included', async () => {
    assert.equal((await consoleRequest(t.url, bob, 'GET', '/cse-in/alice/data')).rsc, 2000);
    const denied = await consoleRequest(t.url, bob, 'GET', '/cse-in/alice/private');
    assert.equal(denied.rsc, 4103);
    assert.match(String(denied.pc?.['m2m:dbg']), /Cbob/);
    const invalid = await consoleRequest(t.url, alice, 'POST', '/cse-in/alice', { 'm2m:cnt': { rn: 'x', mni: 'many' } }, 3);
    const direct = await t.client.create('/cse-in/alice', 3, { 'm2m:cnt': { rn: 'x', mni: 'many' } }, 'Calice');
    assert.equal(invalid.rsc, direct.rsc);
    assert.equal(invalid.pc?.['m2m:dbg'], direct.body?.['m2m:dbg'], 'the same validation message as the API');
    const created = await consoleRequest(t.url, alice, 'POST', '/cse-in/alice/data', { 'm2m:cin': { con: 'v' } }, 4);
    assert.equal(created.rsc, 2001);
    assert.equal((created.pc?.['m2m:cin'] as Record<string, unknown>).cr, undefined);
    const stored = await t.client.retrieve(`/cse-in/alice/data/${String((created.pc?.['m2m:cin'] as Record<string, unknown>).rn)}`, 'Calice');
    assert.equal(stored.rsc, 2000);
  });

  it('cannot choose another originator than the session', async () => {
    const reply = await api(t.url, 'POST', 'request', { method: 'GET', path: '/cse-in/alice/private', headers: { 'X-M2M-Origin': 'Calice' }, fr: 'Calice' }, bob);
    assert.equal(reply.body.rsc, 4103);
  });

  it('explains a decision to the admin, and to who may read the policies about its own decisions only', async () => {
    const q = { target: '/cse-in/alice/data', originator: 'Cbob', operation: 'UPDATE' };
    const forAdmin = await api(t.url, 'POST', 'explain', q, admin);
    assert.equal(forAdmin.body.shown, true);
    assert.deepEqual(forAdmin.body.policies, [acpRi]);
    const decision = forAdmin.body.decision as Record<string, unknown>;
    assert.equal(decision.granted, false);
    assert.match(String(decision.reason), /no privileges rule/);
    const granted = (await api(t.url, 'POST', 'explain', { ...q, originator: 'Calice', operation: 'RETRIEVE' }, alice)).body;
    assert.equal(granted.shown, true, 'alice may read the policy (its selfPrivileges)');
    assert.deepEqual(granted.decision, { granted: true, basis: 'acp', policy: acpRi, rule: 1 });
    // Another originator's decision may rest on what alice cannot see (whether it is the admin, its DAS grants and
    // tokens): she is explained her own only, even where she may read every policy.
    for (const originator of ['CAdmin', 'Cbob']) {
      const other = (await api(t.url, 'POST', 'explain', { ...q, originator, operation: 'RETRIEVE' }, alice)).body;
      assert.equal(other.shown, false, `alice asking about ${originator}`);
      assert.equal(JSON.stringify(other).includes('admin'), false, 'nothing says which originator is the admin');
    }
    assert.equal((await api(t.url, 'POST', 'explain', { ...q, originator: 'CAdmin', operation: 'RETRIEVE' }, admin)).body.shown, true, 'the admin is explained every decision');
    const forBob = await api(t.url, 'POST', 'explain', q, bob);
    assert.equal(forBob.body.shown, false, 'bob may retrieve the container but not its policy');
    assert.equal(JSON.stringify(forBob.body).includes(acpRi), false, 'a denial never reveals a policy');
    const unreadable = await api(t.url, 'POST', 'explain', { target: '/cse-in/alice/private', originator: 'Cbob', operation: 'RETRIEVE' }, bob);
    assert.equal(unreadable.body.shown, false);
    assert.equal((await api(t.url, 'POST', 'explain', { ...q, operation: 'FLY' }, admin)).status, 400);
    // An instance has no acpi: the container's policy governs it, and is what the why view checks and names.
    const cin = await t.client.create('/cse-in/alice/data', 4, { 'm2m:cin': { rn: 'reading', con: '1' } }, 'Calice');
    assert.equal(cin.rsc, 2001);
    const inherited = (await api(t.url, 'POST', 'explain', { target: '/cse-in/alice/data/reading', originator: 'Calice', operation: 'DELETE' }, alice)).body;
    assert.equal(inherited.shown, true);
    assert.deepEqual(inherited.policies, [acpRi]);
    assert.deepEqual(inherited.decision, { granted: true, basis: 'acp', policy: acpRi, rule: 1 });
    const denied = (await api(t.url, 'POST', 'explain', { target: '/cse-in/alice/data/reading', originator: 'Cbob', operation: 'DELETE' }, admin)).body;
    assert.equal((denied.decision as Record<string, unknown>).granted, false);
    assert.equal((await api(t.url, 'POST', 'explain', { target: '/cse-in/alice/data/reading', originator: 'Cbob', operation: 'DELETE' }, bob)).body.shown, false);
  });

  it('shows security events to the admin only', async () => {
    await t.client.retrieve('/cse-in/alice/private', 'Cbob');
    assert.equal((await api(t.url, 'GET', 'events', undefined, bob)).status, 403);
    const events = await api(t.url, 'GET', 'events', undefined, admin);
    assert.equal(events.status, 200);
    const list = events.body.events as Array<Record<string, unknown>>;
    assert.ok(list.some((e) => e.kind === 'refused' && e.originator === 'Cbob' && e.target === 'cse-in/alice/private' && e.rsc === 4103));
    await signIn(t.url, 'x'.repeat(43));
    const after = (await api(t.url, 'GET', 'events', undefined, admin)).body.events as Array<Record<string, unknown>>;
    assert.equal(after[0]?.kind, 'authentication-failed');
  });

  it('delivers notifications of a live view through a subscription as the originator, removed when the view closes', async () => {
    const opened = await api(t.url, 'POST', 'live', { target: '/cse-in/alice/data' }, alice);
    const channel = String(opened.body.channel);
    assert.match(channel, /^[0-9a-f]{32}$/);
    const sub = (opened.body.pc as Record<string, Record<string, unknown>>)['m2m:sub'];
    assert.equal(sub?.cr ?? 'Calice', 'Calice');
    assert.equal((await api(t.url, 'GET', `live/${channel}`, undefined, bob)).status, 404, "another session cannot read this view's stream");
    const controller = new AbortController();
    const stream = await fetch(`${t.url}/console/api/live/${channel}`, { headers: { Cookie: alice.cookie }, signal: controller.signal });
    assert.equal(stream.status, 200);
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    // Another originator's subscription cannot write into the channel: its verification is refused.
    const forged = await t.client.create('/cse-in/alice/data', 23, { 'm2m:sub': { nu: [`console://${channel}`] } }, 'Calice');
    assert.notEqual(forged.rsc, 2001, 'a subscription made outside the console cannot target its channel');
    await t.client.create('/cse-in/alice/data', 4, { 'm2m:cin': { con: 'live!' } }, 'Calice');
    let text = '';
    const decoder = new TextDecoder();
    const deadline = Date.now() + 10_000;
    while (!text.includes('live!') && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    assert.match(text, /event: notification/);
    assert.match(text, /live!/);
    controller.abort();
    await reader.cancel().catch(() => undefined);
    // Closing the stream deletes the subscription.
    let subs: unknown[] = ['pending'];
    for (let i = 0; i < 100 && subs.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const found = await t.client.retrieve('/cse-in/alice/data?fu=1&ty=23', 'Calice');
      subs = (found.body?.['m2m:uril'] as unknown[]) ?? [];
    }
    assert.deepEqual(subs, []);
  });

  it('removes the subscription of a live view when its session ends', async () => {
    const s = await signIn(t.url, t.mint('Calice'));
    const opened = await api(t.url, 'POST', 'live', { target: '/cse-in/alice/data' }, s);
    assert.equal(opened.body.rsc, 2001);
    const count = async (): Promise<number> => ((await t.client.retrieve('/cse-in/alice/data?fu=1&ty=23', 'Calice')).body?.['m2m:uril'] as unknown[]).length;
    assert.equal(await count(), 1);
    assert.equal((await api(t.url, 'DELETE', 'session', undefined, s)).status, 200);
    let left = 1;
    for (let i = 0; i < 100 && left > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      left = await count();
    }
    assert.equal(left, 0);
  });

  it('signs out: the cookie is cleared and the session is gone', async () => {
    const s = await signIn(t.url, t.mint('Cbob'));
    const out = await api(t.url, 'DELETE', 'session', undefined, s);
    assert.equal(out.status, 200);
    assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
    assert.equal((await api(t.url, 'POST', 'request', { method: 'GET', path: '/cse-in' }, s)).status, 401);
  });
});

const WARDEN = fileURLToPath(new URL('../../../bin/warden.js', import.meta.url));

describe('warden console-token', () => {
  it('mints a token the server accepts once', async () => {
    const t = await startConsoleCse();
    try {
      // The command as an operator runs it, in a process of its own.
      const out = execFileSync(process.execPath, [WARDEN, 'console-token', '--originator', 'CAdmin', `--console.tokenDir=${t.tokenDir}`], { encoding: 'utf8' });
      const token = out.split('\n').find((l) => /^[A-Za-z0-9_-]{43}$/.test(l));
      assert.ok(token, out);
      assert.match(out, /single use/);
      assert.equal((await signIn(t.url, token)).reply.status, 200);
      assert.equal((await signIn(t.url, token)).reply.status, 401);
      assert.equal(existsSync(t.tokenDir), true);
      const missing = spawnSync(process.execPath, [WARDEN, 'console-token', `--console.tokenDir=${t.tokenDir}`], { encoding: 'utf8' });
      assert.equal(missing.status, 2);
      assert.match(missing.stderr, /--originator <id> is required/);
    } finally {
      await t.close();
    }
  });
});
