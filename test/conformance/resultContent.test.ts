import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCse, type TestCse } from '../harness.js';

type Attrs = Record<string, unknown>;

describe('result content (rcn) for CREATE, RETRIEVE, UPDATE, DELETE', () => {
  let t: TestCse;
  let ae: string;
  before(async () => {
    t = await startTestCse();
    ae = await t.client.registerAe('rcn');
    await t.client.create('/cse-in/rcn', 3, { 'm2m:cnt': { rn: 'box' } }, ae);
    await t.client.create('/cse-in/rcn/box', 4, { 'm2m:cin': { rn: 'one', con: '1' } }, ae);
    await t.client.create('/cse-in/rcn/box', 3, { 'm2m:cnt': { rn: 'sub' } }, ae);
  });
  after(() => t.close());

  it('CREATE: 0 nothing, 1 attributes, 2 address, 3 address and attributes, 9 modified', async () => {
    const r0 = await t.client.request('POST', '/cse-in/rcn/box?rcn=0', { origin: ae, ty: 4, body: { 'm2m:cin': { con: 'a' } } });
    assert.equal(r0.rsc, 2001);
    assert.equal(r0.text, '');
    const r2 = await t.client.request('POST', '/cse-in/rcn/box?rcn=2', { origin: ae, ty: 4, body: { 'm2m:cin': { rn: 'two', con: 'b' } } });
    assert.deepEqual(r2.body, { 'm2m:uri': 'cse-in/rcn/box/two' });
    const r3 = await t.client.request('POST', '/cse-in/rcn/box?rcn=3', { origin: ae, ty: 4, body: { 'm2m:cin': { rn: 'three', con: 'c' } } });
    const rce = r3.body?.['m2m:rce'] as Attrs;
    assert.equal(rce.uri, 'cse-in/rcn/box/three');
    assert.equal((rce.cin as Attrs).con, 'c');
    const r9 = await t.client.request('POST', '/cse-in/rcn/box?rcn=9', { origin: ae, ty: 4, body: { 'm2m:cin': { rn: 'nine', con: 'd' } } });
    const modified = r9.body?.['m2m:cin'] as Attrs;
    assert.ok('ri' in modified && 'cs' in modified && 'st' in modified);
    assert.ok(!('con' in modified) && !('rn' in modified), 'attributes stored as sent are not repeated');
  });

  it('answers text outside ASCII with a Content-Length in bytes, in JSON and XML, on one kept-alive connection', async () => {
    // Text bodies go out as strings (one socket write with the head): their length must be counted in UTF-8 bytes,
    // or the next answer on the connection starts inside this one.
    const con = 'température 21.5 °C ✓ 温度';
    await t.client.create('/cse-in/rcn/box', 4, { 'm2m:cin': { rn: 'utf8', con } }, ae);
    for (const accept of ['application/json', 'application/xml']) {
      for (let i = 0; i < 3; i++) {
        const r = await t.client.request('GET', '/cse-in/rcn/box/utf8', { origin: ae, headers: { Accept: accept } });
        assert.equal(r.rsc, 2000);
        assert.equal(r.headers.get('content-length'), String(Buffer.byteLength(r.text, 'utf8')), accept);
        if (accept === 'application/json') assert.equal((r.body?.['m2m:cin'] as Attrs | undefined)?.con, con, r.text);
        else assert.ok(r.text.includes(`<con>${con}</con>`) && r.text.trimEnd().endsWith('</m2m:cin>'), r.text);
      }
    }
  });

  it('CREATE: Content-Location is the URI the Content carries (rcn 2, 3), and absent otherwise', async () => {
    // TS-0009 §6.4.4: "set to the URI of the created resource, if this URI is present in the Content parameter".
    const r2 = await t.client.request('POST', '/cse-in/rcn/box?rcn=2', { origin: ae, ty: 4, body: { 'm2m:cin': { rn: 'loc2', con: 'b' } } });
    assert.equal(r2.headers.get('content-location'), r2.body?.['m2m:uri']);
    assert.equal(r2.headers.get('content-location'), 'cse-in/rcn/box/loc2');
    const r3 = await t.client.request('POST', '/cse-in/rcn/box?rcn=3', { origin: ae, ty: 4, body: { 'm2m:cin': { rn: 'loc3', con: 'c' } } });
    assert.equal(r3.headers.get('content-location'), (r3.body?.['m2m:rce'] as Attrs).uri);
    for (const rcn of [0, 1, 9]) {
      const reply = await t.client.request('POST', `/cse-in/rcn/box?rcn=${rcn}`, { origin: ae, ty: 4, body: { 'm2m:cin': { con: 'd' } } });
      assert.equal(reply.rsc, 2001);
      assert.equal(reply.headers.get('content-location'), null, `rcn=${rcn}`);
    }
  });

  it('CREATE with rcn=0: no Content, so neither a body nor a Content-Type [TS-0004 §7.3.3.12, TS-0009 §6.4.3]', async () => {
    const r0 = await t.client.request('POST', '/cse-in/rcn/box?rcn=0', { origin: ae, ty: 4, body: { 'm2m:cin': { con: 'e' } } });
    assert.equal(r0.status, 201);
    assert.equal(r0.text, '');
    assert.equal(r0.headers.get('content-type'), null);
    assert.equal(r0.headers.get('content-length'), '0');
  });

  it('RETRIEVE: 4 embeds children, 5 and 6 give references, 8 children only', async () => {
    const r4 = await t.client.retrieve('/cse-in/rcn/box?rcn=4', ae);
    const withChildren = r4.body?.['m2m:cnt'] as Attrs;
    assert.equal(withChildren.rn, 'box');
    assert.ok(Array.isArray(withChildren['m2m:cin']) && Array.isArray(withChildren['m2m:cnt']));
    const r5 = await t.client.retrieve('/cse-in/rcn/box?rcn=5', ae);
    const ch = (r5.body?.['m2m:cnt'] as Attrs).ch as Attrs[];
    assert.ok(ch.some((c) => c.nm === 'one' && c.typ === 4 && c.val === 'cse-in/rcn/box/one'));
    const r6 = await t.client.retrieve('/cse-in/rcn/box?rcn=6&drt=2', ae);
    const rrf = (r6.body?.['m2m:rrl'] as Attrs).rrf as Attrs[];
    assert.ok(rrf.length >= 2 && rrf.every((c) => !String(c.val).includes('/')));
    const r8 = await t.client.retrieve('/cse-in/rcn/box?rcn=8', ae);
    const only = r8.body?.['m2m:cnt'] as Attrs;
    assert.ok(!('rn' in only) && Array.isArray(only['m2m:cin']));
  });

  it('UPDATE: 0 nothing, 9 only what the CSE changed', async () => {
    const r0 = await t.client.request('PUT', '/cse-in/rcn/box?rcn=0', { origin: ae, body: { 'm2m:cnt': { lbl: ['a'] } } });
    assert.equal(r0.rsc, 2004);
    assert.equal(r0.text, '');
    const r9 = await t.client.request('PUT', '/cse-in/rcn/box?rcn=9', { origin: ae, body: { 'm2m:cnt': { lbl: ['b'] } } });
    const modified = r9.body?.['m2m:cnt'] as Attrs;
    assert.ok('lt' in modified && 'st' in modified && !('lbl' in modified) && !('rn' in modified), JSON.stringify(modified));
  });

  it('DELETE: 0 by default, 1 returns the deleted resource', async () => {
    await t.client.create('/cse-in/rcn', 3, { 'm2m:cnt': { rn: 'd0' } }, ae);
    const d0 = await t.client.delete('/cse-in/rcn/d0', ae);
    assert.equal(d0.rsc, 2002);
    assert.equal(d0.text, '');
    await t.client.create('/cse-in/rcn', 3, { 'm2m:cnt': { rn: 'd1' } }, ae);
    const d1 = await t.client.delete('/cse-in/rcn/d1?rcn=1', ae);
    assert.equal((d1.body?.['m2m:cnt'] as Attrs).rn, 'd1');
  });

  it('leaves out the children the originator may not RETRIEVE', async () => {
    const reader = await t.client.registerAe('rcnreader');
    // The AE writes through a rule of its own: acpi decides for it too [TS-0001 §9.6.1.3].
    const pv = { acr: [{ acor: [reader], acop: 2 }, { acor: [ae], acop: 63 }] };
    const acp = await t.client.create('/cse-in/rcn', 1, { 'm2m:acp': { rn: 'parentonly', pv, pvs: { acr: [{ acor: [ae], acop: 63 }] } } }, ae);
    const acpRi = String((acp.body?.['m2m:acp'] as Attrs).ri);
    await t.client.create('/cse-in/rcn', 3, { 'm2m:cnt': { rn: 'visible', acpi: [acpRi] } }, ae);
    await t.client.create('/cse-in/rcn/visible', 3, { 'm2m:cnt': { rn: 'secret' } }, ae);
    await t.client.create('/cse-in/rcn/visible', 4, { 'm2m:cin': { rn: 'open', con: 'readable' } }, ae);
    const r4 = await t.client.retrieve('/cse-in/rcn/visible?rcn=4', reader);
    assert.equal(r4.rsc, 2000);
    const body = r4.body?.['m2m:cnt'] as Attrs;
    assert.equal((body['m2m:cin'] as Attrs[]).length, 1, 'the instance follows the container policy');
    assert.equal(body['m2m:cnt'], undefined, 'the child container without a grant is left out');
    const r6 = await t.client.retrieve('/cse-in/rcn/visible?rcn=6', reader);
    const refs = ((r6.body?.['m2m:rrl'] as Attrs).rrf as Attrs[]).map((c) => c.nm);
    assert.deepEqual(refs, ['open']);
    const acpChildren = await t.client.retrieve('/cse-in/rcn?rcn=6', ae);
    assert.ok(((acpChildren.body?.['m2m:rrl'] as Attrs).rrf as Attrs[]).some((c) => c.nm === 'parentonly'), 'the owner sees everything');
  });

  it('refuses rcn values that the operation does not allow with 4000', async () => {
    const refused: Array<[string, string, number]> = [
      ['POST', '/cse-in/rcn/box', 4],
      ['POST', '/cse-in/rcn/box', 5],
      ['GET', '/cse-in/rcn/box', 0],
      ['GET', '/cse-in/rcn/box', 9],
      ['GET', '/cse-in/rcn/box', 2],
      ['PUT', '/cse-in/rcn/box', 4],
      ['PUT', '/cse-in/rcn/box', 2],
      ['DELETE', '/cse-in/rcn/box', 9],
      ['DELETE', '/cse-in/rcn/box', 2],
      ['GET', '/cse-in/rcn/box', 99],
      // permissions (12) concerns a RETRIEVE: with another operation it is invalid for it [TS-0004 §7.3.2.1].
      ['POST', '/cse-in/rcn/box', 12],
      ['PUT', '/cse-in/rcn/box', 12],
      ['DELETE', '/cse-in/rcn/box', 12],
    ];
    for (const [method, path, rcn] of refused) {
      const body = method === 'POST' ? { 'm2m:cin': { con: 'x' } } : method === 'PUT' ? { 'm2m:cnt': { lbl: ['x'] } } : undefined;
      const reply = await t.client.request(method, `${path}?rcn=${rcn}`, { origin: ae, ...(method === 'POST' ? { ty: 4 } : {}), body });
      assert.equal(reply.rsc, 4000, `${method} rcn=${rcn}: ${reply.text}`);
    }
    assert.equal((await t.client.retrieve('/cse-in/rcn/box', ae)).rsc, 2000, 'nothing was deleted by a refused DELETE');
  });
});

