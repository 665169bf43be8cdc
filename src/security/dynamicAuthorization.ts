// Consultation-based dynamic authorization, direct flow [TS-0003 §7.3.2.2; TS-0004 §7.5.1.2.10; TS-0001 §11.5]:
// when the access control policies deny a request, the hosting CSE asks the dynamic authorization servers (DAS)
// its <dynamicAuthorizationConsultation> resources name, and stores what one grants as a dynamic
// <accessControlPolicy> under the target, bound to the originator, that expires by itself. The decision itself
// stays in authorize.ts: this file only fetches and stores privileges, and the caller asks the decider again.
//
// Fail closed: no applicable consultation, a disabled one, a DAS that is down, slow (a bounded wait for all of
// them together), refused by the outbound policy, or that answers anything but a well-formed
// m2m:securityInfo of type 2 (DAS response) with grantedPrivileges: nothing is granted and the request keeps
// its 4103. Every answer is logged with its basis.
import { performance } from 'node:perf_hooks';
import type { HttpOutbound, OutboundResult } from '../bindings/http/client.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../log/logger.js';
import { CREATOR_KEY } from '../resources/common.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { MAX_DAS_POINTS_OF_ACCESS } from '../resources/types/dynamicAuthorizationConsultation.js';
import { formatTimestamp, parseAbsRelTimestamp, parseTimestamp, randomIdSuffix, type LocalIdentity } from '../primitive/identifiers.js';
import type { Operation } from '../primitive/request.js';
import type { ResourceStore, StoredResource } from '../storage/store.js';
import { targetKey, urlsOfTarget } from '../notifications/events.js';
import { compileRules, POLICY_LIMITS, PolicyFormatError } from './acp.js';
import { permissionCovers, TokenRejected, tokenVerifierFor, type VerifiedToken } from './tokens.js';
import { parseAddress, unmapped } from './addresses.js';
import { ROLE_ID } from './originators.js';
import { DYNAMIC_POLICIES_PER_TARGET, DYNAMIC_POLICY_KEY, type AccessDecider, type DynamicPolicyBinding } from './authorize.js';
import { formatAddress } from './outboundPolicy.js';
import type { RemoteCses } from '../remote/remoteCses.js';
import { builtInDasFor } from './das.js';
import { registrationSeq } from './registrations.js';

/** securityInfoType [TS-0004 table 6.3.4.2.35-1]. */
export const SECURITY_INFO_TYPE = { DAS_REQUEST: 1, DAS_RESPONSE: 2 } as const;

/** Markers urlsOf answers for a DAS that is not reached by a URL: this CSE's own, or one on another CSE. */
const LOCAL_DAS = 'local:das';
const OTHER_CSE = 'cse:das';
const NO_DAS_ASKED = 'no point of access of the dynamic authorization servers names a reachable URL or registered AE';
/** How far up the tree a missing daci is looked for: the depth a resource path may have. */
const MAX_ANCESTORS = 64;
/** URLs tried per DAS named by an AE-ID (its poa). */
const URLS_PER_DAS = 2;
/** A denial is remembered this long per originator, target and operation, so that a denied originator cannot make the CSE call the DAS at its own request rate. */
const DENIAL_MEMORY_MS = 2000;
const DENIAL_MEMORY_LIMIT = 10_000;
/**
 * Consultations of one originator for one target and operation within DENIAL_MEMORY_MS, whatever tokenIDs or
 * Role-IDs each named; beyond, the last denial stands until the window ends (a grant starts it again). The memory above is per tids, which
 * the originator chooses: a new tids on every request made every request a consultation (a probe: 4 819 DAS calls
 * for 4 816 requests in 5 s, against 3 with the same tids).
 */
const CONSULTATIONS_PER_WINDOW = 4;
/** Dynamic policies one target may hold (one per originator): what the decider reads of them is bounded too. */
const MAX_DYNAMIC_POLICIES = DYNAMIC_POLICIES_PER_TARGET;
/** The operations (bitmask) the CSE keeps on a dynamic policy it created [TS-0004 §7.5.1.2.10]: RETRIEVE, UPDATE, DELETE. */
const HOSTING_CSE_OPERATIONS = 2 | 4 | 8;

