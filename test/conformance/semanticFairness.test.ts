// One originator cannot hold the SPARQL worker: originators take turns, each may have only a few calls
// waiting, and each has a budget of worker time per minute. Order of completion, not durations, is checked.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCse, type Reply, type TestCse } from '../harness.js';
import { waitFor } from '../receiver.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const q = (s: string) => encodeURIComponent(s);

/** Stopped by discovery.semanticTimeLimit (1 s) over 60 triples: a query that holds the worker as long as it may. */
const SLOW = 'SELECT ?a WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n ?o FILTER(CONCAT(STR(?c), STR(?f), STR(?i), STR(?l), STR(?o)) = "x") }';
const FAST = 'ASK { ?a ?b ?c }';
const LIMITED = 4141;

describe('semantics: per-originator fairness of the SPARQL worker', () => {
  let t: TestCse;
  let flood: string;
  let polite: string;
  before(async () => {
    t = await startTestCse({ 'discovery.semanticTimeLimit': 1, 'discovery.semanticSecondsPerMinute': 2, 'discovery.semanticQueuePerOriginator': 3 });
    flood = await t.client.registerAe('flood');
    polite = await t.client.registerAe('polite');
    const triples = Array.from({ length: 60 }, (_, i) => `ex:n${i} ex:p ex:m${i} .`).join('\n');
    const big = await t.client.create('/cse-in/flood', 24, { 'm2m:smd': { rn: 'big', dcrp: 5, dsp: b64(`@prefix ex: <http://ex.org/> .\n${triples}`) } }, flood);
    assert.equal(big.rsc, 2001, big.text);
    const small = await t.client.create('/cse-in/polite', 24, { 'm2m:smd': { rn: 'small', dcrp: 5, dsp: b64('@prefix ex: <http://ex.org/> . ex:a ex:b ex:c .') } }, polite);
    assert.equal(small.rsc, 2001, small.text);
  });
  after(() => t.close());

  const semanticQuery = (path: string, query: string, origin: string): Promise<Reply> => t.client.retrieve(`${path}?sqi=true&rcn=10&smf=${q(query)}`, origin);

  it("serves another originator's query before a flooding originator's backlog, and refuses the flooder beyond its budget", async () => {
    const engine = t.cse.services.semantics;
    const finished: string[] = [];
    const track = (name: string, reply: Promise<Reply>): Promise<Reply> =>
      reply.then((r) => {
        finished.push(name);
        return r;
      });
    // The worker starts nothing while the calls queue up, so that they queue in a known order.
    const resume = engine.pause();
    // The flooder sends four slow queries at once: three wait (its queue's limit), one is refused.
    const floods = new Map([1, 2, 3, 4].map((i) => [`flood${i}`, track(`flood${i}`, semanticQuery('/cse-in/flood', SLOW, flood))]));
    await waitFor(() => engine.waiting(flood) === 3 && finished.length === 1, 10_000);
    const refusedAtOnce = await floods.get(finished[0] ?? '');
    assert.equal(refusedAtOnce?.rsc, LIMITED, refusedAtOnce?.text);
    assert.match(refusedAtOnce?.text ?? '', /3 semantic operations waiting/);
    assert.equal(refusedAtOnce?.status, 429);
    // Then the other originator's query, behind the flooder's three.
    const politeReply = track('polite', semanticQuery('/cse-in/polite', FAST, polite));
    await waitFor(() => engine.waiting(polite) === 1, 10_000);
    resume();
    await Promise.all(floods.values());
    const first = await politeReply;

    assert.equal(first.rsc, 2000, first.text);
    // The flooder's first query runs, then it is the other originator's turn, before the flooder's backlog.
    assert.equal(finished[2], 'polite', `completion order: ${finished.join(', ')}`);
    // Each slow query holds the worker for its whole 1 s limit; its 2 s a minute are gone after two: what it
    // still had waiting is refused, and so is a new query.
    const ran = await floods.get(finished[1] ?? '');
    const last = await floods.get(finished[4] ?? '');
    assert.equal(ran?.rsc, 4008, ran?.text);
    assert.equal(last?.rsc, LIMITED, last?.text);
    assert.match(last?.text ?? '', /out of semantic processing time/);
    const again = await semanticQuery('/cse-in/flood', FAST, flood);
    assert.equal(again.rsc, LIMITED, again.text);
    assert.match(again.text, /semantic processing time/);
    // The other originator is not affected.
    const next = await semanticQuery('/cse-in/polite', FAST, polite);
    assert.equal(next.rsc, 2000, next.text);
  });

  it('past the shared queue, an originator with nothing waiting still gets a place, and so does the admin (4141 for the others)', async () => {
    const engine = t.cse.services.semantics;
    const resume = engine.pause();
    const ask = (key: string, limited = true): Promise<number> =>
      engine
        .as({ key, limited })
        .query(FAST, [], 'json')
        .then(
          () => 2000,
          (err: unknown) => (err as { rsc?: number }).rsc ?? 0,
        );
    // 21 originators with 3 calls each (their queue's limit here) and one more: 64 waiting, the shared bound.
    const filling: Array<Promise<number>> = [];
    for (let i = 0; i < 21; i++) for (let j = 0; j < 3; j++) filling.push(ask(`filler${i}`));
    filling.push(ask('filler21'));
    await waitFor(() => engine.waiting('filler21') === 1, 10_000);
    // Past it: the same originator's next call, and a second one of a newcomer, are refused…
    const second = ask('filler21');
    const newcomer = ask('newcomer');
    await waitFor(() => engine.waiting('newcomer') === 1, 10_000);
    const newcomersSecond = ask('newcomer');
    const admin = ask('CAdmin', false);
    await waitFor(() => engine.waiting('CAdmin') === 1, 10_000);
    assert.equal(await second, LIMITED);
    assert.equal(await newcomersSecond, LIMITED);
    resume();
    // …while the newcomer's first call and the admin's are served with the rest.
    assert.equal(await newcomer, 2000);
    assert.equal(await admin, 2000);
    assert.deepEqual(new Set(await Promise.all(filling)), new Set([2000]));
  });

  it('gives originators that are neither authenticated nor registered one share between them', async () => {
    const owner = await t.client.registerAe('open');
    const triples = Array.from({ length: 60 }, (_, i) => `ex:n${i} ex:p ex:m${i} .`).join('\n');
    const acp = await t.client.create('/cse-in/open', 1, { 'm2m:acp': { rn: 'all', pv: { acr: [{ acor: ['all'], acop: 2 }] }, pvs: { acr: [{ acor: [owner], acop: 63 }] } } }, owner);
    assert.equal(acp.rsc, 2001, acp.text);
    const smd = await t.client.create('/cse-in/open', 24, { 'm2m:smd': { rn: 'big', dcrp: 5, dsp: b64(`@prefix ex: <http://ex.org/> .\n${triples}`), acpi: ['cse-in/open/all'] } }, owner);
    assert.equal(smd.rsc, 2001, smd.text);
    // Two made-up originators, one after the other: each slow query holds the worker up to 1 s, and the two
    // seconds a minute they share are gone after both.
    const one = await semanticQuery('/cse-in/open/big', SLOW, 'Xnobody1');
    assert.equal(one.rsc, 4008, one.text);
    await semanticQuery('/cse-in/open/big', SLOW, 'Xnobody2');
    const third = await semanticQuery('/cse-in/open/big', FAST, 'Xnobody3');
    assert.equal(third.rsc, LIMITED, third.text);
    assert.match(third.text, /neither authenticated nor registered/);
    // A registered originator keeps its own share.
    assert.equal((await semanticQuery('/cse-in/open/big', FAST, owner)).rsc, 2000);
  });
});
