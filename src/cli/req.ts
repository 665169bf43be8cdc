// `warden req get|create|update|delete|discover <target>`: one oneM2M request from the command line, through
// the client library (packages/client), over HTTP(S), MQTT or WebSocket. The answer's content is printed as
// JSON; a refusal prints its RSC and message on stderr and exits 1 (a transport failure 3, a usage error 2).
import { closeSync, openSync, readSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  OneM2MError,
  RESOURCE_TYPES,
  WardenClientError,
  connect,
  type Binding,
  type ClientOptions,
  type DiscoveryOptions,
  type FilterCriteria,
  type ResultContentCode,
  type WardenClient,
} from '../../packages/client/src/index.js';

export const REQ_USAGE = `Usage: warden req <get|create|update|delete|discover> <target> [options]

  <target>               the resource: cse-in/myAE/data (CSE-relative), /id-in/cse-in/… (SP-relative),
                         //sp/id-in/… (absolute)
  --url URL              the CSE: http(s)://host:port, ws(s)://host:port, or an MQTT broker mqtt(s)://host:port
                         (default $WARDEN_URL, else http://127.0.0.1:8080)
  --from ID              originator (default $WARDEN_ORIGINATOR); required
  --binding B            http, mqtt or ws (default: from the URL's scheme)
  --cse-id ID            CSE-ID, for MQTT topics (default id-in)
  --format F             json or cbor (default json)
  --ty T                 create: resource type, as a number (3), a content name (m2m:cnt), its short form (cnt)
                         or its name (container); discover: a type to find (repeatable)
  --content C            create/update: JSON ({"m2m:cnt": {...}}, or the attributes alone with --ty), or @file
  --rcn N                result content
  --cert F --key F       client certificate and key (PEM files)
  --ca F                 trust anchors for the CSE's certificate (PEM file)
  --no-hostname-check    verify the CSE's certificate against --ca but not its host name
  --psk-identity ID      pre-shared key identity, with --psk-key HEX (or @file holding the hex)
  --timeout MS           time limit of the request (default 10000)
  discover:
  --lbl L --cty C        label / content type to match (repeatable)
  --attr NAME=VALUE      attribute condition (repeatable)
  --crb T --cra T --ms T --us T --exb T --exa T   time conditions (YYYYMMDDTHHMMSS)
  --lim N --ofst N --lvl N   page size, offset of the first match (1 = first), levels
  --drt 2                resource IDs instead of structured addresses
  --all                  follow the CSE's pages to the end (prints every address)

Exit status: 0 success; 1 the CSE refused (its RSC on stderr); 2 usage; 3 no usable answer (timeout, connection, garbage).
`;

const VERBS = new Set(['get', 'create', 'update', 'delete', 'discover']);

class UsageError extends Error {}

/** A resource type from a number, `m2m:cnt`, `cnt` or `container`. */
export function resourceTypeOf(text: string): { ty: number; typeName?: string } {
  if (/^\d{1,6}$/.test(text)) {
    const ty = Number(text);
    const typeName = Object.entries(RESOURCE_TYPES).find(([, v]) => v.ty === ty)?.[0];
    return { ty, ...(typeName === undefined ? {} : { typeName }) };
  }
  const lower = text.toLowerCase();
  for (const [typeName, entry] of Object.entries(RESOURCE_TYPES)) {
    if (typeName.toLowerCase() === lower || typeName.split(':')[1]?.toLowerCase() === lower || entry.name.toLowerCase() === lower) return { ty: entry.ty, typeName };
  }
  throw new UsageError(`unknown resource type '${text}' (a number, m2m:cnt, cnt or container)`);
}

/** Largest file a flag may name (content, keys, certificates): /dev/zero or a FIFO would otherwise be read without end. */
const MAX_FILE_BYTES = 64 * 1_048_576;

