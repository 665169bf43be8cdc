// How a resource type is declared: one attribute table (the rules) plus a few lifecycle hooks (the behaviour).
import type { Config } from '../config/config.js';
import type { LocalIdentity, VirtualName } from '../primitive/identifiers.js';
import type { RequestPrimitive } from '../primitive/request.js';
import type { ResourceStore, StoredResource, UsageLimits } from '../storage/store.js';
import type { SemanticOperations } from '../semantics/sparql.js';
import type { RequestContext } from '../pipeline/context.js';
import type { AccessOperation } from '../security/acp.js';
import type { TransportContext } from '../primitive/transport.js';

/** M mandatory, O optional, NP not permitted (TS-0004 attribute tables). */
export type Presence = 'M' | 'O' | 'NP';

export type AttributeType =
  | 'string'
  | 'boolean'
  | 'integer'
  | 'number'
  | 'nonNegInteger'
  | 'positiveInteger'
  | 'timestamp'
  /** xs:duration ('PT1S') or milliseconds: read it with durationMs (validate.ts). */
  | 'duration'
  | 'anyURI'
  | 'stringList'
  | 'anyURIList'
  | 'list'
  | 'enumList'
  | 'enum'
  | 'object'
  | 'any';

export interface AttributeSpec {
  readonly type: AttributeType;
  readonly create: Presence;
  readonly update: Presence;
  /** Allowed numbers for 'enum' and 'enumList'. */
  readonly values?: readonly number[];
  /** Longest string (or list) accepted; the CSE's own default applies when absent. */
  readonly maxLength?: number;
  /** Extra structural check; returns a problem description or undefined. */
  readonly check?: (value: unknown) => string | undefined;
}

export type AttributeTable = Readonly<Record<string, AttributeSpec>>;

type ValueFor<S extends AttributeSpec> = S['type'] extends 'string' | 'timestamp' | 'anyURI'
  ? string
  : S['type'] extends 'boolean'
    ? boolean
    : S['type'] extends 'integer' | 'nonNegInteger' | 'positiveInteger' | 'enum' | 'number'
      ? number
      : S['type'] extends 'stringList' | 'anyURIList'
        ? string[]
        : S['type'] extends 'enumList'
          ? number[]
          : unknown;

/** The TypeScript shape of a resource's attributes, derived from its table so the two cannot drift. */
export type AttributesOf<T extends AttributeTable> = { -readonly [K in keyof T]?: ValueFor<T[K]> };

export interface HookContext {
  readonly store: ResourceStore;
  readonly now: number;
  readonly config: Config;
  readonly self: LocalIdentity;
  /** The originator as authenticated for this request. */
  readonly originator: string;
  /** The Credential-ID of an authenticated request. */
  readonly credentialId?: string;
  /** The credential names no originator: the one AE it may register is bound to it (security/credentials.ts). */
  readonly unnamedCredential?: boolean;
  readonly request: RequestPrimitive;
  /** SPARQL for semantic descriptors (checks and semanticOpExec). */
  readonly semantics: SemanticOperations;
  /** Whose stored-amount quota what the CSE stores for this request counts against, and its limits (none for the admin). */
  readonly storage?: { readonly charge: string; readonly limits: UsageLimits | undefined };
  /** Tells the parent's subscribers of a child the CSE created itself (a flexContainerInstance), in this transaction. */
  readonly recordChildCreated?: (parent: StoredResource, child: StoredResource) => Promise<void>;
  /** The child types a resource type may have (what a subscription's chty may name); absent outside requests. */
  readonly childTypesOf?: (ty: number) => readonly number[];
  /** Whether the request's originator may do this operation on another resource (the one access decision); absent outside requests. */
  readonly may?: (operation: AccessOperation, resource: StoredResource) => Promise<boolean>;
  /** The attribute table of a stored resource's type (registry.attributesOf); absent outside requests. */
  readonly attributesOf?: (resource: StoredResource) => AttributeTable;
  /** The connection the request came on, for what the CSE later does as its originator (an <action>). */
  readonly transport?: TransportContext;
  /**
   * RETRIEVE of a resource on another CSE (`/csi/…`) as the request's originator, forwarded through the tree; its
   * answer (5103 when it cannot be reached). Only in prepare (never inside a transaction); absent without CSE links.
   */
  readonly retrieveElsewhere?: (address: string) => Promise<{ rsc: number; pc?: Record<string, unknown> }>;
}

/**
 * The resource name a CREATE request gave in its content under `typeName` (e.g. 'm2m:sch'), if any: hooks see the
 * resource after the create operation took the name out. A null one is none, as any optional attribute given as null
 * in a CREATE (validate.ts).
 */
export function requestedName(ctx: HookContext, typeName: string): unknown {
  const pc = ctx.request.pc;
  const content = typeof pc === 'object' && pc !== null && !Array.isArray(pc) ? (pc as Record<string, unknown>)[typeName] : undefined;
  return typeof content === 'object' && content !== null && !Array.isArray(content) ? ((content as Record<string, unknown>).rn ?? undefined) : undefined;
}

