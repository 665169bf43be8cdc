// Subscriptions and notifications with real HTTP receivers on loopback.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ManualClock, startTestCse, type TestCse } from '../harness.js';
import { Receiver, waitFor } from '../receiver.js';
import { canonicalUrl } from '../../src/notifications/events.js';

type Attrs = Record<string, unknown>;
const sgn = (n: Attrs): Attrs => n['m2m:sgn'] as Attrs;
const nev = (n: Attrs): Attrs => sgn(n).nev as Attrs;

describe('subscriptions and notifications', () => {
  let t: TestCse;
  let ae: string;
  let rx: Receiver;
  let box = 0;
  before(async () => {
    t = await startTestCse({ 'notifications.maxBackoff': 1, 'notifications.maxAttempts': 3, 'notifications.timeout': 2 });
    ae = await t.client.registerAe('watcher');
  });
  after(() => t.close());
  beforeEach(async () => {
    rx = await new Receiver().start();
  });

  async function container(extra: Attrs = {}): Promise<string> {
    box++;
    assert.equal((await t.client.create('/cse-in/watcher', 3, { 'm2m:cnt': { rn: `box${box}`, ...extra } }, ae)).rsc, 2001);
    return `/cse-in/watcher/box${box}`;
  }
  async function subscribe(path: string, attrs: Attrs, origin = ae): Promise<Attrs> {
    const reply = await t.client.create(path, 23, { 'm2m:sub': { nu: [rx.url], ...attrs } }, origin);
    assert.equal(reply.rsc, 2001, reply.text);
    return reply.body?.['m2m:sub'] as Attrs;
  }
  const post = (path: string, con: string) => t.client.create(path, 4, { 'm2m:cin': { con } }, ae);

  it('verifies a target before creating the subscription, and refuses it when the target refuses', async () => {
    const path = await container();
    const sub = await subscribe(path, { rn: 'verified' });
    const vrq = sgn(rx.received[0]?.body ?? {});
    assert.equal(vrq.vrq, true);
    assert.equal(vrq.cr, ae);
    assert.equal(vrq.sur, `/id-in/${String(sub.ri)}`);
    assert.equal(rx.received[0]?.headers['x-m2m-origin'], '/id-in');
    assert.equal(sub.nct, 1, 'notificationContentType defaults to all attributes');
    rx.behaviour = 'refuse';
    const refused = await t.client.create(path, 23, { 'm2m:sub': { rn: 'refused', nu: [rx.url] } }, ae);
    assert.equal(refused.rsc, 5204);
    assert.equal((await t.client.retrieve(`${path}/refused`, ae)).rsc, 4004);
    const unreachable = await t.client.create(path, 23, { 'm2m:sub': { nu: ['http://127.0.0.1:1/nothing'] } }, ae);
    assert.equal(unreachable.rsc, 5204);
    await rx.stop();
  });

  it("sends no verification to a subscriberURI that is the subscriber's own point of access, as to its own AE-ID", async () => {
    const own = await t.client.registerAe('ownPoa');
    assert.equal((await t.client.update('/cse-in/ownPoa', { 'm2m:ae': { poa: [rx.url] } }, own)).rsc, 2004);
    assert.equal((await t.client.create('/cse-in/ownPoa', 3, { 'm2m:cnt': { rn: 'c' } }, own)).rsc, 2001);
    try {
      const reply = await t.client.create('/cse-in/ownPoa/c', 23, { 'm2m:sub': { nu: [own], su: rx.url } }, own);
      assert.equal(reply.rsc, 2001, reply.text);
      assert.equal(rx.received.length, 0, 'nothing was asked of the subscriber itself');
    } finally {
      await rx.stop();
    }
  });

  it('notifies child creation (net 3) with the whole resource, in order', async () => {
    const path = await container();
    await subscribe(path, { enc: { net: [3] } });
    for (const v of ['a', 'b', 'c']) assert.equal((await post(path, v)).rsc, 2001);
    await waitFor(() => rx.notifications().length === 3);
    assert.deepEqual(rx.notifications().map((n) => (((nev(n).rep as Attrs)['m2m:cin'] as Attrs).con)), ['a', 'b', 'c']);
    assert.equal(nev(rx.notifications()[0] as Attrs).net, 3);
    await rx.stop();
  });

  it('notifies updates (net 1) with modified attributes or the resource ID, and honours atr', async () => {
    const path = await container();
    await subscribe(path, { rn: 'modified', enc: { net: [1], atr: ['lbl'] }, nct: 2 });
    assert.equal((await t.client.update(path, { 'm2m:cnt': { mni: 5 } }, ae)).rsc, 2004);
    assert.equal((await t.client.update(path, { 'm2m:cnt': { lbl: ['x'] } }, ae)).rsc, 2004);
    await waitFor(() => rx.notifications().length === 1);
    const rep = nev(rx.notifications()[0] as Attrs).rep as Attrs;
    assert.deepEqual((rep['m2m:cnt'] as Attrs).lbl, ['x']);
    assert.equal((rep['m2m:cnt'] as Attrs).mni, undefined, 'only what changed');
    const rx2 = await new Receiver().start();
    const byId = await t.client.create(path, 23, { 'm2m:sub': { nu: [rx2.url], nct: 3 } }, ae);
    assert.equal(byId.rsc, 2001);
    await t.client.update(path, { 'm2m:cnt': { lbl: ['y'] } }, ae);
    await waitFor(() => rx2.notifications().length === 1);
    const cntRi = String(((await t.client.retrieve(path, ae)).body?.['m2m:cnt'] as Attrs).ri);
    assert.deepEqual(nev(rx2.notifications()[0] as Attrs).rep, { 'm2m:uri': cntRi });
    await rx.stop();
    await rx2.stop();
  });

  it('notifies deletion of a child (net 4) and of the resource (net 2), then tells the subscriber (sud)', async () => {
    const path = await container();
    const subscriber = await new Receiver().start();
    await subscribe(path, { enc: { net: [2, 4], chty: [4] }, su: subscriber.url });
    const cin = (await post(path, 'gone')).body?.['m2m:cin'] as Attrs;
    assert.equal((await t.client.delete(`/${String(cin.ri)}`, ae)).rsc, 2002);
    await waitFor(() => rx.notifications().length === 1);
    assert.equal(nev(rx.notifications()[0] as Attrs).net, 4);
    assert.equal((await t.client.delete(path, ae)).rsc, 2002);
    await waitFor(() => rx.notifications().length === 2 && subscriber.notifications().length === 1);
    assert.equal(nev(rx.notifications()[1] as Attrs).net, 2);
    assert.equal(sgn(subscriber.notifications()[0] ?? {}).sud, true);
    await rx.stop();
    await subscriber.stop();
  });

  it('has the deletion notification (sud) answered by subscriberURI before the DELETE of the subscription is answered', async () => {
    const path = await container();
    const subscriber = await new Receiver().start();
    for (const [i, withCreator] of [false, true, false].entries()) {
      const made = await subscribe(path, { rn: `ending${i}`, su: subscriber.url, ...(withCreator ? { cr: null } : {}) });
      assert.equal((await t.client.delete(`/${String(made.ri)}`, ae)).rsc, 2002);
      // No wait: a subscriber that reads the DELETE's answer finds the notification already there.
      const last = subscriber.notifications().at(-1) ?? {};
      assert.equal(sgn(last).sud, true, `deletion ${i}: ${JSON.stringify(subscriber.notifications())}`);
      assert.equal(sgn(last).cr !== undefined, withCreator);
      assert.equal(subscriber.notifications().length, i + 1);
    }
    // A subscriberURI that does not answer delays its DELETE by a bounded wait, never blocks it.
    const made = await subscribe(path, { rn: 'endingHung', su: subscriber.url });
    subscriber.behaviour = 'hang';
    assert.equal((await t.client.delete(`/${String(made.ri)}`, ae)).rsc, 2002);
    await rx.stop();
    await subscriber.stop();
  });

  it('has the deletion notifications (sud) of the subscriptions a subtree DELETE ends answered before that DELETE is answered', async () => {
    const path = await container();
    assert.equal((await t.client.create(path, 3, { 'm2m:cnt': { rn: 'inner' } }, ae)).rsc, 2001);
    const subscriber = await new Receiver().start();
    try {
      // Two on the container, one on a container below it, one whose su is an AE-ID (its notification may wait in a
      // polling channel: nothing to wait for).
      const ended = [await subscribe(path, { rn: 'above1', su: subscriber.url }), await subscribe(path, { rn: 'above2', su: subscriber.url, cr: null }), await subscribe(`${path}/inner`, { rn: 'below', su: subscriber.url })];
      await subscribe(path, { rn: 'toAe', su: ae });
      assert.equal((await t.client.delete(path, ae)).rsc, 2002);
      // No wait: a subscriber that reads the DELETE's answer (the suite's test_removeCNT) finds every one there.
      const surs = subscriber.notifications().filter((n) => sgn(n).sud === true).map((n) => String(sgn(n).sur));
      assert.deepEqual(surs.sort(), ended.map((sub) => `/id-in/${String(sub.ri)}`).sort(), JSON.stringify(subscriber.notifications()));
      // Subscribers that do not answer delay the subtree DELETE by one bounded wait, never block it.
      const hung = await container();
      for (const rn of ['hung1', 'hung2', 'hung3']) await subscribe(hung, { rn, su: subscriber.url });
      subscriber.behaviour = 'hang';
      assert.equal((await t.client.delete(hung, ae)).rsc, 2002);
    } finally {
      await rx.stop();
      await subscriber.stop();
    }
  });

  it('batches notifications (bn) and sends only the latest (ln)', async () => {
    const path = await container();
    await subscribe(path, { enc: { net: [3] }, bn: { num: 3, dur: 500 } });
    for (const v of ['1', '2', '3', '4']) await post(path, v);
    await waitFor(() => rx.notifications().length >= 1);
    const agn = rx.notifications()[0]?.['m2m:agn'] as Attrs;
    assert.equal((agn['m2m:sgn'] as Attrs[]).length, 3);
    const rx2 = await new Receiver().start();
    await t.client.create(path, 23, { 'm2m:sub': { nu: [rx2.url], enc: { net: [3] }, bn: { num: 3, dur: 300 }, ln: true } }, ae);
    for (const v of ['5', '6', '7']) await post(path, v);
    await waitFor(() => rx2.notifications().length === 1);
    // latestNotify keeps the batch's form, an aggregate, with only its latest notification in it (as ACME sends it).
    const latest = ((rx2.notifications()[0] as Attrs)['m2m:agn'] as Attrs)['m2m:sgn'] as Attrs[];
    assert.equal(latest.length, 1);
    assert.equal(((nev({ 'm2m:sgn': latest[0] }).rep as Attrs)['m2m:cin'] as Attrs).con, '7');
    assert.equal(rx2.received.at(-1)?.headers['x-m2m-ec'], '4');
    await waitFor(() => rx.notifications().length >= 2, 3000);
    assert.equal(((rx.notifications()[1]?.['m2m:agn'] as Attrs)['m2m:sgn'] as Attrs[]).length >= 1, true, 'the remaining batch goes after its duration');
    await rx.stop();
    await rx2.stop();
  });

  it('expirationCounter ends the subscription after that many notifications', async () => {
    const path = await container();
    const subscriber = await new Receiver().start();
    const sub = await subscribe(path, { enc: { net: [3] }, exc: 2, su: subscriber.url });
    for (const v of ['1', '2', '3']) await post(path, v);
    await waitFor(() => subscriber.notifications().length === 1);
    assert.equal((await t.client.retrieve(`/${String(sub.ri)}`, ae)).rsc, 4004);
    assert.equal(rx.notifications().length, 2);
    await rx.stop();
    await subscriber.stop();
  });

  it('keeps notification statistics per target when asked (nse)', async () => {
    const path = await container();
    const sub = await subscribe(path, { enc: { net: [3] }, nse: true });
    for (const v of ['1', '2']) await post(path, v);
    await waitFor(() => rx.notifications().length === 2);
    await waitFor(async () => {
      const nsi = ((await t.client.retrieve(`/${String(sub.ri)}`, ae)).body?.['m2m:sub'] as Attrs).nsi as Attrs[];
      return nsi?.[0]?.rsr === 2;
    });
    const nsi = ((await t.client.retrieve(`/${String(sub.ri)}`, ae)).body?.['m2m:sub'] as Attrs).nsi as Attrs[];
    assert.deepEqual(nsi, [{ tg: rx.url, rqs: 2, rsr: 2, noec: 2 }]);
    // Switched off, the statistics stay readable; removing nse removes them (Release 4, as ACME reads it).
    assert.equal((await t.client.update(`/${String(sub.ri)}`, { 'm2m:sub': { nse: false } }, ae)).rsc, 2004);
    assert.deepEqual(((await t.client.retrieve(`/${String(sub.ri)}`, ae)).body?.['m2m:sub'] as Attrs).nsi, nsi);
    assert.equal((await t.client.update(`/${String(sub.ri)}`, { 'm2m:sub': { nse: null } }, ae)).rsc, 2004);
    assert.equal(((await t.client.retrieve(`/${String(sub.ri)}`, ae)).body?.['m2m:sub'] as Attrs).nsi, undefined);
    await rx.stop();
  });

  it('needs RETRIEVE on the subscribed resource (4103); a contentInstance cannot be subscribed to (5203)', async () => {
    const path = await container();
    const stranger = await t.client.registerAe('stranger');
    const denied = await t.client.create(path, 23, { 'm2m:sub': { nu: [rx.url] } }, stranger);
    assert.equal(denied.rsc, 4103);
    const cin = (await post(path, 'x')).body?.['m2m:cin'] as Attrs;
    assert.equal((await t.client.create(`/${String(cin.ri)}`, 23, { 'm2m:sub': { nu: [rx.url] } }, ae)).rsc, 5203);
    await rx.stop();
  });

  it('refuses invalid targets and criteria with 4000', async () => {
    const path = await container();
    const cases: Attrs[] = [
      { nu: ['ftp://example.com/x'] },
      { nu: [] },
      { nu: ['not a uri'] },
      { nu: [rx.url], enc: { net: [9] } },
      { nu: [rx.url], enc: { bogus: 1 } },
      { nu: [rx.url], enc: { net: [1], om: [{ ops: 1 }] } },
      { nu: [rx.url], bn: { num: 0 } },
      { nu: [rx.url], bn: { num: 100000000 } },
      { nu: [rx.url], nct: 2, enc: { net: [3] } },
      { nu: [rx.url], exc: 0 },
    ];
    for (const attrs of cases) assert.equal((await t.client.create(path, 23, { 'm2m:sub': attrs }, ae)).rsc, 4000, JSON.stringify(attrs));
    await rx.stop();
  });

  it('a receiver that is down and comes back gets every notification, in order', async () => {
    const path = await container();
    await subscribe(path, { enc: { net: [3] } });
    const port = rx.port;
    await rx.stop();
    for (const v of ['1', '2', '3', '4', '5']) assert.equal((await post(path, v)).rsc, 2001);
    await new Promise((r) => setTimeout(r, 300));
    rx = await new Receiver().start(port);
    await waitFor(() => rx.notifications().length === 5, 10_000);
    assert.deepEqual(rx.notifications().map((n) => ((nev(n).rep as Attrs)['m2m:cin'] as Attrs).con), ['1', '2', '3', '4', '5']);
    await rx.stop();
  });

  it('a receiver that answers garbage is retried, then given up; nothing else is affected', async () => {
    const path = await container();
    await subscribe(path, { enc: { net: [3] } });
    rx.behaviour = 'garbage';
    await post(path, 'x');
    await waitFor(() => rx.received.length >= 4, 10_000); // verification + 3 attempts
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(rx.received.length, 4, 'no more attempts after maxAttempts');
    assert.equal((await post(path, 'y')).rsc, 2001);
    await rx.stop();
  });
});

