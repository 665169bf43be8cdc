// What the log tells an operator (issue #16): a start-up banner with every binding, the storage and the TLS mode,
// a shutdown line, notification deliveries (debug) and failed attempts (warn) with target and RSC but never the
// content or the credentials and query string of the target URL; --log.pretty for humans.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/config.js';
import { startCse } from '../../src/main.js';
import { TEST_OUTBOUND_ALLOW, tempDatabase } from '../harness.js';
import { TestClient } from '../harness.js';
import { Receiver, waitFor } from '../receiver.js';

const WARDEN = fileURLToPath(new URL('../../../bin/warden.js', import.meta.url));

/** A debug-level logger whose JSON lines the test reads. */
function capturingLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>>; raw: string[] } {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: pino({ level: 'debug', base: undefined }, stream), lines, raw };
}

describe('logs', () => {
  it('a start-up banner names every binding, the storage and its path, the TLS mode and the admin; a line at shutdown', async () => {
    const path = tempDatabase();
    const { logger, lines } = capturingLogger();
    const config = loadConfig({
      flags: { 'http.port': 0, 'ws.enabled': true, 'ws.port': 0, 'coap.enabled': true, 'coap.port': 0, 'storage.path': path, 'security.admin': 'CBoss', 'outbound.allow': TEST_OUTBOUND_ALLOW },
    });
    const cse = await startCse(config, { logger, opsPort: 0 });
    const banner = lines.find((l) => l.event === 'started');
    await cse.close();
    assert.ok(banner, 'a start-up banner');
    assert.equal(banner.msg, 'Warden CSE started');
    assert.deepEqual(banner.bindings, {
      http: `http://127.0.0.1:${cse.httpPort}/cse-in`,
      ws: `ws://127.0.0.1:${cse.wsPort}`,
      coap: `coap://127.0.0.1:${cse.coapPort}`,
    });
    assert.deepEqual(banner.storage, { backend: 'sqlite', path, durability: 'full' });
    assert.equal(banner.tls, 'off');
    assert.equal(banner.admin, 'CBoss');
    assert.equal(banner.ops, `http://127.0.0.1:${cse.opsPort}`);
    assert.ok(lines.some((l) => l.event === 'stopped' && l.msg === 'Warden CSE stopped'), 'a shutdown line');
  });

  it('shows deliveries at debug and failed attempts at warn, with target and RSC, never content or secrets', async () => {
    const { logger, lines, raw } = capturingLogger();
    const config = loadConfig({ flags: { 'http.port': 0, 'ops.port': 0, 'storage.path': ':memory:', 'storage.durability': 'normal', 'outbound.allow': TEST_OUTBOUND_ALLOW, 'notifications.maxAttempts': 1 } });
    const cse = await startCse(config, { logger });
    const client = new TestClient(`http://127.0.0.1:${cse.httpPort}`);
    const good = await new Receiver().start();
    const bad = await new Receiver().start();
    bad.refusal = 4004;
    try {
      const ae = await client.registerAe('logged');
      assert.equal((await client.create('/cse-in/logged', 3, { 'm2m:cnt': { rn: 'c' } }, ae)).rsc, 2001);
      const goodUrl = `http://warden:s3cret-pass@127.0.0.1:${good.port}/inbox?token=s3cret-token`;
      const badUrl = `${bad.url}?key=s3cret-key`;
      for (const nu of [goodUrl, badUrl]) assert.equal((await client.create('/cse-in/logged/c', 23, { 'm2m:sub': { nu: [nu], enc: { net: [3] } } }, ae)).rsc, 2001);
      bad.behaviour = 'refuse';
      assert.equal((await client.create('/cse-in/logged/c', 4, { 'm2m:cin': { con: 'secret-reading-42' } }, ae)).rsc, 2001);
      await waitFor(() => lines.some((l) => l.event === 'notification-attempt-failed') && lines.some((l) => l.event === 'notification-delivered'), 30_000);
      const delivered = lines.filter((l) => l.event === 'notification-delivered');
      assert.ok(delivered.length >= 1);
      assert.equal(delivered[0]?.level, 20, 'debug');
      assert.equal(delivered[0]?.target, `http://warden:redacted@127.0.0.1:${good.port}/inbox?redacted`);
      assert.equal(delivered[0]?.rsc, 2000);
      const failed = lines.find((l) => l.event === 'notification-attempt-failed');
      assert.equal(failed?.level, 40, 'warn');
      assert.equal(failed?.target, `${bad.url}?redacted`);
      assert.equal(failed?.rsc, 4004);
      await waitFor(() => lines.some((l) => l.event === 'notification-dropped'), 30_000);
      assert.equal(lines.find((l) => l.event === 'notification-dropped')?.target, `${bad.url}?redacted`);
      // At debug a refusal says which stage refused and why.
      assert.equal((await client.retrieve('/cse-in/logged/nothing-here', ae)).rsc, 4004);
      const refused = lines.find((l) => l.msg === 'request refused' && l.rsc === 4004);
      assert.equal(refused?.level, 20);
      assert.equal(typeof refused?.stage, 'string');
      assert.match(String(refused?.reason), /.+/);
      const all = raw.join('\n');
      for (const secret of ['s3cret-pass', 's3cret-token', 's3cret-key', 'secret-reading-42']) assert.ok(!all.includes(secret), `${secret} is not logged`);
    } finally {
      await cse.close();
      await good.stop();
      await bad.stop();
    }
  });

  it('--log.pretty (a boolean flag alone) prints lines for humans instead of JSON', async () => {
    const child = spawn(process.execPath, [WARDEN, 'serve', '--http.port=0', '--ops.port=0', '--storage.path=:memory:', '--log.pretty'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    try {
      await waitFor(() => /listening on/.test(out), 30_000);
    } finally {
      // 'close', not 'exit': the last lines (the shutdown line) may still be in the pipe when the process exits.
      const closed = new Promise((r) => child.once('close', r));
      child.kill('SIGTERM');
      await closed;
    }
    const bannerLine = out.split('\n').find((l) => l.includes('Warden CSE started'));
    assert.ok(bannerLine, out);
    assert.doesNotMatch(bannerLine, /^\{/, 'not a JSON line');
    assert.match(bannerLine, /INFO/);
    assert.match(out, /bindings:/);
    assert.match(out, /Warden CSE stopped/, `exit ${String(child.exitCode)} ${String(child.signalCode)}; stderr: ${err}`);
  });
});
