// oneM2M JWT (m2m:dynAuthJWT) verification for tokens carried in requests (tkns) [TS-0003 §7.3.2.4–7.3.2.6]:
// signature by a configured issuer with one of its allowed algorithms (never `alg: none`), the claim mapping of
// TS-0003 table 7.3.2.6.2-1 (tkvr, jti, iss, azp, nbf, exp, aud, tkps), audience = this CSE, holder = the
// originator, validity within a bounded clock skew. What a token may grant is its permissions, compiled like
// any access control rule; whether they grant a request is decided in authorize.ts, like everything else.
//
// Issuers are configured in a JSON file (dynamicAuthorization.tokenIssuers) — TS-0003 §7.3.2.6.3 leaves the
// form open:  {"issuers": [{"id": "CDas", "algorithms": ["ES256"], "publicKey": "-----BEGIN PUBLIC KEY-----…"}]}
// with `publicKey` (PEM SPKI), `jwk` (a public JWK) or `secret` (base64url, HS* algorithms only).
import { readFileSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createHash, createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { compactDecrypt, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import { ConfigError, type Config } from '../config/config.js';
import { loadDasRules } from './das.js';
import { randomIdSuffix, type LocalIdentity } from '../primitive/identifiers.js';
import { compileRules, PolicyFormatError, type CompiledRule } from './acp.js';
import { absoluteSegments, ROLE_ID } from './originators.js';
import type { ResourceStore, TokenRecord } from '../storage/store.js';

/**
 * How the log names a Local-Token-ID: a digest, never the ID, which stands for its token for as long as the token
 * lives (a Local-Token-ID read from a log served its holder's AE-ID to whoever held it next).
 */
export function loggedLocalTokenId(lti: string): string {
  return `lti#${createHash('sha256').update(lti).digest('hex').slice(0, 16)}`;
}

/** The part of the store that keeps Local-Token-IDs. */
export type TokenStore = Pick<ResourceStore, 'keepToken' | 'tokenRecord'>;

/** What a verified token grants: its permissions, each for a set of resources. */
export interface TokenPermission {
  /** Resource IDs (bare ri or structured CSE-relative path) the permission applies to; undefined: any resource. */
  readonly resources: ReadonlySet<string> | undefined;
  /** Privileges that grant by themselves (empty: none). */
  readonly privileges: readonly CompiledRule[];
  /** The permission's privileges as the token wrote them (m2m:setOfAcrs), already validated. */
  readonly written: { readonly acr: readonly unknown[] };
  /** Role-IDs the token vouches the holder has, for the linked policies' Role-ID rules [TS-0003 §7.3.2.5 step 3]. */
  readonly roleIds: readonly string[];
}

/** Whether a permission applies to this resource. */
export function permissionCovers(permission: TokenPermission, resource: { readonly ri: string; readonly srn: string }): boolean {
  return permission.resources === undefined || permission.resources.has(resource.ri) || permission.resources.has(resource.srn);
}

export interface VerifiedToken {
  /** The token as presented (compact JWS or JWE): what a Local-Token-ID keeps, to verify it again where it is used. */
  readonly compact: string;
  readonly id: string;
  readonly issuer: string;
  readonly holder: string;
  /** exp as epoch ms: the token grants nothing from then on. */
  readonly notAfter: number;
  readonly notBefore: number;
  readonly permissions: readonly TokenPermission[];
}

export class TokenRejected extends Error {
  constructor(
    message: string,
    /** true: the token is not a token at all (4000); false: a token that grants nothing (4103). */
    readonly malformed = false,
  ) {
    super(message);
    this.name = 'TokenRejected';
  }
}

interface Issuer {
  readonly id: string;
  readonly algorithms: readonly string[];
  readonly key: KeyObject;
  /**
   * The domains whose Role-IDs (issuerRelativeID@issuerFQDN) this issuer's tokens may vouch for (`roleDomains`,
   * lower case). A Role-ID carries its issuer after `@` (TS-0004 table 6.3.3-1, m2m:roleID:
   * issuerRelativeID@issuerID), as a `<role>`'s is checked (originators.ts roleIssuedBy); a token issuer is named by
   * an ID that says nothing of a domain, so the issuer file says which domains' roles it speaks for. Being trusted
   * for tokens does not make it the authority of every domain's roles. Empty: its tokens vouch for no role.
   */
  readonly roleDomains: readonly string[];
}

/** JWS algorithms an issuer may be configured with; `none` is not among them, whatever the configuration says. */
const ASYMMETRIC = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']);
const SYMMETRIC = new Set(['HS256', 'HS384', 'HS512']);
/** JWE algorithms accepted for encrypted tokens: key management, then content encryption. */
const JWE_KEY_ALGORITHMS = ['RSA-OAEP', 'RSA-OAEP-256', 'ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A256KW'] as const;
const JWE_CONTENT_ALGORITHMS = ['A128GCM', 'A256GCM', 'A128CBC-HS256', 'A256CBC-HS512'] as const;
/** A token longer than this is refused before any parsing (the HTTP header bound is larger, for several tokens). */
export const MAX_TOKEN_CHARS = 8192;
const CACHE_LIMIT = 10_000;
/** Permissions per token and resources per permission read: a token's size is a cost of every request carrying it. */
const MAX_PERMISSIONS = 16;
/** Longest token identifier (jti) accepted: it keys revocation and Local-Token-IDs. */
const MAX_TOKEN_ID_LENGTH = 256;
const MAX_RESOURCES = 64;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads and checks the issuer file; throws an Error naming the problem. */
export function loadIssuers(path: string): Issuer[] {
  if (path === '') return [];
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  if (!isRecord(parsed) || !Array.isArray(parsed.issuers)) throw new Error(`${path}: expected {"issuers": [...]}`);
  return parsed.issuers.map((entry: unknown, i: number) => {
    const where = `${path}: issuers[${i}]`;
    if (!isRecord(entry) || typeof entry.id !== 'string' || entry.id === '') throw new Error(`${where}: needs an id (the iss the issuer writes)`);
    const algorithms = entry.algorithms;
    if (!Array.isArray(algorithms) || algorithms.length === 0 || algorithms.some((a) => typeof a !== 'string')) throw new Error(`${where}: needs a non-empty list of algorithms`);
    const symmetric = typeof entry.secret === 'string';
    for (const alg of algorithms as string[]) {
      if (alg.toLowerCase() === 'none') throw new Error(`${where}: alg none is never accepted`);
      if (!(symmetric ? SYMMETRIC : ASYMMETRIC).has(alg)) throw new Error(`${where}: algorithm ${alg} does not fit its ${symmetric ? 'secret' : 'public key'}`);
    }
    let key: KeyObject;
    try {
      if (symmetric) key = createSecretKey(Buffer.from(entry.secret as string, 'base64url'));
      else if (typeof entry.publicKey === 'string') key = createPublicKey(entry.publicKey);
      else if (isRecord(entry.jwk)) key = createPublicKey({ key: entry.jwk as never, format: 'jwk' });
      else throw new Error('needs publicKey (PEM), jwk or secret');
    } catch (err) {
      throw new Error(`${where}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!symmetric && key.type !== 'public') throw new Error(`${where}: the key must be a public key`);
    const domains = entry.roleDomains ?? [];
    if (!Array.isArray(domains) || domains.some((d) => typeof d !== 'string' || !ROLE_DOMAIN.test(d))) throw new Error(`${where}: roleDomains must list domain names (the part of a Role-ID after its @)`);
    return { id: entry.id, algorithms: algorithms as string[], key, roleDomains: (domains as string[]).map((d) => d.toLowerCase()) };
  });
}

/** A domain name as the FQDN part of a Role-ID can hold it. */
const ROLE_DOMAIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*$/;

/** The token IDs of a revocation file; throws an Error naming the problem. */
export function parseRevocations(text: string): Set<string> {
  const parsed = JSON.parse(text) as unknown;
  if (!isRecord(parsed) || !Array.isArray(parsed.revoked) || parsed.revoked.some((id) => typeof id !== 'string')) throw new Error('expected {"revoked": ["tokenID", …]}');
  return new Set(parsed.revoked as string[]);
}

/**
 * Revoked token IDs [Warden policy: TS-0001 and TS-0003 define no revocation of a oneM2M token; a token is valid
 * until its notAfter]. dynamicAuthorization.revokedTokens names a JSON file {"revoked": ["tokenID", …]}, written by
 * the issuer's operator (or copied from the issuer); it is read again when it changes (looked at no more than once
 * a second), so a revocation takes effect without a restart. A revoked token grants nothing: not when presented
 * (tkns), not through a Local-Token-ID assigned earlier (ltids), not through a dynamic policy made from it. The file
 * is checked at start-up (checkDynamicAuthorizationFiles); one that becomes unreadable or malformed later refuses every token
 * (fail closed: a revocation written badly must not bring back what it revoked) until it is good again, and each
 * new problem is logged.
 */
export class RevocationList {
  private revoked: ReadonlySet<string> = new Set();
  private checkedAt = -Infinity;
  private mtimeMs = -1;
  private broken: string | undefined;

  constructor(
    private readonly path: string,
    private readonly onError: (message: string) => void,
  ) {}

  /** Why the token grants nothing, or undefined when it is not revoked. */
  check(tokenId: string): string | undefined {
    if (this.path === '') return undefined;
    this.refresh();
    if (this.broken !== undefined) return `the revocation list cannot be used (${this.broken})`;
    return this.revoked.has(tokenId) ? `token ${tokenId} is revoked` : undefined;
  }

  private refresh(): void {
    const now = performance.now();
    if (now - this.checkedAt < 1000) return;
    this.checkedAt = now;
    try {
      const mtimeMs = statSync(this.path).mtimeMs;
      if (mtimeMs === this.mtimeMs) return;
      this.revoked = parseRevocations(readFileSync(this.path, 'utf8'));
      this.mtimeMs = mtimeMs;
      this.broken = undefined;
    } catch (err) {
      const message = `${this.path}: ${err instanceof Error ? err.message : String(err)}`;
      if (this.broken !== message) this.onError(message);
      this.broken = message;
    }
  }
}

/**
 * Local-Token-IDs a holder keeps at most (the oldest go first); each lives as long as its token. Kept in the store
 * (TokenRecord kind 'lti'), so that one assigned by one process serves on every process of the same database and
 * after a restart [TS-0003 §7.3.2.3 steps 7.2, 8; TS-0004 m2m:dynAuthLocalTokenIdAssignment].
 */
export const LOCAL_TOKENS_PER_HOLDER = 64;
/** ltids a request may name, and the shape of one (an xs:NCName of the CSE's making). */
export const MAX_LOCAL_TOKEN_IDS = 8;
const LOCAL_TOKEN_ID = /^lt[a-z0-9]{20}$/;
/** How long a Local-Token-ID record read from the store is used again before it is read again. */
const LOCAL_RECORD_REUSE_MS = 30_000;

export class TokenVerifier {
  private issuers: Map<string, Issuer> | undefined;
  private issuerError: string | undefined;
  /** Verified tokens by their compact form: a token is checked cryptographically once, its validity every use. */
  private readonly verified = new Map<string, VerifiedToken>();

  readonly revocations: RevocationList;

  constructor(
    private readonly config: Config,
    private readonly self: LocalIdentity,
    onError: (message: string) => void = () => undefined,
  ) {
    this.revocations = new RevocationList(config.dynamicAuthorization.revokedTokens, onError);
  }

  /**
   * The Local-Token-ID of a token verified for this originator: undefined when one was assigned before (only new
   * assignments are answered in ati [TS-0003 §7.3.2.3 step 8.1]), else a new one, kept in the store until the
   * token's notAfter.
   */
  async assignLocal(store: TokenStore, token: VerifiedToken, originator: string, now: number): Promise<string | undefined> {
    const holder = absoluteSegments(originator, this.self).join('/');
    const ref = `${token.issuer} ${token.id}`;
    // A token its holder keeps presenting was assigned an ID by this process already: the store is not asked again.
    const seen = `${holder} ${ref}`;
    const until = this.assigned.get(seen);
    if (until !== undefined && until > now) return undefined;
    const kept = await store.keepToken({ kind: 'lti', id: `lt${randomIdSuffix(20)}`, holder, ref, token: token.compact, until: token.notAfter }, LOCAL_TOKENS_PER_HOLDER, now);
    if (this.assigned.size >= CACHE_LIMIT) this.assigned.clear();
    this.assigned.set(seen, token.notAfter);
    return kept.fresh ? kept.id : undefined;
  }

  /**
   * The token a Local-Token-ID stands for, checked for this originator at `now` like a token presented again (the
   * stored token is verified again: issuer key, holder, validity, revocation); throws TokenRejected (malformed:
   * 4000) when the ID is unknown, another originator's, expired or revoked.
   */
  async resolveLocal(store: TokenStore, lti: string, originator: string, now: number): Promise<VerifiedToken> {
    if (!LOCAL_TOKEN_ID.test(lti)) throw new TokenRejected(`'${lti.slice(0, 64)}' is not a Local-Token-ID of this CSE`, true);
    const found = await this.localRecord(store, lti, now);
    if (!found) throw new TokenRejected(`a Local-Token-ID (${loggedLocalTokenId(lti)}) is not known (never assigned, or its token expired)`);
    // A Local-Token-ID is its holder's: another originator replaying it gets nothing [TS-0003 §7.3.2.3 step 7.1.3].
    if (found.holder !== absoluteSegments(originator, this.self).join('/')) throw new TokenRejected(`a Local-Token-ID (${loggedLocalTokenId(lti)}) was assigned to another originator`);
    try {
      return await this.verify(found.token, originator, now);
    } catch (err) {
      if (err instanceof TokenRejected) throw new TokenRejected(`the token of a Local-Token-ID (${loggedLocalTokenId(lti)}): ${err.message}`);
      throw err;
    }
  }

  /** Tokens (holder, issuer, tokenID) this process has seen assigned a Local-Token-ID, until their notAfter. */
  private readonly assigned = new Map<string, number>();

  /** Local-Token-ID records read from the store lately: a holder's every request names them. */
  private readonly localRecords = new Map<string, { readonly record: TokenRecord; readonly readAt: number }>();

  /**
   * The record of a Local-Token-ID, from the store or read from it less than LOCAL_RECORD_REUSE_MS ago. Only found
   * records are kept (an unknown ID is asked for every time: it may have been assigned by another process since);
   * what a kept one grants is checked on every use (verify: validity, revocation), so reuse only delays seeing a
   * record trimmed by another process.
   */
  private async localRecord(store: TokenStore, lti: string, now: number): Promise<TokenRecord | undefined> {
    const cached = this.localRecords.get(lti);
    if (cached && now - cached.readAt >= 0 && now - cached.readAt < LOCAL_RECORD_REUSE_MS) return cached.record;
    const record = await store.tokenRecord('lti', lti, now - this.config.dynamicAuthorization.tokenClockSkew * 1000);
    if (this.localRecords.size >= CACHE_LIMIT) this.localRecords.clear();
    if (record) this.localRecords.set(lti, { record, readAt: now });
    else this.localRecords.delete(lti);
    return record;
  }

  /** Why a token (by ID) grants nothing now, or undefined. */
  revoked(tokenId: string): string | undefined {
    return this.revocations.check(tokenId);
  }

  private issuerFor(id: string): Issuer | undefined {
    if (!this.issuers) {
      try {
        this.issuers = new Map(loadIssuers(this.config.dynamicAuthorization.tokenIssuers).map((issuer) => [issuer.id, issuer]));
      } catch (err) {
        // A broken issuer file accepts no token (fail closed) and says why on every refusal.
        this.issuers = new Map();
        this.issuerError = err instanceof Error ? err.message : String(err);
      }
    }
    return this.issuers.get(id);
  }

  /**
   * The token, verified and checked for this originator at `now`; throws TokenRejected. The cryptographic part is
   * cached; holder, validity period and audience were bound at verification and are checked again every use.
   */
  async verify(token: string, originator: string, now: number): Promise<VerifiedToken> {
    let verified = this.verified.get(token);
    if (!verified) {
      verified = { ...(await this.verifyOnce(token, now)), compact: token };
      if (this.verified.size >= CACHE_LIMIT) this.verified.clear();
      this.verified.set(token, verified);
    }
    const skew = this.config.dynamicAuthorization.tokenClockSkew * 1000;
    // holder "shall exactly match the Absolute CSE-ID or AE-ID of the Originator" [TS-0003 §7.3.2.3 step 7.1.3]:
    // compared in absolute form, so that the relative spellings of one ID are the same ID.
    if (absoluteSegments(verified.holder, this.self).join('/') !== absoluteSegments(originator, this.self).join('/')) throw new TokenRejected(`token ${verified.id} is held by '${verified.holder}', not by the originator`);
    if (now >= verified.notAfter + skew) throw new TokenRejected(`token ${verified.id} has expired`);
    if (now < verified.notBefore - skew) throw new TokenRejected(`token ${verified.id} is not valid yet`);
    const revoked = this.revocations.check(verified.id);
    if (revoked) throw new TokenRejected(revoked);
    return verified;
  }

  private decryptionKey: KeyObject | null | undefined;
  private decryptionError: string | undefined;

  /** dynamicAuthorization.tokenDecryptionKey, read once: null when none is configured or it cannot be read. */
  private decryptionKeyOf(): KeyObject | null {
    if (this.decryptionKey === undefined) {
      const path = this.config.dynamicAuthorization.tokenDecryptionKey;
      try {
        this.decryptionKey = path === '' ? null : createPrivateKey(readFileSync(path, 'utf8'));
      } catch (err) {
        this.decryptionKey = null;
        this.decryptionError = `${path}: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    return this.decryptionKey;
  }

  /**
   * The JWS inside a JWE token [TS-0003 §7.3.2.6: nested sign-then-encrypt, cty JWT on the outer JWE], decrypted with
   * the configured key and only by the algorithms below (no RSA1_5, whose padding leaks). An encrypted token whose
   * content is not a signed JWT is refused: encryption hides the claims but does not say who issued them.
   */
  private async decrypt(token: string): Promise<string> {
    const key = this.decryptionKeyOf();
    if (!key) throw new TokenRejected(`encrypted tokens (JWE) are not accepted: ${this.decryptionError ?? 'no decryption key is configured (dynamicAuthorization.tokenDecryptionKey)'}`);
    let decrypted: Awaited<ReturnType<typeof compactDecrypt>>;
    try {
      // A compressed content (zip DEF) is inflated no further than a token may be long: jose's own bound (250 000
      // bytes) let an 819-character token cost 4.6 ms of inflating before it was refused for its length (a probe).
      decrypted = await compactDecrypt(token, key, { keyManagementAlgorithms: [...JWE_KEY_ALGORITHMS], contentEncryptionAlgorithms: [...JWE_CONTENT_ALGORITHMS], maxDecompressedLength: MAX_TOKEN_CHARS });
    } catch (err) {
      if (err instanceof joseErrors.JWEInvalid && /exceeded/.test(err.message)) throw new TokenRejected(`an encrypted token's content is longer than ${MAX_TOKEN_CHARS} characters`, true);
      if (err instanceof joseErrors.JWEInvalid) throw new TokenRejected('an encrypted token is not a JWE in compact serialization', true);
      throw new TokenRejected('an encrypted token does not decrypt with the configured key and algorithms');
    }
    if (decrypted.protectedHeader.cty !== 'JWT') throw new TokenRejected('an encrypted token must carry a signed JWT (cty JWT: nested sign-then-encrypt)');
    const inner = new TextDecoder().decode(decrypted.plaintext);
    if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(inner)) throw new TokenRejected('an encrypted token must carry a signed JWT (JWS compact serialization)');
    return inner;
  }

  private async verifyOnce(token: string, now: number, nested = false): Promise<VerifiedToken> {
    if (token.length > MAX_TOKEN_CHARS) throw new TokenRejected(`a token is longer than ${MAX_TOKEN_CHARS} characters`, true);
    const parts = token.split('.');
    if (parts.length === 5) {
      if (nested) throw new TokenRejected('an encrypted token must carry a signed JWT, not another encrypted one');
      return this.verifyOnce(await this.decrypt(token), now, true);
    }
    let header: ReturnType<typeof decodeProtectedHeader>;
    let unverified: ReturnType<typeof decodeJwt>;
    try {
      header = decodeProtectedHeader(token);
      unverified = decodeJwt(token);
    } catch {
      throw new TokenRejected('a token is not a JWS in compact serialization', true);
    }
    if (typeof header.alg !== 'string' || header.alg.toLowerCase() === 'none') throw new TokenRejected('unsecured tokens (alg none) are never accepted');
    // The JOSE header of a oneM2M JWT names typ JWT [TS-0003 §7.3.2.6.2].
    if (header.typ !== 'JWT') throw new TokenRejected('a token whose JOSE header has no typ JWT is not a oneM2M JWT');
    const issuer = typeof unverified.iss === 'string' ? this.issuerFor(unverified.iss) : undefined;
    if (!issuer) throw new TokenRejected(`a token's issuer ${JSON.stringify(unverified.iss)} is not a configured token issuer${this.issuerError ? ` (${this.issuerError})` : ''}`);
    if (!issuer.algorithms.includes(header.alg)) throw new TokenRejected(`issuer ${issuer.id} does not use algorithm ${header.alg}`);
    const cse = this.self.cseId;
    let claims: Record<string, unknown>;
    try {
      ({ payload: claims } = await jwtVerify(token, issuer.key, {
        algorithms: [...issuer.algorithms],
        issuer: issuer.id,
        // The audience must name this CSE, in any of its ID forms; a token without one could be replayed anywhere.
        audience: [`/${cse}`, cse, `//${this.self.spId}/${cse}`],
        requiredClaims: ['jti', 'iss', 'azp', 'nbf', 'exp', 'aud'],
        clockTolerance: this.config.dynamicAuthorization.tokenClockSkew,
        currentDate: new Date(now),
        typ: 'JWT',
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new TokenRejected('a token has expired');
      if (err instanceof joseErrors.JWTClaimValidationFailed) throw new TokenRejected(`a token fails its ${err.claim} check (${err.reason})`);
      throw new TokenRejected(`a token's signature does not verify with the key of issuer ${issuer.id}`);
    }
    // jose checks that exp and nbf are numbers; what keys a token (revocation, Local-Token-IDs, logs) must be text,
    // and its times must stay times once in milliseconds (1e308 would be an expiry of Infinity).
    if (typeof claims.jti !== 'string' || claims.jti.length === 0 || claims.jti.length > MAX_TOKEN_ID_LENGTH) {
      throw new TokenRejected(`a token's jti must be a string of 1 to ${MAX_TOKEN_ID_LENGTH} characters (RFC 7519 §4.1.7)`);
    }
    for (const claim of ['exp', 'nbf', 'iat'] as const) {
      const value = claims[claim];
      if (value !== undefined && (typeof value !== 'number' || !Number.isSafeInteger(Math.floor(value * 1000)))) {
        throw new TokenRejected(`a token fails its ${claim} check (not a NumericDate this CSE can keep)`);
      }
    }
    return {
      compact: token,
      id: claims.jti,
      issuer: issuer.id,
      holder: typeof claims.azp === 'string' ? claims.azp : '',
      notAfter: Number(claims.exp) * 1000,
      notBefore: Number(claims.nbf) * 1000,
      permissions: this.permissionsOf(claims.tkps, claims.jti, issuer),
    };
  }

  /** tkps = {pm: [{ris, pv, rids}]} [TS-0004 m2m:tokenPermissions]; a permission by roles only grants nothing here. */
  private permissionsOf(tkps: unknown, id: string, issuer: Issuer): TokenPermission[] {
    if (tkps === undefined) return [];
    const pm = isRecord(tkps) ? tkps.pm : undefined;
    if (!Array.isArray(pm) || pm.length > MAX_PERMISSIONS) throw new TokenRejected(`token ${id} has malformed permissions (tkps.pm, at most ${MAX_PERMISSIONS})`);
    const spRelative = `/${this.self.cseId}/`;
    const absolute = `//${this.self.spId}${spRelative}`;
    return pm.flatMap((permission: unknown, i: number) => {
      if (!isRecord(permission)) throw new TokenRejected(`token ${id}: tkps.pm[${i}] is not an object`);
      const ris = permission.ris;
      // With privileges, resourceIDs must be present [TS-0003 §7.3.2.5 step 1]: privileges for anything are refused.
      if (permission.pv !== undefined && ris === undefined) throw new TokenRejected(`token ${id}: tkps.pm[${i}] has privileges but no resourceIDs`);
      if (ris !== undefined && (!Array.isArray(ris) || ris.length > MAX_RESOURCES || ris.some((r) => typeof r !== 'string'))) throw new TokenRejected(`token ${id}: tkps.pm[${i}].ris must list at most ${MAX_RESOURCES} resource IDs`);
      const resources = ris === undefined ? undefined : new Set((ris as string[]).map((r) => (r.startsWith(absolute) ? r.slice(absolute.length) : r.startsWith(spRelative) ? r.slice(spRelative.length) : r)));
      const rids = permission.rids;
      if (rids !== undefined && (!Array.isArray(rids) || rids.length > MAX_RESOURCES || rids.some((r) => typeof r !== 'string' || !ROLE_ID.test(r)))) {
        throw new TokenRejected(`token ${id}: tkps.pm[${i}].rids must list at most ${MAX_RESOURCES} Role-IDs (issuerRelativeID@issuerFQDN)`);
      }
      const roleIds = (rids as string[] | undefined) ?? [];
      // A role of another authority's domain: the whole token is refused, as for any check it fails (never ignored).
      const foreign = roleIds.find((r) => !issuer.roleDomains.includes(r.slice(r.lastIndexOf('@') + 1).toLowerCase()));
      if (foreign !== undefined) throw new TokenRejected(`token ${id} names Role-ID ${foreign}, whose domain is not one of issuer ${issuer.id}'s roleDomains`);
      if (permission.pv === undefined) return roleIds.length > 0 ? [{ resources, privileges: [], written: { acr: [] }, roleIds }] : [];
      try {
        const privileges = compileRules(permission.pv, `tkps.pm[${i}].pv`, this.self, 1);
        return [{ resources, privileges, written: permission.pv as { acr: unknown[] }, roleIds }];
      } catch (err) {
        if (err instanceof PolicyFormatError) throw new TokenRejected(`token ${id} has malformed privileges: ${err.message}`);
        throw err;
      }
    });
  }
}

/**
 * Start-up check of the files of dynamicAuthorization (issuers, decryption key, revocation list, DAS rules): a file
 * that is missing, unreadable or malformed stops start-up with one line naming the key, the file and the problem,
 * instead of a CSE that starts and then refuses every token or consultation. The revocation list is read again
 * while running (RevocationList); the others are read once.
 */
export function checkDynamicAuthorizationFiles(config: Config, self: LocalIdentity): void {
  const d = config.dynamicAuthorization;
  const check = (key: string, path: string, use: (path: string) => unknown): void => {
    if (path === '') return;
    try {
      use(path);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // The loaders name the file themselves; node's and JSON's messages do not.
      throw new ConfigError(`dynamicAuthorization.${key}: ${message.startsWith(`${path}: `) ? message : `${path}: ${message}`}`);
    }
  };
  check('tokenIssuers', d.tokenIssuers, loadIssuers);
  check('tokenDecryptionKey', d.tokenDecryptionKey, (path) => {
    const key = createPrivateKey(readFileSync(path, 'utf8'));
    // RSA-OAEP needs an RSA key, ECDH-ES an EC or X25519/X448 key; anything else (Ed25519, DSA) decrypts nothing.
    if (!['rsa', 'ec', 'x25519', 'x448'].includes(key.asymmetricKeyType ?? '')) throw new Error(`a ${String(key.asymmetricKeyType)} key cannot decrypt JWE tokens (RSA, EC, X25519 or X448)`);
  });
  check('revokedTokens', d.revokedTokens, (path) => parseRevocations(readFileSync(path, 'utf8')));
  check('dasRules', d.dasRules, (path) => loadDasRules(path, self));
}

/** One verifier per CSE (its issuer keys and cache), made when first needed. */
const instances = new WeakMap<object, TokenVerifier>();

export function tokenVerifierFor(services: { readonly config: Config; readonly self: LocalIdentity; readonly log?: { error(obj: object, msg: string): void } }): TokenVerifier {
  // By the configuration, one object per CSE: the pipeline's services and a resource hook's context share it.
  let instance = instances.get(services.config);
  if (!instance) {
    instance = new TokenVerifier(services.config, services.self, (message) => services.log?.error({ event: 'token-revocations', reason: message }, 'the token revocation list cannot be used: every token is refused until it is good again'));
    instances.set(services.config, instance);
  }
  return instance;
}
