// `npm run bench`: starts Warden as its own process on a fresh database and loads it over HTTP.
// Usage: npm run bench -- [--requests N] [--concurrency C] [--durability full|normal] [--log-level info|warn] [--only a,b]
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { performance } from 'node:perf_hooks';
import { runMqttIngest } from './mqttLoad.js';
import { percentile, runLoad, sendOnce, type ClientTls, type LoadRequest, type LoadResult } from './load.js';
import { createCa, issueCertificate } from '../src/security/pki.js';
import { writeFileSync } from 'node:fs';
import { copyInstance, type SeedTarget } from './seed.js';
import { cpuMicros, cpuOf, rssMegabytes, startedOn, systemMicros } from './proc.js';

/**
 * A CA, a server certificate and one client certificate for the benchmark. The scenarios use several
 * originators, so the client certificate names them all (a gateway-style credential).
 */
async function makeBenchPki(): Promise<{ client: ClientTls; flags: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-tls-'));
  const ca = await createCa('Warden Bench CA');
  const server = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'both' });
  const names = ['Cingest', 'Creader', 'Chome', 'Cshared', 'Cvisitor'].map((ae) => `onem2m://warden.example.net/id-in/${ae}`);
  const client = await issueCertificate(ca, { commonName: 'bench', uris: names, usage: 'client' });
  for (const [name, text] of [['ca.pem', ca.certificate], ['server.pem', server.certificate], ['server.key', server.key]] as const) writeFileSync(join(dir, name), text);
  return {
    client: { ca: ca.certificate, cert: client.certificate, key: client.key },
    flags: ['--http.tls=true', `--tls.cert=${join(dir, 'server.pem')}`, `--tls.key=${join(dir, 'server.key')}`, `--tls.ca=${join(dir, 'ca.pem')}`],
  };
}
import { SCENARIOS, tokenIssuerFlags, type Scenario } from './scenarios.js';

const WARDEN = fileURLToPath(new URL('../../bin/warden.js', import.meta.url));
const REFERENCE = fileURLToPath(new URL('./reference.js', import.meta.url));

/** A scenario's measured run and the reference's: rates, and CPU µs over the run (undefined off Linux). */
interface Measured {
  r: LoadResult;
  ref: LoadResult;
  client: NodeJS.CpuUsage;
  cpu: number | undefined;
  refCpu: number | undefined;
  /** Scenarios that leave work behind: their report, and Warden's CPU (and its system share) until that work was done. */
  drained?: { report: string; cpu: number | undefined; system: number };
}

type Running = { child: ChildProcess; port: number };

/** CPU µs the Warden processes have used so far (undefined off Linux). */
function cpuOfWardens(wardens: readonly Running[]): number | undefined {
  return cpuOf(wardens.map((w) => w.child));
}

function difference(before: number | undefined, after: number | undefined): number | undefined {
  return before === undefined || after === undefined ? undefined : after - before;
}

/**
 * A scenario whose work goes on after its requests (notifications, `finish`): one measured run, then the reference
 * after it (the scenario's own line reports what the run left behind).
 */
async function measureWhole(wardens: Running[], reference: Running, ports: number[], concurrency: number, total: number, make: (i: number) => LoadRequest, scenario: Scenario, tls: ClientTls | undefined): Promise<Measured> {
  const systemOfWardens = (): number => wardens.reduce((sum, w) => sum + systemMicros(w.child.pid), 0);
  const cpuBefore = cpuOfWardens(wardens);
  const systemBefore = systemOfWardens();
  const started = performance.now();
  const clientBefore = process.cpuUsage();
  const r = await runLoad(ports, concurrency, total, make, (rsc) => scenario.ok(rsc), tls);
  const client = process.cpuUsage(clientBefore);
  const cpu = difference(cpuBefore, cpuOfWardens(wardens));
  const report = (await scenario.finish?.(total, started)) ?? '';
  const drained = { report, cpu: difference(cpuBefore, cpuOfWardens(wardens)), system: systemOfWardens() - systemBefore };
  await runLoad([reference.port], concurrency, Math.min(2000, total), make, () => true);
  const refBefore = cpuMicros(reference.child.pid);
  const ref = await runLoad([reference.port], concurrency, total, make, () => true);
  return { r, ref, client, cpu, refCpu: difference(refBefore, cpuMicros(reference.child.pid)), drained };
}

/** Slices of the measured run, Warden's and the reference's taking turns. */
const SLICES = 5;

