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
    const acp = await t.client.create('/cse-in/rcn', 1, { 'm2m:acp': { rn: 'parentonly', pv: { acr: [{ acor: [reader], acop: 2 }] }, pvs: { acr: [{ acor: [ae], acop: 63 }] } } }, ae);
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
    ];
    for (const [method, path, rcn] of refused) {
      const body = method === 'POST' ? { 'm2m:cin': { con: 'x' } } : method === 'PUT' ? { 'm2m:cnt': { lbl: ['x'] } } : undefined;
      const reply = await t.client.request(method, `${path}?rcn=${rcn}`, { origin: ae, ...(method === 'POST' ? { ty: 4 } : {}), body });
      assert.equal(reply.rsc, 4000, `${method} rcn=${rcn}: ${reply.text}`);
    }
    assert.equal((await t.client.retrieve('/cse-in/rcn/box', ae)).rsc, 2000, 'nothing was deleted by a refused DELETE');
  });
});
