// The CSE's TLS material and its clients' credentials: what a handshake may present, and which
// originators each credential may act as [TS-0003 §8.2.1]. Files are read at start and on reload().
import { readFileSync } from 'node:fs';
import { X509Certificate, constants } from 'node:crypto';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { Config } from '../config/config.js';
import type { LocalIdentity } from '../primitive/identifiers.js';
import { normaliseSerial, revokedSerialNumbers } from './pki.js';
import { parsePeerCas, parsePeers } from '../config/peers.js';

/** Credential-ID type numbers [TS-0003 §10.4]: 12 KpsaID (PSK), 31 device, 32 CSE-ID and 33 AE-ID certificates. */
const CREDENTIAL_TYPE = { psk: 12, deviceCertificate: 31, cseCertificate: 32, aeCertificate: 33 } as const;

export interface PskEntry {
  readonly identity: string;
  readonly key: Buffer;
  /** AE-IDs this key may act as; empty: the AE-ID assigned at its registration is bound to it. */
  readonly aeIds: readonly string[];
  readonly cseId?: string;
}

/** What a connection's credential proves: its Credential-ID and the originators it may use. */
export interface Evidence {
  readonly credentialId: string;
  readonly aeIds: readonly string[];
  readonly cseIds: readonly string[];
  /** True when the credential names no originator, so a registration binds one to it. */
  readonly bindsAtRegistration: boolean;
  /** The M2M-SP-ID of a peer SP (peers.list) whose IN-CSE the certificate names: a link over Mcc'. */
  readonly peerSp?: string;
}

const PSK_IDENTITY = /^[A-Za-z0-9._@-]{1,128}$/;

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`${what} ${path}: ${(err as Error).message}`);
  }
}

function parsePskStore(path: string): Map<string, PskEntry> {
  const parsed = JSON.parse(readText(path, 'tls.psk')) as unknown;
  const keys = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) throw new Error(`tls.psk ${path}: expected {"keys": [...]}`);
  const out = new Map<string, PskEntry>();
  for (const [i, raw] of keys.entries()) {
    const e = raw as Record<string, unknown>;
    const where = `tls.psk ${path} keys[${i}]`;
    if (typeof e.identity !== 'string' || !PSK_IDENTITY.test(e.identity)) throw new Error(`${where}: identity must be 1-128 of A-Z a-z 0-9 . _ @ -`);
    if (typeof e.key !== 'string' || !/^([0-9a-fA-F]{2}){16,64}$/.test(e.key)) throw new Error(`${where}: key must be 16 to 64 bytes in hex`);
    const aeIds = Array.isArray(e.aeIds) ? e.aeIds.filter((a): a is string => typeof a === 'string') : [];
    const entry: PskEntry = { identity: e.identity, key: Buffer.from(e.key, 'hex'), aeIds, ...(typeof e.cseId === 'string' ? { cseId: e.cseId } : {}) };
    out.set(entry.identity, entry);
  }
  return out;
}

export class Credentials {
  private psk = new Map<string, PskEntry>();
  /** Every AE-ID a key of the PSK store names. */
  private pskAeIds = new Set<string>();
  private context: SecureContextOptions = {};
  private certificate: X509Certificate | undefined;
  private revoked = new Set<string>();

  constructor(
    private readonly config: Config,
    private readonly self: LocalIdentity,
  ) {
    this.reload();
  }

  /** Re-reads every file; throws (keeping the old material) when one is unreadable or invalid. */
  reload(): void {
    const t = this.config.tls;
    if (!this.config.http.tls && !this.config.ws.tls) return;
    const cert = readText(t.cert, 'tls.cert');
    const context: SecureContextOptions = {
      cert,
      key: readText(t.key, 'tls.key'),
      minVersion: t.minVersion,
      ciphers: t.ciphers,
      // Without tickets every handshake runs pskCallback, so a resumed session never loses its identity.
      secureOptions: constants.SSL_OP_NO_TICKET,
    };
    const ownCa = t.ca ? readText(t.ca, 'tls.ca') : '';
    // Validated when the configuration was loaded (config.ts).
    const peerFiles = this.config.peers.ca ? parsePeerCas(this.config.peers.ca, parsePeers(this.config.peers.list, this.self.spId)) : [];
    const peerCas = peerFiles.map((file) => ({ pem: readText(file.path, 'peers.ca'), spIds: file.spIds }));
    // The handshake accepts certificates of any; which one vouched for a certificate decides what it may name (anchorsOf).
    const bundle = [ownCa, ...peerCas.map((c) => c.pem)].filter((pem) => pem !== '');
    if (bundle.length > 0) context.ca = bundle.join('\n');
    const peer = new Map<string, Set<string>>();
    for (const ca of peerCas) {
      for (const fingerprint of fingerprintsOf(ca.pem)) peer.set(fingerprint, new Set([...(peer.get(fingerprint) ?? []), ...ca.spIds]));
    }
    const anchors = { own: fingerprintsOf(ownCa), peer };
    if (t.crl) context.crl = readText(t.crl, 'tls.crl');
    const revoked = context.crl ? revokedSerialNumbers(context.crl as string) : new Set<string>();
    const psk = t.psk ? parsePskStore(t.psk) : new Map<string, PskEntry>();
    const certificate = new X509Certificate(cert);
    // Everything is checked before anything is kept: a key that does not match the certificate, or a CRL or CA file
    // that OpenSSL cannot read, throws here, not later in setSecureContext with this object already changed (the
    // listeners on the old context, while revocations and PSKs were the new ones).
    createSecureContext(context);
    this.certificate = certificate;
    this.context = context;
    this.psk = psk;
    this.pskAeIds = new Set([...psk.values()].flatMap((entry) => entry.aeIds));
    this.revoked = revoked;
    this.anchors = anchors;
  }

