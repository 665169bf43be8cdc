// Announced attributes kept in sync while the target CSE is down [TS-0001 §10.2.13.11], and discovery of announced
// resources on the IN-CSE [TS-0001 §10.2.6, §10.2.13.1]: they are resources of the IN-CSE, found by their type,
// labels and link, and only by originators their (announced) policies let discover them.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { xmlCodec } from '../../src/serialization/xml.js';
import { freePort, type TestCse } from '../harness.js';
import { waitFor } from '../receiver.js';
import { TestPki, call, registrarFlags, startCseNode, type CseFiles, type Reply } from '../cse.js';

type Attrs = Record<string, unknown>;
const of = (r: Reply, name: string): Attrs => (r.body?.[name] ?? {}) as Attrs;
const uril = (r: Reply): string[] => (r.body?.['m2m:uril'] ?? []) as string[];

/** A RETRIEVE asking for XML: the response's RSC and its text as sent. */
function getXml(port: number, ca: string, path: string, origin: string): Promise<{ rsc: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, method: 'GET', path, agent: false, ca, checkServerIdentity: () => undefined, headers: { 'X-M2M-RI': 'xml-1', 'X-M2M-RVI': '3', 'X-M2M-Origin': origin, Accept: 'application/xml' } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ rsc: Number(res.headers['x-m2m-rsc']), text }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('announced attribute sync while the target is down', () => {
  it('keeps the update in the outbox and sends the announced attributes as they are once the target is back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-annc-sync-'));
    const pki = await TestPki.create(dir);
    const ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    const inFiles = await pki.cse('id-in');
    const inPort = await freePort();
    const inFlags = { 'http.port': inPort, 'storage.path': join(dir, 'in.sqlite') };
    let inCse = await startCseNode('id-in', 'IN', inFiles, inFlags);
    const mnCse = await startCseNode('id-mn', 'MN', await pki.cse('id-mn'), { ...registrarFlags(inPort), 'storage.path': join(dir, 'mn.sqlite') });
    try {
      await mnCse.cse.services.remote?.registration?.whenRegistered();
      const cnt = await call(mnCse.cse.httpPort, ca, 'POST', '/cse-mn', 'CAdmin', { ty: 3, body: { 'm2m:cnt': { rn: 'synced', mni: 5, lbl: ['v1'], at: ['/id-in'], aa: ['mni'] } } });
      assert.equal(cnt.rsc, 2001, JSON.stringify(cnt.body));
      const at = String((of(cnt, 'm2m:cnt').at as string[])[0]);
      await inCse.close();
      // Two updates while the IN-CSE is down: both succeed here, and the IN-CSE gets where they ended.
      assert.equal((await call(mnCse.cse.httpPort, ca, 'PUT', '/cse-mn/synced', 'CAdmin', { body: { 'm2m:cnt': { mni: 7 } } })).rsc, 2004);
      assert.equal((await call(mnCse.cse.httpPort, ca, 'PUT', '/cse-mn/synced', 'CAdmin', { body: { 'm2m:cnt': { lbl: ['v2'] } } })).rsc, 2004);
      inCse = await startCseNode('id-in', 'IN', inFiles, inFlags);
      const stale = of(await call(inPort, ca, 'GET', `/~${at}`, 'CAdmin'), 'm2m:cntA');
      assert.equal(stale.mni, 5);
      await waitFor(async () => {
        const cntA = of(await call(inPort, ca, 'GET', `/~${at}`, 'CAdmin'), 'm2m:cntA');
        return cntA.mni === 7 && JSON.stringify(cntA.lbl) === '["v2"]';
      }, 30_000);
      // The original still lists the announced resource: a sync that failed is no de-announcement.
      assert.deepEqual(of(await call(mnCse.cse.httpPort, ca, 'GET', '/cse-mn/synced', 'CAdmin'), 'm2m:cnt').at, [at]);
    } finally {
      await mnCse.close();
      await inCse.close();
    }
  });
});

