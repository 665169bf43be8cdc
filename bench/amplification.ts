// Notification amplification (issue #20, finding 4): one AE, its own container, many subscriptions whose nu
// repeats its own AE-ID, then one large contentInstance while another AE writes. Reports what the outbox holds
// and how long the writes took.
// Usage: npm run build && node dist/bench/amplification.js [--subs N] [--targets K] [--bytes B]
import Database from 'better-sqlite3';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/log/logger.js';
import { startCse } from '../src/main.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const SUBS = option('subs', 200);
const TARGETS = option('targets', 8);
const BYTES = option('bytes', 100_000);
const BYSTANDER_WRITES = 20;

const path = join(mkdtempSync(join(tmpdir(), 'warden-amplification-')), 'warden.sqlite');
const config = loadConfig({ flags: { 'http.port': 0, 'ops.port': 0, 'storage.path': path, 'storage.durability': 'normal', 'log.level': 'silent' } });
const cse = await startCse(config, { logger: createLogger('silent') });
const base = `http://127.0.0.1:${cse.httpPort}`;
let rqi = 0;

async function send(method: string, path: string, origin: string, ty?: number, body?: unknown): Promise<number> {
  const headers: Record<string, string> = { 'X-M2M-Origin': origin, 'X-M2M-RI': `a${++rqi}`, 'X-M2M-RVI': '3', Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = ty === undefined ? 'application/json' : `application/json;ty=${ty}`;
  const res = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  await res.text();
  return Number(res.headers.get('x-m2m-rsc'));
}
const create = (path: string, ty: number, body: unknown, origin: string): Promise<number> => send('POST', path, origin, ty, body);

async function expect(rsc: Promise<number>, wanted: number, what: string): Promise<void> {
  const got = await rsc;
  if (got !== wanted) throw new Error(`${what}: ${got}`);
}

await expect(create('/cse-in', 2, { 'm2m:ae': { rn: 'spam', api: 'Nspam', rr: false, srv: ['3'] } }, 'Cspam'), 2001, 'register');
await expect(create('/cse-in/spam', 15, { 'm2m:pch': { rn: 'pch' } }, 'Cspam'), 2001, 'pch');
await expect(create('/cse-in/spam', 3, { 'm2m:cnt': { rn: 'box', mbs: 10 * BYTES } }, 'Cspam'), 2001, 'container');
const variants = ['Cspam', '/id-in/Cspam', 'cse-in/spam'];
const nu = Array.from({ length: TARGETS }, (_v, i) => variants[i % variants.length] as string);
for (let i = 0; i < SUBS; i++) await expect(create('/cse-in/spam/box', 23, { 'm2m:sub': { nu, enc: { net: [3] } } }, 'Cspam'), 2001, 'subscription');
await expect(create('/cse-in', 2, { 'm2m:ae': { rn: 'by', api: 'Nby', rr: false, srv: ['3'] } }, 'Cby'), 2001, 'register');
await expect(create('/cse-in/by', 3, { 'm2m:cnt': { rn: 'log' } }, 'Cby'), 2001, 'container');

const started = performance.now();
const big = create('/cse-in/spam/box', 4, { 'm2m:cin': { con: 'x'.repeat(BYTES) } }, 'Cspam').then((rsc) => ({ rsc, ms: performance.now() - started }));
const bystander = Array.from({ length: BYSTANDER_WRITES }, (_v, i) => {
  const at = performance.now();
  return create('/cse-in/by/log', 4, { 'm2m:cin': { con: `entry ${i}` } }, 'Cby').then((rsc) => ({ rsc, ms: performance.now() - at }));
});
const ingest = await big;
const others = await Promise.all(bystander);
// Until the outbox holds what the event makes (after its fan-out, where there is one).
while ((await cse.services.store.countQueuedByPrefix('fanout:', 1)) > 0) await new Promise((r) => setTimeout(r, 10));
const settled = performance.now() - started;
await cse.close();

const db = new Database(path, { readonly: true });
const outbox = db.prepare<[], { n: number; bytes: number | null }>("SELECT count(*) AS n, sum(length(content)) AS bytes FROM outbox WHERE target = 'pch:Cspam'").get();
const hasPayloads = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE name = 'outbox_payloads'").get()?.n === 1;
const payload = hasPayloads ? db.prepare<[], { n: number; bytes: number | null }>('SELECT count(*) AS n, sum(length(content)) AS bytes FROM outbox_payloads').get() : undefined;
db.close();
const mb = (n: number): string => (n / 1_048_576).toFixed(2);
console.log(`${SUBS} subscriptions × ${TARGETS} targets (one queue), one ${BYTES}-byte contentInstance, ${BYSTANDER_WRITES} writes of another AE at once`);
console.log(`  the large write: rsc ${ingest.rsc}, ${ingest.ms.toFixed(0)} ms`);
console.log(`  the other AE's writes: ${others.filter((o) => o.rsc === 2001).length}/${BYSTANDER_WRITES} created, slowest ${Math.max(...others.map((o) => o.ms)).toFixed(0)} ms`);
console.log(`  outbox for the AE: ${outbox?.n ?? 0} messages, ${mb(outbox?.bytes ?? 0)} MB of message content + ${mb(payload?.bytes ?? 0)} MB in ${payload?.n ?? 0} shared payloads; settled after ${settled.toFixed(0)} ms`);
console.log(`  database file: ${mb(statSync(path).size)} MB (+ WAL ${mb(statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0)} MB)`);
