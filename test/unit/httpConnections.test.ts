// Outbound HTTP exchanges on kept-alive connections of our own (src/bindings/http/connections.ts): the answer
// reader against hostile receivers, connection reuse, and lanes (pipelined requests, answered in order).
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { AnswerReader, HttpConnections, HttpFramingError } from '../../src/bindings/http/connections.js';
import { HttpOutbound } from '../../src/bindings/http/client.js';
import { DEFAULT_OUTBOUND, OutboundPolicy } from '../../src/security/outboundPolicy.js';
import { OPERATION, type RequestPrimitive } from '../../src/primitive/request.js';

const loopback = new OutboundPolicy({ ...DEFAULT_OUTBOUND, allow: '127.0.0.0/8' });
const pool = (): HttpConnections => new HttpConnections({ lookup: loopback.lookup, ca: [], perOrigin: 4, idleMs: 4_000, maxBodyBytes: 1_024 });

/** Reads one answer from these pieces; its body as text, or the framing error. */
function read(pieces: readonly string[], max = 1_024): { status: number; body: string; reusable: boolean } | Error {
  const reader = new AnswerReader(max);
  try {
    for (const piece of pieces) {
      if (reader.feed(Buffer.from(piece, 'latin1'))) {
        const answer = reader.answer();
        return { status: answer.status, body: answer.body.toString('latin1'), reusable: reader.reusable && reader.rest.length === 0 };
      }
    }
  } catch (err) {
    return err as Error;
  }
  return new Error('incomplete');
}