export interface ConsultationQuestion {
  readonly originator: string;
  /** The request's operation (m2m:operation, 1..5), as dreq.op carries it. */
  readonly operation: Operation;
  /** The addressed resource (for CREATE: the parent). */
  readonly resource: StoredResource;
  readonly ip: string;
  readonly time: number;
  readonly rqi: string;
  /** tokenIDs the request carried (tids): the DAS is asked for those tokens [TS-0003 §7.3.2.3 step 6]. */
  readonly tokenIds?: readonly string[];
  /**
   * originatorRoleIDs (orid) [TS-0003 table 7.3.2.2-1; TS-0004 table 6.3.5.46-1]: the Role-IDs of the request (rids)
   * that the originator verifiably holds here (AccessDecider.rolesHeld), never a Role-ID merely named.
   */
  readonly roleIds?: readonly string[];
}

export type ConsultationResult = { readonly granted: true; readonly das: string; readonly policy: string } | { readonly granted: false; readonly reason: string };

export interface DynamicAuthorizationServices {
  readonly config: Config;
  readonly self: LocalIdentity;
  readonly store: ResourceStore;
  readonly access: AccessDecider;
  readonly outbound: HttpOutbound;
  readonly log: Logger;
  readonly clock: { now(): number };
  /** Links to other CSEs: a DAS named by an address on another CSE is reached through them (src/remote). */
  readonly remote?: Pick<RemoteCses, 'otherCseOf' | 'sendToOtherCse'>;
}

/** What a DAS answer grants, once checked: privileges and until when. */
interface Grant {
  readonly privileges: Record<string, unknown>;
  readonly until: number;
  /** IDs of the tokens the privileges came from: revoking one ends the grant. */
  readonly tokens?: readonly string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class DynamicAuthorization {
  /** Consultations under way, by originator, target and operation: concurrent denied requests share one. */
  private readonly inFlight = new Map<string, Promise<ConsultationResult>>();
  private readonly denied = new Map<string, { until: number; result: ConsultationResult }>();
  /** Consultations started per originator, target and operation in the current window, and the last denial. */
  private readonly consultedWhateverAsked = new Map<string, { until: number; count: number; denial?: ConsultationResult }>();

  constructor(private readonly services: DynamicAuthorizationServices) {}

  async consult(q: ConsultationQuestion): Promise<ConsultationResult> {
    if (q.originator === '') return { granted: false, reason: 'an originator without an ID is never granted privileges dynamically' };
    const asker = `${q.originator}\n${q.resource.ri}\n${q.operation}`;
    const key = `${asker}\n${(q.tokenIds ?? []).join(' ')}\n${(q.roleIds ?? []).join(' ')}`;
    const now = this.services.clock.now();
    const remembered = this.denied.get(key);
    if (remembered && remembered.until > now) return remembered.result;
    const running = this.inFlight.get(key);
    if (running) return running;
    // Counted as it starts: requests at once, each naming other tids, would all find the count below the bound.
    let window = this.consultedWhateverAsked.get(asker);
    if (window && window.until > now) {
      if (window.count >= CONSULTATIONS_PER_WINDOW) return window.denial ?? { granted: false, reason: `more than ${CONSULTATIONS_PER_WINDOW} consultations for this target and operation within ${DENIAL_MEMORY_MS / 1000} s` };
      window.count++;
    } else {
      if (this.consultedWhateverAsked.size >= DENIAL_MEMORY_LIMIT) this.consultedWhateverAsked.clear();
      window = { until: now + DENIAL_MEMORY_MS, count: 1 };
      this.consultedWhateverAsked.set(asker, window);
    }
    const consultation = this.run(q).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, consultation);
    const result = await consultation;
    if (!result.granted) {
      if (this.denied.size >= DENIAL_MEMORY_LIMIT) this.denied.clear();
      this.denied.set(key, { until: this.services.clock.now() + DENIAL_MEMORY_MS, result });
      window.denial = result;
    } else if (this.consultedWhateverAsked.get(asker) === window) {
      // A grant is kept as a dynamic policy, which decides the next requests: the window starts again.
      this.consultedWhateverAsked.delete(asker);
    }
    return result;
  }

