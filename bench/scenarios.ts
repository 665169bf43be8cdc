// Benchmark scenarios: each prepares its resources, then builds request i of the measured run.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { runLoad, sendOnce, type LoadRequest } from './load.js';
import type { BenchContext } from './run.js';

export interface Scenario {
  /** Short name for `--only` (npm run bench -- --only ingest,notify). */
  key: string;
  name: string;
  prepare(ctx: BenchContext): Promise<(i: number) => LoadRequest>;
  ok(rsc: number): boolean;
  /** After the measured run: an extra line for the report (e.g. notification throughput). */
  finish?(requests: number, started: number): Promise<string>;
}

/** Local HTTP receivers that count the notifications they get. */
export class Receivers {
  private servers: Server[] = [];
  count = 0;
  lastAt = 0;
  urls: string[] = [];

  async start(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const server = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          const text = req.headers['content-length'];
          if (text !== undefined) {
            this.count++;
            this.lastAt = performance.now();
          }
          res.writeHead(200, { 'X-M2M-RSC': '2000', 'X-M2M-RI': String(req.headers['x-m2m-ri'] ?? '') });
          res.end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      this.servers.push(server);
      this.urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    }
  }

  async stop(): Promise<void> {
    for (const s of this.servers) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }
}

const headers = (origin: string, rqi: string, ty?: number): Record<string, string> => ({
  'X-M2M-Origin': origin,
  'X-M2M-RI': rqi,
  'X-M2M-RVI': '3',
  Accept: 'application/json',
  ...(ty === undefined ? {} : { 'Content-Type': `application/json;ty=${ty}` }),
});

/** The key pair of the token issuer the benchmark's Warden trusts (see tokenIssuerFlags). */
const benchIssuer = generateKeyPair('ES256', { extractable: true });

/** Flags that make Warden trust the benchmark's token issuer (tokens from unauthenticated readers too: plain HTTP). */
export async function tokenIssuerFlags(): Promise<string[]> {
  const file = join(mkdtempSync(join(tmpdir(), 'warden-bench-issuer-')), 'issuers.json');
  writeFileSync(file, JSON.stringify({ issuers: [{ id: 'CBenchIssuer', algorithms: ['ES256'], jwk: await exportJWK((await benchIssuer).publicKey) }] }));
  return [`--dynamicAuthorization.tokenIssuers=${file}`, '--dynamicAuthorization.tokenRequiresAuthentication=false'];
}

