// <mgmtObj> (ty 13) over HTTP: every specialization, bad input, and device actions reaching a
// device-management IPE through its own subscription.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Decoder } from 'cbor-x';
import { startTestCse, type TestCse } from '../harness.js';
import { Receiver, waitFor } from '../receiver.js';

type Attrs = Record<string, unknown>;
const ADMIN = 'CAdmin';
const NODE = '/cse-in/device';

/** One valid content per specialization, and one attribute its UPDATE changes. */
const SPECIALIZATIONS: Array<[string, number, Attrs, Attrs]> = [
  ['m2m:fwr', 1001, { vr: '1.0', fwn: 'fw', url: 'http://example.com/fw', ud: false }, { vr: '1.1' }],
  ['m2m:swr', 1002, { vr: '2.0', swn: 'app', url: 'http://example.com/app' }, { vr: '2.1' }],
  ['m2m:mem', 1003, { mma: 1024, mmt: 4096 }, { mma: 512 }],
  ['m2m:ani', 1004, { ant: 'zigbee', ldv: ['dev1'] }, { ldv: ['dev1', 'dev2'] }],
  ['m2m:andi', 1005, { dvd: 'd1', dvt: 'sensor', awi: 'net1', sli: 5 }, { sld: 23 }],
  ['m2m:bat', 1006, { btl: 80, bts: 1 }, { btl: 79, bts: 5 }],
  ['m2m:dvi', 1007, { dlb: 'label', man: 'maker', mod: 'm1', dty: 'meter', loc: 'cellar', ptl: ['http'] }, { swv: '3' }],
  ['m2m:dvc', 1008, { can: 'camera', att: true, cas: { acn: 'enable', sus: 1 }, cus: true }, { cus: false }],
  ['m2m:rbo', 1009, {}, { dc: 'reboot me' }],
  ['m2m:evl', 1010, { lgt: 1, lgd: 'log', lgst: 2 }, { lgst: 1 }],
  ['m2m:cmp', 1011, { cpn: 'night', cmlk: [{ nm: 'defaults', typ: 13, val: 'cmdf1' }] }, { cpn: 'day' }],
  ['m2m:acmp', 1012, { acmlk: 'cmp1' }, { acmlk: 'cmp2' }],
  ['m2m:cmdf', 1013, { cmlk: [{ nm: 'ec', typ: 13, val: 'cmdv1' }] }, { dc: 'defaults' }],
  ['m2m:cmdv', 1014, { od: 1, dev: 3, ror: ['localAE', 'thisCSE'], rctn: false }, { dev: 100 }],
  ['m2m:cmpv', 1015, { aec: [0], dqet: -1, dset: 60_000, doet: 1000, drp: 0, dda: false }, { aec: [2, 0] }],
  ['m2m:cml', 1016, { od: 1, ror: ['localAE'], lec: [3], lqet: [0, -1], lset: [1000, 2000], loet: [0, 0], lrp: [-1, -1], lda: [false, true] }, { lda: [true] }],
  ['m2m:cmnr', 1017, { aecs: [0] }, { cmlk: [{ nm: 'rule', typ: 13, val: 'cmwr1' }] }],
  ['m2m:cmwr', 1018, { ttn: ['3GPP'], mrv: 0, swt: 100, bop: { bops: [{ nwa: 5, ibt: 1000, abt: 500, mbt: 60_000 }] }, cmlk: [{ nm: 'allowedSchedule', typ: 18, val: 'sch1' }] }, { swt: 200 }],
  ['m2m:cmbf', 1019, { aec: [0], mbfs: 65_536, sgp: 10 }, { sgp: 1 }],
  ['dcfg:datc', 1021, { cntp: 'cse-in/ae/cnt', meil: 60 }, { rpsc: [{ sce: ['0 0 * * * * *'] }] }],
  ['dcfg:nycfc', 1023, { suids: [42], mcff: 'application/pkcs7mime', mcfc: 'c2VjcmV0' }, { suids: [41] }],
  ['dcfg:wific', 1028, { ssid: 'home', scan: false, wcrds: { enct: 4, wpap: 'psk' } }, { chanl: '11' }],
  ['dcfg:crds', 1029, { pur: 'p', crid: 'id' }, { crtk: 'token' }],
  ['dcfg:sim', 1030, { icid: '8949', sist: 1 }, { spn: 'carrier' }],
  ['dcfg:mnwk', 1031, { cnb: 7, ipad: [{ ip4: '192.0.2.10' }] }, { rss: -70 }],
];

