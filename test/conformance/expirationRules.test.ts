// What the community suite's testExpiration checks (skipped there without ACME's Upper Tester, which shortens
// the CSE's expiry check interval): covered here with an injected clock and an explicit sweep instead.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { formatTimestamp, parseTimestamp } from '../../src/primitive/identifiers.js';
import { sweepExpired } from '../../src/housekeeping/expiry.js';
import { ManualClock, startTestCse, type TestCse } from '../harness.js';

type Attrs = Record<string, unknown>;

describe('expiration rules (testExpiration without an Upper Tester)', () => {
  let t: TestCse;
  let ae: string;
  const clock = new ManualClock();
  before(async () => {
    t = await startTestCse({ 'cse.defaultExpiration': 3600, 'cse.maxExpiration': 7200 }, { clock });
    ae = await t.client.registerAe('rules');
  });
  after(() => t.close());

  const etOf = (body: Record<string, unknown> | undefined, root: string): number | undefined =>
    parseTimestamp(String((body?.[root] as Attrs | undefined)?.et));

  it('an UPDATE with et null gives the resource the default expiration again', async () => {
    const created = await t.client.create('/cse-in/rules', 3, { 'm2m:cnt': { rn: 'reset', et: formatTimestamp(clock.now() + 60_000) } }, ae);
    assert.equal(created.rsc, 2001);
    const updated = await t.client.update('/cse-in/rules/reset', { 'm2m:cnt': { et: null } }, ae);
    assert.equal(updated.rsc, 2004, updated.text);
    const et = etOf(updated.body, 'm2m:cnt');
    assert.ok(et !== undefined && et > clock.now() + 60_000, `et ${String(et)} is the default again, not the minute set before`);
  });

  it('a child asking for a later et than its parent gets the parent\'s et', async () => {
    const parentEt = formatTimestamp(clock.now() + 60_000);
    const parent = await t.client.create('/cse-in/rules', 3, { 'm2m:cnt': { rn: 'elder', et: parentEt } }, ae);
    assert.equal(parent.rsc, 2001);
    const child = await t.client.create('/cse-in/rules/elder', 3, { 'm2m:cnt': { rn: 'younger', et: formatTimestamp(clock.now() + 120_000) } }, ae);
    assert.equal(child.rsc, 2001);
    assert.equal((child.body?.['m2m:cnt'] as Attrs).et, parentEt);
  });

  it('contentInstances older than the container\'s mia are removed and the counters follow', async () => {
    const created = await t.client.create('/cse-in/rules', 3, { 'm2m:cnt': { rn: 'aging', mia: 2 } }, ae);
    assert.equal((created.body?.['m2m:cnt'] as Attrs).mia, 2);
    for (let i = 0; i < 5; i += 1) {
      const cin = await t.client.create('/cse-in/rules/aging', 4, { 'm2m:cin': { cnf: 'text/plain:0', con: `v${i}` } }, ae);
      assert.equal(cin.rsc, 2001);
      const et = etOf(cin.body, 'm2m:cin');
      assert.ok(et !== undefined && et <= clock.now() + 2000, 'an instance expires no later than mia after its creation');
    }
    clock.advance(3000);
    await sweepExpired(t.cse.services);
    const container = (await t.client.retrieve('/cse-in/rules/aging', ae)).body?.['m2m:cnt'] as Attrs;
    assert.equal(container.cni, 0);
    assert.equal(container.cbs, 0);
  });

  it('keeps a resource whose et an UPDATE extended after the sweep found it expired', async () => {
    const created = await t.client.create('/cse-in/rules', 3, { 'm2m:cnt': { rn: 'renewed', et: formatTimestamp(clock.now() + 1000) } }, ae);
    assert.equal(created.rsc, 2001);
    const ri = (created.body?.['m2m:cnt'] as Attrs).ri as string;
    clock.advance(2000);
    const store = t.cse.services.store;
    const find = store.find.bind(store);
    // The sweep's list is read; the renewal commits before the sweep deletes (what an UPDATE in flight does).
    store.find = async (query) => {
      const found = await find(query);
      store.find = find;
      await store.transaction(async (tx) => {
        const resource = await tx.getForUpdate(ri);
        assert.ok(resource);
        resource.et = clock.now() + 3_600_000;
        await tx.update(resource);
      });
      return found;
    };
    try {
      await sweepExpired(t.cse.services);
    } finally {
      store.find = find;
    }
    assert.equal((await t.client.retrieve('/cse-in/rules/renewed', ae)).rsc, 2000, 'the renewal wins');
  });

  it('a large mia does not shorten the instances below the CSE maximum nor expire them early', async () => {
    await t.client.create('/cse-in/rules', 3, { 'm2m:cnt': { rn: 'patient', mia: 86_400 * 365 } }, ae);
    for (let i = 0; i < 3; i += 1) {
      const cin = await t.client.create('/cse-in/rules/patient', 4, { 'm2m:cin': { con: `v${i}` } }, ae);
      assert.equal(cin.rsc, 2001);
    }
    clock.advance(3000);
    await sweepExpired(t.cse.services);
    const container = (await t.client.retrieve('/cse-in/rules/patient', ae)).body?.['m2m:cnt'] as Attrs;
    assert.equal(container.cni, 3);
  });
});
