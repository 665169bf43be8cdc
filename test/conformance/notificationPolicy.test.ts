// Who a notification may go to, and what making it may cost (issue #20, findings 3, 4 and 6): the subscriber's
// privileges are checked when each notification is made, an event's notifications are bounded and their payload
// stored once, polling-channel queues are bounded, and nothing queued for an AE reaches a later holder of its AE-ID.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCse, type TestCse } from '../harness.js';
import { Receiver, waitFor } from '../receiver.js';
import type { ResourceStore } from '../../src/storage/store.js';
import { notificationCounters } from '../../src/notifications/fanout.js';

type Attrs = Record<string, unknown>;
const sgn = (n: Attrs): Attrs => n['m2m:sgn'] as Attrs;
const rep = (n: Attrs): Attrs => (sgn(n).nev as Attrs).rep as Attrs;
const cons = (rx: Receiver): unknown[] => rx.notifications().map((n) => (rep(n)['m2m:cin'] as Attrs | undefined)?.con ?? Object.keys(rep(n))[0]);

/** Every recorded event has been fanned out to its targets. */
async function fannedOut(store: ResourceStore): Promise<void> {
  await waitFor(async () => (await store.countQueuedByPrefix('fanout:', 1)) === 0);
}

/** What a target's queue holds in the store: rows, and bytes as stored (each shared payload once). */
async function queueFootprint(store: ResourceStore, target: string): Promise<{ rows: number; bytes: number }> {
  const rows = await store.queued(target, undefined, 100_000);
  const payloads = new Map<number, number>();
  let bytes = 0;
  for (const m of rows) {
    bytes += m.content.length;
    if (m.payload !== undefined) payloads.set(m.payload, m.shared?.length ?? 0);
  }
  for (const size of payloads.values()) bytes += size;
  return { rows: rows.length, bytes };
}

describe("notifications follow the subscriber's privileges (finding 3)", () => {
  let t: TestCse;
  let rx: Receiver;
  before(async () => {
    t = await startTestCse({ 'notifications.maxBackoff': 1, 'notifications.maxAttempts': 3, 'notifications.timeout': 2 });
    await t.client.registerAe('owner');
    await t.client.registerAe('reader');
    rx = await new Receiver().start();
  });
  after(async () => {
    await rx.stop();
    await t.close();
  });

  // The owner writes through a rule of its own: acpi decides for it too [TS-0001 §9.6.1.3].
  const ownerRule = { acor: ['Cowner'], acop: 63 };
  async function policy(rn: string, acr: Attrs[]): Promise<string> {
    const reply = await t.client.create('/cse-in/owner', 1, { 'm2m:acp': { rn, pv: { acr: [...acr, ownerRule] }, pvs: { acr: [ownerRule] } } }, 'Cowner');
    assert.equal(reply.rsc, 2001, reply.text);
    return String((reply.body?.['m2m:acp'] as Attrs).ri);
  }

  it('stops when the privilege is revoked and resumes when it is restored; the subscription stays', async () => {
    const acp = await policy('shared', [{ acor: ['Creader'], acop: 3 }]);
    assert.equal((await t.client.create('/cse-in/owner', 3, { 'm2m:cnt': { rn: 'feed', acpi: [acp] } }, 'Cowner')).rsc, 2001);
    const sub = await t.client.create('/cse-in/owner/feed', 23, { 'm2m:sub': { rn: 'watch', nu: [rx.url], enc: { net: [3] } } }, 'Creader');
    assert.equal(sub.rsc, 2001, sub.text);
    const post = (con: string) => t.client.create('/cse-in/owner/feed', 4, { 'm2m:cin': { con } }, 'Cowner');

    assert.equal((await post('before')).rsc, 2001);
    await waitFor(() => cons(rx).includes('before'));
    // Revoked: the reader may no longer RETRIEVE what the container holds.
    assert.equal((await t.client.update(`/${acp}`, { 'm2m:acp': { pv: { acr: [ownerRule] } } }, 'Cowner')).rsc, 2004);
    assert.equal((await post('revoked')).rsc, 2001);
    await fannedOut(t.cse.services.store);
    // The subscription has no acpi: it is its creator's (the default policy), whoever holds the container.
    assert.equal((await t.client.retrieve('/cse-in/owner/feed/watch', 'Creader')).rsc, 2000, 'the subscription stays');
    assert.equal(notificationCounters.withheld.get(String((sub.body?.['m2m:sub'] as Attrs).ri)), 1, 'counted for the subscription');
    // Restored: the next event is delivered again, and the one made while revoked never is.
    assert.equal((await t.client.update(`/${acp}`, { 'm2m:acp': { pv: { acr: [{ acor: ['Creader'], acop: 3 }, ownerRule] } } }, 'Cowner')).rsc, 2004);
    assert.equal((await post('restored')).rsc, 2001);
    await waitFor(() => cons(rx).includes('restored'));
    assert.deepEqual(cons(rx), ['before', 'restored']);
  });

  it('does not carry a new child the subscriber may not read, in any notification content type', async () => {
    const open = await policy('open', [{ acor: ['Creader'], acop: 3 }]);
    const closed = await policy('closed', []);
    assert.equal((await t.client.create('/cse-in/owner', 3, { 'm2m:cnt': { rn: 'tree', acpi: [open] } }, 'Cowner')).rsc, 2001);
    const rxIds = await new Receiver().start();
    const start = rx.notifications().length;
    try {
      assert.equal((await t.client.create('/cse-in/owner/tree', 23, { 'm2m:sub': { nu: [rx.url], enc: { net: [3] } } }, 'Creader')).rsc, 2001);
      assert.equal((await t.client.create('/cse-in/owner/tree', 23, { 'm2m:sub': { nu: [rxIds.url], enc: { net: [3] }, nct: 3 } }, 'Creader')).rsc, 2001);
      const secret = await t.client.create('/cse-in/owner/tree', 3, { 'm2m:cnt': { rn: 'secret', acpi: [closed], lbl: ['private'] } }, 'Cowner');
      assert.equal(secret.rsc, 2001);
      assert.equal((await t.client.retrieve('/cse-in/owner/tree/secret', 'Creader')).rsc, 4103, 'the reader may not read it');
      // A child it may read, made after the secret one: once it arrives, the secret one would have too.
      assert.equal((await t.client.create('/cse-in/owner/tree', 3, { 'm2m:cnt': { rn: 'public', acpi: [open] } }, 'Cowner')).rsc, 2001);
      await waitFor(() => rx.notifications().length > start && rxIds.notifications().length > 0);
      await fannedOut(t.cse.services.store);
      const shown = rx.notifications().slice(start).map((n) => (rep(n)['m2m:cnt'] as Attrs).rn);
      assert.deepEqual(shown, ['public']);
      const secretRi = String((secret.body?.['m2m:cnt'] as Attrs).ri);
      assert.deepEqual(
        rxIds.notifications().map((n) => rep(n)['m2m:uri']),
        rxIds.notifications().map((n) => rep(n)['m2m:uri']).filter((ri) => ri !== secretRi),
      );
      assert.equal(rxIds.notifications().length, 1);
    } finally {
      await rxIds.stop();
    }
  });
});