describe('a permanently dead receiver', () => {
  it('does not slow ingest, and its queue stays bounded', async () => {
    const t = await startTestCse({ 'notifications.maxQueue': 5, 'notifications.timeout': 1 });
    try {
      const ae = await t.client.registerAe('dead');
      const rx = await new Receiver().start();
      await t.client.create('/cse-in/dead', 3, { 'm2m:cnt': { rn: 'c' } }, ae);
      assert.equal((await t.client.create('/cse-in/dead/c', 23, { 'm2m:sub': { nu: [rx.url], enc: { net: [3] } } }, ae)).rsc, 2001);
      rx.behaviour = 'hang';
      // Every write is acknowledged while the receiver hangs: none waits for its notification.
      for (let i = 0; i < 40; i++) assert.equal((await t.client.create('/cse-in/dead/c', 4, { 'm2m:cin': { con: `v${i}` } }, ae)).rsc, 2001);
      await waitFor(async () => (await t.cse.services.store.queueLength(rx.url)) <= 5, 10_000);
      await rx.stop();
    } finally {
      await t.close();
    }
  });
});

describe('a batching subscription deleted before its events were fanned out', () => {
  it('still sends them in its last batch, once, and the subscription that stays gets its own', async () => {
    // Deliveries held: the events wait in the fan-out queue while the subscription is deleted.
    const t = await startTestCse({}, { holdDeliveries: true });
    const rx = await new Receiver().start();
    const stays = await new Receiver().start();
    try {
      const ae = await t.client.registerAe('batcher');
      assert.equal((await t.client.create('/cse-in/batcher', 3, { 'm2m:cnt': { rn: 'c' } }, ae)).rsc, 2001);
      const made = await t.client.create('/cse-in/batcher/c', 23, { 'm2m:sub': { rn: 'goes', nu: [rx.url], enc: { net: [1] }, bn: { num: 5, dur: 'PT60S' } } }, ae);
      assert.equal(made.rsc, 2001, made.text);
      const ri = String((made.body?.['m2m:sub'] as Attrs).ri);
      const other = await t.client.create('/cse-in/batcher/c', 23, { 'm2m:sub': { rn: 'stays', nu: [stays.url], enc: { net: [1] }, bn: { num: 2, dur: 'PT60S' } } }, ae);
      assert.equal(other.rsc, 2001, other.text);
      for (const lbl of ['98', '99']) assert.equal((await t.client.update('/cse-in/batcher/c', { 'm2m:cnt': { lbl: [lbl] } }, ae)).rsc, 2004);
      const store = t.cse.services.store;
      assert.equal(await store.countQueuedByPrefix('fanout:', 10), 2, 'the events wait for their fan-out');
      assert.equal((await t.client.delete('/cse-in/batcher/c/goes', ae)).rsc, 2002);
      t.cse.deliverer.start();
      await waitFor(() => rx.notifications().length === 1 && stays.notifications().length === 1);
      for (const received of [rx, stays]) {
        const batch = ((received.notifications()[0] as Attrs)['m2m:agn'] as Attrs)['m2m:sgn'] as Attrs[];
        assert.deepEqual(batch.map((n) => (((n.nev as Attrs).rep as Attrs)['m2m:cnt'] as Attrs).lbl), [['98'], ['99']]);
      }
      assert.equal(((((rx.notifications()[0] as Attrs)['m2m:agn'] as Attrs)['m2m:sgn'] as Attrs[])[0] as Attrs).sur, `/id-in/${ri}`);
      await waitFor(async () => (await store.countQueuedByPrefix('fanout:', 10)) === 0 && (await store.queueLength(canonicalUrl(rx.url))) === 0);
      assert.equal(rx.notifications().length, 1, 'the events went once');
    } finally {
      await rx.stop();
      await stays.stop();
      await t.close();
    }
  });

  it('keeps their order when the subscription goes with the resource it watched, the deletion last', async () => {
    const t = await startTestCse({}, { holdDeliveries: true });
    const rx = await new Receiver().start();
    try {
      const ae = await t.client.registerAe('batcher');
      assert.equal((await t.client.create('/cse-in/batcher', 3, { 'm2m:cnt': { rn: 'c' } }, ae)).rsc, 2001);
      const made = await t.client.create('/cse-in/batcher/c', 23, { 'm2m:sub': { nu: [rx.url], enc: { net: [1, 2] }, bn: { num: 5, dur: 'PT60S' } } }, ae);
      assert.equal(made.rsc, 2001, made.text);
      assert.equal((await t.client.update('/cse-in/batcher/c', { 'm2m:cnt': { lbl: ['last words'] } }, ae)).rsc, 2004);
      assert.equal((await t.client.delete('/cse-in/batcher/c', ae)).rsc, 2002);
      t.cse.deliverer.start();
      await waitFor(() => rx.notifications().length === 1);
      const batch = ((rx.notifications()[0] as Attrs)['m2m:agn'] as Attrs)['m2m:sgn'] as Attrs[];
      assert.deepEqual(batch.map((n) => (n.nev as Attrs).net), [1, 2]);
    } finally {
      await rx.stop();
      await t.close();
    }
  });
});

