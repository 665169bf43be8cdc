// THE access decision. Every privilege question of the CSE is answered here and nowhere else, and every
// answer carries its basis so that it can be logged and audited.
import type { Config } from '../config/config.js';
import type { LocalIdentity } from '../primitive/identifiers.js';
import type { ResourceStore, SlimView, StoredResource } from '../storage/store.js';
import type { ResourceRegistry } from '../resources/registry.js';
import { CREATOR_KEY, CREATOR_REGISTRATION_KEY } from '../resources/common.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { ANNOUNCEABLE, CSE_BASE_ANNC, cseIdOfAddress, isAnnouncedType } from '../resources/announceable.js';
import { representation } from '../resources/representation.js';
import { ACCESS_OPERATION, attributeGrantingRules, compileRules, compiledConditions, firstGrantingRule, type AccessFacts, type AccessOperation, type CompiledRule } from './acp.js';
import { parseAddress, unmapped } from './addresses.js';
import { absoluteSegments, groupCandidates, roleIssuedBy } from './originators.js';
import { timeFields } from './schedule.js';
import { parseTimestamp } from '../primitive/identifiers.js';
import { permissionCovers, RevocationList, type VerifiedToken } from './tokens.js';
import { entriesNaming } from '../notifications/selfReference.js';
import { registrationSeq } from './registrations.js';

export type Decision =
  | { granted: true; basis: 'admin' | 'announcer' | 'owner' | 'creator' | 'custodian' | 'registration' | 'discovery' | 'registree' | 'cse-notification' | 'notificationTarget' | 'das-request' | 'group-member-notification'; policy?: undefined; rule?: undefined; attributes?: undefined }
  | {
      granted: true;
      /** dynamic: a policy a dynamic authorization server granted to this originator on this target (TS-0003 §7.3). */
      basis: 'acp' | 'selfPrivileges' | 'dynamic' | 'token';
      policy: string;
      rule: number;
      /** Set when only rules with accessControlAttributes granted: the answer may show these attributes only. */
      attributes?: readonly string[];
    }
  | { granted: false; reason: string };

export interface AccessQuestion {
  readonly originator: string;
  readonly authenticated: boolean;
  readonly roleIds: readonly string[];
  readonly operation: AccessOperation;
  /** The resource the operation addresses (for CREATE: the parent). */
  readonly resource: StoredResource;
  readonly ip: string;
  readonly time: number;
  readonly childType?: number;
  /** True when the request changes accessControlPolicyIDs: decided by the linked policies' selfPrivileges. */
  readonly updatesAcpi?: boolean;
  /** Decide by these policies instead of the resource's acpi (a group's macp for fan-out). */
  readonly policyIds?: readonly string[];
  /**
   * The attributes the operation touches, for rules with accessControlAttributes: those a CREATE or UPDATE sends,
   * those a partial RETRIEVE asks for. Undefined: every attribute of the resource (a CREATE: none can be granted).
   * Null: not known before the operation runs (la, ol, a fan-out): such rules cannot grant.
   */
  readonly attributes?: readonly string[] | null;
  /** Tokens the request carried, already verified for this originator (tokens.ts): their permissions may grant. */
  readonly tokens?: readonly VerifiedToken[];
  /** A DELETE of the resource's (a subscription's) notificationTargetSelfReference: a target removing itself. */
  readonly selfReference?: boolean;
  /** Grants of the same request to reuse for siblings (see DecisionMemo). */
  readonly memo?: DecisionMemo;
}

/**
 * What a DISCOVERY decision reads of a resource's document (besides ri, pi, ty, srn and owner): its acpi, custodian
 * and creator, and the link of an announced resource; nothing at all for a type governed by its parent. A
 * discovery that tests nothing on its rows reads them only this far (SearchQuery.slim). Kept beside decide(),
 * which reads nothing else of the document for DISCOVERY; test/unit/decisionMemo.test.ts compares decisions on
 * such slim rows with decisions on whole resources.
 */
export const DISCOVERY_ATTRIBUTES: readonly string[] = ['acpi', 'cstn', CREATOR_KEY, CREATOR_REGISTRATION_KEY, 'lnk'];

/** Grants that follow from the originator and the governing parent alone, never from the resource itself. */
const SIBLING_BASES: ReadonlySet<string> = new Set(['admin', 'creator', 'custodian', 'acp']);

/** A question less the resource it is about: who asks what, when and from where. */
export type Asker = Omit<AccessQuestion, 'resource' | 'memo'>;

/**
 * Grants of one request about resources governed by their parent (contentInstances and the other instance
 * types): such a grant holds for every sibling of the same type, so a page of 100 instances of one container
 * needs one decision, not 100. Made for one asker (a request's originator and operation): questions that ask
 * differently neither use nor fill it. Refusals are not remembered (a dynamic policy may still grant one
 * resource), and nothing outlives the request: a memo is made for one request and dropped with it.
 */
export class DecisionMemo {
  private readonly grants = new Map<string, Decision>();
  /** The last grant found or set: the rows of a page mostly come in runs of siblings. */
  private last: { ty: number; pi: string; decision: Decision } | undefined;

  constructor(readonly asker: Asker) {}

  /** Whether `q` asks as the memo's asker (originator, time, address, operation …). */
  asksAlike(q: AccessQuestion): boolean {
    const a = this.asker;
    return (
      a.originator === q.originator &&
      a.authenticated === q.authenticated &&
      a.ip === q.ip &&
      a.time === q.time &&
      a.operation === q.operation &&
      sameList(a.roleIds, q.roleIds) &&
      a.selfReference === q.selfReference &&
      a.updatesAcpi === q.updatesAcpi &&
      a.childType === q.childType &&
      a.policyIds === q.policyIds &&
      a.tokens === q.tokens &&
      (a.attributes === q.attributes || (Array.isArray(a.attributes) && Array.isArray(q.attributes) && sameList(a.attributes, q.attributes)))
    );
  }

