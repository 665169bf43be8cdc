import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock, startTestCse, type TestCse } from '../harness.js';

type Attrs = Record<string, unknown>;
const cnt = (reply: { body: Attrs | undefined }): Attrs => reply.body?.['m2m:cnt'] as Attrs;
const cin = (reply: { body: Attrs | undefined }): Attrs => reply.body?.['m2m:cin'] as Attrs;

describe('container and contentInstance over HTTP', () => {
  let t: TestCse;
  let ae: string;
  const clock = new ManualClock();
  before(async () => {
    t = await startTestCse({}, { clock });
    ae = await t.client.registerAe('sensor');
  });
  after(() => t.close());

  async function post(path: string, con: unknown, extra: Attrs = {}): Promise<Attrs> {
    const reply = await t.client.create(path, 4, { 'm2m:cin': { con, ...extra } }, ae);
    assert.equal(reply.rsc, 2001, reply.text);
    return cin(reply);
  }

  it('keeps cni, cbs and st, and computes cs in bytes', async () => {
    const created = await t.client.create('/cse-in/sensor', 3, { 'm2m:cnt': { rn: 'counts' } }, ae);
    assert.equal(created.rsc, 2001);
    assert.deepEqual([cnt(created).cni, cnt(created).cbs, cnt(created).st], [0, 0, 0]);
    const first = await post('/cse-in/sensor/counts', 'héllo', { cnf: 'text/plain:0' });
    assert.equal(first.cs, 6); // é is two bytes in UTF-8
    assert.equal(first.cnf, 'text/plain:0');
    assert.equal(first.st, 1);
    const second = await post('/cse-in/sensor/counts', { t: 21.5 });
    assert.deepEqual(second.con, { t: 21.5 });
    assert.equal(second.cs, Buffer.byteLength(JSON.stringify({ t: 21.5 })));
    const container = cnt(await t.client.retrieve('/cse-in/sensor/counts', ae));
    assert.equal(container.cni, 2);
    assert.equal(container.cbs, 6 + Number(second.cs));
    assert.equal(container.st, 2);
  });

  it('drops the oldest instances beyond mni', async () => {
    await t.client.create('/cse-in/sensor', 3, { 'm2m:cnt': { rn: 'mni', mni: 3 } }, ae);
    for (let i = 1; i <= 5; i++) await post('/cse-in/sensor/mni', `v${i}`);
    const container = cnt(await t.client.retrieve('/cse-in/sensor/mni', ae));
    assert.equal(container.cni, 3);
    assert.equal(cin(await t.client.retrieve('/cse-in/sensor/mni/ol', ae)).con, 'v3');
    assert.equal(cin(await t.client.retrieve('/cse-in/sensor/mni/la', ae)).con, 'v5');
  });

  it('drops the oldest instances beyond mbs and refuses one larger than mbs with 5207', async () => {
    await t.client.create('/cse-in/sensor', 3, { 'm2m:cnt': { rn: 'mbs', mbs: 10 } }, ae);
    await post('/cse-in/sensor/mbs', 'aaaa');
    await post('/cse-in/sensor/mbs', 'bbbb');
    await post('/cse-in/sensor/mbs', 'cccc');
    const container = cnt(await t.client.retrieve('/cse-in/sensor/mbs', ae));
    assert.equal(container.cbs, 8);
    assert.equal(container.cni, 2);
    assert.equal(cin(await t.client.retrieve('/cse-in/sensor/mbs/ol', ae)).con, 'bbbb');
    const tooBig = await t.client.create('/cse-in/sensor/mbs', 4, { 'm2m:cin': { con: 'x'.repeat(11) } }, ae);
    assert.equal(tooBig.rsc, 5207);
    assert.equal(tooBig.status, 406);
    assert.equal(cnt(await t.client.retrieve('/cse-in/sensor/mbs', ae)).cni, 2);
  });

  it('drops instances older than mia', async () => {
    await t.client.create('/cse-in/sensor', 3, { 'm2m:cnt': { rn: 'mia', mia: 60 } }, ae);
    await post('/cse-in/sensor/mia', 'old');
    clock.advance(30_000);
    await post('/cse-in/sensor/mia', 'newer');
    clock.advance(45_000); // 'old' is now 75 s old, 'newer' 45 s
    const container = cnt(await t.client.retrieve('/cse-in/sensor/mia', ae));
    assert.equal(container.cni, 1);
    assert.equal(cin(await t.client.retrieve('/cse-in/sensor/mia/ol', ae)).con, 'newer');
    clock.advance(30_000);
    assert.equal((await t.client.retrieve('/cse-in/sensor/mia/la', ae)).rsc, 4004);
    assert.equal(cnt(await t.client.retrieve('/cse-in/sensor/mia', ae)).cni, 0);
  });

  it('lowering mni by UPDATE trims at once', async () => {
    await t.client.create('/cse-in/sensor', 3, { 'm2m:cnt': { rn: 'shrink' } }, ae);
    for (let i = 1; i <= 4; i++) await post('/cse-in/sensor/shrink', `v${i}`);
    const updated = await t.client.update('/cse-in/sensor/shrink', { 'm2m:cnt': { mni: 1 } }, ae);
    assert.equal(updated.rsc, 2004);
    assert.equal(cnt(updated).cni, 1);
    assert.equal(cin(await t.client.retrieve('/cse-in/sensor/shrink/ol', ae)).con, 'v4');
  });

  it('la and ol: 4004 on an empty container, DELETE removes the instance, CREATE/UPDATE are 4005', async () => {
    await t.client.create('/cse-in/sensor', 3, { 'm2m:cnt': { rn: 'virt' } }, ae);
    assert.equal((await t.client.retrieve('/cse-in/sensor/virt/la', ae)).rsc, 4004);
    assert.equal((await t.client.retrieve('/cse-in/sensor/virt/ol', ae)).rsc, 4004);
    await post('/cse-in/sensor/virt', 'a');
    await post('/cse-in/sensor/virt', 'b');
    const del = await t.client.delete('/cse-in/sensor/virt/la', ae);
    assert.equal(del.rsc, 2002);
    assert.equal(cin(await t.client.retrieve('/cse-in/sensor/virt/la', ae)).con, 'a');
    assert.equal(cnt(await t.client.retrieve('/cse-in/sensor/virt', ae)).cni, 1);
    assert.equal((await t.client.create('/cse-in/sensor/virt/la', 4, { 'm2m:cin': { con: 'x' } }, ae)).rsc, 4005);
    assert.equal((await t.client.update('/cse-in/sensor/virt/ol', { 'm2m:cin': { lbl: ['x'] } }, ae)).rsc, 4005);
  });

  it('la and ol work in unstructured (resource ID) form', async () => {
    const created = await t.client.create('/cse-in/sensor', 3, { 'm2m:cnt': { rn: 'byid' } }, ae);
    const ri = String(cnt(created).ri);
    await post(`/${ri}`, 'only');
    assert.equal(cin(await t.client.retrieve(`/${ri}/la`, ae)).con, 'only');
    assert.equal(cin(await t.client.retrieve(`/~/id-in/${ri}/ol`, ae)).con, 'only');
  });

  it('disableRetrieval: instances can be created but not read or deleted', async () => {
    await t.client.create('/cse-in/sensor', 3, { 'm2m:cnt': { rn: 'sealed', disr: true } }, ae);
    const instance = await post('/cse-in/sensor/sealed', 'hidden');
    for (const path of [`/cse-in/sensor/sealed/${String(instance.rn)}`, `/${String(instance.ri)}`, '/cse-in/sensor/sealed/la', '/cse-in/sensor/sealed/ol']) {
      assert.equal((await t.client.retrieve(path, ae)).rsc, 4005, path);
      assert.equal((await t.client.delete(path, ae)).rsc, 4005, path);
    }
    const children = (await t.client.retrieve('/cse-in/sensor/sealed?rcn=4', ae)).body?.['m2m:cnt'] as Attrs;
    assert.equal(children['m2m:cin'], undefined);
    assert.equal(children.cni, 1);
  });

  it('contentInstance is immutable: UPDATE is 4005', async () => {
    await t.client.create('/cse-in/sensor', 3, { 'm2m:cnt': { rn: 'immutable' } }, ae);
    const instance = await post('/cse-in/sensor/immutable', 'fixed');
    const reply = await t.client.update(`/cse-in/sensor/immutable/${String(instance.rn)}`, { 'm2m:cin': { con: 'changed' } }, ae);
    assert.equal(reply.rsc, 4005);
    assert.equal(reply.status, 405);
    assert.equal(cin(await t.client.retrieve('/cse-in/sensor/immutable/la', ae)).con, 'fixed');
  });

  it('nested containers and DELETE of a container remove its instances', async () => {
    await t.client.create('/cse-in/sensor', 3, { 'm2m:cnt': { rn: 'outer' } }, ae);
    await t.client.create('/cse-in/sensor/outer', 3, { 'm2m:cnt': { rn: 'inner' } }, ae);
    const instance = await post('/cse-in/sensor/outer/inner', 'deep');
    assert.equal((await t.client.delete('/cse-in/sensor/outer', ae)).rsc, 2002);
    assert.equal((await t.client.retrieve(`/${String(instance.ri)}`, ae)).rsc, 4004);
  });
});
