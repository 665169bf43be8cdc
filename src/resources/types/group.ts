// <group> (ty 9, TS-0001 §9.6.13): a set of member resources. Membership is what access control reads
// (a group's ID in accessControlOriginators); fan-out through fopt is operations/fanOut.ts. A member on another CSE is
// validated against memberType by asking its Hosting CSE (prepare, before the transaction).
import { ACCESS_CONTROL, CREATOR, EXPIRATION, LABELS, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributesOf, type AttributeSpec, type HookContext } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { CseError, badRequest } from '../../primitive/errors.js';
import { RSC } from '../../primitive/rsc.js';
import type { ResourceStore, StoredResource } from '../../storage/store.js';
import type { LocalIdentity } from '../../primitive/identifiers.js';
import type { RequestPrimitive } from '../../primitive/request.js';
import type { CseServices } from '../../pipeline/context.js';
import { announceAttributes } from '../announceable.js';
import { ACCESS_OPERATION } from '../../security/acp.js';

/** memberType "mixed" is 0 in Release 2+ [TS-0004 §6.3.5.x memberType]; consistencyStrategy [TS-0004 §6.3.4.2.20]. */
export const MIXED = 0;
const CONSISTENCY = { ABANDON_MEMBER: 1, ABANDON_GROUP: 2, SET_MIXED: 3 } as const;
const MAX_MEMBERS = 10_000;

const attributes = {
  ...UNIVERSAL,
  ...announceAttributes(RESOURCE_TYPE.group),
  ...EXPIRATION,
  ...LABELS,
  ...ACCESS_CONTROL,
  ...CREATOR,
  mt: { type: 'nonNegInteger', create: 'O', update: 'NP' },
  cnm: { type: 'nonNegInteger', create: 'NP', update: 'NP' },
  mnm: { type: 'positiveInteger', create: 'M', update: 'O' },
  mid: { type: 'anyURIList', create: 'M', update: 'O', maxLength: MAX_MEMBERS },
  macp: { type: 'anyURIList', create: 'O', update: 'O' },
  mtv: { type: 'boolean', create: 'NP', update: 'NP' },
  csy: { type: 'enum', create: 'O', update: 'NP', values: [1, 2, 3] },
  gn: { type: 'string', create: 'O', update: 'O', maxLength: 255 },
  // notifyAggregation: how notifications of the members' subscriptions are batched [TS-0001 §9.6.13].
  nar: { type: 'object', create: 'O', update: 'O' },
} as const satisfies Record<string, AttributeSpec>;

export type GroupAttributes = AttributesOf<typeof attributes>;

/**
 * A member ID suffixed so names a sub-group whose own members a fan-out reaches, through that sub-group's fanOutPoint
 * on its Hosting CSE [TS-0004 §7.4.13.2.1]; without it a member that is a group is addressed as a resource itself.
 */
export const SUB_GROUP_FAN_OUT = '/fopt';

/** A member ID without its sub-group fan-out suffix, and whether it had one. */
export function memberResource(member: string): { id: string; fanOut: boolean } {
  return member.endsWith(SUB_GROUP_FAN_OUT) ? { id: member.slice(0, -SUB_GROUP_FAN_OUT.length), fanOut: true } : { id: member, fanOut: false };
}

/** A member on another CSE, read from its ID alone (as resolveLocalMember reads it). */
export function isMemberElsewhere(self: LocalIdentity, member: string): boolean {
  return member.startsWith('//') || (member.startsWith('/') && !member.startsWith(`/${self.cseId}/`));
}

/**
 * The local resource a member ID names (resource ID, SP-relative under this CSE, or structured path); for a sub-group
 * fan-out member (`…/fopt`), the sub-group.
 */
export async function resolveLocalMember(ctx: Pick<HookContext, 'store' | 'self'>, member: string): Promise<StoredResource | undefined | 'remote'> {
  let id = memberResource(member).id;
  const spPrefix = `/${ctx.self.cseId}/`;
  if (id.startsWith('//')) return 'remote';
  if (id.startsWith(spPrefix)) id = id.slice(spPrefix.length);
  else if (id.startsWith('/')) return 'remote';
  if (id.startsWith(`${ctx.self.cseRn}/`)) return ctx.store.getByPath(id);
  return ctx.store.get(id);
}

/** What a member on another CSE turned out to be when its Hosting CSE was asked (prepare). */
type RemoteMember = { type: number } | 'gone' | 'unreachable';
/** The remote members' types of a request, found in prepare (outside the transaction), read in validateMembers. */
const remoteMembers = new WeakMap<object, ReadonlyMap<string, RemoteMember>>();
/** Members on other CSEs asked for their type per request, 8 at a time; beyond, they stay unvalidated (mtv false). */
const MAX_REMOTE_CHECKS = 64;
const REMOTE_CHECK_CONCURRENCY = 8;

