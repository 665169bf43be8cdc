// A reload of the TLS credentials is all or nothing: one that fails keeps every part of the old material.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { Credentials } from '../../src/security/credentials.js';
import { createCa, createCrl, issueCertificate } from '../../src/security/pki.js';

describe('Credentials.reload', () => {
  it('keeps the old CRL when the new material fails (a key that does not match the certificate)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-reload-'));
    const ca = await createCa('Reload CA');
    const server = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], usage: 'both' });
    const other = await issueCertificate(ca, { commonName: 'other', dnsNames: ['other'], usage: 'both' });
    const device = await issueCertificate(ca, { commonName: 'Cdev', uris: ['onem2m://warden.example.net/id-in/Cdev'], usage: 'client' });
    const file = (name: string, text: string): string => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const flags = {
      'http.tls': true,
      'tls.cert': file('server.pem', server.certificate),
      'tls.key': file('server.key', server.key),
      'tls.ca': file('ca.pem', ca.certificate),
      'tls.crl': file('crl.pem', await createCrl(ca, [])),
    };
    const credentials = new Credentials(loadConfig({ flags }), { cseId: 'id-in', cseRn: 'cse-in', spId: 'warden.example.net' });
    assert.equal(credentials.isRevoked(device.serialNumber), false);
    // The device revoked, and in the same reload a key of another certificate: the reload fails as a whole.
    file('crl.pem', await createCrl(ca, [device.serialNumber]));
    file('server.key', other.key);
    assert.throws(() => credentials.reload());
    assert.equal(credentials.isRevoked(device.serialNumber), false, 'the new CRL is not half-applied');
    // Fixed, the reload takes everything.
    file('server.key', server.key);
    credentials.reload();
    assert.equal(credentials.isRevoked(device.serialNumber), true);
  });
});
