// The outbound destination policy (issue #20, finding 8): notification targets, points of access, X-M2M-RTU and
// IPE on-demand discovery cannot make the CSE connect to loopback, link-local (cloud metadata) or unspecified
// addresses, however they are spelled, and only an explicit outbound.allow opens them.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createCa, issueCertificate } from '../../src/security/pki.js';
import { startTestCse, tempDatabase, type TestCse } from '../harness.js';
import { Receiver, waitFor } from '../receiver.js';

type Attrs = Record<string, unknown>;

/** A bare HTTP server on another loopback address, recording every request it gets. */
async function recorder(host: string, answer: (res: ServerResponse) => void): Promise<{ server: Server; hits: string[]; port: number }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    req.resume();
    req.on('end', () => answer(res));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, hits, port: (server.address() as AddressInfo).port };
}

const ok = (res: ServerResponse): void => {
  res.writeHead(200, { 'X-M2M-RSC': '2000' });
  res.end();
};

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('outbound destination policy, loopback refused (a listener reachable from elsewhere)', () => {
  let t: TestCse;
  let rx: Receiver;
  let ae: string;
  before(async () => {
    // The defaults, not the harness's loopback allowance; loopback refused as it is by default once any listener
    // is reachable from another machine (the test itself listens on loopback only: see the 'auto' test below).
    t = await startTestCse({ 'outbound.allow': '', 'outbound.loopback': 'deny', 'notifications.timeout': 2 });
    rx = await new Receiver().start();
    ae = await t.client.registerAe('prober');
    assert.equal((await t.client.create('/cse-in/prober', 3, { 'm2m:cnt': { rn: 'box' } }, ae)).rsc, 2001);
  });
  after(async () => {
    await rx.stop();
    await t.close();
  });

  it('refuses subscriptions whose nu is loopback, link-local or unspecified, however spelled (5204, nothing sent)', async () => {
    const port = rx.port;
    const targets = [
      `http://127.0.0.1:${port}/notify`,
      `http://2130706433:${port}/notify`,
      `http://0x7f.1:${port}/notify`,
      `http://0177.0.0.1:${port}/notify`,
      `http://[::ffff:127.0.0.1]:${port}/notify`,
      `http://[::ffff:7f00:1]:${port}/notify`,
      'http://169.254.169.254/latest/meta-data/',
      `http://0.0.0.0:${port}/notify`,
      `http://0:${port}/notify`,
      `http://[::]:${port}/notify`,
      `http://[::1]:${port}/notify`,
      `http://[64:ff9b::7f00:1]:${port}/notify`,
    ];
    for (const nu of targets) {
      const reply = await t.client.create('/cse-in/prober/box', 23, { 'm2m:sub': { nu: [nu] } }, ae);
      assert.equal(reply.rsc, 5204, `${nu}: ${reply.text}`);
      assert.match(String(reply.body?.['m2m:dbg']), /outbound policy/, nu);
    }
    assert.equal(rx.received.length, 0, 'the receiver saw nothing');
  });

  it('refuses a host name after resolving it: localhost is loopback', async () => {
    const reply = await t.client.create('/cse-in/prober/box', 23, { 'm2m:sub': { nu: [`http://localhost:${rx.port}/notify`] } }, ae);
    assert.equal(reply.rsc, 5204, reply.text);
    assert.match(String(reply.body?.['m2m:dbg']), /outbound policy/);
    assert.equal(rx.received.length, 0);
  });

  it("refuses another AE's loopback point of access, and a coap:// one spelled as a number", async () => {
    // A poa is accepted when written (as in ACME): the policy decides when it is used.
    assert.equal((await t.client.create('/cse-in', 2, { 'm2m:ae': { rn: 'inner', api: 'Ninner', rr: true, poa: [rx.url], srv: ['3'] } }, 'Cinner')).rsc, 2001);
    const viaPoa = await t.client.create('/cse-in/prober/box', 23, { 'm2m:sub': { nu: ['Cinner'] } }, ae);
    assert.equal(viaPoa.rsc, 5204, viaPoa.text);
    const udp = createSocket('udp4');
    const datagrams: Buffer[] = [];
    udp.on('message', (m) => datagrams.push(m));
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    try {
      const port = udp.address().port;
      assert.equal((await t.client.create('/cse-in', 2, { 'm2m:ae': { rn: 'coapy', api: 'Ncoapy', rr: true, poa: [`coap://2130706433:${port}/`], srv: ['3'] } }, 'Ccoapy')).rsc, 2001);
      const viaCoap = await t.client.create('/cse-in/prober/box', 23, { 'm2m:sub': { nu: ['Ccoapy'] } }, ae);
      assert.equal(viaCoap.rsc, 5204, viaCoap.text);
      assert.equal(datagrams.length, 0, 'no CoAP request left the CSE');
    } finally {
      udp.close();
    }
    assert.equal(rx.received.length, 0);
  });

  it("refuses the console's own scheme as a point of access (4000), at registration and at an update", async () => {
    const named = await t.client.create('/cse-in', 2, { 'm2m:ae': { rn: 'viewer', api: 'Nviewer', rr: true, poa: ['console://0123456789abcdef'], srv: ['3'] } }, 'Cviewer');
    assert.equal(named.rsc, 4000, named.text);
    assert.match(String(named.body?.['m2m:dbg']), /console/);
    const updated = await t.client.update('/cse-in/prober', { 'm2m:ae': { poa: ['CONSOLE://0123456789abcdef'] } }, ae);
    assert.equal(updated.rsc, 4000, updated.text);
  });

  it('refuses rt=2 with an X-M2M-RTU on loopback', async () => {
    const reply = await t.client.request('GET', '/cse-in/prober/box?rt=2', { origin: ae, headers: { 'X-M2M-RTU': `http://2130706433:${rx.port}/notify` } });
    assert.equal(reply.rsc, 5204, reply.text);
    assert.equal(rx.received.length, 0);
  });

  it('does not ask an IPE whose point of access is loopback', async () => {
    assert.equal((await t.client.create('/cse-in', 2, { 'm2m:ae': { rn: 'gateway', api: 'Ngateway', rr: true, poa: [rx.url], srv: ['3'] } }, 'Cgateway')).rsc, 2001);
    const reply = await t.client.retrieve('/cse-in/gateway?fu=3&lbl=kind:lamp', 'Cgateway');
    assert.equal(reply.rsc, 5103, reply.text);
    assert.equal(rx.received.length, 0, 'the IPE was not asked');
  });
});

