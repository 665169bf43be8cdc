// Whether the web console is served, and where its sign-in tokens wait: read from the configuration only.
import { dirname, join, resolve } from 'node:path';
import type { Config } from '../config/config.js';
import { isLoopbackAddress } from '../security/addresses.js';

/** URL path prefix of the console; `/.well-known/` is reserved beside it (config.ts refuses a cse.rn of either). */
export const CONSOLE_PREFIX = '/console';
export const WELL_KNOWN_PREFIX = '/.well-known/';

/**
 * `auto` serves the console only while the HTTP listener is loopback-only: a console is an administrative
 * surface, and exposing it to a network is a choice the operator makes explicitly (console.enabled=on).
 */
export function consoleEnabled(config: Config): boolean {
  if (config.console.enabled !== 'auto') return config.console.enabled === 'on';
  const host = config.http.host.trim().toLowerCase();
  return host === 'localhost' || isLoopbackAddress(host);
}

/** The directory `warden console-token` writes to and the server reads from (both on this machine). */
export function tokenDirectory(config: Config): string {
  if (config.console.tokenDir) return resolve(config.console.tokenDir);
  const database = config.storage.path === ':memory:' ? join('data', 'warden.sqlite') : config.storage.path;
  return resolve(dirname(database), 'console-tokens');
}