describe('announceSyncType 2 while the original CSE is down', () => {
  it('keeps the change of the announced resource in the outbox and sends it back once the original CSE is back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-annc-syncback-'));
    const pki = await TestPki.create(dir);
    const ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    const inCse = await startCseNode('id-in', 'IN', await pki.cse('id-in'));
    const mnFiles = await pki.cse('id-mn');
    const mnFlags = { ...registrarFlags(inCse.cse.httpPort), 'http.port': await freePort(), 'storage.path': join(dir, 'mn.sqlite') };
    let mnCse = await startCseNode('id-mn', 'MN', mnFiles, mnFlags);
    try {
      await mnCse.cse.services.remote?.registration?.whenRegistered();
      assert.equal((await call(inCse.cse.httpPort, ca, 'POST', '/cse-in', 'Cwriter', { ty: 2, body: { 'm2m:ae': { rn: 'writer', api: 'Nsync', rr: false, srv: ['3'] } } })).rsc, 2001);
      const acp = await call(mnCse.cse.httpPort, ca, 'POST', '/cse-mn', 'CAdmin', {
        ty: 1,
        body: { 'm2m:acp': { rn: 'twoWayPolicy', pv: { acr: [{ acor: ['/id-in/Cwriter'], acop: 6 }, { acor: ['/id-in'], acop: 4 }] }, pvs: { acr: [{ acor: ['CAdmin'], acop: 63 }] } } },
      });
      assert.equal(acp.rsc, 2001, JSON.stringify(acp.body));
      const cnt = await call(mnCse.cse.httpPort, ca, 'POST', '/cse-mn', 'CAdmin', { ty: 3, body: { 'm2m:cnt': { rn: 'twoWay', mni: 3, mbs: 1000, acpi: [String(of(acp, 'm2m:acp').ri)], ast: 2, at: ['/id-in'], aa: ['mni', 'mbs'] } } });
      assert.equal(cnt.rsc, 2001, JSON.stringify(cnt.body));
      const at = String((of(cnt, 'm2m:cnt').at as string[])[0]);
      await mnCse.close();
      // Two changes on the IN while the MN is down: both stay here, and the original gets where they ended.
      assert.equal((await call(inCse.cse.httpPort, ca, 'PUT', `/~${at}`, 'Cwriter', { body: { 'm2m:cntA': { mni: 8 } } })).rsc, 2004);
      assert.equal((await call(inCse.cse.httpPort, ca, 'PUT', `/~${at}`, 'Cwriter', { body: { 'm2m:cntA': { mni: 9, mbs: 2000 } } })).rsc, 2004);
      mnCse = await startCseNode('id-mn', 'MN', mnFiles, mnFlags);
      const stale = of(await call(mnCse.cse.httpPort, ca, 'GET', '/cse-mn/twoWay', 'CAdmin'), 'm2m:cnt');
      assert.equal(stale.mni, 3);
      await waitFor(async () => {
        const original = of(await call(mnCse.cse.httpPort, ca, 'GET', '/cse-mn/twoWay', 'CAdmin'), 'm2m:cnt');
        return original.mni === 9 && original.mbs === 2000;
      }, 40_000);
    } finally {
      await mnCse.close();
      await inCse.close();
    }
  });
});

