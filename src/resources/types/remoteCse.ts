// <remoteCSE> (ty 16, TS-0001 §9.6.4, TS-0004 §7.4.4): a CSE registered here (created by that CSE's
// registration request), or, on a registree, its registrar (created by this CSE once it registered,
// src/remote/registrar.ts). Its csi and descendantCSEs are what requests for other CSEs are routed by.
import { ACCESS_CONTROL, CREATOR_KEY, EXPIRATION, LABELS, LOCATION, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributeSpec, type HookContext } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { checkPointsOfAccess } from '../validate.js';
import { CseError, badRequest, notAllowed } from '../../primitive/errors.js';
import { RSC } from '../../primitive/rsc.js';
import type { StoredResource } from '../../storage/store.js';
import { checkCseNodeLink, linkCseToNode } from './node.js';

const RELEASES = ['1', '2', '2a', '3', '4', '5'];
/** An SP-relative CSE-ID: `/` and one segment [TS-0001 §7.2, table 7.2-1]. */
export const SP_RELATIVE_CSE_ID = /^\/[A-Za-z0-9][A-Za-z0-9\-._~]{0,63}$/;
/**
 * Whether an SP-relative CSE-ID is the spelling of an S-AE-ID: //SP/S… is the absolute form of an SP-relative AE-ID
 * wherever that AE registered [TS-0001 §7.2], and a CSE-ID /S… would be the same originator (security/originators.ts).
 * Never a descendant CSE: a registree listing one could speak for that AE.
 */
export function spellsSAeId(csi: string): boolean {
  return csi.startsWith('/S');
}

/** Most descendants one <remoteCSE> may list: every request for another CSE scans them. */
export const MAX_DESCENDANTS = 1000;

const cseIdList = (value: unknown): string | undefined =>
  Array.isArray(value) && value.every((v) => typeof v === 'string' && SP_RELATIVE_CSE_ID.test(v)) ? undefined : 'must list SP-relative CSE-IDs (/cse-id)';

const attributes = {
  ...UNIVERSAL,
  ...EXPIRATION,
  ...LABELS,
  ...LOCATION,
  ...ACCESS_CONTROL,
  cr: { type: 'any', create: 'O', update: 'NP', check: (v) => (v === null ? undefined : 'must be null in a request: the CSE sets it') },
  cst: { type: 'enum', create: 'O', update: 'NP', values: [1, 2, 3] },
  poa: { type: 'anyURIList', create: 'O', update: 'O', maxLength: 32, check: checkPointsOfAccess },
  cb: { type: 'anyURI', create: 'M', update: 'NP', maxLength: 512 },
  csi: { type: 'string', create: 'O', update: 'NP', maxLength: 65 },
  mei: { type: 'string', create: 'O', update: 'O', maxLength: 255 },
  tri: { type: 'string', create: 'O', update: 'O', maxLength: 255 },
  rr: { type: 'boolean', create: 'M', update: 'O' },
  nl: { type: 'anyURI', create: 'O', update: 'O' },
  trn: { type: 'nonNegInteger', create: 'O', update: 'O' },
  csz: { type: 'stringList', create: 'O', update: 'O', maxLength: 8 },
  esi: { type: 'object', create: 'O', update: 'O' },
  dcse: { type: 'stringList', create: 'O', update: 'O', maxLength: MAX_DESCENDANTS, check: cseIdList },
  srv: {
    type: 'stringList',
    create: 'M',
    update: 'O',
    maxLength: 16,
    check: (v) => (Array.isArray(v) && v.every((r) => RELEASES.includes(String(r))) ? undefined : `may only list releases ${RELEASES.join(', ')}`),
  },
  mtcc: { type: 'list', create: 'O', update: 'O', maxLength: 8 },
  egid: { type: 'string', create: 'O', update: 'O', maxLength: 255 },
  tren: { type: 'boolean', create: 'O', update: 'O' },
  ape: { type: 'list', create: 'O', update: 'O', maxLength: 16 },
} as const satisfies Record<string, AttributeSpec>;

/** Document key marking the <remoteCSE> that stands for this CSE's registrar (src/remote/registration.ts). */
export const REGISTRAR_KEY = '__registrar';
/** Store broadcast on every change of a <remoteCSE> (`changed <ri>`, `removed <ri>`), delivered on commit. */
export const REMOTE_CSE_TOPIC = 'remoteCSE';