describe('result content 4, 5, 6, 8: descendants, filter criteria, level, offset and limit', () => {
  let t: TestCse;
  let ae: string;
  const refs = (body: Attrs | undefined): string[] => (((body?.['m2m:rrl'] as Attrs)?.rrf as Attrs[]) ?? []).map((r) => String(r.nm));
  before(async () => {
    t = await startTestCse();
    ae = await t.client.registerAe('tree');
    const mk = async (path: string, ty: number, body: Attrs) => assert.equal((await t.client.create(path, ty, body, ae)).rsc, 2001);
    await mk('/cse-in/tree', 3, { 'm2m:cnt': { rn: 'a', lbl: ['x'] } });
    await mk('/cse-in/tree/a', 3, { 'm2m:cnt': { rn: 'a1', lbl: ['x'] } });
    await mk('/cse-in/tree/a/a1', 4, { 'm2m:cin': { rn: 'i1', con: '1' } });
    await mk('/cse-in/tree/a', 4, { 'm2m:cin': { rn: 'i0', con: '0' } });
    await mk('/cse-in/tree', 3, { 'm2m:cnt': { rn: 'b', lbl: ['y'] } });
    await mk('/cse-in/tree/b', 4, { 'm2m:cin': { rn: 'j0', con: 'j' } });
  });
  after(() => t.close());

  it('rcn=4 nests every descendant under its parent; lvl limits the depth', async () => {
    const ae4 = (await t.client.retrieve('/cse-in/tree?rcn=4', ae)).body?.['m2m:ae'] as Attrs;
    const [a, b] = ae4['m2m:cnt'] as Attrs[];
    assert.equal(a?.rn, 'a');
    assert.equal(b?.rn, 'b');
    assert.deepEqual(((a?.['m2m:cnt'] as Attrs[])[0]?.['m2m:cin'] as Attrs[]).map((c) => c.rn), ['i1'], 'a grandchild inside its parent');
    assert.deepEqual((a?.['m2m:cin'] as Attrs[]).map((c) => c.rn), ['i0']);
    assert.deepEqual((b?.['m2m:cin'] as Attrs[]).map((c) => c.rn), ['j0']);
    const shallow = (await t.client.retrieve('/cse-in/tree?rcn=4&lvl=1', ae)).body?.['m2m:ae'] as Attrs;
    assert.deepEqual((shallow['m2m:cnt'] as Attrs[]).map((c) => [c.rn, 'm2m:cin' in c]), [['a', false], ['b', false]]);
    const eight = (await t.client.retrieve('/cse-in/tree?rcn=8&lvl=2', ae)).body?.['m2m:ae'] as Attrs;
    assert.equal('ri' in eight, false, 'rcn=8 leaves out the target');
    assert.deepEqual(((eight['m2m:cnt'] as Attrs[])[0]?.['m2m:cnt'] as Attrs[]).map((c) => [c.rn, 'm2m:cin' in c]), [['a1', false]]);
  });

  it('rcn=5 and 6 list every descendant; filter criteria select them instead of testing the target', async () => {
    assert.deepEqual(refs((await t.client.retrieve('/cse-in/tree?rcn=6', ae)).body), ['a', 'a1', 'i1', 'i0', 'b', 'j0']);
    assert.deepEqual(refs((await t.client.retrieve('/cse-in/tree?rcn=6&ty=4', ae)).body), ['i1', 'i0', 'j0']);
    const five = (await t.client.retrieve('/cse-in/tree?rcn=5&lbl=x', ae)).body?.['m2m:ae'] as Attrs;
    assert.deepEqual((five.ch as Attrs[]).map((c) => c.nm), ['a', 'a1']);
    // Nested forms place a match under its nearest ancestor in the answer, or at the top (as ACME).
    const four = (await t.client.retrieve('/cse-in/tree?rcn=4&lbl=x', ae)).body?.['m2m:ae'] as Attrs;
    assert.deepEqual((four['m2m:cnt'] as Attrs[]).map((c) => c.rn), ['a']);
    assert.deepEqual(((four['m2m:cnt'] as Attrs[])[0]?.['m2m:cnt'] as Attrs[]).map((c) => c.rn), ['a1']);
    const instances = (await t.client.retrieve('/cse-in/tree?rcn=8&ty=4', ae)).body?.['m2m:ae'] as Attrs;
    assert.deepEqual((instances['m2m:cin'] as Attrs[]).map((c) => c.rn), ['i1', 'i0', 'j0'], 'instances whose containers are no match: at the top');
    assert.equal('m2m:cnt' in instances, false);
    const none = await t.client.retrieve('/cse-in/tree?rcn=4&lbl=nothing', ae);
    assert.equal(none.rsc, 2000, 'no matching descendant is not a missing target');
    assert.equal('m2m:cnt' in (none.body?.['m2m:ae'] as Attrs), false);
    assert.equal((await t.client.retrieve('/cse-in/tree?rcn=1&lbl=nothing', ae)).rsc, 4004, 'rcn=1: the target must match');
  });

  it('limit and offset page by direct child, with partial content', async () => {
    const first = await t.client.retrieve('/cse-in/tree?rcn=6&lim=2', ae);
    assert.deepEqual(refs(first.body), ['a', 'a1']);
    assert.equal(first.headers.get('x-m2m-cts'), '1');
    assert.equal(first.headers.get('x-m2m-cto'), '2');
    const second = await t.client.retrieve('/cse-in/tree?rcn=6&ofst=2', ae);
    assert.deepEqual(refs(second.body), ['b', 'j0']);
    assert.equal(second.headers.get('x-m2m-cts'), null);
    const whole = await t.client.retrieve('/cse-in/tree?rcn=6&lim=5', ae);
    assert.deepEqual(refs(whole.body), ['a', 'a1', 'i1', 'i0'], 'b does not fit with its subtree: it starts the next page');
    assert.equal(whole.headers.get('x-m2m-cto'), '2');
  });

  it('leaves out descendants the originator may not RETRIEVE', async () => {
    const guest = await t.client.registerAe('guest');
    await t.client.create('/cse-in/tree', 1, { 'm2m:acp': { rn: 'p', pv: { acr: [{ acor: [guest], acop: 2 }] }, pvs: { acr: [{ acor: [ae], acop: 63 }] } } }, ae);
    assert.equal((await t.client.update('/cse-in/tree', { 'm2m:ae': { acpi: ['cse-in/tree/p'] } }, ae)).rsc, 2004);
    assert.equal((await t.client.update('/cse-in/tree/b', { 'm2m:cnt': { acpi: ['cse-in/tree/p'] } }, ae)).rsc, 2004);
    assert.deepEqual(refs((await t.client.retrieve('/cse-in/tree?rcn=6&ty=3+4', guest)).body), ['b', 'j0']);
  });

  it('numbers direct children for offset by what the originator gets: hidden matches move nothing', async () => {
    // A hidden instance matching an OR-ed condition took a number before its subtree's access was decided, so the
    // position of a visible anchor told whether hidden content matched a guess (read out character by character).
    const victim = await t.client.registerAe('vault');
    await t.client.create('/cse-in/vault', 3, { 'm2m:cnt': { rn: 'pins' } }, victim);
    await t.client.create('/cse-in/vault/pins', 4, { 'm2m:cin': { con: 'PIN=8302' } }, victim);
    const attacker = await t.client.registerAe('anchor');
    await t.client.create('/cse-in/anchor', 3, { 'm2m:cnt': { rn: 'anchorX' } }, attacker);
    assert.equal((await t.client.retrieve('/cse-in/vault/pins/la', attacker)).rsc, 4103);
    const answers = [];
    for (const guess of ['PIN=8*', 'PIN=84*']) {
      const paged = await t.client.retrieve(`/cse-in?rcn=6&ofst=2&fo=2&rn=anchorX&con=${encodeURIComponent(guess)}`, attacker);
      assert.equal(paged.rsc, 2000, guess);
      const first = await t.client.retrieve(`/cse-in?rcn=6&lim=1&fo=2&rn=anchorX&con=${encodeURIComponent(guess)}`, attacker);
      answers.push({ paged: refs(paged.body), first: refs(first.body), cto: first.headers.get('x-m2m-cto') });
    }
    assert.deepEqual(answers[0], answers[1], 'a guess that matches hidden content answers as one that does not');
    assert.deepEqual(answers[0]?.paged, [], 'the anchor is the first direct child numbered');
    assert.deepEqual(answers[0]?.first, ['anchorX']);
  });

  it('DELETE with rcn=6 lists what it removed', async () => {
    const reply = await t.client.request('DELETE', '/cse-in/tree/a?rcn=6', { origin: ae });
    assert.equal(reply.rsc, 2002);
    assert.deepEqual(refs(reply.body), ['a1', 'i1', 'i0']);
  });
});
