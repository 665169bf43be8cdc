// The storage contract: every ResourceStore backend must pass this suite unchanged.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { QuotaExceededError, StoreConflictError, type NewOutboxMessage, type OutboxMessage, type ResourceStore, type StoredResource, type TokenRecord } from '../../src/storage/store.js';

function resource(ri: string, pi: string, srn: string, extra: Partial<StoredResource> = {}): StoredResource {
  return { ri, pi, ty: 3, rn: srn.split('/').pop() as string, srn, ct: '20260101T000000', lt: '20260101T000000', doc: { lbl: [ri] }, ...extra };
}

export function storeContract(name: string, open: () => Promise<ResourceStore>): void {
  describe(`ResourceStore contract: ${name}`, () => {
    let store: ResourceStore;
    before(async () => {
      store = await open();
      await store.insert(resource('root', '', 'cb', { ty: 5 }));
    });
    after(() => store.close());

    it('inserts and reads back by ri and by path, with its document intact', async () => {
      const inserted = await store.insert(resource('a1', 'root', 'cb/a1', { et: 1_000, owner: 'Cx', doc: { nested: { k: [1, 'two', null] } } }));
      assert.equal(typeof inserted.seq, 'number');
      const byRi = await store.get('a1');
      const byPath = await store.getByPath('cb/a1');
      assert.deepEqual(byRi, byPath);
      assert.equal(byRi?.et, 1_000);
      assert.equal(byRi?.owner, 'Cx');
      assert.deepEqual(byRi?.doc, { nested: { k: [1, 'two', null] } });
      assert.equal(await store.get('nope'), undefined);
      assert.equal(await store.getByPath('cb/nope'), undefined);
    });

    it('refuses a duplicate ri or path with StoreConflictError', async () => {
      await store.insert(resource('dup', 'root', 'cb/dup'));
      await assert.rejects(store.insert(resource('dup', 'root', 'cb/other')), (err) => err instanceof StoreConflictError && err.on === 'ri');
      // The path's unique index refuses it (a create relies on it to answer CONFLICT for a name in use).
      await assert.rejects(store.insert(resource('dup2', 'root', 'cb/dup')), (err) => err instanceof StoreConflictError && err.on === 'srn');
      assert.equal(await store.get('dup2'), undefined);
    });

    it('lists children in insertion order, by type, newest first, with limit/offset, leaving out the expired', async () => {
      await store.insert(resource('p', 'root', 'cb/p'));
      for (let i = 0; i < 5; i++) await store.insert(resource(`c${i}`, 'p', `cb/p/c${i}`, { ty: 4, et: i === 2 ? 50 : 10_000 }));
      await store.insert(resource('sub', 'p', 'cb/p/sub', { ty: 3 }));
      assert.deepEqual((await store.children('p')).map((r) => r.ri), ['c0', 'c1', 'c2', 'c3', 'c4', 'sub']);
      assert.deepEqual((await store.children('p', { ty: 4, newestFirst: true, limit: 2 })).map((r) => r.ri), ['c4', 'c3']);
      assert.deepEqual((await store.children('p', { ty: 4, offset: 1, limit: 2 })).map((r) => r.ri), ['c1', 'c2']);
      assert.deepEqual((await store.children('p', { ty: 4, aliveAt: 100 })).map((r) => r.ri), ['c0', 'c1', 'c3', 'c4']);
      assert.equal(await store.count('p'), 6);
      assert.equal(await store.count('p', 4), 5);
    });

    it('reads the newest or oldest living child of a type, telling whether one of that type expired', async () => {
      await store.insert(resource('e', 'root', 'cb/e'));
      const edge = async (newest: boolean, at: number): Promise<[string | undefined, boolean]> => {
        const found = await store.edgeChild('e', 4, newest, at);
        return [found.child?.ri, found.expired];
      };
      assert.deepEqual(await edge(true, 100), [undefined, false]);
      await store.insert(resource('e0', 'e', 'cb/e/e0', { ty: 4, et: 200 }));
      await store.insert(resource('e1', 'e', 'cb/e/e1', { ty: 4 }));
      await store.insert(resource('e2', 'e', 'cb/e/e2', { ty: 4, et: 300, doc: { cs: 3 } }));
      await store.insert(resource('e3', 'e', 'cb/e/e3', { ty: 3, et: 50 }));
      assert.deepEqual(await edge(true, 100), ['e2', false], 'another type expiring is not counted');
      assert.equal((await store.edgeChild('e', 4, true, 100)).child?.doc.cs, 3);
      assert.deepEqual(await edge(false, 100), ['e0', false]);
      assert.deepEqual(await edge(false, 200), ['e1', true]);
      assert.deepEqual(await edge(true, 300), ['e1', true]);
      await store.deleteSubtree('e1');
      assert.deepEqual(await edge(true, 300), [undefined, true]);
    });

    it('updates the mutable columns and the document', async () => {
      const before = await store.get('c0');
      assert.ok(before);
      await store.update({ ...before, lt: '20270101T000000', et: 99, doc: { changed: true } });
      const afterUpdate = await store.get('c0');
      assert.equal(afterUpdate?.lt, '20270101T000000');
      assert.equal(afterUpdate?.et, 99);
      assert.deepEqual(afterUpdate?.doc, { changed: true });
      assert.equal(afterUpdate?.srn, before.srn);
    });

    it('deletes a whole subtree and nothing else, returning the root first', async () => {
      await store.insert(resource('t', 'root', 'cb/t'));
      await store.insert(resource('t1', 't', 'cb/t/t1'));
      await store.insert(resource('t11', 't1', 'cb/t/t1/t11'));
      // names that share a prefix with the subtree but are not inside it
      await store.insert(resource('tx', 'root', 'cb/t_x'));
      await store.insert(resource('t0', 'root', 'cb/t0'));
      const deleted = await store.deleteSubtree('t');
      assert.equal(deleted?.root.ri, 't');
      assert.deepEqual(deleted?.root.doc, { lbl: ['t'] });
      assert.deepEqual(deleted?.removed, [
        { ri: 't', ty: 3 },
        { ri: 't1', ty: 3 },
        { ri: 't11', ty: 3 },
      ]);
      assert.equal(await store.get('t11'), undefined);
      assert.ok(await store.get('tx'));
      assert.ok(await store.get('t0'));
      assert.equal(await store.deleteSubtree('t'), undefined);
    });

    it('drops the oldest children of a type with their subtrees, counting them and adding up their size', async () => {
      await store.insert(resource('o', 'root', 'cb/o'));
      const instance = (i: number, doc: Record<string, unknown>): StoredResource => resource(`o${i}`, 'o', `cb/o/o${i}`, { ty: 4, charge: 'Co', doc });
      await store.insert(instance(0, { cs: 10 }));
      await store.insert(resource('oc', 'o', 'cb/o/oc', { charge: 'Co' }));
      await store.insert(instance(1, { cs: 20 }));
      await store.insert(resource('o1s', 'o1', 'cb/o/o1/o1s', { ty: 24, charge: 'Co' }));
      await store.insert(resource('o1ss', 'o1s', 'cb/o/o1/o1s/o1ss', { ty: 23, charge: 'Co' }));
      await store.insert(instance(2, { cs: 30 }));
      await store.insert(instance(3, { cs: 'not a number' }));
      await store.insert(instance(4, { cs: 50 }));
      // Names that share a prefix with a dropped instance but are not below it.
      await store.insert(resource('o1x', 'o', 'cb/o/o1_x', { charge: 'Co' }));
      const before = await store.usage('Co');

      await assert.rejects(
        store.transaction(async (tx) => {
          assert.equal((await tx.dropOldestChildren('o', 4, 2, 'cs')).count, 2);
          throw new Error('abort');
        }),
        /abort/,
      );
      assert.equal(await store.count('o', 4), 5, 'a rolled back drop drops nothing');

      const dropped = await store.dropOldestChildren('o', 4, 2, 'cs');
      assert.equal(dropped.count, 2);
      assert.equal(dropped.size, 30);
      const ris = (rows: ReadonlyArray<{ ri: string }>): string[] => rows.map((r) => r.ri).sort();
      assert.deepEqual(ris(dropped.removed), ['o0', 'o1', 'o1s', 'o1ss']);
      assert.deepEqual(dropped.removed.find((r) => r.ri === 'o1s'), { ri: 'o1s', ty: 24 });
      assert.deepEqual(ris(await store.children('o')), ['o1x', 'o2', 'o3', 'o4', 'oc']);
      assert.equal(await store.get('o1ss'), undefined);
      const sizeOf = (doc: unknown): number => Buffer.byteLength(JSON.stringify(doc));
      const freed = sizeOf({ cs: 10 }) + sizeOf({ cs: 20 }) + sizeOf({ lbl: ['o1s'] }) + sizeOf({ lbl: ['o1ss'] });
      assert.deepEqual(await store.usage('Co'), { resources: before.resources - 4, bytes: before.bytes - freed, subscriptions: before.subscriptions - 1 });

      // A size that is no number counts nothing; asking for more than there are drops what there is.
      const rest = await store.dropOldestChildren('o', 4, 10, 'cs');
      assert.equal(rest.count, 3);
      assert.equal(rest.size, 80);
      assert.deepEqual(await store.dropOldestChildren('o', 4, 1, 'cs'), { count: 0, size: 0, removed: [] });
      assert.deepEqual(ris(await store.children('o')), ['o1x', 'oc']);
    });

    it('finds no parent for an insert once an ancestor is gone, and locks a subtree root it reads back', async () => {
      await store.insert(resource('g', 'root', 'cb/g'));
      await store.insert(resource('g1', 'g', 'cb/g/g1'));
      await store.insert(resource('g11', 'g1', 'cb/g/g1/g11'));
      await store.transaction(async (tx) => {
        assert.equal((await tx.getParentForInsert({ ri: 'g11', srn: 'cb/g/g1/g11' }))?.ri, 'g11');
        assert.equal((await tx.lockSubtree('g1'))?.ri, 'g1');
        assert.equal(await tx.lockSubtree('nope'), undefined);
      });
      await store.deleteSubtree('g');
      await store.transaction(async (tx) => {
        assert.equal(await tx.getParentForInsert({ ri: 'g11', srn: 'cb/g/g1/g11' }), undefined);
      });
    });

    it("lists one charge's resources of an indexed type, alive, up to the limit, in a transaction too", async () => {
      await store.insert(resource('pol1', 'root', 'cb/pol1', { ty: 10, charge: 'Cperiodic', doc: { mark: true } }));
      await store.insert(resource('pol2', 'root', 'cb/pol2', { ty: 10, charge: 'Cperiodic', et: 50 }));
      await store.insert(resource('pol3', 'root', 'cb/pol3', { ty: 10, charge: 'Cother' }));
      await store.insert(resource('win1', 'root', 'cb/win1', { ty: 48, charge: 'Cperiodic', doc: { n: 1 } }));
      const found = await store.chargedOfType('Cperiodic', 10, [], 100, 10);
      assert.deepEqual(found.map((r) => r.ri), ['pol1'], 'not expired ones, not another charge, not another type');
      assert.deepEqual(found[0]?.doc, { mark: true });
      assert.deepEqual((await store.chargedOfType('Cperiodic', 10, [], 10, 10)).map((r) => r.ri).sort(), ['pol1', 'pol2']);
      assert.equal((await store.chargedOfType('Cperiodic', 10, [], 10, 1)).length, 1);
      // Marks compare the attribute as text: true as 'true', numbers as their digits.
      assert.deepEqual((await store.chargedOfType('Cperiodic', 10, [['mark', 'true']], 10, 10)).map((r) => r.ri), ['pol1']);
      assert.deepEqual(await store.chargedOfType('Cperiodic', 10, [['mark', 'false']], 10, 10), []);
      assert.deepEqual((await store.chargedOfType('Cperiodic', 48, [['n', '1']], 100, 10)).map((r) => r.ri), ['win1']);
      assert.deepEqual(await store.transaction((tx) => tx.chargedOfType('Cperiodic', 48, [], 100, 10)).then((rows) => rows.map((r) => r.ri)), ['win1']);
      await assert.rejects(store.chargedOfType('Cperiodic', 3, [], 100, 10), 'a type no index serves');
    });

    it('finds expired resources, optionally by parent and type', async () => {
      const expired = await store.find({ expiredAt: 100, limit: 100 });
      assert.ok(expired.some((r) => r.ri === 'c2') && expired.some((r) => r.ri === 'c0'));
      assert.ok(expired.every((r) => r.et !== undefined && r.et <= 100));
      const inP = await store.find({ expiredAt: 100, pi: 'p', ty: 4, limit: 1 });
      assert.equal(inP.length, 1);
    });

    it('searches with AND, OR and XOR, and counts met conditions for row tests', async () => {
      await store.insert(resource('s', 'root', 'cb/s'));
      await store.insert(resource('s1', 's', 'cb/s/s1', { ty: 4, doc: { lbl: ['x'], loc: { typ: 1 } } }));
      await store.insert(resource('s2', 's', 'cb/s/s2', { ty: 4, doc: { lbl: ['y'] } }));
      await store.insert(resource('s3', 's', 'cb/s/s3', { ty: 3, doc: { lbl: ['x'] } }));
      const base = { below: 'cb/s', aliveAt: 0, limit: 10, ty: [4], labels: ['x'] } as const;
      const ids = async (q: Parameters<ResourceStore['search']>[0]) => (await store.search(q)).map((r) => r.ri).sort();
      assert.deepEqual(await ids({ ...base, operation: 'and' }), ['s1']);
      assert.deepEqual(await ids({ ...base, operation: 'or' }), ['s1', 's2', 's3']);
      assert.deepEqual(await ids({ ...base, operation: 'xor' }), ['s2', 's3']);
      const scored = await store.search({ ...base, operation: 'xor', residual: 1 });
      assert.deepEqual(scored.map((r) => [r.ri, r.matched]), [['s1', 2], ['s2', 1], ['s3', 1]]);
      assert.deepEqual(await ids({ ...base, operation: 'and', onlyTypes: [3] }), [], 'a requirement, not a condition');
      assert.deepEqual(await ids({ below: 'cb/s', aliveAt: 0, limit: 10, operation: 'or', ty: [3], onlyTypes: [4], labels: ['y'] }), ['s2']);
      assert.deepEqual(await ids({ below: 'cb/s', aliveAt: 0, limit: 10, operation: 'and', withChildType: 4 }), []);
    });

    it('reads slim rows: the same rows with their columns and only the attributes asked for, none for bare types', async () => {
      await store.insert(resource('sl', 'root', 'cb/sl', { owner: 'Csl' }));
      const tricky = 'quote " backslash \\ ünï ☃';
      await store.insert(resource('sl1', 'sl', 'cb/sl/sl1', { owner: 'Csl', doc: { acpi: ['p1', 'p2'], cstn: tricky, lbl: ['a'], con: 'x'.repeat(1000) } }));
      await store.insert(resource('sl2', 'sl', 'cb/sl/sl2', { ty: 4, owner: 'Csl', et: 10_000, doc: { acpi: ['never read'], __creator: 'Csl', lbl: ['a'] } }));
      await store.insert(resource('sl3', 'sl', 'cb/sl/sl3', { doc: { __creator: 'Cother', lnk: '/id-x/y', n: 1, lbl: ['b'] } }));
      const view = { attributes: ['acpi', 'cstn', '__creator', 'lnk'], bare: [4] };
      const query = { below: 'cb/sl', aliveAt: 0, limit: 10, operation: 'and' } as const;
      const slim = await store.search({ ...query, slim: view });
      const whole = await store.search(query);
      assert.deepEqual(slim.map((h) => [h.ri, h.seq, h.pi, h.ty, h.rn, h.srn, h.owner]), whole.map((h) => [h.ri, h.seq, h.pi, h.ty, h.rn, h.srn, h.owner]));
      assert.deepEqual(slim.map((h) => h.doc), [{ acpi: ['p1', 'p2'], cstn: tricky }, {}, { __creator: 'Cother', lnk: '/id-x/y' }]);
      assert.deepEqual(await store.search({ ...query, slim: { attributes: ['cstn'], bare: [] }, limit: 1 }).then((hits) => hits.map((h) => h.doc)), [{ cstn: tricky }]);
      assert.deepEqual(await store.search({ ...query, slim: view, below: 'cb/sl/sl1' }), [], 'no rows');
      // Under OR with row tests each row says how many database conditions it met, slim or not.
      const scored = await store.search({ ...query, operation: 'or', residual: 1, labels: ['a'], ty: [4], slim: view });
      assert.deepEqual(scored.map((h) => [h.ri, h.matched]), [['sl1', 1], ['sl2', 2], ['sl3', 0]]);
    });

    it('narrows by numeric ranges and by label keys', async () => {
      await store.insert(resource('n', 'root', 'cb/n'));
      await store.insert(resource('n1', 'n', 'cb/n/n1', { doc: { lbl: ['color:red', 'tag'], __x: 1.5 } }));
      await store.insert(resource('n2', 'n', 'cb/n/n2', { doc: { lbl: ['colour:red'], __x: 3 } }));
      await store.insert(resource('n3', 'n', 'cb/n/n3', { doc: { lbl: ['color'], __x: 'text' } }));
      const ids = async (q: Partial<Parameters<ResourceStore['search']>[0]>) =>
        (await store.search({ below: 'cb/n', aliveAt: 0, limit: 10, operation: 'and', ...q })).map((r) => r.ri).sort();
      assert.deepEqual(await ids({ numberRanges: [['__x', 1, 2]] }), ['n1']);
      assert.deepEqual(await ids({ numberRanges: [['__x', 1.5, undefined]] }), ['n1', 'n2']);
      assert.deepEqual(await ids({ numberRanges: [['__x', undefined, 2.9]] }), ['n1']);
      assert.deepEqual(await ids({ labelKeys: ['color'] }), ['n1', 'n3']);
      assert.deepEqual(await ids({ labelKeys: ['tag', 'colour'] }), ['n1', 'n2']);
      assert.deepEqual(await ids({ labelKeys: ['col'] }), []);
    });

    it('pages a large subtree in insertion order, whatever else was stored between its rows', async () => {
      // Dense at first (two rows in three inside), then sparse (one in a thousand): a page of a big subtree is
      // read by windows of seq in SQLite, and a sparse one falls back to the path range; the rows must not differ.
      type Row = { ri: string; seq: number; ty: number; et?: number; deep: boolean };
      const inside: Row[] = [];
      await store.transaction(async (tx) => {
        await tx.insert(resource('big', 'root', 'cb/big'));
        await tx.insert(resource('bigger', 'root', 'cb/bigger'));
        for (let i = 0; i < 24_000; i++) {
          const isInside = i < 4_500 ? i % 3 !== 0 : i % 1_000 === 0;
          if (!isInside) {
            await tx.insert(resource(`out${i}`, 'bigger', `cb/bigger/out${i}`, { ty: 4 }));
            continue;
          }
          const deep = i % 50 === 1;
          const ty = i % 100 === 2 || i >= 4_500 ? 3 : 4;
          const et = i % 7 === 4 ? 50 : undefined;
          const ri = `in${i}`;
          const stored = await tx.insert(resource(ri, deep ? 'in0' : 'big', deep ? `cb/big/in0/${ri}` : `cb/big/${ri}`, { ty, ...(et === undefined ? {} : { et }) }));
          inside.push({ ri, seq: stored.seq as number, ty, deep, ...(et === undefined ? {} : { et }) });
        }
      });
      const pageAll = async (q: Partial<Parameters<ResourceStore['search']>[0]>, limit: number, from?: number): Promise<string[]> => {
        const out: string[] = [];
        let after = from;
        for (;;) {
          const hits = await store.search({ below: 'cb/big', operation: 'and', aliveAt: 100, withoutContent: true, limit, ...q, ...(after === undefined ? {} : { afterSeq: after }) });
          out.push(...hits.map((h) => h.ri));
          if (hits.length < limit) return out;
          after = hits[hits.length - 1]?.seq;
        }
      };
      const alive = inside.filter((r) => r.et === undefined);
      const expect = (rows: Row[], from = 0): string[] => rows.filter((r) => r.seq > from).map((r) => r.ri);
      assert.deepEqual(await pageAll({}, 101), expect(alive));
      assert.deepEqual(await pageAll({}, 500), expect(alive));
      assert.deepEqual(await pageAll({ aliveAt: 0 }, 1_000), expect(inside), 'the expired only once they have expired');
      const middle = (alive[1_000] as Row).seq;
      assert.deepEqual(await pageAll({}, 7, middle), expect(alive, middle));
      assert.deepEqual(await pageAll({ ty: [3] }, 10), expect(alive.filter((r) => r.ty === 3)), 'a rare type, read past the dense part');
      assert.deepEqual(await pageAll({ level: 1 }, 101), expect(alive.filter((r) => !r.deep)));
      assert.deepEqual(await pageAll({ ty: [3], operation: 'or', residual: 1 }, 101), expect(alive), 'under OR with row tests every row in scope');
      const slim = { attributes: ['acpi'], bare: [4] };
      assert.deepEqual(await pageAll({ slim }, 101), expect(alive), 'slim rows are the same rows');
      assert.deepEqual(await pageAll({ slim, ty: [3] }, 10), expect(alive.filter((r) => r.ty === 3)));
      const beside = await store.search({ below: 'cb/bigger', operation: 'and', aliveAt: 100, limit: 3 });
      assert.deepEqual(beside.map((h) => h.ri), ['out0', 'out3', 'out6'], 'a sibling whose path begins like it is another subtree');
    });

    it('renews the leases its owner holds, and only those', async () => {
      await store.enqueue([{ target: 'job:renew', subscription: 's', content: '{}', created: 0, notBefore: 0 }]);
      const mine = (await store.leaseHeads('A', 10, 100, 100)).filter((m) => m.target === 'job:renew');
      assert.equal(mine.length, 1);
      const id = (mine[0] as { id: number }).id;
      await store.renewLeases([id], 'A', 1_000);
      assert.equal((await store.leaseHeads('B', 500, 100, 100)).filter((m) => m.target === 'job:renew').length, 0, 'still leased by A');
      await store.renewLeases([id], 'B', 5_000);
      const taken = (await store.leaseHeads('B', 1_001, 100, 100)).filter((m) => m.target === 'job:renew');
      assert.equal(taken.length, 1, "B could not extend A's lease; after it ended B takes the job");
      await store.dequeue([id]);
    });

    it('leases the queues of the target prefixes asked for, and never those excepted', async () => {
      await store.enqueue([
        { target: 'pch:sleeper', subscription: 's', content: '{}', created: 0, notBefore: 0 },
        { target: 'http://x.example/except', subscription: 's', content: '{}', created: 0, notBefore: 0 },
      ]);
      const leased = (await store.leaseHeads('A', 10, 100, 1, { except: ['pch:'] })).filter((m) => m.target === 'pch:sleeper' || m.target === 'http://x.example/except');
      assert.deepEqual(leased.map((m) => m.target), ['http://x.example/except'], 'the polled queue takes none of the slots');
      const polled = await store.leaseHeads('A', 10, 100, 10, { only: 'pch:' });
      assert.deepEqual(polled.map((m) => m.target), ['pch:sleeper'], 'only the queues asked for');
      await store.dequeue([...polled, ...leased].map((m) => m.id));
    });

    it('leases only the due, unleased head of each queue in scope, oldest first, however long the queues', async () => {
      const msg = (target: string, notBefore = 0): NewOutboxMessage => ({ target, subscription: 's', content: '{}', created: 0, notBefore });
      await store.enqueue([msg('http://h.example/b'), msg('tmr:x 1'), msg('http://h.example/a'), msg('held:q'), msg('http://h.example/later', 50), msg('tmr:y 2')]);
      for (let i = 0; i < 200; i++) await store.enqueue([msg('http://h.example/a'), msg('http://h.example/b'), msg('tmr:x 1'), msg('nbr:z')]);
      const ours = (m: OutboxMessage): boolean => /^(http:\/\/h\.example|tmr:|held:|nbr:)/.test(m.target);
      const first = (await store.leaseHeads('A', 10, 100, 1, { except: ['tmr:', 'held:', 'nbr:'] })).filter(ours);
      assert.deepEqual(first.map((m) => m.target), ['http://h.example/b'], 'the oldest head first; the limit holds');
      const rest = (await store.leaseHeads('A', 10, 100, 10, { except: ['tmr:', 'held:', 'tmr:x', 'nbr:'] })).filter(ours);
      assert.deepEqual(rest.map((m) => m.target), ['http://h.example/a'], 'one head per queue; a leased head and a head not yet due are not taken');
      const later = (await store.leaseHeads('A', 60, 100, 10, { except: ['tmr:', 'held:', 'nbr:'] })).filter(ours);
      assert.deepEqual(later.map((m) => m.target), ['http://h.example/later']);
      const timers = await store.leaseHeads('A', 10, 100, 10, { only: 'tmr:' });
      assert.deepEqual(timers.map((m) => m.target), ['tmr:x 1', 'tmr:y 2']);
      const everything = (await store.leaseHeads('B', 1_000, 100, 100)).filter(ours);
      assert.deepEqual(everything.map((m) => m.target).sort(), ['held:q', 'http://h.example/a', 'http://h.example/b', 'http://h.example/later', 'nbr:z', 'tmr:x 1', 'tmr:y 2'], 'expired leases are taken over');
      for (const target of ['http://h.example/a', 'http://h.example/b', 'http://h.example/later', 'tmr:x 1', 'tmr:y 2', 'held:q', 'nbr:z']) {
        await store.dequeue((await store.queued(target, undefined, 1_000)).map((m) => m.id));
      }
    });

    it('queues many messages of one call in their order, and reads a queue from after a message', async () => {
      const many: NewOutboxMessage[] = [];
      // 32 + 16 + 8 + 4 + 2 + 1 rows (each statement size the SQLite backend writes with), two targets interleaved.
      for (let i = 0; i < 63; i++) many.push({ target: `http://q.example/${i % 2}`, subscription: `s${i}`, content: `{"n":${i}}`, created: i, notBefore: 0, originator: 'Cq', bytes: 10 });
      await store.enqueue(many);
      const zero = await store.queued('http://q.example/0', undefined, 100);
      assert.deepEqual(zero.map((m) => m.subscription), many.filter((_, i) => i % 2 === 0).map((m) => m.subscription));
      assert.ok(zero.every((m, i) => i === 0 || m.id > (zero[i - 1] as OutboxMessage).id));
      assert.equal((await store.outboxUsage(['Cq'])).get('Cq'), 630);
      const after = await store.queued('http://q.example/0', undefined, 3, (zero[4] as OutboxMessage).id);
      assert.deepEqual(after.map((m) => m.content), ['{"n":10}', '{"n":12}', '{"n":14}']);
      assert.deepEqual((await store.queued('http://q.example/1', 's61', 10, 0)).map((m) => m.content), ['{"n":61}']);
      for (const target of ['http://q.example/0', 'http://q.example/1']) await store.dequeue((await store.queued(target, undefined, 1_000)).map((m) => m.id));
      assert.equal((await store.outboxUsage(['Cq'])).get('Cq') ?? 0, 0);
    });

    it("takes the messages behind a leased head in order, of one subscription when asked, and gives back what it did not send", async () => {
      const msg = (subscription: string, n: number): NewOutboxMessage => ({ target: 'http://behind.example/', subscription, content: `{"n":${n}}`, created: 0, notBefore: 0 });
      await store.enqueue([msg('s1', 0), msg('s2', 1), msg('s1', 2), msg('s2', 3), msg('s1', 4)]);
      const [head] = (await store.leaseHeads('A', 10, 100, 100)).filter((m) => m.target === 'http://behind.example/');
      assert.ok(head);
      const ofOne = await store.takeBehind('A', 10, 110, head.target, 's1', 10, head.id);
      assert.deepEqual(ofOne.map((m) => m.content), ['{"n":2}', '{"n":4}'], 'of one subscription');
      await store.releaseTaken(ofOne.map((m) => m.id), 'A');
      const behind = await store.takeBehind('A', 10, 110, head.target, undefined, 3, head.id);
      assert.deepEqual(behind.map((m) => m.content), ['{"n":1}', '{"n":2}', '{"n":3}'], 'oldest first, after the head, at most the limit');
      await store.dequeue([head.id, (behind[0] as OutboxMessage).id]);
      await store.releaseTaken(behind.slice(1).map((m) => m.id), 'A');
      const [next] = (await store.leaseHeads('B', 20, 100, 100)).filter((m) => m.target === 'http://behind.example/');
      assert.equal(next?.content, '{"n":2}', 'what was given back is the next head, leasable at once by anyone');
      await store.postpone((next).id, 0, 0, 'A');
      assert.equal((await store.leaseHeads('C', 30, 100, 100)).filter((m) => m.target === 'http://behind.example/').length, 0, "A cannot postpone what B holds");
      await store.postpone((next).id, 0, 0, 'B');
      assert.equal((await store.leaseHeads('C', 30, 100, 100)).filter((m) => m.target === 'http://behind.example/').length, 1, 'its holder can');
      await store.dequeue((await store.queued('http://behind.example/', undefined, 10)).map((m) => m.id));
    });

    it('claims a key once until its time ends, for every process on the store', async () => {
      assert.equal(await store.claimOnce('k', 2_000, 1_000), true);
      assert.equal(await store.claimOnce('k', 3_000, 1_500), false, 'a repeat within its time');
      assert.equal(await store.claimOnce('k', 4_000, 2_000), true, 'claimable again once its time ended');
      assert.equal(await store.forgetClaims(3_999), 0);
      assert.equal(await store.forgetClaims(4_000), 1);
      assert.equal(await store.claimOnce('k', 5_000, 4_001), true);
    });

    it('keeps a token record once per holder and token, until its time ends, bounded per holder', async () => {
      const record = (id: string, holder: string, ref: string, until: number): TokenRecord => ({ kind: 'lti', id, holder, ref, token: `tok-${ref}`, until });
      assert.deepEqual(await store.keepToken(record('l1', '//sp/cse/Ca', 'iss j1', 5_000), 2, 1_000), { id: 'l1', fresh: true });
      assert.deepEqual(await store.keepToken(record('l2', '//sp/cse/Ca', 'iss j1', 5_000), 2, 1_100), { id: 'l1', fresh: false }, 'the same token for the same holder keeps its ID');
      assert.deepEqual(await store.keepToken(record('l3', '//sp/cse/Cb', 'iss j1', 5_000), 2, 1_100), { id: 'l3', fresh: true }, 'another holder gets an ID of its own');
      assert.deepEqual(await store.tokenRecord('lti', 'l1', 4_999), { kind: 'lti', id: 'l1', holder: '//sp/cse/Ca', ref: 'iss j1', token: 'tok-iss j1', until: 5_000 });
      assert.equal(await store.tokenRecord('das', 'l1', 1_000), undefined, 'kinds are apart');
      assert.equal(await store.tokenRecord('lti', 'l1', 5_000), undefined, 'not once its time ended');
      // Expired: the token presented again gets a new ID.
      assert.deepEqual(await store.keepToken(record('l4', '//sp/cse/Ca', 'iss j1', 9_000), 2, 5_000), { id: 'l4', fresh: true });
      assert.equal(await store.tokenRecord('lti', 'l1', 1_000), undefined, 'the old ID is gone');
      // A third record of Ca: the oldest goes.
      await store.keepToken(record('l5', '//sp/cse/Ca', 'iss j2', 9_000), 2, 5_000);
      await store.keepToken(record('l6', '//sp/cse/Ca', 'iss j3', 9_000), 2, 5_000);
      assert.equal(await store.tokenRecord('lti', 'l4', 5_000), undefined, 'trimmed to the newest two');
      assert.equal((await store.tokenRecord('lti', 'l5', 5_000))?.id, 'l5');
      assert.equal((await store.tokenRecord('lti', 'l6', 5_000))?.id, 'l6');
      assert.equal((await store.tokenRecord('lti', 'l3', 4_000))?.id, 'l3', "another holder's records are not trimmed");
      assert.equal(await store.forgetTokens(5_000), 1, 'l3 swept');
      assert.equal(await store.forgetTokens(9_000), 2);
    });

    it('counts what is charged to an originator, refuses past a limit storing nothing, and frees it on delete', async () => {
      await store.insert(resource('q', 'root', 'cb/q'));
      const charged = (ri: string, charge: string, extra: Partial<StoredResource> = {}): StoredResource => resource(ri, 'q', `cb/q/${ri}`, { charge, ...extra });
      const size = (doc: unknown): number => Buffer.byteLength(JSON.stringify(doc));
      const refused = (quota: string) => (err: unknown) => err instanceof QuotaExceededError && err.quota === quota;
      assert.deepEqual(await store.usage('Cqa'), { resources: 0, bytes: 0, subscriptions: 0 });
      await store.insert(charged('qa1', 'Cqa'));
      await store.insert(charged('qa2', 'Cqa', { ty: 23 }), { resources: 2, subscriptions: 1 });
      const two = size({ lbl: ['qa1'] }) + size({ lbl: ['qa2'] });
      assert.deepEqual(await store.usage('Cqa'), { resources: 2, bytes: two, subscriptions: 1 });
      await assert.rejects(store.insert(charged('qa3', 'Cqa'), { resources: 2 }), refused('resources'));
      await assert.rejects(store.insert(charged('qa3', 'Cqa', { ty: 23 }), { subscriptions: 1 }), refused('subscriptions'));
      await assert.rejects(store.insert(charged('qa3', 'Cqa'), { bytes: two + size({ lbl: ['qa3'] }) - 1 }), refused('bytes'));
      await assert.rejects(store.insert(charged('qb0', 'Cqb'), { bytes: 1 }), refused('bytes'), 'a first resource larger than the limit');
      assert.equal(await store.get('qa3'), undefined, 'a refused insert stores nothing');
      assert.equal(await store.get('qb0'), undefined);
      assert.deepEqual(await store.usage('Cqa'), { resources: 2, bytes: two, subscriptions: 1 }, 'a refusal counts nothing');
      // Another originator has a count of its own; a conflicting insert counts nothing.
      await store.insert(charged('qb1', 'Cqb'), { resources: 1 });
      await assert.rejects(store.insert(charged('qb1', 'Cqb')), StoreConflictError);
      assert.deepEqual(await store.usage('Cqb'), { resources: 1, bytes: size({ lbl: ['qb1'] }), subscriptions: 0 });
      // An update moves the byte count with the document; a rolled back insert counts nothing.
      const qa1 = await store.get('qa1');
      assert.equal(qa1?.charge, 'Cqa');
      await store.update({ ...(qa1), doc: { lbl: ['qa1'], more: 'x'.repeat(100) } });
      const grown = two - size({ lbl: ['qa1'] }) + size({ lbl: ['qa1'], more: 'x'.repeat(100) });
      assert.equal((await store.usage('Cqa')).bytes, grown);
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.insert(charged('qa4', 'Cqa'));
          throw new Error('abort');
        }),
        /abort/,
      );
      assert.deepEqual(await store.usage('Cqa'), { resources: 2, bytes: grown, subscriptions: 1 });
      await store.deleteSubtree('qa2');
      assert.deepEqual(await store.usage('Cqa'), { resources: 1, bytes: grown - size({ lbl: ['qa2'] }), subscriptions: 0 });
      await store.deleteSubtree('q');
      assert.deepEqual(await store.usage('Cqa'), { resources: 0, bytes: 0, subscriptions: 0 });
      assert.deepEqual(await store.usage('Cqb'), { resources: 0, bytes: 0, subscriptions: 0 });
    });

    it('a transaction commits all or nothing', async () => {
      await store.transaction(async (tx) => {
        await tx.insert(resource('tx-ok', 'root', 'cb/tx-ok'));
        await tx.update({ ...(await tx.get('tx-ok'))!, doc: { step: 2 } });
      });
      assert.deepEqual((await store.get('tx-ok'))?.doc, { step: 2 });
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.insert(resource('tx-no', 'root', 'cb/tx-no'));
          await tx.deleteSubtree('tx-ok');
          throw new Error('abort');
        }),
        /abort/,
      );
      assert.equal(await store.get('tx-no'), undefined);
      assert.ok(await store.get('tx-ok'));
    });

    it('concurrent transactions do not see or undo each other', async () => {
      const slow = store.transaction(async (tx) => {
        await tx.insert(resource('conc-a', 'root', 'cb/conc-a'));
        await new Promise((r) => setTimeout(r, 20));
        throw new Error('rollback a');
      });
      const fast = store.transaction(async (tx) => {
        await tx.insert(resource('conc-b', 'root', 'cb/conc-b'));
      });
      const outside = store.insert(resource('conc-c', 'root', 'cb/conc-c'));
      await assert.rejects(slow, /rollback a/);
      await fast;
      await outside;
      assert.equal(await store.get('conc-a'), undefined);
      assert.ok(await store.get('conc-b'));
      assert.ok(await store.get('conc-c'));
    });

    it('remembers subscriptions for notifications, shared and frozen, and forgets them on every write, deletion and rollback', async () => {
      const sub = (ri: string, nu: string): StoredResource => resource(ri, 'sp', `cb/sp/${ri}`, { ty: 23, doc: { nu: [nu] } });
      const ris = async (): Promise<string[]> => (await store.subscriptionsOf('sp', 10)).map((r) => `${r.ri}:${String((r.doc.nu as string[])[0])}`);
      await store.insert(resource('sp', 'root', 'cb/sp'));
      await store.insert(sub('sp1', 'a'));
      await store.insert(resource('sp-cnt', 'sp', 'cb/sp/sp-cnt'));
      await store.insert(sub('sp2', 'a'));
      assert.deepEqual(await ris(), ['sp1:a', 'sp2:a']);
      const [first] = await store.subscriptionsOf('sp', 10);
      // Shared with every caller: a change would be everyone's.
      assert.throws(() => ((first?.doc.nu as string[]).length = 0), TypeError);
      assert.equal((await store.notifying('sp1'))?.ri, 'sp1');
      assert.equal(await store.notifying('sp'), undefined);
      assert.equal(await store.notifying('sp-none'), undefined);

      const changed = await store.get('sp1');
      await store.update({ ...(changed as StoredResource), doc: { nu: ['b'] } });
      assert.deepEqual(await ris(), ['sp1:b', 'sp2:a']);
      assert.deepEqual((await store.notifying('sp1'))?.doc.nu, ['b']);

      // What a rolled-back transaction wrote, and read meanwhile, is not remembered.
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.insert(sub('sp3', 'a'));
          const updated = await tx.get('sp2');
          await tx.update({ ...(updated as StoredResource), doc: { nu: ['c'] } });
          assert.deepEqual((await tx.subscriptionsOf('sp', 10)).map((r) => r.ri), ['sp1', 'sp2', 'sp3']);
          assert.equal((await tx.notifying('sp3'))?.ri, 'sp3');
          throw new Error('abort');
        }),
      );
      assert.deepEqual(await ris(), ['sp1:b', 'sp2:a']);
      assert.equal(await store.notifying('sp3'), undefined);
      assert.deepEqual((await store.notifying('sp2'))?.doc.nu, ['a']);

      await store.insert(sub('sp3', 'a'));
      assert.deepEqual(await ris(), ['sp1:b', 'sp2:a', 'sp3:a']);
      await store.deleteSubtree('sp2');
      assert.deepEqual(await ris(), ['sp1:b', 'sp3:a']);
      assert.equal(await store.notifying('sp2'), undefined);
      await store.dropOldestChildren('sp', 23, 1, 'cs');
      assert.deepEqual(await ris(), ['sp3:a']);
      assert.equal(await store.notifying('sp1'), undefined);
      assert.equal((await store.notifying('sp3'))?.ri, 'sp3');
      await store.deleteSubtree('sp');
      assert.deepEqual(await ris(), []);
      assert.equal(await store.notifying('sp3'), undefined);
    });

    it('reads by path what is stored now: after every write, deletion, dropped child and rollback, and never a copy others share and change', async () => {
      const labels = async (srn: string): Promise<unknown> => (await store.getByPath(srn))?.doc.lbl;
      await store.insert(resource('pc', 'root', 'cb/pc', { doc: { lbl: ['v1'] } }));
      await store.insert(resource('pc-a', 'pc', 'cb/pc/pc-a', { doc: { lbl: ['a1'] } }));
      await store.insert(resource('pc-a1', 'pc-a', 'cb/pc/pc-a/pc-a1', { doc: { lbl: ['a11'] } }));
      await store.insert(resource('pc-b', 'pc', 'cb/pc/pc-b', { doc: { lbl: ['b1'] } }));
      assert.deepEqual(await labels('cb/pc'), ['v1']);
      const read = await store.getByPath('cb/pc');
      // Whatever a backend keeps of a read, a caller's change to it reaches nobody else: refused, or its own copy.
      try {
        (read?.doc.lbl as string[]).push('changed');
      } catch (err) {
        assert.ok(err instanceof TypeError);
      }
      assert.deepEqual(await labels('cb/pc'), ['v1']);

      await store.update({ ...((await store.get('pc')) as StoredResource), doc: { lbl: ['v2'] } });
      assert.deepEqual(await labels('cb/pc'), ['v2']);

      // A rolled-back transaction's write, read back inside it, is not what is read afterwards.
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.update({ ...((await tx.get('pc')) as StoredResource), doc: { lbl: ['v3'] } });
          assert.deepEqual((await tx.getByPath('cb/pc'))?.doc.lbl, ['v3']);
          await tx.deleteSubtree('pc-b');
          assert.equal(await tx.getByPath('cb/pc/pc-b'), undefined);
          throw new Error('abort');
        }),
      );
      assert.deepEqual(await labels('cb/pc'), ['v2']);
      assert.deepEqual(await labels('cb/pc/pc-b'), ['b1']);

      // A deleted subtree's paths, each of them, and then the same path stored again.
      assert.deepEqual(await labels('cb/pc/pc-a/pc-a1'), ['a11']);
      await store.deleteSubtree('pc-a');
      assert.equal(await store.getByPath('cb/pc/pc-a'), undefined);
      assert.equal(await store.getByPath('cb/pc/pc-a/pc-a1'), undefined);
      await store.insert(resource('pc-a-again', 'pc', 'cb/pc/pc-a', { doc: { lbl: ['a2'] } }));
      assert.deepEqual(await labels('cb/pc/pc-a'), ['a2']);
      assert.equal((await store.getByPath('cb/pc/pc-a'))?.ri, 'pc-a-again');

      // The oldest child dropped (a container past its mni) and its subtree.
      await store.insert(resource('pc-a-again-1', 'pc-a-again', 'cb/pc/pc-a/x', { doc: { lbl: ['x'] } }));
      assert.deepEqual(await labels('cb/pc/pc-a/x'), ['x']);
      await store.dropOldestChildren('pc', 3, 1, 'cs');
      assert.equal(await store.getByPath('cb/pc/pc-b'), undefined);
      assert.deepEqual(await labels('cb/pc/pc-a'), ['a2']);
      await store.dropOldestChildren('pc', 3, 1, 'cs');
      assert.equal(await store.getByPath('cb/pc/pc-a'), undefined);
      assert.equal(await store.getByPath('cb/pc/pc-a/x'), undefined);
      await store.deleteSubtree('pc');
      assert.equal(await store.getByPath('cb/pc'), undefined);
    });
  });
}
