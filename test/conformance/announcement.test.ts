// Resource announcement between two Warden CSEs over HTTPS with mutual TLS [TS-0001 §10.2.13, TS-0004 §7.3.3.10–11,
// §7.4.26]: an MN-CSE announces an AE, a container and a contentInstance to its registrar, keeps the announced
// attributes in sync, de-announces; the IN-CSE serves the announced resources and answers rcn 7 with the original.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, type TestCse } from '../harness.js';
import { waitFor } from '../receiver.js';
import { TestPki, call, registrarFlags, startCseNode, startInMnTree, type InMnTree, type Reply } from '../cse.js';

type Attrs = Record<string, unknown>;
const of = (r: Reply, name: string): Attrs => (r.body?.[name] ?? {}) as Attrs;
/** The resource ID in an at entry `/id-in/<ri>`. */
const riIn = (entry: unknown): string => String(entry).replace(/^\/id-in\//, '');

describe('resource announcement', () => {
  let ca: string;
  let files: InMnTree['files'];
  let inCse: TestCse;
  let mnCse: TestCse;
  const inPort = (): number => inCse.cse.httpPort;
  const mnPort = (): number => mnCse.cse.httpPort;
  const onIn = (path: string, origin = 'CAdmin', headers?: Record<string, string>): Promise<Reply> => call(inPort(), ca, 'GET', path, origin, headers ? { headers } : {});
  let aeAt = '';
  let cntAt = '';

  before(async () => {
    ({ ca, files, inCse, mnCse } = await startInMnTree('warden-annc-'));
  });

  after(async () => {
    await mnCse?.close();
    await inCse?.close();
  });

  it('announces an AE at CREATE: at lists the announced resource, created under the CSEBaseAnnc with link to the original', async () => {
    const ae = await call(mnPort(), ca, 'POST', '/cse-mn', 'Cannc', {
      ty: 2,
      body: { 'm2m:ae': { rn: 'annc', api: 'Nannc', rr: false, srv: ['3'], lbl: ['a'], at: ['/id-in', '/id-nowhere'], aa: ['api'] } },
    });
    assert.equal(ae.rsc, 2001, JSON.stringify(ae.body));
    const at = of(ae, 'm2m:ae').at as string[];
    // Only where it worked: /id-nowhere is not reachable, and the AE was created all the same.
    assert.equal(at.length, 1, JSON.stringify(at));
    assert.match(String(at[0]), /^\/id-in\/./);
    aeAt = String(at[0]);
    assert.deepEqual(of(await call(mnPort(), ca, 'GET', '/cse-mn/annc', 'Cannc'), 'm2m:ae').at, [aeAt]);

    const announced = await onIn(`/~${aeAt}`);
    assert.equal(announced.rsc, 2000, JSON.stringify(announced.body));
    const aeA = of(announced, 'm2m:aeA');
    assert.equal(aeA.ty, 10002);
    assert.equal(aeA.lnk, `/id-mn/${String(of(ae, 'm2m:ae').ri)}`);
    assert.deepEqual(aeA.srv, ['3']);
    assert.deepEqual(aeA.lbl, ['a']);
    assert.equal(aeA.api, 'Nannc');
    assert.equal(aeA.rr, undefined, 'rr is OA and not in aa');
    // The CSEBaseAnnc that stands for the MN-CSE on the IN-CSE.
    const cbA = of(await onIn('/cse-in/id-mnAnnc'), 'm2m:cbA');
    assert.equal(cbA.ty, 10005);
    assert.equal(cbA.lnk, '/id-mn/id-mn');
    assert.equal(cbA.csi, '/id-mn');
    assert.equal(aeA.pi, cbA.ri);
  });

  it('announces a container under the announced AE, and a contentInstance under the announced container', async () => {
    const cnt = await call(mnPort(), ca, 'POST', '/cse-mn/annc', 'Cannc', { ty: 3, body: { 'm2m:cnt': { rn: 'data', mni: 10, at: ['/id-in'], aa: ['mni'] } } });
    assert.equal(cnt.rsc, 2001, JSON.stringify(cnt.body));
    cntAt = String((of(cnt, 'm2m:cnt').at as string[])[0]);
    const cntA = of(await onIn(`/~${cntAt}`), 'm2m:cntA');
    assert.equal(cntA.ty, 10003);
    assert.equal(cntA.pi, riIn(aeAt));
    assert.equal(cntA.mni, 10);
    assert.equal(cntA.lnk, `/id-mn/${String(of(cnt, 'm2m:cnt').ri)}`);
    // Served locally: discovery on the IN-CSE finds it.
    const found = await onIn('/cse-in?fu=1&ty=10003');
    assert.equal(found.rsc, 2000, JSON.stringify(found.body));
    assert.equal((found.body?.['m2m:uril'] as string[]).some((u) => u.endsWith(String(cntA.rn))), true, JSON.stringify(found.body));

    // Another AE may not have its container announced under this AE's announced AE by naming its address.
    assert.equal((await call(mnPort(), ca, 'POST', '/cse-mn', 'Cother', { ty: 2, body: { 'm2m:ae': { rn: 'other', api: 'Nother', rr: false, srv: ['3'] } } })).rsc, 2001);
    const squatter = await call(mnPort(), ca, 'POST', '/cse-mn/other', 'Cother', { ty: 3, body: { 'm2m:cnt': { rn: 'squat', at: [aeAt] } } });
    assert.equal(squatter.rsc, 2001, JSON.stringify(squatter.body));
    assert.equal(of(squatter, 'm2m:cnt').at, undefined);
    // Its own announced parent's address is the same as the CSE-ID.
    const named = await call(mnPort(), ca, 'POST', '/cse-mn/annc', 'Cannc', { ty: 3, body: { 'm2m:cnt': { rn: 'named', at: [aeAt] } } });
    assert.equal(of(await onIn(`/~${String((of(named, 'm2m:cnt').at as string[])[0])}`), 'm2m:cntA').pi, riIn(aeAt));

    const cin = await call(mnPort(), ca, 'POST', '/cse-mn/annc/data', 'Cannc', { ty: 4, body: { 'm2m:cin': { con: 'hello', at: ['/id-in'], aa: ['con'] } } });
    assert.equal(cin.rsc, 2001, JSON.stringify(cin.body));
    const cinAt = String((of(cin, 'm2m:cin').at as string[])[0]);
    const cinA = of(await onIn(`/~${cinAt}`), 'm2m:cinA');
    assert.equal(cinA.ty, 10004);
    assert.equal(cinA.con, 'hello');
    assert.equal(cinA.pi, riIn(cntAt));
  });

  it('refuses to announce a contentInstance whose container is not announced there (4005)', async () => {
    assert.equal((await call(mnPort(), ca, 'POST', '/cse-mn/annc', 'Cannc', { ty: 3, body: { 'm2m:cnt': { rn: 'plain' } } })).rsc, 2001);
    const cin = await call(mnPort(), ca, 'POST', '/cse-mn/annc/plain', 'Cannc', { ty: 4, body: { 'm2m:cin': { con: 'x', at: ['/id-in'] } } });
    assert.equal(cin.rsc, 4005, JSON.stringify(cin.body));
  });

  it('refuses an announcedAttribute that is no optional announced attribute of the type (4000)', async () => {
    const r = await call(mnPort(), ca, 'POST', '/cse-mn/annc', 'Cannc', { ty: 3, body: { 'm2m:cnt': { rn: 'bad', at: ['/id-in'], aa: ['lbl', 'l+b'] } } });
    assert.equal(r.rsc, 4000, JSON.stringify(r.body));
  });

  it('keeps announced attributes in sync on UPDATE, and de-announces one that leaves announcedAttribute', async () => {
    const updated = await call(mnPort(), ca, 'PUT', '/cse-mn/annc/data', 'Cannc', { body: { 'm2m:cnt': { mni: 5, lbl: ['now'] } } });
    assert.equal(updated.rsc, 2004, JSON.stringify(updated.body));
    assert.deepEqual(of(updated, 'm2m:cnt').at, [cntAt]);
    let cntA = of(await onIn(`/~${cntAt}`), 'm2m:cntA');
    assert.equal(cntA.mni, 5);
    assert.deepEqual(cntA.lbl, ['now']);
    assert.equal((await call(mnPort(), ca, 'PUT', '/cse-mn/annc/data', 'Cannc', { body: { 'm2m:cnt': { aa: null } } })).rsc, 2004);
    cntA = of(await onIn(`/~${cntAt}`), 'm2m:cntA');
    assert.equal(cntA.mni, undefined);
    assert.deepEqual(cntA.lbl, ['now'], 'lbl is MA: it stays');
    // An attribute added to aa is announced with its value.
    assert.equal((await call(mnPort(), ca, 'PUT', '/cse-mn/annc/data', 'Cannc', { body: { 'm2m:cnt': { aa: ['mni', 'disr'] } } })).rsc, 2004);
    cntA = of(await onIn(`/~${cntAt}`), 'm2m:cntA');
    assert.equal(cntA.mni, 5);
  });

  it('answers rcn 7 on an announced resource with the original, retrieved for the same originator', async () => {
    // The original's Hosting CSE decides: its policy lets the IN-CSE's admin read the container.
    const acp = await call(mnPort(), ca, 'POST', '/cse-mn', 'CAdmin', {
      ty: 1,
      body: { 'm2m:acp': { rn: 'inReads', pv: { acr: [{ acor: ['/id-in/CAdmin', 'Cannc'], acop: 63 }] }, pvs: { acr: [{ acor: ['CAdmin'], acop: 63 }] } } },
    });
    assert.equal(acp.rsc, 2001, JSON.stringify(acp.body));
    const acpi = String(of(acp, 'm2m:acp').ri);
    assert.equal((await call(mnPort(), ca, 'PUT', '/cse-mn/annc/data', 'CAdmin', { body: { 'm2m:cnt': { acpi: [acpi] } } })).rsc, 2004);
    const original = await onIn(`/~${cntAt}?rcn=7`);
    assert.equal(original.rsc, 2000, JSON.stringify(original.body));
    const cnt = of(original, 'm2m:cnt');
    assert.equal(cnt.rn, 'data');
    assert.equal(cnt.mni, 5);
    // An originator the original's CSE grants nothing gets its refusal.
    const acpIn = await call(inPort(), ca, 'POST', '/cse-in', 'CAdmin', { ty: 1, body: { 'm2m:acp': { rn: 'all', pv: { acr: [{ acor: ['all'], acop: 2 }] }, pvs: { acr: [{ acor: ['CAdmin'], acop: 63 }] } } } });
    assert.equal(acpIn.rsc, 2001);
    // rcn 7 on a resource that is no announced resource, or in another operation, is 4000.
    assert.equal((await onIn('/cse-in/all?rcn=7')).rsc, 4000);
    assert.equal((await call(inPort(), ca, 'DELETE', `/~${cntAt}?rcn=7`, 'CAdmin')).rsc, 4000);
  });

  it('announces a policy that several resources announced at once share only once, and records it', async () => {
    const acp = await call(mnPort(), ca, 'POST', '/cse-mn', 'CAdmin', {
      ty: 1,
      body: { 'm2m:acp': { rn: 'sharedPolicy', pv: { acr: [{ acor: ['/id-in/CAdmin'], acop: 2 }] }, pvs: { acr: [{ acor: ['CAdmin'], acop: 63 }] } } },
    });
    assert.equal(acp.rsc, 2001, JSON.stringify(acp.body));
    const acpRi = String(of(acp, 'm2m:acp').ri);
    const made = await Promise.all(
      [0, 1, 2, 3].map((i) => call(mnPort(), ca, 'POST', '/cse-mn', 'CAdmin', { ty: 3, body: { 'm2m:cnt': { rn: `together${i}`, acpi: [acpRi], at: ['/id-in'] } } })),
    );
    for (const reply of made) assert.equal(reply.rsc, 2001, JSON.stringify(reply.body));
    const policyAt = of(await call(mnPort(), ca, 'GET', '/cse-mn/sharedPolicy', 'CAdmin'), 'm2m:acp').at as string[];
    assert.equal(policyAt.length, 1, `one announced copy recorded: ${JSON.stringify(policyAt)}`);
    // On the IN-CSE: one <acpA> of it is left (a duplicate made meanwhile is withdrawn), and every container's copy names it.
    const copies = async (): Promise<number> => {
      const found = (of(await onIn('/cse-in?fu=1&ty=10001&lim=1000'), 'm2m:uril') as unknown as string[] | undefined) ?? [];
      let n = 0;
      for (const uri of found) if (of(await onIn(`/${uri.replace(/^\//, '')}`), 'm2m:acpA').lnk === `/id-mn/${acpRi}`) n++;
      return n;
    };
    await waitFor(async () => (await copies()) === 1, 10_000);
    for (const reply of made) {
      const cntA = of(await onIn(`/~${String((of(reply, 'm2m:cnt').at as string[])[0])}`), 'm2m:cntA');
      assert.deepEqual(cntA.acpi, [riIn(policyAt[0])]);
    }
  });

  it('accepts announced resources only from the CSE that link names (4103 for an AE or the admin, 4000 for another CSE link)', async () => {
    const cbA = String(of(await onIn('/cse-in/id-mnAnnc'), 'm2m:cbA').ri);
    assert.equal((await call(inPort(), ca, 'POST', '/cse-in', 'Cevil', { ty: 2, body: { 'm2m:ae': { rn: 'evil', api: 'Nevil', rr: false, srv: ['3'] } } })).rsc, 2001);
    const fromAe = await call(inPort(), ca, 'POST', `/cse-in/id-mnAnnc`, 'Cevil', { ty: 10003, body: { 'm2m:cntA': { lnk: '/id-mn/x' } } });
    assert.equal(fromAe.rsc, 4103, JSON.stringify(fromAe.body));
    assert.equal((await call(inPort(), ca, 'POST', '/cse-in', 'CAdmin', { ty: 10002, body: { 'm2m:aeA': { lnk: '/id-mn/x' } } })).rsc, 4103);
    const mn = files['id-mn'];
    const asMn = { cert: readFileSync(mn.cert, 'utf8'), key: readFileSync(mn.key, 'utf8') };
    const otherLink = await call(inPort(), ca, 'POST', `/cse-in/id-mnAnnc`, '/id-mn', { ty: 10003, body: { 'm2m:cntA': { lnk: '/id-x/x' } }, client: asMn });
    assert.equal(otherLink.rsc, 4000, JSON.stringify(otherLink.body));
    // Nobody but the announcing CSE (and so no AE) changes an announced resource without a policy granting it.
    assert.equal((await call(inPort(), ca, 'PUT', `/~${cntAt}`, 'Cevil', { body: { 'm2m:cntA': { lbl: ['x'] } } })).rsc, 4103);
    assert.equal(cbA.length > 0, true);
  });

  it('de-announces when a CSE leaves at, announces again by UPDATE, and when the original is deleted', async () => {
    const removed = await call(mnPort(), ca, 'PUT', '/cse-mn/annc/data', 'Cannc', { body: { 'm2m:cnt': { at: [] } } });
    assert.equal(removed.rsc, 2004, JSON.stringify(removed.body));
    assert.equal(of(removed, 'm2m:cnt').at, undefined);
    assert.equal((await onIn(`/~${cntAt}`)).rsc, 4004);
    const again = await call(mnPort(), ca, 'PUT', '/cse-mn/annc/data', 'Cannc', { body: { 'm2m:cnt': { at: ['/id-in'] } } });
    assert.equal(again.rsc, 2004, JSON.stringify(again.body));
    const at = of(again, 'm2m:cnt').at as string[];
    assert.equal(at.length, 1);
    assert.notEqual(at[0], cntAt);
    assert.equal(of(await onIn(`/~${String(at[0])}`), 'm2m:cntA').pi, riIn(aeAt));
    assert.equal((await call(mnPort(), ca, 'DELETE', '/cse-mn/annc/data', 'Cannc')).rsc, 2002);
    await waitFor(async () => (await onIn(`/~${String(at[0])}`)).rsc === 4004, 10_000);
    // Deregistering the AE de-announces it.
    assert.equal((await call(mnPort(), ca, 'DELETE', '/cse-mn/annc', 'Cannc')).rsc, 2002);
    await waitFor(async () => (await onIn(`/~${aeAt}`)).rsc === 4004, 10_000);
  });

  it('announces a group and an accessControlPolicy to a CSE below: the registrar announces to its registree', async () => {
    const grp = await call(inPort(), ca, 'POST', '/cse-in', 'CAdmin', { ty: 9, body: { 'm2m:grp': { rn: 'g', mt: 3, mnm: 4, mid: [], at: ['/id-mn', '/id-unknown'], aa: ['mnm'] } } });
    assert.equal(grp.rsc, 2001, JSON.stringify(grp.body));
    // The IN-CSE has no route to /id-unknown (5103): only the MN-CSE is listed.
    assert.equal((of(grp, 'm2m:grp').at as string[]).length, 1);
    const grpAt = String((of(grp, 'm2m:grp').at as string[])[0]);
    assert.match(grpAt, /^\/id-mn\//);
    const grpA = of(await call(mnPort(), ca, 'GET', `/~${grpAt}`, 'CAdmin'), 'm2m:grpA');
    assert.equal(grpA.ty, 10009);
    assert.equal(grpA.mnm, 4);
    const acp = await call(inPort(), ca, 'PUT', '/cse-in/all', 'CAdmin', { body: { 'm2m:acp': { at: ['/id-mn'] } } });
    assert.equal(acp.rsc, 2004, JSON.stringify(acp.body));
    const acpAt = String((of(acp, 'm2m:acp').at as string[])[0]);
    const acpA = of(await call(mnPort(), ca, 'GET', `/~${acpAt}`, 'CAdmin'), 'm2m:acpA');
    assert.equal(acpA.ty, 10001);
    assert.deepEqual(acpA.pv, { acr: [{ acor: ['all'], acop: 2 }] });
  });

  it('announces a timeSeries with its instances, and a node with its schedule', async () => {
    const ts = await call(mnPort(), ca, 'POST', '/cse-mn', 'CAdmin', { ty: 29, body: { 'm2m:ts': { rn: 'series', mni: 3, at: ['/id-in'], aa: ['mni'] } } });
    assert.equal(ts.rsc, 2001, JSON.stringify(ts.body));
    const tsAt = String((of(ts, 'm2m:ts').at as string[])[0]);
    const tsA = of(await onIn(`/~${tsAt}`), 'm2m:tsA');
    assert.equal(tsA.ty, 10029);
    assert.equal(tsA.mni, 3);
    const tsi = await call(mnPort(), ca, 'POST', '/cse-mn/series', 'CAdmin', { ty: 30, body: { 'm2m:tsi': { dgt: '20260101T000000', con: '21', at: ['/id-in'], aa: ['con', 'dgt'] } } });
    assert.equal(tsi.rsc, 2001, JSON.stringify(tsi.body));
    const tsiA = of(await onIn(`/~${String((of(tsi, 'm2m:tsi').at as string[])[0])}`), 'm2m:tsiA');
    assert.equal(tsiA.ty, 10030);
    assert.equal(tsiA.con, '21');
    assert.equal(tsiA.pi, riIn(tsAt));
    const nod = await call(mnPort(), ca, 'POST', '/cse-mn', 'CAdmin', { ty: 14, body: { 'm2m:nod': { rn: 'box', ni: 'box-1', at: ['/id-in'] } } });
    assert.equal(nod.rsc, 2001, JSON.stringify(nod.body));
    const nodAt = String((of(nod, 'm2m:nod').at as string[])[0]);
    assert.equal(of(await onIn(`/~${nodAt}`), 'm2m:nodA').ni, 'box-1');
    const sch = await call(mnPort(), ca, 'POST', '/cse-mn/box', 'CAdmin', { ty: 18, body: { 'm2m:sch': { rn: 'hours', se: { sce: ['* 0-5 2,6,10 * * * *'] }, at: ['/id-in'], aa: ['se'] } } });
    assert.equal(sch.rsc, 2001, JSON.stringify(sch.body));
    const schA = of(await onIn(`/~${String((of(sch, 'm2m:sch').at as string[])[0])}`), 'm2m:schA');
    assert.equal(schA.ty, 10018);
    assert.equal(schA.pi, riIn(nodAt));
    assert.deepEqual(schA.se, { sce: ['* 0-5 2,6,10 * * * *'] });
    // Deleting the node de-announces it, its schedule with it.
    assert.equal((await call(mnPort(), ca, 'DELETE', '/cse-mn/box', 'CAdmin')).rsc, 2002);
    await waitFor(async () => (await onIn(`/~${nodAt}`)).rsc === 4004, 10_000);
  });

  it('removes what a CSE announced when it leaves the tree (deregistration), on both sides', async () => {
    assert.equal((await call(mnPort(), ca, 'GET', '/cse-mn/id-inAnnc', 'CAdmin')).rsc, 2000);
    assert.equal((await onIn('/cse-in/id-mnAnnc')).rsc, 2000);
    assert.equal((await call(mnPort(), ca, 'DELETE', '/cse-mn/id-in', 'CAdmin')).rsc, 2002);
    await waitFor(async () => (await call(mnPort(), ca, 'GET', '/cse-mn/id-inAnnc', 'CAdmin')).rsc === 4004, 10_000);
    await waitFor(async () => (await onIn('/cse-in/id-mnAnnc')).rsc === 4004, 10_000);
  });
});

describe('announcement through a transit CSE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-annc3-'));
  let ca: string;
  let inCse: TestCse;
  let mnCse: TestCse;
  let asnCse: TestCse;

  before(async () => {
    const pki = await TestPki.create(dir);
    ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    inCse = await startCseNode('id-in', 'IN', await pki.cse('id-in'));
    mnCse = await startCseNode('id-mn', 'MN', await pki.cse('id-mn'), registrarFlags(inCse.cse.httpPort));
    await mnCse.cse.services.remote?.registration?.whenRegistered();
    asnCse = await startCseNode('id-asn', 'ASN', await pki.cse('id-asn'), registrarFlags(mnCse.cse.httpPort, 'id-mn'));
    await asnCse.cse.services.remote?.registration?.whenRegistered();
    // The MN-CSE tells the IN-CSE about the ASN-CSE below it (dcse) on its next registration update.
    await waitFor(async () => {
      const csr = await call(inCse.cse.httpPort, ca, 'GET', '/cse-in/id-mn', 'CAdmin');
      return Array.isArray(of(csr, 'm2m:csr').dcse) && (of(csr, 'm2m:csr').dcse as string[]).includes('/id-asn');
    }, 10_000);
  });

  after(async () => {
    await asnCse?.close();
    await mnCse?.close();
    await inCse?.close();
  });

  it('announces from the ASN-CSE to the IN-CSE through the MN-CSE, and rcn 7 comes back down', async () => {
    const asn = asnCse.cse.httpPort;
    const acp = await call(asn, ca, 'POST', '/cse-asn', 'CAdmin', { ty: 1, body: { 'm2m:acp': { rn: 'inReads', pv: { acr: [{ acor: ['/id-in/CAdmin'], acop: 2 }] }, pvs: { acr: [{ acor: ['CAdmin'], acop: 63 }] } } } });
    assert.equal(acp.rsc, 2001, JSON.stringify(acp.body));
    const cnt = await call(asn, ca, 'POST', '/cse-asn', 'CAdmin', { ty: 3, body: { 'm2m:cnt': { rn: 'far', acpi: [String(of(acp, 'm2m:acp').ri)], at: ['/id-in'], lbl: ['far'] } } });
    assert.equal(cnt.rsc, 2001, JSON.stringify(cnt.body));
    const at = of(cnt, 'm2m:cnt').at as string[];
    assert.equal(at.length, 1, JSON.stringify(at));
    const onIn = await call(inCse.cse.httpPort, ca, 'GET', `/~${String(at[0])}`, 'CAdmin');
    assert.equal(onIn.rsc, 2000, JSON.stringify(onIn.body));
    assert.equal(of(onIn, 'm2m:cntA').lnk, `/id-asn/${String(of(cnt, 'm2m:cnt').ri)}`);
    assert.deepEqual(of(onIn, 'm2m:cntA').lbl, ['far']);
    const original = await call(inCse.cse.httpPort, ca, 'GET', `/~${String(at[0])}?rcn=7`, 'CAdmin');
    assert.equal(original.rsc, 2000, JSON.stringify(original.body));
    assert.equal(of(original, 'm2m:cnt').rn, 'far');
  });
});

