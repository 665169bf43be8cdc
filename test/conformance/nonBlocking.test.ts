// Non-blocking requests: synchronous (a <request> to poll) and asynchronous (the result notified).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { once } from 'node:events';
import { ManualClock, spawnWarden, startTestCse, stopWarden, tempDatabase, type TestCse } from '../harness.js';
import { RESOURCE_TYPE } from '../../src/resources/types.js';
import { formatTimestamp } from '../../src/primitive/identifiers.js';
import { Receiver, waitFor } from '../receiver.js';
import { BadRequestError, ConflictError, NoPrivilegeError, NotFoundError, connect, type WardenClient } from '../../packages/client/src/index.js';

type Attrs = Record<string, unknown>;

describe('non-blocking requests', () => {
  // Written with the client library where it says more plainly what happens (nonBlocking → result, the typed
  // <request>); the rt=2 tests below read the wire as it is.
  let t: TestCse;
  let ae: string;
  let client: WardenClient;
  before(async () => {
    t = await startTestCse();
    client = await connect({ url: t.url, originator: 'Cpatient' });
    ae = (await client.registerAe({ rn: 'patient', api: 'Npatient', rr: false, srv: ['3'] })).aei as string;
    await client.create('cse-in/patient', 'm2m:cnt', { rn: 'c' });
  });
  after(async () => {
    await client.close();
    await t.close();
  });

  it('rt=1 answers 1001 with a <request> that the originator polls for the result', async () => {
    const ack = await t.client.request('GET', '/cse-in/patient/c?rt=1', { origin: ae });
    assert.equal(ack.rsc, 1001);
    assert.equal(ack.status, 202);
    const pending = await client.nonBlocking({ op: 1, to: 'cse-in/patient/c', ty: 4, pc: { 'm2m:cin': { rn: 'later', con: 'v' } } });
    const result = await pending.result({ intervalMs: 20 });
    assert.equal(result.rsc, 2001);
    assert.equal((result.pc?.['m2m:cin'] as Attrs).con, 'v');
    const requestPath = pending.requestResource as string;
    const req = await client.retrieve(requestPath, 'm2m:req');
    assert.equal(req.rs, 1);
    assert.equal(req.op, 1);
    assert.equal(req.org, ae);
    assert.deepEqual(req.pc, { 'm2m:cin': { rn: 'later', con: 'v' } }, 'the request content is kept');
    assert.deepEqual(req.mi, { ty: 4, rt: { rtv: 1 } }, 'and its other parameters');
    assert.equal(req.ors?.rsc, 2001);
    await client.retrieve('cse-in/patient/c/later', 'm2m:cin');
    const other = await connect({ url: t.url, originator: 'Ccurious' });
    try {
      await other.registerAe({ rn: 'curious', api: 'Ncurious', rr: false, srv: ['3'] });
      await assert.rejects(other.retrieve(requestPath, 'm2m:req'), NoPrivilegeError, 'only the originator reads its request');
    } finally {
      await other.close();
    }
    await client.delete(requestPath);
  });

  it('a non-blocking request with a group request identifier runs once, not as its own duplicate', async () => {
    const pending = await client.nonBlocking({ op: 1, to: 'cse-in/patient/c', ty: 4, pc: { 'm2m:cin': { rn: 'grouped', con: 'g' } }, gid: 'gid-nb-1' });
    assert.equal((await pending.result({ intervalMs: 20 })).rsc, 2001);
  });

  it('takes resultPersistence and expiration times as ISO durations too, and refuses what is neither', async () => {
    const pending = await client.nonBlocking({ op: 2, to: 'cse-in/patient/c', rp: 'PT2H', rqet: 'PT30S' });
    const req = await client.retrieve(pending.requestResource as string, 'm2m:req');
    const lifetime = Date.parse(String(req.et).replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2}).*$/, '$1-$2-$3T$4:$5:$6Z')) - Date.parse(String(req.ct).replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2}).*$/, '$1-$2-$3T$4:$5:$6Z'));
    assert.ok(Math.abs(lifetime - 7_200_000) <= 2_000, `kept for two hours (${lifetime} ms)`);
    await assert.rejects(client.nonBlocking({ op: 2, to: 'cse-in/patient/c', rp: 'xxx' }), BadRequestError);
    await assert.rejects(client.nonBlocking({ op: 2, to: 'cse-in/patient/c', rqet: 'PTxS' }), BadRequestError);
  });

  it("a deregistered AE's requests go with it", async () => {
    const leaving = await connect({ url: t.url, originator: 'Cleaving' });
    try {
      await leaving.registerAe({ rn: 'leaving', api: 'Nleaving', rr: false, srv: ['3'] });
      await leaving.create('cse-in/leaving', 'm2m:cnt', { rn: 'c' });
      const pending = await leaving.nonBlocking({ op: 2, to: 'cse-in/leaving/c' });
      await pending.result({ intervalMs: 20 });
      await leaving.deregisterAe();
      await assert.rejects(client.retrieve(pending.requestResource as string, 'm2m:req', { from: 'CAdmin' }), NotFoundError, 'nobody registering as Cleaving later finds it');
    } finally {
      await leaving.close();
    }
  });

  it('a failing non-blocking request records the failure', async () => {
    const pending = await client.nonBlocking({ op: 1, to: 'cse-in/patient/c', ty: 4, pc: { 'm2m:cin': { rn: 'later', con: 'dup' } } });
    await assert.rejects(pending.result({ intervalMs: 20 }), ConflictError);
    const req = await client.retrieve(pending.requestResource as string, 'm2m:req');
    assert.equal(req.rs, 2);
    assert.equal(req.ors?.rsc, 4105);
  });

  it('rt=2 answers 1002 and notifies the result to X-M2M-RTU', async () => {
    const rx = await new Receiver().start();
    try {
      const ack = await t.client.request('GET', '/cse-in/patient/c?rt=2', { origin: ae, headers: { 'X-M2M-RTU': rx.url } });
      assert.equal(ack.rsc, 1002);
      await waitFor(() => rx.notifications().length === 1);
      assert.equal(((rx.received[0]?.body['m2m:sgn'] as Attrs) ?? {}).vrq, true, 'the result target was verified first');
      const rsp = rx.notifications()[0]?.['m2m:rsp'] as Attrs;
      assert.equal(rsp.rsc, 2000);
      assert.equal(((rsp.pc as Attrs)['m2m:cnt'] as Attrs).rn, 'c');
    } finally {
      await rx.stop();
    }
  });

  it('rt=2 results only go to targets that accept them', async () => {
    const refusing = await new Receiver().start();
    refusing.behaviour = 'refuse';
    try {
      const reply = await t.client.request('GET', '/cse-in/patient/c?rt=2', { origin: ae, headers: { 'X-M2M-RTU': refusing.url } });
      assert.equal(reply.rsc, 5204);
      await t.client.registerAe('victim', { rr: false });
      await t.client.create('/cse-in/victim', 15, { 'm2m:pch': { rn: 'pch' } }, 'Cvictim');
      const intoChannel = await t.client.request('GET', '/cse-in/patient/c?rt=2', { origin: ae, headers: { 'X-M2M-RTU': 'Cvictim' } });
      assert.equal(intoChannel.rsc, 5204, "nobody may push results into another AE's polling channel");
    } finally {
      await refusing.stop();
    }
  });

  it('a <request> cannot be created by a request, and RTU needs rt=2', async () => {
    assert.equal((await t.client.create('/cse-in', 17, { 'm2m:req': {} }, 'CAdmin')).rsc, 4005);
    assert.equal((await t.client.request('GET', '/cse-in/patient/c?rt=1', { origin: ae, headers: { 'X-M2M-RTU': 'http://127.0.0.1:1/' } })).rsc, 4000);
  });
});

