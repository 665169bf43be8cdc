// The client library over HTTPS with a client certificate and with a pre-shared key, and WSS with a
// certificate: the credential is what authenticates the AE (security.authentication=all with http.tls).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConnectionError, NotAuthenticatedError, connect } from '../../packages/client/src/index.js';
import { createCa, createPskKey, issueCertificate, type Pem } from '../../src/security/pki.js';
import { startTestCse, type TestCse } from '../harness.js';

const SP = 'warden.example.net';

describe('client library over HTTPS and WSS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-client-tls-'));
  let ca: Pem;
  let sensor: Pem;
  let t: TestCse;
  const psk = { identity: 'kpsa-client@warden.example.net', key: createPskKey() };

  before(async () => {
    ca = await createCa('Client Test CA');
    const server = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'both' });
    sensor = await issueCertificate(ca, { commonName: 'Csensor', uris: [`onem2m://${SP}/id-in/Csensor`], usage: 'client' });
    const files = { cert: join(dir, 'server.pem'), key: join(dir, 'server.key'), ca: join(dir, 'ca.pem'), psk: join(dir, 'psk.json') };
    writeFileSync(files.cert, server.certificate);
    writeFileSync(files.key, server.key);
    writeFileSync(files.ca, ca.certificate);
    writeFileSync(files.psk, JSON.stringify({ keys: [{ identity: psk.identity, key: psk.key, aeIds: ['Cpsk'] }] }));
    t = await startTestCse({
      'cse.spid': SP,
      'http.tls': true,
      'ws.enabled': true,
      'ws.port': 0,
      'ws.tls': true,
      'tls.cert': files.cert,
      'tls.key': files.key,
      'tls.ca': files.ca,
      'tls.psk': files.psk,
      'tls.clientAuth': 'required',
    });
  });
  after(() => t.close());

  it('a client certificate authenticates the AE it names; the CSE certificate is verified', async () => {
    const url = `https://127.0.0.1:${t.cse.httpPort}`;
    const ae = await connect({ url, originator: 'Csensor', tls: { ca: ca.certificate, cert: sensor.certificate, key: sensor.key } });
    try {
      await ae.registerAe({ rn: 'sensor', api: 'Nsensor', rr: false, srv: ['3'] });
      await ae.create('cse-in/sensor', 'm2m:cnt', { rn: 'c' });
      assert.equal((await ae.retrieve('cse-in/sensor/c', 'm2m:cnt')).rn, 'c');
      // The certificate names Csensor only.
      await assert.rejects(ae.retrieve('cse-in/sensor', 'm2m:ae', { from: 'Cimpostor' }), NotAuthenticatedError);
    } finally {
      await ae.close();
    }
    // Without the CA the client does not trust the CSE: no request goes out.
    const untrusting = await connect({ url, originator: 'Csensor', tls: { cert: sensor.certificate, key: sensor.key } });
    try {
      const err = await untrusting.retrieve('cse-in/sensor', 'm2m:ae').catch((e: unknown) => e);
      assert.ok(err instanceof ConnectionError, String(err));
    } finally {
      await untrusting.close();
    }
  });

  it('a pre-shared key authenticates the AE-ID it is bound to', async () => {
    const ae = await connect({ url: `https://127.0.0.1:${t.cse.httpPort}`, originator: 'Cpsk', tls: { psk } });
    try {
      await ae.registerAe({ rn: 'pskae', api: 'Npsk', rr: false, srv: ['3'] });
      assert.equal((await ae.create('cse-in/pskae', 'm2m:cnt', { rn: 'c' })).rn, 'c');
      await assert.rejects(ae.retrieve('cse-in/pskae', 'm2m:ae', { from: 'Csensor' }), NotAuthenticatedError);
    } finally {
      await ae.close();
    }
    const wrongKey = await connect({ url: `https://127.0.0.1:${t.cse.httpPort}`, originator: 'Cpsk', tls: { psk: { identity: psk.identity, key: createPskKey() } } });
    try {
      await assert.rejects(wrongKey.retrieve('cse-in/pskae', 'm2m:ae'), ConnectionError, 'a wrong key fails the handshake');
    } finally {
      await wrongKey.close();
    }
  });

  it('WSS with a client certificate', async () => {
    const ae = await connect({ url: `wss://127.0.0.1:${String(t.cse.wsPort)}`, originator: 'Csensor', tls: { ca: ca.certificate, cert: sensor.certificate, key: sensor.key } });
    try {
      assert.equal((await ae.retrieve('cse-in/sensor/c', 'm2m:cnt')).rn, 'c');
    } finally {
      await ae.close();
    }
  });
});