  private async run(q: ConsultationQuestion): Promise<ConsultationResult> {
    const { log } = this.services;
    // The registration the request came from: a grant is stored for it only (see store).
    const registered = await registrationSeq(this.services.store, q.originator);
    const consultations = await this.applicableConsultations(q.resource);
    const now = this.services.clock.now();
    const enabled = consultations.filter((dac) => dac.doc.dae === true && (dac.et === undefined || dac.et > now));
    const basis = { event: 'dynamic-authorization', originator: q.originator, target: q.resource.ri, op: q.operation, rqi: q.rqi };
    if (enabled.length === 0) {
      const reason = consultations.length === 0 ? 'no dynamicAuthorizationConsultation applies to the target' : 'the applicable dynamicAuthorizationConsultations are disabled';
      log.info({ ...basis, granted: false, reason }, 'dynamic authorization');
      return { granted: false, reason };
    }
    const points = [...new Set(enabled.flatMap((dac) => (Array.isArray(dac.doc.dap) ? (dac.doc.dap as unknown[]) : []).filter((p): p is string => typeof p === 'string')))].slice(0, MAX_DAS_POINTS_OF_ACCESS);
    const proposed = this.proposedLifetime(enabled, now);
    // One bound for every DAS together: the request waits at most this long, however many are named. Wall time,
    // not the CSE clock: this is a wait, not a validity.
    const deadline = performance.now() + this.services.config.dynamicAuthorization.timeout * 1000;
    let reason = NO_DAS_ASKED;
    for (const point of points) {
      for (const url of await this.urlsOf(point)) {
        const left = Math.floor(deadline - performance.now());
        if (left <= 0) {
          reason = 'the dynamic authorization servers did not answer in time';
          log.warn({ ...basis, das: point, granted: false, reason }, 'dynamic authorization');
          return { granted: false, reason };
        }
        const answer = await this.ask(url, point, q, proposed, left);
        const checked = await this.check(answer, q);
        if (typeof checked === 'string') {
          reason = `the DAS at ${point} ${checked}`;
          log.info({ ...basis, das: point, granted: false, reason }, 'dynamic authorization');
          // A DAS that answered (even "no") has spoken for all its points of access.
          if (answer.rsc !== 5103) break;
          continue;
        }
        const stored = await this.store(q, checked, point, registered);
        if ('refused' in stored) {
          log.warn({ ...basis, das: point, granted: false, reason: stored.refused }, 'dynamic authorization');
          return { granted: false, reason: stored.refused };
        }
        const policy = stored.policy;
        log.info({ ...basis, das: point, granted: true, policy, until: formatTimestamp(checked.until) }, 'dynamic authorization');
        return { granted: true, das: point, policy };
      }
    }
    if (reason === NO_DAS_ASKED) log.info({ ...basis, das: points, granted: false, reason }, 'dynamic authorization');
    return { granted: false, reason };
  }

  /**
   * The consultations linked by the target's daci; where it links none that exists, its parent's, and so on up
   * the tree; where no ancestor links one, the system default (dynamicAuthorization.defaultConsultation)
   * [TS-0001 table 9.6.1.3.2-1; TS-0004 §7.5.1.2.10: "based on system policies"]. ACME also walks up the tree.
   * A disabled consultation counts as found: it stops the walk and nothing is asked.
   */
  private async applicableConsultations(target: StoredResource): Promise<StoredResource[]> {
    const { store } = this.services;
    let current: StoredResource | undefined = target;
    for (let depth = 0; current && depth < MAX_ANCESTORS; depth++) {
      const found = await this.consultationsLinkedBy(current);
      if (found.length > 0) return found;
      if (current.pi === '') break;
      current = await store.get(current.pi);
    }
    const fallback = this.services.config.dynamicAuthorization.defaultConsultation;
    if (fallback === '') return [];
    const dac = await this.localResource(fallback);
    return dac?.ty === RESOURCE_TYPE.dynamicAuthorizationConsultation ? [dac] : [];
  }

  private async consultationsLinkedBy(resource: StoredResource): Promise<StoredResource[]> {
    const ids = Array.isArray(resource.doc.daci) ? (resource.doc.daci as unknown[]).filter((id): id is string => typeof id === 'string') : [];
    const found: StoredResource[] = [];
    for (const id of ids.slice(0, 8)) {
      const dac = await this.localResource(id);
      if (dac?.ty === RESOURCE_TYPE.dynamicAuthorizationConsultation) found.push(dac);
    }
    return found;
  }

