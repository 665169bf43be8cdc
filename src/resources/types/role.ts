// <role> (ty 31, m2m:rol, TS-0001 §9.6.38, TS-0004 §7.4.40): a role assigned to an AE or CSE (holder) by an issuer,
// valid from notBefore to notAfter. A child of the CSEBase. It is what makes a Role-ID in a request (rids) count:
// the access decision (security/authorize.ts rolesHeld) accepts a Role-ID only where a <role> here assigns it to the
// originator and is valid now [TS-0003 §7.4.3]. Who may create one is decided by the CSEBase's access control (the
// admin by default); its issuer must be the originator that creates it (or the admin), and its Role-ID one of that
// issuer's (the FQDN after '@' its M2M-SP-ID), so that no one assigns roles in another issuer's name.
import { ACCESS_CONTROL, EXPIRATION, LABELS, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributeSpec } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { badRequest } from '../../primitive/errors.js';
import { parseTimestamp } from '../../primitive/identifiers.js';
import { ROLE_ID, roleIssuedBy } from '../../security/originators.js';

const id = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 && v.length <= 1024 && !/\s/.test(v) ? undefined : 'must be an ID (1 to 1024 characters, no white space)');

const attributes = {
  ...UNIVERSAL,
  ...EXPIRATION,
  ...LABELS,
  ...ACCESS_CONTROL,
  rlid: { type: 'string', create: 'M', update: 'NP', check: (v) => (typeof v === 'string' && ROLE_ID.test(v) ? undefined : 'must be a Role-ID (issuerRelativeID@issuerFQDN)') },
  tkis: { type: 'string', create: 'M', update: 'NP', check: id },
  tkhd: { type: 'string', create: 'M', update: 'NP', check: id },
  tknb: { type: 'timestamp', create: 'M', update: 'NP' },
  tkna: { type: 'timestamp', create: 'M', update: 'NP' },
  rlnm: { type: 'string', create: 'O', update: 'NP' },
  rltl: { type: 'anyURI', create: 'O', update: 'O' },
} as const satisfies Record<string, AttributeSpec>;

export const roleType = defineResourceType({
  ty: RESOURCE_TYPE.role,
  typeName: 'm2m:rol',
  attributes,
  childTypes: [RESOURCE_TYPE.subscription],
  creatable: true,
  updatable: true,
  deletable: true,
  hasAcpi: true,
  hooks: {
    beforeCreate(ctx, resource) {
      const from = parseTimestamp(String(resource.doc.tknb));
      const until = parseTimestamp(String(resource.doc.tkna));
      if (from === undefined || until === undefined || until <= from) throw badRequest('notAfter (tkna) must be later than notBefore (tknb)');
      if (ctx.originator !== ctx.config.security.admin && resource.doc.tkis !== ctx.originator) {
        throw badRequest(`the issuer (tkis) of a role must be its creator '${ctx.originator}': no one assigns roles in another issuer's name`);
      }
      // Whoever asks (the admin too): the content contradicts itself, so 4000 rather than a privilege refusal.
      if (!roleIssuedBy(String(resource.doc.rlid), String(resource.doc.tkis), ctx.self)) {
        throw badRequest(`the Role-ID (rlid) '${String(resource.doc.rlid)}' is not one its issuer (tkis) '${String(resource.doc.tkis)}' issues: the FQDN after '@' must be the issuer's M2M-SP-ID`);
      }
    },
  },
});
