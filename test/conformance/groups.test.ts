// Groups: member validation, fan-out through fopt with aggregated responses, macp; and partial retrieve.
// Written with the client library (packages/client): typed resources, fanOut for fopt, typed refusals.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OneM2MError, connect, type MemberResponse, type WardenClient } from '../../packages/client/src/index.js';
import { startTestCse, type Reply, type TestCse } from '../harness.js';
import type { ResourceStore, StoredResource } from '../../src/storage/store.js';
import { Receiver, waitFor } from '../receiver.js';
import { createTestDatabase } from '../postgres.js';

/** The RSC a refused request ends with. */
async function refusal(promise: Promise<unknown>): Promise<number> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof OneM2MError, `expected a refusal, got ${String(err)}`);
  return err.rsc;
}

/** Each member's answer content under `type`. */
const contents = (answers: MemberResponse[], type: string): Array<Record<string, unknown> | undefined> => answers.map((r) => r.content?.[type] as Record<string, unknown> | undefined);

describe('groups and fan-out', () => {
  let t: TestCse;
  let ae: WardenClient;
  const ri: Record<string, string> = {};
  /** The resource IDs of new containers below the AE. */
  const containers = async (...names: string[]): Promise<string[]> => Promise.all(names.map(async (rn) => String((await ae.create('cse-in/grouper', 'm2m:cnt', { rn })).ri)));
  before(async () => {
    t = await startTestCse();
    ae = await connect({ url: t.url, originator: 'Cgrouper' });
    await ae.registerAe({ rn: 'grouper', api: 'Ngrouper', rr: false, srv: ['3'] });
    for (const rn of ['a', 'b']) ri[rn] = String((await ae.create('cse-in/grouper', 'm2m:cnt', { rn, lbl: [rn] })).ri);
    ri.cin = String((await ae.create('cse-in/grouper/a', 'm2m:cin', { con: 'x' })).ri);
  });
  after(async () => {
    await ae.close();
    await t.close();
  });

  it('validates members against memberType under the consistency strategy', async () => {
    const g1 = await ae.create('cse-in/grouper', 'm2m:grp', { rn: 'g1', mt: 3, mnm: 10, mid: [ri.a, ri.b, ri.cin, 'cntnothere'] as string[] });
    assert.deepEqual(g1.mid, [ri.a, ri.b], 'a member of another type and a missing one are dropped');
    assert.equal(g1.cnm, 2);
    assert.equal(g1.mtv, true);
    assert.equal(await refusal(ae.create('cse-in/grouper', 'm2m:grp', { mt: 3, mnm: 10, csy: 2, mid: [ri.a, ri.cin] as string[] })), 4110);
    const mixed = await ae.create('cse-in/grouper', 'm2m:grp', { mt: 3, mnm: 10, csy: 3, mid: [ri.a, ri.cin] as string[] });
    assert.equal(mixed.mt, 0);
    assert.equal(await refusal(ae.create('cse-in/grouper', 'm2m:grp', { mnm: 1, mid: [ri.a, ri.b] as string[] })), 6010);
  });

  it("validates a member's type only for an originator that may retrieve it (5105): memberType tells no one the type of another's resource", async () => {
    const spy = await connect({ url: t.url, originator: 'Cspy' });
    try {
      await spy.registerAe({ rn: 'spy', api: 'Nspy', rr: false, srv: ['3'] });
      // Kept (a container), dropped or 4110 (another type): each told the type of a resource the spy may not read.
      for (const [members, csy] of [[[ri.a], 1], [[ri.cin], 2], [[`cse-in/grouper/a`], 1]] as const) {
        const rsc = await refusal(spy.create('cse-in/spy', 'm2m:grp', { mt: 3, mnm: 10, csy, mid: [...members] as string[] }));
        assert.equal(rsc, 5105, `${members.join()}: ${rsc}`);
      }
      const own = String((await spy.create('cse-in/spy', 'm2m:cnt', { rn: 'own' })).ri);
      const group = await spy.create('cse-in/spy', 'm2m:grp', { rn: 'mine', mt: 3, mnm: 10, mid: [own] });
      assert.equal(group.cnm, 1);
      assert.equal(await refusal(spy.update('cse-in/spy/mine', 'm2m:grp', { mid: [own, ri.a] as string[] })), 5105);
      // A mixed group validates no type: the member is kept, and each fanned-out request is decided by the member.
      const mixed = await spy.create('cse-in/spy', 'm2m:grp', { rn: 'mixed', mnm: 10, mid: [ri.a] as string[] });
      assert.equal(mixed.cnm, 1);
      assert.ok((await spy.fanOut('cse-in/spy/mixed', 2)).every((r) => r.rsc === 4103));
    } finally {
      await spy.close();
    }
  });

  it('fans RETRIEVE and CREATE out to every member and aggregates the answers', async () => {
    const read = await ae.fanOut('cse-in/grouper/g1', 2);
    assert.deepEqual(read.map((r) => r.member).sort(), [ri.a, ri.b].sort());
    assert.ok(read.every((r) => r.rsc === 2000 && r.content?.['m2m:cnt']));
    const created = await ae.fanOut('cse-in/grouper/g1', 1, { ty: 4, content: { 'm2m:cin': { con: 'to all' } } });
    assert.ok(created.every((r) => r.rsc === 2001));
    const latest = await ae.fanOut('cse-in/grouper/g1', 2, { path: 'la' });
    assert.deepEqual(contents(latest, 'm2m:cin').map((c) => c?.con), ['to all', 'to all']);
  });

  it('decides fan-out by macp, and each member by its own policies', async () => {
    const other = await connect({ url: t.url, originator: 'Cmember-reader' });
    try {
      await other.registerAe({ rn: 'member-reader', api: 'Nmember-reader', rr: false, srv: ['3'] });
      const acp = await ae.create('cse-in/grouper', 'm2m:acp', { rn: 'fanout', pv: { acr: [{ acor: [other.originator], acop: 2 }] }, pvs: { acr: [{ acor: [ae.originator], acop: 63 }] } });
      assert.equal(await refusal(other.fanOut('cse-in/grouper/g1', 2)), 4103, 'no macp: the group acpi (none) decides');
      await ae.update('cse-in/grouper/g1', 'm2m:grp', { macp: [String(acp.ri)] });
      const answers = await other.fanOut('cse-in/grouper/g1', 2);
      assert.ok(answers.every((r) => r.rsc === 4103 && r.error?.rscName === 'ORIGINATOR_HAS_NO_PRIVILEGE'), 'members still refuse an originator their own policies do not name');
      assert.equal(await refusal(other.retrieve('cse-in/grouper/g1', 'm2m:grp')), 4103, 'macp governs fan-out only');
    } finally {
      await other.close();
    }
  });

  it('a repeated group request identifier is refused with 4104, and members deleted through fopt leave the group', async () => {
    await ae.retrieve('cse-in/grouper/g1', 'm2m:grp', { gid: 'gid-1' });
    assert.equal(await refusal(ae.retrieve('cse-in/grouper/g1', 'm2m:grp', { gid: 'gid-1' })), 4104);
    // HTTP status of that refusal: 409 [TS-0009 table 6.3.3-1].
    assert.equal((await t.client.retrieve('/cse-in/grouper/g1', 'Cgrouper', { headers: { 'X-M2M-GID': 'gid-1' } })).status, 409);
    const members = await containers('x1', 'x2');
    await ae.create('cse-in/grouper', 'm2m:grp', { rn: 'doomed', mnm: 5, mid: members });
    const deleted = await ae.fanOut('cse-in/grouper/doomed', 4);
    assert.ok(deleted.every((r) => r.rsc === 2002));
    const group = await ae.retrieve('cse-in/grouper/doomed', 'm2m:grp');
    assert.deepEqual(group.mid, []);
    assert.equal(group.cnm, 0);
  });

  it('an operation execution time delays the operation; one after the request expiry is 4000', async () => {
    const before = Date.now();
    const cnt = await ae.create('cse-in/grouper', 'm2m:cnt', { rn: 'later' }, { oet: '300' });
    const created = Date.parse(String(cnt.ct).replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2}),(\d{3}).*$/, '$1-$2-$3T$4:$5:$6.$7Z'));
    assert.ok(created >= before + 299, 'not carried out before its execution time');
    // Deadlines that contradict each other are 4000, as ACME answers (TS-0004 names no code; see checkPrimitive).
    assert.equal(await refusal(ae.create('cse-in/grouper', 'm2m:cnt', { rn: 'never' }, { oet: '5000', rqet: '1000' })), 4000);
    assert.equal(await refusal(ae.create('cse-in/grouper', 'm2m:cnt', { rn: 'far' }, { oet: '999999' })), 4000);
  });

  it('a subscription through fopt becomes a group subscription whose notifications the group aggregates for nfu', async () => {
    // Raw receivers: the test looks at the aggregated notification (m2m:agn) as it arrives.
    const rx = await new Receiver().start();
    const forward = await new Receiver().start();
    try {
      const ids = await containers('s1', 's2');
      const grp = await ae.create('cse-in/grouper', 'm2m:grp', { rn: 'sensors', mt: 3, mnm: 5, mid: ids, nar: { num: 2, dur: 5000 } });
      const subs = await ae.fanOut('cse-in/grouper/sensors', 1, { ty: 23, content: { 'm2m:sub': { rn: 'watch', nu: [rx.url], nfu: forward.url, enc: { net: [3] } } } });
      assert.ok(subs.every((r) => r.rsc === 2001 && (r.content?.['m2m:sub'] as { gpi?: string }).gpi === `/id-in/${String(grp.ri)}`));
      for (const rn of ['s1', 's2']) await ae.create(`cse-in/grouper/${rn}`, 'm2m:cin', { con: rn });
      await waitFor(() => forward.notifications().length === 1);
      const agn = forward.notifications()[0]?.['m2m:agn'] as Record<string, unknown>;
      assert.equal((agn['m2m:sgn'] as unknown[]).length, 2, 'one aggregated notification for both members');
      assert.equal(rx.notifications().length, 0, 'nothing goes to nu directly');
    } finally {
      await rx.stop();
      await forward.stop();
    }
  });

  it('a subscription through fopt has its targets verified once for all members, not once per member', async () => {
    const rx = await new Receiver().start();
    const unwilling = await new Receiver().start();
    unwilling.behaviour = 'refuse';
    try {
      const ids = await containers('v1', 'v2', 'v3', 'v4', 'v5');
      await ae.create('cse-in/grouper', 'm2m:grp', { rn: 'five', mt: 3, mnm: 5, mid: ids });
      const subs = await ae.fanOut('cse-in/grouper/five', 1, { ty: 23, content: { 'm2m:sub': { rn: 'once', nu: [rx.url], enc: { net: [3] } } } });
      assert.ok(subs.every((r) => r.rsc === 2001), JSON.stringify(subs.map((r) => r.rsc)));
      const verifications = rx.received.filter((r) => (r.body['m2m:sgn'] as { vrq?: boolean } | undefined)?.vrq === true);
      assert.equal(verifications.length, 1, 'one verification request for five member subscriptions');
      assert.equal(await refusal(ae.fanOut('cse-in/grouper/five', 1, { ty: 23, content: { 'm2m:sub': { rn: 'never', nu: [unwilling.url], enc: { net: [3] } } } })), 5204);
      assert.equal(unwilling.received.length, 1, 'a refusing target is asked once too');
    } finally {
      await rx.stop();
      await unwilling.stop();
    }
  });

  it('a path after fopt reaches the child of each member, members listed by resource ID included', async () => {
    const ids = await containers('p1', 'p2');
    await ae.create('cse-in/grouper', 'm2m:grp', { rn: 'parents', mnm: 5, mid: ids });
    assert.ok((await ae.fanOut('cse-in/grouper/parents', 1, { ty: 3, content: { 'm2m:cnt': { rn: 'inner' } } })).every((r) => r.rsc === 2001));
    const read = await ae.fanOut('cse-in/grouper/parents', 2, { path: 'inner' });
    assert.deepEqual(read.map((r) => [r.rsc, (r.content?.['m2m:cnt'] as { rn?: string }).rn]), [[2000, 'inner'], [2000, 'inner']]);
  });

  it('a member deleted on its own leaves the group, and currentNrOfMembers follows', async () => {
    const ids = await containers('m1', 'm2', 'm3');
    await ae.create('cse-in/grouper', 'm2m:grp', { rn: 'shrinking', mnm: 5, mid: [ids[0] as string, `/id-in/${String(ids[1])}`, ids[2] as string] });
    await ae.delete('cse-in/grouper/m1');
    await ae.delete('cse-in/grouper/m2');
    const group = await ae.retrieve('cse-in/grouper/shrinking', 'm2m:grp');
    assert.deepEqual(group.mid, [ids[2]]);
    assert.equal(group.cnm, 1);
  });

  it('an empty group answers 4109', async () => {
    await ae.create('cse-in/grouper', 'm2m:grp', { rn: 'empty', mnm: 5, mid: [] });
    assert.equal(await refusal(ae.fanOut('cse-in/grouper/empty', 2)), 4109);
  });

  it('partial retrieve returns the listed attributes only', async () => {
    assert.deepEqual(await ae.retrieve('cse-in/grouper/a', 'm2m:cnt', { atrl: ['rn', 'lbl'] }), { rn: 'a', lbl: ['a'] });
    assert.deepEqual(await ae.retrieve('cse-in/grouper/a', 'm2m:cnt', { atrl: ['mni'] }), {}, 'defined but absent');
    assert.equal(await refusal(ae.retrieve('cse-in/grouper/a', 'm2m:cnt', { atrl: ['bogus'] })), 4000);
    assert.equal(await refusal(ae.retrieve('cse-in/grouper/a', 'm2m:cnt', { atrl: ['rn'], rcn: 4 })), 4000);
  });
});

