import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { once } from 'node:events';
import { ManualClock, spawnWarden, startTestCse, stopWarden, tempDatabase, type TestCse } from '../harness.js';
import { waitFor } from '../receiver.js';
import { MAX_ACTION_DEPTH, MAX_CHAIN_EVALUATIONS } from '../../src/actions/runner.js';
import { REFUSED_KEY, WATCHERS_KEY } from '../../src/actions/state.js';

type Attrs = Record<string, unknown>;
const START = Date.UTC(2026, 11, 4, 12, 0, 0);
const GREATER = 3;
const EQUAL = 1;
const MODE = { off: 0, once: 1, periodic: 2, continuous: 3 } as const;

describe('<action> and <dependency> over HTTP', () => {
  let t: TestCse;
  let ae: string;
  const clock = new ManualClock(START);
  before(async () => {
    t = await startTestCse({}, { clock });
    ae = await t.client.registerAe('actor');
  });
  after(() => t.close());

  const body = (reply: { body: Attrs | undefined }, name: string): Attrs => reply.body?.[name] as Attrs;

  async function container(path: string, rn: string, origin = ae): Promise<Attrs> {
    const reply = await t.client.create(path, 3, { 'm2m:cnt': { rn } }, origin);
    assert.equal(reply.rsc, 2001, reply.text);
    return body(reply, 'm2m:cnt');
  }
  async function instance(path: string, origin = ae): Promise<void> {
    const reply = await t.client.create(path, 4, { 'm2m:cin': { con: 'x' } }, origin);
    assert.equal(reply.rsc, 2001, reply.text);
  }
  async function action(path: string, attrs: Attrs, origin = ae): Promise<Attrs> {
    const reply = await t.client.create(path, 65, { 'm2m:actr': attrs }, origin);
    assert.equal(reply.rsc, 2001, reply.text);
    return body(reply, 'm2m:actr');
  }
  const cni = async (path: string, origin = ae): Promise<number> => Number(body(await t.client.retrieve(path, origin), 'm2m:cnt').cni);
  const labelOf = async (path: string, origin = ae): Promise<unknown> => body(await t.client.retrieve(path, origin), Object.keys((await t.client.retrieve(path, origin)).body ?? {})[0] ?? '').lbl;
  /** Every queued evaluation has been taken (an evaluation that does not fire does nothing else). */
  const evaluated = (): Promise<void> => waitFor(async () => (await t.cse.services.store.countQueuedByPrefix('act:', 10)) === 0);
  const labelAe = (origin: string): Attrs => ({ op: 3, fr: origin, to: origin, rqi: 'label', rvi: '3', pc: { 'm2m:ae': { lbl: ['fired'] } } });

  it('fires a once action when its subject meets the criteria, once, and keeps the result in air', async () => {
    const box = await container('/cse-in/actor', 'once');
    await action('/cse-in/actor/once', { rn: 'act', evc: { sbjt: 'cni', optr: GREATER, thld: 1 }, evm: MODE.once, orc: ae, apv: labelAe(ae) });
    await instance('/cse-in/actor/once');
    await evaluated();
    assert.equal(await labelOf('/cse-in/actor'), undefined, 'cni 1 is not greater than 1');
    await instance('/cse-in/actor/once');
    await waitFor(async () => JSON.stringify(await labelOf('/cse-in/actor')) === '["fired"]');
    const air = body(await t.client.retrieve('/cse-in/actor/once/act', ae), 'm2m:actr').air as Attrs;
    assert.equal(air.rsc, 2004);
    assert.deepEqual((air.pc as { 'm2m:ae': Attrs })['m2m:ae'].lbl, ['fired']);
    assert.equal((await t.client.update('/cse-in/actor', { 'm2m:ae': { lbl: null } }, ae)).rsc, 2004);
    await instance('/cse-in/actor/once');
    await evaluated();
    assert.equal(await labelOf('/cse-in/actor'), undefined, 'a once action does not fire again');
    assert.equal((await t.client.delete(`/${String(box.ri)}`, ae)).rsc, 2002);
  });

  it('fires a periodic action at most once per period: on a change, then at each period on its durable timer', async () => {
    await container('/cse-in/actor', 'source');
    const log = await container('/cse-in/actor', 'log');
    await action('/cse-in/actor/source', {
      rn: 'act',
      evc: { sbjt: 'cni', optr: GREATER, thld: 0 },
      evm: MODE.periodic,
      ecp: 60_000,
      orc: log.ri,
      apv: { op: 1, fr: ae, to: log.ri, ty: 4, rqi: 'tick', rvi: '3', pc: { 'm2m:cin': { con: 'tick' } } },
    });
    await instance('/cse-in/actor/source');
    await waitFor(async () => (await cni('/cse-in/actor/log')) === 1);
    await instance('/cse-in/actor/source');
    await evaluated();
    assert.equal(await cni('/cse-in/actor/log'), 1, 'a second change in the same period does not fire');
    clock.advance(60_000);
    await waitFor(async () => (await cni('/cse-in/actor/log')) === 2);
    clock.advance(60_000);
    await waitFor(async () => (await cni('/cse-in/actor/log')) === 3);
    // Off stops the timer and the evaluations.
    assert.equal((await t.client.update('/cse-in/actor/source/act', { 'm2m:actr': { evm: MODE.off, ecp: null } }, ae)).rsc, 2004);
    clock.advance(60_000);
    await instance('/cse-in/actor/source');
    await evaluated();
    assert.equal(await cni('/cse-in/actor/log'), 3);
  });

  it('carries out the actions one change sets off in actionPriority (apy) order, lowest first, those without one last', async () => {
    await container('/cse-in/actor', 'ranked');
    const log = await container('/cse-in/actor', 'rankLog');
    const write = (con: string): Attrs => ({ op: 1, fr: ae, to: log.ri, ty: 4, rvi: '3', pc: { 'm2m:cin': { con } } });
    // Written in an order that is neither the priority order nor its reverse.
    const ranked = [
      { rn: 'none', con: 'last' },
      { rn: 'p5', apy: 5, con: 'third' },
      { rn: 'p1', apy: 1, con: 'first' },
      { rn: 'p3', apy: 3, con: 'second' },
    ];
    for (const { rn, apy, con } of ranked) {
      await action('/cse-in/actor/ranked', { rn, ...(apy === undefined ? {} : { apy }), evc: { sbjt: 'cni', optr: GREATER, thld: 0 }, evm: MODE.once, orc: log.ri, apv: write(con) });
    }
    await instance('/cse-in/actor/ranked');
    await waitFor(async () => (await cni('/cse-in/actor/rankLog')) === 4);
    const listed = await t.client.retrieve('/cse-in/actor/rankLog?rcn=4', ae);
    const instances = (body(listed, 'm2m:cnt')['m2m:cin'] as Attrs[]).sort((x, y) => Number(x.st) - Number(y.st));
    assert.deepEqual(instances.map((c) => c.con), ['first', 'second', 'third', 'last']);
    assert.equal((await t.client.create('/cse-in/actor/ranked', 65, { 'm2m:actr': { apy: 0, evc: { sbjt: 'cni', optr: GREATER, thld: 0 }, evm: MODE.once, orc: log.ri, apv: write('x') } }, ae)).rsc, 4000, 'apy is a positiveInteger');
  });

  it('runs an action only while its dependencies hold', async () => {
    const subject = await container('/cse-in/actor', 'gated');
    const gate = await container('/cse-in/actor', 'gate');
    await action('/cse-in/actor/gated', { rn: 'act', evc: { sbjt: 'cni', optr: GREATER, thld: 0 }, evm: MODE.continuous, ecp: 100, orc: ae, apv: labelAe(ae) });
    const dep = await t.client.create('/cse-in/actor/gated/act', 66, { 'm2m:depr': { rn: 'open', sfc: false, rri: gate.ri, evc: { sbjt: 'lbl', optr: EQUAL, thld: ['open'] } } }, ae);
    assert.equal(dep.rsc, 2001, dep.text);
    const linked = await t.client.update('/cse-in/actor/gated/act', { 'm2m:actr': { dep: [body(dep, 'm2m:depr').ri] } }, ae);
    assert.equal(linked.rsc, 2004, linked.text);
    await instance('/cse-in/actor/gated');
    await evaluated();
    assert.equal(await labelOf('/cse-in/actor'), undefined, 'the dependency does not hold yet');
    assert.equal((await t.client.update('/cse-in/actor/gate', { 'm2m:cnt': { lbl: ['open'] } }, ae)).rsc, 2004);
    await instance('/cse-in/actor/gated');
    await waitFor(async () => JSON.stringify(await labelOf('/cse-in/actor')) === '["fired"]');
    assert.equal((await t.client.update('/cse-in/actor', { 'm2m:ae': { lbl: null } }, ae)).rsc, 2004);
    assert.equal((await t.client.delete(`/${String(subject.ri)}`, ae)).rsc, 2002);
  });

  it('refuses at run time (4103, never executed, counted) a primitive its creator may no longer carry out', async () => {
    const victim = await t.client.registerAe('victim');
    const mallory = await t.client.registerAe('mallory');
    const policy = await t.client.create('/cse-in/victim', 1, {
      'm2m:acp': { rn: 'share', pv: { acr: [{ acor: [mallory], acop: 6 }] }, pvs: { acr: [{ acor: [victim], acop: 63 }] } },
    }, victim);
    assert.equal(policy.rsc, 2001, policy.text);
    const shared = await t.client.create('/cse-in/victim', 3, { 'm2m:cnt': { rn: 'shared', acpi: [body(policy, 'm2m:acp').ri] } }, victim);
    assert.equal(shared.rsc, 2001, shared.text);
    const sharedRi = String(body(shared, 'm2m:cnt').ri);
    await container('/cse-in/mallory', 'trigger', mallory);
    const created = await action('/cse-in/mallory/trigger', {
      rn: 'act',
      evc: { sbjt: 'cni', optr: GREATER, thld: 0 },
      evm: MODE.continuous,
      orc: sharedRi,
      apv: { op: 3, fr: mallory, to: sharedRi, rvi: '3', pc: { 'm2m:cnt': { lbl: ['defaced'] } } },
    }, mallory);
    // The victim takes UPDATE back; the action stays, and is now refused when it runs.
    assert.equal((await t.client.update('/cse-in/victim/share', { 'm2m:acp': { pv: { acr: [{ acor: [mallory], acop: 2 }] } } }, victim)).rsc, 2004);
    await instance('/cse-in/mallory/trigger', mallory);
    await waitFor(async () => (body(await t.client.retrieve('/cse-in/mallory/trigger/act', mallory), 'm2m:actr').air as Attrs | undefined)?.rsc === 4103);
    assert.equal(await labelOf('/cse-in/victim/shared', victim), undefined, 'the refused primitive was not executed');
    assert.equal((await t.cse.services.store.get(String(created.ri)))?.doc[REFUSED_KEY], 1);
    // Nor could mallory have written such an action in the first place now: 4000, as for a resource that is not there.
    const again = await t.client.create('/cse-in/mallory/trigger', 65, {
      'm2m:actr': { rn: 'again', evc: { sbjt: 'cni', optr: GREATER, thld: 0 }, evm: MODE.once, orc: sharedRi, apv: { op: 3, fr: mallory, pc: { 'm2m:cnt': { lbl: ['x'] } } } },
    }, mallory);
    assert.equal(again.rsc, 4000, again.text);
  });

  it(`bounds an action that sets itself off: at most ${MAX_ACTION_DEPTH + 1} runs per outside change`, async () => {
    const loop = await container('/cse-in/actor', 'loop');
    await action('/cse-in/actor/loop', {
      rn: 'act',
      evc: { sbjt: 'cni', optr: GREATER, thld: 0 },
      evm: MODE.continuous,
      ecp: 1000,
      orc: loop.ri,
      apv: { op: 1, fr: ae, ty: 4, rvi: '3', pc: { 'm2m:cin': { con: 'again' } } },
    });
    await instance('/cse-in/actor/loop');
    await waitFor(async () => (await cni('/cse-in/actor/loop')) === 1 + MAX_ACTION_DEPTH + 1);
    await evaluated();
    assert.equal(await cni('/cse-in/actor/loop'), 1 + MAX_ACTION_DEPTH + 1);
  });

  it(`bounds actions that set each other off: at most ${MAX_CHAIN_EVALUATIONS} evaluations follow one outside change`, async () => {
    // Eight continuous actions on one container, each adding an instance to it: without a bound per chain every
    // level evaluates all eight again for each of the previous level's instances (1 + 8 + 64 + 512 + 4096).
    const crowd = await container('/cse-in/actor', 'crowd');
    for (let i = 0; i < 8; i++) {
      await action('/cse-in/actor/crowd', {
        rn: `act${i}`,
        evc: { sbjt: 'cni', optr: GREATER, thld: 0 },
        evm: MODE.continuous,
        ecp: 100_000,
        orc: crowd.ri,
        apv: { op: 1, fr: ae, ty: 4, rvi: '3', pc: { 'm2m:cin': { con: `from ${i}` } } },
      });
    }
    await instance('/cse-in/actor/crowd');
    // Some seventy jobs in one queue, one at a time: more time than the usual wait on a loaded machine.
    await waitFor(async () => (await cni('/cse-in/actor/crowd')) >= 1 + 8, 20_000);
    await waitFor(async () => (await t.cse.services.store.countQueuedByPrefix('act:', 10)) === 0, 20_000);
    // The outside change's own eight, and at most MAX_CHAIN_EVALUATIONS after them.
    const made = await cni('/cse-in/actor/crowd');
    assert.ok(made <= 1 + 8 + MAX_CHAIN_EVALUATIONS, `${made} instances`);
    assert.ok(made > 1 + 8, 'the chain was followed, within its bound');
  });

  it('reads a CSEBase subject by its structured name, and a deleted action leaves its subject', async () => {
    const admin = t.config.security.admin;
    const log = await container('/cse-in/actor', 'cselog');
    const made = await action('/cse-in', {
      rn: 'onCse',
      evc: { sbjt: 'rn', optr: EQUAL, thld: 'cse-in' },
      evm: MODE.continuous,
      orc: log.ri,
      apv: { op: 1, fr: admin, ty: 4, rvi: '3', pc: { 'm2m:cin': { con: 'cse changed' } } },
    }, admin);
    assert.equal((await t.client.create('/cse-in', 3, { 'm2m:cnt': { rn: 'touch1' } }, admin)).rsc, 2001);
    await waitFor(async () => (await cni('/cse-in/actor/cselog')) === 1);
    const watchers = async (): Promise<unknown> => (await t.cse.services.store.getByPath('cse-in'))?.doc[WATCHERS_KEY];
    assert.deepEqual(await watchers(), [made.ri]);
    assert.equal((await t.client.delete('/cse-in/onCse', admin)).rsc, 2002);
    assert.equal((await t.client.create('/cse-in', 3, { 'm2m:cnt': { rn: 'touch2' } }, admin)).rsc, 2001);
    await evaluated();
    assert.equal(await watchers(), undefined);
    assert.equal(await cni('/cse-in/actor/cselog'), 1);
  });

  it('refuses malformed actions and dependencies with 4000 (4108 for a dependency outside an action), storing nothing', async () => {
    const target = await container('/cse-in/actor', 'bad');
    const good = { evc: { sbjt: 'cni', optr: GREATER, thld: 0 }, evm: MODE.once, orc: target.ri, apv: { op: 2, fr: ae } };
    const cases: Array<[Attrs, RegExp]> = [
      [{ ...good, evm: MODE.off, ecp: 5 }, /ecp/],
      [{ ...good, evm: MODE.periodic, ecp: 10 }, /ecp/],
      [{ ...good, evm: 9 }, /evm/],
      [{ ...good, apv: {} }, /apv/],
      [{ ...good, apv: { op: 2, fr: 'Csomeoneelse' } }, /apv\.fr/],
      [{ ...good, apv: { op: 2, fr: ae, rt: { rtv: 1 } } }, /apv/],
      [{ ...good, evc: { sbjt: 'nosuch', optr: EQUAL, thld: 1 } }, /sbjt/],
      [{ ...good, evc: { sbjt: 'cni', optr: EQUAL, thld: -1 } }, /thld/],
      [{ ...good, evc: { sbjt: 'lbl', optr: GREATER, thld: ['a'] } }, /optr/],
      [{ ...good, evc: { sbjt: 'cni', optr: EQUAL, thld: 1, extra: 1 } }, /evc/],
      [{ ...good, orc: 'nowhere' }, /orc/],
      [{ ...good, sri: 'nowhere' }, /sri/],
      [{ ...good, dep: ['x'] }, /dep/],
      [{ ...good, ipu: { nope: 'x' } }, /ipu/],
    ];
    for (const [attrs, message] of cases) {
      const reply = await t.client.create('/cse-in/actor/bad', 65, { 'm2m:actr': { rn: 'x', ...attrs } }, ae);
      assert.equal(reply.rsc, 4000, `${JSON.stringify(attrs)}: ${reply.text}`);
      assert.match(String(reply.body?.['m2m:dbg']), message);
    }
    assert.equal((await t.client.retrieve('/cse-in/actor/bad/x', ae)).rsc, 4004);
    const dependency = { 'm2m:depr': { rn: 'd', sfc: true, rri: target.ri, evc: { sbjt: 'cni', optr: EQUAL, thld: 1 } } };
    assert.equal((await t.client.create('/cse-in/actor', 66, dependency, ae)).rsc, 4108);
    await action('/cse-in/actor/bad', { rn: 'ok', ...good });
    const badDependency = await t.client.create('/cse-in/actor/bad/ok', 66, { 'm2m:depr': { ...dependency['m2m:depr'], rri: 'nowhere' } }, ae);
    assert.equal(badDependency.rsc, 4000, badDependency.text);
    const wrongDep = await t.client.update('/cse-in/actor/bad/ok', { 'm2m:actr': { dep: [String(target.ri)] } }, ae);
    assert.equal(wrongDep.rsc, 4000, wrongDep.text);
    assert.equal((await t.client.update('/cse-in/actor/bad/ok', { 'm2m:actr': { orc: null } }, ae)).rsc, 4000);
    assert.equal((await t.client.update('/cse-in/actor/bad/ok', { 'm2m:depr': { sfc: false } }, ae)).rsc, 4102);
  });
});

