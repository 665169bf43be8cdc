// Request parameters, response parameters, NOTIFY targets and the CSEBase / AE / pollingChannel rules the
// community suite (testMisc, testRequests, testCSE, testAE, testPCH) checks, over the real protocols.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCse, type TestCse } from '../harness.js';
import { Receiver, waitFor } from '../receiver.js';
import { coapClient, httpClient, mqttClient, wsClient, type PrimitiveClient } from '../bindingClients.js';
import { parseTimestamp } from '../../src/primitive/identifiers.js';

type Attrs = Record<string, unknown>;

const BROKER = process.env.WARDEN_TEST_MQTT ?? 'mqtt://127.0.0.1:1883';

describe('request and response parameters over HTTP', () => {
  let t: TestCse;
  let ae: string;
  before(async () => {
    t = await startTestCse();
    ae = await t.client.registerAe('params');
  });
  after(() => t.close());

  it('refuses X-M2M-RVI: 1 with 4001 (a Release 1 request sends no indicator) and serves 2a to 5', async () => {
    const one = await t.client.retrieve('/cse-in', 'CAdmin', { rvi: '1' });
    assert.equal(one.rsc, 4001, one.text);
    assert.match(String(one.body?.['m2m:dbg']), /X-M2M-RVI/);
    for (const rvi of ['2a', '3', '4', '5']) assert.equal((await t.client.retrieve('/cse-in', 'CAdmin', { rvi })).rsc, 2000, rvi);
    assert.equal((await t.client.retrieve('/cse-in', 'CAdmin', { rvi: null })).rsc, 2000, 'no indicator: Release 1');
  });

  it('takes any string as request identifier, spaces included, and echoes it', async () => {
    const reply = await t.client.retrieve('/cse-in', 'CAdmin', { rqi: 'Existing resource' });
    assert.equal(reply.rsc, 2000, reply.text);
    assert.equal(reply.headers.get('x-m2m-ri'), 'Existing resource');
  });

  it('answers every response with X-M2M-OT and echoes X-M2M-RST', async () => {
    const ok = await t.client.retrieve('/cse-in', 'CAdmin', { headers: { 'X-M2M-RST': '60000' } });
    assert.equal(ok.rsc, 2000);
    assert.ok(parseTimestamp(ok.headers.get('x-m2m-ot') ?? '') !== undefined, `ot: ${String(ok.headers.get('x-m2m-ot'))}`);
    assert.equal(ok.headers.get('x-m2m-rst'), '60000');
    const refused = await t.client.retrieve('/cse-in/nothing', 'CAdmin');
    assert.equal(refused.rsc, 4004);
    assert.ok(parseTimestamp(refused.headers.get('x-m2m-ot') ?? '') !== undefined, 'an error carries ot too');
    const undecodable = await t.client.request('PATCH', '/cse-in', { origin: 'CAdmin' });
    assert.equal(undecodable.rsc, 4000);
    assert.ok(parseTimestamp(undecodable.headers.get('x-m2m-ot') ?? '') !== undefined, 'a request the binding refuses too');
  });

  it('echoes X-M2M-RST in the acknowledgement of a non-blocking synchronous request', async () => {
    const reply = await t.client.retrieve(`/cse-in/params?rt=1`, ae, { headers: { 'X-M2M-RST': '5000' } });
    assert.equal(reply.rsc, 1001, reply.text);
    assert.equal(reply.headers.get('x-m2m-rst'), '5000');
  });

  it('refuses a resource type in any request but CREATE with 4000, and a CREATE without one', async () => {
    const retrieve = await t.client.retrieve('/cse-in', 'CAdmin', { headers: { 'Content-Type': 'application/json;ty=2' } });
    assert.equal(retrieve.rsc, 4000, retrieve.text);
    assert.match(String(retrieve.body?.['m2m:dbg']), /ty=2/);
    const del = await t.client.delete('/cse-in/params', ae, { headers: { 'Content-Type': 'application/json;ty=2' } });
    assert.equal(del.rsc, 4000, del.text);
    // Over HTTP a POST without ty is a NOTIFY: a resource as its content is no notification.
    const untyped = await t.client.request('POST', '/cse-in', { origin: 'CAdmin', body: { 'm2m:ae': { rn: 'foo' } } });
    assert.equal(untyped.rsc, 4000, untyped.text);
    assert.match(String(untyped.body?.['m2m:dbg']), /ty in Content-Type/);
    assert.equal((await t.client.retrieve('/cse-in/params', ae)).rsc, 2000, 'nothing changed');
  });

  it('reads ty from a Content-Type with spaces before it', async () => {
    const reply = await t.client.request('POST', '/cse-in', {
      origin: '',
      headers: { 'Content-Type': 'application/json;       ty=2' },
      body: { 'm2m:ae': { rn: 'spaced', api: 'Nspaced', rr: false, srv: ['3'] } },
    });
    assert.equal(reply.rsc, 2001, reply.text);
  });

  it('answers with a bare media type: ty belongs to the Content-Type of Create requests only (TS-0009 §6.4.3)', async () => {
    // ACME reads a response Content-Type with any parameter as no content, so a CSE-to-CSE RETRIEVE (rcn 7 of an
    // announced resource, a forwarded request) came back empty from Warden.
    const read = await t.client.retrieve('/cse-in/params', ae);
    assert.equal(read.rsc, 2000, read.text);
    assert.equal(read.headers.get('content-type'), 'application/json');
    const created = await t.client.create('/cse-in/params', 3, { 'm2m:cnt': { rn: 'bareType' } }, ae);
    assert.equal(created.rsc, 2001, created.text);
    assert.equal(created.headers.get('content-type'), 'application/json');
    const cbor = await t.client.request('GET', '/cse-in/params', { origin: ae, headers: { Accept: 'application/cbor' } });
    assert.equal(cbor.headers.get('content-type'), 'application/cbor');
  });

  it('refuses inconsistent deadlines with 4000: rset before rqet, oet at or after rqet or rset', async () => {
    const cases: Array<Record<string, string>> = [
      { 'X-M2M-RET': '20000', 'X-M2M-RST': '10000' },
      { 'X-M2M-OET': '20000', 'X-M2M-RET': '10000' },
      { 'X-M2M-OET': '20000', 'X-M2M-RST': '10000' },
    ];
    for (const headers of cases) {
      const reply = await t.client.retrieve('/cse-in/params', ae, { headers });
      assert.equal(reply.rsc, 4000, `${JSON.stringify(headers)}: ${reply.text}`);
    }
    assert.equal((await t.client.retrieve('/cse-in/params', ae, { headers: { 'X-M2M-RET': '10000', 'X-M2M-RST': '20000', 'X-M2M-OET': '1' } })).rsc, 2000);
    // A deadline already passed is a timeout (4008) before it is an inconsistency.
    assert.equal((await t.client.retrieve('/cse-in/params', ae, { headers: { 'X-M2M-RET': '10000', 'X-M2M-RST': '-1000' } })).rsc, 4008);
  });

  it('carries out a request with rt=noResponse and answers 204 without content; a refused one gets its error', async () => {
    const created = await t.client.request('POST', '/cse-in/params?rt=5', { origin: ae, ty: 3, body: { 'm2m:cnt': { rn: 'quiet' } } });
    assert.equal(created.status, 204);
    assert.equal(created.text, '');
    assert.equal((await t.client.retrieve('/cse-in/params/quiet', ae)).rsc, 2000, 'it was carried out');
    const again = await t.client.request('POST', '/cse-in/params?rt=5', { origin: ae, ty: 3, body: { 'm2m:cnt': { rn: 'quiet' } } });
    assert.equal(again.rsc, 4105, 'a refusal is still answered');
    const deleted = await t.client.delete('/cse-in/params/quiet?rt=5', ae);
    assert.equal(deleted.status, 204);
    assert.equal((await t.client.retrieve('/cse-in/params/quiet', ae)).rsc, 4004);
  });

  it('refuses labels that are no xs:token with 4000 and leaves the resource as it was', async () => {
    assert.equal((await t.client.create('/cse-in/params', 3, { 'm2m:cnt': { rn: 'tokens', lbl: ['a b', 'key:value'] } }, ae)).rsc, 2001);
    for (const label of ['a  double space', 'with\ttab', 'with\nnewline', 'with\rreturn', '', ' leading', 'trailing ']) {
      const reply = await t.client.update('/cse-in/params/tokens', { 'm2m:cnt': { lbl: [label] } }, ae);
      assert.equal(reply.rsc, 4000, JSON.stringify(label));
      assert.match(String(reply.body?.['m2m:dbg']), /'lbl'/);
    }
    const stored = await t.client.retrieve('/cse-in/params/tokens', ae);
    assert.deepEqual((stored.body?.['m2m:cnt'] as Attrs).lbl, ['a b', 'key:value']);
  });
});

