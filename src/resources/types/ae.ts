// <AE> (ty 2, TS-0001 §9.6.5 and the registration procedure §10.2.2.2).
import { ACCESS_CONTROL, CREATOR_KEY, EXPIRATION, LABELS, LOCATION, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributesOf, type AttributeSpec, type HookContext } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { checkPointsOfAccess } from '../validate.js';
import { CseError, badRequest } from '../../primitive/errors.js';
import { RSC } from '../../primitive/rsc.js';
import { randomIdSuffix } from '../../primitive/identifiers.js';
import { CREDENTIAL_KEY } from '../../security/registrations.js';
import { linkAeToNode } from './node.js';
import { announceAttributes } from '../announceable.js';

/** App-ID: 'R' (or R2's 'r') + registered ID, or 'N' + non-registered ID [TS-0004 §7.3.2.1]; anything else is 4000. */
const APP_ID = /^[RrN][A-Za-z0-9\-._~]+$/;
const AE_ID = /^[CS][A-Za-z0-9\-._~]{1,254}$/;
const RELEASES = ['1', '2', '2a', '3', '4', '5'];
/**
 * Releases whose TS-0004 lets an App-ID start with a lower-case 'r' [TS-0004 V3 §7.4.5.2.1: "anything other than
 * 'r', 'R' or 'N'" is 4000]; Release 4 keeps only 'R' and 'N'. A request without X-M2M-RVI is Release 1. As ACME.
 */
const LOWER_CASE_R_RELEASES: readonly (string | undefined)[] = [undefined, '2', '2a', '3'];
/**
 * contentSerialization values: m2m:serializations lists xml, json, cbor [TS-0004 §6.3.3]; Release 4 clients (and
 * ACME) write them as media types, which Warden accepts too. Each names a serialization Warden serves.
 */
const SERIALIZATIONS = new Set([
  'json',
  'cbor',
  'xml',
  'application/json',
  'application/cbor',
  'application/xml',
  'application/vnd.onem2m-res+json',
  'application/vnd.onem2m-res+cbor',
  'application/vnd.onem2m-res+xml',
]);

const attributes = {
  ...UNIVERSAL,
  ...announceAttributes(RESOURCE_TYPE.AE),
  ...EXPIRATION,
  ...LABELS,
  ...LOCATION,
  ...ACCESS_CONTROL,
  apn: { type: 'string', create: 'O', update: 'O', maxLength: 255 },
  api: {
    type: 'string',
    create: 'M',
    update: 'NP',
    maxLength: 255,
    check: (v) => (typeof v === 'string' && APP_ID.test(v) ? undefined : "must be 'R' or 'N' followed by letters, digits or - . _ ~"),
  },
  aei: { type: 'string', create: 'NP', update: 'NP' },
  poa: { type: 'anyURIList', create: 'O', update: 'O', maxLength: 32, check: checkPointsOfAccess },
  nl: { type: 'anyURI', create: 'O', update: 'O' },
  rr: { type: 'boolean', create: 'M', update: 'O' },
  csz: {
    type: 'stringList',
    create: 'O',
    update: 'O',
    maxLength: 8,
    check: (v) => (Array.isArray(v) && v.length > 0 && v.every((c) => SERIALIZATIONS.has(String(c))) ? undefined : 'must list serializations: json, cbor, xml (or their media types)'),
  },
  srv: {
    type: 'stringList',
    create: 'O',
    update: 'O',
    maxLength: 16,
    check: (v) => (Array.isArray(v) && v.every((r) => RELEASES.includes(String(r))) ? undefined : `may only list releases ${RELEASES.join(', ')}`),
  },
  or: { type: 'anyURI', create: 'O', update: 'O' },
} as const satisfies Record<string, AttributeSpec>;

export type AeAttributes = AttributesOf<typeof attributes>;

/**
 * The AE-ID for a registration [TS-0001 §10.2.2.2, TS-0004 §7.3.2.1]: an empty From or a bare 'C'/'S' asks
 * the CSE to assign one; 'C…'/'S…' (optionally SP-relative under this CSE) asks for that ID. Any other
 * format is BAD_REQUEST.
 */
