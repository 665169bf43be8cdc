// Over MQTT the broker terminates the connection: Warden sees no credential of the client that published a request,
// so a CSE-ID originator (a CSE, or an AE of another CSE relayed by one) has no security association here and is
// refused with 4107 [TS-0004 §7.3.2.1] — whatever the broker lets through — unless mqtt.cseLinks makes a TLS broker
// with client certificates and a per-CSE ACL the security association (mqttCseLink.test.ts). The test starts its own
// plain Mosquitto on an ephemeral port.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, startTestCse, type TestCse } from '../harness.js';
import { mqttClient } from '../bindingClients.js';
import { listening } from '../mosquitto.js';

describe('CSE-ID originators over MQTT', () => {
  let broker: ChildProcess | undefined;
  let cse: TestCse;
  let url = '';

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-mqtt-cse-'));
    const port = await freePort();
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
    broker = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
    await listening(port, 10_000);
    url = `mqtt://127.0.0.1:${port}`;
    cse = await startTestCse({ 'cse.id': 'id-in', 'mqtt.enabled': true, 'mqtt.url': url });
  });

  after(async () => {
    await cse?.close();
    broker?.kill('SIGTERM');
  });

  it('refuses a CSE-ID originator, and an AE of another CSE, with 4107; an AE registered over MQTT is served', async () => {
    for (const originator of ['/id-mn', '/id-mn/Cremote', '//warden.example.net/id-mn']) {
      const client = await mqttClient(url, 'id-in', 'json', originator);
      try {
        const answer = await client.send({ op: 2, to: 'cse-in', fr: originator, rqi: `cse-${originator}` });
        assert.equal(answer.rsc, 4107, `${originator}: ${JSON.stringify(answer)}`);
      } finally {
        await client.close();
      }
    }
    const ae = await mqttClient(url, 'id-in', 'json', 'Cmqttlocal');
    try {
      const registered = await ae.send({ op: 1, ty: 2, to: 'cse-in', fr: 'Cmqttlocal', rqi: 'reg', pc: { 'm2m:ae': { rn: 'local', api: 'Nmqtt', rr: false, srv: ['3'] } } });
      assert.equal(registered.rsc, 2001, JSON.stringify(registered));
      assert.equal((await ae.send({ op: 2, to: 'cse-in/local', fr: 'Cmqttlocal', rqi: 'own' })).rsc, 2000);
    } finally {
      await ae.close();
    }
  });
});