describe('NOTIFY to a resource of this CSE', () => {
  let t: TestCse;
  let rx: Receiver;
  before(async () => {
    t = await startTestCse();
    rx = await new Receiver().start();
  });
  after(async () => {
    await rx.stop();
    await t.close();
  });

  const notification = { 'm2m:sgn': { nev: { rep: {}, net: 1 }, sur: 'ignored' } };

  it('refuses a notification to the CSEBase with 4000: this CSE subscribed to nothing', async () => {
    const reply = await t.client.request('POST', '/cse-in', { origin: 'CAdmin', body: notification });
    assert.equal(reply.rsc, 4000, reply.text);
  });

  it('re-targets a notification to an AE to its point of access, in the release the AE supports, and relays its answer', async () => {
    const aei = await t.client.registerAe('target', { rr: true, poa: [rx.url], srv: ['2'] });
    const reply = await t.client.request('POST', '/cse-in/target', { origin: aei, body: notification, rqi: 'forwarded' });
    assert.equal(reply.rsc, 2000, reply.text);
    await waitFor(() => rx.received.length === 1);
    const [got] = rx.received;
    assert.deepEqual(got?.body, notification);
    assert.equal(got?.headers['x-m2m-rvi'], '2');
    assert.equal(got?.headers['x-m2m-ri'], 'forwarded');
    assert.equal(got?.headers['x-m2m-origin'], aei);
    rx.behaviour = 'refuse';
    const refused = await t.client.request('POST', '/cse-in/target', { origin: aei, body: notification });
    assert.equal(refused.rsc, 4101, 'the AE’s answer is the answer');
    rx.behaviour = 'ok';
  });

  it('answers 5103 for an AE without a point of access, and 4000 for a resource that takes no notifications', async () => {
    const aei = await t.client.registerAe('unreachable');
    const reply = await t.client.request('POST', '/cse-in/unreachable', { origin: aei, body: notification });
    assert.equal(reply.rsc, 5103, reply.text);
    assert.equal((await t.client.create('/cse-in/unreachable', 3, { 'm2m:cnt': { rn: 'box' } }, aei)).rsc, 2001);
    assert.equal((await t.client.request('POST', '/cse-in/unreachable/box', { origin: aei, body: notification })).rsc, 4000);
  });
});

