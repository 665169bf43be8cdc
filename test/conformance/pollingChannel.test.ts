// Request/response delivery through a polling channel [TS-0001 §10.2.5.12, TS-0004 §7.4.22.2.2, §7.3.3.9.1]:
// verification of a subscription whose target is another AE reachable only by polling, requestAggregation, and a
// NOTIFY to such an AE relayed through its channel — each with the AE polling and answering concurrently over HTTP.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { spawnWarden, startTestCse, stopWarden, type Reply, type TestClient, type TestCse } from '../harness.js';
import { waitFor } from '../receiver.js';
import { createTestDatabase, type TestDatabase } from '../postgres.js';

type Attrs = Record<string, unknown>;

const POLL = { headers: { 'X-M2M-RET': '8000' } };
const SUB = { 'm2m:sub': { rn: 'sub', enc: { net: [3] }, nu: ['Csleepy'], su: 'Csleepy' } };

/**
 * The set-up of ACME's testPCH_PCU: `pub` (subscriber, owner of container `c`), `sleepy` (rr=false, with a polling
 * channel) whose policy grants `pub` and `caller` NOTIFY, and `nosy`, whom it grants nothing.
 */
async function setUp(client: TestClient, rqag = false): Promise<void> {
  await client.registerAe('pub');
  await client.registerAe('sleepy', { rr: false });
  await client.registerAe('caller');
  await client.registerAe('nosy');
  const acp = await client.create('/cse-in/sleepy', 1, {
    'm2m:acp': {
      rn: 'acp',
      pv: { acr: [{ acor: ['Cpub', 'Ccaller'], acop: 16 }, { acor: ['Csleepy'], acop: 63 }] },
      pvs: { acr: [{ acor: ['Csleepy'], acop: 63 }] },
    },
  }, 'Csleepy');
  assert.equal(acp.rsc, 2001, acp.text);
  const ri = (acp.body?.['m2m:acp'] as Attrs).ri as string;
  assert.equal((await client.update('/cse-in/sleepy', { 'm2m:ae': { acpi: [ri] } }, 'Csleepy')).rsc, 2004);
  assert.equal((await client.create('/cse-in/sleepy', 15, { 'm2m:pch': { rn: 'pch', rqag } }, 'Csleepy')).rsc, 2001);
  assert.equal((await client.create('/cse-in/pub', 3, { 'm2m:cnt': { rn: 'c' } }, 'Cpub')).rsc, 2001);
}

/** The AE's answer to a polled request, as a NOTIFY of m2m:rsp to its pcu. */
function answer(client: TestClient, rqp: Attrs, rsp: Attrs = {}, origin = 'Csleepy'): Promise<Reply> {
  return client.request('POST', '/cse-in/sleepy/pch/pcu', { origin, body: { 'm2m:rsp': { fr: 'Csleepy', rqi: rqp.rqi, rvi: '3', rsc: 2000, ...rsp } } });
}

async function pollOne(client: TestClient): Promise<Attrs> {
  const polled = await client.retrieve('/cse-in/sleepy/pch/pcu', 'Csleepy', POLL);
  assert.equal(polled.rsc, 2000, polled.text);
  return polled.body?.['m2m:rqp'] as Attrs;
}

