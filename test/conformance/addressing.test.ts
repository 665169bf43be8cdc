import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCse, type TestCse } from '../harness.js';

type Attrs = Record<string, unknown>;

describe('addressing forms over HTTP', () => {
  let t: TestCse;
  let ae: string;
  let cntRi: string;
  before(async () => {
    t = await startTestCse({ 'cse.spid': 'example.org' });
    ae = await t.client.registerAe('addr');
    const created = await t.client.create('/cse-in/addr', 3, { 'm2m:cnt': { rn: 'box' } }, ae);
    cntRi = String((created.body?.['m2m:cnt'] as Attrs).ri);
  });
  after(() => t.close());

  it('reaches one resource through all six forms', async () => {
    const paths = [
      '/cse-in/addr/box',
      `/${cntRi}`,
      '/~/id-in/cse-in/addr/box',
      `/~/id-in/${cntRi}`,
      '/_/example.org/id-in/cse-in/addr/box',
      `/_/example.org/id-in/${cntRi}`,
      '/-/addr/box',
      '/~/id-in/-/addr/box',
    ];
    for (const path of paths) {
      const reply = await t.client.retrieve(path, ae);
      assert.equal(reply.rsc, 2000, `${path}: ${reply.text}`);
      assert.equal((reply.body?.['m2m:cnt'] as Attrs).ri, cntRi);
    }
  });

  it('retrieves the CSEBase in each form', async () => {
    for (const path of ['/cse-in', '/~/id-in/cse-in', '/_/example.org/id-in/cse-in', '/~/id-in/id-in', '/id-in', '/-']) {
      const reply = await t.client.retrieve(path, 'CAdmin');
      assert.equal(reply.rsc, 2000, path);
      const cb = reply.body?.['m2m:cb'] as Attrs;
      assert.equal(cb.csi, '/id-in');
      assert.equal(cb.cst, 1);
      assert.equal(cb.spi, 'example.org');
    }
  });

  it('refuses a CSE-ID alone, SP-relative or absolute, with 4000: it names the CSE, not a resource', async () => {
    // An SP-relative-Resource-ID is {SP-relative-CSE-ID}/{CSE-relative-Resource-ID} [TS-0001 table 7.2-1].
    for (const path of ['/~/id-in', '/_/example.org/id-in']) {
      const reply = await t.client.retrieve(path, 'CAdmin');
      assert.equal(reply.rsc, 4000, `${path}: ${reply.text}`);
      assert.match(String(reply.body?.['m2m:dbg']), /CSE-ID, not a resource/);
    }
  });

  it('answers a target on another CSE with 4004 on an IN-CSE (no <remoteCSE> matches), 5103 elsewhere', async () => {
    // TS-0004 §7.3.2.6: an IN-CSE that finds no matching <remoteCSE> answers NOT_FOUND.
    const remote = await t.client.retrieve('/~/id-other/cse-x', ae);
    assert.equal(remote.rsc, 4004, remote.text);
    const otherSp = await t.client.retrieve('/_/other.org/id-in/cse-in', ae);
    assert.equal(otherSp.rsc, 4004, otherSp.text);
    // A middle node would retarget to its registrar, which Warden has none of: unreachable.
    const mn = await startTestCse({ 'cse.type': 'MN' });
    try {
      const mnAe = await mn.client.registerAe('mnaddr');
      assert.equal((await mn.client.retrieve('/~/id-other/cse-x', mnAe)).rsc, 5103);
    } finally {
      await mn.close();
    }
    const missing = await t.client.retrieve('/cse-in/addr/nothing', ae);
    assert.equal(missing.rsc, 4004);
    assert.equal(missing.status, 404);
    assert.match(String(missing.body?.['m2m:dbg']), /does not exist/);
  });

  it('refuses traversal and malformed paths with 4000', async () => {
    // fetch() resolves %2E%2E itself, so traversal is tested with a raw request in badInput.test.ts.
    for (const path of ['/cse-in//addr', '/cse-in/addr/%00', '/cse-in/a%zz', '/cse-in/ad%20dr']) {
      const reply = await t.client.retrieve(path, ae);
      assert.equal(reply.rsc, 4000, `${path}: ${reply.text}`);
      assert.ok(typeof reply.body?.['m2m:dbg'] === 'string');
    }
  });
});