describe('a batch that gathers for long', () => {
  it('is looked at again less often as it ages (a twentieth of its age, at most 5 s), not every 50 ms', async () => {
    const clock = new ManualClock();
    const t = await startTestCse({}, { clock });
    const rx = await new Receiver().start();
    try {
      const ae = await t.client.registerAe('gatherer');
      assert.equal((await t.client.create('/cse-in/gatherer', 3, { 'm2m:cnt': { rn: 'box' } }, ae)).rsc, 2001);
      const sub = await t.client.create('/cse-in/gatherer/box', 23, { 'm2m:sub': { rn: 'daily', nu: [rx.url], enc: { net: [3] }, bn: { num: 1000, dur: 'PT24H' } } }, ae);
      assert.equal(sub.rsc, 2001, sub.text);
      for (let i = 0; i < 3; i++) assert.equal((await t.client.create('/cse-in/gatherer/box', 4, { 'm2m:cin': { con: String(i) } }, ae)).rsc, 2001);
      const head = async (): Promise<number> => ((await t.cse.services.store.queued(canonicalUrl(rx.url), undefined, 1))[0]?.notBefore ?? 0) - clock.now();
      // An hour into the day: the next look is 5 s away (a twentieth of an hour, capped), and nothing was sent.
      clock.advance(3_600_000);
      t.cse.deliverer.wake();
      await waitFor(async () => (await head()) >= 5_000, 5_000);
      assert.equal(rx.received.filter((r) => r.body['m2m:agn'] !== undefined).length, 0);
      assert.equal(await t.cse.services.store.queueLength(canonicalUrl(rx.url)), 3);
    } finally {
      await rx.stop();
      await t.close();
    }
  });
});

