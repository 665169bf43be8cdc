// Two Warden processes on one PostgreSQL database, driven concurrently; the invariants must hold.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { spawnWarden, stopWarden, type TestClient } from '../harness.js';
import { Receiver, waitFor } from '../receiver.js';
import { formatTimestamp } from '../../src/primitive/identifiers.js';
import { createTestDatabase, type TestDatabase } from '../postgres.js';

type Attrs = Record<string, unknown>;

describe('scale-out: two processes on one PostgreSQL database', () => {
  let db: TestDatabase;
  let a: { child: ChildProcess; client: TestClient };
  let b: { child: ChildProcess; client: TestClient };
  let ae: string;

  before(async () => {
    db = await createTestDatabase();
    const flags = ['--storage.backend=postgres', `--storage.url=${db.url}`, '--housekeeping.interval=1'];
    const started = await Promise.allSettled([spawnWarden(flags), spawnWarden(flags)]);
    for (const s of started) if (s.status === 'fulfilled') spawned.push(s.value.child);
    if (started[0].status === 'rejected' || started[1].status === 'rejected') throw new Error('a Warden process did not start');
    [a, b] = [started[0].value, started[1].value];
    ae = await a.client.registerAe('fleet');
  });
  const spawned: ChildProcess[] = [];
  after(async () => {
    for (const child of spawned) await stopWarden(child);
    await db.drop();
  });

  const rows = (sql: string, args: unknown[] = []): Promise<Attrs[]> => db.query(sql, args);

  /** The RSC of `read` once it is 4103, or its last RSC after a second of asking (an invalidation on its way). */
  async function refusedSoon(read: () => Promise<{ rsc: number }>): Promise<number> {
    let rsc = 0;
    for (let i = 0; i < 50; i++) {
      rsc = (await read()).rsc;
      if (rsc === 4103) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    return rsc;
  }

  it('concurrent ingest through both keeps cni, cbs and mni exact', async () => {
    assert.equal((await a.client.create('/cse-in/fleet', 3, { 'm2m:cnt': { rn: 'ingest', mni: 50 } }, ae)).rsc, 2001);
    const posts = Array.from({ length: 200 }, (_, i) =>
      (i % 2 === 0 ? a : b).client.create('/cse-in/fleet/ingest', 4, { 'm2m:cin': { con: `value-${i}` } }, ae),
    );
    const replies = await Promise.all(posts);
    assert.ok(replies.every((r) => r.rsc === 2001), replies.find((r) => r.rsc !== 2001)?.text);
    for (const p of [a, b]) {
      const cnt = (await p.client.retrieve('/cse-in/fleet/ingest', ae)).body?.['m2m:cnt'] as Attrs;
      const stored = await rows("SELECT count(*)::int AS n, coalesce(sum((doc::json->>'cs')::int), 0)::int AS bytes FROM resources WHERE pi = $1 AND ty = 4", [cnt.ri]);
      assert.equal(cnt.cni, 50, 'cni equals mni');
      assert.equal(stored[0]?.n, 50, 'stored instances equal mni');
      assert.equal(cnt.cbs, stored[0]?.bytes, 'cbs equals the stored bytes');
      assert.equal(cnt.st, 200, 'one stateTag step per instance');
    }
  });

  it('a group request identifier seen by one process is a duplicate for the other', async () => {
    const gid = { headers: { 'X-M2M-GID': 'gid-shared-1' } };
    assert.equal((await a.client.retrieve('/cse-in/fleet', ae, gid)).rsc, 2000);
    assert.equal((await b.client.retrieve('/cse-in/fleet', ae, gid)).rsc, 4104);
  });

  it('a non-blocking request accepted by one process is carried out once', async () => {
    const ack = await a.client.request('POST', '/cse-in/fleet?rt=1', { origin: ae, ty: 3, body: { 'm2m:cnt': { rn: 'deferred' } }, headers: { 'X-M2M-OET': '500' } });
    assert.equal(ack.rsc, 1001, ack.text);
    const requestPath = `/${String(ack.body?.['m2m:uri'])}`;
    await waitFor(async () => ((await b.client.retrieve(requestPath, ae)).body?.['m2m:req'] as Attrs | undefined)?.rs === 1, 10_000);
    assert.equal((await b.client.retrieve('/cse-in/fleet/deferred', ae)).rsc, 2000);
    assert.deepEqual(await rows("SELECT count(*)::int AS n FROM outbox WHERE target LIKE 'req:%'"), [{ n: 0 }], 'the job is gone');
  });

  it('one AE-ID is registered once when both processes race', async () => {
    const register = (p: { client: TestClient }): Promise<{ rsc: number }> =>
      p.client.create('/cse-in', 2, { 'm2m:ae': { rn: 'racer', api: 'Nracer', rr: false, srv: ['3'] } }, 'Cracer');
    const results = (await Promise.all([register(a), register(b), register(a), register(b)])).map((r) => r.rsc).sort();
    assert.equal(results.filter((r) => r === 2001).length, 1, JSON.stringify(results));
    assert.ok(results.filter((r) => r !== 2001).every((r) => r === 4117 || r === 4105), JSON.stringify(results));
  });

  it('a subtree deleted through both at once is deleted once', async () => {
    await a.client.create('/cse-in/fleet', 3, { 'm2m:cnt': { rn: 'doomed' } }, ae);
    for (let i = 0; i < 10; i++) await b.client.create('/cse-in/fleet/doomed', 4, { 'm2m:cin': { con: 'x' } }, ae);
    const results = (await Promise.all([a.client.delete('/cse-in/fleet/doomed', ae), b.client.delete('/cse-in/fleet/doomed', ae)])).map((r) => r.rsc).sort();
    assert.deepEqual(results, [2002, 4004]);
  });

  it('a policy changed through one process is enforced by the other at once', async () => {
    const reader = await a.client.registerAe('reader');
    const acp = await a.client.create('/cse-in/fleet', 1, { 'm2m:acp': { rn: 'share', pv: { acr: [{ acor: [reader], acop: 2 }] }, pvs: { acr: [{ acor: [ae], acop: 63 }] } } }, ae);
    const acpRi = String((acp.body?.['m2m:acp'] as Attrs).ri);
    await a.client.create('/cse-in/fleet', 3, { 'm2m:cnt': { rn: 'shared', acpi: [acpRi] } }, ae);
    assert.equal((await b.client.retrieve('/cse-in/fleet/shared', reader)).rsc, 2000, 'granted, and now cached in b');
    assert.equal((await a.client.update('/cse-in/fleet/share', { 'm2m:acp': { pv: { acr: [] } } }, ae)).rsc, 2004);
    assert.equal(await refusedSoon(() => b.client.retrieve('/cse-in/fleet/shared', reader)), 4103, 'b dropped its cached policy');
  });

  it('a policy revoked while the other process was not listening is enforced once it listens again', async () => {
    const reader = await a.client.registerAe('lateReader');
    const acp = await a.client.create('/cse-in/fleet', 1, { 'm2m:acp': { rn: 'shareLate', pv: { acr: [{ acor: [reader], acop: 2 }] }, pvs: { acr: [{ acor: [ae], acop: 63 }] } } }, ae);
    const acpRi = String((acp.body?.['m2m:acp'] as Attrs).ri);
    await a.client.create('/cse-in/fleet', 3, { 'm2m:cnt': { rn: 'sharedLate', acpi: [acpRi] } }, ae);
    assert.equal((await b.client.retrieve('/cse-in/fleet/sharedLate', reader)).rsc, 2000, 'granted, and now cached in b');
    const listenerOfB = `warden-listen-${String(b.child.pid)}`;
    const listening = async (): Promise<number> => Number((await rows('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [listenerOfB]))[0]?.n);
    assert.equal(await listening(), 1, "b's LISTEN connection is named after its process");
    // b's LISTEN connection ends; the revocation's broadcast goes out before b listens again (it waits 100 ms first).
    await rows('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [listenerOfB]);
    assert.equal((await a.client.update('/cse-in/fleet/shareLate', { 'm2m:acp': { pv: { acr: [] } } }, ae)).rsc, 2004);
    await waitFor(async () => (await listening()) === 1, 10_000);
    assert.equal(await refusedSoon(() => b.client.retrieve('/cse-in/fleet/sharedLate', reader)), 4103, 'b started its caches over when it listened again');
  });

  it('expiry sweeps in both processes remove each resource once and keep counters right', async () => {
    await a.client.create('/cse-in/fleet', 3, { 'm2m:cnt': { rn: 'expiring' } }, ae);
    const soon = new Date(Date.now() + 1500).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '');
    for (let i = 0; i < 20; i++) await (i % 2 ? a : b).client.create('/cse-in/fleet/expiring', 4, { 'm2m:cin': { con: 'short', et: soon } }, ae);
    await b.client.create('/cse-in/fleet/expiring', 4, { 'm2m:cin': { con: 'long' } }, ae);
    await new Promise((r) => setTimeout(r, 3500));
    const cnt = (await a.client.retrieve('/cse-in/fleet/expiring', ae)).body?.['m2m:cnt'] as Attrs;
    const stored = await rows('SELECT count(*)::int AS n FROM resources WHERE pi = $1', [cnt.ri]);
    assert.equal(stored[0]?.n, 1);
    assert.equal(cnt.cni, 1);
  });

  it('a time series watched by both processes has each missing reading detected and reported once', async () => {
    const rx = await new Receiver().start();
    try {
      assert.equal((await a.client.create('/cse-in/fleet', 29, { 'm2m:ts': { rn: 'beat', pei: 1000, peid: 100, mdt: 300, mdd: true, mdn: 100 } }, ae)).rsc, 2001);
      const sub = await b.client.create('/cse-in/fleet/beat', 23, { 'm2m:sub': { nu: [rx.url], enc: { net: [8], md: { num: 1, dur: 'PT600S' } } } }, ae);
      assert.equal(sub.rsc, 2001, sub.text);
      assert.equal((await a.client.create('/cse-in/fleet/beat', 30, { 'm2m:tsi': { dgt: formatTimestamp(Date.now()), con: 'r0' } }, ae)).rsc, 2001);
      const beat = async (): Promise<Attrs> => (await b.client.retrieve('/cse-in/fleet/beat', ae)).body?.['m2m:ts'] as Attrs;
      await waitFor(async () => Number((await beat()).mdc) >= 3, 10_000);
      assert.equal((await a.client.update('/cse-in/fleet/beat', { 'm2m:ts': { mdd: false } }, ae)).rsc, 2004);
      const detected = (await beat()).mdlt as string[];
      assert.equal(new Set(detected).size, detected.length, 'no point detected twice');
      const reported = (): string[] => rx.received.filter((r) => r.body['m2m:sgn'] && !(r.body['m2m:sgn'] as Attrs).vrq).flatMap((r) => (((r.body['m2m:sgn'] as Attrs).nev as Attrs).rep as { 'm2m:tsn': { mdlt: string[] } })['m2m:tsn'].mdlt);
      await waitFor(() => reported().length >= detected.length, 10_000);
      assert.deepEqual(reported(), detected, 'each point reported once, in order');
    } finally {
      await rx.stop();
    }
  });
});
