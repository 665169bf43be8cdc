// CSE registration, link security and forwarding between Warden CSEs on loopback, with mutual TLS between CSEs
// [TS-0001 §10.2.2.6–10.2.2.9, TS-0004 §7.3.2.1, §7.3.2.6, §7.4.4].
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createHttpsServer } from 'node:https';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { freePort, startTestCse, type TestCse } from '../harness.js';
import { createTestDatabase } from '../postgres.js';
import { Receiver, waitFor } from '../receiver.js';
import { TestPki, call, registrarFlags, startCseNode, startInMnTree, type CseFiles, type Reply } from '../cse.js';

type Attrs = Record<string, unknown>;
const csr = (r: Reply): Attrs => (r.body?.['m2m:csr'] ?? {}) as Attrs;

describe('CSE registration and forwarding', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-cse-'));
  let pki: TestPki;
  let ca: string;
  const files: Record<string, CseFiles> = {};
  let inCse: TestCse;
  let mnCse: TestCse;
  const mnDb = join(dir, 'mn.sqlite');
  const port = (t: TestCse): number => t.cse.httpPort;

  before(async () => {
    pki = await TestPki.create(dir);
    ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    for (const id of ['id-in', 'id-mn', 'id-mn2', 'id-mn3', 'id-x']) files[id] = await pki.cse(id);
    inCse = await startCseNode('id-in', 'IN', files['id-in'] as CseFiles);
    mnCse = await startCseNode('id-mn', 'MN', files['id-mn'] as CseFiles, { ...registrarFlags(port(inCse)), 'storage.path': mnDb });
    await mnCse.cse.services.remote?.registration?.whenRegistered();
  });

  after(async () => {
    await mnCse?.close();
    await inCse?.close();
  });

  it('creates the registree <remoteCSE> on the registrar and the registrar <remoteCSE> on the registree', async () => {
    const onIn = await call(port(inCse), ca, 'GET', '/cse-in/id-mn', 'CAdmin');
    assert.equal(onIn.rsc, 2000, JSON.stringify(onIn.body));
    assert.equal(csr(onIn).csi, '/id-mn');
    assert.equal(csr(onIn).cb, '/id-mn/cse-mn');
    assert.equal(csr(onIn).ty, 16);
    assert.deepEqual(csr(onIn).poa, [`https://127.0.0.1:${port(mnCse)}`]);
    const onMn = await call(port(mnCse), ca, 'GET', '/cse-mn/id-in', 'CAdmin');
    assert.equal(onMn.rsc, 2000, JSON.stringify(onMn.body));
    assert.equal(csr(onMn).csi, '/id-in');
    assert.equal(csr(onMn).cb, '/id-in/cse-in');
    assert.equal(csr(onMn).cst, 1);
  });

  it("keeps a <remoteCSE>'s nodeLink and its node's hostedCSELink consistent", async () => {
    const node = await call(port(inCse), ca, 'POST', '/cse-in', 'CAdmin', { ty: 14, body: { 'm2m:nod': { rn: 'mnBox', ni: 'mn-box' } } });
    assert.equal(node.rsc, 2001, JSON.stringify(node.body));
    const nodeRi = (node.body?.['m2m:nod'] as Record<string, unknown>).ri as string;
    const linked = await call(port(inCse), ca, 'PUT', '/cse-in/id-mn', 'CAdmin', { body: { 'm2m:csr': { nl: 'cse-in/mnBox' } } });
    assert.equal(linked.rsc, 2004, JSON.stringify(linked.body));
    const hclOf = async (rn: string): Promise<unknown> => ((await call(port(inCse), ca, 'GET', `/cse-in/${rn}`, 'CAdmin')).body?.['m2m:nod'] as Record<string, unknown>).hcl;
    const hcl = (): Promise<unknown> => hclOf('mnBox');
    assert.equal(await hcl(), csr(await call(port(inCse), ca, 'GET', '/cse-in/id-mn', 'CAdmin')).ri);
    // A node hosts one CSE: another that is named there already is refused, not taken over.
    const other = await call(port(inCse), ca, 'POST', '/cse-in', 'CAdmin', { ty: 14, body: { 'm2m:nod': { rn: 'taken', ni: 'taken', hcl: 'somebodyElse' } } });
    assert.equal(other.rsc, 2001);
    assert.equal((await call(port(inCse), ca, 'PUT', '/cse-in/id-mn', 'CAdmin', { body: { 'm2m:csr': { nl: 'cse-in/taken' } } })).rsc, 4000);
    // Unlinked: the node's hcl goes; the node deleted: the <remoteCSE>'s nl goes.
    assert.equal((await call(port(inCse), ca, 'PUT', '/cse-in/id-mn', 'CAdmin', { body: { 'm2m:csr': { nl: null } } })).rsc, 2004);
    assert.equal(await hcl(), undefined);
    assert.equal((await call(port(inCse), ca, 'PUT', '/cse-in/id-mn', 'CAdmin', { body: { 'm2m:csr': { nl: nodeRi } } })).rsc, 2004);
    assert.equal((await call(port(inCse), ca, 'DELETE', '/cse-in/mnBox', 'CAdmin')).rsc, 2002);
    assert.equal(csr(await call(port(inCse), ca, 'GET', '/cse-in/id-mn', 'CAdmin')).nl, undefined);
    assert.equal((await call(port(inCse), ca, 'DELETE', '/cse-in/taken', 'CAdmin')).rsc, 2002);
    // The registree links itself only to a node it may update: claiming any node kept every other CSE off it.
    const mn = files['id-mn'] as CseFiles;
    const asMn = { cert: readFileSync(mn.cert, 'utf8'), key: readFileSync(mn.key, 'utf8') };
    assert.equal((await call(port(inCse), ca, 'POST', '/cse-in', 'CAdmin', { ty: 14, body: { 'm2m:nod': { rn: 'claimed', ni: 'claimed' } } })).rsc, 2001);
    const claim = (): ReturnType<typeof call> => call(port(inCse), ca, 'PUT', '/cse-in/id-mn', '/id-mn', { body: { 'm2m:csr': { nl: 'cse-in/claimed' } }, client: asMn });
    const refused = await claim();
    assert.equal(refused.rsc, 4103, JSON.stringify(refused.body));
    assert.equal(await hclOf('claimed'), undefined);
    const acp = await call(port(inCse), ca, 'POST', '/cse-in', 'CAdmin', { ty: 1, body: { 'm2m:acp': { rn: 'nodeKeepers', pv: { acr: [{ acor: ['/id-mn'], acop: 6 }] }, pvs: { acr: [{ acor: ['CAdmin'], acop: 63 }] } } } });
    assert.equal((await call(port(inCse), ca, 'PUT', '/cse-in/claimed', 'CAdmin', { body: { 'm2m:nod': { acpi: [(acp.body?.['m2m:acp'] as Record<string, unknown>).ri] } } })).rsc, 2004);
    assert.equal((await claim()).rsc, 2004);
    assert.equal(await hclOf('claimed'), csr(await call(port(inCse), ca, 'GET', '/cse-in/id-mn', 'CAdmin')).ri);
    assert.equal((await call(port(inCse), ca, 'PUT', '/cse-in/id-mn', '/id-mn', { body: { 'm2m:csr': { nl: null } }, client: asMn })).rsc, 2004);
    assert.equal((await call(port(inCse), ca, 'DELETE', '/cse-in/claimed', 'CAdmin')).rsc, 2002);
    assert.equal((await call(port(inCse), ca, 'DELETE', '/cse-in/nodeKeepers', 'CAdmin')).rsc, 2002);
  });

  it('forwards a request from an AE on the registree up to the registrar, with an SP-relative From', async () => {
    const acp = await call(port(inCse), ca, 'POST', '/cse-in', 'CAdmin', {
      ty: 1,
      body: { 'm2m:acp': { rn: 'remoteReaders', pv: { acr: [{ acor: ['/id-mn/Creader'], acop: 3 }] }, pvs: { acr: [{ acor: ['CAdmin'], acop: 63 }] } } },
    });
    assert.equal(acp.rsc, 2001, JSON.stringify(acp.body));
    const acpi = String((acp.body?.['m2m:acp'] as Attrs).ri);
    assert.equal((await call(port(inCse), ca, 'POST', '/cse-in', 'CAdmin', { ty: 3, body: { 'm2m:cnt': { rn: 'shared', acpi: [`/id-in/${acpi}`] } } })).rsc, 2001);
    const ae = await call(port(mnCse), ca, 'POST', '/cse-mn', 'Creader', { ty: 2, body: { 'm2m:ae': { rn: 'reader', api: 'Nreader', rr: false, srv: ['3'] } } });
    assert.equal(ae.rsc, 2001, JSON.stringify(ae.body));
    const created = await call(port(mnCse), ca, 'POST', '/~/id-in/cse-in/shared', 'Creader', { ty: 4, body: { 'm2m:cin': { con: 'hello' } } });
    assert.equal(created.rsc, 2001, JSON.stringify(created.body));
    assert.equal((created.body?.['m2m:cin'] as Attrs).con, 'hello');
    const read = await call(port(mnCse), ca, 'GET', '/~/id-in/cse-in/shared/la', 'Creader');
    assert.equal(read.rsc, 2000, JSON.stringify(read.body));
    assert.equal((read.body?.['m2m:cin'] as Attrs).con, 'hello');
    // The hosting CSE saw the originator in SP-relative form: the creator is the AE on the registree.
    const stored = await inCse.cse.services.store.getByPath('cse-in/shared');
    const instances = await inCse.cse.services.store.children(String(stored?.ri), { ty: 4 });
    assert.equal(instances[0]?.doc.__creator, '/id-mn/Creader');
    // Another AE on the registree is not granted by the policy: the hosting CSE decides.
    await call(port(mnCse), ca, 'POST', '/cse-mn', 'Cother', { ty: 2, body: { 'm2m:ae': { rn: 'other', api: 'Nother', rr: false, srv: ['3'] } } });
    assert.equal((await call(port(mnCse), ca, 'GET', '/~/id-in/cse-in/shared', 'Cother')).rsc, 4103);
  });

  it("keeps the <request> of a non-blocking request for the registrar on the registree, its Receiver CSE, with the hosting CSE's answer", async () => {
    const accepted = await call(port(mnCse), ca, 'GET', '/~/id-in/cse-in/shared?rt=1', 'Creader');
    assert.equal(accepted.rsc, 1001, JSON.stringify(accepted.body));
    const uri = String(accepted.body?.['m2m:uri']);
    // TS-0004 §7.3.2.2: the Receiver CSE hosts the <request> (test/conformance/treeNonBlocking.test.ts has the rest).
    assert.match(uri, /^cse-mn\/req/);
    const path = `/${uri}`;
    let result: Attrs = {};
    await waitFor(async () => {
      const req = await call(port(mnCse), ca, 'GET', path, 'Creader');
      result = (req.body?.['m2m:req'] ?? {}) as Attrs;
      return result.rs === 1;
    }, 10_000);
    assert.equal((result.ors as Attrs).rsc, 2000);
    assert.equal((((result.ors as Attrs).pc as Attrs)['m2m:cnt'] as Attrs).rn, 'shared');
  });

  it('forwards a request from the registrar down to the registree', async () => {
    assert.equal((await call(port(mnCse), ca, 'POST', '/cse-mn', 'CAdmin', { ty: 3, body: { 'm2m:cnt': { rn: 'local' } } })).rsc, 2001);
    // The admin of the IN-CSE is no admin of the MN-CSE: /id-in/CAdmin has no privilege there.
    assert.equal((await call(port(inCse), ca, 'GET', '/~/id-mn/cse-mn/local', 'CAdmin')).rsc, 4103);
    const acp = await call(port(mnCse), ca, 'POST', '/cse-mn', 'CAdmin', {
      ty: 1,
      body: { 'm2m:acp': { rn: 'fromIn', pv: { acr: [{ acor: ['/id-in/CAdmin'], acop: 2 }] }, pvs: { acr: [{ acor: ['CAdmin'], acop: 63 }] } } },
    });
    const acpi = String((acp.body?.['m2m:acp'] as Attrs).ri);
    assert.equal((await call(port(mnCse), ca, 'PUT', '/cse-mn/local', 'CAdmin', { body: { 'm2m:cnt': { acpi: [`/id-mn/${acpi}`] } } })).rsc, 2004);
    const read = await call(port(inCse), ca, 'GET', '/~/id-mn/cse-mn/local', 'CAdmin');
    assert.equal(read.rsc, 2000, JSON.stringify(read.body));
    assert.equal((read.body?.['m2m:cnt'] as Attrs).rn, 'local');
    // Absolute form too.
    assert.equal((await call(port(inCse), ca, 'GET', `/_/${'warden.example.net'}/id-mn/cse-mn/local`, 'CAdmin')).rsc, 2000);
  });

  it('fans a group request out to a member on the registree', async () => {
    const grp = await call(port(inCse), ca, 'POST', '/cse-in', 'CAdmin', { ty: 9, body: { 'm2m:grp': { rn: 'mixed', mt: 3, mnm: 10, mid: ['/id-mn/cse-mn/local', 'cse-in/shared'] } } });
    assert.equal(grp.rsc, 2001, JSON.stringify(grp.body));
    const fanned = await call(port(inCse), ca, 'GET', '/cse-in/mixed/fopt', 'CAdmin');
    assert.equal(fanned.rsc, 2000, JSON.stringify(fanned.body));
    const answers = ((fanned.body?.['m2m:agr'] as Attrs)['m2m:rsp'] as Attrs[]) ?? [];
    const remote = answers.find((a) => a.fr === '/id-mn/cse-mn/local');
    assert.equal(remote?.rsc, 2000, JSON.stringify(answers));
    assert.equal(((remote?.pc as Attrs)['m2m:cnt'] as Attrs).rn, 'local');
    assert.equal(answers.find((a) => a.fr === 'cse-in/shared')?.rsc, 2000);
  });

  it('notifies an AE registered on the registree of a subscription on the registrar (nu = its AE-ID)', async () => {
    const receiver = await new Receiver().start();
    try {
      const updated = await call(port(mnCse), ca, 'PUT', '/cse-mn/reader', 'Creader', { body: { 'm2m:ae': { rr: true, poa: [receiver.url] } } });
      assert.equal(updated.rsc, 2004, JSON.stringify(updated.body));
      const sub = await call(port(mnCse), ca, 'POST', '/~/id-in/cse-in/shared', 'Creader', { ty: 23, body: { 'm2m:sub': { rn: 'watch', nu: ['/id-mn/Creader'], enc: { net: [3] } } } });
      assert.equal(sub.rsc, 2001, JSON.stringify(sub.body));
      assert.equal((await call(port(inCse), ca, 'POST', '/cse-in/shared', 'CAdmin', { ty: 4, body: { 'm2m:cin': { con: 'news' } } })).rsc, 2001);
      await waitFor(() => receiver.notifications().length > 0, 10_000);
      const sgn = receiver.notifications()[0]?.['m2m:sgn'] as Attrs;
      assert.equal(((sgn.nev as Attrs).rep as Attrs)['m2m:cin'] !== undefined, true);
      assert.equal(String(sgn.sur).startsWith('/id-in/'), true);
      // A subscription of one AE naming another AE on the registree is verified there, through the tree.
      const other = await call(port(mnCse), ca, 'POST', '/~/id-in/cse-in/shared', 'Creader', { ty: 23, body: { 'm2m:sub': { rn: 'forOther', nu: ['/id-mn/Cnobody'] } } });
      assert.equal(other.rsc, 5204, JSON.stringify(other.body));
    } finally {
      await receiver.stop();
    }
  });

  it('answers 4004 for a CSE that no registree leads to (the IN-CSE, and the MN-CSE through it)', async () => {
    assert.equal((await call(port(inCse), ca, 'GET', '/~/id-nowhere/cse-x', 'CAdmin')).rsc, 4004);
    const viaMn = await call(port(mnCse), ca, 'GET', '/~/id-nowhere/cse-x', 'Creader');
    assert.equal(viaMn.rsc, 4004, JSON.stringify(viaMn.body));
  });

  it('refuses registration through a transit CSE', async () => {
    const ae = await call(port(mnCse), ca, 'POST', '/~/id-in/cse-in', 'Creader', { ty: 2, body: { 'm2m:ae': { api: 'Nx', rr: false, srv: ['3'] } } });
    assert.equal(ae.rsc, 4000);
  });

  it('refuses a CSE-ID originator without a credential that names it (4107) or with another CSE credential (4106)', async () => {
    const body = { 'm2m:csr': { cb: '/id-mn/cse-mn', rr: true, srv: ['3'] } };
    assert.equal((await call(port(inCse), ca, 'POST', '/cse-in', '/id-mn', { ty: 16, body })).rsc, 4107);
    assert.equal((await call(port(inCse), ca, 'GET', '/cse-in', '/id-mn')).rsc, 4107);
    const x = files['id-x'] as CseFiles;
    const asX = { cert: readFileSync(x.cert, 'utf8'), key: readFileSync(x.key, 'utf8') };
    assert.equal((await call(port(inCse), ca, 'GET', '/cse-in/id-mn', '/id-mn', { client: asX })).rsc, 4106);
    // A registree may not relay for another registree, its AEs, this CSE or an unknown CSE [TS-0004 §7.3.2.1].
    const x2 = await call(port(inCse), ca, 'POST', '/cse-in', '/id-x', { ty: 16, body: { 'm2m:csr': { cb: '/id-x/cse-x', rr: true, srv: ['3'], poa: ['https://127.0.0.1:1'] } }, client: asX });
    assert.equal(x2.rsc, 2001, JSON.stringify(x2.body));
    for (const from of ['/id-mn/Creader', '/id-mn', '/id-in/CAdmin', '/id-other/Cx', 'Creader', 'CAdmin']) {
      const r = await call(port(inCse), ca, 'GET', '/cse-in/shared', from, { client: asX });
      assert.equal(r.rsc, 4106, `${from}: ${JSON.stringify(r.body)}`);
    }
    // A second registration of the same CSE-ID is 4117; an AE cannot create a <remoteCSE>.
    assert.equal((await call(port(inCse), ca, 'POST', '/cse-in', '/id-x', { ty: 16, body: { 'm2m:csr': { cb: '/id-x/cse-x', rr: true, srv: ['3'] } }, client: asX })).rsc, 4117);
    assert.equal((await call(port(mnCse), ca, 'POST', '/cse-mn', 'Creader', { ty: 16, body })).rsc, 4005);
    // A registree may not claim another registree (or this CSE) as its descendant.
    assert.equal((await call(port(inCse), ca, 'PUT', '/cse-in/id-x', '/id-x', { body: { 'm2m:csr': { dcse: ['/id-mn'] } }, client: asX })).rsc, 4000);
    assert.equal((await call(port(inCse), ca, 'PUT', '/cse-in/id-x', '/id-x', { body: { 'm2m:csr': { dcse: ['/id-in'] } }, client: asX })).rsc, 4000);
    // Unreachable registree: 5103.
    assert.equal((await call(port(inCse), ca, 'GET', '/~/id-x/cse-x', 'CAdmin')).rsc, 5103);
    assert.equal((await call(port(inCse), ca, 'DELETE', '/cse-in/id-x', '/id-x', { client: asX })).rsc, 2002);
  });

  it("takes ACME's announcement of its CSEBase: the CREATE of <CSEBaseAnnc> carries \"et\": null (absent), a child \"acpi\": null", async () => {
    const x = files['id-x'] as CseFiles;
    const asX = { cert: readFileSync(x.cert, 'utf8'), key: readFileSync(x.key, 'utf8') };
    const registered = await call(port(inCse), ca, 'POST', '/cse-in', '/id-x', { ty: 16, body: { 'm2m:csr': { cb: '/id-x/cse-x', rr: true, srv: ['3'], poa: ['https://127.0.0.1:1'] } }, client: asX });
    assert.equal(registered.rsc, 2001, JSON.stringify(registered.body));
    // What ACME sends for a CSEBase without an expirationTime: its announced attributes, et as it has it (None), and
    // the name ACME gives it, <SP-ID>_<CSEBase name>.
    const announceCseBase = (rn: string): ReturnType<typeof call> =>
      call(port(inCse), ca, 'POST', '/cse-in', '/id-x', { ty: 10005, body: { 'm2m:cbA': { et: null, lnk: '/id-x/cse-x', rn, csi: '/id-x', srv: ['3'], cst: 2 } }, client: asX });
    // Another CSE's names are not this CSE's to take: a <remoteCSE>'s (id-mn), another announcer's (id-mnAnnc).
    for (const squatted of ['id-mn', 'id-mnAnnc', 'id-y']) {
      const refused = await announceCseBase(squatted);
      assert.equal(refused.rsc, 4000, JSON.stringify(refused.body));
    }
    assert.equal((await call(port(inCse), ca, 'POST', '/cse-in', '/id-x', { ty: 10002, body: { 'm2m:aeA': { lnk: '/id-x/Cae', rn: 'id-y' } }, client: asX })).rsc, 4103, 'nothing else announced directly under the CSEBase');
    const cbA = await announceCseBase('warden.example.net_cse-x');
    assert.equal(cbA.rsc, 2001, JSON.stringify(cbA.body));
    assert.equal((await announceCseBase('warden.example.net_cse-x2')).rsc, 4105, 'one <CSEBaseAnnc> per announcing CSE');
    const made = cbA.body?.['m2m:cbA'] as Attrs;
    assert.equal(typeof made.et, 'string', 'the CSE sets et as when it is not given');
    const child = await call(port(inCse), ca, 'POST', '/cse-in/warden.example.net_cse-x', '/id-x', { ty: 10003, body: { 'm2m:cntA': { et: null, lnk: '/id-x/cnt1', acpi: null, lbl: ['a'] } }, client: asX });
    assert.equal(child.rsc, 2001, JSON.stringify(child.body));
    assert.equal('acpi' in (child.body?.['m2m:cntA'] as Attrs), false);
    const dotted = await call(port(inCse), ca, 'POST', '/cse-in/warden.example.net_cse-x', '/id-x', { ty: 10003, body: { 'm2m:cntA': { lnk: '/id-x/../id-in/cse-in/secret' } }, client: asX });
    assert.equal(dotted.rsc, 4000, `no dot segments in a link: ${JSON.stringify(dotted.body)}`);
    // Null is absence, not a value: lnk, mandatory, is still required.
    const noLink = await call(port(inCse), ca, 'POST', '/cse-in/warden.example.net_cse-x', '/id-x', { ty: 10003, body: { 'm2m:cntA': { et: null, lnk: null } }, client: asX });
    assert.equal(noLink.rsc, 4000, JSON.stringify(noLink.body));
    assert.equal((await call(port(inCse), ca, 'DELETE', '/cse-in/id-x', '/id-x', { client: asX })).rsc, 2002);
  });

  it("passes its registrees' descendants up fairly, and leaves out those the registrar refuses instead of losing the update", async () => {
    const as = (id: string): { cert: string; key: string } => ({ cert: readFileSync((files[id] as CseFiles).cert, 'utf8'), key: readFileSync((files[id] as CseFiles).key, 'utf8') });
    const register = (on: TestCse, base: string, id: string, dcse: string[]): ReturnType<typeof call> =>
      call(port(on), ca, 'POST', base, `/${id}`, { ty: 16, body: { 'm2m:csr': { cb: `/${id}/cse`, rr: true, srv: ['3'], poa: ['https://127.0.0.1:1'], dcse } }, client: as(id) });
    // id-x is registered with the IN-CSE itself; a registree of the MN-CSE then claims it, with 998 invented names.
    assert.equal((await register(inCse, '/cse-in', 'id-x', [])).rsc, 2001);
    const invented = Array.from({ length: 998 }, (_, i) => `/id-z${String(i)}`);
    assert.equal((await register(mnCse, '/cse-mn', 'id-mn2', ['/id-x', ...invented])).rsc, 2001);
    assert.equal((await register(mnCse, '/cse-mn', 'id-mn3', ['/id-mn3child'])).rsc, 2001);
    const onIn = async (): Promise<string[]> => (csr(await call(port(inCse), ca, 'GET', '/cse-in/id-mn', 'CAdmin')).dcse as string[] | undefined) ?? [];
    // The registration's next update reaches the IN-CSE without the refused name; both registrees and the second's
    // descendant are there although the first listed 999.
    await waitFor(async () => (await onIn()).includes('/id-mn3child'), 10_000);
    const dcse = await onIn();
    assert.ok(dcse.includes('/id-mn2') && dcse.includes('/id-mn3'), 'the registrees come first');
    assert.ok(!dcse.includes('/id-x'), 'the refused name is left out');
    assert.ok(dcse.length <= 1000);
    assert.equal(mnCse.cse.services.descendants.disowned('/id-x'), true, 'nor is the registree that claimed it routed to for it');
    for (const id of ['id-mn2', 'id-mn3']) assert.equal((await call(port(mnCse), ca, 'DELETE', `/cse-mn/${id}`, `/${id}`, { client: as(id) })).rsc, 2002);
    assert.equal((await call(port(inCse), ca, 'DELETE', '/cse-in/id-x', '/id-x', { client: as('id-x') })).rsc, 2002);
  });

  it('lets a registree speak only for descendants the registrar accepted (not a refused one, not an S-AE), and its leaving keeps what a refused one announced', async () => {
    const as = (id: string): { cert: string; key: string } => ({ cert: readFileSync((files[id] as CseFiles).cert, 'utf8'), key: readFileSync((files[id] as CseFiles).key, 'utf8') });
    const register = (on: TestCse, base: string, id: string, dcse: string[]): ReturnType<typeof call> =>
      call(port(on), ca, 'POST', base, `/${id}`, { ty: 16, body: { 'm2m:csr': { cb: `/${id}/cse`, rr: true, srv: ['3'], poa: ['https://127.0.0.1:1'], dcse } }, client: as(id) });
    const onIn = async (): Promise<string[]> => (csr(await call(port(inCse), ca, 'GET', '/cse-in/id-mn', 'CAdmin')).dcse as string[] | undefined) ?? [];
    // id-x is registered with the IN-CSE itself, which refuses an S-AE-ID among its descendants (//SP/S… names an AE).
    assert.equal((await register(inCse, '/cse-in', 'id-x', [])).rsc, 2001);
    const sAe = await call(port(inCse), ca, 'PUT', '/cse-in/id-x', '/id-x', { body: { 'm2m:csr': { dcse: ['/Sgate'] } }, client: as('id-x') });
    assert.equal(sAe.rsc, 4000, JSON.stringify(sAe.body));
    // id-x announces its CSEBase on the MN-CSE; the request comes down from the registrar.
    const cbA = await call(port(mnCse), ca, 'POST', '/cse-mn', '/id-x', { ty: 10005, body: { 'm2m:cbA': { lnk: '/id-x/cse-x', rn: 'warden.example.net_cse-x', csi: '/id-x', srv: ['3'], cst: 2 } }, client: as('id-in') });
    assert.equal(cbA.rsc, 2001, JSON.stringify(cbA.body));
    // The registrar relays for the rest of the tree, not for an S-AE registered on the MN-CSE itself (/S… is its spelling too).
    const local = await call(port(mnCse), ca, 'POST', '/cse-mn', 'Slocal', { ty: 2, body: { 'm2m:ae': { rn: 'sLocal', api: 'NsLocal', rr: false, srv: ['3'] } } });
    assert.equal(local.rsc, 2001, JSON.stringify(local.body));
    const aei = String((local.body?.['m2m:ae'] as Attrs).aei);
    assert.match(aei, /^S/);
    for (const spelling of [`/${aei}`, `//warden.example.net/${aei}`, `//WARDEN.example.net/${aei}`]) {
      const relayedAe = await call(port(mnCse), ca, 'GET', '/cse-mn/sLocal', spelling, { client: as('id-in') });
      assert.equal(relayedAe.rsc, 4106, `${spelling}: ${JSON.stringify(relayedAe.body)}`);
    }
    // A container on the MN-CSE that AEs of id-x and of a CSE below id-mn2 may read.
    const acp = await call(port(mnCse), ca, 'POST', '/cse-mn', 'CAdmin', { ty: 1, body: { 'm2m:acp': { rn: 'branchAcp', pv: { acr: [{ acor: ['/id-x/Cm', '/id-mn2child/Cq'], acop: 2 }] }, pvs: { acr: [{ acor: ['CAdmin'], acop: 63 }] } } } });
    assert.equal(acp.rsc, 2001, JSON.stringify(acp.body));
    const shelf = await call(port(mnCse), ca, 'POST', '/cse-mn', 'CAdmin', { ty: 3, body: { 'm2m:cnt': { rn: 'branchShelf', acpi: [String((acp.body?.['m2m:acp'] as Attrs).ri)] } } });
    assert.equal(shelf.rsc, 2001, JSON.stringify(shelf.body));
    // id-mn2 registers with the MN-CSE listing id-x (the IN-CSE refuses it: registered there) and a CSE of its own.
    assert.equal((await register(mnCse, '/cse-mn', 'id-mn2', ['/id-x', '/id-mn2child'])).rsc, 2001);
    await waitFor(async () => (await onIn()).includes('/id-mn2child'), 10_000);
    assert.equal(mnCse.cse.services.descendants.disowned('/id-x'), true);
    const asX = await call(port(mnCse), ca, 'GET', '/cse-mn/branchShelf', '/id-x/Cm', { client: as('id-mn2') });
    assert.equal(asX.rsc, 4106, `a refused name is not relayed for: ${JSON.stringify(asX.body)}`);
    const asChild = await call(port(mnCse), ca, 'GET', '/cse-mn/branchShelf', '/id-mn2child/Cq', { client: as('id-mn2') });
    assert.equal(asChild.rsc, 2000, `an accepted one is: ${JSON.stringify(asChild.body)}`);
    // id-mn2 leaves: what id-x announced here stays (it never came through id-mn2).
    assert.equal((await call(port(mnCse), ca, 'DELETE', '/cse-mn/id-mn2', '/id-mn2', { client: as('id-mn2') })).rsc, 2002);
    await waitFor(async () => !(await onIn()).includes('/id-mn2child'), 10_000);
    const kept = await call(port(mnCse), ca, 'GET', '/cse-mn/warden.example.net_cse-x', 'CAdmin');
    assert.equal(kept.rsc, 2000, JSON.stringify(kept.body));
    assert.equal((await call(port(mnCse), ca, 'DELETE', '/cse-mn/warden.example.net_cse-x', '/id-x', { client: as('id-in') })).rsc, 2002);
    assert.equal((await call(port(mnCse), ca, 'DELETE', '/cse-mn/sLocal', aei)).rsc, 2002);
    assert.equal((await call(port(inCse), ca, 'DELETE', '/cse-in/id-x', '/id-x', { client: as('id-x') })).rsc, 2002);
  });

  it('finds its <remoteCSE> on the registrar after a restart and updates it', async () => {
    const before = csr(await call(port(inCse), ca, 'GET', '/cse-in/id-mn', 'CAdmin'));
    await mnCse.close();
    // While the registree is down, forwarding to it is 5103.
    assert.equal((await call(port(inCse), ca, 'GET', '/~/id-mn/cse-mn/local', 'CAdmin')).rsc, 5103);
    mnCse = await startCseNode('id-mn', 'MN', files['id-mn'] as CseFiles, { ...registrarFlags(port(inCse)), 'storage.path': mnDb });
    await mnCse.cse.services.remote?.registration?.whenRegistered();
    const again = csr(await call(port(inCse), ca, 'GET', '/cse-in/id-mn', 'CAdmin'));
    assert.equal(again.ri, before.ri);
    assert.equal(again.ct, before.ct);
    assert.deepEqual(again.poa, [`https://127.0.0.1:${port(mnCse)}`]);
    assert.notDeepEqual(again.poa, before.poa);
    assert.equal((await call(port(inCse), ca, 'GET', '/~/id-mn/cse-mn/local', 'CAdmin')).rsc, 2000);
  });

  it('deregisters when the registrar <remoteCSE> is deleted on the registree', async () => {
    assert.equal((await call(port(mnCse), ca, 'DELETE', '/cse-mn/id-in', 'CAdmin')).rsc, 2002);
    await waitFor(async () => (await call(port(inCse), ca, 'GET', '/cse-in/id-mn', 'CAdmin')).rsc === 4004);
    assert.equal(mnCse.cse.services.remote?.registration?.status, 'deregistered');
    // Without the registration, the registrar routes nothing to it.
    assert.equal((await call(port(inCse), ca, 'GET', '/~/id-mn/cse-mn/local', 'CAdmin')).rsc, 4004);
  });
});

