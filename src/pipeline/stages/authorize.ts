// Stage 7: the privilege decision, made by security/authorize.ts. Deny answers 4103 with a message that
// names the operation and target but never the policy contents.
import { CseError, badRequest, noPrivilege } from '../../primitive/errors.js';
import { RSC } from '../../primitive/rsc.js';
import type { Decision } from '../../security/authorize.js';
import { OPERATION, OPERATION_NAMES, isDiscovery, type FilterCriteria, type Operation } from '../../primitive/request.js';
import { ACCESS_OPERATION, privilegeOf, type AccessOperation } from '../../security/acp.js';
import { RESOURCE_TYPE } from '../../resources/types.js';
import type { RequestContext } from '../context.js';
import { originatorMay } from '../access.js';
import type { Stage } from '../pipeline.js';
import { SHOWS_TARGET } from './shapeResult.js';
import { effectiveResultContent } from './checkPrimitive.js';
import { hasConditions } from '../../operations/discover.js';
import { dynamicAuthorizationFor } from '../../security/dynamicAuthorization.js';
import { ROLE_ID } from '../../security/originators.js';
import { MAX_LOCAL_TOKEN_IDS, TokenRejected, loggedLocalTokenId, tokenVerifierFor, type VerifiedToken } from '../../security/tokens.js';

function accessOperation(op: Operation, ctx: RequestContext): AccessOperation {
  // A RETRIEVE with filterUsage discovery needs DISCOVERY [TS-0003 §7.1.3]; through fopt that is what each
  // member carries out. pcu, la and ol perform a RETRIEVE (a poll dequeues) whatever the filterUsage says.
  if (op === OPERATION.RETRIEVE && isDiscovery(ctx.request.fc) && (!ctx.virtual || ctx.virtual === 'fopt')) return ACCESS_OPERATION.DISCOVERY;
  return privilegeOf(op);
}

/** A RETRIEVE with filterUsage discovery (or IPE on-demand discovery) of a resource that is not virtual. */
export function isRealDiscovery(ctx: RequestContext): boolean {
  return ctx.request.op === OPERATION.RETRIEVE && isDiscovery(ctx.request.fc) && ctx.virtual === undefined;
}

/** The attributes a CREATE or UPDATE sends, whatever its type wrapper (the acpi rule, accessControlAttributes). */
function sentAttributes(pc: unknown): string[] {
  if (typeof pc !== 'object' || pc === null) return [];
  const [inner] = Object.values(pc as Record<string, unknown>);
  return typeof inner === 'object' && inner !== null ? Object.keys(inner) : [];
}

/** tids are sent to the DAS as they are: a few, of bounded length, without control characters. */
function checkedTokenIds(tids: readonly string[]): string[] {
  if (tids.length > 8) throw badRequest('at most 8 token IDs (tids) may be given');
  for (const id of tids) if (!/^[\x21-\x7e]{1,256}$/.test(id)) throw badRequest('a token ID (tids) must be 1 to 256 printable characters without spaces');
  return [...tids];
}

/** Role-IDs one request may name. */
const MAX_ROLE_IDS = 16;

/** rids: a few Role-IDs (issuerRelativeID@issuerFQDN) [TS-0004 m2m:roleID]. */
function checkedRoleIds(rids: readonly string[]): string[] {
  if (rids.length > MAX_ROLE_IDS) throw badRequest(`at most ${MAX_ROLE_IDS} Role-IDs (rids) may be given`);
  for (const id of rids) if (!ROLE_ID.test(id)) throw badRequest(`'${id.slice(0, 64)}' is not a Role-ID (issuerRelativeID@issuerFQDN)`);
  return [...rids];
}

/**
 * The Role-IDs among `rids` a <role> assigns the originator, where nothing is refused for them (a discovery, a request
 * granted without them): malformed ones are left out, and only the first MAX_ROLE_IDS well-formed ones looked up.
 */
async function quietlyHeldRoleIds(ctx: RequestContext, rids: readonly string[] | undefined): Promise<string[]> {
  const wellFormed = (rids ?? []).filter((id) => ROLE_ID.test(id)).slice(0, MAX_ROLE_IDS);
  if (wellFormed.length === 0) return [];
  return (await ctx.services.access.rolesHeld(ctx.originator?.id ?? '', wellFormed, ctx.receivedAt)).held;
}

