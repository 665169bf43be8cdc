// Mutual authentication over real TLS on loopback: certificates and PSKs made at test time.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { X509Certificate } from 'node:crypto';
import { Agent, request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { createCa, createCrl, createPskKey, issueCertificate, uriSubjectAltNames, type Pem } from '../../src/security/pki.js';
import { startTestCse, type TestCse } from '../harness.js';
import { tlsRequest, type TlsClient } from '../tls.js';

type Attrs = Record<string, unknown>;
const SP = 'warden.example.net';
const DAY = 86_400_000;
const WARDEN = fileURLToPath(new URL('../../../bin/warden.js', import.meta.url));

/** A keep-alive HTTPS connection: the first request opens it, next() reuses it. */
async function openKeptAlive(port: number, client: TlsClient): Promise<{ firstSerial: string; next(): Promise<{ reused: boolean; serial: string }>; close(): void }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: client.ca, cert: client.cert, key: client.key, servername: 'localhost' });
  const once = (): Promise<{ reused: boolean; serial: string }> =>
    new Promise((resolve, reject) => {
      const req = httpsRequest(
        { host: '127.0.0.1', port, path: '/cse-in/sensor', agent, headers: { 'X-M2M-Origin': 'Csensor', 'X-M2M-RI': 'keep', 'X-M2M-RVI': '3' } },
        (res) => {
          const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
          res.resume();
          res.on('end', () => resolve({ reused: req.reusedSocket, serial }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  const first = await once();
  return { firstSerial: first.serial, next: once, close: () => agent.destroy() };
}

describe('mutual authentication over TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-tls-'));
  let ca: Pem;
  let t: TestCse;
  let port: number;
  const clients: Record<string, TlsClient> = {};
  const psk1 = { identity: 'kpsa-1@warden.example.net', key: Buffer.from(createPskKey(), 'hex') };
  const psk2 = { identity: 'kpsa-2@warden.example.net', key: Buffer.from(createPskKey(), 'hex') };

  const device = async (id: string, extra: Partial<Parameters<typeof issueCertificate>[1]> = {}, issuer?: Pem): Promise<TlsClient & { serial: string }> => {
    const pem = await issueCertificate(issuer ?? ca, { commonName: id, uris: [`onem2m://${SP}/id-in/${id}`], usage: 'client', ...extra });
    return { ca: ca.certificate, cert: pem.certificate, key: pem.key, serial: pem.serialNumber };
  };

  before(async () => {
    ca = await createCa('Warden Test CA');
    const otherCa = await createCa('Somebody Else');
    const server = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'both' });
    clients.sensor = await device('Csensor');
    clients.admin = await device('CAdmin');
    clients.foreign = await device('Cforeign', {}, otherCa);
    clients.expired = await device('Cexpired', { notBefore: new Date(Date.now() - 10 * DAY), notAfter: new Date(Date.now() - DAY) });
    clients.future = await device('Cfuture', { notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 10 * DAY) });
    clients.serverOnly = await device('Cwrongusage', { usage: 'server' });
    const revoked = await device('Crevoked');
    clients.revoked = revoked;
    clients.anonymousCert = await device('unused', { uris: [] });
    clients.none = { ca: ca.certificate };
    clients.psk1 = { ca: ca.certificate, psk: psk1 };
    clients.psk2 = { ca: ca.certificate, psk: psk2 };
    clients.unknownPsk = { ca: ca.certificate, psk: { identity: 'nobody@warden.example.net', key: psk1.key }, maxVersion: 'TLSv1.2' };
    const files = {
      cert: join(dir, 'server.pem'),
      key: join(dir, 'server.key'),
      ca: join(dir, 'ca.pem'),
      crl: join(dir, 'crl.pem'),
      psk: join(dir, 'psk.json'),
    };
    writeFileSync(files.cert, server.certificate);
    writeFileSync(files.key, server.key);
    writeFileSync(files.ca, ca.certificate);
    writeFileSync(files.crl, await createCrl(ca, [revoked.serial]));
    writeFileSync(
      files.psk,
      JSON.stringify({
        keys: [
          { identity: psk1.identity, key: psk1.key.toString('hex') },
          { identity: psk2.identity, key: psk2.key.toString('hex'), aeIds: ['Cpskfixed'] },
        ],
      }),
    );
    t = await startTestCse({
      'http.tls': true,
      'tls.cert': files.cert,
      'tls.key': files.key,
      'tls.ca': files.ca,
      'tls.crl': files.crl,
      'tls.psk': files.psk,
      'tls.clientAuth': 'required',
    });
    port = t.cse.httpPort;
  });
  after(() => t.close());

  const call = (who: string, method: string, path: string, origin: string, options: { ty?: number; body?: unknown; headers?: Record<string, string> } = {}) =>
    tlsRequest(port, clients[who] as TlsClient, method, path, origin, options);
  const register = (who: string, origin: string, rn: string) =>
    call(who, 'POST', '/cse-in', origin, { ty: 2, body: { 'm2m:ae': { rn, api: `N${rn}`, rr: false, srv: ['3'] } } });

  it('refuses a connection without a credential, and certificates that do not verify, with 4107', async () => {
    const cases: Array<[string, RegExp]> = [
      ['none', /requires a client credential/],
      ['foreign', /not accepted/],
      ['expired', /CERT_HAS_EXPIRED/],
      ['future', /CERT_NOT_YET_VALID/],
      ['serverOnly', /INVALID_PURPOSE/],
      ['revoked', /CERT_REVOKED/],
    ];
    for (const [who, reason] of cases) {
      const reply = await call(who, 'GET', '/cse-in', 'CAdmin');
      assert.equal(reply.rsc, 4107, who);
      assert.equal(reply.status, 403, who);
      assert.match(String(reply.body?.['m2m:dbg']), reason, who);
    }
  });

  it('an unknown PSK identity is refused at the handshake', async () => {
    await assert.rejects(call('unknownPsk', 'GET', '/cse-in', 'Cnobody'));
  });

  it('a certificate acts only as the AE-ID in its subjectAltName', async () => {
    assert.equal((await register('sensor', 'Cimpostor', 'impostor')).rsc, 4106);
    const reg = await register('sensor', 'Csensor', 'sensor');
    assert.equal(reg.rsc, 2001);
    const own = await call('sensor', 'GET', '/cse-in/sensor', 'Csensor');
    assert.equal(own.rsc, 2000);
    assert.equal(own.serverSerial !== '', true);
    const spRelative = await call('sensor', 'GET', '/cse-in/sensor', '/id-in/Csensor');
    assert.equal(spRelative.rsc, 2000);
  });

  it('the admin needs a credential that names it', async () => {
    assert.equal((await call('admin', 'GET', '/cse-in', 'CAdmin')).rsc, 2000);
    assert.equal((await call('sensor', 'GET', '/cse-in', 'CAdmin')).rsc, 4106);
    assert.equal((await call('psk1', 'GET', '/cse-in', 'CAdmin')).rsc, 4106);
  });

  it('a PSK registration binds the assigned AE-ID to that key; no other credential may use it', async () => {
    const reg = await register('psk1', 'C', 'pskdevice');
    assert.equal(reg.rsc, 2001);
    const aei = String((reg.body?.['m2m:ae'] as Attrs).aei);
    assert.equal((await call('psk1', 'GET', '/cse-in/pskdevice', aei)).rsc, 2000);
    assert.equal((await call('psk2', 'GET', '/cse-in/pskdevice', aei)).rsc, 4106);
    assert.equal((await call('sensor', 'GET', '/cse-in/pskdevice', aei)).rsc, 4106);
    assert.equal((await call('anonymousCert', 'GET', '/cse-in/pskdevice', aei)).rsc, 4106);
    assert.equal((await call('sensor', 'GET', '/cse-in/sensor', aei)).rsc, 4106, 'From must match the credential');
  });

  it('a PSK that names its AE-IDs may register only those', async () => {
    assert.equal((await register('psk2', 'Cother', 'other')).rsc, 4106);
    assert.equal((await register('psk2', 'Cpskfixed', 'pskfixed')).rsc, 2001);
    assert.equal((await call('psk2', 'GET', '/cse-in/pskfixed', 'Cpskfixed')).rsc, 2000);
  });

  it('a credential that names no originator is no AE until it registers one new AE-ID on the CSEBase', async () => {
    // A CREATE of <AE> anywhere but the CSEBase is no registration: From is checked as on any request.
    for (const path of ['/cse-in/sensor?rt=1', '/cse-in/sensor', '/~/id-in/cse-in/sensor', '/id-in/sensor']) {
      const reply = await call('anonymousCert', 'POST', path, 'Csensor', { ty: 2, body: { 'm2m:ae': { api: 'Nx', rr: false, srv: ['3'] } } });
      assert.equal(reply.rsc, 4106, `${path}: ${JSON.stringify(reply.body)}`);
    }
    assert.equal((await call('anonymousCert', 'POST', '/cse-in/sensor', 'CAdmin', { ty: 2, body: { 'm2m:ae': { api: 'Nx', rr: false, srv: ['3'] } } })).rsc, 4106);
    // Never an AE-ID that is registered, never the admin.
    assert.equal((await register('anonymousCert', 'Csensor', 'again')).rsc, 4106);
    assert.equal((await register('psk1', 'Csensor', 'again')).rsc, 4106);
    assert.equal((await register('anonymousCert', 'CAdmin', 'admin')).rsc, 4106);
    assert.equal((await call('admin', 'GET', '/cse-in/admin', 'CAdmin')).rsc, 4004, 'no AE took the admin’s name');
    // One AE per such credential: psk1 registered one above.
    assert.equal((await register('psk1', 'C', 'other')).rsc, 4117);
    // Never an AE-ID it chooses: another credential may name it (Cpskfixed is psk2's; a certificate's name cannot
    // be known before it is presented), and what policies, DAS rules and tokens grant that AE-ID would be its.
    for (const chosen of ['Cpskfixed', 'Cnotyet', '/id-in/Cnotyet']) {
      const taken = await register('anonymousCert', chosen, 'squatter');
      assert.equal(taken.rsc, 4106, chosen);
      assert.match(String(taken.body?.['m2m:dbg']), /registers under one the CSE assigns/);
    }
    // The CSEBase in every address form is the registration target.
    // (The SP-relative CSE-ID alone, /~/id-in, names the CSE and no resource: 4000, see addressing.test.ts.)
    const targets = ['/id-in', '/~/id-in/cse-in', '/~/id-in/id-in', '/_/warden.example.net/id-in/-'];
    for (const [i, path] of targets.entries()) {
      const who = `anonymous${i}`;
      clients[who] = await device('unused', { uris: [] });
      const reg = await call(who, 'POST', path, i % 2 === 0 ? 'C' : '', { ty: 2, body: { 'm2m:ae': { rn: `anon${i}`, api: 'Nanon', rr: false, srv: ['3'] } } });
      assert.equal(reg.rsc, 2001, `${path}: ${JSON.stringify(reg.body)}`);
      const aei = String((reg.body?.['m2m:ae'] as Attrs).aei);
      assert.equal((await call(who, 'GET', `/cse-in/anon${i}`, aei)).rsc, 2000);
      assert.equal((await call('anonymousCert', 'GET', `/cse-in/anon${i}`, aei)).rsc, 4106, 'bound to that credential alone');
    }
  });

  it('acaf rules grant to authenticated originators', async () => {
    const owner = 'Cpskfixed';
    const acp = await call('psk2', 'POST', '/cse-in/pskfixed', owner, {
      ty: 1,
      body: { 'm2m:acp': { rn: 'strict', pv: { acr: [{ acor: ['Csensor'], acop: 2, acaf: true }] }, pvs: { acr: [{ acor: [owner], acop: 63 }] } } },
    });
    assert.equal(acp.rsc, 2001);
    const acpi = [String((acp.body?.['m2m:acp'] as Attrs).ri)];
    assert.equal((await call('psk2', 'POST', '/cse-in/pskfixed', owner, { ty: 3, body: { 'm2m:cnt': { rn: 'readings', acpi } } })).rsc, 2001);
    assert.equal((await call('sensor', 'GET', '/cse-in/pskfixed/readings', 'Csensor')).rsc, 2000);
  });

  it('a malformed Authorization header is refused with 4000; tokens and Bearer pass', async () => {
    for (const value of ['Basic dXNlcjpwYXNz', 'Bearer', 'garbage', 'a.b+!!!']) {
      const reply = await call('sensor', 'GET', '/cse-in/sensor', 'Csensor', { headers: { Authorization: value } });
      assert.equal(reply.rsc, 4000, value);
    }
    assert.equal((await call('sensor', 'GET', '/cse-in/sensor', 'Csensor', { headers: { Authorization: 'Bearer abc.def-ghi' } })).rsc, 2000);
    assert.equal((await call('sensor', 'GET', '/cse-in/sensor', 'Csensor', { headers: { Authorization: 'eyJh.eyJi.c2ln+eyJh.eyJi.c2ln' } })).rsc, 2000);
  });

  it('reloads the server certificate without dropping other connections', async () => {
    const keptAlive = await openKeptAlive(port, clients.sensor as TlsClient);
    const before = await call('sensor', 'GET', '/cse-in/sensor', 'Csensor');
    const replacement = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'both' });
    writeFileSync(join(dir, 'server.pem'), replacement.certificate);
    writeFileSync(join(dir, 'server.key'), replacement.key);
    t.cse.reloadCredentials();
    const afterReload = await call('sensor', 'GET', '/cse-in/sensor', 'Csensor');
    assert.equal(afterReload.rsc, 2000);
    assert.notEqual(afterReload.serverSerial, before.serverSerial);
    assert.equal(afterReload.serverSerial.toLowerCase(), replacement.serialNumber.toLowerCase());
    const kept = await keptAlive.next();
    assert.equal(kept.reused, true, 'the connection opened before the reload is still in use');
    assert.equal(kept.serial, keptAlive.firstSerial, 'and it keeps the certificate it was opened with');
    keptAlive.close();
    assert.equal((await call('revoked', 'GET', '/cse-in', 'CAdmin')).rsc, 4107, 'the CRL survived the reload');
    writeFileSync(join(dir, 'server.key'), 'not a key');
    assert.throws(() => t.cse.reloadCredentials());
    assert.equal((await call('sensor', 'GET', '/cse-in/sensor', 'Csensor')).rsc, 2000, 'a failed reload keeps the old material');
  });

  /** The <request> of a non-blocking request once it has run (read by the admin). */
  const outcomeOf = async (ack: { body?: Record<string, unknown> | undefined }): Promise<Attrs> => {
    const requestPath = `/${String(ack.body?.['m2m:uri'])}`;
    let req: Attrs = {};
    for (let i = 0; i < 100 && req.rs !== 1 && req.rs !== 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      req = (await call('admin', 'GET', requestPath, 'CAdmin')).body?.['m2m:req'] as Attrs;
    }
    return req;
  };

  it('a deferred request whose certificate was revoked meanwhile does not run', async () => {
    const late = await device('Clate');
    clients.late = late;
    assert.equal((await register('late', 'Clate', 'late')).rsc, 2001);
    const ack = await call('late', 'POST', '/cse-in/late?rt=1', 'Clate', { ty: 3, body: { 'm2m:cnt': { rn: 'later' } }, headers: { 'X-M2M-OET': '1500' } });
    assert.equal(ack.rsc, 1001);
    writeFileSync(join(dir, 'crl.pem'), await createCrl(ca, [(clients.revoked as TlsClient & { serial: string }).serial, late.serial]));
    // The test before left a broken key behind on purpose.
    const server = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'both' });
    writeFileSync(join(dir, 'server.pem'), server.certificate);
    writeFileSync(join(dir, 'server.key'), server.key);
    t.cse.reloadCredentials();
    const req = await outcomeOf(ack);
    assert.equal(req.rs, 2, 'recorded as failed');
    assert.equal((req.ors as Attrs).rsc, 4107);
    assert.equal((await call('admin', 'GET', '/cse-in/late/later', 'CAdmin')).rsc, 4004);
  });

  it('a deferred request whose certificate expired meanwhile does not run', async () => {
    const brief = await device('Cbrief', { notAfter: new Date(Date.now() + 3_000) });
    clients.brief = brief;
    assert.equal((await register('brief', 'Cbrief', 'brief')).rsc, 2001);
    const ack = await call('brief', 'POST', '/cse-in/brief?rt=1', 'Cbrief', { ty: 3, body: { 'm2m:cnt': { rn: 'later' } }, headers: { 'X-M2M-OET': '4000' } });
    assert.equal(ack.rsc, 1001);
    const req = await outcomeOf(ack);
    assert.equal(req.rs, 2, 'recorded as failed');
    assert.equal((req.ors as Attrs).rsc, 4107);
    assert.match(String(((req.ors as Attrs).pc as Attrs)['m2m:dbg']), /CERT_HAS_EXPIRED/);
  });

  it('warden pki makes a CA, device and CSE certificates, PSKs and CRLs', () => {
    const pki = join(dir, 'pki');
    const run = (...args: string[]) => spawnSync(process.execPath, [WARDEN, 'pki', ...args], { encoding: 'utf8' });
    assert.equal(run('ca', '--out', pki).status, 0);
    assert.equal(run('ca', '--out', pki).status, 2, 'a CA key is never overwritten');
    assert.equal(run('server', '--ca', pki, '--out', pki).status, 0);
    const dev = run('device', '--ca', pki, '--out', pki, '--ae-id', 'Cmeter');
    assert.equal(dev.status, 0, dev.stderr);
    const cert = new X509Certificate(readFileSync(join(pki, 'Cmeter.pem')));
    assert.deepEqual(uriSubjectAltNames(cert.raw), [`onem2m://${SP}/id-in/Cmeter`]);
    assert.ok(cert.checkIssued(new X509Certificate(readFileSync(join(pki, 'ca.pem')))));
    assert.equal(run('cse', '--ca', pki, '--out', pki, '--cse-id', 'id-mn').status, 0);
    const psk = run('psk', '--store', join(pki, 'psk.json'), '--identity', 'kpsa-9@warden.example.net', '--ae-id', 'Cmeter');
    assert.equal(psk.status, 0);
    assert.match(psk.stdout, /key \(hex\) [0-9a-f]{64}/);
    const store = JSON.parse(readFileSync(join(pki, 'psk.json'), 'utf8')) as { keys: Attrs[] };
    assert.deepEqual(store.keys[0]?.aeIds, ['Cmeter']);
    assert.equal(run('crl', '--ca', pki, '--out', join(pki, 'crl.pem'), '--revoke', '0a0b').status, 0);
    assert.match(readFileSync(join(pki, 'crl.pem'), 'utf8'), /BEGIN X509 CRL/);
  });
});

