// One way to send a request primitive over each binding and serialization, for the cross-binding tests.
import coap from 'coap';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { codecByName, type Codec } from '../src/serialization/codec.js';
import { unwrapPrimitive } from '../src/bindings/primitiveContent.js';

export interface Primitive {
  op: number;
  to: string;
  fr: string;
  rqi: string;
  ty?: number;
  pc?: unknown;
  rcn?: number;
  /** Result expiration timestamp, sent as X-M2M-RST / CoAP option 295 / rset. */
  rset?: string;
  /** Tokens (HTTP Authorization, CoAP Uri-Query tkns, tkns in the MQTT / WebSocket primitive) and Local-Token-IDs. */
  tkns?: string[];
  ltids?: string[];
}

export interface Answer {
  rsc: number;
  pc?: Record<string, unknown>;
  /** Originating timestamp and echoed result expiration timestamp of the response, when it carries them. */
  ot?: string;
  rset?: string;
  /** Assigned Token Identifiers as lti:tkid pairs (X-M2M-ATI, CoAP option 327, ati in the primitive). */
  ati?: string[];
}

/** The response's ot and rset, where the binding carried them. */
function timestamps(ot: unknown, rset: unknown): Pick<Answer, 'ot' | 'rset'> {
  return { ...(typeof ot === 'string' ? { ot } : {}), ...(typeof rset === 'string' ? { rset } : {}) };
}

export interface PrimitiveClient {
  send(request: Primitive): Promise<Answer>;
  close(): Promise<void>;
}

export type Format = 'json' | 'cbor' | 'xml';
const MEDIA: Record<Format, string> = { json: 'application/json', cbor: 'application/cbor', xml: 'application/xml' };

function codec(format: Format): Codec {
  return codecByName(format) as Codec;
}

export function httpClient(base: string, format: Format): PrimitiveClient {
  const c = codec(format);
  return {
    async send(r) {
      const method = ({ 1: 'POST', 2: 'GET', 3: 'PUT', 4: 'DELETE', 5: 'POST' } as Record<number, string>)[r.op] ?? 'GET';
      const headers: Record<string, string> = { 'X-M2M-Origin': r.fr, 'X-M2M-RI': r.rqi, 'X-M2M-RVI': '3', Accept: MEDIA[format] };
      if (r.pc !== undefined) headers['Content-Type'] = r.ty === undefined ? MEDIA[format] : `${MEDIA[format]};ty=${r.ty}`;
      if (r.rset !== undefined) headers['X-M2M-RST'] = r.rset;
      if (r.tkns) headers.Authorization = r.tkns.join('+');
      const params = new URLSearchParams();
      if (r.rcn !== undefined) params.set('rcn', String(r.rcn));
      if (r.ltids) params.set('ltids', r.ltids.join(' '));
      const query = params.size === 0 ? '' : `?${params.toString()}`;
      const res = await fetch(`${base}/${r.to}${query}`, { method, headers, ...(r.pc === undefined ? {} : { body: c.encode(r.pc) }) });
      const body = Buffer.from(await res.arrayBuffer());
      const ati = res.headers.get('x-m2m-ati');
      return {
        rsc: Number(res.headers.get('x-m2m-rsc')),
        ...(body.length ? { pc: c.decode(body) as Record<string, unknown> } : {}),
        ...timestamps(res.headers.get('x-m2m-ot'), res.headers.get('x-m2m-rst')),
        ...(ati ? { ati: ati.split('+') } : {}),
      };
    },
    close: () => Promise.resolve(),
  };
}

/** Resolves the waiting request that an answer (a response primitive, wrapped or not) belongs to. */
function settle(pending: Map<string, (a: Answer) => void>, c: Codec, payload: Buffer): void {
  const doc = unwrapPrimitive(c.decode(payload), 'm2m:rsp') as Record<string, unknown>;
  const done = pending.get(String(doc.rqi));
  if (!done) return;
  pending.delete(String(doc.rqi));
  const ltia = (doc.ati as { ltia?: Array<{ lti: string; tkid: string }> } | undefined)?.ltia;
  done({ rsc: Number(doc.rsc), ...(doc.pc === undefined ? {} : { pc: doc.pc as Record<string, unknown> }), ...timestamps(doc.ot, doc.rset), ...(ltia ? { ati: ltia.map((a) => `${a.lti}:${a.tkid}`) } : {}) });
}