/**
 * The measured run and the same requests to the reference in alternating slices (Warden, reference, Warden, …).
 * On a shared machine the load drifts within a minute, and one run after the other compared Warden in one minute
 * with the reference in the next: the reference's rate varied from 9 400 to 21 000 req/s between the runs of one
 * sitting. Each side's rate is its requests over the sum of its slices' durations; CPU is summed over its slices.
 */
async function measureInSlices(wardens: Running[], reference: Running, ports: number[], concurrency: number, total: number, make: (i: number) => LoadRequest, scenario: Scenario, tls: ClientTls | undefined): Promise<Measured> {
  await runLoad([reference.port], concurrency, Math.min(2000, total), make, () => true);
  const slices = total >= SLICES * concurrency * 10 ? SLICES : 1;
  const sides = { warden: [] as LoadResult[], reference: [] as LoadResult[] };
  let cpu: number | undefined = 0;
  let refCpu: number | undefined = 0;
  const client = { user: 0, system: 0 };
  for (let slice = 0, from = 0; slice < slices; slice++) {
    const count = Math.floor((total * (slice + 1)) / slices) - from;
    const part = (i: number): LoadRequest => make(from + i);
    const before = cpuOfWardens(wardens);
    const clientBefore = process.cpuUsage();
    sides.warden.push(await runLoad(ports, concurrency, count, part, (rsc) => scenario.ok(rsc), tls));
    const used = process.cpuUsage(clientBefore);
    client.user += used.user;
    client.system += used.system;
    const wardenSlice = difference(before, cpuOfWardens(wardens));
    cpu = cpu === undefined || wardenSlice === undefined ? undefined : cpu + wardenSlice;
    const refBefore = cpuMicros(reference.child.pid);
    sides.reference.push(await runLoad([reference.port], concurrency, count, part, () => true));
    const refSlice = difference(refBefore, cpuMicros(reference.child.pid));
    refCpu = refCpu === undefined || refSlice === undefined ? undefined : refCpu + refSlice;
    from += count;
  }
  return { r: merged(sides.warden), ref: merged(sides.reference), client, cpu, refCpu };
}

/** Slices of one side as one run: its requests over its time, percentiles over all its latencies. */
function merged(results: readonly LoadResult[]): LoadResult {
  const requests = results.reduce((sum, r) => sum + r.requests, 0);
  const seconds = results.reduce((sum, r) => sum + r.seconds, 0);
  const latencies = results.flatMap((r) => r.latencies ?? []).sort((a, b) => a - b);
  return { requests, errors: results.reduce((sum, r) => sum + r.errors, 0), seconds, perSecond: requests / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function createBenchDatabase(server: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `warden_bench_${process.pid}`;
  const admin = async (sql: string): Promise<void> => {
    const c = new pg.Client({ connectionString: `${server}/postgres` });
    await c.connect();
    await c.query(sql);
    await c.end();
  };
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${name}`);
  return { url: `${server}/${name}`, drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}

async function startWarden(storageFlags: string[], httpPort = 0): Promise<{ child: ChildProcess; port: number }> {
  // Each scenario is one originator at full speed: the request rate quota is set above what a machine serves, so
  // the token bucket still runs on every request but refuses none.
  const quotaFlags = ['--quota.rate=1000000', '--quota.burst=10000000'];
  // WARDEN_BENCH_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=prof`) profiles the CSE, not the load generator.
  // Warden as deployed (`npm start`, docs/deploy/warden.service): a 16 MB young generation (README, Deployment, Memory).
  const nodeArgs = ['--max-semi-space-size=8', ...(process.env.WARDEN_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '')];
  // Warden's default log level (info: one line per request) unless --log-level says otherwise.
  const logLevel = option('log-level', 'info');
  // The operations listener is on by default, so the benchmark measures it (metrics on the request path) on a
  // free port; --no-ops turns it off to compare.
  // A port free a moment ago may be taken by the time Warden listens on it (another process on the machine): then
  // Warden stops at once, naming the operations listener, and another port is tried.
  for (let attempt = 1; ; attempt++) {
    const opsPort = process.argv.includes('--no-ops') ? 0 : await freePort();
    const child = spawn(process.execPath, [...nodeArgs, WARDEN, 'serve', `--http.port=${httpPort}`, `--ops.port=${opsPort}`, `--log.level=${logLevel}`, '--outbound.allow=127.0.0.0/8', ...quotaFlags, ...storageFlags], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      process.stderr.write(chunk);
    });
    try {
      return await startedOn(child, /listening on https?:\/\/127\.0\.0\.1:(\d+)/, 'warden');
    } catch (err) {
      // 'exit' can come before the last of its standard error has been read.
      if (child.stderr && !child.stderr.readableEnded) await once(child.stderr, 'end');
      if (attempt >= 3 || !/operations listener cannot listen.*EADDRINUSE/.test(stderr)) throw err;
    }
  }
}

