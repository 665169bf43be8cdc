// `npm run bench:floor`: what this machine allows before any oneM2M processing, for the ingest and fan-out targets
// of issue #18. Three servers answer the same ingest requests as `npm run bench` (CREATE contentInstance in a
// container of mni 1000), each in its own process, measured like Warden (CPU time from /proc, same load client):
//  - the reference: node:http answering a fixed body (the denominator of every ratio in `npm run bench`);
//  - the durable ingest floor: node:http, the body parsed, and Warden's own SQLite store doing what an ingest must
//    store (read the container, insert the instance, drop the oldest beyond mni, update the container's counters,
//    group commit with fsync before the answer), the instance answered as JSON. No validation, access control,
//    representation rules, logging or metrics: the least Warden's storage design can cost;
//    The same server answers read-latest (GET …/la) from the store: the container by path, its newest instance;
//  - the fan-out floor: the durable ingest floor, and for each ingest one HTTP POST to each of 10 receivers (undici,
//    keep-alive, as Warden's deliverer), sent after the commit and not awaited by the answer. No outbox: below what
//    a durable notification costs.
// It also measures the fsync of this disk (the WAL's sync before every acknowledged commit group).
// Usage: npm run bench:floor -- [--requests N] [--concurrency C]
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { loadConfig } from '../src/config/config.js';
import { formatTimestamp, newResourceId } from '../src/primitive/identifiers.js';
import { openStore } from '../src/storage/open.js';
import type { StoredResource } from '../src/storage/store.js';
import { runLoad, type LoadRequest } from './load.js';
import { cpuMicros, startedOn } from './proc.js';
import { Receivers } from './scenarios.js';

const SELF = fileURLToPath(import.meta.url);
const REFERENCE = fileURLToPath(new URL('./reference.js', import.meta.url));
const MNI = 1000;
const FAN_OUT = 10;

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}

