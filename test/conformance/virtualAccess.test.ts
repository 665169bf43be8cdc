// Virtual resources (pcu, fopt, la, ol) are authorized as the operation they perform, whatever the
// filterUsage: only a real discovery skips the check on its target (issue #20, finding 1).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCse, type TestCse } from '../harness.js';

type Attrs = Record<string, unknown>;

describe('fu=1 on virtual resources', () => {
  let t: TestCse;
  let victim: string;
  let nosy: string;
  before(async () => {
    t = await startTestCse();
    victim = await t.client.registerAe('victim', { rr: false });
    nosy = await t.client.registerAe('nosy');
    assert.equal((await t.client.create('/cse-in/victim', 15, { 'm2m:pch': { rn: 'pch' } }, victim)).rsc, 2001);
    await t.client.create('/cse-in/victim', 3, { 'm2m:cnt': { rn: 'c' } }, victim);
    assert.equal((await t.client.create('/cse-in/victim/c', 23, { 'm2m:sub': { nu: [victim], enc: { net: [3] } } }, victim)).rsc, 2001);
  });
  after(() => t.close());

  it("another AE or an unregistered originator cannot poll an AE's polling channel with fu=1, and the notification stays queued", async () => {
    await t.client.create('/cse-in/victim/c', 4, { 'm2m:cin': { con: 'secret' } }, victim);
    for (const attacker of [nosy, 'stranger', '']) {
      for (const query of ['fu=1', 'fu=3', 'fu=1&rcn=6']) {
        const reply = await t.client.retrieve(`/cse-in/victim/pch/pcu?${query}`, attacker, { headers: { 'X-M2M-RET': '200' } });
        assert.ok([4103, 4106, 4000].includes(reply.rsc), `${attacker || '(none)'} ${query}: ${reply.rsc} ${reply.text}`);
        assert.ok(!reply.text.includes('secret'), 'nothing of the notification is shown');
      }
    }
    const polled = await t.client.retrieve('/cse-in/victim/pch/pcu', victim, { headers: { 'X-M2M-RET': '2000' } });
    assert.equal(polled.rsc, 2000, polled.text);
    const rqp = polled.body?.['m2m:rqp'] as Attrs;
    const rep = (((rqp.pc as Attrs)['m2m:sgn'] as Attrs).nev as Attrs).rep as Attrs;
    assert.equal((rep['m2m:cin'] as Attrs).con, 'secret', 'the victim still receives its notification');
  });

  it('the owner itself gets 4000 for a discovery on pcu, and nothing is dequeued', async () => {
    await t.client.create('/cse-in/victim/c', 4, { 'm2m:cin': { con: 'second' } }, victim);
    const reply = await t.client.retrieve('/cse-in/victim/pch/pcu?fu=1', victim, { headers: { 'X-M2M-RET': '200' } });
    assert.equal(reply.rsc, 4000, reply.text);
    const polled = await t.client.retrieve('/cse-in/victim/pch/pcu', victim, { headers: { 'X-M2M-RET': '2000' } });
    assert.equal(polled.rsc, 2000, polled.text);
  });

  it('la and ol with fu=1 are authorized as a RETRIEVE of the container', async () => {
    for (const virtual of ['la', 'ol']) {
      const reply = await t.client.retrieve(`/cse-in/victim/c/${virtual}?fu=1`, nosy);
      assert.equal(reply.rsc, 4103, `${virtual}: ${reply.text}`);
      assert.equal((await t.client.retrieve(`/cse-in/victim/c/${virtual}?fu=1`, 'stranger')).rsc, 4103);
    }
    // A real discovery below the container is still answered: with nothing the originator may discover.
    const discovery = await t.client.retrieve('/cse-in/victim/c?fu=1', nosy);
    assert.equal(discovery.rsc, 2000);
    assert.deepEqual(discovery.body?.['m2m:uril'], []);
  });

  it('fopt with fu=1 needs the privilege of macp (or the group acpi): a non-member without it is refused', async () => {
    const owner = await t.client.registerAe('gowner');
    await t.client.create('/cse-in/gowner', 3, { 'm2m:cnt': { rn: 'm1', lbl: ['x'] } }, owner);
    const m1 = await t.client.retrieve('/cse-in/gowner/m1', owner);
    const ri = String((m1.body?.['m2m:cnt'] as Attrs).ri);
    assert.equal((await t.client.create('/cse-in/gowner', 9, { 'm2m:grp': { rn: 'g', mnm: 5, mid: [ri] } }, owner)).rsc, 2001);
    for (const attacker of [nosy, 'stranger']) {
      const reply = await t.client.retrieve('/cse-in/gowner/g/fopt?fu=1', attacker);
      assert.equal(reply.rsc, 4103, `${attacker}: ${reply.text}`);
      assert.ok(!reply.text.includes(ri), 'the members are not listed');
    }
    // With DISCOVERY in macp the fan-out runs, and each member answers the discovery by its own policies.
    const acp = await t.client.create('/cse-in/gowner', 1, { 'm2m:acp': { rn: 'fan', pv: { acr: [{ acor: [nosy], acop: 32 }] }, pvs: { acr: [{ acor: [owner], acop: 63 }] } } }, owner);
    const acpRi = String((acp.body?.['m2m:acp'] as Attrs).ri);
    assert.equal((await t.client.update('/cse-in/gowner/g', { 'm2m:grp': { macp: [acpRi] } }, owner)).rsc, 2004);
    const allowed = await t.client.retrieve('/cse-in/gowner/g/fopt?fu=1', nosy);
    assert.equal(allowed.rsc, 2000, allowed.text);
    const rsp = (allowed.body?.['m2m:agr'] as Attrs)['m2m:rsp'] as Attrs[];
    assert.equal(rsp.length, 1);
    // The owner fans its own discovery out.
    const own = await t.client.retrieve('/cse-in/gowner/g/fopt?fu=1', owner);
    assert.equal(own.rsc, 2000, own.text);
  });
});
