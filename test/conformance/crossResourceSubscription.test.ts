import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { once } from 'node:events';
import { ManualClock, spawnWarden, startTestCse, stopWarden, tempDatabase, type TestCse } from '../harness.js';
import { Receiver, waitFor } from '../receiver.js';

type Attrs = Record<string, unknown>;
const crsOf = (reply: { body: Attrs | undefined }): Attrs => reply.body?.['m2m:crs'] as Attrs;
const START = Date.UTC(2026, 10, 25, 12, 0, 0);
const CREATE_CHILD = { enc: [{ net: [3] }] };

describe('crossResourceSubscription over HTTP', () => {
  let t: TestCse;
  let owner: string;
  let stranger: string;
  let rx: Receiver;
  const clock = new ManualClock(START);
  const sources: string[] = [];

  before(async () => {
    t = await startTestCse({}, { clock });
    rx = await new Receiver().start();
    owner = await t.client.registerAe('owner');
    stranger = await t.client.registerAe('stranger');
    for (const rn of ['c1', 'c2']) {
      const reply = await t.client.create('/cse-in/owner', 3, { 'm2m:cnt': { rn } }, owner);
      assert.equal(reply.rsc, 2001, reply.text);
      sources.push((reply.body?.['m2m:cnt'] as Attrs).ri as string);
    }
    // The stranger's container: nothing grants the owner anything on it.
    assert.equal((await t.client.create('/cse-in/stranger', 3, { 'm2m:cnt': { rn: 'secret' } }, stranger)).rsc, 2001);
  });
  after(async () => {
    await rx.stop();
    await t.close();
  });

  const crsUri = (ri: string): string => `${t.config.cse.id.startsWith('/') ? '' : '/'}${t.config.cse.id}/${ri}`;
  const notificationsFor = (ri: string): Attrs[] => rx.notifications().filter((b) => (b['m2m:sgn'] as Attrs | undefined)?.sur === crsUri(ri));

  async function createCrs(rn: string, extra: Attrs): Promise<Attrs> {
    const reply = await t.client.create('/cse-in/owner', 48, { 'm2m:crs': { rn, nu: [rx.url], twt: 1, tws: 'PT10S', rrat: sources, encs: CREATE_CHILD, ...extra } }, owner);
    assert.equal(reply.rsc, 2001, reply.text);
    return crsOf(reply);
  }
  async function event(container: string): Promise<void> {
    assert.equal((await t.client.create(`/cse-in/owner/${container}`, 4, { 'm2m:cin': { con: 'x' } }, owner)).rsc, 2001);
  }
  /** The sources the window has heard from so far, once their notifications have reached it through the outbox. */
  async function heard(ri: string, count: number): Promise<void> {
    t.cse.deliverer.wake();
    await waitFor(async () => (((await t.cse.services.store.get(ri))?.doc.__crsWindow as { seen?: unknown[] } | undefined)?.seen ?? []).length === count);
    // The window hears a source while that notification's delivery is still in flight: the clock moves only once it
    // has ended, so that what the test asserts next is not raced by it.
    await waitFor(() => !t.cse.deliverer.sending);
  }
  /** Moves the clock past the window's end and waits for its timer to have run (the window emptied). */
  async function endWindow(ri: string, ms: number): Promise<void> {
    clock.advance(ms);
    t.cse.deliverer.wake();
    await waitFor(async () => {
      t.cse.deliverer.wake();
      const window = (await t.cse.services.store.get(ri))?.doc.__crsWindow as { seen?: unknown[]; open?: boolean } | undefined;
      return (window?.seen ?? []).length === 0 && window?.open !== true;
    });
  }
  async function subscriptionsUnder(container: string): Promise<string[]> {
    const reply = await t.client.retrieve(`/cse-in/owner/${container}?fu=1&ty=23`, owner);
    return (reply.body?.['m2m:uril'] as string[] | undefined) ?? [];
  }

  it('makes a subscription on each regular resource, and notifies when both events fall in one periodic window', async () => {
    const crs = await createCrs('periodic', {});
    const rrats = crs.rrats as string[];
    assert.equal(rrats.length, 2);
    assert.equal(crs.eem, 1);
    for (const [i, container] of ['c1', 'c2'].entries()) {
      // SP-relative: /<CSE-ID>/<ri> of the subscription discovery finds there.
      const listed = await t.client.retrieve(`/cse-in/owner/${container}?fu=1&ty=23&drt=2`, owner);
      assert.deepEqual(listed.body?.['m2m:uril'], [rrats[i]?.split('/').pop()]);
      assert.equal(rrats[i], crsUri(rrats[i]?.split('/').pop() ?? ''));
      const made = (await t.client.retrieve(`/~${rrats[i] ?? ''}`, owner)).body?.['m2m:sub'] as Attrs;
      assert.deepEqual(made.nu, [crsUri(crs.ri as string)]);
      assert.deepEqual(made.acrs, [crsUri(crs.ri as string)]);
      assert.deepEqual(made.enc, { net: [3] });
    }
    await event('c1');
    await event('c2');
    await heard(crs.ri as string, 2);
    assert.equal(notificationsFor(crs.ri as string).length, 0, 'nothing before the window ends');
    await endWindow(crs.ri as string, 10_000);
    await waitFor(() => notificationsFor(crs.ri as string).length === 1);
    assert.deepEqual(notificationsFor(crs.ri as string)[0], { 'm2m:sgn': { sur: crsUri(crs.ri as string) } });
    assert.equal((await t.client.delete('/cse-in/owner/periodic', owner)).rsc, 2002);
  });

  it('does not notify when only one of the events falls in the window, and starts the next one', async () => {
    const crs = await createCrs('lonely', {});
    const ri = crs.ri as string;
    await event('c1');
    await heard(ri, 1);
    await endWindow(ri, 10_000);
    // The next window: the other event alone does not make it either.
    await event('c2');
    await heard(ri, 1);
    await endWindow(ri, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(notificationsFor(ri).length, 0);
    assert.equal((await t.client.delete('/cse-in/owner/lonely', owner)).rsc, 2002);
  });

  it('opens a sliding window with the first event and notifies when the second one comes before it ends', async () => {
    const crs = await createCrs('sliding', { twt: 2 });
    const ri = crs.ri as string;
    await event('c1');
    await heard(ri, 1);
    clock.advance(6_000);
    await event('c2');
    await heard(ri, 2);
    await endWindow(ri, 5_000);
    await waitFor(() => notificationsFor(ri).length === 1);
    // A window that the first event opens alone ends without a notification.
    await event('c2');
    await heard(ri, 1);
    await endWindow(ri, 11_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(notificationsFor(ri).length, 1);
    assert.equal((await t.client.delete('/cse-in/owner/sliding', owner)).rsc, 2002);
  });

  it('drops its notification outside its notificationSchedule, and sends it once the schedule opens', async () => {
    const crs = await createCrs('scheduled', {});
    const ri = crs.ri as string;
    // Only between midnight and 2 a.m. (UTC); the clock stands at noon.
    const sch = await t.client.create('/cse-in/owner/scheduled', 18, { 'm2m:sch': { se: { sce: ['* * 0-1 * * * *'] } } }, owner);
    assert.equal(sch.rsc, 2001, sch.text);
    assert.equal((sch.body?.['m2m:sch'] as Attrs).rn, 'notificationSchedule');
    await event('c1');
    await event('c2');
    await heard(ri, 2);
    await endWindow(ri, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    t.cse.deliverer.wake();
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(notificationsFor(ri).length, 0, 'met outside the schedule: dropped (a crossResourceSubscription has no pendingNotification)');
    const opened = await t.client.update('/cse-in/owner/scheduled/notificationSchedule', { 'm2m:sch': { se: { sce: ['* * * * * * *'] } } }, owner);
    assert.equal(opened.rsc, 2004, opened.text);
    await event('c1');
    await event('c2');
    await heard(ri, 2);
    await endWindow(ri, 10_000);
    await waitFor(() => notificationsFor(ri).length === 1);
    assert.equal((await t.client.delete('/cse-in/owner/scheduled', owner)).rsc, 2002);
  });

  it('evaluates the modes: all events missing notifies for an empty periodic window', async () => {
    const crs = await createCrs('quiet', { eem: 4 });
    await endWindow(crs.ri as string, 10_000);
    await waitFor(() => notificationsFor(crs.ri as string).length === 1);
    assert.equal((await t.client.delete('/cse-in/owner/quiet', owner)).rsc, 2002);
  });

  it('deletes the subscriptions it made when deleted, and tells its subscriberURI', async () => {
    const crs = await createCrs('gone', { su: rx.url });
    assert.equal((await subscriptionsUnder('c1')).length, 1);
    assert.equal((await t.client.delete('/cse-in/owner/gone', owner)).rsc, 2002);
    assert.deepEqual(await subscriptionsUnder('c1'), []);
    assert.deepEqual(await subscriptionsUnder('c2'), []);
    await waitFor(() => notificationsFor(crs.ri as string).some((n) => (n['m2m:sgn'] as Attrs).sud === true));
  });

  it('ends with one of its subscriptions, and removes the others', async () => {
    const crs = await createCrs('fragile', {});
    const rrats = crs.rrats as string[];
    assert.equal((await t.client.delete(`/~${rrats[0] ?? ''}`, owner)).rsc, 2002);
    assert.equal((await t.client.retrieve('/cse-in/owner/fragile', owner)).rsc, 4004);
    assert.deepEqual(await subscriptionsUnder('c2'), []);
  });

  it('joins existing subscriptions (srat) and leaves them again', async () => {
    const sub = await t.client.create('/cse-in/owner/c1', 23, { 'm2m:sub': { rn: 'mine', nu: [rx.url], enc: { net: [3] } } }, owner);
    assert.equal(sub.rsc, 2001, sub.text);
    const subRi = (sub.body?.['m2m:sub'] as Attrs).ri as string;
    const reply = await t.client.create('/cse-in/owner', 48, { 'm2m:crs': { rn: 'joiner', nu: [rx.url], twt: 1, tws: 'PT10S', srat: [subRi] } }, owner);
    assert.equal(reply.rsc, 2001, reply.text);
    const uri = crsUri(crsOf(reply).ri as string);
    const joined = (await t.client.retrieve('/cse-in/owner/c1/mine', owner)).body?.['m2m:sub'] as Attrs;
    assert.deepEqual(joined.nu, [rx.url, uri]);
    assert.deepEqual(joined.acrs, [uri]);
    assert.equal((await t.client.delete('/cse-in/owner/joiner', owner)).rsc, 2002);
    const left = (await t.client.retrieve('/cse-in/owner/c1/mine', owner)).body?.['m2m:sub'] as Attrs;
    assert.deepEqual(left.nu, [rx.url]);
    assert.equal(left.acrs, undefined);
    assert.equal((await t.client.delete('/cse-in/owner/c1/mine', owner)).rsc, 2002);
  });

  it('joins one subscription from several CREATEs at once, each entry kept', async () => {
    const sub = await t.client.create('/cse-in/owner/c1', 23, { 'm2m:sub': { rn: 'shared', nu: [rx.url], enc: { net: [3] } } }, owner);
    assert.equal(sub.rsc, 2001, sub.text);
    const subRi = (sub.body?.['m2m:sub'] as Attrs).ri as string;
    const replies = await Promise.all(['j0', 'j1', 'j2', 'j3'].map((rn) => t.client.create('/cse-in/owner', 48, { 'm2m:crs': { rn, nu: [rx.url], twt: 1, tws: 'PT10S', srat: [subRi] } }, owner)));
    for (const reply of replies) assert.equal(reply.rsc, 2001, reply.text);
    const uris = replies.map((reply) => crsUri(crsOf(reply).ri as string));
    const joined = (await t.client.retrieve('/cse-in/owner/c1/shared', owner)).body?.['m2m:sub'] as Attrs;
    assert.deepEqual([...(joined.nu as string[])].sort(), [rx.url, ...uris].sort(), 'every joiner is a target');
    assert.deepEqual([...(joined.acrs as string[])].sort(), [...uris].sort());
    for (const rn of ['j0', 'j1', 'j2', 'j3']) assert.equal((await t.client.delete(`/cse-in/owner/${rn}`, owner)).rsc, 2002);
    const left = (await t.client.retrieve('/cse-in/owner/c1/shared', owner)).body?.['m2m:sub'] as Attrs;
    assert.deepEqual(left.nu, [rx.url], 'and each leaves again');
    assert.equal((await t.client.delete('/cse-in/owner/c1/shared', owner)).rsc, 2002);
  });

  it('ends after expirationCounter notifications', async () => {
    const crs = await createCrs('once', { exc: 1, eem: 4 });
    await endWindow(crs.ri as string, 10_000);
    await waitFor(async () => (await t.client.retrieve('/cse-in/owner/once', owner)).rsc === 4004);
    assert.deepEqual(await subscriptionsUnder('c1'), []);
  });

  it('gives one creator at most 16 with a periodic window (the admin excepted)', async () => {
    const busy = await t.client.registerAe('windows');
    const source = await t.client.create('/cse-in/windows', 3, { 'm2m:cnt': { rn: 'src' } }, busy);
    assert.equal(source.rsc, 2001, source.text);
    const rrat = [(source.body?.['m2m:cnt'] as Attrs).ri as string];
    const make = (rn: string, twt: number, originator = busy) => t.client.create('/cse-in/windows', 48, { 'm2m:crs': { rn, nu: [rx.url], twt, tws: 'PT1S', rrat, encs: CREATE_CHILD } }, originator);
    for (let i = 0; i < 16; i++) assert.equal((await make(`p${i}`, 1)).rsc, 2001);
    const seventeenth = await make('p16', 1);
    assert.equal(seventeenth.rsc, 5207, seventeenth.text);
    assert.match(String(seventeenth.body?.['m2m:dbg']), /16 cross-resource subscriptions with a periodic window/);
    // A sliding window runs only after an event: not counted.
    assert.equal((await make('sliding', 2)).rsc, 2001);
    const periodic = await t.client.update('/cse-in/windows/sliding', { 'm2m:crs': { twt: 1 } }, busy);
    assert.equal(periodic.rsc, 5207, `an UPDATE to a periodic window counts: ${periodic.text}`);
    assert.equal((await t.client.update('/cse-in/windows/p0', { 'm2m:crs': { tws: 'PT2S' } }, busy)).rsc, 2004, 'a counted one may change its size');
    const admin = await t.client.create('/cse-in/windows', 48, { 'm2m:crs': { rn: 'byAdmin', nu: [rx.url], twt: 1, tws: 'PT1S', rrat, encs: CREATE_CHILD } }, 'CAdmin');
    assert.equal(admin.rsc, 2001, admin.text);
    assert.equal((await t.client.delete('/cse-in/windows/p1', busy)).rsc, 2002);
    assert.equal((await t.client.update('/cse-in/windows/sliding', { 'm2m:crs': { twt: 1 } }, busy)).rsc, 2004, 'a place comes back when one goes');
  });

  it('refuses malformed windows, types, sources and criteria with 4000', async () => {
    const base = { nu: [rx.url], twt: 1, tws: 'PT10S', rrat: sources, encs: CREATE_CHILD };
    const cases: Attrs[] = [
      { tws: 'PT' },
      { tws: 'ten seconds' },
      { tws: 'PT0.001S' },
      { tws: 'P30D' },
      { twt: 3 },
      { twt: '1' },
      { rrat: 'c1' },
      { rrat: ['not an id!'] },
      { rrat: [] },
      { rrat: [sources[0], sources[0]] },
      { encs: {} },
      { encs: { enc: [{ net: [3] }, { net: [3] }, { net: [3] }] } },
      { encs: { enc: [{ net: [99] }] } },
      { rrats: sources },
      { rrat: undefined, encs: undefined },
      { twt: 2, eem: 4 },
      { eem: 9 },
    ];
    for (const wrong of cases) {
      const content = { ...base, ...wrong };
      for (const [k, v] of Object.entries(content)) if (v === undefined) delete (content as Attrs)[k];
      const reply = await t.client.create('/cse-in/owner', 48, { 'm2m:crs': content }, owner);
      assert.equal(reply.rsc, 4000, `${JSON.stringify(wrong)}: ${reply.text}`);
    }
    const withoutWindow = await t.client.create('/cse-in/owner', 48, { 'm2m:crs': { nu: [rx.url], twt: 1, rrat: sources, encs: CREATE_CHILD } }, owner);
    assert.equal(withoutWindow.rsc, 4000);
    // A srat entry that is no subscription.
    const notASub = await t.client.create('/cse-in/owner', 48, { 'm2m:crs': { nu: [rx.url], twt: 1, tws: 'PT10S', srat: [sources[0]] } }, owner);
    assert.equal(notASub.rsc, 4000, notASub.text);
    const crs = await createCrs('fixed', {});
    for (const change of [{ rrat: sources }, { encs: CREATE_CHILD }, { nec: 1 }, { tws: 'PT' }, { twt: 2, eem: 3 }]) {
      assert.equal((await t.client.update('/cse-in/owner/fixed', { 'm2m:crs': change }, owner)).rsc, 4000, JSON.stringify(change));
    }
    assert.equal(crs.eem, 1);
    assert.equal((await t.client.delete('/cse-in/owner/fixed', owner)).rsc, 2002);
    assert.deepEqual(await subscriptionsUnder('c1'), []);
  });

  it('refuses a source its creator may not read, and leaves nothing behind', async () => {
    const secret = (await t.client.retrieve('/cse-in/stranger/secret', stranger)).body?.['m2m:cnt'] as Attrs;
    const reply = await t.client.create('/cse-in/owner', 48, { 'm2m:crs': { rn: 'nosy', nu: [rx.url], twt: 1, tws: 'PT10S', rrat: [sources[0], secret.ri], encs: CREATE_CHILD } }, owner);
    assert.equal(reply.rsc, 5221, reply.text);
    assert.equal((await t.client.retrieve('/cse-in/owner/nosy', owner)).rsc, 4004);
    assert.deepEqual(await subscriptionsUnder('c1'), []);
    const theirs = await t.client.retrieve('/cse-in/stranger/secret?fu=1&ty=23', stranger);
    assert.deepEqual(theirs.body?.['m2m:uril'] ?? [], []);
    // Nor may it join a subscription it cannot update.
    const sub = await t.client.create('/cse-in/stranger/secret', 23, { 'm2m:sub': { rn: 's', nu: [rx.url] } }, stranger);
    assert.equal(sub.rsc, 2001, sub.text);
    const join = await t.client.create('/cse-in/owner', 48, { 'm2m:crs': { nu: [rx.url], twt: 1, tws: 'PT10S', srat: [(sub.body?.['m2m:sub'] as Attrs).ri] } }, owner);
    assert.equal(join.rsc, 5221, join.text);
    const untouched = (await t.client.retrieve('/cse-in/stranger/secret/s', stranger)).body?.['m2m:sub'] as Attrs;
    assert.deepEqual(untouched.nu, [rx.url]);
    assert.equal(untouched.acrs, undefined);
  });
});

describe('crossResourceSubscription windows are durable', () => {
  it('notifies after a restart of the CSE within the window', async () => {
    const rx = await new Receiver().start();
    const storage = tempDatabase();
    const first = await spawnWarden([`--storage.path=${storage}`]);
    let second: Awaited<ReturnType<typeof spawnWarden>> | undefined;
    try {
      const ae = await first.client.registerAe('durable');
      const ris: string[] = [];
      for (const rn of ['a', 'b']) {
        const reply = await first.client.create('/cse-in/durable', 3, { 'm2m:cnt': { rn } }, ae);
        ris.push((reply.body?.['m2m:cnt'] as Attrs).ri as string);
      }
      const created = await first.client.create('/cse-in/durable', 48, { 'm2m:crs': { rn: 'x', nu: [rx.url], twt: 1, tws: 'PT1S', eem: 4, rrat: ris, encs: CREATE_CHILD } }, ae);
      assert.equal(created.rsc, 2001, created.text);
      first.child.kill('SIGKILL');
      await once(first.child, 'exit');
      rx.received.length = 0;
      second = await spawnWarden([`--storage.path=${storage}`]);
      await waitFor(() => rx.notifications().some((n) => typeof (n['m2m:sgn'] as Attrs | undefined)?.sur === 'string'), 10_000);
    } finally {
      if (second) await stopWarden(second.child);
      await stopWarden(first.child);
      await rx.stop();
    }
  });
});

describe('crossResourceSubscription on two processes sharing PostgreSQL', () => {
  it('gathers the events both processes deliver, and ends the window once', async () => {
    const { createTestDatabase } = await import('../postgres.js');
    const db = await createTestDatabase();
    const rx = await new Receiver().start();
    const flags = ['--storage.backend=postgres', `--storage.url=${db.url}`];
    const started = await Promise.allSettled([spawnWarden(flags), spawnWarden(flags)]);
    try {
      if (started[0].status === 'rejected' || started[1].status === 'rejected') throw new Error('a Warden process did not start');
      const [a, b] = [started[0].value, started[1].value];
      const ae = await a.client.registerAe('pair');
      const ris: string[] = [];
      for (const rn of ['a', 'b']) {
        const reply = await a.client.create('/cse-in/pair', 3, { 'm2m:cnt': { rn } }, ae);
        ris.push((reply.body?.['m2m:cnt'] as Attrs).ri as string);
      }
      const created = await b.client.create('/cse-in/pair', 48, { 'm2m:crs': { rn: 'x', nu: [rx.url], twt: 2, tws: 'PT2S', rrat: ris, encs: CREATE_CHILD } }, ae);
      assert.equal(created.rsc, 2001, created.text);
      const ri = crsOf(created).ri as string;
      assert.equal((await a.client.create('/cse-in/pair/a', 4, { 'm2m:cin': { con: '1' } }, ae)).rsc, 2001);
      assert.equal((await b.client.create('/cse-in/pair/b', 4, { 'm2m:cin': { con: '2' } }, ae)).rsc, 2001);
      const ofCrs = (): Attrs[] => rx.notifications().filter((n) => typeof (n['m2m:sgn'] as Attrs | undefined)?.sur === 'string' && ((n['m2m:sgn'] as Attrs).sur as string).endsWith(`/${ri}`));
      await waitFor(() => ofCrs().length >= 1, 10_000);
      // Settled: the window closed, no timer left for it, nothing queued for the receiver.
      await waitFor(async () => {
        const [row] = await db.query('SELECT doc FROM resources WHERE ri = $1', [ri]);
        const doc = (typeof row?.doc === 'string' ? JSON.parse(row.doc) : row?.doc) as Attrs | undefined;
        const window = doc?.__crsWindow as { seen?: unknown[]; open?: boolean } | undefined;
        const queued = await db.query("SELECT count(*)::int AS n FROM outbox WHERE target LIKE 'tmr:%' OR target LIKE 'http%' OR target LIKE 'crs:%'");
        return window?.open !== true && (window?.seen ?? []).length === 0 && queued[0]?.n === 0;
      }, 10_000);
      assert.equal(ofCrs().length, 1);
    } finally {
      for (const s of started) if (s.status === 'fulfilled') await stopWarden(s.value.child);
      await rx.stop();
      await db.drop();
    }
  });
});
