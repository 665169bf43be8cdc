import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { once } from 'node:events';
import { ManualClock, spawnWarden, startTestCse, stopWarden, tempDatabase, type TestCse } from '../harness.js';
import { Receiver, waitFor, type Received } from '../receiver.js';
import { formatTimestamp } from '../../src/primitive/identifiers.js';
import { createTestDatabase } from '../postgres.js';

type Attrs = Record<string, unknown>;
const ADMIN = 'CAdmin';
// 12:00:00 UTC: the windows below open at 13:00:00.
const START = Date.UTC(2026, 10, 25, 12, 0, 0);
const ONE_PM = Date.UTC(2026, 10, 25, 13, 0, 0);
const AT_ONE_PM = '* * 13 * * * *';

/** Subscription resource IDs by name, as the tests create them. */
const subscriptionIds = new Map<string, string>();
/** The event notifications a receiver got (not the verification requests), by the subscription they are for. */
function notificationsFor(rx: Receiver, subscriptionName: string): Received[] {
  const ri = subscriptionIds.get(subscriptionName) ?? subscriptionName;
  return rx.received.filter((r) => {
    const sgn = r.body['m2m:sgn'] as Attrs | undefined;
    return sgn?.nev !== undefined && String(sgn.sur).endsWith(`/${ri}`);
  });
}
function remember(name: string, reply: { rsc: number; text: string; body: Attrs | undefined }): void {
  assert.equal(reply.rsc, 2001, reply.text);
  subscriptionIds.set(name, String((reply.body?.['m2m:sub'] as Attrs).ri));
}
const labelsOf = (r: Received): unknown => ((((r.body['m2m:sgn'] as Attrs).nev as Attrs).rep as Attrs)['m2m:cnt'] as Attrs).lbl;
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('<schedule> over HTTP', () => {
  let t: TestCse;
  let ae: string;
  const clock = new ManualClock(START);
  before(async () => {
    t = await startTestCse({}, { clock });
    ae = await t.client.registerAe('planner');
    await t.client.create('/cse-in', 14, { 'm2m:nod': { rn: 'device', ni: 'urn:dev:1' } }, ADMIN);
  });
  after(() => t.close());

  const schedule = (rn: string | undefined, sce: unknown, extra: Attrs = {}): Attrs => ({ 'm2m:sch': { ...(rn === undefined ? {} : { rn }), se: { sce }, ...extra } });

  it('lives under the CSEBase (one), a node and a subscription (named notificationSchedule), with nco only under a node', async () => {
    const first = await t.client.create('/cse-in', 18, schedule('open', ['* * 8-20 * * * *']), ADMIN);
    assert.equal(first.rsc, 2001, first.text);
    assert.deepEqual((first.body?.['m2m:sch'] as Attrs).se, { sce: ['* * 8-20 * * * *'] });
    assert.equal((await t.client.create('/cse-in', 18, schedule('again', ['* * * * * * *']), ADMIN)).rsc, 4000, 'the CSEBase has one');
    assert.equal((await t.client.update('/cse-in/open', { 'm2m:sch': { nco: true } }, ADMIN)).rsc, 4102);
    assert.equal((await t.client.create('/cse-in/device', 18, schedule('coordinated', ['* * * * * * *'], { nco: true }), ADMIN)).rsc, 5001);
    const onNode = await t.client.create('/cse-in/device', 18, schedule('reach', ['* 0-5 2,6,10 * * * *'], { nco: false }), ADMIN);
    assert.equal(onNode.rsc, 2001, onNode.text);
    assert.equal((await t.client.update('/cse-in/device/reach', { 'm2m:sch': { nco: true } }, ADMIN)).rsc, 5001);
    assert.equal((await t.client.create('/cse-in/planner', 3, { 'm2m:cnt': { rn: 'c' } }, ae)).rsc, 2001);
    assert.equal((await t.client.create('/cse-in/planner/c', 18, schedule('x', ['* * * * * * *']), ae)).rsc, 4108, 'not a child of a container');
    const rx = await new Receiver().start();
    const sub = await t.client.create('/cse-in/planner/c', 23, { 'm2m:sub': { rn: 's', nu: [rx.url] } }, ae);
    const sub2 = await t.client.create('/cse-in/planner/c', 23, { 'm2m:sub': { rn: 's2', nu: [rx.url] } }, ae);
    await rx.stop();
    assert.equal(sub.rsc, 2001, sub.text);
    assert.equal(sub2.rsc, 2001, sub2.text);
    // A name given as null is no name, as any optional attribute given as null in a CREATE: it is filled in.
    const nullName = await t.client.create('/cse-in/planner/c/s2', 18, { 'm2m:sch': { rn: null, se: { sce: ['* * * * * * *'] } } }, ae);
    assert.equal(nullName.rsc, 2001, nullName.text);
    assert.equal((nullName.body?.['m2m:sch'] as Attrs).rn, 'notificationSchedule');
    assert.equal((await t.client.create('/cse-in/planner/c/s', 18, schedule('wrong', ['* * * * * * *']), ae)).rsc, 4000);
    const unnamed = await t.client.create('/cse-in/planner/c/s', 18, schedule(undefined, ['* * * * * * *']), ae);
    assert.equal(unnamed.rsc, 2001, unnamed.text);
    assert.equal((unnamed.body?.['m2m:sch'] as Attrs).rn, 'notificationSchedule');
    assert.equal((await t.client.create('/cse-in/planner/c/s', 18, schedule('notificationSchedule', ['* * * * * * *']), ae)).rsc, 4105, 'one per subscription');
    assert.equal((await t.client.retrieve('/cse-in/planner/c/s/notificationSchedule', ae)).rsc, 2000);
    assert.equal((await t.client.delete('/cse-in/planner/c', ae)).rsc, 2002);
  });

  it('refuses a malformed scheduleElement with 4000 naming it, and stores nothing', async () => {
    const bad: unknown[] = [
      [],
      ['* * * * * *'],
      ['60 * * * * * *'],
      ['* * 24 * * * *'],
      ['* * * * * * 2027-2026'],
      ['a * * * * * *'],
      ['*/0 * * * * * *'],
      ['* * * 0 * * *'],
      ['1,*,2 * * * * * *'],
      [7],
      '* * * * * * *',
      Array.from({ length: 33 }, () => '* * * * * * *'),
    ];
    for (const sce of bad) {
      const reply = await t.client.create('/cse-in/device', 18, schedule('bad', sce), ADMIN);
      assert.equal(reply.rsc, 4000, `${JSON.stringify(sce)}: ${reply.text}`);
      assert.match(String(reply.body?.['m2m:dbg']), /'se'/);
    }
    assert.equal((await t.client.create('/cse-in/device', 18, { 'm2m:sch': { rn: 'bad', se: { entries: ['* * * * * * *'] } } }, ADMIN)).rsc, 4000);
    assert.equal((await t.client.create('/cse-in/device', 18, { 'm2m:sch': { rn: 'bad' } }, ADMIN)).rsc, 4000, 'se is mandatory');
    assert.equal((await t.client.retrieve('/cse-in/device/bad', ADMIN)).rsc, 4004);
    assert.equal((await t.client.update('/cse-in/device/reach', schedule(undefined, ['* * * * * * 99999']), ADMIN)).rsc, 4000);
  });

  it("holds a subscription's notifications outside its window: dropped without pn, all with sendAllPending, the latest with sendLatest; nec immediate sends at once", async () => {
    clock.set(START);
    const rx = await new Receiver().start();
    try {
      assert.equal((await t.client.create('/cse-in/planner', 3, { 'm2m:cnt': { rn: 'box' } }, ae)).rsc, 2001);
      const subscriptions: Array<[string, Attrs]> = [
        ['none', {}],
        ['all', { pn: 2 }],
        ['latest', { pn: 1 }],
        ['urgent', { nec: 2 }],
      ];
      for (const [rn, extra] of subscriptions) {
        remember(rn, await t.client.create('/cse-in/planner/box', 23, { 'm2m:sub': { rn, nu: [rx.url], ...extra } }, ae));
        const sch = await t.client.create(`/cse-in/planner/box/${rn}`, 18, schedule(undefined, [AT_ONE_PM]), ae);
        assert.equal(sch.rsc, 2001, sch.text);
      }
      for (const lbl of ['one', 'two']) assert.equal((await t.client.update('/cse-in/planner/box', { 'm2m:cnt': { lbl: [lbl] } }, ae)).rsc, 2004);
      await waitFor(() => notificationsFor(rx, 'urgent').length === 2);
      t.cse.deliverer.wake();
      await pause(300);
      for (const rn of ['none', 'all', 'latest']) assert.equal(notificationsFor(rx, rn).length, 0, `${rn} is held before 13:00`);

      clock.set(ONE_PM);
      t.cse.deliverer.wake();
      await waitFor(() => notificationsFor(rx, 'all').length === 2 && notificationsFor(rx, 'latest').length === 1);
      assert.deepEqual(notificationsFor(rx, 'all').map(labelsOf), [['one'], ['two']], 'all pending, in order');
      const [latest] = notificationsFor(rx, 'latest');
      assert.deepEqual(latest && labelsOf(latest), ['two']);
      assert.equal(latest?.headers['x-m2m-ec'], '4', "sent with Event Category 'latest'");
      await pause(300);
      assert.equal(notificationsFor(rx, 'none').length, 0, 'without pendingNotification they were dropped');
      assert.equal(notificationsFor(rx, 'latest').length, 1);

      // Within the window every subscription is told at once.
      assert.equal((await t.client.update('/cse-in/planner/box', { 'm2m:cnt': { lbl: ['three'] } }, ae)).rsc, 2004);
      await waitFor(() => ['none', 'all', 'latest', 'urgent'].every((rn) => notificationsFor(rx, rn).some((r) => JSON.stringify(labelsOf(r)) === '["three"]')));
    } finally {
      await rx.stop();
    }
  });

  it('sends what it held when the schedule is removed, and forgets it when the subscription goes', async () => {
    clock.set(START);
    const rx = await new Receiver().start();
    try {
      assert.equal((await t.client.create('/cse-in/planner', 3, { 'm2m:cnt': { rn: 'shelf' } }, ae)).rsc, 2001);
      for (const rn of ['kept', 'gone']) {
        remember(rn, await t.client.create('/cse-in/planner/shelf', 23, { 'm2m:sub': { rn, nu: [rx.url], pn: 2 } }, ae));
        assert.equal((await t.client.create(`/cse-in/planner/shelf/${rn}`, 18, schedule(undefined, [AT_ONE_PM]), ae)).rsc, 2001);
      }
      assert.equal((await t.client.update('/cse-in/planner/shelf', { 'm2m:cnt': { lbl: ['held'] } }, ae)).rsc, 2004);
      t.cse.deliverer.wake();
      await waitFor(async () => (await t.cse.services.store.countQueuedByPrefix('held:', 10)) === 2);
      assert.equal(await t.cse.services.store.countQueuedByPrefix('tmr:notificationSchedule ', 10), 2);
      assert.equal((await t.client.delete('/cse-in/planner/shelf/gone', ae)).rsc, 2002);
      assert.equal(await t.cse.services.store.countQueuedByPrefix('held:', 10), 1, "a deleted subscription's held notifications go with it");
      // So does the timer that would release them (a window years ahead, or none: it would stay that long).
      assert.equal(await t.cse.services.store.countQueuedByPrefix('tmr:notificationSchedule ', 10), 1, "a deleted subscription's release timer goes with it");
      assert.equal((await t.client.delete('/cse-in/planner/shelf/kept/notificationSchedule', ae)).rsc, 2002);
      t.cse.deliverer.wake();
      await waitFor(() => notificationsFor(rx, 'kept').length === 1);
      assert.equal(await t.cse.services.store.countQueuedByPrefix('held:', 10), 0);
      assert.equal(notificationsFor(rx, 'gone').length, 0);
    } finally {
      await rx.stop();
    }
  });
  it('holds nothing for a subscription deleted while the fan-out that holds for it was deciding', async () => {
    clock.set(START);
    const rx = await new Receiver().start();
    assert.equal((await t.client.create('/cse-in/planner', 3, { 'm2m:cnt': { rn: 'bin' } }, ae)).rsc, 2001);
    remember('brief', await t.client.create('/cse-in/planner/bin', 23, { 'm2m:sub': { rn: 'brief', nu: [rx.url], pn: 2 } }, ae));
    assert.equal((await t.client.create('/cse-in/planner/bin/brief', 18, schedule(undefined, [AT_ONE_PM]), ae)).rsc, 2001);
    const store = t.cse.services.store;
    const subscriptionsOf = store.subscriptionsOf.bind(store);
    // The fan-out reads the subscriptions, then the subscription is deleted before its transaction.
    store.subscriptionsOf = async (ri, limit) => {
      const found = await subscriptionsOf(ri, limit);
      if (found.some((sub) => sub.rn === 'brief')) {
        store.subscriptionsOf = subscriptionsOf;
        assert.equal((await t.client.delete('/cse-in/planner/bin/brief', ae)).rsc, 2002);
      }
      return found;
    };
    try {
      assert.equal((await t.client.update('/cse-in/planner/bin', { 'm2m:cnt': { lbl: ['late'] } }, ae)).rsc, 2004);
      t.cse.deliverer.wake();
      await waitFor(async () => (await store.countQueuedByPrefix('fanout:', 10)) === 0);
    } finally {
      store.subscriptionsOf = subscriptionsOf;
      await rx.stop();
    }
    assert.equal(await store.countQueuedByPrefix('held:', 10), 0, 'nothing held for a subscription that is gone');
  });

  it('applies a changed pendingNotification to what is held at once: sendLatest keeps the newest, none keeps nothing', async () => {
    clock.set(START);
    const rx = await new Receiver().start();
    const held = (): Promise<number> => t.cse.services.store.countQueuedByPrefix('held:', 100);
    try {
      assert.equal((await t.client.create('/cse-in/planner', 3, { 'm2m:cnt': { rn: 'drawer' } }, ae)).rsc, 2001);
      remember('policy', await t.client.create('/cse-in/planner/drawer', 23, { 'm2m:sub': { rn: 'policy', nu: [rx.url], pn: 2 } }, ae));
      assert.equal((await t.client.create('/cse-in/planner/drawer/policy', 18, schedule(undefined, [AT_ONE_PM]), ae)).rsc, 2001);
      for (const lbl of ['a', 'b', 'c']) assert.equal((await t.client.update('/cse-in/planner/drawer', { 'm2m:cnt': { lbl: [lbl] } }, ae)).rsc, 2004);
      t.cse.deliverer.wake();
      await waitFor(async () => (await held()) === 3);
      assert.equal((await t.client.update('/cse-in/planner/drawer/policy', { 'm2m:sub': { pn: 1 } }, ae)).rsc, 2004);
      t.cse.deliverer.wake();
      await waitFor(async () => (await held()) === 1);
      assert.equal((await t.client.update('/cse-in/planner/drawer/policy', { 'm2m:sub': { pn: null } }, ae)).rsc, 2004);
      t.cse.deliverer.wake();
      await waitFor(async () => (await held()) === 0);
      assert.equal(notificationsFor(rx, 'policy').length, 0, 'nothing was sent before the window');
      assert.equal((await t.client.delete('/cse-in/planner/drawer', ae)).rsc, 2002);
    } finally {
      await rx.stop();
    }
  });
  it('does not hand a held notification to a later holder of the AE-ID it was held for', async () => {
    clock.set(START);
    const first = await new Receiver().start();
    const later = await new Receiver().start();
    try {
      const listener = await t.client.registerAe('listener', { rr: true, poa: [first.url] });
      assert.equal((await t.client.create('/cse-in/planner', 3, { 'm2m:cnt': { rn: 'tray' } }, ae)).rsc, 2001);
      remember('toAe', await t.client.create('/cse-in/planner/tray', 23, { 'm2m:sub': { rn: 'toAe', nu: [listener], pn: 2 } }, ae));
      assert.equal((await t.client.create('/cse-in/planner/tray/toAe', 18, schedule(undefined, [AT_ONE_PM]), ae)).rsc, 2001);
      assert.equal((await t.client.update('/cse-in/planner/tray', { 'm2m:cnt': { lbl: ['private'] } }, ae)).rsc, 2004);
      t.cse.deliverer.wake();
      await waitFor(async () => (await t.cse.services.store.countQueuedByPrefix('held:', 10)) === 1);
      assert.equal((await t.client.delete('/cse-in/listener', listener)).rsc, 2002);
      await t.client.registerAe('listener', { rr: true, poa: [later.url] });
      clock.set(ONE_PM);
      t.cse.deliverer.wake();
      await waitFor(async () => (await t.cse.services.store.countQueuedByPrefix('held:', 10)) === 0);
      await pause(300);
      assert.equal(notificationsFor(later, 'toAe').length, 0);
      assert.equal(notificationsFor(first, 'toAe').length, 0);
      assert.equal((await t.client.delete('/cse-in/planner/tray', ae)).rsc, 2002);
    } finally {
      await first.stop();
      await later.stop();
    }
  });
});