  get(ty: number, pi: string): Decision | undefined {
    const last = this.last;
    if (last !== undefined && last.ty === ty && last.pi === pi) return last.decision;
    const decision = this.grants.get(`${ty}/${pi}`);
    if (decision !== undefined) this.last = { ty, pi, decision };
    return decision;
  }

  set(ty: number, pi: string, decision: Decision): void {
    this.grants.set(`${ty}/${pi}`, decision);
    this.last = { ty, pi, decision };
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a === b || (a.length === b.length && a.every((v, i) => v === b[i]));
}

/** What access control reads of the resource whose acpi governs a request. */
interface Governor {
  readonly acpi: readonly string[];
  readonly custodian?: string;
  readonly creator?: string;
  /** The registration of the AE that created it, where it was made outside that AE's subtree (CREATOR_REGISTRATION_KEY). */
  readonly creatorSeq?: number;
}

function governorOf(resource: StoredResource): Governor {
  const g: { acpi: readonly string[]; custodian?: string; creator?: string; creatorSeq?: number } = {
    acpi: Array.isArray(resource.doc.acpi) ? (resource.doc.acpi as string[]) : [],
  };
  if (typeof resource.doc.cstn === 'string') g.custodian = resource.doc.cstn;
  if (typeof resource.doc[CREATOR_KEY] === 'string') g.creator = resource.doc[CREATOR_KEY];
  if (typeof resource.doc[CREATOR_REGISTRATION_KEY] === 'number') g.creatorSeq = resource.doc[CREATOR_REGISTRATION_KEY];
  return g;
}

interface CachedPolicy {
  /** expirationTime (epoch ms): an expired policy grants nothing, even before the sweep removes it. */
  readonly et: number | undefined;
  readonly privileges: readonly CompiledRule[];
  readonly selfPrivileges: readonly CompiledRule[];
  /** acor entries of either rule set that may name local groups. */
  readonly groupCandidates: readonly string[];
  /** Its time windows, address ranges and regions: what it weighs in the cache. */
  readonly conditions: number;
}

/**
 * Conditions of all cached policies together: the count of policies alone (CACHE_LIMIT) let the cache hold 10 000
 * policies of up to 256 windows each.
 */
const CACHED_CONDITIONS_LIMIT = 65_536;

/**
 * Everything a decision of linked policies reads besides time, groups and policies (whose changes end the cached
 * grants, see AccessDecider.grants): the policies, the originator and whether it is authenticated, the operation,
 * the peer address, and for a CREATE the target's and the child's types (acod).
 */
function grantKey(q: AccessQuestion, acpi: readonly string[]): string {
  return `${acpi.join(' ')}\n${q.originator}\n${q.authenticated ? 1 : 0}\n${q.operation}\n${q.ip}\n${q.resource.ty}\n${q.childType ?? ''}`;
}

/** The operations a rule with accessControlAttributes can grant. */
const ATTRIBUTE_OPERATIONS: ReadonlySet<AccessOperation> = new Set([ACCESS_OPERATION.CREATE, ACCESS_OPERATION.RETRIEVE, ACCESS_OPERATION.UPDATE, ACCESS_OPERATION.DELETE]);

/**
 * What an operation touches, computed only when a rule with accessControlAttributes is asked: what the request
 * names, else every attribute the resource shows (a RETRIEVE returns them, a DELETE removes them). A CREATE
 * addresses the parent, whose attributes are not the ones created: without a list nothing can be granted.
 */
function touchedAttributes(q: AccessQuestion): () => readonly string[] | undefined {
  return () => {
    if (q.attributes === null) return undefined;
    return q.attributes ?? (q.operation === ACCESS_OPERATION.CREATE ? undefined : Object.keys(representation(q.resource)));
  };
}

/**
 * Marks an <accessControlPolicy> the CSE created from a DAS answer [TS-0004 §7.5.1.2.10] under the target it grants
 * access to, and binds it to the originator it was granted for: it is consulted for that originator on that
 * target only, whatever its rules name, and never linked through acpi.
 */
export const DYNAMIC_POLICY_KEY = '__dynamic';

export interface DynamicPolicyBinding {
  /** The originator the DAS granted the privileges to. */
  readonly or: string;
  /** The point of access of the DAS that granted them (for the log). */
  readonly das: string;
  /** The tokens (IDs) the privileges came from, when the DAS answered tokens: a revoked one ends the grant. */
  readonly tokens?: readonly string[];
  /**
   * When the originator was an AE registered here: the seq of that registration (never reused). The grant was for
   * that AE: whoever registers the same AE-ID after it deregistered is not granted by it.
   */
  readonly seq?: number;
}

interface DynamicPolicy {
  readonly ri: string;
  readonly seq: number | undefined;
  readonly et: number;
  readonly originator: string;
  readonly das: string;
  readonly tokens: readonly string[];
  readonly privileges: readonly CompiledRule[];
}

/** Dynamic policies one target may hold: more are not read (the consultation stores one per grant). */
export const DYNAMIC_POLICIES_PER_TARGET = 64;
const NO_GROUPS: ReadonlySet<string> = new Set();

const CACHE_LIMIT = 10_000;
/** <role> and <token> resources read per look-up (children of the CSEBase). */
const MAX_ROLES_READ = 1000;
const INVALIDATION_TOPIC = 'access-cache';
const MAX_GROUP_DEPTH = 8;


/** <accessControlPolicyAnnc>: a policy another CSE announced here, for its announced resources. */
const ANNOUNCED_POLICY = ANNOUNCEABLE[RESOURCE_TYPE.accessControlPolicy]?.annc;

export class AccessDecider {
  /** Revoked token IDs (tokens.ts): privileges that came from a revoked token grant nothing. Errors are logged by the token verifier. */
  private readonly revocations: RevocationList;
  /**
   * Compiled policies by ri, and group memberships by group ri, so that a decision does not read and
   * parse policies on every request. Every write path of a policy or group (create, update, delete,
   * expiry) calls invalidate(); both caches are bounded.
   */
  private readonly policies = new Map<string, CachedPolicy>();
  /** Group ri → originators (absolute form, joined by '/') that are members, transitively; null: no group. */
  private readonly groups = new Map<string, ReadonlySet<string> | null>();
  /** Parent ri → its access-relevant attributes, for resources without acpi (a container's instances). */
  private readonly governors = new Map<string, Governor>();
  /** Target ri → the dynamic policies stored under it (empty: none), so that a denial costs no read each time. */
  private readonly dynamic = new Map<string, readonly DynamicPolicy[]>();
  /**
   * Grants of linked policies, by everything such a decision reads (see grantKey), each for the second it was
   * decided in: schedules have a resolution of one second, so within it the same question gets the same answer,
   * and a read through a policy with context rules no longer evaluates them on every request (issue #18). A grant
   * holds only while the generation it was decided in lasts: any write of a policy, group or governing parent
   * (here, or in another process through the broadcast) ends every grant at once. Not kept: denials, grants limited
   * to some attributes, and decisions that read a location, tokens or Role-IDs.
   */
  private readonly grants = new Map<string, { decision: Decision; from: number; until: number; generation: number }>();
  /**
   * rq_loc [TS-0003 table 7.1.2-2]: the trusted location of an originator (absolute segments) at a time, or
   * undefined when none is known. Set by main.ts to the network-based source (location/networkLocation.ts); unset,
   * every location rule is indeterminate and does not admit.
   */
  locate: ((originator: readonly string[], now: number) => Promise<AccessFacts['location']>) | undefined;

