// Which registree lists a CSE among its descendantCSEs: an index read once (not a scan of every <remoteCSE> per
// request), read again when a changed <remoteCSE> lists other descendants, and checked against the registree itself
// on every hit.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RESOURCE_TYPE } from '../../src/resources/types.js';
import { REGISTRAR_KEY, REMOTE_CSE_TOPIC } from '../../src/resources/types/remoteCse.js';
import { ACCEPTED_DESCENDANTS_KEY, DESCENDANTS_MAX_AGE_MS, DescendantCses } from '../../src/security/registrations.js';
import { acceptedDescendants } from '../../src/remote/registration.js';
import { openSqliteStore } from '../../src/storage/sqlite.js';
import { openPostgresStore } from '../../src/storage/postgres.js';
import { createTestDatabase, type TestDatabase } from '../postgres.js';
import type { ChildQuery, ResourceStore, StoredResource } from '../../src/storage/store.js';

const TS = '20260101T000000';
const self = { cseId: 'id-in', cseRn: 'cse-in', spId: 'warden.example.net' };

describe('descendantCSEs index (DescendantCses)', () => {
  let store: ResourceStore;
  let scans = 0;
  let now = Date.UTC(2026, 0, 1);
  const clock = { now: (): number => now };
  const csr = (ri: string, doc: Record<string, unknown>, et?: number): StoredResource => ({ ri, pi: self.cseId, ty: RESOURCE_TYPE.remoteCSE, rn: ri, srn: `${self.cseRn}/${ri}`, ct: TS, lt: TS, doc: { csi: `/${ri}`, ...doc }, ...(et === undefined ? {} : { et }) });

  before(async () => {
    store = openSqliteStore({ path: ':memory:', durability: 'normal' });
    const children = store.children.bind(store);
    // Counts the reads of <remoteCSE> pages: what each unknown CSE's request cost before the index.
    store.children = (pi: string, q?: ChildQuery): Promise<StoredResource[]> => {
      if (q?.ty === RESOURCE_TYPE.remoteCSE) scans++;
      return children(pi, q);
    };
    await store.insert({ ri: self.cseId, pi: '', ty: RESOURCE_TYPE.CSEBase, rn: self.cseRn, srn: self.cseRn, ct: TS, lt: TS, doc: {} });
    await store.insert(csr('id-mn', { dcse: ['/id-asn'] }, now + 3_600_000));
    await store.insert(csr('id-up', { dcse: ['/id-other'], [REGISTRAR_KEY]: true }, now + 3_600_000));
  });

  it('reads the registrees once for any number of lookups, known or not', async () => {
    const index = new DescendantCses(store, self, clock);
    for (let i = 0; i < 5; i++) assert.equal(await index.registreeListing(`/id-stranger${i}`), undefined);
    assert.equal((await index.registreeListing('/id-asn'))?.ri, 'id-mn');
    // The registrar's <remoteCSE> lists the CSEs above this one: none of them is a descendant here.
    assert.equal(await index.registreeListing('/id-other'), undefined);
    assert.equal(scans, 1);
    // Lookups that arrive while it is being read share the one read.
    index.invalidate();
    const answers = await Promise.all(['/id-asn', '/id-x', '/id-y', '/id-asn'].map((id) => index.registreeListing(id)));
    assert.deepEqual(answers.map((a) => a?.ri), ['id-mn', undefined, undefined, 'id-mn']);
    assert.equal(scans, 2);
  });

  it('on a CSE with a registrar, counts a descendant only once the registrar accepted it (as stored, in every process); never a refused one or an S-AE-ID', async () => {
    const registree = await store.get('id-mn');
    const registrar = await store.get('id-up');
    assert.ok(registree && registrar);
    await store.update({ ...registree, doc: { ...registree.doc, dcse: ['/id-asn', '/id-refused', '/Sgate'] } });
    const accept = async (names: string[]): Promise<void> => {
      await store.update({ ...registrar, doc: { ...registrar.doc, [ACCEPTED_DESCENDANTS_KEY]: names } });
      await store.broadcast(REMOTE_CSE_TOPIC, 'changed id-up');
    };
    const index = new DescendantCses(store, self, clock);
    try {
      assert.equal((await index.registreeListing('/id-asn'))?.ri, 'id-mn', 'the root of a tree has no registrar to ask');
      assert.equal(await index.registreeListing('/Sgate'), undefined, '//SP/S… is an S-AE-ID');
      index.awaitRegistrar('/id-up');
      assert.equal(await index.registreeListing('/id-asn'), undefined, 'not before the registrar has accepted it');
      await accept(['/id-mn', '/id-asn', '/id-refused', '/Sgate']);
      index.disown('/id-refused');
      assert.equal((await index.registreeListing('/id-asn'))?.ri, 'id-mn');
      assert.equal(await index.registreeListing('/id-refused'), undefined, 'a refusal weighs more');
      assert.equal(await index.registreeListing('/Sgate'), undefined);
      // Another process (a second index on the same store) reads the same list.
      const other = new DescendantCses(store, self, clock);
      other.awaitRegistrar('/id-up');
      assert.equal((await other.registreeListing('/id-asn'))?.ri, 'id-mn');
      // A later registration without it: it counts no more, once the change is heard.
      await accept(['/id-mn']);
      assert.equal(await index.registreeListing('/id-asn'), undefined);
      assert.equal(await other.registreeListing('/id-asn'), undefined);
    } finally {
      await store.update(registree);
      await store.update(registrar);
    }
  });

  it('takes a removed descendant away at once, and an added one on the change broadcast', async () => {
    const index = new DescendantCses(store, self, clock);
    assert.equal((await index.registreeListing('/id-asn'))?.ri, 'id-mn');
    const before = scans;
    const registree = await store.get('id-mn');
    assert.ok(registree);
    // Written without the broadcast (as another process's change is until its NOTIFY arrives): the registree read on
    // each hit no longer lists /id-asn, so it is unknown at once; /id-asn2 waits for the broadcast.
    await store.update({ ...registree, doc: { ...registree.doc, dcse: ['/id-asn2'] } });
    assert.equal(await index.registreeListing('/id-asn'), undefined);
    assert.equal(await index.registreeListing('/id-asn2'), undefined);
    assert.equal(scans, before);
    await store.broadcast(REMOTE_CSE_TOPIC, 'changed id-mn');
    assert.equal((await index.registreeListing('/id-asn2'))?.ri, 'id-mn');
    assert.equal(scans, before + 1);
    // At the latest after DESCENDANTS_MAX_AGE_MS it is read again, broadcast or not.
    now += DESCENDANTS_MAX_AGE_MS;
    assert.equal((await index.registreeListing('/id-asn2'))?.ri, 'id-mn');
    assert.equal(scans, before + 2);
    // A registree sending its list again unchanged (as each does at every check) costs no new read of them all.
    await store.broadcast(REMOTE_CSE_TOPIC, 'changed id-mn');
    assert.equal((await index.registreeListing('/id-asn2'))?.ri, 'id-mn');
    assert.equal(await index.registreeListing('/id-none'), undefined);
    assert.equal(scans, before + 2);
    // A registree deleted: the index still names it, and the look-up finds it gone.
    await store.broadcast(REMOTE_CSE_TOPIC, 'removed id-gone');
    assert.equal(await index.registreeListing('/id-none'), undefined);
    assert.equal(scans, before + 2);
    // A registree past its expiration lists nothing.
    now += 3_600_000;
    assert.equal(await index.registreeListing('/id-asn2'), undefined);
  });
});