  /** tls.ca's certificates; peers.ca's, each with the peer SPs (lower case) whose IN-CSEs it vouches for. */
  private anchors: { own: ReadonlySet<string>; peer: ReadonlyMap<string, ReadonlySet<string>> } = { own: new Set(), peer: new Map() };

  /**
   * Whether this SP's CAs (tls.ca) vouched for a verified certificate, and for which peer SPs' IN-CSEs the CAs that
   * vouched for it may (peers.ca, each peer's own); undefined when no peers.ca is configured (every trust anchor is then
   * this SP's). A CA in both counts for both.
   */
  anchorsOf(cert: { readonly issuerFingerprints?: readonly string[] }): { own: boolean; peerSps: ReadonlySet<string> } | undefined {
    if (this.anchors.peer.size === 0) return undefined;
    const chain = cert.issuerFingerprints ?? [];
    const peerSps = new Set<string>();
    for (const fingerprint of chain) for (const sp of this.anchors.peer.get(fingerprint) ?? []) peerSps.add(sp);
    return { own: chain.some((f) => this.anchors.own.has(f)), peerSps };
  }

  /**
   * Whether a certificate (by serial number) is revoked by the current CRLs. TLS checks revocation at the
   * handshake; this is for requests carried out later (non-blocking jobs), when the CRL may have changed.
   */
  isRevoked(serialNumber: string): boolean {
    return this.revoked.has(normaliseSerial(serialNumber));
  }

  /** Every option setSecureContext needs: it resets whatever is left out. */
  contextOptions(): SecureContextOptions {
    return { ...this.context };
  }

  pskKey(identity: string): Buffer | undefined {
    return this.psk.get(identity)?.key;
  }

  hasPsk(): boolean {
    return this.psk.size > 0;
  }

  /** Whether a key of the PSK store names this AE-ID (it is that key's to register and act as); asked on requests without a credential. */
  pskNames(aeId: string): boolean {
    return this.pskAeIds.has(aeId);
  }

  /** Days until the CSE's own certificate expires, or undefined without TLS. */
  daysOfValidity(now: number): number | undefined {
    if (!this.certificate) return undefined;
    return (Date.parse(this.certificate.validTo) - now) / 86_400_000;
  }

  evidenceOfPsk(identity: string): Evidence | undefined {
    const entry = this.psk.get(identity);
    if (!entry) return undefined;
    return {
      credentialId: `${CREDENTIAL_TYPE.psk}-${identity}`,
      aeIds: entry.aeIds,
      cseIds: entry.cseId ? [entry.cseId] : [],
      bindsAtRegistration: entry.aeIds.length === 0 && !entry.cseId,
    };
  }

  /**
   * Identities in a verified certificate's URI subjectAltNames [TS-0003 §10.1.1.5]: `<scheme>://SP/CSE/C-AE`,
   * `<scheme>://SP/S-AE` or `<scheme>://SP/CSE` (scheme optional). Names of other SPs, and wildcards, are ignored.
   */
  evidenceOfCertificate(uris: readonly string[], fingerprint256: string): Evidence {
    const aeIds: string[] = [];
    const cseIds: string[] = [];
    for (const uri of uris) {
      const m = /^(?:[a-z][a-z0-9+.-]*:)?\/\/([^/]+)\/(.+)$/i.exec(uri);
      if (!m || uri.includes('*')) continue;
      const [, sp, path] = m as unknown as [string, string, string];
      if (sp.toLowerCase() !== this.self.spId.toLowerCase()) continue;
      const parts = path.split('/');
      if (parts.length === 1 && /^S/.test(parts[0] as string)) aeIds.push(parts[0] as string);
      else if (parts.length === 1) cseIds.push(`/${parts[0] as string}`);
      else if (parts.length === 2 && parts[0] === this.self.cseId && /^C/.test(parts[1] as string)) aeIds.push(parts[1] as string);
      else if (parts.length === 2) aeIds.push(`/${parts[0] as string}/${parts[1] as string}`);
    }
    if (aeIds.length === 0 && cseIds.length === 0) {
      // A device certificate without oneM2M identities: its fingerprint is the credential, bound at registration.
      return { credentialId: `${CREDENTIAL_TYPE.deviceCertificate}-${fingerprint256.replaceAll(':', '')}`, aeIds, cseIds, bindsAtRegistration: true };
    }
    const type = cseIds.length > 0 && aeIds.length === 0 ? CREDENTIAL_TYPE.cseCertificate : CREDENTIAL_TYPE.aeCertificate;
    return { credentialId: `${type}-${aeIds[0] ?? cseIds[0] ?? ''}`, aeIds, cseIds, bindsAtRegistration: false };
  }
}

/** SHA-256 fingerprints of the certificates of a PEM bundle (as X509Certificate and TLS print them). */
function fingerprintsOf(pem: string): ReadonlySet<string> {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return new Set(blocks.map((block) => new X509Certificate(block).fingerprint256));
}