/** A file's text, read up to MAX_FILE_BYTES (a usage error beyond, or when it cannot be read). */
function readBounded(path: string, what: string): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(1_048_576);
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      total += read;
      if (total > MAX_FILE_BYTES) throw new Error(`larger than ${MAX_FILE_BYTES / 1_048_576} MiB`);
      chunks.push(chunk.subarray(0, read));
    }
    return Buffer.concat(chunks).toString('utf8');
  } catch (err) {
    throw new UsageError(`${what} ${path}: ${(err as Error).message}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function fileOrText(value: string, what: string): string {
  return value.startsWith('@') ? readBounded(value.slice(1), what) : value;
}

function readPem(path: string | undefined, what: string): string | undefined {
  return path === undefined ? undefined : readBounded(path, what);
}

function integer(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value)) throw new UsageError(`--${name} must be a non-negative integer, got '${value}'`);
  return Number(value);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The content of a create / update: `{"m2m:x": {...}}` as given, or bare attributes wrapped in --ty's name. */
function contentOf(text: string | undefined, typeName: string | undefined, verb: string): { typeName: string; content: Record<string, unknown> } {
  if (text === undefined) throw new UsageError(`${verb} needs --content`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(fileOrText(text, '--content'));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--content is not JSON: ${(err as Error).message}`);
  }
  if (!isRecord(parsed)) throw new UsageError('--content must be a JSON object');
  const keys = Object.keys(parsed);
  if (keys.length === 1 && keys[0]?.includes(':') && isRecord(parsed[keys[0]])) {
    if (typeName !== undefined && keys[0] !== typeName) throw new UsageError(`--content is a ${keys[0]} but --ty says ${typeName}`);
    return { typeName: keys[0], content: parsed };
  }
  if (typeName === undefined) throw new UsageError(`${verb}: give --ty, or wrap the attributes in their content name ({"m2m:cnt": {...}})`);
  return { typeName, content: { [typeName]: parsed } };
}

