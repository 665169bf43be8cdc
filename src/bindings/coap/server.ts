// The CoAP binding [TS-0008]: methods and the oneM2M options translate to the same request primitive as
// HTTP (the target and query use the HTTP binding's mapping, which TS-0008 shares); RSCs map to CoAP codes
// through the one status table. Plain UDP only: no maintained DTLS server exists for Node (see README).
import coap, { type IncomingMessage, type OutgoingMessage } from 'coap';
import { generate } from 'coap-packet';
import type { RemoteInfo } from 'node:dgram';
import { isIPv6, type AddressInfo } from 'node:net';
import type { Logger } from '../../log/logger.js';
import { CseError } from '../../primitive/errors.js';
import type { ResponsePrimitive } from '../../primitive/response.js';
import type { RequestPrimitive } from '../../primitive/request.js';
import { RSC, coapCodeOf } from '../../primitive/rsc.js';
import type { TransportContext } from '../../primitive/transport.js';
import { codecForAccept, codecForContentType, type Codec, formatOfCodec } from '../../serialization/codec.js';
import { jsonCodec } from '../../serialization/json.js';
import { decodeHttpRequest } from '../http/decode.js';
import { rscOf } from '../primitiveContent.js';
import { readUint, uint } from './uint.js';
import { BLOCKWISE_LIMITS, boundBlock2Cache, keepBlock2Options, lastBlock1Of, reassembleBlock1, releaseAnswerBodies, type CoapDatagramHandler } from './blockwise.js';
import type { RequestHandler } from '../http/server.js';

/** oneM2M CoAP options [TS-0008 table 6.2.2.4-1], with the request header each stands for. */
const STRING_OPTIONS: Record<string, string> = {
  '259': 'x-m2m-ot',
  '263': 'x-m2m-rtu',
  '271': 'x-m2m-rvi',
  '279': 'x-m2m-origin',
  '283': 'x-m2m-ri',
  '291': 'x-m2m-ret',
  '295': 'x-m2m-rst',
  '299': 'x-m2m-oet',
  '311': 'x-m2m-gid',
  '331': 'x-m2m-vsi',
  // oneM2M-ATI, a response option (Assigned Token Identifiers) [TS-0008 §6.2.2.4.15]; registered for encoding.
  '327': 'x-m2m-ati',
};
const UINT_OPTIONS = { ty: '267', ec: '303', rsc: '307', cto: '319', cts: '323' } as const;

/** Content-Format numbers [RFC 7252, TS-0008 table 6.2.2.2-1] → media types the codecs know. */
const FORMATS: Record<number, string> = {
  41: 'application/xml',
  50: 'application/json',
  60: 'application/cbor',
  10001: 'application/vnd.onem2m-res+json',
  10003: 'application/vnd.onem2m-ntfy+json',
  10010: 'application/vnd.onem2m-res+cbor',
  10011: 'application/vnd.onem2m-ntfy+cbor',
  10014: 'application/vnd.onem2m-res+xml',
  10002: 'application/vnd.onem2m-ntfy+xml',
};
const FORMAT_NUMBERS: Record<string, number> = { 'application/json': 50, 'application/cbor': 60, 'application/xml': 41 };


let registered = false;
function registerOptions(): void {
  if (registered) return;
  registered = true;
  for (const number of Object.keys(STRING_OPTIONS)) coap.registerOption(number, (v: unknown) => Buffer.from(String(v)), (b: Buffer) => b.toString('utf8'));
  for (const number of Object.values(UINT_OPTIONS)) coap.registerOption(number, (v: unknown) => uint(Number(v)), readUint);
  // node-coap's own table gives 10001/10002 to other formats; oneM2M's meaning wins here.
  for (const [number, name] of Object.entries(FORMATS)) coap.registerFormat(name, Number(number));
}

