// <locationPolicy> [TS-0001 §9.6.10, §10.2.9], device-based: the container it creates, and the geofence events the
// CSE makes of the positions a device reports into it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCse, type TestCse } from '../harness.js';

type Attrs = Record<string, unknown>;
const LCP = 10;
const lcpOf = (reply: { body: Attrs | undefined }): Attrs => reply.body?.['m2m:lcp'] as Attrs;

// A square fence; corners as ACME's suite writes them (the ring left open).
const area = { type: 'Polygon', coordinates: [[[0, 0], [0, 10], [10, 10], [10, 0]]] };
const inside = { type: 'Point', coordinates: [5, 5] };
const inside2 = { type: 'Point', coordinates: [6, 4] };
const outside = { type: 'Point', coordinates: [20, 5] };

describe('<locationPolicy>', () => {
  let t: TestCse;
  let ae: string;
  before(async () => {
    t = await startTestCse();
    ae = await t.client.registerAe('tracker');
  });
  after(() => t.close());

  const create = (lcp: Attrs) => t.client.create('/cse-in/tracker', LCP, { 'm2m:lcp': lcp }, ae);
  const report = async (container: string, con: unknown): Promise<unknown> => {
    assert.equal((await t.client.create(`/cse-in/tracker/${container}`, 4, { 'm2m:cin': { con } }, ae)).rsc, 2001);
    return ((await t.client.retrieve(`/cse-in/tracker/${container}/la`, ae)).body?.['m2m:cin'] as Attrs).con;
  };

  it('creates its container beside it, linked both ways, and removes it with itself', async () => {
    const created = await create({ rn: 'where', los: 2, lon: 'positions' });
    assert.equal(created.rsc, 2001, created.text);
    const lcp = lcpOf(created);
    assert.equal(lcp.lost, '');
    const container = (await t.client.retrieve('/cse-in/tracker/positions', ae)).body?.['m2m:cnt'] as Attrs;
    assert.equal(lcp.loi, container.ri);
    assert.equal(container.li, lcp.ri);
    assert.equal((await t.client.create('/cse-in/tracker', LCP, { 'm2m:lcp': { los: 2, lon: 'positions' } }, ae)).rsc, 4105, 'the name is taken');
    assert.equal((await t.client.delete('/cse-in/tracker/where', ae)).rsc, 2002);
    assert.equal((await t.client.retrieve('/cse-in/tracker/positions', ae)).rsc, 4004);
    // Without a name the CSE names it.
    const unnamed = lcpOf(await create({ rn: 'anon', los: 2 }));
    assert.equal((await t.client.retrieve(`/${String(unnamed.loi)}`, ae)).rsc, 2000);
    assert.equal((await t.client.delete('/cse-in/tracker/anon', ae)).rsc, 2002);
    assert.equal((await t.client.retrieve(`/${String(unnamed.loi)}`, ae)).rsc, 4004);
  });

  it('refuses what a device-based source cannot have, and the sources it does not provide', async () => {
    assert.equal((await create({ lou: ['PT5S'] })).rsc, 4000, 'locationSource is mandatory');
    for (const extra of [{ lot: '1234' }, { aid: 'app' }, { lor: 'http://127.0.0.1:1/ls' }, { rlkl: true }, { luec: 0 }]) {
      assert.equal((await create({ los: 2, ...extra })).rsc, 4000, JSON.stringify(extra));
    }
    assert.equal((await create({ los: 1, lot: '1234' })).rsc, 5001, 'network-based');
    assert.equal((await create({ los: 3 })).rsc, 5001, 'sharing-based');
    for (const gta of ['wrong', { type: 'Polygon', coordinates: [[[0, 0], [1, 1]]] }, { type: 'Point', coordinates: [1, 1] }]) {
      assert.equal((await create({ los: 2, gta })).rsc, 4000, JSON.stringify(gta));
    }
    assert.equal((await create({ los: 2, lou: ['soon'] })).rsc, 4000);
    assert.equal((await create({ los: 2, lon: 'a/b' })).rsc, 4000);
    const containers = (await t.client.retrieve('/cse-in/tracker?fu=1&ty=3', ae)).body?.['m2m:uril'] as string[] | undefined;
    assert.deepEqual(containers ?? [], [], 'no refused policy left a container behind');
  });

  it('gives one creator at most 16 policies with an active locationUpdatePeriod (the admin excepted)', async () => {
    const busy = await t.client.registerAe('periodic');
    const make = (rn: string, lou: string[] | undefined, originator = busy) => t.client.create('/cse-in/periodic', LCP, { 'm2m:lcp': { rn, los: 2, ...(lou ? { lou } : {}) } }, originator);
    for (let i = 0; i < 16; i++) assert.equal((await make(`p${i}`, ['PT1S'])).rsc, 2001);
    const seventeenth = await make('p16', ['PT1S']);
    assert.equal(seventeenth.rsc, 5207, seventeenth.text);
    assert.match(String(seventeenth.body?.['m2m:dbg']), /16 location policies with a locationUpdatePeriod/);
    // No period, or a zero one, runs nothing: not counted, and not refused.
    assert.equal((await make('none', undefined)).rsc, 2001);
    assert.equal((await make('zero', ['PT0S'])).rsc, 2001);
    assert.equal((await make('byAdmin', ['PT1S'], 'CAdmin')).rsc, 2001);
    // An UPDATE that gives a policy a period counts like a CREATE; one that changes the period of a counted one does not.
    const update = (rn: string, lou: string[] | null) => t.client.update(`/cse-in/periodic/${rn}`, { 'm2m:lcp': { lou } }, busy);
    const updated = await update('none', ['PT2S']);
    assert.equal(updated.rsc, 5207, updated.text);
    assert.equal((await update('p0', ['PT5S'])).rsc, 2004);
    assert.equal((await update('p1', null)).rsc, 2004, 'removing the period gives its place back');
    assert.equal((await update('none', ['PT2S'])).rsc, 2004);
    assert.equal((await update('zero', ['PT3S'])).rsc, 5207);
    assert.equal((await t.client.delete('/cse-in/periodic/p2', busy)).rsc, 2002);
    assert.equal((await update('zero', ['PT3S'])).rsc, 2004, 'a place comes back when a policy goes');
    const stored = (await t.client.retrieve('/cse-in/periodic/zero', busy)).body?.['m2m:lcp'] as Attrs;
    assert.deepEqual(Object.keys(stored).filter((k) => k.startsWith('__')), [], 'the mark is internal');
  });

  it('stores the geofence event geofenceEventCriteria asks for as the next instance (leaving)', async () => {
    assert.equal((await create({ rn: 'fence', los: 2, lit: 2, lon: 'leaving', gta: area, gec: 2 })).rsc, 2001);
    assert.deepEqual(await report('leaving', inside), inside, 'inside before, inside now: no leaving');
    assert.equal(await report('leaving', outside), 2, 'leaving');
    assert.deepEqual(await report('leaving', outside), outside, 'outside, still: no second leaving');
    assert.deepEqual(await report('leaving', inside), inside, 'entering is not asked for');
    assert.equal(await report('leaving', outside), 2);
    const cnt = (await t.client.retrieve('/cse-in/tracker/leaving', ae)).body?.['m2m:cnt'] as Attrs;
    assert.equal(cnt.cni, 7, 'five reports and two events');
    assert.equal((await t.client.delete('/cse-in/tracker/fence', ae)).rsc, 2002);
  });

  it('reports entering, inside and outside as asked; position fixes and other content make no event', async () => {
    assert.equal((await create({ rn: 'enter', los: 2, lit: 2, lon: 'entering', gta: JSON.stringify(area), gec: 1 })).rsc, 2001);
    assert.deepEqual(await report('entering', outside), outside);
    assert.equal(await report('entering', JSON.stringify(inside)), 1, 'entering (a report as GeoJSON text)');
    assert.equal((await create({ rn: 'stay', los: 2, lit: 2, lon: 'staying', gta: area, gec: 3 })).rsc, 2001);
    assert.equal(await report('staying', inside), 3, 'inside from the start (the default position)');
    assert.equal(await report('staying', inside2), 3);
    assert.deepEqual(await report('staying', outside), outside);
    assert.equal(await report('staying', 'not a location'), 'not a location');
    assert.equal((await create({ rn: 'away', los: 2, lit: 2, lon: 'awayPositions', gta: area, gec: 4 })).rsc, 2001);
    assert.deepEqual(await report('awayPositions', outside), outside, 'the first report leaves the default inside: leaving, not asked');
    assert.equal(await report('awayPositions', outside), 4, 'outside');
    // Position fix (lit 1): the locations are stored, no event is made.
    assert.equal((await create({ rn: 'fix', los: 2, lit: 1, lon: 'fixes', gta: area, gec: 4 })).rsc, 2001);
    assert.deepEqual(await report('fixes', outside), outside);
    assert.deepEqual(await report('fixes', outside), outside);
    for (const rn of ['enter', 'stay', 'away', 'fix']) assert.equal((await t.client.delete(`/cse-in/tracker/${rn}`, ae)).rsc, 2002);
  });

  it('starts from the default position again when the fence changes', async () => {
    assert.equal((await create({ rn: 'moved', los: 2, lit: 2, lon: 'movedPositions', gta: area, gec: 1 })).rsc, 2001);
    assert.deepEqual(await report('movedPositions', outside), outside);
    const moved = { type: 'Polygon', coordinates: [[[15, 0], [15, 10], [25, 10], [25, 0], [15, 0]]] };
    assert.equal((await t.client.update('/cse-in/tracker/moved', { 'm2m:lcp': { gta: moved } }, ae)).rsc, 2004);
    assert.deepEqual(await report('movedPositions', outside), outside, 'inside the new fence, and inside was the default: no entering');
    assert.equal((await t.client.update('/cse-in/tracker/moved', { 'm2m:lcp': { los: 1 } }, ae)).rsc, 4000, 'locationSource is not updatable');
    assert.equal((await t.client.update('/cse-in/tracker/moved', { 'm2m:lcp': { lot: 'x' } }, ae)).rsc, 4000);
    assert.equal((await t.client.delete('/cse-in/tracker/moved', ae)).rsc, 2002);
  });
});
