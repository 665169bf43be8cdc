// Two IN-CSEs of different M2M Service Providers joined over Mcc' (peers.list), each a Warden process with a
// `warden pki cse --sp` certificate, mutual TLS between them: an AE of SP A reads a container of SP B (its
// originator made absolute on the way, and granted by an ACP that names it so) and one of B's MN-CSE; an AE on A's
// MN-CSE does too, through A's IN-CSE; B notifies an AE of A; a peer that relays a forged originator is refused
// (4106), and a request for an SP that is no peer, or onward to a third SP, is 4004.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Receiver, waitFor } from '../receiver.js';
import { call, spawnCse, stopCse, warden, type WardenProcess } from '../cse.js';

type Attrs = Record<string, unknown>;

const SP_A = 'sp-a.example.net';
const SP_B = 'sp-b.example.net';

/** A port no one listens on right now, for a CSE whose URL its peer must know before it starts. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe("two IN-CSEs of different service providers over Mcc' (peers.list)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-intersp-'));
  const pki = join(dir, 'pki');
  let ca: string;
  let inA: WardenProcess;
  let inB: WardenProcess;
  let mnB: WardenProcess;
  let mnA: WardenProcess;
  const receiver = new Receiver();
  // Both IN-CSEs are `id-in`: a CSE-ID is unique within its SP only, so the SP-ID is what tells them apart.
  const flags = (sp: string, name: string, peers: string, extra: string[] = [], id = 'id-in'): string[] => [
    `--cse.id=${id}`,
    `--cse.rn=${id.replace('id-', 'cse-')}`,
    `--cse.type=${id === 'id-in' ? 'IN' : 'MN'}`,
    `--cse.spid=${sp}`,
    '--http.tls=true',
    `--tls.cert=${join(pki, name, `${id}.pem`)}`,
    `--tls.key=${join(pki, name, `${id}.key`)}`,
    `--tls.ca=${join(pki, 'ca.pem')}`,
    '--tls.clientAuth=optional',
    '--security.authentication=cse',
    `--storage.path=${join(dir, `${name}-${id}.sqlite`)}`,
    ...(peers ? [`--peers.list=${peers}`] : []),
    ...extra,
  ];
  const clientA = (): { cert: string; key: string } => ({ cert: readFileSync(join(pki, 'a', 'id-in.pem'), 'utf8'), key: readFileSync(join(pki, 'a', 'id-in.key'), 'utf8') });

  before(async () => {
    assert.equal(warden('pki', 'ca', '--out', pki).status, 0);
    for (const [sp, name] of [[SP_A, 'a'], [SP_B, 'b']] as const) {
      const made = warden('pki', 'cse', '--ca', pki, '--out', join(pki, name), '--cse-id', 'id-in', '--sp', sp);
      assert.equal(made.status, 0, made.stderr);
    }
    for (const [sp, name] of [[SP_A, 'a'], [SP_B, 'b']] as const) {
      const mn = warden('pki', 'cse', '--ca', pki, '--out', join(pki, name), '--cse-id', 'id-mn', '--sp', sp);
      assert.equal(mn.status, 0, mn.stderr);
    }
    ca = readFileSync(join(pki, 'ca.pem'), 'utf8');
    const portA = await freePort();
    inB = await spawnCse(flags(SP_B, 'b', `${SP_A}/id-in=https://127.0.0.1:${portA}`));
    inA = await spawnCse(flags(SP_A, 'a', `${SP_B}/id-in=https://127.0.0.1:${inB.port}`, [`--http.port=${portA}`]));
    // An MN-CSE of SP B, registered with B's IN-CSE.
    mnB = await spawnCse(flags(SP_B, 'b', '', ['--registrar.url=https://127.0.0.1:' + String(inB.port), '--registrar.cseId=id-in', '--registrar.rn=cse-in', '--registrar.retryMin=1', '--registrar.retryMax=2'], 'id-mn'));
    // And one of SP A, registered with A's IN-CSE.
    mnA = await spawnCse(flags(SP_A, 'a', '', ['--registrar.url=https://127.0.0.1:' + String(inA.port), '--registrar.cseId=id-in', '--registrar.rn=cse-in', '--registrar.retryMin=1', '--registrar.retryMax=2'], 'id-mn'));
    await waitFor(async () => (await call(inB.port, ca, 'GET', '/cse-in/id-mn', 'CAdmin')).rsc === 2000, 30_000);
    await waitFor(async () => (await call(inA.port, ca, 'GET', '/cse-in/id-mn', 'CAdmin')).rsc === 2000, 30_000);

    // On SP B: a container that the AE Creader of SP A (absolute: //sp-a/id-in/Creader) may read.
    const acp = await call(inB.port, ca, 'POST', '/cse-in', 'CAdmin', {
      ty: 1,
      body: { 'm2m:acp': { rn: 'partners', pv: { acr: [{ acor: [`//${SP_A}/id-in/Creader`], acop: 2 }] }, pvs: { acr: [{ acor: ['CAdmin'], acop: 63 }] } } },
    });
    assert.equal(acp.rsc, 2001, JSON.stringify(acp.body));
    const acpi = `/id-in/${String((acp.body?.['m2m:acp'] as Attrs).ri)}`;
    assert.equal((await call(inB.port, ca, 'POST', '/cse-in', 'CAdmin', { ty: 3, body: { 'm2m:cnt': { rn: 'shared', acpi: [acpi] } } })).rsc, 2001);
    assert.equal((await call(inB.port, ca, 'POST', '/cse-in/shared', 'CAdmin', { ty: 4, body: { 'm2m:cin': { con: 'from-sp-b' } } })).rsc, 2001);
    for (const rn of ['Creader', 'Cother']) {
      const ae = await call(inA.port, ca, 'POST', '/cse-in', rn, { ty: 2, body: { 'm2m:ae': { rn: rn.slice(1), api: 'Nreader', rr: false, srv: ['3'] } } });
      assert.equal(ae.rsc, 2001, JSON.stringify(ae.body));
    }
  });

  after(async () => {
    await receiver.stop();
    for (const p of [mnA, mnB, inA, inB]) if (p) await stopCse(p);
  });

  it("lets an AE of SP A read a container of SP B through A's IN-CSE, its originator made absolute", async () => {
    const read = await call(inA.port, ca, 'GET', `/_/${SP_B}/id-in/cse-in/shared/la`, 'Creader');
    assert.equal(read.rsc, 2000, JSON.stringify(read.body));
    assert.equal((read.body?.['m2m:cin'] as Attrs).con, 'from-sp-b');
    // Another AE of SP A is another absolute originator, which B's ACP does not name: B decides, A relays.
    const other = await call(inA.port, ca, 'GET', `/_/${SP_B}/id-in/cse-in/shared/la`, 'Cother');
    assert.equal(other.rsc, 4103, JSON.stringify(other.body));
    // The SP-ID is a domain name: its case does not matter.
    const upper = await call(inA.port, ca, 'GET', `/_/${SP_B.toUpperCase()}/id-in/cse-in/shared/la`, 'Creader');
    assert.equal(upper.rsc, 2000, JSON.stringify(upper.body));
  });

  it("keeps a non-blocking request for SP B on A's IN-CSE, which records B's answer; B answers a relayed one with an absolute reference", async () => {
    const ack = await call(inA.port, ca, 'GET', `/_/${SP_B}/id-in/cse-in/shared/la?rt=1`, 'Creader');
    assert.equal(ack.rsc, 1001, JSON.stringify(ack.body));
    const reference = String(ack.body?.['m2m:uri']);
    assert.match(reference, /^cse-in\/req/);
    let req: Attrs = {};
    await waitFor(async () => {
      req = ((await call(inA.port, ca, 'GET', `/${reference}`, 'Creader')).body?.['m2m:req'] ?? {}) as Attrs;
      return req.rs !== undefined && req.rs !== 3;
    }, 15_000);
    assert.equal(req.rs, 1, JSON.stringify(req));
    assert.equal((((req.ors as Attrs).pc as Attrs)['m2m:cin'] as Attrs).con, 'from-sp-b');
    // A peer IN-CSE of another implementation might relay a non-blocking request as it is: the reference names SP B.
    const relayed = await call(inB.port, ca, 'GET', '/cse-in/shared/la?rt=1', `//${SP_A}/id-in/Creader`, { client: clientA() });
    assert.equal(relayed.rsc, 1001, JSON.stringify(relayed.body));
    assert.match(String(relayed.body?.['m2m:uri']), new RegExp(`^//${SP_B.replace(/\./g, '\\.')}/id-in/cse-in/req`));
  });

  it("reaches an MN-CSE of SP B below B's IN-CSE, the absolute originator relayed down B's tree", async () => {
    const acp = await call(mnB.port, ca, 'POST', '/cse-mn', 'CAdmin', {
      ty: 1,
      body: { 'm2m:acp': { rn: 'partners', pv: { acr: [{ acor: [`//${SP_A}/id-in/Creader`], acop: 2 }] }, pvs: { acr: [{ acor: ['CAdmin'], acop: 63 }] } } },
    });
    assert.equal(acp.rsc, 2001, JSON.stringify(acp.body));
    const acpi = `/id-mn/${String((acp.body?.['m2m:acp'] as Attrs).ri)}`;
    assert.equal((await call(mnB.port, ca, 'POST', '/cse-mn', 'CAdmin', { ty: 3, body: { 'm2m:cnt': { rn: 'box', acpi: [acpi] } } })).rsc, 2001);
    const read = await call(inA.port, ca, 'GET', `/_/${SP_B}/id-mn/cse-mn/box`, 'Creader');
    assert.equal(read.rsc, 2000, JSON.stringify(read.body));
    assert.equal((read.body?.['m2m:cnt'] as Attrs).rn, 'box');
    assert.equal((await call(inA.port, ca, 'GET', `/_/${SP_B}/id-mn/cse-mn/box`, 'Cother')).rsc, 4103);
  });

  it("carries a request of an AE on SP A's MN-CSE up to A's IN-CSE and over to SP B, as //sp-a/id-mn/Cfar", async () => {
    const acp = await call(inB.port, ca, 'POST', '/cse-in', 'CAdmin', {
      ty: 1,
      body: { 'm2m:acp': { rn: 'farReaders', pv: { acr: [{ acor: [`//${SP_A}/id-mn/Cfar`], acop: 2 }] }, pvs: { acr: [{ acor: ['CAdmin'], acop: 63 }] } } },
    });
    assert.equal(acp.rsc, 2001, JSON.stringify(acp.body));
    const acpi = `/id-in/${String((acp.body?.['m2m:acp'] as Attrs).ri)}`;
    assert.equal((await call(inB.port, ca, 'POST', '/cse-in', 'CAdmin', { ty: 3, body: { 'm2m:cnt': { rn: 'far', acpi: [acpi] } } })).rsc, 2001);
    const ae = await call(mnA.port, ca, 'POST', '/cse-mn', 'Cfar', { ty: 2, body: { 'm2m:ae': { rn: 'far', api: 'Nfar', rr: false, srv: ['3'] } } });
    assert.equal(ae.rsc, 2001, JSON.stringify(ae.body));
    const read = await call(mnA.port, ca, 'GET', `/_/${SP_B}/id-in/cse-in/far`, 'Cfar');
    assert.equal(read.rsc, 2000, JSON.stringify(read.body));
    assert.equal((read.body?.['m2m:cnt'] as Attrs).rn, 'far');
    // The IN-CSE's own AE of the same name is another originator (//sp-a/id-in/Cfar), which the policy does not name.
    assert.equal((await call(inA.port, ca, 'POST', '/cse-in', 'Cfar', { ty: 2, body: { 'm2m:ae': { rn: 'farIn', api: 'Nfar', rr: false, srv: ['3'] } } })).rsc, 2001);
    assert.equal((await call(inA.port, ca, 'GET', `/_/${SP_B}/id-in/cse-in/far`, 'Cfar')).rsc, 4103);
  });

  it("notifies an AE of SP A of a change on SP B: the notification crosses Mcc' with an absolute From", async () => {
    await receiver.start();
    const ae = await call(inA.port, ca, 'POST', '/cse-in', 'Cwatcher', { ty: 2, body: { 'm2m:ae': { rn: 'watcher', api: 'Nwatcher', rr: true, srv: ['3'], poa: [receiver.url] } } });
    assert.equal(ae.rsc, 2001, JSON.stringify(ae.body));
    const acp = await call(inB.port, ca, 'POST', '/cse-in', 'CAdmin', {
      ty: 1,
      body: { 'm2m:acp': { rn: 'watchers', pv: { acr: [{ acor: [`//${SP_A}/id-in/Cwatcher`], acop: 63 }] }, pvs: { acr: [{ acor: ['CAdmin'], acop: 63 }] } } },
    });
    assert.equal(acp.rsc, 2001, JSON.stringify(acp.body));
    const acpi = `/id-in/${String((acp.body?.['m2m:acp'] as Attrs).ri)}`;
    assert.equal((await call(inB.port, ca, 'POST', '/cse-in', 'CAdmin', { ty: 3, body: { 'm2m:cnt': { rn: 'watched', acpi: [acpi] } } })).rsc, 2001);
    const sub = await call(inA.port, ca, 'POST', `/_/${SP_B}/id-in/cse-in/watched`, 'Cwatcher', { ty: 23, body: { 'm2m:sub': { rn: 'fromA', nu: [`//${SP_A}/id-in/Cwatcher`], enc: { net: [3] } } } });
    assert.equal(sub.rsc, 2001, JSON.stringify(sub.body));
    assert.equal((await call(inB.port, ca, 'POST', '/cse-in/watched', 'CAdmin', { ty: 4, body: { 'm2m:cin': { con: 'changed-on-b' } } })).rsc, 2001);
    const carries = (r: { body: Record<string, unknown> }): boolean => JSON.stringify(r.body).includes('changed-on-b');
    await waitFor(() => receiver.received.some(carries), 15_000);
    const got = receiver.received.find(carries);
    assert.equal(got?.headers['x-m2m-origin'], `//${SP_B}/id-in`);
  });

  it('answers 4004 for an SP that is no peer, as an IN-CSE does for a CSE it does not know', async () => {
    const unknown = await call(inA.port, ca, 'GET', '/_/sp-c.example.net/id-in/cse-in', 'Creader');
    assert.equal(unknown.rsc, 4004, JSON.stringify(unknown.body));
    assert.match(JSON.stringify(unknown.body), /no peer/);
  });

  it("refuses originators the peer SP's IN-CSE cannot vouch for (4106), and accepts its own SP's absolute ones", async () => {
    // Speaking as SP A's IN-CSE (its certificate) directly to SP B.
    const as = (origin: string): Promise<{ rsc: number; body: Record<string, unknown> | undefined }> => call(inB.port, ca, 'GET', '/cse-in/shared/la', origin, { client: clientA() });
    assert.equal((await as(`//${SP_A}/id-in/Creader`)).rsc, 2000);
    // Another SP's originator, SP B's own (even its admin), or a relative one: none is SP A's to relay.
    for (const forged of ['//sp-c.example.net/id-in/Creader', `//${SP_B}/id-in/CAdmin`, '/id-in/Creader', 'CAdmin', 'Creader']) {
      const answer = await as(forged);
      assert.equal(answer.rsc, 4106, `${forged}: ${JSON.stringify(answer.body)}`);
    }
    // A request that came in over Mcc' goes no further to another SP (no transit between SPs, no loop): 4004.
    const onward = await call(inB.port, ca, 'GET', `/_/${SP_A}/id-in/cse-in`, `//${SP_A}/id-in/Creader`, { client: clientA() });
    assert.equal(onward.rsc, 4004, JSON.stringify(onward.body));
    // Without SP A's certificate, an absolute originator is a CSE's claim with no security association: 4107.
    assert.equal((await call(inB.port, ca, 'GET', '/cse-in/shared/la', `//${SP_A}/id-in/Creader`)).rsc, 4107);
  });

  it('refuses a peer SP whose certificate does not name it', async () => {
    // SP B's certificate presented as if from SP A: it names //sp-b/id-in, which is no peer of B.
    const wrong = { cert: readFileSync(join(pki, 'b', 'id-in.pem'), 'utf8'), key: readFileSync(join(pki, 'b', 'id-in.key'), 'utf8') };
    const answer = await call(inB.port, ca, 'GET', '/cse-in/shared/la', `//${SP_A}/id-in/Creader`, { client: wrong });
    assert.equal(answer.rsc, 4106, JSON.stringify(answer.body));
  });
});
