// Attacks on the CSE-to-CSE surface, through the real protocol: an IN-CSE on loopback (mutual TLS) and CSE
// certificates that a test presents as a registree would. Each test names the attack it refuses.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { startTestCse, type TestClient, type TestCse } from '../harness.js';
import { createCa, issueCertificate } from '../../src/security/pki.js';
import { SP, TestPki, call, startCseNode, type CseFiles } from '../cse.js';
import { formatTimestamp } from '../../src/primitive/identifiers.js';
import { Receiver } from '../receiver.js';

/** A container `data` below `parent` that `acor` may read (RETRIEVE only), under a policy its owner manages. */
async function readableBy(c: TestClient, owner: string, parent: string, acpName: string, acor: string[]): Promise<void> {
  const acp = await c.create(parent, 1, { 'm2m:acp': { rn: acpName, pv: { acr: [{ acor, acop: 2 }] }, pvs: { acr: [{ acor: [owner], acop: 63 }] } } }, owner);
  assert.equal(acp.rsc, 2001, acp.text);
  const container = await c.create(parent, 3, { 'm2m:cnt': { rn: 'data', acpi: [String((acp.body?.['m2m:acp'] as Record<string, unknown>).ri)] } }, owner);
  assert.equal(container.rsc, 2001, container.text);
}

/** A registration (CREATE <remoteCSE>) body for a CSE that cannot be reached. */
const registration = (csi: string): unknown => ({ 'm2m:csr': { cb: `${csi}/cse-${csi.slice(4)}`, rr: true, srv: ['3'], poa: ['https://127.0.0.1:1'] } });

