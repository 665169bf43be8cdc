// Local-Token-IDs are kept in the store (TS-0003 §7.3.2.3 steps 7.2, 8): one assigned by one Warden process serves
// on another process of the same PostgreSQL database, and on the same process after a restart (SQLite). Another
// originator replaying one gets nothing, and a revoked token grants nothing through its Local-Token-ID anywhere.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { spawnWarden, startTestCse, stopWarden, tempDatabase, type TestClient } from '../harness.js';
import { createTestDatabase, type TestDatabase } from '../postgres.js';

type Attrs = Record<string, unknown>;
type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

/** Issuer and revocation files, a signing key, and tokens for the holders of one CSE. */
async function tokenSetup(cseId: string): Promise<{ dir: string; issuers: string; revocations: string; token(holder: string, ri: string): Promise<{ tkns: string; tkid: string }> }> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-ltids-shared-'));
  const pair = await generateKeyPair('ES256', { extractable: true });
  const key: Key = pair.privateKey;
  const issuers = join(dir, 'issuers.json');
  const revocations = join(dir, 'revoked.json');
  writeFileSync(issuers, JSON.stringify({ issuers: [{ id: 'CDas', algorithms: ['ES256'], jwk: await exportJWK(pair.publicKey) }] }));
  writeFileSync(revocations, JSON.stringify({ revoked: [] }));
  let serial = 0;
  return {
    dir,
    issuers,
    revocations,
    async token(holder, ri) {
      const now = Math.floor(Date.now() / 1000);
      const tkid = `tk${process.pid}-${++serial}@das.example.net`;
      const claims = { tkvr: '1', jti: tkid, iss: 'CDas', azp: holder, nbf: now - 60, exp: now + 600, aud: [`/${cseId}`], tkps: { pm: [{ ris: [ri], pv: { acr: [{ acor: [holder], acop: 2 }] } }] } };
      return { tkns: await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).sign(key), tkid };
    },
  };
}

/** The Local-Token-ID an X-M2M-ATI header assigns to a token ID. */
function assignedIn(header: string | null, tkid: string): string | undefined {
  return (header ?? '')
    .split('+')
    .map((pair) => pair.split(':'))
    .find(([, id]) => id === tkid)?.[0];
}

/** owner, guest and stranger AEs and a container only the owner's policy grants; returns the container's ri. */
async function setUp(client: TestClient): Promise<string> {
  const owner = await client.registerAe('owner');
  await client.registerAe('guest');
  await client.registerAe('stranger');
  const acp = await client.create('/cse-in/owner', 1, { 'm2m:acp': { rn: 'acp', pv: { acr: [{ acor: [owner], acop: 63 }] }, pvs: { acr: [{ acor: [owner], acop: 63 }] } } }, owner);
  const made = await client.create('/cse-in/owner', 3, { 'm2m:cnt': { rn: 'box', acpi: [(acp.body?.['m2m:acp'] as Attrs).ri] } }, owner);
  assert.equal(made.rsc, 2001, made.text);
  return (made.body?.['m2m:cnt'] as Attrs).ri as string;
}

const BOX = '/cse-in/owner/box';
const get = (client: TestClient, from: string, options: { tkns?: string; ltids?: string }): ReturnType<TestClient['retrieve']> =>
  client.retrieve(`${BOX}${options.ltids === undefined ? '' : `?ltids=${options.ltids}`}`, from, options.tkns === undefined ? {} : { headers: { Authorization: options.tkns } });