  constructor(
    private readonly config: Config,
    private readonly self: LocalIdentity,
    private readonly store: ResourceStore,
    private readonly registry: ResourceRegistry,
  ) {
    this.revocations = new RevocationList(config.dynamicAuthorization.revokedTokens, () => undefined);
    store.subscribe(INVALIDATION_TOPIC, (payload) => {
      const at = payload.indexOf(':');
      this.forget(Number(payload.slice(0, at)), payload.slice(at + 1));
    });
    store.onBroadcastsMissed?.(() => this.forgetAll());
  }

  /** Invalidations may have been missed (another process's writes): nothing cached is trusted any more. */
  private forgetAll(): void {
    this.generation++;
    this.clearPolicies();
    this.groups.clear();
    this.governors.clear();
    this.dynamic.clear();
    this.grants.clear();
  }

  /**
   * Drops cached knowledge derived from a resource that was written or deleted, here at once and in every
   * other process on the same store through a broadcast (delivered on commit when `via` is a transaction).
   */
  async invalidate(resource: Pick<StoredResource, 'ri' | 'ty'>, via: ResourceStore = this.store): Promise<void> {
    if (!this.isCached(resource.ty)) return;
    this.forget(resource.ty, resource.ri);
    await via.broadcast(INVALIDATION_TOPIC, `${resource.ty}:${resource.ri}`);
  }

  /** Policies, groups, and parents that govern children without acpi are what the caches hold. */
  private isCached(ty: number): boolean {
    if (ty === RESOURCE_TYPE.accessControlPolicy || ty === ANNOUNCED_POLICY || ty === RESOURCE_TYPE.group) return true;
    return (this.registry.get(ty)?.childTypes ?? []).some((child) => this.registry.get(child)?.hasAcpi === false && child !== RESOURCE_TYPE.accessControlPolicy);
  }

  /**
   * Bumped by every invalidation. A read that started before an invalidation must not fill the cache
   * afterwards with what it read, or the stale entry would outlive the change.
   */
  private generation = 0;

  private forget(ty: number, ri: string): void {
    this.generation++;
    if (ty === RESOURCE_TYPE.accessControlPolicy || ty === ANNOUNCED_POLICY) {
      this.cachedConditions -= this.policies.get(ri)?.conditions ?? 0;
      this.policies.delete(ri);
      // A policy write does not say which target it is under; policy writes are rare, grants rarer still.
      this.dynamic.clear();
    }
    // Membership is transitive and the cache also remembers "not a group", so any group write clears it.
    else if (ty === RESOURCE_TYPE.group) this.groups.clear();
    this.governors.delete(ri);
  }

  isAdmin(originator: string): boolean {
    return originator === this.config.security.admin;
  }

  /** The SlimView of a discovery's rows: what a DISCOVERY decision reads of them (see DISCOVERY_ATTRIBUTES). */
  discoveryView(): SlimView {
    this.slimView ??= { attributes: DISCOVERY_ATTRIBUTES, bare: this.registry.supportedTypes().filter((ty) => this.registry.get(ty)?.hasAcpi === false) };
    return this.slimView;
  }

  private slimView: SlimView | undefined;

