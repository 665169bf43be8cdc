// Certificate sign-in to the web console in Debian's Chromium over HTTPS: the browser presents a client
// certificate (playwright-core's clientCertificates), signs in as that certificate's identity, and the pipeline
// treats its requests as authenticated (rq_authn): a container whose only rule requires it (acaf) is readable.
// A browser without a certificate is not offered certificate sign-in, and a forced attempt is refused.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, issueCertificate, type Pem } from '../../src/security/pki.js';
import { tlsRequest } from '../tls.js';
import { browserUnavailable, expandNode, launchBrowser, selectNode, type Browser } from './browser.js';
import { startConsoleCse, type ConsoleCse } from './fixture.js';

const SP = 'warden.example.net';

const skip = browserUnavailable();
if (skip) process.stdout.write(`${skip}\n`);

describe('web console: certificate sign-in in a browser over HTTPS', { skip, timeout: 120_000 }, () => {
  let t: ConsoleCse;
  let ca: Pem;
  let dir = '';
  let base = '';
  let alice: { cert: string; key: string };
  let withCertificate: Browser;
  let withoutCertificate: Browser;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'warden-console-browser-tls-'));
    ca = await createCa('Warden Console Browser Test CA');
    const server = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'both' });
    const a = await issueCertificate(ca, { commonName: 'Calice', uris: [`onem2m://${SP}/id-in/Calice`], usage: 'client' });
    alice = { cert: a.certificate, key: a.key };
    for (const [name, pem] of [['server.pem', server.certificate], ['server.key', server.key], ['ca.pem', ca.certificate]] as const) writeFileSync(join(dir, name), pem);
    t = await startConsoleCse({ 'http.tls': true, 'tls.cert': join(dir, 'server.pem'), 'tls.key': join(dir, 'server.key'), 'tls.ca': join(dir, 'ca.pem'), 'tls.clientAuth': 'optional' });
    base = `https://127.0.0.1:${t.cse.httpPort}`;
    // alice registers over HTTPS with her certificate (so her AE is bound to it) and keeps a container whose
    // only rule requires an authenticated originator (acaf).
    const client = { ca: ca.certificate, ...alice };
    const port = t.cse.httpPort;
    const ae = await tlsRequest(port, client, 'POST', '/cse-in', 'Calice', { ty: 2, body: { 'm2m:ae': { rn: 'alice', api: 'Nalice', rr: false, srv: ['3'] } } });
    assert.equal(ae.rsc, 2001, JSON.stringify(ae.body));
    const acp = await tlsRequest(port, client, 'POST', '/cse-in/alice', 'Calice', {
      ty: 1,
      body: { 'm2m:acp': { rn: 'strictPolicy', pv: { acr: [{ acor: ['Calice'], acop: 63, acaf: true }] }, pvs: { acr: [{ acor: ['Calice'], acop: 63 }] } } },
    });
    assert.equal(acp.rsc, 2001, JSON.stringify(acp.body));
    const acpRi = String((acp.body?.['m2m:acp'] as Record<string, unknown>).ri);
    const cnt = await tlsRequest(port, client, 'POST', '/cse-in/alice', 'Calice', { ty: 3, body: { 'm2m:cnt': { rn: 'strict', acpi: [acpRi] } } });
    assert.equal(cnt.rsc, 2001, JSON.stringify(cnt.body));
    // Playwright presents the certificate through its own TLS proxy in this process, which verifies the server
    // against Node's CA store: the test CA is not in it, so server verification is turned off for the browser.
    // The server's certificate is not what this test checks (https.test.ts pins it with the test CA).
    withCertificate = await launchBrowser({ clientCertificates: [{ origin: base, cert: Buffer.from(alice.cert), key: Buffer.from(alice.key) }], ignoreHTTPSErrors: true });
    withoutCertificate = await launchBrowser({ ignoreHTTPSErrors: true });
  });
  after(async () => {
    await withCertificate?.close();
    await withoutCertificate?.close();
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('signs in with the client certificate, authenticated, and reads what only an authenticated originator may', async () => {
    const p = await withCertificate.newPage();
    await p.goto(`${base}/console/`);
    await p.locator('#sign-in-certificate').click();
    await p.locator('#tree').waitFor();
    assert.equal(await p.locator('#who').innerText(), 'Calice · client certificate (authenticated)');
    const cookie = (await withCertificate.context.cookies(base)).find((c) => c.name === '__Host-warden-console');
    assert.ok(cookie, 'the session cookie is __Host-');
    assert.equal(cookie.secure, true);
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    await expandNode(p, '/cse-in');
    await expandNode(p, '/cse-in/alice');
    await selectNode(p, '/cse-in/alice/strict');
    await p.locator('tr[data-attribute="acpi"]').waitFor();
    await p.close();
  });

  it('a browser without a certificate is not offered certificate sign-in, and a forced attempt is refused', async () => {
    const p = await withoutCertificate.newPage();
    await p.goto(`${base}/console/`);
    await p.locator('#token').waitFor();
    assert.equal(await p.locator('#sign-in-certificate').count(), 0);
    // The page's own call, as a script on the console's origin would make it: no certificate, no session.
    const status = await p.evaluate(async () => {
      const res = await fetch('/console/api/session', { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify({ certificate: true }) });
      return res.status;
    });
    assert.equal(status, 401);
    assert.equal(await p.locator('#tree').count(), 0);
    await p.close();
  });
});
