// `npm run bench`: starts Warden as its own process on a fresh database and loads it over HTTP.
// Usage: npm run bench -- [--requests N] [--concurrency C] [--durability full|normal] [--only a,b]
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLoad, sendOnce, type LoadRequest, type LoadResult } from './load.js';
import { SCENARIOS } from './scenarios.js';

const WARDEN = fileURLToPath(new URL('../../bin/warden.js', import.meta.url));

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}

async function startWarden(durability: string): Promise<{ child: ChildProcess; port: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-'));
  const child = spawn(process.execPath, [WARDEN, 'serve', '--http.port=0', `--storage.path=${join(dir, 'bench.sqlite')}`, `--storage.durability=${durability}`, '--log.level=warn'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    out += chunk.toString();
    const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
    if (m) return { child, port: Number(m[1]) };
  }
  throw new Error(`warden did not start: ${out}`);
}

export interface BenchContext {
  port: number;
  /** One request, awaited; for scenario set-up. Throws unless it succeeds. */
  call(r: LoadRequest): Promise<Record<string, unknown> | undefined>;
}

async function main(): Promise<void> {
  const total = Number(option('requests', '5000'));
  const concurrency = Number(option('concurrency', '16'));
  const durability = option('durability', 'full');
  const only = option('only', '').split(',').filter(Boolean);
  const { child, port } = await startWarden(durability);
  const ctx: BenchContext = {
    port,
    call: async (r) => {
      const reply = await sendOnce(port, r);
      if (reply.rsc < 2000 || reply.rsc >= 3000) throw new Error(`set-up request ${r.method} ${r.path} failed: ${reply.rsc} ${JSON.stringify(reply.body)}`);
      return reply.body;
    },
  };
  console.log(`Warden benchmark: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
  console.log(`${total} requests per scenario, ${concurrency} concurrent clients, storage.durability=${durability}\n`);
  console.log('scenario'.padEnd(28) + 'req/s'.padStart(10) + 'p50 ms'.padStart(10) + 'p99 ms'.padStart(10) + 'errors'.padStart(9));
  try {
    for (const scenario of SCENARIOS) {
      if (only.length > 0 && !only.includes(scenario.name)) continue;
      const make = await scenario.prepare(ctx);
      const r: LoadResult = await runLoad(port, concurrency, total, make, (rsc) => scenario.ok(rsc));
      console.log(scenario.name.padEnd(28) + r.perSecond.toFixed(0).padStart(10) + r.p50.toFixed(2).padStart(10) + r.p99.toFixed(2).padStart(10) + String(r.errors).padStart(9));
    }
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

await main();