/** A TCP port that was free a moment ago (the CSE's own --ops.port=0 means off, not "any"). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function startReference(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [REFERENCE], { stdio: ['ignore', 'pipe', 'inherit'] });
  return startedOn(child, /listening on http:\/\/127\.0\.0\.1:(\d+)/, 'the reference server');
}

export interface BenchContext {
  port: number;
  tls: ClientTls | undefined;
  /** One request, awaited; for scenario set-up. Throws unless it succeeds. */
  call(r: LoadRequest): Promise<Record<string, unknown> | undefined>;
  /** Adds `count` copies of a stored contentInstance to its container, in the database (fast set-up). */
  copyInstance(templateRi: string, count: number): Promise<void>;
}

async function main(): Promise<void> {
  const total = Number(option('requests', '5000'));
  const concurrency = Number(option('concurrency', '16'));
  const durability = option('durability', 'full');
  const backend = option('backend', 'sqlite');
  const processes = Number(option('processes', '1'));
  const only = option('only', '').split(',').map((n) => n.trim()).filter(Boolean);
  const unknown = only.filter((n) => !SCENARIOS.some((s) => s.key === n || s.name === n));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; scenarios: ${SCENARIOS.map((s) => s.key).join(', ')}`);
  let database: { url: string; drop(): Promise<void> } | undefined;
  let storageFlags: string[];
  let seedTarget: SeedTarget;
  if (backend === 'postgres') {
    database = await createBenchDatabase(option('pg', 'postgres://postgres@127.0.0.1:5432'));
    storageFlags = ['--storage.backend=postgres', `--storage.url=${database.url}`];
    seedTarget = { backend: 'postgres', url: database.url };
  } else {
    if (processes !== 1) throw new Error('SQLite serves one process; use --backend postgres for several');
    const path = join(mkdtempSync(join(tmpdir(), 'warden-bench-')), 'bench.sqlite');
    storageFlags = [`--storage.path=${path}`, `--storage.durability=${durability}`];
    seedTarget = { backend: 'sqlite', path };
  }
  const broker = process.argv.includes('--mqtt') ? option('broker', 'mqtt://127.0.0.1:1883') : undefined;
  const cseId = `id-bench${process.pid}`;
  if (broker) storageFlags.push('--mqtt.enabled=true', `--mqtt.url=${broker}`, `--cse.id=${cseId}`);
  let tls: ClientTls | undefined;
  if (process.argv.includes('--tls')) {
    const made = await makeBenchPki();
    tls = made.client;
    storageFlags.push(...made.flags);
  }
  storageFlags.push(...(await tokenIssuerFlags()));
  const wardens = [await startWarden(storageFlags)];
  for (let i = 1; i < processes; i++) wardens.push(await startWarden(storageFlags));
  const ports = wardens.map((w) => w.port);
  const port = ports[0] as number;
  const ctx: BenchContext = {
    port,
    tls,
    call: async (r) => {
      const reply = await sendOnce(port, r, tls);
      if (reply.rsc < 2000 || reply.rsc >= 3000) throw new Error(`set-up request ${r.method} ${r.path} failed: ${reply.rsc} ${JSON.stringify(reply.body)}`);
      return reply.body;
    },
    copyInstance: async (templateRi, count) => {
      if (seedTarget.backend === 'postgres') return copyInstance(seedTarget, templateRi, count);
      // Warden holds its SQLite file exclusively (locking_mode EXCLUSIVE): it is stopped for the copy and started
      // again on the same port, so the scenarios' requests still reach it.
      const [running] = wardens;
      if (!running) throw new Error('no Warden process');
      running.child.kill('SIGTERM');
      await once(running.child, 'exit');
      await copyInstance(seedTarget, templateRi, count);
      wardens[0] = await startWarden(storageFlags, running.port);
    },
  };
  const reference = await startReference();
  console.log(`Warden benchmark: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
  const storage =
    (backend === 'postgres' ? `PostgreSQL, ${processes} Warden process(es)` : `SQLite, storage.durability=${durability}`) +
    (tls ? ', HTTPS with mutual TLS (client certificate per request identity)' : ', plain HTTP');
  console.log(`${total} requests per scenario, ${concurrency} concurrent clients, ${storage}\n`);
  console.log(
    `reference: a trivial Node.js HTTP server (fixed body) answering the same requests from the same client${tls ? ' (plain HTTP)' : ''}; ` +
      'CPU µs/req: user + system time of the Warden process(es) over the measured run; ref CPU: the same for the ' +
      'reference server; client CPU: the load generator (this process) per request to Warden, which shares the cores; ' +
      'RSS: the (first) Warden process after the scenario\n',
  );
  console.log(
    'scenario'.padEnd(36) + 'req/s'.padStart(9) + 'p50 ms'.padStart(9) + 'p99 ms'.padStart(9) + 'errors'.padStart(8) + 'CPU µs/req'.padStart(12) + 'reference'.padStart(11) + '× ref'.padStart(8) + 'ref CPU'.padStart(9) + 'client CPU'.padStart(12) + 'RSS MB'.padStart(8),
  );
  try {
    for (const scenario of SCENARIOS) {
      if (only.length > 0 && !only.includes(scenario.key) && !only.includes(scenario.name)) continue;
      const make = await scenario.prepare(ctx);
      // A warm-up run first (not measured): every scenario is measured with the JIT and caches warm.
      if (!scenario.finish) await runLoad(ports, concurrency, Math.min(2000, total), (i) => make(total + i), () => true, tls);
      const { r, ref, client, cpu, refCpu, drained } = scenario.finish
        ? await measureWhole(wardens, reference, ports, concurrency, total, make, scenario, tls)
        : await measureInSlices(wardens, reference, ports, concurrency, total, make, scenario, tls);
      const perRequest = (micros: number | undefined): string => (micros === undefined ? '–' : (micros / total).toFixed(0));
      console.log(
        scenario.name.padEnd(36) +
          r.perSecond.toFixed(0).padStart(9) +
          r.p50.toFixed(2).padStart(9) +
          r.p99.toFixed(2).padStart(9) +
          String(r.errors).padStart(8) +
          perRequest(cpu).padStart(12) +
          ref.perSecond.toFixed(0).padStart(11) +
          (r.perSecond / ref.perSecond).toFixed(3).padStart(8) +
          perRequest(refCpu).padStart(9) +
          perRequest(client.user + client.system).padStart(12) +
          (rssMegabytes(wardens[0]?.child.pid)?.toFixed(0) ?? '–').padStart(8),
      );
      if (drained) {
        console.log(drained.report);
        console.log(`  CPU µs/req until the scenario's work was done (requests and what they started): ${perRequest(drained.cpu)} (system ${perRequest(drained.system)})`);
      }
    }
    if (broker) {
      const r = await runMqttIngest(broker, cseId, concurrency, total);
      console.log('ingest over MQTT (Mosquitto)'.padEnd(36) + r.perSecond.toFixed(0).padStart(9) + r.p50.toFixed(2).padStart(9) + r.p99.toFixed(2).padStart(9) + String(r.errors).padStart(8));
    }
  } finally {
    reference.child.kill('SIGTERM');
    await once(reference.child, 'exit');
    for (const w of wardens) {
      w.child.kill('SIGTERM');
      await once(w.child, 'exit');
    }
    await database?.drop();
  }
}

const USAGE = `Usage: npm run bench -- [options]

  --requests N            measured requests per scenario (default 5000)
  --concurrency C         concurrent clients (default 16)
  --durability full|normal  SQLite storage.durability (default full)
  --log-level LEVEL       Warden's log level (default info)
  --only a,b              only these scenarios (short names below, or the full names)
  --backend sqlite|postgres  (default sqlite; --pg URL names the server, --processes N Warden processes)
  --tls                   HTTPS with mutual TLS
  --mqtt                  also ingest over MQTT (--broker URL, default mqtt://127.0.0.1:1883)
  --no-ops                without the operations listener and its metrics (on by default, as in production)

Scenarios:
${SCENARIOS.map((s) => `  ${s.key.padEnd(22)}${s.name}`).join('\n')}
`;

if (process.argv.includes('--help') || process.argv.includes('-h')) process.stdout.write(USAGE);
else {
  try {
    await main();
  } catch (err) {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  }
}
