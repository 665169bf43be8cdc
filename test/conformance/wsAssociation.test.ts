// Which WebSocket connection reaches an AE [TS-0020]: the one it registered on, or one whose credential proves
// it — never one that merely claimed its AE-ID in From, over WS and over WSS with a credential that names no
// oneM2M identity.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { createCa, issueCertificate, type Pem } from '../../src/security/pki.js';
import { startTestCse, type TestCse } from '../harness.js';
import { waitFor } from '../receiver.js';

type Attrs = Record<string, unknown>;

/** A oneM2M WebSocket client that answers every request the CSE sends it with 2000 and records it. */
class Peer {
  readonly received: Attrs[] = [];
  private readonly answers = new Map<string, (doc: Attrs) => void>();
  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      const doc = JSON.parse(data.toString()) as Attrs;
      if (doc.op !== undefined) {
        this.received.push(doc);
        socket.send(JSON.stringify({ rsc: 2000, rqi: doc.rqi, to: doc.fr }));
        return;
      }
      this.answers.get(String(doc.rqi))?.(doc);
    });
  }

  static open(url: string, tls?: { ca: string; cert: string; key: string }): Promise<Peer> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, ['oneM2M.R2.0.json'], tls ?? {});
      socket.once('open', () => resolve(new Peer(socket)));
      socket.once('error', reject);
    });
  }

  ask(doc: Attrs): Promise<Attrs> {
    return new Promise((resolve) => {
      this.answers.set(String(doc.rqi), resolve);
      this.socket.send(JSON.stringify({ rvi: '3', ...doc }));
    });
  }

  close(): void {
    this.socket.close();
  }
}

let n = 0;
const rqi = (): string => `wsa-${++n}`;

/**
 * Registers an AE named `rn` (poa ws://, rr=true) over `peer` with From `from` (its AE-ID, or 'C' to have one
 * assigned), with a container it subscribes to itself; returns its AE-ID.
 */
async function registerListener(peer: Peer, rn: string, from = rn): Promise<string> {
  const reg = await peer.ask({ op: 1, to: 'cse-in', fr: from, rqi: rqi(), ty: 2, pc: { 'm2m:ae': { rn, api: 'Nws', rr: true, poa: ['ws://127.0.0.1'], srv: ['3'] } } });
  assert.equal(reg.rsc, 2001, JSON.stringify(reg.pc));
  const aei = String(((reg.pc as Attrs)['m2m:ae'] as Attrs).aei);
  assert.equal((await peer.ask({ op: 1, to: `cse-in/${rn}`, fr: aei, rqi: rqi(), ty: 3, pc: { 'm2m:cnt': { rn: 'box' } } })).rsc, 2001);
  const sub = await peer.ask({ op: 1, to: `cse-in/${rn}/box`, fr: aei, rqi: rqi(), ty: 23, pc: { 'm2m:sub': { rn: 'self', nu: [aei], enc: { net: [3] } } } });
  assert.equal(sub.rsc, 2001, JSON.stringify(sub.pc));
  return aei;
}

/**
 * A new instance in the listener's container, written by the admin over HTTP (a request of the listener on its
 * own connection would associate that connection again): its notification goes down the connection that
 * reaches the listener.
 */
async function notifyListener(t: TestCse, aei: string, marker: string): Promise<void> {
  assert.equal((await t.client.create(`/cse-in/${aei}/box`, 4, { 'm2m:cin': { con: marker } }, 'CAdmin')).rsc, 2001);
}

const carries = (doc: Attrs, marker: string): boolean => JSON.stringify(doc.pc ?? {}).includes(marker);