export interface TypeHooks {
  /**
   * Slow checks and derivations of request content (a worker thread, the network) that must not run while a
   * transaction holds the store: called before the CREATE / UPDATE transaction, with the target as it was read
   * (the parent for CREATE). beforeCreate / beforeUpdate then see what it left in the content.
   */
  prepare?(ctx: HookContext, content: Record<string, unknown>, operation: 'create' | 'update', target: StoredResource): Promise<void>;
  /** Fill defaults and computed attributes of a new resource; may throw CseError to refuse. */
  beforeCreate?(ctx: HookContext, resource: StoredResource, parent: StoredResource): Promise<void> | void;
  /** Called on the parent inside the creating transaction, after the child is stored. */
  afterChildAdded?(ctx: HookContext, parent: StoredResource, child: StoredResource): Promise<void> | void;
  /** Called on the parent when a child was deleted (by request or expiry). */
  afterChildRemoved?(ctx: HookContext, parent: StoredResource, child: StoredResource): Promise<void> | void;
  /**
   * Check an update (already validated against the table and merged into the resource) before it is stored; may
   * refuse it. `previous` is the document as it was before the merge, for rules on transitions.
   */
  beforeUpdate?(ctx: HookContext, resource: StoredResource, changes: Record<string, unknown>, previous: Readonly<Record<string, unknown>>): Promise<void> | void;
  /**
   * Whether derived state is stale before a read (e.g. instances past maxInstanceAge). Runs outside any
   * transaction and must not write; reads are the hot path, so the locking refresh below runs only if so.
   */
  isStale?(ctx: HookContext, resource: StoredResource): Promise<boolean>;
  /** Bring derived state up to date; runs in a transaction with the resource locked. */
  beforeRetrieve?(ctx: HookContext, resource: StoredResource): Promise<void> | void;
  /** Called inside the creating transaction once the new resource is stored (e.g. to store its first instance). */
  afterCreate?(ctx: HookContext, resource: StoredResource): Promise<void> | void;
  /**
   * After the CREATE committed: requests the CSE makes on the originator's behalf through the pipeline (a
   * crossResourceSubscription's subscriptions). Returns the resource as the response shows it; a throw is the
   * CREATE's answer, and the hook has undone what it did (the resource included).
   */
  afterCommit?(ctx: RequestContext, resource: StoredResource): Promise<StoredResource>;
  /** After an UPDATE committed (what needs another look once it is visible to all); returns the resource as the response shows it. */
  afterUpdateCommit?(ctx: RequestContext, resource: StoredResource): Promise<StoredResource>;
  /** Why a DELETE request may not remove this resource (answered 4000), or undefined when it may. */
  refuseDeletion?(resource: StoredResource): string | undefined;
}

/** One specialization of a type whose content is named per resource (a <flexContainer>'s containerDefinition). */
export interface Specialization {
  /** The name its content goes under, e.g. `cod:tempe`. */
  readonly typeName: string;
  readonly attributes: AttributeTable;
}

export interface SpecializedType {
  /**
   * The specialization a CREATE's content names by its one key; throws the CseError the request earns
   * (an unknown containerDefinition is 4125).
   */
  forCreate(contentName: string, content: Record<string, unknown>): Specialization;
  /** The specialization of a stored resource. */
  of(resource: StoredResource): Specialization;
  /** Whether some specialization defines this attribute (short name). */
  knowsAttribute(name: string): boolean;
}

export interface ResourceTypeDefinition {
  readonly ty: number;
  /** Short type name as used in content, e.g. `m2m:cnt`. */
  readonly typeName: string;
  readonly attributes: AttributeTable;
  readonly childTypes: readonly number[];
  readonly virtualChildren?: readonly VirtualName[];
  /** False where TS-0001 lets no request create the type (the CSEBase). */
  readonly creatable: boolean;
  /** False where UPDATE is refused with 4005 (contentInstance is immutable). */
  readonly updatable: boolean;
  readonly deletable: boolean;
  /** False where access is governed by the parent (contentInstance) or by selfPrivileges (the policy itself). */
  readonly hasAcpi: boolean;
  readonly hooks: TypeHooks;
  /** The instance type whose oldest and newest children `ol` and `la` name (contentInstance for a container). */
  readonly instanceType?: number;
  /** For a type whose content name and attributes vary per resource; typeName and attributes are then the base. */
  readonly specialization?: SpecializedType;
  /**
   * The specializations of a type that has them (mgmtObj by mgd): each a whole definition with the same ty, its
   * own type name (the content's root element) and table. A stored resource is the one its attribute names.
   */
  readonly specializations?: readonly ResourceTypeDefinition[];
  /** For a specialization: the stored attribute and value that make a resource this specialization. */
  readonly specializedBy?: { readonly attribute: string; readonly value: unknown };
}

export function defineResourceType<T extends ResourceTypeDefinition>(definition: T): T {
  return definition;
}