/** A floor server (this file run with `serve`): durable ingest, and with receiver URLs, the fan-out after it. */
async function serve(receivers: string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-floor-'));
  const store = await openStore(loadConfig({ flags: { 'storage.path': join(dir, 'floor.sqlite'), 'storage.durability': 'full' } }));
  const now = Date.now();
  const container: StoredResource = {
    ri: newResourceId('3', now),
    pi: 'cb',
    ty: 3,
    rn: 'data',
    srn: 'cse-in/floor/data',
    ct: formatTimestamp(now),
    lt: formatTimestamp(now),
    owner: 'Cfloor',
    doc: { rn: 'data', mni: MNI, cni: 0, cbs: 0, st: 0 },
  };
  await store.transaction(async (tx) => void (await tx.insert(container)));
  const pools = receivers.map((url) => new Pool(url, { connections: 4, pipelining: 1 }));
  let sequence = 0;
  const ingest = async (body: string, originator: string): Promise<Record<string, unknown>> => {
    const content = (JSON.parse(body) as { 'm2m:cin': Record<string, unknown> })['m2m:cin'];
    const at = Date.now();
    const ri = newResourceId('4', at);
    const rn = `cin_${ri.slice(1)}`;
    const doc: Record<string, unknown> = { ...content, rn, ri, pi: container.ri, ty: 4, ct: formatTimestamp(at), lt: formatTimestamp(at), cs: JSON.stringify(content.con ?? '').length };
    await store.transaction(async (tx) => {
      const parent = await tx.get(container.ri);
      if (!parent) throw new Error('the container is gone');
      const cs = doc.cs as number;
      doc.st = (parent.doc.st as number) + 1;
      await tx.insert({ ri, pi: parent.ri, ty: 4, rn, srn: `${parent.srn}/${rn}`, ct: doc.ct as string, lt: doc.lt as string, owner: originator, doc, charge: originator });
      parent.doc.cni = (parent.doc.cni as number) + 1;
      parent.doc.cbs = (parent.doc.cbs as number) + cs;
      parent.doc.st = doc.st;
      if ((parent.doc.cni as number) > MNI) {
        const dropped = await tx.dropOldestChildren(parent.ri, 4, (parent.doc.cni as number) - MNI, 'cs');
        parent.doc.cni = (parent.doc.cni as number) - dropped.count;
        parent.doc.cbs = (parent.doc.cbs as number) - dropped.size;
      }
      await tx.update(parent);
    });
    return doc;
  };
  const latest = async (): Promise<Record<string, unknown> | undefined> => {
    const parent = await store.getByPath(container.srn);
    if (!parent) return undefined;
    return (await store.edgeChild(parent.ri, 4, true, Date.now())).child?.doc;
  };
  const answer = (res: ServerResponse, rsc: number, rqi: string, body: string): void => {
    res.writeHead(rsc === 2001 ? 201 : 200, { 'X-M2M-RSC': String(rsc), 'X-M2M-RI': rqi, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
  const server = createServer((req, res) => {
    if (req.method === 'GET') {
      req.resume();
      const rqi = String(req.headers['x-m2m-ri'] ?? '');
      void latest().then((doc) => answer(res, doc ? 2000 : 4004, rqi, JSON.stringify(doc ? { 'm2m:cin': doc } : { 'm2m:dbg': 'none' })));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rqi = String(req.headers['x-m2m-ri'] ?? '');
      ingest(Buffer.concat(chunks).toString('utf8'), String(req.headers['x-m2m-origin'] ?? ''))
        .then((doc) => {
          answer(res, 2001, rqi, JSON.stringify({ 'm2m:cin': doc }));
          if (pools.length === 0) return;
          const notification = JSON.stringify({ 'm2m:sgn': { nev: { rep: { 'm2m:cin': doc }, net: 3 }, sur: '/id-in/sub' } });
          for (const pool of pools) {
            const headers = { 'content-type': 'application/json', 'x-m2m-origin': '/id-in', 'x-m2m-ri': `n${sequence++}`, 'x-m2m-rvi': '3' };
            pool.request({ method: 'POST', path: '/', headers, body: notification }).then(
              (answer) => answer.body.dump(),
              () => undefined,
            );
          }
        })
        .catch((err: unknown) => {
          res.writeHead(500, { 'X-M2M-RSC': '5000', 'Content-Length': 0 });
          res.end();
          process.stderr.write(`floor: ${err instanceof Error ? err.message : String(err)}\n`);
        });
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`floor listening on http://127.0.0.1:${(server.address() as AddressInfo).port}/\n`));
  process.on('SIGTERM', () => {
    server.close();
    void Promise.all(pools.map((p) => p.close())).then(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  });
}

/** µs per 4 KiB write and fdatasync on the disk of the temporary directory (where the benchmarks keep their databases). */
function fsyncMicros(): number {
  const dir = mkdtempSync(join(tmpdir(), 'warden-fsync-'));
  const fd = openSync(join(dir, 'probe'), 'w');
  const page = Buffer.alloc(4096, 1);
  const rounds = 500;
  const started = performance.now();
  for (let i = 0; i < rounds; i++) {
    writeSync(fd, page, 0, page.length, (i % 16) * page.length);
    fdatasyncSync(fd);
  }
  const micros = ((performance.now() - started) * 1000) / rounds;
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
  return micros;
}

async function measure(
  name: string,
  child: ChildProcess,
  port: number,
  total: number,
  concurrency: number,
  make: (i: number) => LoadRequest,
  ok: (rsc: number) => boolean,
  afterWarmUp?: () => Promise<void>,
): Promise<{ perSecond: number; cpu: number }> {
  await runLoad([port], concurrency, Math.min(2000, total), (i) => make(total + i), () => true);
  await afterWarmUp?.();
  const before = cpuMicros(child.pid) ?? 0;
  const r = await runLoad([port], concurrency, total, make, ok);
  const cpu = ((cpuMicros(child.pid) ?? 0) - before) / total;
  if (r.errors > 0) throw new Error(`${name}: ${r.errors} requests failed`);
  return { perSecond: r.perSecond, cpu };
}

async function main(): Promise<void> {
  const total = Number(option('requests', '5000'));
  const concurrency = Number(option('concurrency', '16'));
  const make = (i: number): LoadRequest => ({
    method: 'POST',
    path: '/cse-in/floor/data',
    headers: { 'X-M2M-Origin': 'Cfloor', 'X-M2M-RI': `floor-${i}`, 'X-M2M-RVI': '3', 'Content-Type': 'application/json;ty=4' },
    body: JSON.stringify({ 'm2m:cin': { con: String(i) } }),
  });
  const created = (rsc: number): boolean => rsc === 2001;
  console.log(`Floors of this machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}; ${total} requests, ${concurrency} concurrent clients`);
  console.log(`fsync: ${fsyncMicros().toFixed(0)} µs per 4 KiB write and fdatasync\n`);
  const receivers = new Receivers();
  await receivers.start(FAN_OUT);
  const reference = await startedOn(spawn(process.execPath, [REFERENCE], { stdio: ['ignore', 'pipe', 'inherit'] }), /listening on http:\/\/127\.0\.0\.1:(\d+)/, 'the reference server');
  const ingestFloor = await startedOn(spawn(process.execPath, [SELF, 'serve'], { stdio: ['ignore', 'pipe', 'inherit'] }), /listening on http:\/\/127\.0\.0\.1:(\d+)/, 'the ingest floor');
  const fanOutFloor = await startedOn(spawn(process.execPath, [SELF, 'serve', ...receivers.urls], { stdio: ['ignore', 'pipe', 'inherit'] }), /listening on http:\/\/127\.0\.0\.1:(\d+)/, 'the fan-out floor');
  try {
    console.log('server'.padEnd(58) + 'req/s'.padStart(9) + 'CPU µs/req'.padStart(12) + '× ref'.padStart(8));
    const row = (name: string, r: { perSecond: number; cpu: number }, ref: number): void =>
      console.log(name.padEnd(58) + r.perSecond.toFixed(0).padStart(9) + r.cpu.toFixed(0).padStart(12) + (r.perSecond / ref).toFixed(3).padStart(8));
    const ref = await measure('reference', reference.child, reference.port, total, concurrency, make, () => true);
    row('reference (fixed answer)', ref, ref.perSecond);
    const ingest = await measure('ingest floor', ingestFloor.child, ingestFloor.port, total, concurrency, make, created);
    row('durable ingest floor (HTTP + Warden store + fsync)', ingest, ref.perSecond);
    const readLatest = (i: number): LoadRequest => ({ method: 'GET', path: '/cse-in/floor/data/la', headers: { 'X-M2M-Origin': 'Cfloor', 'X-M2M-RI': `la-${i}`, 'X-M2M-RVI': '3' } });
    const readRef = await measure('reference', reference.child, reference.port, total, concurrency, readLatest, () => true);
    const read = await measure('read floor', ingestFloor.child, ingestFloor.port, total, concurrency, readLatest, (rsc) => rsc === 2000);
    row('read-latest floor (HTTP + Warden store, the newest instance)', read, readRef.perSecond);
    let started = 0;
    // The warm-up's notifications are let through first, so the backlog is the measured run's alone.
    const drained = async (): Promise<void> => {
      const deadline = Date.now() + 60_000;
      while (receivers.count < Math.min(2000, total) * FAN_OUT && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      receivers.count = 0;
      started = performance.now();
    };
    const fan = await measure('fan-out floor', fanOutFloor.child, fanOutFloor.port, total, concurrency, make, created, drained);
    const ranFor = (performance.now() - started) / 1000;
    const backlog = Math.max(0, total * FAN_OUT - receivers.count);
    row(`ingest floor + ${FAN_OUT} notifications each (undici, no outbox)`, fan, ref.perSecond);
    console.log(`  fan-out floor / ingest floor: ${(fan.perSecond / ingest.perSecond).toFixed(3)}; backlog when the load ended: ${backlog} notifications, ${(backlog / ((total * FAN_OUT) / ranFor)).toFixed(2)} s of the run's traffic (${(receivers.count / ranFor).toFixed(0)} delivered/s during the run)`);
  } finally {
    for (const c of [reference.child, ingestFloor.child, fanOutFloor.child]) {
      c.kill('SIGTERM');
      await once(c, 'exit');
    }
    await receivers.stop();
  }
}

if (process.argv[2] === 'serve') await serve(process.argv.slice(3));
else {
  try {
    await main();
  } catch (err) {
    process.stderr.write(`bench:floor: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  }
}