describe('verification through a polling channel', () => {
  let t: TestCse;
  beforeEach(async () => {
    t = await startTestCse({ 'notifications.pollResponseTimeout': 2 });
    await setUp(t.client);
  });
  afterEach(() => t.close());

  it('queues the verification request on the channel; the AE polls it and its 2000 verifies the subscription', async () => {
    const creating = t.client.create('/cse-in/pub/c', 23, SUB, 'Cpub');
    const rqp = await pollOne(t.client);
    assert.equal(rqp.op, 5);
    const sgn = (rqp.pc as Attrs)['m2m:sgn'] as Attrs;
    assert.equal(sgn.vrq, true);
    assert.equal(sgn.cr, 'Cpub');
    assert.match(String(sgn.sur), /\/sub/);
    assert.equal((await answer(t.client, rqp)).rsc, 2000);
    const created = await creating;
    assert.equal(created.rsc, 2001, created.text);
    assert.equal((await t.client.retrieve('/cse-in/pub/c/sub', 'Cpub')).rsc, 2000);
    // Its notifications then go to the channel.
    assert.equal((await t.client.create('/cse-in/pub/c', 4, { 'm2m:cin': { con: 'x' } }, 'Cpub')).rsc, 2001);
    const notification = await pollOne(t.client);
    assert.ok((((notification.pc as Attrs)['m2m:sgn'] as Attrs).nev as Attrs).rep);
  });

  it('an empty answer is 4000 and the subscription is refused with 5204, nothing stored', async () => {
    const creating = t.client.create('/cse-in/pub/c', 23, SUB, 'Cpub');
    await pollOne(t.client);
    const empty = await t.client.request('POST', '/cse-in/sleepy/pch/pcu', { origin: 'Csleepy', body: {} });
    assert.equal(empty.rsc, 4000);
    assert.equal((await creating).rsc, 5204);
    assert.equal((await t.client.retrieve('/cse-in/pub/c/sub', 'Cpub')).rsc, 4004);
  });

  it('a wrong answer (m2m:rqp instead of m2m:rsp) is 4000 and the subscription is refused with 5204', async () => {
    const creating = t.client.create('/cse-in/pub/c', 23, SUB, 'Cpub');
    const rqp = await pollOne(t.client);
    const wrong = await t.client.request('POST', '/cse-in/sleepy/pch/pcu', { origin: 'Csleepy', body: { 'm2m:rqp': { fr: 'Csleepy', rqi: rqp.rqi, rvi: '3', rsc: 2000 } } });
    assert.equal(wrong.rsc, 4000);
    assert.match(wrong.text, /m2m:rsp/);
    assert.equal((await creating).rsc, 5204);
    assert.equal((await t.client.retrieve('/cse-in/pub/c/sub', 'Cpub')).rsc, 4004);
  });

  it('a refusal by the AE is 5204', async () => {
    const creating = t.client.create('/cse-in/pub/c', 23, SUB, 'Cpub');
    assert.equal((await answer(t.client, await pollOne(t.client), { rsc: 4103 })).rsc, 2000);
    assert.equal((await creating).rsc, 5204);
  });

  it('no answer in time (notifications.pollResponseTimeout) is 5204; a late poll no longer gets the request', async () => {
    const created = await t.client.create('/cse-in/pub/c', 23, SUB, 'Cpub');
    assert.equal(created.rsc, 5204);
    assert.match(created.text, /in time/);
    assert.equal((await t.client.retrieve('/cse-in/pub/c/sub', 'Cpub')).rsc, 4004);
    assert.equal((await t.client.retrieve('/cse-in/sleepy/pch/pcu', 'Csleepy', { headers: { 'X-M2M-RET': '300' } })).rsc, 4008);
  });

  it("waits no longer than the CREATE's own request expiry", async () => {
    const created = await t.client.create('/cse-in/pub/c', 23, SUB, 'Cpub', { headers: { 'X-M2M-RET': '400' } });
    assert.notEqual(created.rsc, 2001);
    assert.equal((await t.client.retrieve('/cse-in/pub/c/sub', 'Cpub')).rsc, 4004);
  });

  it('only the polling AE polls and answers at its pcu (4103), and an answer must come from it', async () => {
    const creating = t.client.create('/cse-in/pub/c', 23, SUB, 'Cpub');
    await waitFor(async () => (await t.cse.services.store.queueLength('pch:Csleepy')) === 1);
    assert.equal((await t.client.retrieve('/cse-in/sleepy/pch/pcu', 'Cpub', POLL)).rsc, 4103);
    assert.equal((await t.client.retrieve('/cse-in/sleepy/pch/pcu', 'Cnosy', POLL)).rsc, 4103);
    const rqp = await pollOne(t.client);
    assert.equal((await answer(t.client, rqp, {}, 'Cpub')).rsc, 4103, 'the subscriber cannot answer for the AE');
    assert.equal((await answer(t.client, rqp, { fr: 'Cpub' })).rsc, 4000, 'a response names the AE as its originator');
    assert.equal((await answer(t.client, rqp)).rsc, 2000);
    assert.equal((await creating).rsc, 2001);
  });

  it("nobody pushes into another AE's channel without its NOTIFY privilege, nor into an AE that has no channel", async () => {
    await t.client.create('/cse-in/nosy', 3, { 'm2m:cnt': { rn: 'bait' } }, 'Cnosy');
    const pushed = await t.client.create('/cse-in/nosy/bait', 23, SUB, 'Cnosy');
    assert.equal(pushed.rsc, 5204);
    assert.match(pushed.text, /NOTIFY/);
    assert.equal(await t.cse.services.store.queueLength('pch:Csleepy'), 0, 'nothing was queued on the channel');
    await t.client.registerAe('nochannel', { rr: false });
    const unreachable = await t.client.create('/cse-in/pub/c', 23, { 'm2m:sub': { enc: { net: [3] }, nu: ['Cnochannel'] } }, 'Cpub');
    assert.equal(unreachable.rsc, 5204);
  });
});

