import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { migratePostgres, openPostgresStore, MIGRATIONS } from '../../src/storage/postgres.js';
import { createTestDatabase, type TestDatabase } from '../postgres.js';
import { storeContract } from './contract.js';
import type { NewOutboxMessage } from '../../src/storage/store.js';

const databases: TestDatabase[] = [];
after(async () => {
  for (const db of databases) await db.drop();
});

storeContract('PostgreSQL', async () => {
  const db = await createTestDatabase();
  databases.push(db);
  return openPostgresStore({ url: db.url, poolSize: 4 });
});

describe('PostgreSQL schema migrations', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
    databases.push(db);
  });

  it('migrates once, even when several processes start at the same time', async () => {
    const versions = await Promise.all([migratePostgres(db.url), migratePostgres(db.url), migratePostgres(db.url)]);
    assert.deepEqual(versions, [MIGRATIONS.length, MIGRATIONS.length, MIGRATIONS.length]);
    assert.equal(await migratePostgres(db.url), MIGRATIONS.length);
  });

  it('broadcasts reach the other store on the same database only after commit', async () => {
    const a = await openPostgresStore({ url: db.url, poolSize: 2 });
    const b = await openPostgresStore({ url: db.url, poolSize: 2 });
    try {
      const received: string[] = [];
      b.subscribe('t', (p) => received.push(p));
      await new Promise((r) => setTimeout(r, 200)); // LISTEN is set up asynchronously
      await assert.rejects(
        a.transaction(async (tx) => {
          await tx.broadcast('t', 'rolled-back');
          throw new Error('abort');
        }),
      );
      await a.transaction((tx) => tx.broadcast('t', 'committed'));
      for (let i = 0; i < 50 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(received, ['committed']);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("a subscription another process changes is seen here once its change is broadcast (at most 1 s without it)", async () => {
    const a = await openPostgresStore({ url: db.url, poolSize: 2 });
    const b = await openPostgresStore({ url: db.url, poolSize: 2 });
    const base = { ct: '20260101T000000', lt: '20260101T000000' };
    try {
      await new Promise((r) => setTimeout(r, 200)); // LISTEN is set up asynchronously
      await a.insert({ ri: 'xp', pi: '', ty: 3, rn: 'xp', srn: 'xp', ...base, doc: {} });
      await a.insert({ ri: 'xs1', pi: 'xp', ty: 23, rn: 'xs1', srn: 'xp/xs1', ...base, doc: { nu: ['a'] } });
      assert.deepEqual((await b.subscriptionsOf('xp', 10)).map((r) => r.ri), ['xs1']);
      assert.equal((await b.notifying('xs1'))?.ri, 'xs1');
      const seen = async (check: () => Promise<boolean>): Promise<void> => {
        for (let i = 0; i < 50 && !(await check()); i++) await new Promise((r) => setTimeout(r, 20));
        assert.ok(await check());
      };
      await a.transaction(async (tx) => {
        await tx.update({ ri: 'xs1', pi: 'xp', ty: 23, rn: 'xs1', srn: 'xp/xs1', ...base, doc: { nu: ['b'] } });
        await tx.insert({ ri: 'xs2', pi: 'xp', ty: 23, rn: 'xs2', srn: 'xp/xs2', ...base, doc: { nu: ['a'] } });
      });
      await seen(async () => (await b.subscriptionsOf('xp', 10)).length === 2 && (await b.notifying('xs1'))?.doc.nu?.toString() === 'b');
      await a.deleteSubtree('xs1');
      await seen(async () => (await b.notifying('xs1')) === undefined && (await b.subscriptionsOf('xp', 10)).length === 1);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a message committed before an older one of its queue, and leased as its head meanwhile, is not taken behind the older one by another process', async () => {
    // Ids are drawn at insert and committed in any order: for a moment the newer message is its queue's head, and
    // one process leases it. Another that then leases the older head used to read the newer one behind it and send
    // it again (a time sync beacon received twice in CI).
    const a = await openPostgresStore({ url: db.url, poolSize: 2 });
    const b = await openPostgresStore({ url: db.url, poolSize: 2 });
    const target = 'http://order.example/';
    const msg = (n: number): NewOutboxMessage => ({ target, subscription: 's', content: `{"n":${n}}`, created: 0, notBefore: 0 });
    try {
      let inserted!: () => void;
      let commit!: () => void;
      const insertedOlder = new Promise<void>((r) => (inserted = r));
      const mayCommit = new Promise<void>((r) => (commit = r));
      const older = a.transaction(async (tx) => {
        await tx.enqueue([msg(1)]);
        inserted();
        await mayCommit;
      });
      await insertedOlder;
      await b.enqueue([msg(2), msg(3)]);
      const heldByB = (await b.leaseHeads('B', 10, 1_000, 10)).filter((m) => m.target === target);
      assert.deepEqual(heldByB.map((m) => m.content), ['{"n":2}'], 'the newer message was the head while the older one was not committed');
      commit();
      await older;
      const [head] = (await a.leaseHeads('A', 10, 1_000, 10)).filter((m) => m.target === target);
      assert.equal(head?.content, '{"n":1}');
      assert.deepEqual(await a.takeBehind('A', 10, 1_010, target, undefined, 10, head.id), [], "B's message is B's to send, and what follows it waits");
      await b.dequeue(heldByB.map((m) => m.id));
      const behind = await a.takeBehind('A', 10, 1_010, target, undefined, 10, head.id);
      assert.deepEqual(behind.map((m) => m.content), ['{"n":3}']);
      assert.deepEqual(await b.takeBehind('B', 10, 1_010, target, undefined, 10, head.id), [], 'taken by A: nobody else takes it');
      assert.deepEqual(await a.takeBehind('A', 10, 1_010, target, undefined, 10, head.id), [], 'nor another worker of A');
      assert.deepEqual((await b.takeBehind('B', 1_011, 2_000, target, undefined, 10, head.id)).map((m) => m.content), ['{"n":3}'], "once A's lease ended, it may be taken");
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a key locked in a transaction holds another process asking for it until that transaction ends', async () => {
    const a = await openPostgresStore({ url: db.url, poolSize: 2 });
    const b = await openPostgresStore({ url: db.url, poolSize: 2 });
    try {
      const order: string[] = [];
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const lockedByA = new Promise<void>((r) => (locked = r));
      const first = a.transaction(async (tx) => {
        await tx.lockKey('claims');
        locked();
        await held;
        order.push('a done');
      });
      await lockedByA;
      const second = b.transaction(async (tx) => {
        await tx.lockKey('claims');
        order.push('b locked');
      });
      const other = b.transaction(async (tx) => {
        await tx.lockKey('something else');
        order.push('other key');
      });
      await other;
      await new Promise((r) => setTimeout(r, 100));
      release();
      await Promise.all([first, second]);
      assert.deepEqual(order, ['other key', 'a done', 'b locked']);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a write the transaction did not wait for fails it: nothing is committed and the error is the write\'s own', async () => {
    const store = await openPostgresStore({ url: db.url, poolSize: 2 });
    const base = { pi: '', ty: 3, ct: '20260101T000000', lt: '20260101T000000', doc: {} };
    try {
      await store.insert({ ri: 'pw0', rn: 'pw0', srn: 'pw0', ...base });
      // PostgreSQL refuses U+0000 in text (22021): the update's answer comes only with the COMMIT's.
      const failing = { ri: 'pw0', rn: 'pw0', srn: 'pw0', ...base, ct: 'x\u0000' };
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.insert({ ri: 'pw1', rn: 'pw1', srn: 'pw1', ...base });
          await tx.update(failing);
        }),
        (err: { code?: string }) => err.code === '22021',
      );
      assert.equal(await store.get('pw1'), undefined);
      // A read behind the failed write fails only because the transaction is aborted (25P02): the write's error is reported.
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.insert({ ri: 'pw2', rn: 'pw2', srn: 'pw2', ...base });
          await tx.update(failing);
          await tx.get('pw0');
        }),
        (err: { code?: string }) => err.code === '22021',
      );
      assert.equal(await store.get('pw2'), undefined);
      assert.equal((await store.get('pw0'))?.ct, '20260101T000000');
    } finally {
      await store.close();
    }
  });

  it('an unreachable database is reported as unavailable, not as a crash', async () => {
    await assert.rejects(openPostgresStore({ url: 'postgres://postgres@127.0.0.1:1/none', poolSize: 1 }), /unavailable/);
  });
});
