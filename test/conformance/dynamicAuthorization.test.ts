// Dynamic authorization, direct flow (TS-0003 §7.3.2.2, TS-0004 §7.5.1.2.10), over HTTP: after the access control
// policies deny, the CSE asks the DAS of the target's <dynamicAuthorizationConsultation> with an m2m:securityInfo
// of type 1, stores what a type 2 answer grants as a dynamic policy bound to the originator and the target, and
// decides again. A DAS that denies, hangs, answers garbage or the wrong type grants nothing: 4103. Tokens (tkns):
// oneM2M JWTs of a configured issuer grant their permissions; every bad one is refused.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, decodeJwt, exportJWK, generateKeyPair } from 'jose';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { formatTimestamp } from '../../src/primitive/identifiers.js';
import { createCa, issueCertificate } from '../../src/security/pki.js';
import { ManualClock, startTestCse, type TestCse } from '../harness.js';
import { tlsRequest, type TlsClient, type TlsReply } from '../tls.js';

type Attrs = Record<string, unknown>;
type Answer = { rsc: number; body?: unknown; raw?: string } | 'hang';

/** A minimal DAS: an HTTP server that records each consultation and answers as the test says. */
class TestDas {
  readonly requests: Attrs[] = [];
  answer: (request: Attrs) => Answer | Promise<Answer> = () => ({ rsc: 2000, body: { 'm2m:seci': { sit: 2, dres: {} } } });
  private server: Server | undefined;
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body: Attrs = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as Attrs;
        } catch {
          body = {};
        }
        this.requests.push({ ...body, origin: req.headers['x-m2m-origin'] });
        void Promise.resolve(this.answer(body)).then((answer) => {
          if (answer === 'hang') return;
          res.writeHead(200, { 'X-M2M-RSC': String(answer.rsc), 'Content-Type': 'application/json' });
          res.end(answer.raw ?? (answer.body === undefined ? '' : JSON.stringify(answer.body)));
        });
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.server?.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/das`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** A DAS answer granting `acop` to `originator` for `pl`. */
function grant(originator: string, acop: number, pl: string | number = 60_000): Answer {
  return { rsc: 2000, body: { 'm2m:seci': { sit: 2, dres: { dai: { gp: { acr: [{ acor: [originator], acop }] }, pl } } } } };
}

const seci = (request: Attrs): Attrs => request['m2m:seci'] as Attrs;

describe('dynamic authorization: consulting a DAS after a denial', () => {
  const clock = new ManualClock(Date.now());
  let t: TestCse;
  let das: TestDas;
  let owner: string;
  let counter = 0;
  /** A container only its owner may use, linked to a fresh consultation of the DAS (dap as given). */
  async function guarded(dap: string[] = [das.url], dae = true, linkOn: 'container' | 'ae' = 'container'): Promise<string> {
    const n = ++counter;
    assert.equal((await t.client.create(`/cse-in/owner`, 34, { 'm2m:dac': { rn: `dac${n}`, dae, dap } }, owner)).rsc, 2001);
    const dac = (await t.client.retrieve(`/cse-in/owner/dac${n}`, owner)).body?.['m2m:dac'] as Attrs;
    const acp = await t.client.create('/cse-in/owner', 1, { 'm2m:acp': { rn: `acp${n}`, pv: { acr: [{ acor: [owner], acop: 63 }] }, pvs: { acr: [{ acor: [owner], acop: 63 }] } } }, owner);
    const acpRi = (acp.body?.['m2m:acp'] as Attrs).ri as string;
    const cnt = { rn: `box${n}`, acpi: [acpRi], ...(linkOn === 'container' ? { daci: [dac.ri] } : {}) };
    assert.equal((await t.client.create('/cse-in/owner', 3, { 'm2m:cnt': cnt }, owner)).rsc, 2001);
    if (linkOn === 'ae') assert.equal((await t.client.update('/cse-in/owner', { 'm2m:ae': { daci: [dac.ri] } }, owner)).rsc, 2004);
    return `/cse-in/owner/box${n}`;
  }

  type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  let dasKey: Key;
  /** A token the DAS issues for `holder` on `ri`, valid for `seconds` from the CSE's clock. */
  const dasToken = (holder: string, ri: string, seconds = 600, key?: Key): Promise<string> => {
    const now = Math.floor(clock.now() / 1000);
    const claims = { tkvr: '1', jti: `das-${Math.random().toString(36).slice(2)}`, iss: 'CDas', azp: holder, nbf: now - 60, exp: now + seconds, aud: ['/id-in'], tkps: { pm: [{ ris: [ri], pv: { acr: [{ acor: [holder], acop: 2 }] } }] } };
    return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).sign(key ?? dasKey);
  };

  before(async () => {
    das = await new TestDas().start();
    const pair = await generateKeyPair('ES256', { extractable: true });
    dasKey = pair.privateKey;
    const issuers = join(mkdtempSync(join(tmpdir(), 'warden-das-')), 'issuers.json');
    writeFileSync(issuers, JSON.stringify({ issuers: [{ id: 'CDas', algorithms: ['ES256'], jwk: await exportJWK(pair.publicKey) }] }));
    t = await startTestCse({ 'dynamicAuthorization.timeout': 1, 'dynamicAuthorization.defaultConsultation': 'cse-in/systemDac', 'dynamicAuthorization.tokenIssuers': issuers, 'dynamicAuthorization.tokenRequiresAuthentication': false }, { clock });
    owner = await t.client.registerAe('owner');
    await t.client.registerAe('guest');
    await t.client.registerAe('stranger');
  });
  after(async () => {
    await t.close();
    await das.stop();
  });
  beforeEach(() => {
    das.requests.length = 0;
    das.answer = () => ({ rsc: 2000, body: { 'm2m:seci': { sit: 2, dres: {} } } });
    clock.advance(10_000); // past the short memory of earlier denials
  });

  it('sends m2m:securityInfo (sit 1, dreq) and grants what the DAS grants, bound to that originator', async () => {
    const box = await guarded();
    das.answer = (request) => grant(String((seci(request).dreq as Attrs).or), 2);
    const reply = await t.client.retrieve(box, 'Cguest');
    assert.equal(reply.rsc, 2000, reply.text);
    assert.equal(das.requests.length, 1);
    const sent = seci(das.requests[0] as Attrs);
    assert.equal(sent.sit, 1);
    const dreq = sent.dreq as Attrs;
    assert.equal(dreq.or, 'Cguest');
    assert.equal(dreq.op, 2);
    assert.equal(dreq.trt, 3);
    assert.match(String(dreq.trid), /^\/id-in\/cnt/);
    assert.deepEqual(dreq.oip, { ip4: '127.0.0.1' });
    assert.equal(typeof dreq.ppl, 'string');
    assert.equal((das.requests[0] as Attrs).origin, '/id-in');
    // Stored: the next read is granted without asking again.
    assert.equal((await t.client.retrieve(box, 'Cguest')).rsc, 2000);
    assert.equal(das.requests.length, 1);
    // Only what was granted: RETRIEVE, not DELETE (the DAS is asked, and now refuses).
    das.answer = () => ({ rsc: 2000, body: { 'm2m:seci': { sit: 2, dres: {} } } });
    assert.equal((await t.client.delete(box, 'Cguest')).rsc, 4103);
    // Bound to the originator: another one is not granted by it, even with a rule naming everybody.
    das.answer = () => ({ rsc: 2000, body: { 'm2m:seci': { sit: 2, dres: {} } } });
    assert.equal((await t.client.retrieve(box, 'Cstranger')).rsc, 4103);
  });

  it('a granted privilege expires by itself with its privilegesLifetime', async () => {
    const box = await guarded();
    das.answer = () => grant('Cguest', 2, 5000);
    assert.equal((await t.client.retrieve(box, 'Cguest')).rsc, 2000);
    clock.advance(4000);
    assert.equal((await t.client.retrieve(box, 'Cguest')).rsc, 2000);
    assert.equal(das.requests.length, 1);
    clock.advance(2000);
    das.answer = () => ({ rsc: 2000, body: { 'm2m:seci': { sit: 2, dres: {} } } });
    assert.equal((await t.client.retrieve(box, 'Cguest')).rsc, 4103);
    assert.equal(das.requests.length, 2, 'the expired policy grants nothing, so the DAS is asked again');
  });

  it('a DAS that denies, answers the wrong securityInfoType, garbage or an error grants nothing (4103)', async () => {
    const box = await guarded();
    const answers: Answer[] = [
      { rsc: 2000, body: { 'm2m:seci': { sit: 2, dres: {} } } },
      { rsc: 2000, body: { 'm2m:seci': { sit: 1, dres: { dai: { gp: { acr: [{ acor: ['Cguest'], acop: 63 }] }, pl: 60_000 } } } } },
      { rsc: 2000, body: { 'm2m:seci': { sit: 4, dres: { dai: { gp: { acr: [{ acor: ['Cguest'], acop: 63 }] }, pl: 60_000 } } } } },
      { rsc: 2000, raw: 'not json at all' },
      { rsc: 2000, body: { 'm2m:seci': { sit: 2, dres: { dai: { gp: { acr: [{ acor: ['Cguest'], acop: 'all' }] } } } } } },
      { rsc: 2000, body: { 'm2m:seci': { sit: 2, dres: { dai: { gp: { acr: [{ acor: ['Cguest'], acop: 2 }] }, pl: 'soon' } } } } },
      { rsc: 2000, body: { 'm2m:seci': { sit: 2, dres: { dai: { gp: { acr: [{ acor: ['Cguest'], acop: 2 }] }, pl: formatTimestamp(clock.now() - 1000) } } } } },
      { rsc: 4103, body: { 'm2m:seci': { sit: 2, dres: { dai: { gp: { acr: [{ acor: ['Cguest'], acop: 2 }] } } } } } },
      { rsc: 2000, body: { 'm2m:dbg': 'hello' } },
    ];
    for (const [i, answer] of answers.entries()) {
      clock.advance(10_000);
      das.answer = () => answer;
      const reply = await t.client.retrieve(box, 'Cguest');
      assert.equal(reply.rsc, 4103, `answer ${i}: ${reply.text}`);
      assert.equal(das.requests.length, i + 1, `answer ${i} was asked for`);
    }
  });

  it('a DAS answer for another request (privileges for another originator or operation) grants nothing', async () => {
    const box = await guarded();
    das.answer = () => grant('Cstranger', 63);
    assert.equal((await t.client.retrieve(box, 'Cguest')).rsc, 4103);
    clock.advance(10_000);
    das.answer = () => grant('Cguest', 8);
    assert.equal((await t.client.retrieve(box, 'Cguest')).rsc, 4103);
    assert.equal(das.requests.length, 2);
  });

  it('a DAS that does not answer means 4103 within the bounded wait, not a hung request', async () => {
    const box = await guarded();
    das.answer = () => 'hang';
    const reply = await t.client.retrieve(box, 'Cguest');
    assert.equal(reply.rsc, 4103);
    assert.equal(das.requests.length, 1);
  });

  it('a DAS that is down means 4103', async () => {
    const down = new TestDas();
    await down.start();
    const url = down.url;
    await down.stop();
    const box = await guarded([url]);
    assert.equal((await t.client.retrieve(box, 'Cguest')).rsc, 4103);
  });

  it('a disabled consultation asks no DAS', async () => {
    const box = await guarded([das.url], false);
    das.answer = () => grant('Cguest', 63);
    assert.equal((await t.client.retrieve(box, 'Cguest')).rsc, 4103);
    assert.equal(das.requests.length, 0);
  });

  it("a target without daci uses its parent's, and a DAS named by its AE-ID is reached through its poa", async () => {
    const reply = await t.client.create('/cse-in', 2, { 'm2m:ae': { rn: 'dasAe', api: 'NdasAe', rr: true, poa: [das.url], srv: ['3'] } }, 'CdasAe');
    assert.equal(reply.rsc, 2001, reply.text);
    const box = await guarded(['CdasAe'], true, 'ae');
    das.answer = () => grant('Cguest', 2);
    assert.equal((await t.client.retrieve(box, 'Cguest')).rsc, 2000);
    assert.equal(das.requests.length, 1);
  });

  it('with no consultation on the target or its ancestors the system default applies', async () => {
    // Nothing linked anywhere, and no system default yet: no consultation, 4103.
    const other = await t.client.registerAe('other');
    const acp = await t.client.create('/cse-in/other', 1, { 'm2m:acp': { rn: 'plainAcp', pv: { acr: [{ acor: [other], acop: 63 }] }, pvs: { acr: [{ acor: [other], acop: 63 }] } } }, other);
    const acpRi = (acp.body?.['m2m:acp'] as Attrs).ri as string;
    assert.equal((await t.client.create('/cse-in/other', 3, { 'm2m:cnt': { rn: 'plain', acpi: [acpRi] } }, other)).rsc, 2001);
    assert.equal((await t.client.retrieve('/cse-in/other/plain', 'Cguest')).rsc, 4103);
    assert.equal(das.requests.length, 0);
    const made = await t.client.create('/cse-in', 34, { 'm2m:dac': { rn: 'systemDac', dae: true, dap: [das.url] } }, 'CAdmin');
    assert.equal(made.rsc, 2001, made.text);
    clock.advance(10_000);
    das.answer = () => grant('Cguest', 2);
    assert.equal((await t.client.retrieve('/cse-in/other/plain', 'Cguest')).rsc, 2000);
    assert.equal(das.requests.length, 1);
  });

  it('a newer grant for the same originator and target replaces the older one (no pile of policies)', async () => {
    const box = await guarded();
    const dynamicPolicies = async (): Promise<number> => {
      const found = await t.client.retrieve(`${box}?fu=1&ty=1`, 'CAdmin');
      return ((found.body?.['m2m:uril'] as string[] | undefined) ?? []).length;
    };
    das.answer = () => grant('Cguest', 2);
    assert.equal((await t.client.retrieve(box, 'Cguest')).rsc, 2000);
    assert.equal(await dynamicPolicies(), 1);
    for (let i = 0; i < 3; i++) {
      clock.advance(10_000);
      assert.equal((await t.client.delete(box, 'Cguest')).rsc, 4103);
    }
    assert.equal(das.requests.length, 4);
    assert.equal(await dynamicPolicies(), 1);
    assert.equal((await t.client.retrieve(box, 'Cguest')).rsc, 2000);
  });

  it('a grant is for the registration the DAS was asked about: an AE registering the same AE-ID later is not granted by it', async () => {
    const box = await guarded();
    const first = await t.client.registerAe('renter');
    das.answer = () => grant(first, 2);
    assert.equal((await t.client.retrieve(box, first)).rsc, 2000);
    assert.equal((await t.client.retrieve(box, first)).rsc, 2000, 'kept: granted without asking again');
    assert.equal(das.requests.length, 1);
    assert.equal((await t.client.delete('/cse-in/renter', first)).rsc, 2002);
    // Someone else registers the same AE-ID; the DAS now grants nothing.
    assert.equal(await t.client.registerAe('renter'), first);
    das.answer = () => ({ rsc: 2000, body: { 'm2m:seci': { sit: 2, dres: {} } } });
    const reply = await t.client.retrieve(box, first);
    assert.equal(reply.rsc, 4103, reply.text);
    assert.equal(das.requests.length, 2, 'the DAS was asked again, for the newcomer');
    // What the DAS grants the newcomer is its own.
    clock.advance(10_000);
    das.answer = () => grant(first, 2);
    assert.equal((await t.client.retrieve(box, first)).rsc, 2000);
  });

  it('a grant answered after the originator deregistered and its AE-ID was registered again is not stored for the newcomer', async () => {
    const box = await guarded();
    const first = await t.client.registerAe('swapped');
    das.answer = async () => {
      // While the DAS decides, the AE leaves and someone else registers the same AE-ID.
      assert.equal((await t.client.delete('/cse-in/swapped', first)).rsc, 2002);
      assert.equal(await t.client.registerAe('swapped'), first);
      return grant(first, 2);
    };
    assert.equal((await t.client.retrieve(box, first)).rsc, 4103);
    clock.advance(10_000);
    das.answer = () => ({ rsc: 2000, body: { 'm2m:seci': { sit: 2, dres: {} } } });
    const newcomer = await t.client.retrieve(box, first);
    assert.equal(newcomer.rsc, 4103, `the newcomer has no grant: ${newcomer.text}`);
  });

  it('a DAS may answer with tokens: verified, their permissions on the target kept until the token expires', async () => {
    const box = await guarded();
    const ri = ((await t.client.retrieve(box, owner)).body?.['m2m:cnt'] as Attrs).ri as string;
    const refused: Array<[string, string]> = [
      ['held by another originator', await dasToken('Cstranger', ri)],
      ['signed by an unknown key', await dasToken('Cguest', ri, 600, (await generateKeyPair('ES256')).privateKey)],
      ['for another resource', await dasToken('Cguest', 'cnt-elsewhere')],
    ];
    for (const [name, token] of refused) {
      clock.advance(10_000);
      das.answer = () => ({ rsc: 2000, body: { 'm2m:seci': { sit: 2, dres: { tkns: [token] } } } });
      assert.equal((await t.client.retrieve(box, 'Cguest')).rsc, 4103, name);
    }
    clock.advance(10_000);
    const good = await dasToken('Cguest', ri, 120);
    das.answer = () => ({ rsc: 2000, body: { 'm2m:seci': { sit: 2, dres: { tkns: [good] } } } });
    assert.equal((await t.client.retrieve(box, 'Cguest')).rsc, 2000);
    assert.equal((await t.client.retrieve(box, 'Cguest')).rsc, 2000);
    assert.equal(das.requests.length, refused.length + 1);
    clock.advance(130_000);
    das.answer = () => ({ rsc: 2000, body: { 'm2m:seci': { sit: 2, dres: {} } } });
    assert.equal((await t.client.retrieve(box, 'Cguest')).rsc, 4103, 'the grant ends with the token');
  });

  it('changing daci needs what changing acpi needs (selfPrivileges), not just UPDATE', async () => {
    const box = await guarded();
    // The policy gives Cguest UPDATE on the container, but no selfPrivileges.
    const acpPath = box.replace('/box', '/acp');
    const widened = await t.client.update(acpPath, { 'm2m:acp': { pv: { acr: [{ acor: [owner], acop: 63 }, { acor: ['Cguest'], acop: 4 }] } } }, owner);
    assert.equal(widened.rsc, 2004, widened.text);
    const own = await t.client.create('/cse-in/guest', 34, { 'm2m:dac': { rn: 'mine', dae: true, dap: [das.url] } }, 'Cguest');
    assert.equal(own.rsc, 2001, own.text);
    const mine = (own.body?.['m2m:dac'] as Attrs).ri as string;
    assert.equal((await t.client.update(box, { 'm2m:cnt': { lbl: ['updated'] } }, 'Cguest')).rsc, 2004);
    assert.equal((await t.client.update(box, { 'm2m:cnt': { daci: [mine] } }, 'Cguest')).rsc, 4103);
    assert.equal((await t.client.update(box, { 'm2m:cnt': { daci: [mine] } }, owner)).rsc, 2004);
  });

  it('tokenIDs (tids) are fetched from the DAS, which must answer those tokens', async () => {
    const box = await guarded();
    const ri = ((await t.client.retrieve(box, owner)).body?.['m2m:cnt'] as Attrs).ri as string;
    const issued = await dasToken('Cguest', ri);
    const jti = String(decodeJwt(issued).jti);
    // The DAS answers another token than the one asked for: nothing is granted.
    das.answer = () => ({ rsc: 2000, body: { 'm2m:seci': { sit: 2, dres: { tkns: [issued] } } } });
    assert.equal((await t.client.retrieve(`${box}?tids=someOtherToken`, 'Cguest')).rsc, 4103);
    assert.deepEqual((seci(das.requests[0] as Attrs).dreq as Attrs).tids, ['someOtherToken']);
    clock.advance(10_000);
    assert.equal((await t.client.retrieve(`${box}?tids=${jti}`, 'Cguest')).rsc, 2000);
    assert.deepEqual((seci(das.requests[1] as Attrs).dreq as Attrs).tids, [jti]);
    assert.equal((await t.client.retrieve(`${box}?tids=${'x'.repeat(300)}`, 'Cstranger')).rsc, 4000);
  });

  it('a denied originator naming new tokenIDs on every request makes at most 4 consultations in the denial window', async () => {
    const box = await guarded();
    // Ten at once (each counted as it starts), then ten more one by one.
    const together = await Promise.all(Array.from({ length: 10 }, (_, i) => t.client.retrieve(`${box}?tids=together${String(i)}`, 'Cguest')));
    assert.deepEqual(together.map((r) => r.rsc), Array(10).fill(4103));
    for (let i = 0; i < 10; i++) assert.equal((await t.client.retrieve(`${box}?tids=fresh${String(i)}`, 'Cguest')).rsc, 4103);
    assert.equal(das.requests.length, 4);
    clock.advance(10_000);
    assert.equal((await t.client.retrieve(`${box}?tids=later`, 'Cguest')).rsc, 4103);
    assert.equal(das.requests.length, 5, 'asked again once the window ended');
  });

  it('indirect flow: with tqi the 4103 carries the Token Request Information; a token from the DAS then grants', async () => {
    const box = await guarded();
    const ri = ((await t.client.retrieve(box, owner)).body?.['m2m:cnt'] as Attrs).ri as string;
    const denied = await t.client.retrieve(`${box}?tqi=true`, 'Cguest');
    assert.equal(denied.rsc, 4103);
    assert.equal(das.requests.length, 0, 'the originator asks the DAS itself');
    assert.equal(denied.body?.['m2m:dbg'], undefined, 'no debugging information beside tqf (TS-0009 §6.5)');
    const dasi = ((denied.body?.['m2m:tqf'] as Attrs | undefined)?.dasi ?? []) as Attrs[];
    assert.equal(dasi.length, 1);
    assert.equal(dasi[0]?.uri, das.url);
    const dreq = dasi[0]?.dreq as Attrs;
    assert.equal(dreq.or, 'Cguest');
    assert.equal(dreq.op, 2);
    assert.equal(dreq.trid, `/id-in/${ri}`);
    // The originator takes dreq to the DAS, gets a token and retries with it.
    const issued = await dasToken('Cguest', ri);
    assert.equal((await t.client.retrieve(box, 'Cguest', { headers: { Authorization: issued } })).rsc, 2000);
  });

  it('a privilege granted by a DAS never lets the originator change acpi', async () => {
    const box = await guarded();
    das.answer = () => grant('Cguest', 63);
    assert.equal((await t.client.retrieve(box, 'Cguest')).rsc, 2000);
    assert.equal((await t.client.update(box, { 'm2m:cnt': { acpi: [] } }, 'Cguest')).rsc, 4103);
  });
});

describe('dynamic authorization: oneM2M JWT tokens in tkns (Authorization header)', () => {
  const clock = new ManualClock(Date.now());
  let t: TestCse;
  let owner: string;
  type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  let privateKey: Key;
  let otherKey: Key;
  let box: string;
  let boxRi: string;
  const now = (): number => Math.floor(clock.now() / 1000);

  /** A oneM2M JWT with the claim mapping of TS-0003 table 7.3.2.6.2-1, changed as the case needs. */
  async function token(change: { claims?: Attrs; header?: Attrs; key?: Key } = {}): Promise<string> {
    const claims: Attrs = {
      tkvr: '1',
      jti: `tk-${Math.random().toString(36).slice(2)}`,
      iss: 'CDas',
      azp: 'Cguest',
      nbf: now() - 60,
      exp: now() + 600,
      aud: ['/id-in'],
      tkps: { pm: [{ ris: [boxRi], pv: { acr: [{ acor: ['Cguest'], acop: 2 }] } }] },
      ...change.claims,
    };
    for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
    return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'JWT', ...change.header }).sign(change.key ?? privateKey);
  }
  const withToken = (tkns: string): { headers: Record<string, string> } => ({ headers: { Authorization: tkns } });

  before(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    privateKey = pair.privateKey;
    otherKey = (await generateKeyPair('ES256')).privateKey;
    const dir = mkdtempSync(join(tmpdir(), 'warden-tokens-'));
    const issuers = join(dir, 'issuers.json');
    writeFileSync(issuers, JSON.stringify({ issuers: [{ id: 'CDas', algorithms: ['ES256'], jwk: await exportJWK(pair.publicKey), roleDomains: ['das.example.net'] }] }));
    t = await startTestCse({ 'dynamicAuthorization.tokenIssuers': issuers, 'dynamicAuthorization.tokenRequiresAuthentication': false }, { clock });
    owner = await t.client.registerAe('owner');
    await t.client.registerAe('guest');
    await t.client.registerAe('stranger');
    const acp = await t.client.create('/cse-in/owner', 1, { 'm2m:acp': { rn: 'acp', pv: { acr: [{ acor: [owner], acop: 63 }] }, pvs: { acr: [{ acor: [owner], acop: 63 }] } } }, owner);
    const acpRi = (acp.body?.['m2m:acp'] as Attrs).ri as string;
    const made = await t.client.create('/cse-in/owner', 3, { 'm2m:cnt': { rn: 'box', acpi: [acpRi] } }, owner);
    boxRi = (made.body?.['m2m:cnt'] as Attrs).ri as string;
    box = '/cse-in/owner/box';
  });
  after(async () => {
    await t.close();
  });

  it("a discovery or a read with children decides each child with the request's token too", async () => {
    const made = await t.client.create('/cse-in/owner', 3, { 'm2m:cnt': { rn: 'shelf' } }, owner);
    const shelfRi = (made.body?.['m2m:cnt'] as Attrs).ri as string;
    const children: Record<string, string> = {};
    for (const rn of ['a', 'b']) {
      const child = await t.client.create('/cse-in/owner/shelf', 3, { 'm2m:cnt': { rn } }, owner);
      children[rn] = (child.body?.['m2m:cnt'] as Attrs).ri as string;
    }
    // RETRIEVE and DISCOVERY (2 + 32) on the shelf and on child a only.
    const tkns = await token({ claims: { tkps: { pm: [{ ris: [shelfRi, children.a], pv: { acr: [{ acor: ['Cguest'], acop: 34 }] } }] } } });
    const without = await t.client.retrieve('/cse-in/owner/shelf?fu=1&ty=3', 'Cguest');
    assert.equal(without.rsc, 2000, without.text);
    assert.deepEqual(without.body?.['m2m:uril'] ?? [], [], 'without the token: nothing found');
    const found = await t.client.retrieve('/cse-in/owner/shelf?fu=1&ty=3', 'Cguest', withToken(tkns));
    assert.equal(found.rsc, 2000, found.text);
    assert.deepEqual(found.body?.['m2m:uril'], ['cse-in/owner/shelf/a']);
    // A discovery has no decision of its own for a bad token to refuse: it is left out, the good one still counts.
    const expired = await token({ claims: { exp: now() - 10, tkps: { pm: [{ ris: [shelfRi, children.b], pv: { acr: [{ acor: ['Cguest'], acop: 34 }] } }] } } });
    const mixed = await t.client.retrieve('/cse-in/owner/shelf?fu=1&ty=3&rids=not-a-role', 'Cguest', withToken(`${expired}+${tkns}`));
    assert.equal(mixed.rsc, 2000, mixed.text);
    assert.deepEqual(mixed.body?.['m2m:uril'], ['cse-in/owner/shelf/a']);
    const onlyBad = await t.client.retrieve('/cse-in/owner/shelf?fu=1&ty=3', 'Cguest', withToken('not.a.token'));
    assert.equal(onlyBad.rsc, 2000, onlyBad.text);
    assert.deepEqual(onlyBad.body?.['m2m:uril'] ?? [], []);
    const withChildren = await t.client.retrieve('/cse-in/owner/shelf?rcn=4', 'Cguest', withToken(tkns));
    assert.equal(withChildren.rsc, 2000, withChildren.text);
    const listed = ((withChildren.body?.['m2m:cnt'] as Attrs)['m2m:cnt'] as Attrs[] | undefined) ?? [];
    assert.deepEqual(listed.map((c) => c.rn), ['a']);
  });

  it('a valid token grants what its permissions grant, and nothing more', async () => {
    assert.equal((await t.client.retrieve(box, 'Cguest')).rsc, 4103);
    const valid = await token();
    assert.equal((await t.client.retrieve(box, 'Cguest', withToken(valid))).rsc, 2000);
    // Twice: the second use is served from the verified-token cache.
    assert.equal((await t.client.retrieve(box, 'Cguest', withToken(valid))).rsc, 2000);
    assert.equal((await t.client.delete(box, 'Cguest', withToken(valid))).rsc, 4103);
    // Two tokens joined by '+' [TS-0009 §6.4.19]: the second one grants DELETE.
    const deleter = await token({ claims: { tkps: { pm: [{ ris: [`/id-in/${boxRi}`], pv: { acr: [{ acor: ['Cguest'], acop: 8 }] } }] } } });
    const both = `${valid}+${deleter}`;
    assert.equal((await t.client.retrieve(box, 'Cguest', withToken(both))).rsc, 2000);
  });

  it('refuses every bad token, one by one, with 4103', async () => {
    const header = (h: Attrs): string => Buffer.from(JSON.stringify(h)).toString('base64url');
    const body = Buffer.from(JSON.stringify({ jti: 'x', iss: 'CDas', azp: 'Cguest', nbf: now() - 60, exp: now() + 600, aud: ['/id-in'] })).toString('base64url');
    const cases: Array<[string, string]> = [
      ['forged (another key)', await token({ key: otherKey })],
      ['expired', await token({ claims: { nbf: now() - 3600, exp: now() - 600 } })],
      ['not yet valid', await token({ claims: { nbf: now() + 600, exp: now() + 1200 } })],
      ['wrong audience', await token({ claims: { aud: ['/id-other'] } })],
      ['no audience', await token({ claims: { aud: undefined } })],
      ['wrong holder', await token({ claims: { azp: 'Cstranger' } })],
      ['unknown issuer', await token({ claims: { iss: 'CEvil' } })],
      ['no typ JWT', await token({ header: { typ: 'at+jwt' } })],
      ['alg none', `${header({ alg: 'none', typ: 'JWT' })}.${body}.`],
      ['alg HS256 with the public key as secret', `${header({ alg: 'HS256', typ: 'JWT' })}.${body}.${'A'.repeat(43)}`],
      ['permission for another resource', await token({ claims: { tkps: { pm: [{ ris: ['cnt-other'], pv: { acr: [{ acor: ['Cguest'], acop: 63 }] } }] } } })],
      ['permission naming another originator', await token({ claims: { tkps: { pm: [{ ris: [boxRi], pv: { acr: [{ acor: ['Cstranger'], acop: 63 }] } }] } } })],
      ['no permissions', await token({ claims: { tkps: undefined } })],
      ['privileges without resourceIDs', await token({ claims: { tkps: { pm: [{ pv: { acr: [{ acor: ['Cguest'], acop: 63 }] } }] } } })],
      ['a malformed Role-ID', await token({ claims: { tkps: { pm: [{ ris: [boxRi], rids: ['not a role'] }] } } })],
      // Claims jose leaves to the application (RFC 7519 §4.1.4, §4.1.7): jti is text, times stay times.
      ['jti an object', await token({ claims: { jti: { a: 1 } } })],
      ['jti a list', await token({ claims: { jti: ['x'] } })],
      ['jti empty', await token({ claims: { jti: '' } })],
      ['exp beyond any date', await token({ claims: { exp: 1e308 } })],
    ];
    for (const [name, tkns] of cases) {
      const reply = await t.client.retrieve(box, 'Cguest', withToken(tkns));
      assert.equal(reply.rsc, 4103, `${name}: ${reply.text}`);
    }
  });

  it('roles: a Role-ID in acor grants only through a token that vouches for it on the target', async () => {
    const acp = await t.client.create('/cse-in/owner', 1, { 'm2m:acp': { rn: 'roleAcp', pv: { acr: [{ acor: [owner], acop: 63 }, { acor: ['reader@das.example.net', 'reader@other.example.org'], acop: 2 }] }, pvs: { acr: [{ acor: [owner], acop: 63 }] } } }, owner);
    const acpRi = (acp.body?.['m2m:acp'] as Attrs).ri as string;
    const made = await t.client.create('/cse-in/owner', 3, { 'm2m:cnt': { rn: 'roleBox', acpi: [acpRi] } }, owner);
    const ri = (made.body?.['m2m:cnt'] as Attrs).ri as string;
    // Naming the role in the request (rids) proves nothing.
    assert.equal((await t.client.retrieve('/cse-in/owner/roleBox?rids=reader@das.example.net', 'Cguest')).rsc, 4103);
    const vouched = await token({ claims: { tkps: { pm: [{ ris: [ri], rids: ['reader@das.example.net'] }] } } });
    assert.equal((await t.client.retrieve('/cse-in/owner/roleBox', 'Cguest', withToken(vouched))).rsc, 2000);
    assert.equal((await t.client.delete('/cse-in/owner/roleBox', 'Cguest', withToken(vouched))).rsc, 4103, 'the role grants what the policy gives it');
    // A role for another resource, another role, or the role in a token held by someone else: nothing.
    const elsewhere = await token({ claims: { tkps: { pm: [{ ris: [boxRi], rids: ['reader@das.example.net'] }] } } });
    const otherRole = await token({ claims: { tkps: { pm: [{ ris: [ri], rids: ['writer@das.example.net'] }] } } });
    for (const [name, tkns] of [['another resource', elsewhere], ['another role', otherRole]] as const) {
      assert.equal((await t.client.retrieve('/cse-in/owner/roleBox', 'Cguest', withToken(tkns))).rsc, 4103, name);
    }
    assert.equal((await t.client.retrieve('/cse-in/owner/roleBox', 'Cstranger', withToken(vouched))).rsc, 4103);
    // A role of a domain the issuer is not configured for (its roleDomains): the token is refused, although the
    // policy names that role.
    const foreign = await token({ claims: { tkps: { pm: [{ ris: [ri], rids: ['reader@other.example.org'] }] } } });
    const refused = await t.client.retrieve('/cse-in/owner/roleBox', 'Cguest', withToken(foreign));
    assert.equal(refused.rsc, 4103, refused.text);
    assert.match(refused.text, /roleDomains/);
    // A role for every resource (no ris) is the holder's everywhere.
    const everywhere = await token({ claims: { tkps: { pm: [{ rids: ['reader@das.example.net'] }] } } });
    assert.equal((await t.client.retrieve('/cse-in/owner/roleBox', 'Cguest', withToken(everywhere))).rsc, 2000);
  });

  it('answers a malformed or oversized token with 4000', async () => {
    for (const tkns of ['not-a-token', 'a.b', `${'A'.repeat(9000)}.${'B'.repeat(10)}.${'C'.repeat(10)}`, 'e30.e30.e30.e30.e30']) {
      const reply = await t.client.retrieve(box, 'Cguest', withToken(tkns));
      assert.ok(reply.rsc === 4000 || reply.rsc === 4103, `${tkns.slice(0, 20)}: ${reply.rsc}`);
      assert.notEqual(reply.rsc, 2000);
    }
    assert.equal((await t.client.retrieve(box, 'Cguest', withToken('not-a-token'))).rsc, 4000);
    assert.equal((await t.client.retrieve(box, 'Cguest', withToken(`${'A'.repeat(9000)}.${'B'.repeat(10)}.${'C'.repeat(10)}`))).rsc, 4000);
  });

  it('a token that was valid grants nothing once expired (cached or not)', async () => {
    const shortLived = await token({ claims: { exp: now() + 120 } });
    assert.equal((await t.client.retrieve(box, 'Cguest', withToken(shortLived))).rsc, 2000);
    clock.advance(200_000); // past exp and the 30 s skew
    assert.equal((await t.client.retrieve(box, 'Cguest', withToken(shortLived))).rsc, 4103);
  });

  it('by default accepts tokens only from authenticated originators', async () => {
    const strict = await startTestCse({ 'dynamicAuthorization.tokenIssuers': '' });
    try {
      const holder = await strict.client.registerAe('holder');
      await strict.client.registerAe('guest');
      assert.equal((await strict.client.create('/cse-in/holder', 3, { 'm2m:cnt': { rn: 'box' } }, holder)).rsc, 2001);
      const reply = await strict.client.retrieve('/cse-in/holder/box', 'Cguest', withToken(await token()));
      assert.equal(reply.rsc, 4103);
    } finally {
      await strict.close();
    }
  });
});

describe('dynamic authorization over HTTPS with mutual TLS (tokens from authenticated originators only, the default)', () => {
  const SP = 'warden.example.net';
  let t: TestCse;
  let das: TestDas;
  let port: number;
  let boxRi = '';
  const clients: Record<string, TlsClient> = {};
  type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  let issuerKey: Key;
  const call = (who: string, method: string, path: string, options: { ty?: number; body?: unknown; headers?: Record<string, string> } = {}): Promise<TlsReply> =>
    tlsRequest(port, clients[who] as TlsClient, method, path, who, options);
  const token = (holder: string): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { tkvr: '1', jti: `tk-${holder}`, iss: 'CDas', azp: holder, nbf: now - 60, exp: now + 600, aud: ['/id-in'], tkps: { pm: [{ ris: [boxRi], pv: { acr: [{ acor: [holder], acop: 2 }] } }] } };
    return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).sign(issuerKey);
  };

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-dac-tls-'));
    const ca = await createCa('Warden DAC Test CA');
    const server = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'both' });
    for (const id of ['Cowner', 'Cguest', 'Cother']) {
      const pem = await issueCertificate(ca, { commonName: id, uris: [`onem2m://${SP}/id-in/${id}`], usage: 'client' });
      clients[id] = { ca: ca.certificate, cert: pem.certificate, key: pem.key };
    }
    const pair = await generateKeyPair('ES256', { extractable: true });
    issuerKey = pair.privateKey;
    const files = { cert: join(dir, 'server.pem'), key: join(dir, 'server.key'), ca: join(dir, 'ca.pem'), issuers: join(dir, 'issuers.json') };
    writeFileSync(files.cert, server.certificate);
    writeFileSync(files.key, server.key);
    writeFileSync(files.ca, ca.certificate);
    writeFileSync(files.issuers, JSON.stringify({ issuers: [{ id: 'CDas', algorithms: ['ES256'], jwk: await exportJWK(pair.publicKey) }] }));
    das = await new TestDas().start();
    t = await startTestCse({ 'http.tls': true, 'tls.cert': files.cert, 'tls.key': files.key, 'tls.ca': files.ca, 'tls.clientAuth': 'required', 'dynamicAuthorization.tokenIssuers': files.issuers });
    port = t.cse.httpPort;
    for (const id of ['Cowner', 'Cguest', 'Cother']) {
      const reply = await call(id, 'POST', '/cse-in', { ty: 2, body: { 'm2m:ae': { rn: id.slice(1), api: `N${id.slice(1)}`, rr: false, srv: ['3'] } } });
      assert.equal(reply.rsc, 2001, id);
    }
    const acp = await call('Cowner', 'POST', '/cse-in/owner', { ty: 1, body: { 'm2m:acp': { rn: 'acp', pv: { acr: [{ acor: ['Cowner'], acop: 63 }] }, pvs: { acr: [{ acor: ['Cowner'], acop: 63 }] } } } });
    const acpRi = (acp.body?.['m2m:acp'] as Attrs).ri as string;
    const dac = await call('Cowner', 'POST', '/cse-in/owner', { ty: 34, body: { 'm2m:dac': { rn: 'dac', dae: true, dap: [das.url] } } });
    const dacRi = (dac.body?.['m2m:dac'] as Attrs).ri as string;
    const box = await call('Cowner', 'POST', '/cse-in/owner', { ty: 3, body: { 'm2m:cnt': { rn: 'box', acpi: [acpRi], daci: [dacRi] } } });
    assert.equal(box.rsc, 2001);
    boxRi = (box.body?.['m2m:cnt'] as Attrs).ri as string;
  });
  after(async () => {
    await t.close();
    await das.stop();
  });

  it('a token held by the authenticated originator grants; the same token from another one does not', async () => {
    const tkns = await token('Cguest');
    assert.equal((await call('Cguest', 'GET', '/cse-in/owner/box', { headers: { Authorization: tkns } })).rsc, 2000);
    assert.equal((await call('Cother', 'GET', '/cse-in/owner/box', { headers: { Authorization: tkns } })).rsc, 4103);
    assert.equal(das.requests.length, 0, 'a refused token refuses the request: no DAS is asked');
  });

  it('the direct flow grants an authenticated originator what its DAS grants', async () => {
    das.answer = (request) => grant(String((seci(request).dreq as Attrs).or), 2);
    assert.equal((await call('Cother', 'GET', '/cse-in/owner/box')).rsc, 2000);
    assert.equal(das.requests.length, 1);
    assert.equal((await call('Cother', 'DELETE', '/cse-in/owner/box')).rsc, 4103);
  });
});

