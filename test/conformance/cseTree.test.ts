// Three Warden processes on loopback — IN-CSE, MN-CSE registered to it, ASN-CSE registered to the MN — with
// certificates made by `warden pki cse` and mutual TLS on every CSE-to-CSE hop: descendantCSEs propagation,
// forwarding over two hops both ways, and re-registration after the MN is killed (kill -9) and started again.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../receiver.js';
import { SP, call, spawnCse, stopCse, warden, type WardenProcess } from '../cse.js';

type Attrs = Record<string, unknown>;

describe('a tree of three Warden processes (IN, MN, ASN) with mutual TLS between them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-tree-'));
  const pki = join(dir, 'pki');
  let ca: string;
  let inCse: WardenProcess;
  let mnCse: WardenProcess;
  let asnCse: WardenProcess;

  const flags = (id: string, type: string, extra: string[] = []): string[] => [
    `--cse.id=${id}`,
    `--cse.rn=${id.replace('id-', 'cse-')}`,
    `--cse.type=${type}`,
    `--cse.spid=${SP}`,
    '--http.tls=true',
    `--tls.cert=${join(pki, `${id}.pem`)}`,
    `--tls.key=${join(pki, `${id}.key`)}`,
    `--tls.ca=${join(pki, 'ca.pem')}`,
    '--tls.clientAuth=optional',
    '--security.authentication=cse',
    `--storage.path=${join(dir, `${id}.sqlite`)}`,
    '--registrar.retryMin=1',
    '--registrar.retryMax=2',
    ...extra,
  ];
  const registrar = (port: number, id: string): string[] => [`--registrar.url=https://127.0.0.1:${port}`, `--registrar.cseId=${id}`, `--registrar.rn=${id.replace('id-', 'cse-')}`];
  const dcseOfMnOnIn = async (): Promise<unknown> => ((await call(inCse.port, ca, 'GET', '/cse-in/id-mn', 'CAdmin')).body?.['m2m:csr'] as Attrs | undefined)?.dcse;

  before(async () => {
    assert.equal(warden('pki', 'ca', '--out', pki).status, 0);
    for (const id of ['id-in', 'id-mn', 'id-asn']) {
      const made = warden('pki', 'cse', '--ca', pki, '--out', pki, '--cse-id', id, '--sp', SP);
      assert.equal(made.status, 0, made.stderr);
    }
    ca = readFileSync(join(pki, 'ca.pem'), 'utf8');
    inCse = await spawnCse(flags('id-in', 'IN'));
    mnCse = await spawnCse(flags('id-mn', 'MN', registrar(inCse.port, 'id-in')));
    asnCse = await spawnCse(flags('id-asn', 'ASN', registrar(mnCse.port, 'id-mn')));
    // The ASN registers with the MN, and the MN tells the IN it has a descendant.
    await waitFor(async () => JSON.stringify(await dcseOfMnOnIn()) === '["/id-asn"]', 30_000);
  });

  after(async () => {
    for (const p of [asnCse, mnCse, inCse]) if (p) await stopCse(p);
  });

  it('lets an AE on the ASN read a container on the IN through the MN, and the IN reach the ASN through the MN', async () => {
    const acp = await call(inCse.port, ca, 'POST', '/cse-in', 'CAdmin', {
      ty: 1,
      body: { 'm2m:acp': { rn: 'fieldReaders', pv: { acr: [{ acor: ['/id-asn/Cfield'], acop: 2 }] }, pvs: { acr: [{ acor: ['CAdmin'], acop: 63 }] } } },
    });
    assert.equal(acp.rsc, 2001, JSON.stringify(acp.body));
    const acpi = `/id-in/${String((acp.body?.['m2m:acp'] as Attrs).ri)}`;
    assert.equal((await call(inCse.port, ca, 'POST', '/cse-in', 'CAdmin', { ty: 3, body: { 'm2m:cnt': { rn: 'settings', acpi: [acpi] } } })).rsc, 2001);
    assert.equal((await call(inCse.port, ca, 'POST', '/cse-in/settings', 'CAdmin', { ty: 4, body: { 'm2m:cin': { con: 'interval=60' } } })).rsc, 2001);
    const ae = await call(asnCse.port, ca, 'POST', '/cse-asn', 'Cfield', { ty: 2, body: { 'm2m:ae': { rn: 'field', api: 'Nfield', rr: false, srv: ['3'] } } });
    assert.equal(ae.rsc, 2001, JSON.stringify(ae.body));
    const read = await call(asnCse.port, ca, 'GET', '/~/id-in/cse-in/settings/la', 'Cfield');
    assert.equal(read.rsc, 2000, JSON.stringify(read.body));
    assert.equal((read.body?.['m2m:cin'] as Attrs).con, 'interval=60');

    const local = await call(asnCse.port, ca, 'POST', '/cse-asn', 'CAdmin', {
      ty: 1,
      body: { 'm2m:acp': { rn: 'fromIn', pv: { acr: [{ acor: ['/id-in/CAdmin'], acop: 2 }] }, pvs: { acr: [{ acor: ['CAdmin'], acop: 63 }] } } },
    });
    const localAcpi = `/id-asn/${String((local.body?.['m2m:acp'] as Attrs).ri)}`;
    assert.equal((await call(asnCse.port, ca, 'POST', '/cse-asn', 'CAdmin', { ty: 3, body: { 'm2m:cnt': { rn: 'meter', acpi: [localAcpi] } } })).rsc, 2001);
    const down = await call(inCse.port, ca, 'GET', '/~/id-asn/cse-asn/meter', 'CAdmin');
    assert.equal(down.rsc, 2000, JSON.stringify(down.body));
    assert.equal((down.body?.['m2m:cnt'] as Attrs).rn, 'meter');
  });

  it('re-registers the MN after kill -9: its <remoteCSE> on the IN is found and updated, forwarding resumes', async () => {
    const before = (await call(inCse.port, ca, 'GET', '/cse-in/id-mn', 'CAdmin')).body?.['m2m:csr'] as Attrs;
    const port = mnCse.port;
    await stopCse(mnCse, 'SIGKILL');
    // The MN is down: the ASN cannot reach the IN (5103), and still serves its own AEs.
    assert.equal((await call(asnCse.port, ca, 'GET', '/~/id-in/cse-in/settings/la', 'Cfield')).rsc, 5103);
    assert.equal((await call(asnCse.port, ca, 'GET', '/cse-asn/field', 'Cfield')).rsc, 2000);
    mnCse = await spawnCse(flags('id-mn', 'MN', [...registrar(inCse.port, 'id-in'), `--http.port=${port}`]));
    await waitFor(async () => {
      const now = (await call(inCse.port, ca, 'GET', '/cse-in/id-mn', 'CAdmin')).body?.['m2m:csr'] as Attrs | undefined;
      return now !== undefined && now.lt !== before.lt;
    }, 30_000);
    const after = (await call(inCse.port, ca, 'GET', '/cse-in/id-mn', 'CAdmin')).body?.['m2m:csr'] as Attrs;
    assert.equal(after.ct, before.ct, 'the same <remoteCSE>, not a new one');
    assert.deepEqual(after.dcse, ['/id-asn']);
    const read = await call(asnCse.port, ca, 'GET', '/~/id-in/cse-in/settings/la', 'Cfield');
    assert.equal(read.rsc, 2000, JSON.stringify(read.body));
  });
});