describe('CSEBase, AE and pollingChannel rules', () => {
  let t: TestCse;
  before(async () => {
    t = await startTestCse();
  });
  after(() => t.close());

  it('shows ctm (current time), every serialization in csz, and an empty parentID', async () => {
    const before = Date.now();
    const reply = await t.client.retrieve('/cse-in', 'CAdmin');
    const cb = reply.body?.['m2m:cb'] as Attrs;
    const ctm = parseTimestamp(String(cb.ctm));
    assert.ok(ctm !== undefined && ctm >= before - 1000 && ctm <= Date.now() + 1000, `ctm ${String(cb.ctm)}`);
    assert.deepEqual(cb.csz, ['application/json', 'application/cbor', 'application/xml']);
    assert.equal(cb.pi, '');
    const partial = await t.client.retrieve('/cse-in?atrl=ctm', 'CAdmin');
    assert.ok(typeof (partial.body?.['m2m:cb'] as Attrs).ctm === 'string', partial.text);
  });

  it('validates an AE’s csz: 4000 for an unknown serialization, media types and short names accepted', async () => {
    const wrong = await t.client.create('/cse-in', 2, { 'm2m:ae': { rn: 'wrongcsz', api: 'Nx', rr: false, srv: ['3'], csz: ['wrong'] } }, 'Cwrongcsz');
    assert.equal(wrong.rsc, 4000, wrong.text);
    assert.match(String(wrong.body?.['m2m:dbg']), /'csz'/);
    assert.equal((await t.client.retrieve('/cse-in/wrongcsz', 'CAdmin')).rsc, 4004, 'nothing was stored');
    const ok = await t.client.create('/cse-in', 2, { 'm2m:ae': { rn: 'goodcsz', api: 'Nx', rr: false, srv: ['3'], csz: ['application/cbor', 'json'] } }, 'Cgoodcsz');
    assert.equal(ok.rsc, 2001, ok.text);
    assert.equal((await t.client.update('/cse-in/goodcsz', { 'm2m:ae': { csz: ['text/plain'] } }, 'Cgoodcsz')).rsc, 4000);
  });

  it('answers an AE created under an AE with 4108, and a CSE-ID registering as an AE with 4107', async () => {
    const owner = await t.client.registerAe('parentae');
    const nested = await t.client.create('/cse-in/parentae', 2, { 'm2m:ae': { rn: 'child', api: 'Nx', rr: false, srv: ['3'] } }, 'C');
    assert.equal(nested.rsc, 4108, nested.text);
    const byOwner = await t.client.create('/cse-in/parentae', 2, { 'm2m:ae': { rn: 'child', api: 'Nx', rr: false, srv: ['3'] } }, owner);
    assert.equal(byOwner.rsc, 4108, byOwner.text);
    const byCse = await t.client.create('/cse-in', 2, { 'm2m:ae': { api: 'Nx', rr: false, srv: ['3'] } }, 'id-in');
    assert.equal(byCse.rsc, 4107, byCse.text);
  });

  it('allows an App-ID with a lower-case r up to Release 3 only', async () => {
    const r3 = await t.client.create('/cse-in', 2, { 'm2m:ae': { rn: 'lower3', api: 'racme', rr: false, srv: ['3'] } }, 'Clower3', { rvi: '3' });
    assert.equal(r3.rsc, 2001, r3.text);
    const r4 = await t.client.create('/cse-in', 2, { 'm2m:ae': { rn: 'lower4', api: 'racme', rr: false, srv: ['4'] } }, 'Clower4', { rvi: '4' });
    assert.equal(r4.rsc, 4000, r4.text);
    assert.match(String(r4.body?.['m2m:dbg']), /'api'/);
    const upper = await t.client.create('/cse-in', 2, { 'm2m:ae': { rn: 'upper4', api: 'Rabc.com.example.acme', rr: false, srv: ['4'] } }, 'Cupper4', { rvi: '4' });
    assert.equal(upper.rsc, 2001, upper.text);
  });

  it('refuses a second pollingChannel under one AE with 4000', async () => {
    const aei = await t.client.registerAe('poller');
    assert.equal((await t.client.create('/cse-in/poller', 15, { 'm2m:pch': { rn: 'first' } }, aei)).rsc, 2001);
    const second = await t.client.create('/cse-in/poller', 15, { 'm2m:pch': { rn: 'second' } }, aei);
    assert.equal(second.rsc, 4000, second.text);
    assert.equal((await t.client.retrieve('/cse-in/poller/second', aei)).rsc, 4004);
  });
});

