// Certificate authority operations for `warden pki` and for tests: P-256 ECDSA with SHA-256, the profile of
// TS-0003 §10.1.1. Keys are made here at run time; none is ever kept in the repository.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { randomBytes, webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

export interface Pem {
  /** Certificate (or CRL) in PEM. */
  readonly certificate: string;
  /** PKCS#8 private key in PEM. */
  readonly key: string;
}

export interface IssueOptions {
  commonName: string;
  /** URI subjectAltNames, e.g. the absolute AE-ID `onem2m://sp.example/id-in/Csensor`. */
  uris?: readonly string[];
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
  /** Extended key usages: a device is a TLS client, a CSE a server (and a client towards other CSEs). */
  usage: 'client' | 'server' | 'both';
  notBefore?: Date;
  notAfter?: Date;
  /** For tests of wrong usages: the key usage digitalSignature is left out. */
  omitDigitalSignature?: boolean;
}

function serial(): string {
  // Positive, non-zero, 16 bytes: unique without coordination.
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x01;
  return bytes.toString('hex');
}

async function keyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

async function importPrivateKey(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return webcrypto.subtle.importKey('pkcs8', der, KEY_ALGORITHM, true, ['sign']);
}

export async function createCa(commonName: string, days = 3650): Promise<Pem> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName}`,
    keys,
    signingAlgorithm: SIGNING,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + days * DAY),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate: cert.toString('pem'), key: await privateKeyPem(keys.privateKey) };
}

export async function issueCertificate(ca: Pem, options: IssueOptions): Promise<Pem & { serialNumber: string }> {
  const caCert = new x509.X509Certificate(ca.certificate);
  const caKey = await importPrivateKey(ca.key);
  const keys = await keyPair();
  const usages = {
    client: [x509.ExtendedKeyUsage.clientAuth],
    server: [x509.ExtendedKeyUsage.serverAuth],
    both: [x509.ExtendedKeyUsage.clientAuth, x509.ExtendedKeyUsage.serverAuth],
  }[options.usage];
  const names: x509.JsonGeneralName[] = [
    ...(options.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const serialNumber = serial();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber,
    subject: `CN=${options.commonName}`,
    issuer: caCert.subject,
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: SIGNING,
    notBefore: options.notBefore ?? new Date(Date.now() - 60_000),
    notAfter: options.notAfter ?? new Date(Date.now() + 365 * DAY),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(options.omitDigitalSignature ? x509.KeyUsageFlags.keyAgreement : x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(usages),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  return { certificate: cert.toString('pem'), key: await privateKeyPem(keys.privateKey), serialNumber };
}

/** A CRL of this CA revoking the given serial numbers (hex), valid for `days`. */
export async function createCrl(ca: Pem, revokedSerials: readonly string[], days = 7): Promise<string> {
  const caCert = new x509.X509Certificate(ca.certificate);
  const crl = await x509.X509CrlGenerator.create({
    issuer: caCert.subject,
    signingAlgorithm: SIGNING,
    signingKey: await importPrivateKey(ca.key),
    thisUpdate: new Date(Date.now() - 60_000),
    nextUpdate: new Date(Date.now() + days * DAY),
    entries: revokedSerials.map((serialNumber) => ({ serialNumber, revocationDate: new Date(), reason: x509.X509CrlReason.keyCompromise })),
  });
  // Node and OpenSSL read 'X509 CRL' armour only (not the library's 'CRL').
  return x509.PemConverter.encode(crl.rawData, 'X509 CRL');
}

/** URI subjectAltNames of a DER certificate, parsed from the extension (never from Node's display string). */
export function uriSubjectAltNames(der: Buffer): string[] {
  const cert = new x509.X509Certificate(der);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return san ? san.names.items.filter((n) => n.type === 'url').map((n) => n.value) : [];
}

/** A new pre-shared key: 32 random bytes, hex. */
export function createPskKey(): string {
  return randomBytes(32).toString('hex');
}

/** A serial number as hex without leading zeros, lower case: how certificates and CRLs are compared here. */
export function normaliseSerial(serial: string): string {
  return serial.replace(/[^0-9a-fA-F]/g, '').toLowerCase().replace(/^0+(?=.)/, '');
}

/** The serial numbers every CRL in a PEM file revokes (checked again when a deferred request finally runs). */
export function revokedSerialNumbers(pem: string): Set<string> {
  const out = new Set<string>();
  for (const der of x509.PemConverter.decode(pem)) {
    for (const entry of new x509.X509Crl(der).entries) out.add(normaliseSerial(entry.serialNumber));
  }
  return out;
}
