// Discovery and conditional retrieval over HTTP: each filter condition alone and combined, paging, privileges.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { formatTimestamp } from '../../src/primitive/identifiers.js';
import { ManualClock, startTestCse, type TestCse } from '../harness.js';

type Attrs = Record<string, unknown>;

describe('discovery', () => {
  let t: TestCse;
  let ae: string;
  const clock = new ManualClock();
  const t0 = clock.now();
  before(async () => {
    t = await startTestCse({ 'discovery.maxResults': 50 }, { clock });
    ae = await t.client.registerAe('finder');
    const mk = (path: string, ty: number, body: Attrs) => t.client.create(path, ty, body, ae);
    await mk('/cse-in/finder', 3, { 'm2m:cnt': { rn: 'kitchen', lbl: ['room/kitchen', 'floor/1'], mni: 10 } });
    await mk('/cse-in/finder', 3, { 'm2m:cnt': { rn: 'garage', lbl: ['room/garage'] } });
    await mk('/cse-in/finder/kitchen', 3, { 'm2m:cnt': { rn: 'fridge', lbl: ['floor/1'] } });
    clock.advance(10_000);
    await mk('/cse-in/finder/kitchen', 4, { 'm2m:cin': { rn: 'small', cnf: 'text/plain:0', con: 'x' } });
    clock.advance(10_000);
    await mk('/cse-in/finder/kitchen', 4, { 'm2m:cin': { rn: 'big', cnf: 'application/json:0', con: 'y'.repeat(100) } });
    await mk('/cse-in/finder/kitchen/fridge', 4, { 'm2m:cin': { rn: 'deep', cnf: 'text/plain:0', con: 'z', et: formatTimestamp(t0 + 3_600_000) } });
  });
  after(() => t.close());

  async function find(query: string, origin = ae): Promise<string[]> {
    const reply = await t.client.retrieve(`/cse-in/finder?fu=1&${query}`, origin);
    assert.equal(reply.rsc, 2000, `${query}: ${reply.text}`);
    return ((reply.body?.['m2m:uril'] as string[]) ?? []).map((p) => p.split('/').pop() as string).sort();
  }

  it('finds by resource type, label, level and child type', async () => {
    assert.deepEqual(await find('ty=3'), ['fridge', 'garage', 'kitchen']);
    assert.deepEqual(await find('ty=4'), ['big', 'deep', 'small']);
    assert.deepEqual(await find('lbl=floor/1'), ['fridge', 'kitchen']);
    assert.deepEqual(await find('lbl=room/garage+floor/1'), ['fridge', 'garage', 'kitchen'], 'labels OR among themselves');
    assert.deepEqual(await find('lvl=1'), ['garage', 'kitchen']);
    assert.deepEqual(await find('lvl=1000000000&ty=4'), ['big', 'deep', 'small']);
    assert.deepEqual(await find('chty=4'), ['fridge', 'kitchen']);
    assert.deepEqual(await find('clbl=floor/1'), ['kitchen'], 'a child labelled floor/1');
    assert.deepEqual(await find('palb=room/kitchen'), ['big', 'fridge', 'small'], 'the parent labelled room/kitchen');
    assert.deepEqual(await find('c.cnf=application/json:0'), ['kitchen'], 'a child with that contentInfo');
    assert.deepEqual(await find('p.mni=10'), ['big', 'fridge', 'small'], 'the parent with mni 10');
  });

  it('finds by creation, modification and expiration time, stateTag, size and content type', async () => {
    assert.deepEqual(await find(`ty=4&cra=${formatTimestamp(t0 + 15_000)}`), ['big', 'deep']);
    assert.deepEqual(await find(`ty=4&crb=${formatTimestamp(t0 + 15_000)}`), ['small']);
    assert.deepEqual(await find(`ty=4&ms=${formatTimestamp(t0 + 15_000)}`), ['big', 'deep']);
    assert.deepEqual(await find(`ty=4&us=${formatTimestamp(t0 + 15_000)}`), ['small']);
    assert.deepEqual(await find(`ty=4&exb=${formatTimestamp(t0 + 7_200_000)}`), ['deep']);
    assert.deepEqual(await find(`ty=4&exa=${formatTimestamp(t0 + 7_200_000)}`), ['big', 'small']);
    assert.deepEqual(await find('ty=4&sza=50'), ['big']);
    assert.deepEqual(await find('ty=4&szb=50'), ['deep', 'small']);
    assert.deepEqual(await find('ty=4&stb=2'), ['big']);
    assert.deepEqual(await find('ty=4&sts=2'), ['deep', 'small']);
    assert.deepEqual(await find('cty=text/plain'), ['deep', 'small']);
    assert.deepEqual(await find('mni=10'), ['kitchen'], 'an attribute condition');
  });

  it('combines conditions with AND by default and OR on request', async () => {
    assert.deepEqual(await find('ty=3&lbl=room/garage'), ['garage']);
    assert.deepEqual(await find('ty=4&lbl=room/garage&fo=2'), ['big', 'deep', 'garage', 'small']);
  });

  it('answers structured or unstructured identifiers and child references', async () => {
    const structured = await t.client.retrieve('/cse-in/finder?fu=1&ty=3&lvl=1', ae);
    assert.deepEqual((structured.body?.['m2m:uril'] as string[]).sort(), ['cse-in/finder/garage', 'cse-in/finder/kitchen']);
    const unstructured = await t.client.retrieve('/cse-in/finder?fu=1&ty=3&lvl=1&drt=2', ae);
    assert.ok((unstructured.body?.['m2m:uril'] as string[]).every((id) => id.startsWith('cnt') && !id.includes('/')));
    const refs = await t.client.retrieve('/cse-in/finder?fu=1&ty=3&lvl=1&rcn=6', ae);
    assert.deepEqual((((refs.body?.['m2m:rrl'] as Attrs).rrf as Attrs[]).map((r) => r.nm) as string[]).sort(), ['garage', 'kitchen']);
    assert.equal((await t.client.retrieve('/cse-in/finder?fu=1&rcn=1', ae)).rsc, 4000);
  });

  it('pages with limit and offset and says when more results exist', async () => {
    const first = await t.client.retrieve('/cse-in/finder?fu=1&lim=2', ae);
    assert.equal((first.body?.['m2m:uril'] as string[]).length, 2);
    assert.equal(first.headers.get('x-m2m-cts'), '1');
    assert.equal(first.headers.get('x-m2m-cto'), '3');
    const rest = await t.client.retrieve('/cse-in/finder?fu=1&lim=10&ofst=3', ae);
    assert.equal((rest.body?.['m2m:uril'] as string[]).length, 4);
    assert.equal(rest.headers.get('x-m2m-cts'), '2');
    const all = new Set([...(first.body?.['m2m:uril'] as string[]), ...(rest.body?.['m2m:uril'] as string[])]);
    assert.equal(all.size, 6, 'pages neither overlap nor skip');
  });

  it('returns only resources the originator may discover', async () => {
    const other = await t.client.registerAe('peeker');
    assert.deepEqual(await find('', other), []);
    const acp = await t.client.create('/cse-in/finder', 1, { 'm2m:acp': { rn: 'discoverable', pv: { acr: [{ acor: [other], acop: 32 }] }, pvs: { acr: [{ acor: [ae], acop: 63 }] } } }, ae);
    const acpRi = String((acp.body?.['m2m:acp'] as Attrs).ri);
    assert.equal((await t.client.update('/cse-in/finder/garage', { 'm2m:cnt': { acpi: [acpRi] } }, ae)).rsc, 2004);
    assert.deepEqual(await find('', other), ['garage']);
    assert.equal((await t.client.retrieve('/cse-in/finder/garage', other)).rsc, 4103, 'DISCOVERY does not grant RETRIEVE');
  });

  it('conditional retrieval answers 4004 when the target does not match', async () => {
    assert.equal((await t.client.retrieve('/cse-in/finder/kitchen?lbl=floor/1', ae)).rsc, 2000);
    assert.equal((await t.client.retrieve('/cse-in/finder/kitchen?lbl=nowhere', ae)).rsc, 4004);
    assert.equal((await t.client.retrieve('/cse-in/finder/kitchen?ty=4', ae)).rsc, 4004);
  });

  it('pages through results spread over more rows than one page may read', async () => {
    const sparse = await startTestCse({ 'discovery.scanLimit': 500 });
    try {
      const owner = await sparse.client.registerAe('sparse');
      await sparse.client.create('/cse-in/sparse', 3, { 'm2m:cnt': { rn: 'c' } }, owner);
      for (let i = 0; i < 2000; i += 50) {
        await Promise.all(Array.from({ length: 50 }, (_, j) => sparse.client.create('/cse-in/sparse/c', 4, { 'm2m:cin': { rn: `i${i + j}`, con: 'x', lbl: (i + j) % 100 === 0 ? ['rare'] : i + j === 1999 ? ['last'] : [] } }, owner)));
      }
      // Under OR a label query is tested on every row the database returns: each row counts against the limit.
      const seen: string[] = [];
      let offset = 1;
      for (let page = 0; page < 40; page++) {
        const reply = await sparse.client.retrieve(`/cse-in/sparse?fu=1&fo=2&lbq=rare&lim=8&ofst=${offset}`, owner);
        assert.equal(reply.rsc, 2000, reply.text);
        seen.push(...((reply.body?.['m2m:uril'] as string[]) ?? []));
        if (reply.headers.get('x-m2m-cts') !== '1') break;
        offset = Number(reply.headers.get('x-m2m-cto'));
      }
      assert.equal(new Set(seen).size, 20, 'every match once, though no page may read all 2000 rows');
      assert.equal(seen.length, 20);
      // A page never comes back empty yet partial (its offset could not move on): it reads on to a match, and the
      // page after it reads on to the end.
      const first = await sparse.client.retrieve('/cse-in/sparse?fu=1&fo=2&lbq=last', owner);
      assert.deepEqual(first.body?.['m2m:uril'], ['cse-in/sparse/c/i1999']);
      if (first.headers.get('x-m2m-cts') === '1') {
        const rest = await sparse.client.retrieve(`/cse-in/sparse?fu=1&fo=2&lbq=last&ofst=${String(first.headers.get('x-m2m-cto'))}`, owner);
        assert.deepEqual(rest.body?.['m2m:uril'], []);
        assert.equal(rest.headers.get('x-m2m-cts'), '2');
      }
    } finally {
      await sparse.close();
    }
  });

  it('pages over rows the originator may not discover, in creation order, each result once', async () => {
    // More than 512 rows below the AE (SQLite reads such a subtree by windows of insertion order), most of them
    // hidden from the discovering AE: a page reads on past the refused rows, and offsets count only results.
    const big = await startTestCse();
    try {
      const owner = await big.client.registerAe('mixed');
      const visitor = await big.client.registerAe('visitor');
      // The owner writes through a rule of its own: acpi decides for it too [TS-0001 §9.6.1.3].
      const pv = { acr: [{ acor: [visitor], acop: 32 }, { acor: [owner], acop: 63 }] };
      const acp = await big.client.create('/cse-in/mixed', 1, { 'm2m:acp': { rn: 'seeing', pv, pvs: { acr: [{ acor: [owner], acop: 63 }] } } }, owner);
      const acpRi = String((acp.body?.['m2m:acp'] as Attrs).ri);
      await big.client.create('/cse-in/mixed', 3, { 'm2m:cnt': { rn: 'open', acpi: [acpRi] } }, owner);
      await big.client.create('/cse-in/mixed', 3, { 'm2m:cnt': { rn: 'closed' } }, owner);
      const visible: string[] = [];
      for (let batch = 0; batch < 44; batch++) {
        await Promise.all(Array.from({ length: 48 }, (_, j) => big.client.create('/cse-in/mixed/closed', 4, { 'm2m:cin': { rn: `h${batch}-${j}`, con: 'x' } }, owner)));
        // Visible ones in runs of one to three, in a known order.
        for (let k = 0; k <= batch % 3; k++) {
          const rn = `v${batch}-${k}`;
          const made = await big.client.create('/cse-in/mixed/open', 4, { 'm2m:cin': { rn, con: 'x' } }, owner);
          assert.equal(made.rsc, 2001);
          visible.push(rn);
        }
      }
      const pages = async (query: string): Promise<string[]> => {
        const seen: string[] = [];
        let offset = 1;
        for (let page = 0; page < 100; page++) {
          const reply = await big.client.retrieve(`/cse-in/mixed?fu=1&ty=4&lim=7&ofst=${offset}${query}`, visitor);
          assert.equal(reply.rsc, 2000, reply.text);
          const list = (reply.body?.['m2m:uril'] ?? (reply.body?.['m2m:rrl'] as Attrs | undefined)?.rrf) as Array<string | Attrs>;
          seen.push(...list.map((e) => (typeof e === 'string' ? e : String(e.nm))));
          if (reply.headers.get('x-m2m-cts') !== '1') return seen;
          assert.equal(Number(reply.headers.get('x-m2m-cto')), offset + list.length, 'the next offset follows the results of this page');
          offset = Number(reply.headers.get('x-m2m-cto'));
        }
        throw new Error('paging did not end');
      };
      assert.deepEqual((await pages('')).map((p) => p.split('/').pop()), visible);
      assert.deepEqual(await pages('&rcn=6'), visible, 'child references page alike');
      const unstructured = await pages('&drt=2');
      assert.equal(unstructured.length, visible.length);
      assert.ok(unstructured.every((ri) => !ri.includes('/')), 'drt=2 answers resource identifiers');
      const deep = await big.client.retrieve(`/cse-in/mixed?fu=1&ty=4&lim=5&ofst=${visible.length - 2}`, visitor);
      assert.deepEqual((deep.body?.['m2m:uril'] as string[]).map((p) => p.split('/').pop()), visible.slice(-3));
      assert.equal(deep.headers.get('x-m2m-cts'), '2');
    } finally {
      await big.close();
    }
  });

  it('refuses unknown query parameters and a filterOperation that is none, with or without other conditions', async () => {
    assert.equal((await t.client.retrieve('/cse-in/finder?xxx=yyy', ae)).rsc, 4000);
    assert.equal((await t.client.retrieve('/cse-in/finder?rcn=1&wrong=wrong', ae)).rsc, 4000);
    assert.equal((await t.client.retrieve('/cse-in/finder?fo=4223', ae)).rsc, 4000);
    assert.equal((await t.client.retrieve('/cse-in/finder/kitchen?mni=10', ae)).rsc, 2000, 'a known attribute is a condition');
  });

  it('refuses malformed and unsupported criteria', async () => {
    assert.equal((await t.client.retrieve('/cse-in/finder?fu=1&lim=-1', ae)).rsc, 4000);
    assert.equal((await t.client.retrieve('/cse-in/finder?fu=1&lvl=0', ae)).rsc, 4000);
    assert.equal((await t.client.retrieve('/cse-in/finder?fu=1&crb=yesterday', ae)).rsc, 4000);
    assert.equal((await t.client.retrieve('/cse-in/finder?fu=1&fo=0', ae)).rsc, 4000);
    assert.equal((await t.client.retrieve('/cse-in/finder?fu=1&fo=7', ae)).rsc, 4000);
    assert.equal((await t.client.retrieve('/cse-in/finder?fu=1&lbq=x%20EQ', ae)).rsc, 4000);
    assert.equal((await t.client.retrieve('/cse-in/finder?fu=1&ty=abc', ae)).rsc, 4000);
  });
});

