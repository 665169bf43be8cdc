// The later parts of the filter language over HTTP: labelsQuery, geoQuery on `loc`, filterOperation XOR (also
// with conditions tested after the query), applyRelativePath, parentResourceType, content-based discovery and
// the filterUsage values.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestCse, type TestCse } from '../harness.js';
import { Receiver } from '../receiver.js';

const UNIT_SQUARE = '[[0.0,0.0],[1.0,0.0],[1.0,1.0],[0.0,1.0],[0.0,0.0]]';

describe('filter language (labelsQuery, geoQuery, XOR, applyRelativePath)', () => {
  let t: TestCse;
  let ae: string;
  before(async () => {
    t = await startTestCse({ 'discovery.maxResults': 50 });
    ae = await t.client.registerAe('mapper');
    const cnt = async (rn: string, extra: Record<string, unknown>) => {
      const reply = await t.client.create('/cse-in/mapper', 3, { 'm2m:cnt': { rn, ...extra } }, ae);
      assert.equal(reply.rsc, 2001, reply.text);
    };
    await cnt('a', { lbl: ['color:red', 'size:big', 'tagged'], loc: { typ: 1, crd: '[0.5,0.5]' } });
    await cnt('b', { lbl: ['color:blue', 'size:small'], loc: { typ: 3, crd: UNIT_SQUARE } });
    await cnt('c', { lbl: ['color:green'] });
    await cnt('d', { lbl: ['shape'], loc: { typ: 2, crd: '[[1.0,1.0],[2.0,2.0]]' } });
    const cin = await t.client.create('/cse-in/mapper/a', 4, { 'm2m:cin': { rn: 'reading', lbl: ['color:red'], con: '21', loc: { typ: 1, crd: '[5.0,5.0]' } } }, ae);
    assert.equal(cin.rsc, 2001, cin.text);
  });
  after(() => t.close());

  async function find(query: string): Promise<string[]> {
    const reply = await t.client.retrieve(`/cse-in/mapper?fu=1&${query}`, ae);
    assert.equal(reply.rsc, 2000, `${query}: ${reply.text}`);
    return ((reply.body?.['m2m:uril'] as string[]) ?? []).map((p) => p.split('/').pop() as string).sort();
  }
  const q = (s: string) => encodeURIComponent(s);

  it('evaluates every labelsQuery form', async () => {
    assert.deepEqual(await find(`ty=3&lbq=${q('color')}`), ['a', 'b', 'c'], 'key alone or with a value');
    assert.deepEqual(await find(`ty=3&lbq=${q('tagged')}`), ['a'], 'a key-only label');
    assert.deepEqual(await find(`ty=3&lbq=${q('NT color')}`), ['d']);
    assert.deepEqual(await find(`ty=3&lbq=${q('color EQ red')}`), ['a']);
    assert.deepEqual(await find(`ty=3&lbq=${q('color:red')}`), ['a']);
    assert.deepEqual(await find(`ty=3&lbq=${q('color NE red')}`), ['b', 'c'], 'NE needs the key with another value');
    assert.deepEqual(await find(`ty=3&lbq=${q('color IN (red, green)')}`), ['a', 'c']);
    assert.deepEqual(await find(`ty=3&lbq=${q('color NI (red, green)')}`), ['b']);
    assert.deepEqual(await find(`lbq=${q('shape')}&lbq=${q('size:small')}`), ['b', 'd'], 'expressions of the list OR');
    assert.deepEqual(await find(`ty=4&lbq=${q('color:red')}`), ['reading'], 'AND with the other conditions');
  });

  it('refuses malformed label queries with 4000', async () => {
    for (const bad of ['color EQ', 'color IN red', 'color EQ red blue', 'NT a b', 'a b c', '(x)', 'color IN ()']) {
      const reply = await t.client.retrieve(`/cse-in/mapper?fu=1&lbq=${q(bad)}`, ae);
      assert.equal(reply.rsc, 4000, `${bad}: ${reply.text}`);
    }
  });

  it('evaluates geoQuery Within, Contains and Intersects on loc', async () => {
    // As in ACME: the query geometry is the first operand.
    assert.deepEqual(await find('gmty=1&gsf=1&geom=[0.5,0.5]'), ['a', 'b'], 'the point lies within the square (and on point a)');
    assert.deepEqual(await find(`gmty=3&gsf=2&geom=${q('[[-1.0,-1.0],[3.0,-1.0],[3.0,3.0],[-1.0,3.0],[-1.0,-1.0]]')}`), ['a', 'b', 'd'], 'the query polygon contains them, not the reading at 5,5');
    assert.deepEqual(await find(`gmty=2&gsf=3&geom=${q('[[0.5,-1.0],[0.5,2.0]]')}`), ['a', 'b'], 'the line crosses a and b');
    assert.deepEqual(await find(`gmty=3&gsf=2&geom=${q('[[[4.0,4.0],[6.0,4.0],[6.0,6.0],[4.0,6.0],[4.0,4.0]]]')}`), ['reading'], 'GeoJSON ring nesting is accepted too');
    assert.deepEqual(await find('ty=3&gmty=1&gsf=1&geom=[9.0,9.0]'), [], 'no location matches');
  });

  it('refuses incomplete or invalid geo queries with 4000', async () => {
    for (const bad of ['gmty=1&geom=[0.5,0.5]', 'gsf=1', 'gmty=1&gsf=9&geom=[0.5,0.5]', 'gmty=3&gsf=1&geom=[[0,0],[1,1]]', 'gmty=1&gsf=1&geom=nope', 'gmty=7&gsf=1&geom=[1,1]']) {
      const reply = await t.client.retrieve(`/cse-in/mapper?fu=1&${bad}`, ae);
      assert.equal(reply.rsc, 4000, `${bad}: ${reply.text}`);
    }
  });

  it('validates loc on create and update, and finds an updated location', async () => {
    for (const loc of ['wrong', { typ: 3, crd: '[[0,0],[1,1]]' }, { typ: 1, crd: '[1,2]', x: 1 }, { typ: 3, crd: '[[0,0],[1,0],[1,1],[0,1]]' }, { typ: 1 }]) {
      const reply = await t.client.create('/cse-in/mapper', 3, { 'm2m:cnt': { loc } }, ae);
      assert.equal(reply.rsc, 4000, `${JSON.stringify(loc)}: ${reply.text}`);
    }
    const moved = await t.client.update('/cse-in/mapper/c', { 'm2m:cnt': { loc: { typ: 1, crd: '[0.25,0.25]' } } }, ae);
    assert.equal(moved.rsc, 2004, moved.text);
    assert.deepEqual((moved.body?.['m2m:cnt'] as { loc?: unknown }).loc, { typ: 1, crd: '[0.25,0.25]' });
    assert.deepEqual(await find(`ty=3&gmty=3&gsf=2&geom=${q(UNIT_SQUARE)}`), ['a', 'b', 'c'], 'the square contains both points and itself');
    const stuck = await t.client.update('/cse-in/mapper/a/reading', { 'm2m:cin': { loc: { typ: 1, crd: '[0.0,0.0]' } } }, ae);
    assert.notEqual(stuck.rsc, 2004, 'an instance keeps its location');
    assert.equal((await t.client.update('/cse-in/mapper/c', { 'm2m:cnt': { loc: null } }, ae)).rsc, 2004);
  });

  it('combines conditions tested after the query with OR and XOR', async () => {
    assert.deepEqual(await find('lvl=1&fo=2&lbl=color:green&gmty=1&gsf=1&geom=[0.5,0.5]'), ['a', 'b', 'c'], 'OR: a label or a location');
    assert.deepEqual(await find('fo=3&lbl=color:red&ty=3'), ['b', 'c', 'd', 'reading'], 'XOR: exactly one of the two');
    assert.deepEqual(await find(`fo=3&ty=4&lbq=${q('color:red')}`), ['a'], 'XOR with a label query: a meets only the query, the reading both');
    assert.deepEqual(await find(`fo=2&ty=4&lbq=${q('shape')}`), ['d', 'reading']);
  });

  it('finds by parent resource type', async () => {
    assert.deepEqual(await find('pty=3'), ['reading']);
    assert.deepEqual(await find('pty=2&lbq=color'), ['a', 'b', 'c']);
    assert.equal((await t.client.retrieve('/cse-in/mapper?fu=1&pty=x', ae)).rsc, 4000);
  });

  it('applies a relative path to each match', async () => {
    assert.deepEqual(await find('ty=3&lbl=color:red&arp=la'), ['reading'], "a's latest instance");
    assert.deepEqual(await find('ty=3&lbl=size:small&arp=../a'), ['a'], 'a sibling');
    assert.deepEqual(await find('ty=3&arp=..'), ['mapper'], 'every match has the same parent: one entry');
    assert.deepEqual(await find('ty=3&arp=nothing'), [], 'a path that names nothing gives no entry');
    assert.equal((await t.client.retrieve('/cse-in/mapper?fu=1&arp=/cse-in', ae)).rsc, 4000);
  });

  it('applies label and geo queries to conditional retrieval', async () => {
    assert.equal((await t.client.retrieve(`/cse-in/mapper/a?lbq=${q('color:red')}`, ae)).rsc, 2000);
    assert.equal((await t.client.retrieve(`/cse-in/mapper/a?lbq=${q('color:blue')}`, ae)).rsc, 4004);
    assert.equal((await t.client.retrieve('/cse-in/mapper/b?gmty=1&gsf=1&geom=[0.5,0.5]', ae)).rsc, 2000);
    assert.equal((await t.client.retrieve('/cse-in/mapper/b?gmty=1&gsf=1&geom=[7.0,0.5]', ae)).rsc, 4004);
  });
});