/** The resource ID of the <remoteCSE> of a CSE: its CSE-ID without the slash (as ACME names it). */
export function remoteCseRi(csi: string): string {
  return csi.replace(/^\//, '');
}

/**
 * A registree's descendantCSEs must not name this CSE, the registree itself, another CSE registered here, or a
 * descendant of another registree: requests are routed by them, and authenticate lets a registree relay its
 * descendants' originators, so such an entry would draw another CSE's traffic to the registree and let it speak for
 * that CSE and its AEs. A CSE sits in one branch of the tree only. Only entries new to the list are looked up in the
 * other registrees (a registree sends its whole list again at every check).
 */
async function checkDescendants(ctx: HookContext, resource: StoredResource, previous: unknown = undefined): Promise<void> {
  const dcse = resource.doc.dcse;
  if (!Array.isArray(dcse)) return;
  const own = resource.doc.csi;
  for (const id of dcse as string[]) {
    if (id === `/${ctx.self.cseId}` || id === own) throw badRequest(`descendantCSEs may not name '${id}'`);
    if (spellsSAeId(id)) throw badRequest(`descendantCSEs may not name '${id}': /S… is the form of an S-AE-ID, not of a CSE-ID`);
    const other = await ctx.store.get(remoteCseRi(id));
    if (other?.ty === RESOURCE_TYPE.remoteCSE && other.ri !== resource.ri) throw badRequest(`descendantCSEs may not name '${id}': it is registered here itself`);
  }
  const known = Array.isArray(previous) ? (previous as unknown[]) : [];
  const added = (dcse as string[]).filter((id) => !known.includes(id));
  if (added.length === 0) return;
  // One claim at a time, on every process: two registrees adding the same CSE at once each found the other's list
  // without it (an UPDATE locks only its own <remoteCSE>), and both kept it.
  await ctx.store.lockKey('descendantCSEs');
  for (let offset = 0; ; offset += PAGE) {
    const page = await ctx.store.children(ctx.self.cseId, { ty: RESOURCE_TYPE.remoteCSE, aliveAt: ctx.now, limit: PAGE, offset });
    for (const other of page) {
      if (other.ri === resource.ri || other.doc[REGISTRAR_KEY] === true || !Array.isArray(other.doc.dcse)) continue;
      const taken = added.find((id) => (other.doc.dcse as unknown[]).includes(id));
      if (taken) throw badRequest(`descendantCSEs may not name '${taken}': it is a descendant of ${String(other.doc.csi)} already`);
    }
    if (page.length < PAGE) return;
  }
}

/** <remoteCSE> resources read per page when the other registrees' descendants are checked. */
const PAGE = 500;

export const remoteCseType = defineResourceType({
  ty: RESOURCE_TYPE.remoteCSE,
  typeName: 'm2m:csr',
  attributes,
  childTypes: [RESOURCE_TYPE.accessControlPolicy, RESOURCE_TYPE.container, RESOURCE_TYPE.flexContainer, RESOURCE_TYPE.group, RESOURCE_TYPE.subscription, RESOURCE_TYPE.timeSeries],
  creatable: true,
  updatable: true,
  deletable: true,
  hasAcpi: true,
  hooks: {
    async prepare(ctx, content) {
      await checkCseNodeLink(ctx, content.nl);
    },
    async beforeCreate(ctx, resource, parent) {
      const from = ctx.originator;
      // Only a CSE registers a CSE [TS-0004 §7.4.4.2.1]: an AE-ID originator is 4005; a CSE-ID originator has been
      // authenticated by the authenticate stage (4107 outside a security association).
      if (!SP_RELATIVE_CSE_ID.test(from)) throw notAllowed(`only a CSE may create a <remoteCSE>: '${from}' is no CSE-ID`);
      // The credential of the security association must name the registering CSE itself [TS-0004 §7.4.4.2.1 Recv-6.3,
      // 4107]: authenticate admits originators a registree relays (its descendantCSEs, which it writes itself), and
      // one of those registering here would take another CSE's name and route with a point of access of its choosing.
      if (ctx.credentialId === undefined) throw new CseError(RSC.SECURITY_ASSOCIATION_REQUIRED, `CSE '${from}' registers only over a security association whose credential names it`);
      if (parent.ty !== RESOURCE_TYPE.CSEBase) throw new CseError(RSC.INVALID_CHILD_RESOURCE_TYPE, 'a <remoteCSE> is created directly under the CSEBase');
      if (ctx.config.cse.type === 'ASN') throw notAllowed('an ASN-CSE accepts no CSE registrations');
      if (from === `/${ctx.self.cseId}`) throw notAllowed('a CSE cannot register with itself');
      // The CSE-ID attribute is the From of the registration [TS-0004 §7.4.4.2.1 Recv-6.5].
      const ri = remoteCseRi(from);
      const existing = await ctx.store.get(ri);
      if (existing) {
        throw new CseError(RSC.ORIGINATOR_HAS_ALREADY_REGISTERED, existing.ty === RESOURCE_TYPE.remoteCSE ? `CSE '${from}' is already registered` : `resource ID '${ri}' is taken`);
      }
      resource.ri = ri;
      resource.doc.csi = from;
      resource.owner = from;
      resource.doc[CREATOR_KEY] = from;
      if ('cr' in resource.doc) resource.doc.cr = from;
      await checkDescendants(ctx, resource);
      await linkCseToNode(ctx, resource);
      await ctx.store.broadcast(REMOTE_CSE_TOPIC, `changed ${ri}`);
    },
    async beforeUpdate(ctx, resource, changes, previous) {
      if ('dcse' in changes) await checkDescendants(ctx, resource, previous.dcse);
      if ('nl' in changes) await linkCseToNode(ctx, resource);
      await ctx.store.broadcast(REMOTE_CSE_TOPIC, `changed ${resource.ri}`);
    },
  },
});
