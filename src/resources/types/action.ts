// <action> (ty 65, Release 4; not in the V3 texts: the attribute set, cardinalities and rules are ACME's data
// files and resource class, see docs/conformance.md). When its subject resource (sri, else its parent) changes,
// or each period, the CSE evaluates evalCriteria and its dependencies and, when they hold, carries out
// actionPrimitive against objectResourceID as the action's creator, through the whole request pipeline
// (src/actions/runner.ts). Everything the action names is checked here against what its writer may do.
import { ACCESS_CONTROL, CREATOR, EXPIRATION, LABELS, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributeSpec, type HookContext } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { badRequest } from '../../primitive/errors.js';
import { OPERATION } from '../../primitive/request.js';
import { ACCESS_OPERATION } from '../../security/acp.js';
import { localResourceIn } from '../../operations/localResource.js';
import { checkCriteriaShape } from '../../actions/criteria.js';
import { checkCriteriaOn, primitivePrivilege, usableResource } from '../../actions/references.js';
import { EVAL_MODE, MIN_PERIOD_MS, RUN_AS_KEY, RUN_AS_REGISTRATION_KEY, SUBJECT_KEY, TRANSPORT_KEY, evidenceOnly, startMode, unwatch, watch } from '../../actions/state.js';
import type { StoredResource } from '../../storage/store.js';
import { announceAttributes } from '../announceable.js';

/** The members of m2m:requestPrimitive an action may carry: one plain, blocking request. */
const PRIMITIVE_MEMBERS = new Set(['op', 'to', 'fr', 'rqi', 'rvi', 'ty', 'pc', 'rcn']);

function checkActionPrimitive(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be an m2m:requestPrimitive object';
  const apv = value as Record<string, unknown>;
  const unknown = Object.keys(apv).find((k) => !PRIMITIVE_MEMBERS.has(k));
  if (unknown !== undefined) return `has a member '${unknown}' an action's primitive may not carry (${[...PRIMITIVE_MEMBERS].join(', ')})`;
  if (!Number.isSafeInteger(apv.op) || (apv.op as number) < OPERATION.CREATE || (apv.op as number) > OPERATION.NOTIFY) return "needs 'op', an operation (1..5)";
  if (typeof apv.fr !== 'string' || apv.fr === '') return "needs 'fr', the originator (the action's creator)";
  for (const name of ['to', 'rqi', 'rvi'] as const) if (apv[name] !== undefined && typeof apv[name] !== 'string') return `member '${name}' must be a string`;
  if (apv.op === OPERATION.CREATE ? !Number.isSafeInteger(apv.ty) : apv.ty !== undefined) return "member 'ty' is needed by a CREATE, and only by one";
  if (apv.pc !== undefined && (typeof apv.pc !== 'object' || apv.pc === null || Array.isArray(apv.pc))) return "member 'pc' must be an object";
  if (apv.rcn !== undefined && !Number.isSafeInteger(apv.rcn)) return "member 'rcn' must be an integer";
  return undefined;
}

/**
 * m2m:actionInput (input, `ipu`): validated and kept, never used. Neither the V3 texts nor the reference data nor ACME
 * say what the CSE does with it (ACME stores it only); a use Warden made up could not be interoperable.
 */
const INPUT_MEMBERS = new Set(['cstr', 'rsid', 'raid']);
function checkInput(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be an m2m:actionInput object';
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return 'must name a contentString (cstr) or a resource (rsid, raid)';
  const bad = entries.find(([k, v]) => !INPUT_MEMBERS.has(k) || typeof v !== 'string' || v === '' || v.length > 4096);
  return bad ? `member '${bad[0]}' is no member of m2m:actionInput or no non-empty string` : undefined;
}

const attributes = {
  ...UNIVERSAL,
  ...announceAttributes(RESOURCE_TYPE.action),
  ...EXPIRATION,
  ...LABELS,
  ...ACCESS_CONTROL,
  ...CREATOR,
  // actionPriority: the order in which the actions one change sets off are carried out (runner.ts; as ACME).
  apy: { type: 'positiveInteger', create: 'O', update: 'O' },
  sri: { type: 'anyURI', create: 'O', update: 'O', maxLength: 4096 },
  evc: { type: 'object', create: 'M', update: 'O', check: checkCriteriaShape },
  evm: { type: 'enum', create: 'M', update: 'O', values: Object.values(EVAL_MODE) },
  ecp: { type: 'positiveInteger', create: 'O', update: 'O' },
  // Dependencies are children of the action, so they can only be named once it exists.
  dep: { type: 'anyURIList', create: 'NP', update: 'O', maxLength: 16 },
  orc: { type: 'anyURI', create: 'M', update: 'O', maxLength: 4096 },
  apv: { type: 'object', create: 'M', update: 'O', check: checkActionPrimitive },
  ipu: { type: 'object', create: 'O', update: 'O', check: checkInput },
  air: { type: 'any', create: 'NP', update: 'NP' },
} as const satisfies Record<string, AttributeSpec>;

/** Attributes an action cannot be without once it exists. */
const REQUIRED = ['evc', 'evm', 'orc', 'apv'] as const;

