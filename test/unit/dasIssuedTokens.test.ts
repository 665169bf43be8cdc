// The tokens the built-in DAS issues are kept in the store (TokenRecord kind 'das'): a DAS request naming one by
// its ID (dreq.tids) is answered after a restart (SQLite) and by another process on the same PostgreSQL database,
// for the originator it was issued to only.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { decodeJwt, exportPKCS8, generateKeyPair } from 'jose';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/log/logger.js';
import { BuiltInDas } from '../../src/security/das.js';
import { openSqliteStore } from '../../src/storage/sqlite.js';
import { openPostgresStore } from '../../src/storage/postgres.js';
import type { ResourceStore } from '../../src/storage/store.js';
import { createTestDatabase, type TestDatabase } from '../postgres.js';

type Attrs = Record<string, unknown>;
const self = { cseId: 'id-das', cseRn: 'cse-das', spId: 'warden.example.net' };
const consulter = { id: '/id-in', authenticated: true, rqi: 'rq' };

async function rulesFile(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-das-issued-'));
  const pair = await generateKeyPair('ES256', { extractable: true });
  const path = join(dir, 'das.json');
  writeFileSync(
    path,
    JSON.stringify({
      consulters: ['/id-in'],
      rules: [{ originators: ['/id-in/Cguest'], targets: ['/id-in/cnt*'], operations: ['RETRIEVE'], lifetime: 120 }],
      tokens: { issuer: 'CWardenDas', algorithm: 'ES256', privateKey: await exportPKCS8(pair.privateKey) },
    }),
  );
  return path;
}

function dasOn(store: ResourceStore, rules: string): BuiltInDas {
  const config = loadConfig({ flags: { 'cse.id': self.cseId, 'dynamicAuthorization.dasRules': rules } });
  return new BuiltInDas({ config, self, store, log: createLogger('silent'), clock: { now: () => Date.now() } });
}

const dres = (answer: Record<string, unknown>): Attrs => (answer['m2m:seci'] as Attrs).dres as Attrs;

/** Issues a token for Cguest through `issuer`, then asks `asker` for it by ID as Cguest and as Cother. */
async function issueAndFetch(issuer: BuiltInDas, asker: () => Promise<BuiltInDas>): Promise<void> {
  const issued = dres(await issuer.answer({ sit: 1, dreq: { or: 'Cguest', op: 2, trid: '/id-in/cnt1' } }, consulter));
  const [token] = issued.tkns as string[];
  assert.ok(token);
  const jti = String(decodeJwt(token).jti);
  const das = await asker();
  assert.deepEqual(dres(await das.answer({ sit: 1, dreq: { or: 'Cguest', op: 2, trid: '/id-in/cnt1', tids: [jti] } }, consulter)).tkns, [token]);
  assert.deepEqual(dres(await das.answer({ sit: 1, dreq: { or: 'Cother', op: 2, trid: '/id-in/cnt1', tids: [jti] } }, consulter)), {}, "another originator's request for it gets nothing");
  assert.deepEqual(dres(await das.answer({ sit: 1, dreq: { or: 'Cguest', op: 2, trid: '/id-in/cnt1', tids: ['unknown@id-das.das'] } }, consulter)), {});
}

describe('tokens the built-in DAS issued, by their ID (tids)', () => {
  const databases: TestDatabase[] = [];
  after(async () => {
    for (const db of databases) await db.drop();
  });

  it('are answered after a restart (SQLite)', async () => {
    const rules = await rulesFile();
    const path = join(mkdtempSync(join(tmpdir(), 'warden-das-issued-db-')), 'das.sqlite');
    const first = openSqliteStore({ path, durability: 'normal' });
    let second: ResourceStore | undefined;
    try {
      await issueAndFetch(dasOn(first, rules), async () => {
        await first.close();
        second = openSqliteStore({ path, durability: 'normal' });
        return dasOn(second, rules);
      });
    } finally {
      await second?.close();
    }
  });

  it('are answered by another process on the same PostgreSQL database', async () => {
    const rules = await rulesFile();
    const db = await createTestDatabase();
    databases.push(db);
    const a = await openPostgresStore({ url: db.url, poolSize: 2 });
    const b = await openPostgresStore({ url: db.url, poolSize: 2 });
    try {
      await issueAndFetch(dasOn(a, rules), () => Promise.resolve(dasOn(b, rules)));
    } finally {
      await a.close();
      await b.close();
    }
  });
});