const OPTIONS = {
  url: { type: 'string' },
  from: { type: 'string' },
  binding: { type: 'string' },
  'cse-id': { type: 'string' },
  format: { type: 'string' },
  ty: { type: 'string', multiple: true },
  content: { type: 'string' },
  rcn: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  ca: { type: 'string' },
  'no-hostname-check': { type: 'boolean' },
  'psk-identity': { type: 'string' },
  'psk-key': { type: 'string' },
  timeout: { type: 'string' },
  lbl: { type: 'string', multiple: true },
  cty: { type: 'string', multiple: true },
  attr: { type: 'string', multiple: true },
  crb: { type: 'string' },
  cra: { type: 'string' },
  ms: { type: 'string' },
  us: { type: 'string' },
  exb: { type: 'string' },
  exa: { type: 'string' },
  lim: { type: 'string' },
  ofst: { type: 'string' },
  lvl: { type: 'string' },
  drt: { type: 'string' },
  all: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function clientOptions(values: Values, env: NodeJS.ProcessEnv): ClientOptions {
  const url = values.url ?? env.WARDEN_URL ?? 'http://127.0.0.1:8080';
  const from = values.from ?? env.WARDEN_ORIGINATOR;
  if (from === undefined || from === '') throw new UsageError('--from (the originator) is required (or set WARDEN_ORIGINATOR)');
  if (values.binding !== undefined && !['http', 'mqtt', 'ws'].includes(values.binding)) throw new UsageError(`--binding must be http, mqtt or ws, got '${values.binding}'`);
  if (values.format !== undefined && values.format !== 'json' && values.format !== 'cbor') throw new UsageError(`--format must be json or cbor, got '${values.format}'`);
  if ((values.cert === undefined) !== (values.key === undefined)) throw new UsageError('--cert and --key go together');
  if ((values['psk-identity'] === undefined) !== (values['psk-key'] === undefined)) throw new UsageError('--psk-identity and --psk-key go together');
  const options: ClientOptions = { url, originator: from, timeoutMs: integer(values.timeout, 'timeout') ?? 10_000 };
  if (values.binding !== undefined) options.binding = values.binding as Binding;
  if (values.format !== undefined) options.format = values.format;
  if (values['cse-id'] !== undefined) options.cseId = values['cse-id'];
  const ca = readPem(values.ca, '--ca');
  const cert = readPem(values.cert, '--cert');
  const key = readPem(values.key, '--key');
  const pskKey = values['psk-key'] === undefined ? undefined : fileOrText(values['psk-key'], '--psk-key').trim();
  if (pskKey !== undefined && !/^([0-9a-fA-F]{2}){16,64}$/.test(pskKey)) throw new UsageError('--psk-key must be 16 to 64 bytes in hex');
  if (ca !== undefined || cert !== undefined || pskKey !== undefined || values['no-hostname-check']) {
    options.tls = {
      ...(ca === undefined ? {} : { ca }),
      ...(cert === undefined ? {} : { cert, key }),
      ...(pskKey === undefined ? {} : { psk: { identity: values['psk-identity'] as string, key: pskKey } }),
      ...(values['no-hostname-check'] ? { checkHostName: false } : {}),
    };
  }
  return options;
}

function filterOf(values: Values): FilterCriteria {
  const fc: FilterCriteria = {};
  if (values.ty) fc.ty = values.ty.map((t) => resourceTypeOf(t).ty);
  if (values.lbl) fc.lbl = values.lbl;
  if (values.cty) fc.cty = values.cty;
  if (values.attr) {
    fc.atr = {};
    for (const pair of values.attr) {
      const eq = pair.indexOf('=');
      if (eq < 1) throw new UsageError(`--attr must be NAME=VALUE, got '${pair}'`);
      fc.atr[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  for (const key of ['crb', 'cra', 'ms', 'us', 'exb', 'exa'] as const) if (values[key] !== undefined) fc[key] = values[key];
  const lim = integer(values.lim, 'lim');
  const ofst = integer(values.ofst, 'ofst');
  const lvl = integer(values.lvl, 'lvl');
  if (lim !== undefined) fc.lim = lim;
  if (ofst !== undefined) fc.ofst = ofst;
  if (lvl !== undefined) fc.lvl = lvl;
  return fc;
}

async function perform(client: WardenClient, verb: string, target: string, values: Values, print: (value: unknown) => void): Promise<void> {
  const rcn = integer(values.rcn, 'rcn') as ResultContentCode | undefined;
  const base = { to: target, ...(rcn === undefined ? {} : { rcn }) };
  switch (verb) {
    case 'get':
      print((await client.request({ ...base, op: 2 })).pc ?? {});
      return;
    case 'delete': {
      const response = await client.request({ ...base, op: 4 });
      print(response.pc ?? { rsc: response.rsc });
      return;
    }
    case 'create': {
      const declared = values.ty?.length === 1 ? resourceTypeOf(values.ty[0] as string) : undefined;
      if ((values.ty?.length ?? 0) > 1) throw new UsageError('create takes one --ty');
      const { typeName, content } = contentOf(values.content, declared?.typeName, 'create');
      const ty = declared?.ty ?? (RESOURCE_TYPES as Record<string, { ty: number } | undefined>)[typeName]?.ty;
      if (ty === undefined) throw new UsageError(`unknown content name '${typeName}': give --ty as a number`);
      print((await client.request({ ...base, op: 1, ty, pc: content })).pc ?? {});
      return;
    }
    case 'update': {
      const declared = values.ty?.length === 1 ? resourceTypeOf(values.ty[0] as string) : undefined;
      const { content } = contentOf(values.content, declared?.typeName, 'update');
      print((await client.request({ ...base, op: 3, pc: content })).pc ?? {});
      return;
    }
    case 'discover': {
      const fc = filterOf(values);
      if (values.drt !== undefined && values.drt !== '1' && values.drt !== '2') throw new UsageError('--drt must be 1 or 2');
      const drt = values.drt === undefined ? undefined : values.drt === '2' ? 2 : 1;
      const options: DiscoveryOptions = { ...(drt === undefined ? {} : { drt }), ...(rcn === undefined ? {} : { rcn }) };
      if (values.all) {
        const uris: string[] = [];
        for await (const uri of client.discoverAll(target, fc, options)) uris.push(uri);
        print({ 'm2m:uril': uris });
        return;
      }
      const page = await client.discover(target, fc, options);
      print({ 'm2m:uril': page.uris, ...(page.references ? { 'm2m:rrl': { rrf: page.references } } : {}), complete: page.complete, ...(page.nextOffset === undefined ? {} : { nextOffset: page.nextOffset }) });
      return;
    }
  }
}

/**
 * One line of text from the CSE (its m2m:dbg) fit for a terminal: a hostile CSE must not be able to send escape
 * sequences to the operator's terminal, nor pages of text. (Content on stdout is JSON, which escapes them.)
 */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  return clean.length > 2000 ? `${clean.slice(0, 2000)}…` : clean;
}

/** Runs `warden req …`; returns the exit status. */
export async function runReq(argv: readonly string[], out: (text: string) => void, err: (text: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true }));
  } catch (e) {
    err(`warden req: ${(e as Error).message} (try warden req --help)\n`);
    return 2;
  }
  if (values.help) {
    out(REQ_USAGE);
    return 0;
  }
  const [verb, target, ...rest] = positionals;
  if (verb === undefined || !VERBS.has(verb) || target === undefined || rest.length > 0) {
    err(`warden req: expected <get|create|update|delete|discover> <target> (try warden req --help)\n`);
    return 2;
  }
  let client: WardenClient | undefined;
  try {
    const options = clientOptions(values, env);
    client = await connect(options);
    await perform(client, verb, target, values, (value) => out(`${JSON.stringify(value, null, 2)}\n`));
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      err(`warden req: ${e.message}\n`);
      return 2;
    }
    if (e instanceof OneM2MError) {
      err(`warden req: ${printable(e.message)}\n`);
      return 1;
    }
    if (e instanceof WardenClientError) {
      err(`warden req: ${e.name}: ${printable(e.message)}\n`);
      return 3;
    }
    // Bad TLS material and the like: node's message, on one line.
    err(`warden req: ${printable((e as Error).message.split('\n')[0] ?? String(e))}\n`);
    return 3;
  } finally {
    await client?.close();
  }
}
