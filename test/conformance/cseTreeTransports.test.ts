// The tree of issue #19's "Done when", over both CSE-to-CSE transports: three Warden processes on loopback — an
// IN-CSE, an MN-CSE registered to it over HTTPS with mutual TLS, and an ASN-CSE registered to the MN over MQTT with
// TLS through a Mosquitto the test starts (client certificates, the per-CSE ACL of docs/deploy/mosquitto.md).
// Registration of both, an AE on the ASN reading a container on the IN through the MN, a notification from the IN
// to that AE (nu = its AE-ID, through MN and broker), a group on the ASN aggregating the notifications of its member
// on the IN with its local member's (nfu), and the MN killed (kill -9), started again and re-registered.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TEST_OUTBOUND_ALLOW } from '../harness.js';
import { startMosquitto, type Mosquitto } from '../mosquitto.js';
import { Receiver, waitFor } from '../receiver.js';
import { SP, TestPki, call, spawnCse, stopCse, type CseFiles, type Reply, type WardenProcess } from '../cse.js';

type Attrs = Record<string, unknown>;
const of = (r: Reply, name: string): Attrs => (r.body?.[name] ?? {}) as Attrs;
const sgnOf = (body: Attrs | undefined): Attrs => (body?.['m2m:sgn'] ?? {}) as Attrs;