describe('WebSocket connection association', () => {
  describe('over WS', () => {
    let t: TestCse;
    before(async () => {
      t = await startTestCse({ 'ws.enabled': true, 'ws.port': 0 });
    });
    after(() => t.close());

    it('a connection that only claims an AE-ID in From does not receive that AE’s requests', async () => {
      const url = `ws://127.0.0.1:${String(t.cse.wsPort)}`;
      const victim = await Peer.open(url);
      const thief = await Peer.open(url);
      try {
        await registerListener(victim, 'Cwsvictim');
        // Answered 2000 and 1001, but neither is a registration on this connection.
        assert.equal((await thief.ask({ op: 2, to: 'cse-in/Cwsvictim', fr: 'Cwsvictim', rqi: rqi() })).rsc, 2000);
        assert.equal((await thief.ask({ op: 2, to: 'cse-in/Cwsvictim', fr: 'Cwsvictim', rqi: rqi(), rt: { rtv: 1 } })).rsc, 1001);
        await notifyListener(t, 'Cwsvictim', 'for-the-victim');
        await waitFor(() => victim.received.some((d) => carries(d, 'for-the-victim')));
        assert.equal(thief.received.length, 0, JSON.stringify(thief.received));
      } finally {
        victim.close();
        thief.close();
      }
    });

    it('a deregistered AE’s connection does not receive the requests for the next holder of its AE-ID', async () => {
      const url = `ws://127.0.0.1:${String(t.cse.wsPort)}`;
      const first = await Peer.open(url);
      await registerListener(first, 'Cwsreused');
      assert.equal((await first.ask({ op: 4, to: 'cse-in/Cwsreused', fr: 'Cwsreused', rqi: rqi() })).rsc, 2002);
      // The next holder registers over HTTP: no connection of its own reaches it.
      assert.equal((await t.client.create('/cse-in', 2, { 'm2m:ae': { rn: 'Cwsreused', api: 'Nws', rr: true, poa: ['ws://127.0.0.1'], srv: ['3'] } }, 'Cwsreused')).rsc, 2001);
      assert.equal((await t.client.create('/cse-in/Cwsreused', 3, { 'm2m:cnt': { rn: 'box' } }, 'Cwsreused')).rsc, 2001);
      const sub = await t.client.create('/cse-in/Cwsreused/box', 23, { 'm2m:sub': { rn: 'watch', nu: ['Cwsreused'], enc: { net: [3] }, nse: true } }, 'Cwsreused');
      assert.equal(sub.rsc, 2001, sub.text);
      try {
        assert.equal((await t.client.create('/cse-in/Cwsreused/box', 4, { 'm2m:cin': { con: 'for-the-new-holder' } }, 'Cwsreused')).rsc, 2001);
        // The statistics record the attempt and whether anyone answered it.
        const stats = async (): Promise<Attrs | undefined> =>
          ((await t.client.retrieve('/cse-in/Cwsreused/box/watch', 'Cwsreused')).body?.['m2m:sub'] as { nsi?: Attrs[] }).nsi?.[0];
        await waitFor(async () => Number((await stats())?.rqs ?? 0) >= 1);
        assert.equal((await stats())?.rsr, 0, 'nobody answered for the new holder');
        assert.ok(!first.received.some((d) => carries(d, 'for-the-new-holder')), 'the old connection got the new holder’s notification');
      } finally {
        first.close();
      }
    });
  });

  describe('over WSS with mutual TLS', () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-wsa-'));
    let ca: Pem;
    let t: TestCse;
    let named: { ca: string; cert: string; key: string };
    let anonymous: { ca: string; cert: string; key: string };
    before(async () => {
      ca = await createCa('WS Association CA');
      const server = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'both' });
      const victimCert = await issueCertificate(ca, { commonName: 'Cwssvictim', uris: ['onem2m://warden.example.net/id-in/Cwssvictim'], usage: 'client' });
      const deviceCert = await issueCertificate(ca, { commonName: 'device', uris: [], usage: 'client' });
      named = { ca: ca.certificate, cert: victimCert.certificate, key: victimCert.key };
      anonymous = { ca: ca.certificate, cert: deviceCert.certificate, key: deviceCert.key };
      const file = (name: string, text: string): string => {
        const path = join(dir, name);
        writeFileSync(path, text);
        return path;
      };
      t = await startTestCse({
        'ws.enabled': true,
        'ws.port': 0,
        'ws.tls': true,
        'tls.cert': file('server.pem', server.certificate),
        'tls.key': file('server.key', server.key),
        'tls.ca': file('ca.pem', ca.certificate),
        'tls.clientAuth': 'required',
        // Plain HTTP on loopback stays open to the admin, which writes the instances that cause notifications.
        'security.authentication': 'cse',
      });
    });
    after(() => t.close());

    it('a credential without oneM2M names cannot take over a registered AE’s connection with a CREATE of <AE> elsewhere', async () => {
      const url = `wss://localhost:${String(t.cse.wsPort)}`;
      const victim = await Peer.open(url, named);
      const thief = await Peer.open(url, anonymous);
      try {
        await registerListener(victim, 'Cwssvictim');
        for (const to of ['cse-in/Cwssvictim', 'cse-in/Cwssvictim/box', '/id-in/cse-in/Cwssvictim']) {
          const taken = await thief.ask({ op: 1, to, fr: 'Cwssvictim', rqi: rqi(), ty: 2, rt: { rtv: 1 }, pc: { 'm2m:ae': { api: 'Nx', rr: true, srv: ['3'] } } });
          assert.equal(taken.rsc, 4106, `${to}: ${JSON.stringify(taken.pc)}`);
        }
        const again = await thief.ask({ op: 1, to: 'cse-in', fr: 'Cwssvictim', rqi: rqi(), ty: 2, pc: { 'm2m:ae': { api: 'Nx', rr: true, srv: ['3'] } } });
        assert.equal(again.rsc, 4106, 'nor by registering its AE-ID again');
        await notifyListener(t, 'Cwssvictim', 'wss-victim');
        await waitFor(() => victim.received.some((d) => carries(d, 'wss-victim')));
        assert.equal(thief.received.length, 0, JSON.stringify(thief.received));
      } finally {
        victim.close();
        thief.close();
      }
    });

    it('a credential without oneM2M names reaches the one AE it registered, on that connection', async () => {
      const url = `wss://localhost:${String(t.cse.wsPort)}`;
      const device = await Peer.open(url, anonymous);
      try {
        await registerListener(device, 'Cwssdevice', 'C');
        await notifyListener(t, 'Cwssdevice', 'wss-device');
        await waitFor(() => device.received.some((d) => carries(d, 'wss-device')));
        const second = await device.ask({ op: 1, to: 'cse-in', fr: 'C', rqi: rqi(), ty: 2, pc: { 'm2m:ae': { api: 'Nx', rr: true, srv: ['3'] } } });
        assert.equal(second.rsc, 4117, 'one AE per credential that names none');
      } finally {
        device.close();
      }
    });
  });
});