describe('attribute wildcards and applyRelativePath in conditional retrieval', () => {
  let t: TestCse;
  let ae: string;
  before(async () => {
    t = await startTestCse();
    ae = await t.client.registerAe('rooms');
    const mk = async (path: string, ty: number, body: Attrs) => assert.equal((await t.client.create(path, ty, body, ae)).rsc, 2001, path);
    await mk('/cse-in/rooms', 3, { 'm2m:cnt': { rn: 'kitchen', lbl: ['room/kitchen'] } });
    await mk('/cse-in/rooms', 3, { 'm2m:cnt': { rn: 'garage', lbl: ['room/garage'] } });
    await mk('/cse-in/rooms/kitchen', 3, { 'm2m:cnt': { rn: 'fridge' } });
    await mk('/cse-in/rooms/garage', 3, { 'm2m:cnt': { rn: 'shelf' } });
    await mk('/cse-in/rooms/kitchen', 4, { 'm2m:cin': { rn: 'small', con: 'x1' } });
    await mk('/cse-in/rooms/kitchen', 4, { 'm2m:cin': { rn: 'big', con: 'y'.repeat(100) } });
  });
  after(() => t.close());

  async function find(query: string): Promise<string[]> {
    const reply = await t.client.retrieve(`/cse-in/rooms?fu=1&${query}`, ae);
    assert.equal(reply.rsc, 2000, `${query}: ${reply.text}`);
    return ((reply.body?.['m2m:uril'] as string[]) ?? []).map((p) => p.split('/').pop() as string).sort();
  }
  const names = (list: unknown): unknown[] => ((list as Attrs[] | undefined) ?? []).map((c) => c.rn);

  it('matches attribute values with the wildcard *, case-sensitively, in discovery and conditional retrieval', async () => {
    // TS-0001 table 8.1.2-2 "attribute": "creator=Sam*", "creator=*Sam"; TS-0004 §7.3.3.17.9.
    assert.deepEqual(await find('ty=3&rn=*e'), ['fridge', 'garage']);
    assert.deepEqual(await find('rn=k*n'), ['kitchen']);
    assert.deepEqual(await find('ty=3&rn=*'), ['fridge', 'garage', 'kitchen', 'shelf']);
    assert.deepEqual(await find('rn=K*'), [], 'case-sensitive');
    assert.deepEqual(await find('rn=ki?chen*'), [], "'?' stands for itself");
    assert.deepEqual(await find('rn=kitch%25*'), [], "'%' stands for itself");
    assert.deepEqual(await find('rn=kitchen'), ['kitchen'], 'without * the value is compared exactly');
    assert.deepEqual(await find('con=*'), ['big', 'small'], 'the content is an attribute too');
    assert.deepEqual(await find('con=y*'), ['big']);
    const children = await t.client.retrieve('/cse-in/rooms/kitchen?rcn=8&con=x*', ae);
    assert.equal(children.rsc, 2000, children.text);
    assert.deepEqual(names((children.body?.['m2m:cnt'] as Attrs)['m2m:cin']), ['small']);
    assert.equal((await t.client.retrieve('/cse-in/rooms/kitchen?rn=kit*', ae)).rsc, 2000);
    assert.equal((await t.client.retrieve('/cse-in/rooms/kitchen?rn=gar*', ae)).rsc, 4004);
  });

  it('applies a relative path (arp) to the children a RETRIEVE returns', async () => {
    // TS-0004 §7.3.3.17.17: the filtering result is each match's path extended by the relative path.
    const r8 = await t.client.retrieve('/cse-in/rooms?rcn=8&ty=3&lbl=room/garage&arp=shelf', ae);
    assert.equal(r8.rsc, 2000, r8.text);
    assert.deepEqual(names((r8.body?.['m2m:ae'] as Attrs)['m2m:cnt']), ['shelf']);
    const latest = await t.client.retrieve('/cse-in/rooms?rcn=8&ty=3&lbl=room/kitchen&arp=la', ae);
    assert.deepEqual(names((latest.body?.['m2m:ae'] as Attrs)['m2m:cin']), ['big']);
    const parents = await t.client.retrieve('/cse-in/rooms?rcn=6&ty=3&lvl=2&arp=..', ae);
    const refs = ((parents.body?.['m2m:rrl'] as Attrs).rrf as Attrs[]).map((c) => c.nm).sort();
    assert.deepEqual(refs, ['garage', 'kitchen', 'rooms'], 'each resource once');
    const none = await t.client.retrieve('/cse-in/rooms?rcn=8&ty=3&arp=nothing', ae);
    assert.equal(none.rsc, 2000);
    assert.deepEqual(none.body?.['m2m:ae'], {}, 'a path that names nothing gives no entry');
    assert.equal((await t.client.retrieve('/cse-in/rooms?rcn=8&arp=/cse-in', ae)).rsc, 4000);
  });

  it('follows a relative path only from a match the originator may read, to a resource it may read', async () => {
    const reader = await t.client.registerAe('roomreader');
    const policy = async (rn: string, acr: Attrs[]) => {
      const reply = await t.client.create('/cse-in/rooms', 1, { 'm2m:acp': { rn, pv: { acr }, pvs: { acr: [{ acor: [ae], acop: 63 }] } } }, ae);
      return String((reply.body?.['m2m:acp'] as Attrs).ri);
    };
    const readable = await policy('readable', [{ acor: [reader], acop: 2 }, { acor: [ae], acop: 63 }]);
    const ownerOnly = await policy('owneronly', [{ acor: [ae], acop: 63 }]);
    const mk = async (path: string, rn: string, acpi: string) => assert.equal((await t.client.create(path, 3, { 'm2m:cnt': { rn, acpi: [acpi] } }, ae)).rsc, 2001);
    await mk('/cse-in/rooms', 'vault', readable);
    await mk('/cse-in/rooms/vault', 'locked', ownerOnly);
    await mk('/cse-in/rooms/vault/locked', 'leaf', readable);
    await mk('/cse-in/rooms/vault', 'open', readable);
    await mk('/cse-in/rooms/vault/open', 'leaf', readable);
    await mk('/cse-in/rooms/vault', 'closed', readable);
    await mk('/cse-in/rooms/vault/closed', 'leaf', ownerOnly);
    const leaves = async (origin: string): Promise<unknown[]> => {
      const reply = await t.client.retrieve('/cse-in/rooms/vault?rcn=6&lvl=1&arp=leaf', origin);
      assert.equal(reply.rsc, 2000, reply.text);
      return ((reply.body?.['m2m:rrl'] as Attrs).rrf as Attrs[]).map((c) => c.val).sort();
    };
    assert.deepEqual(await leaves(reader), ['cse-in/rooms/vault/open/leaf']);
    assert.deepEqual(await leaves(ae), ['cse-in/rooms/vault/closed/leaf', 'cse-in/rooms/vault/locked/leaf', 'cse-in/rooms/vault/open/leaf']);
  });
});