/** Option numbers node-coap reports by name [RFC 7252 §12.2, RFC 7959, RFC 7641, RFC 8768 …]. */
const OPTION_NUMBERS: Record<string, number> = {
  'If-Match': 1,
  'Uri-Host': 3,
  ETag: 4,
  'If-None-Match': 5,
  Observe: 6,
  'Uri-Port': 7,
  'Location-Path': 8,
  OSCORE: 9,
  'Uri-Path': 11,
  'Content-Format': 12,
  'Max-Age': 14,
  'Uri-Query': 15,
  'Hop-Limit': 16,
  Accept: 17,
  'Q-Block1': 19,
  'Location-Query': 20,
  Block2: 23,
  Block1: 27,
  Size2: 28,
  'Q-Block2': 31,
  'Proxy-Uri': 35,
  'Proxy-Scheme': 39,
  Size1: 60,
  'No-Response': 258,
  'OCF-Accept-Content-Format-Version': 2049,
  'OCF-Content-Format-Version': 2053,
};
/**
 * Critical options this binding acts on: the target (Uri-Host/Port/Path/Query), Accept, block-wise transfer
 * (Block1 in blockwise.ts, Block2 in node-coap) and the oneM2M options. Any other critical (odd-numbered) option asks for something Warden does
 * not do — a precondition, a proxy, OSCORE — so the request is refused rather than carried out without it.
 */
const UNDERSTOOD_CRITICAL = new Set([3, 7, 11, 15, 17, 23, 27, ...Object.keys(STRING_OPTIONS).map(Number), ...Object.values(UINT_OPTIONS).map(Number)]);

/** The first critical option of a request that this binding does not understand [RFC 7252 §5.4.1]. */
function unknownCriticalOption(options: ReadonlyArray<{ name: unknown }> | undefined): number | undefined {
  for (const option of options ?? []) {
    const number = typeof option.name === 'string' ? (OPTION_NUMBERS[option.name] ?? (/^\d+$/.test(option.name) ? Number(option.name) : Number.NaN)) : Number.NaN;
    // A name node-coap knows and this table does not: its number is unknown, so it cannot be judged elective.
    if (Number.isNaN(number)) return -1;
    if (number % 2 === 1 && !UNDERSTOOD_CRITICAL.has(number)) return number;
  }
  return undefined;
}

export interface CoapBindingOptions {
  host: string;
  port: number;
  maxQueryParameters: number;
  maxBodyBytes: number;
}

export interface RunningCoapBinding {
  readonly port: number;
  close(): Promise<void>;
}

function formatName(value: unknown): string | undefined {
  if (typeof value === 'number') return FORMATS[value];
  if (typeof value === 'string') return value;
  return undefined;
}

/**
 * The request's target as the HTTP decoding reads it. RFC 7252 §6.5: each Uri-Path option is one segment, its value
 * taken literally ('/', '?' and '%' in it are characters of the name, percent-encoded when a URI is built from it);
 * node-coap's req.url joins the values as they are, which made `b%6fx` read as `box` and `box?rcn=4` one segment and a
 * query. Each segment is encoded here, so the shared decoding gets back exactly the option's value. Uri-Query options
 * stay as node-coap joins them: a client writes `ty=4` as it would in a URI's query.
 */
function targetOf(req: IncomingMessage): string {
  const segments: string[] = [];
  const queries: string[] = [];
  // node-coap has replaced each option's bytes by its decoded value in place (a string for these two).
  for (const option of (req._packet.options ?? []) as ReadonlyArray<{ name: unknown; value: unknown }>) {
    if (option.name !== 'Uri-Path' && option.name !== 'Uri-Query') continue;
    const value = Buffer.isBuffer(option.value) ? option.value.toString('utf8') : String(option.value);
    if (option.name === 'Uri-Path') segments.push(encodeURIComponent(value));
    else queries.push(value);
  }
  return `/${segments.join('/')}${queries.length > 0 ? `?${queries.join('&')}` : ''}`;
}

/**
 * Tokens travel in the Uri-Query on CoAP (tkns) [TS-0008 §6.2.2.3], on HTTP in the Authorization header: taken out
 * of the query and handed to the shared decoding as that header (tokens joined by '+', TS-0009 §6.4.19), so that
 * both bindings check them the same way. The CoAP request's own headers never carry Authorization.
 */
function tokensFromQuery(url: string, headers: Record<string, string>): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const query = new URLSearchParams(url.slice(at + 1));
  const tkns = query.getAll('tkns');
  if (tkns.length === 0) return url;
  query.delete('tkns');
  headers.authorization = tkns.flatMap((v) => v.split(/[ +]/)).filter((v) => v !== '').join('+');
  const rest = query.toString();
  return rest === '' ? url.slice(0, at) : `${url.slice(0, at)}?${rest}`;
}

