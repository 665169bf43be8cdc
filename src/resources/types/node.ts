// <node> (ty 14, TS-0001 §9.6.18): the node-specific information of a device, parent of its <mgmtObj>s. An
// <AE>'s nodeLink (nl) and the node's hostedAELinks (hael) name each other, as do a <remoteCSE>'s nl and the node's
// hostedCSELink (hcl); this file keeps them consistent.
import { ACCESS_CONTROL, EXPIRATION, LABELS, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributesOf, type AttributeSpec, type HookContext } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { CseError, badRequest } from '../../primitive/errors.js';
import { RSC } from '../../primitive/rsc.js';
import { ACCESS_OPERATION } from '../../security/acp.js';
import { formatTimestamp } from '../../primitive/identifiers.js';
import type { StoredResource } from '../../storage/store.js';
import { localResourceIn } from '../../operations/localResource.js';
import { announceAttributes } from '../announceable.js';

/** The resource ID of the node an AE's nl names, as resolved when it was written (nl may use any ID form). */
export const NODE_LINK_KEY = '__node';

const attributes = {
  ...UNIVERSAL,
  ...announceAttributes(RESOURCE_TYPE.node),
  ...EXPIRATION,
  ...LABELS,
  ...ACCESS_CONTROL,
  ni: { type: 'string', create: 'M', update: 'O' },
  hcl: { type: 'anyURI', create: 'O', update: 'O' },
  // listNE: a list given must name at least one AE.
  hael: { type: 'anyURIList', create: 'O', update: 'O', check: (v) => (Array.isArray(v) && v.length > 0 ? undefined : 'must not be an empty list') },
  hsl: { type: 'stringList', create: 'O', update: 'O' },
  mgca: { type: 'stringList', create: 'O', update: 'O' },
  rms: { type: 'boolean', create: 'NP', update: 'NP' },
  nid: { type: 'string', create: 'NP', update: 'NP' },
  nty: { type: 'nonNegInteger', create: 'O', update: 'O' },
} as const satisfies Record<string, AttributeSpec>;

export type NodeAttributes = AttributesOf<typeof attributes>;

export const nodeType = defineResourceType({
  ty: RESOURCE_TYPE.node,
  typeName: 'm2m:nod',
  attributes,
  childTypes: [RESOURCE_TYPE.mgmtObj, RESOURCE_TYPE.subscription, RESOURCE_TYPE.semanticDescriptor, RESOURCE_TYPE.schedule, RESOURCE_TYPE.action],
  creatable: true,
  updatable: true,
  deletable: true,
  hasAcpi: true,
  hooks: {},
});

async function changeHostedAes(ctx: HookContext, nodeRi: string, change: (hael: string[]) => string[], linking = false): Promise<void> {
  const node = await ctx.store.getForUpdate(nodeRi);
  // The node read before the lock may have been deleted since: an AE linked to it would name nothing.
  if (node?.ty !== RESOURCE_TYPE.node) {
    if (linking) throw badRequest(`attribute 'nl' names a <node> that was deleted meanwhile`);
    return;
  }
  const attrs = node.doc as NodeAttributes;
  const hael = change([...(attrs.hael ?? [])]);
  // The attribute goes when its last AE does: hael is a non-empty list when present (ACME does the same).
  if (hael.length > 0) attrs.hael = hael;
  else delete attrs.hael;
  node.lt = formatTimestamp(ctx.now);
  await ctx.store.update(node);
}

/**
 * Points an AE (just created or updated; its doc already holds the new nl) at the node its nl names, moving it
 * off the node it named before. An nl naming no <node> of this CSE is 4000: a link must lead somewhere
 * [TS-0001 §9.6.5 nodeLink: "the resource ID of a <node> resource"].
 */
export async function linkAeToNode(ctx: HookContext, ae: StoredResource): Promise<void> {
  const before = typeof ae.doc[NODE_LINK_KEY] === 'string' ? (ae.doc[NODE_LINK_KEY]) : undefined;
  let after: string | undefined;
  if (typeof ae.doc.nl === 'string') {
    const node = await localResourceIn(ctx.store, ctx.self, ctx.now, ae.doc.nl);
    if (node?.ty !== RESOURCE_TYPE.node) throw badRequest(`attribute 'nl' '${ae.doc.nl}' names no <node> resource of this CSE`);
    after = node.ri;
  }
  if (before === after) return;
  if (before) await changeHostedAes(ctx, before, (hael) => hael.filter((ri) => ri !== ae.ri));
  if (after) await changeHostedAes(ctx, after, (hael) => (hael.includes(ae.ri) ? hael : [...hael, ae.ri]), true);
  if (after) ae.doc[NODE_LINK_KEY] = after;
  else delete ae.doc[NODE_LINK_KEY];
}

