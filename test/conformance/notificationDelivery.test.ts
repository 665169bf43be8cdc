// Notification delivery under hostile or broken receivers (issue #20): targets never wait for each other,
// slow targets are backed off, su/nfu are verified like nu, and a resource's subscriptions are bounded.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManualClock, spawnWarden, startTestCse, stopWarden, tempDatabase } from '../harness.js';
import { Receiver, waitFor } from '../receiver.js';
import { createTestDatabase } from '../postgres.js';

type Attrs = Record<string, unknown>;
const con = (n: Attrs): unknown => ((((n['m2m:sgn'] as Attrs).nev as Attrs).rep as Attrs)['m2m:cin'] as Attrs).con;

/** Real-time waits in the back-off test: generous, so that a loaded machine delays the test but never fails it. */
const LOADED_MACHINE_WAIT_MS = 30_000;

describe('notification targets do not wait for each other', () => {
  for (const backend of ['sqlite', 'postgres'] as const) {
    it(`delivers a fast target's notifications while another target holds its request open (${backend})`, async () => {
      // The stalled receiver's request would only end at the timeout, far beyond the test's waits.
      const db = backend === 'postgres' ? await createTestDatabase() : undefined;
      const t = await startTestCse({ 'notifications.timeout': 120, ...(db ? { 'storage.backend': 'postgres', 'storage.url': db.url } : {}) });
      const stalled = await new Receiver().start();
      const fast = await new Receiver().start();
      try {
        const ae = await t.client.registerAe('fanout');
        assert.equal((await t.client.create('/cse-in/fanout', 3, { 'm2m:cnt': { rn: 'c' } }, ae)).rsc, 2001);
        for (const rx of [stalled, fast]) {
          assert.equal((await t.client.create('/cse-in/fanout/c', 23, { 'm2m:sub': { nu: [rx.url], enc: { net: [3] } } }, ae)).rsc, 2001);
        }
        stalled.behaviour = 'hold';
        const post = (v: string) => t.client.create('/cse-in/fanout/c', 4, { 'm2m:cin': { con: v } }, ae);
        assert.equal((await post('e1')).rsc, 2001);
        await waitFor(() => stalled.holding === 1 && fast.notifications().length === 1);
        for (const v of ['e2', 'e3']) assert.equal((await post(v)).rsc, 2001);
        // The stalled receiver still holds e1: the fast one gets everything meanwhile.
        await waitFor(() => fast.notifications().length === 3);
        assert.equal(stalled.holding, 1);
        assert.equal(stalled.notifications().length, 1, 'one message in flight per target');
        assert.deepEqual(fast.notifications().map(con), ['e1', 'e2', 'e3']);
        stalled.release();
        await waitFor(() => stalled.notifications().length === 3);
        assert.deepEqual(stalled.notifications().map(con), ['e1', 'e2', 'e3'], 'order per target holds');
      } finally {
        stalled.release();
        await t.close();
        await stalled.stop();
        await fast.stop();
        await db?.drop();
      }
    });
  }

  it('spends expirationCounter exactly while several targets of one subscription are served at once', async () => {
    const t = await startTestCse();
    const targets = [await new Receiver().start(), await new Receiver().start(), await new Receiver().start()];
    const subscriber = await new Receiver().start();
    try {
      const ae = await t.client.registerAe('counter');
      assert.equal((await t.client.create('/cse-in/counter', 3, { 'm2m:cnt': { rn: 'c' } }, ae)).rsc, 2001);
      const sub = { nu: targets.map((rx) => rx.url), su: subscriber.url, exc: 2, enc: { net: [3] } };
      assert.equal((await t.client.create('/cse-in/counter/c', 23, { 'm2m:sub': sub }, ae)).rsc, 2001);
      assert.equal((await t.client.create('/cse-in/counter/c', 4, { 'm2m:cin': { con: 'once' } }, ae)).rsc, 2001);
      await waitFor(() => subscriber.notifications().length === 1);
      assert.equal(targets.reduce((n, rx) => n + rx.notifications().length, 0), 2);
    } finally {
      await t.close();
      for (const rx of [...targets, subscriber]) await rx.stop();
    }
  });

  it('keeps slots for healthy targets however many targets fail', async () => {
    // Two slots, two receivers that never answer (each try ends at the 1 s timeout), one that does.
    const clock = new ManualClock();
    const t = await startTestCse({ 'notifications.timeout': 1, 'notifications.concurrency': 2 }, { clock });
    const dead = [await new Receiver().start(), await new Receiver().start()];
    const fast = await new Receiver().start();
    try {
      const ae = await t.client.registerAe('crowded');
      assert.equal((await t.client.create('/cse-in/crowded', 3, { 'm2m:cnt': { rn: 'c' } }, ae)).rsc, 2001);
      for (const rx of [...dead, fast]) {
        assert.equal((await t.client.create('/cse-in/crowded/c', 23, { 'm2m:sub': { nu: [rx.url], enc: { net: [3] } } }, ae)).rsc, 2001);
      }
      const post = (v: string) => t.client.create('/cse-in/crowded/c', 4, { 'm2m:cin': { con: v } }, ae);
      // All three answer once, and so are in good standing; then two stop answering. New targets share the slots for
      // targets not (yet) in good standing, one here: the others are handed back a while, which the clock must pass.
      assert.equal((await post('e0')).rsc, 2001);
      await waitFor(() => {
        clock.advance(1_000);
        t.cse.deliverer.wake();
        return [...dead, fast].every((rx) => rx.notifications().length === 1);
      });
      await waitFor(() => !t.cse.deliverer.sending);
      for (const rx of dead) rx.behaviour = 'hold';
      assert.equal((await post('e1')).rsc, 2001);
      // Both dead targets failed once (their heads wait for a back-off that CSE time, standing still, never ends).
      const failedOnce = async (url: string) => (await t.cse.services.store.queued(url, undefined, 1))[0]?.attempts === 1;
      await waitFor(async () => fast.notifications().length === 2 && (await failedOnce(dead[0]?.url ?? '')) && (await failedOnce(dead[1]?.url ?? '')));
      // Nothing on its way when the clock moves: what follows is about e2 alone.
      await waitFor(() => !t.cse.deliverer.sending);
      clock.advance(10_000);
      assert.equal((await post('e2')).rsc, 2001);
      await waitFor(() => fast.notifications().length === 3, 10_000);
      // Only one of the failing targets was tried again before the healthy one got e2 (the other slot was kept).
      const retries = dead.reduce((n, rx) => n + rx.notifications().length, 0) - 4;
      assert.equal(retries, 1, 'failing targets took one slot, not both');
    } finally {
      for (const rx of dead) rx.release();
      await t.close();
      for (const rx of [...dead, fast]) await rx.stop();
    }
  });

  it('keeps them from new targets too: a target never heard from has to earn good standing', async () => {
    // Two slots; a healthy target that has answered; then two new targets that never answer, notified first.
    const clock = new ManualClock();
    const t = await startTestCse({ 'notifications.timeout': 1, 'notifications.concurrency': 2 }, { clock });
    const fast = await new Receiver().start();
    const fresh = [await new Receiver().start(), await new Receiver().start()];
    try {
      const ae = await t.client.registerAe('newcomers');
      for (const rn of ['known', 'newish']) assert.equal((await t.client.create('/cse-in/newcomers', 3, { 'm2m:cnt': { rn } }, ae)).rsc, 2001);
      assert.equal((await t.client.create('/cse-in/newcomers/known', 23, { 'm2m:sub': { nu: [fast.url], enc: { net: [3] } } }, ae)).rsc, 2001);
      assert.equal((await t.client.create('/cse-in/newcomers/known', 4, { 'm2m:cin': { con: 'e1' } }, ae)).rsc, 2001);
      await waitFor(() => fast.notifications().length === 1);
      for (const rx of fresh) assert.equal((await t.client.create('/cse-in/newcomers/newish', 23, { 'm2m:sub': { nu: [rx.url], enc: { net: [3] } } }, ae)).rsc, 2001);
      for (const rx of fresh) rx.behaviour = 'hold';
      await waitFor(() => !t.cse.deliverer.sending);
      assert.equal((await t.client.create('/cse-in/newcomers/newish', 4, { 'm2m:cin': { con: 'flood' } }, ae)).rsc, 2001);
      assert.equal((await t.client.create('/cse-in/newcomers/known', 4, { 'm2m:cin': { con: 'e2' } }, ae)).rsc, 2001);
      await waitFor(() => fast.notifications().length === 2, 10_000);
      const tried = fresh.reduce((n, rx) => n + rx.notifications().length, 0);
      assert.equal(tried, 1, 'the new targets took one slot, not both, before the healthy one was served');
    } finally {
      for (const rx of fresh) rx.release();
      await t.close();
      for (const rx of [...fresh, fast]) await rx.stop();
    }
  });

  it('keeps them however many new targets hang: heads handed back do not hide the heads behind them', async () => {
    // Two slots, one of them for targets in good standing. Twenty new targets of another AE that hold every
    // notification open (until a timeout far beyond the test): one takes the other slot, the rest are handed back
    // round after round and, taken oldest first, came before any newer head for as long as they hung.
    const t = await startTestCse({ 'notifications.timeout': 120, 'notifications.concurrency': 2 });
    const fast = await new Receiver().start();
    const hanging = await new Receiver().start();
    try {
      const victim = await t.client.registerAe('steady');
      assert.equal((await t.client.create('/cse-in/steady', 3, { 'm2m:cnt': { rn: 'c' } }, victim)).rsc, 2001);
      assert.equal((await t.client.create('/cse-in/steady/c', 23, { 'm2m:sub': { nu: [fast.url], enc: { net: [3] } } }, victim)).rsc, 2001);
      assert.equal((await t.client.create('/cse-in/steady/c', 4, { 'm2m:cin': { con: 'e1' } }, victim)).rsc, 2001);
      await waitFor(() => fast.notifications().length === 1);
      const flooder = await t.client.registerAe('flooder');
      assert.equal((await t.client.create('/cse-in/flooder', 3, { 'm2m:cnt': { rn: 'c' } }, flooder)).rsc, 2001);
      for (let i = 0; i < 20; i++) {
        assert.equal((await t.client.create('/cse-in/flooder/c', 23, { 'm2m:sub': { nu: [`${hanging.url}/t${i}`], enc: { net: [3] } } }, flooder)).rsc, 2001);
      }
      hanging.behaviour = 'hold';
      assert.equal((await t.client.create('/cse-in/flooder/c', 4, { 'm2m:cin': { con: 'flood' } }, flooder)).rsc, 2001);
      await waitFor(() => hanging.holding === 1);
      // Every flood head has been handed back at least once before e2 is queued: they are all older than it.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      assert.equal((await t.client.create('/cse-in/steady/c', 4, { 'm2m:cin': { con: 'e2' } }, victim)).rsc, 2001);
      await waitFor(() => fast.notifications().length === 2, 15_000);
      assert.equal(hanging.holding, 1, 'the hanging targets kept to their one slot');
    } finally {
      hanging.release();
      await t.close();
      await fast.stop();
      await hanging.stop();
    }
  });

  it('backs a slow target off like a failing one, without holding up the others', async () => {
    const clock = new ManualClock();
    const t = await startTestCse({ 'notifications.timeout': 120, 'notifications.slowAfter': 1 }, { clock });
    const slow = await new Receiver().start();
    const fast = await new Receiver().start();
    try {
      const ae = await t.client.registerAe('slowpoke');
      assert.equal((await t.client.create('/cse-in/slowpoke', 3, { 'm2m:cnt': { rn: 'c' } }, ae)).rsc, 2001);
      const subs: string[] = [];
      for (const rx of [slow, fast]) {
        const reply = await t.client.create('/cse-in/slowpoke/c', 23, { 'm2m:sub': { nu: [rx.url], enc: { net: [3] }, nse: true } }, ae);
        assert.equal(reply.rsc, 2001);
        subs.push(`/cse-in/slowpoke/c/${String((reply.body?.['m2m:sub'] as Attrs).rn)}`);
      }
      const answered = async (path: string): Promise<number> => {
        const nsi = ((await t.client.retrieve(path, ae)).body?.['m2m:sub'] as Attrs).nsi as Array<{ rsr: number }>;
        return nsi[0]?.rsr ?? 0;
      };
      slow.behaviour = 'hold';
      const post = (v: string) => t.client.create('/cse-in/slowpoke/c', 4, { 'm2m:cin': { con: v } }, ae);
      assert.equal((await post('e1')).rsc, 2001);
      assert.equal((await post('e2')).rsc, 2001);
      await waitFor(() => slow.holding === 1, LOADED_MACHINE_WAIT_MS);
      await waitFor(async () => (await answered(subs[1] as string)) === 2, LOADED_MACHINE_WAIT_MS);
      // The answer comes more than notifications.slowAfter (1 s) after the request, in real time: an answer's time
      // is measured on a monotonic clock, whatever the CSE's clock does meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 1_300));
      slow.release();
      await waitFor(async () => (await answered(subs[0] as string)) === 1, LOADED_MACHINE_WAIT_MS);
      // e1 was delivered; the rest of the slow target's queue now waits for its back-off (CSE time stands still),
      // while the fast target keeps being served.
      assert.equal((await post('e3')).rsc, 2001);
      await waitFor(() => fast.notifications().length === 3, LOADED_MACHINE_WAIT_MS);
      assert.deepEqual(slow.notifications().map(con), ['e1']);
      clock.advance(60_000);
      await waitFor(() => slow.notifications().length === 3, LOADED_MACHINE_WAIT_MS);
      assert.deepEqual(slow.notifications().map(con), ['e1', 'e2', 'e3']);
    } finally {
      slow.release();
      await t.close();
      await slow.stop();
      await fast.stop();
    }
  });
});