/**
 * The longest request identifier echoed in an answer: what the pipeline accepts (checkPrimitive). A longer one was
 * refused and is not echoed — it alone could exceed the one datagram an answer's options must fit in (node-coap then
 * throws while writing the answer).
 */
const MAX_ECHOED_RQI = 256;

function echoableRqi(rqi: unknown): string | undefined {
  return typeof rqi === 'string' && rqi !== '' && rqi.length <= MAX_ECHOED_RQI ? rqi : undefined;
}

function reply(res: OutgoingMessage, response: ResponsePrimitive, codec: Codec): void {
  const code = coapCodeOf(response.rsc);
  res.code = `${Math.floor(code / 100)}.${String(code % 100).padStart(2, '0')}`;
  // Several RSCs share one CoAP code: the RSC option is always sent [TS-0008 §6.2.4].
  res.setOption(UINT_OPTIONS.rsc, response.rsc);
  const rqi = echoableRqi(response.rqi);
  if (rqi) res.setOption('283', rqi);
  if (response.rvi) res.setOption('271', response.rvi);
  if (response.ot) res.setOption('259', response.ot);
  if (response.rset) res.setOption('295', response.rset);
  if (response.cnst !== undefined) res.setOption(UINT_OPTIONS.cts, response.cnst);
  if (response.cnot !== undefined) res.setOption(UINT_OPTIONS.cto, response.cnot);
  if (response.ati) res.setOption('327', response.ati.ltia.map((a) => `${a.lti}:${a.tkid}`).join('+'));
  if (response.location) res.setOption('Location-Path', response.location.split('/').map((s) => Buffer.from(s)));
  // 4.29 Too Many Requests says when to come back in Max-Age [RFC 8516 §3].
  if (response.retryAfter !== undefined) res.setOption('Max-Age', response.retryAfter);
  if (response.pc !== undefined) {
    res.setOption('Content-Format', FORMAT_NUMBERS[codec.mediaType] ?? 50);
    res.end(codec.encode(response.pc));
  } else res.end();
}

/**
 * Warden keeps no observers: a request's Observe option is taken away before node-coap sees it, so the request is an
 * ordinary one and its answer carries no Observe option, as RFC 7641 §4.1 lets a server that does not add the client
 * to its observers answer. node-coap otherwise answered through an observe stream, which cannot send an answer longer
 * than one datagram block-wise: such a GET got no answer at all and was carried out again at every retry.
 */
function ignoreObserve(server: CoapDatagramHandler): void {
  const handle = server._handle.bind(server);
  server._handle = (packet, rsinfo) => {
    if (packet.code.startsWith('0.') && !packet.ack && !packet.reset) packet.options = packet.options.filter((o) => o.name !== 'Observe');
    handle(packet, rsinfo);
  };
}

/** What node-coap keeps private and Warden replaces: how it answers a message it could not parse (besides blockwise.ts's). */
interface CoapServerInternals extends CoapDatagramHandler {
  _sendError: (payload: Buffer, rsinfo: RemoteInfo, packet?: { messageId?: number; token?: Buffer }, code?: string) => void;
}

/**
 * node-coap answers a datagram it cannot parse, and an exception thrown while it hands a request over, with 5.00 and
 * the exception's own words ("Attempt to access memory outside buffer bounds"), sent to the sender's port on localhost
 * rather than to the sender. Warden drops a datagram that is no CoAP message: RFC 7252 §4.2/§4.3 reject a message
 * with a format error by a Reset, which needs the message ID it could not read, or by ignoring it — and an answer to
 * one byte from a forged source address would make the CSE a reflector. Anything else the library refuses is answered
 * to the sender itself, with the library's fixed text, or "internal server error" for an exception.
 */
function answerMalformedMessages(server: CoapServerInternals): void {
  server._sendError = (payload, rsinfo, packet, code = '5.00') => {
    const sock = server._sock;
    if (!sock || !packet) return;
    const message = generate({
      code,
      payload: code === '5.00' ? Buffer.from('internal server error') : payload,
      ...(packet.messageId !== undefined ? { messageId: packet.messageId } : {}),
      ...(packet.token !== undefined ? { token: packet.token } : {}),
    });
    sock.send(message, rsinfo.port, rsinfo.address);
  };
}

