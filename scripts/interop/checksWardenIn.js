// Run B of scripts/interop/acme.sh: Warden as IN-CSE (/id-in), ACME as MN-CSE (/id-mn) registered to it over
// mutual TLS. Prints one "PASS|FAIL <check>: <detail>" line per check and exits with the number of failures. The AE
// lives on ACME and talks to ACME's own loopback port (an AE-to-CSE hop); Warden is read as its admin.
//
// Env: IN_URL (Warden, https), ACME_URL (ACME's own loopback port), ACME_TLS_URL (its TLS sidecar), PKI (dir with
// ca.pem), RX_PORT (the AE's notification receiver), IN_LOG (Warden's log file), ACME_LOG_DIR (ACME's log files).
import { readdirSync, readFileSync } from 'node:fs';
import { brief, check, env, eventually, finish, request, startReceiver } from './lib.js';

const IN = env('IN_URL');
const ACME = env('ACME_URL');
const ACME_TLS = env('ACME_TLS_URL');
const PKI = env('PKI');
const RX_PORT = Number(env('RX_PORT'));
const IN_LOG = env('IN_LOG');
const ACME_LOG_DIR = env('ACME_LOG_DIR');
const ca = readFileSync(`${PKI}/ca.pem`);
const AE = 'Cmnae';
const ADMIN = 'CAdmin';

const toWarden = (path, options = {}) => request(`${IN}${path}`, { origin: ADMIN, ...options, tls: { ca } });
const toAcme = (path, options = {}) => request(`${ACME}${path}`, options);
const wardenLogSince = (lines) => readFileSync(IN_LOG, 'utf8').split('\n').slice(lines);
const wardenLogLength = () => readFileSync(IN_LOG, 'utf8').split('\n').length;
// ACME logs the bodies of the answers it gets: what Warden told it, which Warden's request log does not carry.
const acmeLog = () => readdirSync(ACME_LOG_DIR).filter((name) => name.endsWith('.log')).map((name) => readFileSync(`${ACME_LOG_DIR}/${name}`, 'utf8')).join('\n');
const { received, close } = await startReceiver(RX_PORT);

// 1. Registration, both ways [TS-0001 §10.2.2.6–10.2.2.8]. ACME leaves out its spi (see docs/interop.md).
await check("registration: ACME's <remoteCSE> on Warden", async () => {
  const r = await toWarden('/cse-in/id-mn');
  const csr = r.json?.['m2m:csr'];
  const ok = r.rsc === 2000 && csr?.csi === '/id-mn' && csr?.cb === '/id-mn/cse-mn' && csr?.cst === 2 && csr?.poa?.[0] === ACME_TLS;
  return { ok, detail: ok ? `csi ${csr.csi}, cb ${csr.cb}, poa ${csr.poa}` : brief(r) };
});
await check("registration: Warden's <remoteCSE> on ACME", async () => {
  const r = await toAcme('/cse-mn/id-in', { origin: ADMIN });
  const csr = r.json?.['m2m:csr'];
  const ok = r.rsc === 2000 && csr?.csi === '/id-in' && csr?.cb === '/id-in/cse-in' && csr?.cst === 1;
  return { ok, detail: ok ? `csi ${csr.csi}, cb ${csr.cb}, poa ${csr.poa}` : brief(r) };
});

// 2. The link is a security association both ways.
await check('mutual TLS: ACME (through its sidecar) refuses a connection without a client certificate', async () => {
  const r = await request(`${ACME_TLS}/cse-mn`, { origin: ADMIN, tls: { ca } });
  return { ok: r.rsc === 0, detail: r.rsc === 0 ? `connection refused (${r.error})` : `answered ${brief(r)}` };
});
await check('mutual TLS: Warden refuses the CSE-ID /id-mn without its certificate (4107)', async () => {
  const r = await toWarden('/cse-in', { origin: '/id-mn' });
  return { ok: r.rsc === 4107, detail: brief(r) };
});