export function assignAeId(originator: string, cseId: string, authenticated: boolean): string {
  // A CSE-ID as From outside a security association is 4107 [TS-0004 §7.3.2.1]; this CSE's own ID without its
  // slash is one too (ACME answers so). Within one, it is no AE-ID-Stem: 4000 below.
  const isCseId = originator === cseId || /^\/[^/]+$/.test(originator) || /^\/\/[^/]+\/[^/]+$/.test(originator);
  if (!authenticated && isCseId) {
    throw new CseError(RSC.SECURITY_ASSOCIATION_REQUIRED, `originator '${originator}' is a CSE-ID, which requires a security association`);
  }
  if (originator === '' || originator === 'C') return `C${randomIdSuffix()}`;
  if (originator === 'S') return `S${randomIdSuffix()}`;
  const stem = originator.startsWith(`/${cseId}/`) ? originator.slice(cseId.length + 2) : originator;
  if (AE_ID.test(stem)) return stem;
  throw badRequest(`originator '${originator}' cannot register an AE: use an AE-ID-Stem starting with C or S, or leave it empty`);
}

/**
 * A credential that names no originator (a device certificate without oneM2M names, a PSK without aeIds)
 * stands for one device: it may hold one AE. Checked inside the registration's transaction, which holds the
 * CSEBase row (operations/create.ts), so two registrations with one credential cannot both pass. The scan
 * reads the CSEBase's AEs and runs only for such registrations.
 */
async function refuseSecondAe(ctx: HookContext, cseBaseRi: string, credentialId: string): Promise<void> {
  const page = 500;
  for (let offset = 0; ; offset += page) {
    const aes = await ctx.store.children(cseBaseRi, { ty: RESOURCE_TYPE.AE, aliveAt: ctx.now, limit: page, offset });
    const bound = aes.find((ae) => ae.doc[CREDENTIAL_KEY] === credentialId);
    if (bound) throw new CseError(RSC.ORIGINATOR_HAS_ALREADY_REGISTERED, `credential ${credentialId} names no AE-ID and is bound to AE '${bound.ri}' already: it may register one AE`);
    if (aes.length < page) return;
  }
}

export const aeType = defineResourceType({
  ty: RESOURCE_TYPE.AE,
  typeName: 'm2m:ae',
  attributes,
  childTypes: [RESOURCE_TYPE.accessControlPolicy, RESOURCE_TYPE.dynamicAuthorizationConsultation, RESOURCE_TYPE.container, RESOURCE_TYPE.flexContainer, RESOURCE_TYPE.group, RESOURCE_TYPE.pollingChannel, RESOURCE_TYPE.subscription, RESOURCE_TYPE.semanticDescriptor, RESOURCE_TYPE.timeSeries, RESOURCE_TYPE.crossResourceSubscription, RESOURCE_TYPE.timeSyncBeacon, RESOURCE_TYPE.action, RESOURCE_TYPE.locationPolicy],
  creatable: true,
  updatable: true,
  deletable: true,
  hasAcpi: true,
  hooks: {
    async beforeCreate(ctx, resource, parent) {
      // supportedReleaseVersions became mandatory with Release 3 [TS-0004 table 7.4.5.1-1].
      const release = ctx.request.rvi;
      if (release !== undefined && !['1', '2', '2a'].includes(release) && resource.doc.srv === undefined) {
        throw badRequest(`mandatory attribute 'srv' is missing in CREATE of m2m:ae (release ${release})`);
      }
      const api = String(resource.doc.api);
      if (api.startsWith('r') && !LOWER_CASE_R_RELEASES.includes(release)) {
        throw badRequest(`attribute 'api' may start with a lower-case 'r' only up to Release 3 (this request is Release ${release ?? '1'}): use 'R'`);
      }
      const aei = assignAeId(ctx.originator, ctx.self.cseId, ctx.credentialId !== undefined);
      if (await ctx.store.get(aei)) {
        throw new CseError(RSC.ORIGINATOR_HAS_ALREADY_REGISTERED, `an AE with AE-ID '${aei}' is already registered`);
      }
      resource.ri = aei;
      resource.owner = aei;
      resource.doc.aei = aei;
      // The AE is its own creator: the registration originator may have been a bare 'C' or empty.
      resource.doc[CREATOR_KEY] = aei;
      if ('cr' in resource.doc) resource.doc.cr = aei;
      // Registered over an authenticated connection: from now on only that credential may act as this AE.
      if (ctx.credentialId) {
        if (ctx.unnamedCredential) await refuseSecondAe(ctx, parent.ri, ctx.credentialId);
        resource.doc[CREDENTIAL_KEY] = ctx.credentialId;
      }
      await linkAeToNode(ctx, resource);
    },
    async beforeUpdate(ctx, resource, changes) {
      if ('nl' in changes) await linkAeToNode(ctx, resource);
    },
  },
});
