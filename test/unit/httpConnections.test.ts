// Outbound HTTP exchanges on kept-alive connections (src/bindings/http/connections.ts, on undici): hostile answers,
// connection reuse and its one retry, the outbound destination policy on every connection, and lanes (pipelined
// requests, answered in order, never reordered by a failure).
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { HttpConnections } from '../../src/bindings/http/connections.js';
import { HttpOutbound } from '../../src/bindings/http/client.js';
import { DEFAULT_OUTBOUND, isOutboundRefused, OutboundPolicy } from '../../src/security/outboundPolicy.js';
import { OPERATION, type RequestPrimitive } from '../../src/primitive/request.js';
import { xmlCodec } from '../../src/serialization/xml.js';

const loopback = new OutboundPolicy({ ...DEFAULT_OUTBOUND, allow: '127.0.0.0/8' });
const pool = (policy = loopback): HttpConnections => new HttpConnections({ lookup: policy.lookup, ca: [], perOrigin: 4, idleMs: 4_000, maxBodyBytes: 1_024 });

/** A raw TCP receiver: `answer` is called with each connection's accumulated request bytes and writes what it likes. */
async function rawReceiver(answer: (socket: Socket, received: string, connection: number) => void): Promise<{ server: Server; url: string; connections: () => number; all: () => string }> {
  let connections = 0;
  let all = '';
  const server = createServer((socket) => {
    const connection = ++connections;
    let received = '';
    socket.on('data', (d: Buffer) => {
      received += d.toString('latin1');
      all += d.toString('latin1');
      answer(socket, received, connection);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`, connections: () => connections, all: () => all };
}

const close = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));
const requestsIn = (text: string): number => text.split('POST /notify HTTP/1.1').length - 1;
const OK = 'HTTP/1.1 200 OK\r\nX-M2M-RSC: 2000\r\nContent-Length: 0\r\n\r\n';
const post = (connections: HttpConnections, url: string, body = '{}', timeoutMs = 2_000): ReturnType<HttpConnections['exchange']> =>
  connections.exchange(new URL(url), 'POST', {}, Buffer.from(body), timeoutMs);

describe('outbound HTTP: hostile answers', () => {
  it('refuses malformed, ambiguous and oversized answers instead of guessing', async () => {
    const hostile = [
      'garbage\r\n\r\n',
      'HTTP/1.1 2000 OK\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc',
      'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
      'HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nBad Header: 1\r\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: evil\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 2048\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n' + 'x'.repeat(2_048) + '\r\n0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY',
      `HTTP/1.1 200 OK\r\nX-A: ${'a'.repeat(17_000)}\r\nContent-Length: 0\r\n\r\n`,
    ];
    for (const raw of hostile) {
      const rx = await rawReceiver((socket, received) => {
        if (received.endsWith('{}')) socket.end(raw);
      });
      const connections = pool();
      try {
        await assert.rejects(post(connections, rx.url), `refused: ${JSON.stringify(raw).slice(0, 80)}`);
      } finally {
        connections.destroy();
        await close(rx.server);
      }
    }
  });

  it('cuts off a body past its bound that runs until the connection closes', async () => {
    // No length: the body would run as long as the receiver likes.
    const rx = await rawReceiver((socket, received) => {
      if (!received.endsWith('{}')) return;
      socket.write('HTTP/1.1 200 OK\r\nX-M2M-RSC: 2000\r\n\r\n');
      for (let i = 0; i < 8; i++) socket.write('x'.repeat(512));
      socket.end();
    });
    const connections = pool();
    try {
      await assert.rejects(post(connections, rx.url));
    } finally {
      connections.destroy();
      await close(rx.server);
    }
  });

  it('refuses to write a header value that would split the request', async () => {
    const rx = await rawReceiver((socket) => socket.write(OK));
    const connections = pool();
    try {
      await assert.rejects(connections.exchange(new URL(rx.url), 'POST', { 'X-M2M-Origin': 'a\r\nX-Evil: 1' }, Buffer.from('{}'), 1_000));
      const lane = connections.lane();
      await assert.rejects(lane.exchange(new URL(rx.url), 'POST', { 'X-M2M-Origin': 'a\r\nX-Evil: 1' }, Buffer.from('{}'), 1_000));
      lane.release();
      assert.equal(rx.all().includes('X-Evil'), false);
    } finally {
      connections.destroy();
      await close(rx.server);
    }
  });

  it('gives up on a receiver that never answers, or trickles its answer, at the deadline', async () => {
    const silent = await rawReceiver(() => undefined);
    const trickling = await rawReceiver((socket, received) => {
      if (!received.endsWith('{}')) return;
      socket.write('HTTP/1.1 200 OK\r\nX-M2M-RSC: 2000\r\nContent-Length: 100\r\n\r\n');
      const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : socket.write('x')), 20);
      socket.on('close', () => clearInterval(timer));
    });
    const connections = pool();
    try {
      await assert.rejects(post(connections, silent.url, '{}', 200), /deadline/);
      await assert.rejects(post(connections, trickling.url, '{}', 300), /deadline/);
      const lane = connections.lane();
      await assert.rejects(lane.exchange(new URL(silent.url), 'POST', {}, Buffer.from('{}'), 200), /deadline/);
      lane.release();
    } finally {
      connections.destroy();
      await close(silent.server);
      await close(trickling.server);
    }
  });
});

describe('outbound HTTP: what an answer is taken for', () => {
  it('an HTTP failure status carrying a success RSC is no answer (5103); content is decoded only when it is read', async () => {
    const xml = '<m2m:dbg xmlns:m2m="http://www.onem2m.org/xml/protocols">large</m2m:dbg>';
    const rx = await rawReceiver((socket, received) => {
      if (!received.endsWith('{}')) return;
      if (received.includes('X-M2M-RI: contradicts')) socket.end('HTTP/1.1 500 Internal Server Error\r\nX-M2M-RSC: 2000\r\nContent-Length: 0\r\n\r\n');
      else socket.end(`HTTP/1.1 200 OK\r\nX-M2M-RSC: 2000\r\nContent-Type: application/xml\r\nContent-Length: ${String(xml.length)}\r\n\r\n${xml}`);
    });
    const outbound = new HttpOutbound(2_000, undefined, { policy: loopback });
    const decode = xmlCodec.decode.bind(xmlCodec);
    let decoded = 0;
    xmlCodec.decode = (body: Buffer): unknown => {
      decoded++;
      return decode(body);
    };
    try {
      const primitive = (rqi: string): RequestPrimitive => ({ op: OPERATION.NOTIFY, to: '/x', fr: '/id-in', rqi, rvi: '3', pc: {} });
      assert.equal((await outbound.send(rx.url, primitive('contradicts'))).rsc, 5103);
      const answer = await outbound.send(rx.url, primitive('xml'));
      assert.equal(answer.rsc, 2000);
      assert.equal(decoded, 0, 'a notification is taken for its RSC: its answer is not decoded');
      assert.deepEqual(answer.body, { 'm2m:dbg': 'large' });
      assert.equal(answer.body, answer.body);
      assert.equal(decoded, 1, 'decoded once, when read');
    } finally {
      xmlCodec.decode = decode;
      outbound.close();
      await close(rx.server);
    }
  });
});

describe('outbound HTTP: the destination policy', () => {
  it('connects only where the outbound policy allows, single exchanges and lanes alike', async () => {
    const rx = await rawReceiver((socket) => socket.write(OK));
    // The default policy refuses loopback; the URL names the receiver by a host name, so only the lookup can refuse.
    const connections = pool(new OutboundPolicy(DEFAULT_OUTBOUND));
    const url = rx.url.replace('127.0.0.1', 'localhost');
    try {
      await assert.rejects(post(connections, url), (err) => isOutboundRefused(err));
      const lane = connections.lane();
      const results = await Promise.allSettled([1, 2].map((v) => lane.exchange(new URL(url), 'POST', {}, Buffer.from(`{"v":${v}}`), 2_000)));
      lane.release();
      assert.ok(results.every((r) => r.status === 'rejected' && isOutboundRefused(r.reason)));
      assert.equal(rx.connections(), 0, 'nothing reached the refused destination');
    } finally {
      connections.destroy();
      await close(rx.server);
    }
  });

  it('answers 5103 with the refusal through HttpOutbound, on a lane too', async () => {
    const rx = await rawReceiver((socket) => socket.write(OK));
    const outbound = new HttpOutbound(2_000, undefined, { policy: new OutboundPolicy(DEFAULT_OUTBOUND) });
    const lane = outbound.lane();
    try {
      const primitive: RequestPrimitive = { op: OPERATION.NOTIFY, to: '/x', fr: '/id-in', rqi: 'r', rvi: '3', pc: {} };
      const url = rx.url.replace('127.0.0.1', 'localhost');
      const answer = await outbound.send(url, primitive, undefined, undefined, lane);
      assert.equal(answer.rsc, 5103);
      assert.ok(answer.refused);
      assert.equal(rx.connections(), 0);
    } finally {
      lane.release();
      outbound.close();
      await close(rx.server);
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
      // undici waits a turn of the event loop before it reuses a connection that carries one request at a time
      // (a receiver may close it although it said it would not), so a request made at once gets a second one.
      assert.ok(rx.connections() <= 2, 'kept-alive connections');
      assert.equal((await outbound.send(rx.url, primitive('garble'))).rsc, 5103);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal((await outbound.send(rx.url, primitive('after'))).rsc, 2000);
      assert.ok(rx.all().split('X-M2M-RI: garble').length === 2, 'the garbled request is not sent again');
    } finally {
      outbound.close();
      await close(rx.server);
    }
  });

  it('sends a request once more on a new connection when a kept-alive one is closed before answering it', async () => {
    // Answers the first request of each connection; closes it without a word when a second one comes (as a
    // receiver's keep-alive timeout racing our write does).
    const rx = await rawReceiver((socket, received) => {
      if (!received.endsWith('}')) return;
      if (requestsIn(received) === 1) socket.write(OK);
      else socket.destroy();
    });
    const connections = pool();
    try {
      assert.equal((await post(connections, rx.url, '{"v":1}')).status, 200);
      // undici takes a kept-alive connection again a turn of the event loop after its answer.
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal((await post(connections, rx.url, '{"v":2}')).status, 200);
      assert.equal(rx.connections(), 2);
      assert.equal(rx.all().split('{"v":2}').length - 1, 2, 'the second request went twice, once on each connection');
    } finally {
      connections.destroy();
      await close(rx.server);
    }
  });

  it('does not send a request again to a receiver that closes a new connection without answering', async () => {
    const rx = await rawReceiver((socket, received) => {
      if (received.endsWith('}')) socket.destroy();
    });
    const connections = pool();
    try {
      await assert.rejects(post(connections, rx.url));
      assert.equal(rx.connections(), 1);
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
      assert.equal(answers[2]?.body.toString(), '{}');
      assert.equal(rx.connections(), 1);
    } finally {
      lane.release();
      connections.destroy();
      await close(rx.server);
    }
  });

  it('fails what was written behind a dropped request instead of sending it ahead of it, then goes one at a time', async () => {
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
      // Give a connection that undici might still open for them the time to carry them: none may.
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(rx.all().split('{"v":3}').length - 1, rx.all().includes('{"v":3}') ? 1 : 0, 'the third is not sent again on its own');
      assert.equal(rx.connections(), 1);
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
      // All four on the first connection (written before any answer), then one on each new one: not the rest of the
      // run again on each (4 + 3 + 2 + 1).
      assert.equal(requestsIn(rx.all()), 7);
    } finally {
      lane.release();
      connections.destroy();
      await close(rx.server);
    }
  });

  it('sends all of a run again, in order, when the kept-alive connection it was written on closes before answering', async () => {
    // The first connection answers one request (which leaves it kept alive), then closes when the next ones come;
    // the second answers everything.
    const seen: string[] = [];
    const rx = await rawReceiver((socket, received, connection) => {
      if (!received.endsWith('}')) return;
      if (connection === 1) {
        if (requestsIn(received) === 1) socket.write(OK);
        else socket.destroy();
        return;
      }
      const bodies = received.match(/\{"v":\d+\}/g) ?? [];
      while (seen.length < bodies.length) {
        seen.push(bodies[seen.length] as string);
        socket.write(OK);
      }
    });
    const connections = pool();
    try {
      const url = new URL(rx.url);
      const warm = connections.lane();
      assert.equal((await warm.exchange(url, 'POST', {}, Buffer.from('{"v":0}'), 2_000)).status, 200);
      warm.release();
      const lane = connections.lane();
      const answers = await Promise.all([1, 2, 3, 4].map((v) => lane.exchange(url, 'POST', {}, Buffer.from(`{"v":${v}}`), 2_000)));
      lane.release();
      assert.ok(answers.every((a) => a.status === 200));
      assert.deepEqual(seen, ['{"v":1}', '{"v":2}', '{"v":3}', '{"v":4}']);
      assert.equal(rx.connections(), 2);
    } finally {
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
