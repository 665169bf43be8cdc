// MQTT over TLS with client certificates (a Mosquitto of our own), WSS with client certificates, and
// malformed CoAP options.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import coap from 'coap';
import { generate, parse as parseCoap } from 'coap-packet';
import { createSocket } from 'node:dgram';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { createCa, createCrl, issueCertificate, type Pem } from '../../src/security/pki.js';
import { freePort, startTestCse, type TestCse } from '../harness.js';
import { waitFor } from '../receiver.js';

type Attrs = Record<string, unknown>;


describe('secure transports', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-secure-'));
  let ca: Pem;
  let files: Record<string, string>;
  let deviceSerial = '';
  let broker: ChildProcess;
  let brokerPort: number;
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  before(async () => {
    ca = await createCa('Secure Transports CA');
    const server = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'both' });
    const warden = await issueCertificate(ca, { commonName: 'warden', uris: ['onem2m://warden.example.net/id-sec'], usage: 'client' });
    const device = await issueCertificate(ca, { commonName: 'Cwss', uris: ['onem2m://warden.example.net/id-in/Cwss'], usage: 'client' });
    deviceSerial = device.serialNumber;
    files = {
      ca: write('ca.pem', ca.certificate),
      serverCert: write('server.pem', server.certificate),
      serverKey: write('server.key', server.key),
      wardenCert: write('warden.pem', warden.certificate),
      wardenKey: write('warden.key', warden.key),
      deviceCert: write('device.pem', device.certificate),
      deviceKey: write('device.key', device.key),
    };
    brokerPort = await freePort();
    const conf = write(
      'mosquitto.conf',
      [
        `listener ${brokerPort} 127.0.0.1`,
        `cafile ${files.ca}`,
        `certfile ${files.serverCert}`,
        `keyfile ${files.serverKey}`,
        'require_certificate true',
        'allow_anonymous true',
        'persistence false',
        // Run as the user the tests run as: a broker started as root otherwise drops to 'mosquitto' and
        // cannot read the test's private directory.
        `user ${userInfo().username}`,
        '',
      ].join('\n'),
    );
    broker = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
    await waitFor(
      () =>
        new Promise<boolean>((resolve) => {
          const probe = createServer();
          probe.once('error', () => resolve(true)); // the port is taken: the broker listens
          probe.listen(brokerPort, '127.0.0.1', () => probe.close(() => resolve(false)));
        }),
      5000,
    );
  });
  after(() => {
    broker.kill('SIGTERM');
  });

  it('MQTT over TLS: Warden and its clients present certificates to the broker', async () => {
    const t: TestCse = await startTestCse({
      'cse.id': 'id-sec',
      'mqtt.enabled': true,
      'mqtt.url': `mqtts://127.0.0.1:${brokerPort}`,
      'mqtt.ca': files.ca ?? '',
      'mqtt.cert': files.wardenCert ?? '',
      'mqtt.key': files.wardenKey ?? '',
    });
    try {
      const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${brokerPort}`, {
        ca: ca.certificate,
        cert: files.deviceCert ? (await import('node:fs')).readFileSync(files.deviceCert, 'utf8') : '',
        key: files.deviceKey ? (await import('node:fs')).readFileSync(files.deviceKey, 'utf8') : '',
        clientId: 'secure-device',
      });
      const answers: Attrs[] = [];
      await client.subscribeAsync('/oneM2M/reg_resp/Csecure/id-sec/json');
      client.on('message', (_t, p) => answers.push(JSON.parse(p.toString()) as Attrs));
      await client.publishAsync('/oneM2M/reg_req/Csecure/id-sec/json', JSON.stringify({ op: 1, to: 'cse-in', fr: 'Csecure', rqi: 's1', rvi: '3', ty: 2, pc: { 'm2m:ae': { rn: 'secure', api: 'Ns', rr: false, srv: ['3'] } } }));
      await waitFor(() => answers.length === 1);
      assert.equal(answers[0]?.rsc, 2001);
      await client.endAsync();
    } finally {
      await t.close();
    }
  });

  it('MQTT over TLS: a broker that the trust anchors do not vouch for is refused', async () => {
    const other = await createCa('Other CA');
    await assert.rejects(
      startTestCse({ 'mqtt.enabled': true, 'mqtt.url': `mqtts://127.0.0.1:${brokerPort}`, 'mqtt.ca': write('other.pem', other.certificate), 'mqtt.cert': files.wardenCert ?? '', 'mqtt.key': files.wardenKey ?? '' }),
    );
  });

  it('WSS: the client certificate binds the originator as on HTTPS, and a reload of the credentials reaches WSS too', async () => {
    const crl = write('wss-crl.pem', await createCrl(ca, []));
    const t = await startTestCse({
      'tls.crl': crl,
      'ws.enabled': true,
      'ws.port': 0,
      'ws.tls': true,
      'tls.cert': files.serverCert ?? '',
      'tls.key': files.serverKey ?? '',
      'tls.ca': files.ca ?? '',
      'tls.clientAuth': 'required',
      'security.authentication': 'all',
    });
    const { readFileSync } = await import('node:fs');
    const open = (withCert: boolean): Promise<WebSocket> =>
      new Promise((resolve, reject) => {
        const s = new WebSocket(`wss://localhost:${String(t.cse.wsPort)}`, ['oneM2M.R2.0.json'], {
          ca: ca.certificate,
          ...(withCert ? { cert: readFileSync(files.deviceCert ?? '', 'utf8'), key: readFileSync(files.deviceKey ?? '', 'utf8') } : {}),
        });
        s.once('open', () => resolve(s));
        s.once('error', reject);
      });
    const ask = (s: WebSocket, doc: Attrs): Promise<Attrs> =>
      new Promise((resolve) => {
        s.once('message', (data: Buffer) => resolve(JSON.parse(data.toString()) as Attrs));
        s.send(JSON.stringify({ rvi: '3', ...doc }));
      });
    try {
      const s = await open(true);
      assert.equal((await ask(s, { op: 1, to: 'cse-in', fr: 'Cwss', rqi: 'w1', ty: 2, pc: { 'm2m:ae': { rn: 'wss', api: 'Nw', rr: false, srv: ['3'] } } })).rsc, 2001);
      assert.equal((await ask(s, { op: 2, to: 'cse-in/wss', fr: 'Cwss', rqi: 'w2' })).rsc, 2000);
      assert.equal((await ask(s, { op: 2, to: 'cse-in/wss', fr: 'Cother', rqi: 'w3' })).rsc, 4106);
      s.close();
      const anonymous = await open(false);
      assert.equal((await ask(anonymous, { op: 2, to: 'cse-in/wss', fr: 'Cwss', rqi: 'w4' })).rsc, 4107);
      anonymous.close();
      // The device's certificate is revoked and the credentials reloaded (SIGHUP): a new WSS connection with it proves
      // nothing any more, as on HTTPS.
      writeFileSync(crl, await createCrl(ca, [deviceSerial]));
      t.cse.reloadCredentials();
      const revoked = await open(true);
      const refused = await ask(revoked, { op: 2, to: 'cse-in/wss', fr: 'Cwss', rqi: 'w5' });
      assert.equal(refused.rsc, 4107);
      assert.match(JSON.stringify(refused.pc), /CERT_REVOKED/);
      revoked.close();
    } finally {
      await t.close();
    }
  });

  it('CoAP: an unrecognised critical option is 4.02 Bad Option and nothing is done; an elective one is ignored', async () => {
    const t = await startTestCse({ 'coap.enabled': true, 'coap.port': 0 });
    const send = (setup: (req: ReturnType<typeof coap.request>) => void, method: 'GET' | 'POST' = 'GET', body?: Buffer): Promise<{ code: string; rsc: number }> =>
      new Promise((resolve, reject) => {
        const req = coap.request({ hostname: '127.0.0.1', port: t.cse.coapPort ?? 0, method, pathname: '/cse-in', confirmable: true });
        req.setOption('279', 'CAdmin');
        req.setOption('283', 'opt');
        setup(req);
        req.on('response', (res: { code: string; headers: Record<string, unknown> }) => resolve({ code: res.code, rsc: Number(res.headers['307']) }));
        req.on('error', reject);
        req.end(body);
      });
    try {
      assert.deepEqual(await send((r) => r.setOption('2051', Buffer.from('x'))), { code: '4.02', rsc: 4000 }, 'an unknown odd (critical) option');
      assert.deepEqual(await send((r) => r.setOption('If-Match', Buffer.from('etag'))), { code: '4.02', rsc: 4000 }, 'a precondition Warden does not evaluate');
      assert.deepEqual(await send((r) => r.setOption('2050', Buffer.from('x'))), { code: '2.05', rsc: 2000 }, 'an unknown even (elective) option is ignored');
      const ae = { 'm2m:ae': { rn: 'badoption', api: 'Nbad', rr: false, srv: ['3'] } };
      const create = (extra?: string) =>
        send((r) => (r.setOption('279', 'Cbadoption'), r.setOption('267', 2), r.setOption('Content-Format', 50), extra ? r.setOption(extra, Buffer.from('x')) : undefined), 'POST', Buffer.from(JSON.stringify(ae)));
      assert.equal((await create('2051')).code, '4.02');
      assert.equal((await create()).rsc, 2001, 'the refused request created nothing');
    } finally {
      await t.close();
    }
  });

  it('CoAP: a request ID too long for an answer is 4000 without it, a datagram that is no CoAP message is dropped, and the CSE lives on', async () => {
    const t = await startTestCse({ 'coap.enabled': true, 'coap.port': 0 });
    const socket = createSocket('udp4');
    // A CoAP option by hand (RFC 7252 §3.1): node-coap's client will not write an option this long.
    const nibble = (n: number): [number, Buffer] => (n < 13 ? [n, Buffer.alloc(0)] : n < 269 ? [13, Buffer.from([n - 13])] : [14, Buffer.from([(n - 269) >> 8, (n - 269) & 0xff])]);
    const option = (delta: number, value: string): Buffer => {
      const [d, dx] = nibble(delta);
      const [l, lx] = nibble(Buffer.byteLength(value));
      return Buffer.concat([Buffer.from([(d << 4) | l]), dx, lx, Buffer.from(value)]);
    };
    // CON GET /cse-in, options 271 (RVI), 279 (From), 283 (Request ID) by their deltas.
    const get = (messageId: number, rqi: string): Buffer =>
      Buffer.concat([Buffer.from([0x40, 0x01, messageId >> 8, messageId & 0xff]), option(11, 'cse-in'), option(260, '3'), option(8, 'CAdmin'), option(4, rqi)]);
    const answers: Buffer[] = [];
    socket.on('message', (m: Buffer) => answers.push(m));
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    const port = t.cse.coapPort ?? 0;
    try {
      socket.send(get(1, 'r'.repeat(1500)), port, '127.0.0.1');
      await waitFor(() => answers.length === 1);
      const refused = parseCoap(answers[0] as Buffer);
      assert.equal(refused.code, '4.00');
      assert.equal(refused.messageId, 1);
      assert.equal(refused.options.find((o) => String(o.name) === '307')?.value.readUIntBE(0, 2), 4000);
      assert.equal(refused.options.find((o) => String(o.name) === '283'), undefined, 'the overlong request ID is not echoed');
      // Not CoAP at all (one byte; version 0): nothing answers it. Datagrams on loopback arrive in order, so an
      // answer to it would come before the next request's.
      socket.send(Buffer.from([0x01]), port, '127.0.0.1');
      socket.send(Buffer.from([0x00, 0x01, 0x00, 0x02, 0xff]), port, '127.0.0.1');
      socket.send(get(2, 'after'), port, '127.0.0.1');
      await waitFor(() => answers.length >= 2);
      const next = parseCoap(answers[1] as Buffer);
      assert.equal(next.messageId, 2, 'the first answer after the malformed datagrams is the next request\'s');
      assert.equal(next.code, '2.05');
      assert.equal(answers.length, 2);
    } finally {
      socket.close();
      await t.close();
    }
  });

  it('CoAP: a block-wise request body is reassembled in order and within limits (RFC 7959)', async () => {
    const t = await startTestCse({ 'coap.enabled': true, 'coap.port': 0, 'http.maxBodyBytes': 16_384 });
    const port = t.cse.coapPort ?? 0;
    try {
      // node-coap's client sends the body in Block1 blocks, each answered 2.31 Continue, then the request is carried out.
      const ae = await t.client.registerAe('blocks');
      await t.client.create('/cse-in/blocks', 3, { 'm2m:cnt': { rn: 'data' } }, ae);
      const con = 'x'.repeat(5000);
      const created = await new Promise<{ code: string; rsc: number }>((resolve, reject) => {
        const req = coap.request({ hostname: '127.0.0.1', port, method: 'POST', pathname: '/cse-in/blocks/data', query: 'rcn=0', confirmable: true });
        req.setOption('279', ae);
        req.setOption('283', 'big');
        req.setOption('267', 4);
        req.setOption('Content-Format', 50);
        req.setOption('Block1', Buffer.of(6)); // node-coap's client: send in blocks of 2^(6+4) bytes
        req.on('response', (res: { code: string; headers: Record<string, unknown> }) => resolve({ code: res.code, rsc: Number(res.headers['307']) }));
        req.on('error', reject);
        req.end(Buffer.from(JSON.stringify({ 'm2m:cin': { rn: 'big', con } })));
      });
      assert.deepEqual(created, { code: '2.01', rsc: 2001 });
      assert.equal(((await t.client.retrieve('/cse-in/blocks/data/big', ae)).body?.['m2m:cin'] as Attrs).con, con);
      // The answer, longer than one datagram, comes back block by block (Block2, node-coap) with its RSC.
      const read = await new Promise<{ code: string; rsc: number; con: unknown }>((resolve, reject) => {
        const req = coap.request({ hostname: '127.0.0.1', port, method: 'GET', pathname: '/cse-in/blocks/data/big', confirmable: true });
        req.setOption('279', ae);
        req.setOption('283', 'big-read');
        req.on('response', (res: { code: string; headers: Record<string, unknown>; payload: Buffer }) =>
          resolve({ code: res.code, rsc: Number(res.headers['307']), con: ((JSON.parse(res.payload.toString()) as Attrs)['m2m:cin'] as Attrs).con }),
        );
        req.on('error', reject);
        req.end();
      });
      assert.deepEqual(read, { code: '2.05', rsc: 2000, con });

      // By hand: NON POSTs with Block1 (number 27), SZX 6 (1 KiB blocks).
      const socket = createSocket('udp4');
      const answers: Array<ReturnType<typeof parseCoap>> = [];
      socket.on('message', (m: Buffer) => answers.push(parseCoap(m)));
      await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
      let mid = 100;
      const block = (token: string, num: number, more: boolean, payload: Buffer, szx = 6): Promise<ReturnType<typeof parseCoap>> => {
        const before = answers.length;
        const value = (num << 4) | (more ? 8 : 0) | szx;
        const bytes = value < 256 ? Buffer.from([value]) : value < 65_536 ? Buffer.from([value >> 8, value & 0xff]) : Buffer.from([value >> 16, (value >> 8) & 0xff, value & 0xff]);
        socket.send(generate({ code: 'POST', confirmable: false, messageId: ++mid, token: Buffer.from(token), options: [{ name: 'Uri-Path', value: Buffer.from('cse-in') }, { name: 'Block1', value: bytes }], payload }), port, '127.0.0.1');
        return waitFor(() => answers.length > before).then(() => answers[before] as ReturnType<typeof parseCoap>);
      };
      const kib = Buffer.alloc(1024, 0x61);
      const first = await block('t1', 0, true, kib);
      assert.equal(first.code, '2.31');
      assert.equal(first.options.find((o) => o.name === 'Block1')?.value.readUInt8(0), 0x0e, 'the block echoed');
      // A block that does not follow (block 1 never came): 4.08, and the transfer is gone.
      assert.equal((await block('t1', 2, true, kib)).code, '4.08');
      assert.equal((await block('t1', 1, false, kib)).code, '4.08');
      // The last block of a body whose first blocks never came (the probe's 1 GiB claim): 4.13 with Size1, nothing allocated.
      const huge = await block('t2', 0xfffff, false, Buffer.from('x'));
      assert.equal(huge.code, '4.13');
      assert.equal(huge.options.find((o) => o.name === 'Size1')?.value.readUIntBE(0, 2), 16_384);
      // A block before the last that is not exactly its size (the probe sent 60 000 bytes, over IPv4 fragments, as 1 KiB blocks).
      assert.equal((await block('t3', 0, true, Buffer.alloc(1100, 0x61))).code, '4.00');
      // One peer holds at most four unfinished transfers; a fifth waits.
      for (const token of ['p1', 'p2', 'p3', 'p4']) assert.equal((await block(token, 0, true, kib)).code, '2.31', token);
      const fifth = await block('p5', 0, true, kib);
      assert.equal(fifth.code, '5.03');
      assert.match(fifth.payload.toString(), /unfinished block-wise transfers/);
      socket.close();
      assert.equal((await t.client.retrieve('/cse-in', 'CAdmin')).rsc, 2000, 'the CSE serves on');
    } finally {
      await t.close();
    }
  });

  it('CoAP: malformed options and content get their RSC', async () => {
    const t = await startTestCse({ 'coap.enabled': true, 'coap.port': 0 });
    const send = (setup: (req: ReturnType<typeof coap.request>) => void, pathname = '/cse-in', method: 'GET' | 'POST' = 'GET', body?: Buffer): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = coap.request({ hostname: '127.0.0.1', port: t.cse.coapPort ?? 0, method, pathname, confirmable: true });
        setup(req);
        req.on('response', (res: { headers: Record<string, unknown> }) => resolve(Number(res.headers['307'])));
        req.on('error', reject);
        req.end(body);
      });
    try {
      assert.equal(await send((r) => r.setOption('279', 'CAdmin')), 4000, 'no request identifier');
      assert.equal(await send((r) => (r.setOption('279', 'CAdmin'), r.setOption('283', 'x'), r.setOption('267', Buffer.from([0xff, 0xff, 0xff, 0xff]))), '/cse-in', 'POST', Buffer.from('{}')), 4000, 'a resource type that is none');
      assert.equal(await send((r) => (r.setOption('279', 'CAdmin'), r.setOption('283', 'x')), '/cse-in/%zz'), 4000, 'bad percent-encoding');
      assert.equal(await send((r) => (r.setOption('279', 'CAdmin'), r.setOption('283', 'x'), r.setOption('267', 3), r.setOption('Content-Format', 0)), '/cse-in', 'POST', Buffer.from('plain')), 4015, 'text/plain content');
      assert.equal(await send((r) => (r.setOption('279', 'CAdmin'), r.setOption('283', 'x'), r.setOption('267', 3), r.setOption('Content-Format', 50)), '/cse-in', 'POST', Buffer.from('{broken')), 4000, 'malformed JSON');
      assert.equal(await send((r) => (r.setOption('279', 'CAdmin'), r.setOption('283', 'ok'))), 2000, 'the binding keeps serving');
    } finally {
      await t.close();
    }
  });
});
