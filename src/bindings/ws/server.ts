// The WebSocket binding [TS-0020]: request and response primitives as messages on a connection opened with
// a oneM2M sub-protocol (oneM2M.R2.0.json, .cbor or .xml). Over TLS it shares the HTTPS credentials, and the
// client's certificate or PSK reaches the authenticate stage as on HTTPS.
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Logger } from '../../log/logger.js';
import { CseError } from '../../primitive/errors.js';
import { RSC } from '../../primitive/rsc.js';
import type { TransportContext } from '../../primitive/transport.js';
import { codecByName, decodeBody } from '../../serialization/codec.js';
import type { HttpBindingOptions, RequestHandler } from '../http/server.js';
import { peerCertificateOf, pskIdentities } from '../http/tls.js';
import { requestFromDocument, responseDocument } from '../primitiveContent.js';

export interface WsBindingOptions {
  host: string;
  port: number;
  maxFrameBytes: number;
  tls?: HttpBindingOptions['tls'];
}

export interface RunningWsBinding {
  readonly port: number;
  close(): Promise<void>;
}

const PROTOCOLS: Record<string, string> = { 'oneM2M.R2.0.json': 'json', 'oneM2M.R2.0.cbor': 'cbor', 'oneM2M.R2.0.xml': 'xml' };

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
    // Refused in the handshake (HTTP 400) rather than accepted and closed.
    verifyClient: (info: { req: IncomingMessage }) =>
      String(info.req.headers['sec-websocket-protocol'] ?? '')
        .split(',')
        .some((p) => p.trim() in PROTOCOLS),
  });
  wss.on('connection', (socket: WebSocket, req: IncomingMessage) => {
    const codec = codecByName(PROTOCOLS[socket.protocol] ?? '');
    if (!codec) {
      socket.close(1002, 'a oneM2M sub-protocol is required');
      return;
    }
    const xml = codec.mediaType === 'application/xml';
    const transport: TransportContext = { binding: 'ws', remoteAddress: req.socket.remoteAddress ?? '', secure: tls !== undefined };
    if (tls) {
      const cert = peerCertificateOf(req.socket as TLSSocket);
      if (cert) transport.peerCertificate = cert;
      const identity = pskIdentities.get(req.socket as TLSSocket);
      if (identity !== undefined) transport.pskIdentity = identity;
    }
    socket.on('message', (data: RawData) => {
      void (async () => {
        const payload = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
        let rqi = '';
        let to = '';
        try {
          const request = requestFromDocument(decodeBody(codec, payload));
          rqi = request.rqi;
          to = request.fr;
          const response = await handle(request, transport);
          socket.send(codec.encode(responseDocument(response, to, xml)));
        } catch (err) {
          const rsc = err instanceof CseError ? err.rsc : RSC.INTERNAL_SERVER_ERROR;
          if (!(err instanceof CseError)) log.error({ err }, 'WebSocket binding failure');
          socket.send(codec.encode(responseDocument({ rsc, rqi, pc: { 'm2m:dbg': err instanceof CseError ? err.message : 'internal server error' } }, to, xml)));
        }
      })();
    });
    socket.on('error', (err) => log.debug({ err: err.message }, 'WebSocket error'));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