  /**
   * Whether a grant to this asker about this resource holds for its siblings of the same type (DecisionMemo):
   * not where the decision may depend on the resource itself (a type with acpi of its own, a policy, a polling
   * channel's owner, an announced resource's link, tokens naming resources) or on more than the parent's
   * policies (acpi changes, creation, group policies, self-references).
   */
  private sharedWithSiblings(asker: Asker, resource: StoredResource): boolean {
    if (asker.selfReference || asker.updatesAcpi || asker.policyIds || asker.childType !== undefined || (asker.tokens?.length ?? 0) > 0) return false;
    return this.registry.get(resource.ty)?.hasAcpi === false && resource.ty !== RESOURCE_TYPE.pollingChannel && resource.ty !== RESOURCE_TYPE.accessControlPolicy && !isAnnouncedType(resource.ty);
  }

  /** A grant the memo holds for this resource, for the memo's asker; undefined: decide() must be asked. */
  remembered(memo: DecisionMemo, resource: StoredResource): Decision | undefined {
    return this.sharedWithSiblings(memo.asker, resource) ? memo.get(resource.ty, resource.pi) : undefined;
  }

  async decide(q: AccessQuestion): Promise<Decision> {
    const memo = q.memo !== undefined && q.memo.asksAlike(q) && this.sharedWithSiblings(q, q.resource) ? q.memo : undefined;
    const known = memo?.get(q.resource.ty, q.resource.pi);
    if (known) return known;
    const decision = await this.decideFor(q);
    // A grant limited to some attributes depends on what the resource shows: not shared.
    if (memo && decision.granted && SIBLING_BASES.has(decision.basis) && decision.attributes === undefined) memo.set(q.resource.ty, q.resource.pi, decision);
    return decision;
  }

  private async decideFor(q: AccessQuestion): Promise<Decision> {
    // Removing oneself from a subscription's targets is the target's own business [TS-0001 §9.6.34], whatever the
    // subscription's policies grant, and no one else's (the admin's neither): it only ever removes the requester.
    if (q.selfReference) {
      if (q.resource.ty !== RESOURCE_TYPE.subscription && q.resource.ty !== RESOURCE_TYPE.crossResourceSubscription) {
        return { granted: false, reason: 'only a subscription has a notificationTargetSelfReference' };
      }
      const named = await entriesNaming(this.store, this.self, q.resource, q.originator);
      return named.length > 0 ? { granted: true, basis: 'notificationTarget' } : { granted: false, reason: 'the originator is not a Notification Target of the subscription' };
    }
    const announced = this.announcedResourceAccess(q);
    if (announced) return announced;
    if (this.isAdmin(q.originator)) return { granted: true, basis: 'admin' };
    // The facts a policy is evaluated on, built when a policy is evaluated: most requests are decided by the
    // owner or default policy, which reads none of them (parsing the address and the time fields was about 3 µs
    // of every such request, issue #18). Built once per decision at most.
    let built: Omit<AccessFacts, 'groups'> | undefined;
    const base = (): Omit<AccessFacts, 'groups'> => {
      if (built) return built;
      const originator = absoluteSegments(q.originator, this.self);
      const peer = parseAddress(q.ip);
      built = {
        originator,
        roleIds: q.tokens ? [...q.roleIds, ...this.tokenRoles(q, originator)] : q.roleIds,
        operation: q.operation,
        authenticated: q.authenticated,
        time: timeFields(q.time),
        address: peer && unmapped(peer),
        targetType: q.resource.ty,
        ...(q.childType === undefined ? {} : { childType: q.childType }),
      };
      return built;
    };
    // A policy resource is governed by its own selfPrivileges [TS-0001 §9.6.2].
    if (q.resource.ty === RESOURCE_TYPE.accessControlPolicy && q.operation !== ACCESS_OPERATION.CREATE) {
      return this.decideByPolicies([q.resource.ri], base(), 'selfPrivileges', 'the policy', touchedAttributes(q));
    }
    // A polling channel belongs to its AE alone [TS-0004 §7.4.21.2]: no policy can open it to others.
    if (q.resource.ty === RESOURCE_TYPE.pollingChannel) {
      const isOwner = q.resource.owner !== undefined && q.resource.owner === q.originator;
      return isOwner ? { granted: true, basis: 'owner' } : { granted: false, reason: 'only its AE may use a polling channel' };
    }
    // A DAS request to the built-in dynamic authorization server (security/das.ts) is answered by its own rules
    // (which consulters, which originators): access control of the CSEBase does not decide who may ask.
    if (q.resource.ty === RESOURCE_TYPE.CSEBase && q.operation === ACCESS_OPERATION.NOTIFY && this.config.dynamicAuthorization.dasRules !== '') {
      return { granted: true, basis: 'das-request' };
    }
    // Another CSE delivers the notifications of the subscriptions it hosts to AEs registered here [TS-0001
    // §10.2.10, TS-0004 §7.3.3.9.1]: a CSE-ID originator (admitted by authenticate only inside a security
    // association, directly or relayed through the tree) may NOTIFY an <AE>, which this CSE re-targets to it.
    if (q.resource.ty === RESOURCE_TYPE.AE && q.operation === ACCESS_OPERATION.NOTIFY && /^\/[^/]+$/.test(q.originator) && q.originator !== `/${this.self.cseId}`) {
      return { granted: true, basis: 'cse-notification' };
    }
    // The same for a CSE of another SP, in absolute form: authenticate admits one only from that SP's IN-CSE over
    // Mcc' (peers.list), which makes the notifications of its SP's subscriptions absolute [TS-0004 §7.3.2.6].
    const absoluteCse = /^\/\/([^/]+)\/[^/]+$/.exec(q.originator);
    if (q.resource.ty === RESOURCE_TYPE.AE && q.operation === ACCESS_OPERATION.NOTIFY && absoluteCse && (absoluteCse[1] as string).toLowerCase() !== this.self.spId.toLowerCase()) {
      return { granted: true, basis: 'cse-notification' };
    }
    // A CSE hosting a member of a group sends the group its member's notifications of a group subscription, for the
    // group to aggregate [TS-0001 §10.2.7.11]: a CSE-ID originator named by a member ID (SP-relative or absolute) may
    // NOTIFY the group; what it may ask for is checked there (operations/notify.ts: an nfu of this group's).
    if (q.resource.ty === RESOURCE_TYPE.group && q.operation === ACCESS_OPERATION.NOTIFY && /^\/[^/]+$/.test(q.originator) && q.originator !== `/${this.self.cseId}`) {
      const mid = Array.isArray(q.resource.doc.mid) ? (q.resource.doc.mid as unknown[]) : [];
      if (mid.some((m) => cseIdOfAddress(m, this.self.spId) === q.originator)) return { granted: true, basis: 'group-member-notification' };
    }
    // Being the AE at the root of a subtree grants nothing by itself: where acpi is set, the linked policies
    // decide for every originator, the creator and the AE included; the default policy (creator or custodian)
    // holds only while acpi is not set [TS-0001 §9.6.1.3]. ACME decides the same way (no owner rule).
    if (q.policyIds && q.policyIds.length > 0) {
      return this.decideByPolicies(q.policyIds, base(), 'privileges', 'the membersAccessControlPolicyIDs', touchedAttributes(q));
    }
    const governing = await this.governorFor(q.resource);
    const acpi = governing.acpi;
    // A registered AE may read the CSEBase (its capabilities, srt, poa), as the open CSEs allow; the
    // authenticate stage has already refused AE-IDs that are not registered [TS-0004 §7.3.2.1].
    // So may an authenticated CSE (a registree or a registrar reading the CSEBase it registers with).
    const registeredCse = q.authenticated && /^\/[^/]+$/.test(q.originator);
    if (q.resource.ty === RESOURCE_TYPE.CSEBase && q.operation === ACCESS_OPERATION.RETRIEVE && acpi.length === 0 && (/^[CS]/.test(q.originator) || registeredCse)) {
      return { granted: true, basis: 'registree' };
    }
    // A subscription originator may define its own "Default" <notificationTargetPolicy>, a child of the CSEBase
    // [TS-0001 §9.6.32: "a single notificationTargetPolicy which can be defined by the subscription originator with
    // the label 'default'"]: a registered AE may create one there (nothing else), bounded per creator.
    if (
      q.resource.ty === RESOURCE_TYPE.CSEBase &&
      q.operation === ACCESS_OPERATION.CREATE &&
      q.childType === RESOURCE_TYPE.notificationTargetPolicy &&
      acpi.length === 0 &&
      /^[CS]/.test(q.originator)
    ) {
      return { granted: true, basis: 'registree' };
    }
    // Changing acpi needs UPDATE in the selfPrivileges of the currently linked policies [TS-0001 table 9.6.1.3.2-1].
    if (q.updatesAcpi && acpi.length > 0) return this.decideByPolicies(acpi, base(), 'selfPrivileges', 'the linked policies', touchedAttributes(q));
    let decision: Decision;
    if (acpi.length > 0) decision = await this.decideByLinkedPolicies(q, acpi, base);
    else {
      const byDefault = this.defaultPolicy(governing, q.originator);
      // Synchronous but where the creator's registration must be compared (rare: made outside its own subtree).
      decision = byDefault instanceof Promise ? await byDefault : byDefault;
    }
    // Privileges a DAS granted add to the static ones, never to acpi changes (selfPrivileges, above).
    if (decision.granted || q.updatesAcpi) return decision;
    const facts = { ...base(), groups: NO_GROUPS };
    return (await this.dynamicGrant(q, facts)) ?? this.tokenGrant(q, facts) ?? decision;
  }