describe('security probes of the CSE-to-CSE surface', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-probe-'));
  let ca: string;
  let inCse: TestCse;
  const certs: Record<string, { cert: string; key: string }> = {};
  const port = (): number => inCse.cse.httpPort;

  before(async () => {
    const pki = await TestPki.create(dir);
    ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    const files: Record<string, CseFiles> = {};
    for (const id of ['id-in', 'id-x', 'id-y', 'id-z']) {
      files[id] = await pki.cse(id);
      certs[id] = { cert: readFileSync((files[id]).cert, 'utf8'), key: readFileSync((files[id]).key, 'utf8') };
    }
    inCse = await startCseNode('id-in', 'IN', files['id-in'] as CseFiles);
  });

  after(async () => {
    await inCse?.close();
  });

  it('refuses a registration (CREATE <remoteCSE>) relayed by another CSE: only the credential holder registers (4107)', async () => {
    const asX = certs['id-x'];
    const asY = certs['id-y'];
    assert.equal((await call(port(), ca, 'POST', '/cse-in', '/id-x', { ty: 16, body: registration('/id-x'), client: asX })).rsc, 2001);
    // The registree lists a CSE that has not registered yet as its descendant (its own attribute to write) ...
    assert.equal((await call(port(), ca, 'PUT', '/cse-in/id-x', '/id-x', { body: { 'm2m:csr': { dcse: ['/id-y'] } }, client: asX })).rsc, 2004);
    // ... and registers it in its name, with a point of access of its choosing [TS-0004 §7.4.4.2.1: the Hosting CSE
    // checks the credential the Originator provided, SECURITY_ASSOCIATION_REQUIRED otherwise].
    const squat = await call(port(), ca, 'POST', '/cse-in', '/id-y', { ty: 16, body: registration('/id-y'), client: asX });
    assert.equal(squat.rsc, 4107, JSON.stringify(squat.body));
    assert.equal((await call(port(), ca, 'GET', '/cse-in/id-y', 'CAdmin')).rsc, 4004);
    // The real CSE still registers with its own credential.
    const real = await call(port(), ca, 'POST', '/cse-in', '/id-y', { ty: 16, body: registration('/id-y'), client: asY });
    assert.equal(real.rsc, 2001, JSON.stringify(real.body));
    for (const [id, client] of [['id-y', asY], ['id-x', asX]] as const) assert.equal((await call(port(), ca, 'DELETE', `/cse-in/${id}`, `/${id}`, { client })).rsc, 2002);
  });

  it("refuses a registree's claim to another registree's descendant: it would speak for that CSE and its AEs (4000, then 4106)", async () => {
    const asX = certs['id-x'];
    const asY = certs['id-y'];
    assert.equal((await call(port(), ca, 'POST', '/cse-in', '/id-x', { ty: 16, body: { 'm2m:csr': { ...(registration('/id-x') as { 'm2m:csr': object })['m2m:csr'], dcse: ['/id-z'] } }, client: asX })).rsc, 2001);
    assert.equal((await call(port(), ca, 'POST', '/cse-in', '/id-y', { ty: 16, body: registration('/id-y'), client: asY })).rsc, 2001);
    const claim = await call(port(), ca, 'PUT', '/cse-in/id-y', '/id-y', { body: { 'm2m:csr': { dcse: ['/id-z'] } }, client: asY });
    assert.equal(claim.rsc, 4000, JSON.stringify(claim.body));
    const relayed = await call(port(), ca, 'GET', '/cse-in', '/id-z/Cae', { client: asY });
    assert.equal(relayed.rsc, 4106, JSON.stringify(relayed.body));
    // Its own descendants it still lists, and sends the same list again.
    for (let i = 0; i < 2; i++) assert.equal((await call(port(), ca, 'PUT', '/cse-in/id-y', '/id-y', { body: { 'm2m:csr': { dcse: ['/id-w'] } }, client: asY })).rsc, 2004);
    assert.equal((await call(port(), ca, 'PUT', '/cse-in/id-x', '/id-x', { body: { 'm2m:csr': { dcse: ['/id-z', '/id-v'] } }, client: asX })).rsc, 2004);
    for (const [id, client] of [['id-y', asY], ['id-x', asX]] as const) assert.equal((await call(port(), ca, 'DELETE', `/cse-in/${id}`, `/${id}`, { client })).rsc, 2002);
  });

  it('refuses every request but its registration from a CSE that is not registered, though its certificate is valid (4106)', async () => {
    const asZ = certs['id-z'];
    assert.equal((await call(port(), ca, 'POST', '/cse-in', 'Cprobe', { ty: 2, body: { 'm2m:ae': { rn: 'probe', api: 'Nprobe', rr: false, srv: ['3'] } } })).rsc, 2001);
    // Announced resources (never cleaned up, no <remoteCSE> to remove them with), a NOTIFY to an AE, a read of the CSEBase.
    const announced = await call(port(), ca, 'POST', '/cse-in', '/id-z', { ty: 10005, body: { 'm2m:cbA': { lnk: '/id-z/cse-z' } }, client: asZ });
    assert.equal(announced.rsc, 4106, JSON.stringify(announced.body));
    const notify = await call(port(), ca, 'POST', '/cse-in/probe', '/id-z', { body: { 'm2m:sgn': { nev: { rep: {}, net: 1 }, sur: '/id-z/cse-z/sub' } }, client: asZ });
    assert.equal(notify.rsc, 4106, JSON.stringify(notify.body));
    for (const [path, origin] of [['/cse-in', '/id-z'], ['/cse-in', '/id-z/Cae'], ['/~/id-in/cse-in', '/id-z']] as const) {
      const read = await call(port(), ca, 'GET', path, origin, { client: asZ });
      assert.equal(read.rsc, 4106, `${path} as ${origin}: ${JSON.stringify(read.body)}`);
    }
    // Before registering, a CSE looks for its <remoteCSE> (Warden reads it, ACME deletes it) and registers on 4004.
    assert.equal((await call(port(), ca, 'GET', '/~/id-in/id-z', '/id-z', { client: asZ })).rsc, 4004);
    assert.equal((await call(port(), ca, 'DELETE', '/cse-in/id-z', '/id-z', { client: asZ })).rsc, 4004);
    assert.equal((await call(port(), ca, 'POST', '/cse-in', '/id-z', { ty: 16, body: registration('/id-z'), client: asZ })).rsc, 2001);
    assert.equal((await call(port(), ca, 'GET', '/cse-in', '/id-z', { client: asZ })).rsc, 2000);
    assert.equal((await call(port(), ca, 'DELETE', '/cse-in/id-z', '/id-z', { client: asZ })).rsc, 2002);
    // Deregistered, it is a stranger again.
    assert.equal((await call(port(), ca, 'GET', '/cse-in', '/id-z', { client: asZ })).rsc, 4106);
    assert.equal((await call(port(), ca, 'DELETE', '/cse-in/probe', 'Cprobe')).rsc, 2002);
  });

  it("knows a registree's descendants by an index: a dcse change counts (added, removed), a stranger's requests read no page of <remoteCSE> each", async () => {
    const asX = certs['id-x'];
    const asZ = certs['id-z'];
    const store = inCse.cse.services.store;
    const children = store.children.bind(store);
    let pages = 0;
    store.children = (pi, q) => {
      if (q?.ty === 16) pages++;
      return children(pi, q);
    };
    try {
      assert.equal((await call(port(), ca, 'POST', '/cse-in', '/id-x', { ty: 16, body: registration('/id-x'), client: asX })).rsc, 2001);
      const read = async (): Promise<number> => (await call(port(), ca, 'GET', '/cse-in', '/id-z', { client: asZ })).rsc;
      // A CSE neither registered nor listed: every request asks who lists it; the registrees are read once for all.
      pages = 0;
      for (let i = 0; i < 5; i++) assert.equal(await read(), 4106);
      assert.ok(pages <= 1, `${pages} pages of <remoteCSE> read for 5 requests`);
      const dcse = async (list: string[]): Promise<void> => assert.equal((await call(port(), ca, 'PUT', '/cse-in/id-x', '/id-x', { body: { 'm2m:csr': { dcse: list } }, client: asX })).rsc, 2004);
      await dcse(['/id-z']);
      assert.equal(await read(), 2000, 'a descendant the registree added is known');
      await dcse(['/id-w']);
      assert.equal(await read(), 4106, 'one it removed is not');
      await dcse(['/id-w', '/id-z']);
      assert.equal(await read(), 2000);
      assert.equal((await call(port(), ca, 'DELETE', '/cse-in/id-x', '/id-x', { client: asX })).rsc, 2002);
      assert.equal(await read(), 4106, 'nor once its registree deregistered');
    } finally {
      store.children = children;
    }
  });

  it("keeps the SP-ID of member IDs and subscription references: //other-sp/<csi>/… is not this SP's <csi> (4103)", async () => {
    const asX = certs['id-x'];
    assert.equal((await call(port(), ca, 'POST', '/cse-in', '/id-x', { ty: 16, body: registration('/id-x'), client: asX })).rsc, 2001);
    const nfu = '/id-in/CAdmin';
    // Two groups: one whose member is another SP's CSE of the same CSE-ID, one whose member is the registree's.
    for (const [rn, member] of [['elsewhere', '//other-sp.example.org/id-x/cnt'], ['here', '/id-x/cnt']] as const) {
      const created = await call(port(), ca, 'POST', '/cse-in', 'CAdmin', { ty: 9, body: { 'm2m:grp': { rn, mt: 0, mid: [member], mnm: 4 } } });
      assert.equal(created.rsc, 2001, JSON.stringify(created.body));
      // A group subscription asking for aggregation at nfu: the group remembers nfu before it asks the (unreachable) members.
      await call(port(), ca, 'POST', `/cse-in/${rn}/fopt`, 'CAdmin', { ty: 23, body: { 'm2m:sub': { rn: 'watch', nu: [nfu], nfu, enc: { net: [3] } } } });
    }
    const memberNotification = (sur: string): unknown => ({ 'm2m:sgn': { nfu, sur, nev: { net: 3, rep: { 'm2m:cin': { con: 'x' } } } } });
    // The registree is no member of the first group: another SP's //other-sp/id-x is not this SP's /id-x.
    const notMember = await call(port(), ca, 'POST', '/cse-in/elsewhere', '/id-x', { body: memberNotification('/id-x/cnt/sub'), client: asX });
    assert.equal(notMember.rsc, 4103, JSON.stringify(notMember.body));
    // A member's CSE sends notifications of its own subscriptions only: not of another SP's CSE of the same CSE-ID.
    const otherSub = await call(port(), ca, 'POST', '/cse-in/here', '/id-x', { body: memberNotification('//other-sp.example.org/id-x/cnt/sub'), client: asX });
    assert.equal(otherSub.rsc, 4103, JSON.stringify(otherSub.body));
    // Its own subscription, in either form of this SP, is taken.
    for (const sur of ['/id-x/cnt/sub', '//warden.EXAMPLE.net/id-x/cnt/sub']) {
      const own = await call(port(), ca, 'POST', '/cse-in/here', '/id-x', { body: memberNotification(sur), client: asX });
      assert.ok(own.rsc < 3000, `${sur}: ${own.rsc} ${JSON.stringify(own.body)}`);
    }
    for (const rn of ['elsewhere', 'here']) assert.equal((await call(port(), ca, 'DELETE', `/cse-in/${rn}`, 'CAdmin')).rsc, 2002);
    assert.equal((await call(port(), ca, 'DELETE', '/cse-in/id-x', '/id-x', { client: asX })).rsc, 2002);
  });

  it("refuses an unverified notificationForwardingURI through a group's fopt: a member's CSE could have this CSE send anything anywhere", async () => {
    const asX = certs['id-x'];
    assert.equal((await call(port(), ca, 'POST', '/cse-in', '/id-x', { ty: 16, body: registration('/id-x'), client: asX })).rsc, 2001);
    // The victim: an endpoint that never asked for notifications (it refuses verification requests).
    const victim = await new Receiver().start();
    victim.behaviour = 'refuse';
    try {
      assert.equal((await call(port(), ca, 'POST', '/cse-in', 'Cplotter', { ty: 2, body: { 'm2m:ae': { rn: 'plotter', api: 'Nplotter', rr: false, srv: ['3'] } } })).rsc, 2001);
      // The plotter's group has one member, on the registree it works with.
      const group = await call(port(), ca, 'POST', '/cse-in/plotter', 'Cplotter', { ty: 9, body: { 'm2m:grp': { rn: 'relay', mnm: 4, mid: ['/id-x/cnt'] } } });
      assert.equal(group.rsc, 2001, JSON.stringify(group.body));
      // A group subscription whose nfu is the victim: the group would aggregate its members' notifications for it.
      // The member's subscription is the registree's to make (and verify): this CSE verifies the nfu it will send to.
      const sub = await call(port(), ca, 'POST', '/cse-in/plotter/relay/fopt', 'Cplotter', { ty: 23, body: { 'm2m:sub': { rn: 'watch', nu: ['Cplotter'], nfu: victim.url, enc: { net: [3] } } } });
      assert.equal(sub.rsc, 5204, JSON.stringify(sub.body));
      // The registree, as the member's CSE, sends a "member notification" for that nfu: nothing is queued for the victim.
      const pushed = await call(port(), ca, 'POST', '/cse-in/plotter/relay', '/id-x', { body: { 'm2m:sgn': { nfu: victim.url, sur: '/id-x/cnt/watch', nev: { net: 3, rep: { 'm2m:cin': { con: 'forged' } } } } }, client: asX });
      assert.equal(pushed.rsc, 4103, JSON.stringify(pushed.body));
      assert.ok(victim.received.every((r) => (r.body['m2m:sgn'] as Record<string, unknown> | undefined)?.vrq === true), 'the victim got verification requests only');
      // An nfu the subscriber may use (its own AE) is still taken, and the member's CSE aggregates for it.
      const own = await call(port(), ca, 'POST', '/cse-in/plotter/relay/fopt', 'Cplotter', { ty: 23, body: { 'm2m:sub': { rn: 'mine', nu: ['Cplotter'], nfu: 'Cplotter', enc: { net: [3] } } } });
      assert.equal(own.rsc, 2000, JSON.stringify(own.body));
      const forwarded = await call(port(), ca, 'POST', '/cse-in/plotter/relay', '/id-x', { body: { 'm2m:sgn': { nfu: 'Cplotter', sur: '/id-x/cnt/mine', nev: { net: 3, rep: { 'm2m:cin': { con: 'x' } } } } }, client: asX });
      assert.ok(forwarded.rsc < 3000, JSON.stringify(forwarded.body));
    } finally {
      await victim.stop();
      await call(port(), ca, 'DELETE', '/cse-in/plotter', 'CAdmin');
      assert.equal((await call(port(), ca, 'DELETE', '/cse-in/id-x', '/id-x', { client: asX })).rsc, 2002);
    }
  });

  it('refuses an announced resource whose link names another SP: rcn 7 would forward a reader there as this CSE', async () => {
    const asX = certs['id-x'];
    assert.equal((await call(port(), ca, 'POST', '/cse-in', '/id-x', { ty: 16, body: registration('/id-x'), client: asX })).rsc, 2001);
    const elsewhere = await call(port(), ca, 'POST', '/cse-in', '/id-x', { ty: 10005, body: { 'm2m:cbA': { lnk: '//other-sp.example.org/id-x/cse-x' } }, client: asX });
    assert.equal(elsewhere.rsc, 4000, JSON.stringify(elsewhere.body));
    // The same CSE-ID in this SP's absolute form (the SP-ID compared without case) is the announcing CSE's.
    const here = await call(port(), ca, 'POST', '/cse-in', '/id-x', { ty: 10005, body: { 'm2m:cbA': { lnk: '//WARDEN.example.net/id-x/cse-x' } }, client: asX });
    assert.equal(here.rsc, 2001, JSON.stringify(here.body));
    assert.equal((await call(port(), ca, 'DELETE', '/cse-in/id-x', '/id-x', { client: asX })).rsc, 2002);
  });
});