describe('a registrar that cannot be reached', () => {
  it('keeps serving local requests, retries, and registers once the registrar is up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-cse-down-'));
    const pki = await TestPki.create(dir);
    const ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    const inFiles = await pki.cse('id-in');
    const asnFiles = await pki.cse('id-asn');
    const inPort = await freePort();
    const asn = await startCseNode('id-asn', 'ASN', asnFiles, registrarFlags(inPort), { opsPort: 0 });
    let inCse: TestCse | undefined;
    /** The ASN-CSE's readiness: an unreachable registrar degrades it, local service goes on (issue #16). */
    const ready = async (): Promise<{ status: number; body: Record<string, unknown> }> => {
      const res = await fetch(`http://127.0.0.1:${String(asn.cse.opsPort)}/ready`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    try {
      const registration = asn.cse.services.remote?.registration;
      assert.equal(registration?.status, 'registering');
      const degraded = await ready();
      assert.equal(degraded.status, 200);
      assert.equal(degraded.body.status, 'degraded');
      assert.deepEqual(degraded.body.degraded, ['registrar']);
      const ae = await call(asn.cse.httpPort, ca, 'POST', '/cse-asn', 'Clocal', { ty: 2, body: { 'm2m:ae': { rn: 'local', api: 'Nlocal', rr: false, srv: ['3'] } } });
      assert.equal(ae.rsc, 2001);
      // A request for the tree goes up to the registrar, which is not there.
      assert.equal((await call(asn.cse.httpPort, ca, 'GET', '/~/id-in/cse-in', 'Clocal')).rsc, 5103);
      inCse = await startCseNode('id-in', 'IN', inFiles, { 'http.port': inPort });
      await registration?.whenRegistered();
      assert.equal(registration?.status, 'registered');
      assert.deepEqual(await ready(), { status: 200, body: { status: 'ready', dependencies: { database: 'up', registrar: 'up' } } });
      const onIn = await call(inPort, ca, 'GET', '/cse-in/id-asn', 'CAdmin');
      assert.equal(onIn.rsc, 2000);
      assert.equal(csr(onIn).cst, 3);
      // An ASN-CSE accepts no registrations.
      const mnFiles = await pki.cse('id-mn');
      const asMn = { cert: readFileSync(mnFiles.cert, 'utf8'), key: readFileSync(mnFiles.key, 'utf8') };
      const refused = await call(asn.cse.httpPort, ca, 'POST', '/cse-asn', '/id-mn', { ty: 16, body: { 'm2m:csr': { cb: '/id-mn/cse-mn', rr: true, srv: ['3'] } }, client: asMn });
      assert.equal(refused.rsc, 4005);
      // The registrar deregisters the ASN: its <remoteCSE> on the ASN goes too, and the ASN stops registering.
      assert.equal((await call(inPort, ca, 'DELETE', '/cse-in/id-asn', 'CAdmin')).rsc, 2002);
      await waitFor(() => registration?.status === 'deregistered', 10_000);
      assert.equal((await call(asn.cse.httpPort, ca, 'GET', '/cse-asn/id-in', 'CAdmin')).rsc, 4004);
      assert.equal((await call(inPort, ca, 'GET', '/cse-in/id-asn', 'CAdmin')).rsc, 4004);
    } finally {
      await asn.close();
      await inCse?.close();
    }
  });
});

