// What a binding knows about the connection a request arrived on. Read only by authenticate and encode.

export type BindingName = 'http' | 'mqtt' | 'coap' | 'ws';

export interface PeerCertificate {
  /** Chain, validity period, key usage and revocation were checked against the trust anchors. */
  readonly verified: boolean;
  /** Why verification failed (OpenSSL's code, e.g. CERT_REVOKED), when it did. */
  readonly error?: string;
  readonly subjectAltNameUris: readonly string[];
  readonly subject: string;
  readonly serialNumber: string;
  readonly fingerprint256: string;
  /** End of validity (as node:crypto prints it), for requests carried out after the handshake. */
  readonly validTo?: string;
  /** SHA-256 fingerprints of the certificates above it in the verified chain, up to its trust anchor. */
  readonly issuerFingerprints?: readonly string[];
}

export interface TransportContext {
  binding: BindingName;
  /** The real peer address of the connection (never taken from a header). */
  remoteAddress: string;
  secure: boolean;
  /** The client certificate presented on the connection, with the outcome of its verification. */
  peerCertificate?: PeerCertificate;
  /**
   * MQTT with mqtt.cseLinks: the CSE the broker let publish the request (its topic's originator segment), vouched for
   * by the broker's client certificate check and ACL (bindings/mqtt/server.ts).
   */
  brokerCse?: string;
  /** PSK identity of a TLS-PSK connection. */
  pskIdentity?: string;
  /** Raw HTTP Authorization header, when present; tokens are validated by the security stages. */
  authorization?: string;
  /** The serialization the response will be sent in, where the binding knows it (SPARQL results follow it). */
  responseFormat?: 'json' | 'cbor' | 'xml';
  /** Set on requests a group fan-out makes: how many fopt levels deep they are. */
  fanOutDepth?: number;
  /**
   * Set on requests a group fan-out makes: what is left, over every level of one fan-out, of the member
   * requests it may make and of the bytes of member answers it may aggregate (shared by reference).
   */
  fanOutBudget?: { requests: number; bytes: number };
  /** Set on requests the CSE makes to itself (group fan-out, non-blocking execution): quotas counted them on arrival. */
  internal?: boolean;
  /**
   * Set on the member requests of a group fan-out that creates subscriptions: the notification targets the fan-out
   * verified once for all its members (operations/fanOut.ts). Honoured on internal requests only.
   */
  verifiedTargets?: ReadonlySet<string>;
  /** With verifiedTargets: the registration each AE among them was asked as (verify.ts assertAsked). */
  verifiedRegistrations?: ReadonlyMap<string, { readonly ri: string; readonly seq: number }>;
  /**
   * Set on the UPDATE by which a <crossResourceSubscription> joins a subscription (srat): entries of list attributes
   * to add to what is stored when the UPDATE runs, under the resource's lock, in place of the lists in the content
   * (read earlier by a RETRIEVE: two joins at once each wrote the list without the other's entry). Honoured on
   * internal requests carried out here; a forwarded UPDATE carries its content's lists.
   */
  addToLists?: Readonly<Record<string, readonly string[]>>;
  /**
   * The binding gives back what a request holds (its in-flight place, quotas/stage.ts) when its answer has left: HTTP
   * once the response is flushed to the connection or the connection closed, so that answers a client does not read
   * count as requests still being served. Without it they are given back when the response is made.
   */
  settle?: (release: () => void) => void;
}