describe('registration without a credential where authentication is optional', () => {
  it('never takes an AE-ID a pre-shared key names', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-tls-optional-'));
    const ca = await createCa('Warden Optional CA');
    const server = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'both' });
    const file = (name: string, text: string): string => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const key = Buffer.from(createPskKey(), 'hex');
    const t = await startTestCse({
      'http.tls': true,
      'tls.cert': file('server.pem', server.certificate),
      'tls.key': file('server.key', server.key),
      'tls.ca': file('ca.pem', ca.certificate),
      'tls.psk': file('psk.json', JSON.stringify({ keys: [{ identity: 'kpsa-named@warden.example.net', key: key.toString('hex'), aeIds: ['Cmeter'] }] })),
      'tls.clientAuth': 'optional',
      'security.authentication': 'cse',
    });
    try {
      const register = (client: TlsClient, origin: string, rn: string) =>
        tlsRequest(t.cse.httpPort, client, 'POST', '/cse-in', origin, { ty: 2, body: { 'm2m:ae': { rn, api: `N${rn}`, rr: false, srv: ['3'] } } });
      const nobody = { ca: ca.certificate };
      // Before the key's device registered: the AE-ID is the key's, and what is granted to it would be the taker's.
      const taken = await register(nobody, 'Cmeter', 'squat');
      assert.equal(taken.rsc, 4106, JSON.stringify(taken.body));
      assert.equal((await register(nobody, 'Cfree', 'free')).rsc, 2001, 'an AE-ID no credential names');
      assert.equal((await register({ ca: ca.certificate, psk: { identity: 'kpsa-named@warden.example.net', key } }, 'Cmeter', 'meter')).rsc, 2001, 'the key itself');
    } finally {
      await t.close();
    }
  });
});
