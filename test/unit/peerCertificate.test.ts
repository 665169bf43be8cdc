// What a TLS handshake proved about the peer (bindings/http/tls.ts): an unverified certificate's names are not parsed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { peerCertificateOf } from '../../src/bindings/http/tls.js';

/** A socket whose handshake ended with a certificate that `authorized` says was (not) verified. */
function socketWith(authorized: boolean): { socket: TLSSocket; rawRead: () => number } {
  let reads = 0;
  const x509 = {
    get raw(): Buffer {
      reads++;
      return Buffer.alloc(0);
    },
    subject: 'CN=someone',
    serialNumber: '01',
    fingerprint256: 'AA',
    validTo: 'Jan  1 00:00:00 2030 GMT',
  };
  const socket = {
    authorized,
    authorizationError: authorized ? null : new Error('self-signed certificate'),
    getPeerX509Certificate: () => x509,
    getPeerCertificate: () => ({}),
  } as unknown as TLSSocket;
  return { socket, rawRead: () => reads };
}

describe('peerCertificateOf', () => {
  it('does not parse the names of a certificate the handshake did not verify (a self-signed one with 1 700 URIs cost 84 ms)', () => {
    const { socket, rawRead } = socketWith(false);
    const cert = peerCertificateOf(socket);
    assert.equal(cert?.verified, false);
    assert.match(cert?.error ?? '', /self-signed/);
    assert.deepEqual(cert?.subjectAltNameUris, []);
    assert.equal(rawRead(), 0, 'the DER was not read');
  });
});
