// Warden as a dynamic authorization server (security/das.ts), reached over the real protocol: a second Warden
// process (an MN-CSE registered with the hosting IN-CSE, mutual TLS between them) runs the built-in DAS; the hosting
// CSE consults it as CSE-to-CSE traffic (src/remote/link.ts, inside the outbound destination policy) when its
// policies deny, and grants what the DAS's rules and roles grant, for as long as they say.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { createCa, issueCertificate } from '../../src/security/pki.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatTimestamp } from '../../src/primitive/identifiers.js';
import { tlsRequest, type TlsClient, type TlsReply } from '../tls.js';
import { capturingLogger } from '../logCapture.js';
import { ManualClock, startTestCse, type TestCse } from '../harness.js';
import { TestPki, call, cseFlags, registrarFlags, spawnCse, stopCse, type WardenProcess } from '../cse.js';
import { waitFor } from '../receiver.js';

type Attrs = Record<string, unknown>;

describe('the built-in DAS in a second Warden process, consulted over HTTPS with mutual TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-das-'));
  const clock = new ManualClock(Date.now());
  const captured = capturingLogger();
  let pki: TestPki;
  let hosting: TestCse;
  let das: WardenProcess;
  let port = 0;
  let ca = '';
  const request = (method: string, path: string, origin: string, options: { ty?: number; body?: unknown; headers?: Record<string, string> } = {}): ReturnType<typeof call> => call(port, ca, method, path, origin, options);
  let counter = 0;

  /** A container only its owner may use, whose consultation names the DAS on the other CSE (/id-mn/cse-mn). */
  async function guarded(): Promise<{ path: string; ri: string }> {
    const n = ++counter;
    const acp = await request('POST', '/cse-in/owner', 'Cowner', { ty: 1, body: { 'm2m:acp': { rn: `acp${n}`, pv: { acr: [{ acor: ['Cowner'], acop: 63 }] }, pvs: { acr: [{ acor: ['Cowner'], acop: 63 }] } } } });
    const dac = await request('POST', '/cse-in/owner', 'Cowner', { ty: 34, body: { 'm2m:dac': { rn: `dac${n}`, dae: true, dap: ['/id-mn/cse-mn'] } } });
    assert.equal(dac.rsc, 2001);
    const box = await request('POST', '/cse-in/owner', 'Cowner', {
      ty: 3,
      body: { 'm2m:cnt': { rn: `box${n}`, acpi: [(acp.body?.['m2m:acp'] as Attrs).ri], daci: [(dac.body?.['m2m:dac'] as Attrs).ri] } },
    });
    assert.equal(box.rsc, 2001);
    return { path: `/cse-in/owner/box${n}`, ri: (box.body?.['m2m:cnt'] as Attrs).ri as string };
  }
  const dasLines = (): Attrs[] =>
    das
      .output()
      .split('\n')
      .filter((line) => line.includes('"event":"das"'))
      .map((line) => JSON.parse(line) as Attrs);

  before(async () => {
    pki = await TestPki.create(dir);
    const inFiles = await pki.cse('id-in');
    const mnFiles = await pki.cse('id-mn');
    ca = pki.ca.certificate;
    const pair = await generateKeyPair('ES256', { extractable: true });
    const rules = join(dir, 'das.json');
    writeFileSync(
      rules,
      JSON.stringify({
        consulters: ['/id-in'],
        // No types: the DAS cannot tell the type of a target on another CSE that an originator asks about for itself.
        rules: [{ originators: ['/id-in/Cguest'], targets: ['/id-in/cnt*'], operations: ['RETRIEVE'], lifetime: 60 }],
        roles: [
          { roleId: 'writer@das.example.net', holders: ['/id-in/Cwriter'], targets: ['*'], operations: ['RETRIEVE', 'UPDATE'], lifetime: 60 },
          { roleId: 'former@das.example.net', holders: ['/id-in/Cformer'], notAfter: '20200101T000000', targets: ['*'], operations: ['RETRIEVE'] },
        ],
        tokens: { issuer: 'CWardenDas', algorithm: 'ES256', privateKey: await exportPKCS8(pair.privateKey) },
      }),
    );
    const issuers = join(dir, 'issuers.json');
    writeFileSync(issuers, JSON.stringify({ issuers: [{ id: 'CWardenDas', algorithms: ['ES256'], jwk: await exportJWK(pair.publicKey) }] }));
    hosting = await startTestCse(
      cseFlags('id-in', 'IN', inFiles, { 'dynamicAuthorization.timeout': 10, 'dynamicAuthorization.tokenIssuers': issuers, 'dynamicAuthorization.tokenRequiresAuthentication': false }),
      { clock, logger: captured.logger },
    );
    port = hosting.cse.httpPort;
    const flags = cseFlags('id-mn', 'MN', mnFiles, { ...registrarFlags(port), 'dynamicAuthorization.dasRules': rules, 'log.level': 'info', 'storage.path': join(dir, 'mn.sqlite') });
    das = await spawnCse(Object.entries(flags).map(([k, v]) => `--${k}=${String(v)}`));
    await waitFor(async () => (await request('GET', '/cse-in/id-mn', 'CAdmin')).rsc === 2000, 30_000);
    for (const ae of ['owner', 'guest', 'writer', 'former', 'stranger']) {
      const made = await request('POST', '/cse-in', `C${ae}`, { ty: 2, body: { 'm2m:ae': { rn: ae, api: `N${ae}`, rr: false, srv: ['3'] } } });
      assert.equal(made.rsc, 2001, ae);
    }
  });
  after(async () => {
    if (das) await stopCse(das);
    await hosting?.close();
  });

  it('grants what a rule of the DAS grants, to that originator only, and logs the basis on both sides', async () => {
    const box = await guarded();
    const granted = await request('GET', box.path, 'Cguest');
    await waitFor(() => dasLines().some((line) => line.granted === true), 5000);
    assert.equal(granted.rsc, 2000, JSON.stringify(captured.lines.filter((l) => l.event === 'dynamic-authorization' || l.event === 'cse-link-failed' || l.event === 'outbound-refused')) + das.output().split('\n').filter((l) => l.includes('NOTIFY') || l.includes('dbg')).join('\n'));
    const answered = dasLines().filter((line) => line.granted === true);
    assert.equal(answered.length, 1);
    assert.equal(answered[0]?.consulter, '/id-in');
    assert.equal(answered[0]?.originator, '/id-in/Cguest');
    assert.equal(answered[0]?.target, `/id-in/${box.ri}`);
    const decided = captured.lines.filter((line) => line.event === 'dynamic-authorization' && line.granted === true);
    assert.equal(decided.at(-1)?.das, '/id-mn/cse-mn');
    // Stored as a dynamic policy: the next read asks nobody (no consultation logged by the hosting CSE).
    const consultations = captured.lines.filter((line) => line.event === 'dynamic-authorization').length;
    assert.equal((await request('GET', box.path, 'Cguest')).rsc, 2000);
    assert.equal(captured.lines.filter((line) => line.event === 'dynamic-authorization').length, consultations);
    // Only the operations the rule names, only for the originators it names.
    clock.advance(10_000);
    assert.equal((await request('DELETE', box.path, 'Cguest')).rsc, 4103);
    assert.equal((await request('GET', box.path, 'Cstranger')).rsc, 4103);
    await waitFor(() => dasLines().filter((line) => line.granted === false).length >= 2, 5000);
    const refusals = dasLines().filter((line) => line.granted === false);
    assert.ok(refusals.length >= 2, 'the DAS logs its refusals with their reason');
    assert.equal(typeof refusals[0]?.reason, 'string');
  });

  it('a role assigned by the DAS grants the role privileges while the assignment lasts', async () => {
    const box = await guarded();
    clock.advance(10_000);
    const updated = await request('PUT', box.path, 'Cwriter', { body: { 'm2m:cnt': { lbl: ['by-role'] } } });
    assert.equal(updated.rsc, 2004);
    await waitFor(() => dasLines().some((l) => l.granted === true && l.originator === '/id-in/Cwriter'), 5000);
    const line = dasLines().filter((l) => l.granted === true && l.originator === '/id-in/Cwriter').at(-1);
    assert.deepEqual(line?.roles, ['writer@das.example.net']);
    // An assignment whose notAfter has passed grants nothing.
    assert.equal((await request('GET', box.path, 'Cformer')).rsc, 4103);
  });

  it('indirect flow across CSEs: the tqf names the DAS on the other CSE with the originator SP-relative; the originator takes dreq there through its CSE and its token grants', async () => {
    // Before the lifetime test moves this CSE's clock past the DAS's (the token's exp is the DAS process's time).
    const box = await guarded();
    const denied = await request('GET', `${box.path}?tqi=true`, 'Cguest');
    assert.equal(denied.rsc, 4103);
    const [dasi] = ((denied.body?.['m2m:tqf'] as Attrs | undefined)?.dasi ?? []) as Attrs[];
    assert.equal(dasi?.uri, '/id-mn/cse-mn');
    const dreq = dasi?.dreq as Attrs;
    assert.equal(dreq.or, '/id-in/Cguest', 'a dasRequest for another CSE names its originator SP-relative');
    assert.equal(dreq.trid, `/id-in/${box.ri}`);
    // The originator sends it to the DAS (a NOTIFY to that CSEBase) through its own CSE, which relays it over the
    // CSE link: the DAS trusts the relay for its own AEs because it is a consulter of the DAS.
    const answer = await request('POST', '/~/id-mn/cse-mn', 'Cguest', { body: { 'm2m:seci': { sit: 1, dreq } } });
    assert.equal(answer.rsc, 2000, JSON.stringify(answer.body));
    const dres = (answer.body?.['m2m:seci'] as Attrs).dres as Attrs;
    assert.equal(dres.dai, undefined, 'an originator asking for itself gets tokens, not privileges');
    const [issued] = dres.tkns as string[];
    assert.ok(issued);
    const claims = decodeJwt(issued);
    assert.equal(claims.azp, '/id-in/Cguest');
    assert.deepEqual(claims.aud, ['/id-in']);
    await waitFor(() => dasLines().some((line) => line.token === claims.jti && line.originator === '/id-in/Cguest' && line.consulter === '/id-in/Cguest'), 5000);
    assert.equal((await request('GET', box.path, 'Cguest', { headers: { Authorization: issued } })).rsc, 2000, JSON.stringify(captured.lines.filter((l) => l.event === 'token').slice(-3)));
    assert.equal((await request('DELETE', box.path, 'Cguest', { headers: { Authorization: issued } })).rsc, 4103, 'no more than the token grants');
    // Another AE of the hosting CSE may not ask on Cguest's behalf, nor use its token.
    assert.equal((await request('POST', '/~/id-mn/cse-mn', 'Cstranger', { body: { 'm2m:seci': { sit: 1, dreq } } })).rsc, 4103);
    assert.equal((await request('GET', box.path, 'Cstranger', { headers: { Authorization: issued } })).rsc, 4103);
    // By its ID (tids): the hosting CSE fetches the token from the DAS on the other CSE, which issued it to Cguest.
    assert.equal((await request('GET', `${box.path}?tids=${encodeURIComponent(String(claims.jti))}`, 'Cguest')).rsc, 2000);
  });

  it('a granted privilege ends with the lifetime the DAS gave it', async () => {
    const box = await guarded();
    clock.advance(10_000);
    assert.equal((await request('GET', box.path, 'Cguest')).rsc, 2000);
    // Counted on the hosting CSE, whose log is written in this process as the consultation ends.
    const consultations = (): number => captured.lines.filter((line) => line.event === 'dynamic-authorization' && line.granted === true).length;
    const before = consultations();
    clock.advance(30_000);
    assert.equal((await request('GET', box.path, 'Cguest')).rsc, 2000);
    assert.equal(consultations(), before, 'still granted by the stored policy');
    clock.advance(35_000);
    assert.equal((await request('GET', box.path, 'Cguest')).rsc, 2000, 'asked again, granted again');
    assert.equal(consultations(), before + 1, 'the expired policy granted nothing: the DAS was asked again');
  });

  it('refuses a DAS request from anyone but a configured consulter or the originator itself', async () => {
    const seci = { 'm2m:seci': { sit: 1, dreq: { or: 'Cguest', op: 2, trt: 3, trid: '/id-in/cnt1' } } };
    // An AE of the hosting CSE (no certificate: not authenticated) asking the DAS directly.
    const reply = await call(das.port, ca, 'POST', '/~/id-mn/cse-mn', 'Cguest', { body: seci });
    assert.notEqual(reply.rsc, 2000);
    assert.equal(reply.body?.['m2m:seci'], undefined, 'no grant, no token');
  });
});