describe("the CAs of peer SPs (peers.ca) vouch for their IN-CSEs only", () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-peerca-'));
  let ca: string;
  let inCse: TestCse;
  let pki: TestPki;
  let peerCa: Awaited<ReturnType<typeof createCa>>;
  const port = (): number => inCse.cse.httpPort;
  const issue = async (issuer: Awaited<ReturnType<typeof createCa>>, uri: string): Promise<{ cert: string; key: string }> => {
    const pem = await issueCertificate(issuer, { commonName: uri, uris: [uri], usage: 'both' });
    return { cert: pem.certificate, key: pem.key };
  };

  before(async () => {
    pki = await TestPki.create(dir);
    ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    peerCa = await createCa('Peer SP CA');
    writeFileSync(join(dir, 'peer-ca.pem'), peerCa.certificate);
    const files = await pki.cse('id-in');
    inCse = await startCseNode('id-in', 'IN', files, { 'peers.list': 'peer.example.org/id-in=https://127.0.0.1:1', 'peers.ca': join(dir, 'peer-ca.pem') });
  });

  after(async () => {
    await inCse?.close();
  });

  it("forwards over Mcc' to a peer IN-CSE whose certificate only peers.ca vouches for, and that peer admits this IN-CSE by its own peers.ca", async () => {
    // SP B: its own CA, and SP A's CA (this suite's) as its peers.ca.
    const dirB = mkdtempSync(join(tmpdir(), 'warden-peerca-b-'));
    const inB = await issue(peerCa, 'onem2m://peer.example.org/id-in');
    const filesB = { cert: join(dirB, 'in.pem'), key: join(dirB, 'in.key'), ca: join(dirB, 'ca.pem') };
    writeFileSync(filesB.cert, inB.cert);
    writeFileSync(filesB.key, inB.key);
    writeFileSync(filesB.ca, peerCa.certificate);
    const b = await startCseNode('id-in', 'IN', filesB, { 'cse.spid': 'peer.example.org', 'peers.list': `${SP}/id-in=https://127.0.0.1:${port()}`, 'peers.ca': join(dir, 'ca.pem') });
    try {
      const acp = await call(b.cse.httpPort, peerCa.certificate, 'POST', '/cse-in', 'CAdmin', { ty: 1, body: { 'm2m:acp': { rn: 'fromA', pv: { acr: [{ acor: [`//${SP}/id-in/Creader`], acop: 2 }] }, pvs: { acr: [{ acor: ['CAdmin'], acop: 63 }] } } } });
      assert.equal(acp.rsc, 2001, JSON.stringify(acp.body));
      const acpi = String((acp.body?.['m2m:acp'] as Record<string, unknown>).ri);
      assert.equal((await call(b.cse.httpPort, peerCa.certificate, 'POST', '/cse-in', 'CAdmin', { ty: 3, body: { 'm2m:cnt': { rn: 'shared', acpi: [acpi] } } })).rsc, 2001);
      // This IN-CSE (SP A) learns where B is: a second CSE with the peer's URL.
      const a = await startCseNode('id-in', 'IN', await pki.cse('id-in', pki.ca, 'id-in-a'), { 'peers.list': `peer.example.org/id-in=https://127.0.0.1:${b.cse.httpPort}`, 'peers.ca': join(dir, 'peer-ca.pem') });
      try {
        assert.equal((await call(a.cse.httpPort, ca, 'POST', '/cse-in', 'Creader', { ty: 2, body: { 'm2m:ae': { rn: 'reader', api: 'Nreader', rr: false, srv: ['3'] } } })).rsc, 2001);
        const read = await call(a.cse.httpPort, ca, 'GET', '/_/peer.example.org/id-in/cse-in/shared', 'Creader');
        assert.equal(read.rsc, 2000, JSON.stringify(read.body));
      } finally {
        await a.close();
      }
    } finally {
      await b.close();
    }
  });

  it("refuses a certificate a peer SP's CA issued for this SP's admin or CSEs (4107), and accepts the peer's IN-CSE", async () => {
    // Before peers.ca the peer's CA had to go into tls.ca, where it vouched for every name of this SP: such a
    // certificate for CAdmin read and wrote everything here.
    const forgedAdmin = await issue(peerCa, `onem2m://${SP}/id-in/CAdmin`);
    const asAdmin = await call(port(), ca, 'POST', '/cse-in', 'CAdmin', { ty: 3, body: { 'm2m:cnt': { rn: 'planted' } }, client: forgedAdmin });
    assert.equal(asAdmin.rsc, 4107, JSON.stringify(asAdmin.body));
    const forgedCse = await issue(peerCa, `onem2m://${SP}/id-x`);
    assert.equal((await call(port(), ca, 'POST', '/cse-in', '/id-x', { ty: 16, body: registration('/id-x'), client: forgedCse })).rsc, 4107);
    // The peer's IN-CSE passes authentication (its originators are then decided by access control: 4103 here).
    const peerIn = await issue(peerCa, 'onem2m://peer.example.org/id-in');
    assert.equal((await call(port(), ca, 'GET', '/cse-in', '//peer.example.org/id-in/Cae', { client: peerIn })).rsc, 4103);
    assert.equal((await call(port(), ca, 'GET', '/cse-in', 'Cae', { client: peerIn })).rsc, 4106);
    // A peer's IN-CSE is vouched for by peers.ca only, not by this SP's CA.
    const ownForPeer = await issue(pki.ca, 'onem2m://peer.example.org/id-in');
    assert.equal((await call(port(), ca, 'GET', '/cse-in', '//peer.example.org/id-in/Cae', { client: ownForPeer })).rsc, 4107);
    // This SP's own CA still vouches for its names.
    const ownAdmin = await issue(pki.ca, `onem2m://${SP}/id-in/CAdmin`);
    assert.equal((await call(port(), ca, 'GET', '/cse-in', 'CAdmin', { client: ownAdmin })).rsc, 2000);
  });
});

