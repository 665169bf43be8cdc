// A CSE that answers garbage, closes the connection, or says nothing: the client gives a typed error within its
// time limit, never hangs. Each misbehaving peer is a tiny server in this file, on an ephemeral loopback port.
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { WebSocketServer } from 'ws';
import { ConnectionError, ProtocolError, TimeoutError, WardenClientError, connect } from '../../packages/client/src/index.js';
import { freePort } from '../harness.js';

const BROKER = process.env.WARDEN_TEST_MQTT ?? 'mqtt://127.0.0.1:1883';

const servers: Array<Server | HttpServer> = [];
const sockets = new Set<Socket>();

/** A raw TCP server that does `behave` with every connection. */
async function tcpServer(behave: (socket: Socket) => void): Promise<number> {
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    behave(socket);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

async function httpServer(handler: Parameters<typeof createHttpServer>[1]): Promise<number> {
  const server = createHttpServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/** The error a request to a CSE at `url` ends with. */
async function failure(url: string, timeoutMs = 500, cseId?: string): Promise<{ error: unknown }> {
  const client = await connect({ url, originator: 'Cx', timeoutMs, ...(cseId === undefined ? {} : { cseId }) });
  try {
    const error = await client.retrieve('cse-in', 'm2m:cb').then(
      () => undefined,
      (e: unknown) => e,
    );
    return { error };
  } finally {
    await client.close();
  }
}

describe('client library against a broken or silent CSE', () => {
  after(async () => {
    for (const s of sockets) s.destroy();
    for (const server of servers) await new Promise<void>((r) => server.close(() => r()));
  });

  it('HTTP: a peer that never answers is a TimeoutError within the time limit', async () => {
    const port = await tcpServer(() => undefined);
    const { error } = await failure(`http://127.0.0.1:${port}`, 300);
    // The client's own timer ended it (no durations are compared: the machine's load must not decide a test).
    assert.ok(error instanceof TimeoutError, String(error));
    assert.equal(error.timeoutMs, 300);
  });

  it('HTTP: a peer that answers headers and then stalls is a TimeoutError too', async () => {
    const port = await tcpServer((s) => s.write('HTTP/1.1 200 OK\r\nX-M2M-RSC: 2000\r\nContent-Length: 100\r\n\r\n{"m2m:cb'));
    const { error } = await failure(`http://127.0.0.1:${port}`, 300);
    assert.ok(error instanceof TimeoutError, String(error));
  });

  it('HTTP: garbage instead of HTTP, and HTTP without a oneM2M status, are ProtocolErrors or ConnectionErrors', async () => {
    const junk = await tcpServer((s) => s.end('I am not a oneM2M entity at all\r\n\r\n'));
    const { error } = await failure(`http://127.0.0.1:${junk}`);
    assert.ok(error instanceof ConnectionError || error instanceof ProtocolError, String(error));
    const plain = await httpServer((_req, res) => res.end('<html>hello</html>'));
    const noRsc = await failure(`http://127.0.0.1:${plain}`);
    assert.ok(noRsc.error instanceof ProtocolError, String(noRsc.error));
    assert.match(noRsc.error.message, /without a oneM2M status/);
    const badBody = await httpServer((_req, res) => {
      res.writeHead(200, { 'X-M2M-RSC': '2000', 'Content-Type': 'application/json' });
      res.end('{"m2m:cb": ');
    });
    const undecodable = await failure(`http://127.0.0.1:${badBody}`);
    assert.ok(undecodable.error instanceof ProtocolError, String(undecodable.error));
    assert.match(undecodable.error.message, /does not decode as json/);
    const wrongType = await httpServer((_req, res) => {
      res.writeHead(200, { 'X-M2M-RSC': '2000', 'Content-Type': 'application/json' });
      res.end('{"m2m:cnt": {"rn": "not the CSEBase"}}');
    });
    const unexpected = await failure(`http://127.0.0.1:${wrongType}`);
    assert.ok(unexpected.error instanceof ProtocolError, String(unexpected.error));
    const huge = await httpServer((_req, res) => {
      res.writeHead(200, { 'X-M2M-RSC': '2000', 'Content-Type': 'application/json' });
      res.end(`{"m2m:cb": {"lbl": ["${'x'.repeat(100_000)}"]}}`);
    });
    const client = await connect({ url: `http://127.0.0.1:${huge}`, originator: 'Cx', maxResponseBytes: 10_000 });
    try {
      await assert.rejects(client.retrieve('cse-in', 'm2m:cb'), ProtocolError);
    } finally {
      await client.close();
    }
  });

  it('HTTP: a peer that closes the connection, or nobody listening, is a ConnectionError', async () => {
    const port = await tcpServer((s) => s.destroy());
    const { error } = await failure(`http://127.0.0.1:${port}`);
    assert.ok(error instanceof ConnectionError, String(error));
    const nobody = await freePort();
    const refused = await failure(`http://127.0.0.1:${nobody}`);
    assert.ok(refused.error instanceof ConnectionError, String(refused.error));
    assert.equal(refused.error.code, 'ECONNREFUSED');
  });

  it('WebSocket: a server that accepts and never answers times out; one that sends junk fails the request', async () => {
    const server = createHttpServer();
    servers.push(server);
    const wss = new WebSocketServer({ server, handleProtocols: (p) => [...p][0] ?? false });
    let mode: 'silent' | 'junk' | 'close' = 'silent';
    wss.on('connection', (ws) => {
      ws.on('message', () => {
        if (mode === 'junk') ws.send('this is not json {');
        if (mode === 'close') ws.terminate();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const silent = await failure(url, 300);
      assert.ok(silent.error instanceof TimeoutError, String(silent.error));
      mode = 'junk';
      const junk = await failure(url, 2000);
      // Failed by the junk (a ProtocolError), not by waiting for the time limit (a TimeoutError).
      assert.ok(junk.error instanceof ProtocolError, String(junk.error));
      mode = 'close';
      const closed = await failure(url, 2000);
      assert.ok(closed.error instanceof ConnectionError, String(closed.error));
    } finally {
      for (const c of wss.clients) c.terminate();
      wss.close();
    }
    // A plain TCP peer that never completes the handshake: the connection attempt itself is bounded.
    const mute = await tcpServer(() => undefined);
    await assert.rejects(connect({ url: `ws://127.0.0.1:${mute}`, timeoutMs: 300 }), TimeoutError);
  });

  it('MQTT: a CSE-ID nobody serves on the broker is a TimeoutError; a broker that is not there a WardenClientError', async () => {
    const { error } = await failure(BROKER, 300, `id-nobody${process.pid}`);
    assert.ok(error instanceof TimeoutError, String(error));
    const nobody = await freePort();
    await assert.rejects(connect({ url: `mqtt://127.0.0.1:${nobody}`, cseId: 'id-in', timeoutMs: 500 }), WardenClientError);
  });
});