describe('content-based discovery (contentFilterSyntax / contentFilterQuery) and filterUsage', () => {
  let t: TestCse;
  let ae: string;
  before(async () => {
    t = await startTestCse();
    ae = await t.client.registerAe('meter');
    assert.equal((await t.client.create('/cse-in/meter', 3, { 'm2m:cnt': { rn: 'r' } }, ae)).rsc, 2001);
    const cin = async (rn: string, cnf: string | undefined, con: string) => {
      const reply = await t.client.create('/cse-in/meter/r', 4, { 'm2m:cin': { rn, con, ...(cnf ? { cnf } : {}) } }, ae);
      assert.equal(reply.rsc, 2001, reply.text);
    };
    await cin('warm', 'application/json:0', JSON.stringify({ temp: 21.5, room: 'kitchen', tags: ['a', 'b'], 'a b': 1, ok: true }));
    await cin('cold', 'application/json:0', JSON.stringify({ temp: 18, room: 'cellar', tags: ['c'] }));
    await cin('text', 'text/plain:0', JSON.stringify({ temp: 30 }));
    await cin('bare', undefined, JSON.stringify({ temp: 40 }));
    await cin('broken', 'application/json:0', '{"temp": ');
  });
  after(() => t.close());

  async function find(query: string): Promise<string[]> {
    const reply = await t.client.retrieve(`/cse-in/meter?fu=1&${query}`, ae);
    assert.equal(reply.rsc, 2000, `${query}: ${reply.text}`);
    return ((reply.body?.['m2m:uril'] as string[]) ?? []).map((p) => p.split('/').pop() as string).sort();
  }
  const cf = (query: string) => `cfs=1&cfq=${encodeURIComponent(query)}`;

  it('evaluates clauses on JSON content only', async () => {
    assert.deepEqual(await find(cf('$.temp GT 20')), ['warm'], 'text/plain and unlabelled content is not JSON content');
    assert.deepEqual(await find(cf('$.temp LE 18')), ['cold']);
    assert.deepEqual(await find(cf('$.room EQ "cellar"')), ['cold']);
    assert.deepEqual(await find(cf('$.room NE "cellar"')), ['warm']);
    assert.deepEqual(await find(cf('$.room MATCH "itch"')), ['warm']);
    assert.deepEqual(await find(cf('$.tags[1] EQ "b"')), ['warm']);
    assert.deepEqual(await find(cf('$."a b" EQ 1')), ['warm']);
    assert.deepEqual(await find(cf('$.ok EQ true')), ['warm']);
    assert.deepEqual(await find(cf('$.temp EQ "21.5"')), [], 'a number never equals a string');
    assert.deepEqual(await find(cf('$.missing.deeper GT 1')), [], 'a path that leads nowhere is false');
  });

  it('combines clauses from left to right, and with other conditions', async () => {
    assert.deepEqual(await find(cf('$.temp GT 20 OR $.room EQ "cellar"')), ['cold', 'warm']);
    assert.deepEqual(await find(cf('$.temp GT 20 AND $.room EQ "cellar"')), []);
    assert.deepEqual(await find(cf('$.temp GT 100 AND $.room EQ "x" OR $.temp LT 19')), ['cold'], '(false AND false) OR true');
    assert.deepEqual(await find(`${cf('$.temp GT 20')}&fo=2&ty=3`), ['r', 'warm']);
    assert.deepEqual(await find(`cfq=${encodeURIComponent('$.temp GT 20')}`), ['warm'], 'without cfs the only syntax applies');
    assert.equal((await t.client.retrieve(`/cse-in/meter/r/warm?${cf('$.temp GT 20')}`, ae)).rsc, 2000, 'conditional retrieval');
    assert.equal((await t.client.retrieve(`/cse-in/meter/r/cold?${cf('$.temp GT 20')}`, ae)).rsc, 4004);
  });

  it('refuses malformed content filters with 4000', async () => {
    for (const bad of ['cfs=1', 'cfs=2&cfq=%24.a%20EQ%201', cf('temp GT 1'), cf('$.temp BIGGER 1'), cf('$.temp GT'), cf('$.temp GT 1 AND'), cf('$.temp GT 1 XOR $.a EQ 2'), cf('$.a[x] EQ 1'), cf('$.a EQ "open'), cf('$.a EQ nonsense')]) {
      const reply = await t.client.retrieve(`/cse-in/meter?fu=1&${bad}`, ae);
      assert.equal(reply.rsc, 4000, `${bad}: ${reply.text}`);
    }
  });

  it('a relative path does not reveal matches the originator may not discover', async () => {
    const snoop = await t.client.registerAe('snoop');
    // The AE keeps its privileges through a rule of its own: acpi decides for it too [TS-0001 §9.6.1.3].
    const pv = { acr: [{ acor: [snoop], acop: 32 }, { acor: [ae], acop: 63 }] };
    await t.client.create('/cse-in/meter', 1, { 'm2m:acp': { rn: 'peek', pv, pvs: { acr: [{ acor: [ae], acop: 63 }] } } }, ae);
    assert.equal((await t.client.update('/cse-in/meter/r', { 'm2m:cnt': { acpi: ['cse-in/meter/peek'] } }, ae)).rsc, 2004);
    assert.equal((await t.client.create('/cse-in/meter/r', 3, { 'm2m:cnt': { rn: 'vault' } }, ae)).rsc, 2001);
    assert.equal((await t.client.create('/cse-in/meter/r/vault', 4, { 'm2m:cin': { rn: 'pin', cnf: 'application/json:0', con: '{"pin": 4711}' } }, ae)).rsc, 2001);
    const guess = async (pin: number) => {
      const reply = await t.client.retrieve(`/cse-in/meter?fu=1&${cf(`$.pin EQ ${pin}`)}&arp=../..`, snoop);
      assert.equal(reply.rsc, 2000, reply.text);
      return (reply.body?.['m2m:uril'] as string[]) ?? [];
    };
    assert.deepEqual(await guess(4711), [], 'the right guess looks like a wrong one');
    assert.deepEqual(await guess(4712), []);
    const owner = await t.client.retrieve(`/cse-in/meter?fu=1&${cf('$.pin EQ 4711')}&arp=../..`, ae);
    assert.deepEqual(owner.body?.['m2m:uril'], ['cse-in/meter/r'], 'the owner may follow the path');
  });

  it('treats filterUsage 3 as discovery and refuses 4 and unknown values', async () => {
    const reply = await t.client.retrieve('/cse-in/meter?fu=3&ty=4&lvl=2', ae);
    assert.equal(reply.rsc, 2000, reply.text);
    assert.equal((reply.body?.['m2m:uril'] as string[]).length, 5);
    assert.equal((await t.client.retrieve('/cse-in/meter?fu=4&ty=4', ae)).rsc, 5001);
    assert.equal((await t.client.retrieve('/cse-in/meter?fu=9&ty=4', ae)).rsc, 4000);
  });
});