// 3. An AE on ACME; its policy lets Warden (/id-in) notify it, as ACME checks NOTIFY against the target's acpi.
await check('AE registers on the ACME MN, with a policy that lets /id-in notify it', async () => {
  const r = await toAcme('/cse-mn', { method: 'POST', origin: AE, ty: 2, body: { 'm2m:ae': { rn: 'mnae', api: 'Nmnae', rr: true, srv: ['3'], poa: [`http://127.0.0.1:${RX_PORT}`] } } });
  if (r.rsc !== 2001) return { ok: false, detail: brief(r) };
  const acp = await toAcme('/cse-mn/mnae', { method: 'POST', origin: AE, ty: 1, body: { 'm2m:acp': { rn: 'notifiers', pv: { acr: [{ acor: ['/id-in', AE], acop: 63 }] }, pvs: { acr: [{ acor: [AE], acop: 63 }] } } } });
  const linked = await toAcme('/cse-mn/mnae', { method: 'PUT', origin: AE, body: { 'm2m:ae': { acpi: [`/id-mn/${acp.json?.['m2m:acp']?.ri}`] } } });
  const ok = acp.rsc === 2001 && linked.rsc === 2004;
  return { ok, detail: ok ? `aei ${r.json['m2m:ae'].aei}` : `acp ${brief(acp)}; acpi ${brief(linked)}` };
});

// 4. Forwarding up through ACME to Warden [TS-0004 §7.3.2]: Warden decides by a policy naming /id-mn/Cmnae.
await check('forwarding: the AE on ACME reads and writes a container on Warden through ACME', async () => {
  const acp = await toWarden('/cse-in', { method: 'POST', ty: 1, body: { 'm2m:acp': { rn: 'mnReaders', pv: { acr: [{ acor: [`/id-mn/${AE}`], acop: 63 }] }, pvs: { acr: [{ acor: [ADMIN], acop: 63 }] } } } });
  const cnt = await toWarden('/cse-in', { method: 'POST', ty: 3, body: { 'm2m:cnt': { rn: 'settings', acpi: ['cse-in/mnReaders'] } } });
  const first = await toWarden('/cse-in/settings', { method: 'POST', ty: 4, body: { 'm2m:cin': { con: 'interval=60' } } });
  if (acp.rsc !== 2001 || cnt.rsc !== 2001 || first.rsc !== 2001) return { ok: false, detail: `Warden set-up: ${brief(acp)}; ${brief(cnt)}; ${brief(first)}` };
  const latest = await toAcme('/~/id-in/cse-in/settings/la', { origin: AE });
  const written = await toAcme('/~/id-in/cse-in/settings', { method: 'POST', origin: AE, ty: 4, body: { 'm2m:cin': { con: 'from the ACME MN' } } });
  const onWarden = await toWarden('/cse-in/settings/la');
  const ok = latest.json?.['m2m:cin']?.con === 'interval=60' && written.rsc === 2001 && onWarden.json?.['m2m:cin']?.con === 'from the ACME MN';
  return { ok, detail: ok ? 'la read through ACME; the AE\'s contentInstance is the latest on Warden' : `la ${brief(latest)}; cin ${brief(written)}` };
});
await check("forwarding: Warden's 4103 reaches the AE where Warden grants it nothing", async () => {
  const r = await toAcme('/~/id-in/cse-in', { method: 'POST', origin: AE, ty: 3, body: { 'm2m:cnt': { rn: 'notAllowed' } } });
  return { ok: r.rsc === 4103, detail: brief(r) };
});

// 5. A subscription on Warden notifies the AE on ACME: nu is its SP-relative AE-ID, Warden sends the NOTIFY to
// ACME's point of access (the sidecar), ACME re-targets it to the AE.
await check('notification: a subscription on Warden (nu /id-mn/Cmnae) reaches the AE on ACME', async () => {
  const sub = await toAcme('/~/id-in/cse-in/settings', { method: 'POST', origin: AE, ty: 23, body: { 'm2m:sub': { rn: 'toAcmeAe', nu: [`/id-mn/${AE}`], enc: { net: [3] } } } });
  if (sub.rsc !== 2001) return { ok: false, detail: `subscription ${brief(sub)}` };
  const cin = await toAcme('/~/id-in/cse-in/settings', { method: 'POST', origin: AE, ty: 4, body: { 'm2m:cin': { con: 'notify the ACME AE' } } });
  const got = await eventually(() => received.find((n) => n.body?.['m2m:sgn']?.nev?.rep?.['m2m:cin']?.con === 'notify the ACME AE'), 15000);
  return { ok: cin.rsc === 2001 && got !== undefined, detail: got ? `m2m:sgn from ${got.origin}, sur ${got.body['m2m:sgn'].sur}` : `no notification (cin ${cin.rsc}; ${received.length} received)` };
});

