// Subscriptions beyond the four basic event types (issue #12): operationMonitor, eeno, Blocking_Update, the
// container retrieve event, missing data, chty and nu checks, notification statistics, batches, serialization.
import assert from 'node:assert/strict';
import { after, before, beforeEach, afterEach, describe, it } from 'node:test';
import { spawnWarden, startTestCse, stopWarden, type TestCse } from '../harness.js';
import { Receiver, waitFor } from '../receiver.js';
import { createTestDatabase } from '../postgres.js';

type Attrs = Record<string, unknown>;
const sgn = (n: Attrs): Attrs => n['m2m:sgn'] as Attrs;
const nev = (n: Attrs): Attrs => sgn(n).nev as Attrs;
const subOf = (body: Attrs | undefined): Attrs => body?.['m2m:sub'] as Attrs;

describe('subscription event types, criteria and notification forms', () => {
  let t: TestCse;
  let ae: string;
  let rx: Receiver;
  let box = 0;
  before(async () => {
    t = await startTestCse({ 'notifications.maxBackoff': 1, 'notifications.maxAttempts': 3, 'notifications.timeout': 2 });
    ae = await t.client.registerAe('eventer');
  });
  after(() => t.close());
  beforeEach(async () => {
    rx = await new Receiver().start();
  });
  afterEach(() => rx.stop());

  async function container(): Promise<string> {
    box++;
    assert.equal((await t.client.create('/cse-in/eventer', 3, { 'm2m:cnt': { rn: `c${box}` } }, ae)).rsc, 2001);
    return `/cse-in/eventer/c${box}`;
  }
  async function subscribe(path: string, attrs: Attrs, origin = ae): Promise<Attrs> {
    const reply = await t.client.create(path, 23, { 'm2m:sub': { nu: [rx.url], ...attrs } }, origin);
    assert.equal(reply.rsc, 2001, reply.text);
    return subOf(reply.body);
  }

  it('refuses a chty that is no child type of the subscribed-to resource, on CREATE and UPDATE (4000)', async () => {
    const path = await container();
    const wrong = await t.client.create(path, 23, { 'm2m:sub': { rn: 'chty', nu: [rx.url], enc: { net: [3], chty: [2] } } }, ae);
    assert.equal(wrong.rsc, 4000, wrong.text);
    assert.match(wrong.text, /chty/);
    assert.equal((await t.client.retrieve(`${path}/chty`, ae)).rsc, 4004);
    await subscribe(path, { rn: 'chty', enc: { net: [3], chty: [4] } });
    const update = await t.client.update(`${path}/chty`, { 'm2m:sub': { enc: { net: [3], chty: [2] } } }, ae);
    assert.equal(update.rsc, 4000);
    assert.deepEqual((subOf((await t.client.retrieve(`${path}/chty`, ae)).body).enc as Attrs).chty, [4], 'nothing stored changed');
  });

  it('keeps nu: removing it is 4000; removing enc leaves the default (update events)', async () => {
    const path = await container();
    await subscribe(path, { rn: 'keep', enc: { net: [3] } });
    const removed = await t.client.update(`${path}/keep`, { 'm2m:sub': { nu: null } }, ae);
    assert.equal(removed.rsc, 4000);
    assert.match(removed.text, /'nu'/);
    assert.deepEqual(subOf((await t.client.retrieve(`${path}/keep`, ae)).body).nu, [rx.url]);
    const noEnc = await t.client.update(`${path}/keep`, { 'm2m:sub': { enc: null } }, ae);
    assert.equal(noEnc.rsc, 2004);
    assert.deepEqual(subOf(noEnc.body).enc, { net: [1] });
  });

  it('operationMonitor: ops and originator (or, or org as ACME sends it) decide; the notification names the operation', async () => {
    const path = await container();
    const sub = await subscribe(path, { rn: 'om', enc: { om: [{ ops: 3, org: ae }] } });
    assert.deepEqual((sub.enc as Attrs).om, [{ ops: 3, org: ae }], 'kept as sent');
    assert.equal((sub.enc as Attrs).net, undefined);
    assert.equal((await t.client.update(path, { 'm2m:cnt': { lbl: ['x'] } }, ae)).rsc, 2004);
    await waitFor(() => rx.notifications().length === 1);
    assert.deepEqual(nev(rx.notifications()[0] as Attrs).om, { ops: 3, org: ae });
    // Another originator's update, and another operation, are not monitored.
    assert.equal((await t.client.update(path, { 'm2m:cnt': { lbl: ['y'] } }, 'CAdmin')).rsc, 2004);
    assert.equal((await t.client.create(path, 4, { 'm2m:cin': { con: 'z' } }, ae)).rsc, 2001);
    const rx2 = await new Receiver().start();
    try {
      const reads = await t.client.create(path, 23, { 'm2m:sub': { nu: [rx2.url], enc: { om: [{ ops: 2, or: ae }] } } }, ae);
      assert.equal(reads.rsc, 2001, reads.text);
      assert.equal((await t.client.retrieve(path, ae)).rsc, 2000);
      await waitFor(() => rx2.notifications().length === 1);
      assert.deepEqual(nev(rx2.notifications()[0] as Attrs).om, { ops: 2, or: ae });
      assert.equal(nev(rx2.notifications()[0] as Attrs).net, undefined);
    } finally {
      await rx2.stop();
    }
    assert.equal(rx.notifications().length, 1, "neither the admin's update nor a create was monitored");
    for (const enc of [{ om: [{ ops: 3 }, {}] }, { om: [] }, { net: [1], om: [{ ops: 3 }] }, { om: [{ ops: 9 }] }, { om: [{ ops: 3, xx: 1 }] }]) {
      assert.equal((await t.client.create(path, 23, { 'm2m:sub': { nu: [rx.url], enc } }, ae)).rsc, 4000, JSON.stringify(enc));
    }
  });

  it('eeno puts the originator of the change in cr, unless the subscription asked for its creator', async () => {
    const path = await container();
    await subscribe(path, { rn: 'eeno', eeno: true });
    assert.equal((await t.client.update(path, { 'm2m:cnt': { lbl: ['a'] } }, 'CAdmin')).rsc, 2004);
    await waitFor(() => rx.notifications().length === 1);
    assert.equal(sgn(rx.notifications()[0] as Attrs).cr, 'CAdmin');
    assert.equal((await t.client.delete(`${path}/eeno`, ae)).rsc, 2002);
    const withCreator = await subscribe(path, { rn: 'eenocr', eeno: true, cr: null });
    assert.equal(withCreator.cr, ae);
    assert.equal((await t.client.update(path, { 'm2m:cnt': { lbl: ['b'] } }, 'CAdmin')).rsc, 2004);
    await waitFor(() => rx.notifications().length === 2);
    assert.equal(sgn(rx.notifications()[1] as Attrs).cr, ae);
  });

  it("verifies a notification target that is also the subscriber's own point of access and its su", async () => {
    const own = await t.client.registerAe('ownTarget', { rr: true, poa: [rx.url] });
    const reply = await t.client.create('/cse-in/ownTarget', 23, { 'm2m:sub': { nu: [rx.url], su: rx.url } }, own);
    assert.equal(reply.rsc, 2001, reply.text);
    assert.equal(sgn(rx.received[0]?.body ?? {}).vrq, true, 'as nu it is verified');
  });

  it('the deletion notification to su carries cr when the subscription has one', async () => {
    const path = await container();
    const subscriber = await new Receiver().start();
    try {
      await subscribe(path, { rn: 'withcr', su: subscriber.url, cr: null });
      await subscribe(path, { rn: 'nocr', su: subscriber.url });
      assert.equal((await t.client.delete(`${path}/withcr`, ae)).rsc, 2002);
      await waitFor(() => subscriber.notifications().length === 1);
      assert.equal(sgn(subscriber.notifications()[0] as Attrs).cr, ae);
      assert.equal((await t.client.delete(`${path}/nocr`, ae)).rsc, 2002);
      await waitFor(() => subscriber.notifications().length === 2);
      assert.equal(sgn(subscriber.notifications()[1] as Attrs).cr, undefined);
    } finally {
      await subscriber.stop();
    }
  });

  it('net 5: a RETRIEVE of a container with no contentInstance, asking for its children, is notified', async () => {
    const path = await container();
    await subscribe(path, { enc: { net: [5, 1] } });
    assert.equal((await t.client.retrieve(path, ae)).rsc, 2000, 'attributes only: no event');
    assert.equal((await t.client.retrieve(`${path}?rcn=4`, ae)).rsc, 2000);
    await waitFor(() => rx.notifications().length === 1);
    assert.equal(nev(rx.notifications()[0] as Attrs).net, 5);
    assert.ok((nev(rx.notifications()[0] as Attrs).rep as Attrs)['m2m:cnt']);
    assert.equal((await t.client.create(path, 4, { 'm2m:cin': { con: 'now there is one' } }, ae)).rsc, 2001);
    assert.equal((await t.client.retrieve(`${path}?rcn=4`, ae)).rsc, 2000);
    assert.equal((await t.client.retrieve(`${path}?rcn=8`, ae)).rsc, 2000);
    // Notifications of one resource's events reach a target in order: the update's comes after any retrieve's.
    assert.equal((await t.client.update(path, { 'm2m:cnt': { lbl: ['after'] } }, ae)).rsc, 2004);
    await waitFor(() => rx.notifications().length >= 2);
    assert.deepEqual(rx.notifications().map((n) => nev(n).net), [5, 1], 'a container with an instance causes none');
  });

  it('net 8 and md need a timeSeries, which Warden has not: 4000', async () => {
    const path = await container();
    for (const enc of [{ net: [8] }, { net: [1], md: { num: 1, dur: 'PT1S' } }]) {
      const reply = await t.client.create(path, 23, { 'm2m:sub': { nu: [rx.url], enc, nct: 5 } }, ae);
      assert.equal(reply.rsc, 4000, JSON.stringify(enc));
      assert.match(reply.text, /timeSeries/);
    }
  });

  describe('Blocking_Update (net 7)', () => {
    let owner: string;
    before(async () => {
      owner = await t.client.registerAe('blocked', { rr: true });
    });

    it('is set up only by CREATE, once per resource, to one resource-ID target, and with no other options', async () => {
      assert.equal((await t.client.update('/cse-in/blocked', { 'm2m:ae': { poa: [rx.url] } }, owner)).rsc, 2004);
      const cases: Attrs[] = [
        { nu: [owner], enc: { net: [7, 1] } },
        { nu: [owner, owner], enc: { net: [7] } },
        { nu: [rx.url], enc: { net: [7] } },
        { nu: [owner], enc: { net: [7], chty: [3] } },
        { nu: [owner], enc: { net: [7] }, exc: 3 },
        { nu: [owner], enc: { net: [7] }, nct: 1 },
      ];
      for (const attrs of cases) assert.equal((await t.client.create('/cse-in/blocked', 23, { 'm2m:sub': attrs }, owner)).rsc, 4000, JSON.stringify(attrs));
      const made = await t.client.create('/cse-in/blocked', 23, { 'm2m:sub': { rn: 'block', nu: [owner], enc: { net: [7], atr: ['lbl'] } } }, owner);
      assert.equal(made.rsc, 2001, made.text);
      assert.equal(subOf(made.body).nct, 2, 'the modified attributes by default');
      const second = await t.client.create('/cse-in/blocked', 23, { 'm2m:sub': { nu: [owner], enc: { net: [7] } } }, owner);
      assert.equal(second.rsc, 4124);
      assert.equal(second.status, 409);
      const later = await t.client.create('/cse-in/blocked', 23, { 'm2m:sub': { rn: 'later', nu: [rx.url] } }, owner);
      assert.equal(later.rsc, 2001);
      assert.equal((await t.client.update('/cse-in/blocked/later', { 'm2m:sub': { enc: { net: [7] } } }, owner)).rsc, 4000);
      assert.equal((await t.client.delete('/cse-in/blocked/later', owner)).rsc, 2002);
    });

    it('an UPDATE waits for the subscriber, and fails as the subscriber answers (4127) or cannot be reached (5107)', async () => {
      assert.equal((await t.client.update('/cse-in/blocked', { 'm2m:ae': { poa: [rx.url] } }, owner)).rsc, 2004);
      const ok = await t.client.update('/cse-in/blocked', { 'm2m:ae': { lbl: ['yes'] } }, owner);
      assert.equal(ok.rsc, 2004);
      const told = rx.notifications().at(-1) as Attrs;
      assert.equal(nev(told).net, 7, 'the notification has arrived by the time the UPDATE answers');
      assert.deepEqual((nev(told).rep as Attrs)['m2m:ae'], { lbl: ['yes'] });
      const before = rx.notifications().length;
      assert.equal((await t.client.update('/cse-in/blocked', { 'm2m:ae': { apn: 'not watched' } }, owner)).rsc, 2004);
      assert.equal(rx.notifications().length, before, 'atr: an UPDATE of other attributes is not held');
      rx.behaviour = 'refuse';
      rx.refusal = 4005;
      const denied = await t.client.update('/cse-in/blocked', { 'm2m:ae': { lbl: ['no'] } }, owner);
      assert.equal(denied.rsc, 4127);
      assert.deepEqual((((await t.client.retrieve('/cse-in/blocked', owner)).body?.['m2m:ae'] as Attrs).lbl), ['yes'], 'not updated');
      rx.behaviour = 'ok';
      await rx.stop();
      const unreachable = await t.client.update('/cse-in/blocked', { 'm2m:ae': { lbl: ['nobody'] } }, owner);
      assert.equal(unreachable.rsc, 5107);
      assert.deepEqual((((await t.client.retrieve('/cse-in/blocked', owner)).body?.['m2m:ae'] as Attrs).lbl), ['yes']);
    });
  });

  it('Blocking_Update: a subscriber cannot hold back a change of acpi (the revocation of its own access)', async () => {
    const vetoing = await new Receiver().start();
    try {
      const owner = await t.client.registerAe('vetoed', { rr: true });
      assert.equal((await t.client.update('/cse-in/vetoed', { 'm2m:ae': { poa: [vetoing.url] } }, owner)).rsc, 2004);
      assert.equal((await t.client.create('/cse-in/vetoed', 3, { 'm2m:cnt': { rn: 'data' } }, owner)).rsc, 2001);
      const acp = await t.client.create('/cse-in/vetoed', 1, { 'm2m:acp': { rn: 'mine', pv: { acr: [{ acor: [owner], acop: 63 }] }, pvs: { acr: [{ acor: [owner], acop: 63 }] } } }, owner);
      assert.equal(acp.rsc, 2001, acp.text);
      assert.equal((await t.client.create('/cse-in/vetoed/data', 23, { 'm2m:sub': { rn: 'gate', nu: [owner], enc: { net: [7] } } }, owner)).rsc, 2001);
      vetoing.behaviour = 'refuse';
      assert.equal((await t.client.update('/cse-in/vetoed/data', { 'm2m:cnt': { lbl: ['x'] } }, owner)).rsc, 4127, 'other UPDATEs are the subscriber\'s to refuse');
      const asked = vetoing.notifications().length;
      assert.equal((await t.client.update('/cse-in/vetoed/data', { 'm2m:cnt': { acpi: ['cse-in/vetoed/mine'] } }, owner)).rsc, 2004, 'acpi');
      assert.equal((await t.client.update('/cse-in/vetoed/data', { 'm2m:cnt': { cstn: owner } }, owner)).rsc, 2004, 'cstn, decided like acpi');
      assert.equal(vetoing.notifications().length, asked, 'not asked');
      await vetoing.stop();
      assert.equal((await t.client.update('/cse-in/vetoed/data', { 'm2m:cnt': { acpi: null } }, owner)).rsc, 2004, 'nor waited for when unreachable');
    } finally {
      await vetoing.stop().catch(() => undefined);
    }
  });

  it('statistics (nse): nsi appears with the first notification; nse false keeps it, nse true starts afresh', async () => {
    const path = await container();
    const sub = await subscribe(path, { rn: 'stats', nse: true });
    assert.equal(sub.nsi, undefined);
    assert.equal((await t.client.update(path, { 'm2m:cnt': { lbl: ['1'] } }, ae)).rsc, 2004);
    const statsOf = async (): Promise<Attrs[] | undefined> => subOf((await t.client.retrieve(`${path}/stats`, ae)).body).nsi as Attrs[] | undefined;
    await waitFor(async () => (await statsOf())?.[0]?.rsr === 1);
    assert.deepEqual(await statsOf(), [{ tg: rx.url, rqs: 1, rsr: 1, noec: 1 }]);
    const off = await t.client.update(`${path}/stats`, { 'm2m:sub': { nse: false } }, ae);
    assert.deepEqual(subOf(off.body).nsi, [{ tg: rx.url, rqs: 1, rsr: 1, noec: 1 }]);
    const on = await t.client.update(`${path}/stats`, { 'm2m:sub': { nse: true, bn: { num: 2 } } }, ae);
    assert.equal(subOf(on.body).nsi, undefined);
    for (const v of ['2', '3']) assert.equal((await t.client.update(path, { 'm2m:cnt': { lbl: [v] } }, ae)).rsc, 2004);
    await waitFor(async () => (await statsOf())?.[0]?.rsr === 2);
    assert.deepEqual(await statsOf(), [{ tg: rx.url, rqs: 2, rsr: 2, noec: 2 }], 'a batch counts the notifications it carries');
    const gone = await t.client.update(`${path}/stats`, { 'm2m:sub': { nse: null } }, ae);
    assert.equal(subOf(gone.body).nsi, undefined);
  });

  it('batchNotify: dur as xs:duration, a default dur, latestNotify in an aggregate, and the rest sent on deletion', async () => {
    const path = await container();
    const byNumber = await subscribe(path, { rn: 'num', bn: { num: 3 } });
    assert.equal(typeof (byNumber.bn as Attrs).dur, 'number', 'the CSE fills in its duration');
    assert.ok(((byNumber.bn as Attrs).dur as number) > 0);
    const byDuration = await subscribe(path, { rn: 'dur', bn: { dur: 'PT1S' } });
    assert.deepEqual(byDuration.bn, { dur: 'PT1S' });
    assert.equal((await t.client.create(path, 23, { 'm2m:sub': { nu: [rx.url], bn: { dur: 'P1Y' } } }, ae)).rsc, 4000);
    assert.equal((await t.client.create(path, 23, { 'm2m:sub': { nu: [rx.url], bn: { dur: 'soon' } } }, ae)).rsc, 4000);
    assert.equal((await t.client.delete(`${path}/dur`, ae)).rsc, 2002);
    // A subscription without a batch shows when the event has been fanned out (to both at once).
    const probe = await new Receiver().start();
    try {
      assert.equal((await t.client.create(path, 23, { 'm2m:sub': { rn: 'probe', nu: [probe.url] } }, ae)).rsc, 2001);
      assert.equal((await t.client.update(path, { 'm2m:cnt': { lbl: ['pending'] } }, ae)).rsc, 2004);
      await waitFor(() => probe.notifications().length === 1);
    } finally {
      await probe.stop();
    }
    assert.equal((await t.client.delete(`${path}/probe`, ae)).rsc, 2002);
    assert.equal(rx.notifications().length, 0, 'the batch waits');
    assert.equal((await t.client.delete(`${path}/num`, ae)).rsc, 2002);
    await waitFor(() => rx.notifications().length === 1);
    const flushed = (rx.notifications()[0]?.['m2m:agn'] as Attrs)['m2m:sgn'] as Attrs[];
    assert.equal(flushed.length, 1);
    assert.deepEqual(((nev({ 'm2m:sgn': flushed[0] }).rep as Attrs)['m2m:cnt'] as Attrs).lbl, ['pending']);
    await subscribe(path, { rn: 'latest', bn: { num: 3 }, ln: true });
    for (const v of ['a', 'b', 'c']) assert.equal((await t.client.update(path, { 'm2m:cnt': { lbl: [v] } }, ae)).rsc, 2004);
    await waitFor(() => rx.notifications().length === 2);
    const latest = (rx.notifications()[1]?.['m2m:agn'] as Attrs)['m2m:sgn'] as Attrs[];
    assert.equal(latest.length, 1);
    assert.deepEqual(((nev({ 'm2m:sgn': latest[0] }).rep as Attrs)['m2m:cnt'] as Attrs).lbl, ['c']);
    assert.equal(rx.received.at(-1)?.headers['x-m2m-ec'], '4');
  });

  it("serializes a notification as a ct= key of the URL asks, else as the target AE's csz, else JSON", async () => {
    const path = await container();
    await subscribe(path, { rn: 'ct', nu: [`${rx.url}?ct=cbor`], enc: { net: [3] } });
    assert.equal((await t.client.create(path, 4, { 'm2m:cin': { con: 'in cbor' } }, ae)).rsc, 2001);
    await waitFor(() => rx.notifications().length === 1);
    const viaUrl = rx.received.at(-1);
    assert.equal(viaUrl?.headers['content-type'], 'application/cbor');
    assert.equal(((nev(viaUrl?.body ?? {}).rep as Attrs)['m2m:cin'] as Attrs).con, 'in cbor');
    assert.equal((await t.client.delete(`${path}/ct`, ae)).rsc, 2002);
    const cborAe = await t.client.registerAe('cborReceiver', { rr: true, poa: [rx.url], csz: ['application/cbor', 'application/json'] });
    await subscribe(path, { rn: 'csz', nu: [cborAe], enc: { net: [3] } });
    assert.equal((await t.client.create(path, 4, { 'm2m:cin': { con: 'csz' } }, ae)).rsc, 2001);
    await waitFor(() => rx.notifications().length === 2);
    assert.equal(rx.received.at(-1)?.headers['content-type'], 'application/cbor');
    await subscribe(path, { rn: 'json', enc: { net: [3] } });
    assert.equal((await t.client.create(path, 4, { 'm2m:cin': { con: 'json' } }, ae)).rsc, 2001);
    await waitFor(() => rx.received.some((r) => String(r.headers['content-type']).startsWith('application/json') && JSON.stringify(r.body).includes('"json"')));
  });
});