describe('notifications pipelined to one target', () => {
  it('writes them in order, and after a refusal sends the refused one and every one written after it again, in order', async () => {
    const t = await startTestCse({ 'notifications.timeout': 30 });
    const rx = await new Receiver().start();
    try {
      const ae = await t.client.registerAe('piper');
      assert.equal((await t.client.create('/cse-in/piper', 3, { 'm2m:cnt': { rn: 'c' } }, ae)).rsc, 2001);
      assert.equal((await t.client.create('/cse-in/piper/c', 23, { 'm2m:sub': { nu: [rx.url], enc: { net: [3] } } }, ae)).rsc, 2001);
      let refused = false;
      rx.respond = (body) => {
        if (con(body) !== 'e5' || refused) return Promise.resolve(undefined);
        refused = true;
        return Promise.resolve({ rsc: 5000 });
      };
      // e1 is held, so that e2 … e10 queue up behind it and go as one run once it is answered.
      rx.behaviour = 'hold';
      const events = Array.from({ length: 10 }, (_, i) => `e${i + 1}`);
      for (const v of events) assert.equal((await t.client.create('/cse-in/piper/c', 4, { 'm2m:cin': { con: v } }, ae)).rsc, 2001);
      await waitFor(() => rx.holding === 1, LOADED_MACHINE_WAIT_MS);
      rx.release();
      await waitFor(() => {
        const seen = rx.notifications().map(con);
        const retried = seen.lastIndexOf('e5');
        return retried > seen.indexOf('e5') && seen.slice(retried).length >= 6;
      }, LOADED_MACHINE_WAIT_MS);
      const seen = rx.notifications().map(con);
      // First sent in order; the refused one and those after it sent again, in order, behind it.
      assert.deepEqual([...new Set(seen)], events);
      assert.deepEqual(seen.slice(seen.lastIndexOf('e5')), ['e5', 'e6', 'e7', 'e8', 'e9', 'e10']);
      assert.equal(seen.filter((v) => v === 'e4').length, 1, 'what was taken before the refusal is not sent again');
    } finally {
      rx.release();
      await t.close();
      await rx.stop();
    }
  });
});