describe('a registrar that answers garbage, hangs, or is another CSE', () => {
  let dir: string;
  let pki: TestPki;
  let ca: string;
  let asnFiles: CseFiles;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'warden-cse-bad-'));
    pki = await TestPki.create(dir);
    ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    asnFiles = await pki.cse('id-asn');
  });

  /** An HTTPS server presenting `files`' certificate that answers every request with `answer` (or never). */
  async function fakeRegistrar(files: CseFiles, answer: ((res: ServerResponse) => void) | 'hang'): Promise<{ port: number; hits: () => number; connections: () => number; close: () => Promise<void> }> {
    let hits = 0;
    let connections = 0;
    const held: ServerResponse[] = [];
    const server = createHttpsServer({ cert: readFileSync(files.cert), key: readFileSync(files.key), ca: readFileSync(files.ca), requestCert: true }, (req, res) => {
      hits++;
      req.resume();
      if (answer === 'hang') held.push(res);
      else answer(res);
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      port: (server.address() as AddressInfo).port,
      hits: () => hits,
      connections: () => connections,
      close: () =>
        new Promise<void>((resolve) => {
          for (const res of held) res.destroy();
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }

  it('answers 4008 when the next CSE does not answer before the request expires', async () => {
    const registrar = await fakeRegistrar(await pki.cse('id-in', pki.ca, 'slow-in'), 'hang');
    const asn = await startCseNode('id-asn', 'ASN', asnFiles, { ...registrarFlags(registrar.port), 'registrar.timeout': 300 });
    try {
      assert.equal((await call(asn.cse.httpPort, ca, 'POST', '/cse-asn', 'Cwait', { ty: 2, body: { 'm2m:ae': { rn: 'wait', api: 'Nwait', rr: false, srv: ['3'] } } })).rsc, 2001);
      const r = await call(asn.cse.httpPort, ca, 'GET', '/~/id-in/cse-in', 'Cwait', { headers: { 'X-M2M-RET': '800' } });
      assert.equal(r.rsc, 4008, JSON.stringify(r.body));
    } finally {
      await asn.close();
      await registrar.close();
    }
  });

  const cases: Array<[string, () => Promise<{ files: CseFiles; answer: ((res: ServerResponse) => void) | 'hang' }>]> = [
    ['answers without X-M2M-RSC', async () => ({ files: await pki.cse('id-in', pki.ca, 'garbage-in'), answer: (res) => res.end('<html>hello</html>') })],
    ['answers an RSC with content that is no JSON', async () => ({ files: await pki.cse('id-in', pki.ca, 'junk-in'), answer: (res) => res.writeHead(200, { 'X-M2M-RSC': '2000', 'Content-Type': 'application/json' }).end('{"m2m:csr": ') })],
    ['never answers', async () => ({ files: await pki.cse('id-in', pki.ca, 'hang-in'), answer: 'hang' })],
    ['presents a certificate of another CSE-ID', async () => ({ files: await pki.cse('id-x', pki.ca, 'impostor'), answer: (res) => res.writeHead(200, { 'X-M2M-RSC': '2000' }).end() })],
  ];
  for (const [what, make] of cases) {
    it(`stays unregistered and keeps serving when the registrar ${what}`, async () => {
      const { files, answer } = await make();
      const registrar = await fakeRegistrar(files, answer);
      const asn = await startCseNode('id-asn', 'ASN', asnFiles, { ...registrarFlags(registrar.port), 'registrar.timeout': 1 });
      try {
        // The first attempt failed and was retried (the impostor's handshake is refused each time: TCP only).
        await waitFor(() => (what.includes('certificate') ? registrar.connections() >= 2 : registrar.hits() >= 2), 15_000);
        const ae = await call(asn.cse.httpPort, ca, 'POST', '/cse-asn', 'Cstill', { ty: 2, body: { 'm2m:ae': { rn: 'still', api: 'Nstill', rr: false, srv: ['3'] } } });
        assert.equal(ae.rsc, 2001);
        assert.equal(asn.cse.services.remote?.registration?.status, 'registering');
        assert.equal((await call(asn.cse.httpPort, ca, 'GET', '/cse-asn/id-in', 'CAdmin')).rsc, 4004);
        // A CSE whose certificate names another CSE-ID is never sent a request at all.
        if (what.includes('certificate')) assert.equal(registrar.hits(), 0);
      } finally {
        await asn.close();
        await registrar.close();
      }
    });
  }
});


describe('a deregistration while a registration check is under way', () => {
  it('is not undone by the check: the registrar is not recorded here again', async () => {
    const { ca, inCse, mnCse } = await startInMnTree('warden-dereg-race-');
    try {
      type Attempting = { send: (p: { op: number; to: string }) => Promise<unknown>; run: () => Promise<void>; settled: () => Promise<void> };
      const registration = mnCse.cse.services.remote?.registration as unknown as Attempting;
      assert.ok(registration);
      await waitFor(async () => (await call(mnCse.cse.httpPort, ca, 'GET', '/cse-mn/id-in', 'CAdmin')).rsc === 2000, 10_000);
      // The periodic check: its read of the registrar's CSEBase is answered late, after the operator's DELETE here.
      const send = registration.send.bind(registration);
      registration.send = async (p) => {
        if (p.op === 2 && p.to === '/id-in/cse-in') await new Promise((r) => setTimeout(r, 300));
        return send(p);
      };
      const checking = registration.run();
      await new Promise((r) => setTimeout(r, 50));
      assert.equal((await call(mnCse.cse.httpPort, ca, 'DELETE', '/cse-mn/id-in', 'CAdmin')).rsc, 2002);
      await checking;
      await registration.settled();
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await call(mnCse.cse.httpPort, ca, 'GET', '/cse-mn/id-in', 'CAdmin')).rsc, 4004, 'the deleted <remoteCSE> stays deleted');
      await waitFor(async () => (await call(inCse.cse.httpPort, ca, 'GET', '/cse-in/id-mn', 'CAdmin')).rsc === 4004, 5000);
    } finally {
      await mnCse.close();
      await inCse.close();
    }
  });
});