async function verifiedTokens(ctx: RequestContext, tokens: readonly string[]): Promise<VerifiedToken[]> {
  const originator = ctx.originator;
  const basis = { event: 'token', originator: originator?.id, rqi: ctx.request.rqi };
  if (ctx.services.config.dynamicAuthorization.tokenRequiresAuthentication && !originator?.authenticated) {
    ctx.services.log.warn({ ...basis, granted: false, reason: 'tokens from an unauthenticated originator' }, 'dynamic authorization');
    throw noPrivilege('tokens are accepted only from an authenticated originator');
  }
  const verifier = tokenVerifierFor(ctx.services);
  const verified: VerifiedToken[] = [];
  for (const token of tokens) {
    try {
      verified.push(await verifier.verify(token, originator?.id ?? '', ctx.receivedAt));
    } catch (err) {
      if (!(err instanceof TokenRejected)) throw err;
      ctx.services.log.warn({ ...basis, granted: false, reason: err.message }, 'dynamic authorization');
      throw err.malformed ? badRequest(`malformed token: ${err.message}`) : noPrivilege(`a token was refused: ${err.message}`);
    }
  }
  return verified;
}

/** The tokens that Local-Token-IDs (ltids) stand for; a bad one refuses the request like a bad token. */
async function localTokens(ctx: RequestContext, ltids: readonly string[]): Promise<VerifiedToken[]> {
  const originator = ctx.originator;
  const basis = { event: 'token', originator: originator?.id, rqi: ctx.request.rqi, ltids: ltids.map(loggedLocalTokenId) };
  if (ltids.length > MAX_LOCAL_TOKEN_IDS) throw badRequest(`at most ${MAX_LOCAL_TOKEN_IDS} Local-Token-IDs (ltids) may be given`);
  // Assigned only to tokens accepted from this originator, so the same authentication applies to their use.
  if (ctx.services.config.dynamicAuthorization.tokenRequiresAuthentication && !originator?.authenticated) {
    ctx.services.log.warn({ ...basis, granted: false, reason: 'Local-Token-IDs from an unauthenticated originator' }, 'dynamic authorization');
    throw noPrivilege('Local-Token-IDs are accepted only from an authenticated originator');
  }
  const verifier = tokenVerifierFor(ctx.services);
  const tokens: VerifiedToken[] = [];
  for (const lti of ltids) {
    try {
      tokens.push(await verifier.resolveLocal(ctx.services.store, lti, originator?.id ?? '', ctx.receivedAt));
    } catch (err) {
      if (!(err instanceof TokenRejected)) throw err;
      ctx.services.log.warn({ ...basis, granted: false, reason: err.message }, 'dynamic authorization');
      throw err.malformed ? badRequest(`malformed Local-Token-ID: ${err.message}`) : noPrivilege(`a Local-Token-ID was refused: ${err.message}`);
    }
  }
  return tokens;
}

/**
 * After a decision with tokens: tokens presented whole get Local-Token-IDs, returned in ati, for later requests
 * (ltids) [TS-0003 §7.3.2.3 steps 7.2, 8.1]; the decision is logged with its tokens and roles.
 */
