// The operations listener (issue #16): /live, /ready and /metrics on their own port. Readiness follows the
// database (through a TCP relay the test controls; the shared PostgreSQL is never stopped), metrics move with
// requests, denials and deliveries, and the listener never serves resource data.
import assert from 'node:assert/strict';
import { get as httpGet } from 'node:http';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createCa, issueCertificate } from '../../src/security/pki.js';
import { startTestCse } from '../harness.js';
import { createTestDatabase } from '../postgres.js';
import { Receiver, waitFor } from '../receiver.js';

/** Loaded machine: eventual states are awaited generously; no assertion is about time. */
const EVENTUALLY_MS = 30_000;

/** A TCP relay in front of PostgreSQL: `down()` cuts every connection and refuses new ones until `up()`. */
class Relay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private cut = false;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<this> {
    this.server = createServer((client) => {
      if (this.cut) {
        client.destroy();
        return;
      }
      const upstream = connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.port = (this.server?.address() as { port: number }).port;
    return this;
  }

  down(): void {
    this.cut = true;
    for (const s of this.sockets) s.destroy();
  }

  up(): void {
    this.cut = false;
  }

  async stop(): Promise<void> {
    this.down();
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}

async function get(port: number, path: string): Promise<{ status: number; text: string; type: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') ?? '' };
}

/** The value of one sample of the exposition text (labels in the order prom-client writes them); 0 when absent. */
function sample(metrics: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of metrics.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? '').split(',').filter(Boolean);
    if (wanted.every((w) => have.includes(w)) && have.length === wanted.length) return Number(m[3]);
  }
  return 0;
}