export async function mqttClient(url: string, cseId: string, format: Format, originator: string): Promise<PrimitiveClient> {
  const c = codec(format);
  const client = await mqtt.connectAsync(url, { clientId: `test-${originator}-${Math.random().toString(36).slice(2, 8)}` });
  const pending = new Map<string, (a: Answer) => void>();
  const id = originator.replaceAll('/', ':');
  await client.subscribeAsync([`/oneM2M/resp/${id}/${cseId}/${format}`, `/oneM2M/reg_resp/${id}/${cseId}/${format}`], { qos: 1 });
  client.on('message', (_topic, payload) => settle(pending, c, payload));
  return {
    send(r) {
      const kind = r.op === 1 && r.ty === 2 ? 'reg_req' : 'req';
      return new Promise((resolve, reject) => {
        pending.set(r.rqi, resolve);
        setTimeout(() => reject(new Error(`no MQTT answer to ${r.rqi}`)), 5000).unref();
        void client.publishAsync(`/oneM2M/${kind}/${id}/${cseId}/${format}`, c.encode(format === 'xml' ? { 'm2m:rqp': { ...r, rvi: '3' } } : { ...r, rvi: '3' }), { qos: 1 });
      });
    },
    async close() {
      await client.endAsync();
    },
  };
}

/** `protocol`: the sub-protocol asked for; by default the Release 2 name (TS-0020 V3 names it oneM2M.<format>). */
export async function wsClient(url: string, format: Format, protocol = `oneM2M.R2.0.${format}`): Promise<PrimitiveClient> {
  const c = codec(format);
  const socket = new WebSocket(url, [protocol]);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const pending = new Map<string, (a: Answer) => void>();
  socket.on('message', (data: Buffer) => settle(pending, c, Buffer.from(data)));
  return {
    send(r) {
      return new Promise((resolve, reject) => {
        pending.set(r.rqi, resolve);
        setTimeout(() => reject(new Error(`no WebSocket answer to ${r.rqi}`)), 5000).unref();
        socket.send(c.encode(format === 'xml' ? { 'm2m:rqp': { ...r, rvi: '3' } } : { ...r, rvi: '3' }));
      });
    },
    close() {
      socket.close();
      return Promise.resolve();
    },
  };
}

const COAP_FORMATS: Record<Format, number> = { json: 50, cbor: 60, xml: 41 };

/** CoAP requests (the server registered the oneM2M option numbers in this process). */
export function coapClient(port: number, format: Format): PrimitiveClient {
  const c = codec(format);
  return {
    send(r) {
      return new Promise((resolve, reject) => {
        const method = ({ 1: 'POST', 2: 'GET', 3: 'PUT', 4: 'DELETE', 5: 'POST' } as Record<number, string>)[r.op] ?? 'GET';
        const params = new URLSearchParams();
        if (r.rcn !== undefined) params.set('rcn', String(r.rcn));
        if (r.tkns) params.set('tkns', r.tkns.join(' '));
        if (r.ltids) params.set('ltids', r.ltids.join(' '));
        const req = coap.request({ hostname: '127.0.0.1', port, method: method as 'GET', pathname: `/${r.to}`, ...(params.size === 0 ? {} : { query: params.toString() }), confirmable: true });
        req.setOption('279', r.fr);
        req.setOption('283', r.rqi);
        req.setOption('271', '3');
        if (r.ty !== undefined) req.setOption('267', r.ty);
        if (r.rset !== undefined) req.setOption('295', r.rset);
        req.setOption('Accept', COAP_FORMATS[format]);
        if (r.pc !== undefined) req.setOption('Content-Format', COAP_FORMATS[format]);
        req.on('response', (res: { headers: Record<string, unknown>; payload: Buffer }) => {
          const rsc = Number(res.headers['307']);
          const ati = res.headers['327'];
          resolve({
            rsc,
            ...(res.payload.length ? { pc: c.decode(res.payload) as Record<string, unknown> } : {}),
            ...timestamps(res.headers['259'], res.headers['295']),
            ...(typeof ati === 'string' ? { ati: ati.split('+') } : {}),
          });
        });
        req.on('error', reject);
        req.end(r.pc === undefined ? undefined : c.encode(r.pc));
      });
    },
    close: () => Promise.resolve(),
  };
}