describe('periodic actions are durable', () => {
  it('go on running each period after a restart of the CSE', async () => {
    const storage = tempDatabase();
    const first = await spawnWarden([`--storage.path=${storage}`]);
    const ae = await first.client.registerAe('keeper');
    for (const rn of ['src', 'log']) assert.equal((await first.client.create('/cse-in/keeper', 3, { 'm2m:cnt': { rn } }, ae)).rsc, 2001);
    const made = await first.client.create('/cse-in/keeper/src', 65, {
      'm2m:actr': {
        rn: 'act',
        evc: { sbjt: 'cni', optr: GREATER, thld: 0 },
        evm: MODE.periodic,
        ecp: 1000,
        orc: 'cse-in/keeper/log',
        apv: { op: 1, fr: ae, ty: 4, rvi: '3', pc: { 'm2m:cin': { con: 'tick' } } },
      },
    }, ae);
    assert.equal(made.rsc, 2001, made.text);
    assert.equal((await first.client.create('/cse-in/keeper/src', 4, { 'm2m:cin': { con: 'go' } }, ae)).rsc, 2001);
    const logged = async (client: typeof first.client): Promise<number> => Number(((await client.retrieve('/cse-in/keeper/log', ae)).body?.['m2m:cnt'] as Attrs | undefined)?.cni ?? 0);
    await waitFor(async () => (await logged(first.client)) >= 1, 10_000);
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    const second = await spawnWarden([`--storage.path=${storage}`]);
    try {
      const before = await logged(second.client);
      await waitFor(async () => (await logged(second.client)) >= before + 2, 15_000);
    } finally {
      await stopWarden(second.child);
    }
  });
});