describe("peers.ca binds each peer SP to its own CAs: one peer's CA vouches for no other peer's IN-CSE", () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-peercas-'));
  let ca: string;
  let pki: TestPki;
  let caA: Awaited<ReturnType<typeof createCa>>;
  let caB: Awaited<ReturnType<typeof createCa>>;
  const peers = 'peer-a.example.org/id-in=https://127.0.0.1:1,peer-b.example.org/id-in=https://127.0.0.1:1';
  const issue = async (issuer: Awaited<ReturnType<typeof createCa>>, uri: string): Promise<{ cert: string; key: string }> => {
    const pem = await issueCertificate(issuer, { commonName: uri, uris: [uri], usage: 'both' });
    return { cert: pem.certificate, key: pem.key };
  };

  before(async () => {
    pki = await TestPki.create(dir);
    ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    caA = await createCa('Peer A CA');
    caB = await createCa('Peer B CA');
    writeFileSync(join(dir, 'a.pem'), caA.certificate);
    writeFileSync(join(dir, 'b.pem'), caB.certificate);
    writeFileSync(join(dir, 'both.pem'), `${caA.certificate}\n${caB.certificate}`);
  });

  it("refuses to start with one CA file for several peers, and with per-peer files takes a peer's IN-CSE only from its own CA (4107)", async () => {
    const files = await pki.cse('id-in');
    // One bundle for two peers: peer A's CA would vouch for peer B's IN-CSE, and A act as B's originators here.
    const bundled = await startCseNode('id-in', 'IN', files, { 'peers.list': peers, 'peers.ca': join(dir, 'both.pem') }).then(
      (started) => started,
      (err: unknown) => err,
    );
    if (!(bundled instanceof Error)) {
      await (bundled as TestCse).close();
      assert.fail('started with one CA file for two peer SPs');
    }
    assert.match(bundled.message, /peers\.ca/);
    const inCse = await startCseNode('id-in', 'IN', files, { 'peers.list': peers, 'peers.ca': `peer-a.example.org=${join(dir, 'a.pem')},peer-b.example.org=${join(dir, 'b.pem')}` });
    try {
      const port = inCse.cse.httpPort;
      const asB = await issue(caA, 'onem2m://peer-b.example.org/id-in');
      const forged = await call(port, ca, 'GET', '/cse-in', '//peer-b.example.org/id-in/Cae', { client: asB });
      assert.equal(forged.rsc, 4107, JSON.stringify(forged.body));
      // Each peer's own CA: authenticated as that peer's IN-CSE (what its originators may do is access control's: 4103).
      assert.equal((await call(port, ca, 'GET', '/cse-in', '//peer-b.example.org/id-in/Cae', { client: await issue(caB, 'onem2m://peer-b.example.org/id-in') })).rsc, 4103);
      assert.equal((await call(port, ca, 'GET', '/cse-in', '//peer-a.example.org/id-in/Cae', { client: await issue(caA, 'onem2m://peer-a.example.org/id-in') })).rsc, 4103);
    } finally {
      await inCse.close();
    }
  });
});

