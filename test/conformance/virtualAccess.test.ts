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
    // macp decides for the group's own AE too [TS-0001 §9.6.1.3]: it fans out once macp names it.
    assert.equal((await t.client.retrieve('/cse-in/gowner/g/fopt?fu=1', owner)).rsc, 4103);
    const named = await t.client.update('/cse-in/gowner/fan', { 'm2m:acp': { pv: { acr: [{ acor: [nosy, owner], acop: 32 }] } } }, owner);
    assert.equal(named.rsc, 2004, named.text);
    const own = await t.client.retrieve('/cse-in/gowner/g/fopt?fu=1', owner);
    assert.equal(own.rsc, 2000, own.text);
  });
});

// Child and parent conditions of discovery (clbl, catr, chty, palb, patr, pty) are met only through a child or
// parent the originator may DISCOVER (issue #20, finding 12).
describe('child and parent conditions see only what the originator may discover', () => {
  let t: TestCse;
  let holder: string;
  let seeker: string;
  let boxPath: string;
  const discover = async (query: string): Promise<string[]> => {
    const reply = await t.client.retrieve(`/cse-in/holder?fu=1&${query}`, seeker);
    assert.equal(reply.rsc, 2000, `${query}: ${reply.text}`);
    return (reply.body?.['m2m:uril'] as string[]).slice().sort();
  };
  before(async () => {
    t = await startTestCse();
    holder = await t.client.registerAe('holder');
    seeker = await t.client.registerAe('seeker');
    // The holder keeps every privilege through a rule of its own: acpi decides for the AE too [TS-0001 §9.6.1.3].
    const pv = { acr: [{ acor: [seeker], acop: 32 }, { acor: [holder], acop: 63 }] };
    const acp = await t.client.create('/cse-in/holder', 1, { 'm2m:acp': { rn: 'find', pv, pvs: { acr: [{ acor: [holder], acop: 63 }] } } }, holder);
    const acpRi = String((acp.body?.['m2m:acp'] as Attrs).ri);
    // box: discoverable; its child 'secret' is not (no acpi: its creator only).
    assert.equal((await t.client.create('/cse-in/holder', 3, { 'm2m:cnt': { rn: 'box', acpi: [acpRi] } }, holder)).rsc, 2001);
    assert.equal((await t.client.create('/cse-in/holder/box', 3, { 'm2m:cnt': { rn: 'secret', lbl: ['pin:1234'], mni: 7 } }, holder)).rsc, 2001);
    // hidden: not discoverable; its child 'shown' is.
    assert.equal((await t.client.create('/cse-in/holder', 3, { 'm2m:cnt': { rn: 'hidden', lbl: ['room:42'], mni: 5 } }, holder)).rsc, 2001);
    assert.equal((await t.client.create('/cse-in/holder/hidden', 3, { 'm2m:cnt': { rn: 'shown', acpi: [acpRi] } }, holder)).rsc, 2001);
    boxPath = 'cse-in/holder/box';
  });
  after(() => t.close());

  it('a right guess about a hidden child answers exactly like a wrong one', async () => {
    const pairs: Array<[string, string]> = [
      ['clbl=pin:1234', 'clbl=pin:0000'],
      ['c.mni=7', 'c.mni=8'],
      ['chty=3', 'chty=23'],
      ['clbl=pin:1234&lbl=nothing&fo=2', 'clbl=pin:0000&lbl=nothing&fo=2'],
      ['clbl=pin:1234&lbl=nothing&fo=3', 'clbl=pin:0000&lbl=nothing&fo=3'],
    ];
    for (const [right, wrong] of pairs) {
      const answer = await discover(right);
      assert.deepEqual(answer, await discover(wrong), `${right} vs ${wrong}`);
      assert.ok(!answer.includes(boxPath), `${right}: the hidden child does not make box meet it`);
    }
  });

  it('a right guess about a hidden parent answers exactly like a wrong one', async () => {
    for (const [right, wrong] of [
      ['palb=room:42', 'palb=room:43'],
      ['p.mni=5', 'p.mni=6'],
      ['palb=room:42&lbl=nothing&fo=2', 'palb=room:43&lbl=nothing&fo=2'],
    ]) {
      const answer = await discover(right as string);
      assert.deepEqual(answer, await discover(wrong as string), `${right} vs ${wrong}`);
      assert.deepEqual(answer, []);
    }
  });

  it('a child or parent the originator may discover still meets the conditions', async () => {
    const acp = await t.client.retrieve('/cse-in/holder/find', holder);
    const acpRi = String((acp.body?.['m2m:acp'] as Attrs).ri);
    assert.equal((await t.client.create('/cse-in/holder/box', 3, { 'm2m:cnt': { rn: 'open', lbl: ['pin:1234'], acpi: [acpRi] } }, holder)).rsc, 2001);
    assert.deepEqual(await discover('clbl=pin:1234'), [boxPath]);
    assert.deepEqual(await discover('clbl=pin:1234&lbl=nothing&fo=2'), [boxPath]);
    assert.deepEqual(await discover('pty=3&ty=3'), ['cse-in/holder/box/open'], 'box is the parent of open, and discoverable');
    // The owner sees through its own resources as before.
    const own = await t.client.retrieve('/cse-in/holder?fu=1&palb=room:42', holder);
    assert.deepEqual(own.body?.['m2m:uril'], ['cse-in/holder/hidden/shown']);
  });
});