/** A raw TCP receiver: `answer` is called with each connection's accumulated request bytes and writes what it likes. */
async function rawReceiver(answer: (socket: Socket, received: string, connection: number) => void): Promise<{ server: Server; url: string; connections: () => number }> {
  let connections = 0;
  const server = createServer((socket) => {
    const connection = ++connections;
    let received = '';
    socket.on('data', (d: Buffer) => {
      received += d.toString('latin1');
      answer(socket, received, connection);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`, connections: () => connections };
}

const close = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));
const requestsIn = (text: string): number => text.split('POST /notify HTTP/1.1').length - 1;
const OK = 'HTTP/1.1 200 OK\r\nX-M2M-RSC: 2000\r\nContent-Length: 0\r\n\r\n';

describe('outbound HTTP: the answer reader', () => {
  it('reads Content-Length, chunked (with extensions and trailers) and until-close bodies, and skips interim answers', () => {
    assert.deepEqual(read(['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel', 'lo']), { status: 200, body: 'hello', reusable: true });
    assert.deepEqual(read(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nhel\r\n2\r\nlo\r\n0\r\nX-T: 1\r\n\r\n']), { status: 200, body: 'hello', reusable: true });
    assert.deepEqual(read(['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n']), { status: 204, body: '', reusable: true });
    assert.deepEqual(read(['HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok']), { status: 200, body: 'ok', reusable: false });
    assert.deepEqual(read(['HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok']), { status: 200, body: 'ok', reusable: false });
    // No length: the body runs until the connection closes, which ends the connection's use.
    const reader = new AnswerReader(1_024);
    assert.equal(reader.feed(Buffer.from('HTTP/1.1 200 OK\r\n\r\npartial')), false);
    assert.equal(reader.closed(), true);
    assert.equal(reader.answer().body.toString(), 'partial');
    assert.equal(reader.reusable, false);
  });

  it('refuses malformed and oversized answers instead of guessing', () => {
    const refused = [
      ['garbage\r\n\r\n'],
      ['HTTP/1.1 2000 OK\r\n\r\n'],
      ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n'],
      ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc'],
      ['HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'],
      ['HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n'],
      ['HTTP/1.1 200 OK\r\nBad Header: 1\r\n\r\n'],
      ['HTTP/1.1 101 Switching Protocols\r\n\r\n'],
      ['HTTP/1.1 200 OK\r\nContent-Length: 2048\r\n\r\n'],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n'],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY'],
      [`HTTP/1.1 200 OK\r\nX-A: ${'a'.repeat(17_000)}`],
      ['HTTP/1.1 200 OK\r\n\r\n', 'x'.repeat(2_000)],
      [...Array.from({ length: 9 }, () => 'HTTP/1.1 100 Continue\r\n\r\n')],
    ];
    for (const pieces of refused) {
      const result = read(pieces);
      assert.ok(result instanceof HttpFramingError, `refused: ${JSON.stringify(pieces).slice(0, 80)}`);
    }
  });
});

describe('outbound HTTP: kept-alive connections', () => {
  it('sends one request after another on one connection, and answers 5103 for what a receiver garbles', async () => {
    const rx = await rawReceiver((socket, received) => {
      const n = requestsIn(received);
      if (received.endsWith('{}') || received.endsWith('\r\n\r\n')) {
        if (received.includes('X-M2M-RI: garble')) socket.end('HTTP/1.1 200 OK\r\nX-M2M-RSC: 2000\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab');
        else if (n > 0) socket.write(OK);
      }
    });
    const outbound = new HttpOutbound(2_000, undefined, { policy: loopback });
    try {
      const primitive = (rqi: string): RequestPrimitive => ({ op: OPERATION.NOTIFY, to: '/x', fr: '/id-in', rqi, rvi: '3', pc: {} });
      for (let i = 0; i < 5; i++) assert.equal((await outbound.send(rx.url, primitive(`r${i}`))).rsc, 2000);
      assert.equal(rx.connections(), 1, 'one kept-alive connection');
      assert.equal((await outbound.send(rx.url, primitive('garble'))).rsc, 5103);
      assert.equal((await outbound.send(rx.url, primitive('after'))).rsc, 2000);
      assert.equal(rx.connections(), 2, 'the garbled connection is not used again');
    } finally {
      outbound.close();
      await close(rx.server);
    }
  });

  it('refuses to write a header value that would split the request', async () => {
    const rx = await rawReceiver((socket) => socket.write(OK));
    const connections = pool();
    try {
      await assert.rejects(connections.exchange(new URL(rx.url), 'POST', { 'X-M2M-Origin': 'a\r\nX-Evil: 1' }, Buffer.from('{}'), 1_000), HttpFramingError);
      assert.equal(rx.connections(), 0);
    } finally {
      connections.destroy();
      await close(rx.server);
    }
  });

  it('gives a request a second connection when the kept-alive one was closed while idle', async () => {
    // Answers the first request of each connection, then closes it without a word (as a receiver's keep-alive
    // timeout does).
    const rx = await rawReceiver((socket, received) => {
      if (requestsIn(received) === 1 && received.endsWith('{}')) {
        socket.write(OK);
        setImmediate(() => socket.destroy());
      }
    });
    const connections = pool();
    try {
      const url = new URL(rx.url);
      assert.equal((await connections.exchange(url, 'POST', {}, Buffer.from('{}'), 2_000)).status, 200);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal((await connections.exchange(url, 'POST', {}, Buffer.from('{}'), 2_000)).status, 200);
    } finally {
      connections.destroy();
      await close(rx.server);
    }
  });

  it('gives up on a receiver that never answers at the deadline', async () => {
    const rx = await rawReceiver(() => undefined);
    const connections = pool();
    try {
      await assert.rejects(connections.exchange(new URL(rx.url), 'POST', {}, Buffer.from('{}'), 200), /deadline/);
    } finally {
      connections.destroy();
      await close(rx.server);
    }
  });
});

describe('outbound HTTP: lanes', () => {
  it('writes the requests of a lane before the first is answered, and takes the answers in order', async () => {
    // Answers nothing until three requests have arrived on the connection: one request at a time would never get
    // an answer.
    const rx = await rawReceiver((socket, received) => {
      if (requestsIn(received) === 3 && received.endsWith('"c"}')) {
        socket.write(`${OK}HTTP/1.1 200 OK\r\nX-M2M-RSC: 2001\r\nContent-Length: 0\r\n\r\n`);
        socket.write('HTTP/1.1 200 OK\r\nX-M2M-RSC: 2002\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n');
      }
    });
    const connections = pool();
    const lane = connections.lane();
    try {
      const url = new URL(rx.url);
      const answers = await Promise.all(['a', 'b', 'c'].map((v) => lane.exchange(url, 'POST', {}, Buffer.from(JSON.stringify({ v })), 2_000)));
      assert.deepEqual(
        answers.map((a) => a.headers.get('x-m2m-rsc')),
        ['2000', '2001', '2002'],
      );
      assert.equal(rx.connections(), 1);
    } finally {
      lane.release();
      connections.destroy();
      await close(rx.server);
    }
  });

  it('sends one request at a time to a receiver that dropped pipelined requests', async () => {
    // Answers the first request of a connection and closes it, whatever else came on it; counts the requests it had
    // received when it answered.
    let mostAtOnce = 0;
    const answered = new WeakSet<Socket>();
    const rx = await rawReceiver((socket, received) => {
      if (!received.endsWith('}') || answered.has(socket)) return;
      answered.add(socket);
      mostAtOnce = Math.max(mostAtOnce, requestsIn(received));
      socket.end(OK);
    });
    const connections = pool();
    try {
      const url = new URL(rx.url);
      const first = connections.lane();
      const results = await Promise.allSettled([1, 2, 3].map((v) => first.exchange(url, 'POST', {}, Buffer.from(`{"v":${v}}`), 2_000)));
      first.release();
      assert.equal(results[0]?.status, 'fulfilled');
      assert.ok(results.slice(1).every((r) => r.status === 'rejected'), 'the dropped ones count as unanswered');
      mostAtOnce = 0;
      const second = connections.lane();
      const again = await Promise.allSettled([4, 5].map((v) => second.exchange(url, 'POST', {}, Buffer.from(`{"v":${v}}`), 2_000)));
      second.release();
      assert.equal(again[0]?.status, 'fulfilled');
      assert.equal(mostAtOnce, 1, 'one request at a time on each connection');
    } finally {
      connections.destroy();
      await close(rx.server);
    }
  });

  it('sends again, on new connections, what was written after an answer that closed the connection', async () => {
    const rx = await rawReceiver((socket, received) => {
      if (received.includes('}')) socket.end('HTTP/1.1 200 OK\r\nX-M2M-RSC: 2000\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    const connections = pool();
    const lane = connections.lane();
    try {
      const url = new URL(rx.url);
      const answers = await Promise.all([1, 2, 3, 4].map((v) => lane.exchange(url, 'POST', {}, Buffer.from(`{"v":${v}}`), 2_000)));
      assert.ok(answers.every((a) => a.status === 200));
      assert.equal(rx.connections(), 4);
    } finally {
      lane.release();
      connections.destroy();
      await close(rx.server);
    }
  });

  it('reaches a node:http receiver pipelined, in order', async () => {
    const seen: string[] = [];
    const server = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push(Buffer.concat(chunks).toString());
        res.writeHead(200, { 'X-M2M-RSC': '2000' });
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const connections = pool();
    const lane = connections.lane();
    try {
      const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      const bodies = Array.from({ length: 20 }, (_, i) => `{"n":${i}}`);
      const answers = await Promise.all(bodies.map((b) => lane.exchange(url, 'POST', {}, Buffer.from(b), 2_000)));
      assert.ok(answers.every((a) => a.status === 200));
      assert.deepEqual(seen, bodies);
    } finally {
      lane.release();
      connections.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
