// `warden console-token --originator <id>`: a single-use sign-in token for the web console, minted on the server
// machine (src/console/signInTokens.ts explains how the running server learns of it).
import type { Config } from '../config/config.js';
import { mintToken } from '../console/signInTokens.js';
import { consoleEnabled, tokenDirectory } from '../console/settings.js';

export function consoleToken(argv: readonly string[], configOf: (rest: string[]) => Config, print: (line: string) => void): number {
  let originator: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--originator') originator = argv[++i];
    else if (arg.startsWith('--originator=')) originator = arg.slice('--originator='.length);
    else rest.push(arg);
  }
  if (!originator) throw new Error('--originator <id> is required (the originator the console session acts as)');
  const config = configOf(rest);
  const dir = tokenDirectory(config);
  const { token, expires } = mintToken(dir, originator, config.console.tokenLifetime, Date.now());
  if (!consoleEnabled(config)) print('warning: the web console is not enabled by this configuration (console.enabled)');
  const scheme = config.http.tls ? 'https' : 'http';
  const host = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
  print(`Sign-in token for ${originator} (single use, valid until ${new Date(expires).toISOString()}):`);
  print(token);
  print(`Paste it at ${scheme}://${host}:${config.http.port}/console/`);
  return 0;
}
