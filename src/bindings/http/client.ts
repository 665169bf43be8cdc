// Outbound requests over HTTP(S) [TS-0009]: a request primitive to a URL, the response primitive back.
// Outgoing TLS verifies the peer against the system roots plus the CSE's trust anchors, always.
// Every outbound primitive, whatever its scheme, passes the outbound destination policy here
// (src/security/outboundPolicy.ts): HTTP(S) connects through the policy's lookup, so the address checked is the
// one connected to (the Host header and the TLS server name stay the URL's host, and the certificate is
// verified against it); routes that connect to the URL's host (CoAP) are handed the address the policy
// resolved. Redirects are never followed: a 3xx carries no X-M2M-RSC and counts as unreachable.
import { rootCertificates } from 'node:tls';
import { HttpConnections, type HttpAnswer, type Lane } from './connections.js';
import { rscOf } from '../primitiveContent.js';
import type { Logger } from '../../log/logger.js';
import type { RequestPrimitive } from '../../primitive/request.js';
import { DEFAULT_OUTBOUND, isOutboundRefused, OutboundPolicy } from '../../security/outboundPolicy.js';
import { baseMediaType, type Codec } from '../../serialization/codec.js';
import { jsonCodec } from '../../serialization/json.js';
import { cborCodec } from '../../serialization/cbor.js';
import { xmlCodec } from '../../serialization/xml.js';

export interface OutboundResult {
  /** The X-M2M-RSC of the answer; 5103 when nothing usable came back. */
  rsc: number;
  body?: unknown;
  /** Set when the outbound policy refused the destination (rsc is then 5103): nothing was sent. */
  refused?: string;
}

/**
 * The answer's content is decoded only when a caller reads it (a DAS's decision, a re-targeted request's answer): a
 * notification's answer is taken for its RSC alone, and decoding every answer (up to 1 MiB, XML at about 0.4 s a
 * MiB) on the event loop let a receiver slow the whole CSE down by answering large bodies.
 */
function answerWithContent(rsc: number, answer: HttpAnswer): OutboundResult {
  let decoded: { value: unknown } | undefined;
  const result: OutboundResult = { rsc };
  Object.defineProperty(result, 'body', {
    enumerable: true,
    get(): unknown {
      if (decoded === undefined) {
        decoded = { value: undefined };
        try {
          const codec = [jsonCodec, cborCodec, xmlCodec].find((c) => c.accepts.includes(baseMediaType(answer.headers.get('content-type') ?? ''))) ?? jsonCodec;
          if (answer.body.length > 0) decoded.value = codec.decode(answer.body);
        } catch {
          // content that does not decode is no content
        }
      }
      return decoded.value;
    },
  });
  return result;
}

export interface HttpOutboundOptions {
  /** The destination policy; the default refuses loopback, link-local, unspecified and multicast. */
  policy?: OutboundPolicy;
  /** Where refusals are logged as security events. */
  log?: Logger;
}

/**
 * How a route reaches its destination: 'url-host' routes open a connection to the URL's host (CoAP) and get a
 * URL whose host is the address the policy resolved and accepted; 'elsewhere' routes never connect to it (MQTT
 * publishes on the operator's broker, WebSocket answers over the AE's own connection): only the scheme is checked.
 */
export type RouteReach = 'url-host' | 'elsewhere';

const MAX_RESPONSE_BYTES = 1_048_576;

/** A route for other URL schemes (mqtt://), attached once that binding runs. */
export type SchemeRoute = (url: URL, primitive: RequestPrimitive, timeoutMs: number) => Promise<OutboundResult>;

export class HttpOutbound {
  private readonly routes = new Map<string, { route: SchemeRoute; reach: RouteReach }>();
  /** The destination policy, also for later code that opens connections of its own (registrar, DAS, EST …). */
  readonly policy: OutboundPolicy;
  private readonly log: Logger | undefined;

  /** Lets another binding carry requests to URLs of its scheme (e.g. 'mqtt:'). */
  route(protocol: string, route: SchemeRoute, reach: RouteReach = 'url-host'): void {
    this.routes.set(protocol, { route, reach });
  }

  constructor(
    private readonly timeoutMs: number,
    trustAnchors?: string,
    options: HttpOutboundOptions = {},
  ) {
    this.policy = options.policy ?? new OutboundPolicy(DEFAULT_OUTBOUND);
    this.log = options.log;
    const ca = trustAnchors ? [...rootCertificates, trustAnchors] : [...rootCertificates];
    // Idle connections close before node:http's own server keep-alive timeout (5 s), which would otherwise race a
    // request sent on a connection the receiver is closing.
    this.connections = new HttpConnections({ lookup: this.policy.lookup, ca, perOrigin: 64, idleMs: 4_000, maxBodyBytes: MAX_RESPONSE_BYTES });
  }

  private readonly connections: HttpConnections;