/** A DAS that grants every originator RETRIEVE for an hour; its URL. */
async function startBenchDas(): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const dreq = (JSON.parse(Buffer.concat(chunks).toString()) as { 'm2m:seci': { dreq: { or: string } } })['m2m:seci'].dreq;
      res.writeHead(200, { 'X-M2M-RSC': '2000', 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ 'm2m:seci': { sit: 2, dres: { dai: { gp: { acr: [{ acor: [dreq.or], acop: 2 }] }, pl: 'PT1H' } } } }));
    });
  });
  server.unref();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/das`;
}

/** An AE `ae` with a container `data` whose policy grants RETRIEVE to `readers` only; the container's ri. */
async function guardedContainer(ctx: BenchContext, ae: string, readers: string[]): Promise<string> {
  await setUp(ctx, ae, 'data');
  await ctx.call({ method: 'POST', path: '/cse-in', headers: headers('Creader', `setup-reader-${ae}`, 2), body: JSON.stringify({ 'm2m:ae': { rn: `reader${ae}`, api: 'Nreader', rr: false, srv: ['3'] } }) }).catch(() => undefined);
  const policy = { 'm2m:acp': { rn: 'policy', pv: { acr: [{ acor: readers, acop: 2 }, { acor: [`C${ae}`], acop: 63 }] }, pvs: { acr: [{ acor: [`C${ae}`], acop: 63 }] } } };
  const acp = await ctx.call({ method: 'POST', path: `/cse-in/${ae}`, headers: headers(`C${ae}`, 'setup-acp', 1), body: JSON.stringify(policy) });
  const acpRi = String((acp?.['m2m:acp'] as Record<string, unknown>).ri);
  const cnt = await ctx.call({ method: 'PUT', path: `/cse-in/${ae}/data`, headers: { ...headers(`C${ae}`, 'setup-link'), 'Content-Type': 'application/json' }, body: JSON.stringify({ 'm2m:cnt': { acpi: [acpRi] } }) });
  return String((cnt?.['m2m:cnt'] as Record<string, unknown>).ri);
}

async function setUp(ctx: BenchContext, ae: string, container: string, mni: number | undefined = 1000): Promise<void> {
  await ctx.call({ method: 'POST', path: '/cse-in', headers: headers(`C${ae}`, `setup-${ae}`, 2), body: JSON.stringify({ 'm2m:ae': { rn: ae, api: `N${ae}`, rr: false, srv: ['3'] } }) });
  await ctx.call({ method: 'POST', path: `/cse-in/${ae}`, headers: headers(`C${ae}`, `setup-${ae}-c`, 3), body: JSON.stringify({ 'm2m:cnt': { rn: container, ...(mni === undefined ? {} : { mni }) } }) });
}

/**
 * The owner discovers the first 100 contentInstances below its AE, which holds `size` of them: the cost should
 * follow the page, not the tree. The instances are copied in the database (creating them one request at a time
 * would take minutes at the larger sizes).
 */
function pageOfInstances(size: number): Scenario {
  const ae = `page${size}`;
  return {
    key: `discovery-${size >= 1_000_000 ? `${size / 1_000_000}m` : `${size / 1000}k`}`,
    name: `discovery ty=4 lim=100 (${size / 1000}k cin)`,
    async prepare(ctx) {
      await setUp(ctx, ae, 'data', undefined);
      const created = await ctx.call({ method: 'POST', path: `/cse-in/${ae}/data`, headers: headers(`C${ae}`, `seed-${ae}`, 4), body: JSON.stringify({ 'm2m:cin': { rn: 'i', con: '21.5' } }) });
      const started = Date.now();
      await ctx.copyInstance(String((created?.['m2m:cin'] as Record<string, unknown>).ri), size - 1);
      console.log(`  (${size} contentInstances stored in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
      return (i) => ({ method: 'GET', path: `/cse-in/${ae}?fu=1&ty=4&lim=100`, headers: headers(`C${ae}`, `page-${i}`) });
    },
    ok: (rsc) => rsc === 2000,
  };
}

/**
 * Ingest and read-latest on a container that already holds a million instances (issue #18: within 10 % of the
 * empty-store rates, with the CSE's RSS printed beside). Its mni is a million, so every ingest also drops the oldest
 * instance, as the plain ingest does in its full container of 1 000. The instances are copied in the database.
 */
