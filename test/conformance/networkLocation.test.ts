// Network-based <locationPolicy> [TS-0001 §9.6.10, §10.2.9.2]: the CSE asks a location server (here a fake one
// speaking OMA RESTful NetAPI for Terminal Location) for a terminal's position, stores it, and — for a policy the
// admin wrote under an AE — makes it that AE's location for accessControlLocationRegion (aclr), which then grants
// inside the region and denies outside, when unknown or stale; a device-reported location never grants. Also the
// periodic behaviour of locationUpdatePeriod (lou) for a device-based policy.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { once } from 'node:events';
import { ManualClock, spawnWarden, startTestCse, stopWarden, type TestCse } from '../harness.js';
import { createTestDatabase } from '../postgres.js';
import { waitFor } from '../receiver.js';

type Attrs = Record<string, unknown>;
const LCP = 10;
const START = Date.UTC(2026, 11, 5, 9, 0, 0);
/** Berlin, the region the access rule allows (1 km around it), and a place far outside it. */
const BERLIN = { latitude: 52.52, longitude: 13.405 };
const MUNICH = { latitude: 48.137, longitude: 11.575 };

interface Terminal {
  latitude: number;
  longitude: number;
  /** How old the network says the position is, ms. */
  ageMs?: number;
}

/** A location server: GET …/queries/location?address=…; answers what `terminals` says, or HTTP `failWith`. */
class FakeLocationServer {
  readonly terminals = new Map<string, Terminal>();
  readonly queries: URL[] = [];
  failWith: number | undefined;
  private server: Server | undefined;
  constructor(private readonly clock: { now(): number }) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      this.queries.push(url);
      if (this.failWith !== undefined || req.method !== 'GET' || url.pathname !== '/location/v1/queries/location') {
        res.writeHead(this.failWith ?? 404, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ requestError: { serviceException: { messageId: 'SVC0001', text: 'failure' } } }));
        return;
      }
      const address = url.searchParams.get('address') ?? '';
      const terminal = this.terminals.get(address);
      const entry = terminal
        ? {
            address,
            locationRetrievalStatus: 'Retrieved',
            currentLocation: { latitude: terminal.latitude, longitude: terminal.longitude, accuracy: 50, timestamp: new Date(this.clock.now() - (terminal.ageMs ?? 0)).toISOString() },
          }
        : { address, locationRetrievalStatus: 'NotRetrieved' };
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ terminalLocationList: { terminalLocation: [entry] } }));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this;
  }
  get url(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}/location/v1`;
  }
  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

describe('network-based <locationPolicy> and accessControlLocationRegion', () => {
  const clock = new ManualClock(START);
  let t: TestCse;
  let server: FakeLocationServer;
  let roamer: string;
  const ADMIN = 'CAdmin';

  before(async () => {
    server = await new FakeLocationServer(clock).start();
    t = await startTestCse({ 'location.server': server.url, 'location.maxAge': 300 }, { clock });
    roamer = await t.client.registerAe('roamer');
    // A resource only an originator inside Berlin may read.
    const acp = await t.client.create('/cse-in', 1, {
      'm2m:acp': { rn: 'berlinOnly', pv: { acr: [{ acor: [roamer], acop: 2, acco: [{ aclr: { accr: [BERLIN.latitude, BERLIN.longitude, 1000] } }] }] }, pvs: { acr: [{ acor: [ADMIN], acop: 63 }] } },
    }, ADMIN);
    assert.equal(acp.rsc, 2001, acp.text);
    const acpi = [String((acp.body?.['m2m:acp'] as Attrs).ri)];
    assert.equal((await t.client.create('/cse-in', 3, { 'm2m:cnt': { rn: 'vault', acpi } }, ADMIN)).rsc, 2001);
  });
  after(async () => {
    await t.close();
    await server.stop();
  });

  const vault = async (): Promise<number> => (await t.client.retrieve('/cse-in/vault', roamer)).rsc;
  const policy = async (path: string, origin = ADMIN): Promise<Attrs> => (await t.client.retrieve(path, origin)).body?.['m2m:lcp'] as Attrs;
  const latest = async (container: string, origin = ADMIN): Promise<unknown> => ((await t.client.retrieve(`${container}/la`, origin)).body?.['m2m:cin'] as Attrs | undefined)?.con;
  /** Advances the CSE's clock by a period and waits until the location server has been asked again. */
  async function nextPeriod(ms = 60_000): Promise<void> {
    const asked = server.queries.length;
    clock.advance(ms);
    t.cse.deliverer.wake();
    await waitFor(() => server.queries.length > asked);
    await waitFor(async () => (await t.cse.services.store.countQueuedByPrefix('loc:', 10)) === 0);
  }

  it('asks the server on creation and each period, stores the position, and grants aclr only while it is inside and fresh', async () => {
    server.terminals.set('tel:+4930111', { ...BERLIN });
    assert.equal(await vault(), 4103, 'no location known yet');
    const created = await t.client.create('/cse-in/roamer', LCP, { 'm2m:lcp': { rn: 'net', los: 1, lot: 'tel:+4930111', lou: ['PT1M'], lon: 'netPositions' } }, ADMIN);
    assert.equal(created.rsc, 2001, created.text);
    await waitFor(async () => (await policy('/cse-in/roamer/net')).lost === 'Retrieved');
    const query = server.queries[0];
    assert.equal(query?.searchParams.get('address'), 'tel:+4930111');
    assert.equal(query?.searchParams.get('requestedAccuracy'), '1000');
    assert.deepEqual(JSON.parse(String(await latest('/cse-in/roamer/netPositions'))), { type: 'Point', coordinates: [BERLIN.longitude, BERLIN.latitude] });
    assert.equal(await vault(), 2000, 'inside the region, as the network says');

    server.terminals.set('tel:+4930111', { ...MUNICH });
    await nextPeriod();
    assert.deepEqual((JSON.parse(String(await latest('/cse-in/roamer/netPositions'))) as { coordinates: unknown }).coordinates, [MUNICH.longitude, MUNICH.latitude]);
    assert.equal(await vault(), 4103, 'outside the region');

    server.terminals.set('tel:+4930111', { ...BERLIN });
    await nextPeriod();
    assert.equal(await vault(), 2000, 'inside again');

    // The server fails: the location is unknown at once, and unknown denies.
    server.failWith = 503;
    await nextPeriod();
    assert.match(String((await policy('/cse-in/roamer/net')).lost), /^Error: the location server answered HTTP 503/);
    assert.equal(await vault(), 4103);
    server.failWith = undefined;

    // A position the network took ten minutes ago is older than location.maxAge (300 s): stale, denied.
    server.terminals.set('tel:+4930111', { ...BERLIN, ageMs: 600_000 });
    await nextPeriod();
    assert.equal((await policy('/cse-in/roamer/net')).lost, 'Retrieved');
    assert.equal(await vault(), 4103, 'stale');
    // A fresh one grants; then the CSE's clock passes maxAge without a new position: stale again.
    server.terminals.set('tel:+4930111', { ...BERLIN });
    await nextPeriod();
    assert.equal(await vault(), 2000);
    assert.equal((await t.client.update('/cse-in/roamer/net', { 'm2m:lcp': { lou: ['PT0S'] } }, ADMIN)).rsc, 2004, 'no more periodic requests');
    await waitFor(async () => (await t.cse.services.store.countQueuedByPrefix('loc:', 10)) === 0);
    const asked = server.queries.length;
    clock.advance(301_000);
    t.cse.deliverer.wake();
    assert.equal(await vault(), 4103, 'older than maxAge');
    assert.equal(server.queries.length, asked, 'lou 0: the timer stopped');
  });

  it('never grants on a location a device or an AE provides: device reports, or a network policy the AE wrote itself', async () => {
    server.terminals.set('tel:+4930222', { ...BERLIN });
    // Device-based: the AE reports Berlin into its own container.
    assert.equal((await t.client.create('/cse-in/roamer', LCP, { 'm2m:lcp': { rn: 'own', los: 2, lon: 'ownPositions' } }, roamer)).rsc, 2001);
    const report = { type: 'Point', coordinates: [BERLIN.longitude, BERLIN.latitude] };
    assert.equal((await t.client.create('/cse-in/roamer/ownPositions', 4, { 'm2m:cin': { con: report } }, roamer)).rsc, 2001);
    assert.equal(await vault(), 4103, 'a device-reported location never grants');
    // Network-based, but written by the AE: it could name any terminal, so its positions are stored and never trusted.
    assert.equal((await t.client.create('/cse-in/roamer', LCP, { 'm2m:lcp': { rn: 'claimed', los: 1, lot: 'tel:+4930222', lon: 'claimedPositions' } }, roamer)).rsc, 2001);
    await waitFor(async () => (await policy('/cse-in/roamer/claimed', roamer)).lost === 'Retrieved');
    assert.ok(await latest('/cse-in/roamer/claimedPositions', roamer));
    assert.equal(await vault(), 4103);
    // Nor does a position written into the admin's network policy container by hand.
    assert.equal((await t.client.create('/cse-in/roamer/netPositions', 4, { 'm2m:cin': { con: report } }, ADMIN)).rsc, 2001);
    assert.equal(await vault(), 4103);
  });

  it('without a locationUpdatePeriod, positions the terminal when the container\'s <latest> is read', async () => {
    server.terminals.set('tel:+4930555', { ...BERLIN });
    assert.equal((await t.client.create('/cse-in/roamer', LCP, { 'm2m:lcp': { rn: 'onRead', los: 1, lot: 'tel:+4930555', lon: 'onReadPositions' } }, ADMIN)).rsc, 2001);
    await waitFor(async () => (await policy('/cse-in/roamer/onRead')).lost === 'Retrieved');
    server.terminals.set('tel:+4930555', { ...MUNICH });
    const asked = server.queries.length;
    const read = JSON.parse(String(await latest('/cse-in/roamer/onReadPositions'))) as { coordinates: unknown };
    assert.deepEqual(read.coordinates, [MUNICH.longitude, MUNICH.latitude], 'the reader gets the position the server gave for its read');
    assert.equal(server.queries.length, asked + 1);
    // The oldest instance is no <latest>: reading it asks nothing.
    assert.equal((await t.client.retrieve('/cse-in/roamer/onReadPositions/ol', ADMIN)).rsc, 2000);
    assert.equal(server.queries.length, asked + 1);
    assert.equal((await t.client.delete('/cse-in/roamer/onRead', ADMIN)).rsc, 2002);
  });

  it('reports geofence events from network positions', async () => {
    const area = { type: 'Polygon', coordinates: [[[13, 52], [13, 53], [14, 53], [14, 52]]] };
    server.terminals.set('tel:+4930333', { ...BERLIN });
    const made = await t.client.create('/cse-in/roamer', LCP, { 'm2m:lcp': { rn: 'fence', los: 1, lit: 2, lot: 'tel:+4930333', lou: ['PT1M'], gta: area, gec: 2, lon: 'fenceEvents' } }, ADMIN);
    assert.equal(made.rsc, 2001, made.text);
    await waitFor(async () => (await policy('/cse-in/roamer/fence')).lost === 'Retrieved');
    assert.equal(Number(((await t.client.retrieve('/cse-in/roamer/fenceEvents', ADMIN)).body?.['m2m:cnt'] as Attrs).cni), 0, 'inside: no leaving, and no position stored for a geofence policy');
    server.terminals.set('tel:+4930333', { ...MUNICH });
    await nextPeriod();
    await waitFor(async () => (await latest('/cse-in/roamer/fenceEvents')) === 2);
    assert.equal((await t.client.delete('/cse-in/roamer/fence', ADMIN)).rsc, 2002);
  });

  it('refuses malformed network-based policies with 4000', async () => {
    const refused: Attrs[] = [
      { los: 1 },
      { los: 1, lot: '' },
      { los: 1, lot: 'tel:+1', lor: 'http://169.254.169.254/latest' },
      { los: 1, lot: 'tel:+1', lou: ['PT0.5S'] },
      { los: 1, lot: 'tel:+1', lou: ['PT0S', 'PT1M'] },
      { los: 2, lou: ['later'] },
    ];
    for (const attrs of refused) {
      const reply = await t.client.create('/cse-in/roamer', LCP, { 'm2m:lcp': attrs }, ADMIN);
      assert.equal(reply.rsc, 4000, `${JSON.stringify(attrs)}: ${reply.text}`);
    }
    assert.equal((await t.client.create('/cse-in/roamer', LCP, { 'm2m:lcp': { los: 3 } }, ADMIN)).rsc, 5001, 'sharing-based');
    const accepted = await t.client.create('/cse-in/roamer', LCP, { 'm2m:lcp': { rn: 'named', los: 1, lot: 'tel:+1', lor: server.url } }, ADMIN);
    assert.equal(accepted.rsc, 2001, 'lor naming the configured server');
    assert.equal((await t.client.delete('/cse-in/roamer/named', ADMIN)).rsc, 2002);
  });

  it('evaluates a device-based geofence once per locationUpdatePeriod, on the latest report', async () => {
    const area = { type: 'Polygon', coordinates: [[[0, 0], [0, 10], [10, 10], [10, 0]]] };
    const made = await t.client.create('/cse-in/roamer', LCP, { 'm2m:lcp': { rn: 'periodic', los: 2, lit: 2, lou: ['PT1M'], gta: area, gec: 2, lon: 'periodicPositions' } }, roamer);
    assert.equal(made.rsc, 2001, made.text);
    const outside = { type: 'Point', coordinates: [20, 5] };
    assert.equal((await t.client.create('/cse-in/roamer/periodicPositions', 4, { 'm2m:cin': { con: outside } }, roamer)).rsc, 2001);
    assert.deepEqual(await latest('/cse-in/roamer/periodicPositions', roamer), outside, 'not evaluated as it is written');
    clock.advance(60_000);
    t.cse.deliverer.wake();
    await waitFor(async () => (await latest('/cse-in/roamer/periodicPositions', roamer)) === 2);
    const count = async (): Promise<number> => Number(((await t.client.retrieve('/cse-in/roamer/periodicPositions', roamer)).body?.['m2m:cnt'] as Attrs).cni);
    assert.equal(await count(), 2, 'the report and one leaving event');
    // The next period's evaluation has run once its timer has moved on a period.
    const timer = `tmr:locationUpdate ${String((made.body?.['m2m:lcp'] as Attrs).ri)}`;
    clock.advance(60_000);
    t.cse.deliverer.wake();
    await waitFor(async () => (await t.cse.services.store.queued(timer, undefined, 1))[0]?.notBefore === clock.now() + 60_000);
    assert.equal(await count(), 2, 'still outside: no second leaving');
    assert.equal((await t.client.delete('/cse-in/roamer/periodic', roamer)).rsc, 2002);
  });
});

describe('network-based <locationPolicy> without a reachable server', () => {
  it('goes through the outbound destination policy: a refused server is never asked, and the status says so', async () => {
    const t = await startTestCse({ 'location.server': 'http://169.254.169.254/location/v1' });
    try {
      const made = await t.client.create('/cse-in', LCP, { 'm2m:lcp': { rn: 'metadata', los: 1, lot: 'tel:+1' } }, 'CAdmin');
      assert.equal(made.rsc, 2001, made.text);
      await waitFor(async () => String(((await t.client.retrieve('/cse-in/metadata', 'CAdmin')).body?.['m2m:lcp'] as Attrs).lost).includes('refused'));
    } finally {
      await t.close();
    }
  });

  it('is 5001 when no location server is configured', async () => {
    const t = await startTestCse();
    try {
      assert.equal((await t.client.create('/cse-in', LCP, { 'm2m:lcp': { los: 1, lot: 'tel:+1' } }, 'CAdmin')).rsc, 5001);
    } finally {
      await t.close();
    }
  });
});

describe('network-based <locationPolicy> and a location server that closes idle connections', () => {
  it('asks once more on a new connection when the server closes a kept-alive one under the next query (as notifications)', async () => {
    // Answers the first query on each connection and closes the connection at the next one, unanswered: a server
    // whose keep-alive timeout races the CSE's next query on the connection it kept.
    const served = new WeakMap<object, number>();
    let dropped = 0;
    const server = createServer((req, res) => {
      const count = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, count);
      if (count > 1) {
        dropped++;
        req.socket.destroy();
        return;
      }
      const address = new URL(req.url ?? '/', 'http://localhost').searchParams.get('address') ?? '';
      const currentLocation = { latitude: BERLIN.latitude, longitude: BERLIN.longitude, accuracy: 50, timestamp: new Date().toISOString() };
      res.writeHead(200, { 'Content-Type': 'application/json', Connection: 'keep-alive' });
      res.end(JSON.stringify({ terminalLocationList: { terminalLocation: [{ address, locationRetrievalStatus: 'Retrieved', currentLocation }] } }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const t = await startTestCse({ 'location.server': `http://127.0.0.1:${(server.address() as AddressInfo).port}/location/v1` });
    try {
      // No locationUpdatePeriod: one query at creation, one at each read of the container's <latest>.
      assert.equal((await t.client.create('/cse-in', LCP, { 'm2m:lcp': { rn: 'kept', los: 1, lot: 'tel:+4930999', lon: 'keptPositions' } }, 'CAdmin')).rsc, 2001);
      const status = async (): Promise<unknown> => ((await t.client.retrieve('/cse-in/kept', 'CAdmin')).body?.['m2m:lcp'] as Attrs).lost;
      await waitFor(async () => Boolean(await status()));
      assert.equal(await status(), 'Retrieved');
      for (let read = 1; read <= 2; read++) {
        assert.equal((await t.client.retrieve('/cse-in/keptPositions/la', 'CAdmin')).rsc, 2000);
        assert.equal(await status(), 'Retrieved', `read ${read}: the query dropped on the kept connection went again on a new one`);
      }
      assert.ok(dropped >= 1, 'the CSE kept the connection and the server dropped a query on it');
    } finally {
      await t.close();
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('network-based <locationPolicy> on two processes sharing one PostgreSQL database', () => {
  it('keeps asking each period after the process that took the request stops, and both decide aclr alike', async () => {
    const db = await createTestDatabase();
    const server = await new FakeLocationServer({ now: () => Date.now() }).start();
    server.terminals.set('tel:+4930444', { ...BERLIN });
    const flags = ['--storage.backend=postgres', `--storage.url=${db.url}`, `--location.server=${server.url}`];
    const started = await Promise.allSettled([spawnWarden(flags), spawnWarden(flags)]);
    const children = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value.child] : []));
    try {
      if (started[0].status === 'rejected' || started[1].status === 'rejected') throw new Error('a Warden process did not start');
      const [a, b] = [started[0].value, started[1].value];
      const ae = await a.client.registerAe('pairRoamer');
      const acp = await a.client.create('/cse-in', 1, {
        'm2m:acp': { rn: 'pairBerlin', pv: { acr: [{ acor: [ae], acop: 2, acco: [{ aclr: { accr: [BERLIN.latitude, BERLIN.longitude, 1000] } }] }] }, pvs: { acr: [{ acor: ['CAdmin'], acop: 63 }] } },
      }, 'CAdmin');
      assert.equal(acp.rsc, 2001, acp.text);
      assert.equal((await a.client.create('/cse-in', 3, { 'm2m:cnt': { rn: 'pairVault', acpi: [String((acp.body?.['m2m:acp'] as Attrs).ri)] } }, 'CAdmin')).rsc, 2001);
      const made = await b.client.create('/cse-in/pairRoamer', LCP, { 'm2m:lcp': { rn: 'net', los: 1, lot: 'tel:+4930444', lou: ['PT1S'] } }, 'CAdmin');
      assert.equal(made.rsc, 2001, made.text);
      await waitFor(async () => (await a.client.retrieve('/cse-in/pairVault', ae)).rsc === 2000, 15_000);
      assert.equal((await b.client.retrieve('/cse-in/pairVault', ae)).rsc, 2000, 'the other process decides alike');
      // One process goes; the periods go on in the other, which sees the terminal leave.
      a.child.kill('SIGKILL');
      await once(a.child, 'exit');
      const asked = server.queries.length;
      server.terminals.set('tel:+4930444', { ...MUNICH });
      // A lease the killed process held on the timer or the job ends within a minute (deliver.ts LEASE_MS).
      await waitFor(() => server.queries.length >= asked + 2, 90_000);
      await waitFor(async () => (await b.client.retrieve('/cse-in/pairVault', ae)).rsc === 4103, 15_000);
    } finally {
      for (const child of children) if (child.exitCode === null) await stopWarden(child);
      await server.stop();
      await db.drop();
    }
  });
});