  /**
   * Sends a NOTIFY (no ty) or other primitive; never throws: failures are 5103 TARGET_NOT_REACHABLE. The body
   * is serialized with `codec` (JSON unless the receiver asked for another, e.g. through its csz). `timeoutMs`
   * replaces the configured wait for callers with a tighter bound of their own (a DAS consultation). With a `lane`
   * (from lane()), an HTTP(S) request is written on the lane's connection at once, behind the lane's earlier ones,
   * in the order of the calls (connections.ts). `encoded`: the body already serialized with `codec` (the primitive's
   * pc is then left out of it; a route other than HTTP gets it decoded).
   */
  send(url: string, primitive: RequestPrimitive, codec: Codec = jsonCodec, timeoutMs = this.timeoutMs, lane?: Lane, encoded?: Buffer): Promise<OutboundResult> {
    return new Promise((resolve) => {
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        resolve({ rsc: 5103 });
        return;
      }
      const refuse = (reason: string): void => resolve(this.refused(target, primitive, reason));
      const route = this.routes.get(target.protocol);
      if (route && encoded !== undefined && primitive.pc === undefined) {
        this.send(url, { ...primitive, pc: codec.decode(encoded) }, codec, timeoutMs, lane).then(resolve, () => resolve({ rsc: 5103 }));
        return;
      }
      if (!route && target.protocol !== 'http:' && target.protocol !== 'https:') {
        resolve({ rsc: 5103 });
        return;
      }
      const refusal = this.policy.checkUrl(target, route?.reach !== 'elsewhere');
      if (refusal) {
        refuse(refusal);
        return;
      }
      if (route?.reach === 'elsewhere') {
        route.route(target, primitive, timeoutMs).then(resolve, () => resolve({ rsc: 5103 }));
        return;
      }
      if (route) {
        // Resolved once here; the route gets the address, so its library does not resolve the name again.
        this.policy.resolve(target.hostname).then(
          ({ address }) => {
            const pinned = new URL(target);
            pinned.hostname = address.includes(':') ? `[${address}]` : address;
            route.route(pinned, primitive, timeoutMs).then(resolve, () => resolve({ rsc: 5103 }));
          },
          (err: unknown) => (isOutboundRefused(err) ? refuse(err.reason) : resolve({ rsc: 5103 })),
        );
        return;
      }
      const body = encoded ?? (primitive.pc === undefined ? undefined : codec.encode(primitive.pc));
      const headers: Record<string, string> = {
        'X-M2M-Origin': primitive.fr,
        'X-M2M-RI': primitive.rqi,
        'X-M2M-RVI': primitive.rvi ?? '3',
        Accept: codec.mediaType,
      };
      if (primitive.ec !== undefined) headers['X-M2M-EC'] = String(primitive.ec);
      if (body) headers['Content-Type'] = primitive.ty === undefined ? codec.mediaType : `${codec.mediaType};ty=${primitive.ty}`;
      // Kept-alive connections per origin on undici (connections.ts): node:http's client cost four times the CPU of
      // the exchange itself, once per notification.
      (lane ?? this.connections).exchange(target, primitive.op === 2 ? 'GET' : 'POST', headers, body, timeoutMs).then(
        (answer) => {
          const rsc = rscOf(answer.headers.get('x-m2m-rsc'));
          // A receiver that answers without an RSC did not speak oneM2M: not a delivery. Nor did one whose HTTP status
          // says the request failed while its RSC says it succeeded (TS-0009 §6.3.3 maps each RSC to its status):
          // an HTTP 500 carrying "2000" and a grant is no grant.
          if (rsc === undefined || (rsc < 3000 && answer.status >= 300)) {
            resolve({ rsc: 5103 });
            return;
          }
          resolve(answerWithContent(rsc, answer));
        },
        (err: unknown) => (isOutboundRefused(err) ? refuse(err.reason) : resolve({ rsc: 5103 })),
      );
    });
  }

  /**
   * A plain GET of a JSON document (a location server's answer), through the same destination policy, connections
   * and bounds as the primitives (connections.ts: the policy's lookup, the trust anchors, the answer's size, a total
   * deadline, no redirect followed): never throws; undefined when nothing usable came back, `refused` when the
   * policy refused the destination (a security event, logged).
   */
  async getJson(url: string, timeoutMs = this.timeoutMs): Promise<{ status: number; body: unknown } | { refused: string } | undefined> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return undefined;
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') return undefined;
    const refuse = (reason: string): { refused: string } => {
      this.log?.warn({ event: 'outbound-refused', destination: `${target.protocol}//${target.host}`, reason }, 'security event');
      return { refused: reason };
    };
    const refusal = this.policy.checkUrl(target);
    if (refusal) return refuse(refusal);
    let answer;
    try {
      answer = await this.connections.exchange(target, 'GET', { Accept: 'application/json' }, undefined, timeoutMs);
    } catch (err) {
      return isOutboundRefused(err) ? refuse(err.reason) : undefined;
    }
    try {
      return { status: answer.status, body: answer.body.length ? (JSON.parse(answer.body.toString('utf8')) as unknown) : undefined };
    } catch {
      return undefined;
    }
  }

  /** A refused destination: a security event, and the caller sees an unreachable target. */
  private refused(target: URL, primitive: RequestPrimitive, reason: string): OutboundResult {
    // Scheme, host and port only: a URL's user info or query is the originator's and may hold secrets.
    this.log?.warn({ event: 'outbound-refused', destination: `${target.protocol}//${target.host}`, to: primitive.to, rqi: primitive.rqi, reason }, 'security event');
    return { rsc: 5103, refused: reason };
  }

  /** Requests of one sender written in order on one connection, pipelined (connections.ts); release() it when done. */
  lane(): Lane {
    return this.connections.lane();
  }

  close(): void {
    this.connections.destroy();
  }
}