describe('response parameters on every binding', () => {
  let t: TestCse;
  const cseId = `id-prim${process.pid}`;
  before(async () => {
    t = await startTestCse({ 'cse.id': cseId, 'mqtt.enabled': true, 'mqtt.url': BROKER, 'ws.enabled': true, 'ws.port': 0, 'coap.enabled': true, 'coap.port': 0 });
  });
  after(() => t.close());

  const clients: Array<[string, () => Promise<PrimitiveClient>]> = [
    ['http', () => Promise.resolve(httpClient(t.url, 'json'))],
    ['mqtt', () => mqttClient(BROKER, cseId, 'json', 'Cmqttparams')],
    ['ws (oneM2M.json, TS-0020 V3)', () => wsClient(`ws://127.0.0.1:${String(t.cse.wsPort)}`, 'json', 'oneM2M.json')],
    ['ws (oneM2M.cbor)', () => wsClient(`ws://127.0.0.1:${String(t.cse.wsPort)}`, 'cbor', 'oneM2M.cbor')],
    ['ws (oneM2M.R2.0.json)', () => wsClient(`ws://127.0.0.1:${String(t.cse.wsPort)}`, 'json')],
    ['coap', () => Promise.resolve(coapClient(t.cse.coapPort ?? 0, 'json'))],
  ];
  for (const [name, connect] of clients) {
    it(`${name}: ot in every response, rset echoed`, async () => {
      const client = await connect();
      try {
        // The admin is the admin only from loopback connections; over MQTT the broker is the peer: an AE asks.
        let originator = 'CAdmin';
        if (name === 'mqtt') {
          originator = 'Cmqttparams';
          const registered = await client.send({ op: 1, to: 'cse-in', fr: originator, rqi: 'ot-mqtt-reg', ty: 2, pc: { 'm2m:ae': { rn: 'mqttparams', api: 'Nx', rr: false, srv: ['3'] } } });
          assert.equal(registered.rsc, 2001, JSON.stringify(registered.pc));
        }
        const answer = await client.send({ op: 2, to: 'cse-in', fr: originator, rqi: `ot-${name}`, rset: '60000' });
        assert.equal(answer.rsc, 2000);
        assert.ok(parseTimestamp(answer.ot ?? '') !== undefined, `ot: ${String(answer.ot)}`);
        assert.equal(answer.rset, '60000');
      } finally {
        await client.close();
      }
    });
  }
});
