// What an originator without privileges can make the CSE spend (issue #20, finding 9): non-blocking requests
// are authorized and accounted before anything is stored, access control windows are bounded at write, discovery
// pages are bounded in bytes, and group fan-out is linear and bounded in size.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCse, type TestCse } from '../harness.js';

type Attrs = Record<string, unknown>;

const epoch = (ts: unknown): number => Date.parse(String(ts).replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2}).*$/, '$1-$2-$3T$4:$5:$6Z'));

describe('non-blocking requests are authorized and accounted before they are stored', () => {
  let t: TestCse;
  let owner: string;
  let nosy: string;
  const requests = async (): Promise<number> => {
    const found = await t.client.retrieve('/cse-in?fu=1&ty=17', 'CAdmin');
    return ((found.body?.['m2m:uril'] as string[] | undefined) ?? []).length;
  };
  before(async () => {
    t = await startTestCse({ 'nonBlocking.maxRetention': 3600 });
    owner = await t.client.registerAe('keeper');
    nosy = await t.client.registerAe('prober');
    await t.client.create('/cse-in/keeper', 3, { 'm2m:cnt': { rn: 'c' } }, owner);
  });
  after(() => t.close());

  it('an unregistered, unauthenticated originator may not make the CSE keep a request', async () => {
    for (const query of ['fu=1&rt=1', 'fu=1&rt=1&rp=P3650D', 'rt=1']) {
      const reply = await t.client.retrieve(`/cse-in/keeper/c?${query}`, 'stranger');
      assert.equal(reply.rsc, 4103, `${query}: ${reply.text}`);
    }
    const registration = await t.client.request('POST', '/cse-in?rt=1', { origin: 'Cnewcomer', ty: 2, body: { 'm2m:ae': { rn: 'newcomer', api: 'Nnew', rr: false, srv: ['3'] } } });
    assert.equal(registration.rsc, 4103, registration.text);
    assert.equal(await requests(), 0, 'no <request> was stored');
  });

  it('a discovery kept for later needs DISCOVERY or RETRIEVE on its target, unlike one answered at once', async () => {
    assert.equal((await t.client.retrieve('/cse-in/keeper?fu=1', nosy)).rsc, 2000, 'a blocking discovery is answered (with what nosy may see)');
    const kept = await t.client.retrieve('/cse-in/keeper?fu=1&rt=1', nosy);
    assert.equal(kept.rsc, 4103, kept.text);
    assert.equal(await requests(), 0);
    const own = await t.client.retrieve('/cse-in/keeper?fu=1&rt=1', owner);
    assert.equal(own.rsc, 1001, own.text);
    assert.equal(await requests(), 1);
  });

  it('resultPersistence is bounded by nonBlocking.maxRetention, and an oet beyond it is refused', async () => {
    const ack = await t.client.request('GET', '/cse-in/keeper/c?rt=1&rp=P3650D', { origin: owner });
    assert.equal(ack.rsc, 1001, ack.text);
    const req = (await t.client.retrieve(`/${String(ack.body?.['m2m:uri'])}`, owner)).body?.['m2m:req'] as Attrs;
    const lifetime = epoch(req.et) - epoch(req.ct);
    assert.ok(lifetime <= 3_600_000 + 2_000, `kept for at most an hour (${lifetime} ms)`);
    const late = await t.client.request('GET', '/cse-in/keeper/c?rt=1', { origin: owner, headers: { 'X-M2M-OET': 'P2D' } });
    assert.equal(late.rsc, 4000, late.text);
  });
});