/**
 * The types of the members on other CSEs, as their Hosting CSEs answer a RETRIEVE by the request's originator: the
 * resource's type, or for a sub-group fan-out member its memberType [TS-0004 §7.4.13.2.1]. Asked only when the
 * group's memberType is not mixed (nothing to validate otherwise). A member its CSE says is not there is dropped, as a
 * missing local one is; one the originator may not retrieve refuses the request (5105 RECEIVER_HAS_NO_PRIVILEGE, as
 * §7.4.13.2.1 says for sub-groups); one whose CSE cannot be reached now stays, unvalidated (mtv false).
 */
async function checkRemoteMembers(ctx: HookContext, mid: readonly string[], mt: number): Promise<Map<string, RemoteMember>> {
  const found = new Map<string, RemoteMember>();
  const retrieve = ctx.retrieveElsewhere;
  if (!retrieve || mt === MIXED) return found;
  const remote = [...new Set(mid)].filter((m) => isMemberElsewhere(ctx.self, m)).slice(0, MAX_REMOTE_CHECKS);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < remote.length) {
      const member = remote[next++] as string;
      const { id, fanOut } = memberResource(member);
      const answer = await retrieve(id);
      if (answer.rsc === RSC.OK) {
        const representation = Object.values(answer.pc ?? {})[0] as Record<string, unknown> | undefined;
        const ty = representation?.ty;
        if (typeof ty !== 'number' || (fanOut && ty !== RESOURCE_TYPE.group)) found.set(member, 'gone');
        else found.set(member, { type: fanOut ? (typeof representation?.mt === 'number' ? representation.mt : MIXED) : ty });
      } else if (answer.rsc === RSC.NOT_FOUND) {
        found.set(member, 'gone');
      } else if (answer.rsc === RSC.ORIGINATOR_HAS_NO_PRIVILEGE) {
        throw new CseError(RSC.RECEIVER_HAS_NO_PRIVILEGE, `the originator may not retrieve member '${member}' from its CSE, so its type cannot be validated`);
      } else {
        found.set(member, 'unreachable');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(REMOTE_CHECK_CONCURRENCY, remote.length) }, worker));
  return found;
}

/**
 * A local member's type is validated only where the originator may retrieve it (for a sub-group fan-out member, the
 * sub-group), as a member on another CSE is asked for by the originator: otherwise 5105 RECEIVER_HAS_NO_PRIVILEGE
 * [TS-0004 §7.4.13.2.1: "If the resourceType cannot be retrieved due to lack of privilege"]. Without this, memberType
 * with consistencyStrategy told anyone the type of any resource here (kept, dropped, or 4110). In prepare: the access
 * decision reads outside the transaction.
 */
async function checkLocalMembers(ctx: HookContext, mid: readonly string[], mt: number): Promise<void> {
  const may = ctx.may;
  if (mt === MIXED || !may) return;
  for (const member of new Set(mid)) {
    const resolved = await resolveLocalMember(ctx, member);
    if (resolved === undefined || resolved === 'remote') continue;
    if (!(await may(ACCESS_OPERATION.RETRIEVE, resolved))) {
      throw new CseError(RSC.RECEIVER_HAS_NO_PRIVILEGE, `the originator may not retrieve member '${member}', so its type cannot be validated`);
    }
  }
}

/**
 * Validates members against memberType under the consistency strategy [TS-0001 §10.2.7.2, TS-0004 §7.4.13.2.1]:
 * missing members are dropped; a member of another type (for a sub-group fan-out member, whose memberType differs)
 * is dropped, refuses the group, or makes it mixed. Members on other CSEs count with the type their CSEs gave
 * (prepare); one that could not be asked leaves the group unvalidated (mtv false).
 */
