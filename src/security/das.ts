// Warden as a dynamic authorization server (DAS) [TS-0003 §7.3.2.1–7.3.2.3; TS-0004 §7.5.1.2.10]: an optional,
// built-in DAS that answers the DAS requests (NOTIFY with m2m:securityInfo of type 1) other CSEs — or this one —
// send to its <CSEBase>, by rules of its own. TS-0004 leaves how a DAS decides out of the oneM2M system ("not
// visible to the oneM2M system"): the rule file below is Warden's form.
//
// dynamicAuthorization.dasRules names a JSON file:
//   {
//     "consulters": ["/id-in"],                 hosting CSEs (CSE-IDs, authenticated) whose consultations are answered
//     "rules": [{"originators": ["/id-in/C*"], "targets": ["/id-in/cnt*"], "types": [3, 4],
//                "operations": ["RETRIEVE", "DISCOVERY"], "lifetime": 300}],
//     "roles": [{"roleId": "reader@das.example.net", "holders": ["/id-in/Cguest"], "notAfter": "20301231T000000",
//                "targets": ["*"], "operations": ["RETRIEVE"], "lifetime": 600, "oridFrom": ["/id-in"]}],
//     "tokens": {"issuer": "CWardenDas", "algorithm": "ES256", "privateKey": "-----BEGIN PRIVATE KEY-----…",
//                "audience": ["/id-in"], "lifetime": 600}
//   }
// A rule grants its operations to the originators it names on the targets it names (targetedResourceID patterns,
// `*` any run of characters) and, if given, of those resource types. A role entry is both the assignment (which
// originators hold the role, until when) and the role-to-privilege table (what holding it grants, where): a holder
// is granted the role's operations; a hosting CSE that names the role among the roles of its policies (rfa) also
// gets the Role-ID vouched for in a token. With "oridFrom", an originator that a consulter named there says holds the
// role (dreq.orid: a <role> of that CSE assigns it) is a holder too ("holders" may then be left out). With "tokens", the answer also carries a oneM2M JWT (TS-0003 table
// 7.3.2.6.2-1) signed with that key; an originator may then ask for itself (indirect flow, TS-0003 §7.3.2.3 step
// 3: authenticated here, or relayed by its own CSE when that CSE is a consulter) and gets tokens only, and a hosting
// CSE may ask for tokens by their IDs (dreq.tids), kept in the store.
//
// Deny by default: an unknown consulter is refused (4103); a request that no rule covers is answered with a DAS
// response that grants nothing (sit 2, empty dres). Every answer is logged with its basis.
import { readFileSync } from 'node:fs';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Config } from '../config/config.js';
import type { Logger } from '../log/logger.js';
import type { ResourceStore, TokenRecord } from '../storage/store.js';
import { badRequest, noPrivilege } from '../primitive/errors.js';
import { formatTimestamp, parseTimestamp, randomIdSuffix, type LocalIdentity } from '../primitive/identifiers.js';
import { OPERATION, type Operation } from '../primitive/request.js';
import { ACCESS_OPERATION } from './acp.js';
import { RevocationList } from './tokens.js';
import { absoluteSegments, compileOriginator, originatorMatches, ROLE_ID, segmentMatches, type OriginatorMatcher } from './originators.js';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const OPERATION_BITS: Readonly<Record<string, number>> = ACCESS_OPERATION;
/** The privilege (acop bit) a DAS request's operation asks for (dreq.op is an m2m:operation, 1..5). */
const PRIVILEGE_OF_OPERATION: Readonly<Record<number, number>> = {
  [OPERATION.CREATE]: ACCESS_OPERATION.CREATE,
  [OPERATION.RETRIEVE]: ACCESS_OPERATION.RETRIEVE | ACCESS_OPERATION.DISCOVERY,
  [OPERATION.UPDATE]: ACCESS_OPERATION.UPDATE,
  [OPERATION.DELETE]: ACCESS_OPERATION.DELETE,
  [OPERATION.NOTIFY]: ACCESS_OPERATION.NOTIFY,
};
/** Bounds on a rule file and on what one answer may carry. */
const MAX_ENTRIES = 256;
const MAX_PATTERNS = 64;
const MAX_LIFETIME = 86_400;
/** Issued tokens kept per holder for tids (the oldest go first). */
const MAX_ISSUED_PER_HOLDER = 256;