describe('<timeSyncBeacon> over HTTP', () => {
  let t: TestCse;
  let ae: string;
  const clock = new ManualClock(START);
  before(async () => {
    t = await startTestCse({}, { clock });
    ae = await t.client.registerAe('clocked');
  });
  after(() => t.close());

  it("sends periodic beacons with the CSE's time on a durable timer, until it is deleted", async () => {
    const rx = await new Receiver().start();
    try {
      const created = await t.client.create('/cse-in/clocked', 60, { 'm2m:tsb': { rn: 'tick', bcnc: 1, bcni: 'PT10S', bcnu: [rx.url] } }, ae);
      assert.equal(created.rsc, 2001, created.text);
      assert.equal(rx.received.splice(0).length, 1, 'the target was verified first');
      const tsb = created.body?.['m2m:tsb'] as Attrs;
      assert.deepEqual([tsb.bcnc, tsb.bcni, tsb.bcnt], [1, 'PT10S', undefined]);
      t.cse.deliverer.wake();
      await pause(200);
      assert.equal(rx.received.length, 0, 'the first beacon comes an interval later');
      clock.advance(10_000);
      t.cse.deliverer.wake();
      await waitFor(() => rx.received.length === 1);
      assert.deepEqual(rx.received[0]?.body, { 'm2m:tsbn': { tbr: tsb.ri, ctm: formatTimestamp(START + 10_000) } });
      // The clock moves once the delivery has ended: moved while it waits for the answer, the answer looks slow.
      await pause(200);
      clock.advance(10_000);
      t.cse.deliverer.wake();
      await waitFor(() => rx.received.length === 2);
      assert.deepEqual(rx.received[1]?.body, { 'm2m:tsbn': { tbr: tsb.ri, ctm: formatTimestamp(START + 20_000) } });
      await pause(200);
      assert.equal((await t.client.delete('/cse-in/clocked/tick', ae)).rsc, 2002);
      clock.advance(10_000);
      t.cse.deliverer.wake();
      await pause(300);
      assert.equal(rx.received.length, 2, 'no beacon after the deletion');
    } finally {
      await rx.stop();
    }
  });

  it('sends a loss-of-synchronization beacon when its requester\'s originating timestamp is off by more than bcnt', async () => {
    const rx = await new Receiver().start();
    const other = await t.client.registerAe('unwatched');
    try {
      const created = await t.client.create('/cse-in/clocked', 60, { 'm2m:tsb': { rn: 'drift', bcnc: 2, bcnr: ae, bcnt: 'PT5S', bcnu: [rx.url] } }, ae);
      assert.equal(created.rsc, 2001, created.text);
      rx.received.splice(0); // the verification request
      const tbr = (created.body?.['m2m:tsb'] as Attrs).ri;
      /** A request of `origin` whose clock reads `offset` ms from the CSE's (none: no ot). */
      const ask = async (origin: string, offset?: number): Promise<void> => {
        const headers: Record<string, string> = offset === undefined ? {} : { 'X-M2M-OT': formatTimestamp(clock.now() + offset) };
        assert.equal((await t.client.retrieve(origin === ae ? '/cse-in/clocked' : '/cse-in/unwatched', origin, { headers })).rsc, 2000);
      };
      const settled = async (): Promise<void> => {
        t.cse.deliverer.wake();
        await waitFor(async () => (await t.cse.services.store.countQueuedByPrefix('', 10)) === 0);
      };
      await ask(ae, 4_000);
      await ask(ae, -4_000);
      await ask(ae);
      await ask(other, -60_000);
      await settled();
      assert.equal(rx.received.length, 0, 'within the threshold, without ot, or another originator: no beacon');
      await ask(ae, -60_000);
      await waitFor(() => rx.received.length === 1);
      assert.deepEqual(rx.received[0]?.body, { 'm2m:tsbn': { tbr, ctm: formatTimestamp(clock.now()) } });
      // Bounded: not one beacon per drifting request.
      await ask(ae, 60_000);
      await settled();
      assert.equal(rx.received.length, 1);
      clock.advance(10_000);
      await ask(ae, 60_000);
      await waitFor(() => rx.received.length === 2);
      assert.deepEqual(rx.received[1]?.body, { 'm2m:tsbn': { tbr, ctm: formatTimestamp(clock.now()) } });
      // A larger threshold (UPDATE) tolerates the drift; a deleted beacon sends nothing.
      assert.equal((await t.client.update('/cse-in/clocked/drift', { 'm2m:tsb': { bcnt: 'PT2M' } }, ae)).rsc, 2004);
      clock.advance(10_000);
      await ask(ae, 60_000);
      await settled();
      assert.equal(rx.received.length, 2);
      assert.equal((await t.client.delete('/cse-in/clocked/drift', ae)).rsc, 2002);
      clock.advance(10_000);
      await ask(ae, 600_000);
      await settled();
      assert.equal(rx.received.length, 2);
    } finally {
      await rx.stop();
    }
  });

  it('verifies every beacon target as a subscription target, at CREATE and when bcnu changes', async () => {
    const willing = await new Receiver().start();
    const unwilling = await new Receiver().start();
    unwilling.behaviour = 'refuse';
    try {
      const refused = await t.client.create('/cse-in/clocked', 60, { 'm2m:tsb': { rn: 'v', bcnc: 1, bcnu: [unwilling.url] } }, ae);
      assert.equal(refused.rsc, 5204, refused.text);
      assert.equal(unwilling.received.length, 1, 'asked, and it said no');
      assert.equal((await t.client.create('/cse-in/clocked', 60, { 'm2m:tsb': { rn: 'v', bcnc: 1, bcnu: [willing.url] } }, ae)).rsc, 2001);
      assert.equal(willing.received.length, 1, 'the verification request');
      assert.equal((await t.client.update('/cse-in/clocked/v', { 'm2m:tsb': { bcnu: [willing.url, unwilling.url] } }, ae)).rsc, 5204);
      assert.equal(willing.received.length, 1, 'a target it had already is not asked again');
      // Another AE that is reached by polling only: its policies must grant NOTIFY (the default policy does not).
      const other = await t.client.registerAe('pollingOnly', { rr: false });
      assert.equal((await t.client.create('/cse-in/pollingOnly', 15, { 'm2m:pch': { rn: 'pch' } }, other)).rsc, 2001);
      assert.equal((await t.client.update('/cse-in/clocked/v', { 'm2m:tsb': { bcnu: [other] } }, ae)).rsc, 5204);
      assert.equal((await t.client.delete('/cse-in/clocked/v', ae)).rsc, 2002);
    } finally {
      await willing.stop();
      await unwilling.stop();
    }
  });

  it('applies the criteria rules and defaults, and refuses what breaks them with 4000', async () => {
    const rx = await new Receiver().start();
    after(() => rx.stop());
    const make = (attrs: Attrs) => t.client.create('/cse-in/clocked', 60, { 'm2m:tsb': { rn: 'b', bcnu: [rx.url], ...attrs } }, ae);
    const periodic = await make({ bcnc: 1 });
    assert.equal(periodic.rsc, 2001, periodic.text);
    assert.equal((periodic.body?.['m2m:tsb'] as Attrs).bcni, 'PT1H');
    assert.equal((await t.client.delete('/cse-in/clocked/b', ae)).rsc, 2002);
    const los = await make({ bcnc: 2, bcnr: ae });
    assert.equal(los.rsc, 2001, los.text);
    assert.deepEqual([(los.body?.['m2m:tsb'] as Attrs).bcnt, (los.body?.['m2m:tsb'] as Attrs).bcni], [60_000, undefined]);
    assert.equal((await t.client.update('/cse-in/clocked/b', { 'm2m:tsb': { bcni: 'PT5S' } }, ae)).rsc, 4000);
    assert.equal((await t.client.delete('/cse-in/clocked/b', ae)).rsc, 2002);
    const refused: Array<[Attrs, string]> = [
      [{ bcnc: 1, bcnu: [] }, 'bcnu'],
      [{ bcnc: 2, bcni: 'PT10S', bcnr: ae }, 'bcni'],
      [{ bcnc: 1, bcnt: 10 }, 'bcnt'],
      [{ bcnc: 2, bcnt: 10 }, 'bcnr'],
      [{ bcnc: 1, bcnr: ae }, 'bcnr'],
      [{ bcnc: 1, bcni: 'PT0.1S' }, 'bcni'],
      [{ bcnc: 3 }, 'bcnc'],
      [{ bcnu: ['http://127.0.0.1:1/'] }, 'bcnc'],
      [{ bcnc: 1, bcnu: ['ftp://example.com/'] }, 'bcnu'],
    ];
    for (const [attrs, name] of refused) {
      const reply = await make(attrs);
      assert.equal(reply.rsc, 4000, `${JSON.stringify(attrs)}: ${reply.text}`);
      assert.match(String(reply.body?.['m2m:dbg']), new RegExp(name));
    }
    assert.equal((await t.client.retrieve('/cse-in/clocked/b', ae)).rsc, 4004);
  });

  it('gives one creator at most 16 periodic beacons (the admin excepted)', async () => {
    const rx = await new Receiver().start();
    after(() => rx.stop());
    const busy = await t.client.registerAe('beaconer');
    const periodic = (rn: string, originator = busy) => t.client.create('/cse-in/beaconer', 60, { 'm2m:tsb': { rn, bcnc: 1, bcni: 'PT1H', bcnu: [rx.url] } }, originator);
    for (let i = 0; i < 16; i++) assert.equal((await periodic(`p${i}`)).rsc, 2001);
    const seventeenth = await periodic('p16');
    assert.equal(seventeenth.rsc, 5207, seventeenth.text);
    assert.match(String(seventeenth.body?.['m2m:dbg']), /16 periodic time sync beacons/);
    assert.equal((await periodic('byAdmin', 'CAdmin')).rsc, 2001);
    // A loss-of-synchronization beacon is no periodic one.
    assert.equal((await t.client.create('/cse-in/beaconer', 60, { 'm2m:tsb': { rn: 'los', bcnc: 2, bcnr: busy, bcnu: [rx.url] } }, busy)).rsc, 2001);
    assert.equal((await t.client.delete('/cse-in/beaconer/p1', busy)).rsc, 2002);
    assert.equal((await periodic('p16')).rsc, 2001, 'a place comes back when a beacon goes');
  });

  it("watches only its creator's own requests (another requester: 4103; the admin may name any), at most 16 beacons per requester", async () => {
    const rx = await new Receiver().start();
    after(() => rx.stop());
    const other = await t.client.registerAe('watched');
    const make = (rn: string, bcnr: string, originator = ae) => t.client.create('/cse-in/clocked', 60, { 'm2m:tsb': { rn, bcnc: 2, bcnr, bcnt: 'PT1S', bcnu: [rx.url] } }, originator);
    const spying = await make('spy', other);
    assert.equal(spying.rsc, 4103, spying.text);
    assert.match(String(spying.body?.['m2m:dbg']), /bcnr/);
    assert.equal((await make('spy2', `/${t.cse.services.self.cseId}/${other}`)).rsc, 4103, 'not in another form either');
    assert.equal((await make('mine', `/${t.cse.services.self.cseId}/${ae}`)).rsc, 2001, 'its own ID in SP-relative form');
    assert.equal((await make('byAdmin', other, 'CAdmin')).rsc, 2001);
    // Both spellings the watch matches count for one requester: eight more as the AE-ID, eight as the SP-relative ID.
    for (let i = 1; i < 8; i++) assert.equal((await make(`w${i}`, other, 'CAdmin')).rsc, 2001);
    for (let i = 8; i < 16; i++) assert.equal((await make(`w${i}`, `/${t.cse.services.self.cseId}/${other}`, 'CAdmin')).rsc, 2001);
    const seventeenth = await make('w16', other, 'CAdmin');
    assert.equal(seventeenth.rsc, 5207, seventeenth.text);
  });
});

