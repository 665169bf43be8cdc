// Address classification of the outbound destination policy (src/security/outboundPolicy.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpOutbound } from '../../src/bindings/http/client.js';
import type { Logger } from '../../src/log/logger.js';
import { DEFAULT_OUTBOUND, OutboundPolicy, isOutboundRefused, loopbackOpen } from '../../src/security/outboundPolicy.js';

const policy = (extra: Partial<typeof DEFAULT_OUTBOUND> = {}): OutboundPolicy => new OutboundPolicy({ ...DEFAULT_OUTBOUND, ...extra });

describe('outbound policy: addresses', () => {
  const defaults = policy();

  it('refuses loopback, unspecified, link-local, metadata, multicast and broadcast by default', () => {
    for (const a of ['127.0.0.1', '127.255.255.254', '0.0.0.0', '0.1.2.3', '169.254.169.254', '169.254.0.1', '100.100.100.200', '192.0.0.192', '224.0.0.1', '239.255.255.250', '255.255.255.255', '240.0.0.1']) {
      assert.ok(defaults.checkAddress(a), `${a} refused`);
    }
    for (const a of ['::1', '::', 'fe80::1', 'febf::1', 'ff02::1', 'fd00:ec2::254', 'fec0::1']) {
      assert.ok(defaults.checkAddress(a), `${a} refused`);
    }
    assert.match(defaults.checkAddress('127.0.0.1') ?? '', /loopback \(127\.0\.0\.0\/8\)/);
    assert.match(defaults.checkAddress('169.254.169.254') ?? '', /link-local/);
  });

  it('sees through IPv6 forms that carry an IPv4 address', () => {
    for (const a of ['::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:169.254.169.254', '::ffff:0.0.0.0', '::127.0.0.1', '::ffff:0:127.0.0.1', '64:ff9b::127.0.0.1', '64:ff9b::a9fe:a9fe', '2002:7f00:1::1']) {
      assert.match(defaults.checkAddress(a) ?? '', /carries/, `${a} refused as the IPv4 address it carries`);
    }
    assert.equal(defaults.checkAddress('::ffff:8.8.8.8'), undefined);
    assert.equal(defaults.checkAddress('64:ff9b::8.8.8.8'), undefined);
  });

  it('permits public and private unicast by default (a CSE notifies devices on its LAN)', () => {
    for (const a of ['8.8.8.8', '10.1.2.3', '172.16.0.1', '192.168.1.10', '100.64.0.1', '2001:db8::1', 'fd12:3456::1', '169.253.255.255', '169.255.0.0', '128.0.0.1', '126.255.255.255']) {
      assert.equal(defaults.checkAddress(a), undefined, a);
    }
  });

  it("lets the most specific range decide; between equal ranges the operator's deny, then allow, then the built-in list", () => {
    const p = policy({ allow: '127.0.0.1/32,10.0.0.0/8', deny: '10.1.0.0/16,192.168.0.0/16,0.0.0.0/0,::/0' });
    assert.equal(p.checkAddress('127.0.0.1'), undefined, 'allow /32 beats the built-in /8');
    assert.equal(p.checkAddress('::ffff:127.0.0.1'), undefined, 'and covers its IPv4-mapped form');
    assert.ok(p.checkAddress('127.0.0.2'));
    assert.equal(p.checkAddress('10.2.3.4'), undefined, 'allow /8 beats deny /0');
    assert.match(p.checkAddress('10.1.2.3') ?? '', /outbound\.deny 10\.1\.0\.0\/16/, 'deny /16 beats allow /8');
    assert.ok(p.checkAddress('8.8.8.8'), 'deny 0.0.0.0/0: only the allow list');
    assert.ok(p.checkAddress('2001:db8::1'));
    assert.ok(policy({ allow: '10.0.0.0/8', deny: '10.0.0.0/8' }).checkAddress('10.0.0.1'), "the operator's deny beats its allow");
    assert.equal(policy({ allow: '127.0.0.0/8' }).checkAddress('127.0.0.9'), undefined, "the operator's allow beats the built-in list");
    assert.equal(policy({ allow: '::1' }).checkAddress('::1'), undefined, 'a single address is a /128');
    assert.ok(policy({ deny: '10.0.0.0/8' }).checkAddress('::ffff:10.0.0.1'), 'operator ranges see mapped forms too');
  });

  it('refuses what is not an address', () => {
    assert.ok(defaults.checkAddress('localhost'));
    assert.ok(defaults.checkAddress('2130706433'), 'a number is resolved first, never compared as text');
  });
});