describe('access control: an acor entry that names a <group> grants its members only', () => {
  let cse: TestCse;
  before(async () => {
    cse = await startTestCse();
  });
  after(async () => {
    await cse?.close();
  });

  it("refuses an unregistered originator that calls itself by the group's resource ID", async () => {
    const c = cse.client;
    const owner = await c.registerAe('owner');
    const member = await c.registerAe('member');
    // Mixed: with memberType AE the owner would have to be able to read the member AE (5105, TS-0004 §7.4.13.2.1).
    const group = await c.create('/cse-in/owner', 9, { 'm2m:grp': { rn: 'readers', mt: 0, mnm: 10, mid: [member] } }, owner);
    assert.equal(group.rsc, 2001, group.text);
    const groupRi = String((group.body?.['m2m:grp'] as Record<string, unknown>).ri);
    await readableBy(c, owner, '/cse-in/owner', 'byGroup', [groupRi]);
    assert.equal((await c.retrieve('/cse-in/owner/data', member)).rsc, 2000);
    // An originator that is no AE-ID needs no registration here; named like the group, it matched the entry itself.
    const forged = await c.retrieve('/cse-in/owner/data', groupRi);
    assert.equal(forged.rsc, 4103, forged.text);
  });
});

describe('forwarding: parameters that become HTTP headers on the CSE link', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-headers-'));
  let inCse: TestCse;
  let ws: WebSocket;

  before(async () => {
    const pki = await TestPki.create(dir);
    const ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    inCse = await startCseNode('id-in', 'IN', await pki.cse('id-in'), { 'ws.enabled': true, 'ws.port': 0 });
    const x = await pki.cse('id-x');
    const asX = { cert: readFileSync(x.cert, 'utf8'), key: readFileSync(x.key, 'utf8') };
    assert.equal((await call(inCse.cse.httpPort, ca, 'POST', '/cse-in', '/id-x', { ty: 16, body: registration('/id-x'), client: asX })).rsc, 2001);
    ws = new WebSocket(`ws://127.0.0.1:${String(inCse.cse.wsPort)}`, 'oneM2M.R2.0.json');
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
  });

  after(async () => {
    ws?.close();
    await inCse?.close();
  });

  it('answers control characters in vsi, gid, rt.nu and tkns with 4000, not a 5000 from the link', async () => {
    for (const extra of [{ vsi: 'a\r\nX-Injected: 1' }, { gid: 'a\nb' }, { rt: { rtv: 2, nu: ['http://x/\r\nA: b'] } }, { tkns: ['a\r\nb'] }]) {
      const answer = new Promise<string>((resolve) => ws.once('message', (data: Buffer) => resolve(data.toString('utf8'))));
      ws.send(JSON.stringify({ op: 2, to: '/id-x/cse-x', fr: 'probe', rqi: 'r1', rvi: '3', ...extra }));
      const rsc = (JSON.parse(await answer) as { rsc: number }).rsc;
      assert.equal(rsc, 4000, JSON.stringify(extra));
    }
  });
});

