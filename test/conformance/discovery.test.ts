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
      const acp = await big.client.create('/cse-in/mixed', 1, { 'm2m:acp': { rn: 'seeing', pv: { acr: [{ acor: [visitor], acop: 32 }, { acor: [owner], acop: 63 }] }, pvs: { acr: [{ acor: [owner], acop: 63 }] } } }, owner);
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