interface DasEntry {
  readonly originators: readonly OriginatorMatcher[];
  readonly targets: readonly string[];
  readonly types: readonly number[] | undefined;
  readonly operations: number;
  readonly lifetime: number;
  readonly roleId?: string;
  /** A role assignment ends here (epoch ms). */
  readonly notAfter?: number;
  /** Consulters (CSE-IDs) whose dreq.orid saying the originator holds this role counts as an assignment. */
  readonly oridFrom?: readonly string[];
}

interface TokenSigner {
  readonly issuer: string;
  readonly algorithm: string;
  readonly key: KeyObject;
  readonly audience: readonly string[] | undefined;
  readonly lifetime: number;
}

export interface DasRules {
  readonly consulters: readonly string[];
  readonly entries: readonly DasEntry[];
  readonly tokens: TokenSigner | undefined;
}

function stringList(value: unknown, where: string, max = MAX_PATTERNS): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > max || value.some((v) => typeof v !== 'string' || v === '' || v.length > 1024)) {
    throw new Error(`${where}: expected a list of 1 to ${max} non-empty strings`);
  }
  return value as string[];
}

function operationsOf(value: unknown, where: string): number {
  const names = stringList(value, where, 6);
  let bits = 0;
  for (const name of names) {
    const bit = OPERATION_BITS[name.toUpperCase()];
    if (bit === undefined) throw new Error(`${where}: unknown operation ${name} (CREATE, RETRIEVE, UPDATE, DELETE, NOTIFY, DISCOVERY)`);
    bits |= bit;
  }
  return bits;
}

function lifetimeOf(value: unknown, where: string): number {
  if (value === undefined) return 300;
  if (!Number.isSafeInteger(value) || (value as number) < 1 || (value as number) > MAX_LIFETIME) throw new Error(`${where}: lifetime must be 1 to ${MAX_LIFETIME} seconds`);
  return value as number;
}