describe('roles: a Role-ID is its issuer\'s (TS-0004 m2m:roleID issuerRelativeID@issuerID)', () => {
  let cse: TestCse;
  before(async () => {
    cse = await startTestCse();
  });
  after(async () => {
    await cse?.close();
  });

  it("refuses a <role> whose Role-ID names another issuer than its tkis (4000), the admin's too", async () => {
    const c = cse.client;
    const owner = await c.registerAe('owner');
    const guest = await c.registerAe('guest');
    // A policy of this SP that trusts the roles another issuer (das.example.net) assigns.
    await readableBy(c, owner, '/cse-in/owner', 'byRole', ['reader@das.example.net']);
    const now = Date.now();
    const role = (rn: string, rlid: string, tkis: string): unknown => ({ 'm2m:rol': { rn, rlid, tkis, tkhd: guest, tknb: formatTimestamp(now - 60_000), tkna: formatTimestamp(now + 600_000) } });
    // The creator names itself (this SP's CAdmin) as the issuer, but mints das.example.net's Role-ID.
    const minted = await c.create('/cse-in', 31, role('minted', 'reader@das.example.net', 'CAdmin'), 'CAdmin');
    assert.equal(minted.rsc, 4000, minted.text);
    assert.equal((await c.retrieve('/cse-in/owner/data?rids=reader@das.example.net', guest)).rsc, 4103);
    // Another SP's issuer that is not the Role-ID's, in absolute form, neither.
    assert.equal((await c.create('/cse-in', 31, role('other', 'reader@das.example.net', '//other.example.org/id-in/CAuthority'), 'CAdmin')).rsc, 4000);
    // An issuer of das.example.net (the SP-ID compared without case) assigns its own Role-ID; this SP's issuer its own.
    const assigned = await c.create('/cse-in', 31, role('assigned', 'reader@das.example.net', '//DAS.example.net/id-das/CAuthority'), 'CAdmin');
    assert.equal(assigned.rsc, 2001, assigned.text);
    assert.equal((await c.retrieve('/cse-in/owner/data?rids=reader@das.example.net', guest)).rsc, 2000);
    assert.equal((await c.create('/cse-in', 31, role('own', `auditor@${SP}`, 'CAdmin'), 'CAdmin')).rsc, 2001);
  });

  it('gives nothing for a <role> stored before that check whose Role-ID is not its issuer\'s (TS-0003 §7.4.3 step 4)', async () => {
    const c = cse.client;
    const owner = await c.registerAe('keeper');
    const guest = await c.registerAe('visitor');
    await readableBy(c, owner, '/cse-in/keeper', 'byRole', ['writer@das.example.net']);
    const now = Date.now();
    const stored = (ri: string, tkis: string) => ({
      ri, pi: cse.config.cse.id, ty: 31, rn: ri, srn: `${cse.config.cse.rn}/${ri}`, ct: formatTimestamp(now), lt: formatTimestamp(now), et: now + 600_000,
      doc: { rlid: 'writer@das.example.net', tkis, tkhd: guest, tknb: formatTimestamp(now - 60_000), tkna: formatTimestamp(now + 600_000) },
    });
    await cse.cse.services.store.insert(stored('rolOld', 'CAdmin'));
    assert.equal((await c.retrieve('/cse-in/keeper/data?rids=writer@das.example.net', guest)).rsc, 4103);
    await cse.cse.services.store.insert(stored('rolIssued', '//das.example.net/id-das/CAuthority'));
    assert.equal((await c.retrieve('/cse-in/keeper/data?rids=writer@das.example.net', guest)).rsc, 2000);
  });
});

