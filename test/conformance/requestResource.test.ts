// What the community suite's testREQ checks (skipped there without ACME's Upper Tester): the <request> resource's
// contents, its expiry after resultPersistence, and what deleting a pending one means (TS-0004 §7.4.12.2.4).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sweepExpired } from '../../src/housekeeping/expiry.js';
import { ManualClock, startTestCse, type TestCse } from '../harness.js';
import { waitFor } from '../receiver.js';

type Attrs = Record<string, unknown>;

describe('the <request> resource (testREQ without an Upper Tester)', () => {
  let t: TestCse;
  let ae: string;
  const clock = new ManualClock();
  before(async () => {
    t = await startTestCse({}, { clock });
    ae = await t.client.registerAe('asker');
    await t.client.create('/cse-in/asker', 3, { 'm2m:cnt': { rn: 'box' } }, ae);
  });
  after(() => t.close());

  const readRequest = async (path: string): Promise<Attrs | undefined> => (await t.client.retrieve(path, ae)).body?.['m2m:req'] as Attrs | undefined;

  it('records the request identifier, target, vendor information and the outcome, and has no stateTag', async () => {
    const ack = await t.client.request('GET', '/cse-in/asker/box?rt=1&rp=PT1M', { origin: ae, rqi: 'req-box-1', headers: { 'X-M2M-VSI': 'some vendor information' } });
    assert.equal(ack.rsc, 1001, ack.text);
    const path = `/${String(ack.body?.['m2m:uri'])}`;
    await waitFor(async () => (await readRequest(path))?.rs === 1);
    const req = (await readRequest(path)) ?? {};
    assert.equal(req.rid, 'req-box-1');
    assert.equal(req.op, 2);
    assert.equal(req.org, ae);
    assert.match(String(req.tg), /asker\/box$/);
    assert.equal('st' in req, false, 'a <request> has no stateTag');
    assert.equal((req.mi as Attrs).vsi, 'some vendor information');
    assert.equal((req.ors as Attrs).rqi, 'req-box-1');
    assert.equal((req.ors as Attrs).rsc, 2000);
    assert.equal((((req.ors as Attrs).pc as Attrs)['m2m:cnt'] as Attrs).rn, 'box');
  });

  it('is removed once its resultPersistence has passed', async () => {
    const ack = await t.client.request('GET', '/cse-in/asker/box?rt=1&rp=PT2S', { origin: ae });
    assert.equal(ack.rsc, 1001, ack.text);
    const path = `/${String(ack.body?.['m2m:uri'])}`;
    await waitFor(async () => (await readRequest(path))?.rs === 1);
    clock.advance(3000);
    await sweepExpired(t.cse.services);
    assert.equal((await t.client.retrieve(path, ae)).rsc, 4004);
  });

  it('deleting a pending <request> cancels its operation', async () => {
    const ack = await t.client.request('POST', '/cse-in/asker?rt=1', {
      origin: ae, ty: 3, body: { 'm2m:cnt': { rn: 'never' } }, headers: { 'X-M2M-OET': String(60_000) },
    });
    assert.equal(ack.rsc, 1001, ack.text);
    const path = `/${String(ack.body?.['m2m:uri'])}`;
    assert.equal((await readRequest(path))?.rs, 3, 'pending until its execution time');
    assert.equal((await t.client.delete(path, ae)).rsc, 2002);
    clock.advance(61_000);
    t.cse.deliverer.wake();
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await t.client.retrieve('/cse-in/asker/never', ae)).rsc, 4004, 'the cancelled CREATE never ran');
  });

  it('refuses an unknown response type, and accepts flexBlocking', async () => {
    assert.equal((await t.client.request('GET', '/cse-in/asker/box?rt=99999', { origin: ae })).rsc, 4000);
    const flex = await t.client.request('GET', '/cse-in/asker/box?rt=3&rp=PT1M', { origin: ae });
    assert.ok([2000, 1001, 1002].includes(flex.rsc), `flexBlocking answers ${flex.rsc}`);
  });
});
