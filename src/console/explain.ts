// The "why" view: which policy and rule grant an operation, or why it is denied, from the CSE's own decision code
// (security/authorize.ts AccessDecider). A denial never reveals a policy (README): the explanation is shown only
// to the admin, and to an originator that may RETRIEVE the resource and every policy that applies to it (their
// selfPrivileges) — each of those reads is a request through the pipeline as that originator — about its own
// decisions only. The console signs in any originator, not only the admin (README, Web console), and a decision
// about another originator rests on more than the policies that session may read: basis `admin` names
// security.admin, `dynamic` and `token` are that originator's own grants (DAS policies, tokens).
import { ACCESS_OPERATION, type AccessOperation } from '../security/acp.js';
import type { Decision } from '../security/authorize.js';
import type { CseServices } from '../pipeline/context.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import type { StoredResource } from '../storage/store.js';
import type { ConsoleConnection, ConsoleGateway } from './gateway.js';
import type { Session } from './sessions.js';
import { CONSOLE_ORIGINATOR } from './signInTokens.js';

export interface ExplainQuestion {
  readonly target: string;
  readonly originator: string;
  readonly operation: keyof typeof ACCESS_OPERATION;
  readonly authenticated: boolean;
  /** For CREATE: the type of the child to create. */
  readonly childType?: number;
}

export type Explanation =
  | { shown: false; why: string; rsc?: number }
  | { shown: true; resource: string; policies: string[]; governedBy: 'policies' | 'selfPrivileges' | 'default'; decision: Decision };

export function explainQuestionOf(value: unknown): ExplainQuestion | string {
  if (typeof value !== 'object' || value === null) return 'the question must be a JSON object';
  const v = value as Record<string, unknown>;
  if (typeof v.target !== 'string' || !v.target.startsWith('/') || v.target.length > 4096) return "target must be a path starting with '/'";
  if (typeof v.originator !== 'string' || !CONSOLE_ORIGINATOR.test(v.originator)) return 'originator must be a oneM2M originator';
  if (typeof v.operation !== 'string' || !(v.operation in ACCESS_OPERATION)) return `operation must be one of ${Object.keys(ACCESS_OPERATION).join(', ')}`;
  if (v.childType !== undefined && (typeof v.childType !== 'number' || !Number.isInteger(v.childType))) return 'childType must be a resource type number';
  return {
    target: v.target,
    originator: v.originator,
    operation: v.operation as keyof typeof ACCESS_OPERATION,
    authenticated: v.authenticated === true,
    ...(typeof v.childType === 'number' ? { childType: v.childType } : {}),
  };
}

/** A policy ID (CSE-relative, SP-relative or absolute) in the console's path form. */
function policyPath(id: string): string {
  if (id.startsWith('//')) return `/_${id.slice(1)}`;
  return id.startsWith('/') ? `/~${id}` : `/${id}`;
}

function acpiOf(resource: StoredResource): string[] {
  return Array.isArray(resource.doc.acpi) ? resource.doc.acpi.filter((p): p is string => typeof p === 'string') : [];
}

export class Explainer {
  constructor(
    private readonly services: CseServices,
    private readonly gateway: ConsoleGateway,
  ) {}

  async explain(session: Session, connection: ConsoleConnection, q: ExplainQuestion): Promise<Explanation> {
    const { store, registry, access, clock } = this.services;
    const admin = access.isAdmin(session.originator);
    if (!admin && q.originator !== session.originator) {
      return { shown: false, why: `${session.originator} is explained its own decisions only: another originator's may rest on grants it cannot see` };
    }
    // The resource itself, as the session's originator: what it may not read, it gets no explanation about.
    const read = await this.gateway.send(session, connection, { method: 'GET', path: q.target.split('?')[0] ?? q.target });
    if (read.rsc !== 2000) return { shown: false, rsc: read.rsc, why: `${session.originator} may not retrieve ${q.target} (${read.rsc}), so no decision about it is explained` };
    const content = Object.values((read.pc ?? {}) as Record<string, Record<string, unknown> | undefined>)[0];
    const ri = typeof content?.ri === 'string' ? content.ri : undefined;
    const resource = ri ? await store.get(ri) : undefined;
    if (!resource) return { shown: false, why: 'only resources of this CSE are explained' };
    // The policies that govern it: its own selfPrivileges for a policy, else its acpi, else (for types without acpi,
    // such as a contentInstance) the nearest ancestor's that has them.
    let governedBy: 'policies' | 'selfPrivileges' | 'default' = 'policies';
    let policies: string[];
    if (resource.ty === RESOURCE_TYPE.accessControlPolicy && q.operation !== 'CREATE') {
      policies = [resource.ri];
      governedBy = 'selfPrivileges';
    } else {
      // Walked up as AccessDecider does: through every ancestor without acpi of its own.
      let governor = resource;
      for (let depth = 0; depth < 64 && registry.get(governor.ty)?.hasAcpi === false; depth++) {
        const parent = await store.get(governor.pi);
        if (!parent) break;
        governor = parent;
      }
      policies = acpiOf(governor);
      if (policies.length === 0) governedBy = 'default';
    }
    if (!admin) {
      for (const policy of policies) {
        const answer = await this.gateway.send(session, connection, { method: 'GET', path: policyPath(policy) });
        if (answer.rsc !== 2000) {
          return { shown: false, rsc: answer.rsc, why: `${session.originator} may not retrieve every policy that applies (${answer.rsc}): a decision is explained only to who may read its policies` };
        }
      }
    }
    const operation: AccessOperation = ACCESS_OPERATION[q.operation];
    const decision = await access.decide({
      originator: q.originator,
      authenticated: q.authenticated,
      roleIds: [],
      operation,
      resource,
      ip: '',
      time: clock.now(),
      ...(q.childType === undefined ? {} : { childType: q.childType }),
    });
    return { shown: true, resource: resource.ri, policies, governedBy, decision };
  }
}