  /**
   * The Role-IDs among `roleIds` (a request's rids) that the originator verifiably holds [TS-0003 §7.4.3]: a <role>
   * of this CSE (a child of the CSEBase) assigns it to the originator (holder, compared in absolute form) and is
   * valid at `time` (notBefore ≤ time < notAfter, not expired). A Role-ID merely named grants nothing.
   */
  async rolesHeld(originator: string, roleIds: readonly string[], time: number): Promise<{ held: string[]; roles: string[] }> {
    const wanted = new Set(roleIds);
    const who = absoluteSegments(originator, this.self).join('/');
    const held: string[] = [];
    const roles: string[] = [];
    const assigned = await this.store.children(this.self.cseId, { ty: RESOURCE_TYPE.role, aliveAt: time, limit: MAX_ROLES_READ });
    for (const role of assigned) {
      const id = role.doc.rlid;
      if (typeof id !== 'string' || !wanted.has(id) || held.includes(id)) continue;
      if (typeof role.doc.tkhd !== 'string' || absoluteSegments(role.doc.tkhd, this.self).join('/') !== who) continue;
      // Issued by a valid authority [TS-0003 §7.4.3 step 4]: its issuer's own Role-ID (also checked on creation;
      // a <role> stored before that check was made counts only if it passes).
      if (typeof role.doc.tkis !== 'string' || !roleIssuedBy(id, role.doc.tkis, this.self)) continue;
      const from = typeof role.doc.tknb === 'string' ? parseTimestamp(role.doc.tknb) : undefined;
      const until = typeof role.doc.tkna === 'string' ? parseTimestamp(role.doc.tkna) : undefined;
      if (from === undefined || until === undefined || time < from || time >= until) continue;
      held.push(id);
      roles.push(role.ri);
    }
    return { held, roles };
  }