async function afterTokens(ctx: RequestContext, decision: Decision, presented: readonly VerifiedToken[], tokens: readonly VerifiedToken[]): Promise<void> {
  const r = ctx.request;
  const originator = ctx.originator?.id ?? '';
  if (decision.granted) {
    const verifier = tokenVerifierFor(ctx.services);
    const assigned: Array<{ lti: string; tkid: string }> = [];
    for (const token of presented) {
      const lti = await verifier.assignLocal(ctx.services.store, token, originator, ctx.receivedAt);
      if (lti !== undefined) assigned.push({ lti, tkid: token.id });
    }
    if (assigned.length > 0) ctx.assignedTokens = assigned;
  }
  // The basis of a grant through a token's roles is the linked policy's rule and these tokens and roles. Built only
  // when the line is written: a token holder's every request passes here.
  if (!ctx.services.log.isLevelEnabled('info')) return;
  const roles = tokens.flatMap((token) => token.permissions.flatMap((permission) => permission.roleIds));
  ctx.services.log.info(
    {
      event: 'token',
      originator,
      rqi: r.rqi,
      tokens: tokens.map((token) => `${token.issuer}:${token.id}`),
      ...(r.ltids && r.ltids.length > 0 ? { ltids: r.ltids.map(loggedLocalTokenId) } : {}),
      roles,
      granted: decision.granted,
      ...(decision.granted ? { basis: decision.basis, policy: decision.policy } : {}),
      ...(ctx.assignedTokens ? { assigned: ctx.assignedTokens.map((a) => loggedLocalTokenId(a.lti)) } : {}),
    },
    'dynamic authorization',
  );
}

/**
 * A discovery's tokens, Local-Token-IDs and Role-IDs decide for each result as they would for a request addressed to
 * it: verified once, here, and held for the per-result decisions (ctx.heldCredentials). A discovery has no decision
 * of its own for a bad one to refuse, so one that fails its checks (logged by verifiedTokens/localTokens) or a
 * malformed Role-ID is left out, as a request the policies grant holds its failing token back: the results the
 * policies grant are still found. No Local-Token-ID is assigned: nothing was granted on the target itself.
 */
async function holdDiscoveryCredentials(ctx: RequestContext): Promise<void> {
  const r = ctx.request;
  const tokens: VerifiedToken[] = [];
  const heldBack = async (verify: () => Promise<VerifiedToken[]>): Promise<void> => {
    try {
      tokens.push(...(await verify()));
    } catch (err) {
      if (!(err instanceof CseError)) throw err;
    }
  };
  for (const token of (r.tkns ?? []).slice(0, MAX_DISCOVERY_TOKENS)) await heldBack(() => verifiedTokens(ctx, [token]));
  for (const lti of (r.ltids ?? []).slice(0, MAX_LOCAL_TOKEN_IDS)) await heldBack(() => localTokens(ctx, [lti]));
  const roleIds = await quietlyHeldRoleIds(ctx, r.rids);
  if (tokens.length > 0 || roleIds.length > 0) ctx.heldCredentials = { ...(tokens.length > 0 ? { tokens } : {}), roleIds };
}

/**
 * Whether a request may go on to decide about other resources than its target with the originator's credentials
 * (ctx.may, originatorMay): a RETRIEVE's children (rcn 4, 5, 6, 8) or semantic query, a subscription's RETRIEVE
 * check, a group's members, an action's references, an AE's node… — every CREATE, UPDATE and RETRIEVE. Only a
 * request that names Role-IDs pays for looking up those it holds once its target was granted without them.
 */
function decidesOthers(r: RequestContext['request']): boolean {
  return r.op === OPERATION.CREATE || r.op === OPERATION.UPDATE || r.op === OPERATION.RETRIEVE;
}

/** Tokens of one discovery verified at most (each costs a signature check). */
const MAX_DISCOVERY_TOKENS = 8;

