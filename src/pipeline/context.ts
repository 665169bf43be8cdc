// The state one request carries through the pipeline stages.
import type { CseMetrics } from '../ops/metrics.js';
import type { Config } from '../config/config.js';
import type { LocalIdentity, ParsedTarget, VirtualName } from '../primitive/identifiers.js';
import type { RequestPrimitive } from '../primitive/request.js';
import type { ResponsePrimitive } from '../primitive/response.js';
import type { Rsc } from '../primitive/rsc.js';
import type { TransportContext } from '../primitive/transport.js';
import type { ResourceRegistry } from '../resources/registry.js';
import type { AccessDecider, Decision } from '../security/authorize.js';
import type { VerifiedToken } from '../security/tokens.js';
import type { DescendantCses, RegisteredAes } from '../security/registrations.js';
import type { Credentials } from '../security/credentials.js';
import type { HttpOutbound } from '../bindings/http/client.js';
import type { ResourceStore, StoredResource } from '../storage/store.js';
import type { Logger } from '../log/logger.js';
import type { Clock } from './clock.js';
import type { SparqlEngine } from '../semantics/sparql.js';
import type { RemoteCses } from '../remote/remoteCses.js';

/** What the pipeline needs from the running CSE; built once in main.ts. */
export interface CseServices {
  readonly config: Config;
  readonly self: LocalIdentity;
  readonly store: ResourceStore;
  readonly registry: ResourceRegistry;
  readonly access: AccessDecider;
  readonly registrations: RegisteredAes;
  /** Which registree lists a CSE among its descendantCSEs (an index, not a scan per request). */
  readonly descendants: DescendantCses;
  readonly credentials: Credentials;
  /** Outgoing requests (notifications); verifies TLS peers. */
  readonly outbound: HttpOutbound;
  readonly clock: Clock;
  readonly log: Logger;
  readonly semantics: SparqlEngine;
  /** Links to other CSEs: registration with the registrar and forwarding (src/remote); absent in unit set-ups. */
  remote?: RemoteCses;
  /** Deletion notifications a DELETE of a subscription waits for (notifications/deliver.ts); absent in unit set-ups. */
  subscriptionEnds?: { expectEnd(ri: string, timeoutMs: number): { done: Promise<void>; cancel: () => void } };
  /** The pipeline itself, for requests the CSE makes to itself (group fan-out, non-blocking execution). */
  readonly dispatcher: { handle?: (request: RequestPrimitive, transport: TransportContext) => Promise<ResponsePrimitive> };
  /** Prometheus metrics, when the operations listener is on (src/ops). */
  readonly metrics?: CseMetrics;
}

/** Who sent the request, as far as the authenticate stage could establish it. */
export interface Originator {
  /** The From value the request is processed as (empty only for an AE registration). */
  readonly id: string;
  /** rq_authn [TS-0003 table 7.1.2-3]: authenticated and From matches the credential. */
  readonly authenticated: boolean;
  /** The Credential-ID that authenticated it, when it is. */
  readonly credentialId?: string;
  /** That credential names no originator (a device certificate without oneM2M names, a PSK without aeIds). */
  readonly unnamedCredential?: boolean;
  /** The CSE-ID the connection's credential names, when another CSE sent (or relayed) the request. */
  readonly via?: string;
  /** The M2M-SP-ID of the peer SP whose IN-CSE sent the request over Mcc' (peers.list). */
  readonly viaSp?: string;
}

/** The result of the execute stage, turned into response content by shapeResult. */
export interface Outcome {
  rsc: Rsc;
  resource?: StoredResource;
  /** Attributes the CSE set or changed beyond what the request asked for (rcn=9). */
  modified?: Record<string, unknown>;
  /** Children to embed for rcn 4/5/6/8, captured before a DELETE. */
  children?: StoredResource[];
  /** Content that is not a resource (a polled request primitive, a discovery result). */
  content?: Record<string, unknown>;
  /** Content status (1 partial, 2 full) and the offset of the next page, for discovery. */
  contentStatus?: number;
  contentOffset?: number;
}

export interface RequestContext {
  readonly request: RequestPrimitive;
  readonly transport: TransportContext;
  readonly services: CseServices;
  readonly receivedAt: number;
  originator?: Originator;
  target?: ParsedTarget;
  /** The addressed resource; for CREATE, the parent. */
  resource?: StoredResource;
  virtual?: VirtualName;
  /** The path after a group's fopt, applied to each member. */
  fanOutSuffix?: string[];
  /** The validated attributes of a CREATE or UPDATE, unwrapped from their type name. */
  content?: Record<string, unknown>;
  decision?: Decision;
  /**
   * What authorize found the originator holds besides its identity: the request's verified tokens (when it decided
   * with them) and the Role-IDs a <role> assigns it. The request's other decisions (each row of a discovery, a
   * subscription's RETRIEVE check, …) are made with them too (pipeline/access.ts).
   */
  heldCredentials?: { readonly tokens?: readonly VerifiedToken[]; readonly roleIds: readonly string[] };
  /** Local-Token-IDs assigned to this request's tokens, answered in ati [TS-0004 m2m:dynAuthLocalTokenIdAssignments]. */
  assignedTokens?: Array<{ lti: string; tkid: string }>;
  /** Set by authorize for an UPDATE or DELETE by an originator that may not RETRIEVE the target: the only attributes its answer shows. */
  answerLimitedTo?: readonly string[];
  outcome?: Outcome;
  response?: ResponsePrimitive;
  /** Called once the response is made, whatever it is (the rate-limit stage gives back the request's in-flight place). */
  done?: () => void;
}