  /** A resource of this CSE by resource ID (bare, SP-relative or absolute) or by structured CSE-relative path. */
  private async localResource(id: string): Promise<StoredResource | undefined> {
    const { store, self } = this.services;
    const spRelative = `/${self.cseId}/`;
    const absolute = `//${self.spId}${spRelative}`;
    const local = id.startsWith(absolute) ? id.slice(absolute.length) : id.startsWith(spRelative) ? id.slice(spRelative.length) : id.startsWith('/') ? undefined : id;
    if (local === undefined || local === '') return undefined;
    return local.includes('/') ? store.getByPath(local) : store.get(local);
  }

  /** ppl: the consultation's dynamicAuthorizationLifetime if one is still ahead, else the configured default. */
  private proposedLifetime(consultations: readonly StoredResource[], now: number): number {
    for (const dac of consultations) {
      const dal = typeof dac.doc.dal === 'string' ? parseTimestamp(dac.doc.dal) : undefined;
      if (dal !== undefined && dal > now) return Math.min(dal, now + this.services.config.dynamicAuthorization.maxLifetime * 1000);
    }
    return now + this.services.config.dynamicAuthorization.defaultLifetime * 1000;
  }

  /**
   * A dap entry is a URL, or the ID of a registered AE (or its resource) reached through its poa, or this CSE's
   * CSEBase (its built-in DAS, security/das.ts), or an address on another CSE (its CSEBase, /id-mn/cse-mn: that
   * CSE's built-in DAS), reached through the CSE links.
   */
  private async urlsOf(point: string): Promise<string[]> {
    const { store, self, remote } = this.services;
    const ownCseBase = [`/${self.cseId}`, `/${self.cseId}/${self.cseRn}`, `//${self.spId}/${self.cseId}`, `//${self.spId}/${self.cseId}/${self.cseRn}`, self.cseRn];
    if (ownCseBase.includes(point)) return builtInDasFor(this.services).enabled ? [LOCAL_DAS] : [];
    if (remote?.otherCseOf(point)) return [OTHER_CSE];
    try {
      return (await urlsOfTarget(store, await targetKey(store, self, point))).slice(0, URLS_PER_DAS);
    } catch {
      return [];
    }
  }

  /**
   * Token Request Information for the indirect flow [TS-0003 §7.3.2.3 steps 2.2–2.3]: the DAS points of access of
   * the applicable enabled consultations, each with the dasRequest the originator may take to it. Undefined when
   * no consultation applies (the 4103 then carries none).
   */
  async tokenRequestInfo(q: ConsultationQuestion): Promise<Record<string, unknown> | undefined> {
    const now = this.services.clock.now();
    const enabled = (await this.applicableConsultations(q.resource)).filter((dac) => dac.doc.dae === true && (dac.et === undefined || dac.et > now));
    const points = [...new Set(enabled.flatMap((dac) => (Array.isArray(dac.doc.dap) ? (dac.doc.dap as unknown[]) : []).filter((p): p is string => typeof p === 'string')))].slice(0, MAX_DAS_POINTS_OF_ACCESS);
    this.services.log.info({ event: 'dynamic-authorization', originator: q.originator, target: q.resource.ri, op: q.operation, rqi: q.rqi, granted: false, indirect: points }, 'dynamic authorization');
    if (points.length === 0) return undefined;
    const dreq = this.dasRequest(q, this.proposedLifetime(enabled, now), await this.rolesFromPolicies(q.resource));
    return { dasi: await Promise.all(points.map(async (uri) => ({ uri, dreq: (await this.urlsOf(uri)).includes(OTHER_CSE) ? this.spRelativeOriginator(dreq) : dreq }))) };
  }

