// The same scenario over HTTP, MQTT (a real Mosquitto on 127.0.0.1:1883) and WebSocket, each with JSON,
// CBOR and XML: registration, container, contentInstance, latest, and a subscription's notification.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import WebSocket from 'ws';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { generate, parse as parseCoap } from 'coap-packet';
import { startTestCse, type TestCse } from '../harness.js';
import { capturingLogger } from '../logCapture.js';
import { Receiver, waitFor } from '../receiver.js';
import { coapClient, httpClient, mqttClient, wsClient, type Format, type PrimitiveClient } from '../bindingClients.js';

type Attrs = Record<string, unknown>;
const BROKER = process.env.WARDEN_TEST_MQTT ?? 'mqtt://127.0.0.1:1883';

describe('bindings and serializations', () => {
  let t: TestCse;
  const cseId = `id-bind${process.pid}`;
  before(async () => {
    t = await startTestCse({ 'cse.id': cseId, 'mqtt.enabled': true, 'mqtt.url': BROKER, 'ws.enabled': true, 'ws.port': 0, 'coap.enabled': true, 'coap.port': 0 });
  });
  after(() => t.close());

  const bindings: Array<[string, (format: Format, ae: string) => Promise<PrimitiveClient>]> = [
    ['http', (format) => Promise.resolve(httpClient(t.url, format))],
    ['mqtt', (format, ae) => mqttClient(BROKER, cseId, format, ae)],
    ['ws', (format) => wsClient(`ws://127.0.0.1:${String(t.cse.wsPort)}`, format)],
    ['coap', (format) => Promise.resolve(coapClient(t.cse.coapPort ?? 0, format))],
  ];

  for (const [binding, connect] of bindings) {
    for (const format of ['json', 'cbor', 'xml'] as const) {
      it(`${binding} with ${format}: register, store, read the latest, get notified`, async () => {
        const ae = `C${binding}${format}`;
        const client = await connect(format, ae);
        const rx = await new Receiver().start();
        let n = 0;
        const rqi = (): string => `${binding}-${format}-${++n}`;
        try {
          const reg = await client.send({ op: 1, to: 'cse-in', fr: ae, rqi: rqi(), ty: 2, pc: { 'm2m:ae': { rn: ae, api: 'Nbinding', rr: false, srv: ['3'] } } });
          assert.equal(reg.rsc, 2001, JSON.stringify(reg.pc));
          assert.equal((reg.pc?.['m2m:ae'] as Attrs).aei, ae);
          assert.equal((await client.send({ op: 1, to: `cse-in/${ae}`, fr: ae, rqi: rqi(), ty: 3, pc: { 'm2m:cnt': { rn: 'data', mni: 5 } } })).rsc, 2001);
          const sub = await client.send({ op: 1, to: `cse-in/${ae}/data`, fr: ae, rqi: rqi(), ty: 23, pc: { 'm2m:sub': { rn: 'watch', nu: [rx.url], enc: { net: [3] } } } });
          assert.equal(sub.rsc, 2001, JSON.stringify(sub.pc));
          assert.equal((await client.send({ op: 1, to: `cse-in/${ae}/data`, fr: ae, rqi: rqi(), ty: 4, pc: { 'm2m:cin': { cnf: 'text/plain:0', con: 'reading' } } })).rsc, 2001);
          const latest = await client.send({ op: 2, to: `cse-in/${ae}/data/la`, fr: ae, rqi: rqi() });
          assert.equal(latest.rsc, 2000);
          assert.equal((latest.pc?.['m2m:cin'] as Attrs).con, 'reading');
          const denied = await client.send({ op: 2, to: `cse-in/${ae}/data`, fr: 'CAdmin2', rqi: rqi() });
          assert.ok(denied.rsc === 4106 || denied.rsc === 4000, `an unregistered originator is refused (${denied.rsc})`);
          await waitFor(() => rx.notifications().length === 1);
        } finally {
          await client.close();
          await rx.stop();
        }
      });
    }
  }

  it('mqtt: notifications reach an AE whose point of access is mqtt://, verification included', async () => {
    const aei = 'Cmqttlistener';
    const listener = await mqtt.connectAsync(BROKER, { clientId: `test-listener-${process.pid}` });
    const got: Attrs[] = [];
    await listener.subscribeAsync(`/oneM2M/req/${cseId}/${aei}/json`, { qos: 1 });
    listener.on('message', (_t, payload) => {
      const request = JSON.parse(payload.toString()) as Attrs;
      got.push(request);
      void listener.publishAsync(`/oneM2M/resp/${cseId}/${aei}/json`, JSON.stringify({ rsc: 2000, rqi: request.rqi, to: request.fr, fr: aei }));
    });
    try {
      const http = httpClient(t.url, 'json');
      assert.equal((await http.send({ op: 1, to: 'cse-in', fr: aei, rqi: 'l1', ty: 2, pc: { 'm2m:ae': { rn: aei, api: 'Nl', rr: true, poa: [BROKER], srv: ['3'] } } })).rsc, 2001);
      assert.equal((await http.send({ op: 1, to: `cse-in/${aei}`, fr: aei, rqi: 'l2', ty: 3, pc: { 'm2m:cnt': { rn: 'c' } } })).rsc, 2001);
      const other = 'Cmqttwatcher';
      assert.equal((await http.send({ op: 1, to: 'cse-in', fr: other, rqi: 'l3', ty: 2, pc: { 'm2m:ae': { rn: other, api: 'Nw', rr: false, srv: ['3'] } } })).rsc, 2001);
      const acp = await http.send({ op: 1, to: `cse-in/${aei}`, fr: aei, rqi: 'l4', ty: 1, pc: { 'm2m:acp': { rn: 'p', pv: { acr: [{ acor: [other], acop: 3 }, { acor: [aei], acop: 1 }] }, pvs: { acr: [{ acor: [aei], acop: 63 }] } } } });
      const acpi = [String((acp.pc?.['m2m:acp'] as Attrs).ri)];
      assert.equal((await http.send({ op: 3, to: `cse-in/${aei}/c`, fr: aei, rqi: 'l5', pc: { 'm2m:cnt': { acpi } } })).rsc, 2004);
      const sub = await http.send({ op: 1, to: `cse-in/${aei}/c`, fr: other, rqi: 'l6', ty: 23, pc: { 'm2m:sub': { nu: [aei], enc: { net: [3] } } } });
      assert.equal(sub.rsc, 2001, JSON.stringify(sub.pc));
      assert.equal((await http.send({ op: 1, to: `cse-in/${aei}/c`, fr: aei, rqi: 'l7', ty: 4, pc: { 'm2m:cin': { con: 'over mqtt' } } })).rsc, 2001);
      await waitFor(() => got.length === 2);
      assert.equal(((got[0]?.pc as Attrs)['m2m:sgn'] as Attrs).vrq, true);
      assert.equal(got[1]?.op, 5);
      assert.equal(got[1]?.fr, `/${cseId}`);
    } finally {
      await listener.endAsync();
    }
  });

  it('mqtt: another broker client cannot answer the verification request meant for an AE', async () => {
    const impostorCse = `id-imp${process.pid}`;
    const u = await startTestCse({ 'cse.id': impostorCse, 'mqtt.enabled': true, 'mqtt.url': BROKER, 'notifications.timeout': 2 });
    const victim = 'Cmqttvictim';
    // The impostor reads the request (this test broker has no ACLs) and answers on the victim's response topic:
    // with its own From, without one, and with the victim's From but a guessed request identifier.
    const impostor = await mqtt.connectAsync(BROKER, { clientId: `test-impostor-${process.pid}` });
    const seen: Attrs[] = [];
    await impostor.subscribeAsync(`/oneM2M/req/${impostorCse}/${victim}/json`, { qos: 1 });
    impostor.on('message', (_t, payload) => {
      const request = JSON.parse(payload.toString()) as Attrs;
      seen.push(request);
      const topic = `/oneM2M/resp/${impostorCse}/${victim}/json`;
      void impostor.publishAsync(topic, JSON.stringify({ rsc: 2000, rqi: request.rqi, to: request.fr, fr: 'Cimpostor' }));
      void impostor.publishAsync(topic, JSON.stringify({ rsc: 2000, rqi: request.rqi, to: request.fr }));
      void impostor.publishAsync(topic, JSON.stringify({ rsc: 2000, rqi: `${String(request.rqi).slice(0, 4)}guessed`, to: request.fr, fr: victim }));
    });
    const http = httpClient(u.url, 'json');
    try {
      assert.equal((await http.send({ op: 1, to: 'cse-in', fr: victim, rqi: 'i1', ty: 2, pc: { 'm2m:ae': { rn: victim, api: 'Nv', rr: true, poa: [BROKER], srv: ['3'] } } })).rsc, 2001);
      const watcher = 'Cmqttwatcher';
      assert.equal((await http.send({ op: 1, to: 'cse-in', fr: watcher, rqi: 'i2', ty: 2, pc: { 'm2m:ae': { rn: watcher, api: 'Nw', rr: false, srv: ['3'] } } })).rsc, 2001);
      assert.equal((await http.send({ op: 1, to: `cse-in/${watcher}`, fr: watcher, rqi: 'i3', ty: 3, pc: { 'm2m:cnt': { rn: 'c' } } })).rsc, 2001);
      const refused = await http.send({ op: 1, to: `cse-in/${watcher}/c`, fr: watcher, rqi: 'i4', ty: 23, pc: { 'm2m:sub': { nu: [victim], enc: { net: [3] } } } });
      assert.equal(seen.length, 1, 'the impostor saw the verification request');
      assert.equal(refused.rsc, 5204, JSON.stringify(refused.pc));
      // The AE itself, answering after the impostor on its own topic with its own From, is heard.
      const real = await mqtt.connectAsync(BROKER, { clientId: `test-real-${process.pid}` });
      await real.subscribeAsync(`/oneM2M/req/${impostorCse}/${victim}/json`, { qos: 1 });
      real.on('message', (_t, payload) => {
        const request = JSON.parse(payload.toString()) as Attrs;
        // Once the impostor has the request too: its answers must not have used up the wait.
        void waitFor(() => seen.some((r) => r.rqi === request.rqi)).then(() =>
          real.publishAsync(`/oneM2M/resp/${impostorCse}/${victim}/json`, JSON.stringify({ rsc: 2000, rqi: request.rqi, to: request.fr, fr: `/${impostorCse}/${victim}` })),
        );
      });
      try {
        const accepted = await http.send({ op: 1, to: `cse-in/${watcher}/c`, fr: watcher, rqi: 'i5', ty: 23, pc: { 'm2m:sub': { nu: [victim], enc: { net: [3] } } } });
        assert.equal(accepted.rsc, 2001, JSON.stringify(accepted.pc));
      } finally {
        await real.endAsync();
      }
    } finally {
      await impostor.endAsync();
      await u.close();
    }
  });

  it('ws and coap: notifications reach AEs over their WebSocket connection and at coap:// points of access', async () => {
    const http = httpClient(t.url, 'json');
    // An AE that registered over WebSocket answers the requests the CSE sends down its connection.
    const socket = new WebSocket(`ws://127.0.0.1:${String(t.cse.wsPort)}`, ['oneM2M.R2.0.json']);
    await new Promise((r) => socket.once('open', r));
    const overWs: Attrs[] = [];
    socket.on('message', (data: Buffer) => {
      const doc = JSON.parse(data.toString()) as Attrs;
      if (doc.op !== undefined) {
        overWs.push(doc);
        socket.send(JSON.stringify({ rsc: 2000, rqi: doc.rqi, to: doc.fr }));
      }
    });
    socket.send(JSON.stringify({ op: 1, to: 'cse-in', fr: 'Cwsae', rqi: 'w1', rvi: '3', ty: 2, pc: { 'm2m:ae': { rn: 'Cwsae', api: 'Nw', rr: true, poa: ['ws://127.0.0.1'], srv: ['3'] } } }));
    await waitFor(async () => (await http.send({ op: 2, to: 'cse-in/Cwsae', fr: 'Cwsae', rqi: 'w2' })).rsc === 2000);
    // A CoAP server standing in for an AE with a coap:// point of access.
    const coap = (await import('coap')).default;
    const overCoap: string[] = [];
    const coapAe = coap.createServer();
    coapAe.on('request', (req: { headers: Record<string, unknown>; payload: Buffer }, res: { code: string; setOption(n: string, v: unknown): void; end(): void }) => {
      overCoap.push(req.payload.toString());
      res.code = '2.04';
      res.setOption('307', 2000);
      res.end();
    });
    await new Promise<void>((r) => coapAe.listen(0, '127.0.0.1', () => r()));
    const coapPort = ((coapAe as unknown as { _sock: { address(): { port: number } } })._sock).address().port;
    try {
      assert.equal((await http.send({ op: 1, to: 'cse-in', fr: 'Ccoapae', rqi: 'k1', ty: 2, pc: { 'm2m:ae': { rn: 'Ccoapae', api: 'Nk', rr: true, poa: [`coap://127.0.0.1:${coapPort}/`], srv: ['3'] } } })).rsc, 2001);
      assert.equal((await http.send({ op: 1, to: 'cse-in/Cwsae', fr: 'Cwsae', rqi: 'w3', ty: 3, pc: { 'm2m:cnt': { rn: 'c' } } })).rsc, 2001);
      const sub = await http.send({ op: 1, to: 'cse-in/Cwsae/c', fr: 'Cwsae', rqi: 'w4', ty: 23, pc: { 'm2m:sub': { nu: ['Cwsae', 'Ccoapae'], enc: { net: [3] } } } });
      assert.equal(sub.rsc, 2001, JSON.stringify(sub.pc));
      assert.equal((await http.send({ op: 1, to: 'cse-in/Cwsae/c', fr: 'Cwsae', rqi: 'w5', ty: 4, pc: { 'm2m:cin': { con: 'both ways' } } })).rsc, 2001);
      await waitFor(() => overWs.length >= 1 && overCoap.length >= 2);
      assert.equal(overWs.at(-1)?.op, 5);
      assert.ok(overCoap.some((p) => p.includes('"vrq":true')), 'the coap:// target was verified');
      assert.ok(overCoap.some((p) => p.includes('both ways')));
    } finally {
      socket.close();
      await new Promise<void>((r) => coapAe.close(() => r()));
    }
  });

  it('ws: structured values where text is expected and over-long filter lists are 4000, a bogus answer is no request', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${String(t.cse.wsPort)}`, ['oneM2M.R2.0.json']);
    await new Promise((r) => socket.once('open', r));
    const replies: Attrs[] = [];
    socket.on('message', (data: Buffer) => replies.push(JSON.parse(data.toString()) as Attrs));
    const ask = async (doc: Attrs): Promise<Attrs> => {
      const before = replies.length;
      socket.send(JSON.stringify({ rvi: '3', ...doc }));
      await waitFor(() => replies.length > before);
      return replies[before] as Attrs;
    };
    try {
      assert.equal((await ask({ op: 1, to: 'cse-in', fr: 'Cwsbad', rqi: 's0', ty: 2, pc: { 'm2m:ae': { rn: 'wsbad', api: 'Nw', rr: false, srv: ['3'] } } })).rsc, 2001);
      // {"toString": 1} made String() throw: 5000 before.
      const structured = await ask({ op: 2, to: 'cse-in/wsbad', fr: 'Cwsbad', rqi: 's1', fc: { fu: 1, atr: [{ nm: 'rn', val: { toString: 1 } }] } });
      assert.equal(structured.rsc, 4000, JSON.stringify(structured));
      assert.match(String((structured.pc as Attrs)['m2m:dbg']), /must be a string, number or boolean/);
      // 100 000 types were 100 000 SQL parameters: "too many SQL variables", 5000 before.
      const types = await ask({ op: 2, to: 'cse-in/wsbad', fr: 'Cwsbad', rqi: 's2', fc: { fu: 1, ty: new Array<number>(100_000).fill(3) } });
      assert.equal(types.rsc, 4000, JSON.stringify(types).slice(0, 300));
      // An answer (rsc, no op) whose rqi is no identifier is dropped, not answered 5000: the next reply is the next request's.
      socket.send(JSON.stringify({ rsc: 2000, rqi: { toString: 1 } }));
      socket.send(JSON.stringify({ rsc: { valueOf: 1 }, rqi: 'nobody-asked' }));
      const next = await ask({ op: 2, to: 'cse-in/wsbad', fr: 'Cwsbad', rqi: 's3' });
      assert.equal(next.rqi, 's3');
      assert.equal(next.rsc, 2000);
      assert.equal(replies.length, 4);
    } finally {
      socket.close();
    }
  });

  it('mqtt: malformed payloads and a topic that contradicts the originator get answers, and the binding keeps working', async () => {
    const client = await mqtt.connectAsync(BROKER, { clientId: `test-bad-${process.pid}` });
    const answers: Attrs[] = [];
    await client.subscribeAsync(`/oneM2M/resp/Cliar/${cseId}/json`);
    client.on('message', (_t, payload) => answers.push(JSON.parse(payload.toString()) as Attrs));
    await client.publishAsync(`/oneM2M/req/Cliar/${cseId}/json`, '{not json');
    await client.publishAsync(`/oneM2M/req/Cliar/${cseId}/json`, JSON.stringify({ op: 2, to: 'cse-in', fr: 'Csomeoneelse', rqi: 'spoof' }));
    await client.publishAsync(`/oneM2M/req/Cliar/${cseId}/json`, JSON.stringify({ op: 99, to: 'cse-in', fr: 'Cliar', rqi: 'badop' }));
    await waitFor(() => answers.length === 3);
    assert.ok(answers.every((a) => a.rsc === 4000), JSON.stringify(answers));
    assert.match(String((answers.find((a) => a.rqi === 'spoof')?.pc as Attrs)['m2m:dbg']), /topic names originator/);
    await client.endAsync();
    const good = await mqttClient(BROKER, cseId, 'json', 'CAdmin');
    assert.equal((await good.send({ op: 2, to: 'cse-in', fr: 'CAdmin', rqi: 'after' })).rsc, 4106, 'the admin is honoured only from loopback over HTTP');
    await good.close();
  });

  it('ws: a connection without a oneM2M sub-protocol is refused; an oversized frame closes only that connection', async () => {
    const plain = new WebSocket(`ws://127.0.0.1:${String(t.cse.wsPort)}`);
    await assert.rejects(new Promise((resolve, reject) => {
      plain.once('open', resolve);
      plain.once('error', reject);
    }));
    const big = new WebSocket(`ws://127.0.0.1:${String(t.cse.wsPort)}`, ['oneM2M.R2.0.json']);
    await new Promise((r) => big.once('open', r));
    const closed = new Promise<number>((r) => big.once('close', (code) => r(code)));
    big.send('x'.repeat(2 * 1024 * 1024));
    assert.equal(await closed, 1009);
    const ok = await wsClient(`ws://127.0.0.1:${String(t.cse.wsPort)}`, 'json');
    const reply = await ok.send({ op: 2, to: 'cse-in', fr: 'Cnobody', rqi: 'x' });
    assert.equal(reply.rsc, 4106);
    const garbage = await ok.send({ op: 2, to: '', fr: 'C', rqi: 'y' });
    assert.equal(garbage.rsc, 4000);
    await ok.close();
  });

  it('coap: status codes from the RSC table, the RSC option, and refusals of bad input', async () => {
    const client = coapClient(t.cse.coapPort ?? 0, 'json');
    const missing = await client.send({ op: 2, to: 'cse-in/nothing-here', fr: 'CAdmin', rqi: 'c1' });
    assert.equal(missing.rsc, 4004);
    const noRi = await client.send({ op: 2, to: 'cse-in', fr: 'CAdmin', rqi: '' });
    assert.equal(noRi.rsc, 4000);
    const bad = await client.send({ op: 1, to: 'cse-in', fr: 'CAdmin', rqi: 'c2', ty: 3, pc: { 'm2m:cnt': { bogus: 1 } } });
    assert.equal(bad.rsc, 4000);
    // A CoAP option carries any byte, where HTTP refuses control characters in a header: authenticate refuses them.
    const controlled = await client.send({ op: 2, to: 'cse-in', fr: 'Cnul\u0000ae', rqi: 'c3' });
    assert.equal(controlled.rsc, 4000);
    // Nor a character no xs:string holds, which would make an XML answer naming the originator malformed.
    assert.equal((await client.send({ op: 2, to: 'cse-in', fr: 'Cnon\uFFFEchar', rqi: 'c4' })).rsc, 4000);
    assert.equal((await client.send({ op: 2, to: 'cse-in', fr: 'CAdmin', rqi: 'c5\uFFFF' })).rsc, 4000);
  });

  it('coap: a GET with Observe is answered as an ordinary GET (no observers are kept), block-wise when long', async () => {
    const http = httpClient(t.url, 'json');
    assert.equal((await http.send({ op: 1, to: 'cse-in', fr: 'CAdmin', rqi: 'ob1', ty: 3, pc: { 'm2m:cnt': { rn: 'observed' } } })).rsc, 2001);
    assert.equal((await http.send({ op: 1, to: 'cse-in/observed', fr: 'CAdmin', rqi: 'ob2', ty: 4, pc: { 'm2m:cin': { con: 'x'.repeat(3000) } } })).rsc, 2001);
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const answers: Array<ReturnType<typeof parseCoap>> = [];
    socket.on('message', (data: Buffer) => answers.push(parseCoap(data)));
    try {
      const options = [
        // Observe 0 (register), a zero-length uint [RFC 7641 §2].
        { name: 'Observe' as const, value: Buffer.alloc(0) },
        ...['cse-in', 'observed', 'la'].map((segment) => ({ name: 'Uri-Path' as const, value: Buffer.from(segment) })),
        { name: '279', value: Buffer.from('CAdmin') },
        { name: '283', value: Buffer.from('ob3') },
        { name: '271', value: Buffer.from('3') },
      ];
      socket.send(generate({ code: 'GET', confirmable: false, messageId: 4242, token: Buffer.from('obs'), options }), t.cse.coapPort ?? 0, '127.0.0.1');
      // The instance is longer than a datagram: node-coap's observe stream could not send it and nothing came.
      await waitFor(() => answers.length > 0);
      const answer = answers[0];
      assert.equal(answer?.code, '2.05');
      assert.ok(answer.options.some((o) => o.name === 'Block2'), 'the first block of a block-wise answer');
      assert.ok(!answer.options.some((o) => o.name === 'Observe'), 'no Observe option: the client is not an observer');
    } finally {
      socket.close();
    }
  });

  it('coap: each Uri-Path option is one segment taken literally, never a path, a query or a percent-encoding', async () => {
    const created = await httpClient(t.url, 'json').send({ op: 1, to: 'cse-in', fr: 'CAdmin', rqi: 'up1', ty: 3, pc: { 'm2m:cnt': { rn: 'box' } } });
    assert.equal(created.rsc, 2001);
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const answers = new Map<string, ReturnType<typeof parseCoap>>();
    socket.on('message', (data: Buffer) => {
      const packet = parseCoap(data);
      answers.set(packet.token.toString(), packet);
    });
    let mid = 0;
    /** The RSC of a RETRIEVE whose Uri-Path options are `segments`, exactly (no client splits or escapes them). */
    const rscOf = async (segments: string[]): Promise<number | undefined> => {
      const token = `t${++mid}`;
      const options = [
        ...segments.map((segment) => ({ name: 'Uri-Path' as const, value: Buffer.from(segment) })),
        // oneM2M-FR, -RQI, -RVI [TS-0008 table 6.2.2.4-1].
        { name: '279', value: Buffer.from('CAdmin') },
        { name: '283', value: Buffer.from(token) },
        { name: '271', value: Buffer.from('3') },
      ];
      socket.send(generate({ code: 'GET', confirmable: false, messageId: mid, token: Buffer.from(token), options }), t.cse.coapPort ?? 0, '127.0.0.1');
      await waitFor(() => answers.has(token));
      // oneM2M-RSC.
      const rsc = answers.get(token)?.options.find((o) => String(o.name) === '307')?.value;
      return rsc === undefined ? undefined : rsc.readUIntBE(0, rsc.length);
    };
    try {
      assert.equal(await rscOf(['cse-in', 'box']), 2000);
      // The probe's forms: each is a name no resource has, as it is over HTTP (`/cse-in/b%256fx`) and MQTT.
      for (const segments of [['cse-in', 'b%6fx'], ['cse-in/box'], ['cse-in', 'box?rcn=4'], ['cse-in', 'box?x=1']]) {
        const rsc = await rscOf(segments);
        assert.ok(rsc === 4004 || rsc === 4000, `${JSON.stringify(segments)}: ${String(rsc)}`);
      }
      // Over HTTP an escaped '/' is no separator either.
      const escaped = await fetch(`${t.url}/cse-in%2Fbox`, { headers: { 'X-M2M-Origin': 'CAdmin', 'X-M2M-RI': 'up2', 'X-M2M-RVI': '3' } });
      assert.equal(escaped.headers.get('x-m2m-rsc'), '4000');
    } finally {
      socket.close();
    }
  });

  it('http: answers written together at the end of a turn each go to their own request, pipelined ones in order', async () => {
    // Twenty requests in one write on one connection (HTTP/1.1 pipelining), the last closing it, and a burst over
    // five more connections at once: all read in the same turns, all answered together (src/bindings/http/server.ts).
    // Every other request names a missing resource, whose answer (404) quotes its own path.
    const path = (rqi: string, i: number): string => (i % 2 === 0 ? '/cse-in' : `/cse-in/missing-${rqi}`);
    const request = (rqi: string, i: number, last: boolean): string =>
      `GET ${path(rqi, i)} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-M2M-Origin: CAdmin\r\nX-M2M-RI: ${rqi}\r\nX-M2M-RVI: 3\r\n${last ? 'Connection: close\r\n' : ''}\r\n`;
    const exchange = (rqis: string[]): Promise<Buffer> =>
      new Promise((resolve, reject) => {
        const socket = connect(t.cse.httpPort, '127.0.0.1', () => socket.end(rqis.map((rqi, i) => request(rqi, i, i === rqis.length - 1)).join('')));
        const chunks: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        socket.on('close', () => resolve(Buffer.concat(chunks)));
        socket.on('error', reject);
      });
    /** The answers on one connection, in order: status, X-M2M-RI and body (read by Content-Length). */
    const answersIn = (raw: Buffer): Array<{ status: number; rqi: string; body: string }> => {
      const out: Array<{ status: number; rqi: string; body: string }> = [];
      let at = 0;
      while (at < raw.length) {
        const headEnd = raw.indexOf('\r\n\r\n', at);
        assert.ok(headEnd > at, 'a complete header');
        const head = raw.subarray(at, headEnd).toString('latin1');
        const length = Number(/^content-length: (\d+)$/im.exec(head)?.[1] ?? 0);
        out.push({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]), rqi: /^x-m2m-ri: (.*)$/im.exec(head)?.[1] ?? '', body: raw.subarray(headEnd + 4, headEnd + 4 + length).toString('utf8') });
        at = headEnd + 4 + length;
      }
      return out;
    };
    const connections = Array.from({ length: 6 }, (_, c) => Array.from({ length: c === 0 ? 20 : 4 }, (_, i) => `turn-${c}-${i}`));
    const raws = await Promise.all(connections.map(exchange));
    for (const [c, raw] of raws.entries()) {
      const answers = answersIn(raw);
      const rqis = connections[c] ?? [];
      assert.deepEqual(
        answers.map((a) => a.rqi),
        rqis,
        `connection ${c}: one answer per request, in order`,
      );
      for (const [i, answer] of answers.entries()) {
        if (i % 2 === 0) assert.ok(answer.status === 200 && answer.body.includes('"m2m:cb"'), `${answer.rqi}: ${answer.status} ${answer.body}`);
        else assert.ok(answer.status === 404 && answer.body.includes(`missing-${rqis[i] ?? ''}`), `${answer.rqi}: ${answer.status} ${answer.body}`);
      }
    }
  });

  it('http: CBOR and XML requests and answers, and XML entity declarations are refused', async () => {
    const xml = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><m2m:ae xmlns:m2m="http://www.onem2m.org/xml/protocols"><api>&b;</api></m2m:ae>';
    const reply = await fetch(`${t.url}/cse-in`, { method: 'POST', headers: { 'X-M2M-Origin': 'Cxml', 'X-M2M-RI': 'e', 'X-M2M-RVI': '3', 'Content-Type': 'application/xml;ty=2' }, body: xml });
    assert.equal(reply.headers.get('x-m2m-rsc'), '4000');
    const cbor = await fetch(`${t.url}/cse-in`, { method: 'POST', headers: { 'X-M2M-Origin': 'Ccbor', 'X-M2M-RI': 'c', 'X-M2M-RVI': '3', 'Content-Type': 'application/cbor;ty=2' }, body: Buffer.from([0xff, 0x00, 0x13]) });
    assert.equal(cbor.headers.get('x-m2m-rsc'), '4000');
  });

  it('http with XML: rn is an attribute of the resource element, child references carry nm and typ as attributes', async () => {
    const xmlHeaders = (ty?: number) => ({ 'X-M2M-Origin': 'Cxmlnamed', 'X-M2M-RI': 'x', 'X-M2M-RVI': '3', Accept: 'application/xml', ...(ty ? { 'Content-Type': `application/xml;ty=${ty}` } : {}) });
    const ns = 'xmlns:m2m="http://www.onem2m.org/xml/protocols"';
    const reg = await fetch(`${t.url}/cse-in`, { method: 'POST', headers: xmlHeaders(2), body: `<m2m:ae ${ns} rn="xmlnamed"><api>Nxml</api><rr>false</rr><srv>3</srv></m2m:ae>` });
    assert.equal(reg.headers.get('x-m2m-rsc'), '2001');
    assert.match(await reg.text(), /<m2m:ae [^>]*rn="xmlnamed"/);
    const cnt = await fetch(`${t.url}/cse-in/xmlnamed`, { method: 'POST', headers: xmlHeaders(3), body: `<m2m:cnt ${ns} rn="box"><mni>3</mni></m2m:cnt>` });
    assert.equal(cnt.headers.get('x-m2m-rsc'), '2001');
    const refs = await fetch(`${t.url}/cse-in/xmlnamed?rcn=6`, { headers: xmlHeaders() });
    assert.match(await refs.text(), /<rrf nm="box" typ="3">cse-in\/xmlnamed\/box<\/rrf>/);
    // Attributes on other elements say nothing the CSE keeps; content is never reshaped.
    const typed = await fetch(`${t.url}/cse-in/xmlnamed/box`, { method: 'POST', headers: xmlHeaders(4), body: `<m2m:cin ${ns} rn="typed" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><lbl xml:lang="en">a b</lbl><con xsi:type="xs:string">hello</con></m2m:cin>` });
    assert.equal(typed.headers.get('x-m2m-rsc'), '2001');
    const typedBody = await typed.text();
    assert.match(typedBody, /<con>hello<\/con>/);
    assert.match(typedBody, /<lbl>a<\/lbl><lbl>b<\/lbl>/);
    const twice = await fetch(`${t.url}/cse-in/xmlnamed/box`, { method: 'POST', headers: xmlHeaders(4), body: `<m2m:cin ${ns} rn="one"><rn>two</rn><con>x</con></m2m:cin>` });
    assert.equal(twice.headers.get('x-m2m-rsc'), '4000', 'a name given twice is ambiguous');
  });
});