describe('polling channel', () => {
  it('hands notifications for an unreachable AE out on RETRIEVE of pcu, and times out with 4008', async () => {
    const t = await startTestCse();
    try {
      const owner = await t.client.registerAe('sleepy', { rr: false });
      const other = await t.client.registerAe('nosy');
      assert.equal((await t.client.create('/cse-in/sleepy', 15, { 'm2m:pch': { rn: 'pch' } }, other)).rsc, 4103);
      assert.equal((await t.client.create('/cse-in/sleepy', 15, { 'm2m:pch': { rn: 'pch' } }, owner)).rsc, 2001);
      await t.client.create('/cse-in/sleepy', 3, { 'm2m:cnt': { rn: 'c' } }, owner);
      assert.equal((await t.client.create('/cse-in/sleepy/c', 23, { 'm2m:sub': { nu: [owner], enc: { net: [3] } } }, owner)).rsc, 2001);
      const empty = await t.client.retrieve('/cse-in/sleepy/pch/pcu', owner, { headers: { 'X-M2M-RET': '300' } });
      assert.equal(empty.rsc, 4008);
      const waiting = t.client.retrieve('/cse-in/sleepy/pch/pcu', owner, { headers: { 'X-M2M-RET': '5000' } });
      await new Promise((r) => setTimeout(r, 100));
      await t.client.create('/cse-in/sleepy/c', 4, { 'm2m:cin': { con: 'wake up' } }, owner);
      const polled = await waiting;
      assert.equal(polled.rsc, 2000, polled.text);
      const rqp = polled.body?.['m2m:rqp'] as Attrs;
      assert.equal(rqp.op, 5);
      assert.equal(((((rqp.pc as Attrs)['m2m:sgn'] as Attrs).nev as Attrs).rep as Attrs)['m2m:cin'] && 'ok', 'ok');
      assert.equal((await t.client.retrieve('/cse-in/sleepy/pch/pcu', other)).rsc, 4103);
      assert.equal((await t.client.create('/cse-in/sleepy/pch/pcu', 4, { 'm2m:cin': { con: 'x' } }, owner)).rsc, 4005);
      const answer = await t.client.request('POST', '/cse-in/sleepy/pch/pcu', { origin: owner, body: { 'm2m:rsp': { rsc: 2000, rqi: String(rqp.rqi) } } });
      assert.equal(answer.rsc, 2000);
      // Another AE cannot aim a subscription at this AE's polling channel unless the AE's policies grant it NOTIFY
      // (this AE has none): the verification request is not even queued (pollingChannel.test.ts has the rest).
      await t.client.create('/cse-in/nosy', 3, { 'm2m:cnt': { rn: 'bait' } }, other);
      const pushed = await t.client.create('/cse-in/nosy/bait', 23, { 'm2m:sub': { nu: [owner], enc: { net: [3] } } }, other);
      assert.equal(pushed.rsc, 5204);
      assert.equal(await t.cse.services.store.queueLength('pch:Csleepy'), 0);
    } finally {
      await t.close();
    }
  });
});

