import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