  /**
   * rolesFromACPs (rfa) [TS-0004 §7.5.1.2.10 g)]: the Role-IDs the access control policies of the target (of its
   * parent for a type without acpi) name in acor, so that a DAS may vouch for those the originator holds.
   */
  private async rolesFromPolicies(resource: StoredResource): Promise<string[]> {
    let governing: StoredResource | undefined = resource;
    if (!Array.isArray(resource.doc.acpi) && resource.ty !== RESOURCE_TYPE.CSEBase) governing = await this.services.store.get(resource.pi);
    const acpi = Array.isArray(governing?.doc.acpi) ? (governing.doc.acpi as unknown[]).filter((id): id is string => typeof id === 'string').slice(0, 16) : [];
    const roles = new Set<string>();
    for (const id of acpi) {
      const policy = await this.localResource(id);
      const acr = policy?.ty === RESOURCE_TYPE.accessControlPolicy && isRecord(policy.doc.pv) && Array.isArray(policy.doc.pv.acr) ? (policy.doc.pv.acr as unknown[]) : [];
      for (const rule of acr) {
        const acor = isRecord(rule) && Array.isArray(rule.acor) ? (rule.acor as unknown[]) : [];
        for (const entry of acor) if (typeof entry === 'string' && ROLE_ID.test(entry) && roles.size < 64) roles.add(entry);
      }
    }
    return [...roles];
  }

  /**
   * The dasRequest with a CSE-relative originator (an AE-ID of this CSE, Cxyz) written SP-relative (/id-in/Cxyz): a
   * request that crosses CSEs names its originator so that the other CSE does not read it as one of its own
   * [TS-0001 §7.2 (ID forms)].
   */
  private spRelativeOriginator(dreq: Record<string, unknown>): Record<string, unknown> {
    const or = dreq.or;
    return typeof or === 'string' && or.startsWith('C') ? { ...dreq, or: `/${this.services.self.cseId}/${or}` } : dreq;
  }

  /** m2m:dynAuthDasRequest [TS-0004 table 6.3.5.46-1] for this question. */
  private dasRequest(q: ConsultationQuestion, proposed: number, rfa: readonly string[] = []): Record<string, unknown> {
    const { self } = this.services;
    const address = parseAddress(q.ip);
    const plain = address && unmapped(address);
    const dreq: Record<string, unknown> = {
      or: q.originator,
      trt: q.resource.ty,
      op: q.operation,
      trid: `/${self.cseId}/${q.resource.ri}`,
      rts: formatTimestamp(q.time),
      ppl: formatTimestamp(proposed),
    };
    if (q.tokenIds && q.tokenIds.length > 0) dreq.tids = q.tokenIds;
    if (rfa.length > 0) dreq.rfa = rfa;
    if (q.roleIds && q.roleIds.length > 0) dreq.orid = q.roleIds;
    if (plain) dreq.oip = plain.family === 'ipv4' ? { ip4: formatAddress(plain) } : { ip6: formatAddress(plain) };
    return dreq;
  }

  private async ask(url: string, point: string, q: ConsultationQuestion, proposed: number, timeoutMs: number): Promise<OutboundResult> {
    const { self, outbound, remote } = this.services;
    const dreq = this.dasRequest(q, proposed, await this.rolesFromPolicies(q.resource));
    // Carried as a NOTIFY to the DAS [TS-0004 §7.5.1.2.10]; From is the hosting CSE.
    const primitive = { op: 5 as const, to: point, fr: `/${self.cseId}`, rqi: `das-${randomIdSuffix()}`, rvi: '3', pc: { 'm2m:seci': { sit: SECURITY_INFO_TYPE.DAS_REQUEST, dreq } } };
    if (url === LOCAL_DAS) {
      // This CSE's own built-in DAS: asked in process, by the same rules another CSE's request would meet.
      try {
        return { rsc: 2000, body: await builtInDasFor(this.services).answer(primitive.pc['m2m:seci'], { id: `/${self.cseId}`, authenticated: true, rqi: primitive.rqi }) };
      } catch (err) {
        return { rsc: typeof (err as { rsc?: unknown }).rsc === 'number' ? (err as { rsc: number }).rsc : 5000 };
      }
    }
    if (url === OTHER_CSE && remote) {
      // A DAS on another CSE is CSE-to-CSE traffic: over the CSE link, inside its security association (mutual TLS,
      // the peer certificate naming that CSE) and through the outbound destination policy (src/remote/link.ts).
      const crossing = { ...primitive, pc: { 'm2m:seci': { sit: SECURITY_INFO_TYPE.DAS_REQUEST, dreq: this.spRelativeOriginator(dreq) } } };
      const result = await remote.sendToOtherCse(point, crossing, timeoutMs);
      return { rsc: result.unreachable === undefined ? result.rsc : 5103, ...(result.pc === undefined ? {} : { body: result.pc }) };
    }
    return outbound.send(url, primitive, undefined, timeoutMs);
  }

