// Non-blocking requests whose target is on another CSE, between two Warden CSEs over HTTPS with mutual TLS: the
// Receiver CSE (the AE's own) keeps the <request> and answers at once; the request travels the tree later as a
// blocking one, and its result lands in that <request> (rt=1) or is notified from there (rt=2) [TS-0004 §7.3.2.2,
// §7.3.2.8; TS-0001 §8.2.2].
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { TestCse } from '../harness.js';
import { Receiver, waitFor } from '../receiver.js';
import { call, startInMnTree, type InMnTree, type Reply } from '../cse.js';

type Attrs = Record<string, unknown>;
const of = (r: Reply, name: string): Attrs => (r.body?.[name] ?? {}) as Attrs;

describe('non-blocking requests across the CSE tree', () => {
  let ca: string;
  let files: InMnTree['files'];
  let inCse: TestCse;
  let mnCse: TestCse;
  const receiver = new Receiver();
  const inPort = (): number => inCse.cse.httpPort;
  const mnPort = (): number => mnCse.cse.httpPort;

  /** Polls a <request> as its originator until it is no longer pending (rs 3). */
  async function settled(port: number, path: string, origin: string, client?: { cert: string; key: string }): Promise<Attrs> {
    let req: Attrs = {};
    await waitFor(async () => {
      const got = await call(port, ca, 'GET', path, origin, client ? { client } : {});
      assert.equal(got.rsc, 2000, JSON.stringify(got.body));
      req = of(got, 'm2m:req');
      return req.rs !== 3;
    }, 10_000);
    return req;
  }

  before(async () => {
    ({ ca, files, inCse, mnCse } = await startInMnTree('warden-treenb-'));
    await receiver.start();
    const ae = await call(mnPort(), ca, 'POST', '/cse-mn', 'Cfar', { ty: 2, body: { 'm2m:ae': { rn: 'far', api: 'Nfar', rr: true, srv: ['3'], poa: [receiver.url] } } });
    assert.equal(ae.rsc, 2001, JSON.stringify(ae.body));
    // On the IN: a container the MN's AE may read and write, and one it may not.
    const acp = await call(inPort(), ca, 'POST', '/cse-in', 'CAdmin', { ty: 1, body: { 'm2m:acp': { rn: 'farWriters', pv: { acr: [{ acor: ['/id-mn/Cfar'], acop: 3 }] }, pvs: { acr: [{ acor: ['CAdmin'], acop: 63 }] } } } });
    assert.equal(acp.rsc, 2001, JSON.stringify(acp.body));
    const box = await call(inPort(), ca, 'POST', '/cse-in', 'CAdmin', { ty: 3, body: { 'm2m:cnt': { rn: 'box', acpi: [String(of(acp, 'm2m:acp').ri)] } } });
    assert.equal(box.rsc, 2001, JSON.stringify(box.body));
    assert.equal((await call(inPort(), ca, 'POST', '/cse-in', 'CAdmin', { ty: 3, body: { 'm2m:cnt': { rn: 'closed' } } })).rsc, 2001);
  });

  after(async () => {
    await receiver.stop();
    await mnCse?.close();
    await inCse?.close();
  });

  it('rt=1: the MN keeps the <request>, and the result of the IN lands in it', async () => {
    const ack = await call(mnPort(), ca, 'POST', '/~/id-in/cse-in/box?rt=1', 'Cfar', { ty: 4, body: { 'm2m:cin': { rn: 'later', con: 'from the MN' } } });
    assert.equal(ack.rsc, 1001, JSON.stringify(ack.body));
    const reference = String(ack.body?.['m2m:uri']);
    assert.match(reference, /^cse-mn\/req/, 'a <request> on the Receiver CSE, addressed as the AE addresses its own CSE');
    const req = await settled(mnPort(), `/${reference}`, 'Cfar');
    assert.equal(req.rs, 1, JSON.stringify(req));
    assert.equal(req.org, 'Cfar');
    assert.equal(req.tg, '/id-in/cse-in/box');
    const ors = req.ors as Attrs;
    assert.equal(ors.rsc, 2001, JSON.stringify(ors));
    assert.equal(((ors.pc as Attrs)['m2m:cin'] as Attrs).con, 'from the MN');
    // Carried out on the IN, for the AE as the IN knows it, and as a blocking request: the IN kept no <request>.
    const cin = of(await call(inPort(), ca, 'GET', '/cse-in/box/later', 'CAdmin'), 'm2m:cin');
    assert.equal(cin.cr, undefined);
    assert.equal(cin.con, 'from the MN');
    const onIn = await call(inPort(), ca, 'GET', '/cse-in?fu=1&ty=17', 'CAdmin');
    assert.deepEqual(onIn.body?.['m2m:uril'] ?? [], [], JSON.stringify(onIn.body));
  });

  it("rt=1: a refusal by the Hosting CSE is the <request>'s failed result", async () => {
    const ack = await call(mnPort(), ca, 'GET', '/~/id-in/cse-in/closed?rt=1', 'Cfar');
    assert.equal(ack.rsc, 1001, JSON.stringify(ack.body));
    const req = await settled(mnPort(), `/${String(ack.body?.['m2m:uri'])}`, 'Cfar');
    assert.equal(req.rs, 2, JSON.stringify(req));
    assert.equal((req.ors as Attrs).rsc, 4103);
  });

  it('rt=2: the result is notified to the AE from its own CSE', async () => {
    const count = receiver.received.length;
    const ack = await call(mnPort(), ca, 'GET', '/~/id-in/cse-in/box/la?rt=2', 'Cfar', { headers: { 'X-M2M-RTU': 'Cfar' } });
    assert.equal(ack.rsc, 1002, JSON.stringify(ack.body));
    await waitFor(() => receiver.received.slice(count).some((r) => r.body['m2m:rsp'] !== undefined), 10_000);
    const got = receiver.received.slice(count).find((r) => r.body['m2m:rsp'] !== undefined);
    assert.equal(got?.headers['x-m2m-origin'], '/id-mn');
    const rsp = got?.body['m2m:rsp'] as Attrs;
    assert.equal(rsp.rsc, 2000, JSON.stringify(rsp));
    assert.equal(((rsp.pc as Attrs)['m2m:cin'] as Attrs).con, 'from the MN');
  });

  it('refuses a non-blocking request for a CSE no route leads to at once (4004), not in its result', async () => {
    assert.equal((await call(inPort(), ca, 'POST', '/cse-in', 'Cnear', { ty: 2, body: { 'm2m:ae': { rn: 'near', api: 'Nnear', rr: false, srv: ['3'] } } })).rsc, 2001);
    const ack = await call(inPort(), ca, 'GET', '/~/id-nowhere/cse-x/thing?rt=1', 'Cnear');
    assert.equal(ack.rsc, 4004, JSON.stringify(ack.body));
  });

  it('answers a CSE that relays a non-blocking request with an SP-relative reference its originator can use', async () => {
    const asIn = { cert: readFileSync(files['id-in'].cert, 'utf8'), key: readFileSync(files['id-in'].key, 'utf8') };
    const ack = await call(mnPort(), ca, 'GET', '/~/id-mn/cse-mn?rt=1', '/id-in', { client: asIn });
    assert.equal(ack.rsc, 1001, JSON.stringify(ack.body));
    const reference = String(ack.body?.['m2m:uri']);
    assert.match(reference, /^\/id-mn\/cse-mn\/req/);
    const req = await settled(mnPort(), `/~${reference}`, '/id-in', asIn);
    assert.equal(req.rs, 1, JSON.stringify(req));
  });
});