describe('geo queries within a work budget', () => {
  it('ends a page early when spatial tests get expensive, and paging still reaches every match', async () => {
    const t = await startTestCse();
    try {
      const ae = await t.client.registerAe('shapes');
      // Written out with fractions: a stored location's coordinates are decimals (1.0, not 1), as in ACME.
      const ring = (n: number, r: number): string => {
        const points = Array.from({ length: n }, (_, i) => `[${(r * Math.cos((2 * Math.PI * i) / n)).toFixed(6)},${(r * Math.sin((2 * Math.PI * i) / n)).toFixed(6)}]`);
        return `[${[...points, points[0]].join(',')}]`;
      };
      // Five: the fifth page passes over four earlier matches (4 × 500 × 128 pairs), within the 300 000 a page may spend so.
      for (let i = 0; i < 5; i++) {
        const reply = await t.client.create('/cse-in/shapes', 3, { 'm2m:cnt': { rn: `s${i}`, loc: { typ: 3, crd: ring(499, 1) } } }, ae);
        assert.equal(reply.rsc, 2001, reply.text);
      }
      assert.equal((await t.client.create('/cse-in/shapes', 3, { 'm2m:cnt': { loc: { typ: 3, crd: ring(600, 1) } } }, ae)).rsc, 4000, 'at most 500 positions');
      const query = `fu=1&gmty=3&gsf=2&geom=${encodeURIComponent(ring(127, 10))}`;
      assert.equal((await t.client.retrieve(`/cse-in/shapes?fu=1&gmty=3&gsf=2&geom=${encodeURIComponent(ring(200, 10))}`, ae)).rsc, 4000, 'a query geometry holds at most 128 positions');
      const seen: string[] = [];
      let offset = 1;
      let pages = 0;
      // As the admin, whose spatial work over time is not limited (the next test): each page's own budget ends it.
      for (; pages < 10; pages++) {
        const reply = await t.client.retrieve(`/cse-in/shapes?${query}&ofst=${offset}`, 'CAdmin');
        assert.equal(reply.rsc, 2000, reply.text);
        seen.push(...((reply.body?.['m2m:uril'] as string[]) ?? []));
        if (reply.headers.get('x-m2m-cts') !== '1') break;
        offset = Number(reply.headers.get('x-m2m-cto'));
      }
      assert.ok(pages >= 1, 'the spatial work did not fit one page');
      assert.deepEqual([...new Set(seen)].sort(), ['s0', 's1', 's2', 's3', 's4'].map((n) => `cse-in/shapes/${n}`));

      // Over time: the AE's pages spend its spatial work (300 000 pairs at once, 100 000 a second) and are then
      // refused 4141 with Retry-After, however many it sends; another AE's page is still served.
      let refused: Awaited<ReturnType<typeof t.client.retrieve>> | undefined;
      for (let i = 0; i < 30 && !refused; i++) {
        const reply = await t.client.retrieve(`/cse-in/shapes?${query}`, ae);
        if (reply.rsc === 4141) refused = reply;
        else assert.equal(reply.rsc, 2000, reply.text);
      }
      assert.ok(refused, 'never refused');
      assert.match(String(refused.body?.['m2m:dbg']), /spatial tests/);
      assert.ok(Number(refused.headers.get('retry-after')) >= 1);
      const other = await t.client.registerAe('shapes2');
      assert.equal((await t.client.create('/cse-in/shapes2', 3, { 'm2m:cnt': { rn: 'mine', loc: { typ: 3, crd: ring(499, 1) } } }, other)).rsc, 2001);
      const served = await t.client.retrieve(`/cse-in/shapes2?${query}`, other);
      assert.equal(served.rsc, 2000, served.text);
      assert.deepEqual(served.body?.['m2m:uril'], ['cse-in/shapes2/mine']);
    } finally {
      await t.close();
    }
  });
});

