// The WebSocket binding [TS-0020]: one connection opened with the sub-protocol of its serialization
// (oneM2M.json / oneM2M.cbor); request and response primitives are messages, matched by request identifier.
// The CSE sends its requests for the AE (notifications) down the same connection once the AE registered on it.
import WebSocket, { type ClientOptions as WsOptions, type RawData } from 'ws';
import { codecOf, type Format } from './codec.js';
import { ConnectionError, ProtocolError, TimeoutError } from './errors.js';
import { isRequestDocument, requestDocument, responseFromDocument } from './primitive.js';
import { PendingAnswers, tlsConnectionOptions, type IncomingRequestHandler, type TlsOptions, type Transport } from './transport.js';

export interface WsTransportOptions {
  url: string;
  format: Format;
  tls?: TlsOptions;
  connectTimeoutMs: number;
  /** Largest message accepted from the CSE (default 16 MiB). */
  maxResponseBytes?: number;
}

export async function wsTransport(options: WsTransportOptions): Promise<Transport> {
  const codec = codecOf(options.format);
  const protocol = `oneM2M.${options.format}`;
  const socket = new WebSocket(options.url, [protocol], {
    // Our own timer below says TimeoutError first; ws's is only the backstop.
    handshakeTimeout: options.connectTimeoutMs + 1000,
    maxPayload: options.maxResponseBytes ?? 16 * 1024 * 1024,
    ...(tlsConnectionOptions(options.tls) as WsOptions),
  });
  const pending = new PendingAnswers();
  let handler: IncomingRequestHandler | undefined;
  let localOriginator = '';
  let closedWith: Error | undefined;
  const failAll = (err: Error): void => pending.rejectAll(err);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new TimeoutError(options.connectTimeoutMs, `the WebSocket handshake with ${options.url}`));
    }, options.connectTimeoutMs);
    socket.once('open', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new ConnectionError(`WebSocket ${options.url}: ${err.message}`, (err as { code?: string }).code));
    });
  });
  if (socket.protocol !== protocol) {
    socket.terminate();
    throw new ProtocolError(`the server did not accept the sub-protocol ${protocol}`);
  }
  socket.on('error', (err) => {
    closedWith = new ConnectionError(`WebSocket ${options.url}: ${err.message}`);
    failAll(closedWith);
  });
  socket.on('close', () => {
    closedWith ??= new ConnectionError('the CSE closed the WebSocket connection');
    failAll(closedWith);
  });
  socket.on('message', (data: RawData) => {
    const payload = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    let doc: unknown;
    try {
      doc = codec.decode(payload);
    } catch {
      // The connection carries nothing but primitives: one that does not decode leaves every answer in doubt.
      failAll(new ProtocolError(`the CSE sent a message that does not decode as ${codec.format}`));
      return;
    }
    if (isRequestDocument(doc)) {
      const request = doc;
      const answer = handler ? handler(request).catch(() => ({ rsc: 5000 })) : Promise.resolve({ rsc: 5103 });
      void answer.then((a: { rsc: number; pc?: unknown }) => {
        const response = { rsc: a.rsc, rqi: request.rqi, to: typeof request.fr === 'string' ? request.fr : '', fr: localOriginator, rvi: '3', ...(a.pc === undefined ? {} : { pc: a.pc }) };
        if (socket.readyState === WebSocket.OPEN) socket.send(codec.encode(response));
      });
      return;
    }
    const response = responseFromDocument(doc);
    const rqi = response?.rqi ?? (typeof doc === 'object' && doc !== null ? (doc as { rqi?: unknown }).rqi : undefined);
    if (pending.has(rqi)) {
      if (response) pending.resolve(rqi, response);
      else pending.reject(rqi, new ProtocolError('the answer is no oneM2M response (no rsc)'));
    } else if (!response) {
      failAll(new ProtocolError('the CSE sent a message that is neither a request nor a response primitive'));
    }
  });

  return {
    codec,
    send(r, timeoutMs) {
      if (closedWith || socket.readyState !== WebSocket.OPEN) return Promise.reject(closedWith ?? new ConnectionError('the WebSocket connection is not open'));
      const answered = pending.wait(r.rqi, timeoutMs, `request ${r.rqi} to ${r.to} over WebSocket`);
      socket.send(codec.encode(requestDocument(r)), (err) => {
        if (err) pending.reject(r.rqi, new ConnectionError(`WebSocket send failed: ${err.message}`));
      });
      return answered;
    },
    listen(originator, h) {
      localOriginator = originator;
      handler = h;
      return Promise.resolve();
    },
    close() {
      closedWith ??= new ConnectionError('the client was closed');
      failAll(closedWith);
      if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          socket.terminate();
          resolve();
        }, 1000);
        socket.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        socket.close();
      });
    },
  };
}