describe('held notifications are durable', () => {
  it('are sent when the window opens after a restart of the CSE', async () => {
    const storage = tempDatabase();
    const rx = await new Receiver().start();
    const first = await spawnWarden([`--storage.path=${storage}`]);
    let second: Awaited<ReturnType<typeof spawnWarden>> | undefined;
    try {
      const ae = await first.client.registerAe('durable');
      assert.equal((await first.client.create('/cse-in/durable', 3, { 'm2m:cnt': { rn: 'box' } }, ae)).rsc, 2001);
      remember('later', await first.client.create('/cse-in/durable/box', 23, { 'm2m:sub': { rn: 'later', nu: [rx.url], pn: 2 } }, ae));
      // A window of 30 one-second entries starting 8 s from now (each entry a whole date, so no range wraps).
      const opens = Math.ceil(Date.now() / 1000) * 1000 + 8000;
      const sce = Array.from({ length: 30 }, (_, i) => {
        const d = new Date(opens + i * 1000);
        return `${d.getUTCSeconds()} ${d.getUTCMinutes()} ${d.getUTCHours()} ${d.getUTCDate()} ${d.getUTCMonth() + 1} * ${d.getUTCFullYear()}`;
      });
      assert.equal((await first.client.create('/cse-in/durable/box/later', 18, { 'm2m:sch': { se: { sce } } }, ae)).rsc, 2001);
      assert.equal((await first.client.update('/cse-in/durable/box', { 'm2m:cnt': { lbl: ['kept'] } }, ae)).rsc, 2004);
      await pause(500);
      assert.equal(notificationsFor(rx, 'later').length, 0, 'held until the window opens');
      first.child.kill('SIGKILL');
      await once(first.child, 'exit');
      second = await spawnWarden([`--storage.path=${storage}`]);
      await waitFor(() => notificationsFor(rx, 'later').length === 1, 30_000);
      assert.ok(Date.now() >= opens, 'not before the window opened');
    } finally {
      if (second) await stopWarden(second.child);
      if (first.child.exitCode === null) await stopWarden(first.child);
      await rx.stop();
    }
  });
});