describe('descendantCSEs index across processes (PostgreSQL, LISTEN/NOTIFY)', () => {
  let db: TestDatabase;
  let a: ResourceStore;
  let b: ResourceStore;
  const clock = { now: (): number => Date.now() };
  /** Resolves once `store` has heard `payload` on REMOTE_CSE_TOPIC (its listeners run in order: the index's first). */
  const heard = (store: ResourceStore, payload: string): Promise<void> =>
    new Promise((resolve) => {
      const stop = store.subscribe(REMOTE_CSE_TOPIC, (p) => {
        if (p !== payload) return;
        stop();
        resolve();
      });
    });

  before(async () => {
    db = await createTestDatabase();
    a = await openPostgresStore({ url: db.url, poolSize: 2 });
    b = await openPostgresStore({ url: db.url, poolSize: 2 });
    await b.insert({ ri: self.cseId, pi: '', ty: RESOURCE_TYPE.CSEBase, rn: self.cseRn, srn: self.cseRn, ct: TS, lt: TS, doc: {} });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it("learns another process's change of a registree's dcse from its broadcast, added and removed", async () => {
    const index = new DescendantCses(a, self, clock);
    // LISTEN is set up asynchronously: sent until heard once.
    let up = false;
    const listening = heard(a, 'changed ping').then(() => (up = true));
    while (!up) {
      await b.broadcast(REMOTE_CSE_TOPIC, 'changed ping');
      await Promise.race([listening, new Promise((r) => setTimeout(r, 50))]);
    }
    assert.equal(await index.registreeListing('/id-far'), undefined);
    const registree = { ri: 'id-mn2', pi: self.cseId, ty: RESOURCE_TYPE.remoteCSE, rn: 'id-mn2', srn: `${self.cseRn}/id-mn2`, ct: TS, lt: TS, et: Date.now() + 3_600_000, doc: { csi: '/id-mn2', dcse: ['/id-far'] } };
    let arrived = heard(a, 'changed id-mn2');
    await b.transaction(async (tx) => {
      await tx.broadcast(REMOTE_CSE_TOPIC, 'changed id-mn2');
      await tx.insert(registree);
    });
    await arrived;
    assert.equal((await index.registreeListing('/id-far'))?.ri, 'id-mn2', 'added in the other process');
    arrived = heard(a, 'changed id-mn2');
    await b.transaction(async (tx) => {
      await tx.broadcast(REMOTE_CSE_TOPIC, 'changed id-mn2');
      await tx.update({ ...registree, doc: { csi: '/id-mn2', dcse: ['/id-near'] } });
    });
    await arrived;
    assert.equal(await index.registreeListing('/id-far'), undefined, 'removed in the other process');
    assert.equal((await index.registreeListing('/id-near'))?.ri, 'id-mn2');
  });
});

describe("what a registrar accepted of this CSE's descendants (acceptedDescendants)", () => {
  const sent = ['/id-mn', '/id-asn', '/id-far'];
  const answer = (dcse: unknown) => ({ result: { rsc: 2004, pc: dcse === undefined ? {} : { 'm2m:csr': { dcse } } }, sent });
  it('keeps those sent that its answer lists, in whichever spelling it writes them', () => {
    assert.deepEqual(acceptedDescendants(answer(['/id-mn', 'id-asn']), self.spId), ['/id-mn', '/id-asn']);
    assert.deepEqual(acceptedDescendants(answer(['//WARDEN.example.net/id-far', '//other.sp/id-mn']), self.spId), ['/id-far'], "another SP's CSE is another CSE");
    assert.deepEqual(acceptedDescendants(answer([]), self.spId), [], 'a registrar that kept none accepted none');
  });
  it('takes all those sent when the answer shows no descendantCSEs (a registrar answering without the resource)', () => {
    assert.deepEqual(acceptedDescendants(answer(undefined), self.spId), sent);
  });
});
