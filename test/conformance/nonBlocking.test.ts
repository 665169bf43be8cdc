// Non-blocking requests: synchronous (a <request> to poll) and asynchronous (the result notified).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCse, type TestCse } from '../harness.js';
import { Receiver, waitFor } from '../receiver.js';

type Attrs = Record<string, unknown>;

describe('non-blocking requests', () => {
  let t: TestCse;
  let ae: string;
  before(async () => {
    t = await startTestCse();
    ae = await t.client.registerAe('patient');
    await t.client.create('/cse-in/patient', 3, { 'm2m:cnt': { rn: 'c' } }, ae);
  });
  after(() => t.close());

  it('rt=1 answers 1001 with a <request> that the originator polls for the result', async () => {
    const ack = await t.client.request('POST', '/cse-in/patient/c?rt=1', { origin: ae, ty: 4, body: { 'm2m:cin': { rn: 'later', con: 'v' } } });
    assert.equal(ack.rsc, 1001);
    assert.equal(ack.status, 202);
    const requestPath = `/${String(ack.body?.['m2m:uri'])}`;
    let req: Attrs = {};
    await waitFor(async () => {
      req = (await t.client.retrieve(requestPath, ae)).body?.['m2m:req'] as Attrs;
      return req.rs === 1;
    });
    assert.equal(req.op, 1);
    assert.equal(req.org, ae);
    assert.equal((req.ors as Attrs).rsc, 2001);
    assert.equal((((req.ors as Attrs).pc as Attrs)['m2m:cin'] as Attrs).con, 'v');
    assert.equal((await t.client.retrieve('/cse-in/patient/c/later', ae)).rsc, 2000);
    const other = await t.client.registerAe('curious');
    assert.equal((await t.client.retrieve(requestPath, other)).rsc, 4103, 'only the originator reads its request');
    assert.equal((await t.client.delete(requestPath, ae)).rsc, 2002);
  });

  it('a failing non-blocking request records the failure', async () => {
    const ack = await t.client.request('POST', '/cse-in/patient/c?rt=1', { origin: ae, ty: 4, body: { 'm2m:cin': { rn: 'later', con: 'dup' } } });
    assert.equal(ack.rsc, 1001);
    const requestPath = `/${String(ack.body?.['m2m:uri'])}`;
    await waitFor(async () => ((await t.client.retrieve(requestPath, ae)).body?.['m2m:req'] as Attrs).rs === 2);
    const req = (await t.client.retrieve(requestPath, ae)).body?.['m2m:req'] as Attrs;
    assert.equal((req.ors as Attrs).rsc, 4105);
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
