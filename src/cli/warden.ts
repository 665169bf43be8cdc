// The `warden` command: parse arguments, load configuration, start. Thin by design.
import { ConfigError, SCHEMA, describeConfig, loadConfig, unknownEnvironmentKeys, type ConfigOverrides } from '../config/config.js';
import { startCse } from '../main.js';
import { migratePostgres } from '../storage/postgres.js';
import { runPki } from './pki.js';
import { consoleToken } from './consoleToken.js';
import { runReq } from './req.js';

const USAGE = `Usage: warden <command> [--config FILE] [--<section>.<key>=<value> ...]

Commands:
  serve        start the CSE (what \`npm start\` runs)
  migrate      create or upgrade the PostgreSQL schema (storage.backend=postgres) and exit
  pki          certificates and pre-shared keys for the CSE and its devices (warden pki help)
  console-token --originator <id>
               mint a single-use sign-in token for the web console (/console/), valid console.tokenLifetime
  req          one oneM2M request: get, create, update, delete, discover (warden req --help)
  help         show this text (also --help)

Configuration: every key has a default; a JSON file (--config FILE), environment variables
WARDEN_<SECTION>_<KEY> and flags --<section>.<key>=<value> override it, in that order (flag wins).

Keys:
`;

interface ParsedArgs {
  command: string;
  configFile?: string;
  flags: ConfigOverrides;
}

function isBooleanKey(name: string): boolean {
  const [section, key] = name.split('.');
  const sections = SCHEMA as unknown as Record<string, Record<string, { type: { kind: string } } | undefined> | undefined>;
  return sections[section ?? '']?.[key ?? '']?.type.kind === 'bool';
}

function parseArgs(argv: readonly string[]): ParsedArgs {
  const parsed: ParsedArgs = { command: '', flags: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') parsed.command = 'help';
    else if (arg === '--config') {
      const file = argv[++i];
      if (!file) throw new ConfigError('--config needs a file name');
      parsed.configFile = file;
    } else if (arg.startsWith('--config=')) parsed.configFile = arg.slice('--config='.length);
    else if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      if (eq < 0) {
        const value = argv[i + 1];
        // A boolean key alone is switched on (`--log.pretty`), as command-line users expect.
        if ((value === undefined || value.startsWith('--')) && isBooleanKey(arg.slice(2))) {
          parsed.flags[arg.slice(2)] = 'true';
          continue;
        }
        if (value === undefined || value.startsWith('--')) throw new ConfigError(`${arg} needs a value (--section.key=value)`);
        parsed.flags[arg.slice(2)] = value;
        i++;
      } else parsed.flags[arg.slice(2, eq)] = arg.slice(eq + 1);
    } else if (!parsed.command) parsed.command = arg;
    else throw new ConfigError(`unexpected argument '${arg}'`);
  }
  return parsed;
}

export async function runCli(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'pki') {
    try {
      return await runPki(argv.slice(1), (line) => process.stdout.write(`${line}\n`));
    } catch (err) {
      process.stderr.write(`warden pki: ${(err as Error).message}\n`);
      return 2;
    }
  }
  if (argv[0] === 'console-token') {
    try {
      return consoleToken(argv.slice(1), (rest) => {
        const parsed = parseArgs(['console-token', ...rest]);
        return loadConfig({ ...(parsed.configFile ? { file: parsed.configFile } : {}), env: process.env, flags: parsed.flags });
      }, (line) => process.stdout.write(`${line}\n`));
    } catch (err) {
      process.stderr.write(`warden console-token: ${(err as Error).message}\n`);
      return 2;
    }
  }
  if (argv[0] === 'req') return runReq(argv.slice(1), (text) => process.stdout.write(text), (text) => process.stderr.write(text));
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`warden: ${(err as Error).message}\n`);
    return 2;
  }
  if (args.command === '' || args.command === 'help') {
    process.stdout.write(USAGE + describeConfig().join('\n') + '\n');
    return args.command === 'help' ? 0 : 2;
  }
  if (args.command !== 'serve' && args.command !== 'migrate') {
    process.stderr.write(`warden: unknown command '${args.command}' (try --help)\n`);
    return 2;
  }
  let config;
  try {
    config = loadConfig({ ...(args.configFile ? { file: args.configFile } : {}), env: process.env, flags: args.flags });
    for (const warning of unknownEnvironmentKeys(process.env)) process.stderr.write(`warden: warning: ${warning}\n`);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`warden: invalid configuration: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (args.command === 'migrate') {
    if (config.storage.backend !== 'postgres') {
      process.stderr.write('warden: migrate applies to storage.backend=postgres; SQLite migrates itself when it opens\n');
      return 2;
    }
    try {
      const version = await migratePostgres(config.storage.url);
      process.stdout.write(`schema at version ${version}\n`);
      return 0;
    } catch (err) {
      process.stderr.write(`warden: migrate failed on ${redactUrl(config.storage.url)}: ${errorText(err)}\n`);
      return 1;
    }
  }
  let cse;
  try {
    cse = await startCse(config);
  } catch (err) {
    // A configuration problem found at start-up (a file a key names) reads like the other configuration errors.
    if (err instanceof ConfigError) {
      process.stderr.write(`warden: invalid configuration: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`warden: cannot start: ${errorText(err)}\n`);
    return 1;
  }
  // The stop signals are handled before the line that says the CSE listens: a supervisor (or a test) that stops
  // the CSE as soon as it reads that line could otherwise kill it before its handlers exist, without the shutdown.
  const stopped = new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  const scheme = config.http.tls ? 'https' : 'http';
  process.stdout.write(`Warden CSE ${config.cse.id} listening on ${scheme}://${config.http.host}:${cse.httpPort}/${config.cse.rn}\n`);
  const reload = (): void => {
    try {
      cse.reloadCredentials();
    } catch (err) {
      process.stderr.write(`warden: reload failed, keeping the previous credentials: ${(err as Error).message}\n`);
    }
  };
  process.on('SIGHUP', reload);
  // A network-facing server logs an error it did not expect instead of stopping every connection with it.
  const unexpected = (err: unknown): void => cse.services.log.error({ err }, 'unhandled error');
  process.on('unhandledRejection', unexpected);
  await stopped;
  process.off('SIGHUP', reload);
  process.off('unhandledRejection', unexpected);
  await cse.close();
  return 0;
}

/** One line for an error: node's network errors may carry their reason only in `errors` or `code`. */
function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.message) return err.message;
  const inner = (err as { errors?: unknown[] }).errors?.[0];
  if (inner instanceof Error && inner.message) return inner.message;
  return (err as { code?: string }).code ?? err.name;
}

/** A connection URL fit for a message: its password is not repeated. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = 'redacted';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}
