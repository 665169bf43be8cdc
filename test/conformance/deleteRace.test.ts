// A resource created while its parent (or an ancestor) is being deleted must not outlive it. Two Warden
// processes on one PostgreSQL database; a third connection holds a row lock so that the create is queued
// first and the delete second, every time: the interleaving does not depend on timing.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { spawnWarden, stopWarden, type Reply, type TestClient } from '../harness.js';
import { Receiver, waitFor } from '../receiver.js';
import { createTestDatabase, type TestDatabase } from '../postgres.js';

type Attrs = Record<string, unknown>;

describe('creates racing the deletion of their parent on PostgreSQL (two processes)', () => {
  let db: TestDatabase;
  let a: TestClient;
  let b: TestClient;
  let rx: Receiver;
  const spawned: ChildProcess[] = [];

  before(async () => {
    db = await createTestDatabase();
    rx = await new Receiver().start();
    const flags = ['--storage.backend=postgres', `--storage.url=${db.url}`];
    const started = await Promise.allSettled([spawnWarden(flags), spawnWarden(flags)]);
    for (const s of started) if (s.status === 'fulfilled') spawned.push(s.value.child);
    if (started[0].status === 'rejected' || started[1].status === 'rejected') throw new Error('a Warden process did not start');
    [a, b] = [started[0].value.client, started[1].value.client];
  });
  after(async () => {
    for (const child of spawned) await stopWarden(child);
    await rx.stop();
    await db.drop();
  });

  const query = (sql: string, args: unknown[] = []): Promise<Attrs[]> => db.query(sql, args);

  /**
   * Holds a lock on the row at `srn` from a third connection, starts the create (through a) and waits until
   * it is blocked, starts the delete (through b) and waits until it is blocked too, then lets both go: the
   * create reaches the row first and commits while the delete is already under way.
   */
  async function race(srn: string, create: () => Promise<Reply>, remove: () => Promise<Reply>): Promise<{ created: Reply; deleted: Reply }> {
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      const held = await holder.query('SELECT ri FROM resources WHERE srn = $1 FOR NO KEY UPDATE', [srn]);
      assert.equal(held.rowCount, 1, `no row at ${srn}`);
      const waiting = async (): Promise<number> =>
        Number((await query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"))[0]?.n);
      const created = create();
      await waitFor(async () => (await waiting()) >= 1, 10_000);
      const deleted = remove();
      await waitFor(async () => (await waiting()) >= 2, 10_000);
      await holder.query('COMMIT');
      return { created: await created, deleted: await deleted };
    } finally {
      await holder.end();
    }
  }

  /** Rows whose parent does not exist (the CSEBase has none). */
  async function orphans(): Promise<Attrs[]> {
    return query("SELECT srn FROM resources r WHERE r.pi <> '' AND NOT EXISTS (SELECT 1 FROM resources p WHERE p.ri = r.pi)");
  }

  /** What a discovery below `path` finds, as the AE `origin`. */
  async function discovered(client: TestClient, path: string, origin: string): Promise<unknown[]> {
    const reply = await client.retrieve(`${path}?fu=1`, origin);
    assert.equal(reply.rsc, 2000, reply.text);
    return (reply.body?.['m2m:uril'] as unknown[] | undefined) ?? [];
  }

  function assertOutcome(result: { created: Reply; deleted: Reply }): void {
    assert.equal(result.deleted.rsc, 2002, result.deleted.text);
    // Queued first, the create succeeds; the delete that follows takes what it created with it.
    assert.ok([2001, 4004].includes(result.created.rsc), result.created.text);
  }

  it('a container created while its AE is deregistered goes with the AE, and the next AE of that name has none', async () => {
    const ae = await a.registerAe('victim1');
    const result = await race(
      'cse-in/victim1',
      () => a.create('/cse-in/victim1', 3, { 'm2m:cnt': { rn: 'late' } }, ae),
      () => b.delete('/cse-in/victim1', ae),
    );
    assertOutcome(result);
    assert.deepEqual(await query("SELECT srn FROM resources WHERE srn LIKE 'cse-in/victim1%'"), []);
    assert.deepEqual(await orphans(), []);
    await a.registerAe('victim1');
    assert.deepEqual(await discovered(b, '/cse-in/victim1', ae), []);
    assert.equal((await b.retrieve('/cse-in/victim1/late', ae)).rsc, 4004);
  });

  it('an instance created in a container while the AE above it is deregistered goes with the AE', async () => {
    const ae = await a.registerAe('victim2');
    assert.equal((await a.create('/cse-in/victim2', 3, { 'm2m:cnt': { rn: 'data' } }, ae)).rsc, 2001);
    const result = await race(
      'cse-in/victim2/data',
      () => a.create('/cse-in/victim2/data', 4, { 'm2m:cin': { rn: 'late', con: 'x' } }, ae),
      () => b.delete('/cse-in/victim2', ae),
    );
    assertOutcome(result);
    assert.deepEqual(await query("SELECT srn FROM resources WHERE srn LIKE 'cse-in/victim2%'"), []);
    assert.deepEqual(await orphans(), []);
    // The next holder of the name and AE-ID, with a container of the same name, inherits nothing.
    await a.registerAe('victim2');
    assert.equal((await a.create('/cse-in/victim2', 3, { 'm2m:cnt': { rn: 'data' } }, ae)).rsc, 2001);
    assert.equal((await discovered(b, '/cse-in/victim2', ae)).length, 1, 'only the new container');
    assert.equal((await b.retrieve('/cse-in/victim2/data/late', ae)).rsc, 4004);
  });

  it('an instance created while its container is deleted goes with the container', async () => {
    const ae = await a.registerAe('victim3');
    assert.equal((await a.create('/cse-in/victim3', 3, { 'm2m:cnt': { rn: 'data' } }, ae)).rsc, 2001);
    const result = await race(
      'cse-in/victim3/data',
      () => a.create('/cse-in/victim3/data', 4, { 'm2m:cin': { rn: 'late', con: 'x' } }, ae),
      () => b.delete('/cse-in/victim3/data', ae),
    );
    assertOutcome(result);
    assert.deepEqual(await query("SELECT srn FROM resources WHERE srn LIKE 'cse-in/victim3/%'"), []);
    assert.deepEqual(await orphans(), []);
    assert.equal((await a.create('/cse-in/victim3', 3, { 'm2m:cnt': { rn: 'data' } }, ae)).rsc, 2001);
    assert.equal((await b.retrieve('/cse-in/victim3/data/late', ae)).rsc, 4004);
    assert.equal(((await b.retrieve('/cse-in/victim3/data', ae)).body?.['m2m:cnt'] as Attrs).cni, 0);
  });

  it('a subscription created on a container while the AE above it is deregistered goes with the AE', async () => {
    const ae = await a.registerAe('victim4');
    assert.equal((await a.create('/cse-in/victim4', 3, { 'm2m:cnt': { rn: 'data' } }, ae)).rsc, 2001);
    const result = await race(
      'cse-in/victim4/data',
      () => a.create('/cse-in/victim4/data', 23, { 'm2m:sub': { rn: 'late', nu: [rx.url] } }, ae),
      () => b.delete('/cse-in/victim4', ae),
    );
    assertOutcome(result);
    assert.deepEqual(await query("SELECT srn FROM resources WHERE srn LIKE 'cse-in/victim4%'"), []);
    assert.deepEqual(await orphans(), []);
    await a.registerAe('victim4');
    assert.equal((await a.create('/cse-in/victim4', 3, { 'm2m:cnt': { rn: 'data' } }, ae)).rsc, 2001);
    assert.equal((await b.retrieve('/cse-in/victim4/data/late', ae)).rsc, 4004);
  });

  it('a non-blocking request accepted while its AE is deregistered goes with the AE', async () => {
    const ae = await a.registerAe('victim5');
    // The request's transaction is held at its outbox write, after the request passed authentication.
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    let accepted: Reply;
    let deleted: Reply;
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE outbox IN SHARE MODE');
      // Delivery also waits for the outbox (its leases): count only the statements of the two requests.
      const waiting = async (statement: string): Promise<boolean> =>
        (await query("SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND starts_with(query, $1)", [statement])).length > 0;
      const request = a.request('POST', '/cse-in/victim5?rt=1', { origin: ae, ty: 3, body: { 'm2m:cnt': { rn: 'later' } }, headers: { 'X-M2M-OET': '600000' } });
      await waitFor(() => waiting('INSERT INTO outbox'), 10_000);
      let done = false;
      const removal = b.delete('/cse-in/victim5', ae).then((r) => {
        done = true;
        return r;
      });
      // Either the deregistration waits for the request, or it is over before the request goes on.
      await waitFor(async () => done || (await waiting('SELECT * FROM resources WHERE ri = $1 FOR UPDATE')), 10_000);
      await holder.query('COMMIT');
      [accepted, deleted] = await Promise.all([request, removal]);
    } finally {
      await holder.end();
    }
    assert.equal(deleted.rsc, 2002, deleted.text);
    assert.ok([1001, 4004, 4106].includes(accepted.rsc), accepted.text);
    assert.deepEqual(await query("SELECT srn FROM resources WHERE doc::json->>'org' = $1", [ae]), [], 'no <request> of the deregistered AE is left');
    await a.registerAe('victim5');
    if (accepted.rsc === 1001) assert.equal((await a.retrieve(`/${String(accepted.body?.['m2m:uri'])}`, ae)).rsc, 4004);
  });
});