describe('a notification target registered again while its consent was asked', () => {
  it('is not bound to the new holder of its AE-ID: 5204, and the new holder is never notified', async () => {
    const t = await startTestCse({});
    const asked = await new Receiver().start();
    const next = await new Receiver().start();
    try {
      const subscriber = await t.client.registerAe('watcher');
      assert.equal((await t.client.create('/cse-in/watcher', 3, { 'm2m:cnt': { rn: 'data' } }, subscriber)).rsc, 2001);
      const target = await t.client.registerAe('target', { rr: true, poa: [asked.url] });
      // The registration asked holds its answer; meanwhile it leaves and someone else registers its AE-ID.
      asked.behaviour = 'hold';
      const creating = t.client.create('/cse-in/watcher/data', 23, { 'm2m:sub': { rn: 'toTarget', nu: [target], enc: { net: [3] } } }, subscriber);
      await waitFor(() => asked.holding === 1);
      assert.equal((await t.client.delete('/cse-in/target', target)).rsc, 2002);
      const again = await t.client.create('/cse-in', 2, { 'm2m:ae': { rn: 'impostor', api: 'Nother', rr: true, srv: ['3'], poa: [next.url] } }, target);
      assert.equal(again.rsc, 2001, again.text);
      asked.release();
      const sub = await creating;
      assert.equal(sub.rsc, 5204, sub.text);
      assert.equal((await t.client.create('/cse-in/watcher/data', 4, { 'm2m:cin': { con: 'secret reading' } }, subscriber)).rsc, 2001);
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(next.notifications(), [], 'the new holder hears nothing');
      // Asked now, the new holder can consent for itself.
      const direct = await t.client.create('/cse-in/watcher/data', 23, { 'm2m:sub': { rn: 'toTarget', nu: [target], enc: { net: [3] } } }, subscriber);
      assert.equal(direct.rsc, 2001, direct.text);

      // The same through a group: the fan-out asks once for its members, and each member's subscription is bound
      // to the registration it asked.
      assert.equal((await t.client.create('/cse-in/watcher', 3, { 'm2m:cnt': { rn: 'more' } }, subscriber)).rsc, 2001);
      assert.equal((await t.client.create('/cse-in/watcher', 9, { 'm2m:grp': { rn: 'both', mid: ['cse-in/watcher/more'], mnm: 5 } }, subscriber)).rsc, 2001);
      const third = await new Receiver().start();
      try {
        next.behaviour = 'hold';
        const fanning = t.client.create('/cse-in/watcher/both/fopt', 23, { 'm2m:sub': { rn: 'viaGroup', nu: [target], enc: { net: [3] } } }, subscriber);
        await waitFor(() => next.holding === 1);
        assert.equal((await t.client.delete('/cse-in/impostor', target)).rsc, 2002);
        assert.equal((await t.client.create('/cse-in', 2, { 'm2m:ae': { rn: 'third', api: 'Nthird', rr: true, srv: ['3'], poa: [third.url] } }, target)).rsc, 2001);
        next.release();
        const fanned = await fanning;
        const member = ((fanned.body?.['m2m:agr'] as Record<string, unknown> | undefined)?.['m2m:rsp'] as Array<Record<string, unknown>> | undefined)?.[0];
        assert.equal(member?.rsc, 5204, fanned.text);
        assert.equal((await t.client.retrieve('/cse-in/watcher/more/viaGroup', subscriber)).rsc, 4004);
      } finally {
        await third.stop();
      }
    } finally {
      await asked.stop();
      await next.stop();
      await t.close();
    }
  });
});