describe('a discovery or result-content page reads a bounded number of bytes', () => {
  let t: TestCse;
  let ae: string;
  const INSTANCES = 8;
  const cf = (query: string): string => `cfs=1&cfq=${encodeURIComponent(query)}`;
  before(async () => {
    t = await startTestCse({ 'discovery.maxPageBytes': 65_536 });
    ae = await t.client.registerAe('hoarder');
    await t.client.create('/cse-in/hoarder', 3, { 'm2m:cnt': { rn: 'big', mni: 100, mbs: 10_000_000 } }, ae);
    for (let i = 0; i < INSTANCES; i++) {
      const reply = await t.client.create('/cse-in/hoarder/big', 4, { 'm2m:cin': { rn: `i${i}`, cnf: 'application/json:0', con: JSON.stringify({ n: i, pad: 'x'.repeat(30_000) }) } }, ae);
      assert.equal(reply.rsc, 2001, reply.text);
    }
  });
  after(() => t.close());

  it('a content filter reads instances whole, so its pages end at maxPageBytes and paging carries on', async () => {
    const all: string[] = [];
    let offset = 1;
    let pages = 0;
    for (;;) {
      const reply = await t.client.retrieve(`/cse-in/hoarder/big?fu=1&${cf('$.n GE 0')}&ofst=${offset}`, ae);
      assert.equal(reply.rsc, 2000, reply.text);
      const ids = reply.body?.['m2m:uril'] as string[];
      pages++;
      // 64 KiB of documents a page, instances of about 30 kB: never more than three whole ones.
      assert.ok(ids.length >= 1 && ids.length <= 3, `page ${pages}: ${ids.length} results`);
      all.push(...ids);
      if (reply.headers.get('x-m2m-cts') !== '1') break;
      offset = Number(reply.headers.get('x-m2m-cto'));
      assert.equal(offset, all.length + 1);
    }
    assert.ok(pages >= 3, `${pages} pages`);
    assert.equal(new Set(all).size, INSTANCES, 'every instance once');
  });

  it('without a content filter the content is not read: one page holds them all', async () => {
    const reply = await t.client.retrieve('/cse-in/hoarder/big?fu=1&ty=4', ae);
    assert.equal((reply.body?.['m2m:uril'] as string[]).length, INSTANCES);
    assert.equal(reply.headers.get('x-m2m-cts'), '2');
    const references = await t.client.retrieve('/cse-in/hoarder/big?rcn=6', ae);
    assert.equal(((references.body?.['m2m:rrl'] as Attrs).rrf as unknown[]).length, INSTANCES);
  });

  it('result content 4 embeds whole instances only up to maxPageBytes a page', async () => {
    const reply = await t.client.retrieve('/cse-in/hoarder/big?rcn=4', ae);
    assert.equal(reply.rsc, 2000, reply.text);
    const embedded = ((reply.body?.['m2m:cnt'] as Attrs)['m2m:cin'] as Attrs[] | undefined) ?? [];
    assert.ok(embedded.length >= 1 && embedded.length <= 3, `${embedded.length} embedded`);
    assert.equal(reply.headers.get('x-m2m-cts'), '1');
  });
});

describe('a content filter reads nothing the originator may not see', () => {
  let t: TestCse;
  before(async () => {
    t = await startTestCse({ 'discovery.maxPageBytes': 65_536 });
    const ae = await t.client.registerAe('keeperOfData');
    await t.client.create('/cse-in/keeperOfData', 3, { 'm2m:cnt': { rn: 'big', mni: 100, mbs: 10_000_000 } }, ae);
    // 12 × 30 kB: more than five pages' worth of bytes (the most a page without results may read) of 64 KiB.
    for (let i = 0; i < 12; i++) {
      const reply = await t.client.create('/cse-in/keeperOfData/big', 4, { 'm2m:cin': { rn: `i${i}`, cnf: 'application/json:0', con: JSON.stringify({ n: i, pad: 'x'.repeat(30_000) }) } }, ae);
      assert.equal(reply.rsc, 2001, reply.text);
    }
  });
  after(() => t.close());

  it('an originator who may see none of the instances makes the CSE read none of their content', async () => {
    // Before, the content filter read (and parsed) every instance for anyone, up to five pages of bytes, and then
    // refused the page as too sparse: an originator without privileges made the CSE parse other AEs' data.
    const stranger = await t.client.registerAe('outsider');
    const reply = await t.client.retrieve(`/cse-in/keeperOfData/big?fu=1&cfs=1&cfq=${encodeURIComponent('$.n GE 0')}`, stranger);
    assert.equal(reply.rsc, 2000, reply.text);
    assert.deepEqual(reply.body?.['m2m:uril'] ?? [], []);
    assert.equal(reply.headers.get('x-m2m-cts'), '2', 'one complete answer');
  });
});

