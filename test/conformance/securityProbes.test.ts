// Attacks on the CSE-to-CSE surface, through the real protocol: an IN-CSE on loopback (mutual TLS) and CSE
// certificates that a test presents as a registree would. Each test names the attack it refuses.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestCse } from '../harness.js';
import { TestPki, call, startCseNode, type CseFiles } from '../cse.js';

describe('security probes of the CSE-to-CSE surface', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-probe-'));
  let ca: string;
  let inCse: TestCse;
  const certs: Record<string, { cert: string; key: string }> = {};
  const port = (): number => inCse.cse.httpPort;
  const registration = (csi: string): unknown => ({ 'm2m:csr': { cb: `${csi}/cse-${csi.slice(4)}`, rr: true, srv: ['3'], poa: ['https://127.0.0.1:1'] } });

  before(async () => {
    const pki = await TestPki.create(dir);
    ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    const files: Record<string, CseFiles> = {};
    for (const id of ['id-in', 'id-x', 'id-y']) {
      files[id] = await pki.cse(id);
      certs[id] = { cert: readFileSync((files[id]).cert, 'utf8'), key: readFileSync((files[id]).key, 'utf8') };
    }
    inCse = await startCseNode('id-in', 'IN', files['id-in'] as CseFiles);
  });

  after(async () => {
    await inCse?.close();
  });

  it('refuses a registration (CREATE <remoteCSE>) relayed by another CSE: only the credential holder registers (4107)', async () => {
    const asX = certs['id-x'];
    const asY = certs['id-y'];
    assert.equal((await call(port(), ca, 'POST', '/cse-in', '/id-x', { ty: 16, body: registration('/id-x'), client: asX })).rsc, 2001);
    // The registree lists a CSE that has not registered yet as its descendant (its own attribute to write) ...
    assert.equal((await call(port(), ca, 'PUT', '/cse-in/id-x', '/id-x', { body: { 'm2m:csr': { dcse: ['/id-y'] } }, client: asX })).rsc, 2004);
    // ... and registers it in its name, with a point of access of its choosing [TS-0004 §7.4.4.2.1: the Hosting CSE
    // checks the credential the Originator provided, SECURITY_ASSOCIATION_REQUIRED otherwise].
    const squat = await call(port(), ca, 'POST', '/cse-in', '/id-y', { ty: 16, body: registration('/id-y'), client: asX });
    assert.equal(squat.rsc, 4107, JSON.stringify(squat.body));
    assert.equal((await call(port(), ca, 'GET', '/cse-in/id-y', 'CAdmin')).rsc, 4004);
    // The real CSE still registers with its own credential.
    const real = await call(port(), ca, 'POST', '/cse-in', '/id-y', { ty: 16, body: registration('/id-y'), client: asY });
    assert.equal(real.rsc, 2001, JSON.stringify(real.body));
    for (const [id, client] of [['id-y', asY], ['id-x', asX]] as const) assert.equal((await call(port(), ca, 'DELETE', `/cse-in/${id}`, `/${id}`, { client })).rsc, 2002);
  });

  it('refuses an announced resource whose link names another SP: rcn 7 would forward a reader there as this CSE', async () => {
    const asX = certs['id-x'];
    assert.equal((await call(port(), ca, 'POST', '/cse-in', '/id-x', { ty: 16, body: registration('/id-x'), client: asX })).rsc, 2001);
    const elsewhere = await call(port(), ca, 'POST', '/cse-in', '/id-x', { ty: 10005, body: { 'm2m:cbA': { lnk: '//other-sp.example.org/id-x/cse-x' } }, client: asX });
    assert.equal(elsewhere.rsc, 4000, JSON.stringify(elsewhere.body));
    // The same CSE-ID in this SP's absolute form (the SP-ID compared without case) is the announcing CSE's.
    const here = await call(port(), ca, 'POST', '/cse-in', '/id-x', { ty: 10005, body: { 'm2m:cbA': { lnk: '//WARDEN.example.net/id-x/cse-x' } }, client: asX });
    assert.equal(here.rsc, 2001, JSON.stringify(here.body));
    assert.equal((await call(port(), ca, 'DELETE', '/cse-in/id-x', '/id-x', { client: asX })).rsc, 2002);
  });
});