describe('Blocking_Update with two processes on one PostgreSQL database', () => {
  it('holds an UPDATE arriving at the other process until the first has its answer', async () => {
    const db = await createTestDatabase();
    // Processes of their own: this process's hold (a mutex per resource) is not what is tested.
    const flags = ['--storage.backend=postgres', `--storage.url=${db.url}`];
    const started = await Promise.allSettled([spawnWarden(flags), spawnWarden(flags)]);
    const rx = await new Receiver().start();
    try {
      if (started[0].status === 'rejected' || started[1].status === 'rejected') throw new Error('a Warden process did not start');
      const [a, b] = [started[0].value, started[1].value];
      const owner = await a.client.registerAe('guarded', { rr: true });
      assert.equal((await a.client.update('/cse-in/guarded', { 'm2m:ae': { poa: [rx.url] } }, owner)).rsc, 2004);
      assert.equal((await a.client.create('/cse-in/guarded', 23, { 'm2m:sub': { rn: 'gate', nu: [owner], enc: { net: [7] } } }, owner)).rsc, 2001);
      rx.behaviour = 'hold';
      const first = a.client.update('/cse-in/guarded', { 'm2m:ae': { lbl: ['by-a'] } }, owner);
      await waitFor(() => rx.holding === 1);
      const second = b.client.update('/cse-in/guarded', { 'm2m:ae': { lbl: ['by-b'] } }, owner);
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(rx.holding, 1, 'the subscriber is asked about one UPDATE at a time, whichever process has it');
      rx.release();
      assert.equal((await first).rsc, 2004);
      assert.equal((await second).rsc, 2004);
      const asked = rx.notifications().filter((n) => ((n['m2m:sgn'] as Attrs | undefined)?.nev as Attrs | undefined)?.net === 7);
      assert.deepEqual(asked.map((n) => (((((n['m2m:sgn'] as Attrs).nev as Attrs).rep as Attrs)['m2m:ae'] as Attrs).lbl)), [['by-a'], ['by-b']]);
      assert.deepEqual(((await a.client.retrieve('/cse-in/guarded', owner)).body?.['m2m:ae'] as Attrs).lbl, ['by-b']);
    } finally {
      await rx.stop();
      for (const s of started) if (s.status === 'fulfilled') await stopWarden(s.value.child);
      await db.drop();
    }
  });
});