const BIG = 1_000_000;
let bigReady: Promise<void> | undefined;
function bigContainer(ctx: BenchContext): Promise<void> {
  bigReady ??= (async () => {
    await setUp(ctx, 'big', 'data', BIG);
    const created = await ctx.call({ method: 'POST', path: '/cse-in/big/data', headers: headers('Cbig', 'seed-big', 4), body: JSON.stringify({ 'm2m:cin': { cnf: 'application/json:0', con: { temperature: 20, seq: 0 } } }) });
    const started = Date.now();
    await ctx.copyInstance(String((created?.['m2m:cin'] as Record<string, unknown>).ri), BIG - 1);
    console.log(`  (${BIG} contentInstances stored in one container in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  })();
  return bigReady;
}

function atMillion(): Scenario[] {
  return [
    {
      key: 'ingest-1m',
      name: 'ingest, 1m cin in the container',
      async prepare(ctx) {
        await bigContainer(ctx);
        return (i) => ({
          method: 'POST',
          path: '/cse-in/big/data',
          headers: headers('Cbig', `big-ingest-${i}`, 4),
          body: JSON.stringify({ 'm2m:cin': { cnf: 'application/json:0', con: { temperature: 20 + (i % 10), seq: i } } }),
        });
      },
      ok: (rsc) => rsc === 2001,
    },
    {
      key: 'read-latest-1m',
      name: 'read-latest, 1m cin in the container',
      async prepare(ctx) {
        await bigContainer(ctx);
        return (i) => ({ method: 'GET', path: '/cse-in/big/data/la', headers: headers('Cbig', `big-la-${i}`) });
      },
      ok: (rsc) => rsc === 2000,
    },
  ];
}

const fanOut = new Receivers();
const FAN_OUT = 10;

export const SCENARIOS: readonly Scenario[] = [
  {
    key: 'ingest',
    name: 'ingest (CREATE cin)',
    async prepare(ctx) {
      await setUp(ctx, 'ingest', 'data');
      return (i) => ({
        method: 'POST',
        path: '/cse-in/ingest/data',
        headers: headers('Cingest', `ingest-${i}`, 4),
        body: JSON.stringify({ 'm2m:cin': { cnf: 'application/json:0', con: { temperature: 20 + (i % 10), seq: i } } }),
      });
    },
    ok: (rsc) => rsc === 2001,
  },
  {
    key: 'read-latest',
    name: 'read-latest (GET la)',
    async prepare(ctx) {
      await setUp(ctx, 'reader', 'data');
      for (let i = 0; i < 100; i++) {
        await ctx.call({ method: 'POST', path: '/cse-in/reader/data', headers: headers('Creader', `seed-${i}`, 4), body: JSON.stringify({ 'm2m:cin': { con: String(i) } }) });
      }
      return (i) => ({ method: 'GET', path: '/cse-in/reader/data/la', headers: headers('Creader', `la-${i}`) });
    },
    ok: (rsc) => rsc === 2000,
  },
  {
    // The AE reads what it created; the container has no acpi, so the default policy (its creator) decides.
    key: 'read-owner',
    name: 'read (owner)',
    async prepare(ctx) {
      await setUp(ctx, 'home', 'data');
      await ctx.call({ method: 'POST', path: '/cse-in/home/data', headers: headers('Chome', 'seed', 4), body: JSON.stringify({ 'm2m:cin': { rn: 'reading', con: '42' } }) });
      return (i) => ({ method: 'GET', path: '/cse-in/home/data/reading', headers: headers('Chome', `own-${i}`) });
    },
    ok: (rsc) => rsc === 2000,
  },
  {
    // The same read by another AE, granted only by the last of several rules with contexts.
    key: 'read-other',
    name: 'read-by-other (ACP)',
    async prepare(ctx) {
      await setUp(ctx, 'shared', 'data');
      await ctx.call({ method: 'POST', path: '/cse-in', headers: headers('Cvisitor', 'setup-visitor', 2), body: JSON.stringify({ 'm2m:ae': { rn: 'visitor', api: 'Nvisitor', rr: false, srv: ['3'] } }) });
      const policy = {
        'm2m:acp': {
          rn: 'policy',
          pv: {
            acr: [
              { acor: ['Cmaintenance', '/id-in/Cops*'], acop: 63 },
              { acor: ['Cvisitor'], acop: 2, acco: [{ actw: ['* * * * * * 2000-2001'] }] },
              { acor: ['Cvisitor'], acop: 2, acco: [{ acip: { ipv4: ['10.0.0.0/8'] } }] },
              { acor: ['Cvisitor'], acop: 2, acco: [{ actw: ['* * 0-23 * * 0-6 *'], acip: { ipv4: ['127.0.0.0/8'], ipv6: ['::1/128'] } }] },
            ],
          },
          pvs: { acr: [{ acor: ['Cshared'], acop: 63 }] },
        },
      };
      const acp = await ctx.call({ method: 'POST', path: '/cse-in/shared', headers: headers('Cshared', 'setup-acp', 1), body: JSON.stringify(policy) });
      const acpRi = String((acp?.['m2m:acp'] as Record<string, unknown>).ri);
      await ctx.call({ method: 'POST', path: '/cse-in/shared/data', headers: headers('Cshared', 'seed', 4), body: JSON.stringify({ 'm2m:cin': { rn: 'reading', con: '42' } }) });
      await ctx.call({ method: 'PUT', path: '/cse-in/shared/data', headers: { ...headers('Cshared', 'setup-link'), 'Content-Type': 'application/json' }, body: JSON.stringify({ 'm2m:cnt': { acpi: [acpRi] } }) });
      return (i) => ({ method: 'GET', path: '/cse-in/shared/data/reading', headers: headers('Cvisitor', `other-${i}`) });
    },
    ok: (rsc) => rsc === 2000,
  },
  {
    // Baseline of the next two: a reader granted RETRIEVE by one plain rule of a linked policy.
    name: 'read (static policy)',
    key: 'read-static',
    async prepare(ctx) {
      await guardedContainer(ctx, 'statics', ['Creader', 'Cstatics']);
      return (i) => ({ method: 'GET', path: '/cse-in/statics/data', headers: headers('Creader', `static-${i}`) });
    },
    ok: (rsc) => rsc === 2000,
  },
  {
    // The same read, the policy denying and a DAS granting (once; the dynamic policy it stored decides after).
    name: 'read (dynamic policy)',
    key: 'read-dynamic',
    async prepare(ctx) {
      const das = await startBenchDas();
      await guardedContainer(ctx, 'dynamics', ['Cdynamics']);
      await ctx.call({ method: 'POST', path: '/cse-in/dynamics', headers: headers('Cdynamics', 'setup-dac', 34), body: JSON.stringify({ 'm2m:dac': { rn: 'dac', dae: true, dap: [das] } }) });
      await ctx.call({ method: 'PUT', path: '/cse-in/dynamics/data', headers: { ...headers('Cdynamics', 'setup-daci'), 'Content-Type': 'application/json' }, body: JSON.stringify({ 'm2m:cnt': { daci: ['cse-in/dynamics/dac'] } }) });
      return (i) => ({ method: 'GET', path: '/cse-in/dynamics/data', headers: headers('Creader', `dynamic-${i}`) });
    },
    ok: (rsc) => rsc === 2000,
  },
  {
    // The same read, the policy denying and a oneM2M JWT in the Authorization header granting (verified once).
    name: 'read (token)',
    key: 'read-token',
    async prepare(ctx) {
      const ri = await guardedContainer(ctx, 'tokens', ['Ctokens']);
      const now = Math.floor(Date.now() / 1000);
      const claims = { tkvr: '1', jti: 'bench-token', iss: 'CBenchIssuer', azp: 'Creader', nbf: now - 60, exp: now + 3600, aud: ['/id-in'], tkps: { pm: [{ ris: [ri], pv: { acr: [{ acor: ['Creader'], acop: 2 }] } }] } };
      const token = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).sign((await benchIssuer).privateKey);
      return (i) => ({ method: 'GET', path: '/cse-in/tokens/data', headers: { ...headers('Creader', `token-${i}`), Authorization: token } });
    },
    ok: (rsc) => rsc === 2000,
  },
  {
    // The same read by a Local-Token-ID (ltids): the token was presented once and its ati taken (issue #15).
    name: 'read (local token ID)',
    key: 'read-ltid',
    async prepare(ctx) {
      const ri = await guardedContainer(ctx, 'ltokens', ['Cltokens']);
      const now = Math.floor(Date.now() / 1000);
      const claims = { tkvr: '1', jti: 'bench-ltid-token', iss: 'CBenchIssuer', azp: 'Creader', nbf: now - 60, exp: now + 3600, aud: ['/id-in'], tkps: { pm: [{ ris: [ri], pv: { acr: [{ acor: ['Creader'], acop: 2 }] } }] } };
      const token = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).sign((await benchIssuer).privateKey);
      const first = await sendOnce(ctx.port, { method: 'GET', path: '/cse-in/ltokens/data', headers: { ...headers('Creader', 'setup-ltid'), Authorization: token } }, ctx.tls);
      const lti = String(first.headers['x-m2m-ati'] ?? '').split(':')[0];
      if (first.rsc !== 2000 || !lti) throw new Error(`no Local-Token-ID assigned: ${first.rsc}`);
      return (i) => ({ method: 'GET', path: `/cse-in/ltokens/data?ltids=${lti}`, headers: headers('Creader', `ltid-${i}`) });
    },
    ok: (rsc) => rsc === 2000,
  },
  {
    // Ingest into a container with 10 subscriptions whose targets are local HTTP receivers.
    key: 'notify',
    name: 'notify-fan-out (10 subs)',
    async prepare(ctx) {
      await setUp(ctx, 'fanout', 'data');
      await fanOut.start(FAN_OUT);
      for (const [i, url] of fanOut.urls.entries()) {
        await ctx.call({
          method: 'POST',
          path: '/cse-in/fanout/data',
          headers: headers('Cfanout', `sub-${i}`, 23),
          body: JSON.stringify({ 'm2m:sub': { rn: `sub${i}`, nu: [url], enc: { net: [3] } } }),
        });
      }
      fanOut.count = 0;
      return (i) => ({
        method: 'POST',
        path: '/cse-in/fanout/data',
        headers: headers('Cfanout', `fan-${i}`, 4),
        body: JSON.stringify({ 'm2m:cin': { con: String(i) } }),
      });
    },
    ok: (rsc) => rsc === 2001,
    async finish(requests, started) {
      const expected = requests * FAN_OUT;
      // The issue's target: every notification delivered within the run, the backlog when the load ends below
      // one second of the notifications the run made.
      const ranFor = (performance.now() - started) / 1000;
      const backlog = expected - fanOut.count;
      const backlogLine = `  backlog when the load ended: ${backlog} notifications, ${(backlog / (expected / ranFor)).toFixed(2)} s of the run's traffic (${(fanOut.count / ranFor).toFixed(0)} delivered/s during the run)`;
      const deadline = Date.now() + 120_000;
      while (fanOut.count < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const seconds = (fanOut.lastAt - started) / 1000;
      await fanOut.stop();
      return `${backlogLine}\n  notifications delivered: ${fanOut.count}/${expected}, ${(fanOut.count / seconds).toFixed(0)} notifications/s (until the last arrived)`;
    },
  },
  pageOfInstances(10_000),
  pageOfInstances(100_000),
  pageOfInstances(1_000_000),
  ...atMillion(),
  {
    // Discovery by label over a large tree: a query on the store, not a walk in memory.
    key: 'discovery-label',
    name: 'discovery (label)',
    async prepare(ctx) {
      await setUp(ctx, 'finder', 'data', undefined);
      const size = Number(process.env.WARDEN_BENCH_DISCOVERY_SIZE ?? '20000');
      const started = Date.now();
      await runLoad([ctx.port], 16, size, (i) => ({
        method: 'POST',
        path: '/cse-in/finder/data',
        headers: headers('Cfinder', `seed-${i}`, 4),
        body: JSON.stringify({ 'm2m:cin': { lbl: i % 100 === 0 ? ['rare', `n/${i}`] : [`n/${i}`], con: String(i) } }),
      }), (rsc) => rsc === 2001, ctx.tls);
      console.log(`  (discovery tree: ${size} contentInstances created in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
      return (i) => ({ method: 'GET', path: `/cse-in/finder?fu=1&lbl=rare&lim=20&ofst=${1 + (i % 5) * 20}`, headers: headers('Cfinder', `disc-${i}`) });
    },
    ok: (rsc) => rsc === 2000,
  },
  {
    // Conditions the database cannot decide (label query, geo query) are tested on the rows it returns: 1 % of
    // the instances match, so each page of 20 looks at about 2 000 rows.
    key: 'discovery-geo',
    name: 'discovery (labelsQuery+geo)',
    async prepare(ctx) {
      await setUp(ctx, 'mapper', 'data', undefined);
      const size = Number(process.env.WARDEN_BENCH_DISCOVERY_SIZE ?? '20000');
      const started = Date.now();
      await runLoad([ctx.port], 16, size, (i) => {
        const inside = i % 100 === 0;
        // Inside: the unit square around (8.5, 49.5); outside: 10 degrees east.
        const x = (inside ? 8 : 18) + (i % 97) / 97;
        const y = 49 + (i % 89) / 89;
        return {
          method: 'POST',
          path: '/cse-in/mapper/data',
          headers: headers('Cmapper', `seed-${i}`, 4),
          body: JSON.stringify({ 'm2m:cin': { lbl: [inside ? 'kind:rare' : 'kind:common'], loc: { typ: 1, crd: JSON.stringify([x, y]) }, con: String(i) } }),
        };
      }, (rsc) => rsc === 2001, ctx.tls);
      console.log(`  (tree: ${size} located contentInstances created in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
      const square = encodeURIComponent('[[8.0,49.0],[9.0,49.0],[9.0,50.0],[8.0,50.0],[8.0,49.0]]');
      const rare = encodeURIComponent('kind IN (rare, odd)');
      return (i) => ({
        method: 'GET',
        path: i % 2 === 0 ? `/cse-in/mapper?fu=1&gmty=3&gsf=2&geom=${square}&lim=20&ofst=${1 + (i % 5) * 20}` : `/cse-in/mapper?fu=1&lbq=${rare}&lim=20&ofst=${1 + (i % 5) * 20}`,
        headers: headers('Cmapper', `disc-${i}`),
      });
    },
    ok: (rsc) => rsc === 2000,
  },
];