async function validateMembers(ctx: HookContext, group: StoredResource, listedBefore: readonly unknown[] = []): Promise<void> {
  const attrs = group.doc as GroupAttributes;
  const before = new Set(listedBefore);
  const newlyListed: NewlyListed[] = [];
  const strategy = attrs.csy ?? CONSISTENCY.ABANDON_MEMBER;
  const members = [...new Set(attrs.mid ?? [])];
  const elsewhere = remoteMembers.get(ctx.request);
  const kept: string[] = [];
  const toMark = new Map<string, StoredResource>();
  let validated = true;
  for (const member of members) {
    const resolved = await resolveLocalMember(ctx, member);
    let type: number;
    if (resolved === 'remote') {
      const remote = elsewhere?.get(member);
      if (remote === 'gone') continue;
      if (remote === undefined || remote === 'unreachable') {
        validated = false;
        kept.push(member);
        continue;
      }
      type = remote.type;
    } else {
      if (!resolved) continue;
      if (resolved.ri === group.ri) throw badRequest('a group cannot be its own member');
      const fanOut = memberResource(member).fanOut;
      // A fanOutPoint of something that is no group names nothing.
      if (fanOut && resolved.ty !== RESOURCE_TYPE.group) continue;
      type = fanOut ? ((resolved.doc as GroupAttributes).mt ?? MIXED) : resolved.ty;
    }
    const mt = attrs.mt ?? MIXED;
    if (mt !== MIXED && type !== mt) {
      if (strategy === CONSISTENCY.ABANDON_GROUP) {
        throw new CseError(RSC.GROUP_MEMBER_TYPE_INCONSISTENT, `member '${member}' is of type ${type}, not memberType ${mt}`);
      }
      if (strategy === CONSISTENCY.ABANDON_MEMBER) continue;
      attrs.mt = MIXED;
    }
    if (resolved !== 'remote') {
      if (!isGroupMember(resolved)) toMark.set(member, resolved);
      else {
        const names = memberNames(ctx.self, resolved);
        if (!names.some((name) => before.has(name))) newlyListed.push({ ri: resolved.ri, names });
      }
    }
    kept.push(member);
  }
  if (newlyListed.length > 0) recheckAfterCommit.set(ctx.request, newlyListed);
  const gone = await markMembers(ctx, [...toMark.values()]);
  if (gone.size > 0) kept.splice(0, kept.length, ...kept.filter((member) => !gone.has(toMark.get(member)?.ri ?? '')));
  if (attrs.mnm !== undefined && kept.length > attrs.mnm) {
    throw new CseError(RSC.MAX_NUMBER_OF_MEMBER_EXCEEDED, `${kept.length} members exceed maxNrOfMembers ${attrs.mnm}`);
  }
  attrs.mid = kept;
  attrs.cnm = kept.length;
  attrs.mtv = validated;
}

/**
 * Document key of a resource some group lists as a member: only the deletion of such a resource looks for the
 * groups to leave (a search over all groups), not every DELETE. Set when a group takes the member, never cleared.
 */
const MEMBER_KEY = '__member';
const GROUPS_PER_QUERY = 500;

/** The names a group may list a local member by: its resource ID, SP-relative ID or structured name, a sub-group also with its fanOutPoint. */
function memberNames(self: LocalIdentity, member: StoredResource): string[] {
  const ids = [member.ri, `/${self.cseId}/${member.ri}`, member.srn, `/${self.cseId}/${member.srn}`];
  return member.ty === RESOURCE_TYPE.group ? [...ids, ...ids.map((id) => `${id}${SUB_GROUP_FAN_OUT}`)] : ids;
}

/** A member some group lists already (marked, so not locked) that a group write lists newly. */
interface NewlyListed {
  readonly ri: string;
  readonly names: readonly string[];
}

/** Per request: what dropGoneMembers looks at once the group write committed. */
const recheckAfterCommit = new WeakMap<RequestPrimitive, readonly NewlyListed[]>();

/**
 * After a group write committed: a member some group listed already, which it listed newly, may have been deleted
 * meanwhile — its deletion looked for the groups to leave before this one committed, and it is not locked here (its
 * deletion locks it and then those groups: the other order). Found gone now, it leaves the group. With the
 * deletion's own second look after its commit (removal.ts), one of the two sees the other: no lock needed, so none
 * to deadlock on. Returns the group as stored afterwards.
 */
export async function dropGoneMembers(services: Pick<CseServices, 'store' | 'access' | 'log'>, request: RequestPrimitive, group: StoredResource): Promise<StoredResource> {
  const listed = recheckAfterCommit.get(request);
  if (!listed) return group;
  recheckAfterCommit.delete(request);
  // The write is done and answered as done: a failure here leaves the member listed (a fan-out answers 4004 for it).
  try {
    const gone = new Set<string>();
    for (const member of listed) if (!(await services.store.get(member.ri))) for (const name of member.names) gone.add(name);
    if (gone.size === 0) return group;
    const changed = await services.store.transaction((tx) => withoutMembers(tx, group.ri, gone));
    if (!changed) return group;
    await services.access.invalidate(changed);
    // The answer is this write's group, less the members found gone (not what another write committed since).
    const mid = ((group.doc as GroupAttributes).mid ?? []).filter((m) => !gone.has(m));
    return { ...group, doc: { ...group.doc, mid, cnm: mid.length } };
  } catch (err) {
    services.log.warn({ err, group: group.ri }, 'a group could not look again for members deleted while it was written; a fan-out finds them gone');
    return group;
  }
}