export const authorize: Stage = {
  name: 'authorize',
  async run(ctx) {
    const resource = ctx.resource;
    const originator = ctx.originator;
    if (!resource || !originator) throw new Error('authorize runs after resolveTarget and authenticate');
    const r = ctx.request;
    // AE registration is not an ACP decision [TS-0004 §7.3.2.7]; the AE hook applies the AE-ID rules. Neither is
    // CSE registration [TS-0004 §7.4.4.2.1]: the security association checked the CSE-ID, the type hook the rest.
    if (r.op === OPERATION.CREATE && (r.ty === RESOURCE_TYPE.AE || r.ty === RESOURCE_TYPE.remoteCSE) && resource.ty === RESOURCE_TYPE.CSEBase) {
      ctx.decision = { granted: true, basis: 'registration' };
      return;
    }
    // Discovery is not authorized on its target: each result needs DISCOVERY instead [TS-0004 §7.3.3.14]. Only a
    // real discovery: a virtual resource (pcu, fopt, la, ol) is always authorized as the operation it performs,
    // or fu=1 would open another AE's polling channel or a group's fan-out to anyone.
    if (isRealDiscovery(ctx)) {
      ctx.decision = { granted: true, basis: 'discovery' };
      await holdDiscoveryCredentials(ctx);
      return;
    }
    let updatesAcpi = false;
    const sent = r.op === OPERATION.CREATE || r.op === OPERATION.UPDATE ? sentAttributes(r.pc) : undefined;
    if (r.op === OPERATION.UPDATE) {
      const names = sent ?? [];
      updatesAcpi = names.includes('acpi');
      // acpi must be the only attribute of such an UPDATE [TS-0001 table 9.6.1.3.2-1].
      if (updatesAcpi && names.length > 1) throw badRequest('an UPDATE of acpi must not change other attributes');
      // daci chooses who may grant access dynamically: changing it is decided like an acpi change (Warden policy;
      // TS-0001 leaves daci an ordinary RW attribute), or UPDATE alone would let an originator name its own DAS.
      if (names.includes('daci')) updatesAcpi = true;
      // So is cstn: under the default policy the custodian takes the creator's place, so UPDATE alone would let an
      // originator make itself the custodian and, once acpi is removed, the resource's only holder (Warden policy,
      // docs/conformance.md).
      if (names.includes('cstn')) updatesAcpi = true;
    }
    let question = {
      originator: originator.id,
      authenticated: originator.authenticated,
      roleIds: [] as string[],
      operation: accessOperation(r.op, ctx),
      resource,
      ip: ctx.transport.remoteAddress,
      time: ctx.receivedAt,
      ...(r.op === OPERATION.CREATE && r.ty !== undefined ? { childType: r.ty } : {}),
      updatesAcpi: updatesAcpi && ctx.virtual !== 'fopt',
      // Fan-out is decided by the group's membersAccessControlPolicyIDs, else its acpi [TS-0001 §9.6.14].
      ...(ctx.virtual === 'fopt' && Array.isArray(resource.doc.macp) ? { policyIds: resource.doc.macp as string[] } : {}),
      // What a rule with accessControlAttributes must cover; a RETRIEVE without atrl touches every attribute. A
      // virtual resource answers with another resource (la, ol) or other resources (fopt, pcu): not known yet.
      // Filter criteria tested on the target read the attributes they name: those count as touched too, or a 2000
      // against a 4004 would tell an attribute the rule does not list.
      attributes: ctx.virtual ? null : withFilterAttributes(sent ?? (r.op === OPERATION.RETRIEVE ? r.atrl : undefined), r.fc),
      ...(ctx.virtual === 'ntsr' ? { selfReference: true } : {}),
    };
    // A request with tokens or Local-Token-IDs only (the common case of a token holder) is decided once, with its
    // tokens, instead of once without and again with them. A token that fails its checks is held back: the policies
    // alone may still grant (tokens are needed only where they deny), and if they do not, the token's refusal is the
    // answer, as on the longer path below.
    let decision: Decision;
    let tokensDecided = false;
    let decidedTokens: VerifiedToken[] | undefined;
    if (((r.tkns?.length ?? 0) > 0 || (r.ltids?.length ?? 0) > 0) && (r.rids?.length ?? 0) === 0 && (r.tids?.length ?? 0) === 0) {
      let failure: CseError | undefined;
      let presented: VerifiedToken[] = [];
      let tokens: VerifiedToken[] | undefined;
      try {
        presented = await verifiedTokens(ctx, r.tkns ?? []);
        tokens = [...presented, ...(await localTokens(ctx, r.ltids ?? []))];
      } catch (err) {
        if (!(err instanceof CseError)) throw err;
        failure = err;
      }
      decision = await ctx.services.access.decide(tokens ? { ...question, tokens } : question);
      decidedTokens = tokens;
      if (failure && !decision.granted) {
        ctx.decision = decision;
        throw failure;
      }
      if (tokens) {
        tokensDecided = true;
        await afterTokens(ctx, decision, presented, tokens);
      }
    } else decision = await ctx.services.access.decide(question);
    // Role-IDs the request names (rids) count only where a <role> of this CSE assigns them to the originator and is
    // valid now [TS-0003 §7.4.3]; then the linked policies' Role-ID rules may grant.
    // The Role-IDs held are also what a DAS request says the originator holds (orid).
    let heldRoleIds: string[] = [];
    if (!decision.granted && r.rids && r.rids.length > 0) {
      const rids = checkedRoleIds(r.rids);
      const { held, roles } = await ctx.services.access.rolesHeld(originator.id, rids, ctx.receivedAt);
      heldRoleIds = held;
      if (held.length > 0) {
        question = { ...question, roleIds: held };
        decision = await ctx.services.access.decide(question);
      }
      ctx.services.log.info(
        { event: 'role', originator: originator.id, rqi: r.rqi, rids, held, roles, granted: decision.granted, ...(decision.granted ? { basis: decision.basis, policy: decision.policy } : {}) },
        'dynamic authorization',
      );
    }
    // Token IDs (tids) of tokens stored here as <token> resources are used without asking a DAS (the CSE as PIP).
    let presentedTokens = r.tkns ?? [];
    let remoteTokenIds = r.tids && r.tids.length > 0 ? checkedTokenIds(r.tids) : undefined;
    if (!decision.granted && remoteTokenIds) {
      const stored = await ctx.services.access.storedTokens(remoteTokenIds, ctx.receivedAt);
      if (stored.size > 0) {
        presentedTokens = [...presentedTokens, ...stored.values()];
        remoteTokenIds = remoteTokenIds.filter((id) => !stored.has(id));
        if (remoteTokenIds.length === 0) remoteTokenIds = undefined;
      }
    }
    // Tokens carried by the request [TS-0003 §7.3.2.3]: verified only when the policies deny (a granted request
    // needs none); a token that fails any check refuses the request, it is never silently ignored.
    if (!decision.granted && !tokensDecided && (presentedTokens.length > 0 || (r.ltids && r.ltids.length > 0))) {
      const presented = await verifiedTokens(ctx, presentedTokens);
      const tokens = [...presented, ...(await localTokens(ctx, r.ltids ?? []))];
      decision = await ctx.services.access.decide({ ...question, tokens });
      decidedTokens = tokens;
      await afterTokens(ctx, decision, presented, tokens);
    }
    // Denied by the policies: the DAS may grant privileges, after which the decider is asked again [TS-0003 §7.3.2.2].
    // Not for an acpi change (selfPrivileges), a group fan-out (its members decide) or a polling channel (its AE's).
    if (!decision.granted && !question.updatesAcpi && question.policyIds === undefined && resource.ty !== RESOURCE_TYPE.pollingChannel && resource.ty !== RESOURCE_TYPE.accessControlPolicy) {
      const consultation = {
        originator: originator.id,
        operation: r.op,
        resource,
        ip: question.ip,
        time: question.time,
        rqi: r.rqi,
        ...(remoteTokenIds ? { tokenIds: remoteTokenIds } : {}),
        ...(heldRoleIds.length > 0 ? { roleIds: heldRoleIds } : {}),
      };
      const dynamic = dynamicAuthorizationFor(ctx.services);
      // An originator that offers to fetch tokens itself (tqi) without naming any (tids) gets the indirect flow: a
      // 4103 whose content is the Token Request Information, without debugging information [TS-0003 §7.3.2.3
      // step 2.3; TS-0009 §6.5]. The element name m2m:tqf follows the parameter's short name (unverified).
      if (r.tqi === true && consultation.tokenIds === undefined) {
        const tqf = await dynamic.tokenRequestInfo(consultation);
        ctx.decision = decision;
        if (tqf) throw new CseError(RSC.ORIGINATOR_HAS_NO_PRIVILEGE, 'token request information', undefined, { 'm2m:tqf': tqf });
      } else if ((await dynamic.consult(consultation)).granted) {
        decision = await ctx.services.access.decide(question);
      }
    }
    // Granted without its Role-IDs: those the originator holds still count for the rest of the request (the rows of a
    // discovery may need them where the target did not).
    // Not refused for malformed Role-IDs here: the request is granted without them.
    if (decision.granted && heldRoleIds.length === 0 && r.rids && r.rids.length > 0 && decidesOthers(r)) heldRoleIds = await quietlyHeldRoleIds(ctx, r.rids);
    ctx.decision = decision;
    if (decidedTokens || heldRoleIds.length > 0) ctx.heldCredentials = { ...(decidedTokens ? { tokens: decidedTokens } : {}), roleIds: heldRoleIds };
    if (!decision.granted) {
      throw noPrivilege(`originator '${originator.id}' has no privilege to ${OPERATION_NAMES[r.op]} '${r.to}'`);
    }
    // UPDATE and DELETE answers show the target only to an originator that may RETRIEVE it (one that may not sees
    // what it sent), and a conditional UPDATE or DELETE, which tests the target's attributes, needs RETRIEVE too:
    // otherwise a privilege to change or remove told what the privilege to read was meant to keep (Warden policy,
    // docs/conformance.md). Decided as the operation was, tokens included; a DAS is not asked again.
    // (la and ol answer with the instance, which their container governs: decided on it too.) Not where the decision
    // was made on a basis that holds every privilege.
    const allPrivileges = decision.basis === 'admin' || decision.basis === 'creator' || decision.basis === 'custodian';
    if ((r.op === OPERATION.UPDATE || r.op === OPERATION.DELETE) && !allPrivileges && (ctx.virtual === undefined || ctx.virtual === 'la' || ctx.virtual === 'ol')) {
      const conditional = hasConditions(r.fc);
      if (conditional || SHOWS_TARGET.has(effectiveResultContent(r.op, r.rcn))) {
        const reading = { ...question, operation: ACCESS_OPERATION.RETRIEVE, attributes: undefined, updatesAcpi: false, ...(decidedTokens ? { tokens: decidedTokens } : {}) };
        if (!(await ctx.services.access.decide(reading)).granted) {
          if (conditional) throw noPrivilege(`originator '${originator.id}' may not RETRIEVE '${r.to}', so it may not ${OPERATION_NAMES[r.op]} it on conditions`);
          ctx.answerLimitedTo = r.op === OPERATION.UPDATE ? sentAttributes(r.pc) : [];
        }
      }
    }
    // A subscriber must also be allowed to RETRIEVE what it subscribes to [TS-0004 §7.4.8.2.1 Recv-6.3].
    if (r.op === OPERATION.CREATE && r.ty === RESOURCE_TYPE.subscription) {
      if (!(await originatorMay(ctx, ACCESS_OPERATION.RETRIEVE, resource))) throw noPrivilege(`originator '${originator.id}' may not RETRIEVE '${r.to}', so it may not subscribe to it`);
    }
  },
};