describe('operations listener: health and metrics', () => {
  it('is off by default in tests (ops.port=0) and on a port of its own when asked', async () => {
    const off = await startTestCse();
    try {
      assert.equal(off.cse.opsPort, undefined);
    } finally {
      await off.close();
    }
    const on = await startTestCse({}, { opsPort: 0 });
    try {
      assert.equal(typeof on.cse.opsPort, 'number');
      assert.notEqual(on.cse.opsPort, on.cse.httpPort);
    } finally {
      await on.close();
    }
  });

  it('answers /live and /ready, and serves no resource data', async () => {
    const t = await startTestCse({}, { opsPort: 0 });
    const port = t.cse.opsPort as number;
    try {
      const live = await get(port, '/live');
      assert.equal(live.status, 200);
      assert.deepEqual(JSON.parse(live.text), { status: 'live' });
      const ready = await get(port, '/ready');
      assert.equal(ready.status, 200);
      assert.deepEqual(JSON.parse(ready.text), { status: 'ready', dependencies: { database: 'up' } });
      for (const path of ['/cse-in', '/~/id-in/cse-in', '/']) assert.equal((await get(port, path)).status, 404, path);
      const post = await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST', body: 'x' });
      assert.equal(post.status, 405);
    } finally {
      await t.close();
    }
  });

  it('answers only Host names it serves (a page rebound to its address reads nothing), or those of ops.allowedHosts', async () => {
    const asked = (port: number, host: string, path: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = httpGet({ host: '127.0.0.1', port, path, headers: { Host: host } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
      });
    const t = await startTestCse({}, { opsPort: 0 });
    try {
      const port = t.cse.opsPort as number;
      for (const path of ['/ready', '/metrics', '/live']) assert.equal(await asked(port, 'attacker.example', path), 400, path);
      assert.equal(await asked(port, `127.0.0.1:${port}`, '/ready'), 200);
      assert.equal(await asked(port, 'localhost', '/metrics'), 200);
    } finally {
      await t.close();
    }
    const named = await startTestCse({ 'ops.allowedHosts': 'warden-1.internal' }, { opsPort: 0 });
    try {
      assert.equal(await asked(named.cse.opsPort as number, 'warden-1.internal:9464', '/metrics'), 200);
    } finally {
      await named.close();
    }
  });

  it('counts requests by operation, RSC and binding, their latency, and access denials by reason', async () => {
    const t = await startTestCse({}, { opsPort: 0 });
    const port = t.cse.opsPort as number;
    try {
      const before = (await get(port, '/metrics')).text;
      const ok = { op: 'retrieve', rsc: '2000', binding: 'http' };
      const denied = { op: 'retrieve', rsc: '4103', binding: 'http' };
      const ae = await t.client.registerAe('meter');
      assert.equal((await t.client.retrieve('/cse-in/meter', ae)).rsc, 2000);
      assert.equal((await t.client.retrieve('/cse-in/meter', ae)).rsc, 2000);
      const other = await t.client.registerAe('other');
      assert.equal((await t.client.retrieve('/cse-in/meter', other)).rsc, 4103);
      // An unregistered originator that is not the registering one is not authenticated.
      assert.equal((await t.client.retrieve('/cse-in/meter', 'Cstranger')).rsc, 4106);
      const after = await get(port, '/metrics');
      assert.match(after.type, /^text\/plain/);
      assert.equal(sample(after.text, 'warden_requests_total', ok) - sample(before, 'warden_requests_total', ok), 2);
      assert.equal(sample(after.text, 'warden_requests_total', denied) - sample(before, 'warden_requests_total', denied), 1);
      assert.equal(sample(after.text, 'warden_requests_total', { op: 'create', rsc: '2001', binding: 'http' }), 2);
      assert.equal(sample(after.text, 'warden_request_duration_seconds_count', { op: 'retrieve' }) - sample(before, 'warden_request_duration_seconds_count', { op: 'retrieve' }), 4);
      assert.ok(sample(after.text, 'warden_request_duration_seconds_bucket', { le: '+Inf', op: 'retrieve' }) >= 4);
      assert.equal(sample(after.text, 'warden_access_denials_total', { reason: 'no-policy-not-creator' }), 1);
      assert.equal(sample(after.text, 'warden_access_denials_total', { reason: 'originator-not-authenticated' }), 1);
      // A request whose operation is not valid adds no label set of its own.
      await t.client.request('PATCH', '/cse-in', { origin: 'CAdmin' });
      const third = (await get(port, '/metrics')).text;
      assert.doesNotMatch(third, /op="(?!invalid|create|retrieve|update|delete|notify)/);
      // Queue depths, process metrics and the dependency gauge are there for the dashboard.
      assert.match(third, /^warden_outbox_queue_depth\{queue="notifications"\} \d+$/m);
      assert.match(third, /^warden_process_cpu_seconds_total /m);
      await get(port, '/ready');
      assert.equal(sample((await get(port, '/metrics')).text, 'warden_dependency_up', { dependency: 'database' }), 1);
    } finally {
      await t.close();
    }
  });

  it('counts notification deliveries and failures per target class', async () => {
    const t = await startTestCse({ 'notifications.maxAttempts': 1 }, { opsPort: 0 });
    const port = t.cse.opsPort as number;
    const good = await new Receiver().start();
    const bad = await new Receiver().start();
    try {
      const ae = await t.client.registerAe('notifier');
      assert.equal((await t.client.create('/cse-in/notifier', 3, { 'm2m:cnt': { rn: 'c' } }, ae)).rsc, 2001);
      for (const rx of [good, bad]) assert.equal((await t.client.create('/cse-in/notifier/c', 23, { 'm2m:sub': { nu: [rx.url], enc: { net: [3] } } }, ae)).rsc, 2001);
      bad.behaviour = 'refuse';
      const delivered = { target_class: 'http', result: 'delivered' };
      const failed = { target_class: 'http', result: 'failed' };
      const before = (await get(port, '/metrics')).text;
      assert.equal((await t.client.create('/cse-in/notifier/c', 4, { 'm2m:cin': { con: 'x' } }, ae)).rsc, 2001);
      await waitFor(async () => {
        const now = (await get(port, '/metrics')).text;
        return sample(now, 'warden_notification_deliveries_total', delivered) > sample(before, 'warden_notification_deliveries_total', delivered) &&
          sample(now, 'warden_notification_deliveries_total', failed) > sample(before, 'warden_notification_deliveries_total', failed);
      }, EVENTUALLY_MS);
    } finally {
      await t.close();
      await good.stop();
      await bad.stop();
    }
  });

  it("shows the time left on the CSE's own certificate, and no sample without one", async () => {
    const plain = await startTestCse({}, { opsPort: 0 });
    try {
      assert.doesNotMatch((await get(plain.cse.opsPort as number, '/metrics')).text, /^warden_certificate_expiry_seconds/m);
    } finally {
      await plain.close();
    }
    const dir = mkdtempSync(join(tmpdir(), 'warden-ops-tls-'));
    const ca = await createCa('Ops Test CA');
    const notAfter = new Date(Date.now() + 20 * 86_400_000);
    const server = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'both', notAfter });
    writeFileSync(join(dir, 'server.pem'), server.certificate);
    writeFileSync(join(dir, 'server.key'), server.key);
    writeFileSync(join(dir, 'ca.pem'), ca.certificate);
    const t = await startTestCse({ 'http.tls': true, 'tls.cert': join(dir, 'server.pem'), 'tls.key': join(dir, 'server.key'), 'tls.ca': join(dir, 'ca.pem') }, { opsPort: 0 });
    try {
      const left = sample((await get(t.cse.opsPort as number, '/metrics')).text, 'warden_certificate_expiry_seconds', { certificate: 'cse' });
      // About 20 days; the margin is only for certificate time granularity, not a timing assertion.
      assert.ok(left > 19 * 86_400 && left <= 20 * 86_400, String(left));
    } finally {
      await t.close();
    }
  });

  it('the example Grafana dashboard (docs/grafana-dashboard.json) asks only for metrics Warden exposes', async () => {
    const dashboard = JSON.parse(readFileSync(fileURLToPath(new URL('../../../docs/grafana-dashboard.json', import.meta.url)), 'utf8')) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    const t = await startTestCse({}, { opsPort: 0 });
    try {
      const exposed = (await get(t.cse.opsPort as number, '/metrics')).text;
      const names = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((target) => [...target.expr.matchAll(/\b(warden_\w+)/g)].map((m) => m[1] as string))));
      assert.ok(names.size >= 10);
      for (const name of names) {
        const family = name.replace(/_(bucket|sum|count)$/, '');
        assert.ok(exposed.includes(`# HELP ${family} `), `${name} is exposed`);
      }
    } finally {
      await t.close();
    }
  });

  it('follows the MQTT broker when that binding is on: not ready while it is unreachable, ready again after', async () => {
    const broker = new URL(process.env.WARDEN_TEST_MQTT ?? 'mqtt://127.0.0.1:1883');
    const relay = await new Relay(broker.hostname, Number(broker.port || 1883)).start();
    const t = await startTestCse({ 'mqtt.enabled': true, 'mqtt.url': `mqtt://127.0.0.1:${relay.port}`, 'cse.id': `id-ops${process.pid}` }, { opsPort: 0 });
    const port = t.cse.opsPort as number;
    try {
      const ready = await get(port, '/ready');
      assert.equal(ready.status, 200);
      assert.deepEqual((JSON.parse(ready.text) as { dependencies: unknown }).dependencies, { database: 'up', mqtt: 'up' });
      relay.down();
      let body: Record<string, unknown> = {};
      await waitFor(async () => {
        const r = await get(port, '/ready');
        body = JSON.parse(r.text) as Record<string, unknown>;
        return r.status === 503;
      }, EVENTUALLY_MS);
      assert.equal(body.reason, 'mqtt: not connected to the broker');
      relay.up();
      await waitFor(async () => (await get(port, '/ready')).status === 200, EVENTUALLY_MS);
    } finally {
      await t.close();
      await relay.stop();
    }
  });

  it('turns /ready red with the reason while the database is unreachable, and green again after', async () => {
    const db = await createTestDatabase();
    const server = new URL(db.url);
    const relay = await new Relay(server.hostname, Number(server.port || 5432)).start();
    const viaRelay = new URL(db.url);
    viaRelay.port = String(relay.port);
    const t = await startTestCse({ 'storage.backend': 'postgres', 'storage.url': viaRelay.toString() }, { opsPort: 0 });
    const port = t.cse.opsPort as number;
    try {
      assert.equal((await get(port, '/ready')).status, 200);
      const metrics = (await get(port, '/metrics')).text;
      assert.ok(sample(metrics, 'warden_db_pool_connections', { state: 'total' }) >= 1, 'the pool is shown');
      relay.down();
      let body: Record<string, unknown> = {};
      await waitFor(async () => {
        const ready = await get(port, '/ready');
        body = JSON.parse(ready.text) as Record<string, unknown>;
        return ready.status === 503;
      }, EVENTUALLY_MS);
      assert.equal(body.status, 'not ready');
      assert.match(String(body.reason), /^database: /);
      assert.equal((await get(port, '/live')).status, 200, 'a process waiting for its database is alive');
      assert.equal(sample((await get(port, '/metrics')).text, 'warden_dependency_up', { dependency: 'database' }), 0);
      relay.up();
      await waitFor(async () => (await get(port, '/ready')).status === 200, EVENTUALLY_MS);
      assert.equal((await t.client.retrieve('/cse-in', 'CAdmin')).rsc, 2000);
    } finally {
      await t.close();
      await relay.stop();
      await db.drop();
    }
  });
});