/** evalControlParam belongs to periodic (a period, ms) and continuous (a number of evaluations) modes only (as ACME). */
function checkMode(evm: unknown, ecp: unknown): void {
  if ((evm === EVAL_MODE.OFF || evm === EVAL_MODE.ONCE) && ecp !== undefined) throw badRequest(`attribute 'ecp' has no meaning with evm ${String(evm)} (off or once)`);
  if (evm === EVAL_MODE.PERIODIC && typeof ecp === 'number' && ecp < MIN_PERIOD_MS) {
    throw badRequest(`attribute 'ecp' (${ecp} ms) is shorter than the shortest evaluation period this CSE runs (${MIN_PERIOD_MS} ms)`);
  }
}

/** The primitive runs as its `fr`, which must be the originator writing the action (as ACME). */
function checkFrom(apv: unknown, originator: string): void {
  const fr = (apv as { fr?: unknown } | undefined)?.fr;
  if (fr !== originator) throw badRequest(`apv.fr '${String(fr)}' must be the originator of this request ('${originator}'): an action acts as the one who wrote it`);
}

async function subjectOf(ctx: HookContext, sri: unknown, parent: StoredResource): Promise<StoredResource> {
  return sri === undefined ? parent : usableResource(ctx, sri, 'sri', ACCESS_OPERATION.RETRIEVE);
}

/** The subject inside the write's transaction, locked: sri resolved again, else the parent (locked already). */
async function lockedSubject(ctx: HookContext, sri: unknown, parent: StoredResource): Promise<StoredResource> {
  if (sri === undefined) return parent;
  const found = typeof sri === 'string' ? await localResourceIn(ctx.store, ctx.self, ctx.now, sri) : undefined;
  const locked = found ? await ctx.store.getForUpdate(found.ri) : undefined;
  if (!locked) throw badRequest(`sri ${JSON.stringify(sri)} names no resource of this CSE that the originator may use for this`);
  return locked;
}

function merged(doc: Readonly<Record<string, unknown>>, changes: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...doc };
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

export const actionType = defineResourceType({
  ty: RESOURCE_TYPE.action,
  typeName: 'm2m:actr',
  attributes,
  childTypes: [RESOURCE_TYPE.dependency, RESOURCE_TYPE.subscription],
  creatable: true,
  updatable: true,
  deletable: true,
  hasAcpi: true,
  hooks: {
    async prepare(ctx, content, operation, target) {
      if (operation === 'create') {
        checkMode(content.evm, content.ecp);
        checkFrom(content.apv, ctx.originator);
        checkCriteriaOn(ctx, content.evc, await subjectOf(ctx, content.sri, target));
        await usableResource(ctx, content.orc, 'orc', primitivePrivilege((content.apv as { op?: unknown }).op));
        return;
      }
      // Only the originator the action acts as may change it: otherwise a writer could point the creator's
      // privileges somewhere else (ACME refuses likewise).
      checkFrom(target.doc.apv, ctx.originator);
      if (content.apv !== undefined && content.apv !== null) checkFrom(content.apv, ctx.originator);
      const removed = REQUIRED.find((name) => content[name] === null);
      if (removed) throw badRequest(`attribute '${removed}' cannot be removed from an action`);
      const after = merged(target.doc, content);
      checkMode(after.evm, after.ecp);
      if ('sri' in content || 'evc' in content) {
        const parent = await ctx.store.get(target.pi);
        if (!parent) throw badRequest('the action has no parent any more');
        checkCriteriaOn(ctx, after.evc, await subjectOf(ctx, after.sri, parent));
      }
      if ('orc' in content || 'apv' in content) await usableResource(ctx, after.orc, 'orc', primitivePrivilege((after.apv as { op?: unknown }).op));
      if (Array.isArray(content.dep)) {
        for (const entry of content.dep as string[]) {
          const dependency = await localResourceIn(ctx.store, ctx.self, ctx.now, entry);
          if (dependency?.ty !== RESOURCE_TYPE.dependency || dependency.pi !== target.ri) {
            throw badRequest(`dep entry '${entry}' is no <dependency> child of this action`);
          }
        }
      }
    },
    async beforeCreate(ctx, action, parent) {
      const subject = await lockedSubject(ctx, action.doc.sri, parent);
      action.doc[SUBJECT_KEY] = subject.ri;
      action.doc[RUN_AS_KEY] = ctx.originator;
      action.doc[TRANSPORT_KEY] = evidenceOnly(ctx.transport);
      const registered = await ctx.store.get(ctx.originator);
      if (registered?.ty === RESOURCE_TYPE.AE && registered.seq !== undefined) action.doc[RUN_AS_REGISTRATION_KEY] = registered.seq;
      await watch(ctx.store, subject, action.ri, ctx.originator);
      await startMode(ctx.store, action, ctx.now);
    },
    async beforeUpdate(ctx, action, changes, previous) {
      action.doc[TRANSPORT_KEY] = evidenceOnly(ctx.transport);
      if ('sri' in changes) {
        const parent = await ctx.store.getForUpdate(action.pi);
        if (!parent) throw badRequest('the action has no parent any more');
        const subject = await lockedSubject(ctx, action.doc.sri, parent);
        if (subject.ri !== previous[SUBJECT_KEY]) {
          if (typeof previous[SUBJECT_KEY] === 'string') await unwatch(ctx.store, previous[SUBJECT_KEY], action.ri);
          action.doc[SUBJECT_KEY] = subject.ri;
          await watch(ctx.store, subject, action.ri, ctx.originator);
        }
      }
      // A new mode, or a new period or count, starts the evaluation afresh (as ACME restarts it).
      if ('evm' in changes || 'ecp' in changes) await startMode(ctx.store, action, ctx.now);
    },
  },
});