describe('access control windows are bounded when a policy is written', () => {
  let t: TestCse;
  let ae: string;
  before(async () => {
    t = await startTestCse();
    ae = await t.client.registerAe('scheduler');
  });
  after(() => t.close());

  const policy = (actw: string[]) => ({ 'm2m:acp': { pv: { acr: [{ acor: ['Cguest'], acop: 2, acco: [{ actw }] }] }, pvs: { acr: [{ acor: [ae], acop: 63 }] } } });

  it('refuses a year list longer than 32 elements, and a window longer than 512 characters, naming the element', async () => {
    const years = Array.from({ length: 100 }, (_, i) => String(2000 + i)).join(',');
    const long = await t.client.create('/cse-in/scheduler', 1, policy(['* * * * * * 2026', `* * * * * * ${years}`]), ae);
    assert.equal(long.rsc, 4000, long.text);
    assert.match(long.text, /pv\.acr\[0\]\.acco\[0\]\.actw\[1\]/);
    assert.match(long.text, /year field has 100 elements/);
    const wide = await t.client.create('/cse-in/scheduler', 1, policy([`* * * * * * ${'2026-2027,'.repeat(60)}2030`]), ae);
    assert.equal(wide.rsc, 4000, wide.text);
    assert.match(wide.text, /actw\[0\]: the window has \d+ characters/);
    const update = await t.client.create('/cse-in/scheduler', 1, { ...policy(['* * * * * * *']), 'm2m:acp': { ...policy(['* * * * * * *'])['m2m:acp'], rn: 'fine' } }, ae);
    assert.equal(update.rsc, 2001, update.text);
    const changed = await t.client.update('/cse-in/scheduler/fine', { 'm2m:acp': { pv: policy([`* * * * * * ${years}`])['m2m:acp'].pv } }, ae);
    assert.equal(changed.rsc, 4000, 'an UPDATE is bounded too');
  });

  it('ranges, steps and short lists still decide as before', async () => {
    const ok = await t.client.create('/cse-in/scheduler', 1, policy(['*/5 0-59 0,6,12,18 1-31/2 * 1-5 2000-9999/4', '* * * * * * 2026,2027,2028']), ae);
    assert.equal(ok.rsc, 2001, ok.text);
  });
});

describe('group fan-out is bounded over all nested groups together', () => {
  let t: TestCse;
  let ae: string;
  const leaves: string[] = [];
  const riOf = (reply: { body?: Record<string, unknown> | undefined }, type: string): string => String((reply.body?.[type] as Attrs).ri);
  before(async () => {
    t = await startTestCse({ 'groups.maxFanOutRequests': 50, 'groups.maxAnswerBytes': 65_536 });
    ae = await t.client.registerAe('fanner');
    for (let i = 0; i < 10; i++) {
      const cnt = await t.client.create('/cse-in/fanner', 3, { 'm2m:cnt': { rn: `c${i}`, mbs: 1_000_000 } }, ae);
      leaves.push(riOf(cnt, 'm2m:cnt'));
      await t.client.create(`/cse-in/fanner/c${i}`, 4, { 'm2m:cin': { con: 'x'.repeat(20_000) } }, ae);
    }
    const inner: string[] = [];
    for (let i = 0; i < 10; i++) inner.push(riOf(await t.client.create('/cse-in/fanner', 9, { 'm2m:grp': { rn: `b${i}`, mnm: 100, mid: leaves } }, ae), 'm2m:grp'));
    assert.equal((await t.client.create('/cse-in/fanner', 9, { 'm2m:grp': { rn: 'outer', mnm: 100, mid: inner } }, ae)).rsc, 2001);
    assert.equal((await t.client.create('/cse-in/fanner', 9, { 'm2m:grp': { rn: 'flat', mnm: 100, mid: leaves } }, ae)).rsc, 2001);
  });
  after(() => t.close());

  it('a group of groups makes at most groups.maxFanOutRequests member requests, not members × members', async () => {
    const reply = await t.client.retrieve('/cse-in/fanner/outer/fopt/fopt', ae);
    assert.equal(reply.rsc, 2000, reply.text.slice(0, 300));
    const outer = (reply.body?.['m2m:agr'] as Attrs)['m2m:rsp'] as Attrs[];
    assert.equal(outer.length, 10);
    let sent = 0;
    let refused = 0;
    for (const entry of outer) {
      const nested = ((entry.pc as Attrs | undefined)?.['m2m:agr'] as Attrs | undefined)?.['m2m:rsp'] as Attrs[] | undefined;
      for (const leaf of nested ?? []) {
        if (leaf.rsc === 5209) refused++;
        else sent++; // 2000, or 4104 for a container already reached through another group
      }
    }
    // 10 requests to the inner groups, so at most 40 reach a container; the other 60 are answered 5209.
    assert.ok(sent <= 40, `${sent} requests reached a container`);
    assert.equal(sent + refused, 100);
  });

  it('member answers beyond groups.maxAnswerBytes keep their status, not their content, and later RETRIEVEs are not sent', async () => {
    const reply = await t.client.retrieve('/cse-in/fanner/flat/fopt/la', ae);
    assert.equal(reply.rsc, 2000);
    assert.ok(reply.text.length < 65_536 + 8_192, `${reply.text.length} characters`);
    const entries = (reply.body?.['m2m:agr'] as Attrs)['m2m:rsp'] as Attrs[];
    assert.equal(entries.length, 10);
    const whole = entries.filter((e) => (e.pc as Attrs | undefined)?.['m2m:cin'] !== undefined);
    assert.ok(whole.length >= 2 && whole.length <= 3, `${whole.length} answers whole`);
    assert.ok(entries.every((e) => e.rsc === 2000 || e.rsc === 5209));
  });
});
