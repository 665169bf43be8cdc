// The `warden` command as an operator meets it: each start-up or CLI failure is one clear line and an exit code,
// never a stack trace, a hang or a silent success. Every case runs bin/warden.js as a child process.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { freePort, spawnWarden, stopWarden, tempDatabase } from '../harness.js';

const WARDEN = fileURLToPath(new URL('../../../bin/warden.js', import.meta.url));
const BENCH = fileURLToPath(new URL('../../bench/run.js', import.meta.url));
const FLOOR = fileURLToPath(new URL('../../bench/floor.js', import.meta.url));
const PG_SERVER = process.env.WARDEN_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432';

/** Runs warden; the timeout only stops a hang from stalling the suite (a hang fails the test). */
function warden(args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [WARDEN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
}

function assertOneClearLine(result: SpawnSyncReturns<string>, status: number, pattern: RegExp): void {
  assert.equal(result.signal, null, `warden hung: ${result.stderr}`);
  assert.equal(result.status, status, result.stderr);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line expected, got:\n${result.stderr}`);
  assert.match(lines[0] as string, pattern);
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
}

const serveFlags = ['serve', '--http.port=0', '--ops.port=0', '--storage.path=:memory:', '--log.level=warn'];

describe('warden CLI and start-up failures', () => {
  it('a WebSocket port in use stops start-up with one line, like HTTP', async () => {
    const occupier = createServer();
    await new Promise<void>((r) => occupier.listen(0, '127.0.0.1', r));
    const port = (occupier.address() as { port: number }).port;
    try {
      const result = warden([...serveFlags, '--ws.enabled=true', `--ws.port=${port}`]);
      assertOneClearLine(result, 1, new RegExp(`cannot start: the WebSocket binding cannot listen on 127\\.0\\.0\\.1:${port} \\(ws\\.port\\).*EADDRINUSE`));
      const http = warden(['serve', `--http.port=${port}`, '--storage.path=:memory:']);
      assertOneClearLine(http, 1, new RegExp(`cannot start: the HTTP binding cannot listen on 127\\.0\\.0\\.1:${port} \\(http\\.port\\)`));
      // The operations listener starts last, after deliveries and sweeps: they are stopped again before the store
      // closes (a delivery round used the closed store and logged its error).
      const ops = warden(['serve', '--http.port=0', `--ops.port=${port}`, '--storage.path=:memory:', '--log.level=info']);
      assertOneClearLine(ops, 1, new RegExp(`cannot start: the operations listener cannot listen on 127\\.0\\.0\\.1:${port} \\(ops\\.port\\)`));
      assert.doesNotMatch(ops.stdout, /"level":50/, 'no error logged on the way out');
    } finally {
      occupier.close();
    }
  });

  it('CoAP binds its port exclusively: a port another process holds (even with address reuse) is refused', async () => {
    // The other holder asks for address reuse, as a CoAP server with reuse does: only an exclusive bind fails.
    const holder = createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((r) => holder.bind(0, '127.0.0.1', r));
    const port = holder.address().port;
    try {
      const result = warden([...serveFlags, '--coap.enabled=true', `--coap.port=${port}`]);
      assertOneClearLine(result, 1, new RegExp(`the CoAP binding cannot listen on 127\\.0\\.0\\.1:${port} \\(coap\\.port\\).*EADDRINUSE`));
    } finally {
      holder.close();
    }
  });

  it('warden migrate with an unreachable server or an unknown database says so in one line', async () => {
    const closed = await freePort();
    const unreachable = warden(['migrate', '--storage.backend=postgres', `--storage.url=postgres://postgres:secret@127.0.0.1:${closed}/warden`]);
    assertOneClearLine(unreachable, 1, new RegExp(`migrate failed on postgres://postgres:redacted@127\\.0\\.0\\.1:${closed}/warden: .*ECONNREFUSED`));
    assert.doesNotMatch(unreachable.stderr, /secret/);
    const unknown = warden(['migrate', '--storage.backend=postgres', `--storage.url=${PG_SERVER}/warden_no_such_database_16`]);
    assertOneClearLine(unknown, 1, /migrate failed on .*: database "warden_no_such_database_16" does not exist/);
  });

  it('a second process on the same SQLite file is refused with a clear message; the file is free again after', async () => {
    const path = tempDatabase();
    const first = await spawnWarden([`--storage.path=${path}`]);
    try {
      const second = warden(['serve', '--http.port=0', `--storage.path=${path}`]);
      assertOneClearLine(second, 1, new RegExp(`storage\\.path ${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: the database is in use by another Warden process`));
      // The first one goes on serving.
      const reply = await first.client.retrieve('/cse-in', 'CAdmin');
      assert.equal(reply.rsc, 2000);
    } finally {
      await stopWarden(first.child);
    }
    const again = await spawnWarden([`--storage.path=${path}`]);
    await stopWarden(again.child);
  });

  it('warden pki device refuses an AE-ID without its C or S prefix', () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-pki-'));
    assert.equal(warden(['pki', 'ca', '--out', join(dir, 'ca')]).status, 0);
    const bad = warden(['pki', 'device', '--ca', join(dir, 'ca'), '--out', join(dir, 'devices'), '--ae-id', 'thermo']);
    assertOneClearLine(bad, 2, /--ae-id 'thermo' is not an AE-ID: it starts with C \(e\.g\. Cthermo\) or S/);
    const good = warden(['pki', 'device', '--ca', join(dir, 'ca'), '--out', join(dir, 'devices'), '--ae-id', 'Cthermo']);
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, /onem2m:\/\/warden\.example\.net\/id-in\/Cthermo/);
  });

  it('a storage.path that cannot be written fails at once, naming the path', () => {
    const notADirectory = join(mkdtempSync(join(tmpdir(), 'warden-path-')), 'plain-file');
    writeFileSync(notADirectory, 'not a directory');
    const path = join(notADirectory, 'warden.sqlite');
    const result = warden(['serve', '--http.port=0', `--storage.path=${path}`]);
    assertOneClearLine(result, 1, new RegExp(`cannot start: storage\\.path ${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: cannot open the SQLite database`));
  });

  it('warns about a WARDEN_* environment variable that names no key, with the closest key', () => {
    // migrate on SQLite stops right after loading the configuration: the warning comes before it.
    const result = warden(['migrate'], { WARDEN_HTTP_PROT: '8081' });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /warning: environment variable WARDEN_HTTP_PROT is not a configuration key and is ignored \(did you mean WARDEN_HTTP_PORT\?\)/);
    const clean = warden(['migrate'], { WARDEN_HTTP_PORT: '8081' });
    assert.doesNotMatch(clean.stderr, /warning/);
  });

  it('the benchmark lists its short scenario names and runs one by its short name', () => {
    const help = spawnSync(process.execPath, [BENCH, '--help'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^\s+ingest\s+ingest \(CREATE cin\)$/m);
    assert.match(help.stdout, /^\s+read-latest\s+/m);
    const unknown = spawnSync(process.execPath, [BENCH, '--only', 'nope'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown scenario nope; scenarios: ingest, read-latest/);
    const run = spawnSync(process.execPath, [BENCH, '--only', 'ingest', '--requests', '50', '--concurrency', '2', '--log-level', 'warn'], { encoding: 'utf8', timeout: 240_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^ingest \(CREATE cin\)\s+\d+/m);
    assert.doesNotMatch(run.stdout, /read-latest/);
  });

  it('the floor benchmark measures the fsync and each floor server, every request answered as the scenario expects', () => {
    const run = spawnSync(process.execPath, [FLOOR, '--requests', '40', '--concurrency', '2'], { encoding: 'utf8', timeout: 240_000 });
    // A floor request that failed (an error answer, a wrong RSC) ends the run with status 2 and its name.
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^fsync: \d+ µs per 4 KiB write and fdatasync$/m);
    for (const line of [/^reference \(fixed answer\)\s+\d+\s+\d+\s+1\.000$/m, /^durable ingest floor .*\s+\d+\s+\d+\s+\d+\.\d{3}$/m, /^read-latest floor .*\s+\d+\s+\d+\s+\d+\.\d{3}$/m, /^ingest floor \+ 10 notifications each .*\s+\d+\s+\d+\s+\d+\.\d{3}$/m]) {
      assert.match(run.stdout, line);
    }
    assert.match(run.stdout, /fan-out floor \/ ingest floor: \d+\.\d{3}; backlog when the load ended: \d+ notifications/);
  });
});

