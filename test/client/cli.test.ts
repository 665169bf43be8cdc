// `warden req` as an operator runs it: bin/warden.js as a child process against a running Warden, over HTTP,
// HTTPS with a client certificate, MQTT and WebSocket; JSON on stdout, the RSC and exit status 1 on a refusal.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createCa, createPskKey, issueCertificate } from '../../src/security/pki.js';
import { startTestCse, type TestCse } from '../harness.js';

const WARDEN = fileURLToPath(new URL('../../../bin/warden.js', import.meta.url));
const BROKER = process.env.WARDEN_TEST_MQTT ?? 'mqtt://127.0.0.1:1883';
const SP = 'warden.example.net';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `warden req …` (asynchronously: the CSE it talks to runs in this process). A hang fails the test. */
function req(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WARDEN, 'req', ...args], { env: { ...process.env, WARDEN_URL: '', WARDEN_ORIGINATOR: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`warden req ${args.join(' ')} hung`));
    }, 30_000);
    child.once('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

const json = (run: Run): Record<string, unknown> => JSON.parse(run.stdout) as Record<string, unknown>;

describe('warden req', () => {
  let t: TestCse;
  let tls: TestCse;
  const dir = mkdtempSync(join(tmpdir(), 'warden-req-'));
  const cseId = `id-req${process.pid}`;
  const files = { ca: join(dir, 'ca.pem'), cert: join(dir, 'op.pem'), key: join(dir, 'op.key'), content: join(dir, 'cnt.json'), psk: join(dir, 'psk.json'), pskKey: join(dir, 'psk.hex') };
  const pskKey = createPskKey();

  before(async () => {
    t = await startTestCse({ 'cse.id': cseId, 'mqtt.enabled': true, 'mqtt.url': BROKER, 'ws.enabled': true, 'ws.port': 0 });
    const ca = await createCa('req Test CA');
    const server = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'both' });
    const operator = await issueCertificate(ca, { commonName: 'Coperator', uris: [`onem2m://${SP}/id-in/Coperator`], usage: 'client' });
    writeFileSync(files.ca, ca.certificate);
    writeFileSync(files.cert, operator.certificate);
    writeFileSync(files.key, operator.key);
    writeFileSync(join(dir, 'server.pem'), server.certificate);
    writeFileSync(join(dir, 'server.key'), server.key);
    writeFileSync(files.psk, JSON.stringify({ keys: [{ identity: 'kpsa-op@warden.example.net', key: pskKey, aeIds: ['Cpskop'] }] }));
    writeFileSync(files.pskKey, `${pskKey}\n`);
    tls = await startTestCse({ 'cse.spid': SP, 'http.tls': true, 'tls.cert': join(dir, 'server.pem'), 'tls.key': join(dir, 'server.key'), 'tls.ca': files.ca, 'tls.psk': files.psk, 'tls.clientAuth': 'required' });
  });
  after(async () => {
    await t.close();
    await tls.close();
  });

  it('create, get, update, discover and delete over HTTP, JSON out', async () => {
    const url = ['--url', t.url, '--from', 'Cops'];
    const reg = await req(['create', 'cse-in', ...url, '--ty', 'ae', '--content', '{"rn": "ops", "api": "Nops", "rr": false, "srv": ["3"]}']);
    assert.equal(reg.status, 0, reg.stderr);
    assert.equal((json(reg)['m2m:ae'] as Record<string, unknown>).aei, 'Cops');
    writeFileSync(files.content, JSON.stringify({ 'm2m:cnt': { rn: 'data', mni: 5, lbl: ['ops'] } }));
    const cnt = await req(['create', 'cse-in/ops', ...url, '--content', `@${files.content}`]);
    assert.equal(cnt.status, 0, cnt.stderr);
    assert.equal((json(cnt)['m2m:cnt'] as Record<string, unknown>).mni, 5);
    for (const con of ['a', 'b', 'c']) assert.equal((await req(['create', 'cse-in/ops/data', ...url, '--ty', '4', '--content', JSON.stringify({ con })])).status, 0);
    const got = await req(['get', 'cse-in/ops/data/la', ...url]);
    assert.equal((json(got)['m2m:cin'] as Record<string, unknown>).con, 'c');
    const updated = await req(['update', 'cse-in/ops/data', ...url, '--ty', 'container', '--content', '{"mni": 2}']);
    assert.equal(updated.status, 0, updated.stderr);
    assert.equal((json(updated)['m2m:cnt'] as Record<string, unknown>).cni, 2);
    const page = await req(['discover', 'cse-in/ops', ...url, '--ty', 'cin', '--lim', '1']);
    assert.equal(page.status, 0, page.stderr);
    assert.equal((json(page)['m2m:uril'] as string[]).length, 1);
    assert.equal(json(page).complete, false);
    assert.equal(json(page).nextOffset, 2);
    const all = await req(['discover', 'cse-in/ops', ...url, '--ty', 'cin', '--lim', '1', '--all']);
    assert.deepEqual((json(all)['m2m:uril'] as string[]).length, 2);
    const labelled = await req(['discover', 'cse-in', ...url, '--lbl', 'ops', '--attr', 'mni=2']);
    assert.deepEqual(json(labelled)['m2m:uril'], ['cse-in/ops/data']);
    const deleted = await req(['delete', 'cse-in/ops/data', ...url]);
    assert.equal(deleted.status, 0, deleted.stderr);
    assert.deepEqual(json(deleted), { rsc: 2002 });
  });

  it('a refusal exits 1 with the RSC; bad usage 2; no answer 3; never a stack trace', async () => {
    const missing = await req(['get', 'cse-in/nothing', '--url', t.url, '--from', 'CAdmin']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^warden req: 4004 NOT_FOUND: /);
    assert.equal(missing.stdout, '');
    const twice = ['create', 'cse-in', '--url', t.url, '--from', 'CAdmin', '--content', '{"m2m:cnt": {"rn": "twice"}}'];
    assert.equal((await req(twice)).status, 0);
    const conflict = await req(twice);
    assert.equal(conflict.status, 1);
    assert.match(conflict.stderr, /4105 CONFLICT/);
    for (const [args, pattern] of [
      [['get', 'cse-in', '--url', t.url], /--from/],
      [['frob', 'cse-in', '--from', 'CAdmin'], /expected <get\|create/],
      [['create', 'cse-in', '--url', t.url, '--from', 'CAdmin', '--content', '{not json'], /not JSON/],
      [['create', 'cse-in', '--url', t.url, '--from', 'CAdmin', '--ty', 'nosuchtype', '--content', '{}'], /unknown resource type/],
      [['get', 'cse-in', '--from', 'CAdmin', '--cert', files.cert], /--cert and --key go together/],
      [['get', 'cse-in', '--from', 'CAdmin', '--bogus'], /Unknown option/],
      // A file without end is read only up to a bound.
      [['create', 'cse-in', '--url', t.url, '--from', 'CAdmin', '--content', '@/dev/zero'], /larger than 64 MiB/],
    ] as Array<[string[], RegExp]>) {
      const run = await req(args);
      assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, pattern);
    }
    const nobody = await req(['get', 'cse-in', '--url', 'http://127.0.0.1:1', '--from', 'CAdmin', '--timeout', '2000']);
    assert.equal(nobody.status, 3);
    assert.match(nobody.stderr, /ConnectionError/);
    for (const run of [missing, conflict, nobody]) assert.doesNotMatch(run.stderr, /^\s+at /m);
    // A hostile CSE's message reaches the terminal without its escape sequences.
    const hostile = createServer((_req, res) => {
      res.writeHead(400, { 'X-M2M-RSC': '4000', 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ 'm2m:dbg': '\u001b]0;owned\u0007\u001b[2Jcleared' }));
    });
    await new Promise<void>((r) => hostile.listen(0, '127.0.0.1', r));
    try {
      const run = await req(['get', 'cse-in', '--url', `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`, '--from', 'CAdmin']);
      assert.equal(run.status, 1);
      assert.match(run.stderr, /4000 BAD_REQUEST: .*cleared/);
      assert.ok(!run.stderr.includes('\u001b') && !run.stderr.includes('\u0007'), JSON.stringify(run.stderr));
    } finally {
      hostile.close();
    }
  });

  it('over HTTPS with a client certificate or a PSK, and over MQTT and WebSocket', async () => {
    const https = ['--url', `https://127.0.0.1:${tls.cse.httpPort}`, '--from', 'Coperator', '--ca', files.ca, '--cert', files.cert, '--key', files.key];
    const reg = await req(['create', 'cse-in', ...https, '--ty', 'AE', '--content', '{"rn": "operator", "api": "Nop", "rr": false, "srv": ["3"]}']);
    assert.equal(reg.status, 0, reg.stderr);
    assert.equal((json(await req(['get', 'cse-in/operator', ...https]))['m2m:ae'] as Record<string, unknown>).aei, 'Coperator');
    const noCert = await req(['get', 'cse-in/operator', '--url', `https://127.0.0.1:${tls.cse.httpPort}`, '--from', 'Coperator', '--ca', files.ca]);
    assert.equal(noCert.status, 1);
    assert.match(noCert.stderr, /4107/);
    const psk = ['--url', `https://127.0.0.1:${tls.cse.httpPort}`, '--from', 'Cpskop', '--psk-identity', 'kpsa-op@warden.example.net', '--psk-key', `@${files.pskKey}`];
    const pskReg = await req(['create', 'cse-in', ...psk, '--ty', '2', '--content', '{"rn": "pskop", "api": "Np", "rr": false, "srv": ["3"]}']);
    assert.equal(pskReg.status, 0, pskReg.stderr);
    assert.equal((json(await req(['get', 'cse-in/pskop', ...psk]))['m2m:ae'] as Record<string, unknown>).aei, 'Cpskop');
    const wrongKey = await req(['get', 'cse-in/pskop', ...psk.slice(0, -1), createPskKey()]);
    assert.equal(wrongKey.status, 3, 'a wrong key fails the handshake');
    const mqtt = await req(['create', 'cse-in', '--url', BROKER, '--cse-id', cseId, '--from', 'Cmqttop', '--ty', 'AE', '--content', '{"rn": "mqttop", "api": "Nm", "rr": false, "srv": ["3"]}']);
    assert.equal(mqtt.status, 0, mqtt.stderr);
    const ws = await req(['get', 'cse-in/mqttop', '--url', `ws://127.0.0.1:${String(t.cse.wsPort)}`, '--from', 'Cmqttop', '--format', 'cbor']);
    assert.equal(ws.status, 0, ws.stderr);
    assert.equal((json(ws)['m2m:ae'] as Record<string, unknown>).rn, 'mqttop');
  });
});
