// Dynamic authorization, direct flow (TS-0003 §7.3.2.2, TS-0004 §7.5.1.2.10), over HTTP: after the access control
// policies deny, the CSE asks the DAS of the target's <dynamicAuthorizationConsultation> with an m2m:securityInfo
// of type 1, stores what a type 2 answer grants as a dynamic policy bound to the originator and the target, and
// decides again. A DAS that denies, hangs, answers garbage or the wrong type grants nothing: 4103.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { formatTimestamp } from '../../src/primitive/identifiers.js';
import { ManualClock, startTestCse, type TestCse } from '../harness.js';

type Attrs = Record<string, unknown>;
type Answer = { rsc: number; body?: unknown; raw?: string } | 'hang';

/** A minimal DAS: an HTTP server that records each consultation and answers as the test says. */
class TestDas {
  readonly requests: Attrs[] = [];
  answer: (request: Attrs) => Answer = () => ({ rsc: 2000, body: { 'm2m:seci': { sit: 2, dres: {} } } });
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
        const answer = this.answer(body);
        if (answer === 'hang') return;
        res.writeHead(200, { 'X-M2M-RSC': String(answer.rsc), 'Content-Type': 'application/json' });
        res.end(answer.raw ?? (answer.body === undefined ? '' : JSON.stringify(answer.body)));
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

  before(async () => {
    das = await new TestDas().start();
    t = await startTestCse({ 'dynamicAuthorization.timeout': 1, 'dynamicAuthorization.defaultConsultation': 'cse-in/systemDac' }, { clock });
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

  it('a privilege granted by a DAS never lets the originator change acpi', async () => {
    const box = await guarded();
    das.answer = () => grant('Cguest', 63);
    assert.equal((await t.client.retrieve(box, 'Cguest')).rsc, 2000);
    assert.equal((await t.client.update(box, { 'm2m:cnt': { acpi: [] } }, 'Cguest')).rsc, 4103);
  });
});