describe('notifications pipelined to one target, across a crash', () => {
  it('loses none when the CSE is killed (kill -9) with notifications written and unanswered, and sends them again in order', async () => {
    const storage = tempDatabase();
    const rx = await new Receiver().start();
    const first = await spawnWarden([`--storage.path=${storage}`]);
    let second: Awaited<ReturnType<typeof spawnWarden>> | undefined;
    try {
      const ae = await first.client.registerAe('crashpipe');
      assert.equal((await first.client.create('/cse-in/crashpipe', 3, { 'm2m:cnt': { rn: 'c' } }, ae)).rsc, 2001);
      assert.equal((await first.client.create('/cse-in/crashpipe/c', 23, { 'm2m:sub': { nu: [rx.url], enc: { net: [3] } } }, ae)).rsc, 2001);
      // e1 and e2 are answered; from e3 on the receiver never answers: they are written and unanswered when the CSE dies.
      rx.respond = (body) => (['e1', 'e2'].includes(String(con(body))) ? Promise.resolve(undefined) : new Promise(() => undefined));
      const events = Array.from({ length: 8 }, (_, i) => `e${i + 1}`);
      for (const v of events) assert.equal((await first.client.create('/cse-in/crashpipe/c', 4, { 'm2m:cin': { con: v } }, ae)).rsc, 2001);
      await waitFor(() => rx.notifications().map(con).includes('e3'), LOADED_MACHINE_WAIT_MS);
      first.child.kill('SIGKILL');
      await once(first.child, 'exit');
      const before = rx.notifications().length;
      rx.respond = undefined;
      second = await spawnWarden([`--storage.path=${storage}`]);
      // The queue head the killed process leased is taken up once its lease (60 s, deliver.ts) has run out.
      await waitFor(() => rx.notifications().slice(before).map(con).includes('e8'), 60_000 + LOADED_MACHINE_WAIT_MS);
      const all = rx.notifications().map(con);
      const after = all.slice(before).map((v) => Number(String(v).slice(1)));
      assert.deepEqual([...new Set(all)].sort(), [...events].sort(), 'every event notified at least once');
      assert.deepEqual(after, [...after].sort((a, b) => a - b), 'sent again in order');
      assert.ok(after.includes(3), 'the unanswered ones went again');
    } finally {
      first.child.kill('SIGKILL');
      if (second) await stopWarden(second.child);
      await rx.stop();
    }
  });
});

