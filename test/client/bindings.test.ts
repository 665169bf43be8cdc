// The client library over MQTT (Mosquitto on 127.0.0.1:1883, as in bindings.test.ts) and WebSocket, in JSON and
// CBOR: registration, CRUD, discovery paging, typed errors, and notifications that reach the AE over its own
// connection (the CSE's requests come down the WebSocket / to the AE's MQTT topic, the client answers them).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import { ConflictError, NoPrivilegeError, NotFoundError, connect, type ClientOptions, type Format, type WardenClient } from '../../packages/client/src/index.js';
import { startTestCse, type TestCse } from '../harness.js';

const BROKER = process.env.WARDEN_TEST_MQTT ?? 'mqtt://127.0.0.1:1883';

describe('client library over MQTT and WebSocket', () => {
  let t: TestCse;
  const cseId = `id-cl${process.pid}`;
  before(async () => {
    t = await startTestCse({ 'cse.id': cseId, 'mqtt.enabled': true, 'mqtt.url': BROKER, 'ws.enabled': true, 'ws.port': 0 });
  });
  after(() => t.close());

  const bindings: Array<[string, () => Pick<ClientOptions, 'url' | 'cseId'>, () => string]> = [
    ['mqtt', () => ({ url: BROKER, cseId }), () => BROKER],
    ['ws', () => ({ url: `ws://127.0.0.1:${String(t.cse.wsPort)}` }), () => 'ws://127.0.0.1'],
  ];

  it('mqtt: an answer another broker client publishes in the CSE\'s place is ignored; the CSE\'s is taken', async () => {
    const ae = await connect({ url: BROKER, cseId, originator: 'Cmqttvictim', timeoutMs: 5000 });
    const impostor = await mqtt.connectAsync(BROKER, { clientId: `impostor-${process.pid}` });
    try {
      await ae.registerAe({ rn: 'mqttvictim', api: 'Nv', rr: false, srv: ['3'] });
      await impostor.subscribeAsync(`/oneM2M/req/Cmqttvictim/${cseId}/json`, { qos: 1 });
      impostor.on('message', (_topic, payload) => {
        const request = JSON.parse(payload.toString()) as { rqi: string };
        const fake = { rsc: 2000, rqi: request.rqi, fr: 'Cimpostor', pc: { 'm2m:cnt': { rn: 'forged' } } };
        void impostor.publishAsync(`/oneM2M/resp/Cmqttvictim/${cseId}/json`, JSON.stringify(fake), { qos: 1 });
      });
      await ae.create('cse-in/mqttvictim', 'm2m:cnt', { rn: 'real' });
      assert.equal((await ae.retrieve('cse-in/mqttvictim/real', 'm2m:cnt')).rn, 'real');
    } finally {
      await impostor.endAsync();
      await ae.close();
    }
  });

  for (const [binding, where, poa] of bindings) {
    for (const format of ['json', 'cbor'] as Format[]) {
      it(`${binding} with ${format}: register, CRUD, discovery pages, typed errors, notifications over the connection`, async () => {
        const name = `${binding}${format}`;
        const ae = await connect({ ...where(), format, originator: `C${name}`, timeoutMs: 5000 });
        try {
          // rr=true with a point of access of this binding: the CSE reaches the AE over it.
          const registered = await ae.registerAe({ rn: name, api: `N${name}`, rr: true, poa: [poa()], srv: ['3'] });
          assert.equal(registered.aei, `C${name}`);
          const base = `cse-in/${name}`;
          await ae.create(base, 'm2m:cnt', { rn: 'data', mni: 10 });
          await assert.rejects(ae.create(base, 'm2m:cnt', { rn: 'data' }), ConflictError);
          await assert.rejects(ae.retrieve(`${base}/none`, 'm2m:cnt'), NotFoundError);
          const sub = await ae.subscribe(`${base}/data`, { rn: 'sub', enc: { net: [3] } });
          assert.deepEqual(sub.nu, [`C${name}`], 'notifications go to the AE-ID, i.e. over this connection');
          for (let i = 0; i < 5; i++) await ae.create(`${base}/data`, 'm2m:cin', { rn: `i${i}`, con: String(i) });
          const n = await ae.notifications.next({ subscription: sub.ri, timeoutMs: 5000 });
          assert.equal(n.typeName, 'm2m:cin');
          assert.equal(n.resource?.con, '0');
          assert.equal((await ae.retrieve(`${base}/data/la`, 'm2m:cin')).con, '4');
          const updated = await ae.update(`${base}/data`, 'm2m:cnt', { mni: 3 });
          assert.equal(updated.mni, 3);
          assert.equal(updated.cni, 3);
          // Paging across this binding: the offset travels in the primitive's fc.
          const page = await ae.discover(`${base}/data`, { ty: [4], lim: 2 });
          assert.equal(page.uris.length, 2);
          assert.equal(page.complete, false);
          const all: string[] = [];
          for await (const uri of ae.discoverAll(`${base}/data`, { ty: [4], lim: 2 })) all.push(uri);
          assert.equal(all.length, 3);
          const stranger: WardenClient = await connect({ ...where(), format, originator: `Cx${name}`, timeoutMs: 5000 });
          try {
            await stranger.registerAe({ rn: `x${name}`, api: 'Nx', rr: false, srv: ['3'] });
            await assert.rejects(stranger.retrieve(`${base}/data`, 'm2m:cnt'), NoPrivilegeError);
          } finally {
            await stranger.close();
          }
          await ae.deregisterAe();
          // The admin is honoured only from loopback peers, which a broker client is not: it asks over HTTP.
          const admin = await connect({ url: t.url, originator: 'CAdmin' });
          await assert.rejects(admin.retrieve(base, 'm2m:ae'), NotFoundError);
          await admin.close();
        } finally {
          await ae.close();
        }
      });
    }
  }
});