describe('schedules and beacons on two processes on one PostgreSQL database', () => {
  it('release held notifications once, and send each beacon once', async () => {
    const db = await createTestDatabase();
    const rx = await new Receiver().start();
    const flags = ['--storage.backend=postgres', `--storage.url=${db.url}`];
    const started = await Promise.allSettled([spawnWarden(flags), spawnWarden(flags)]);
    try {
      if (started[0].status === 'rejected' || started[1].status === 'rejected') throw new Error('a Warden process did not start');
      const [a, b] = [started[0].value, started[1].value];
      const ae = await a.client.registerAe('pair');
      assert.equal((await a.client.create('/cse-in/pair', 3, { 'm2m:cnt': { rn: 'box' } }, ae)).rsc, 2001);
      remember('shared', await a.client.create('/cse-in/pair/box', 23, { 'm2m:sub': { rn: 'shared', nu: [rx.url], pn: 2 } }, ae));
      const opens = Math.ceil(Date.now() / 1000) * 1000 + 6000;
      const sce = Array.from({ length: 30 }, (_, i) => {
        const d = new Date(opens + i * 1000);
        return `${d.getUTCSeconds()} ${d.getUTCMinutes()} ${d.getUTCHours()} ${d.getUTCDate()} ${d.getUTCMonth() + 1} * ${d.getUTCFullYear()}`;
      });
      assert.equal((await b.client.create('/cse-in/pair/box/shared', 18, { 'm2m:sch': { se: { sce } } }, ae)).rsc, 2001);
      for (const [i, p] of [a, b].entries()) assert.equal((await p.client.update('/cse-in/pair/box', { 'm2m:cnt': { lbl: [`by${i}`] } }, ae)).rsc, 2004);
      const beacon = await b.client.create('/cse-in/pair', 60, { 'm2m:tsb': { rn: 'tick', bcnc: 1, bcni: 'PT1S', bcnu: [rx.url] } }, ae);
      assert.equal(beacon.rsc, 2001, beacon.text);
      const beacons = (): Received[] => rx.received.filter((r) => r.body['m2m:tsbn'] !== undefined);
      await waitFor(() => notificationsFor(rx, 'shared').length >= 2 && beacons().length >= 4, 30_000);
      assert.equal((await a.client.delete('/cse-in/pair/tick', ae)).rsc, 2002);
      await pause(1500);
      assert.deepEqual(notificationsFor(rx, 'shared').map(labelsOf), [['by0'], ['by1']], 'each held notification sent once, in order');
      const times = beacons().map((r) => (r.body['m2m:tsbn'] as Attrs).ctm);
      assert.equal(new Set(times).size, times.length, 'no beacon was sent by both processes');
    } finally {
      for (const s of started) if (s.status === 'fulfilled') await stopWarden(s.value.child);
      await rx.stop();
      await db.drop();
    }
  });
});