describe('mqtt: a retained request is not a request', () => {
  it('a request left retained on the broker is never run, at start-up or after; live requests are', async () => {
    const cseId = `id-retain${process.pid}`;
    const aei = `Cretained${process.pid}`;
    const requestTopic = `/oneM2M/req/${aei}/${cseId}/json`;
    const planter = await mqtt.connectAsync(BROKER, { clientId: `test-planter-${process.pid}` });
    const answers: Attrs[] = [];
    await planter.subscribeAsync(`/oneM2M/resp/${aei}/${cseId}/json`, { qos: 1 });
    planter.on('message', (_topic, payload) => answers.push(JSON.parse(payload.toString()) as Attrs));
    const registration = (rqi: string, rn: string): string => JSON.stringify({ op: 1, to: 'cse-in', fr: aei, rqi, rvi: '3', ty: 2, pc: { 'm2m:ae': { rn, api: 'Nretained', rr: false, srv: ['3'] } } });
    // Planted before the CSE subscribes: the broker hands it over with the subscription, retain flag set.
    await planter.publishAsync(requestTopic, registration('planted', 'planted'), { qos: 1, retain: true });
    const t = await startTestCse({ 'cse.id': cseId, 'mqtt.enabled': true, 'mqtt.url': BROKER });
    try {
      await planter.publishAsync(requestTopic, registration('live', 'live'), { qos: 1 });
      await waitFor(() => answers.some((a) => a.rqi === 'live'));
      assert.equal(answers.find((a) => a.rqi === 'live')?.rsc, 2001);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(answers.map((a) => a.rqi), ['live'], 'the planted request got no answer');
      assert.equal((await t.client.retrieve('/cse-in/planted', 'CAdmin')).rsc, 4004);
      assert.equal((await t.client.retrieve('/cse-in/live', 'CAdmin')).rsc, 2000);
    } finally {
      await planter.publishAsync(requestTopic, '', { qos: 1, retain: true });
      await planter.endAsync();
      await t.close();
    }
  });
});