describe('de-announcement while the target is down', () => {
  it('is kept in the outbox and carried out once the target is back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-annc-down-'));
    const pki = await TestPki.create(dir);
    const ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    const inFiles = await pki.cse('id-in');
    const inPort = await freePort();
    const inFlags = { 'http.port': inPort, 'storage.path': join(dir, 'in.sqlite') };
    let inCse = await startCseNode('id-in', 'IN', inFiles, inFlags);
    const mnCse = await startCseNode('id-mn', 'MN', await pki.cse('id-mn'), registrarFlags(inPort));
    try {
      await mnCse.cse.services.remote?.registration?.whenRegistered();
      const cnt = await call(mnCse.cse.httpPort, ca, 'POST', '/cse-mn', 'CAdmin', { ty: 3, body: { 'm2m:cnt': { rn: 'gone', at: ['/id-in'] } } });
      assert.equal(cnt.rsc, 2001, JSON.stringify(cnt.body));
      const at = String((of(cnt, 'm2m:cnt').at as string[])[0]);
      await inCse.close();
      assert.equal((await call(mnCse.cse.httpPort, ca, 'DELETE', '/cse-mn/gone', 'CAdmin')).rsc, 2002);
      inCse = await startCseNode('id-in', 'IN', inFiles, inFlags);
      assert.equal((await call(inPort, ca, 'GET', `/~${at}`, 'CAdmin')).rsc, 2000);
      await waitFor(async () => (await call(inPort, ca, 'GET', `/~${at}`, 'CAdmin')).rsc === 4004, 30_000);
    } finally {
      await mnCse.close();
      await inCse.close();
    }
  });
});
