// The web console on an HTTPS listener: a browser client certificate signs in as its identity (rq_authn true),
// the cookie is __Host- and Secure, and a token session is not authenticated.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, issueCertificate, type Pem } from '../../src/security/pki.js';
import { startConsoleCse, type ConsoleCse } from './fixture.js';

const SP = 'warden.example.net';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

describe('web console over HTTPS', () => {
  let t: ConsoleCse;
  let ca: Pem;
  let alice: { cert: string; key: string };
  let carol: { cert: string; key: string };
  let admin: { cert: string; key: string };
  let base = '';

  function call(method: string, route: string, options: { client?: { cert: string; key: string }; body?: unknown; cookie?: string; csrf?: string } = {}): Promise<Reply> {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { Origin: base, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (options.cookie) headers.Cookie = options.cookie;
    if (options.csrf) headers['X-Console-CSRF'] = options.csrf;
    return new Promise((resolve, reject) => {
      const req = request(
        `${base}/console/api/${route}`,
        { method, headers, ca: ca.certificate, agent: false, ...(options.client ? { cert: options.client.cert, key: options.client.key } : {}) },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  const cookieOf = (reply: Reply): string => String((reply.headers['set-cookie'] as string[] | undefined)?.[0] ?? '').split(';')[0] ?? '';

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-console-tls-'));
    ca = await createCa('Warden Console Test CA');
    const server = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'both' });
    const a = await issueCertificate(ca, { commonName: 'Calice', uris: [`onem2m://${SP}/id-in/Calice`], usage: 'client' });
    const c = await issueCertificate(ca, { commonName: 'Ccarol', uris: [`onem2m://${SP}/id-in/Ccarol`], usage: 'client' });
    alice = { cert: a.certificate, key: a.key };
    const adm = await issueCertificate(ca, { commonName: 'CAdmin', uris: [`onem2m://${SP}/id-in/CAdmin`], usage: 'client' });
    admin = { cert: adm.certificate, key: adm.key };
    carol = { cert: c.certificate, key: c.key };
    for (const [name, pem] of [['server.pem', server.certificate], ['server.key', server.key], ['ca.pem', ca.certificate]] as const) writeFileSync(join(dir, name), pem);
    t = await startConsoleCse({ 'http.tls': true, 'tls.cert': join(dir, 'server.pem'), 'tls.key': join(dir, 'server.key'), 'tls.ca': join(dir, 'ca.pem'), 'tls.clientAuth': 'optional' });
    base = `https://127.0.0.1:${t.cse.httpPort}`;
  });
  after(() => t.close());

  it('signs in as the client certificate, with a __Host- Secure cookie, authenticated', async () => {
    assert.equal((await call('GET', 'session', { client: alice })).body.certificate, true);
    assert.equal((await call('GET', 'session')).body.certificate, false);
    const signed = await call('POST', 'session', { client: alice, body: { certificate: true } });
    assert.equal(signed.status, 200);
    assert.equal(signed.body.originator, 'Calice');
    assert.equal(signed.body.authenticated, true);
    const set = String((signed.headers['set-cookie'] as string[])[0]);
    assert.match(set, /^__Host-warden-console=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
    const session = { cookie: cookieOf(signed), csrf: String(signed.body.csrf) };
    // The pipeline authenticates each request by the certificate: the AE registers bound to it.
    const registered = await call('POST', 'request', { client: alice, ...session, body: { method: 'POST', path: '/cse-in', ty: 2, body: { 'm2m:ae': { rn: 'alice', api: 'Nalice', rr: false, srv: ['3'] } } } });
    assert.equal(registered.body.rsc, 2001, JSON.stringify(registered.body));
    // A rule that requires an authenticated originator (acaf) grants this session.
    const acp = await call('POST', 'request', {
      client: alice,
      ...session,
      body: { method: 'POST', path: '/cse-in/alice', ty: 1, body: { 'm2m:acp': { rn: 'strictPolicy', pv: { acr: [{ acor: ['Calice'], acop: 63, acaf: true }] }, pvs: { acr: [{ acor: ['Calice'], acop: 63 }] } } } },
    });
    assert.equal(acp.body.rsc, 2001, JSON.stringify(acp.body));
    const acpRi = String(((acp.body.pc as Record<string, Record<string, unknown>>)['m2m:acp'] as Record<string, unknown>).ri);
    const cnt = await call('POST', 'request', { client: alice, ...session, body: { method: 'POST', path: '/cse-in/alice', ty: 3, body: { 'm2m:cnt': { rn: 'strict', acpi: [acpRi] } } } });
    assert.equal(cnt.body.rsc, 2001);
    assert.equal((await call('POST', 'request', { client: alice, ...session, body: { method: 'GET', path: '/cse-in/alice/strict' } })).body.rsc, 2000);
    // The same cookie on a connection without that certificate, or with another one, is no session.
    assert.equal((await call('POST', 'request', { ...session, body: { method: 'GET', path: '/cse-in/alice/strict' } })).status, 401);
    assert.equal((await call('POST', 'request', { client: carol, ...session, body: { method: 'GET', path: '/cse-in/alice/strict' } })).status, 401);
  });

  it('a token session is not rq_authn: an AE bound to its certificate is refused by the pipeline', async () => {
    const signed = await call('POST', 'session', { body: { token: t.mint('Calice') } });
    assert.equal(signed.status, 200);
    assert.equal(signed.body.authenticated, false);
    assert.match(String((signed.headers['set-cookie'] as string[])[0]), /; Secure$/);
    const session = { cookie: cookieOf(signed), csrf: String(signed.body.csrf) };
    const refused = await call('POST', 'request', { ...session, body: { method: 'GET', path: '/cse-in/alice/strict' } });
    assert.equal(refused.status, 200);
    assert.ok([4106, 4107].includes(Number(refused.body.rsc)), JSON.stringify(refused.body));
    // Even when the browser presents a certificate, a token session does not borrow it.
    const withCert = await call('POST', 'request', { client: carol, ...session, body: { method: 'GET', path: '/cse-in/alice/strict' } });
    assert.ok([4106, 4107].includes(Number(withCert.body.rsc)), JSON.stringify(withCert.body));
  });

  it('shows a failed TLS handshake among the security events, to the admin signed in by certificate only', async () => {
    await new Promise<void>((resolve) => {
      const socket = connect(t.cse.httpPort, '127.0.0.1', () => socket.end('this is not TLS\r\n\r\n'));
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
    });
    // A token session for the admin is refused by the pipeline here (TLS: the admin must present its credential).
    const byToken = await call('POST', 'session', { body: { token: t.mint('CAdmin') } });
    assert.equal((await call('GET', 'events', { cookie: cookieOf(byToken), csrf: String(byToken.body.csrf) })).status, 403);
    const signed = await call('POST', 'session', { client: admin, body: { certificate: true } });
    assert.equal(signed.body.admin, true);
    const events = await call('GET', 'events', { client: admin, cookie: cookieOf(signed), csrf: String(signed.body.csrf) });
    assert.equal(events.status, 200);
    const list = events.body.events as Array<Record<string, unknown>>;
    assert.ok(list.some((e) => e.kind === 'authentication-failed' && e.originator === '(TLS handshake)'), JSON.stringify(list));
    assert.equal(typeof events.body.certificateDays, 'number');
  });

  it('refuses certificate sign-in without a verified certificate', async () => {
    const reply = await call('POST', 'session', { body: { certificate: true } });
    assert.equal(reply.status, 401);
  });
});