  /** The tokenObjects of this CSE's <token> resources with these token IDs, alive at `time` (TS-0003 §7.3.2.3 step 6, the CSE as PIP). */
  async storedTokens(tokenIds: readonly string[], time: number): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const stored = await this.store.children(this.self.cseId, { ty: RESOURCE_TYPE.token, aliveAt: time, limit: MAX_ROLES_READ });
    for (const token of stored) {
      if (typeof token.doc.tkid === 'string' && tokenIds.includes(token.doc.tkid) && typeof token.doc.tkob === 'string') found.set(token.doc.tkid, token.doc.tkob);
    }
    return found;
  }

  /**
   * Role-IDs the request's verified tokens vouch for on this target [TS-0003 §7.3.2.5 step 3]. Besides these, only
   * Role-IDs a <role> of this CSE assigns to the originator count (rolesHeld); a Role-ID merely named is never trusted.
   */
  private tokenRoles(q: AccessQuestion, originator: readonly string[]): string[] {
    const roles: string[] = [];
    for (const token of q.tokens ?? []) {
      if (token.notAfter <= q.time || absoluteSegments(token.holder, this.self).join('/') !== originator.join('/')) continue;
      for (const permission of token.permissions) if (permissionCovers(permission, q.resource)) roles.push(...permission.roleIds);
    }
    return roles;
  }

  /**
   * A permission of a token the request carries that names the target and whose privileges grant the operation
   * [TS-0003 §7.3.2.5]. A token never grants more than its permissions, and nothing once expired.
   */
  private tokenGrant(q: AccessQuestion, facts: AccessFacts): Decision | undefined {
    for (const token of q.tokens ?? []) {
      // Checked when the token was verified for this request (tokens.ts), and again here: a token is its holder's.
      if (token.notAfter <= q.time || absoluteSegments(token.holder, this.self).join('/') !== facts.originator.join('/')) continue;
      for (const permission of token.permissions) {
        if (!permissionCovers(permission, q.resource)) continue;
        const rule = firstGrantingRule(permission.privileges, facts);
        if (rule >= 0) return { granted: true, basis: 'token', policy: token.id, rule };
      }
    }
    return undefined;
  }

  /** A still valid dynamic policy bound to this originator and target that grants the operation, if any. */
  private async dynamicGrant(q: AccessQuestion, facts: AccessFacts): Promise<Decision | undefined> {
    const policies = this.dynamic.get(q.resource.ri) ?? (await this.loadDynamic(q.resource.ri));
    for (const policy of policies) {
      if (policy.originator !== q.originator || policy.et <= q.time) continue;
      // Privileges that came from tokens end when one of them is revoked (tokens.ts RevocationList).
      if (policy.tokens.length > 0 && policy.tokens.some((id) => this.revocations.check(id) !== undefined)) continue;
      const rule = firstGrantingRule(policy.privileges, facts);
      if (rule < 0 || !(await this.grantedRegistration(policy, q.originator))) continue;
      return { granted: true, basis: 'dynamic', policy: policy.ri, rule };
    }
    return undefined;
  }

  /**
   * Whether the originator is still the registration the DAS granted: an AE registered here must have the seq the
   * policy names (a policy without one, stored before seq was recorded, grants an AE nothing: the DAS is asked
   * again). Any other originator has no registration here to compare.
   */
  private async grantedRegistration(policy: DynamicPolicy, originator: string): Promise<boolean> {
    if (originator.includes('/')) return true;
    const seq = await registrationSeq(this.store, originator);
    if (seq === undefined) return policy.seq === undefined;
    return policy.seq === seq;
  }

  private async loadDynamic(target: string): Promise<readonly DynamicPolicy[]> {
    const generation = this.generation;
    const children = await this.store.children(target, { ty: RESOURCE_TYPE.accessControlPolicy, limit: DYNAMIC_POLICIES_PER_TARGET });
    const found: DynamicPolicy[] = [];
    for (const child of children) {
      const binding = child.doc[DYNAMIC_POLICY_KEY] as Partial<DynamicPolicyBinding> | undefined;
      if (typeof binding?.or !== 'string' || child.et === undefined) continue;
      try {
        const tokens = Array.isArray(binding.tokens) ? binding.tokens.filter((t): t is string => typeof t === 'string') : [];
        found.push({ ri: child.ri, seq: typeof binding.seq === 'number' ? binding.seq : undefined, et: child.et, originator: binding.or, das: String(binding.das), tokens, privileges: compileRules(child.doc.pv, 'pv', this.self, 0) });
      } catch {
        // Validated when the DAS answer was accepted; anything unreadable grants nothing.
      }
    }
    if (generation === this.generation) {
      if (this.dynamic.size >= CACHE_LIMIT) this.dynamic.clear();
      this.dynamic.set(target, found);
    }
    return found;
  }

  /**
   * Announced resources are written only by the CSE hosting their originals [TS-0001 §10.2.13.5, 10.2.13.6,
   * 10.2.13.11: "if From is identical with the CSE-ID included in the link attribute"], as a CSE-ID originator:
   * no policy and no admin creates one (that CSE grants it, not this one); that CSE may also read, update and delete
   * them whatever their policies say. Undefined: the ordinary rules decide (other originators reading them).
   */
  private announcedResourceAccess(q: AccessQuestion): Decision | undefined {
    const from = q.originator;
    // A CSE-ID originator here was admitted by authenticate: named by the credential of its security association,
    // or relayed by a registree it descends from or by the registrar [TS-0004 §7.3.2.1].
    const isOtherCse = /^\/[^/]+$/.test(from) && from !== `/${this.self.cseId}`;
    if (q.operation === ACCESS_OPERATION.CREATE && q.childType !== undefined && isAnnouncedType(q.childType)) {
      if (!isOtherCse) return { granted: false, reason: 'an announced resource is created only by the CSE hosting the original' };
      // Directly under the CSEBase only its <CSEBaseAnnc>: what it announces goes below that (announced.ts names it).
      if (q.resource.ty === RESOURCE_TYPE.CSEBase) {
        if (q.childType === CSE_BASE_ANNC) return { granted: true, basis: 'announcer' };
        return { granted: false, reason: `announced resources of ${from} go below its <CSEBaseAnnc>, not directly under the CSEBase` };
      }
      if (isAnnouncedType(q.resource.ty) && cseIdOfAddress(q.resource.doc.lnk, this.self.spId) === from) return { granted: true, basis: 'announcer' };
      return { granted: false, reason: `the parent was not announced by ${from}` };
    }
    if (isAnnouncedType(q.resource.ty) && isOtherCse && cseIdOfAddress(q.resource.doc.lnk, this.self.spId) === from) return { granted: true, basis: 'announcer' };
    return undefined;
  }

