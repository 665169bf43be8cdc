import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { formatTimestamp, parseTimestamp } from '../../src/primitive/identifiers.js';
import { sweepExpired } from '../../src/housekeeping/expiry.js';
import { ManualClock, startTestCse, type TestCse } from '../harness.js';

type Attrs = Record<string, unknown>;

describe('resource expiration (et)', () => {
  let t: TestCse;
  let ae: string;
  const clock = new ManualClock();
  before(async () => {
    t = await startTestCse({ 'cse.defaultExpiration': 3600, 'cse.maxExpiration': 7200 }, { clock });
    ae = await t.client.registerAe('exp');
  });
  after(() => t.close());

  it('gives a resource without et the default, and clamps one beyond the maximum', async () => {
    const plain = await t.client.create('/cse-in/exp', 3, { 'm2m:cnt': { rn: 'plain' } }, ae);
    const et = parseTimestamp(String((plain.body?.['m2m:cnt'] as Attrs).et));
    const aeEt = parseTimestamp(String((await t.client.retrieve('/cse-in/exp', ae)).body?.['m2m:ae'] && ((await t.client.retrieve('/cse-in/exp', ae)).body?.['m2m:ae'] as Attrs).et));
    assert.ok(et !== undefined && aeEt !== undefined);
    assert.ok(et <= aeEt, 'a child never outlives its parent');
    const far = await t.client.create('/cse-in/exp', 3, { 'm2m:cnt': { rn: 'far', et: formatTimestamp(clock.now() + 365 * 86_400_000) } }, ae, {
      headers: {},
    });
    assert.equal(far.rsc, 2001);
    const farEt = parseTimestamp(String((far.body?.['m2m:cnt'] as Attrs).et));
    assert.ok(farEt !== undefined && farEt <= clock.now() + 7_200_000);
  });

  it('reports a clamped et with rcn=9', async () => {
    const reply = await t.client.create('/cse-in/exp', 3, { 'm2m:cnt': { rn: 'clamped', et: formatTimestamp(clock.now() + 86_400_000 * 30) } }, ae, {
      headers: {},
    });
    assert.equal(reply.rsc, 2001);
    const nine = await t.client.request('POST', '/cse-in/exp?rcn=9', { origin: ae, ty: 3, body: { 'm2m:cnt': { rn: 'clamped9', et: formatTimestamp(clock.now() + 86_400_000 * 30) } } });
    assert.equal(nine.rsc, 2001);
    const modified = nine.body?.['m2m:cnt'] as Attrs;
    assert.ok('et' in modified && 'ri' in modified && !('rn' in modified), JSON.stringify(modified));
  });

  it('refuses an et in the past with 4000', async () => {
    const reply = await t.client.create('/cse-in/exp', 3, { 'm2m:cnt': { rn: 'past', et: formatTimestamp(clock.now() - 1000) } }, ae);
    assert.equal(reply.rsc, 4000);
    assert.match(String(reply.body?.['m2m:dbg']), /past/);
  });

  it('never returns an expired resource, and the sweep removes it and fixes the parent counters', async () => {
    await t.client.create('/cse-in/exp', 3, { 'm2m:cnt': { rn: 'short' } }, ae);
    const instance = await t.client.create('/cse-in/exp/short', 4, { 'm2m:cin': { con: 'brief', et: formatTimestamp(clock.now() + 10_000) } }, ae);
    const ri = String((instance.body?.['m2m:cin'] as Attrs).ri);
    await t.client.create('/cse-in/exp/short', 4, { 'm2m:cin': { con: 'stays' } }, ae);
    clock.advance(11_000);
    assert.equal((await t.client.retrieve(`/${ri}`, ae)).rsc, 4004);
    assert.equal((await t.client.retrieve('/cse-in/exp/short/ol', ae)).body?.['m2m:cin'] && ((await t.client.retrieve('/cse-in/exp/short/ol', ae)).body?.['m2m:cin'] as Attrs).con, 'stays');
    const removed = await sweepExpired(t.cse.services);
    assert.ok(removed >= 0);
    assert.equal(await t.cse.services.store.get(ri), undefined);
    const container = (await t.client.retrieve('/cse-in/exp/short', ae)).body?.['m2m:cnt'] as Attrs;
    assert.equal(container.cni, 1);
  });

  it('the sweep removes an expired subtree', async () => {
    await t.client.create('/cse-in/exp', 3, { 'm2m:cnt': { rn: 'tree', et: formatTimestamp(clock.now() + 5_000) } }, ae);
    const child = await t.client.create('/cse-in/exp/tree', 3, { 'm2m:cnt': { rn: 'leaf' } }, ae);
    const childRi = String((child.body?.['m2m:cnt'] as Attrs).ri);
    clock.advance(6_000);
    assert.ok((await sweepExpired(t.cse.services)) >= 1);
    assert.equal(await t.cse.services.store.get(childRi), undefined);
    assert.equal((await t.client.retrieve('/cse-in/exp/tree', 'CAdmin')).rsc, 4004);
  });
});
