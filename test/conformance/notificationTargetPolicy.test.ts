// Notification target policies [TS-0001 §9.6.31-9.6.34, §10.2.10.8]: <notificationTargetPolicy>,
// <policyDeletionRules>, <notificationTargetMgmtPolicyRef>, and a Notification Target removing itself through a
// subscription's notificationTargetSelfReference (ntsr), decided by the policy that applies to it.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { ChildProcess } from 'node:child_process';
import { ManualClock, spawnWarden, startTestCse, stopWarden, type TestCse } from '../harness.js';
import { Receiver, waitFor } from '../receiver.js';
import { createTestDatabase, type TestDatabase } from '../postgres.js';

type Attrs = Record<string, unknown>;
const NTP = 26;
const PDR = 27;
const NTPR = 25;
const body = (reply: { body: Attrs | undefined }, name: string): Attrs => reply.body?.[name] as Attrs;

describe('notification target policies', () => {
  let t: TestCse;
  let clock: ManualClock;
  let creatorRx: Receiver;
  let targetRx: Receiver;
  let sub = 0;

  before(async () => {
    // 12:00:00 UTC: the time-of-day rules below are written against it.
    clock = new ManualClock(Date.UTC(2026, 10, 25, 12, 0, 0));
    t = await startTestCse({}, { clock });
    creatorRx = await new Receiver().start();
    targetRx = await new Receiver().start();
    await t.client.registerAe('owner', { rr: true, poa: [creatorRx.url] });
    await t.client.registerAe('target', { rr: true, poa: [targetRx.url] });
    await t.client.registerAe('other', { rr: true, poa: [targetRx.url] });
  });
  after(async () => {
    await creatorRx.stop();
    await targetRx.stop();
    await t.close();
  });
  beforeEach(() => {
    creatorRx.behaviour = 'ok';
    creatorRx.received.length = 0;
  });

  /** A subscription of Cowner's notifying Ctarget and Cother; its path. */
  async function subscription(): Promise<string> {
    const rn = `s${++sub}`;
    const reply = await t.client.create('/cse-in/owner', 23, { 'm2m:sub': { rn, nu: ['Ctarget', 'Cother'] } }, 'Cowner');
    assert.equal(reply.rsc, 2001, reply.text);
    return `/cse-in/owner/${rn}`;
  }
  const targetsOf = async (path: string): Promise<unknown> => body(await t.client.retrieve(path, 'Cowner'), 'm2m:sub').nu;

  async function policy(rn: string, attrs: Attrs, origin = 'Cowner'): Promise<string> {
    const reply = await t.client.create('/cse-in', NTP, { 'm2m:ntp': { rn, ...attrs } }, origin);
    assert.equal(reply.rsc, 2001, reply.text);
    return String(body(reply, 'm2m:ntp').ri);
  }

  describe('<notificationTargetPolicy>', () => {
    it('is created by a subscription originator under the CSEBase, unique per creator and label', async () => {
      const created = await t.client.create('/cse-in', NTP, { 'm2m:ntp': { rn: 'mine', acn: 1, plbl: 'quiet', cr: null } }, 'Cowner');
      assert.equal(created.rsc, 2001, created.text);
      const ntp = body(created, 'm2m:ntp');
      assert.equal(ntp.cr, 'Cowner');
      assert.equal(ntp.rrs, 1, 'rulesRelationship written out as AND (as ACME)');
      assert.equal(ntp.ty, NTP);
      assert.equal((await t.client.retrieve('/cse-in/mine', 'Cowner')).rsc, 2000);
      // Its creator's alone: nobody else reads or removes it.
      assert.equal((await t.client.retrieve('/cse-in/mine', 'Cother')).rsc, 4103);
      assert.equal((await t.client.delete('/cse-in/mine', 'Cother')).rsc, 4103);
      const updated = await t.client.update('/cse-in/mine', { 'm2m:ntp': { lbl: ['a'] } }, 'Cowner');
      assert.equal(updated.rsc, 2004, updated.text);
      assert.equal((await t.client.update('/cse-in/mine', { 'm2m:ntp': { acn: 2 } }, 'Cowner')).rsc, 4000, 'action is not updatable');
      // One label per creator; another creator may use it.
      assert.equal((await t.client.create('/cse-in', NTP, { 'm2m:ntp': { rn: 'twin', acn: 2, plbl: 'quiet' } }, 'Cowner')).rsc, 4000);
      assert.equal((await t.client.create('/cse-in', NTP, { 'm2m:ntp': { rn: 'loud', acn: 2, plbl: 'loud' } }, 'Cowner')).rsc, 2001);
      assert.equal((await t.client.update('/cse-in/loud', { 'm2m:ntp': { plbl: 'quiet' } }, 'Cowner')).rsc, 4000);
      assert.equal((await t.client.create('/cse-in', NTP, { 'm2m:ntp': { rn: 'theirs', acn: 2, plbl: 'quiet' } }, 'Cother')).rsc, 2001);
      // Mandatory attributes and values.
      assert.equal((await t.client.create('/cse-in', NTP, { 'm2m:ntp': { plbl: 'x' } }, 'Cowner')).rsc, 4000);
      assert.equal((await t.client.create('/cse-in', NTP, { 'm2m:ntp': { acn: 9, plbl: 'y' } }, 'Cowner')).rsc, 4000);
      for (const rn of ['mine', 'loud']) assert.equal((await t.client.delete(`/cse-in/${rn}`, 'Cowner')).rsc, 2002);
      assert.equal((await t.client.delete('/cse-in/theirs', 'Cother')).rsc, 2002);
    });

    it('opens the CSEBase to registered AEs for this type only', async () => {
      assert.equal((await t.client.create('/cse-in', 3, { 'm2m:cnt': { rn: 'nope' } }, 'Cowner')).rsc, 4103);
    });

    it('keeps the system default: the admin cannot delete it nor give its own policies a creator', async () => {
      const system = await t.client.retrieve('/cse-in/defaultNTP', 'CAdmin');
      assert.equal(system.rsc, 2000);
      assert.equal(body(system, 'm2m:ntp').plbl, 'Default');
      assert.equal(body(system, 'm2m:ntp').acn, 2, 'reject unless notifications.defaultTargetPolicy says otherwise');
      assert.equal((await t.client.delete('/cse-in/defaultNTP', 'CAdmin')).rsc, 4000);
      assert.equal((await t.client.create('/cse-in', NTP, { 'm2m:ntp': { acn: 1, plbl: 'x', cr: null } }, 'CAdmin')).rsc, 4000);
    });
  });

  describe('<policyDeletionRules>', () => {
    it('allows two groups under a policy, then CONFLICT; checks its crontabs; refuses location rules', async () => {
      await policy('rules', { acn: 1, plbl: 'rules' });
      const tod = { 'm2m:pdr': { rn: 'first', dr: { tod: ['* * 12 * * * *'] }, drr: 2 } };
      assert.equal((await t.client.create('/cse-in/rules', PDR, tod, 'Cowner')).rsc, 2001);
      assert.equal((await t.client.create('/cse-in/rules', PDR, { 'm2m:pdr': { rn: 'second' } }, 'Cowner')).rsc, 2001);
      assert.equal((await t.client.create('/cse-in/rules', PDR, { 'm2m:pdr': {} }, 'Cowner')).rsc, 4105);
      assert.equal((await t.client.delete('/cse-in/rules/second', 'Cowner')).rsc, 2002);
      assert.equal((await t.client.create('/cse-in/rules', PDR, { 'm2m:pdr': { dr: { tod: ['* * 25 * * * *'] } } }, 'Cowner')).rsc, 4000, 'hour 25');
      assert.equal((await t.client.create('/cse-in/rules', PDR, { 'm2m:pdr': { dr: { tod: ['tomorrow'] } } }, 'Cowner')).rsc, 4000);
      assert.equal((await t.client.create('/cse-in/rules', PDR, { 'm2m:pdr': { dr: { when: [] } } }, 'Cowner')).rsc, 4000);
      const located = { 'm2m:pdr': { dr: { lr: [{ cnty: 'DE' }] } } };
      assert.equal((await t.client.create('/cse-in/rules', PDR, located, 'Cowner')).rsc, 5001);
      assert.equal((await t.client.update('/cse-in/rules/first', { 'm2m:pdr': { drr: 1 } }, 'Cowner')).rsc, 2004);
      assert.equal((await t.client.update('/cse-in/rules/first', { 'm2m:pdr': { dr: { tod: [] } } }, 'Cowner')).rsc, 4000, 'deletionRules are not updatable');
      assert.equal((await t.client.delete('/cse-in/rules', 'Cowner')).rsc, 2002);
    });
  });

  describe('<notificationTargetMgmtPolicyRef>', () => {
    it('refuses a target another reference of the subscription already names (CONFLICT), on CREATE and UPDATE', async () => {
      const path = await subscription();
      assert.equal((await t.client.create(path, NTPR, { 'm2m:ntpr': { rn: 'a', ntu: ['Ctarget'] } }, 'Cowner')).rsc, 2001);
      assert.equal((await t.client.create(path, NTPR, { 'm2m:ntpr': { rn: 'b', ntu: ['Cother', 'Ctarget'] } }, 'Cowner')).rsc, 4105);
      assert.equal((await t.client.create(path, NTPR, { 'm2m:ntpr': { rn: 'b', ntu: ['Cother'] } }, 'Cowner')).rsc, 2001);
      assert.equal((await t.client.update(`${path}/b`, { 'm2m:ntpr': { ntu: ['Ctarget'] } }, 'Cowner')).rsc, 4105);
      assert.equal((await t.client.update(`${path}/a`, { 'm2m:ntpr': { ntu: ['Ctarget', 'Cthird'] } }, 'Cowner')).rsc, 2004);
      assert.equal((await t.client.create(path, NTPR, { 'm2m:ntpr': { ntu: [] } }, 'Cowner')).rsc, 4000);
      assert.equal((await t.client.delete(path, 'Cowner')).rsc, 2002);
    });
  });

  describe('a Notification Target removing itself (ntsr)', () => {
    it('allows only DELETE, and only to a target of the subscription', async () => {
      const path = await subscription();
      assert.equal((await t.client.retrieve(`${path}/ntsr`, 'Ctarget')).rsc, 4005);
      assert.equal((await t.client.update(`${path}/ntsr`, { 'm2m:ntsr': {} }, 'Ctarget')).rsc, 4005);
      // The subscription's creator (and the admin) are no Notification Target of it.
      assert.equal((await t.client.delete(`${path}/ntsr`, 'Cowner')).rsc, 4103);
      assert.equal((await t.client.delete(`${path}/ntsr`, 'CAdmin')).rsc, 4103);
      assert.deepEqual(await targetsOf(path), ['Ctarget', 'Cother']);
      assert.equal((await t.client.create('/cse-in/owner', 3, { 'm2m:cnt': { rn: 'ntsr' } }, 'Cowner')).rsc, 4000, 'the name is reserved');
    });

    it("is refused by the system default (reject): the subscription's targets stay", async () => {
      const path = await subscription();
      assert.equal((await t.client.delete(`${path}/ntsr`, 'Ctarget')).rsc, 4103);
      assert.deepEqual(await targetsOf(path), ['Ctarget', 'Cother']);
    });

    it("follows the subscription creator's Default policy (accept): only the requester is removed", async () => {
      const path = await subscription();
      await policy('ownDefault', { acn: 1, plbl: 'Default' });
      const removed = await t.client.delete(`${path}/ntsr`, 'Ctarget');
      assert.equal(removed.rsc, 2002, removed.text);
      assert.equal(removed.text, '', 'the target is not shown the subscription');
      assert.deepEqual(await targetsOf(path), ['Cother']);
      // Removed once: no longer a target, so no longer allowed to ask.
      assert.equal((await t.client.delete(`${path}/ntsr`, 'Ctarget')).rsc, 4103);
      assert.equal((await t.client.delete('/cse-in/ownDefault', 'Cowner')).rsc, 2002);
    });

    it('follows the policy a notificationTargetMgmtPolicyRef names for the target, else the defaults', async () => {
      const path = await subscription();
      const accept = await policy('byRef', { acn: 1, plbl: 'byRef' });
      assert.equal((await t.client.create(path, NTPR, { 'm2m:ntpr': { rn: 'r', ntu: ['Cother'], npi: accept } }, 'Cowner')).rsc, 2001);
      // Ctarget is named by no reference: the system default (reject).
      assert.equal((await t.client.delete(`${path}/ntsr`, 'Ctarget')).rsc, 4103);
      assert.equal((await t.client.delete(`${path}/ntsr`, 'Cother')).rsc, 2002);
      assert.deepEqual(await targetsOf(path), ['Ctarget']);
      // A reference to no policy falls back to the default.
      const second = await subscription();
      assert.equal((await t.client.create(second, NTPR, { 'm2m:ntpr': { ntu: ['Ctarget'], npi: 'missing' } }, 'Cowner')).rsc, 2001);
      assert.equal((await t.client.delete(`${second}/ntsr`, 'Ctarget')).rsc, 4103);
      assert.equal((await t.client.delete('/cse-in/byRef', 'Cowner')).rsc, 2002);
    });

    it('applies the action only while the policyDeletionRules hold (time of day, AND / OR)', async () => {
      const path = await subscription();
      await policy('timed', { acn: 1, plbl: 'Default', rrs: 1 });
      // 12:xx only: holds at 12:00, not at 13:00.
      assert.equal((await t.client.create('/cse-in/timed', PDR, { 'm2m:pdr': { rn: 'noon', dr: { tod: ['* * 12 * * * *'] } } }, 'Cowner')).rsc, 2001);
      clock.set(Date.UTC(2026, 10, 25, 13, 0, 0));
      assert.equal((await t.client.delete(`${path}/ntsr`, 'Ctarget')).rsc, 4103);
      assert.deepEqual(await targetsOf(path), ['Ctarget', 'Cother']);
      // Two groups, AND: the second (13:xx AND any time) holds, the first does not.
      const both = { 'm2m:pdr': { rn: 'one', dr: { tod: ['* * 13 * * * *', '* * * * * * *'] }, drr: 1 } };
      assert.equal((await t.client.create('/cse-in/timed', PDR, both, 'Cowner')).rsc, 2001);
      assert.equal((await t.client.delete(`${path}/ntsr`, 'Ctarget')).rsc, 4103);
      // Either group suffices (OR): removed.
      assert.equal((await t.client.update('/cse-in/timed', { 'm2m:ntp': { rrs: 2 } }, 'Cowner')).rsc, 2004);
      assert.equal((await t.client.delete(`${path}/ntsr`, 'Ctarget')).rsc, 2002);
      assert.deepEqual(await targetsOf(path), ['Cother']);
      clock.set(Date.UTC(2026, 10, 25, 12, 0, 0));
      assert.equal((await t.client.delete('/cse-in/timed', 'Cowner')).rsc, 2002);
    });

    it("seeks the creator's authorization: removed when it allows, kept when it refuses", async () => {
      const path = await subscription();
      await policy('ask', { acn: 3, plbl: 'Default' });
      const allowed = await t.client.delete(`${path}/ntsr`, 'Ctarget');
      assert.equal(allowed.rsc, 2002, allowed.text);
      const asked = creatorRx.notifications().map((n) => n['m2m:sgn'] as Attrs);
      const ri = String(body(await t.client.retrieve(path, 'Cowner'), 'm2m:sub').ri);
      assert.deepEqual(asked, [{ sur: `/id-in/${ri}`, ntt: 'Ctarget', tra: true }]);
      assert.deepEqual(await targetsOf(path), ['Cother']);
      creatorRx.behaviour = 'refuse';
      assert.equal((await t.client.delete(`${path}/ntsr`, 'Cother')).rsc, 4103);
      assert.deepEqual(await targetsOf(path), ['Cother']);
      assert.equal((await t.client.delete('/cse-in/ask', 'Cowner')).rsc, 2002);
    });

    it('informs the creator and leaves the target in place (inform)', async () => {
      const path = await subscription();
      await policy('tell', { acn: 4, plbl: 'Default' });
      assert.equal((await t.client.delete(`${path}/ntsr`, 'Ctarget')).rsc, 4103);
      await waitFor(() => creatorRx.notifications().length > 0);
      const told = creatorRx.notifications()[0]?.['m2m:sgn'] as Attrs;
      assert.equal(told.trr, true);
      assert.equal(told.ntt, 'Ctarget');
      assert.deepEqual(await targetsOf(path), ['Ctarget', 'Cother']);
      assert.equal((await t.client.delete('/cse-in/tell', 'Cowner')).rsc, 2002);
    });
  });

  it('lets a target of a crossResourceSubscription remove itself the same way', async () => {
    const source = await t.client.create('/cse-in/owner', 3, { 'm2m:cnt': { rn: 'crsSource' } }, 'Cowner');
    assert.equal(source.rsc, 2001, source.text);
    const crs = { rn: 'crs', nu: ['Ctarget', 'Cother'], twt: 1, tws: 'PT10S', rrat: [String(body(source, 'm2m:cnt').ri)], encs: { enc: [{ net: [3] }] } };
    const created = await t.client.create('/cse-in/owner', 48, { 'm2m:crs': crs }, 'Cowner');
    assert.equal(created.rsc, 2001, created.text);
    assert.equal((await t.client.delete('/cse-in/owner/crs/ntsr', 'Ctarget')).rsc, 4103, 'the system default rejects');
    await policy('crsDefault', { acn: 1, plbl: 'Default' });
    assert.equal((await t.client.delete('/cse-in/owner/crs/ntsr', 'Cowner')).rsc, 4103, 'the creator is no target');
    assert.equal((await t.client.delete('/cse-in/owner/crs/ntsr', 'Ctarget')).rsc, 2002);
    assert.deepEqual(body(await t.client.retrieve('/cse-in/owner/crs', 'Cowner'), 'm2m:crs').nu, ['Cother']);
    assert.equal((await t.client.delete('/cse-in/crsDefault', 'Cowner')).rsc, 2002);
    assert.equal((await t.client.delete('/cse-in/owner/crs', 'Cowner')).rsc, 2002);
  });

  describe("a Notification Target asking for its removal in a Notify response ('targetRemoval', TS-0001 §10.2.10.6)", () => {
    let leaving: Receiver;
    let staying: Receiver;
    let n = 0;
    /** Answers notifications (not verifications) with an m2m:notification whose targetRemovalRequest is true. */
    const asksToLeave = (rx: Receiver): void => {
      rx.respond = (b) => Promise.resolve((b['m2m:sgn'] as Attrs | undefined)?.vrq === true ? undefined : { rsc: 2000, body: { 'm2m:sgn': { trr: true } } });
    };
    before(async () => {
      leaving = await new Receiver().start();
      staying = await new Receiver().start();
      await t.client.registerAe('leaver', { rr: true, poa: [leaving.url] });
    });
    after(async () => {
      await leaving.stop();
      await staying.stop();
    });
    beforeEach(() => {
      leaving.respond = undefined;
      leaving.received.length = 0;
      staying.received.length = 0;
    });

    /** A container of Cowner's with a subscription notifying `nu`; one event; the subscription's path. */
    async function notifiedOnce(nu: string[]): Promise<{ path: string; cnt: string }> {
      const cnt = `/cse-in/owner/c${++n}`;
      assert.equal((await t.client.create('/cse-in/owner', 3, { 'm2m:cnt': { rn: `c${n}` } }, 'Cowner')).rsc, 2001);
      const made = await t.client.create(cnt, 23, { 'm2m:sub': { rn: 'sub', nu, enc: { net: [3] } } }, 'Cowner');
      assert.equal(made.rsc, 2001, made.text);
      assert.equal((await t.client.create(cnt, 4, { 'm2m:cin': { con: 'one' } }, 'Cowner')).rsc, 2001);
      return { path: `${cnt}/sub`, cnt };
    }
    const events = (rx: Receiver): number => rx.notifications().length;
    /** Every notification of the CSE has been delivered (and what its answers asked for handled). */
    const drained = (): Promise<void> => waitFor(async () => (await t.cse.services.store.countQueuedByPrefix('', 10)) === 0);

    it('is refused by the system default (reject): the target stays and is notified again', async () => {
      asksToLeave(leaving);
      const { path, cnt } = await notifiedOnce(['Cleaver', staying.url]);
      await waitFor(() => events(leaving) === 1 && events(staying) === 1);
      await drained();
      assert.deepEqual(await targetsOf(path), ['Cleaver', staying.url]);
      assert.equal((await t.client.create(cnt, 4, { 'm2m:cin': { con: 'two' } }, 'Cowner')).rsc, 2001);
      await waitFor(() => events(leaving) === 2);
    });

    it("follows the creator's Default policy (accept): only the target that asked leaves, and hears no more", async () => {
      await policy('leaveOk', { acn: 1, plbl: 'Default' });
      try {
        asksToLeave(leaving);
        const { path, cnt } = await notifiedOnce(['Cleaver', staying.url]);
        await waitFor(async () => JSON.stringify(await targetsOf(path)) === JSON.stringify([staying.url]));
        // A URL target is removed the same way, when it is the one that asks.
        leaving.respond = undefined;
        asksToLeave(staying);
        assert.equal((await t.client.create(cnt, 4, { 'm2m:cin': { con: 'two' } }, 'Cowner')).rsc, 2001);
        await waitFor(async () => JSON.stringify(await targetsOf(path)) === '[]');
        await drained();
        assert.equal(events(leaving), 1, 'the removed AE was not notified of the second event');
        assert.equal(events(staying), 2);
        staying.respond = undefined;
        // An answer without the indicator, or with it not true, asks nothing.
        leaving.respond = (b) => Promise.resolve((b['m2m:sgn'] as Attrs | undefined)?.vrq === true ? undefined : { rsc: 2000, body: { 'm2m:sgn': { trr: 'true' } } });
        const kept = await notifiedOnce(['Cleaver']);
        await waitFor(() => events(leaving) === 2);
        await drained();
        assert.deepEqual(await targetsOf(kept.path), ['Cleaver']);
      } finally {
        staying.respond = undefined;
        assert.equal((await t.client.delete('/cse-in/leaveOk', 'Cowner')).rsc, 2002);
      }
    });

    it("seeks the creator's authorization, and informs the creator, as for a DELETE of ntsr", async () => {
      await policy('leaveAsk', { acn: 3, plbl: 'Default' });
      try {
        asksToLeave(leaving);
        const asked = await notifiedOnce(['Cleaver', staying.url]);
        await waitFor(async () => JSON.stringify(await targetsOf(asked.path)) === JSON.stringify([staying.url]));
        const ri = String(body(await t.client.retrieve(asked.path, 'Cowner'), 'm2m:sub').ri);
        assert.deepEqual(creatorRx.notifications().map((x) => x['m2m:sgn']), [{ sur: `/id-in/${ri}`, ntt: 'Cleaver', tra: true }]);
        // The creator refuses: the target stays.
        creatorRx.received.length = 0;
        creatorRx.behaviour = 'refuse';
        const refused = await notifiedOnce(['Cleaver']);
        await waitFor(() => creatorRx.notifications().length === 1);
        await drained();
        assert.deepEqual(await targetsOf(refused.path), ['Cleaver']);
      } finally {
        assert.equal((await t.client.delete('/cse-in/leaveAsk', 'Cowner')).rsc, 2002);
      }
      creatorRx.behaviour = 'ok';
      creatorRx.received.length = 0;
      await policy('leaveTell', { acn: 4, plbl: 'Default' });
      try {
        const told = await notifiedOnce(['Cleaver']);
        await waitFor(() => creatorRx.notifications().length === 1);
        const sgn = creatorRx.notifications()[0]?.['m2m:sgn'] as Attrs;
        assert.equal(sgn.trr, true);
        assert.equal(sgn.ntt, 'Cleaver');
        assert.deepEqual(await targetsOf(told.path), ['Cleaver'], 'the creator decides');
      } finally {
        assert.equal((await t.client.delete('/cse-in/leaveTell', 'Cowner')).rsc, 2002);
      }
    });
  });

  it('lets a target refuse a subscription that points at it (its verification answer)', async () => {
    targetRx.behaviour = 'refuse';
    try {
      const refused = await t.client.create('/cse-in/owner', 23, { 'm2m:sub': { rn: 'unwanted', nu: ['Ctarget'] } }, 'Cowner');
      assert.equal(refused.rsc, 5204);
      assert.equal((await t.client.retrieve('/cse-in/owner/unwanted', 'Cowner')).rsc, 4004);
    } finally {
      targetRx.behaviour = 'ok';
    }
  });
});

