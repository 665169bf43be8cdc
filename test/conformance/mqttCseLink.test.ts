// A CSE-to-CSE link through an MQTT broker over TLS [TS-0010, TS-0004 §7.3.2.1]: the test starts its own Mosquitto
// with a TLS listener on an ephemeral port, client certificates required (their CN, the CSE-ID, as user name) and an
// ACL that lets each CSE publish requests only as itself and answers only as itself (docs/deploy/mosquitto.md). An
// MN-CSE registers with an IN-CSE through it (mqtt.cseLinks), requests are forwarded both ways, and a client the ACL
// does not name cannot speak as a CSE.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import mqtt from 'mqtt';
import type { ConfigOverrides } from '../../src/config/config.js';
import type { TestCse } from '../harness.js';
import { startMosquitto, type Mosquitto } from '../mosquitto.js';
import { TestPki, call, startCseNode, type CseFiles, type Reply } from '../cse.js';

type Attrs = Record<string, unknown>;
const of = (r: Reply, name: string): Attrs => (r.body?.[name] ?? {}) as Attrs;

describe('a CSE link through Mosquitto over TLS with client certificates and an ACL per CSE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-mqtts-'));
  let broker: Mosquitto | undefined;
  let brokerUrl = '';
  let pki: TestPki;
  let ca: string;
  const files: Record<string, CseFiles> = {};
  let inCse: TestCse;
  let mnCse: TestCse;
  const inPort = (): number => inCse.cse.httpPort;
  const mnPort = (): number => mnCse.cse.httpPort;
  const mqttFlags = (id: string): ConfigOverrides => {
    const f = files[id] as CseFiles;
    return { 'mqtt.enabled': true, 'mqtt.url': brokerUrl, 'mqtt.ca': f.ca, 'mqtt.cert': f.cert, 'mqtt.key': f.key, 'mqtt.cseLinks': true, 'mqtt.clientId': `warden-${id}` };
  };

  before(async () => {
    pki = await TestPki.create(dir);
    ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    for (const id of ['id-in', 'id-mn', 'id-x']) files[id] = await pki.cse(id);
    broker = await startMosquitto(pki, ['id-in', 'id-mn']);
    brokerUrl = broker.url;
    inCse = await startCseNode('id-in', 'IN', files['id-in'] as CseFiles, mqttFlags('id-in'));
    mnCse = await startCseNode('id-mn', 'MN', files['id-mn'] as CseFiles, {
      ...mqttFlags('id-mn'),
      'registrar.url': brokerUrl,
      'registrar.cseId': 'id-in',
      'registrar.rn': 'cse-in',
      'registrar.poa': brokerUrl,
    });
    await mnCse.cse.services.remote?.registration?.whenRegistered();
  });

  after(async () => {
    await mnCse?.close();
    await inCse?.close();
    broker?.stop();
  });

  it('registers the MN with the IN through the broker: each has the other <remoteCSE>, the MN reached at the broker', async () => {
    const onIn = await call(inPort(), ca, 'GET', '/cse-in/id-mn', 'CAdmin');
    assert.equal(onIn.rsc, 2000, JSON.stringify(onIn.body));
    assert.equal(of(onIn, 'm2m:csr').csi, '/id-mn');
    assert.deepEqual(of(onIn, 'm2m:csr').poa, [brokerUrl]);
    const onMn = await call(mnPort(), ca, 'GET', '/cse-mn/id-in', 'CAdmin');
    assert.equal(onMn.rsc, 2000, JSON.stringify(onMn.body));
    assert.equal(of(onMn, 'm2m:csr').csi, '/id-in');
  });

  it('forwards up (an AE on the MN reads a container on the IN) and down (the IN reads the MN) through the broker', async () => {
    const acp = await call(inPort(), ca, 'POST', '/cse-in', 'CAdmin', { ty: 1, body: { 'm2m:acp': { rn: 'mnAes', pv: { acr: [{ acor: ['/id-mn/Cviamqtt'], acop: 2 }] }, pvs: { acr: [{ acor: ['CAdmin'], acop: 63 }] } } } });
    assert.equal(acp.rsc, 2001, JSON.stringify(acp.body));
    assert.equal((await call(inPort(), ca, 'POST', '/cse-in', 'CAdmin', { ty: 3, body: { 'm2m:cnt': { rn: 'box', acpi: [String(of(acp, 'm2m:acp').ri)] } } })).rsc, 2001);
    assert.equal((await call(mnPort(), ca, 'POST', '/cse-mn', 'Cviamqtt', { ty: 2, body: { 'm2m:ae': { rn: 'viaMqtt', api: 'Nmqtt', rr: false, srv: ['3'] } } })).rsc, 2001);
    const up = await call(mnPort(), ca, 'GET', '/~/id-in/cse-in/box', 'Cviamqtt');
    assert.equal(up.rsc, 2000, JSON.stringify(up.body));
    assert.equal(of(up, 'm2m:cnt').rn, 'box');
    // An AE the IN's policy does not name is refused there, and the refusal comes back.
    assert.equal((await call(mnPort(), ca, 'POST', '/cse-mn', 'Cstranger', { ty: 2, body: { 'm2m:ae': { rn: 'stranger', api: 'Nmqtt', rr: false, srv: ['3'] } } })).rsc, 2001);
    assert.equal((await call(mnPort(), ca, 'GET', '/~/id-in/cse-in/box', 'Cstranger')).rsc, 4103);
    const mnAcp = await call(mnPort(), ca, 'POST', '/cse-mn', 'CAdmin', { ty: 1, body: { 'm2m:acp': { rn: 'inAdmin', pv: { acr: [{ acor: ['/id-in/CAdmin'], acop: 2 }] }, pvs: { acr: [{ acor: ['CAdmin'], acop: 63 }] } } } });
    assert.equal(mnAcp.rsc, 2001, JSON.stringify(mnAcp.body));
    assert.equal((await call(mnPort(), ca, 'POST', '/cse-mn', 'CAdmin', { ty: 3, body: { 'm2m:cnt': { rn: 'local', acpi: [String(of(mnAcp, 'm2m:acp').ri)] } } })).rsc, 2001);
    const down = await call(inPort(), ca, 'GET', '/~/id-mn/cse-mn/local', 'CAdmin');
    assert.equal(down.rsc, 2000, JSON.stringify(down.body));
    assert.equal(of(down, 'm2m:cnt').rn, 'local');
    // The MN's policy decides down there too: its CSEBase is not the IN admin's to read.
    assert.equal((await call(inPort(), ca, 'GET', '/~/id-mn/cse-mn', 'CAdmin')).rsc, 4103);
  });

  it('lets no client the ACL does not name speak as a CSE: its request as /id-mn is dropped by the broker', async () => {
    const x = files['id-x'] as CseFiles;
    const client = await mqtt.connectAsync(brokerUrl, { clientId: 'intruder', ca, cert: readFileSync(x.cert, 'utf8'), key: readFileSync(x.key, 'utf8'), rejectUnauthorized: true, reconnectPeriod: 0 });
    try {
      const answers: unknown[] = [];
      client.on('message', (_topic, payload) => answers.push(payload.toString()));
      await client.subscribeAsync(['/oneM2M/resp/id-mn/id-in/json', '/oneM2M/resp/id-x/id-in/json']);
      await client.publishAsync('/oneM2M/req/id-mn/id-in/json', JSON.stringify({ op: 2, to: '/id-in/cse-in', fr: '/id-mn', rqi: 'intruder-1', rvi: '3' }), { qos: 1 });
      await client.publishAsync('/oneM2M/req/id-x/id-in/json', JSON.stringify({ op: 2, to: '/id-in/cse-in', fr: '/id-x', rqi: 'intruder-2', rvi: '3' }), { qos: 1 });
      await new Promise((r) => setTimeout(r, 1500));
      assert.deepEqual(answers, []);
    } finally {
      await client.endAsync(true);
    }
    // The link itself still works.
    assert.equal((await call(inPort(), ca, 'GET', '/~/id-mn/cse-mn/local', 'CAdmin')).rsc, 2000);
  });
});
