// Semantic descriptors, semantic discovery (semanticsFilter) and semantic queries (sqi, rcn 10) over HTTP.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestCse, type TestCse } from '../harness.js';

type Attrs = Record<string, unknown>;
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const q = (s: string) => encodeURIComponent(s);

const TEMPERATURE = '@prefix ex: <http://ex.org/> . ex:temp a ex:TemperatureSensor ; ex:room "kitchen" .';
const HUMIDITY = `<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://ex.org/">
  <rdf:Description rdf:about="http://ex.org/hum"><rdf:type rdf:resource="http://ex.org/HumiditySensor"/><ex:room>cellar</ex:room></rdf:Description>
</rdf:RDF>`;
const SENSORS = 'PREFIX ex: <http://ex.org/> SELECT ?s WHERE { ?s a ?type }';
const TEMPERATURE_SENSORS = 'PREFIX ex: <http://ex.org/> SELECT ?s WHERE { ?s a ex:TemperatureSensor }';

describe('semantics', () => {
  let t: TestCse;
  let ae: string;
  let peer: string;
  before(async () => {
    t = await startTestCse({ 'discovery.semanticTimeLimit': 1 });
    ae = await t.client.registerAe('sem');
    peer = await t.client.registerAe('peer');
    const mk = async (path: string, ty: number, body: Attrs) => {
      const reply = await t.client.create(path, ty, body, ae);
      assert.equal(reply.rsc, 2001, `${path}: ${reply.text}`);
      return reply.body;
    };
    // The peer may discover everything of this AE through one policy, but not the humidity descriptor.
    await mk('/cse-in/sem', 1, { 'm2m:acp': { rn: 'open', pv: { acr: [{ acor: [peer, ae], acop: 63 }] }, pvs: { acr: [{ acor: [ae], acop: 63 }] } } });
    assert.equal((await t.client.update('/cse-in/sem', { 'm2m:ae': { acpi: ['cse-in/sem/open'] } }, ae)).rsc, 2004);
    await mk('/cse-in/sem', 3, { 'm2m:cnt': { rn: 'temp', lbl: ['kitchen'], acpi: ['cse-in/sem/open'] } });
    await mk('/cse-in/sem', 3, { 'm2m:cnt': { rn: 'hum', acpi: ['cse-in/sem/open'] } });
    await mk('/cse-in/sem', 3, { 'm2m:cnt': { rn: 'plain', acpi: ['cse-in/sem/open'] } });
    await mk('/cse-in/sem/temp', 24, { 'm2m:smd': { rn: 'desc', dcrp: 5, dsp: b64(TEMPERATURE), acpi: ['cse-in/sem/open'] } });
    await mk('/cse-in/sem/hum', 24, { 'm2m:smd': { rn: 'desc', dcrp: 4, dsp: b64(HUMIDITY) } });
  });
  after(() => t.close());

  async function discover(query: string, origin = ae, extra = ''): Promise<string[]> {
    const reply = await t.client.retrieve(`/cse-in/sem?fu=1&smf=${q(query)}${extra}`, origin);
    assert.equal(reply.rsc, 2000, reply.text);
    return ((reply.body?.['m2m:uril'] as string[]) ?? []).map((p) => p.split('/').pop() as string).sort();
  }

  it('stores a descriptor, checked, without semanticOpExec in its representation', async () => {
    const smd = (await t.client.retrieve('/cse-in/sem/temp/desc', ae)).body?.['m2m:smd'] as Attrs;
    assert.equal(smd.dcrp, 5);
    assert.equal(smd.dsp, b64(TEMPERATURE));
    assert.equal(smd.vlde, false);
    assert.equal(smd.svd, false);
    assert.equal('soe' in smd, false);
  });

  it('refuses descriptors that are not what they claim to be', async () => {
    const bad: Array<[Attrs, number]> = [
      [{ dcrp: 5, dsp: 'not base64!' }, 4000],
      [{ dcrp: 5, dsp: b64('this is not turtle') }, 4000],
      [{ dcrp: 4, dsp: b64('<rdf:RDF') }, 4000],
      [{ dcrp: 1, dsp: b64('http://ex.org/onto') }, 4000],
      [{ dcrp: 4, dsp: b64('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "a">]><r/>') }, 4000],
      [{ dcrp: 5, dsp: b64(TEMPERATURE), soe: 'INSERT DATA {}' }, 4000],
      [{ dcrp: 5 }, 4000],
    ];
    for (const [body, rsc] of bad) {
      const reply = await t.client.create('/cse-in/sem/plain', 24, { 'm2m:smd': body }, ae);
      assert.equal(reply.rsc, rsc, `${JSON.stringify(body).slice(0, 80)}: ${reply.text}`);
    }
    assert.equal((await t.client.create('/cse-in', 24, { 'm2m:smd': { dcrp: 5, dsp: b64(TEMPERATURE) } }, 'CAdmin')).rsc, 4108, 'not under the CSEBase');
  });

  it('discovers the parents whose descriptors answer the query', async () => {
    assert.deepEqual(await discover(SENSORS), ['hum', 'temp']);
    assert.deepEqual(await discover(TEMPERATURE_SENSORS), ['temp']);
    assert.deepEqual(await discover('PREFIX ex: <http://ex.org/> ASK { ?s ex:room "cellar" }'), ['hum']);
    assert.deepEqual(await discover(SENSORS, ae, '&lbl=kitchen'), ['temp'], 'AND with a label');
    assert.deepEqual(await discover(TEMPERATURE_SENSORS, ae, '&fo=2&ty=4'), ['temp'], 'OR with a type nothing has');
    assert.deepEqual(await discover(SENSORS, peer), ['temp'], 'the peer may not discover the humidity descriptor');
  });

  it("a query sees only the candidate's own descriptors, also through GRAPH patterns", async () => {
    assert.deepEqual(await discover('SELECT ?s WHERE { GRAPH ?g { ?s a <http://ex.org/HumiditySensor> } }'), ['hum']);
  });

  it('follows relatedSemantics links', async () => {
    const link = await t.client.create('/cse-in/sem/plain', 24, { 'm2m:smd': { rn: 'linked', dcrp: 5, dsp: b64('@prefix ex: <http://ex.org/> . ex:plain ex:near ex:temp .'), rels: ['cse-in/sem/temp/desc'] } }, ae);
    assert.equal(link.rsc, 2001, link.text);
    assert.deepEqual(await discover('PREFIX ex: <http://ex.org/> SELECT ?x WHERE { ?x ex:near ?y . ?y a ex:TemperatureSensor }'), ['plain']);
    assert.equal((await t.client.delete('/cse-in/sem/plain/linked', ae)).rsc, 2002);
  });

  it('answers a malformed query with 4143', async () => {
    assert.equal((await t.client.retrieve(`/cse-in/sem?fu=1&smf=${q('SELEKT nothing')}`, ae)).rsc, 4143);
  });

  it('runs a semantic query over all descriptors and returns SPARQL results', async () => {
    const reply = await t.client.retrieve(`/cse-in/sem?sqi=true&rcn=10&smf=${q(SENSORS)}`, ae);
    assert.equal(reply.rsc, 2000, reply.text);
    const results = JSON.parse(String(reply.body?.['m2m:qres'])) as { results: { bindings: Array<{ s: { value: string } }> } };
    assert.deepEqual(results.results.bindings.map((b) => b.s.value).sort(), ['http://ex.org/hum', 'http://ex.org/temp']);
    const xml = await t.client.retrieve(`/cse-in/sem?sqi=true&rcn=10&smf=${q(SENSORS)}`, ae, { headers: { Accept: 'application/xml' } });
    assert.equal(xml.rsc, 2000);
    assert.match(xml.text, /<m2m:qres xmlns:m2m="http:\/\/www\.onem2m\.org\/xml\/protocols">&lt;\?xml[^<]*&lt;sparql xmlns=/, 'XML requests get SPARQL results in XML');
    const forPeer = await t.client.retrieve(`/cse-in/sem?sqi=true&rcn=10&smf=${q(SENSORS)}`, peer);
    assert.equal(forPeer.rsc, 2000, forPeer.text);
    const peerResults = JSON.parse(String(forPeer.body?.['m2m:qres'])) as { results: { bindings: unknown[] } };
    assert.equal(peerResults.results.bindings.length, 1, 'only descriptors the peer may retrieve');
  });

  it('counts toward the bound of a semantic query only the descriptors the originator may read', async () => {
    // Another AE's 2 001 descriptors, which only it may read, under the same CSEBase.
    const hoarder = await t.client.registerAe('hoarder');
    const tiny = b64('@prefix ex: <http://ex.org/> . ex:h ex:p ex:o .');
    // Eight at a time: each CREATE checks its descriptor in the SPARQL worker, where an originator may have eight waiting.
    for (let start = 0; start < 2001; start += 8) {
      const batch = Array.from({ length: Math.min(8, 2001 - start) }, (_, i) => t.client.create('/cse-in/hoarder', 24, { 'm2m:smd': { rn: `h${start + i}`, dcrp: 5, dsp: tiny } }, hoarder));
      for (const reply of await Promise.all(batch)) assert.equal(reply.rsc, 2001, reply.text);
    }
    const mine = await t.client.retrieve(`/cse-in?sqi=true&rcn=10&smf=${q(TEMPERATURE_SENSORS)}`, ae);
    assert.equal(mine.rsc, 2000, mine.text);
    const results = JSON.parse(String(mine.body?.['m2m:qres'])) as { results: { bindings: Array<{ s: { value: string } }> } };
    assert.deepEqual(results.results.bindings.map((b) => b.s.value), ['http://ex.org/temp']);
    // The hoarder itself reads all of them: more than a query takes.
    const theirs = await t.client.retrieve(`/cse-in?sqi=true&rcn=10&smf=${q(TEMPERATURE_SENSORS)}`, hoarder);
    assert.equal(theirs.rsc, 5207, theirs.text);
    assert.equal((await t.client.delete('/cse-in/hoarder', hoarder)).rsc, 2002);
  });

  it('checks the semantic query parameters', async () => {
    assert.equal((await t.client.retrieve(`/cse-in/sem?sqi=true&smf=${q(SENSORS)}`, ae)).rsc, 4000, 'sqi needs rcn=10');
    assert.equal((await t.client.retrieve('/cse-in/sem?rcn=10', ae)).rsc, 4000, 'rcn=10 needs sqi');
    assert.equal((await t.client.retrieve('/cse-in/sem?sqi=true&rcn=10', ae)).rsc, 4000, 'sqi needs smf');
    assert.equal((await t.client.retrieve(`/cse-in/sem?fu=1&sqi=true&rcn=10&smf=${q(SENSORS)}`, ae)).rsc, 4000, 'not with discovery');
    assert.equal((await t.client.request('DELETE', '/cse-in/sem/plain?sqi=true', { origin: ae })).rsc, 4000, 'RETRIEVE only');
    assert.equal((await t.client.retrieve('/cse-in/sem?rcn=12', ae)).rsc, 5001, 'permissions has no defined representation');
  });

  it('applies semanticOpExec to the descriptor', async () => {
    const update = await t.client.update('/cse-in/sem/temp/desc', { 'm2m:smd': { soe: 'PREFIX ex: <http://ex.org/> INSERT DATA { ex:temp ex:unit "Celsius" }' } }, ae);
    assert.equal(update.rsc, 2004, update.text);
    const smd = update.body?.['m2m:smd'] as Attrs;
    assert.equal('soe' in smd, false, 'semanticOpExec is never returned');
    assert.match(Buffer.from(String(smd.dsp), 'base64').toString('utf8'), /Celsius/);
    assert.deepEqual(await discover('PREFIX ex: <http://ex.org/> ASK { ?s ex:unit "Celsius" }'), ['temp']);
    assert.equal((await t.client.update('/cse-in/sem/temp/desc', { 'm2m:smd': { soe: 'INSERT DATA {}', dsp: b64(TEMPERATURE) } }, ae)).rsc, 4000);
    assert.equal((await t.client.update('/cse-in/sem/temp/desc', { 'm2m:smd': { soe: 'DROP EVERYTHING NOW' } }, ae)).rsc, 5212);
    const replaced = await t.client.update('/cse-in/sem/temp/desc', { 'm2m:smd': { dsp: b64(TEMPERATURE), vlde: true } }, ae);
    assert.equal(replaced.rsc, 2004, replaced.text);
    assert.equal((replaced.body?.['m2m:smd'] as Attrs).svd, true);
    assert.equal((await t.client.update('/cse-in/sem/temp/desc', { 'm2m:smd': { dsp: b64('broken turtle') } }, ae)).rsc, 4000);
  });

  it('stops a query that runs too long, and keeps serving', async () => {
    const triples = Array.from({ length: 60 }, (_, i) => `ex:n${i} ex:p ex:m${i} .`).join('\n');
    const big = await t.client.create('/cse-in/sem/plain', 24, { 'm2m:smd': { rn: 'big', dcrp: 5, dsp: b64(`@prefix ex: <http://ex.org/> .\n${triples}`) } }, ae);
    assert.equal(big.rsc, 2001, big.text);
    const slow = 'SELECT ?a WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n ?o FILTER(CONCAT(STR(?c), STR(?f), STR(?i), STR(?l), STR(?o)) = "x") }';
    // Sent together: the slow query is stopped alone; the one queued behind it runs on a fresh worker.
    const [reply, behind] = await Promise.all([t.client.retrieve(`/cse-in/sem?fu=1&smf=${q(slow)}`, ae), discover(TEMPERATURE_SENSORS)]);
    assert.equal(reply.rsc, 4008, reply.text);
    assert.deepEqual(behind, ['temp'], 'a call queued behind a stopped one is not lost with it');
    assert.deepEqual(await discover(TEMPERATURE_SENSORS), ['temp'], 'a fresh worker answers the next query');
  });
});

