// Notifications across the CSE tree, and the access control of announced resources, between two Warden CSEs over
// HTTPS with mutual TLS: a NOTIFY to an <AEAnnc> goes on to the original AE [TS-0001 §10.2.13.12]; an <AEAnnc> as a
// notification target stands for that AE; a group subscription reaches a member on another CSE; an announced
// resource's acpi names the announced policies of its original's [TS-0001 §9.6.26.1, §10.2.13.5].
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { TestCse } from '../harness.js';
import { Receiver, waitFor } from '../receiver.js';
import { call, startInMnTree, type InMnTree, type Reply } from '../cse.js';

type Attrs = Record<string, unknown>;
const of = (r: Reply, name: string): Attrs => (r.body?.[name] ?? {}) as Attrs;
const sgnOf = (body: Attrs | undefined): Attrs => (body?.['m2m:sgn'] ?? {}) as Attrs;

describe('notifications and access control across the CSE tree', () => {
  let ca: string;
  let files: InMnTree['files'];
  let inCse: TestCse;
  let mnCse: TestCse;
  const receiver = new Receiver();
  const inPort = (): number => inCse.cse.httpPort;
  const mnPort = (): number => mnCse.cse.httpPort;
  /** The <AEAnnc> of the MN's AE on the IN (SP-relative), and its policy's announced address there. */
  let aeAnnc = '';
  let policyRi = '';

  before(async () => {
    ({ ca, files, inCse, mnCse } = await startInMnTree('warden-treentf-'));
    await receiver.start();
    // Three AEs on the IN: one the MN's policy names, one it does not, and one whose AE-ID is the MN AE's.
    for (const aei of ['Cnotifier', 'Cother', 'Creader']) {
      const ae = await call(inPort(), ca, 'POST', '/cse-in', aei, { ty: 2, body: { 'm2m:ae': { rn: `${aei}-in`, api: 'Ntree', rr: false, srv: ['3'] } } });
      assert.equal(ae.rsc, 2001, JSON.stringify(ae.body));
    }
    const reader = await call(mnPort(), ca, 'POST', '/cse-mn', 'Creader', { ty: 2, body: { 'm2m:ae': { rn: 'reader', api: 'Ntree', rr: true, srv: ['3'], poa: [receiver.url] } } });
    assert.equal(reader.rsc, 2001, JSON.stringify(reader.body));
  });

  after(async () => {
    await receiver.stop();
    await mnCse?.close();
    await inCse?.close();
  });

  it("announces an AE with its policy: the AEAnnc's acpi names the announced policy, whose originators stay the MN's", async () => {
    const acp = await call(mnPort(), ca, 'POST', '/cse-mn', 'CAdmin', {
      ty: 1,
      body: { 'm2m:acp': { rn: 'readerPolicy', pv: { acr: [{ acor: ['Creader'], acop: 63 }, { acor: ['/id-in/Cnotifier'], acop: 18 }] }, pvs: { acr: [{ acor: ['CAdmin'], acop: 63 }] } } },
    });
    assert.equal(acp.rsc, 2001, JSON.stringify(acp.body));
    policyRi = String(of(acp, 'm2m:acp').ri);
    // acpi is updated alone [TS-0001 §9.6.1.3.2]; then the AE is announced.
    assert.equal((await call(mnPort(), ca, 'PUT', '/cse-mn/reader', 'CAdmin', { body: { 'm2m:ae': { acpi: [policyRi] } } })).rsc, 2004);
    const ae = await call(mnPort(), ca, 'PUT', '/cse-mn/reader', 'Creader', { body: { 'm2m:ae': { at: ['/id-in'] } } });
    assert.equal(ae.rsc, 2004, JSON.stringify(ae.body));
    aeAnnc = String((of(ae, 'm2m:ae').at as string[])[0]);
    // The policy was announced first, and its at says where.
    const policy = of(await call(mnPort(), ca, 'GET', `/cse-mn/readerPolicy`, 'CAdmin'), 'm2m:acp');
    const policyAt = policy.at as string[];
    assert.equal(policyAt.length, 1, JSON.stringify(policy));
    const aeA = of(await call(inPort(), ca, 'GET', `/~${aeAnnc}`, 'CAdmin'), 'm2m:aeA');
    assert.deepEqual(aeA.acpi, [String(policyAt[0]).replace(/^\/id-in\//, '')]);
    const acpA = of(await call(inPort(), ca, 'GET', `/~${String(policyAt[0])}`, 'CAdmin'), 'm2m:acpA');
    assert.equal(acpA.ty, 10001);
    assert.deepEqual((acpA.pv as { acr: Array<{ acor: string[] }> }).acr.map((r) => r.acor), [['/id-mn/Creader'], ['/id-in/Cnotifier']]);
    // The announced policy governs the AEAnnc on the IN: Cnotifier may read it, Cother not, nor the IN's own Creader.
    assert.equal((await call(inPort(), ca, 'GET', `/~${aeAnnc}`, 'Cnotifier')).rsc, 2000);
    assert.equal((await call(inPort(), ca, 'GET', `/~${aeAnnc}`, 'Cother')).rsc, 4103);
    assert.equal((await call(inPort(), ca, 'GET', `/~${aeAnnc}`, 'Creader')).rsc, 4103);
  });

  it('refuses an announced policy in the acpi of a resource that is not announced by the same CSE (4000)', async () => {
    const policyAt = String(((of(await call(mnPort(), ca, 'GET', `/cse-mn/readerPolicy`, 'CAdmin'), 'm2m:acp').at as string[]) ?? [])[0]);
    const local = await call(inPort(), ca, 'POST', '/cse-in', 'CAdmin', { ty: 3, body: { 'm2m:cnt': { rn: 'borrowing', acpi: [policyAt] } } });
    assert.equal(local.rsc, 4000, JSON.stringify(local.body));
  });

  it('forwards a NOTIFY to the AEAnnc to the original AE, whose CSE decides its access', async () => {
    const before = receiver.received.length;
    const sgn = { 'm2m:sgn': { sur: '/id-in/cse-in/somewhere', nev: { net: 1, rep: { 'm2m:cin': { con: 'hello' } } } } };
    const sent = await call(inPort(), ca, 'POST', `/~${aeAnnc}`, 'Cnotifier', { body: sgn });
    assert.equal(sent.rsc, 2000, JSON.stringify(sent.body));
    const got = receiver.received.slice(before);
    assert.equal(got.length, 1);
    assert.equal(got[0]?.headers['x-m2m-origin'], '/id-in/Cnotifier');
    assert.equal(((sgnOf(got[0]?.body).nev as Attrs).rep as Attrs)['m2m:cin'] !== undefined, true);
    // The IN's copy of the policy refuses Cother; the original's CSE would too.
    assert.equal((await call(inPort(), ca, 'POST', `/~${aeAnnc}`, 'Cother', { body: sgn })).rsc, 4103);
    assert.equal(receiver.received.length, before + 1);
    // Something that is no notification is refused before anything is forwarded.
    assert.equal((await call(inPort(), ca, 'POST', `/~${aeAnnc}`, 'Cnotifier', { body: { 'm2m:cin': { con: 'x' } } })).rsc, 4000);
  });

  it('notifies the original AE of a subscription whose notificationURI is its AEAnnc', async () => {
    const cnt = await call(inPort(), ca, 'POST', '/cse-in/Cnotifier-in', 'Cnotifier', { ty: 3, body: { 'm2m:cnt': { rn: 'box' } } });
    assert.equal(cnt.rsc, 2001, JSON.stringify(cnt.body));
    const verificationsBefore = receiver.received.length;
    const sub = await call(inPort(), ca, 'POST', '/cse-in/Cnotifier-in/box', 'Cnotifier', { ty: 23, body: { 'm2m:sub': { rn: 'toAnnc', nu: [aeAnnc], enc: { net: [3] } } } });
    assert.equal(sub.rsc, 2001, JSON.stringify(sub.body));
    // The verification request went to the AE itself, through the tree.
    assert.equal(receiver.received.slice(verificationsBefore).some((r) => sgnOf(r.body).vrq === true), true);
    const count = receiver.notifications().length;
    assert.equal((await call(inPort(), ca, 'POST', '/cse-in/Cnotifier-in/box', 'Cnotifier', { ty: 4, body: { 'm2m:cin': { con: 'for the MN' } } })).rsc, 2001);
    await waitFor(() => receiver.notifications().length > count, 10_000);
    const sgn = sgnOf(receiver.notifications()[count]);
    assert.equal(sgn.sur, `/id-in/${String(of(sub, 'm2m:sub').ri)}`);
    assert.equal((((sgn.nev as Attrs).rep as Attrs)['m2m:cin'] as Attrs).con, 'for the MN');
  });

  it('reaches a member on another CSE through a group subscription, and its notifications the subscriber', async () => {
    const acp = await call(inPort(), ca, 'POST', '/cse-in/Cnotifier-in', 'Cnotifier', { ty: 1, body: { 'm2m:acp': { rn: 'mnReads', pv: { acr: [{ acor: ['/id-mn/Creader'], acop: 35 }, { acor: ['Cnotifier'], acop: 63 }] }, pvs: { acr: [{ acor: ['Cnotifier'], acop: 63 }] } } } });
    assert.equal(acp.rsc, 2001, JSON.stringify(acp.body));
    const shared = await call(inPort(), ca, 'POST', '/cse-in/Cnotifier-in', 'Cnotifier', { ty: 3, body: { 'm2m:cnt': { rn: 'shared', acpi: [String(of(acp, 'm2m:acp').ri)] } } });
    assert.equal(shared.rsc, 2001, JSON.stringify(shared.body));
    const grp = await call(mnPort(), ca, 'POST', '/cse-mn/reader', 'Creader', { ty: 9, body: { 'm2m:grp': { rn: 'remote', mt: 3, mnm: 4, mid: ['/id-in/cse-in/Cnotifier-in/shared'] } } });
    assert.equal(grp.rsc, 2001, JSON.stringify(grp.body));
    const fanned = await call(mnPort(), ca, 'POST', '/cse-mn/reader/remote/fopt', 'Creader', { ty: 23, body: { 'm2m:sub': { rn: 'viaGroup', nu: ['/id-mn/Creader'], enc: { net: [3] } } } });
    assert.equal(fanned.rsc, 2000, JSON.stringify(fanned.body));
    const answer = ((of(fanned, 'm2m:agr')['m2m:rsp'] as Attrs[]) ?? [])[0] as Attrs;
    assert.equal(answer.rsc, 2001, JSON.stringify(answer));
    const memberSub = (answer.pc as Attrs)['m2m:sub'] as Attrs;
    assert.equal(memberSub.gpi, `/id-mn/${String(of(grp, 'm2m:grp').ri)}`);
    const count = receiver.notifications().length;
    assert.equal((await call(inPort(), ca, 'POST', '/cse-in/Cnotifier-in/shared', 'Cnotifier', { ty: 4, body: { 'm2m:cin': { con: 'to the group' } } })).rsc, 2001);
    await waitFor(() => receiver.notifications().some((n, i) => i >= count && ((sgnOf(n).nev as Attrs | undefined)?.rep as Attrs | undefined)?.['m2m:cin'] !== undefined && sgnOf(n).sur === `/id-in/${String(memberSub.ri)}`), 10_000);
  });

  it('aggregates, as the group hosting CSE, the notifications of members on another CSE with those of its own (nfu, nar)', async () => {
    const acp = await call(inPort(), ca, 'POST', '/cse-in/Cnotifier-in', 'Cnotifier', { ty: 1, body: { 'm2m:acp': { rn: 'poolReads', pv: { acr: [{ acor: ['/id-mn/Creader'], acop: 35 }, { acor: ['Cnotifier'], acop: 63 }] }, pvs: { acr: [{ acor: ['Cnotifier'], acop: 63 }] } } } });
    assert.equal(acp.rsc, 2001, JSON.stringify(acp.body));
    assert.equal((await call(inPort(), ca, 'POST', '/cse-in/Cnotifier-in', 'Cnotifier', { ty: 3, body: { 'm2m:cnt': { rn: 'farPool', acpi: [String(of(acp, 'm2m:acp').ri)] } } })).rsc, 2001);
    assert.equal((await call(mnPort(), ca, 'POST', '/cse-mn/reader', 'Creader', { ty: 3, body: { 'm2m:cnt': { rn: 'nearPool' } } })).rsc, 2001);
    // Two members, one on each CSE; the group gathers two notifications (or waits 30 s) before it sends them.
    const grp = await call(mnPort(), ca, 'POST', '/cse-mn/reader', 'Creader', {
      ty: 9,
      body: { 'm2m:grp': { rn: 'pooled', mt: 3, mnm: 4, mid: ['/id-in/cse-in/Cnotifier-in/farPool', 'cse-mn/reader/nearPool'], nar: { num: 2, dur: 'PT30S' } } },
    });
    assert.equal(grp.rsc, 2001, JSON.stringify(grp.body));
    const fanned = await call(mnPort(), ca, 'POST', '/cse-mn/reader/pooled/fopt', 'Creader', { ty: 23, body: { 'm2m:sub': { rn: 'pooledWatch', nu: ['/id-mn/Creader'], nfu: '/id-mn/Creader', enc: { net: [3] } } } });
    assert.equal(fanned.rsc, 2000, JSON.stringify(fanned.body));
    const answers = (of(fanned, 'm2m:agr')['m2m:rsp'] as Attrs[]) ?? [];
    assert.deepEqual(answers.map((a) => a.rsc), [2001, 2001], JSON.stringify(answers));
    const surs = answers.map((a) => String(((a.pc as Attrs)['m2m:sub'] as Attrs).ri));
    const count = receiver.received.length;
    assert.equal((await call(inPort(), ca, 'POST', '/cse-in/Cnotifier-in/farPool', 'Cnotifier', { ty: 4, body: { 'm2m:cin': { con: 'far' } } })).rsc, 2001);
    assert.equal((await call(mnPort(), ca, 'POST', '/cse-mn/reader/nearPool', 'Creader', { ty: 4, body: { 'm2m:cin': { con: 'near' } } })).rsc, 2001);
    // One aggregated notification with both, the IN member's included; no lone notification of either.
    await waitFor(() => receiver.received.slice(count).some((r) => r.body['m2m:agn'] !== undefined), 20_000);
    const got = receiver.received.slice(count).map((r) => r.body);
    const agn = got.find((b) => b['m2m:agn'] !== undefined)?.['m2m:agn'] as Attrs;
    const sgns = agn['m2m:sgn'] as Attrs[];
    assert.equal(sgns.length, 2, JSON.stringify(agn));
    assert.deepEqual(sgns.map((n) => String(n.sur)).sort(), [`/id-in/${surs[0] as string}`, `/id-mn/${surs[1] as string}`].sort());
    assert.deepEqual(sgns.map((n) => (((n.nev as Attrs).rep as Attrs)['m2m:cin'] as Attrs).con).sort(), ['far', 'near']);
    assert.equal(got.filter((b) => b['m2m:sgn'] !== undefined && (b['m2m:sgn'] as Attrs).vrq !== true).length, 0, JSON.stringify(got));
  });

  it('takes member notifications at a group only from a CSE hosting a member, and only for an nfu of its subscriptions', async () => {
    const group = '/~/id-mn/cse-mn/reader/pooled';
    const asIn = { cert: readFileSync(files['id-in'].cert, 'utf8'), key: readFileSync(files['id-in'].key, 'utf8') };
    const sgn = (extra: Attrs): Attrs => ({ 'm2m:sgn': { sur: '/id-in/sub-x', nev: { net: 3, rep: { 'm2m:cin': { con: 'x' } } }, ...extra } });
    const count = receiver.received.length;
    // An AE on the IN (forwarded there as /id-in/Cnotifier) is no member's CSE; the IN is, but no subscription of the group forwards to CAdmin; without nfu it is no
    // member notification.
    assert.equal((await call(inPort(), ca, 'POST', group, 'Cnotifier', { body: sgn({ nfu: '/id-mn/Creader' }) })).rsc, 4103);
    assert.equal((await call(mnPort(), ca, 'POST', group, '/id-in', { body: sgn({ nfu: '/id-mn/CAdmin' }), client: asIn })).rsc, 4103);
    assert.equal((await call(mnPort(), ca, 'POST', group, '/id-in', { body: sgn({}), client: asIn })).rsc, 4000);
    // Nor may it pass off a notification of a subscription on another CSE as its own.
    const foreign = { 'm2m:sgn': { sur: '/id-mn/sub-x', nfu: '/id-mn/Creader', nev: { net: 3, rep: { 'm2m:cin': { con: 'x' } } } } };
    assert.equal((await call(mnPort(), ca, 'POST', group, '/id-in', { body: foreign, client: asIn })).rsc, 4103);
    // A group whose members are all on this CSE takes none from the IN.
    assert.equal((await call(mnPort(), ca, 'POST', '/cse-mn/reader', 'Creader', { ty: 9, body: { 'm2m:grp': { rn: 'localOnly', mt: 3, mnm: 2, mid: ['cse-mn/reader/nearPool'] } } })).rsc, 2001);
    assert.equal((await call(mnPort(), ca, 'POST', '/~/id-mn/cse-mn/reader/localOnly', '/id-in', { body: sgn({ nfu: '/id-mn/Creader' }), client: asIn })).rsc, 4103);
    assert.equal(receiver.received.length, count);
  });

  it("keeps the announced resource's acpi in sync with the original's", async () => {
    const other = await call(mnPort(), ca, 'POST', '/cse-mn', 'CAdmin', { ty: 1, body: { 'm2m:acp': { rn: 'otherPolicy', pv: { acr: [{ acor: ['/id-in/Cother'], acop: 2 }] }, pvs: { acr: [{ acor: ['CAdmin'], acop: 63 }] } } } });
    assert.equal(other.rsc, 2001, JSON.stringify(other.body));
    const updated = await call(mnPort(), ca, 'PUT', '/cse-mn/reader', 'CAdmin', { body: { 'm2m:ae': { acpi: [String(of(other, 'm2m:acp').ri)] } } });
    assert.equal(updated.rsc, 2004, JSON.stringify(updated.body));
    assert.equal((await call(inPort(), ca, 'GET', `/~${aeAnnc}`, 'Cother')).rsc, 2000);
    assert.equal((await call(inPort(), ca, 'GET', `/~${aeAnnc}`, 'Cnotifier')).rsc, 4103);
    // A change of the announced policy itself follows too.
    const widened = await call(mnPort(), ca, 'PUT', '/cse-mn/otherPolicy', 'CAdmin', { body: { 'm2m:acp': { pv: { acr: [{ acor: ['/id-in/Cother', '/id-in/Cnotifier'], acop: 2 }] } } } });
    assert.equal(widened.rsc, 2004, JSON.stringify(widened.body));
    assert.equal((await call(inPort(), ca, 'GET', `/~${aeAnnc}`, 'Cnotifier')).rsc, 2000);
    assert.notEqual(policyRi, '');
  });
});