describe('polling a channel: requestAggregation (rqag), and polls at once', () => {
  let t: TestCse;
  beforeEach(async () => {
    t = await startTestCse({ 'notifications.pollResponseTimeout': 5 });
    await setUp(t.client);
  });
  afterEach(() => t.close());

  /** pub's subscription to its container, for sleepy, verified through the channel. */
  const subscribe = async (): Promise<void> => {
    const creating = t.client.create('/cse-in/pub/c', 23, SUB, 'Cpub');
    assert.equal((await answer(t.client, await pollOne(t.client))).rsc, 2000);
    assert.equal((await creating).rsc, 2001);
  };

  it('with rqag, a poll returns every queued request at once as m2m:agrp; without, one m2m:rqp per poll', async () => {
    await subscribe();
    assert.equal((await t.client.update('/cse-in/sleepy/pch', { 'm2m:pch': { rqag: true } }, 'Csleepy')).rsc, 2004);
    for (let i = 0; i < 3; i++) assert.equal((await t.client.create('/cse-in/pub/c', 4, { 'm2m:cin': { con: `v${i}` } }, 'Cpub')).rsc, 2001);
    await waitFor(async () => (await t.cse.services.store.queueLength('pch:Csleepy')) === 3);
    const polled = await t.client.retrieve('/cse-in/sleepy/pch/pcu', 'Csleepy', POLL);
    assert.equal(polled.rsc, 2000, polled.text);
    const agrp = polled.body?.['m2m:agrp'] as Attrs[];
    assert.equal(agrp.length, 3);
    for (const rqp of agrp) {
      assert.equal(rqp.op, 5);
      assert.ok(((rqp.pc as Attrs)['m2m:sgn'] as Attrs).sur);
      assert.equal((await answer(t.client, rqp)).rsc, 2000);
    }
    assert.equal(await t.cse.services.store.queueLength('pch:Csleepy'), 0);
    assert.equal((await t.client.update('/cse-in/sleepy/pch', { 'm2m:pch': { rqag: false } }, 'Csleepy')).rsc, 2004);
    for (let i = 0; i < 2; i++) await t.client.create('/cse-in/pub/c', 4, { 'm2m:cin': { con: `w${i}` } }, 'Cpub');
    await waitFor(async () => (await t.cse.services.store.queueLength('pch:Csleepy')) === 2);
    await pollOne(t.client);
    assert.equal(await t.cse.services.store.queueLength('pch:Csleepy'), 1);
  });

  it('several polls waiting at once: one queued request goes to one of them, never to two', async () => {
    await subscribe();
    const polls = Array.from({ length: 6 }, () => t.client.retrieve('/cse-in/sleepy/pch/pcu', 'Csleepy', { headers: { 'X-M2M-RET': '1500' } }));
    await new Promise((r) => setTimeout(r, 300)); // every poll is waiting
    assert.equal((await t.client.create('/cse-in/pub/c', 4, { 'm2m:cin': { con: 'once' } }, 'Cpub')).rsc, 2001);
    const answers = await Promise.all(polls);
    const got = answers.filter((a) => a.rsc === 2000);
    assert.equal(got.length, 1, `one poll gets the request: ${answers.map((a) => a.rsc).join(',')}`);
    assert.ok(answers.every((a) => a.rsc === 2000 || a.rsc === 4008), 'the others time out');
    assert.equal(await t.cse.services.store.queueLength('pch:Csleepy'), 0);
  });
});