  /**
   * Default access policy of a resource without acpi: unrestricted access for the creator only
   * [TS-0001 table 9.6.1.3.2-1]; a custodian, where set, takes the creator's place (as ACME does; R4).
   */
  private defaultPolicy(governor: Governor, originator: string): Decision | Promise<Decision> {
    if (governor.custodian !== undefined) {
      if (governor.custodian === originator) return { granted: true, basis: 'custodian' };
      return { granted: false, reason: 'the resource has no accessControlPolicy and the originator is not its custodian' };
    }
    if (originator !== '' && governor.creator === originator) {
      const seq = governor.creatorSeq;
      if (seq === undefined) return { granted: true, basis: 'creator' };
      // The AE that made it outside its subtree may have left, and another registered the same AE-ID since.
      return registrationSeq(this.store, originator).then((now): Decision =>
        now === seq ? { granted: true, basis: 'creator' } : { granted: false, reason: 'the resource was created by an earlier registration of this AE-ID' },
      );
    }
    return { granted: false, reason: 'the resource has no accessControlPolicy and the originator did not create it' };
  }

  /** The linked policies' decision on a request, reused within its second where nothing else can change it (grants). */
  private async decideByLinkedPolicies(q: AccessQuestion, acpi: readonly string[], base: () => Omit<AccessFacts, 'groups'>): Promise<Decision> {
    const key = q.roleIds.length === 0 && (q.tokens?.length ?? 0) === 0 ? grantKey(q, acpi) : undefined;
    if (key !== undefined) {
      const kept = this.grants.get(key);
      if (kept && kept.generation === this.generation && q.time >= kept.from && q.time < kept.until) return kept.decision;
    }
    const generation = this.generation;
    const reuse: { until?: number } = {};
    const decision = await this.decideByPolicies(acpi, base(), 'privileges', 'the linked accessControlPolicies', touchedAttributes(q), key === undefined ? undefined : reuse);
    if (key !== undefined && reuse.until !== undefined && generation === this.generation) {
      if (this.grants.size >= CACHE_LIMIT) this.grants.clear();
      this.grants.set(key, { decision, from: Math.floor(q.time / 1000) * 1000, until: reuse.until, generation });
    }
    return decision;
  }

  private async decideByPolicies(
    policyIds: readonly string[],
    base: Omit<AccessFacts, 'groups'>,
    set: 'privileges' | 'selfPrivileges',
    what: string,
    touched: () => readonly string[] | undefined,
    reuse?: { until?: number },
  ): Promise<Decision> {
    const loaded: Array<[string, CachedPolicy]> = [];
    for (const id of policyIds) {
      // The cached case stays synchronous: an await per policy would cost a microtask hop on the hot path.
      const policy = this.policies.get(this.localId(id)) ?? (await this.loadPolicy(id));
      // A missing or expired policy contributes no permit (fail closed).
      if (policy && (policy.et === undefined || policy.et > base.time.epochMs)) loaded.push([id, policy]);
    }
    // rq_loc only where a rule tests it: the network-reported location of the originator's AE (location/networkLocation.ts).
    const readsLocation = loaded.some(([, policy]) => policy[set].some((rule) => rule.contexts?.some((c) => c.region !== undefined)));
    const location = readsLocation && this.locate !== undefined ? await this.locate(base.originator, base.time.epochMs) : undefined;
    const facts: AccessFacts = { ...base, ...(location ? { location } : {}), groups: await this.groupsContaining(base.originator, loaded) };
    const basis = set === 'privileges' ? 'acp' : 'selfPrivileges';
    for (const [id, policy] of loaded) {
      const rule = firstGrantingRule(policy[set], facts);
      if (rule >= 0) {
        // The same answer until the next second (a schedule's resolution) or the first of these policies expires;
        // not where a rule reads a location, which can change at any time.
        if (reuse && !readsLocation) {
          reuse.until = loaded.reduce((until, [, p]) => (p.et === undefined ? until : Math.min(until, p.et)), Math.floor(base.time.epochMs / 1000) * 1000 + 1000);
        }
        return { granted: true, basis, policy: id, rule };
      }
    }
    // No rule grants every attribute: rules limited to some attributes (aca) together may still cover what the
    // operation touches. As ACME does, they count for CREATE, RETRIEVE, UPDATE and DELETE only.
    if (!ATTRIBUTE_OPERATIONS.has(base.operation)) return { granted: false, reason: `no ${set} rule of ${what} grants this operation` };
    const granted = new Set<string>();
    let first: { policy: string; rule: number } | undefined;
    for (const [id, policy] of loaded) {
      for (const index of attributeGrantingRules(policy[set], facts)) {
        first ??= { policy: id, rule: index };
        for (const name of policy[set][index]?.attributes ?? []) granted.add(name);
      }
    }
    if (!first) return { granted: false, reason: `no ${set} rule of ${what} grants this operation` };
    const needed = touched();
    const missing = needed === undefined ? '(unknown)' : needed.find((name) => !granted.has(name));
    if (missing !== undefined) return { granted: false, reason: `the ${set} rules of ${what} that grant this operation do not cover attribute ${missing}` };
    return { granted: true, basis, ...first, attributes: [...granted] };
  }