/** The target's attributes each filter condition tests (conditions on children or the parent read other resources). */
const FILTER_ATTRIBUTES: Readonly<Partial<Record<keyof FilterCriteria, readonly string[]>>> = {
  crb: ['ct'],
  cra: ['ct'],
  ms: ['lt'],
  us: ['lt'],
  sts: ['st'],
  stb: ['st'],
  exb: ['et'],
  exa: ['et'],
  lbl: ['lbl'],
  lbq: ['lbl'],
  ty: ['ty'],
  sza: ['cs'],
  szb: ['cs'],
  cty: ['cnf'],
  cfq: ['con'],
  geom: ['loc'],
};

/** `attributes` (atrl, or the attributes an UPDATE sends) with those a conditional request's filter tests on the target. */
function withFilterAttributes(attributes: readonly string[] | undefined, fc: FilterCriteria | undefined): readonly string[] | undefined {
  if (attributes === undefined || fc === undefined || isDiscovery(fc)) return attributes;
  const names = new Set(attributes);
  for (const key of Object.keys(fc) as Array<keyof FilterCriteria>) {
    if (fc[key] === undefined) continue;
    for (const name of FILTER_ATTRIBUTES[key] ?? []) names.add(name);
  }
  for (const name of Object.keys(fc.atr ?? {})) names.add(name);
  // Always the set: atrl may name one attribute twice, and a count compared with it would hide an added name.
  return [...names];
}
