// The MQTT binding [TS-0010]: Warden is a client of a broker. Requests arrive on
// /oneM2M/req/<originator>/<this CSE-ID>/<json|cbor|xml> (registrations on /oneM2M/reg_req/…), whole request
// primitives as payloads; answers go to /oneM2M/resp/… (/oneM2M/reg_resp/…) in the same serialization.
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../../log/logger.js';
import { CseError } from '../../primitive/errors.js';
import type { ResponsePrimitive } from '../../primitive/response.js';
import { RSC } from '../../primitive/rsc.js';
import type { TransportContext } from '../../primitive/transport.js';
import { codecByName, decodeBody } from '../../serialization/codec.js';
import type { RequestHandler } from '../http/server.js';
import { requestFromDocument, responseDocument } from '../primitiveContent.js';

export interface MqttBindingOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  qos: 0 | 1 | 2;
  /** The CSE-ID without its leading slash, as it stands in topics. */
  cseId: string;
  maxMessageBytes: number;
}

export interface RunningMqttBinding {
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
  });
  client.on('error', (err) => log.warn({ event: 'mqtt-error', err: err.message }, 'MQTT connection problem'));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  const topics = [`/oneM2M/req/+/${options.cseId}/+`, `/oneM2M/reg_req/+/${options.cseId}/+`];
  await client.subscribeAsync(topics, { qos: options.qos });

  const answer = async (kind: string, originator: string, format: string, response: ResponsePrimitive, to: string): Promise<void> => {
    const codec = codecByName(format);
    if (!codec) return;
    const responseTopic = `/oneM2M/${kind === 'reg_req' ? 'reg_resp' : 'resp'}/${originator}/${options.cseId}/${format}`;
    await client.publishAsync(responseTopic, codec.encode(responseDocument(response, to, codec.mediaType === 'application/xml')), { qos: options.qos });
  };

  client.on('message', (topic, payload) => {
    void (async () => {
      const parts = topic.split('/');
      const [, , kind, originator, , format] = parts;
      if (parts.length !== 6 || !kind || !originator || !format) return;
      const codec = codecByName(format);
      if (!codec) {
        log.warn({ event: 'mqtt-bad-topic', topic }, 'unknown serialization in topic');
        return;
      }
      let rqi = '';
      try {
        if (payload.length > options.maxMessageBytes) throw new CseError(RSC.BAD_REQUEST, `the message exceeds ${options.maxMessageBytes} bytes`);
        const request = requestFromDocument(decodeBody(codec, payload));
        rqi = request.rqi;
        // The originator in the topic and in the primitive must agree [TS-0010 §6.4.2].
        if (request.fr !== '' && request.fr !== fromTopicId(originator)) {
          throw new CseError(RSC.BAD_REQUEST, `the topic names originator '${fromTopicId(originator)}' but the request says '${request.fr}'`);
        }
        if (request.fr === '' && kind !== 'reg_req') request.fr = fromTopicId(originator);
        const transport: TransportContext = { binding: 'mqtt', remoteAddress: '', secure: options.url.startsWith('mqtts:') };
        const response = await handle(request, transport);
        await answer(kind, originator, format, response, request.fr);
      } catch (err) {
        const rsc = err instanceof CseError ? err.rsc : RSC.INTERNAL_SERVER_ERROR;
        const message = err instanceof CseError ? err.message : 'internal server error';
        if (!(err instanceof CseError)) log.error({ err }, 'MQTT binding failure');
        await answer(kind, originator, format, { rsc, rqi, pc: { 'm2m:dbg': message } }, fromTopicId(originator)).catch(() => undefined);
      }
    })();
  });

  return {
    async close() {
      await client.endAsync();
    },
  };
}