describe('a group written while a member is deleted, on PostgreSQL', () => {
  /** A CSE on a fresh PostgreSQL database; its store's transaction is put back after `body`, whatever it replaced. */
  async function onPostgres(body: (t: TestCse, store: ResourceStore, transaction: ResourceStore['transaction']) => Promise<void>): Promise<void> {
    const db = await createTestDatabase();
    const t = await startTestCse({ 'storage.backend': 'postgres', 'storage.url': db.url });
    const store = t.cse.services.store;
    const transaction = store.transaction.bind(store);
    try {
      await body(t, store, transaction);
    } finally {
      store.transaction = transaction;
      await t.close();
      await db.drop();
    }
  }

  it('never lists a member (not in a group yet) whose deletion committed first', async () => {
    await onPostgres(async (t, store, transaction) => {
      const ae = await t.client.registerAe('gatherer');
      // Elsewhere than the group: the group's parent, which its CREATE locks, is not the member's.
      assert.equal((await t.client.create('/cse-in/gatherer', 3, { 'm2m:cnt': { rn: 'box' } }, ae)).rsc, 2001);
      const member = await t.client.create('/cse-in/gatherer/box', 3, { 'm2m:cnt': { rn: 'm' } }, ae);
      const ri = (member.body?.['m2m:cnt'] as Record<string, unknown>).ri as string;
      // Deleted while the first group that lists it is being written: after its members were looked at, before
      // the member is marked and the group stored.
      let deleting: Promise<Reply> | undefined;
      store.transaction = (async (work: (tx: ResourceStore) => Promise<unknown>) =>
        transaction(async (tx) => {
          const getForUpdate = tx.getForUpdate.bind(tx);
          tx.getForUpdate = async (lockedRi) => {
            if (lockedRi === ri && deleting === undefined) {
              deleting = t.client.delete('/cse-in/gatherer/box/m', ae);
              await new Promise((r) => setTimeout(r, 500));
            }
            return getForUpdate(lockedRi);
          };
          return work(tx);
        })) as typeof store.transaction;
      const group = await t.client.create('/cse-in/gatherer', 9, { 'm2m:grp': { rn: 'second', mid: [ri], mnm: 10 } }, ae);
      store.transaction = transaction;
      assert.ok(deleting);
      assert.equal((await deleting).rsc, 2002);
      if (group.rsc === 2001) {
        const second = (await t.client.retrieve('/cse-in/gatherer/second', ae)).body?.['m2m:grp'] as Record<string, unknown>;
        assert.deepEqual(second.mid, [], 'the deleted member is not listed');
        assert.equal(second.cnm, 0);
      }
    });
  });

  it('never lists a member (in a group already) whose deletion ran while the group was written', async () => {
    await onPostgres(async (t, store, transaction) => {
      const ae = await t.client.registerAe('lister');
      assert.equal((await t.client.create('/cse-in/lister', 3, { 'm2m:cnt': { rn: 'box' } }, ae)).rsc, 2001);
      for (const [i, how] of (['create', 'update'] as const).entries()) {
        const member = await t.client.create('/cse-in/lister/box', 3, { 'm2m:cnt': { rn: `m${i}` } }, ae);
        const ri = (member.body?.['m2m:cnt'] as Record<string, unknown>).ri as string;
        // In one group already: its deletion looks for the groups that list it.
        assert.equal((await t.client.create('/cse-in/lister', 9, { 'm2m:grp': { rn: `first${i}`, mid: [ri], mnm: 10 } }, ae)).rsc, 2001);
        if (how === 'update') assert.equal((await t.client.create('/cse-in/lister', 9, { 'm2m:grp': { rn: 'later', mid: [], mnm: 10 } }, ae)).rsc, 2001);
        // The member's DELETE runs, and is given time to commit, just before the second group is stored: after its
        // members were looked at, while its transaction is open.
        let deleting: Promise<Reply> | undefined;
        store.transaction = (async (work: (tx: ResourceStore) => Promise<unknown>) =>
          transaction(async (tx) => {
            const write = how === 'create' ? 'insert' : 'update';
            const original = tx[write].bind(tx) as (r: StoredResource, ...rest: unknown[]) => Promise<unknown>;
            (tx as unknown as Record<string, unknown>)[write] = async (r: StoredResource, ...rest: unknown[]) => {
              if (r.ty === 9 && Array.isArray(r.doc.mid) && r.doc.mid.includes(ri) && deleting === undefined) {
                deleting = t.client.delete(`/cse-in/lister/box/m${i}`, ae);
                await new Promise((resolve) => setTimeout(resolve, 500));
              }
              return original(r, ...rest);
            };
            return work(tx);
          })) as typeof store.transaction;
        const written =
          how === 'create'
            ? await t.client.create('/cse-in/lister', 9, { 'm2m:grp': { rn: 'second', mid: [ri], mnm: 10 } }, ae)
            : await t.client.update('/cse-in/lister/later', { 'm2m:grp': { mid: [ri] } }, ae);
        store.transaction = transaction;
        assert.ok(deleting, how);
        assert.equal((await deleting).rsc, 2002, how);
        assert.ok(written.rsc === 2001 || written.rsc === 2004, `${how}: ${written.rsc}`);
        const group = (await t.client.retrieve(how === 'create' ? '/cse-in/lister/second' : '/cse-in/lister/later', ae)).body?.['m2m:grp'] as Record<string, unknown>;
        assert.deepEqual(group.mid, [], `${how}: the deleted member is not listed`);
        assert.equal(group.cnm, 0, how);
      }
    });
  });

  it('takes a member out of a group that newly listed it and committed while the deletion was under way', async () => {
    await onPostgres(async (t, store, transaction) => {
      const owner = await t.client.registerAe('deleter');
      const other = await t.client.registerAe('latecomer');
      assert.equal((await t.client.create('/cse-in/deleter', 3, { 'm2m:cnt': { rn: 'box' } }, owner)).rsc, 2001);
      const member = await t.client.create('/cse-in/deleter/box', 3, { 'm2m:cnt': { rn: 'm' } }, owner);
      const ri = (member.body?.['m2m:cnt'] as Record<string, unknown>).ri as string;
      assert.equal((await t.client.create('/cse-in/deleter', 9, { 'm2m:grp': { rn: 'first', mid: [ri], mnm: 10 } }, owner)).rsc, 2001);
      // The deletion has looked for the groups to leave; before it commits, another AE's group lists the member and commits.
      let late: Reply | undefined;
      store.transaction = (async (work: (tx: ResourceStore) => Promise<unknown>) =>
        transaction(async (tx) => {
          const search = tx.search.bind(tx);
          tx.search = async (query) => {
            const found = await search(query);
            if (late === undefined && query.listHasAny !== undefined) {
              late = await t.client.create('/cse-in/latecomer', 9, { 'm2m:grp': { rn: 'late', mid: [ri], mnm: 10 } }, other);
            }
            return found;
          };
          return work(tx);
        })) as typeof store.transaction;
      const deleted = await t.client.delete('/cse-in/deleter/box/m', owner);
      store.transaction = transaction;
      assert.equal(deleted.rsc, 2002);
      assert.equal(late?.rsc, 2001, JSON.stringify(late?.body));
      const group = (await t.client.retrieve('/cse-in/latecomer/late', other)).body?.['m2m:grp'] as Record<string, unknown>;
      assert.deepEqual(group.mid, [], 'the deleted member is not listed');
      assert.equal(group.cnm, 0);
    });
  });

  it('two groups taking the same new members in other orders both succeed (no deadlock)', async () => {
    await onPostgres(async (t, store, transaction) => {
      const owner = await t.client.registerAe('holder');
      const other = await t.client.registerAe('collector');
      const ris: string[] = [];
      for (const rn of ['a', 'b']) {
        const made = await t.client.create('/cse-in/holder', 3, { 'm2m:cnt': { rn } }, owner);
        ris.push((made.body?.['m2m:cnt'] as Record<string, unknown>).ri as string);
      }
      // Each group's transaction lingers after the first member it locks, so both hold one member while the
      // other's is still to come: locked in list order, each waits for the other's (40P01, one answered 5000).
      store.transaction = (async (work: (tx: ResourceStore) => Promise<unknown>) =>
        transaction(async (tx) => {
          const getForUpdate = tx.getForUpdate.bind(tx);
          let lingered = false;
          tx.getForUpdate = async (lockedRi) => {
            const row = await getForUpdate(lockedRi);
            if (!lingered && ris.includes(lockedRi)) {
              lingered = true;
              await new Promise((r) => setTimeout(r, 400));
            }
            return row;
          };
          return work(tx);
        })) as typeof store.transaction;
      const [first, second] = await Promise.all([
        t.client.create('/cse-in/holder', 9, { 'm2m:grp': { rn: 'forward', mid: [...ris], mnm: 10 } }, owner),
        t.client.create('/cse-in/collector', 9, { 'm2m:grp': { rn: 'backward', mid: [...ris].reverse(), mnm: 10 } }, other),
      ]);
      store.transaction = transaction;
      assert.equal(first.rsc, 2001, JSON.stringify(first.body));
      assert.equal(second.rsc, 2001, JSON.stringify(second.body));
      for (const path of ['/cse-in/holder/forward', '/cse-in/collector/backward']) {
        const group = (await t.client.retrieve(path, path.includes('holder') ? owner : other)).body?.['m2m:grp'] as Record<string, unknown>;
        assert.equal(group.cnm, 2, path);
      }
      // Both members are marked: deleting one takes it out of both groups.
      assert.equal((await t.client.delete('/cse-in/holder/a', owner)).rsc, 2002);
      const forward = (await t.client.retrieve('/cse-in/holder/forward', owner)).body?.['m2m:grp'] as Record<string, unknown>;
      assert.deepEqual(forward.mid, [ris[1]]);
    });
  });
});