describe('the system default notificationTargetPolicy is configurable', () => {
  it('accepts removals when notifications.defaultTargetPolicy is accept', async () => {
    const t = await startTestCse({ 'notifications.defaultTargetPolicy': 'accept' });
    const rx = await new Receiver().start();
    try {
      await t.client.registerAe('owner');
      await t.client.registerAe('target', { rr: true, poa: [rx.url] });
      assert.equal(body(await t.client.retrieve('/cse-in/defaultNTP', 'CAdmin'), 'm2m:ntp').acn, 1);
      assert.equal((await t.client.create('/cse-in/owner', 23, { 'm2m:sub': { rn: 's', nu: ['Ctarget'] } }, 'Cowner')).rsc, 2001);
      assert.equal((await t.client.delete('/cse-in/owner/s/ntsr', 'Ctarget')).rsc, 2002);
      assert.deepEqual(body(await t.client.retrieve('/cse-in/owner/s', 'Cowner'), 'm2m:sub').nu, []);
    } finally {
      await rx.stop();
      await t.close();
    }
  });
});

describe('notification target policies across processes and a restart (PostgreSQL)', () => {
  let db: TestDatabase;
  const spawned: ChildProcess[] = [];
  after(async () => {
    for (const child of spawned) await stopWarden(child);
    await db.drop();
  });

  it('one system default however many processes start; a policy written through one decides a removal through the other', async () => {
    db = await createTestDatabase();
    const flags = ['--storage.backend=postgres', `--storage.url=${db.url}`];
    const started = await Promise.allSettled([spawnWarden(flags), spawnWarden(flags)]);
    for (const s of started) if (s.status === 'fulfilled') spawned.push(s.value.child);
    if (started[0].status === 'rejected' || started[1].status === 'rejected') throw new Error('a Warden process did not start');
    const [a, b] = [started[0].value, started[1].value];
    const defaults = await db.query("SELECT count(*)::int AS n FROM resources WHERE ty = 26 AND rn = 'defaultNTP'");
    assert.equal(defaults[0]?.n, 1);
    const rx = await new Receiver().start();
    try {
      await a.client.registerAe('owner');
      await a.client.registerAe('target', { rr: true, poa: [rx.url] });
      assert.equal((await a.client.create('/cse-in/owner', 23, { 'm2m:sub': { rn: 's', nu: ['Ctarget'] } }, 'Cowner')).rsc, 2001);
      assert.equal((await b.client.delete('/cse-in/owner/s/ntsr', 'Ctarget')).rsc, 4103, 'the system default rejects');
      assert.equal((await b.client.create('/cse-in', NTP, { 'm2m:ntp': { rn: 'own', acn: 1, plbl: 'Default' } }, 'Cowner')).rsc, 2001);
      assert.equal((await a.client.create('/cse-in', NTP, { 'm2m:ntp': { rn: 'twin', acn: 2, plbl: 'Default' } }, 'Cowner')).rsc, 4000, 'the label is taken, whichever process is asked');
      // A restart keeps the policies, and the system default is not made twice.
      const [first] = spawned.splice(0, 1);
      if (first) await stopWarden(first);
      const again = await spawnWarden(flags);
      spawned.push(again.child);
      assert.equal((await again.client.delete('/cse-in/owner/s/ntsr', 'Ctarget')).rsc, 2002);
      assert.deepEqual(body(await b.client.retrieve('/cse-in/owner/s', 'Cowner'), 'm2m:sub').nu, []);
      const after = await db.query("SELECT count(*)::int AS n FROM resources WHERE ty = 26 AND rn = 'defaultNTP'");
      assert.equal(after[0]?.n, 1);
    } finally {
      await rx.stop();
    }
  });
});