export async function startCoapBinding(handle: RequestHandler, options: CoapBindingOptions, log: Logger): Promise<RunningCoapBinding> {
  registerOptions();
  // Exclusive: with address reuse a second CSE on the same port would silently take the traffic (UDP).
  const server = coap.createServer({ type: options.host.includes(':') ? 'udp6' : 'udp4', reuseAddr: false });
  const blockwise = server as unknown as CoapServerInternals;
  answerMalformedMessages(blockwise);
  reassembleBlock1(blockwise, { ...BLOCKWISE_LIMITS, maxBodyBytes: options.maxBodyBytes });
  ignoreObserve(blockwise);
  boundBlock2Cache(blockwise);
  releaseAnswerBodies();
  server.on('request', (req: IncomingMessage, res: OutgoingMessage) => {
    // An answer that cannot be written (its options past one datagram) is an error event of the stream: without a
    // listener it would end the process.
    res.on('error', (err: Error) => log.warn({ err: err.message, remote: req.rsinfo.address }, 'CoAP answer could not be sent'));
    const lastBlock = lastBlock1Of(req);
    if (lastBlock) res.setOption('Block1', lastBlock);
    const critical = unknownCriticalOption((req as unknown as { options?: Array<{ name: unknown }> }).options);
    if (critical !== undefined) {
      // 4.02 Bad Option [RFC 7252 §5.4.1]; the request is not carried out. The RSC option says 4000.
      const rqi = echoableRqi((req.headers as unknown as Record<string, unknown>)['283']);
      res.code = '4.02';
      res.setOption(UINT_OPTIONS.rsc, RSC.BAD_REQUEST);
      if (rqi) res.setOption('283', rqi);
      res.setOption('Content-Format', 50);
      res.end(jsonCodec.encode({ 'm2m:dbg': critical < 0 ? 'the request carries a critical option this CSE cannot identify' : `critical option ${critical} is not supported` }));
      return;
    }
    void (async () => {
      // Registered oneM2M options appear by number; the library's types only list the standard names.
      const received = req.headers as unknown as Record<string, unknown>;
      const headers: Record<string, string> = {};
      for (const [number, header] of Object.entries(STRING_OPTIONS)) {
        const value = received[number];
        if (typeof value === 'string') headers[header] = value;
      }
      const ec = received[UINT_OPTIONS.ec];
      if (typeof ec === 'number') headers['x-m2m-ec'] = String(ec);
      const ty = received[UINT_OPTIONS.ty];
      const format = formatName(req.headers['Content-Format']);
      if (format) headers['content-type'] = typeof ty === 'number' ? `${format};ty=${ty}` : format;
      else if (typeof ty === 'number') headers['content-type'] = `application/json;ty=${ty}`;
      const accept = formatName(req.headers.Accept);
      let codec: Codec = jsonCodec;
      let answering = false;
      try {
        codec = codecForAccept(accept, format ? codecForContentType(format) : jsonCodec);
        if (req.payload.length > options.maxBodyBytes) throw new CseError(RSC.BAD_REQUEST, `the request content exceeds ${options.maxBodyBytes} bytes`);
        const primitive = decodeHttpRequest({ method: req.method, url: tokensFromQuery(targetOf(req), headers), body: req.payload, headers }, options.maxQueryParameters);
        const transport: TransportContext = { binding: 'coap', remoteAddress: req.rsinfo.address, secure: false, responseFormat: formatOfCodec(codec) };
        const response = await handle(primitive, transport);
        answering = true;
        reply(res, response, codec);
        keepBlock2Options(blockwise, res);
      } catch (err) {
        // The request was carried out and its answer could not be written: nothing more can be sent on this exchange.
        if (answering) {
          log.warn({ err: err instanceof Error ? err.message : String(err), remote: req.rsinfo.address }, 'CoAP answer could not be sent');
          return;
        }
        const rsc = err instanceof CseError ? err.rsc : RSC.INTERNAL_SERVER_ERROR;
        if (!(err instanceof CseError)) log.error({ err }, 'CoAP binding failure');
        reply(res, { rsc, rqi: headers['x-m2m-ri'] ?? '', pc: { 'm2m:dbg': err instanceof CseError ? err.message : 'internal server error' } }, codec);
        keepBlock2Options(blockwise, res);
      }
    })().catch((err: unknown) => log.error({ err }, 'CoAP request handling failed'));
  });
  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error): void => reject(new Error(`the CoAP binding cannot listen on ${options.host}:${options.port} (coap.port): ${err.message}`));
    server.once('error', failed);
    server.listen(options.port, options.host, (err?: Error) => {
      if (err) return failed(err);
      server.off('error', failed);
      server.on('error', (e: Error) => log.error({ err: e.message }, 'CoAP socket error'));
      resolve();
    });
  });
  const socket = (server as unknown as { _sock?: { address(): AddressInfo } })._sock;
  return {
    port: socket?.address().port ?? options.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Payload bytes an answer to a request this CSE sends over CoAP may bring, over all its blocks (as HTTP's 1 MiB). */
const MAX_OUTBOUND_ANSWER_BYTES = 1_048_576;

/** The part of node-coap's Agent that reads every datagram it receives (not in its type declarations). */
interface DatagramReadingAgent {
  _handle(packet: { payload?: Buffer }, rsinfo: unknown, outSocket: unknown): void;
}

/**
 * Sends a request primitive to a coap:// URL and waits for the RSC option of the answer (outbound route). Each
 * request has an agent (a socket) of its own, closed when the answer is taken, at the timeout, or when the answer's
 * blocks bring more than MAX_OUTBOUND_ANSWER_BYTES: node-coap asks for Block2 blocks for as long as the peer says
 * more follow and keeps all of them, so a hostile point of access answering "more" forever kept one notification
 * reading, and growing, without end (600 MB in 90 s), whatever the timeout said.
 */
export function sendCoap(url: URL, primitive: RequestPrimitive, timeoutMs: number): Promise<{ rsc: number; body?: unknown }> {
  registerOptions();
  return new Promise((resolve) => {
    const method = ({ 1: 'POST', 2: 'GET', 3: 'PUT', 4: 'DELETE', 5: 'POST' } as const)[primitive.op];
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    const agent = new coap.Agent({ type: isIPv6(hostname) ? 'udp6' : 'udp4' });
    let settled = false;
    const finish = (rsc: number): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ rsc });
      // Not at once: the answer is taken inside node-coap's handling of a datagram, which goes on to acknowledge it on
      // the socket; closed under it, that send threw ERR_SOCKET_DGRAM_NOT_RUNNING out of the event loop. Datagrams
      // that come after the answer are no longer handled (below), so nothing else writes to the socket.
      setImmediate(() => agent.close());
    };
    const timer = setTimeout(() => finish(RSC.TARGET_NOT_REACHABLE), timeoutMs);
    const reading = agent as unknown as DatagramReadingAgent;
    const handle = reading._handle.bind(agent);
    let received = 0;
    reading._handle = (packet, rsinfo, outSocket) => {
      received += packet.payload?.length ?? 0;
      if (received > MAX_OUTBOUND_ANSWER_BYTES) finish(RSC.TARGET_NOT_REACHABLE);
      else if (!settled) handle(packet, rsinfo, outSocket);
    };
    const req = coap.request({ hostname, port: Number(url.port || 5683), method, pathname: url.pathname, confirmable: true, agent });
    req.setOption('279', primitive.fr);
    req.setOption('283', primitive.rqi);
    req.setOption('271', primitive.rvi ?? '3');
    if (primitive.ty !== undefined) req.setOption(UINT_OPTIONS.ty, primitive.ty);
    if (primitive.pc !== undefined) req.setOption('Content-Format', 50);
    req.on('response', (res: { headers: Record<string, unknown>; payload: Buffer }) => finish(rscOf(res.headers[UINT_OPTIONS.rsc]) ?? RSC.TARGET_NOT_REACHABLE));
    req.on('error', () => finish(RSC.TARGET_NOT_REACHABLE));
    req.end(primitive.pc === undefined ? undefined : jsonCodec.encode(primitive.pc));
  });
}
