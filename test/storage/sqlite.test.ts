import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { StoredResource } from '../../src/storage/store.js';
import type { WalDamage } from '../../src/storage/walCheck.js';
import { openSqliteStore } from '../../src/storage/sqlite.js';
import { tempDatabase } from '../harness.js';
import { storeContract } from './contract.js';

storeContract('SQLite in memory', () => Promise.resolve(openSqliteStore({ path: ':memory:', durability: 'normal' })));
storeContract('SQLite file, full durability', () => Promise.resolve(openSqliteStore({ path: tempDatabase(), durability: 'full' })));

describe('SQLite: a restart after a crash', () => {
  it('gives back the leases of the run before (its process is gone: the file is one process\'s alone)', async () => {
    const path = tempDatabase();
    const before = openSqliteStore({ path, durability: 'full' });
    await before.transaction((tx) => tx.enqueue([{ target: 'job:after-crash', subscription: 's', content: '{}', created: 1, notBefore: 1 }]));
    assert.equal((await before.leaseHeads('run-1', 10, 60_000, 10)).filter((m) => m.target === 'job:after-crash').length, 1);
    await before.close();
    const after = openSqliteStore({ path, durability: 'full' });
    try {
      // Well within the first run's lease (until 60 010).
      const taken = (await after.leaseHeads('run-2', 20, 60_000, 10)).filter((m) => m.target === 'job:after-crash');
      assert.equal(taken.length, 1);
    } finally {
      await after.close();
    }
  });
});

describe('SQLite: a damaged write-ahead log', () => {
  const instance = (i: number): StoredResource => ({ ri: `w${i}`, pi: 'root', ty: 3, rn: `w${i}`, srn: `cb/w${i}`, ct: '20260101T000000', lt: '20260101T000000', doc: { lbl: [`w${i}`], pad: 'x'.repeat(2000) } });

  /** A crash's files: the database and its WAL copied while the store is open, after `count` acknowledged inserts. */
  async function crashCopy(count: number): Promise<string> {
    const path = tempDatabase();
    const store = openSqliteStore({ path, durability: 'full' });
    await store.insert({ ri: 'root', pi: '', ty: 5, rn: 'cb', srn: 'cb', ct: '20260101T000000', lt: '20260101T000000', doc: {} });
    for (let i = 0; i < count; i++) await store.transaction((tx) => tx.insert(instance(i)));
    const copy = tempDatabase();
    copyFileSync(path, copy);
    copyFileSync(`${path}-wal`, `${copy}-wal`);
    await store.close();
    return copy;
  }

  /** Flips a byte of the page of frame `frame` (0-based) of the copy's WAL; the WAL as written. */
  function damageFrame(copy: string, frame: (wal: Buffer, pageSize: number) => number): Buffer {
    const wal = readFileSync(`${copy}-wal`);
    const pageSize = wal.readUInt32BE(8);
    const at = 32 + frame(wal, pageSize) * (24 + pageSize) + 24 + 100;
    wal.writeUInt8(wal.readUInt8(at) ^ 0xff, at);
    writeFileSync(`${copy}-wal`, wal);
    return wal;
  }

  /** Opens the copy as the CSE would after the crash: what it reports, and the children of the root it finds. */
  async function reopen(copy: string): Promise<{ damages: WalDamage[]; children: number }> {
    const damages: WalDamage[] = [];
    const store = openSqliteStore({ path: copy, durability: 'full', onDamagedWal: (d) => damages.push(d) });
    try {
      return { damages, children: (await store.children('root')).length };
    } finally {
      await store.close();
    }
  }

  it('is intact after a crash: nothing reported, every acknowledged write there', async () => {
    assert.deepEqual(await reopen(await crashCopy(20)), { damages: [], children: 20 });
  });

  it('damaged only in its last transaction (perhaps never acknowledged, as after a power cut): nothing reported', async () => {
    const copy = await crashCopy(20);
    // The first frame of the last transaction: the one after the second-to-last commit frame.
    damageFrame(copy, (wal, pageSize) => {
      const frames = Math.floor((wal.length - 32) / (24 + pageSize));
      const commits = Array.from({ length: frames }, (_, k) => k).filter((k) => wal.readUInt32BE(32 + k * (24 + pageSize) + 4) !== 0);
      return (commits.at(-2) ?? 0) + 1;
    });
    // The last insert is gone, as SQLite replays the log.
    assert.deepEqual(await reopen(copy), { damages: [], children: 19 });
  });

  it('with a damaged frame before acknowledged commits: reported with the number of commits lost, the WAL kept aside', async () => {
    const copy = await crashCopy(20);
    const wal = damageFrame(copy, () => 3);
    const { damages } = await reopen(copy);
    assert.equal(damages.length, 1);
    const [damage] = damages;
    assert.equal(damage?.validFrames, 3);
    assert.ok((damage?.commitsLost ?? 0) >= 15, JSON.stringify(damage));
    assert.deepEqual(readFileSync(damage?.keptAt ?? ''), wal, 'the damaged log, as it was, for recovery');
  });
});

describe('SQLite: a write outside a transaction', () => {
  it('is committed when it returns, even while a commit group is open (a crash right after keeps it)', async () => {
    const path = tempDatabase();
    const sqlite = new URL('../../src/storage/sqlite.js', import.meta.url).href;
    // The child starts a transaction (its group commits on the next turn), claims a key meanwhile, and dies by
    // SIGKILL as soon as the claim returns: what the claim's caller was told must be in the file.
    const child = `
      const { openSqliteStore } = await import(${JSON.stringify(sqlite)});
      const store = openSqliteStore({ path: ${JSON.stringify(path)}, durability: 'full' });
      await store.insert({ ri: 'root', pi: '', ty: 5, rn: 'cb', srn: 'cb', ct: '20260101T000000', lt: '20260101T000000', doc: {} });
      void store.transaction((tx) => tx.insert({ ri: 'a', pi: 'root', ty: 3, rn: 'a', srn: 'cb/a', ct: '20260101T000000', lt: '20260101T000000', doc: {} }));
      const claimed = await store.claimOnce('once:k', 4102444800000, 1);
      process.stdout.write(String(claimed));
      process.kill(process.pid, 'SIGKILL');
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', child], { encoding: 'utf8' });
    assert.equal(run.signal, 'SIGKILL', run.stderr);
    assert.equal(run.stdout, 'true', 'the child claimed the key');
    const store = openSqliteStore({ path, durability: 'full' });
    try {
      assert.equal(await store.claimOnce('once:k', 4102444800000, 2), false, 'the acknowledged claim survived the crash');
    } finally {
      await store.close();
    }
  });
});

describe('SQLite: broadcasts of a transaction', () => {
  it('reach listeners when the transaction succeeds, and never when it is undone', async () => {
    const store = openSqliteStore({ path: ':memory:', durability: 'normal' });
    try {
      const heard: string[] = [];
      store.subscribe('t', (payload) => heard.push(payload));
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.broadcast('t', 'undone');
          assert.deepEqual(heard, [], 'not while the transaction runs');
          throw new Error('abort');
        }),
      );
      await store.transaction(async (tx) => {
        await tx.broadcast('t', 'kept');
        assert.deepEqual(heard, []);
      });
      assert.deepEqual(heard, ['kept']);
      await store.broadcast('t', 'outside');
      assert.deepEqual(heard, ['kept', 'outside'], 'outside a transaction at once');
    } finally {
      await store.close();
    }
  });
});