describe('subscriberURI and notificationForwardingURI are verified like notificationURI', () => {
  const isVrq = (body: Attrs): boolean => (body['m2m:sgn'] as Attrs | undefined)?.vrq === true;

  it('refuses an su naming another AE that refuses or cannot be asked, and sends it nothing on deletion', async () => {
    const t = await startTestCse({ 'notifications.timeout': 1 });
    const own = await new Receiver().start();
    const victimRx = await new Receiver().start();
    const muteRx = await new Receiver().start();
    try {
      const ae = await t.client.registerAe('mallory');
      victimRx.behaviour = 'refuse';
      muteRx.behaviour = 'hang';
      const victim = await t.client.registerAe('victim', { rr: true, poa: [victimRx.url] });
      const mute = await t.client.registerAe('mute', { rr: true, poa: [muteRx.url] });
      const sleeper = await t.client.registerAe('sleeper', { rr: false });
      assert.equal((await t.client.create('/cse-in/sleeper', 15, { 'm2m:pch': { rn: 'pch' } }, sleeper)).rsc, 2001);
      assert.equal((await t.client.create('/cse-in/mallory', 3, { 'm2m:cnt': { rn: 'c' } }, ae)).rsc, 2001);
      const subscribe = (su: string) => t.client.create('/cse-in/mallory/c', 23, { 'm2m:sub': { nu: [own.url], su, enc: { net: [3] } } }, ae);
      for (const su of [victim, mute, sleeper, `/id-in/${victim}`]) {
        const reply = await subscribe(su);
        assert.equal(reply.rsc, 5204, `su ${su}: ${reply.text}`);
      }
      assert.ok(victimRx.received.length >= 1 && victimRx.received.every((r) => isVrq(r.body)), 'the victim was only asked');
      // The subscriber itself needs no verification (its own polling channel here, as for nu).
      assert.equal((await subscribe(ae)).rsc, 2001);
      const control = await t.client.create('/cse-in/mallory/c', 23, { 'm2m:sub': { nu: [own.url], su: own.url, enc: { net: [3] } } }, ae);
      assert.equal(control.rsc, 2001);
      assert.equal((await t.client.delete('/cse-in/mallory/c', ae)).rsc, 2002);
      await waitFor(() => own.notifications().some((n) => (n['m2m:sgn'] as Attrs | undefined)?.sud === true));
      assert.deepEqual(victimRx.notifications(), [], 'no deletion notification reaches the victim');
      const polled = await t.client.retrieve('/cse-in/sleeper/pch/pcu', sleeper, { headers: { 'X-M2M-RET': '200' } });
      assert.equal(polled.rsc, 4008, 'nothing was queued for the polling AE');
    } finally {
      await t.close();
      await own.stop();
      await victimRx.stop();
      await muteRx.stop();
    }
  });

  it('verifies nfu on create and when an update changes it', async () => {
    const t = await startTestCse();
    const own = await new Receiver().start();
    const refusing = await new Receiver().start();
    const accepting = await new Receiver().start();
    try {
      refusing.behaviour = 'refuse';
      const ae = await t.client.registerAe('forwarder');
      assert.equal((await t.client.create('/cse-in/forwarder', 3, { 'm2m:cnt': { rn: 'c' } }, ae)).rsc, 2001);
      const refused = await t.client.create('/cse-in/forwarder/c', 23, { 'm2m:sub': { nu: [own.url], nfu: refusing.url } }, ae);
      assert.equal(refused.rsc, 5204, refused.text);
      assert.equal(refusing.received.length, 1);
      assert.ok(isVrq(refusing.received[0]?.body ?? {}));
      assert.equal((await t.client.create('/cse-in/forwarder/c', 23, { 'm2m:sub': { rn: 's', nu: [own.url] } }, ae)).rsc, 2001);
      assert.equal((await t.client.update('/cse-in/forwarder/c/s', { 'm2m:sub': { nfu: refusing.url } }, ae)).rsc, 5204);
      assert.equal(refusing.received.length, 2);
      assert.equal(((await t.client.retrieve('/cse-in/forwarder/c/s', ae)).body?.['m2m:sub'] as Attrs).nfu, undefined);
      assert.equal((await t.client.update('/cse-in/forwarder/c/s', { 'm2m:sub': { nfu: accepting.url } }, ae)).rsc, 2004);
      assert.equal(accepting.received.length, 1);
      assert.ok(isVrq(accepting.received[0]?.body ?? {}));
      // Unchanged targets are not asked again.
      assert.equal((await t.client.update('/cse-in/forwarder/c/s', { 'm2m:sub': { nfu: accepting.url, nu: [own.url] } }, ae)).rsc, 2004);
      assert.equal(accepting.received.length, 1);
    } finally {
      await t.close();
      await own.stop();
      await refusing.stop();
      await accepting.stop();
    }
  });
});

