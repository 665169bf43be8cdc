// security.adminFromLoopback: the admin originator without a credential, from this machine — on by default for
// the single-machine quick start; off behind a reverse proxy, where every client is a loopback peer.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createCa, issueCertificate } from '../../src/security/pki.js';
import { startTestCse } from '../harness.js';
import { tlsRequest } from '../tls.js';

describe('the admin originator from loopback peers', () => {
  it('is honoured by default', async () => {
    const t = await startTestCse();
    try {
      assert.equal((await t.client.retrieve('/cse-in', 'CAdmin')).rsc, 2000);
    } finally {
      await t.close();
    }
  });

  it('needs a credential that names it when security.adminFromLoopback is off', async () => {
    const plain = await startTestCse({ 'security.adminFromLoopback': false });
    try {
      const refused = await plain.client.retrieve('/cse-in', 'CAdmin');
      assert.equal(refused.rsc, 4107, refused.text);
      assert.match(refused.text, /adminFromLoopback/);
      assert.equal((await plain.client.create('/cse-in', 2, { 'm2m:ae': { rn: 'admin', api: 'Nadmin', rr: false, srv: ['3'] } }, 'CAdmin')).rsc, 4107, 'nor may anyone register under its name');
      assert.equal((await plain.client.registerAe('other')), 'Cother', 'other originators are unaffected');
    } finally {
      await plain.close();
    }

    const dir = mkdtempSync(join(tmpdir(), 'warden-admin-'));
    const ca = await createCa('Admin CA');
    const server = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'both' });
    const admin = await issueCertificate(ca, { commonName: 'CAdmin', uris: ['onem2m://warden.example.net/id-in/CAdmin'], usage: 'client' });
    const file = (name: string, text: string): string => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const tls = await startTestCse({
      'security.adminFromLoopback': false,
      'security.authentication': 'cse',
      'http.tls': true,
      'tls.cert': file('server.pem', server.certificate),
      'tls.key': file('server.key', server.key),
      'tls.ca': file('ca.pem', ca.certificate),
      'tls.clientAuth': 'optional',
    });
    try {
      const port = tls.cse.httpPort;
      assert.equal((await tlsRequest(port, { ca: ca.certificate }, 'GET', '/cse-in', 'CAdmin')).rsc, 4107, 'no credential');
      assert.equal((await tlsRequest(port, { ca: ca.certificate, cert: admin.certificate, key: admin.key }, 'GET', '/cse-in', 'CAdmin')).rsc, 2000, 'the credential that names it');
    } finally {
      await tls.close();
    }
  });
});