describe('notification amplification is bounded (finding 4)', () => {
  it('stores an event payload once, notifies a target once per subscription, and bounds what one originator queues', async () => {
    const t = await startTestCse({ 'notifications.maxOutboxBytesPerOriginator': 2_000_000 });
    const rx = await new Receiver().start();
    try {
      const spam = await t.client.registerAe('spam');
      assert.equal((await t.client.create('/cse-in/spam', 15, { 'm2m:pch': { rn: 'pch' } }, spam)).rsc, 2001);
      assert.equal((await t.client.create('/cse-in/spam', 3, { 'm2m:cnt': { rn: 'box', mbs: 1_000_000 } }, spam)).rsc, 2001);
      // The same polling channel four times over in every subscription's nu.
      const nu = [spam, spam, `/id-in/${spam}`, 'cse-in/spam'];
      for (let i = 0; i < 40; i++) {
        const reply = await t.client.create('/cse-in/spam/box', 23, { 'm2m:sub': { nu, enc: { net: [3] } } }, spam);
        assert.equal(reply.rsc, 2001, reply.text);
      }
      // Another originator's subscription and writes, at the same time.
      await t.client.registerAe('bystander');
      assert.equal((await t.client.create('/cse-in/bystander', 3, { 'm2m:cnt': { rn: 'log' } }, 'Cbystander')).rsc, 2001);
      assert.equal((await t.client.create('/cse-in/bystander/log', 23, { 'm2m:sub': { nu: [rx.url], enc: { net: [3] } } }, 'Cbystander')).rsc, 2001);

      const big = 'x'.repeat(100_000);
      const writes = [t.client.create('/cse-in/spam/box', 4, { 'm2m:cin': { con: big } }, spam)];
      for (let i = 0; i < 20; i++) writes.push(t.client.create('/cse-in/bystander/log', 4, { 'm2m:cin': { con: `entry ${i}` } }, 'Cbystander'));
      const replies = await Promise.all(writes);
      assert.deepEqual(replies.map((r) => r.rsc), replies.map(() => 2001));
      await fannedOut(t.cse.services.store);

      // 40 subscriptions × 4 targets of 100 kB each were 16 MB; now one row per subscription (the duplicates
      // are one queue), the payload once, and no more than the originator's bound lets through.
      const queue = await queueFootprint(t.cse.services.store, `pch:${spam}`);
      assert.ok(queue.rows <= 40, `${queue.rows} rows`);
      assert.ok(queue.rows >= 1 && queue.rows <= 2_000_000 / 100_000, `${queue.rows} rows within the originator's bound`);
      assert.ok(queue.bytes < 100_000 + 40 * 2_000, `${queue.bytes} bytes stored`);
      const usage = (await t.cse.services.store.outboxUsage([spam])).get(spam) ?? 0;
      assert.ok(usage <= 2_000_000, `${usage} bytes counted against ${spam}`);
      // The bystander lost nothing.
      await waitFor(() => rx.notifications().length === 20);
    } finally {
      await rx.stop();
      await t.close();
    }
  });

  it("bounds the bytes one event adds to the outbox (notifications.maxEventBytes)", async () => {
    const t = await startTestCse({ 'notifications.maxEventBytes': 1024 });
    try {
      const ae = await t.client.registerAe('many');
      assert.equal((await t.client.create('/cse-in/many', 3, { 'm2m:cnt': { rn: 'box' } }, ae)).rsc, 2001);
      for (let i = 0; i < 60; i++) assert.equal((await t.client.create('/cse-in/many/box', 23, { 'm2m:sub': { nu: [ae], enc: { net: [3] } } }, ae)).rsc, 2001);
      assert.equal((await t.client.create('/cse-in/many/box', 4, { 'm2m:cin': { con: 'one event' } }, ae)).rsc, 2001);
      await fannedOut(t.cse.services.store);
      const queue = await t.cse.services.store.queued(`pch:${ae}`, undefined, 1000);
      assert.ok(queue.length > 0 && queue.length < 60, `${queue.length} notifications`);
      assert.ok(queue.reduce((n, m) => n + m.content.length, 0) <= 1024);
    } finally {
      await t.close();
    }
  });

  it('bounds a polling channel queue like any other (notifications.maxQueue), keeping the newest', async () => {
    const t = await startTestCse({ 'notifications.maxQueue': 5 });
    try {
      const ae = await t.client.registerAe('sleeper');
      assert.equal((await t.client.create('/cse-in/sleeper', 15, { 'm2m:pch': { rn: 'pch' } }, ae)).rsc, 2001);
      assert.equal((await t.client.create('/cse-in/sleeper', 3, { 'm2m:cnt': { rn: 'box' } }, ae)).rsc, 2001);
      assert.equal((await t.client.create('/cse-in/sleeper/box', 23, { 'm2m:sub': { nu: [ae], enc: { net: [3] } } }, ae)).rsc, 2001);
      for (let i = 0; i < 12; i++) assert.equal((await t.client.create('/cse-in/sleeper/box', 4, { 'm2m:cin': { con: `n${i}` } }, ae)).rsc, 2001);
      await fannedOut(t.cse.services.store);
      assert.equal(await t.cse.services.store.queueLength(`pch:${ae}`), 5);
      const polled = await t.client.retrieve('/cse-in/sleeper/pch/pcu', ae);
      assert.equal(polled.rsc, 2000, polled.text);
      const first = ((((polled.body?.['m2m:rqp'] as Attrs).pc as Attrs)['m2m:sgn'] as Attrs).nev as Attrs).rep as Attrs;
      assert.equal((first['m2m:cin'] as Attrs).con, 'n7');
    } finally {
      await t.close();
    }
  });
});