describe('WebSocket handshakes from web pages (cross-site WebSocket hijacking, DNS rebinding)', () => {
  // On loopback the admin needs no credential (admin.fromLoopback), so a page in a browser on the same machine that
  // could open a connection could act as the admin: browsers send the page's Origin and apply no CORS to WebSocket.
  let t: TestCse;
  let listed: TestCse;
  before(async () => {
    t = await startTestCse({ 'ws.enabled': true, 'ws.port': 0 });
    listed = await startTestCse({ 'ws.enabled': true, 'ws.port': 0, 'ws.allowedOrigins': 'https://console.example.net' });
  });
  after(async () => {
    await t?.close();
    await listed?.close();
  });

  /** The handshake's outcome: the HTTP status of a refusal, or the admin's RETRIEVE of the CSEBase over the connection. */
  function attempt(port: number, headers: Record<string, string>): Promise<{ refused?: number; rsc?: number }> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`ws://127.0.0.1:${String(port)}`, ['oneM2M.json'], { headers });
      socket.once('unexpected-response', (_req, res) => {
        resolve({ refused: res.statusCode ?? 0 });
        socket.terminate();
      });
      socket.once('open', () => socket.send(JSON.stringify({ op: 2, to: 'cse-in', fr: 'CAdmin', rqi: 'cswsh', rvi: '3' })));
      socket.once('message', (data: Buffer) => {
        resolve({ rsc: Number((JSON.parse(data.toString()) as { rsc: unknown }).rsc) });
        socket.close();
      });
      socket.once('error', reject);
    });
  }

  it('refuses a handshake that carries the Origin of a page (403), and one for a host name it does not serve (400)', async () => {
    const port = t.cse.wsPort as number;
    assert.deepEqual(await attempt(port, { Origin: 'http://evil.example' }), { refused: 403 });
    assert.deepEqual(await attempt(port, { Origin: 'null' }), { refused: 403 });
    assert.deepEqual(await attempt(port, { Host: 'attacker.rebind.example' }), { refused: 400 });
    // A device or application sends no Origin, and is served as before.
    assert.deepEqual(await attempt(port, {}), { rsc: 2000 });
  });

  it('admits the pages of the origins ws.allowedOrigins lists, and only those', async () => {
    const port = listed.cse.wsPort as number;
    assert.deepEqual(await attempt(port, { Origin: 'https://console.example.net' }), { rsc: 2000 });
    assert.deepEqual(await attempt(port, { Origin: 'https://console.example.net.evil.example' }), { refused: 403 });
    assert.deepEqual(await attempt(port, { Origin: 'http://console.example.net' }), { refused: 403 });
  });
});