describe('mgmtObj over HTTP', () => {
  let t: TestCse;
  before(async () => {
    t = await startTestCse();
    assert.equal((await t.client.create('/cse-in', 14, { 'm2m:nod': { rn: 'device', ni: 'urn:dev:1' } }, ADMIN)).rsc, 2001);
  });
  after(() => t.close());

  it('creates, retrieves, updates, discovers and deletes every specialization under its own root name', async () => {
    for (const [name, mgd, content, change] of SPECIALIZATIONS) {
      const rn = name.replace(':', '-');
      const created = await t.client.create(NODE, 13, { [name]: { rn, mgd, dc: name, ...content } }, ADMIN);
      assert.equal(created.rsc, 2001, `${name}: ${created.text}`);
      const read = await t.client.retrieve(`${NODE}/${rn}`, ADMIN);
      const attrs = read.body?.[name] as Attrs;
      assert.equal(attrs.ty, 13, name);
      assert.equal(attrs.mgd, mgd, name);
      const updated = await t.client.update(`${NODE}/${rn}`, { [name]: change }, ADMIN);
      assert.equal(updated.rsc, 2004, `${name}: ${updated.text}`);
      for (const [key, value] of Object.entries(change)) assert.deepEqual((updated.body?.[name] as Attrs)[key], value, `${name}.${key}`);
      const found = await t.client.retrieve(`${NODE}?fu=1&ty=13&mgd=${mgd}`, ADMIN);
      assert.deepEqual(found.body?.['m2m:uril'], [`cse-in/device/${rn}`], found.text);
    }
    const all = await t.client.retrieve(`${NODE}?fu=1&ty=13`, ADMIN);
    assert.equal((all.body?.['m2m:uril'] as string[]).length, SPECIALIZATIONS.length);
    const children = await t.client.retrieve(`${NODE}?rcn=8&ty=13`, ADMIN);
    const embedded = children.body?.['m2m:nod'] as Attrs;
    for (const [name] of SPECIALIZATIONS) assert.equal((embedded[name] as unknown[]).length, 1, name);
    for (const [name] of SPECIALIZATIONS) assert.equal((await t.client.delete(`${NODE}/${name.replace(':', '-')}`, ADMIN)).rsc, 2002, name);
  });

  it('refuses an unknown mgd, a mismatched root, attributes of another specialization and read-only states, storing nothing', async () => {
    const cases: Array<[Attrs, string]> = [
      [{ 'm2m:mgo': { rn: 'bad', mgd: 9999 } }, 'mgd'],
      [{ 'm2m:fwr': { rn: 'bad', mgd: 1006, vr: '1', fwn: 'f', url: 'u', ud: false } }, 'mgd'],
      [{ 'm2m:fwr': { rn: 'bad', mgd: 1001, vr: '1', fwn: 'f', url: 'u', ud: false, btl: 3 } }, 'btl'],
      [{ 'm2m:swr': { rn: 'bad', mgd: 1002, vr: '1', swn: 's', url: 'u', ins: { sus: 1 } } }, 'ins'],
      [{ 'm2m:bat': { rn: 'bad', mgd: 1006, btl: 3, bts: 99 } }, 'bts'],
      [{ 'dcfg:datc': { rn: 'bad', mgd: 1021, cntp: 'c', mesc: [{ sce: ['* * * * *'] }] } }, 'mesc'],
      [{ 'dcfg:datc': { rn: 'bad', mgd: 1021, cntp: 'c', meil: 10, mesc: [{ sce: ['* * * * * * *'] }] } }, 'meil'],
      [{ 'm2m:cmp': { rn: 'bad', mgd: 1011, cpn: 'no links' } }, 'cmlk'],
      [{ 'm2m:cmdv': { rn: 'bad', mgd: 1014, od: 1, dev: 5, ror: ['localAE'] } }, 'dev'],
      [{ 'm2m:cmpv': { rn: 'bad', mgd: 1015, aec: [], dqet: 0, dset: 0, doet: 0, drp: 0, dda: true } }, 'aec'],
      [{ 'm2m:cmpv': { rn: 'bad', mgd: 1015, aec: [0], dqet: -2, dset: 0, doet: 0, drp: 0, dda: true } }, 'dqet'],
      [{ 'm2m:cml': { rn: 'bad', mgd: 1016, od: 1, ror: ['localAE'], lec: [3], lqet: [5, 1], lset: [0, 1], loet: [0, 1], lrp: [0, 1], lda: [true] } }, 'lqet'],
      [{ 'm2m:cml': { rn: 'bad', mgd: 1016, od: 1, ror: ['localAE'], lec: [3], lqet: [0, 1], lset: [0, 1], loet: [0, 1], lrp: [0, 1], lda: [true, true] } }, 'lda'],
      [{ 'm2m:cmwr': { rn: 'bad', mgd: 1018, ttn: ['x'], mrv: 0, swt: 0, bop: { bops: [{ ibt: 1, abt: 1 }] }, cmlk: [] } }, 'bop'],
      [{ 'm2m:cmbf': { rn: 'bad', mgd: 1019, aec: [0], mbfs: 1, sgp: 11 } }, 'sgp'],
      [{ 'dcfg:wific': { rn: 'bad', mgd: 1028, ssid: 's', scan: false, wcrds: { enct: 2, unm: 'u', pwd: 'p' } } }, 'wcrds'],
    ];
    for (const [content, attribute] of cases) {
      const reply = await t.client.create(NODE, 13, content, ADMIN);
      assert.equal(reply.rsc, 4000, `${attribute}: ${reply.text}`);
      assert.match(String(reply.body?.['m2m:dbg']), new RegExp(`'${attribute}'`), reply.text);
      assert.equal((await t.client.retrieve(`${NODE}/bad`, ADMIN)).rsc, 4004);
    }
    assert.equal((await t.client.create('/cse-in', 13, { 'm2m:mem': { mgd: 1003, mma: 1, mmt: 2 } }, ADMIN)).rsc, 4108, 'a mgmtObj lives under a node');
    // TS-0004 Annex D.12.1: "the optional <subscription> child resources are not used for CMDH policies".
    assert.equal((await t.client.create(NODE, 13, { 'm2m:cmbf': { rn: 'buffer', mgd: 1019, aec: [0], mbfs: 1, sgp: 1 } }, ADMIN)).rsc, 2001);
    const watched = await t.client.create(`${NODE}/buffer`, 23, { 'm2m:sub': { nu: [ADMIN], enc: { net: [1] } } }, ADMIN);
    assert.equal(watched.rsc, 5203, watched.text);
    assert.equal((await t.client.delete(`${NODE}/buffer`, ADMIN)).rsc, 2002);
  });

  it('delivers a reboot to the device-management IPE through its subscription; reboot with factoryReset is 4000', async () => {
    const ipe = await t.client.registerAe('dmIpe');
    const rx = await new Receiver().start();
    try {
      const policy = await t.client.create('/cse-in', 1, { 'm2m:acp': { rn: 'dmPolicy', pv: { acr: [{ acor: [ipe], acop: 63 }] }, pvs: { acr: [{ acor: [ADMIN], acop: 63 }] } } }, ADMIN);
      assert.equal(policy.rsc, 2001, policy.text);
      const acpi = [String((policy.body?.['m2m:acp'] as Attrs).ri)];
      assert.equal((await t.client.create(NODE, 13, { 'm2m:rbo': { rn: 'reboot', mgd: 1009, acpi } }, ADMIN)).rsc, 2001);
      const other = await t.client.registerAe('otherApp');
      assert.equal((await t.client.retrieve(`${NODE}/reboot`, other)).rsc, 4103, 'the policy grants others nothing');
      assert.equal((await t.client.create(`${NODE}/reboot`, 23, { 'm2m:sub': { nu: [rx.url] } }, other)).rsc, 4103, 'nor a subscription');
      const sub = await t.client.create(`${NODE}/reboot`, 23, { 'm2m:sub': { rn: 'ipe', nu: [rx.url], nct: 2, enc: { net: [1], atr: ['rbo', 'far'] } } }, ipe);
      assert.equal(sub.rsc, 2001, sub.text);
      const both = await t.client.update(`${NODE}/reboot`, { 'm2m:rbo': { rbo: true, far: true } }, ADMIN);
      assert.equal(both.rsc, 4000);
      assert.match(String(both.body?.['m2m:dbg']), /'rbo' and 'far'/);
      const reboot = await t.client.update(`${NODE}/reboot`, { 'm2m:rbo': { rbo: true } }, ADMIN);
      assert.equal(reboot.rsc, 2004, reboot.text);
      // The trigger reads back false: the action is in the notification, not in the stored state.
      assert.equal((reboot.body?.['m2m:rbo'] as Attrs).rbo, false);
      await waitFor(() => rx.notifications().length >= 1);
      const notifications = rx.notifications();
      assert.equal(notifications.length, 1, 'the refused update notified nobody');
      const nev = (notifications[0]?.['m2m:sgn'] as Attrs).nev as Attrs;
      assert.equal(nev.net, 1);
      assert.equal(((nev.rep as Attrs)['m2m:rbo'] as Attrs).rbo, true);
    } finally {
      await rx.stop();
    }
  });

  it('takes a firmware update and the status the IPE reports', async () => {
    const created = await t.client.create(NODE, 13, { 'm2m:fwr': { rn: 'firmware', mgd: 1001, vr: '1', fwn: 'fw', url: 'http://example.com/fw', ud: false } }, ADMIN);
    assert.deepEqual((created.body?.['m2m:fwr'] as Attrs).uds, { sus: 0 });
    assert.equal((await t.client.update(`${NODE}/firmware`, { 'm2m:fwr': { ud: true } }, ADMIN)).rsc, 2004);
    const reported = await t.client.update(`${NODE}/firmware`, { 'm2m:fwr': { uds: { acn: 'update', sus: 1 }, vr: '2' } }, ADMIN);
    assert.equal(reported.rsc, 2004, reported.text);
    assert.deepEqual((reported.body?.['m2m:fwr'] as Attrs).uds, { acn: 'update', sus: 1 });
    const wrongStatus = await t.client.update(`${NODE}/firmware`, { 'm2m:fwr': { uds: { sus: 9 } } }, ADMIN);
    assert.equal(wrongStatus.rsc, 4000);
    assert.match(String(wrongStatus.body?.['m2m:dbg']), /'uds'/);
  });

  it('reads and writes mgmtObjs in XML and CBOR under their specialization names', async () => {
    const headers = { 'X-M2M-Origin': ADMIN, 'X-M2M-RI': 'x', 'X-M2M-RVI': '3', Accept: 'application/xml', 'Content-Type': 'application/xml;ty=13' };
    const xml = '<m2m:bat xmlns:m2m="http://www.onem2m.org/xml/protocols" rn="xmlBattery"><mgd>1006</mgd><btl>42</btl><bts>2</bts></m2m:bat>';
    const created = await fetch(`${t.url}${NODE}`, { method: 'POST', headers, body: xml });
    assert.equal(created.headers.get('x-m2m-rsc'), '2001');
    assert.match(await created.text(), /<m2m:bat [^>]*rn="xmlBattery"/);
    const datc = '<dcfg:datc xmlns:dcfg="http://www.onem2m.org/xml/dcfg" rn="xmlCollect"><mgd>1021</mgd><cntp>c</cntp><rpsc><sce>0 0 * * * * *</sce></rpsc></dcfg:datc>';
    const collected = await fetch(`${t.url}${NODE}`, { method: 'POST', headers, body: datc });
    const collectedXml = await collected.text();
    assert.equal(collected.headers.get('x-m2m-rsc'), '2001', collectedXml);
    // The TS-0022 resource element is written as such (its root is the CSE's, never sent as JSON text).
    assert.match(collectedXml, /^<\?xml[^>]*\?><dcfg:datc [^>]*rn="xmlCollect"[^>]*>.*<mgd>1021<\/mgd>/);
    const stored = (await t.client.retrieve(`${NODE}/xmlCollect`, ADMIN)).body?.['dcfg:datc'] as Attrs;
    assert.deepEqual(stored.rpsc, [{ sce: ['0 0 * * * * *'] }]);
    // A CMDH limit: its lists of numbers and of booleans, and its boolean, come back typed.
    const limits = '<m2m:cml xmlns:m2m="http://www.onem2m.org/xml/protocols" rn="xmlLimits"><mgd>1016</mgd><od>2</od><ror>localAE thisCSE</ror>'
      + '<rctn>true</rctn><lec>3 100</lec><lqet>0 -1</lqet><lset>0 1000</lset><loet>0 0</loet><lrp>-1 -1</lrp><lda>false true</lda></m2m:cml>';
    const limited = await fetch(`${t.url}${NODE}`, { method: 'POST', headers, body: limits });
    assert.equal(limited.headers.get('x-m2m-rsc'), '2001', await limited.text());
    const cml = (await t.client.retrieve(`${NODE}/xmlLimits`, ADMIN)).body?.['m2m:cml'] as Attrs;
    assert.deepEqual([cml.od, cml.ror, cml.rctn, cml.lec, cml.lqet, cml.lda], [2, ['localAE', 'thisCSE'], true, [3, 100], [0, -1], [false, true]]);
    const cbor = await fetch(`${t.url}${NODE}/xmlBattery`, { headers: { 'X-M2M-Origin': ADMIN, 'X-M2M-RI': 'c', 'X-M2M-RVI': '3', Accept: 'application/cbor' } });
    const decoded = new Decoder({ useRecords: false }).decode(Buffer.from(await cbor.arrayBuffer())) as Attrs;
    assert.deepEqual([(decoded['m2m:bat'] as Attrs).btl, (decoded['m2m:bat'] as Attrs).bts], [42, 2]);
  });
});