describe('two <remoteCSE>s naming one <node> at once, on PostgreSQL', () => {
  it('link one of them: the node hosts one CSE', async () => {
    const db = await createTestDatabase();
    const t = await startTestCse({ 'storage.backend': 'postgres', 'storage.url': db.url });
    try {
      const { store, self } = t.cse.services;
      const ts = '20260101T000000';
      // Two registrees (their registrations, as stored), updated by the admin.
      for (const id of ['csA', 'csB']) {
        await store.insert({ ri: id, pi: self.cseId, ty: 16, rn: id, srn: `${self.cseRn}/${id}`, ct: ts, lt: ts, doc: { csi: `/${id}`, cb: `/${id}/cb`, rr: true, srv: ['3'], __creator: `/${id}` } });
      }
      const both: number[] = [];
      for (let i = 0; i < 10; i++) {
        assert.equal((await t.client.create('/cse-in', 14, { 'm2m:nod': { rn: `box${i}`, ni: `box${i}` } }, 'CAdmin')).rsc, 2001);
        const answers = await Promise.all(['csA', 'csB'].map((id) => t.client.update(`/cse-in/${id}`, { 'm2m:csr': { nl: `cse-in/box${i}` } }, 'CAdmin')));
        if (answers.every((a) => a.rsc === 2004)) both.push(i);
        assert.ok(answers.some((a) => a.rsc === 2004) && answers.every((a) => a.rsc === 2004 || a.rsc === 4000), answers.map((a) => a.rsc).join(','));
        for (const id of ['csA', 'csB']) await t.client.update(`/cse-in/${id}`, { 'm2m:csr': { nl: null } }, 'CAdmin');
      }
      assert.deepEqual(both, [], 'rounds where both were linked');
    } finally {
      await t.close();
      await db.drop();
    }
  });
});
