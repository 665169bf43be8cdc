// The core flows once more with storage.backend=postgres, in process and over HTTP.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sweepExpired } from '../../src/housekeeping/expiry.js';
import { formatTimestamp } from '../../src/primitive/identifiers.js';
import { ManualClock, startTestCse, type TestCse } from '../harness.js';
import type { StoredResource } from '../../src/storage/store.js';
import { createTestDatabase, type TestDatabase } from '../postgres.js';

type Attrs = Record<string, unknown>;

describe('the CSE on PostgreSQL', () => {
  let db: TestDatabase;
  let t: TestCse;
  let ae: string;
  const clock = new ManualClock();
  before(async () => {
    db = await createTestDatabase();
    t = await startTestCse({ 'storage.backend': 'postgres', 'storage.url': db.url }, { clock });
    ae = await t.client.registerAe('pgapp');
  });
  after(async () => {
    await t.close();
    await db.drop();
  });

  it('registration, containers with mni and mbs, la and ol', async () => {
    assert.equal((await t.client.create('/cse-in', 2, { 'm2m:ae': { api: 'Nx', rr: false, srv: ['3'] } }, ae)).rsc, 4117);
    await t.client.create('/cse-in/pgapp', 3, { 'm2m:cnt': { rn: 'c', mni: 3, mbs: 12 } }, ae);
    for (let i = 1; i <= 5; i++) assert.equal((await t.client.create('/cse-in/pgapp/c', 4, { 'm2m:cin': { con: `v${i}` } }, ae)).rsc, 2001);
    const cnt = (await t.client.retrieve('/cse-in/pgapp/c', ae)).body?.['m2m:cnt'] as Attrs;
    assert.deepEqual([cnt.cni, cnt.cbs, cnt.st], [3, 6, 5]);
    assert.equal(((await t.client.retrieve('/cse-in/pgapp/c/ol', ae)).body?.['m2m:cin'] as Attrs).con, 'v3');
    assert.equal(((await t.client.retrieve('/cse-in/pgapp/c/la', ae)).body?.['m2m:cin'] as Attrs).con, 'v5');
    assert.equal((await t.client.create('/cse-in/pgapp/c', 4, { 'm2m:cin': { con: 'x'.repeat(13) } }, ae)).rsc, 5207);
    assert.equal((await t.client.create('/cse-in/pgapp', 3, { 'm2m:cnt': { rn: 'c' } }, ae)).rsc, 4105);
  });

  it('content is kept exactly as sent', async () => {
    const con = { z: 1, a: [true, null, 'é'], m: { y: 2, b: 3 } };
    await t.client.create('/cse-in/pgapp', 3, { 'm2m:cnt': { rn: 'raw' } }, ae);
    const created = await t.client.create('/cse-in/pgapp/raw', 4, { 'm2m:cin': { rn: 'exact', con } }, ae);
    assert.equal(created.rsc, 2001);
    const back = await t.client.retrieve('/cse-in/pgapp/raw/exact', ae);
    assert.equal(JSON.stringify((back.body?.['m2m:cin'] as Attrs).con), JSON.stringify(con));
  });

  it('expiry sweeps and subtree deletes keep the parent right', async () => {
    await t.client.create('/cse-in/pgapp', 3, { 'm2m:cnt': { rn: 'exp' } }, ae);
    await t.client.create('/cse-in/pgapp/exp', 4, { 'm2m:cin': { con: 'brief', et: formatTimestamp(clock.now() + 1000) } }, ae);
    await t.client.create('/cse-in/pgapp/exp', 4, { 'm2m:cin': { con: 'stays' } }, ae);
    clock.advance(2000);
    assert.ok((await sweepExpired(t.cse.services)) >= 1);
    assert.equal(((await t.client.retrieve('/cse-in/pgapp/exp', ae)).body?.['m2m:cnt'] as Attrs).cni, 1);
    assert.equal((await t.client.delete('/cse-in/pgapp/exp', ae)).rsc, 2002);
    assert.equal((await t.client.retrieve('/cse-in/pgapp/exp', ae)).rsc, 4004);
  });

  it('discovery runs as a PostgreSQL query', async () => {
    await t.client.create('/cse-in/pgapp', 3, { 'm2m:cnt': { rn: 'disc', lbl: ['zone/a'], mni: 7 } }, ae);
    await t.client.create('/cse-in/pgapp/disc', 4, { 'm2m:cin': { rn: 'pa', cnf: 'text/plain:0', con: 'x'.repeat(40) } }, ae);
    await t.client.create('/cse-in/pgapp/disc', 4, { 'm2m:cin': { rn: 'pb', con: 'y' } }, ae);
    const find = async (q: string): Promise<string[]> => {
      const reply = await t.client.retrieve(`/cse-in/pgapp?fu=1&${q}`, ae);
      assert.equal(reply.rsc, 2000, reply.text);
      return (reply.body?.['m2m:uril'] as string[]).map((p) => p.split('/').pop() as string).sort();
    };
    assert.deepEqual(await find('lbl=zone/a'), ['disc']);
    assert.deepEqual(await find('mni=7'), ['disc']);
    assert.deepEqual(await find('ty=4&cty=text/plain'), ['pa']);
    assert.deepEqual((await find('ty=4&sza=10&lvl=2')).filter((n) => n !== 'exact'), ['pa']);
    assert.deepEqual(await find('chty=4&lbl=zone/a'), ['disc']);
    assert.deepEqual(await find('ty=4&palb=zone/a'), ['pa', 'pb']);
    assert.equal((await t.client.retrieve('/cse-in/pgapp/disc?lbl=zone/b', ae)).rsc, 4004);
    // Attribute wildcards: '*' only, case-sensitive; LIKE's own '%' and '_' stand for themselves.
    assert.deepEqual(await find('ty=4&con=x*'), ['pa']);
    assert.deepEqual(await find('rn=p*'), ['pa', 'pb']);
    assert.deepEqual(await find('rn=P*'), []);
    assert.deepEqual(await find('rn=p_*'), []);
    assert.deepEqual(await find('rn=%25*'), []);
    assert.deepEqual(await find('ty=3&cra=19700101T000000&rn=di*'), ['disc']);
  });

  it('an insert below a parent without subscriptions spares their read; a subscription created meanwhile waits for the parent', async () => {
    await t.client.create('/cse-in/pgapp', 3, { 'm2m:cnt': { rn: 'watched' } }, ae);
    const store = t.cse.services.store;
    const parent = await store.getByPath('cse-in/pgapp/watched');
    assert.ok(parent);
    const now = formatTimestamp(clock.now());
    const instance = (rn: string): StoredResource => ({ ri: `cin${rn}`, pi: parent.ri, ty: 4, rn, srn: `${parent.srn}/${rn}`, ct: now, lt: now, et: clock.now() + 3_600_000, doc: { con: rn, cs: rn.length } });
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let seen: readonly StoredResource[] | undefined;
    let reads = 0;
    const first = store.transaction(async (tx) => {
      assert.ok(await tx.getParentForInsert(parent));
      await tx.insert(instance('first'));
      seen = await tx.subscriptionsOf(parent.ri, 1000);
      await held;
    });
    // Creating a subscription takes the parent's lock, which the open transaction holds: that is what makes its
    // "no subscription" hold until it ends.
    let answered = false;
    const subscribing = t.client.create('/cse-in/pgapp/watched', 23, { 'm2m:sub': { rn: 'late', nu: [ae], enc: { net: [3] } } }, ae).then((reply) => {
      answered = true;
      return reply;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(answered, false, 'the subscription waits for the parent held by the insert');
    assert.deepEqual(seen, []);
    release();
    await first;
    assert.equal((await subscribing).rsc, 2001);
    await store.transaction(async (tx) => {
      assert.ok(await tx.getParentForInsert(parent));
      await tx.insert(instance('second'));
      reads = (await tx.subscriptionsOf(parent.ri, 1000)).length;
    });
    assert.equal(reads, 1, 'the next insert sees the subscription');
  });

  it('policies grant and revoke', async () => {
    const reader = await t.client.registerAe('pgreader');
    const acp = await t.client.create('/cse-in/pgapp', 1, { 'm2m:acp': { rn: 'p', pv: { acr: [{ acor: [reader], acop: 2 }] }, pvs: { acr: [{ acor: [ae], acop: 63 }] } } }, ae);
    await t.client.update('/cse-in/pgapp/c', { 'm2m:cnt': { acpi: [String((acp.body?.['m2m:acp'] as Attrs).ri)] } }, ae);
    assert.equal((await t.client.retrieve('/cse-in/pgapp/c', reader)).rsc, 2000);
    await t.client.update('/cse-in/pgapp/p', { 'm2m:acp': { pv: { acr: [] } } }, ae);
    assert.equal((await t.client.retrieve('/cse-in/pgapp/c', reader)).rsc, 4103);
  });
});