describe('non-blocking requests are durable jobs', () => {
  it('waits for a far operation execution time, then runs', async () => {
    const clock = new ManualClock();
    const t = await startTestCse({}, { clock });
    try {
      const ae = await t.client.registerAe('patient');
      const ack = await t.client.request('POST', '/cse-in/patient?rt=1', { origin: ae, ty: 3, body: { 'm2m:cnt': { rn: 'tomorrow' } }, headers: { 'X-M2M-OET': String(24 * 3_600_000) } });
      assert.equal(ack.rsc, 1001, ack.text);
      const requestPath = `/${String(ack.body?.['m2m:uri'])}`;
      t.cse.deliverer.wake();
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(((await t.client.retrieve(requestPath, ae)).body?.['m2m:req'] as Attrs).rs, 3, 'pending until its execution time');
      assert.equal((await t.client.retrieve('/cse-in/patient/tomorrow', ae)).rsc, 4004);
      clock.advance(24 * 3_600_000 + 1);
      t.cse.deliverer.wake();
      await waitFor(async () => ((await t.client.retrieve(requestPath, ae)).body?.['m2m:req'] as Attrs).rs === 1);
      assert.equal((await t.client.retrieve('/cse-in/patient/tomorrow', ae)).rsc, 2000);
    } finally {
      await t.close();
    }
  });

  it('a job whose process died before it ran is carried out after a restart', async () => {
    const storage = tempDatabase();
    const first = await spawnWarden([`--storage.path=${storage}`]);
    const ae = await first.client.registerAe('survivor');
    const ack = await first.client.request('POST', '/cse-in/survivor?rt=1', { origin: ae, ty: 3, body: { 'm2m:cnt': { rn: 'afterwards' } }, headers: { 'X-M2M-OET': '1500' } });
    assert.equal(ack.rsc, 1001, ack.text);
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    const second = await spawnWarden([`--storage.path=${storage}`]);
    try {
      const requestPath = `/${String(ack.body?.['m2m:uri'])}`;
      await waitFor(async () => ((await second.client.retrieve(requestPath, ae)).body?.['m2m:req'] as Attrs | undefined)?.rs === 1, 10_000);
      assert.equal((await second.client.retrieve('/cse-in/survivor/afterwards', ae)).rsc, 2000);
    } finally {
      await stopWarden(second.child);
    }
  });

  it('a job that had started when its runner died is recorded as failed, not run twice', async () => {
    const t = await startTestCse();
    try {
      const ae = await t.client.registerAe('orphan');
      const { store, self, clock } = t.cse.services;
      const now = clock.now();
      const ts = formatTimestamp(now);
      await store.insert({
        ri: 'reqorphan', pi: self.cseId, ty: RESOURCE_TYPE.request, rn: 'reqorphan', srn: `${self.cseRn}/reqorphan`, ct: ts, lt: ts, et: now + 60_000, owner: ae,
        doc: { op: 1, tg: '/cse-in/orphan', org: ae, rid: 'r1', rs: 3, __creator: ae, __startedBy: 'a-runner-that-died' },
      });
      const job = { request: { op: 1, to: '/cse-in/orphan', fr: ae, rqi: 'r1', ty: 3, pc: { 'm2m:cnt': { rn: 'twice' } } }, transport: { binding: 'http', remoteAddress: '127.0.0.1', secure: false }, ri: 'reqorphan', notify: [] };
      await store.enqueue([{ target: 'req:reqorphan', subscription: 'reqorphan', content: JSON.stringify(job), created: now, notBefore: now }]);
      t.cse.deliverer.wake();
      await waitFor(async () => ((await t.client.retrieve('/cse-in/reqorphan', ae)).body?.['m2m:req'] as Attrs).rs === 2);
      const req = (await t.client.retrieve('/cse-in/reqorphan', ae)).body?.['m2m:req'] as Attrs;
      assert.equal((req.ors as Attrs).rsc, 5000);
      assert.equal((await t.client.retrieve('/cse-in/orphan/twice', ae)).rsc, 4004, 'not carried out again');
    } finally {
      await t.close();
    }
  });
});
