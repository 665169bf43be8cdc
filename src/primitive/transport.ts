// What a binding knows about the connection a request arrived on. Read only by authenticate and encode.

export type BindingName = 'http' | 'mqtt' | 'coap' | 'ws';

export interface TransportContext {
  binding: BindingName;
  /** The real peer address of the connection (never taken from a header). */
  remoteAddress: string;
  secure: boolean;
  /** Verified client-certificate identity, when the connection was mutually authenticated. */
  peerCertificate?: { subjectAltNameUris: readonly string[]; fingerprint256: string };
  /** PSK identity of a TLS-PSK connection. */
  pskIdentity?: string;
  /** Raw HTTP Authorization header, when present; tokens are validated by the security stages. */
  authorization?: string;
}