  /** The grant a DAS answer carries, or why it grants nothing. */
  private async check(answer: OutboundResult, q: ConsultationQuestion): Promise<Grant | string> {
    if (answer.refused) return `is refused by the outbound destination policy (${answer.refused})`;
    if (answer.rsc === 5103) return 'could not be reached or did not answer in time';
    if (answer.rsc !== 2000) return `answered ${answer.rsc}`;
    const seci = isRecord(answer.body) ? answer.body['m2m:seci'] : undefined;
    if (!isRecord(seci)) return 'answered without m2m:securityInfo';
    // An answer of any other securityInfoType grants nothing [TS-0004 §7.5.1.2.10].
    if (seci.sit !== SECURITY_INFO_TYPE.DAS_RESPONSE) return `answered securityInfoType ${JSON.stringify(seci.sit)}, not 2 (DAS response)`;
    const dres = seci.dres;
    if (!isRecord(dres)) return 'answered without a dasResponse';
    const dai = dres.dai;
    if (dai === undefined) return dres.tkns === undefined ? 'granted no privileges (no dynamicACPInfo, no tokens)' : this.grantOfTokens(dres.tkns, q);
    if (!isRecord(dai) || !isRecord(dai.gp)) return 'answered a dynamicACPInfo without grantedPrivileges';
    try {
      if (compileRules(dai.gp, 'gp', this.services.self, 1).length === 0) return 'granted no privileges';
    } catch (err) {
      if (err instanceof PolicyFormatError) return `answered malformed grantedPrivileges (${err.message})`;
      throw err;
    }
    const now = this.services.clock.now();
    const max = now + this.services.config.dynamicAuthorization.maxLifetime * 1000;
    let until = now + this.services.config.dynamicAuthorization.defaultLifetime * 1000;
    if (dai.pl !== undefined) {
      const parsed = typeof dai.pl === 'string' || typeof dai.pl === 'number' ? parseAbsRelTimestamp(String(dai.pl), now) : undefined;
      if (parsed === undefined) return 'answered a malformed privilegesLifetime';
      until = parsed;
    }
    until = Math.min(until, max);
    if (until <= now) return 'granted privileges whose lifetime is already over';
    return { privileges: dai.gp, until };
  }

  /**
   * Tokens a DAS answers instead of dynamicACPInfo [TS-0003 §7.3.2.2]: each is verified like a token in a request
   * (a configured issuer, its algorithms, audience this CSE, holder the originator, valid now); the privileges of
   * their permissions that name the target are kept as a dynamic policy until the earliest expiry among them.
   * The tokens came from the DAS, not from the originator, so the originator need not be authenticated here.
   */
  private async grantOfTokens(tkns: unknown, q: ConsultationQuestion): Promise<Grant | string> {
    if (!Array.isArray(tkns) || tkns.length === 0 || tkns.length > 8 || tkns.some((t) => typeof t !== 'string')) return 'answered malformed tokens (a list of 1 to 8 JWS)';
    const verifier = tokenVerifierFor(this.services);
    const now = this.services.clock.now();
    const acr: unknown[] = [];
    const ids: string[] = [];
    let until = now + this.services.config.dynamicAuthorization.maxLifetime * 1000;
    for (const token of tkns as string[]) {
      let verified: VerifiedToken;
      try {
        verified = await verifier.verify(token, q.originator, now);
      } catch (err) {
        if (err instanceof TokenRejected) return `answered a token that was refused: ${err.message}`;
        throw err;
      }
      // Asked for tokens by ID, the DAS must answer those: another token answers another request.
      if (q.tokenIds && q.tokenIds.length > 0 && !q.tokenIds.includes(verified.id)) return `answered token ${verified.id}, which was not asked for`;
      for (const permission of verified.permissions) {
        if (permission.resources === undefined || !permissionCovers(permission, q.resource)) continue;
        acr.push(...permission.written.acr);
        until = Math.min(until, verified.notAfter);
        if (!ids.includes(verified.id)) ids.push(verified.id);
      }
    }
    if (acr.length === 0) return 'answered tokens that grant nothing on the target';
    if (acr.length > POLICY_LIMITS.rules) return `answered tokens with more than ${POLICY_LIMITS.rules} rules for the target`;
    if (until <= now) return 'answered tokens whose lifetime is already over';
    return { privileges: { acr }, until, tokens: ids };
  }