describe('a resource holds a bounded number of subscriptions', () => {
  for (const backend of ['sqlite', 'postgres'] as const) {
    it(`refuses one beyond notifications.maxSubscriptionsPerResource with 5207, also under concurrent creates (${backend})`, async () => {
      const db = backend === 'postgres' ? await createTestDatabase() : undefined;
      const t = await startTestCse({ 'notifications.maxSubscriptionsPerResource': 3, ...(db ? { 'storage.backend': 'postgres', 'storage.url': db.url } : {}) });
      try {
        const ae = await t.client.registerAe('crowd');
        for (const rn of ['a', 'b']) assert.equal((await t.client.create('/cse-in/crowd', 3, { 'm2m:cnt': { rn } }, ae)).rsc, 2001);
        const subscribe = (path: string, rn?: string) => t.client.create(path, 23, { 'm2m:sub': { nu: [ae], enc: { net: [3] }, ...(rn ? { rn } : {}) } }, ae);
        for (const rn of ['s1', 's2', 's3']) assert.equal((await subscribe('/cse-in/crowd/a', rn)).rsc, 2001);
        const refused = await subscribe('/cse-in/crowd/a');
        assert.equal(refused.rsc, 5207, refused.text);
        assert.equal((await t.client.delete('/cse-in/crowd/a/s1', ae)).rsc, 2002);
        assert.equal((await subscribe('/cse-in/crowd/a')).rsc, 2001, 'room again after a deletion');
        // Ten at once on an empty resource: exactly three get a place.
        const replies = await Promise.all(Array.from({ length: 10 }, () => subscribe('/cse-in/crowd/b')));
        assert.deepEqual(replies.map((r) => r.rsc).sort(), [2001, 2001, 2001, 5207, 5207, 5207, 5207, 5207, 5207, 5207]);
        const listed = await t.client.retrieve('/cse-in/crowd/b?fu=1&ty=23', ae);
        assert.equal((listed.body?.['m2m:uril'] as string[]).length, 3);
      } finally {
        await t.close();
        await db?.drop();
      }
    });
  }
});