describe("the built-in DAS of the hosting CSE itself: direct flow, and the indirect flow with originators authenticated by their certificates", () => {
  const SP_ID = 'warden.example.net';
  const captured = capturingLogger();
  let revokedFile = '';
  let t: TestCse;
  let port = 0;
  let boxRi = '';
  const clients: Record<string, TlsClient> = {};
  const call2 = (who: string, method: string, path: string, options: { ty?: number; body?: unknown; headers?: Record<string, string> } = {}): Promise<TlsReply> =>
    tlsRequest(port, clients[who] as TlsClient, method, path, who, options);

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-das-local-'));
    const ca = await createCa('Warden DAS Test CA');
    const server = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'both' });
    for (const id of ['Cowner', 'Cguest', 'Cother', 'Crole', 'CAdmin']) {
      const pem = await issueCertificate(ca, { commonName: id, uris: [`onem2m://${SP_ID}/id-in/${id}`], usage: 'client' });
      clients[id] = { ca: ca.certificate, cert: pem.certificate, key: pem.key };
    }
    const pair = await generateKeyPair('ES256', { extractable: true });
    const files = { cert: join(dir, 'server.pem'), key: join(dir, 'server.key'), ca: join(dir, 'ca.pem'), issuers: join(dir, 'issuers.json'), rules: join(dir, 'das.json'), revoked: join(dir, 'revoked.json') };
    revokedFile = files.revoked;
    writeFileSync(files.revoked, JSON.stringify({ revoked: [] }));
    writeFileSync(files.cert, server.certificate);
    writeFileSync(files.key, server.key);
    writeFileSync(files.ca, ca.certificate);
    writeFileSync(files.issuers, JSON.stringify({ issuers: [{ id: 'CWardenDas', algorithms: ['ES256'], jwk: await exportJWK(pair.publicKey), roleDomains: ['das.example.net'] }] }));
    writeFileSync(
      files.rules,
      JSON.stringify({
        consulters: ['/id-in'],
        rules: [
          { originators: ['Cguest'], targets: ['/id-in/cnt*'], operations: ['RETRIEVE'], lifetime: 120 },
          { originators: ['Cother'], targets: ['/id-in/cnt*'], operations: ['RETRIEVE'], lifetime: 120 },
          // contentInstances only: no container whose ID matches is one.
          { originators: ['Crole'], targets: ['/id-in/cnt*'], types: [4], operations: ['RETRIEVE'], lifetime: 120 },
        ],
        roles: [
          { roleId: 'auditor@das.example.net', holders: ['Cguest'], targets: ['*'], operations: ['RETRIEVE'] },
          // Held by whoever the hosting CSE /id-in says holds it (orid): no holders of its own.
          { roleId: 'operator@das.example.net', oridFrom: ['/id-in'], targets: ['/id-in/cnt*'], operations: ['RETRIEVE'] },
        ],
        tokens: { issuer: 'CWardenDas', algorithm: 'ES256', privateKey: await exportPKCS8(pair.privateKey) },
      }),
    );
    t = await startTestCse({
      'cse.spid': SP_ID,
      'http.tls': true,
      'tls.cert': files.cert,
      'tls.key': files.key,
      'tls.ca': files.ca,
      'tls.clientAuth': 'required',
      'dynamicAuthorization.tokenIssuers': files.issuers,
      'dynamicAuthorization.dasRules': files.rules,
      'dynamicAuthorization.revokedTokens': files.revoked,
    }, { logger: captured.logger });
    port = t.cse.httpPort;
    for (const id of ['Cowner', 'Cguest', 'Cother', 'Crole']) {
      assert.equal((await call2(id, 'POST', '/cse-in', { ty: 2, body: { 'm2m:ae': { rn: id.slice(1), api: `N${id.slice(1)}`, rr: false, srv: ['3'] } } })).rsc, 2001, id);
    }
    const acp = await call2('Cowner', 'POST', '/cse-in/owner', { ty: 1, body: { 'm2m:acp': { rn: 'acp', pv: { acr: [{ acor: ['Cowner'], acop: 63 }] }, pvs: { acr: [{ acor: ['Cowner'], acop: 63 }] } } } });
    // The consultation names this CSE's own CSEBase: its built-in DAS, asked in process.
    const dac = await call2('Cowner', 'POST', '/cse-in/owner', { ty: 34, body: { 'm2m:dac': { rn: 'dac', dae: true, dap: ['/id-in/cse-in'] } } });
    const box = await call2('Cowner', 'POST', '/cse-in/owner', { ty: 3, body: { 'm2m:cnt': { rn: 'box', acpi: [(acp.body?.['m2m:acp'] as Attrs).ri], daci: [(dac.body?.['m2m:dac'] as Attrs).ri] } } });
    assert.equal(box.rsc, 2001);
    boxRi = (box.body?.['m2m:cnt'] as Attrs).ri as string;
  });
  after(async () => {
    await t?.close();
  });

  it('direct flow: the hosting CSE asks its own DAS and grants what its rules grant', async () => {
    assert.equal((await call2('Cother', 'GET', '/cse-in/owner/box')).rsc, 2000);
    assert.equal((await call2('Cother', 'DELETE', '/cse-in/owner/box')).rsc, 4103);
  });

  it('indirect flow: tqf names the DAS, the originator gets a token from it for itself, and the token grants', async () => {
    const denied = await call2('Cguest', 'GET', '/cse-in/owner/box?tqi=true');
    assert.equal(denied.rsc, 4103);
    const dasi = ((denied.body?.['m2m:tqf'] as Attrs | undefined)?.dasi ?? []) as Attrs[];
    assert.equal(dasi[0]?.uri, '/id-in/cse-in');
    const dreq = dasi[0]?.dreq as Attrs;
    // The originator takes dreq to the DAS (a NOTIFY to its CSEBase) as itself.
    const answer = await call2('Cguest', 'POST', '/cse-in', { body: { 'm2m:seci': { sit: 1, dreq } } });
    assert.equal(answer.rsc, 2000);
    const dres = (answer.body?.['m2m:seci'] as Attrs).dres as Attrs;
    assert.equal(dres.dai, undefined, 'an originator asking for itself gets tokens, not privileges');
    const [issued] = dres.tkns as string[];
    assert.ok(issued);
    assert.equal((await call2('Cguest', 'GET', '/cse-in/owner/box', { headers: { Authorization: issued } })).rsc, 2000);
    // Another originator may not ask the DAS on Cguest's behalf, nor use Cguest's token.
    assert.equal((await call2('Cother', 'POST', '/cse-in', { body: { 'm2m:seci': { sit: 1, dreq } } })).rsc, 4103);
    assert.equal((await call2('Cother', 'PUT', '/cse-in/owner/box', { body: { 'm2m:cnt': { lbl: ['x'] } }, headers: { Authorization: issued } })).rsc, 4103);
    // By its ID (tids): the hosting CSE fetches the token from the DAS, which issued it to Cguest.
    const jti = String(decodeJwt(issued).jti);
    assert.equal((await call2('Cguest', 'DELETE', `/cse-in/owner/box?tids=${encodeURIComponent(jti)}`)).rsc, 4103, 'the token grants RETRIEVE only');
    assert.equal((await call2('Cguest', 'GET', `/cse-in/owner/box?tids=${encodeURIComponent(jti)}`)).rsc, 2000);
    assert.equal(typeof boxRi, 'string');
  });

  it("an originator asking for itself does not choose the target's type: a rule with types is tested on the resource's own", async () => {
    // Claimed a contentInstance, the container got a token from a rule for contentInstances only.
    for (const trt of [4, 3]) {
      const answer = await call2('Crole', 'POST', '/cse-in', { body: { 'm2m:seci': { sit: 1, dreq: { or: 'Crole', op: 2, trt, trid: `/id-in/${boxRi}` } } } });
      assert.equal(answer.rsc, 2000, JSON.stringify(answer.body));
      assert.deepEqual((answer.body?.['m2m:seci'] as Attrs).dres, {}, `trt ${trt}: nothing granted`);
    }
    assert.equal((await call2('Crole', 'GET', '/cse-in/owner/box')).rsc, 4103);
  });

  it('an originator asking for itself gets no token for a path that names nothing yet, in absolute form either', async () => {
    for (const trid of ['/id-in/cse-in/owner/notYet', `//${SP_ID}/id-in/cse-in/owner/notYet`, `//${SP_ID.toUpperCase()}/id-in/cse-in/owner/notYet`, 'cse-in/owner/notYet']) {
      const answer = await call2('Cguest', 'POST', '/cse-in', { body: { 'm2m:seci': { sit: 1, dreq: { or: 'Cguest', op: 2, trid } } } });
      assert.equal(answer.rsc, 2000, JSON.stringify(answer.body));
      assert.equal(((answer.body?.['m2m:seci'] as Attrs).dres as Attrs).tkns, undefined, `${trid}: no token`);
    }
    // An absolute trid of an existing resource is read SP-relative: the token names the resource by its ID.
    const answer = await call2('Cguest', 'POST', '/cse-in', { body: { 'm2m:seci': { sit: 1, dreq: { or: 'Cguest', op: 2, trid: `//${SP_ID}/id-in/cse-in/owner/box` } } } });
    const [issued] = ((answer.body?.['m2m:seci'] as Attrs).dres as Attrs).tkns as string[];
    assert.ok(issued, JSON.stringify(answer.body));
    assert.deepEqual(((decodeJwt(issued).tkps as Attrs).pm as Attrs[])[0]?.ris, [`/id-in/${boxRi}`]);
  });

  it("the DAS request names the roles of the target's policies (rfa); the DAS vouches in its token for those the originator holds", async () => {
    const acp = await call2('Cowner', 'POST', '/cse-in/owner', { ty: 1, body: { 'm2m:acp': { rn: 'auditAcp', pv: { acr: [{ acor: ['Cowner'], acop: 63 }, { acor: ['auditor@das.example.net'], acop: 2 }] }, pvs: { acr: [{ acor: ['Cowner'], acop: 63 }] } } } });
    const dacRi = (((await call2('Cowner', 'GET', '/cse-in/owner/dac')).body?.['m2m:dac'] as Attrs).ri as string);
    assert.equal((await call2('Cowner', 'POST', '/cse-in/owner', { ty: 3, body: { 'm2m:cnt': { rn: 'audited', acpi: [(acp.body?.['m2m:acp'] as Attrs).ri], daci: [dacRi] } } })).rsc, 2001);
    const denied = await call2('Cguest', 'GET', '/cse-in/owner/audited?tqi=true');
    assert.equal(denied.rsc, 4103);
    const dreq = (((denied.body?.['m2m:tqf'] as Attrs).dasi as Attrs[])[0] as Attrs).dreq as Attrs;
    assert.deepEqual(dreq.rfa, ['auditor@das.example.net']);
    const answer = await call2('Cguest', 'POST', '/cse-in', { body: { 'm2m:seci': { sit: 1, dreq } } });
    const [issued] = ((answer.body?.['m2m:seci'] as Attrs).dres as Attrs).tkns as string[];
    const pm = ((decodeJwt(issued as string).tkps as Attrs).pm as Attrs[])[0] as Attrs;
    assert.deepEqual(pm.rids, ['auditor@das.example.net']);
    assert.equal((await call2('Cguest', 'GET', '/cse-in/owner/audited', { headers: { Authorization: issued as string } })).rsc, 2000);
  });

  it('a token the DAS issued is not handed out by its ID (tids) once it is revoked', async () => {
    // A container of its own: Cguest holds no dynamic policy or token on it from the tests above.
    const box = ((await call2('Cowner', 'GET', '/cse-in/owner/box')).body?.['m2m:cnt'] as Attrs);
    assert.equal((await call2('Cowner', 'POST', '/cse-in/owner', { ty: 3, body: { 'm2m:cnt': { rn: 'revocable', acpi: box.acpi, daci: box.daci } } })).rsc, 2001);
    const denied = await call2('Cguest', 'GET', '/cse-in/owner/revocable?tqi=true');
    const dreq = (((denied.body?.['m2m:tqf'] as Attrs).dasi as Attrs[])[0] as Attrs).dreq as Attrs;
    const issued = await call2('Cguest', 'POST', '/cse-in', { body: { 'm2m:seci': { sit: 1, dreq } } });
    const [token] = ((issued.body?.['m2m:seci'] as Attrs).dres as Attrs).tkns as string[];
    const jti = String(decodeJwt(token as string).jti);
    const byId = async (): Promise<Attrs> => {
      const answer = await call2('Cguest', 'POST', '/cse-in', { body: { 'm2m:seci': { sit: 1, dreq: { ...dreq, tids: [jti] } } } });
      assert.equal(answer.rsc, 2000);
      return (answer.body?.['m2m:seci'] as Attrs).dres as Attrs;
    };
    assert.deepEqual((await byId()).tkns, [token], 'not revoked: handed out by its ID');
    writeFileSync(revokedFile, JSON.stringify({ revoked: [jti] }));
    await sleep(1100); // the list is looked at no more than once a second
    assert.equal((await byId()).tkns, undefined, 'revoked: not handed out');
    const line = captured.lines.filter((l) => l.event === 'das').at(-1);
    assert.equal(line?.granted, false);
    assert.match(String(line?.reason), /revoked/);
    // Nor through the hosting CSE asking for it by ID.
    assert.equal((await call2('Cguest', 'GET', `/cse-in/owner/revocable?tids=${encodeURIComponent(jti)}`)).rsc, 4103);
    writeFileSync(revokedFile, JSON.stringify({ revoked: [] }));
  });

  it('orid: the DAS request names the Role-IDs the originator holds here, and the DAS trusts them only from a consulter', async () => {
    const path = '/cse-in/owner/box';
    // No <role> assigns operator@ to Crole: the request's rids count for nothing, and orid is not sent.
    assert.equal((await call2('Crole', 'GET', `${path}?rids=operator@das.example.net`)).rsc, 4103);
    const claimed = await call2('Crole', 'GET', `${path}?tqi=true&rids=operator@das.example.net`);
    const dreq = (((claimed.body?.['m2m:tqf'] as Attrs).dasi as Attrs[])[0] as Attrs).dreq as Attrs;
    assert.equal(dreq.orid, undefined, 'a Role-ID merely named is not sent as held');
    // The originator claiming the role itself in a DAS request gets nothing for it.
    const self = await call2('Crole', 'POST', '/cse-in', { body: { 'm2m:seci': { sit: 1, dreq: { ...dreq, orid: ['operator@das.example.net'] } } } });
    assert.equal(self.rsc, 2000);
    assert.deepEqual((self.body?.['m2m:seci'] as Attrs).dres, {});
    // Assigned by a <role> of the hosting CSE: orid carries it, and the DAS grants what the role gives.
    const now = Date.now();
    const role = { 'm2m:rol': { rn: 'roleOperator', rlid: 'operator@das.example.net', tkis: '//das.example.net/id-das/CAuthority', tkhd: 'Crole', tknb: formatTimestamp(now - 60_000), tkna: formatTimestamp(now + 600_000) } };
    assert.equal((await call2('CAdmin', 'POST', '/cse-in', { ty: 31, body: role })).rsc, 2001);
    const held = await call2('Crole', 'GET', `${path}?tqi=true&rids=operator@das.example.net`);
    assert.deepEqual(((((held.body?.['m2m:tqf'] as Attrs).dasi as Attrs[])[0] as Attrs).dreq as Attrs).orid, ['operator@das.example.net']);
    assert.equal((await call2('Crole', 'GET', `${path}?rids=operator@das.example.net`)).rsc, 2000);
    const line = captured.lines.filter((l) => l.event === 'das').at(-1);
    assert.deepEqual(line?.orid, ['operator@das.example.net']);
    assert.equal(line?.granted, true);
    assert.deepEqual(line?.roles, ['operator@das.example.net']);
    assert.equal((await call2('Crole', 'DELETE', `${path}?rids=operator@das.example.net`)).rsc, 4103, 'the role gives RETRIEVE only');
  });

  it('refuses malformed DAS requests with 4000', async () => {
    for (const seci of [{ sit: 1 }, { sit: 1, dreq: { or: 'Cguest' } }, { sit: 1, dreq: { or: 'Cguest', op: 9 } }, { sit: 2, dres: {} }, 'hello']) {
      assert.equal((await call2('Cguest', 'POST', '/cse-in', { body: { 'm2m:seci': seci } })).rsc, 4000, JSON.stringify(seci));
    }
  });
});

