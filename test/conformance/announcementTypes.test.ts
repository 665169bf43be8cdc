// Announcement of <semanticDescriptor>, <locationPolicy>, <timeSyncBeacon>, <action> and <dependency> between two
// Warden CSEs over HTTPS with mutual TLS [TS-0001 §10.2.13, tables 9.6.10-2 and 9.6.30-2; ACME's SMDAnnc, LCPAnnc,
// TSBAnnc, ACTRAnnc, DEPRAnnc]: each announced variant is created on the IN-CSE with link to the original, its MA
// attributes and the OA ones aa names (identifiers made SP-relative), kept in sync, and de-announced.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestCse } from '../harness.js';
import { Receiver, waitFor } from '../receiver.js';
import { call, startInMnTree, type Reply } from '../cse.js';

type Attrs = Record<string, unknown>;
const of = (r: Reply, name: string): Attrs => (r.body?.[name] ?? {}) as Attrs;
const b64 = (text: string): string => Buffer.from(text).toString('base64');
const TURTLE = '@prefix ex: <http://example.org/> . ex:sensor ex:measures ex:temperature .';

describe('announcement of semantic descriptors, location policies, time sync beacons, actions and dependencies', () => {
  let ca: string;
  let inCse: TestCse;
  let mnCse: TestCse;
  const inPort = (): number => inCse.cse.httpPort;
  const mnPort = (): number => mnCse.cse.httpPort;
  const onIn = (path: string): Promise<Reply> => call(inPort(), ca, 'GET', path, 'CAdmin');
  const onMn = (method: string, path: string, ty?: number, body?: unknown): Promise<Reply> =>
    call(mnPort(), ca, method, path, 'Cowner', { ...(ty === undefined ? {} : { ty }), ...(body === undefined ? {} : { body }) });
  /** Creates on the MN and answers the address of the announced resource on the IN (its at). */
  async function announced(path: string, ty: number, name: string, attrs: Attrs): Promise<{ original: Attrs; at: string }> {
    const created = await onMn('POST', path, ty, { [name]: { ...attrs, at: ['/id-in'] } });
    assert.equal(created.rsc, 2001, JSON.stringify(created.body));
    const original = of(created, name);
    const at = original.at as string[] | undefined;
    assert.equal(at?.length, 1, `${name} announced: ${JSON.stringify(original)}`);
    return { original, at: String(at?.[0]) };
  }
  let aeAt = '';

  before(async () => {
    ({ ca, inCse, mnCse } = await startInMnTree('warden-annctypes-'));
    const ae = await onMn('POST', '/cse-mn', 2, { 'm2m:ae': { rn: 'owner', api: 'Nowner', rr: false, srv: ['3'], at: ['/id-in'] } });
    assert.equal(ae.rsc, 2001, JSON.stringify(ae.body));
    aeAt = String((of(ae, 'm2m:ae').at as string[])[0]);
    assert.equal((await onMn('POST', '/cse-mn/owner', 3, { 'm2m:cnt': { rn: 'box', at: ['/id-in'] } })).rsc, 2001);
  });

  after(async () => {
    await mnCse?.close();
    await inCse?.close();
  });

  it('semanticDescriptor: m2m:smdA (10024) under the announced container, with the descriptor aa names', async () => {
    const { original, at } = await announced('/cse-mn/owner/box', 24, 'm2m:smd', { rn: 'desc', dcrp: 5, dsp: b64(TURTLE), lbl: ['semantic'], aa: ['dsp', 'dcrp'] });
    const smdA = of(await onIn(`/~${at}`), 'm2m:smdA');
    assert.equal(smdA.ty, 10024);
    assert.equal(smdA.lnk, `/id-mn/${String(original.ri)}`);
    assert.deepEqual(smdA.lbl, ['semantic']);
    assert.equal(smdA.dsp, b64(TURTLE));
    assert.equal(smdA.dcrp, 5);
    const box = of(await call(mnPort(), ca, 'GET', '/cse-mn/owner/box', 'Cowner'), 'm2m:cnt');
    assert.equal(smdA.pi, String((box.at as string[])[0]).replace(/^\/id-in\//, ''), 'below the announced container');
    // Only the OA attributes aa names travel; a name that is none of them is 4000.
    assert.equal(smdA.vlde, undefined);
    assert.equal((await onMn('POST', '/cse-mn/owner', 24, { 'm2m:smd': { rn: 'bad', dcrp: 5, dsp: b64(TURTLE), at: ['/id-in'], aa: ['soe'] } })).rsc, 4000);
  });

  it('locationPolicy: m2m:lcpA (10010) under the announced AE, its container ID SP-relative, synced and de-announced', async () => {
    const { original, at } = await announced('/cse-mn/owner', 10, 'm2m:lcp', { rn: 'where', los: 2, lon: 'positions', aa: ['los', 'loi', 'lon'] });
    const lcpA = of(await onIn(`/~${at}`), 'm2m:lcpA');
    assert.equal(lcpA.ty, 10010);
    assert.equal(lcpA.los, 2);
    assert.equal(lcpA.loi, `/id-mn/${String(original.loi)}`, 'the container is the MN\'s');
    assert.equal(lcpA.pi, aeAt.replace(/^\/id-in\//, ''));
    assert.equal((await onMn('PUT', '/cse-mn/owner/where', undefined, { 'm2m:lcp': { lbl: ['moved'] } })).rsc, 2004);
    assert.deepEqual(of(await onIn(`/~${at}`), 'm2m:lcpA').lbl, ['moved']);
    assert.equal((await onMn('DELETE', '/cse-mn/owner/where')).rsc, 2002);
    await waitFor(async () => (await onIn(`/~${at}`)).rsc === 4004, 10_000);
  });

  it('timeSyncBeacon: m2m:tsbA (10060), its AE targets SP-relative and its URLs as they are', async () => {
    // A URL target is verified first: a receiver that accepts.
    const rx = await new Receiver().start();
    after(() => rx.stop());
    const url = `${rx.url}/beacons`;
    const { original, at } = await announced('/cse-mn/owner', 60, 'm2m:tsb', { rn: 'tick', bcnc: 1, bcni: 'PT10S', bcnu: ['Cowner', url], aa: ['bcnc', 'bcni', 'bcnu'] });
    const tsbA = of(await onIn(`/~${at}`), 'm2m:tsbA');
    assert.equal(tsbA.ty, 10060);
    assert.equal(tsbA.lnk, `/id-mn/${String(original.ri)}`);
    assert.equal(tsbA.bcnc, 1);
    assert.equal(tsbA.bcni, 'PT10S');
    assert.deepEqual(tsbA.bcnu, ['/id-mn/Cowner', url]);
  });

  it('action and dependency: m2m:actrA (10065) with apv and orc, and m2m:deprA (10066) only below it', async () => {
    const cnt = of(await call(mnPort(), ca, 'GET', '/cse-mn/owner/box', 'Cowner'), 'm2m:cnt');
    const apv = { op: 3, fr: 'Cowner', to: 'Cowner', rqi: 'label', rvi: '3', pc: { 'm2m:ae': { lbl: ['fired'] } } };
    const { original, at } = await announced('/cse-mn/owner/box', 65, 'm2m:actr', { rn: 'act', evc: { sbjt: 'cni', optr: 3, thld: 5 }, evm: 1, orc: 'Cowner', apv, aa: ['evc', 'evm'] });
    const actrA = of(await onIn(`/~${at}`), 'm2m:actrA');
    assert.equal(actrA.ty, 10065);
    assert.equal(actrA.orc, '/id-mn/Cowner');
    assert.deepEqual(actrA.apv, apv);
    assert.deepEqual(actrA.evc, { sbjt: 'cni', optr: 3, thld: 5 });
    assert.equal(actrA.lnk, `/id-mn/${String(original.ri)}`);
    const dep = await announced('/cse-mn/owner/box/act', 66, 'm2m:depr', { rn: 'gate', sfc: false, rri: String(cnt.ri), evc: { sbjt: 'cni', optr: 3, thld: 0 } });
    const deprA = of(await onIn(`/~${dep.at}`), 'm2m:deprA');
    assert.equal(deprA.ty, 10066);
    assert.equal(deprA.rri, `/id-mn/${String(cnt.ri)}`);
    assert.equal(deprA.pi, at.replace(/^\/id-in\//, ''));
    // A dependency is announced only where its action is (as an instance is where its container is): 4005.
    assert.equal((await onMn('POST', '/cse-mn/owner/box', 65, { 'm2m:actr': { rn: 'quiet', evc: { sbjt: 'cni', optr: 3, thld: 5 }, evm: 1, orc: 'Cowner', apv } })).rsc, 2001);
    const refused = await onMn('POST', '/cse-mn/owner/box/quiet', 66, { 'm2m:depr': { rn: 'gate', sfc: false, rri: String(cnt.ri), evc: { sbjt: 'cni', optr: 3, thld: 0 }, at: ['/id-in'] } });
    assert.equal(refused.rsc, 4005, JSON.stringify(refused.body));
  });

  it('an announced variant is created only by the CSE its link names (an AE is 4103)', async () => {
    const forged = await call(inPort(), ca, 'POST', `/~${aeAt}`, 'CAdmin', { ty: 10024, body: { 'm2m:smdA': { lnk: '/id-mn/smd-x', dcrp: 5, dsp: b64(TURTLE) } } });
    assert.equal(forged.rsc, 4103, JSON.stringify(forged.body));
  });
});
