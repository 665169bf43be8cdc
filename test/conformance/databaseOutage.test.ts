// PostgreSQL going away under a running CSE: clear errors, no false success, recovery, nothing lost.
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { freePort, startTestCse, type TestCse } from '../harness.js';
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
