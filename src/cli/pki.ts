// `warden pki`: a small certificate authority for a fleet, and pre-shared keys, printing what a device needs.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultConfig } from '../config/config.js';
import { createCa, createCrl, createPskKey, issueCertificate, type Pem } from '../security/pki.js';

export const PKI_USAGE = `Usage: warden pki <command> [options]

  ca      --out DIR [--name CN] [--days N]             create a CA: DIR/ca.pem, DIR/ca.key
  server  --ca DIR --out DIR [--name CN] [--dns a,b] [--ip 127.0.0.1,::1]
                                                       certificate for the CSE (serverAuth + clientAuth)
  device  --ca DIR --out DIR --ae-id ID [--sp SP-ID] [--cse CSE-ID]
                                                       AE-ID certificate: subjectAltName onem2m://SP/CSE/ID
  cse     --ca DIR --out DIR --cse-id ID [--sp SP-ID] [--dns a,b] [--ip 127.0.0.1]
                                                       CSE-ID certificate: subjectAltName onem2m://SP/ID (serverAuth +
                                                       clientAuth); other CSEs verify that name, not host names; add
                                                       host names only for AEs that check them (curl)
  psk     --store FILE --identity KPSA-ID [--ae-id ID] add a 256-bit pre-shared key to a tls.psk key store
  crl     --ca DIR --out FILE [--revoke SERIAL,...]    a revocation list of this CA (tls.crl)
`;

function options(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    if (eq > 0) out.set(arg.slice(2, eq), arg.slice(eq + 1));
    else {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      out.set(arg.slice(2), value);
    }
  }
  return out;
}

function need(opts: Map<string, string>, name: string): string {
  const v = opts.get(name);
  if (!v) throw new Error(`--${name} is required`);
  return v;
}

const list = (v: string | undefined): string[] => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : []);

function readCa(dir: string): Pem {
  return { certificate: readFileSync(join(dir, 'ca.pem'), 'utf8'), key: readFileSync(join(dir, 'ca.key'), 'utf8') };
}

function write(dir: string, name: string, pem: Pem): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.pem`), pem.certificate);
  writeFileSync(join(dir, `${name}.key`), pem.key, { mode: 0o600 });
}

export async function runPki(argv: readonly string[], print: (line: string) => void): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help') {
    print(PKI_USAGE);
    return command ? 0 : 2;
  }
  const opts = options(rest);
  const defaults = defaultConfig().cse;
  const sp = opts.get('sp') ?? defaults.spid;
  switch (command) {
    case 'ca': {
      const out = need(opts, 'out');
      if (existsSync(join(out, 'ca.key'))) throw new Error(`${join(out, 'ca.key')} exists: a CA key is never overwritten`);
      write(out, 'ca', await createCa(opts.get('name') ?? 'Warden CA', Number(opts.get('days') ?? 3650)));
      print(`CA written to ${out}/ca.pem (share it: tls.ca of the CSE, trust anchor of devices) and ${out}/ca.key (keep it offline)`);
      return 0;
    }
    case 'server': {
      const out = need(opts, 'out');
      const pem = await issueCertificate(readCa(need(opts, 'ca')), {
        commonName: opts.get('name') ?? 'warden',
        dnsNames: list(opts.get('dns') ?? 'localhost'),
        ipAddresses: list(opts.get('ip') ?? '127.0.0.1,::1'),
        usage: 'both',
      });
      write(out, 'server', pem);
      print(`server certificate ${out}/server.pem, key ${out}/server.key (serial ${pem.serialNumber})`);
      print(`start: warden serve --http.tls=true --tls.cert=${out}/server.pem --tls.key=${out}/server.key --tls.ca=<ca dir>/ca.pem`);
      return 0;
    }
    case 'device':
    case 'cse': {
      const out = need(opts, 'out');
      const id = command === 'device' ? need(opts, 'ae-id') : need(opts, 'cse-id').replace(/^\//, '');
      // An AE-ID starts with C (CSE-relative) or S (SP-relative) [TS-0001 §7.2]; anything else would be issued
      // as a CSE-ID-shaped identity (onem2m://SP/ID), which the CSE would then read as a CSE.
      if (command === 'device' && !/^[CS][A-Za-z0-9\-._~]+$/.test(id)) {
        throw new Error(`--ae-id '${id}' is not an AE-ID: it starts with C (e.g. C${id.replace(/^[^A-Za-z0-9]+/, '')}) or S, followed by letters, digits, - . _ ~`);
      }
      const path = command === 'device' && id.startsWith('C') ? `${opts.get('cse') ?? defaults.id}/${id}` : id;
      const uri = `onem2m://${sp}/${path}`;
      const hostNames = command === 'cse' ? { dnsNames: list(opts.get('dns')), ipAddresses: list(opts.get('ip')) } : {};
      const pem = await issueCertificate(readCa(need(opts, 'ca')), { commonName: id, uris: [uri], usage: command === 'device' ? 'client' : 'both', ...hostNames });
      write(out, id, pem);
      print(`certificate ${out}/${id}.pem and key ${out}/${id}.key for ${uri} (serial ${pem.serialNumber})`);
      print(`the ${command} connects with them and the CA certificate, and sends X-M2M-Origin: ${command === 'device' ? id : `/${id}`}`);
      return 0;
    }
    case 'psk': {
      const store = need(opts, 'store');
      const identity = need(opts, 'identity');
      const keys: Array<Record<string, unknown>> = existsSync(store) ? ((JSON.parse(readFileSync(store, 'utf8')) as { keys?: Array<Record<string, unknown>> }).keys ?? []) : [];
      if (keys.some((k) => k.identity === identity)) throw new Error(`identity '${identity}' is already in ${store}`);
      const key = createPskKey();
      keys.push({ identity, key, aeIds: list(opts.get('ae-id')) });
      writeFileSync(store, JSON.stringify({ keys }, null, 2), { mode: 0o600 });
      print(`added to ${store}. The device needs: PSK identity ${identity}, key (hex) ${key}`);
      return 0;
    }
    case 'crl': {
      const out = need(opts, 'out');
      writeFileSync(out, await createCrl(readCa(need(opts, 'ca')), list(opts.get('revoke'))));
      print(`CRL written to ${out}; point tls.crl at it and reload the CSE (kill -HUP)`);
      return 0;
    }
    default:
      throw new Error(`unknown pki command '${command}'`);
  }
}