describe('Local-Token-IDs shared by two processes on one PostgreSQL database', () => {
  const cseId = `id-lts${process.pid}`;
  let db: TestDatabase;
  let files: Awaited<ReturnType<typeof tokenSetup>>;
  let a: TestClient;
  let b: TestClient;
  const spawned: ChildProcess[] = [];

  before(async () => {
    db = await createTestDatabase();
    files = await tokenSetup(cseId);
    const flags = [
      '--storage.backend=postgres',
      `--storage.url=${db.url}`,
      `--cse.id=${cseId}`,
      `--dynamicAuthorization.tokenIssuers=${files.issuers}`,
      `--dynamicAuthorization.revokedTokens=${files.revocations}`,
      '--dynamicAuthorization.tokenRequiresAuthentication=false',
    ];
    // One after the other: both migrate the same database, and the second finds the first's CSEBase.
    const first = await spawnWarden(flags);
    spawned.push(first.child);
    const second = await spawnWarden(flags);
    spawned.push(second.child);
    [a, b] = [first.client, second.client];
  });
  after(async () => {
    for (const child of spawned) await stopWarden(child);
    await db?.drop();
  });

  it('a token presented to process A gets an ati; its Local-Token-ID grants on process B, for its holder only, until revoked', async () => {
    const boxRi = await setUp(a);
    const { tkns, tkid } = await files.token('Cguest', boxRi);
    const first = await get(a, 'Cguest', { tkns });
    assert.equal(first.rsc, 2000, first.text);
    const lti = assignedIn(first.headers.get('x-m2m-ati'), tkid);
    assert.ok(lti, `X-M2M-ATI: ${first.headers.get('x-m2m-ati')}`);
    // The same token on process B: it was assigned already (on the shared store), so no new ati.
    const again = await get(b, 'Cguest', { tkns });
    assert.equal(again.rsc, 2000);
    assert.equal(again.headers.get('x-m2m-ati'), null);
    assert.equal((await get(b, 'Cguest', { ltids: lti })).rsc, 2000, 'the Local-Token-ID of process A grants on process B');
    assert.equal((await b.delete(`${BOX}?ltids=${lti}`, 'Cguest')).rsc, 4103, 'no more than its token grants');
    assert.equal((await get(b, 'Cstranger', { ltids: lti })).rsc, 4103, "another originator's replay");
    assert.equal((await get(a, 'Cstranger', { ltids: lti })).rsc, 4103);
    const stored = await db.query("SELECT holder, until FROM token_records WHERE kind = 'lti' AND id = $1", [lti]);
    assert.equal(stored.length, 1);
    assert.match(String(stored[0]?.holder), /\/Cguest$/);
    // Revoked: nothing, on either process, presented whole or by its Local-Token-ID.
    writeFileSync(files.revocations, JSON.stringify({ revoked: [tkid] }));
    await sleep(1100); // the list is looked at no more than once a second
    assert.equal((await get(b, 'Cguest', { ltids: lti })).rsc, 4103);
    assert.equal((await get(a, 'Cguest', { ltids: lti })).rsc, 4103);
    assert.equal((await get(a, 'Cguest', { tkns })).rsc, 4103);
  });
});

describe('Local-Token-IDs after a restart (SQLite)', () => {
  const cseId = `id-ltr${process.pid}`;

  it('a Local-Token-ID assigned before a restart grants after it, for its holder only', async () => {
    const files = await tokenSetup(cseId);
    const overrides = {
      'cse.id': cseId,
      'storage.path': tempDatabase(),
      'dynamicAuthorization.tokenIssuers': files.issuers,
      'dynamicAuthorization.revokedTokens': files.revocations,
      'dynamicAuthorization.tokenRequiresAuthentication': false,
    };
    let t = await startTestCse(overrides);
    let lti: string | undefined;
    let tkid = '';
    try {
      const boxRi = await setUp(t.client);
      const token = await files.token('Cguest', boxRi);
      tkid = token.tkid;
      const first = await get(t.client, 'Cguest', { tkns: token.tkns });
      assert.equal(first.rsc, 2000, first.text);
      lti = assignedIn(first.headers.get('x-m2m-ati'), tkid);
      assert.ok(lti);
    } finally {
      await t.close();
    }
    t = await startTestCse(overrides);
    try {
      assert.equal((await get(t.client, 'Cguest', { ltids: lti })).rsc, 2000, 'the Local-Token-ID survived the restart');
      assert.equal((await get(t.client, 'Cstranger', { ltids: lti })).rsc, 4103);
      writeFileSync(files.revocations, JSON.stringify({ revoked: [tkid] }));
      await sleep(1100);
      assert.equal((await get(t.client, 'Cguest', { ltids: lti })).rsc, 4103, 'revoked');
    } finally {
      await t.close();
    }
  });
});