describe('IN, MN and ASN as three processes: HTTPS with mutual TLS up from the MN, MQTT over TLS up from the ASN', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-tree2-'));
  const files: Record<string, CseFiles> = {};
  let ca: string;
  let broker: Mosquitto;
  let inCse: WardenProcess;
  let mnCse: WardenProcess;
  let asnCse: WardenProcess;
  const receiver = new Receiver();

  const flags = (id: string, type: string, extra: string[] = []): string[] => {
    const f = files[id] as CseFiles;
    return [
      `--cse.id=${id}`,
      `--cse.rn=${id.replace('id-', 'cse-')}`,
      `--cse.type=${type}`,
      `--cse.spid=${SP}`,
      '--http.tls=true',
      `--tls.cert=${f.cert}`,
      `--tls.key=${f.key}`,
      `--tls.ca=${f.ca}`,
      '--tls.clientAuth=optional',
      '--security.authentication=cse',
      `--storage.path=${join(dir, `${id}.sqlite`)}`,
      `--outbound.allow=${TEST_OUTBOUND_ALLOW}`,
      '--registrar.retryMin=1',
      '--registrar.retryMax=2',
      '--registrar.timeout=3',
      ...extra,
    ];
  };
  const mqttFlags = (id: string): string[] => {
    const f = files[id] as CseFiles;
    return ['--mqtt.enabled=true', `--mqtt.url=${broker.url}`, `--mqtt.ca=${f.ca}`, `--mqtt.cert=${f.cert}`, `--mqtt.key=${f.key}`, '--mqtt.cseLinks=true', `--mqtt.clientId=warden-${id}`];
  };
  const mnFlags = (): string[] => flags('id-mn', 'MN', [`--registrar.url=https://127.0.0.1:${inCse.port}`, '--registrar.cseId=id-in', '--registrar.rn=cse-in', ...mqttFlags('id-mn')]);
  const csr = async (port: number, path: string): Promise<Attrs | undefined> => (await call(port, ca, 'GET', path, 'CAdmin')).body?.['m2m:csr'] as Attrs | undefined;

  before(async () => {
    const pki = await TestPki.create(dir);
    ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    for (const id of ['id-in', 'id-mn', 'id-asn']) files[id] = await pki.cse(id);
    broker = await startMosquitto(pki, ['id-mn', 'id-asn']);
    await receiver.start();
    inCse = await spawnCse(flags('id-in', 'IN'));
    mnCse = await spawnCse(mnFlags());
    asnCse = await spawnCse(
      flags('id-asn', 'ASN', [`--registrar.url=${broker.url}`, '--registrar.cseId=id-mn', '--registrar.rn=cse-mn', `--registrar.poa=${broker.url}`, ...mqttFlags('id-asn')]),
    );
    // The ASN registers with the MN through the broker, and the MN tells the IN it has a descendant.
    await waitFor(async () => JSON.stringify((await csr(inCse.port, '/cse-in/id-mn'))?.dcse) === '["/id-asn"]', 30_000);
    // The ASN records the MN's <remoteCSE> once its registration was answered and the MN's CSEBase read.
    await waitFor(async () => (await csr(asnCse.port, '/cse-asn/id-mn')) !== undefined, 10_000);
  });

  after(async () => {
    for (const p of [asnCse, mnCse, inCse]) if (p) await stopCse(p);
    broker?.stop();
    await receiver.stop();
  });

  it('registers both: the MN on the IN at its HTTPS address, the ASN on the MN at the broker, each with the other', async () => {
    const mnOnIn = await csr(inCse.port, '/cse-in/id-mn');
    assert.equal(mnOnIn?.csi, '/id-mn');
    assert.match(String((mnOnIn?.poa as string[] | undefined)?.[0]), /^https:\/\//);
    assert.equal((await csr(mnCse.port, '/cse-mn/id-in'))?.csi, '/id-in', JSON.stringify(await call(mnCse.port, ca, 'GET', '/cse-mn/id-in', 'CAdmin')));
    const asnOnMn = await csr(mnCse.port, '/cse-mn/id-asn');
    assert.equal(asnOnMn?.csi, '/id-asn');
    assert.deepEqual(asnOnMn?.poa, [broker.url]);
    assert.equal((await csr(asnCse.port, '/cse-asn/id-mn'))?.csi, '/id-mn', JSON.stringify(await call(asnCse.port, ca, 'GET', '/cse-asn/id-mn', 'CAdmin')));
  });

  it('lets an AE on the ASN read a container on the IN through the MN (MQTT, then HTTPS), and subscribe to it there', async () => {
    const acp = await call(inCse.port, ca, 'POST', '/cse-in', 'CAdmin', {
      ty: 1,
      body: { 'm2m:acp': { rn: 'fieldReaders', pv: { acr: [{ acor: ['/id-asn/Cfield'], acop: 35 }] }, pvs: { acr: [{ acor: ['CAdmin'], acop: 63 }] } } },
    });
    assert.equal(acp.rsc, 2001, JSON.stringify(acp.body));
    const acpi = `/id-in/${String(of(acp, 'm2m:acp').ri)}`;
    assert.equal((await call(inCse.port, ca, 'POST', '/cse-in', 'CAdmin', { ty: 3, body: { 'm2m:cnt': { rn: 'settings', acpi: [acpi] } } })).rsc, 2001);
    assert.equal((await call(inCse.port, ca, 'POST', '/cse-in/settings', 'CAdmin', { ty: 4, body: { 'm2m:cin': { con: 'interval=60' } } })).rsc, 2001);
    const ae = await call(asnCse.port, ca, 'POST', '/cse-asn', 'Cfield', { ty: 2, body: { 'm2m:ae': { rn: 'field', api: 'Nfield', rr: true, srv: ['3'], poa: [receiver.url] } } });
    assert.equal(ae.rsc, 2001, JSON.stringify(ae.body));
    const read = await call(asnCse.port, ca, 'GET', '/~/id-in/cse-in/settings/la', 'Cfield');
    assert.equal(read.rsc, 2000, JSON.stringify(read.body));
    assert.equal(of(read, 'm2m:cin').con, 'interval=60');
    // An AE the IN's policy does not name is refused there, and the refusal comes back down.
    assert.equal((await call(asnCse.port, ca, 'POST', '/cse-asn', 'Cother', { ty: 2, body: { 'm2m:ae': { rn: 'other', api: 'Nfield', rr: false, srv: ['3'] } } })).rsc, 2001);
    assert.equal((await call(asnCse.port, ca, 'GET', '/~/id-in/cse-in/settings/la', 'Cother')).rsc, 4103);
  });

  it('notifies the AE on the ASN of a change on the IN: nu is its AE-ID, the notification goes down through the MN and the broker', async () => {
    const sub = await call(asnCse.port, ca, 'POST', '/~/id-in/cse-in/settings', 'Cfield', { ty: 23, body: { 'm2m:sub': { rn: 'fieldWatch', nu: ['/id-asn/Cfield'], enc: { net: [3] } } } });
    assert.equal(sub.rsc, 2001, JSON.stringify(sub.body));
    const count = receiver.notifications().length;
    assert.equal((await call(inCse.port, ca, 'POST', '/cse-in/settings', 'CAdmin', { ty: 4, body: { 'm2m:cin': { con: 'interval=30' } } })).rsc, 2001);
    await waitFor(() => receiver.notifications().length > count, 15_000);
    const sgn = sgnOf(receiver.notifications()[count]);
    assert.equal(sgn.sur, `/id-in/${String(of(sub, 'm2m:sub').ri)}`);
    assert.equal((((sgn.nev as Attrs).rep as Attrs)['m2m:cin'] as Attrs).con, 'interval=30');
  });

  it('aggregates at a group on the ASN the notifications of its member on the IN (two hops away) with those of its local member', async () => {
    assert.equal((await call(asnCse.port, ca, 'POST', '/cse-asn/field', 'Cfield', { ty: 3, body: { 'm2m:cnt': { rn: 'nearby' } } })).rsc, 2001);
    const grp = await call(asnCse.port, ca, 'POST', '/cse-asn/field', 'Cfield', {
      ty: 9,
      body: { 'm2m:grp': { rn: 'watched', mt: 3, mnm: 2, mid: ['/id-in/cse-in/settings', 'cse-asn/field/nearby'], nar: { num: 2, dur: 'PT30S' } } },
    });
    assert.equal(grp.rsc, 2001, JSON.stringify(grp.body));
    const fanned = await call(asnCse.port, ca, 'POST', '/cse-asn/field/watched/fopt', 'Cfield', { ty: 23, body: { 'm2m:sub': { rn: 'groupWatch', nu: ['/id-asn/Cfield'], nfu: '/id-asn/Cfield', enc: { net: [3] } } } });
    assert.equal(fanned.rsc, 2000, JSON.stringify(fanned.body));
    const answers = (of(fanned, 'm2m:agr')['m2m:rsp'] as Attrs[]) ?? [];
    assert.deepEqual(answers.map((a) => a.rsc), [2001, 2001], JSON.stringify(answers));
    const count = receiver.received.length;
    assert.equal((await call(inCse.port, ca, 'POST', '/cse-in/settings', 'CAdmin', { ty: 4, body: { 'm2m:cin': { con: 'from the IN' } } })).rsc, 2001);
    assert.equal((await call(asnCse.port, ca, 'POST', '/cse-asn/field/nearby', 'Cfield', { ty: 4, body: { 'm2m:cin': { con: 'from the ASN' } } })).rsc, 2001);
    await waitFor(() => receiver.received.slice(count).some((r) => r.body['m2m:agn'] !== undefined), 20_000);
    const agn = receiver.received.slice(count).find((r) => r.body['m2m:agn'] !== undefined)?.body['m2m:agn'] as Attrs;
    const cons = (agn['m2m:sgn'] as Attrs[]).map((n) => (((n.nev as Attrs).rep as Attrs)['m2m:cin'] as Attrs).con);
    assert.deepEqual(cons.sort(), ['from the ASN', 'from the IN']);
    // The IN's fieldWatch subscription (nu, no group) still notifies on its own.
    await waitFor(() => receiver.received.slice(count).some((r) => (((sgnOf(r.body).nev as Attrs | undefined)?.rep as Attrs | undefined)?.['m2m:cin'] as Attrs | undefined)?.con === 'from the IN'), 20_000);
  });

  it('re-registers the MN after kill -9: its <remoteCSE> on the IN found and updated, forwarding and notifications resume', async () => {
    const before = (await csr(inCse.port, '/cse-in/id-mn')) as Attrs;
    const port = mnCse.port;
    await stopCse(mnCse, 'SIGKILL');
    // The MN is down: nothing the ASN sends up gets an answer (5103), and the ASN still serves its own AEs.
    assert.equal((await call(asnCse.port, ca, 'GET', '/~/id-in/cse-in/settings/la', 'Cfield')).rsc, 5103);
    assert.equal((await call(asnCse.port, ca, 'GET', '/cse-asn/field', 'Cfield')).rsc, 2000);
    mnCse = await spawnCse([...mnFlags(), `--http.port=${port}`]);
    await waitFor(async () => {
      const now = await csr(inCse.port, '/cse-in/id-mn');
      return now !== undefined && now.lt !== before.lt;
    }, 30_000);
    const again = (await csr(inCse.port, '/cse-in/id-mn')) as Attrs;
    assert.equal(again.ct, before.ct, 'the same <remoteCSE>, not a new one');
    assert.deepEqual(again.dcse, ['/id-asn']);
    // Through the broker again, once the restarted MN has subscribed there.
    await waitFor(async () => (await call(asnCse.port, ca, 'GET', '/~/id-in/cse-in/settings/la', 'Cfield')).rsc === 2000, 20_000);
    const count = receiver.notifications().length;
    assert.equal((await call(inCse.port, ca, 'POST', '/cse-in/settings', 'CAdmin', { ty: 4, body: { 'm2m:cin': { con: 'interval=15' } } })).rsc, 2001);
    await waitFor(() => receiver.notifications().slice(count).some((n) => (((sgnOf(n).nev as Attrs | undefined)?.rep as Attrs | undefined)?.['m2m:cin'] as Attrs | undefined)?.con === 'interval=15'), 20_000);
  });
});