/**
 * Marks the local members not marked yet (each row locked first: its other attributes may be changing meanwhile);
 * returns the resource IDs of those gone by then. A member not yet marked that is being deleted is waited for, and
 * found gone: its deletion did not look for groups (only marked members do), and before, it stayed listed. They are
 * locked in the order of their resource IDs, so two groups taking the same new members, listed in other orders,
 * wait for each other instead of deadlocking (PostgreSQL). A member marked already is not locked: its deletion
 * locks it and then the groups that list it, this group locked first would wait for it in the other order: such
 * members are looked at again after the commit (dropGoneMembers).
 */
async function markMembers(ctx: HookContext, members: readonly StoredResource[]): Promise<Set<string>> {
  const gone = new Set<string>();
  const inLockOrder = [...new Map(members.map((member) => [member.ri, member])).values()].sort((a, b) => (a.ri < b.ri ? -1 : a.ri > b.ri ? 1 : 0));
  for (const member of inLockOrder) {
    const fresh = await ctx.store.getForUpdate(member.ri);
    if (!fresh) {
      gone.add(member.ri);
      continue;
    }
    if (isGroupMember(fresh)) continue;
    fresh.doc[MEMBER_KEY] = true;
    await ctx.store.update(fresh);
  }
  return gone;
}

/** Whether some group lists this resource (then its deletion leaves the groups, and looks again after its commit). */
export const isGroupMember = (resource: StoredResource): boolean => resource.doc[MEMBER_KEY] === true;

/** Takes the entries with these names out of a group (locked here), cnm following; the group stored, or undefined when it lists none of them. */
async function withoutMembers(tx: ResourceStore, groupRi: string, names: ReadonlySet<string>): Promise<StoredResource | undefined> {
  const group = await tx.getForUpdate(groupRi);
  if (!group) return undefined;
  const attrs = group.doc as GroupAttributes;
  const mid = (attrs.mid ?? []).filter((m) => !names.has(m));
  if (mid.length === (attrs.mid ?? []).length) return undefined;
  attrs.mid = mid;
  attrs.cnm = mid.length;
  await tx.update(group);
  return group;
}

/**
 * A deleted member leaves the groups that list it, and currentNrOfMembers follows (ACME does so; TS-0001
 * §9.6.13 has cnm count the members, and a deleted resource is none). Runs in the deleting transaction, for
 * the deleted resource itself (members deleted with an ancestor stay listed, and fan-out answers 4004 for
 * them); returns the groups changed, for the access cache.
 */
export async function leaveGroups(tx: ResourceStore, self: LocalIdentity, root: StoredResource, now: number): Promise<StoredResource[]> {
  if (!isGroupMember(root)) return [];
  const names = memberNames(self, root);
  const hits = await tx.search({ below: self.cseRn, onlyTypes: [RESOURCE_TYPE.group], listHasAny: ['mid', names], operation: 'and', aliveAt: now, withoutContent: true, limit: GROUPS_PER_QUERY });
  const changed: StoredResource[] = [];
  const listed = new Set(names);
  for (const hit of hits) {
    const group = await withoutMembers(tx, hit.ri, listed);
    if (group) changed.push(group);
  }
  return changed;
}

export const groupType = defineResourceType({
  ty: RESOURCE_TYPE.group,
  typeName: 'm2m:grp',
  attributes,
  childTypes: [RESOURCE_TYPE.subscription, RESOURCE_TYPE.semanticDescriptor, RESOURCE_TYPE.action],
  virtualChildren: ['fopt'],
  creatable: true,
  updatable: true,
  deletable: true,
  hasAcpi: true,
  hooks: {
    async prepare(ctx, content, operation, target) {
      if (!Array.isArray(content.mid)) return;
      const mt = typeof content.mt === 'number' ? content.mt : operation === 'update' && typeof target.doc.mt === 'number' ? target.doc.mt : MIXED;
      const mid = content.mid.filter((m): m is string => typeof m === 'string');
      await checkLocalMembers(ctx, mid, mt);
      remoteMembers.set(ctx.request, await checkRemoteMembers(ctx, mid, mt));
    },
    async beforeCreate(ctx, resource) {
      const attrs = resource.doc as GroupAttributes;
      attrs.mt ??= MIXED;
      attrs.csy ??= CONSISTENCY.ABANDON_MEMBER;
      await validateMembers(ctx, resource);
    },
    async beforeUpdate(ctx, resource, changes, previous) {
      if ('mid' in changes || 'mnm' in changes) await validateMembers(ctx, resource, Array.isArray(previous.mid) ? previous.mid : []);
    },
    afterCommit: (ctx, resource) => dropGoneMembers(ctx.services, ctx.request, resource),
    afterUpdateCommit: (ctx, resource) => dropGoneMembers(ctx.services, ctx.request, resource),
  },
});