  /**
   * Creates the dynamic <accessControlPolicy> under the target [TS-0004 §7.5.1.2.10]: privileges as granted,
   * expirationTime the privileges' lifetime (the expiry sweep removes it, and it grants nothing once past), and
   * selfPrivileges for the hosting CSE only. Stored, so that every process on the same store sees it.
   */
  private async store(q: ConsultationQuestion, grant: Grant, das: string, registered: number | undefined): Promise<{ policy: string } | { refused: string }> {
    const { store, self, access } = this.services;
    const ri = `acp${randomIdSuffix()}`;
    const now = this.services.clock.now();
    const ts = formatTimestamp(now);
    return store.transaction(async (tx) => {
      // An AE registered here is granted as that registration (authorize.ts, DynamicPolicyBinding.seq): the one the
      // request came from, still there once the DAS has answered (a deregistration and a newcomer under the same AE-ID
      // meanwhile would otherwise inherit the grant).
      const seq = await registrationSeq(tx, q.originator);
      if (seq !== registered) return { refused: "the originator's registration changed during the consultation" };
      const binding: DynamicPolicyBinding = { or: q.originator, das, ...(grant.tokens && grant.tokens.length > 0 ? { tokens: grant.tokens } : {}), ...(seq !== undefined ? { seq } : {}) };
      const parent = await tx.getParentForInsert(q.resource);
      if (parent?.srn !== q.resource.srn) return { refused: 'the target was deleted during the consultation' };
      // The newest grant for an originator on a target replaces the earlier ones, so that repeated consultations
      // (another operation, after each denial) cannot pile policies up; a target holds a bounded number of them.
      const existing = (await tx.children(parent.ri, { ty: RESOURCE_TYPE.accessControlPolicy, limit: MAX_DYNAMIC_POLICIES + 1 })).filter((child) => isRecord(child.doc[DYNAMIC_POLICY_KEY]));
      for (const old of existing.filter((child) => (child.doc[DYNAMIC_POLICY_KEY] as Partial<DynamicPolicyBinding>).or === q.originator)) {
        await tx.deleteSubtree(old.ri);
        await access.invalidate(old, tx);
      }
      const others = existing.filter((child) => (child.doc[DYNAMIC_POLICY_KEY] as Partial<DynamicPolicyBinding>).or !== q.originator && (child.et ?? Infinity) > now);
      if (others.length >= MAX_DYNAMIC_POLICIES) return { refused: `the target already holds ${MAX_DYNAMIC_POLICIES} dynamic policies of other originators` };
      const policy: StoredResource = {
        ri,
        pi: parent.ri,
        ty: RESOURCE_TYPE.accessControlPolicy,
        rn: ri,
        srn: `${parent.srn}/${ri}`,
        ct: ts,
        lt: ts,
        et: grant.until,
        doc: {
          pv: grant.privileges,
          pvs: { acr: [{ acor: [`/${self.cseId}`], acop: HOSTING_CSE_OPERATIONS }] },
          [DYNAMIC_POLICY_KEY]: binding,
          [CREATOR_KEY]: `/${self.cseId}`,
        },
      };
      if (parent.owner !== undefined) policy.owner = parent.owner;
      const stored = await tx.insert(policy);
      await access.invalidate(stored, tx);
      return { policy: stored.ri };
    });
  }
}

/** One consultation service per set of CSE services (one CSE), made when first needed. */
const instances = new WeakMap<object, DynamicAuthorization>();

export function dynamicAuthorizationFor(services: DynamicAuthorizationServices): DynamicAuthorization {
  let instance = instances.get(services);
  if (!instance) {
    instance = new DynamicAuthorization(services);
    instances.set(services, instance);
  }
  return instance;
}
