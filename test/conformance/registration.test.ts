import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCse, type TestCse } from '../harness.js';

describe('AE registration over HTTP', () => {
  let t: TestCse;
  before(async () => {
    t = await startTestCse();
  });
  after(() => t.close());

  it('registers an AE with the AE-ID its originator asks for', async () => {
    const reply = await t.client.create('/cse-in', 2, { 'm2m:ae': { rn: 'lamp', api: 'Nlamp', rr: true, srv: ['3'] } }, 'Clamp');
    assert.equal(reply.status, 201);
    assert.equal(reply.rsc, 2001);
    const ae = reply.body?.['m2m:ae'] as Record<string, unknown>;
    assert.equal(ae.aei, 'Clamp');
    assert.equal(ae.ri, 'Clamp');
    assert.equal(ae.rn, 'lamp');
    assert.equal(ae.pi, 'id-in');
    // The URI goes in Content-Location only when the Content carries it (rcn 2 or 3) [TS-0009 §6.4.4].
    assert.equal(reply.headers.get('content-location'), null);
    assert.match(String(ae.ct), /^\d{8}T\d{6}/);
  });

  it('assigns an AE-ID when the originator is empty or a bare C or S', async () => {
    for (const [origin, prefix] of [
      ['', 'C'],
      ['C', 'C'],
      ['S', 'S'],
    ] as const) {
      const reply = await t.client.create('/cse-in', 2, { 'm2m:ae': { api: 'Nany', rr: false, srv: ['3'] } }, origin);
      assert.equal(reply.rsc, 2001, reply.text);
      const aei = String((reply.body?.['m2m:ae'] as Record<string, unknown>).aei);
      assert.ok(aei.startsWith(prefix) && aei.length > 8, aei);
    }
  });

  it('the AE created with a bare C belongs to its new AE-ID, not to whoever sends C', async () => {
    const reply = await t.client.create('/cse-in', 2, { 'm2m:ae': { rn: 'anon', api: 'Nanon', rr: false, srv: ['3'] } }, 'C');
    const aei = String((reply.body?.['m2m:ae'] as Record<string, unknown>).aei);
    assert.equal((await t.client.retrieve('/cse-in/anon', aei)).rsc, 2000);
    const hijack = await t.client.delete('/cse-in/anon', 'C');
    assert.equal(hijack.rsc, 4000, hijack.text);
    assert.equal((await t.client.retrieve('/cse-in/anon', aei)).rsc, 2000);
  });

  it('an unregistered AE-ID may not act, and a CSE-ID needs a security association', async () => {
    const unregistered = await t.client.retrieve('/cse-in', 'Cghost');
    assert.equal(unregistered.rsc, 4106);
    assert.equal(unregistered.status, 403);
    assert.equal((await t.client.retrieve('/cse-in', '/id-other')).rsc, 4107);
    const sp = await t.client.retrieve('/cse-in/lamp', '/id-in/Clamp');
    assert.equal(sp.rsc, 2000, 'the SP-relative form of a registered AE is that AE');
  });

  it('refuses a second registration of the same AE-ID with 4117', async () => {
    await t.client.registerAe('twice');
    const again = await t.client.create('/cse-in', 2, { 'm2m:ae': { rn: 'twice2', api: 'Ntwice', rr: false, srv: ['3'] } }, 'Ctwice');
    assert.equal(again.rsc, 4117);
    assert.match(String(again.body?.['m2m:dbg']), /already registered/);
  });

  it('refuses an originator that is not an AE-ID-Stem with 4000', async () => {
    const reply = await t.client.create('/cse-in', 2, { 'm2m:ae': { api: 'Nx', rr: false, srv: ['3'] } }, 'admin');
    assert.equal(reply.rsc, 4000);
  });

  it('requires api and rr, and checks the App-ID format', async () => {
    const noApi = await t.client.create('/cse-in', 2, { 'm2m:ae': { rr: false, srv: ['3'] } }, 'Cnoapi');
    assert.equal(noApi.rsc, 4000);
    assert.match(String(noApi.body?.['m2m:dbg']), /'api'/);
    const noRr = await t.client.create('/cse-in', 2, { 'm2m:ae': { api: 'Nx', srv: ['3'] } }, 'Cnorr');
    assert.equal(noRr.rsc, 4000);
    assert.match(String(noRr.body?.['m2m:dbg']), /'rr'/);
    const badApi = await t.client.create('/cse-in', 2, { 'm2m:ae': { api: 'Xbad', rr: false, srv: ['3'] } }, 'Cbadapi');
    assert.equal(badApi.rsc, 4000);
  });

  it('requires srv from Release 3 originators but not from Release 2a ones', async () => {
    const r3 = await t.client.create('/cse-in', 2, { 'm2m:ae': { api: 'Nx', rr: false } }, 'Cnosrv3');
    assert.equal(r3.rsc, 4000);
    const r2a = await t.client.create('/cse-in', 2, { 'm2m:ae': { api: 'Nx', rr: false } }, 'Cnosrv2', { rvi: '2a' });
    assert.equal(r2a.rsc, 2001, r2a.text);
  });

  it('refuses an AE anywhere but under the CSEBase with 4108', async () => {
    const owner = await t.client.registerAe('parentae');
    const reply = await t.client.create('/cse-in/parentae', 2, { 'm2m:ae': { api: 'Nx', rr: false, srv: ['3'] } }, owner);
    assert.equal(reply.rsc, 4108);
  });

  it('deregistration deletes the AE and its whole subtree', async () => {
    const aei = await t.client.registerAe('gone');
    assert.equal((await t.client.create('/cse-in/gone', 3, { 'm2m:cnt': { rn: 'c' } }, aei)).rsc, 2001);
    assert.equal((await t.client.create('/cse-in/gone/c', 4, { 'm2m:cin': { con: 'x' } }, aei)).rsc, 2001);
    const del = await t.client.delete('/cse-in/gone', aei);
    assert.equal(del.rsc, 2002);
    assert.equal((await t.client.retrieve('/cse-in/gone/c', 'CAdmin')).rsc, 4004);
    assert.equal((await t.client.retrieve('/cse-in/gone', 'CAdmin')).rsc, 4004);
    // the AE-ID is free again
    assert.equal((await t.client.create('/cse-in', 2, { 'm2m:ae': { rn: 'gone', api: 'Ngone', rr: false, srv: ['3'] } }, aei)).rsc, 2001);
  });

  it("what an AE made outside its own subtree stays its registration's: the next holder of the AE-ID gets nothing by the default policy", async () => {
    // A shared container anyone may create in.
    const acp = await t.client.create('/cse-in', 1, { 'm2m:acp': { rn: 'openShelf', pv: { acr: [{ acor: ['all'], acop: 1 }] }, pvs: { acr: [{ acor: ['CAdmin'], acop: 63 }] } } }, 'CAdmin');
    assert.equal(acp.rsc, 2001, acp.text);
    assert.equal((await t.client.create('/cse-in', 3, { 'm2m:cnt': { rn: 'shelf', acpi: ['cse-in/openShelf'] } }, 'CAdmin')).rsc, 2001);
    const first = await t.client.registerAe('leaver');
    assert.equal((await t.client.create('/cse-in/shelf', 3, { 'm2m:cnt': { rn: 'left' } }, first)).rsc, 2001);
    assert.equal((await t.client.create('/cse-in/shelf/left', 4, { 'm2m:cin': { con: 'secret' } }, first)).rsc, 2001);
    assert.equal((await t.client.retrieve('/cse-in/shelf/left/la', first)).rsc, 2000, 'its creator, while registered');
    // Decided inside another request's transaction too (a group checks that its creator may read its members).
    const left = String(((await t.client.retrieve('/cse-in/shelf/left', first)).body?.['m2m:cnt'] as Record<string, unknown>).ri);
    const group = await t.client.create('/cse-in/leaver', 9, { 'm2m:grp': { rn: 'g', mt: 3, mnm: 4, mid: [left] } }, first);
    assert.equal(group.rsc, 2001, group.text);
    assert.equal((await t.client.delete('/cse-in/leaver', first)).rsc, 2002);
    assert.equal(await t.client.registerAe('leaver'), first);
    for (const path of ['/cse-in/shelf/left', '/cse-in/shelf/left/la']) assert.equal((await t.client.retrieve(path, first)).rsc, 4103, path);
    assert.equal((await t.client.delete('/cse-in/shelf/left', first)).rsc, 4103);
    // What the newcomer makes there is its own.
    assert.equal((await t.client.create('/cse-in/shelf', 3, { 'm2m:cnt': { rn: 'mine' } }, first)).rsc, 2001);
    assert.equal((await t.client.retrieve('/cse-in/shelf/mine', first)).rsc, 2000);
  });
});
