// A Mosquitto for CSE links in tests: a TLS listener on an ephemeral loopback port, client certificates required
// (their CN, the CSE-ID, as user name) and the per-CSE ACL of docs/deploy/mosquitto.md.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { issueCertificate } from '../src/security/pki.js';
import { freePort } from './harness.js';
import type { TestPki } from './cse.js';

/** Resolves once something accepts TCP connections on the loopback port (a broker the test started). */
export async function listening(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`mosquitto did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The ACL of docs/deploy/mosquitto.md: each CSE named, its request and answer topics tied to its CSE-ID. */
export function aclFor(cseIds: readonly string[]): string {
  return cseIds
    .map((id) =>
      [
        `user ${id}`,
        `topic write /oneM2M/req/${id}/#`,
        `topic read /oneM2M/req/+/${id}/#`,
        `topic read /oneM2M/reg_req/+/${id}/#`,
        `topic write /oneM2M/resp/+/${id}/#`,
        `topic write /oneM2M/reg_resp/+/${id}/#`,
        `topic read /oneM2M/resp/${id}/#`,
        '',
      ].join('\n'),
    )
    .join('\n');
}

export interface Mosquitto {
  /** mqtts://127.0.0.1:<port> */
  readonly url: string;
  stop(): void;
}

/** Starts Mosquitto with a server certificate from the test CA (in `pki.dir`), ACL entries for `cseIds` only. */
export async function startMosquitto(pki: TestPki, cseIds: readonly string[]): Promise<Mosquitto> {
  const dir = pki.dir;
  const brokerPem = await issueCertificate(pki.ca, { commonName: 'broker', ipAddresses: ['127.0.0.1'], usage: 'server' });
  writeFileSync(join(dir, 'broker.pem'), brokerPem.certificate);
  writeFileSync(join(dir, 'broker.key'), brokerPem.key);
  writeFileSync(join(dir, 'acl'), aclFor(cseIds));
  const port = await freePort();
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    [
      'per_listener_settings false',
      'allow_anonymous false',
      'persistence false',
      `acl_file ${join(dir, 'acl')}`,
      `listener ${port} 127.0.0.1`,
      `cafile ${join(dir, 'ca.pem')}`,
      `certfile ${join(dir, 'broker.pem')}`,
      `keyfile ${join(dir, 'broker.key')}`,
      'require_certificate true',
      'use_identity_as_username true',
      '',
    ].join('\n'),
  );
  // Started as root, Mosquitto drops to its own user: it must be able to read its files (test files only).
  for (const name of ['', 'ca.pem', 'broker.pem', 'broker.key', 'acl', 'mosquitto.conf']) chmodSync(join(dir, name), name === '' ? 0o755 : 0o644);
  const broker: ChildProcess = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  try {
    await listening(port, 10_000);
  } catch (err) {
    broker.kill('SIGTERM');
    throw err;
  }
  return { url: `mqtts://127.0.0.1:${port}`, stop: () => void broker.kill('SIGTERM') };
}
