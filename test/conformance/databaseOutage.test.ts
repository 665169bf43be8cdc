// PostgreSQL going away under a running CSE: clear errors, no false success, recovery, nothing lost.
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { freePort, startTestCse, type TestCse } from '../harness.js';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../postgres.js';

/** A TCP relay to the database that the test can cut and restore. */
class Relay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  constructor(readonly port: number) {}

  async up(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(5432, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
  }

  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}


describe('database outage', () => {
  let db: TestDatabase;
  let relay: Relay;
  let t: TestCse;
  let ae: string;
  before(async () => {
    db = await createTestDatabase();
    relay = new Relay(await freePort());
    await relay.up();
    t = await startTestCse({ 'storage.backend': 'postgres', 'storage.url': db.url.replace('127.0.0.1:5432', `127.0.0.1:${relay.port}`) });
    ae = await t.client.registerAe('outage');
    await t.client.create('/cse-in/outage', 3, { 'm2m:cnt': { rn: 'c' } }, ae);
  });
  after(async () => {
    await relay.down();
    await t.close();
    await db.drop();
  });

  it('answers 5000 while the database is gone, then recovers with every acknowledged write intact', async () => {
    const acked: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await t.client.create('/cse-in/outage/c', 4, { 'm2m:cin': { rn: `before${i}`, con: 'x' } }, ae);
      if (r.rsc === 2001) acked.push(`before${i}`);
    }
    await relay.down();
    const during = await t.client.create('/cse-in/outage/c', 4, { 'm2m:cin': { rn: 'during', con: 'x' } }, ae);
    assert.equal(during.rsc, 5000);
    assert.match(String(during.body?.['m2m:dbg']), /storage is unavailable/);
    const read = await t.client.retrieve('/cse-in/outage/c', ae);
    assert.equal(read.rsc, 5000);
    await relay.up();
    let back = 0;
    for (let i = 0; i < 50 && back !== 2000; i++) {
      back = (await t.client.retrieve('/cse-in/outage/c', ae)).rsc;
      if (back !== 2000) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(back, 2000, 'the CSE reconnected');
    for (const rn of acked) assert.equal((await t.client.retrieve(`/cse-in/outage/c/${rn}`, ae)).rsc, 2000, rn);
    assert.equal((await t.client.retrieve('/cse-in/outage/c/during', ae)).rsc, 4004, 'the refused write did not happen');
    assert.equal(acked.length, 5);
  });

  it('a database that is down at start-up stops start-up with a clear error', async () => {
    await assert.rejects(startTestCse({ 'storage.backend': 'postgres', 'storage.url': 'postgres://postgres@127.0.0.1:1/nothing' }), /database is unavailable/);
  });
});

describe('a database that does not answer', () => {
  let db: TestDatabase;
  let t: TestCse;
  let ae: string;
  before(async () => {
    db = await createTestDatabase();
    t = await startTestCse({ 'storage.backend': 'postgres', 'storage.url': db.url, 'storage.waitTimeout': 1 }, { opsPort: 0 });
    ae = await t.client.registerAe('locked');
  });
  after(async () => {
    await t.close();
    await db.drop();
  });

  /** The promise's value, or 'no answer' when it takes longer than `ms` (far beyond the 1 s bound under test). */
  const within = <T>(promise: Promise<T>, ms: number): Promise<T | 'no answer'> =>
    Promise.race([promise, new Promise<'no answer'>((resolve) => setTimeout(() => resolve('no answer'), ms).unref())]);

  it('a request waiting on a locked table is refused after storage.waitTimeout with 5000, and /metrics still answers', async () => {
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE resources, outbox IN ACCESS EXCLUSIVE MODE');
      const write = await within(t.client.create('/cse-in/locked', 3, { 'm2m:cnt': { rn: 'held' } }, ae), 15_000);
      assert.notEqual(write, 'no answer', 'the request was held for as long as the lock');
      if (write !== 'no answer') {
        assert.equal(write.rsc, 5000, write.text);
        assert.match(String(write.body?.['m2m:dbg']), /storage is unavailable/);
      }
      const scrape = await within(fetch(`http://127.0.0.1:${String(t.cse.opsPort)}/metrics`), 15_000);
      assert.notEqual(scrape, 'no answer', 'a scrape waited for the outbox count');
      if (scrape !== 'no answer') assert.equal(scrape.status, 200);
      await holder.query('ROLLBACK');
    } finally {
      await holder.end();
    }
    assert.equal((await t.client.create('/cse-in/locked', 3, { 'm2m:cnt': { rn: 'held' } }, ae)).rsc, 2001, 'nothing of the refused write remained');
  });
});
