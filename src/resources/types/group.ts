// <group> (ty 9, TS-0001 §9.6.13): a set of member resources. Membership is what access control reads
// (a group's ID in accessControlOriginators); fan-out through fopt comes with the group issue.
import { ACCESS_CONTROL, CREATOR, EXPIRATION, LABELS, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributesOf, type AttributeSpec, type HookContext } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { CseError, badRequest } from '../../primitive/errors.js';
import { RSC } from '../../primitive/rsc.js';
import type { ResourceStore, StoredResource } from '../../storage/store.js';
import type { LocalIdentity } from '../../primitive/identifiers.js';
import { announceAttributes } from '../announceable.js';

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

/** The local resource a member ID names (resource ID, SP-relative under this CSE, or structured path). */
export async function resolveLocalMember(ctx: Pick<HookContext, 'store' | 'self'>, member: string): Promise<StoredResource | undefined | 'remote'> {
  let id = member;
  const spPrefix = `/${ctx.self.cseId}/`;
  if (id.startsWith('//')) return 'remote';
  if (id.startsWith(spPrefix)) id = id.slice(spPrefix.length);
  else if (id.startsWith('/')) return 'remote';
  if (id.startsWith(`${ctx.self.cseRn}/`)) return ctx.store.getByPath(id);
  return ctx.store.get(id);
}

/**
 * Validates members against memberType under the consistency strategy [TS-0001 §10.2.7.2]: missing local
 * members are dropped; a member of another type is dropped, refuses the group, or makes it mixed.
 */
async function validateMembers(ctx: HookContext, group: StoredResource): Promise<void> {
  const attrs = group.doc as GroupAttributes;
  const strategy = attrs.csy ?? CONSISTENCY.ABANDON_MEMBER;
  const members = [...new Set(attrs.mid ?? [])];
  const kept: string[] = [];
  let validated = true;
  for (const member of members) {
    const resolved = await resolveLocalMember(ctx, member);
    if (resolved === 'remote') {
      validated = false; // remote members are checked when remote CSEs are supported
      kept.push(member);
      continue;
    }
    if (!resolved) continue;
    if (resolved.ri === group.ri) throw badRequest('a group cannot be its own member');
    const mt = attrs.mt ?? MIXED;
    if (mt !== MIXED && resolved.ty !== mt) {
      if (strategy === CONSISTENCY.ABANDON_GROUP) {
        throw new CseError(RSC.GROUP_MEMBER_TYPE_INCONSISTENT, `member '${member}' is of type ${resolved.ty}, not memberType ${mt}`);
      }
      if (strategy === CONSISTENCY.ABANDON_MEMBER) continue;
      attrs.mt = MIXED;
    }
    await markMember(ctx, resolved);
    kept.push(member);
  }
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

/** Marks a local member (its row locked first: its other attributes may be changing meanwhile). */
async function markMember(ctx: HookContext, member: StoredResource): Promise<void> {
  if (member.doc[MEMBER_KEY] === true) return;
  const fresh = await ctx.store.getForUpdate(member.ri);
  if (!fresh || fresh.doc[MEMBER_KEY] === true) return;
  fresh.doc[MEMBER_KEY] = true;
  await ctx.store.update(fresh);
}

/**
 * A deleted member leaves the groups that list it, and currentNrOfMembers follows (ACME does so; TS-0001
 * §9.6.13 has cnm count the members, and a deleted resource is none). Runs in the deleting transaction, for
 * the deleted resource itself (members deleted with an ancestor stay listed, and fan-out answers 4004 for
 * them); returns the groups changed, for the access cache.
 */
export async function leaveGroups(tx: ResourceStore, self: LocalIdentity, root: StoredResource, now: number): Promise<StoredResource[]> {
  if (root.doc[MEMBER_KEY] !== true) return [];
  // Members are listed by resource ID, SP-relative ID or structured name.
  const names = [root.ri, `/${self.cseId}/${root.ri}`, root.srn, `/${self.cseId}/${root.srn}`];
  const hits = await tx.search({ below: self.cseRn, onlyTypes: [RESOURCE_TYPE.group], listHasAny: ['mid', names], operation: 'and', aliveAt: now, withoutContent: true, limit: GROUPS_PER_QUERY });
  const changed: StoredResource[] = [];
  for (const hit of hits) {
    const group = await tx.getForUpdate(hit.ri);
    if (!group) continue;
    const attrs = group.doc as GroupAttributes;
    const mid = (attrs.mid ?? []).filter((m) => !names.includes(m));
    if (mid.length === (attrs.mid ?? []).length) continue;
    attrs.mid = mid;
    attrs.cnm = mid.length;
    await tx.update(group);
    changed.push(group);
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
    async beforeCreate(ctx, resource) {
      const attrs = resource.doc as GroupAttributes;
      attrs.mt ??= MIXED;
      attrs.csy ??= CONSISTENCY.ABANDON_MEMBER;
      await validateMembers(ctx, resource);
    },
    async beforeUpdate(ctx, resource, changes) {
      if ('mid' in changes || 'mnm' in changes) await validateMembers(ctx, resource);
    },
  },
});
