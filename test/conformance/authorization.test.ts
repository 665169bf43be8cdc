import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCse, type TestCse } from '../harness.js';

type Attrs = Record<string, unknown>;

describe('authorization basics over HTTP', () => {
  let t: TestCse;
  let owner: string;
  let other: string;
  before(async () => {
    t = await startTestCse();
    owner = await t.client.registerAe('owner');
    other = await t.client.registerAe('other');
    await t.client.create('/cse-in/owner', 3, { 'm2m:cnt': { rn: 'data' } }, owner);
    await t.client.create('/cse-in/owner/data', 4, { 'm2m:cin': { rn: 'v1', con: '1' } }, owner);
  });
  after(() => t.close());

  it('the owner AE has full access to its own subtree', async () => {
    assert.equal((await t.client.retrieve('/cse-in/owner/data', owner)).rsc, 2000);
    assert.equal((await t.client.update('/cse-in/owner/data', { 'm2m:cnt': { lbl: ['mine'] } }, owner)).rsc, 2004);
    assert.equal((await t.client.retrieve('/cse-in/owner/data/la', owner)).rsc, 2000);
  });

  it('another AE is denied every operation without a policy (4103)', async () => {
    const denied = [
      await t.client.retrieve('/cse-in/owner/data', other),
      await t.client.retrieve('/cse-in/owner/data/la', other),
      await t.client.retrieve('/cse-in/owner/data/v1', other),
      await t.client.update('/cse-in/owner/data', { 'm2m:cnt': { lbl: ['x'] } }, other),
      await t.client.create('/cse-in/owner/data', 4, { 'm2m:cin': { con: 'intruder' } }, other),
      await t.client.delete('/cse-in/owner/data', other),
      await t.client.retrieve('/cse-in/owner', other),
    ];
    for (const reply of denied) {
      assert.equal(reply.rsc, 4103, reply.text);
      assert.equal(reply.status, 403);
      assert.doesNotMatch(reply.text, /acor|acop|pvs/, 'a denial reveals no policy contents');
    }
    assert.equal((await t.client.retrieve('/cse-in/owner/data', owner)).rsc, 2000, 'the denied DELETE removed nothing');
  });

  it('an unregistered originator is not authenticated; a registered AE may read the CSEBase, nothing more', async () => {
    assert.equal((await t.client.retrieve('/cse-in', 'Cstranger')).rsc, 4106);
    assert.equal((await t.client.retrieve('/cse-in/owner/data', 'Cstranger')).rsc, 4106);
    const cb = await t.client.retrieve('/cse-in', other);
    assert.equal(cb.rsc, 2000);
    assert.equal((cb.body?.['m2m:cb'] as Attrs).csi, '/id-in');
    assert.equal((await t.client.retrieve('/cse-in?rcn=4', other)).body?.['m2m:cb'] && 'ok', 'ok');
    const children = ((await t.client.retrieve('/cse-in?rcn=6', other)).body?.['m2m:rrl'] as Attrs).rrf as Attrs[];
    assert.ok(children.every((c) => c.nm === 'other'), 'only the children it may read are listed');
    assert.equal((await t.client.retrieve('/cse-in/owner/data', 'CAdmin')).rsc, 2000);
    assert.equal((await t.client.create('/cse-in', 3, { 'm2m:cnt': { rn: 'top' } }, other)).rsc, 4103);
    assert.equal((await t.client.create('/cse-in', 3, { 'm2m:cnt': { rn: 'top' } }, 'CAdmin')).rsc, 2001);
  });

  it('another AE is allowed what a linked policy grants, and only that', async () => {
    const acp = await t.client.create(
      '/cse-in/owner',
      1,
      {
        'm2m:acp': {
          rn: 'readers',
          pv: { acr: [{ acor: [other], acop: 2 }] },
          pvs: { acr: [{ acor: [owner], acop: 63 }] },
        },
      },
      owner,
    );
    assert.equal(acp.rsc, 2001, acp.text);
    const acpRi = String((acp.body?.['m2m:acp'] as Attrs).ri);
    const linked = await t.client.update('/cse-in/owner/data', { 'm2m:cnt': { acpi: [acpRi] } }, owner);
    assert.equal(linked.rsc, 2004, linked.text);
    assert.equal((await t.client.retrieve('/cse-in/owner/data', other)).rsc, 2000);
    assert.equal((await t.client.retrieve('/cse-in/owner/data/la', other)).rsc, 2000, 'instances follow their container');
    assert.equal((await t.client.update('/cse-in/owner/data', { 'm2m:cnt': { lbl: ['x'] } }, other)).rsc, 4103);
    assert.equal((await t.client.create('/cse-in/owner/data', 4, { 'm2m:cin': { con: 'x' } }, other)).rsc, 4103);
    assert.equal((await t.client.delete('/cse-in/owner/data', other)).rsc, 4103);
    const third = await t.client.registerAe('third');
    assert.equal((await t.client.retrieve('/cse-in/owner/data', third)).rsc, 4103);
  });

  it('a policy is governed by its own selfPrivileges', async () => {
    const outsider = await t.client.retrieve('/cse-in/owner/readers', other);
    assert.equal(outsider.rsc, 4103);
    const byOwner = await t.client.retrieve('/cse-in/owner/readers', owner);
    assert.equal(byOwner.rsc, 2000);
  });

  it('revoking the grant takes effect at once', async () => {
    const updated = await t.client.update('/cse-in/owner/readers', { 'm2m:acp': { pv: { acr: [] } } }, owner);
    assert.equal(updated.rsc, 2004, updated.text);
    assert.equal((await t.client.retrieve('/cse-in/owner/data', other)).rsc, 4103);
  });

  it('a malformed policy is refused with 4000 naming the element, and empty selfPrivileges too', async () => {
    const bad = await t.client.create('/cse-in/owner', 1, { 'm2m:acp': { pv: { acr: [{ acor: [other], acop: 64 }] }, pvs: { acr: [{ acor: [owner], acop: 63 }] } } }, owner);
    assert.equal(bad.rsc, 4000);
    assert.match(String(bad.body?.['m2m:dbg']), /pv\.acr\[0\]\.acop/);
    const empty = await t.client.create('/cse-in/owner', 1, { 'm2m:acp': { pv: { acr: [] }, pvs: { acr: [] } } }, owner);
    assert.equal(empty.rsc, 4000);
    assert.match(String(empty.body?.['m2m:dbg']), /pvs/);
  });
});