describe('NOTIFY to an <AE> with a <pollingChannel> is relayed through it', () => {
  let t: TestCse;
  beforeEach(async () => {
    t = await startTestCse({ 'notifications.pollResponseTimeout': 2 });
    await setUp(t.client);
  });
  afterEach(() => t.close());

  it("passes the NOTIFY to the AE's channel and returns the AE's answer to the originator", async () => {
    const notifying = t.client.request('POST', '/cse-in/sleepy', { origin: 'Ccaller', body: { 'm2m:sgn': { sur: '/id-in/elsewhere', nev: { rep: { 'm2m:cin': { con: 'hi' } }, net: 3 } } } });
    const rqp = await pollOne(t.client);
    assert.equal(rqp.op, 5);
    assert.equal(rqp.fr, 'Ccaller');
    assert.equal(((((rqp.pc as Attrs)['m2m:sgn'] as Attrs).nev as Attrs).rep as Attrs)['m2m:cin'] && 'ok', 'ok');
    assert.equal((await answer(t.client, rqp, { rsc: 2000, pc: { 'm2m:dbg': 'seen' } })).rsc, 2000);
    const notified = await notifying;
    assert.equal(notified.rsc, 2000, notified.text);
    assert.equal(notified.body?.['m2m:dbg'], 'seen');
  });

  it("returns the AE's refusal as it is, and 5103 when the AE does not answer in time, 4008 when the request expired", async () => {
    const body = { 'm2m:sgn': { sur: '/id-in/elsewhere', vrq: true } };
    const refusing = t.client.request('POST', '/cse-in/sleepy', { origin: 'Ccaller', body });
    assert.equal((await answer(t.client, await pollOne(t.client), { rsc: 4103 })).rsc, 2000);
    assert.equal((await refusing).rsc, 4103);
    assert.equal((await t.client.request('POST', '/cse-in/sleepy', { origin: 'Ccaller', body })).rsc, 5103);
    assert.equal((await t.client.request('POST', '/cse-in/sleepy', { origin: 'Ccaller', body, headers: { 'X-M2M-RET': '300' } })).rsc, 4008);
  });

  it('an originator without NOTIFY on the AE gets 4103 and nothing is queued', async () => {
    const refused = await t.client.request('POST', '/cse-in/sleepy', { origin: 'Cnosy', body: { 'm2m:sgn': { sur: '/id-in/x', vrq: true } } });
    assert.equal(refused.rsc, 4103);
    assert.equal(await t.cse.services.store.queueLength('pch:Csleepy'), 0);
  });
});

describe('Blocking_Update for a subscriber reachable only by polling', () => {
  let t: TestCse;
  beforeEach(async () => {
    t = await startTestCse({ 'notifications.pollResponseTimeout': 2 });
    await setUp(t.client);
  });
  afterEach(() => t.close());

  it('the UPDATE waits for the answer through the channel: 2000 updates, a refusal is 4127, none in time 5107', async () => {
    const made = await t.client.create('/cse-in/sleepy', 23, { 'm2m:sub': { rn: 'block', nu: ['Csleepy'], enc: { net: [7], atr: ['lbl'] } } }, 'Csleepy');
    assert.equal(made.rsc, 2001, made.text);
    const updating = t.client.update('/cse-in/sleepy', { 'm2m:ae': { lbl: ['yes'] } }, 'Csleepy');
    const rqp = await pollOne(t.client);
    assert.equal(((((rqp.pc as Attrs)['m2m:sgn'] as Attrs).nev as Attrs).net), 7);
    assert.equal((await answer(t.client, rqp)).rsc, 2000);
    assert.equal((await updating).rsc, 2004);
    const refused = t.client.update('/cse-in/sleepy', { 'm2m:ae': { lbl: ['no'] } }, 'Csleepy');
    assert.equal((await answer(t.client, await pollOne(t.client), { rsc: 4005 })).rsc, 2000);
    assert.equal((await refused).rsc, 4127);
    assert.equal((await t.client.update('/cse-in/sleepy', { 'm2m:ae': { lbl: ['nobody'] } }, 'Csleepy')).rsc, 5107);
    assert.deepEqual(((await t.client.retrieve('/cse-in/sleepy', 'Csleepy')).body?.['m2m:ae'] as Attrs).lbl, ['yes']);
  });
});

describe('polling channel across two processes on one PostgreSQL database', () => {
  let db: TestDatabase | undefined;
  const spawned: ChildProcess[] = [];
  after(async () => {
    for (const child of spawned) await stopWarden(child);
    await db?.drop();
  });

  it('the subscription CREATE waits in one process while the AE polls and answers at the other', async () => {
    db = await createTestDatabase();
    const flags = ['--storage.backend=postgres', `--storage.url=${db.url}`, '--notifications.pollResponseTimeout=10'];
    const [a, b] = await Promise.all([spawnWarden(flags), spawnWarden(flags)]);
    spawned.push(a.child, b.child);
    await setUp(a.client);
    const creating = a.client.create('/cse-in/pub/c', 23, SUB, 'Cpub');
    const rqp = await pollOne(b.client);
    assert.equal(((rqp.pc as Attrs)['m2m:sgn'] as Attrs).vrq, true);
    assert.equal((await answer(b.client, rqp)).rsc, 2000);
    const created = await creating;
    assert.equal(created.rsc, 2001, created.text);
    // A relayed NOTIFY likewise: sent at b, polled and answered at a.
    const notifying = b.client.request('POST', '/cse-in/sleepy', { origin: 'Ccaller', body: { 'm2m:sgn': { sur: '/id-in/x', vrq: true } } });
    const relayed = await pollOne(a.client);
    assert.equal(relayed.fr, 'Ccaller');
    assert.equal((await answer(a.client, relayed)).rsc, 2000);
    assert.equal((await notifying).rsc, 2000);
  });
});