function entryOf(raw: unknown, where: string, self: LocalIdentity, role: boolean): DasEntry {
  if (!isRecord(raw)) throw new Error(`${where}: expected an object`);
  // A role whose holders are only those its consulters vouch for (oridFrom) may name no holders itself.
  const noHolders = role && raw.holders === undefined && raw.oridFrom !== undefined;
  const originators = (noHolders ? [] : stringList(role ? raw.holders : raw.originators, `${where}.${role ? 'holders' : 'originators'}`)).map((o) => {
    try {
      const matcher = compileOriginator(o, self);
      if (matcher.kind === 'role') throw new Error('a Role-ID names no originator here');
      return matcher;
    } catch (err) {
      throw new Error(`${where}: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  const types = raw.types === undefined ? undefined : raw.types;
  if (types !== undefined && (!Array.isArray(types) || types.length > MAX_PATTERNS || types.some((t) => !Number.isSafeInteger(t)))) throw new Error(`${where}.types: expected a list of resource types`);
  const entry: { -readonly [K in keyof DasEntry]: DasEntry[K] } = {
    originators,
    targets: stringList(raw.targets, `${where}.targets`),
    types: types as number[] | undefined,
    operations: operationsOf(raw.operations, `${where}.operations`),
    lifetime: lifetimeOf(raw.lifetime, where),
  };
  if (role) {
    if (typeof raw.roleId !== 'string' || !ROLE_ID.test(raw.roleId)) throw new Error(`${where}.roleId: expected a Role-ID (issuerRelativeID@issuerFQDN)`);
    entry.roleId = raw.roleId;
    if (raw.notAfter !== undefined) {
      const until = typeof raw.notAfter === 'string' ? parseTimestamp(raw.notAfter) : undefined;
      if (until === undefined) throw new Error(`${where}.notAfter: expected a timestamp (YYYYMMDDTHHMMSS)`);
      entry.notAfter = until;
    }
    if (raw.oridFrom !== undefined) {
      const from = stringList(raw.oridFrom, `${where}.oridFrom`);
      for (const c of from) if (!/^\/[^/]+$/.test(c)) throw new Error(`${where}.oridFrom: ${c} is not an SP-relative CSE-ID (/id-in)`);
      entry.oridFrom = from;
    }
  }
  return entry;
}

function signerOf(raw: unknown, where: string): TokenSigner {
  if (!isRecord(raw) || typeof raw.issuer !== 'string' || raw.issuer === '') throw new Error(`${where}: needs an issuer (the iss of the tokens)`);
  const algorithm = typeof raw.algorithm === 'string' ? raw.algorithm : 'ES256';
  if (!/^(ES256|ES384|ES512|RS256|RS384|RS512|PS256|PS384|PS512|EdDSA)$/.test(algorithm)) throw new Error(`${where}: algorithm ${algorithm} is not an asymmetric JWS algorithm`);
  let key: KeyObject;
  try {
    const pem = typeof raw.privateKey === 'string' ? raw.privateKey : typeof raw.privateKeyFile === 'string' ? readFileSync(raw.privateKeyFile, 'utf8') : undefined;
    if (pem === undefined) throw new Error('needs privateKey (PEM) or privateKeyFile');
    key = createPrivateKey(pem);
  } catch (err) {
    throw new Error(`${where}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const audience = raw.audience === undefined ? undefined : stringList(raw.audience, `${where}.audience`);
  return { issuer: raw.issuer, algorithm, key, audience, lifetime: lifetimeOf(raw.lifetime, where) };
}

/** Reads and checks the DAS rule file; throws an Error naming the problem. */
export function loadDasRules(path: string, self: LocalIdentity): DasRules {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  if (!isRecord(parsed)) throw new Error(`${path}: expected a JSON object`);
  const consulters = parsed.consulters === undefined ? [] : stringList(parsed.consulters, `${path}: consulters`);
  for (const c of consulters) if (!/^\/[^/]+$/.test(c)) throw new Error(`${path}: consulter ${c} is not an SP-relative CSE-ID (/id-in)`);
  const rules = parsed.rules ?? [];
  const roles = parsed.roles ?? [];
  if (!Array.isArray(rules) || !Array.isArray(roles) || rules.length + roles.length > MAX_ENTRIES) throw new Error(`${path}: rules and roles must be lists of at most ${MAX_ENTRIES} entries together`);
  const entries = [...rules.map((r: unknown, i: number) => entryOf(r, `${path}: rules[${i}]`, self, false)), ...roles.map((r: unknown, i: number) => entryOf(r, `${path}: roles[${i}]`, self, true))];
  return { consulters, entries, tokens: parsed.tokens === undefined ? undefined : signerOf(parsed.tokens, `${path}: tokens`) };
}

export interface DasServices {
  readonly config: Config;
  /** Where the tokens this DAS issued are kept (TokenRecord kind 'das'), for every process on the store. */
  readonly store: Pick<ResourceStore, 'keepToken' | 'tokenRecord' | 'get' | 'getByPath'>;
  readonly self: LocalIdentity;
  readonly log: Logger;
  readonly clock: { now(): number };
}

export interface DasCaller {
  /** From of the DAS request, as authenticated (or not) by this CSE. */
  readonly id: string;
  readonly authenticated: boolean;
  readonly rqi: string;
  /** The CSE whose security association relayed the request (an originator of another CSE), if any. */
  readonly via?: string;
}

export class BuiltInDas {
  private rules: DasRules | undefined;
  private rulesError: string | undefined;
  /**
   * dynamicAuthorization.revokedTokens, as the hosting side reads it (tokens.ts): a token this DAS issued and that is
   * revoked since is not handed out again by its ID (tids); a broken list hands out none (fail closed).
   */
  private readonly revocations: RevocationList;

  constructor(private readonly services: DasServices) {
    this.revocations = new RevocationList(services.config.dynamicAuthorization.revokedTokens, (message) =>
      services.log.error({ event: 'das', reason: message }, 'the revocation list cannot be used: no token is handed out by its ID'),
    );
  }

  get enabled(): boolean {
    return this.services.config.dynamicAuthorization.dasRules !== '';
  }

  private load(): DasRules | undefined {
    if (!this.rules && !this.rulesError) {
      try {
        this.rules = loadDasRules(this.services.config.dynamicAuthorization.dasRules, this.services.self);
      } catch (err) {
        // A broken rule file answers every consultation with a refusal (fail closed) and says why in the log.
        this.rulesError = err instanceof Error ? err.message : String(err);
        this.services.log.error({ event: 'das', reason: this.rulesError }, 'the DAS rule file cannot be used');
      }
    }
    return this.rules;
  }

  /** The resource an SP-relative target ID names on this CSE, or undefined (elsewhere, or none). */
  private async localResourceOf(trid: string): Promise<{ ri: string; ty: number } | undefined> {
    const { self, store } = this.services;
    const prefix = `/${self.cseId}/`;
    if (!trid.startsWith(prefix)) return undefined;
    const id = trid.slice(prefix.length);
    const resource = id === self.cseRn || id.startsWith(`${self.cseRn}/`) ? await store.getByPath(id) : await store.get(id);
    return resource ? { ri: resource.ri, ty: resource.ty } : undefined;
  }

  /**
   * Answers one DAS request (the seci of a NOTIFY to the CSEBase) with the content of the NOTIFY response: an
   * m2m:securityInfo of type 2. Throws CseError for requests it does not answer at all.
   */
  async answer(seci: unknown, caller: DasCaller): Promise<Record<string, unknown>> {
    const { log, self } = this.services;
    const rules = this.load();
    if (!rules) throw noPrivilege('the dynamic authorization server of this CSE is not usable');
    if (!isRecord(seci) || seci.sit !== 1 || !isRecord(seci.dreq)) throw badRequest('a DAS request is an m2m:securityInfo with securityInfoType 1 and a dasRequest (dreq)');
    const dreq = seci.dreq;
    const op = dreq.op;
    if (typeof dreq.or !== 'string' || dreq.or === '' || dreq.or.length > 1024 || !Number.isSafeInteger(op) || (op as number) < 1 || (op as number) > 5) {
      throw badRequest('a DAS request needs originator (or) and operation (op, 1 to 5)');
    }
    // An absolute trid naming this SP is read SP-relative, the form the checks below know: `//<SP-ID>/<CSE-ID>/…`
    // skipped the check for a target that does not exist yet, and went into the token's ris as written (a probe).
    const sentTrid = typeof dreq.trid === 'string' && dreq.trid.length <= 1024 ? dreq.trid : undefined;
    const ownSp = `//${self.spId.toLowerCase()}/`;
    const trid = sentTrid?.toLowerCase().startsWith(ownSp) ? sentTrid.slice(ownSp.length - 1) : sentTrid;
    const claimedType = Number.isSafeInteger(dreq.trt) ? (dreq.trt as number) : undefined;
    const tids = Array.isArray(dreq.tids) ? dreq.tids.filter((t): t is string => typeof t === 'string').slice(0, 8) : [];
    // originatorRoleIDs (orid, TS-0004 table 6.3.5.46-1): the Role-IDs the hosting CSE says the originator holds.
    const orid = Array.isArray(dreq.orid) ? dreq.orid.filter((r): r is string => typeof r === 'string' && ROLE_ID.test(r)).slice(0, 64) : [];
    const rfa = Array.isArray(dreq.rfa) ? dreq.rfa.filter((r): r is string => typeof r === 'string' && ROLE_ID.test(r)).slice(0, 64) : [];
    // The originator is named as the hosting CSE sees it: a CSE-relative AE-ID is relative to that CSE.
    const consulter = /^\/[^/]+$/.test(caller.id) ? caller.id : undefined;
    // Without a consulting CSE (an originator asking for itself, the indirect flow), the hosting CSE is the one the
    // targeted resource is on (trid is SP-relative, /id-in/…): a CSE-relative AE-ID in `or` is relative to it.
    const targetCse = trid !== undefined && /^\/[^/]+\/./.test(trid) ? `/${trid.split('/')[1] ?? ''}` : undefined;
    const hosting = consulter ?? targetCse;
    const originator = !dreq.or.startsWith('/') && !dreq.or.startsWith('S') && hosting ? `${hosting}/${dreq.or}` : dreq.or;
    // The originator asking for itself is authenticated here, or relayed over the security association of its own
    // CSE (one of its AEs, /id-in/C… relayed by /id-in) when that CSE is a consulter of this DAS: a CSE this DAS
    // already trusts to ask on its originators' behalf (hop-by-hop trust, TS-0003 §6.1.2.2; Warden policy).
    const vouched = caller.authenticated || (caller.via !== undefined && rules.consulters.includes(caller.via) && caller.id.startsWith(`${caller.via}/`));
    const callerIsOriginator = vouched && absoluteSegments(caller.id, self).join('/') === absoluteSegments(originator, self).join('/');
    const isConsulter = caller.authenticated && consulter !== undefined && rules.consulters.includes(consulter);
    const basis = { event: 'das', consulter: caller.id, originator, target: trid, op, rqi: caller.rqi, ...(orid.length > 0 ? { orid } : {}) };
    // Hosting CSEs named in the rule file consult; an authenticated originator may ask for tokens for itself.
    if (!isConsulter && !callerIsOriginator) {
      log.warn({ ...basis, granted: false, reason: 'not a consulter of this DAS' }, 'dynamic authorization server');
      throw noPrivilege(`${caller.id} may not consult the dynamic authorization server of this CSE`);
    }
    // The target's type as a consulting hosting CSE states it; an originator asking for itself states what suits it,
    // so then the type is the resource's own, read here for a target on this CSE, and unknown (no rule with types
    // grants) for one elsewhere.
    const named = isConsulter || trid === undefined ? undefined : await this.localResourceOf(trid);
    const trt = isConsulter ? claimedType : named?.ty;
    const now = this.services.clock.now();
    // Tokens asked for by ID: those this DAS issued to that originator and that are still valid, or nothing.
    if (tids.length > 0) {
      const holder = absoluteSegments(originator, self).join('/');
      const found = (await Promise.all(tids.map((id) => this.services.store.tokenRecord('das', id, now)))).filter((t): t is TokenRecord => t !== undefined && t.holder === holder);
      const revoked = tids.map((id) => this.revocations.check(id)).filter((why): why is string => why !== undefined);
      if (revoked.length > 0) {
        log.warn({ ...basis, tids, granted: false, reason: revoked[0] }, 'dynamic authorization server');
        return response({});
      }
      log.info({ ...basis, tids, granted: found.length === tids.length, reason: found.length === tids.length ? 'tokens by ID' : 'unknown, expired or foreign token IDs' }, 'dynamic authorization server');
      return response(found.length === tids.length ? { tkns: found.map((t) => t.token) } : {});
    }
    const segments = absoluteSegments(originator, self);
    const wanted = PRIVILEGE_OF_OPERATION[op as Operation] ?? 0;
    let operations = 0;
    let lifetime = MAX_LIFETIME;
    const roles: string[] = [];
    for (const entry of rules.entries) {
      if (entry.notAfter !== undefined && entry.notAfter <= now) continue;
      // TS-0003 §7.3.2.2 step 3.1 leaves the decision to the DAS's own policies (NOTE 2); Warden's: orid counts only
      // when an authenticated consulter sends it (it checked the assignment, a <role> of its own) and the role entry
      // trusts that consulter for it (oridFrom). Sent by an originator for itself (the indirect flow), it is a claim
      // and counts for nothing.
      const vouchedRole = entry.roleId !== undefined && isConsulter && consulter !== undefined && (entry.oridFrom?.includes(consulter) ?? false) && orid.includes(entry.roleId);
      if (!vouchedRole && !entry.originators.some((m) => originatorMatches(m, segments, [], new Set()))) continue;
      // Patterns are matched against the trid as sent too: a rule file may name targets in absolute form.
      if (trid === undefined ? !entry.targets.includes('*') : !entry.targets.some((pattern) => segmentMatches(pattern, trid) || (sentTrid !== trid && sentTrid !== undefined && segmentMatches(pattern, sentTrid)))) continue;
      if (entry.types !== undefined && (trt === undefined || !entry.types.includes(trt))) continue;
      if ((entry.operations & wanted) === 0) continue;
      operations |= entry.operations;
      lifetime = Math.min(lifetime, entry.lifetime);
      if (entry.roleId !== undefined) roles.push(entry.roleId);
    }
    if (operations === 0) {
      log.info({ ...basis, granted: false, reason: 'no rule or role of this DAS grants the operation' }, 'dynamic authorization server');
      return response({});
    }
    // The lifetime the hosting CSE proposed (ppl) bounds the grant further.
    const proposed = typeof dreq.ppl === 'string' ? parseTimestamp(dreq.ppl) : undefined;
    const until = Math.min(now + lifetime * 1000, proposed !== undefined && proposed > now ? proposed : Infinity);
    const dres: Record<string, unknown> = {};
    // dynamicACPInfo is what a hosting CSE stores; an originator asking for itself gets tokens only.
    // privilegesLifetime is an m2m:absRelTimestamp: answered relative (ms), so that a clock difference between the
    // DAS and the hosting CSE neither shortens nor lengthens the grant.
    if (isConsulter) dres.dai = { gp: { acr: [{ acor: [dreq.or], acop: operations }] }, pl: String(until - now) };
    let tokenId: string | undefined;
    // A self-asked grant on this CSE names a resource found here: none for a path that names nothing (yet), or a
    // token would cover whatever is made there later, of any type.
    // A CSE-relative trid (no leading '/') is this CSE's too: it finds nothing by localResourceOf, so it gets no token.
    const unresolved = !isConsulter && trid !== undefined && (trid.startsWith(`/${self.cseId}/`) || !trid.startsWith('/')) && named === undefined;
    if (rules.tokens && trid !== undefined && !unresolved) {
      const signer = rules.tokens;
      tokenId = `${randomIdSuffix(20)}@${self.cseId.toLowerCase().replace(/[^a-z0-9.-]/g, '')}.das`;
      const tokenUntil = Math.min(until, now + signer.lifetime * 1000);
      const hostingCse = consulter && isConsulter ? consulter : `/${trid.split('/')[1] ?? ''}`;
      // The resource found for a self-asked grant by its resource ID: a structured trid would cover whatever sits
      // at that path later, of whatever type.
      const permission: Record<string, unknown> = { ris: [named ? `/${self.cseId}/${named.ri}` : trid], pv: { acr: [{ acor: [dreq.or], acop: operations }] } };
      const vouched = roles.filter((r) => rfa.includes(r));
      if (vouched.length > 0) permission.rids = vouched;
      const token = await new SignJWT({ tkvr: '1', azp: dreq.or, tkps: { pm: [permission] } })
        .setProtectedHeader({ alg: signer.algorithm, typ: 'JWT' })
        .setJti(tokenId)
        .setIssuer(signer.issuer)
        .setAudience([...(signer.audience ?? [hostingCse])])
        .setNotBefore(Math.floor(now / 1000))
        .setExpirationTime(Math.floor(tokenUntil / 1000))
        .sign(signer.key);
      // Kept for DAS requests that name it (tids), by any process of this DAS and after a restart; a holder's oldest
      // go beyond MAX_ISSUED_PER_HOLDER.
      await this.services.store.keepToken({ kind: 'das', id: tokenId, holder: segments.join('/'), ref: tokenId, token, until: tokenUntil }, MAX_ISSUED_PER_HOLDER, now);
      dres.tkns = [token];
    }
    log.info({ ...basis, granted: true, operations, roles, until: formatTimestamp(until), ...(tokenId ? { token: tokenId } : {}) }, 'dynamic authorization server');
    return response(dres);
  }
}

function response(dres: Record<string, unknown>): Record<string, unknown> {
  return { 'm2m:seci': { sit: 2, dres } };
}

const instances = new WeakMap<object, BuiltInDas>();

export function builtInDasFor(services: DasServices): BuiltInDas {
  let instance = instances.get(services);
  if (!instance) {
    instance = new BuiltInDas(services);
    instances.set(services, instance);
  }
  return instance;
}
