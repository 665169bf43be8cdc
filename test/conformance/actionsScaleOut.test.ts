// <action> with two Warden processes on one PostgreSQL database: changes arriving through both evaluate one
// action one job at a time, so a once action runs once however the changes are spread.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { spawnWarden, stopWarden, type TestClient } from '../harness.js';
import { waitFor } from '../receiver.js';
import { createTestDatabase, type TestDatabase } from '../postgres.js';

type Attrs = Record<string, unknown>;

describe('actions on two processes sharing one PostgreSQL database', () => {
  let db: TestDatabase;
  let a: { child: ChildProcess; client: TestClient };
  let b: { child: ChildProcess; client: TestClient };
  const spawned: ChildProcess[] = [];

  before(async () => {
    db = await createTestDatabase();
    const flags = ['--storage.backend=postgres', `--storage.url=${db.url}`];
    const started = await Promise.allSettled([spawnWarden(flags), spawnWarden(flags)]);
    for (const s of started) if (s.status === 'fulfilled') spawned.push(s.value.child);
    if (started[0].status === 'rejected' || started[1].status === 'rejected') throw new Error('a Warden process did not start');
    [a, b] = [started[0].value, started[1].value];
  });
  after(async () => {
    for (const child of spawned) await stopWarden(child);
    await db.drop();
  });

  it('a once action set off by concurrent changes through both processes runs once', async () => {
    const ae = await a.client.registerAe('pair');
    for (const rn of ['src', 'log']) assert.equal((await a.client.create('/cse-in/pair', 3, { 'm2m:cnt': { rn } }, ae)).rsc, 2001);
    const made = await b.client.create('/cse-in/pair/src', 65, {
      'm2m:actr': {
        rn: 'act',
        evc: { sbjt: 'cni', optr: 3, thld: 0 },
        evm: 1,
        orc: 'cse-in/pair/log',
        apv: { op: 1, fr: ae, ty: 4, rvi: '3', pc: { 'm2m:cin': { con: 'once' } } },
      },
    }, ae);
    assert.equal(made.rsc, 2001, made.text);
    const writes = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).client.create('/cse-in/pair/src', 4, { 'm2m:cin': { con: `${i}` } }, ae));
    assert.ok((await Promise.all(writes)).every((r) => r.rsc === 2001));
    const log = async (): Promise<number> => Number(((await a.client.retrieve('/cse-in/pair/log', ae)).body?.['m2m:cnt'] as Attrs | undefined)?.cni);
    await waitFor(async () => (await log()) >= 1, 10_000);
    await waitFor(async () => (await db.query("SELECT count(*)::int AS n FROM outbox WHERE target LIKE 'act:%'"))[0]?.n === 0, 10_000);
    assert.equal(await log(), 1);
  });

  /** Twenty changes of `src`, spread over both processes and sent at once. */
  async function changes(src: string, ae: string): Promise<void> {
    const writes = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).client.create(src, 4, { 'm2m:cin': { con: `${i}` } }, ae));
    assert.ok((await Promise.all(writes)).every((r) => r.rsc === 2001));
  }
  const count = async (path: string, ae: string): Promise<number> => Number(((await a.client.retrieve(path, ae)).body?.['m2m:cnt'] as Attrs | undefined)?.cni);
  const drained = (): Promise<void> => waitFor(async () => (await db.query("SELECT count(*)::int AS n FROM outbox WHERE target LIKE 'act:%'"))[0]?.n === 0, 10_000);

  it('a periodic action runs once in its period, and a continuous one exactly its ecp evaluations, over both processes', async () => {
    const ae = await a.client.registerAe('modes');
    for (const rn of ['src', 'periodLog', 'countLog']) assert.equal((await a.client.create('/cse-in/modes', 3, { 'm2m:cnt': { rn } }, ae)).rsc, 2001);
    const write = (to: string): Attrs => ({ op: 1, fr: ae, ty: 4, rvi: '3', pc: { 'm2m:cin': { con: to } } });
    // A day's period: every change below falls in the first one.
    const periodic = await a.client.create('/cse-in/modes/src', 65, {
      'm2m:actr': { rn: 'periodic', evc: { sbjt: 'cni', optr: 3, thld: 0 }, evm: 2, ecp: 86_400_000, orc: 'cse-in/modes/periodLog', apv: write('periodic') },
    }, ae);
    assert.equal(periodic.rsc, 2001, periodic.text);
    const continuous = await b.client.create('/cse-in/modes/src', 65, {
      'm2m:actr': { rn: 'continuous', evc: { sbjt: 'cni', optr: 3, thld: 0 }, evm: 3, ecp: 3, orc: 'cse-in/modes/countLog', apv: write('continuous') },
    }, ae);
    assert.equal(continuous.rsc, 2001, continuous.text);
    await changes('/cse-in/modes/src', ae);
    await waitFor(async () => (await count('/cse-in/modes/countLog', ae)) >= 3, 10_000);
    await drained();
    assert.equal(await count('/cse-in/modes/periodLog', ae), 1, 'once in the period');
    assert.equal(await count('/cse-in/modes/countLog', ae), 3, 'three evaluations, each met');
  });
});
