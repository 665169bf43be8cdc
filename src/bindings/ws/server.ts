// The WebSocket binding [TS-0020]: request and response primitives as messages on a connection opened with
// a oneM2M sub-protocol (oneM2M.json, .cbor or .xml, or their Release 2 names oneM2M.R2.0.*). Over TLS it shares the HTTPS credentials, and the
// client's certificate or PSK reaches the authenticate stage as on HTTPS.
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { Server as HttpsServer, createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { SecureContextOptions, TLSSocket } from 'node:tls';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Logger } from '../../log/logger.js';
import { CseError } from '../../primitive/errors.js';
import { RSC } from '../../primitive/rsc.js';
import type { TransportContext } from '../../primitive/transport.js';
import { codecByName, decodeBody, type Codec, formatOfCodec } from '../../serialization/codec.js';
import type { HttpBindingOptions, RequestHandler } from '../http/server.js';
import { peerCertificateOf, pskIdentities } from '../http/tls.js';
import { hostAllowed, originAllowed } from '../browserGuard.js';
import { whenAnswerSent } from '../answerSent.js';
import { answerRqi, requestFromDocument, rscOf, responseDocument, unwrapPrimitive } from '../primitiveContent.js';
import type { RequestPrimitive } from '../../primitive/request.js';
import { withholdsResult } from '../../primitive/response.js';

export interface WsBindingOptions {
  host: string;
  port: number;
  /** Host-header names served besides IP literals and localhost (http.allowedHosts, the same DNS-rebinding guard). */
  allowedHosts: readonly string[];
  /** Origins whose pages may open a connection (`ws.allowedOrigins`); a handshake with any other Origin is refused. */
  allowedOrigins: readonly string[];
  maxFrameBytes: number;
  tls?: HttpBindingOptions['tls'];
}

export interface RunningWsBinding {
  readonly port: number;
  /**
   * Sends a request primitive to an AE over the connection it opened [TS-0020 §6.3]: how notifications
   * reach AEs that talk WebSocket. 5103 when the AE has no open connection or does not answer in time.
   */
  request(originator: string, primitive: RequestPrimitive, timeoutMs: number): Promise<{ rsc: number; body?: unknown }>;
  /** Drops the association of a deregistered AE: the next holder of its AE-ID must register or prove itself. */
  forget(originator: string): void;
  /** WSS: replaces certificate, key, trust anchors and CRL for new handshakes, as on HTTPS; open connections keep theirs. */
  setSecureContext(context: SecureContextOptions): void;
  close(): Promise<void>;
}

/** Unsent answers on one connection past which it is not read until they drain. */
const WS_HIGH_WATER = 8 * 1_048_576;
/**
 * Requests of one connection being handled or answered but not yet written out, past which it is not read: the
 * high-water mark alone let every request read before it was passed add its answer (a client that read nothing
 * held 220 MB per connection with 400 reads of a 500 kB instance).
 */
const WS_MAX_IN_PROGRESS = 32;

/**
 * Sub-protocol → serialization. TS-0020 V3 names them oneM2M.json / .cbor / .xml [TS-0020 table 6.2.2.9-1]; the
 * Release 2 names (oneM2M.R2.0.*) stay accepted for older clients.
 */
const PROTOCOLS: Record<string, string> = {
  'oneM2M.json': 'json',
  'oneM2M.cbor': 'cbor',
  'oneM2M.xml': 'xml',
  'oneM2M.R2.0.json': 'json',
  'oneM2M.R2.0.cbor': 'cbor',
  'oneM2M.R2.0.xml': 'xml',
};