async function changeHostedCse(ctx: HookContext, nodeRi: string, cseRi: string | undefined, leaving: string): Promise<void> {
  const node = await ctx.store.getForUpdate(nodeRi);
  if (node?.ty !== RESOURCE_TYPE.node) {
    if (cseRi !== undefined) throw badRequest(`attribute 'nl' names a <node> that was deleted meanwhile`);
    return;
  }
  if (cseRi === undefined) {
    if (node.doc.hcl !== leaving) return;
    delete node.doc.hcl;
  } else {
    // Checked again under the lock: two CSEs naming one node at once both found it free before it.
    if (typeof node.doc.hcl === 'string' && node.doc.hcl !== cseRi) throw badRequest(`attribute 'nl': the <node> it names already hosts another CSE`);
    node.doc.hcl = cseRi;
  }
  node.lt = formatTimestamp(ctx.now);
  await ctx.store.update(node);
}

/**
 * The privilege linkCseToNode relies on, checked in prepare (the access decision reads outside the transaction): the
 * registering CSE may UPDATE the node its nl names. A name that is no node is left to linkCseToNode (4000).
 */
export async function checkCseNodeLink(ctx: HookContext, nl: unknown): Promise<void> {
  if (typeof nl !== 'string' || !ctx.may) return;
  const node = await localResourceIn(ctx.store, ctx.self, ctx.now, nl);
  if (node?.ty !== RESOURCE_TYPE.node) return;
  if (!(await ctx.may(ACCESS_OPERATION.UPDATE, node))) throw new CseError(RSC.ORIGINATOR_HAS_NO_PRIVILEGE, `attribute 'nl': ${ctx.originator} may not update the <node> it names`);
}

/**
 * Points a <remoteCSE> (just created or updated) at the node its nl names: that node's hostedCSELink becomes the
 * <remoteCSE> [TS-0001 §9.6.18 hostedCSELink: "the resource is a <CSEBase> resource or a <remoteCSE> resource …
 * hosted on the same CSE as the present <node> resource"]. A node hosts one CSE: one whose hcl already names
 * another is 4000, never silently taken over. Linking writes the node's hcl and keeps every other CSE off that node,
 * so the registering CSE must be one the node's policies let UPDATE it [Warden policy: TS-0001 sets no rule; without
 * it any registree could claim every node, and a registration naming its own node then failed]. An AE's nl only
 * adds the AE itself to hael and is open to any AE, as in ACME.
 */
export async function linkCseToNode(ctx: HookContext, csr: StoredResource): Promise<void> {
  const before = typeof csr.doc[NODE_LINK_KEY] === 'string' ? csr.doc[NODE_LINK_KEY] : undefined;
  let after: string | undefined;
  if (typeof csr.doc.nl === 'string') {
    const node = await localResourceIn(ctx.store, ctx.self, ctx.now, csr.doc.nl);
    if (node?.ty !== RESOURCE_TYPE.node) throw badRequest(`attribute 'nl' '${csr.doc.nl}' names no <node> resource of this CSE`);
    // Which CSE the node hosts is not told: the originator may update the node, not necessarily read it.
    if (typeof node.doc.hcl === 'string' && node.doc.hcl !== csr.ri) throw badRequest(`attribute 'nl': the <node> it names already hosts another CSE`);
    after = node.ri;
  }
  if (before === after) return;
  if (before) await changeHostedCse(ctx, before, undefined, csr.ri);
  if (after) await changeHostedCse(ctx, after, csr.ri, csr.ri);
  if (after) csr.doc[NODE_LINK_KEY] = after;
  else delete csr.doc[NODE_LINK_KEY];
}

/**
 * A deleted AE leaves the hael of its node, a deleted <remoteCSE> its hcl; a deleted node leaves the nl of the AEs
 * and the CSE it hosted.
 */
export async function unlinkRemoved(ctx: HookContext, removed: StoredResource): Promise<void> {
  if (removed.ty === RESOURCE_TYPE.AE && typeof removed.doc[NODE_LINK_KEY] === 'string') {
    await changeHostedAes(ctx, removed.doc[NODE_LINK_KEY], (hael) => hael.filter((ri) => ri !== removed.ri));
  }
  if (removed.ty === RESOURCE_TYPE.remoteCSE && typeof removed.doc[NODE_LINK_KEY] === 'string') {
    await changeHostedCse(ctx, removed.doc[NODE_LINK_KEY], undefined, removed.ri);
  }
  if (removed.ty === RESOURCE_TYPE.node && typeof removed.doc.hcl === 'string') {
    const csr = await ctx.store.getForUpdate(removed.doc.hcl);
    if (csr?.ty === RESOURCE_TYPE.remoteCSE && csr.doc[NODE_LINK_KEY] === removed.ri) {
      delete csr.doc.nl;
      delete csr.doc[NODE_LINK_KEY];
      csr.lt = formatTimestamp(ctx.now);
      await ctx.store.update(csr);
    }
  }
  if (removed.ty === RESOURCE_TYPE.node) {
    for (const aeRi of (removed.doc as NodeAttributes).hael ?? []) {
      const ae = await ctx.store.getForUpdate(aeRi);
      if (ae?.ty !== RESOURCE_TYPE.AE || ae.doc[NODE_LINK_KEY] !== removed.ri) continue;
      delete ae.doc.nl;
      delete ae.doc[NODE_LINK_KEY];
      ae.lt = formatTimestamp(ctx.now);
      await ctx.store.update(ae);
    }
  }
}