await check("notification: a subscription by Warden's admin verifies the AE on ACME first (vrq), then notifies it", async () => {
  const before = received.length;
  const sub = await toWarden('/cse-in/settings', { method: 'POST', ty: 23, body: { 'm2m:sub': { rn: 'byAdmin', nu: [`/id-mn/${AE}`], enc: { net: [3] } } } });
  const verification = received.slice(before).find((n) => n.body?.['m2m:sgn']?.vrq === true);
  if (sub.rsc !== 2001) return { ok: false, detail: `subscription ${brief(sub)} (${verification ? 'verification reached the AE' : 'no verification reached the AE'})` };
  const cin = await toWarden('/cse-in/settings', { method: 'POST', ty: 4, body: { 'm2m:cin': { con: 'from Warden admin' } } });
  const got = await eventually(() => received.find((n) => n.body?.['m2m:sgn']?.nev?.rep?.['m2m:cin']?.con === 'from Warden admin'), 15000);
  const ok = verification !== undefined && cin.rsc === 2001 && got !== undefined;
  return { ok, detail: `verification ${verification ? `from ${verification.origin}, creator ${verification.body['m2m:sgn'].cr}` : 'missing'}; notification ${got ? 'received' : 'missing'}` };
});

// 6. Announcement from ACME [TS-0001 §10.2.13]: ACME first creates its <CSEBaseAnnc> on Warden. Its "et": null is
// taken as no et (an optional attribute given as null in a CREATE is absent: docs/conformance.md); its acpi names
// ACME's own, unannounced policy (/id-mn/acpCreateRootResources), where TS-0001 table 9.6.26.1-1 wants a policy
// announced by the original, so Warden refuses it (4000), and ACME then gives the AE's announcement up. This check
// passes when exactly that happens: it documents ACME's departure, not a success (docs/interop.md).
await check('announcement from ACME: its <CSEBaseAnnc> CREATE (et null taken) names an unannounced acpi and Warden refuses it (4000; ACME departs)', async () => {
  const before = wardenLogLength();
  const acmeBefore = acmeLog().length;
  const r = await toAcme('/cse-mn/mnae', { method: 'PUT', origin: AE, body: { 'm2m:ae': { at: ['/id-in'] } } });
  const refused = await eventually(() =>
    wardenLogSince(before).some((line) => line.includes('"originator":"/id-mn"') && line.includes('"op":"CREATE"') && line.includes('"rsc":4000')),
  );
  // ACME writes its log from a thread of its own: the answer's line may come after Warden's.
  const forAcpi = await eventually(() => acmeLog().slice(acmeBefore).includes('is not an accessControlPolicy of this CSE'));
  const forEt = acmeLog().slice(acmeBefore).includes("'et' must not be null");
  const announced = await toWarden('/cse-in?fu=1&ty=10002');
  const none = Array.isArray(announced.json?.['m2m:uril']) && announced.json['m2m:uril'].length === 0;
  return {
    ok: refused && forAcpi && !forEt && none,
    detail: `ACME answered the AE ${r.rsc}; Warden ${refused ? `refused the <CSEBaseAnnc> (4000) for ${forAcpi ? 'its acpi' : 'another reason'}${forEt ? ' and for et null' : ''}` : 'logged no refusal'}; ${none ? 'no <AEAnnc> on Warden' : `AEAnnc: ${announced.text}`}`,
  };
});

// 7. Deregistration by the registrar [TS-0001 §10.2.2.10]: Warden deletes ACME's <remoteCSE> here and sends ACME
// the DELETE of its own <remoteCSE> there.
await check("deregistration: deleting /cse-in/id-mn on Warden removes Warden's <remoteCSE> from ACME", async () => {
  const r = await toWarden('/cse-in/id-mn', { method: 'DELETE' });
  const gone = await eventually(async () => (await toAcme('/cse-mn/id-in', { origin: ADMIN })).rsc === 4004);
  return { ok: r.rsc === 2002 && gone, detail: `delete ${r.rsc}; ACME's /cse-mn/id-in ${gone ? 'gone (4004)' : 'still there'}` };
});

close();
finish();
