// The MQTT binding [TS-0010]: the client and the CSE are both clients of a broker. Requests go to
// /oneM2M/req/<originator>/<CSE-ID>/<format> (an AE registration to /oneM2M/reg_req/…), answers come on
// /oneM2M/resp/<originator>/<CSE-ID>/<format> (/oneM2M/reg_resp/…). Requests of the CSE for the AE (notifications)
// arrive on /oneM2M/req/<CSE-ID>/<AE-ID>/<format> and are answered on /oneM2M/resp/<CSE-ID>/<AE-ID>/<format>.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { codecOf, type Format } from './codec.js';
import { ConnectionError, ProtocolError, TimeoutError } from './errors.js';
import { isRequestDocument, requestDocument, responseFromDocument } from './primitive.js';
import { PendingAnswers, tlsConnectionOptions, type IncomingRequestHandler, type TlsOptions, type Transport } from './transport.js';

export interface MqttTransportOptions {
  url: string;
  /** The CSE-ID of the CSE (with or without its leading '/'): it stands in every topic. */
  cseId: string;
  format: Format;
  clientId?: string;
  username?: string;
  password?: string;
  tls?: TlsOptions;
  connectTimeoutMs: number;
}

/** In topics a '/' of an ID is written ':' [TS-0010 §6.4]. */
const topicId = (id: string): string => id.replaceAll('/', ':');

export async function mqttTransport(options: MqttTransportOptions): Promise<Transport> {
  const codec = codecOf(options.format);
  const cse = topicId(options.cseId.replace(/^\//, ''));
  const connectOptions: IClientOptions = {
    clientId: options.clientId ?? `warden-client-${process.pid}-${Math.random().toString(36).slice(2, 10)}`,
    connectTimeout: options.connectTimeoutMs,
    reconnectPeriod: 1000,
    ...(options.username === undefined ? {} : { username: options.username, password: options.password }),
    ...(tlsConnectionOptions(options.tls) as IClientOptions),
  };
  const client: MqttClient = mqtt.connect(options.url, connectOptions);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new TimeoutError(options.connectTimeoutMs, `the MQTT connection to ${options.url}`)), options.connectTimeoutMs);
      client.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      client.once('error', (err) => {
        clearTimeout(timer);
        reject(new ConnectionError(`MQTT broker ${options.url}: ${err.message}`, (err as { code?: string }).code));
      });
    });
  } catch (err) {
    // A first connection that fails must not leave the client reconnecting in the background.
    await client.endAsync(true);
    throw err;
  }
  // Later connection problems show as timeouts of the requests they hold up; the client reconnects meanwhile.
  client.on('error', () => undefined);

  const bareCseId = options.cseId.replace(/^\//, '');
  /** The CSE-ID in its forms: SP-relative (/id-in), bare, or absolute (//sp/id-in). */
  const namesCse = (fr: string): boolean => fr === `/${bareCseId}` || fr === bareCseId || (fr.startsWith('//') && fr.split('/').length === 4 && fr.endsWith(`/${bareCseId}`));
  const pending = new PendingAnswers();
  const subscribed = new Set<string>();
  const listeners = new Map<string, IncomingRequestHandler>();
  const subscribe = async (topics: string[]): Promise<void> => {
    const fresh = topics.filter((t) => !subscribed.has(t));
    if (fresh.length === 0) return;
    await client.subscribeAsync(fresh, { qos: 1 });
    for (const t of fresh) subscribed.add(t);
  };

  client.on('message', (topic, payload) => {
    const parts = topic.split('/');
    const [, , kind, from, to, format] = parts;
    // Each message in the serialization its topic names (the CSE sends its own requests in JSON).
    const messageCodec = format === 'cbor' || format === 'json' ? codecOf(format) : undefined;
    let doc: unknown;
    try {
      doc = messageCodec?.decode(payload);
    } catch {
      doc = undefined;
    }
    if ((kind === 'resp' || kind === 'reg_resp') && to === cse) {
      const response = responseFromDocument(doc);
      const rqi = response?.rqi ?? (typeof doc === 'object' && doc !== null ? (doc as { rqi?: unknown }).rqi : undefined);
      if (!pending.has(rqi)) return; // not ours, or undecodable: the request it belongs to (if any) times out
      // Any broker client may publish on this topic: an answer that says it comes from another entity than the
      // CSE is ignored and the real one still awaited (a CSE's own decode errors may carry no fr at all).
      if (response?.fr !== undefined && !namesCse(response.fr)) return;
      if (response) pending.resolve(rqi, response);
      else pending.reject(rqi, new ProtocolError('the answer on the response topic is no oneM2M response (no rsc)'));
      return;
    }
    if (kind === 'req' && from === cse && to !== undefined) {
      const handler = listeners.get(to);
      if (!handler || !isRequestDocument(doc)) return;
      void handler(doc)
        .catch((): { rsc: number; pc?: unknown } => ({ rsc: 5000 }))
        .then(async (answer) => {
          const response = { rsc: answer.rsc, rqi: doc.rqi, to: typeof doc.fr === 'string' ? doc.fr : '', fr: to.replaceAll(':', '/'), rvi: '3', ...(answer.pc === undefined ? {} : { pc: answer.pc }) };
          await client.publishAsync(`/oneM2M/resp/${cse}/${to}/${format ?? 'json'}`, (messageCodec ?? codec).encode(response), { qos: 1 });
        })
        .catch(() => undefined);
    }
  });

  return {
    codec,
    async send(r, timeoutMs) {
      const originator = topicId(r.fr || 'C');
      // An AE registration goes on reg_req so that a CSE can tell it apart before the originator is known [TS-0010 §6.3].
      const registration = r.op === 1 && r.ty === 2;
      const kind = registration ? 'reg_req' : 'req';
      const answerTopic = `/oneM2M/${registration ? 'reg_resp' : 'resp'}/${originator}/${cse}/${options.format}`;
      const answered = pending.wait(r.rqi, timeoutMs, `request ${r.rqi} to ${r.to} over MQTT`);
      try {
        await subscribe([answerTopic]);
        await client.publishAsync(`/oneM2M/${kind}/${originator}/${cse}/${options.format}`, codec.encode(requestDocument(r)), { qos: 1 });
      } catch (err) {
        pending.reject(r.rqi, new ConnectionError(`MQTT publish failed: ${(err as Error).message}`));
      }
      return answered;
    },
    async listen(originator, handler) {
      const id = topicId(originator);
      listeners.set(id, handler);
      await subscribe([`/oneM2M/req/${cse}/${id}/+`]);
    },
    async close() {
      pending.rejectAll(new ConnectionError('the client was closed'));
      await client.endAsync();
    },
  };
}
