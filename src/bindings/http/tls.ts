// What a TLS handshake proved about the peer, worked out once per connection for the HTTP (and later the
// WebSocket) binding: the verified certificate or the PSK identity. The decision is authenticate's.
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import type { PeerCertificate } from '../../primitive/transport.js';
import { uriSubjectAltNames } from '../../security/pki.js';

/** PSK identities by socket: pskCallback is the only place Node shows them. */
export const pskIdentities = new WeakMap<TLSSocket, string>();
const certificates = new WeakMap<TLSSocket, PeerCertificate | null>();

/** The client certificate of a connection, parsed once (URI SANs from the DER, never Node's display string). */
export function peerCertificateOf(socket: TLSSocket): PeerCertificate | undefined {
  const known = certificates.get(socket);
  if (known !== undefined) return known ?? undefined;
  const x509 = socket.getPeerX509Certificate();
  let result: PeerCertificate | null = null;
  if (x509) {
    const error = socket.authorizationError ? String(socket.authorizationError) : undefined;
    const verified = socket.authorized && !error;
    // Only a verified certificate's names are read (an unverified one is refused, authenticate.ts): parsing them is
    // JavaScript ASN.1, and a self-signed certificate with 1 700 URIs cost 84 ms of CPU per connection before any
    // authentication (found by a probe).
    let uris: string[] = [];
    if (verified) {
      try {
        uris = uriSubjectAltNames(x509.raw);
      } catch {
        uris = [];
      }
    }
    result = {
      verified,
      ...(error ? { error } : {}),
      subjectAltNameUris: uris,
      subject: x509.subject,
      serialNumber: x509.serialNumber,
      fingerprint256: x509.fingerprint256,
      validTo: x509.validTo,
      ...(verified ? { issuerFingerprints: issuersOf(socket) } : {}),
    };
  }
  certificates.set(socket, result);
  return result ?? undefined;
}

/** Which CAs vouched for a verified client certificate: Node completes the chain from the trust store up to its root. */
function issuersOf(socket: TLSSocket): string[] {
  const out: string[] = [];
  let cert = socket.getPeerCertificate(true);
  for (let depth = 0; depth < 16; depth++) {
    const issuer = cert.issuerCertificate as DetailedPeerCertificate | undefined;
    if (!issuer || issuer === cert || issuer.fingerprint256 === cert.fingerprint256) break;
    out.push(issuer.fingerprint256);
    cert = issuer;
  }
  return out;
}