describe('outbound destination policy, loopback while every listener is loopback (outbound.loopback=auto)', () => {
  it('reaches a loopback receiver with no allow entry, still refuses link-local and unspecified', async () => {
    const t = await startTestCse({ 'outbound.allow': '' });
    const rx = await new Receiver().start();
    try {
      const ae = await t.client.registerAe('demo');
      assert.equal((await t.client.create('/cse-in/demo', 3, { 'm2m:cnt': { rn: 'box' } }, ae)).rsc, 2001);
      const ok = await t.client.create('/cse-in/demo/box', 23, { 'm2m:sub': { nu: [rx.url] } }, ae);
      assert.equal(ok.rsc, 2001, ok.text);
      for (const nu of ['http://169.254.169.254/latest/meta-data/', `http://0.0.0.0:${rx.port}/notify`]) {
        const refused = await t.client.create('/cse-in/demo/box', 23, { 'm2m:sub': { nu: [nu] } }, ae);
        assert.equal(refused.rsc, 5204, `${nu}: ${refused.text}`);
      }
    } finally {
      await rx.stop();
      await t.close();
    }
  });
});

describe('outbound destination policy, configured', () => {
  it('an explicitly allowed CIDR is reached; other loopback addresses still are not, also for notifications', async () => {
    const t = await startTestCse({ 'outbound.allow': '127.0.0.1/32', 'outbound.loopback': 'deny', 'notifications.maxBackoff': 1, 'notifications.maxAttempts': 3 });
    const rx = await new Receiver().start();
    // 127.0.0.2 is loopback too (Linux routes all of 127/8), but not the allowed /32.
    const other = await recorder('127.0.0.2', ok);
    try {
      const ae = await t.client.registerAe('allowed', { rr: true, poa: [`http://127.0.0.2:${other.port}/`] });
      assert.equal((await t.client.create('/cse-in/allowed', 3, { 'm2m:cnt': { rn: 'box' } }, ae)).rsc, 2001);
      const refused = await t.client.create('/cse-in/allowed/box', 23, { 'm2m:sub': { nu: [`http://127.0.0.2:${other.port}/`] } }, ae);
      assert.equal(refused.rsc, 5204, refused.text);
      // Its own AE-ID needs no verification, so the refusal meets the notification itself.
      const sub = await t.client.create('/cse-in/allowed/box', 23, { 'm2m:sub': { rn: 'both', nu: [ae, rx.url], nse: true, enc: { net: [3] } } }, ae);
      assert.equal(sub.rsc, 2001, sub.text);
      assert.equal(rx.received.length, 1, 'the allowed receiver was verified');
      assert.equal((await t.client.create('/cse-in/allowed/box', 4, { 'm2m:cin': { con: 'x' } }, ae)).rsc, 2001);
      await waitFor(() => rx.notifications().length === 1);
      // The attempt at the refused point of access is counted in the statistics, unanswered.
      await waitFor(async () => {
        const nsi = ((await t.client.retrieve('/cse-in/allowed/box/both', ae)).body?.['m2m:sub'] as Attrs).nsi as Attrs[] | undefined;
        const mine = nsi?.find((e) => e.tg === ae);
        return mine !== undefined && Number(mine.rqs) >= 1 && mine.rsr === 0;
      });
      assert.deepEqual(other.hits, [], 'nothing reached the refused address');
    } finally {
      await stop(other.server);
      await rx.stop();
      await t.close();
    }
  });

  it('outbound.schemes and outbound.ports narrow further', async () => {
    const rx = await new Receiver().start();
    const t = await startTestCse({ 'outbound.schemes': 'https', 'outbound.ports': '443' });
    try {
      const ae = await t.client.registerAe('narrow');
      assert.equal((await t.client.create('/cse-in/narrow', 23, { 'm2m:sub': { nu: [rx.url] } }, ae)).rsc, 5204);
      assert.equal(rx.received.length, 0);
    } finally {
      await t.close();
    }
    const ported = await startTestCse({ 'outbound.ports': String(rx.port + 1) });
    try {
      const ae = await ported.client.registerAe('narrow');
      assert.equal((await ported.client.create('/cse-in/narrow', 23, { 'm2m:sub': { nu: [rx.url] } }, ae)).rsc, 5204);
      assert.equal(rx.received.length, 0);
    } finally {
      await ported.close();
      await rx.stop();
    }
  });

  it('follows no redirect', async () => {
    const t = await startTestCse();
    const rx = await new Receiver().start();
    const redirecting = await recorder('127.0.0.1', (res) => {
      res.writeHead(307, { Location: rx.url });
      res.end();
    });
    try {
      const ae = await t.client.registerAe('redirected');
      const reply = await t.client.create('/cse-in/redirected', 23, { 'm2m:sub': { nu: [`http://127.0.0.1:${redirecting.port}/`] } }, ae);
      assert.equal(reply.rsc, 5204, reply.text);
      assert.equal(redirecting.hits.length, 1);
      assert.equal(rx.received.length, 0, 'the redirect was not followed');
    } finally {
      await stop(redirecting.server);
      await rx.stop();
      await t.close();
    }
  });

  it('over HTTPS the certificate is still verified against the host name of the URL, not the address', async () => {
    const ca = await createCa('Outbound Test CA');
    const named = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], usage: 'server' });
    const caFile = tempDatabase().replace(/warden\.sqlite$/, 'ca.pem');
    writeFileSync(caFile, ca.certificate);
    const hits: string[] = [];
    const server = createHttpsServer({ cert: named.certificate, key: named.key }, (req, res) => {
      hits.push(String(req.headers.host));
      req.resume();
      req.on('end', () => ok(res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const t = await startTestCse({ 'tls.ca': caFile });
    try {
      const ae = await t.client.registerAe('secure');
      const byName = await t.client.create('/cse-in/secure', 23, { 'm2m:sub': { nu: [`https://localhost:${port}/`] } }, ae);
      assert.equal(byName.rsc, 2001, byName.text);
      assert.deepEqual(hits, [`localhost:${port}`], 'the Host header names the host, not the address');
      // The certificate names localhost only: connecting by address must fail the TLS check.
      const byAddress = await t.client.create('/cse-in/secure', 23, { 'm2m:sub': { nu: [`https://127.0.0.1:${port}/`] } }, ae);
      assert.equal(byAddress.rsc, 5204, byAddress.text);
      assert.equal(hits.length, 1);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await t.close();
    }
  });

  it('refuses a malformed outbound setting at start-up, naming the key', async () => {
    await assert.rejects(startTestCse({ 'outbound.allow': '127.0.0.1/33' }), /outbound\.allow: '127\.0\.0\.1\/33'/);
    await assert.rejects(startTestCse({ 'outbound.deny': 'localhost' }), /outbound\.deny: 'localhost' is not an IP address/);
    await assert.rejects(startTestCse({ 'outbound.ports': '0-80' }), /outbound\.ports/);
  });
});