describe('a subscription whose expirationCounter reached zero but was not deleted', () => {
  it('is deleted at its next notification, which is not sent', async () => {
    const t = await startTestCse({});
    const rx = await new Receiver().start();
    try {
      const ae = await t.client.registerAe('counter');
      assert.equal((await t.client.create('/cse-in/counter', 3, { 'm2m:cnt': { rn: 'c' } }, ae)).rsc, 2001);
      const made = await t.client.create('/cse-in/counter/c', 23, { 'm2m:sub': { rn: 's', nu: [rx.url], exc: 2, enc: { net: [3] } } }, ae);
      assert.equal(made.rsc, 2001, made.text);
      // As a failure (or a restart) between the last count and the deletion leaves it.
      const store = t.cse.services.store;
      await store.transaction(async (tx) => {
        const sub = await tx.getForUpdate((made.body?.['m2m:sub'] as Record<string, unknown>).ri as string);
        assert.ok(sub);
        sub.doc.exc = 0;
        await tx.update(sub);
      });
      assert.equal((await t.client.create('/cse-in/counter/c', 4, { 'm2m:cin': { con: 'late' } }, ae)).rsc, 2001);
      await waitFor(async () => (await t.client.retrieve('/cse-in/counter/c/s', ae)).rsc === 4004, 5000);
      assert.equal(rx.notifications().filter((n) => (n['m2m:sgn'] as Record<string, unknown> | undefined)?.nev !== undefined).length, 0);
    } finally {
      await rx.stop();
      await t.close();
    }
  });
});
