// Groups: member validation, fan-out through fopt with aggregated responses, macp; and partial retrieve.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCse, type TestCse } from '../harness.js';
import { Receiver, waitFor } from '../receiver.js';

type Attrs = Record<string, unknown>;

describe('groups and fan-out', () => {
  let t: TestCse;
  let ae: string;
  const ri: Record<string, string> = {};
  before(async () => {
    t = await startTestCse();
    ae = await t.client.registerAe('grouper');
    for (const rn of ['a', 'b']) {
      const reply = await t.client.create('/cse-in/grouper', 3, { 'm2m:cnt': { rn, lbl: [rn] } }, ae);
      ri[rn] = String((reply.body?.['m2m:cnt'] as Attrs).ri);
    }
    const cin = await t.client.create('/cse-in/grouper/a', 4, { 'm2m:cin': { con: 'x' } }, ae);
    ri.cin = String((cin.body?.['m2m:cin'] as Attrs).ri);
  });
  after(() => t.close());

  it('validates members against memberType under the consistency strategy', async () => {
    const abandon = await t.client.create('/cse-in/grouper', 9, { 'm2m:grp': { rn: 'g1', mt: 3, mnm: 10, mid: [ri.a, ri.b, ri.cin, 'cntnothere'] } }, ae);
    assert.equal(abandon.rsc, 2001, abandon.text);
    const g1 = abandon.body?.['m2m:grp'] as Attrs;
    assert.deepEqual(g1.mid, [ri.a, ri.b], 'a member of another type and a missing one are dropped');
    assert.equal(g1.cnm, 2);
    assert.equal(g1.mtv, true);
    const strict = await t.client.create('/cse-in/grouper', 9, { 'm2m:grp': { mt: 3, mnm: 10, csy: 2, mid: [ri.a, ri.cin] } }, ae);
    assert.equal(strict.rsc, 4110);
    const mixed = await t.client.create('/cse-in/grouper', 9, { 'm2m:grp': { mt: 3, mnm: 10, csy: 3, mid: [ri.a, ri.cin] } }, ae);
    assert.equal((mixed.body?.['m2m:grp'] as Attrs).mt, 0);
    const tooMany = await t.client.create('/cse-in/grouper', 9, { 'm2m:grp': { mnm: 1, mid: [ri.a, ri.b] } }, ae);
    assert.equal(tooMany.rsc, 6010);
  });

  it('fans RETRIEVE and CREATE out to every member and aggregates the answers', async () => {
    const read = await t.client.retrieve('/cse-in/grouper/g1/fopt', ae);
    assert.equal(read.rsc, 2000);
    const rsp = (read.body?.['m2m:agr'] as Attrs)['m2m:rsp'] as Attrs[];
    assert.deepEqual(rsp.map((r) => r.fr).sort(), [ri.a, ri.b].sort());
    assert.ok(rsp.every((r) => r.rsc === 2000 && (r.pc as Attrs)['m2m:cnt']));
    const created = await t.client.create('/cse-in/grouper/g1/fopt', 4, { 'm2m:cin': { con: 'to all' } }, ae);
    assert.equal(created.rsc, 2000);
    assert.ok(((created.body?.['m2m:agr'] as Attrs)['m2m:rsp'] as Attrs[]).every((r) => r.rsc === 2001));
    const latest = await t.client.retrieve('/cse-in/grouper/g1/fopt/la', ae);
    const cons = ((latest.body?.['m2m:agr'] as Attrs)['m2m:rsp'] as Attrs[]).map((r) => ((r.pc as Attrs)['m2m:cin'] as Attrs).con);
    assert.deepEqual(cons, ['to all', 'to all']);
  });

  it('decides fan-out by macp, and each member by its own policies', async () => {
    const other = await t.client.registerAe('member-reader');
    const acp = await t.client.create('/cse-in/grouper', 1, { 'm2m:acp': { rn: 'fanout', pv: { acr: [{ acor: [other], acop: 2 }] }, pvs: { acr: [{ acor: [ae], acop: 63 }] } } }, ae);
    const acpRi = String((acp.body?.['m2m:acp'] as Attrs).ri);
    assert.equal((await t.client.retrieve('/cse-in/grouper/g1/fopt', other)).rsc, 4103, 'no macp: the group acpi (none) decides');
    assert.equal((await t.client.update('/cse-in/grouper/g1', { 'm2m:grp': { macp: [acpRi] } }, ae)).rsc, 2004);
    const reply = await t.client.retrieve('/cse-in/grouper/g1/fopt', other);
    assert.equal(reply.rsc, 2000);
    const rsp = (reply.body?.['m2m:agr'] as Attrs)['m2m:rsp'] as Attrs[];
    assert.ok(rsp.every((r) => r.rsc === 4103), 'members still refuse an originator their own policies do not name');
    assert.equal((await t.client.retrieve('/cse-in/grouper/g1', other)).rsc, 4103, 'macp governs fan-out only');
  });

  it('a repeated group request identifier is refused with 4104, and members deleted through fopt leave the group', async () => {
    const first = await t.client.retrieve('/cse-in/grouper/g1', ae, { headers: { 'X-M2M-GID': 'gid-1' } });
    assert.equal(first.rsc, 2000);
    const again = await t.client.retrieve('/cse-in/grouper/g1', ae, { headers: { 'X-M2M-GID': 'gid-1' } });
    assert.equal(again.rsc, 4104);
    assert.equal(again.status, 409);
    for (const rn of ['x1', 'x2']) await t.client.create('/cse-in/grouper', 3, { 'm2m:cnt': { rn } }, ae);
    const members = await Promise.all(['x1', 'x2'].map(async (rn) => String(((await t.client.retrieve(`/cse-in/grouper/${rn}`, ae)).body?.['m2m:cnt'] as Attrs).ri)));
    await t.client.create('/cse-in/grouper', 9, { 'm2m:grp': { rn: 'doomed', mnm: 5, mid: members } }, ae);
    const deleted = await t.client.delete('/cse-in/grouper/doomed/fopt', ae);
    assert.equal(deleted.rsc, 2000);
    assert.ok(((deleted.body?.['m2m:agr'] as Attrs)['m2m:rsp'] as Attrs[]).every((r) => r.rsc === 2002));
    const group = (await t.client.retrieve('/cse-in/grouper/doomed', ae)).body?.['m2m:grp'] as Attrs;
    assert.deepEqual(group.mid, []);
    assert.equal(group.cnm, 0);
  });

  it('an operation execution time delays the operation; one after the request expiry is 4000', async () => {
    const before = Date.now();
    const reply = await t.client.create('/cse-in/grouper', 3, { 'm2m:cnt': { rn: 'later' } }, ae, { headers: { 'X-M2M-OET': '300' } });
    assert.equal(reply.rsc, 2001);
    const created = Date.parse(String((reply.body?.['m2m:cnt'] as Attrs).ct).replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2}),(\d{3}).*$/, '$1-$2-$3T$4:$5:$6.$7Z'));
    assert.ok(created >= before + 299, 'not carried out before its execution time');
    const late = await t.client.create('/cse-in/grouper', 3, { 'm2m:cnt': { rn: 'never' } }, ae, { headers: { 'X-M2M-OET': '5000', 'X-M2M-RET': '1000' } });
    // Deadlines that contradict each other are 4000, as ACME answers (TS-0004 names no code; see checkPrimitive).
    assert.equal(late.rsc, 4000);
    assert.equal((await t.client.create('/cse-in/grouper', 3, { 'm2m:cnt': { rn: 'far' } }, ae, { headers: { 'X-M2M-OET': '999999' } })).rsc, 4000);
  });

  it('a subscription through fopt becomes a group subscription whose notifications the group aggregates for nfu', async () => {
    const rx = await new Receiver().start();
    const forward = await new Receiver().start();
    try {
      for (const rn of ['s1', 's2']) await t.client.create('/cse-in/grouper', 3, { 'm2m:cnt': { rn } }, ae);
      const ids = await Promise.all(['s1', 's2'].map(async (rn) => String(((await t.client.retrieve(`/cse-in/grouper/${rn}`, ae)).body?.['m2m:cnt'] as Attrs).ri)));
      const grp = await t.client.create('/cse-in/grouper', 9, { 'm2m:grp': { rn: 'sensors', mt: 3, mnm: 5, mid: ids, nar: { num: 2, dur: 5000 } } }, ae);
      const grpRi = String((grp.body?.['m2m:grp'] as Attrs).ri);
      const sub = await t.client.create('/cse-in/grouper/sensors/fopt', 23, { 'm2m:sub': { rn: 'watch', nu: [rx.url], nfu: forward.url, enc: { net: [3] } } }, ae);
      assert.equal(sub.rsc, 2000, sub.text);
      const rsp = (sub.body?.['m2m:agr'] as Attrs)['m2m:rsp'] as Attrs[];
      assert.ok(rsp.every((r) => r.rsc === 2001 && ((r.pc as Attrs)['m2m:sub'] as Attrs).gpi === `/id-in/${grpRi}`));
      for (const rn of ['s1', 's2']) await t.client.create(`/cse-in/grouper/${rn}`, 4, { 'm2m:cin': { con: rn } }, ae);
      await waitFor(() => forward.notifications().length === 1);
      const agn = forward.notifications()[0]?.['m2m:agn'] as Attrs;
      assert.equal((agn['m2m:sgn'] as Attrs[]).length, 2, 'one aggregated notification for both members');
      assert.equal(rx.notifications().length, 0, 'nothing goes to nu directly');
    } finally {
      await rx.stop();
      await forward.stop();
    }
  });

  it('a path after fopt reaches the child of each member, members listed by resource ID included', async () => {
    for (const rn of ['p1', 'p2']) await t.client.create('/cse-in/grouper', 3, { 'm2m:cnt': { rn } }, ae);
    const ids = await Promise.all(['p1', 'p2'].map(async (rn) => String(((await t.client.retrieve(`/cse-in/grouper/${rn}`, ae)).body?.['m2m:cnt'] as Attrs).ri)));
    assert.equal((await t.client.create('/cse-in/grouper', 9, { 'm2m:grp': { rn: 'parents', mnm: 5, mid: ids } }, ae)).rsc, 2001);
    assert.equal((await t.client.create('/cse-in/grouper/parents/fopt', 3, { 'm2m:cnt': { rn: 'inner' } }, ae)).rsc, 2000);
    const read = await t.client.retrieve('/cse-in/grouper/parents/fopt/inner', ae);
    assert.equal(read.rsc, 2000);
    const rsp = (read.body?.['m2m:agr'] as Attrs)['m2m:rsp'] as Attrs[];
    assert.deepEqual(rsp.map((r) => [r.rsc, ((r.pc as Attrs)['m2m:cnt'] as Attrs).rn]), [[2000, 'inner'], [2000, 'inner']]);
  });

  it('a member deleted on its own leaves the group, and currentNrOfMembers follows', async () => {
    for (const rn of ['m1', 'm2', 'm3']) await t.client.create('/cse-in/grouper', 3, { 'm2m:cnt': { rn } }, ae);
    const ids = await Promise.all(['m1', 'm2', 'm3'].map(async (rn) => String(((await t.client.retrieve(`/cse-in/grouper/${rn}`, ae)).body?.['m2m:cnt'] as Attrs).ri)));
    assert.equal((await t.client.create('/cse-in/grouper', 9, { 'm2m:grp': { rn: 'shrinking', mnm: 5, mid: [ids[0], `/id-in/${String(ids[1])}`, ids[2]] } }, ae)).rsc, 2001);
    assert.equal((await t.client.delete('/cse-in/grouper/m1', ae)).rsc, 2002);
    assert.equal((await t.client.delete('/cse-in/grouper/m2', ae)).rsc, 2002);
    const group = (await t.client.retrieve('/cse-in/grouper/shrinking', ae)).body?.['m2m:grp'] as Attrs;
    assert.deepEqual(group.mid, [ids[2]]);
    assert.equal(group.cnm, 1);
  });

  it('an empty group answers 4109', async () => {
    await t.client.create('/cse-in/grouper', 9, { 'm2m:grp': { rn: 'empty', mnm: 5, mid: [] } }, ae);
    assert.equal((await t.client.retrieve('/cse-in/grouper/empty/fopt', ae)).rsc, 4109);
  });

  it('partial retrieve returns the listed attributes only', async () => {
    const reply = await t.client.retrieve('/cse-in/grouper/a?atrl=rn+lbl', ae);
    assert.deepEqual(reply.body?.['m2m:cnt'], { rn: 'a', lbl: ['a'] });
    assert.deepEqual((await t.client.retrieve('/cse-in/grouper/a?atrl=mni', ae)).body?.['m2m:cnt'], {}, 'defined but absent');
    assert.equal((await t.client.retrieve('/cse-in/grouper/a?atrl=bogus', ae)).rsc, 4000);
    assert.equal((await t.client.retrieve('/cse-in/grouper/a?atrl=rn&rcn=4', ae)).rsc, 4000);
  });
});
