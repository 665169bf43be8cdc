// Console sign-in tokens: minted by the operator on the server machine (`warden console-token`), redeemed once.
//
// How the running server learns of a token: through a directory on the same machine, not through a network
// call. The CLI writes one file per token, named by the SHA-256 of the token and holding only the originator and
// the expiry; the directory is 0700 and each file 0600, so only the account that runs Warden can mint a token,
// and what lies on disk cannot sign anyone in (a hash cannot be presented). Redemption renames the file away
// before reading it, so two redemptions of one token (in one process or several) cannot both succeed. No key has
// to be shared or rotated, the server needs no admin endpoint to mint tokens, and a token still works when it was
// minted before the server started.
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** 32 random bytes, base64url: what the operator copies into the sign-in page. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
/** What a sign-in binds the session to: an originator as a request's From would carry it. */
export const CONSOLE_ORIGINATOR = /^[A-Za-z0-9\-._~/]{1,256}$/;
/** Pending tokens kept at most: minting more removes expired ones first, then refuses. */
const MAX_PENDING = 256;

function hashOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

interface PendingToken {
  readonly originator: string;
  readonly expires: number;
}

function ensureDirectory(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const problem = untrustedDirectory(dir);
  if (problem) throw new Error(`console.tokenDir ${dir}: ${problem}`);
  // mkdir's mode does not apply to a directory that existed: an operator's wider directory is narrowed.
  chmodSync(dir, 0o700);
}

/**
 * Why the token directory cannot be trusted, if it cannot: whoever owns it (or may replace it) can rename a pending
 * token's file to the hash of a token of its own and sign in as that token's originator. So it must be a real
 * directory (not a link) of the account that runs Warden, and its parent must not let others replace it (writable
 * by others only with the sticky bit, as /tmp). A directory someone else made first in a shared place is refused,
 * even when Warden runs as root (chmod would have narrowed its mode but left it theirs).
 */
function untrustedDirectory(dir: string): string | undefined {
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const own = lstatSync(dir);
  if (!own.isDirectory()) return 'is not a directory (a symbolic link is not followed)';
  if (uid !== undefined && own.uid !== uid) return `belongs to another account (uid ${own.uid}); remove it or choose another directory`;
  const parent = statSync(dirname(resolve(dir)));
  if ((parent.mode & 0o002) !== 0 && (parent.mode & 0o1000) === 0) return 'lies in a directory anyone may write to without the sticky bit';
  return undefined;
}

/** Removes expired (and unreadable) pending tokens. */
export function sweepTokens(dir: string, now: number): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(dir, name);
    try {
      const pending = JSON.parse(readFileSync(path, 'utf8')) as Partial<PendingToken>;
      if (typeof pending.expires !== 'number' || pending.expires <= now) unlinkSync(path);
    } catch {
      rmSync(path, { force: true });
    }
  }
}

/** A new sign-in token for `originator`, valid `lifetimeSeconds` from `now`; only its hash is written. */
export function mintToken(dir: string, originator: string, lifetimeSeconds: number, now: number): { token: string; expires: number } {
  if (!CONSOLE_ORIGINATOR.test(originator)) throw new Error(`'${originator}' is not an originator (letters, digits, - . _ ~ /)`);
  ensureDirectory(dir);
  sweepTokens(dir, now);
  if (readdirSync(dir).length >= MAX_PENDING) throw new Error(`${MAX_PENDING} sign-in tokens are pending already in ${dir}`);
  const token = randomBytes(32).toString('base64url');
  const expires = now + lifetimeSeconds * 1000;
  const pending: PendingToken = { originator, expires };
  writeFileSync(join(dir, `${hashOf(token)}.json`), JSON.stringify(pending), { mode: 0o600, flag: 'wx' });
  return { token, expires };
}

/**
 * The originator a token signs in as, consuming the token; undefined when it is malformed, unknown, used or
 * expired (the caller says no more than "not accepted"). A file that others could have written is not trusted.
 */
export function redeemToken(dir: string, token: string, now: number): string | undefined {
  if (!TOKEN.test(token)) return undefined;
  try {
    if (untrustedDirectory(dir) !== undefined) return undefined;
  } catch {
    return undefined;
  }
  const path = join(dir, `${hashOf(token)}.json`);
  const claimed = `${path}.${randomBytes(8).toString('hex')}.redeemed`;
  try {
    renameSync(path, claimed);
  } catch {
    return undefined;
  }
  try {
    const stat = lstatSync(claimed);
    if (!stat.isFile() || (stat.mode & 0o077) !== 0 || (typeof process.getuid === 'function' && stat.uid !== process.getuid())) return undefined;
    const pending = JSON.parse(readFileSync(claimed, 'utf8')) as Partial<PendingToken>;
    if (typeof pending.expires !== 'number' || pending.expires <= now) return undefined;
    if (typeof pending.originator !== 'string' || !CONSOLE_ORIGINATOR.test(pending.originator)) return undefined;
    return pending.originator;
  } catch {
    return undefined;
  } finally {
    rmSync(claimed, { force: true });
  }
}