describe('dynamic authorization: the DAS request passes the outbound destination policy', () => {
  it('a DAS on a refused address (loopback, not allowed) is never contacted, and the request is denied', async () => {
    const das = await new TestDas().start();
    const t = await startTestCse({ 'outbound.allow': '', 'outbound.loopback': 'deny' });
    try {
      das.answer = () => grant('Cguest', 63);
      const owner = await t.client.registerAe('owner');
      await t.client.registerAe('guest');
      const acp = await t.client.create('/cse-in/owner', 1, { 'm2m:acp': { rn: 'acp', pv: { acr: [{ acor: [owner], acop: 63 }] }, pvs: { acr: [{ acor: [owner], acop: 63 }] } } }, owner);
      const dac = await t.client.create('/cse-in/owner', 34, { 'm2m:dac': { rn: 'dac', dae: true, dap: [das.url] } }, owner);
      const acpi = [(acp.body?.['m2m:acp'] as Attrs).ri as string];
      const daci = [(dac.body?.['m2m:dac'] as Attrs).ri as string];
      assert.equal((await t.client.create('/cse-in/owner', 3, { 'm2m:cnt': { rn: 'box', acpi, daci } }, owner)).rsc, 2001);
      assert.equal((await t.client.retrieve('/cse-in/owner/box', 'Cguest')).rsc, 4103);
      assert.equal(das.requests.length, 0);
    } finally {
      await t.close();
      await das.stop();
    }
  });
});