export async function startWsBinding(handle: RequestHandler, options: WsBindingOptions, log: Logger): Promise<RunningWsBinding> {
  const tls = options.tls;
  const server: Server = tls
    ? createHttpsServer({
        ...tls.context,
        requestCert: tls.requestCert,
        rejectUnauthorized: false,
        ...(tls.pskKey
          ? {
              pskCallback: (socket: TLSSocket, identity: string): Buffer | null => {
                const key = tls.pskKey?.(identity);
                if (!key) return null;
                pskIdentities.set(socket, identity);
                return key;
              },
            }
          : {}),
      })
    : createHttpServer();
  const wss = new WebSocketServer({
    server,
    maxPayload: options.maxFrameBytes,
    // Only the oneM2M sub-protocols: the serialization is fixed for the connection [TS-0020 §6.1].
    handleProtocols: (protocols) => [...protocols].find((p) => p in PROTOCOLS) ?? false,
    // Refused in the handshake rather than accepted and closed.
    verifyClient: (info: { req: IncomingMessage }, answer: (accepted: boolean, status?: number, reason?: string) => void) => {
      const headers = info.req.headers;
      const origin = headers.origin;
      if (!String(headers['sec-websocket-protocol'] ?? '').split(',').some((p) => p.trim() in PROTOCOLS)) return answer(false, 400, 'a oneM2M sub-protocol is required');
      if (!hostAllowed(headers.host, options.allowedHosts)) return answer(false, 400, 'this host name is not served here (see http.allowedHosts)');
      if (!originAllowed(origin, options.allowedOrigins)) {
        log.warn({ event: 'ws-origin-refused', origin: String(origin).slice(0, 200), remoteAddress: info.req.socket.remoteAddress }, 'WebSocket handshake from a web page of an origin not allowed');
        return answer(false, 403, 'connections opened by web pages of this origin are not allowed (see ws.allowedOrigins)');
      }
      answer(true);
    },
  });
  // The connection each AE last registered on or proved itself on, and answers awaited on them.
  const connections = new Map<string, { socket: WebSocket; codec: Codec; xml: boolean }>();
  const awaiting = new Map<string, { socket: WebSocket; done: (answer: { rsc: number; body?: unknown }) => void }>();
  wss.on('connection', (socket: WebSocket, req: IncomingMessage) => {
    const codec = codecByName(PROTOCOLS[socket.protocol] ?? '');
    if (!codec) {
      socket.close(1002, 'a oneM2M sub-protocol is required');
      return;
    }
    const xml = codec.mediaType === 'application/xml';
    const transport: TransportContext = { binding: 'ws', remoteAddress: req.socket.remoteAddress ?? '', secure: tls !== undefined, responseFormat: formatOfCodec(codec) };
    if (tls) {
      const cert = peerCertificateOf(req.socket as TLSSocket);
      if (cert) transport.peerCertificate = cert;
      const identity = pskIdentities.get(req.socket as TLSSocket);
      if (identity !== undefined) transport.pskIdentity = identity;
    }
    // A client that sends requests and reads no answers would have them pile up in this process (thousands of large
    // answers: gigabytes, every binding stalled). Past WS_HIGH_WATER of unsent answers the connection is not read
    // until they drain, so TCP holds the client back (RFC 6455 §10.4: limit what one connection may consume).
    // Past WS_MAX_IN_PROGRESS requests, those read wait in arrival order (as the bytes they came in: a TCP read
    // holds many small requests, all read before a pause takes effect) and the connection is not read; it is read
    // again once both bounds allow.
    let inProgress = 0;
    const queued: RawData[] = [];
    let awaitingDrain = false;
    const raw = (socket as unknown as { _socket?: NodeJS.EventEmitter })._socket;
    const resumeIfRoom = (): void => {
      if (!socket.isPaused || socket.readyState !== WebSocket.OPEN || inProgress >= WS_MAX_IN_PROGRESS || queued.length > 0) return;
      if (socket.bufferedAmount <= WS_HIGH_WATER) {
        socket.resume();
        return;
      }
      if (awaitingDrain) return;
      awaitingDrain = true;
      raw?.once('drain', () => {
        awaitingDrain = false;
        resumeIfRoom();
      });
    };
    const pauseReading = (reason: string): void => {
      if (socket.isPaused) return;
      socket.pause();
      log.warn({ event: 'ws-read-paused', reason, remoteAddress: transport.remoteAddress, unsentBytes: socket.bufferedAmount, inProgress }, 'WebSocket connection not read until its answers drain');
      resumeIfRoom();
    };
    const requestDone = (): void => {
      inProgress--;
      const next = queued.shift();
      if (next !== undefined && socket.readyState === WebSocket.OPEN) handleMessage(next);
      else resumeIfRoom();
    };
    /** `done` once the answer is written out (or the connection is gone). */
    const answerWith = (bytes: Buffer, done: () => void): void => {
      socket.send(bytes, done);
      if (socket.bufferedAmount > WS_HIGH_WATER) pauseReading('unsent answers');
    };
    socket.on('message', (data: RawData) => {
      if (inProgress < WS_MAX_IN_PROGRESS) {
        handleMessage(data);
        return;
      }
      queued.push(data);
      pauseReading('requests in progress');
    });
    const handleMessage = (data: RawData): void => {
      inProgress++;
      const answerSent = whenAnswerSent();
      // The request is done, and gives back its in-flight places, once its answer has left: an originator's answers
      // waiting on all its connections count against its quota.inFlight.
      const done = (): void => {
        answerSent.sent();
        requestDone();
      };
      void (async () => {
        const payload = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
        let rqi = '';
        let to = '';
        try {
          const decoded = decodeBody(codec, payload);
          const answer = unwrapPrimitive(decoded, 'm2m:rsp') as Record<string, unknown> | undefined;
          // An answer to a request this CSE sent down the connection (it has rsc and no op).
          if (answer && typeof answer === 'object' && 'rsc' in answer && !('op' in answer)) {
            // Only the connection the request went down may answer it.
            const answered = answerRqi(answer);
            const waiting = answered === undefined ? undefined : awaiting.get(answered);
            if (waiting?.socket === socket) waiting.done({ rsc: rscOf(answer.rsc) ?? 5103, body: answer.pc });
            done();
            return;
          }
          const request = requestFromDocument(decoded);
          rqi = request.rqi;
          to = request.fr;
          const response = await handle(request, { ...transport, settle: answerSent.settle });
          // Only a successful registration on this connection, or an originator its credential proved, makes it
          // the way to reach that AE [TS-0020]: a From that merely answered 2000 (or 1001) is only a claim.
          if (response.connectionOriginator !== undefined) connections.set(response.connectionOriginator, { socket, codec, xml });
          if (!withholdsResult(request, response)) answerWith(codec.encode(responseDocument(response, to, xml)), done);
          else done();
        } catch (err) {
          const rsc = err instanceof CseError ? err.rsc : RSC.INTERNAL_SERVER_ERROR;
          if (!(err instanceof CseError)) log.error({ err }, 'WebSocket binding failure');
          answerWith(codec.encode(responseDocument({ rsc, rqi, pc: { 'm2m:dbg': err instanceof CseError ? err.message : 'internal server error' } }, to, xml)), done);
        }
      })().catch((err: unknown) => {
        // Only an answer that could not be encoded gets here: the request is done, unanswered.
        done();
        log.error({ err }, 'WebSocket message handling failed');
      });
    };
    socket.on('error', (err) => log.debug({ err: err.message }, 'WebSocket error'));
    socket.on('close', () => {
      for (const [id, c] of connections) if (c.socket === socket) connections.delete(id);
    });
  });
  // The WebSocketServer re-emits its HTTP server's errors: without a listener a port in use would crash the
  // process with an unhandled 'error' event instead of failing start-up like the HTTP binding.
  wss.on('error', (err: Error) => log.error({ err: err.message }, 'WebSocket server error'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: Error) => reject(new Error(`the WebSocket binding cannot listen on ${options.host}:${options.port} (ws.port): ${err.message}`)));
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    request(originator, primitive, timeoutMs) {
      return new Promise((resolve) => {
        const c = connections.get(originator);
        if (!c || c.socket.readyState !== c.socket.OPEN) {
          resolve({ rsc: 5103 });
          return;
        }
        const timer = setTimeout(() => {
          awaiting.delete(primitive.rqi);
          resolve({ rsc: 5103 });
        }, timeoutMs);
        awaiting.set(primitive.rqi, {
          socket: c.socket,
          done: (answer) => {
            clearTimeout(timer);
            awaiting.delete(primitive.rqi);
            resolve(answer);
          },
        });
        const doc = { op: primitive.op, to: primitive.to, fr: primitive.fr, rqi: primitive.rqi, rvi: primitive.rvi ?? '3', ...(primitive.pc === undefined ? {} : { pc: primitive.pc }) };
        c.socket.send(c.codec.encode(c.xml ? { 'm2m:rqp': doc } : doc));
      });
    },
    forget(originator) {
      connections.delete(originator);
    },
    setSecureContext(context) {
      if (server instanceof HttpsServer) server.setSecureContext(context);
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
