// What every binding offers the client: send one request primitive and get its response within a time limit,
// and (where the connection carries requests from the CSE, MQTT and WebSocket) answer what the CSE sends.
import { randomBytes } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import type { Codec } from './codec.js';
import { TimeoutError } from './errors.js';
import type { RequestPrimitive, ResponsePrimitive } from './primitive.js';

/** A request the CSE sent to this client (a notification, a verification), and how to answer it. */
export type IncomingRequestHandler = (request: Record<string, unknown>) => Promise<{ rsc: number; pc?: unknown }>;

export interface Transport {
  readonly codec: Codec;
  /** Resolves with the CSE's response (whatever its status); rejects with TimeoutError, ConnectionError, ProtocolError. */
  send(request: RequestPrimitive, timeoutMs: number): Promise<ResponsePrimitive>;
  /** Bindings that carry requests to the client: who answers them, and as which originator they are addressed. */
  listen?(originator: string, handler: IncomingRequestHandler): Promise<void>;
  close(): Promise<void>;
}

/** TLS towards the CSE (or broker): trust anchors, a client certificate, or a pre-shared key. */
export interface TlsOptions {
  /** PEM trust anchors for the CSE's certificate (default: the system's). */
  ca?: string | Buffer;
  /** PEM client certificate (chain) and its key: the credential that names the AE. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** A pre-shared key (TS-0003 §8.2.1): its identity and the key, as bytes or hex. */
  psk?: { identity: string; key: Buffer | string };
  /** Server name for SNI and the host name check (default: the URL's host). */
  servername?: string;
  /**
   * false: the CSE's certificate is checked against `ca` but not against the host name (a CSE whose certificate
   * names a CSE-ID rather than a host). Never turns verification off.
   */
  checkHostName?: boolean;
  /** Cipher list (OpenSSL names); with a PSK the default is the oneM2M PSK suites. */
  ciphers?: string;
}

/** PSK suites of TS-0003 §10.2 plus TLS 1.3's (Node runs a TLS 1.3 external PSK through the same callback). */
const PSK_CIPHERS = 'PSK-AES128-CBC-SHA256:PSK-AES128-GCM-SHA256:ECDHE-PSK-AES128-CBC-SHA256:TLS_AES_128_GCM_SHA256';

/** node:tls connection options for these TLS settings. */
export function tlsConnectionOptions(tls: TlsOptions | undefined): ConnectionOptions {
  if (!tls) return {};
  const options: ConnectionOptions = { rejectUnauthorized: true };
  if (tls.ca !== undefined) options.ca = tls.ca;
  if (tls.cert !== undefined) options.cert = tls.cert;
  if (tls.key !== undefined) options.key = tls.key;
  if (tls.servername !== undefined) options.servername = tls.servername;
  if (tls.checkHostName === false) options.checkServerIdentity = () => undefined;
  if (tls.ciphers !== undefined) options.ciphers = tls.ciphers;
  const psk = tls.psk;
  if (psk) {
    const key = typeof psk.key === 'string' ? Buffer.from(psk.key, 'hex') : psk.key;
    if (key.length === 0) throw new Error('the PSK is empty (give it as bytes or hex)');
    options.pskCallback = () => ({ psk: key, identity: psk.identity });
    options.ciphers = tls.ciphers ?? PSK_CIPHERS;
    // A PSK suite authenticates the CSE by the key: there is no certificate whose host name could be checked.
    options.checkServerIdentity = () => undefined;
  }
  return options;
}

/**
 * A fresh request identifier. Random, not a counter: on a broker (MQTT) other clients may see the topics, and an
 * identifier they could guess would let them answer in the CSE's place.
 */
export function nextRequestId(): string {
  return `wc-${randomBytes(12).toString('base64url')}`;
}

/**
 * Requests sent over a connection that carries answers for many (MQTT, WebSocket), awaiting theirs by request
 * identifier: each within its own timeout, settled once, and all failed together when the connection goes.
 */
export class PendingAnswers {
  private readonly waiting = new Map<string, { resolve: (r: ResponsePrimitive) => void; reject: (e: Error) => void }>();

  /** The answer to `rqi`, or a TimeoutError naming `what` after `timeoutMs`. */
  wait(rqi: string, timeoutMs: number, what: string): Promise<ResponsePrimitive> {
    return new Promise<ResponsePrimitive>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(rqi);
        reject(new TimeoutError(timeoutMs, what));
      }, timeoutMs);
      this.waiting.set(rqi, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  has(rqi: unknown): rqi is string {
    return typeof rqi === 'string' && this.waiting.has(rqi);
  }

  resolve(rqi: string, response: ResponsePrimitive): void {
    const w = this.waiting.get(rqi);
    this.waiting.delete(rqi);
    w?.resolve(response);
  }

  reject(rqi: string, err: Error): void {
    const w = this.waiting.get(rqi);
    this.waiting.delete(rqi);
    w?.reject(err);
  }

  rejectAll(err: Error): void {
    for (const rqi of [...this.waiting.keys()]) this.reject(rqi, err);
  }
}
