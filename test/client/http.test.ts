// The client library (packages/client) against a running Warden over HTTP: typed CRUD, typed errors, discovery
// paging, subscriptions with the built-in receiver (verification included), polling channel, non-blocking
// requests and group fan-out.
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import {
  ConflictError,
  NoPrivilegeError,
  NotAuthenticatedError,
  NotFoundError,
  NotificationReceiver,
  OneM2MError,
  OperationNotAllowedError,
  RSC,
  connect,
  isRsc,
  type WardenClient,
} from '../../packages/client/src/index.js';
import { createCa, issueCertificate } from '../../src/security/pki.js';
import { startTestCse, type TestCse } from '../harness.js';
import { waitFor } from '../receiver.js';

describe('client library over HTTP', () => {
  let t: TestCse;
  let ae: WardenClient;
  before(async () => {
    t = await startTestCse({ 'discovery.maxResults': 1000 });
    ae = await connect({ url: t.url, originator: 'Cclient', timeoutMs: 5000 });
    const registered = await ae.registerAe({ rn: 'client', api: 'Nclient', rr: false, srv: ['3'] });
    assert.equal(registered.aei, 'Cclient');
  });
  after(async () => {
    await ae.close();
    await t.close();
  });

  it('creates, retrieves, updates and deletes typed resources', async () => {
    const cnt = await ae.create('cse-in/client', 'm2m:cnt', { rn: 'data', mni: 3, lbl: ['a'] });
    assert.equal(cnt.rn, 'data');
    assert.equal(cnt.mni, 3);
    assert.equal(cnt.ty, 3);
    const cin = await ae.create('cse-in/client/data', 'm2m:cin', { cnf: 'text/plain:0', con: '21.5' });
    assert.equal(cin.con, '21.5');
    assert.equal((await ae.retrieve('cse-in/client/data/la', 'm2m:cin')).con, '21.5');
    const updated = await ae.update('cse-in/client/data', 'm2m:cnt', { mni: 5, lbl: null });
    assert.equal(updated.mni, 5);
    assert.equal(updated.lbl, undefined, 'null removed the labels');
    const content = await ae.retrieveContent('cse-in/client/data');
    assert.deepEqual(Object.keys(content), ['m2m:cnt']);
    await ae.delete('cse-in/client/data');
    await assert.rejects(ae.retrieve('cse-in/client/data', 'm2m:cnt'), NotFoundError);
  });

  it('refusals are typed errors carrying the RSC and the CSE message', async () => {
    await ae.create('cse-in/client', 'm2m:cnt', { rn: 'twice' });
    const conflict = await ae.create('cse-in/client', 'm2m:cnt', { rn: 'twice' }).catch((e: unknown) => e);
    assert.ok(conflict instanceof ConflictError);
    assert.equal(conflict.rsc, 4105);
    assert.equal(conflict.rscName, 'CONFLICT');
    assert.ok(conflict.is('CONFLICT') && isRsc(conflict, RSC.CONFLICT));
    assert.match(conflict.message, /^4105 CONFLICT: .+/);
    const missing = await ae.retrieve('cse-in/client/nothing', 'm2m:cnt').catch((e: unknown) => e);
    assert.ok(missing instanceof NotFoundError && missing.rsc === 4004);
    // Another AE may not read what Cclient owns (4103), an unregistered originator is not authenticated (4106 here).
    const other = await connect({ url: t.url, originator: 'Cother' });
    try {
      await other.registerAe({ rn: 'other', api: 'Nother', rr: false, srv: ['3'] });
      const denied = await other.retrieve('cse-in/client/twice', 'm2m:cnt').catch((e: unknown) => e);
      assert.ok(denied instanceof NoPrivilegeError, String(denied));
      assert.equal(denied.rsc, 4103);
    } finally {
      await other.close();
    }
    const stranger = await ae.retrieve('cse-in/client/twice', 'm2m:cnt', { from: 'Cstranger' }).catch((e: unknown) => e);
    assert.ok(stranger instanceof OneM2MError && [4103, 4106].includes(stranger.rsc), String(stranger));
    if (stranger.rsc === 4106) assert.ok(stranger instanceof NotAuthenticatedError);
    // A contentInstance cannot be updated (4005).
    await ae.create('cse-in/client/twice', 'm2m:cin', { rn: 'fixed', con: 'x' });
    const immutable = await ae.update('cse-in/client/twice/fixed', 'm2m:cin', {}).catch((e: unknown) => e);
    assert.ok(immutable instanceof OperationNotAllowedError, String(immutable));
  });

  it('discovers page by page, following the offset the CSE gives', async () => {
    await ae.create('cse-in/client', 'm2m:cnt', { rn: 'many' });
    for (let i = 0; i < 7; i++) await ae.create('cse-in/client/many', 'm2m:cnt', { rn: `c${i}`, lbl: ['kind/c'] });
    const first = await ae.discover('cse-in/client/many', { lbl: ['kind/c'], lim: 3 });
    assert.equal(first.uris.length, 3);
    assert.equal(first.complete, false);
    assert.equal(first.nextOffset, 4);
    const all: string[] = [];
    for await (const uri of ae.discoverAll('cse-in/client/many', { lbl: ['kind/c'], lim: 3 })) all.push(uri);
    assert.equal(all.length, 7);
    assert.equal(new Set(all).size, 7);
    assert.ok(all.every((u) => /cse-in\/client\/many\/c\d$/.test(u)), all.join());
    const ids = await ae.discover('cse-in/client/many', { ty: [3], lim: 100 }, { drt: 2 });
    assert.equal(ids.uris.length, 7);
    assert.ok(ids.complete);
    assert.ok(ids.uris.every((u) => !u.includes('/')), 'unstructured: resource IDs');
    const refs = await ae.discover('cse-in/client/many', { atr: { rn: 'c3' } }, { rcn: 6 });
    assert.deepEqual(refs.references?.map((r) => [r.nm, r.typ]), [['c3', 3]]);
  });

  it('subscribes with the built-in receiver: the verification is answered, notifications arrive typed', async () => {
    const rx = await NotificationReceiver.start();
    try {
      await ae.create('cse-in/client', 'm2m:cnt', { rn: 'watched' });
      // su: the deletion of the subscription is notified to its subscriberURI [TS-0001 §10.2.10.3].
      const sub = await ae.subscribe('cse-in/client/watched', { rn: 'sub', enc: { net: [3] }, su: rx.url }, rx);
      assert.equal(sub.nu?.[0], rx.url);
      await ae.create('cse-in/client/watched', 'm2m:cin', { con: 'hello' });
      // sur names the subscription by its resource ID (SP-relative).
      const n = await rx.next({ subscription: sub.ri, timeoutMs: 5000 });
      assert.equal(n.event, 3);
      assert.equal(n.typeName, 'm2m:cin');
      assert.equal(n.resource?.con, 'hello');
      assert.equal(n.deleted, false);
      await ae.delete('cse-in/client/watched/sub');
      const last = await rx.next({ timeoutMs: 5000 });
      assert.equal(last.deleted, true, 'the deletion notification says so');
    } finally {
      await rx.close();
    }
  });

  it('the receiver refuses the verification of a subscription somebody else points at it', async () => {
    const rx = await NotificationReceiver.start();
    const other = await connect({ url: t.url, originator: 'Cintruder' });
    try {
      await other.registerAe({ rn: 'intruder', api: 'Nintruder', rr: false, srv: ['3'] });
      await other.create('cse-in/intruder', 'm2m:cnt', { rn: 'c' });
      // Created as Cintruder with nu naming our receiver, which only accepts Cclient's subscriptions.
      const refused = await other.create('cse-in/intruder/c', 'm2m:sub', { nu: [rx.url] }).catch((e: unknown) => e);
      assert.ok(refused instanceof OneM2MError, String(refused));
      assert.equal(refused.rsc, RSC.SUBSCRIPTION_VERIFICATION_INITIATION_FAILED);
      rx.verify = (v) => v.creator === 'Cintruder';
      const accepted = await other.create('cse-in/intruder/c', 'm2m:sub', { nu: [rx.url] });
      assert.equal(accepted.nu?.[0], rx.url);
    } finally {
      await other.close();
      await rx.close();
    }
  });

  it('a receiver that takes known subscriptions only refuses notifications nobody subscribed to it', async () => {
    const rx = await NotificationReceiver.start({ knownSubscriptionsOnly: true });
    try {
      await ae.create('cse-in/client', 'm2m:cnt', { rn: 'strict' });
      const sub = await ae.subscribe('cse-in/client/strict', { enc: { net: [3] } }, rx);
      await ae.create('cse-in/client/strict', 'm2m:cin', { con: 'genuine' });
      assert.equal((await rx.next({ subscription: sub.ri, timeoutMs: 5000 })).resource?.con, 'genuine');
      // A stranger posting a notification straight to the receiver, with a made-up subscription reference.
      const forged = await fetch(rx.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-M2M-Origin': '/id-in', 'X-M2M-RI': 'forged', 'X-M2M-RVI': '3' },
        body: JSON.stringify({ 'm2m:sgn': { sur: '/id-in/subguessed', nev: { net: 3, rep: { 'm2m:cin': { con: 'forged' } } } } }),
      });
      assert.equal(forged.headers.get('x-m2m-rsc'), '4101');
      assert.equal(rx.pending, 0, 'nothing was delivered');
      const result = await fetch(rx.url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ 'm2m:rsp': { rsc: 2000, rqi: 'never-sent' } }) });
      assert.equal(result.headers.get('x-m2m-rsc'), '4101');
      const garbage = await fetch(rx.url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"m2m:sgn": ' });
      assert.equal(garbage.headers.get('x-m2m-rsc'), '4000');
    } finally {
      await rx.close();
    }
  });

  it('the receiver serves HTTPS when given a certificate', async () => {
    const ca = await createCa('Receiver CA');
    const cert = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server' });
    const rx = await NotificationReceiver.start({ tls: { cert: cert.certificate, key: cert.key } });
    try {
      assert.match(rx.url, /^https:\/\/127\.0\.0\.1:\d+\/notify$/);
      rx.verify = () => true;
      const body = JSON.stringify({ 'm2m:sgn': { sur: '/id-in/sub1', nev: { net: 3, rep: { 'm2m:cin': { con: 'secure' } } } } });
      const rsc = await new Promise<string>((resolve, reject) => {
        const req = httpsRequest(rx.url, { method: 'POST', ca: ca.certificate, headers: { 'Content-Type': 'application/json', 'X-M2M-Origin': '/id-in', 'X-M2M-RI': 'n1' } }, (res) => {
          res.resume();
          resolve(String(res.headers['x-m2m-rsc']));
        });
        req.on('error', reject);
        req.end(body);
      });
      assert.equal(rsc, '2000');
      assert.equal((await rx.next({ subscription: 'sub1', timeoutMs: 1000 })).resource?.con, 'secure');
    } finally {
      await rx.close();
    }
  });

  it('a polling channel brings notifications to an AE that cannot be reached', async () => {
    const sleepy = await connect({ url: t.url, originator: 'Csleepy' });
    try {
      await sleepy.registerAe({ rn: 'sleepy', api: 'Nsleepy', rr: false, srv: ['3'] });
      const channel = await sleepy.createPollingChannel();
      assert.equal(channel.uri, 'cse-in/sleepy/pch/pcu');
      await sleepy.create('cse-in/sleepy', 'm2m:cnt', { rn: 'c' });
      // Notifications for the AE-ID go to its polling channel (rr=false, no point of access).
      const sub = await sleepy.subscribe('cse-in/sleepy/c', { rn: 's', enc: { net: [3] } });
      await sleepy.create('cse-in/sleepy/c', 'm2m:cin', { con: 'polled' });
      let handled = 0;
      await waitFor(async () => (handled += await channel.serveOnce(1000)) > 0, 10_000);
      const n = await sleepy.notifications.next({ subscription: sub.ri, timeoutMs: 1000 });
      assert.equal(n.resource?.con, 'polled');
      assert.equal(await channel.poll(300), undefined, 'nothing more: the CSE answered 4008 and poll() says none');
    } finally {
      await sleepy.close();
    }
  });

  it('non-blocking requests: synch polls the <request>, asynch gets its result notified', async () => {
    await ae.create('cse-in/client', 'm2m:cnt', { rn: 'nb' });
    const synch = await ae.nonBlocking({ op: 1, to: 'cse-in/client/nb', ty: 4, pc: { 'm2m:cin': { rn: 'later', con: 'v' } } });
    assert.ok(synch.requestResource);
    const result = await synch.result({ timeoutMs: 5000, intervalMs: 50 });
    assert.equal(result.rsc, 2001);
    assert.equal((result.pc?.['m2m:cin'] as { con?: string }).con, 'v');
    const failing = await ae.nonBlocking({ op: 1, to: 'cse-in/client/nb', ty: 4, pc: { 'm2m:cin': { rn: 'later', con: 'again' } } });
    await assert.rejects(failing.result({ timeoutMs: 5000, intervalMs: 50 }), ConflictError);
    const rx = await NotificationReceiver.start();
    try {
      const asynch = await ae.nonBlocking({ op: 2, to: 'cse-in/client/nb' }, 'asynch', rx);
      const answer = await asynch.result({ timeoutMs: 5000 });
      assert.equal(answer.rsc, 2000);
      assert.equal((answer.pc?.['m2m:cnt'] as { rn?: string }).rn, 'nb');
    } finally {
      await rx.close();
    }
  });

  it('group requests fan out and each member answers, refusals typed', async () => {
    await ae.create('cse-in/client', 'm2m:cnt', { rn: 'g1' });
    await ae.create('cse-in/client', 'm2m:cnt', { rn: 'g2' });
    const group = await ae.create('cse-in/client', 'm2m:grp', { rn: 'grp', mt: 3, mnm: 10, mid: ['cse-in/client/g1', 'cse-in/client/g2'] });
    assert.equal(group.cnm, 2);
    const created = await ae.fanOut('cse-in/client/grp', 1, { ty: 4, content: { 'm2m:cin': { rn: 'same', con: 'to all' } } });
    assert.deepEqual(created.map((m) => m.rsc), [2001, 2001]);
    const again = await ae.fanOut('cse-in/client/grp', 1, { ty: 4, content: { 'm2m:cin': { rn: 'same', con: 'to all' } } });
    assert.ok(again.every((m) => m.error instanceof ConflictError));
    const latest = await ae.fanOut('cse-in/client/grp', 2, { path: 'la' });
    assert.deepEqual(latest.map((m) => (m.content?.['m2m:cin'] as { con?: string }).con), ['to all', 'to all']);
    assert.deepEqual(latest.map((m) => m.member).sort(), created.map((m) => m.member).sort());
  });

  it('speaks CBOR as well', async () => {
    const cbor = await connect({ url: t.url, originator: 'Cclient', format: 'cbor' });
    try {
      const cnt = await cbor.create('cse-in/client', 'm2m:cnt', { rn: 'cbor', mni: 2 });
      assert.equal(cnt.mni, 2);
      assert.equal((await cbor.retrieve('cse-in/client/cbor', 'm2m:cnt')).rn, 'cbor');
    } finally {
      await cbor.close();
    }
  });

  it('deregisters its AE', async () => {
    const leaving = await connect({ url: t.url, originator: 'Cleaving' });
    try {
      await leaving.registerAe({ rn: 'leaving', api: 'Nleaving', rr: false, srv: ['3'] });
      assert.equal(leaving.registeredAe?.path, 'cse-in/leaving');
      await leaving.deregisterAe();
      assert.equal(leaving.registeredAe, undefined);
      await assert.rejects(ae.retrieve('cse-in/leaving', 'm2m:ae', { from: 'CAdmin' }), NotFoundError);
    } finally {
      await leaving.close();
    }
  });
});