describe('a DAS on another CSE is asked only where the outbound destination policy allows it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-das-policy-'));
  const captured = capturingLogger();
  let hosting: TestCse;
  let das: WardenProcess;
  let ca = '';

  before(async () => {
    const pki = await TestPki.create(dir);
    ca = pki.ca.certificate;
    const rules = join(dir, 'das.json');
    writeFileSync(rules, JSON.stringify({ consulters: ['/id-in'], rules: [{ originators: ['/id-in/Cguest'], targets: ['*'], operations: ['RETRIEVE'] }] }));
    // Loopback refused for this CSE's own requests: the DAS below listens on 127.0.0.1.
    hosting = await startTestCse(cseFlags('id-in', 'IN', await pki.cse('id-in'), { 'outbound.allow': '', 'outbound.loopback': 'deny' }), { logger: captured.logger });
    const flags = cseFlags('id-mn', 'MN', await pki.cse('id-mn'), { ...registrarFlags(hosting.cse.httpPort), 'dynamicAuthorization.dasRules': rules, 'log.level': 'info', 'storage.path': join(dir, 'mn.sqlite') });
    das = await spawnCse(Object.entries(flags).map(([k, v]) => `--${k}=${String(v)}`));
    await waitFor(async () => (await call(hosting.cse.httpPort, ca, 'GET', '/cse-in/id-mn', 'CAdmin')).rsc === 2000, 30_000);
  });
  after(async () => {
    if (das) await stopCse(das);
    await hosting?.close();
  });

  it('refuses the DAS request before it is sent, and the request stays denied', async () => {
    const port = hosting.cse.httpPort;
    for (const ae of ['owner', 'guest']) assert.equal((await call(port, ca, 'POST', '/cse-in', `C${ae}`, { ty: 2, body: { 'm2m:ae': { rn: ae, api: `N${ae}`, rr: false, srv: ['3'] } } })).rsc, 2001);
    const acp = await call(port, ca, 'POST', '/cse-in/owner', 'Cowner', { ty: 1, body: { 'm2m:acp': { rn: 'acp', pv: { acr: [{ acor: ['Cowner'], acop: 63 }] }, pvs: { acr: [{ acor: ['Cowner'], acop: 63 }] } } } });
    const dac = await call(port, ca, 'POST', '/cse-in/owner', 'Cowner', { ty: 34, body: { 'm2m:dac': { rn: 'dac', dae: true, dap: ['/id-mn/cse-mn'] } } });
    const acpi = [(acp.body?.['m2m:acp'] as Attrs).ri];
    const daci = [(dac.body?.['m2m:dac'] as Attrs).ri];
    assert.equal((await call(port, ca, 'POST', '/cse-in/owner', 'Cowner', { ty: 3, body: { 'm2m:cnt': { rn: 'box', acpi, daci } } })).rsc, 2001);
    assert.equal((await call(port, ca, 'GET', '/cse-in/owner/box', 'Cguest')).rsc, 4103);
    assert.ok(captured.lines.some((line) => line.event === 'outbound-refused'), 'the refusal is logged as a security event');
    const decided = captured.lines.filter((line) => line.event === 'dynamic-authorization').at(-1);
    assert.equal(decided?.granted, false);
    assert.match(String(decided?.reason), /could not be reached|refused/);
    assert.ok(!das.output().includes('"event":"das"'), 'the DAS was never asked');
  });
});
