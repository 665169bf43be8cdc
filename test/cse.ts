// CSE-to-CSE test topologies: CSE certificates from one test CA, Warden CSEs on HTTPS (mutual TLS between CSEs;
// AEs without certificates, security.authentication=cse), and a small HTTPS client that speaks as an AE.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import type { ConfigOverrides } from '../src/config/config.js';
import { createCa, issueCertificate, type Pem } from '../src/security/pki.js';
import { startTestCse, type TestCse } from './harness.js';

export const SP = 'warden.example.net';

export interface Reply {
  status: number;
  rsc: number;
  body: Record<string, unknown> | undefined;
}

export interface CseFiles {
  cert: string;
  key: string;
  ca: string;
}

/** A CA and, per CSE-ID, a `warden pki cse`-shaped certificate (only the URI onem2m://SP/CSE-ID, serverAuth + clientAuth). */
export class TestPki {
  private constructor(
    readonly dir: string,
    readonly ca: Pem,
  ) {}

  static async create(dir: string): Promise<TestPki> {
    const ca = await createCa('Warden CSE Test CA');
    writeFileSync(join(dir, 'ca.pem'), ca.certificate);
    return new TestPki(dir, ca);
  }

  async cse(cseId: string, issuer: Pem = this.ca, name = cseId): Promise<CseFiles> {
    const pem = await issueCertificate(issuer, { commonName: cseId, uris: [`onem2m://${SP}/${cseId}`], usage: 'both' });
    const files = { cert: join(this.dir, `${name}.pem`), key: join(this.dir, `${name}.key`), ca: join(this.dir, 'ca.pem') };
    writeFileSync(files.cert, pem.certificate);
    writeFileSync(files.key, pem.key);
    return files;
  }
}

/** The flags of a CSE in a test tree. */
export function cseFlags(id: string, type: 'IN' | 'MN' | 'ASN', files: CseFiles, extra: ConfigOverrides = {}): ConfigOverrides {
  return {
    'cse.id': id,
    'cse.rn': id.replace(/^id-/, 'cse-'),
    'cse.type': type,
    'cse.spid': SP,
    'http.tls': true,
    'tls.cert': files.cert,
    'tls.key': files.key,
    'tls.ca': files.ca,
    'tls.clientAuth': 'optional',
    'security.authentication': 'cse',
    'registrar.retryMin': 1,
    'registrar.retryMax': 2,
    ...extra,
  };
}

export async function startCseNode(id: string, type: 'IN' | 'MN' | 'ASN', files: CseFiles, extra: ConfigOverrides = {}, options: { opsPort?: number } = {}): Promise<TestCse> {
  return startTestCse(cseFlags(id, type, files, extra), options);
}

/** Flags that register a CSE with the registrar at `port`. */
export function registrarFlags(port: number, registrarId = 'id-in'): ConfigOverrides {
  return { 'registrar.url': `https://127.0.0.1:${port}`, 'registrar.cseId': registrarId, 'registrar.rn': registrarId.replace(/^id-/, 'cse-') };
}

/** An IN-CSE and an MN-CSE registered to it over mutual TLS: the start most CSE-tree tests share. */
export interface InMnTree {
  /** The test CA's certificate (PEM), which the AE-side client trusts. */
  readonly ca: string;
  readonly files: Readonly<Record<'id-in' | 'id-mn', CseFiles>>;
  readonly inCse: TestCse;
  readonly mnCse: TestCse;
}

/** Starts an IN-CSE and an MN-CSE (`mnExtra`, `inExtra`: more flags of each) and waits until the MN is registered. */
export async function startInMnTree(prefix: string, mnExtra: ConfigOverrides = {}, inExtra: ConfigOverrides = {}): Promise<InMnTree> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const pki = await TestPki.create(dir);
  const files = { 'id-in': await pki.cse('id-in'), 'id-mn': await pki.cse('id-mn') };
  const inCse = await startCseNode('id-in', 'IN', files['id-in'], inExtra);
  const mnCse = await startCseNode('id-mn', 'MN', files['id-mn'], { ...registrarFlags(inCse.cse.httpPort), ...mnExtra });
  await mnCse.cse.services.remote?.registration?.whenRegistered();
  return { ca: readFileSync(join(dir, 'ca.pem'), 'utf8'), files, inCse, mnCse };
}

let n = 0;

/**
 * A request over HTTPS to a CSE whose certificate names only a CSE-ID: the test trusts the CA and skips the host
 * name check (as an AE that knows its CSE would check the CSE-ID instead). `client` is a certificate to present.
 */
export function call(
  port: number,
  ca: string,
  method: string,
  path: string,
  origin: string,
  options: { ty?: number; body?: unknown; client?: { cert: string; key: string }; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { 'X-M2M-RI': `cse-${++n}`, 'X-M2M-RVI': '3', Accept: 'application/json', 'X-M2M-Origin': origin, ...options.headers };
  if (body !== undefined) headers['Content-Type'] = options.ty === undefined ? 'application/json' : `application/json;ty=${options.ty}`;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, method, path, headers, agent: false, ca, checkServerIdentity: () => undefined, ...(options.client ?? {}) },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          let parsed: Record<string, unknown> | undefined;
          try {
            parsed = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, rsc: Number(res.headers['x-m2m-rsc']), body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const WARDEN = fileURLToPath(new URL('../../bin/warden.js', import.meta.url));

export interface WardenProcess {
  readonly child: ChildProcess;
  readonly port: number;
  /** Everything it wrote to stdout so far (its log). */
  output(): string;
}

/** `warden <args>` run to its end (e.g. `warden pki cse …`). */
export function warden(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [WARDEN, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `warden serve` as a process and resolves with its HTTPS port; its output keeps being read (and kept). */
export function spawnCse(flags: readonly string[]): Promise<WardenProcess> {
  const child = spawn(process.execPath, [WARDEN, 'serve', '--http.port=0', '--ops.port=0', '--log.level=warn', ...flags], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    let started = false;
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      if (out.length > 1_000_000) out = out.slice(-500_000);
      const m = /listening on https?:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m && !started) {
        started = true;
        resolve({ child, port: Number(m[1]), output: () => out });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      if (!started) reject(new Error(`warden exited (${code ?? 'signal'}) before listening: ${out}`));
    });
  });
}

/** Kills a spawned CSE (SIGKILL: no clean shutdown) or stops it (SIGTERM), and waits for it. */
export async function stopCse(p: WardenProcess, signal: 'SIGKILL' | 'SIGTERM' = 'SIGTERM'): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise((resolve) => p.child.once('exit', resolve));
  p.child.kill(signal);
  await exited;
}