describe('a later holder of an AE-ID gets nothing meant for the earlier one (finding 6)', () => {
  let t: TestCse;
  before(async () => {
    t = await startTestCse({ 'notifications.maxBackoff': 1, 'notifications.maxAttempts': 3, 'notifications.timeout': 2 });
  });
  after(() => t.close());

  it("purges the deregistered AE's polling channel queue", async () => {
    const ae = await t.client.registerAe('leaver');
    assert.equal((await t.client.create('/cse-in/leaver', 15, { 'm2m:pch': { rn: 'pch' } }, ae)).rsc, 2001);
    assert.equal((await t.client.create('/cse-in/leaver', 3, { 'm2m:cnt': { rn: 'box' } }, ae)).rsc, 2001);
    assert.equal((await t.client.create('/cse-in/leaver/box', 23, { 'm2m:sub': { nu: [ae], enc: { net: [3] } } }, ae)).rsc, 2001);
    assert.equal((await t.client.create('/cse-in/leaver/box', 4, { 'm2m:cin': { con: 'for the first holder only' } }, ae)).rsc, 2001);
    await fannedOut(t.cse.services.store);
    assert.equal(await t.cse.services.store.queueLength(`pch:${ae}`), 1);
    assert.equal((await t.client.delete('/cse-in/leaver', ae)).rsc, 2002);

    assert.equal(await t.client.registerAe('leaver'), ae);
    assert.equal((await t.client.create('/cse-in/leaver', 15, { 'm2m:pch': { rn: 'pch' } }, ae)).rsc, 2001);
    const polled = await t.client.retrieve('/cse-in/leaver/pch/pcu', ae, { headers: { 'X-M2M-RET': '300' } });
    assert.equal(polled.rsc, 4008, polled.text);
  });

  it("does not deliver another AE's subscription naming the old AE-ID to the new holder", async () => {
    const first = await new Receiver().start();
    const second = await new Receiver().start();
    const marker = await new Receiver().start();
    try {
      const ae = await t.client.registerAe('moving', { rr: true, poa: [first.url] });
      const other = await t.client.registerAe('publisher');
      assert.equal((await t.client.create('/cse-in/publisher', 3, { 'm2m:cnt': { rn: 'news' } }, other)).rsc, 2001);
      const sub = await t.client.create('/cse-in/publisher/news', 23, { 'm2m:sub': { nu: [ae], enc: { net: [3] } } }, other);
      assert.equal(sub.rsc, 2001, sub.text);
      assert.equal((await t.client.create('/cse-in/publisher/news', 23, { 'm2m:sub': { nu: [marker.url], enc: { net: [3] } } }, other)).rsc, 2001);
      assert.equal((await t.client.create('/cse-in/publisher/news', 4, { 'm2m:cin': { con: 'one' } }, other)).rsc, 2001);
      await waitFor(() => first.notifications().length === 1);

      assert.equal((await t.client.delete('/cse-in/moving', ae)).rsc, 2002);
      assert.equal(await t.client.registerAe('moving', { rr: true, poa: [second.url] }), ae);
      assert.equal((await t.client.create('/cse-in/publisher/news', 4, { 'm2m:cin': { con: 'two' } }, other)).rsc, 2001);
      await waitFor(() => marker.notifications().length === 2);
      await fannedOut(t.cse.services.store);
      assert.equal(await t.cse.services.store.queueLength(`ae:${ae}`), 0, 'nothing queued for the new holder');
      assert.equal(second.notifications().length, 0);
      // A subscription that names the new holder (verified with it) reaches it.
      assert.equal((await t.client.create('/cse-in/publisher/news', 23, { 'm2m:sub': { nu: [ae], enc: { net: [3] } } }, other)).rsc, 2001);
      assert.equal((await t.client.create('/cse-in/publisher/news', 4, { 'm2m:cin': { con: 'three' } }, other)).rsc, 2001);
      await waitFor(() => second.notifications().length === 1);
      assert.deepEqual(cons(second), ['three']);
    } finally {
      await first.stop();
      await second.stop();
      await marker.stop();
    }
  });
});

