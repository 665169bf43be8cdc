// THE access decision. Every privilege question of the CSE is answered here and nowhere else, and every
// answer carries its basis so that it can be logged and audited.
import type { Config } from '../config/config.js';
import type { LocalIdentity } from '../primitive/identifiers.js';
import type { ResourceStore, StoredResource } from '../storage/store.js';
import type { ResourceRegistry } from '../resources/registry.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { ACCESS_OPERATION, compileRules, firstGrantingRule, type AccessFacts, type AccessOperation, type CompiledRule } from './acp.js';
import { absoluteSegments } from './originators.js';

export type Decision =
  | { granted: true; basis: 'admin' | 'owner' | 'creator' | 'registration'; policy?: undefined; rule?: undefined }
  | { granted: true; basis: 'acp' | 'selfPrivileges'; policy: string; rule: number }
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
}

interface CachedPolicy {
  readonly privileges: readonly CompiledRule[];
  readonly selfPrivileges: readonly CompiledRule[];
}

const CACHE_LIMIT = 10_000;

export class AccessDecider {
  /**
   * Compiled policies by ri, so that a decision does not read and parse policies on every request. Every
   * write path of a policy (update, delete, expiry) calls forget(); the cache is bounded.
   */
  private readonly policies = new Map<string, CachedPolicy>();

  constructor(
    private readonly config: Config,
    private readonly self: LocalIdentity,
    private readonly store: ResourceStore,
    private readonly registry: ResourceRegistry,
  ) {}

  /** Drops a policy from the cache after it was updated or deleted. */
  forget(ri: string): void {
    this.policies.delete(ri);
  }

  isAdmin(originator: string): boolean {
    return originator === this.config.security.admin;
  }

  async decide(q: AccessQuestion): Promise<Decision> {
    if (this.isAdmin(q.originator)) return { granted: true, basis: 'admin' };
    const facts: AccessFacts = {
      originator: absoluteSegments(q.originator, this.self),
      roleIds: q.roleIds,
      operation: q.operation,
      authenticated: q.authenticated,
      time: q.time,
      ip: q.ip,
      targetType: q.resource.ty,
      ...(q.childType === undefined ? {} : { childType: q.childType }),
    };
    // A policy resource is governed by its own selfPrivileges [TS-0001 §9.6.2].
    if (q.resource.ty === RESOURCE_TYPE.accessControlPolicy && q.operation !== ACCESS_OPERATION.CREATE) {
      return this.decideBySelfPrivileges([q.resource.ri], facts, 'the policy');
    }
    const governing = await this.governingResource(q.resource);
    const acpi = Array.isArray(governing.doc.acpi) ? (governing.doc.acpi as string[]) : [];
    // Changing acpi needs UPDATE in the selfPrivileges of the currently linked policies [TS-0001 table 9.6.1.3.2-1].
    if (q.updatesAcpi && acpi.length > 0) return this.decideBySelfPrivileges(acpi, facts, 'the linked policies');
    if (q.resource.owner !== undefined && q.resource.owner === q.originator) return { granted: true, basis: 'owner' };
    if (acpi.length === 0) {
      // Default access policy: only the creator of the resource [TS-0001 table 9.6.1.3.2-1].
      if (governing.doc.__creator === q.originator && q.originator !== '') return { granted: true, basis: 'creator' };
      return { granted: false, reason: 'no accessControlPolicy grants access and the originator did not create the resource' };
    }
    for (const policyId of acpi) {
      const policy = await this.loadPolicy(policyId);
      if (!policy) continue; // a missing policy contributes no permit (fail closed)
      const rule = firstGrantingRule(policy.privileges, facts);
      if (rule >= 0) return { granted: true, basis: 'acp', policy: policyId, rule };
    }
    return { granted: false, reason: 'no rule of the linked accessControlPolicies grants this operation' };
  }

  private async decideBySelfPrivileges(policyIds: readonly string[], facts: AccessFacts, what: string): Promise<Decision> {
    for (const policyId of policyIds) {
      const policy = await this.loadPolicy(policyId);
      if (!policy) continue;
      const rule = firstGrantingRule(policy.selfPrivileges, facts);
      if (rule >= 0) return { granted: true, basis: 'selfPrivileges', policy: policyId, rule };
    }
    return { granted: false, reason: `no selfPrivileges rule of ${what} grants this operation` };
  }

  /** Types without acpi (contentInstance) are governed by their parent [TS-0001 §9.6.7]. */
  private async governingResource(resource: StoredResource): Promise<StoredResource> {
    let current = resource;
    for (let depth = 0; depth < 64; depth++) {
      const definition = this.registry.get(current.ty);
      if (definition?.hasAcpi !== false) return current;
      const parent = await this.store.get(current.pi);
      if (!parent) return current;
      current = parent;
    }
    return current;
  }

  private async loadPolicy(ri: string): Promise<CachedPolicy | undefined> {
    const id = ri.startsWith(`/${this.self.cseId}/`) ? ri.slice(this.self.cseId.length + 2) : ri;
    const cached = this.policies.get(id);
    if (cached) return cached;
    const stored = await this.store.get(id);
    if (!stored || stored.ty !== RESOURCE_TYPE.accessControlPolicy) return undefined;
    const compiled = this.compile(stored);
    if (!compiled) return undefined;
    if (this.policies.size >= CACHE_LIMIT) this.policies.clear();
    this.policies.set(id, compiled);
    return compiled;
  }

  private compile(stored: StoredResource): CachedPolicy | undefined {
    try {
      return {
        privileges: compileRules(stored.doc.pv, 'pv', this.self, 0),
        selfPrivileges: compileRules(stored.doc.pvs, 'pvs', this.self, 1),
      };
    } catch {
      return undefined; // stored policies were validated on write; anything unreadable grants nothing
    }
  }
}