describe('discovery of announced resources on the IN-CSE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-annc-disc-'));
  let ca: string;
  let inCse: TestCse;
  let mnCse: TestCse;
  const inPort = (): number => inCse.cse.httpPort;
  const mnPort = (): number => mnCse.cse.httpPort;
  let cntAt = '';
  let mnFiles: CseFiles;
  /** The announced mgmtObj and flexContainer on the IN (SP-relative), and a container announced with ast 2. */
  let fwrAt = '';
  let fcntAt = '';
  let twoWayAt = '';

  before(async () => {
    const pki = await TestPki.create(dir);
    ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    const files: Record<string, CseFiles> = {};
    for (const id of ['id-in', 'id-mn']) files[id] = await pki.cse(id);
    inCse = await startCseNode('id-in', 'IN', files['id-in'] as CseFiles);
    mnFiles = files['id-mn'] as CseFiles;
    mnCse = await startCseNode('id-mn', 'MN', mnFiles, registrarFlags(inPort()));
    await mnCse.cse.services.remote?.registration?.whenRegistered();
    for (const aei of ['Cfinder', 'Cstranger']) {
      assert.equal((await call(inPort(), ca, 'POST', '/cse-in', aei, { ty: 2, body: { 'm2m:ae': { rn: aei, api: 'Ndisc', rr: false, srv: ['3'] } } })).rsc, 2001);
    }
    // The MN's policy lets the IN's Cfinder discover and read; the container is announced with it.
    const acp = await call(mnPort(), ca, 'POST', '/cse-mn', 'CAdmin', { ty: 1, body: { 'm2m:acp': { rn: 'finders', pv: { acr: [{ acor: ['/id-in/Cfinder'], acop: 34 }] }, pvs: { acr: [{ acor: ['CAdmin'], acop: 63 }] } } } });
    assert.equal(acp.rsc, 2001, JSON.stringify(acp.body));
    const cnt = await call(mnPort(), ca, 'POST', '/cse-mn', 'CAdmin', { ty: 3, body: { 'm2m:cnt': { rn: 'temperature', lbl: ['room/42', 'sensor'], acpi: [String(of(acp, 'm2m:acp').ri)], at: ['/id-in'] } } });
    assert.equal(cnt.rsc, 2001, JSON.stringify(cnt.body));
    cntAt = String((of(cnt, 'm2m:cnt').at as string[])[0]);
    // A container the IN hosts itself, with the same label: discovery tells them apart by type.
    assert.equal((await call(inPort(), ca, 'POST', '/cse-in', 'CAdmin', { ty: 3, body: { 'm2m:cnt': { rn: 'localTemp', lbl: ['room/42'] } } })).rsc, 2001);
  });

  after(async () => {
    await mnCse?.close();
    await inCse?.close();
  });

  it('finds announced resources by type and label, and their link leads to the original', async () => {
    const byType = await call(inPort(), ca, 'GET', '/cse-in?fu=1&ty=10003&drt=2', 'CAdmin');
    assert.equal(byType.rsc, 2000, JSON.stringify(byType.body));
    const id = cntAt.replace(/^\/id-in\//, '');
    assert.equal(uril(byType).length, 1, JSON.stringify(byType.body));
    assert.equal(uril(byType)[0], id);
    const byLabel = await call(inPort(), ca, 'GET', '/cse-in?fu=1&lbl=room/42&drt=2', 'CAdmin');
    assert.equal(uril(byLabel).length, 2, JSON.stringify(byLabel.body));
    const cntA = of(await call(inPort(), ca, 'GET', `/~/id-in/${id}`, 'CAdmin'), 'm2m:cntA');
    const original = of(await call(mnPort(), ca, 'GET', '/cse-mn/temperature', 'CAdmin'), 'm2m:cnt');
    assert.equal(cntA.lnk, `/id-mn/${String(original.ri)}`);
    // rcn 7 on what discovery found: the original, from the MN, whose policy decides — it names Cfinder, and not the
    // IN's admin.
    assert.equal(of(await call(inPort(), ca, 'GET', `/~/id-in/${id}?rcn=7`, 'Cfinder'), 'm2m:cnt').rn, 'temperature');
    assert.equal((await call(inPort(), ca, 'GET', `/~/id-in/${id}?rcn=7`, 'CAdmin')).rsc, 4103);
  });

  it('lists an announced resource only to originators its announced policy lets discover it', async () => {
    const id = cntAt.replace(/^\/id-in\//, '');
    const found = await call(inPort(), ca, 'GET', '/cse-in?fu=1&lbl=sensor&drt=2', 'Cfinder');
    assert.equal(found.rsc, 2000, JSON.stringify(found.body));
    assert.deepEqual(uril(found), [id]);
    const stranger = await call(inPort(), ca, 'GET', '/cse-in?fu=1&lbl=sensor&drt=2', 'Cstranger');
    assert.deepEqual(uril(stranger), [], JSON.stringify(stranger.body));
    assert.equal((await call(inPort(), ca, 'GET', `/~/id-in/${id}`, 'Cstranger')).rsc, 4103);
    assert.equal((await call(inPort(), ca, 'GET', `/~/id-in/${id}`, 'Cfinder')).rsc, 2000);
  });

  it('announces a mgmtObj under its announced node as its specialization + A (m2m:fwrA, ty 10013), kept in sync', async () => {
    const nod = await call(mnPort(), ca, 'POST', '/cse-mn', 'CAdmin', { ty: 14, body: { 'm2m:nod': { rn: 'gateway', ni: 'gw-1', at: ['/id-in'] } } });
    assert.equal(nod.rsc, 2001, JSON.stringify(nod.body));
    const nodAt = String((of(nod, 'm2m:nod').at as string[])[0]);
    // announcedAttribute names only attributes the specialization has.
    const badAa = await call(mnPort(), ca, 'POST', '/cse-mn/gateway', 'CAdmin', { ty: 13, body: { 'm2m:fwr': { rn: 'bad', mgd: 1001, vr: '1.0', fwn: 'fw', url: 'http://example.com/fw', ud: false, aa: ['btl'] } } });
    assert.equal(badAa.rsc, 4000, JSON.stringify(badAa.body));
    const fwr = await call(mnPort(), ca, 'POST', '/cse-mn/gateway', 'CAdmin', {
      ty: 13,
      body: { 'm2m:fwr': { rn: 'firmware', mgd: 1001, vr: '1.0', fwn: 'fw', url: 'http://example.com/fw', ud: false, dc: 'main firmware', at: ['/id-in'], aa: ['vr', 'fwn'] } },
    });
    assert.equal(fwr.rsc, 2001, JSON.stringify(fwr.body));
    fwrAt = String((of(fwr, 'm2m:fwr').at as string[])[0]);
    const announced = await call(inPort(), ca, 'GET', `/~${fwrAt}`, 'CAdmin');
    assert.equal(announced.rsc, 2000, JSON.stringify(announced.body));
    const fwrA = of(announced, 'm2m:fwrA');
    assert.equal(fwrA.ty, 10013);
    assert.equal(fwrA.mgd, 1001);
    assert.equal(fwrA.vr, '1.0');
    assert.equal(fwrA.fwn, 'fw');
    assert.equal(fwrA.url, undefined, 'url is not in announcedAttribute');
    assert.equal(fwrA.dc, undefined, 'dc is OA and not in announcedAttribute');
    assert.equal(fwrA.pi, nodAt.replace(/^\/id-in\//, ''));
    assert.equal(fwrA.lnk, `/id-mn/${String(of(fwr, 'm2m:fwr').ri)}`);
    assert.equal((await call(mnPort(), ca, 'PUT', '/cse-mn/gateway/firmware', 'CAdmin', { body: { 'm2m:fwr': { vr: '1.1' } } })).rsc, 2004);
    assert.equal(of(await call(inPort(), ca, 'GET', `/~${fwrAt}`, 'CAdmin'), 'm2m:fwrA').vr, '1.1');
    // Found by its announced type on the IN.
    assert.deepEqual(uril(await call(inPort(), ca, 'GET', '/cse-in?fu=1&ty=10013&drt=2', 'CAdmin')), [fwrAt.replace(/^\/id-in\//, '')]);
  });

  it('announces a flexContainer as its specialization + Annc (cod:binShAnnc, ty 10028) with the custom attributes aa names', async () => {
    const fcnt = await call(mnPort(), ca, 'POST', '/cse-mn', 'CAdmin', {
      ty: 28,
      body: { 'cod:binSh': { rn: 'switch', cnd: 'org.onem2m.common.moduleclass.binarySwitch', state: false, lbl: ['hall'], at: ['/id-in'], aa: ['state'] } },
    });
    assert.equal(fcnt.rsc, 2001, JSON.stringify(fcnt.body));
    fcntAt = String((of(fcnt, 'cod:binSh').at as string[])[0]);
    const announced = await call(inPort(), ca, 'GET', `/~${fcntAt}`, 'CAdmin');
    assert.equal(announced.rsc, 2000, JSON.stringify(announced.body));
    const binShA = of(announced, 'cod:binShAnnc');
    assert.equal(binShA.ty, 10028);
    assert.equal(binShA.cnd, 'org.onem2m.common.moduleclass.binarySwitch');
    assert.equal(binShA.state, false);
    assert.deepEqual(binShA.lbl, ['hall']);
    assert.equal((await call(mnPort(), ca, 'PUT', '/cse-mn/switch', 'CAdmin', { body: { 'cod:binSh': { state: true } } })).rsc, 2004);
    assert.equal(of(await call(inPort(), ca, 'GET', `/~${fcntAt}`, 'CAdmin'), 'cod:binShAnnc').state, true);
    // An announced specialization the IN-CSE does not know is refused (4125), as is one whose cnd is another's (4000).
    const asMn = { cert: readFileSync(mnFiles.cert, 'utf8'), key: readFileSync(mnFiles.key, 'utf8') };
    const cbA = '/cse-in/id-mnAnnc';
    const unknown = await call(inPort(), ca, 'POST', cbA, '/id-mn', { ty: 10028, body: { 'cod:nopeAnnc': { lnk: '/id-mn/x', cnd: 'x' } }, client: asMn });
    assert.equal(unknown.rsc, 4125, JSON.stringify(unknown.body));
    const wrongCnd = await call(inPort(), ca, 'POST', cbA, '/id-mn', { ty: 10028, body: { 'cod:binShAnnc': { lnk: '/id-mn/x', cnd: 'org.onem2m.common.moduleclass.colour' } }, client: asMn });
    assert.equal(wrongCnd.rsc, 4000, JSON.stringify(wrongCnd.body));
  });

  it('sends a change of the announced resource back to the original with announceSyncType 2, not with 1', async () => {
    const acp = await call(mnPort(), ca, 'POST', '/cse-mn', 'CAdmin', {
      ty: 1,
      body: { 'm2m:acp': { rn: 'syncPolicy', pv: { acr: [{ acor: ['/id-in/Cfinder'], acop: 6 }, { acor: ['/id-in'], acop: 4 }] }, pvs: { acr: [{ acor: ['CAdmin'], acop: 63 }] } } },
    });
    assert.equal(acp.rsc, 2001, JSON.stringify(acp.body));
    const acpi = [String(of(acp, 'm2m:acp').ri)];
    const announce = async (rn: string, ast: number): Promise<string> => {
      const cnt = await call(mnPort(), ca, 'POST', '/cse-mn', 'CAdmin', { ty: 3, body: { 'm2m:cnt': { rn, mni: 3, acpi, ast, at: ['/id-in'], aa: ['mni'] } } });
      assert.equal(cnt.rsc, 2001, JSON.stringify(cnt.body));
      return String((of(cnt, 'm2m:cnt').at as string[])[0]);
    };
    const twoWay = await announce('twoWay', 2);
    twoWayAt = twoWay;
    assert.equal(of(await call(inPort(), ca, 'GET', `/~${twoWay}`, 'Cfinder'), 'm2m:cntA').ast, 2);
    const changed = await call(inPort(), ca, 'PUT', `/~${twoWay}`, 'Cfinder', { body: { 'm2m:cntA': { mni: 9 } } });
    assert.equal(changed.rsc, 2004, JSON.stringify(changed.body));
    assert.equal(of(await call(mnPort(), ca, 'GET', '/cse-mn/twoWay', 'CAdmin'), 'm2m:cnt').mni, 9);
    const oneWay = await announce('oneWay', 1);
    assert.equal((await call(inPort(), ca, 'PUT', `/~${oneWay}`, 'Cfinder', { body: { 'm2m:cntA': { mni: 9 } } })).rsc, 2004);
    assert.equal(of(await call(mnPort(), ca, 'GET', '/cse-mn/oneWay', 'CAdmin'), 'm2m:cnt').mni, 3);
    // announceSyncType is 1 or 2.
    assert.equal((await call(mnPort(), ca, 'POST', '/cse-mn', 'CAdmin', { ty: 3, body: { 'm2m:cnt': { rn: 'badAst', ast: 3 } } })).rsc, 4000);
  });

  it('serves the announced flexContainer, mgmtObj and ast in XML: rn as an attribute of cod:binShAnnc and m2m:fwrA, typed values', async () => {
    assert.notEqual(fcntAt, '');
    const flex = await getXml(inPort(), ca, `/~${fcntAt}`, 'CAdmin');
    assert.equal(flex.rsc, 2000, flex.text);
    // The announced specialization is a resource element: its name is an attribute, its domain's namespace declared.
    const flexRn = String(fcntAt.split('/').pop());
    assert.match(flex.text, new RegExp(`<cod:binShAnnc [^>]*rn="${flexRn}"`));
    assert.match(flex.text, /xmlns:cod="http:\/\/www\.onem2m\.org\/xml\/protocols\/commondomain"/);
    const binShA = (xmlCodec.decode(Buffer.from(flex.text)) as Attrs)['cod:binShAnnc'] as Attrs;
    assert.equal(binShA.rn, flexRn);
    assert.equal(binShA.ty, 10028);
    // Its data points read back with the specialization's types (state is xs:boolean).
    assert.equal(binShA.state, true);
    assert.deepEqual(binShA.lbl, ['hall']);
    const mgmt = await getXml(inPort(), ca, `/~${fwrAt}`, 'CAdmin');
    assert.equal(mgmt.rsc, 2000, mgmt.text);
    assert.match(mgmt.text, new RegExp(`<m2m:fwrA [^>]*rn="${String(fwrAt.split('/').pop())}"`));
    const fwrA = (xmlCodec.decode(Buffer.from(mgmt.text)) as Attrs)['m2m:fwrA'] as Attrs;
    assert.equal(fwrA.mgd, 1001);
    assert.equal(fwrA.vr, '1.1');
    const cntA = await getXml(inPort(), ca, `/~${twoWayAt}`, 'CAdmin');
    assert.equal(cntA.rsc, 2000, cntA.text);
    assert.match(cntA.text, /<ast>2<\/ast>/);
    assert.equal(((xmlCodec.decode(Buffer.from(cntA.text)) as Attrs)['m2m:cntA'] as Attrs).ast, 2);
  });
});