describe("a target's points of access share one timeout", () => {
  it('an AE listing several that never answer is given up after notifications.timeout in all, not one timeout each', async () => {
    // Receivers that count the requests they get and answer none.
    const counts = [0, 0, 0];
    const servers = counts.map((_, i) =>
      createServer((req) => {
        counts[i] = (counts[i] ?? 0) + 1;
        req.resume();
      }),
    );
    for (const server of servers) server.listen(0, '127.0.0.1');
    await Promise.all(servers.map((server) => once(server, 'listening')));
    const urls = servers.map((server) => `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/`);
    const t = await startTestCse({ 'notifications.timeout': 1 });
    try {
      const silent = await t.client.registerAe('silent', { rr: true, poa: urls });
      const subscriber = await t.client.registerAe('subscriber');
      assert.equal((await t.client.create('/cse-in/subscriber', 3, { 'm2m:cnt': { rn: 'box' } }, subscriber)).rsc, 2001);
      const created = await t.client.create('/cse-in/subscriber/box', 23, { 'm2m:sub': { rn: 'toSilent', nu: [silent], enc: { net: [3] } } }, subscriber);
      assert.equal(created.rsc, 5204, created.text);
      assert.deepEqual(counts, [1, 0, 0], 'the first point of access had all the time: the others were not tried');
    } finally {
      await t.close();
      for (const server of servers) {
        server.closeAllConnections();
        server.close();
      }
    }
  });
});

