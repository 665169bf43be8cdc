// The MQTT binding [TS-0010]: Warden is a client of a broker. Requests arrive on
// /oneM2M/req/<originator>/<this CSE-ID>/<json|cbor|xml> (registrations on /oneM2M/reg_req/…), whole request
// primitives as payloads; answers go to /oneM2M/resp/… (/oneM2M/reg_resp/…) in the same serialization.
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../../log/logger.js';
import { CseError } from '../../primitive/errors.js';
import { withholdsResult, type ResponsePrimitive } from '../../primitive/response.js';
import { RSC } from '../../primitive/rsc.js';
import type { TransportContext } from '../../primitive/transport.js';
import { codecByName, decodeBody, formatOfCodec } from '../../serialization/codec.js';
import type { RequestHandler } from '../http/server.js';
import { whenAnswerSent, type AnswerSent } from '../answerSent.js';
import { answerRqi, requestDocument, requestFromDocument, responseDocument, rscOf, unwrapPrimitive } from '../primitiveContent.js';
import type { RequestPrimitive } from '../../primitive/request.js';

export interface MqttBindingOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  qos: 0 | 1 | 2;
  /** TLS towards the broker: trust anchors and the client certificate Warden presents. */
  tls?: { ca?: string; cert?: string; key?: string };
  /** The CSE-ID without its leading slash, as it stands in topics. */
  cseId: string;
  /** The M2M-SP-ID, to read an answer's From in absolute form. */
  spId: string;
  maxMessageBytes: number;
  /**
   * mqtt.cseLinks: the broker (mqtts://, client certificates, an ACL per CSE) lets a CSE publish requests only on
   * /oneM2M/req/<its CSE-ID>/..., so that segment names the CSE that sent the request (TS-0010 §6.4: on Mcc it is the
   * sending CSE's CSE-ID even when From names an AE it relays).
   */
  cseLinks?: boolean;
}

export interface RunningMqttBinding {
  /**
   * Sends a request primitive to an entity listening on the broker (`/oneM2M/req/<CSE-ID>/<target>/json`)
   * and waits for its answer: how notifications reach AEs whose point of access is mqtt://.
   */
  request(target: string, primitive: RequestPrimitive, timeoutMs: number): Promise<{ rsc: number; body?: unknown }>;
  /** Whether the broker connection is up (readiness). */
  readonly connected: boolean;
  close(): Promise<void>;
}

/** In topics a '/' of an ID is written ':' [TS-0010 §6.4]. */
export const topicId = (id: string): string => id.replaceAll('/', ':');
const fromTopicId = (id: string): string => id.replaceAll(':', '/');

