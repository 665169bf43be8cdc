// Tokens beyond the first use (TS-0003 §7.3.2.3 steps 7.2, 8): a token presented whole gets a Local-Token-ID,
// answered in ati (X-M2M-ATI, CoAP option 327, ati in the MQTT / WebSocket primitive), which its holder — and no one
// else — may present instead (ltids). A revoked token (dynamicAuthorization.revokedTokens) grants nothing, however
// it is presented. tkns and ltids travel on every binding (HTTP Authorization, CoAP Uri-Query, the primitive).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { CompactEncrypt, SignJWT, exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { startTestCse, type TestCse } from '../harness.js';
import { formatTimestamp } from '../../src/primitive/identifiers.js';
import { xmlCodec } from '../../src/serialization/xml.js';
import { loggedLocalTokenId } from '../../src/security/tokens.js';
import { capturingLogger } from '../logCapture.js';
import { coapClient, httpClient, mqttClient, wsClient, type PrimitiveClient } from '../bindingClients.js';

type Attrs = Record<string, unknown>;
const BROKER = process.env.WARDEN_TEST_MQTT ?? 'mqtt://127.0.0.1:1883';

describe('Local-Token-IDs (ltids, ati), token revocation, and tokens on every binding', () => {
  const cseId = `id-ltid${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'warden-ltids-'));
  const revocations = join(dir, 'revoked.json');
  let t: TestCse;
  type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  let key: Key;
  let boxRi = '';
  let encryptionKey: Key;
  const captured = capturingLogger();
  const logged = (event: string): Array<Record<string, unknown>> => captured.lines.filter((line) => line.event === event);
  const box = '/cse-in/owner/box';
  let serial = 0;

  const token = (holder = 'Cguest', acop = 2): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { tkvr: '1', jti: `tk${++serial}@das.example.net`, iss: 'CDas', azp: holder, nbf: now - 60, exp: now + 600, aud: [`/${cseId}`], tkps: { pm: [{ ris: [boxRi], pv: { acr: [{ acor: [holder], acop }] } }] } };
    return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).sign(key);
  };
  const get = (from: string, options: { tkns?: string; ltids?: string } = {}): ReturnType<TestCse['client']['retrieve']> =>
    t.client.retrieve(`${box}${options.ltids === undefined ? '' : `?ltids=${options.ltids}`}`, from, options.tkns === undefined ? {} : { headers: { Authorization: options.tkns } });
  /** The Local-Token-ID an X-M2M-ATI header assigns to a token ID. */
  const assignedIn = (header: string | null, tkid: string): string | undefined =>
    (header ?? '')
      .split('+')
      .map((pair) => pair.split(':'))
      .find(([, id]) => id === tkid)?.[0];

  before(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    key = pair.privateKey;
    const issuers = join(dir, 'issuers.json');
    writeFileSync(issuers, JSON.stringify({ issuers: [{ id: 'CDas', algorithms: ['ES256'], jwk: await exportJWK(pair.publicKey) }] }));
    writeFileSync(revocations, JSON.stringify({ revoked: [] }));
    const encryption = await generateKeyPair('RSA-OAEP-256', { extractable: true });
    encryptionKey = encryption.publicKey;
    writeFileSync(join(dir, 'decrypt.pem'), await exportPKCS8(encryption.privateKey));
    t = await startTestCse({
      'cse.id': cseId,
      'dynamicAuthorization.tokenIssuers': issuers,
      'dynamicAuthorization.revokedTokens': revocations,
      'dynamicAuthorization.tokenDecryptionKey': join(dir, 'decrypt.pem'),
      'dynamicAuthorization.tokenRequiresAuthentication': false,
      'mqtt.enabled': true,
      'mqtt.url': BROKER,
      'ws.enabled': true,
      'ws.port': 0,
      'coap.enabled': true,
      'coap.port': 0,
    }, { logger: captured.logger });
    const owner = await t.client.registerAe('owner');
    await t.client.registerAe('guest');
    await t.client.registerAe('stranger');
    const acp = await t.client.create('/cse-in/owner', 1, { 'm2m:acp': { rn: 'acp', pv: { acr: [{ acor: [owner], acop: 63 }] }, pvs: { acr: [{ acor: [owner], acop: 63 }] } } }, owner);
    const made = await t.client.create('/cse-in/owner', 3, { 'm2m:cnt': { rn: 'box', acpi: [(acp.body?.['m2m:acp'] as Attrs).ri] } }, owner);
    boxRi = (made.body?.['m2m:cnt'] as Attrs).ri as string;
  });
  after(async () => {
    await t.close();
  });

  it('a token used once gets a Local-Token-ID in X-M2M-ATI, which its holder may present instead', async () => {
    const tkns = await token();
    const first = await get('Cguest', { tkns });
    assert.equal(first.rsc, 2000);
    const lti = assignedIn(first.headers.get('x-m2m-ati'), `tk${serial}@das.example.net`);
    assert.ok(lti, `X-M2M-ATI: ${first.headers.get('x-m2m-ati')}`);
    // Only new assignments are answered: the same token again gets none.
    assert.equal((await get('Cguest', { tkns })).headers.get('x-m2m-ati'), null);
    assert.equal((await get('Cguest', { ltids: lti })).rsc, 2000);
    // The Local-Token-ID grants what its token grants, nothing more.
    assert.equal((await t.client.delete(`${box}?ltids=${lti}`, 'Cguest')).rsc, 4103);
    // Replayed by another originator: refused, and logged with the reason.
    assert.equal((await get('Cstranger', { ltids: lti })).rsc, 4103);
    const refusal = logged('token').at(-1);
    assert.equal(refusal?.originator, 'Cstranger');
    assert.match(String(refusal?.reason), /assigned to another originator/);
    // Grants are logged with their basis: the token ID, and the Local-Token-ID assigned to it, as a digest: the ID
    // itself stands for the token, and appears in no line.
    const grant = logged('token').find((line) => line.granted === true && JSON.stringify(line.assigned) === JSON.stringify([loggedLocalTokenId(lti)]));
    assert.ok(!captured.lines.some((line) => JSON.stringify(line).includes(lti)), 'no log line holds the Local-Token-ID');
    assert.deepEqual(grant?.tokens, [`CDas:tk${serial}@das.example.net`]);
    assert.equal(grant?.basis, 'token');
    // The request line says what granted it: the token, by its ID.
    const requests = captured.lines.filter((line) => line.msg === 'request' && line.originator === 'Cguest') as Array<{ access?: { basis?: string; policy?: string } }>;
    assert.ok(requests.some((line) => line.access?.basis === 'token' && line.access.policy === `tk${serial}@das.example.net`), JSON.stringify(requests.map((line) => line.access)));
  });

  it('a token is needed only where the policies deny: a refused token does not refuse what they grant', async () => {
    const forged = `${(await token('Cowner')).split('.').slice(0, 2).join('.')}.${'A'.repeat(86)}`;
    assert.equal((await get('Cowner', { tkns: forged })).rsc, 2000);
    assert.equal((await get('Cguest', { tkns: forged })).rsc, 4103);
  });

  it('refuses unknown, malformed and too many Local-Token-IDs', async () => {
    assert.equal((await get('Cguest', { ltids: `lt${'0'.repeat(20)}` })).rsc, 4103);
    assert.equal((await get('Cguest', { ltids: 'not-one-of-ours' })).rsc, 4000);
    assert.equal((await get('Cguest', { ltids: Array.from({ length: 9 }, (_, i) => `lt${String(i).repeat(20)}`).join('+') })).rsc, 4000);
    // A denied request gets no ati.
    const denied = await get('Cstranger', { tkns: await token() });
    assert.equal(denied.rsc, 4103);
    assert.equal(denied.headers.get('x-m2m-ati'), null);
  });

  it('a revoked token grants nothing, presented whole or through its Local-Token-ID', async () => {
    const tkns = await token();
    const tkid = `tk${serial}@das.example.net`;
    const first = await get('Cguest', { tkns });
    assert.equal(first.rsc, 2000);
    const lti = assignedIn(first.headers.get('x-m2m-ati'), tkid);
    assert.ok(lti);
    writeFileSync(revocations, JSON.stringify({ revoked: [tkid] }));
    await sleep(1100); // the list is looked at no more than once a second
    assert.equal((await get('Cguest', { tkns })).rsc, 4103);
    assert.equal((await get('Cguest', { ltids: lti })).rsc, 4103);
    // Another token of the same holder is not revoked.
    assert.equal((await get('Cguest', { tkns: await token() })).rsc, 2000);
  });

  it('<role> (ty 31): a Role-ID in rids grants only while a <role> here assigns it to the originator', async () => {
    const now = Date.now();
    const ts = (ms: number): string => formatTimestamp(ms);
    const owner = 'Cowner';
    const acp = await t.client.create('/cse-in/owner', 1, { 'm2m:acp': { rn: 'roleAcp', pv: { acr: [{ acor: [owner], acop: 63 }, { acor: ['reader@das.example.net'], acop: 34 }] }, pvs: { acr: [{ acor: [owner], acop: 63 }] } } }, owner);
    assert.equal((await t.client.create('/cse-in/owner', 3, { 'm2m:cnt': { rn: 'roleBox', acpi: [(acp.body?.['m2m:acp'] as Attrs).ri] } }, owner)).rsc, 2001);
    const path = '/cse-in/owner/roleBox';
    const role = (rn: string, holder: string, from: number, until: number, issuer = '//das.example.net/id-das/CAuthority'): Attrs => ({ 'm2m:rol': { rn, rlid: 'reader@das.example.net', tkis: issuer, tkhd: holder, tknb: ts(from), tkna: ts(until), rlnm: 'reader' } });
    // Named but not assigned: nothing.
    assert.equal((await t.client.retrieve(`${path}?rids=reader@das.example.net`, 'Cguest')).rsc, 4103);
    // Assigned by someone the CSEBase does not let create roles (the holder itself): refused.
    assert.equal((await t.client.create('/cse-in', 31, role('selfMade', 'Cstranger', now - 60_000, now + 600_000, 'Cstranger'), 'Cstranger')).rsc, 4103);
    assert.equal((await t.client.create('/cse-in', 31, role('backwards', 'Cguest', now + 600_000, now), 'CAdmin')).rsc, 4000);
    const made = await t.client.create('/cse-in', 31, role('guestReader', 'Cguest', now - 60_000, now + 600_000), 'CAdmin');
    assert.equal(made.rsc, 2001, made.text);
    assert.equal((made.body?.['m2m:rol'] as Attrs).ty, 31);
    assert.equal((await t.client.retrieve(`${path}?rids=reader@das.example.net`, 'Cguest')).rsc, 2000);
    const roleLine = logged('role').at(-1);
    assert.deepEqual(roleLine?.held, ['reader@das.example.net']);
    assert.deepEqual(roleLine?.roles, [(made.body?.['m2m:rol'] as Attrs).ri]);
    assert.equal(roleLine?.granted, true);
    // A discovery decides each result with the Role-IDs the originator holds (the policy gives the role DISCOVERY).
    const found = async (query: string): Promise<unknown[]> => ((await t.client.retrieve(`/cse-in/owner?fu=1&ty=3${query}`, 'Cguest')).body?.['m2m:uril'] as unknown[] | undefined) ?? [];
    assert.ok((await found('&rids=reader@das.example.net')).includes('cse-in/owner/roleBox'), 'found through the role');
    assert.ok(!(await found('')).includes('cse-in/owner/roleBox'), 'not without it');
    // A group the guest makes under its own AE (granted there as the AE's own) checks its member with the Role-IDs
    // the guest holds too: only the role lets it read the container.
    const member = String(((await t.client.retrieve(path, owner)).body?.['m2m:cnt'] as Attrs).ri);
    const group = (rn: string, query: string) => t.client.create(`/cse-in/guest${query}`, 9, { 'm2m:grp': { rn, mt: 3, mnm: 10, mid: [member] } }, 'Cguest');
    const withRole = await group('roleGroup', '?rids=reader@das.example.net');
    assert.equal(withRole.rsc, 2001, withRole.text);
    assert.equal((await group('noRoleGroup', '')).rsc, 5105, 'without the role the member cannot be read');
    assert.equal((await t.client.retrieve(path, 'Cguest')).rsc, 4103, 'a role counts where the request names it');
    assert.equal((await t.client.delete(`${path}?rids=reader@das.example.net`, 'Cguest')).rsc, 4103, 'the role grants what the policy gives it');
    assert.equal((await t.client.retrieve(`${path}?rids=reader@das.example.net`, 'Cstranger')).rsc, 4103, 'assigned to another originator');
    assert.equal((await t.client.retrieve(`${path}?rids=not-a-role`, 'Cguest')).rsc, 4000);
    // An assignment not yet valid, or over, grants nothing; a deleted one neither.
    assert.equal((await t.client.create('/cse-in', 31, role('later', 'Cstranger', now + 600_000, now + 1_200_000), 'CAdmin')).rsc, 2001);
    assert.equal((await t.client.retrieve(`${path}?rids=reader@das.example.net`, 'Cstranger')).rsc, 4103);
    assert.equal((await t.client.delete('/cse-in/guestReader', 'CAdmin')).rsc, 2002);
    assert.equal((await t.client.retrieve(`${path}?rids=reader@das.example.net`, 'Cguest')).rsc, 4103);
  });

  it('<token> (ty 32): a stored token is verified on creation and used for tids; deleting it ends that', async () => {
    const tkob = await token();
    const tkid = `tk${serial}@das.example.net`;
    assert.equal((await t.client.create('/cse-in', 32, { 'm2m:tk': { rn: 'wrongId', tkid: 'other@das.example.net', tkob } }, 'CAdmin')).rsc, 4000);
    const forged = `${tkob.slice(0, tkob.lastIndexOf('.'))}.${'A'.repeat(86)}`;
    assert.equal((await t.client.create('/cse-in', 32, { 'm2m:tk': { rn: 'forged', tkid, tkob: forged } }, 'CAdmin')).rsc, 4000);
    assert.equal((await t.client.create('/cse-in', 32, { 'm2m:tk': { rn: 'byGuest', tkid, tkob } }, 'Cguest')).rsc, 4103);
    const made = await t.client.create('/cse-in', 32, { 'm2m:tk': { rn: 'guestToken', tkid, tkob } }, 'CAdmin');
    assert.equal(made.rsc, 2001, made.text);
    const stored = made.body?.['m2m:tk'] as Attrs;
    assert.equal(stored.tkhd, 'Cguest');
    assert.equal(stored.tkis, 'CDas');
    assert.deepEqual(stored.tkau, [`/${cseId}`]);
    assert.equal((await get('Cguest')).rsc, 4103);
    assert.equal((await t.client.retrieve(`${box}?tids=${tkid}`, 'Cguest')).rsc, 2000);
    assert.equal((await t.client.retrieve(`${box}?tids=${tkid}`, 'Cstranger')).rsc, 4103, 'the token is its holder\'s');
    assert.equal((await t.client.delete('/cse-in/guestToken', 'CAdmin')).rsc, 2002);
    assert.equal((await t.client.retrieve(`${box}?tids=${tkid}`, 'Cguest')).rsc, 4103);
  });

  it('<role> and <token> in XML: created and retrieved with their lists, timestamps and permissions', async () => {
    const now = Date.now();
    const xml = (ty?: number): Record<string, string> => ({ 'X-M2M-Origin': 'CAdmin', 'X-M2M-RI': 'xml', 'X-M2M-RVI': '3', Accept: 'application/xml', ...(ty ? { 'Content-Type': `application/xml;ty=${ty}` } : {}) });
    const m2m = 'xmlns:m2m="http://www.onem2m.org/xml/protocols"';
    const roleXml = `<m2m:rol ${m2m} rn="xmlRole"><lbl>audit night</lbl><rlid>reader@das.example.net</rlid><tkis>//das.example.net/id-das/CAuthority</tkis><tkhd>Cguest</tkhd><tknb>${formatTimestamp(now - 60_000)}</tknb><tkna>${formatTimestamp(now + 600_000)}</tkna><rlnm>reader</rlnm><rltl>http://das.example.net/roles/reader</rltl></m2m:rol>`;
    const created = await fetch(`${t.url}/cse-in`, { method: 'POST', headers: xml(31), body: roleXml });
    const createdText = await created.text();
    assert.equal(created.headers.get('x-m2m-rsc'), '2001', createdText);
    assert.match(createdText, /<m2m:rol [^>]*rn="xmlRole"/);
    const read = await fetch(`${t.url}/cse-in/xmlRole`, { headers: xml() });
    const readText = await read.text();
    assert.equal(read.headers.get('x-m2m-rsc'), '2000');
    assert.match(readText, /<rlid>reader@das\.example\.net<\/rlid>/);
    const decodedRole = (xmlCodec.decode(Buffer.from(readText)) as Attrs)['m2m:rol'] as Attrs;
    assert.equal(decodedRole.ty, 31);
    assert.deepEqual(decodedRole.lbl, ['audit', 'night']);
    const stored = (await t.client.retrieve('/cse-in/xmlRole', 'CAdmin')).body?.['m2m:rol'] as Attrs;
    assert.deepEqual(stored.lbl, ['audit', 'night']);
    assert.equal(stored.tkhd, 'Cguest');
    assert.equal(stored.rltl, 'http://das.example.net/roles/reader');
    assert.equal(stored.tkna, formatTimestamp(now + 600_000));
    // The role it assigns counts as one created in JSON does.
    const roleBox = '/cse-in/owner/roleBox';
    assert.equal((await t.client.retrieve(`${roleBox}?rids=reader@das.example.net`, 'Cguest')).rsc, 2000);
    assert.equal((await fetch(`${t.url}/cse-in/xmlRole`, { method: 'DELETE', headers: xml() })).headers.get('x-m2m-rsc'), '2002');
    // <token>: the permissions (tkps/pm, ris as a list) and audience come back in XML, and read back as lists.
    const tkob = await token();
    const tkid = `tk${serial}@das.example.net`;
    const tokenXml = `<m2m:tk ${m2m} rn="xmlToken"><tkid>${tkid}</tkid><tkob>${tkob}</tkob></m2m:tk>`;
    const tokenMade = await fetch(`${t.url}/cse-in`, { method: 'POST', headers: xml(32), body: tokenXml });
    const tokenText = await tokenMade.text();
    assert.equal(tokenMade.headers.get('x-m2m-rsc'), '2001', tokenText);
    assert.match(tokenText, new RegExp(`<tkps><pm><ris>${boxRi}</ris><pv><acr><acor>Cguest</acor><acop>2</acop></acr></pv></pm></tkps>`));
    assert.match(tokenText, new RegExp(`<tkau>/${cseId}</tkau>`));
    // An XML reader gets the types back: permissions (pm) and their resource IDs are lists even with one entry.
    const decoded = (xmlCodec.decode(Buffer.from(tokenText)) as Attrs)['m2m:tk'] as Attrs;
    assert.equal(decoded.ty, 32);
    assert.deepEqual(decoded.tkau, [`/${cseId}`]);
    assert.deepEqual(decoded.tkps, { pm: [{ ris: [boxRi], pv: { acr: [{ acor: ['Cguest'], acop: 2 }] } }] });
    const tokenStored = (await t.client.retrieve('/cse-in/xmlToken', 'CAdmin')).body?.['m2m:tk'] as Attrs;
    assert.deepEqual((tokenStored.tkps as Attrs).pm, [{ ris: [boxRi], pv: { acr: [{ acor: ['Cguest'], acop: 2 }] } }]);
    assert.equal((await t.client.retrieve(`${box}?tids=${tkid}`, 'Cguest')).rsc, 2000);
    assert.equal((await t.client.delete('/cse-in/xmlToken', 'CAdmin')).rsc, 2002);
  });

  it('JWE: a signed token encrypted to this CSE (nested sign-then-encrypt) grants; any other encrypted token does not', async () => {
    const encrypt = async (plaintext: string, header: Record<string, string>, to: Key = encryptionKey): Promise<string> =>
      new CompactEncrypt(new TextEncoder().encode(plaintext)).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', ...header }).encrypt(to);
    const jws = await token();
    assert.equal((await get('Cguest', { tkns: await encrypt(jws, { cty: 'JWT' }) })).rsc, 2000);
    const otherKey = (await generateKeyPair('RSA-OAEP-256')).publicKey;
    const now = Math.floor(Date.now() / 1000);
    const unsigned = JSON.stringify({ jti: 'plain@das.example.net', iss: 'CDas', azp: 'Cguest', nbf: now - 60, exp: now + 600, aud: [`/${cseId}`], tkps: { pm: [{ ris: [boxRi], pv: { acr: [{ acor: ['Cguest'], acop: 63 }] } }] } });
    const cases: Array<[string, string]> = [
      ['encrypted to another key', await encrypt(jws, { cty: 'JWT' }, otherKey)],
      ['no cty JWT', await encrypt(jws, {})],
      ['encrypted claims without a signature', await encrypt(unsigned, { cty: 'JWT' })],
      ['a token of another holder inside', await encrypt(await token('Cstranger'), { cty: 'JWT' })],
      // jose cannot make one: the protected header of a good token rewritten to name RSA1_5 (not accepted).
      ['RSA1_5 key management', [Buffer.from(JSON.stringify({ alg: 'RSA1_5', enc: 'A256GCM', cty: 'JWT' })).toString('base64url'), ...(await encrypt(jws, { cty: 'JWT' })).split('.').slice(1)].join('.')],
    ];
    for (const [name, tkns] of cases) {
      const reply = await get('Cguest', { tkns });
      assert.equal(reply.rsc, 4103, `${name}: ${reply.text}`);
    }
    // Compressed content (zip DEF) is inflated only as far as a token may be long.
    assert.equal((await get('Cguest', { tkns: await encrypt(jws, { cty: 'JWT', zip: 'DEF' }) })).rsc, 2000);
    const inflating = await encrypt('a'.repeat(250_000), { cty: 'JWT', zip: 'DEF' });
    assert.ok(inflating.length < 2_000, 'a small token');
    const refused = await get('Cguest', { tkns: inflating });
    assert.equal(refused.rsc, 4000, refused.text);
    assert.match(refused.text, /encrypted token's content is longer than 8192 characters/);
  });

  const bindings: Array<[string, () => Promise<PrimitiveClient>]> = [
    ['http', () => Promise.resolve(httpClient(t.url, 'json'))],
    ['mqtt', () => mqttClient(BROKER, cseId, 'json', 'Cguest')],
    ['ws', () => wsClient(`ws://127.0.0.1:${String(t.cse.wsPort)}`, 'json')],
    ['coap', () => Promise.resolve(coapClient(t.cse.coapPort ?? 0, 'json'))],
  ];
  for (const [binding, connect] of bindings) {
    it(`${binding}: tkns grants, its ati assigns a Local-Token-ID, ltids grants; a bad token is refused`, async () => {
      const client = await connect();
      try {
        const rq = (): string => `${binding}-${Math.random().toString(36).slice(2)}`;
        assert.equal((await client.send({ op: 2, to: box.slice(1), fr: 'Cguest', rqi: rq() })).rsc, 4103);
        const tkns = await token();
        const granted = await client.send({ op: 2, to: box.slice(1), fr: 'Cguest', rqi: rq(), tkns: [tkns] });
        assert.equal(granted.rsc, 2000);
        const pair = (granted.ati ?? []).find((p) => p.endsWith(`:tk${serial}@das.example.net`));
        assert.ok(pair, `ati: ${JSON.stringify(granted.ati)}`);
        const lti = pair.split(':')[0] as string;
        assert.equal((await client.send({ op: 2, to: box.slice(1), fr: 'Cguest', rqi: rq(), ltids: [lti] })).rsc, 2000);
        assert.equal((await client.send({ op: 2, to: box.slice(1), fr: 'Cguest', rqi: rq(), tkns: [await token('Cstranger')] })).rsc, 4103);
        const forged = `${tkns.slice(0, tkns.lastIndexOf('.'))}.${'A'.repeat(86)}`;
        assert.equal((await client.send({ op: 2, to: box.slice(1), fr: 'Cguest', rqi: rq(), tkns: [forged] })).rsc, 4103);
      } finally {
        await client.close();
      }
    });
  }
});
