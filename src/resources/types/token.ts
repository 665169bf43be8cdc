// <token> (ty 32, m2m:tk, TS-0001 §9.6.39, TS-0004 §7.4.41): a token issued to an AE or CSE, stored here (the token
// repository of TS-0003 §7.4). A child of the CSEBase. The tokenObject (tkob) is verified when the resource is
// created, as a presented token is (security/tokens.ts: a configured issuer and algorithm, signature, typ JWT,
// audience this CSE, valid now), and the plaintext attributes are filled in from its verified claims; a request
// that gives them differently is refused. A request naming the token's ID in tids then uses it without asking a
// DAS (TS-0003 §7.3.2.3 step 6: the hosting CSE as PIP), checked for the originator (holder) each time; deleting the
// <token> ends that (tokens.ts also honours the revocation list). Who may create one: the CSEBase's access control.
import { decodeJwt } from 'jose';
import { ACCESS_CONTROL, EXPIRATION, LABELS, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributeSpec } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { badRequest } from '../../primitive/errors.js';
import { formatTimestamp } from '../../primitive/identifiers.js';
import { MAX_TOKEN_CHARS, TokenRejected, tokenVerifierFor } from '../../security/tokens.js';

const attributes = {
  ...UNIVERSAL,
  ...EXPIRATION,
  ...LABELS,
  ...ACCESS_CONTROL,
  tkid: { type: 'string', create: 'M', update: 'NP', check: (v) => (typeof v === 'string' && /^[\x21-\x7e]{1,256}$/.test(v) ? undefined : 'must be a token ID (1 to 256 printable characters)') },
  tkob: { type: 'string', create: 'M', update: 'NP', check: (v) => (typeof v === 'string' && v.length <= MAX_TOKEN_CHARS ? undefined : `must be a oneM2M JWT of at most ${MAX_TOKEN_CHARS} characters`) },
  vr: { type: 'string', create: 'O', update: 'NP' },
  tkis: { type: 'string', create: 'O', update: 'NP' },
  tkhd: { type: 'string', create: 'O', update: 'NP' },
  tknb: { type: 'timestamp', create: 'O', update: 'NP' },
  tkna: { type: 'timestamp', create: 'O', update: 'NP' },
  tknm: { type: 'string', create: 'O', update: 'NP' },
  tkau: { type: 'stringList', create: 'O', update: 'NP' },
  tkps: { type: 'object', create: 'O', update: 'NP' },
  tkex: { type: 'string', create: 'O', update: 'NP' },
} as const satisfies Record<string, AttributeSpec>;

export const tokenType = defineResourceType({
  ty: RESOURCE_TYPE.token,
  typeName: 'm2m:tk',
  attributes,
  childTypes: [RESOURCE_TYPE.subscription],
  creatable: true,
  updatable: true,
  deletable: true,
  hasAcpi: true,
  hooks: {
    async prepare(ctx, content, operation) {
      if (operation !== 'create') return;
      const compact = String(content.tkob);
      let holder: unknown;
      try {
        holder = decodeJwt(compact).azp;
      } catch {
        throw badRequest('tokenObject (tkob) is not a oneM2M JWT in compact serialization');
      }
      if (typeof holder !== 'string') throw badRequest('tokenObject (tkob) names no holder (azp)');
      let verified;
      try {
        verified = await tokenVerifierFor(ctx).verify(compact, holder, ctx.now);
      } catch (err) {
        if (err instanceof TokenRejected) throw badRequest(`tokenObject (tkob) is refused: ${err.message}`);
        throw err;
      }
      const claims = decodeJwt(compact);
      const derived: Record<string, unknown> = {
        tkid: verified.id,
        tkis: verified.issuer,
        tkhd: verified.holder,
        tknb: formatTimestamp(verified.notBefore),
        tkna: formatTimestamp(verified.notAfter),
        ...(claims.aud === undefined ? {} : { tkau: Array.isArray(claims.aud) ? claims.aud : [claims.aud] }),
        ...(typeof claims.tkvr === 'string' ? { vr: claims.tkvr } : {}),
        ...(typeof claims.tknm === 'string' ? { tknm: claims.tknm } : {}),
        ...(typeof claims.tkps === 'object' && claims.tkps !== null ? { tkps: claims.tkps } : {}),
        ...(typeof claims.tkex === 'string' ? { tkex: claims.tkex } : {}),
      };
      // The plaintext attributes describe the token: where the request gives them, they must say what it says.
      for (const name of ['tkid', 'tkis', 'tkhd', 'vr', 'tknm'] as const) {
        if (content[name] !== undefined && content[name] !== derived[name]) throw badRequest(`${name} does not match the tokenObject (${JSON.stringify(derived[name])})`);
      }
      Object.assign(content, derived);
    },
  },
});
