import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock, startTestCse, type TestCse } from '../harness.js';
import { Receiver, waitFor } from '../receiver.js';
import { formatTimestamp } from '../../src/primitive/identifiers.js';

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

  it('instances that age out move st and lt like a deletion', async () => {
    await t.client.create('/cse-in/sensor', 3, { 'm2m:cnt': { rn: 'aging', mia: 60 } }, ae);
    await post('/cse-in/sensor/aging', 'old');
    const before = cnt(await t.client.retrieve('/cse-in/sensor/aging', ae));
    clock.advance(61_000);
    const after = cnt(await t.client.retrieve('/cse-in/sensor/aging', ae));
    assert.equal(after.cni, 0);
    assert.equal(after.st, Number(before.st) + 1);
    assert.notEqual(after.lt, before.lt);
  });

  it('lowering mni by UPDATE trims at once', async () => {
    await t.client.create('/cse-in/sensor', 3, { 'm2m:cnt': { rn: 'shrink' } }, ae);
    for (let i = 1; i <= 4; i++) await post('/cse-in/sensor/shrink', `v${i}`);
    const updated = await t.client.update('/cse-in/sensor/shrink', { 'm2m:cnt': { mni: 1 } }, ae);
    assert.equal(updated.rsc, 2004);
    assert.equal(cnt(updated).cni, 1);
    assert.equal(cin(await t.client.retrieve('/cse-in/sensor/shrink/ol', ae)).con, 'v4');
  });

  it('an instance trimmed away takes what was created below it along', async () => {
    await t.client.create('/cse-in/sensor', 3, { 'm2m:cnt': { rn: 'described', mni: 1 } }, ae);
    const first = await post('/cse-in/sensor/described', 'v1');
    const turtle = Buffer.from('@prefix ex: <http://ex.org/> . ex:a ex:b ex:c .').toString('base64');
    const below = `/cse-in/sensor/described/${String(first.rn)}/desc`;
    const smd = await t.client.create(`/cse-in/sensor/described/${String(first.rn)}`, 24, { 'm2m:smd': { rn: 'desc', dcrp: 5, dsp: turtle } }, ae);
    assert.equal(smd.rsc, 2001, smd.text);
    await post('/cse-in/sensor/described', 'v2');
    assert.equal((await t.client.retrieve(below, ae)).rsc, 4004);
    const container = cnt(await t.client.retrieve('/cse-in/sensor/described', ae));
    assert.deepEqual([container.cni, container.cbs], [1, 2]);
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

  it('la skips an expired newest instance and, reading it, removes it from the counters', async () => {
    const created = await t.client.create('/cse-in/sensor', 3, { 'm2m:cnt': { rn: 'lapsed' } }, ae);
    const ri = String(cnt(created).ri);
    await post('/cse-in/sensor/lapsed', 'kept');
    await post('/cse-in/sensor/lapsed', 'brief', { et: formatTimestamp(clock.now() + 10_000) });
    assert.equal(cin(await t.client.retrieve('/cse-in/sensor/lapsed/la', ae)).con, 'brief');
    clock.advance(11_000);
    assert.equal(cin(await t.client.retrieve('/cse-in/sensor/lapsed/la', ae)).con, 'kept');
    assert.equal((await t.cse.services.store.get(ri))?.doc.cni, 1, 'the read of la did the housekeeping');
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

describe('container and contentInstance: formats, Release 4 attributes and transitions', () => {
  let t: TestCse;
  let ae: string;
  before(async () => {
    t = await startTestCse({ 'notifications.maxBackoff': 1, 'notifications.timeout': 2 });
    ae = await t.client.registerAe('meter');
  });
  after(() => t.close());

  async function container(rn: string, extra: Attrs = {}): Promise<string> {
    const reply = await t.client.create('/cse-in/meter', 3, { 'm2m:cnt': { rn, ...extra } }, ae);
    assert.equal(reply.rsc, 2001, reply.text);
    return `/cse-in/meter/${rn}`;
  }
  async function post(path: string, attrs: Attrs): Promise<Attrs> {
    const reply = await t.client.create(path, 4, { 'm2m:cin': attrs }, ae);
    assert.equal(reply.rsc, 2001, reply.text);
    return cin(reply);
  }
  const stateOf = async (path: string): Promise<Attrs> => cnt(await t.client.retrieve(path, ae));

  it('contentInfo is <type>/<subtype>:<encoding 0-2>[:<contentSecurity 0-5>]; anything else is 4000 and stores nothing', async () => {
    const path = await container('formats');
    for (const cnf of ['text', 'text:0', 'text/plain', 'text/plain:0:0:0', 'text/plain:9', 'text/plain:0:6', 'text/plain:', '/plain:0', 'text/plain:1 ']) {
      const reply = await t.client.create(path, 4, { 'm2m:cin': { cnf, con: 'x' } }, ae);
      assert.equal(reply.rsc, 4000, cnf);
      assert.match(String(reply.body?.['m2m:dbg']), /'cnf'/, cnf);
    }
    assert.equal((await stateOf(path)).cni, 0);
    for (const cnf of ['text/plain:0', 'application/json:1', 'application/xml:2:5', 'text/plain; charset=utf-8:0', 'application/vnd.example+json:0:1']) {
      assert.equal((await post(path, { cnf, con: 'x' })).cnf, cnf);
    }
  });

  it('deletionCnt: each RETRIEVE shows the count and takes one off, the last one deletes the instance', async () => {
    const path = await container('counted');
    const created = await post(path, { rn: 'thrice', con: 'secret', dcnt: 3 });
    assert.equal(created.dcnt, 3);
    const st = Number((await stateOf(path)).st);
    for (const left of [3, 2]) assert.equal(cin(await t.client.retrieve(`${path}/thrice`, ae)).dcnt, left);
    assert.equal(cin(await t.client.retrieve(`${path}/la`, ae)).dcnt, 1, 'la names the instance: it counts too');
    assert.equal((await t.client.retrieve(`${path}/thrice`, ae)).rsc, 4004);
    const after = await stateOf(path);
    assert.equal(after.cni, 0);
    assert.equal(after.cbs, 0);
    assert.equal(after.st, st + 1, 'the deletion is a change of the container');
    for (const dcnt of [0, -1, 'three', 1.5]) {
      assert.equal((await t.client.create(path, 4, { 'm2m:cin': { con: 'x', dcnt } }, ae)).rsc, 4000, String(dcnt));
    }
  });

  it('contentRef: a list of {nm, uri} is kept; other shapes are 4000', async () => {
    const path = await container('refs');
    const conr = [{ nm: 'schema', uri: '/id-in/cse-in/meter/formats' }];
    assert.deepEqual((await post(path, { con: 'x', conr })).conr, conr);
    for (const bad of [[], 'x', [{ nm: 'a' }], [{ nm: '1bad', uri: 'u' }], [{ nm: 'a', uri: 'u', extra: 1 }], [null]]) {
      const reply = await t.client.create(path, 4, { 'm2m:cin': { con: 'x', conr: bad } }, ae);
      assert.equal(reply.rsc, 4000, JSON.stringify(bad));
      assert.match(String(reply.body?.['m2m:dbg']), /'conr'/);
    }
  });

  it('dcnt and conr arrive in XML as a number and a list', async () => {
    const path = await container('xml');
    const ns = 'xmlns:m2m="http://www.onem2m.org/xml/protocols"';
    const body = `<m2m:cin ${ns} rn="once"><con>x</con><dcnt>1</dcnt><conr><nm>schema</nm><uri>/id-in/cse-in/meter</uri></conr></m2m:cin>`;
    const headers = { 'X-M2M-Origin': ae, 'X-M2M-RI': 'x', 'X-M2M-RVI': '3', 'Content-Type': 'application/xml;ty=4' };
    const reply = await fetch(`${t.url}${path}`, { method: 'POST', headers, body });
    assert.equal(reply.headers.get('x-m2m-rsc'), '2001', await reply.text());
    const stored = cin(await t.client.retrieve(`${path}/once`, ae));
    assert.equal(stored.dcnt, 1);
    assert.deepEqual(stored.conr, [{ nm: 'schema', uri: '/id-in/cse-in/meter' }]);
    assert.equal((await t.client.retrieve(`${path}/once`, ae)).rsc, 4004);
  });

  it('disableRetrieval going from true to false (or removed) deletes the instances written meanwhile', async () => {
    for (const off of [false, null]) {
      const path = await container(`sealed-${String(off)}`, { disr: true });
      const hidden = await post(path, { con: 'hidden' });
      await post(path, { con: 'hidden too' });
      const updated = await t.client.update(path, { 'm2m:cnt': { disr: off } }, ae);
      assert.equal(updated.rsc, 2004);
      assert.deepEqual([cnt(updated).cni, cnt(updated).cbs], [0, 0], String(off));
      assert.equal((await t.client.retrieve(`/${String(hidden.ri)}`, ae)).rsc, 4004, String(off));
      assert.equal((await t.client.retrieve(`${path}/la`, ae)).rsc, 4004);
      const visible = await post(path, { con: 'visible' });
      assert.equal(cin(await t.client.retrieve(`/${String(visible.ri)}`, ae)).con, 'visible');
      // Already false: setting false again deletes nothing.
      assert.equal(cnt(await t.client.update(path, { 'm2m:cnt': { disr: false } }, ae)).cni, 1);
    }
  });

  it('an UPDATE that names no attribute succeeds and still counts as a modification', async () => {
    const path = await container('untouched', { lbl: ['keep'] });
    const before = await stateOf(path);
    const reply = await t.client.update(path, { 'm2m:cnt': {} }, ae);
    assert.equal(reply.rsc, 2004);
    assert.deepEqual(cnt(reply).lbl, ['keep']);
    assert.equal(cnt(reply).st, Number(before.st) + 1);
  });

  it('a child named la or ol of a container is 4005: the names belong to its virtual resources', async () => {
    const path = await container('names');
    for (const rn of ['la', 'ol']) {
      for (const [ty, body] of [[4, { 'm2m:cin': { rn, con: 'x' } }], [3, { 'm2m:cnt': { rn } }]] as const) {
        const reply = await t.client.create(path, ty, body, ae);
        assert.equal(reply.rsc, 4005, `${rn} (ty ${ty})`);
        assert.match(String(reply.body?.['m2m:dbg']), /'rn'/);
      }
    }
    assert.equal((await stateOf(path)).cni, 0);
    assert.equal((await t.client.create('/cse-in/meter', 3, { 'm2m:cnt': { rn: 'la' } }, ae)).rsc, 4000, 'elsewhere the name stays unaddressable: 4000');
  });

  it('deleting an instance counts as a change of its container (st, lt)', async () => {
    const path = await container('tagged');
    const first = await post(path, { con: 'a' });
    await post(path, { con: 'b' });
    const before = await stateOf(path);
    assert.equal((await t.client.delete(`/${String(first.ri)}`, ae)).rsc, 2002);
    assert.equal((await stateOf(path)).st, Number(before.st) + 1);
    assert.equal((await t.client.delete(`${path}/la`, ae)).rsc, 2002);
    const after = await stateOf(path);
    assert.equal(after.st, Number(before.st) + 2);
    assert.equal(after.cni, 0);
  });

  it('a stored location takes decimal coordinates (1.0, 1e0), not integers, as ACME does', async () => {
    for (const crd of ['[1, 2]', '[1.0, 2]', '[[1.0,2.0],[3,4.0]]']) {
      const reply = await t.client.create('/cse-in/meter', 3, { 'm2m:cnt': { loc: { typ: crd.startsWith('[[') ? 2 : 1, crd } } }, ae);
      assert.equal(reply.rsc, 4000, crd);
      assert.match(String(reply.body?.['m2m:dbg']), /'loc'.*decimal/, crd);
    }
    for (const crd of ['[1.0, 2.0]', '[-1.5e1, 2E-3]', '[ 10.25 , -0.0 , 3.0 ]']) {
      assert.equal((await t.client.create('/cse-in/meter', 3, { 'm2m:cnt': { loc: { typ: 1, crd } } }, ae)).rsc, 2001, crd);
    }
  });

  it('a duration (batchNotify dur) is an xs:duration such as PT1S, or milliseconds as before', async () => {
    const path = await container('batched');
    const rx = await new Receiver().start();
    try {
      const sub = await t.client.create(path, 23, { 'm2m:sub': { nu: [rx.url], enc: { net: [3] }, bn: { dur: 'PT1S' } } }, ae);
      assert.equal(sub.rsc, 2001, sub.text);
      assert.deepEqual((sub.body?.['m2m:sub'] as Attrs).bn, { dur: 'PT1S' });
      await post(path, { con: '1' });
      await post(path, { con: '2' });
      await waitFor(() => rx.notifications().some((n) => n['m2m:agn'] !== undefined));
      const agn = rx.notifications().find((n) => n['m2m:agn'] !== undefined)?.['m2m:agn'] as Attrs;
      assert.equal((agn['m2m:sgn'] as Attrs[]).length, 2, 'both events wait out the one-second batch');
      assert.equal((await t.client.create(path, 23, { 'm2m:sub': { nu: [rx.url], bn: { dur: 250 } } }, ae)).rsc, 2001);
      for (const dur of ['P', 'PT', '10', 'PT-1S', 'P1H', true, -5, 'P2D']) {
        const reply = await t.client.create(path, 23, { 'm2m:sub': { nu: [rx.url], bn: { dur } } }, ae);
        assert.equal(reply.rsc, 4000, String(dur));
        assert.match(String(reply.body?.['m2m:dbg']), /'bn'.*dur/, String(dur));
      }
    } finally {
      await rx.stop();
    }
  });
});