export async function startMqttBinding(handle: RequestHandler, options: MqttBindingOptions, log: Logger): Promise<RunningMqttBinding> {
  const client: MqttClient = mqtt.connect(options.url, {
    clientId: options.clientId,
    ...(options.username ? { username: options.username, password: options.password } : {}),
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    ...(options.tls ? { ...options.tls, rejectUnauthorized: true } : {}),
  });
  client.on('error', (err) => log.warn({ event: 'mqtt-error', err: err.message }, 'MQTT connection problem'));
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
  } catch (err) {
    // A first connection that fails stops start-up; the client must not go on reconnecting in the background.
    await client.endAsync(true);
    throw err;
  }
  const topics = [`/oneM2M/req/+/${options.cseId}/+`, `/oneM2M/reg_req/+/${options.cseId}/+`, `/oneM2M/resp/${options.cseId}/+/json`];
  // Answers to the requests this CSE sent, by request identifier, with the entity that must give them.
  const awaiting = new Map<string, { target: string; responder: string; vouched: boolean; done: (answer: { rsc: number; body?: unknown }) => void }>();
  /** An ID in the form this CSE's own AEs are named in (CSE-relative C-AE-ID, S-AE-ID, or a CSE-ID). */
  const localForm = (id: string): string => {
    let rest = id.startsWith(`//${options.spId}/`) ? id.slice(options.spId.length + 2) : id;
    if (rest.startsWith(`/${options.cseId}/`)) rest = rest.slice(options.cseId.length + 2);
    else if (/^\/S[^/]*$/.test(rest)) rest = rest.slice(1);
    return rest;
  };
  await client.subscribeAsync(topics, { qos: options.qos });

  /**
   * Answers being handed to the connection with QoS 0. mqtt.js calls such a publish back on the socket's next 'drain',
   * and a socket that closes while full never drains: the places these answers hold (whenAnswerSent) would never come
   * back. They are lost with the connection, so their places are given back when it closes. With QoS 1 and 2 mqtt.js
   * keeps an answer and sends it again after reconnecting, and its place is given back at the broker's acknowledgement.
   */
  const unsent = new Set<AnswerSent>();
  client.on('close', () => {
    for (const answerSent of unsent) answerSent.sent();
    unsent.clear();
  });

  const answer = async (kind: string, originator: string, format: string, response: ResponsePrimitive, to: string, answerSent: AnswerSent): Promise<void> => {
    const codec = codecByName(format);
    if (!codec) return;
    const responseTopic = `/oneM2M/${kind === 'reg_req' ? 'reg_resp' : 'resp'}/${originator}/${options.cseId}/${format}`;
    const bytes = codec.encode(responseDocument(response, to, codec.mediaType === 'application/xml'));
    if (options.qos === 0 && client.connected) unsent.add(answerSent);
    try {
      await client.publishAsync(responseTopic, bytes, { qos: options.qos });
    } finally {
      unsent.delete(answerSent);
    }
  };

  /**
   * The CSE a request on a CSE link comes from: the topic's originator segment as an SP-relative CSE-ID, when links
   * through this broker are on (mqtts:// only) and From is a CSE-ID or an SP-relative ID (an AE of another CSE). A
   * segment shaped like an AE-ID (C…, S…, or with ':') never names a CSE: an AE's own topic is no CSE's.
   */
  const linkCseOf = (segment: string, fr: string): string | undefined => {
    if (options.cseLinks !== true || !options.url.startsWith('mqtts:') || !fr.startsWith('/')) return undefined;
    if (!/^[A-Za-z0-9][A-Za-z0-9._~-]*$/.test(segment) || /^[CS]/.test(segment)) return undefined;
    return `/${segment}`;
  };

  client.on('message', (topic, payload, packet) => {
    // A message from the broker's retained store is an old publication, replayed on every (re)subscription: run as a
    // request it would repeat its operation at each restart or reconnect, and an old answer could settle a new request.
    // A live message reaches a subscriber with retain 0 (MQTT 3.1.1 §3.3.1.3; MQTT 5 without Retain As Published).
    if (packet.retain) {
      log.warn({ event: 'mqtt-retained-ignored', topic }, 'security event');
      return;
    }
    void (async () => {
      const parts = topic.split('/');
      const [, , kind, originator, , format] = parts;
      if (kind === 'resp') {
        // Any client the broker lets publish here can send one: bounded like a request before it is parsed (30 MB
        // of JSON held the event loop 7 s; 150 MB, over a minute and 4.7 GB).
        if (payload.length > options.maxMessageBytes) {
          log.warn({ event: 'mqtt-answer-too-large', topic, bytes: payload.length }, 'security event');
          return;
        }
        try {
          const doc = unwrapPrimitive(JSON.parse(payload.toString('utf8')), 'm2m:rsp') as { rqi?: unknown; rsc?: unknown; pc?: unknown; fr?: unknown };
          const answered = answerRqi(doc);
          const waiting = answered === undefined ? undefined : awaiting.get(answered);
          if (!waiting) return;
          // The broker lets any client publish anywhere it is not forbidden to: an answer counts only on the
          // asked entity's own response topic (parts[4]) and from that entity (fr). Anything else is ignored and
          // the real answer is still awaited. Only broker ACLs stop a client that can read the request.
          // On a CSE link the broker's ACL lets only that CSE answer on its response topic: the topic vouches for it
          // (a forwarded answer need not carry From).
          const fromResponder = waiting.vouched || (typeof doc.fr === 'string' && localForm(doc.fr) === waiting.responder);
          if (parts.length !== 6 || waiting.target !== parts[4] || !fromResponder) {
            log.warn({ event: 'mqtt-answer-refused', topic, rqi: answered, from: typeof doc.fr === 'string' ? doc.fr : null, expected: waiting.responder }, 'security event');
            return;
          }
          waiting.done({ rsc: rscOf(doc.rsc) ?? 5103, body: doc.pc });
        } catch {
          // not an answer we can read: the request times out
        }
        return;
      }
      if (parts.length !== 6 || !kind || !originator || !format) return;
      const codec = codecByName(format);
      if (!codec) {
        log.warn({ event: 'mqtt-bad-topic', topic }, 'unknown serialization in topic');
        return;
      }
      let rqi = '';
      // What the request holds (its quota.inFlight place) is given back once its answer has been handed to the broker
      // connection, not when it is made: one connection carries every client, and answers it cannot send as fast as
      // they are made waited in this process unbounded (1 600 reads of 500 kB: 1.26 GB).
      const answerSent = whenAnswerSent();
      try {
        if (payload.length > options.maxMessageBytes) throw new CseError(RSC.BAD_REQUEST, `the message exceeds ${options.maxMessageBytes} bytes`);
        const request = requestFromDocument(decodeBody(codec, payload));
        rqi = request.rqi;
        const linkCse = linkCseOf(originator, request.fr);
        // The originator in the topic and in the primitive must agree [TS-0010 §6.4.2]; on a CSE link the topic names
        // the sending CSE, and From is that CSE, or an originator it relays (checked as on HTTPS, authenticate.ts).
        if (linkCse === undefined && request.fr !== '' && request.fr !== fromTopicId(originator)) {
          throw new CseError(RSC.BAD_REQUEST, `the topic names originator '${fromTopicId(originator)}' but the request says '${request.fr}'`);
        }
        if (request.fr === '' && kind !== 'reg_req') request.fr = fromTopicId(originator);
        const transport: TransportContext = {
          binding: 'mqtt',
          remoteAddress: '',
          secure: options.url.startsWith('mqtts:'),
          responseFormat: formatOfCodec(codec),
          ...(linkCse === undefined ? {} : { brokerCse: linkCse }),
          settle: answerSent.settle,
        };
        const response = await handle(request, transport);
        if (!withholdsResult(request, response)) await answer(kind, originator, format, response, request.fr, answerSent);
      } catch (err) {
        const rsc = err instanceof CseError ? err.rsc : RSC.INTERNAL_SERVER_ERROR;
        const message = err instanceof CseError ? err.message : 'internal server error';
        if (!(err instanceof CseError)) log.error({ err }, 'MQTT binding failure');
        await answer(kind, originator, format, { rsc, rqi, pc: { 'm2m:dbg': message } }, fromTopicId(originator), answerSent).catch(() => undefined);
      } finally {
        answerSent.sent();
      }
    })().catch((err: unknown) => log.error({ err }, 'MQTT message handling failed'));
  });

  return {
    get connected() {
      return client.connected;
    },
    request(target, primitive, timeoutMs) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          awaiting.delete(primitive.rqi);
          resolve({ rsc: 5103 });
        }, timeoutMs);
        // A CSE is addressed by its CSE-ID without the leading '/' [TS-0010 §6.4], an AE by its (SP-relative) AE-ID.
        const topicTarget = /^\/[^/]+$/.test(target) ? target.slice(1) : topicId(target);
        awaiting.set(primitive.rqi, {
          target: topicTarget,
          responder: localForm(target),
          vouched: options.cseLinks === true && options.url.startsWith('mqtts:') && /^\/[^/]+$/.test(target),
          done: (answer) => {
            clearTimeout(timer);
            awaiting.delete(primitive.rqi);
            resolve(answer);
          },
        });
        const doc = requestDocument(primitive);
        client.publishAsync(`/oneM2M/req/${options.cseId}/${topicTarget}/json`, JSON.stringify(doc), { qos: options.qos }).catch(() => {
          clearTimeout(timer);
          awaiting.delete(primitive.rqi);
          resolve({ rsc: 5103 });
        });
      });
    },
    async close() {
      await client.endAsync();
    },
  };
}