describe('semantics: resource bounds', () => {
  it('stops a semantic query that grows the memory without bound, and keeps serving', async () => {
    // No time budget: on a slow machine the query may run long before it has grown enough.
    const t = await startTestCse({ 'discovery.semanticTimeLimit': 30, 'discovery.semanticSecondsPerMinute': 0 });
    try {
      const ae = await t.client.registerAe('hungry');
      let ttl = '';
      for (let i = 0; i < 1500; i++) ttl += `<urn:a${i}> <urn:p> "${'x'.repeat(200)}${i}" .\n`;
      assert.equal((await t.client.create('/cse-in/hungry', 24, { 'm2m:smd': { rn: 'big', dcrp: 5, dsp: b64(ttl) } }, ae)).rsc, 2001);
      const explode = 'SELECT (GROUP_CONCAT(?o) AS ?c) WHERE { ?a ?p ?o . ?b ?q ?r }';
      assert.equal((await t.client.retrieve(`/cse-in/hungry?sqi=true&rcn=10&smf=${q(explode)}`, ae)).rsc, 5207);
      const next = await t.client.retrieve(`/cse-in/hungry?sqi=true&rcn=10&smf=${q('ASK { ?a ?b ?c }')}`, ae);
      assert.equal(next.rsc, 2000, next.text);
    } finally {
      await t.close();
    }
  });
});