describe('outbound policy: loopback by listeners (outbound.loopback)', () => {
  it('auto opens loopback only while every listener is loopback and MQTT is off', () => {
    assert.equal(loopbackOpen({ setting: 'auto', hosts: ['127.0.0.1'], mqtt: false, behindProxy: false }), true);
    assert.equal(loopbackOpen({ setting: 'auto', hosts: ['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.2'], mqtt: false, behindProxy: false }), true);
    assert.equal(loopbackOpen({ setting: 'auto', hosts: ['127.0.0.1', '0.0.0.0'], mqtt: false, behindProxy: false }), false);
    assert.equal(loopbackOpen({ setting: 'auto', hosts: ['::'], mqtt: false, behindProxy: false }), false);
    assert.equal(loopbackOpen({ setting: 'auto', hosts: ['192.168.1.10'], mqtt: false, behindProxy: false }), false);
    assert.equal(loopbackOpen({ setting: 'auto', hosts: ['127.0.0.1'], mqtt: true, behindProxy: false }), false);
    assert.equal(loopbackOpen({ setting: 'allow', hosts: ['0.0.0.0'], mqtt: true, behindProxy: false }), true);
    assert.equal(loopbackOpen({ setting: 'deny', hosts: ['127.0.0.1'], mqtt: false, behindProxy: false }), false);
    // A reverse proxy on this machine (security.adminFromLoopback=false) forwards remote clients to a loopback listener.
    assert.equal(loopbackOpen({ setting: 'auto', hosts: ['127.0.0.1'], mqtt: false, behindProxy: true }), false);
  });
  it('an open loopback is only 127.0.0.0/8 and ::1: unspecified and link-local stay refused', () => {
    const policy = new OutboundPolicy({ ...DEFAULT_OUTBOUND, loopback: true });
    assert.equal(policy.checkAddress('127.0.0.1'), undefined);
    assert.equal(policy.checkAddress('::1'), undefined);
    assert.equal(policy.checkAddress('::ffff:127.0.0.1'), undefined);
    assert.notEqual(policy.checkAddress('0.0.0.0'), undefined);
    assert.notEqual(policy.checkAddress('169.254.169.254'), undefined);
    assert.notEqual(new OutboundPolicy(DEFAULT_OUTBOUND).checkAddress('127.0.0.1'), undefined);
  });
});

