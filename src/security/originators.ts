// accessControlOriginators matching [TS-0003 §7.1.3 table 7.1.3-2]. IDs are normalised to absolute form
// (//SP/CSE/AE) so the relative and absolute spellings of one originator compare equal. A `*` matches within
// one path segment only; no regular expression is ever built from stored or request input.
import { hasAssignedIdShape, type LocalIdentity } from '../primitive/identifiers.js';

/** Absolute form of an originator or acor ID, split into segments after the leading `//`. */
export function absoluteSegments(id: string, self: LocalIdentity): string[] {
  if (id.startsWith('//')) return id.slice(2).split('/');
  if (id.startsWith('/')) return [self.spId, ...id.slice(1).split('/')];
  // SP-relative S-AE-IDs have no CSE part [TS-0001 §7.2]; every other bare ID is CSE-relative to this CSE.
  if (id.startsWith('S')) return [self.spId, id];
  return [self.spId, self.cseId, ...id.split('/')];
}

/** Glob match of one segment where `*` stands for any run of characters (no `/` can occur inside a segment). */
export function segmentMatches(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value;
  const pieces = pattern.split('*');
  const first = pieces[0] as string;
  const last = pieces[pieces.length - 1] as string;
  if (!value.startsWith(first) || value.length < first.length + last.length || !value.endsWith(last)) return false;
  let at = first.length;
  const end = value.length - last.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const piece = pieces[i] as string;
    const found = value.indexOf(piece, at);
    if (found < 0 || found + piece.length > end) return false;
    at = found + piece.length;
  }
  return true;
}

export type OriginatorMatcher =
  | { kind: 'all' }
  /** `group` is the local resource ID the entry would name if it is a <group> [TS-0003 §7.1.3]. */
  | { kind: 'id'; segments: readonly string[]; group?: string }
  | { kind: 'domain'; domain: string }
  | { kind: 'role'; roleId: string };

export const ROLE_ID = /^[A-Za-z0-9._-]+@[a-z0-9.-]+$/;

/**
 * Whether a <role>'s issuer (an m2m:ID) can have issued its Role-ID. A Role-ID carries its issuer: the FQDN after
 * `@` (TS-0004 table 6.3.3-1, m2m:roleID: issuerRelativeID@issuerID); Role-IDs are assigned by an M2M Service
 * Provider and local to its domain (TS-0001 table 7.3-1). So the issuer's M2M-SP-ID (this SP's for a relative ID,
 * the one an absolute ID names) must be that FQDN: otherwise whoever may create a <role> could mint the Role-IDs
 * of another issuer, which other SPs' policies (or this SP's, trusting that issuer) grant to.
 */
export function roleIssuedBy(roleId: string, issuer: string, self: LocalIdentity): boolean {
  if (!ROLE_ID.test(roleId)) return false;
  const sp = absoluteSegments(issuer, self)[0] ?? '';
  return sp !== '' && sp.toLowerCase() === roleId.slice(roleId.indexOf('@') + 1);
}

/** Compiles one acor entry; throws an Error explaining why the entry is malformed. */
export function compileOriginator(entry: string, self: LocalIdentity): OriginatorMatcher {
  if (entry.length === 0 || entry.length > 1024) throw new Error('an originator entry must have 1 to 1024 characters');
  if (/\s/.test(entry)) throw new Error(`originator '${entry}' contains white space`);
  if (entry === 'all') return { kind: 'all' };
  if (entry.includes('@')) {
    if (!ROLE_ID.test(entry)) throw new Error(`'${entry}' is not a Role-ID (issuerRelativeID@issuerFQDN)`);
    return { kind: 'role', roleId: entry };
  }
  // An SP domain is written in absolute form without a CSE part: //example.com. No wildcard [TS-0003 §7.1.3].
  if (entry.startsWith('//') && !entry.slice(2).includes('/')) {
    const domain = entry.slice(2);
    if (domain.includes('*')) throw new Error(`a wildcard is not allowed in the SP domain '${entry}'`);
    if (domain === '') throw new Error('an SP domain entry needs a domain name');
    return { kind: 'domain', domain: domain.toLowerCase() };
  }
  const segments = absoluteSegments(entry, self);
  if (segments.some((s) => s === '')) throw new Error(`originator '${entry}' has an empty path segment`);
  // Group resource IDs are assigned by the CSE (newResourceId), so only entries of that shape can name a group: no
  // store look-up is spent on any other entry.
  const local = segments.length === 3 && segments[0] === self.spId && segments[1] === self.cseId;
  const group = local && hasAssignedIdShape(segments[2] as string, 'grp');
  return group ? { kind: 'id', segments, group: segments[2] as string } : { kind: 'id', segments };
}

/** Local resource IDs of acor entries that may name groups, to resolve before evaluation. */
export function groupCandidates(matchers: readonly OriginatorMatcher[]): string[] {
  return matchers.flatMap((m) => (m.kind === 'id' && m.group !== undefined ? [m.group] : []));
}

export function originatorMatches(
  matcher: OriginatorMatcher,
  originator: readonly string[],
  roleIds: readonly string[],
  groups: ReadonlySet<string>,
): boolean {
  switch (matcher.kind) {
    case 'all':
      return true;
    case 'role':
      return roleIds.includes(matcher.roleId);
    case 'domain': {
      const sp = (originator[0] ?? '').toLowerCase();
      return sp === matcher.domain || sp.endsWith(`.${matcher.domain}`);
    }
    case 'id':
      // An entry of a group's shape names that group's members, never an originator of the same spelling: such an
      // ID is no AE-ID, so an unregistered originator could use it [TS-0003 table 7.1.3-2: a group ID in acor].
      if (matcher.group !== undefined) return groups.has(matcher.group);
      return matcher.segments.length === originator.length && matcher.segments.every((p, i) => segmentMatches(p, originator[i] as string));
  }
}