describe('IPE on-demand discovery (filterUsage 3)', () => {
  let t: TestCse;
  let ipe: Receiver;
  let seeker: string;
  before(async () => {
    t = await startTestCse();
    ipe = await new Receiver().start();
    await t.client.registerAe('ipe', { rr: true, poa: [ipe.url] });
    seeker = await t.client.registerAe('seeker');
    // The IPE keeps its privileges through a rule of its own: acpi decides for it too [TS-0001 §9.6.1.3].
    const pv = { acr: [{ acor: [seeker], acop: 34 }, { acor: ['Cipe'], acop: 63 }] };
    assert.equal((await t.client.create('/cse-in/ipe', 1, { 'm2m:acp': { rn: 'share', pv, pvs: { acr: [{ acor: ['Cipe'], acop: 63 }] } } }, 'Cipe')).rsc, 2001);
    // Only an originator that may discover the IPE's AE makes the CSE ask it.
    assert.equal((await t.client.update('/cse-in/ipe', { 'm2m:ae': { acpi: ['cse-in/ipe/share'] } }, 'Cipe')).rsc, 2004);
    // The IPE answers an on-demand discovery by creating what it can offer, then listing it.
    ipe.respond = async (body) => {
      const idr = (body['m2m:sgn'] as Record<string, unknown> | undefined)?.idr as { or?: string; fc?: { lbl?: string[] } } | undefined;
      if (!idr) return undefined;
      if (idr.fc?.lbl?.includes('kind:secret')) return { rsc: 5208 };
      const made = await t.client.create('/cse-in/ipe', 3, { 'm2m:cnt': { rn: 'lamp', lbl: ['kind:lamp'], acpi: ['cse-in/ipe/share'] } }, 'Cipe');
      assert.equal(made.rsc, 2001, made.text);
      await t.client.create('/cse-in/ipe', 3, { 'm2m:cnt': { rn: 'other', lbl: ['kind:other'], acpi: ['cse-in/ipe/share'] } }, 'Cipe');
      return { rsc: 2000, body: { 'm2m:uril': ['cse-in/ipe/lamp', 'cse-in/ipe/other', 'cse-in/seeker'] } };
    };
  });
  after(async () => {
    await ipe.stop();
    await t.close();
  });

  const idrs = () => ipe.received.map((r) => (r.body['m2m:sgn'] as Record<string, unknown> | undefined)?.idr).filter(Boolean) as Array<{ or: string; fc: Record<string, unknown> }>;

  it('asks the IPE when nothing matches, and answers with what it created that matches', async () => {
    assert.deepEqual((await t.client.retrieve('/cse-in/ipe?fu=1&lbl=kind:lamp', seeker)).body?.['m2m:uril'], [], 'fu=1 does not ask');
    assert.equal(idrs().length, 0);
    const reply = await t.client.retrieve('/cse-in/ipe?fu=3&lbl=kind:lamp', seeker);
    assert.equal(reply.rsc, 2000, reply.text);
    assert.deepEqual(reply.body?.['m2m:uril'], ['cse-in/ipe/lamp'], 'only what meets the criteria, and only below the IPE');
    assert.equal(idrs().length, 1);
    assert.equal(idrs()[0]?.or, seeker);
    assert.deepEqual(idrs()[0]?.fc.lbl, ['kind:lamp']);
    assert.equal(idrs()[0]?.fc.fu, 3);
  });

  it('finds it locally the next time, without asking', async () => {
    const reply = await t.client.retrieve('/cse-in/ipe?fu=3&lbl=kind:lamp', seeker);
    assert.deepEqual(reply.body?.['m2m:uril'], ['cse-in/ipe/lamp']);
    assert.equal(idrs().length, 1);
  });

  it("passes the IPE's refusal on", async () => {
    assert.equal((await t.client.retrieve('/cse-in/ipe?fu=3&lbl=kind:secret', seeker)).rsc, 5208);
  });

  it('asks nobody for an originator that may not discover the AE, or for an AE without a point of access', async () => {
    const stranger = await t.client.registerAe('stranger');
    const asked = idrs().length;
    const reply = await t.client.retrieve('/cse-in/ipe?fu=3&lbl=kind:nothing', stranger);
    assert.equal(reply.rsc, 2000, reply.text);
    assert.deepEqual(reply.body?.['m2m:uril'], []);
    assert.equal(idrs().length, asked, 'the IPE was not asked');
    const quiet = await t.client.retrieve('/cse-in/stranger?fu=3&lbl=kind:nothing', stranger);
    assert.equal(quiet.rsc, 2000, 'an AE without a point of access has nothing to offer');
    assert.deepEqual(quiet.body?.['m2m:uril'], []);
  });
});

describe('an IPE that answers too slowly', () => {
  it('is cut off by the outbound deadline, however it trickles', async () => {
    const t = await startTestCse({ 'notifications.timeout': 1 });
    // Headers at once, then one byte every 100 ms: never silent long enough for a socket timeout. After 6 s it
    // would complete with 2000; the CSE must have given up long before.
    const timers = new Set<NodeJS.Timeout>();
    const slow = createServer((_req, res) => {
      res.writeHead(200, { 'X-M2M-RSC': '2000', 'Content-Type': 'application/json' });
      const timer = setInterval(() => res.write(' '), 100);
      timers.add(timer);
      timers.add(setTimeout(() => {
        clearInterval(timer);
        res.end('{"m2m:uril": []}');
      }, 6_000));
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/`;
      await t.client.registerAe('trickle', { rr: true, poa: [url] });
      const reply = await t.client.retrieve('/cse-in/trickle?fu=3&lbl=x', 'Ctrickle');
      assert.equal(reply.rsc, 5103, reply.text);
    } finally {
      for (const timer of timers) clearTimeout(timer);
      slow.closeAllConnections();
      await new Promise<void>((resolve) => slow.close(() => resolve()));
      await t.close();
    }
  });
});