describe('outbound policy: URLs', () => {
  const defaults = policy();
  it('decides IP-literal URLs in every spelling the URL parser normalises', () => {
    for (const u of ['http://2130706433/', 'http://0x7f.1/', 'http://0177.0.0.1/', 'http://127.1/', 'http://127.0.0.1./', 'http://[::ffff:127.0.0.1]/', 'http://0/', 'http://[::]/', 'https://[::1]:8443/', 'http://169.254.169.254/latest']) {
      assert.ok(defaults.checkUrl(new URL(u)), u);
    }
    assert.equal(defaults.checkUrl(new URL('http://192.168.1.20:8080/')), undefined);
    assert.equal(defaults.checkUrl(new URL('http://example.com/')), undefined, 'a name is decided once resolved');
  });

  it('checks schemes and ports, and only the scheme where the URL host is not connected to', () => {
    const p = policy({ schemes: 'https,mqtt', ports: '443,8000-8999' });
    assert.match(p.checkUrl(new URL('http://8.8.8.8/')) ?? '', /scheme 'http'/);
    assert.equal(p.checkUrl(new URL('https://8.8.8.8/')), undefined, 'default port 443');
    assert.equal(p.checkUrl(new URL('https://8.8.8.8:8500/')), undefined);
    assert.match(p.checkUrl(new URL('https://8.8.8.8:9000/')) ?? '', /port 9000/);
    assert.equal(p.checkUrl(new URL('mqtt://127.0.0.1:1/'), false), undefined, 'mqtt: the broker carries it');
    assert.ok(p.checkUrl(new URL('coap://8.8.8.8/'), false), 'the scheme still counts');
  });

  it('rejects malformed settings', () => {
    assert.throws(() => policy({ allow: '10.0.0.0/33' }), /prefix length/);
    assert.throws(() => policy({ deny: 'example.com' }), /not an IP address/);
    assert.throws(() => policy({ ports: '80-70' }), /port range/);
    assert.throws(() => policy({ schemes: 'ht tp' }), /not a URL scheme/);
  });
});

describe('outbound policy: resolution', () => {
  it('resolves once and keeps only permitted addresses', async () => {
    const defaults = policy();
    await assert.rejects(defaults.resolve('localhost'), (e: unknown) => isOutboundRefused(e) && /loopback/.test(e.reason));
    await assert.rejects(defaults.resolve('2130706433'), (e: unknown) => isOutboundRefused(e), 'getaddrinfo reads the number as 127.0.0.1');
    await assert.rejects(defaults.resolve('[::1]'), (e: unknown) => isOutboundRefused(e));
    const open = policy({ allow: '127.0.0.0/8' });
    assert.equal((await open.resolve('2130706433')).address, '127.0.0.1');
  });

  it('is a lookup function net and http call (all: true or one address)', async () => {
    const defaults = policy();
    const one = await new Promise<unknown>((resolve) => defaults.lookup('localhost', { family: 4 }, (err) => resolve(err)));
    assert.ok(isOutboundRefused(one));
    const open = policy({ allow: '127.0.0.0/8' });
    const all = await new Promise<unknown>((resolve, reject) => open.lookup('localhost', { all: true, family: 4 }, (err, addresses) => (err ? reject(err) : resolve(addresses))));
    assert.deepEqual(all, [{ address: '127.0.0.1', family: 4 }]);
  });
});

describe('outbound policy: the HTTP client', () => {
  it('sends nothing to a refused destination, logs a security event and answers like an unreachable target', async () => {
    const events: Array<Record<string, unknown>> = [];
    const log = { warn: (fields: Record<string, unknown>, message: string) => events.push({ ...fields, message }) } as unknown as Logger;
    const outbound = new HttpOutbound(1000, undefined, { log });
    try {
      const primitive = { op: 5, to: 'Cx', fr: '/id-in', rqi: 'r1', pc: {} } as const;
      const literal = await outbound.send('http://user:secret@2130706433:9/x?token=t', primitive);
      assert.equal(literal.rsc, 5103);
      assert.match(literal.refused ?? '', /loopback/);
      const named = await outbound.send('http://localhost:9/', primitive);
      assert.match(named.refused ?? '', /loopback/, 'refused once resolved');
      assert.equal(events.length, 2);
      assert.equal(events[0]?.event, 'outbound-refused');
      assert.equal(events[0]?.message, 'security event');
      assert.equal(events[0]?.destination, 'http://127.0.0.1:9', 'no user info, path or query in the log');
      const open = new HttpOutbound(1000, undefined, { policy: policy({ allow: '127.0.0.0/8' }) });
      const unreachable = await open.send('http://127.0.0.1:9/', primitive);
      open.close();
      assert.equal(unreachable.rsc, 5103);
      assert.equal(unreachable.refused, undefined, 'a network failure is no refusal');
    } finally {
      outbound.close();
    }
  });
});