describe('mqtt: an answer larger than a request may be', () => {
  it('is dropped unread, and the CSE goes on serving', async () => {
    const { logger, lines } = capturingLogger();
    const cseId = `id-bigresp${process.pid}`;
    const t = await startTestCse({ 'cse.id': cseId, 'mqtt.enabled': true, 'mqtt.url': BROKER, 'mqtt.maxMessageBytes': 4096 }, { logger });
    const sender = await mqtt.connectAsync(BROKER, { clientId: `test-bigresp-${process.pid}` });
    try {
      // Any client the broker lets publish on the CSE's response topic (every AE that answers notifications).
      await sender.publishAsync(`/oneM2M/resp/${cseId}/Cbig${process.pid}/json`, JSON.stringify(new Array(5000).fill({})), { qos: 1 });
      await waitFor(() => lines.some((l) => l.event === 'mqtt-answer-too-large'));
      assert.equal((await t.client.retrieve('/cse-in', 'CAdmin')).rsc, 2000);
    } finally {
      await sender.endAsync();
      await t.close();
    }
  });
});

describe('mqtt: answers the broker connection has not taken yet', () => {
  /** A TCP relay between the CSE and the broker whose CSE-to-broker direction can be stopped (a slow broker link). */
  async function brokerRelay(brokerPort: number): Promise<{ port: number; hold(): void; letGo(): void; close(): void }> {
    const fromCse: Socket[] = [];
    const server = createServer((cse) => {
      const broker = connect(brokerPort, '127.0.0.1');
      fromCse.push(cse);
      cse.on('data', (d) => broker.write(d));
      broker.on('data', (d) => cse.write(d));
      cse.on('error', () => broker.destroy());
      broker.on('error', () => cse.destroy());
      cse.on('close', () => broker.destroy());
      broker.on('close', () => cse.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      port: (server.address() as AddressInfo).port,
      hold: () => fromCse.forEach((s) => s.pause()),
      letGo: () => fromCse.forEach((s) => s.resume()),
      close: () => {
        fromCse.forEach((s) => s.destroy());
        server.close();
      },
    };
  }

  it('hold their requests\' in-flight places: past quota.inFlight the originator is refused 4141 until they leave', async () => {
    const cseId = `id-mqslow${process.pid}`;
    const relay = await brokerRelay(Number(new URL(BROKER).port || 1883));
    const t = await startTestCse({ 'cse.id': cseId, 'mqtt.enabled': true, 'mqtt.url': `mqtt://127.0.0.1:${String(relay.port)}`, 'quota.inFlight': 2 });
    const ae = await t.client.registerAe('mqslow');
    const reader = await mqtt.connectAsync(BROKER, { clientId: `test-mqslow-${process.pid}` });
    try {
      assert.equal((await t.client.create('/cse-in/mqslow', 3, { 'm2m:cnt': { rn: 'c', mbs: 2_000_000 } }, ae)).rsc, 2001);
      assert.equal((await t.client.create('/cse-in/mqslow/c', 4, { 'm2m:cin': { con: 'x'.repeat(900_000) } }, ae)).rsc, 2001);
      const answers: Attrs[] = [];
      await reader.subscribeAsync(`/oneM2M/resp/${ae}/${cseId}/json`, { qos: 0 });
      reader.on('message', (_topic, payload) => answers.push(JSON.parse(payload.toString()) as Attrs));
      // The CSE's link to the broker stops taking data: 30 answers of 900 kB (27 MB) are more than TCP's buffers hold.
      // The requests still reach the CSE (the other direction), one at a time, each after the previous was handled.
      relay.hold();
      for (let i = 0; i < 30; i++) {
        await reader.publishAsync(`/oneM2M/req/${ae}/${cseId}/json`, JSON.stringify({ op: 2, to: 'cse-in/mqslow/c/la', fr: ae, rqi: `slow${String(i)}`, rvi: '3' }));
        await new Promise((resolve) => setTimeout(resolve, 60));
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      relay.letGo();
      await waitFor(() => answers.length === 30, 30_000);
      const refused = answers.filter((a) => a.rsc === 4141).length;
      // Given back when made, each place was free again before the next request came, and every read was served.
      assert.ok(refused > 0, `answers not yet sent hold places: ${JSON.stringify(answers.map((a) => a.rsc))}`);
      assert.ok(answers.every((a) => a.rsc === 2000 || a.rsc === 4141), JSON.stringify(answers.map((a) => a.rsc)));
      // Once the answers have left, the places are free again.
      const after = await mqttClient(BROKER, cseId, 'json', ae);
      assert.equal((await after.send({ op: 2, to: 'cse-in/mqslow/c', fr: ae, rqi: 'afterwards' })).rsc, 2000);
      await after.close();
    } finally {
      await reader.endAsync();
      await t.close();
      relay.close();
    }
  });

  it('give their places back when the broker connection is lost with them unsent', async () => {
    // A broker of the test's own (mqtt-packet): it stops reading the CSE's answers, then drops the connection, which
    // the CSE makes again. With QoS 0 mqtt.js calls back a publish on the socket's next 'drain', which a socket closed
    // while full never emits (with QoS 1 it sends it again on the new connection, and calls back on its PUBACK).
    const cseId = `id-mqlost${process.pid}`;
    const connections: Socket[] = [];
    const answers: Attrs[] = [];
    const broker = createServer((socket) => {
      const parser = mqttPacket.parser();
      parser.on('packet', (packet) => {
        if (packet.cmd === 'connect') {
          socket.write(mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }));
          connections.push(socket);
        } else if (packet.cmd === 'subscribe') {
          socket.write(mqttPacket.generate({ cmd: 'suback', messageId: packet.messageId, granted: packet.subscriptions.map(() => 0) }));
        } else if (packet.cmd === 'publish') {
          answers.push(JSON.parse(packet.payload.toString()) as Attrs);
          if (packet.qos === 1) socket.write(mqttPacket.generate({ cmd: 'puback', messageId: packet.messageId }));
        }
        else if (packet.cmd === 'pingreq') socket.write(mqttPacket.generate({ cmd: 'pingresp' }));
      });
      socket.on('data', (d: Buffer) => parser.parse(d));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => broker.listen(0, '127.0.0.1', resolve));
    const t = await startTestCse({ 'cse.id': cseId, 'mqtt.enabled': true, 'mqtt.url': `mqtt://127.0.0.1:${String((broker.address() as AddressInfo).port)}`, 'mqtt.qos': 0, 'quota.inFlight': 20 });
    try {
      const ae = await t.client.registerAe('mqlost');
      assert.equal((await t.client.create('/cse-in/mqlost', 3, { 'm2m:cnt': { rn: 'c', mbs: 2_000_000 } }, ae)).rsc, 2001);
      assert.equal((await t.client.create('/cse-in/mqlost/c', 4, { 'm2m:cin': { con: 'x'.repeat(900_000) } }, ae)).rsc, 2001);
      const ask = (socket: Socket, rqi: string, to = 'cse-in/mqlost/c/la'): boolean =>
        socket.write(mqttPacket.generate({ cmd: 'publish', topic: `/oneM2M/req/${ae}/${cseId}/json`, payload: JSON.stringify({ op: 2, to, fr: ae, rqi, rvi: '3' }), qos: 0, dup: false, retain: false }));
      const first = connections[0];
      assert.ok(first);
      first.pause();
      // Twenty reads in one burst: twenty answers of 900 kB waiting on the connection at once, holding every place.
      for (let i = 0; i < 20; i++) ask(first, `lost${String(i)}`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      first.destroy();
      await waitFor(() => connections.length === 2, 10_000);
      const second = connections[1];
      assert.ok(second);
      ask(second, 'afterwards', 'cse-in/mqlost/c');
      await waitFor(() => answers.some((a) => a.rqi === 'afterwards'), 10_000);
      assert.equal(answers.find((a) => a.rqi === 'afterwards')?.rsc, 2000, 'the places of answers lost with the connection came back');
    } finally {
      await t.close();
      for (const socket of connections) socket.destroy();
      broker.close();
    }
  });
});

describe('ws: a connection whose answers are not read', () => {
  /** A CSE with a WebSocket listener, a connection to it, and an AE whose container holds one 900 kB instance. */
  async function withLargeInstance(rn: string, options: Parameters<typeof startTestCse>[1] = {}, config: Attrs = {}): Promise<{ t: TestCse; socket: WebSocket; ae: string; answers: Attrs[] }> {
    const t = await startTestCse({ 'ws.enabled': true, 'ws.port': 0, ...config }, options);
    const socket = new WebSocket(`ws://127.0.0.1:${String(t.cse.wsPort)}`, ['oneM2M.json']);
    await new Promise((r) => socket.once('open', r));
    const ae = await t.client.registerAe(rn);
    assert.equal((await t.client.create(`/cse-in/${rn}`, 3, { 'm2m:cnt': { rn: 'c', mbs: 2_000_000 } }, ae)).rsc, 2001);
    assert.equal((await t.client.create(`/cse-in/${rn}/c`, 4, { 'm2m:cin': { con: 'x'.repeat(900_000) } }, ae)).rsc, 2001);
    const answers: Attrs[] = [];
    socket.on('message', (data: Buffer) => answers.push(JSON.parse(data.toString()) as Attrs));
    return { t, socket, ae, answers };
  }

  it('has at most 32 requests in progress: requests read in one burst wait, unhandled, until answers are written out', async () => {
    const { t, socket, ae, answers } = await withLargeInstance('wsburst');
    try {
      socket.pause();
      // 80 reads of 900 kB and a create, a few kB in all: they arrive together, before any answer is written. Each
      // read handled made its answer (72 MB) wait in this process; the create ran at once.
      const frames = Array.from({ length: 80 }, (_, i) => JSON.stringify({ op: 2, to: 'cse-in/wsburst/c/la', fr: ae, rqi: `r${String(i)}`, rvi: '3' }));
      frames.push(JSON.stringify({ op: 1, to: 'cse-in/wsburst', fr: ae, rqi: 'marker', rvi: '3', ty: 3, pc: { 'm2m:cnt': { rn: 'marker' } } }));
      for (const frame of frames) socket.send(frame);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.equal((await t.client.retrieve('/cse-in/wsburst/marker', ae)).rsc, 4004, 'the create waits behind the reads');
      socket.resume();
      await waitFor(() => answers.length === 81, 30_000);
      assert.equal((await t.client.retrieve('/cse-in/wsburst/marker', ae)).rsc, 2000);
    } finally {
      socket.close();
      await t.close();
    }
  });

  it('is not read past 8 MiB of unsent answers, and is read again once they drain', async () => {
    const { logger, lines } = capturingLogger();
    const { t, socket, ae, answers } = await withLargeInstance('wsslow', { logger });
    try {
      const send = (doc: Attrs): void => socket.send(JSON.stringify({ rvi: '3', fr: ae, ...doc }));
      const marker = (rn: string): Attrs => ({ op: 1, to: 'cse-in/wsslow', rqi: rn, ty: 3, pc: { 'm2m:cnt': { rn } } });
      // The client stops reading: 40 answers of 900 kB (36 MB) are more than the kernel's buffers hold.
      socket.pause();
      for (let i = 0; i < 40; i++) send({ op: 2, to: 'cse-in/wsslow/c/la', rqi: `read${String(i)}` });
      await waitFor(() => lines.some((l) => l.event === 'ws-read-paused'), 20_000);
      // Sent after the pause: it stays in TCP's buffers, unread, until the client reads its answers.
      send(marker('afterPause'));
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal((await t.client.retrieve('/cse-in/wsslow/afterPause', ae)).rsc, 4004, 'a paused connection is not read');
      socket.resume();
      await waitFor(() => answers.length === 41, 20_000);
      assert.ok(answers.every((a) => a.rsc === 2000 || (a.rqi === 'afterPause' && a.rsc === 2001)), JSON.stringify(answers.map((a) => a.rsc)));
      assert.equal((await t.client.retrieve('/cse-in/wsslow/afterPause', ae)).rsc, 2000);
    } finally {
      socket.close();
      await t.close();
    }
  });

  it('holds the originator\'s in-flight places while answers wait unsent: its other connections are refused 4141', async () => {
    const { t, socket, ae, answers } = await withLargeInstance('wsplaces', {}, { 'quota.inFlight': 2 });
    const other = new WebSocket(`ws://127.0.0.1:${String(t.cse.wsPort)}`, ['oneM2M.json']);
    try {
      await new Promise((r) => other.once('open', r));
      const otherAnswers: Attrs[] = [];
      other.on('message', (data: Buffer) => otherAnswers.push(JSON.parse(data.toString()) as Attrs));
      const read = (on: WebSocket, rqi: string): void => on.send(JSON.stringify({ op: 2, to: 'cse-in/wsplaces/c/la', fr: ae, rqi, rvi: '3' }));
      // The first connection reads nothing: 20 answers of 900 kB (18 MB) are more than TCP's buffers hold.
      socket.pause();
      for (let i = 0; i < 20; i++) {
        read(socket, `unread${String(i)}`);
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      read(other, 'meanwhile');
      await waitFor(() => otherAnswers.length === 1, 10_000);
      // Given back when made, the places were free: the read on the other connection was served.
      assert.equal(otherAnswers[0]?.rsc, 4141, 'answers not written out still hold the originator\'s places');
      socket.resume();
      await waitFor(() => answers.length === 20, 30_000);
      read(other, 'afterwards');
      await waitFor(() => otherAnswers.length === 2, 10_000);
      assert.equal(otherAnswers[1]?.rsc, 2000);
    } finally {
      other.close();
      socket.close();
      await t.close();
    }
  });
});