describe('one receiver spelled many ways is one target (review of finding 4)', () => {
  it('notifies a URL once per event, however its scheme, host, address or fragment is written', async () => {
    const t = await startTestCse();
    const rx = await new Receiver().start();
    try {
      const ae = await t.client.registerAe('speller');
      assert.equal((await t.client.create('/cse-in/speller', 3, { 'm2m:cnt': { rn: 'box' } }, ae)).rsc, 2001);
      const { port } = rx;
      const path = new URL(rx.url).pathname;
      const spellings = [rx.url, `HTTP://127.0.0.1:${port}${path}`, `http://127.0.0.1:${port}${path}#again`, `http://2130706433:${port}${path}`, `http://0x7f.1:${port}${path}`];
      const sub = await t.client.create('/cse-in/speller/box', 23, { 'm2m:sub': { nu: spellings, enc: { net: [3] } } }, ae);
      assert.equal(sub.rsc, 2001, sub.text);
      assert.equal((await t.client.create('/cse-in/speller/box', 4, { 'm2m:cin': { con: 'once' } }, ae)).rsc, 2001);
      await fannedOut(t.cse.services.store);
      await waitFor(() => rx.notifications().length >= 1);
      // Anything more would have been fanned out and queued with the first.
      await waitFor(async () => (await t.cse.services.store.countQueuedByPrefix('http', 10)) === 0);
      assert.equal(rx.notifications().length, 1, 'one notification for one event');
    } finally {
      await rx.stop();
      await t.close();
    }
  });
});