describe('expirationCounter with deliveries in flight in two processes on one PostgreSQL database', () => {
  it('starts no more deliveries than the counter allows, whichever process serves each target', async () => {
    const db = await createTestDatabase();
    // One delivery slot each: the two targets are served by the two processes.
    const flags = { 'storage.backend': 'postgres', 'storage.url': db.url, 'notifications.concurrency': 1, 'notifications.pipelining': 1 };
    const a = await startTestCse(flags);
    const b = await startTestCse(flags);
    const receivers = [await new Receiver().start(), await new Receiver().start()];
    try {
      const ae = await a.client.registerAe('counted');
      assert.equal((await a.client.create('/cse-in/counted', 3, { 'm2m:cnt': { rn: 'c' } }, ae)).rsc, 2001);
      const sub = await a.client.create('/cse-in/counted/c', 23, { 'm2m:sub': { rn: 's', nu: receivers.map((r) => r.url), exc: 1, enc: { net: [3] } } }, ae);
      assert.equal(sub.rsc, 2001, sub.text);
      for (const r of receivers) r.behaviour = 'hold';
      assert.equal((await a.client.create('/cse-in/counted/c', 4, { 'm2m:cin': { con: 'once' } }, ae)).rsc, 2001);
      await new Promise((r) => setTimeout(r, 2000)); // both processes have had time to start their delivery
      const started = receivers.map((r) => r.holding);
      for (const r of receivers) r.release();
      const told = (): number => receivers.reduce((n, r) => n + r.notifications().filter((body) => (body['m2m:sgn'] as Attrs | undefined)?.nev !== undefined).length, 0);
      await waitFor(async () => (await a.client.retrieve('/cse-in/counted/c/s', ae)).rsc === 4004, 10_000);
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(told(), 1, `exc 1: one notification (held at once: ${started.join(' and ')})`);
    } finally {
      for (const r of receivers) await r.stop();
      await a.close();
      await b.close();
      await db.drop();
    }
  });
});