  /** The candidate groups of these policies that have the originator as a (transitive) member. */
  private async groupsContaining(originator: readonly string[], policies: ReadonlyArray<[string, CachedPolicy]>): Promise<ReadonlySet<string>> {
    const key = originator.join('/');
    const found = new Set<string>();
    for (const [, policy] of policies) {
      for (const groupId of policy.groupCandidates) {
        if (found.has(groupId)) continue;
        const members = this.groups.get(groupId) ?? (await this.membersOf(groupId));
        if (members?.has(key)) found.add(groupId);
      }
    }
    return found;
  }

  private async membersOf(groupId: string): Promise<ReadonlySet<string> | null> {
    const cached = this.groups.get(groupId);
    if (cached !== undefined) return cached;
    const generation = this.generation;
    const members = await this.expandGroup(groupId, new Set(), 0);
    if (generation === this.generation) {
      if (this.groups.size >= CACHE_LIMIT) this.groups.clear();
      this.groups.set(groupId, members);
    }
    return members;
  }

  /** Member originators of a group, nested groups expanded (cycles and depth bounded). */
  private async expandGroup(groupId: string, seen: Set<string>, depth: number): Promise<Set<string> | null> {
    const group = await this.store.get(groupId);
    if (!group || group.ty !== RESOURCE_TYPE.group) return null;
    const out = new Set<string>();
    if (seen.has(groupId) || depth > MAX_GROUP_DEPTH) return out;
    seen.add(groupId);
    const members = Array.isArray(group.doc.mid) ? (group.doc.mid as string[]) : [];
    for (const member of members) {
      const local = member.startsWith(`/${this.self.cseId}/`) ? member.slice(this.self.cseId.length + 2) : member;
      const nested = local.includes('/') ? null : await this.expandGroup(local, seen, depth + 1);
      if (nested) for (const m of nested) out.add(m);
      else out.add(absoluteSegments(member, this.self).join('/'));
    }
    return out;
  }

  /**
   * Types without acpi (contentInstance) are governed by their parent [TS-0001 §9.6.7]. The parent's part
   * is cached (instances are read far more often than their container changes) and dropped by invalidate().
   */
  private async governorFor(resource: StoredResource): Promise<Governor> {
    if (this.registry.get(resource.ty)?.hasAcpi !== false) return governorOf(resource);
    const cached = this.governors.get(resource.pi);
    if (cached) return cached;
    const generation = this.generation;
    let current = resource;
    for (let depth = 0; depth < 64 && this.registry.get(current.ty)?.hasAcpi === false; depth++) {
      const parent = await this.store.get(current.pi);
      if (!parent) break;
      current = parent;
    }
    const governor = governorOf(current);
    if (generation === this.generation) {
      if (this.governors.size >= CACHE_LIMIT) this.governors.clear();
      this.governors.set(resource.pi, governor);
    }
    return governor;
  }

  /** A policy ID in SP-relative form under this CSE is the same as the bare resource ID. */
  private localId(ri: string): string {
    return ri.startsWith(`/${this.self.cseId}/`) ? ri.slice(this.self.cseId.length + 2) : ri;
  }

  private cachedConditions = 0;

  private clearPolicies(): void {
    this.policies.clear();
    this.cachedConditions = 0;
  }

  private async loadPolicy(ri: string): Promise<CachedPolicy | undefined> {
    const id = this.localId(ri);
    const cached = this.policies.get(id);
    if (cached) return cached;
    const generation = this.generation;
    const stored = await this.store.get(id);
    // An announced policy governs the announced resources whose acpi names it (operations/policyLinks.ts lets only
    // those of the same announcing CSE name it); its rules were made SP-relative by that CSE (remote/announcement.ts).
    if (!stored || (stored.ty !== RESOURCE_TYPE.accessControlPolicy && stored.ty !== ANNOUNCED_POLICY)) return undefined;
    const compiled = this.compile(stored);
    if (!compiled) return undefined;
    if (generation === this.generation) {
      // Two requests that missed the cache together both compiled the policy: the second replaces the first.
      this.cachedConditions -= this.policies.get(id)?.conditions ?? 0;
      if (this.policies.size >= CACHE_LIMIT || this.cachedConditions + compiled.conditions > CACHED_CONDITIONS_LIMIT) this.clearPolicies();
      this.policies.set(id, compiled);
      this.cachedConditions += compiled.conditions;
    }
    return compiled;
  }

  private compile(stored: StoredResource): CachedPolicy | undefined {
    try {
      // Only a local policy may predate the bound on conditions: an announced one comes from another CSE, unchecked
      // here when written, and dynamic ones (above) are made from a DAS's answer or tokens now.
      const local = stored.ty === RESOURCE_TYPE.accessControlPolicy;
      const privileges = compileRules(stored.doc.pv, 'pv', this.self, 0, local);
      const selfPrivileges = compileRules(stored.doc.pvs, 'pvs', this.self, 1, local);
      const candidates = [...privileges, ...selfPrivileges].flatMap((rule) => groupCandidates(rule.originators));
      return { et: stored.et, privileges, selfPrivileges, groupCandidates: [...new Set(candidates)], conditions: compiledConditions(privileges) + compiledConditions(selfPrivileges) };
    } catch {
      return undefined; // stored policies were validated on write; anything unreadable grants nothing
    }
  }
}
