// The CSEBase is created by the CSE itself, once, from configuration [TS-0001 §9.6.3].
import type { Config } from '../config/config.js';
import { SUPPORTED_RELEASES } from '../pipeline/stages/checkPrimitive.js';
import { formatTimestamp } from '../primitive/identifiers.js';
import { StoreConflictError, type ResourceStore } from '../storage/store.js';
import type { ResourceRegistry } from './registry.js';
import { RESOURCE_TYPE } from './types.js';
import { CREATOR_KEY } from './common.js';
import { DEFAULT_POLICY_LABEL, LOGICAL_OPERATOR, SYSTEM_DEFAULT_POLICY_ID } from './types/notificationTargetPolicy.js';

const CSE_TYPES = { IN: 1, MN: 2, ASN: 3 } as const;

export async function ensureCseBase(store: ResourceStore, config: Config, registry: ResourceRegistry, pointOfAccess: string[]): Promise<void> {
  // Read the one CSEBase the database may hold (another process may be creating it right now).
  const existing = (await store.get(config.cse.id)) ?? (await store.children('', { ty: RESOURCE_TYPE.CSEBase, limit: 1 }))[0];
  if (existing && existing.ri !== config.cse.id) {
    throw new Error(`the database holds CSEBase '${existing.ri}', not cse.id '${config.cse.id}'; use another database`);
  }
  const doc = {
    cst: CSE_TYPES[config.cse.type],
    csi: `/${config.cse.id}`,
    spi: config.cse.spid,
    srt: registry.supportedTypes(),
    poa: pointOfAccess,
    srv: [...SUPPORTED_RELEASES],
    // Every serialization the bindings serve (serialization/codec.ts).
    csz: ['application/json', 'application/cbor', 'application/xml'],
  };
  if (existing) {
    if (existing.rn !== config.cse.rn) {
      throw new Error(`the database holds CSEBase '${existing.rn}' but cse.rn is '${config.cse.rn}'; use another storage.path`);
    }
    await store.update({ ...existing, doc: { ...existing.doc, ...doc } });
    await ensureDefaultTargetPolicy(store, config);
    return;
  }
  const now = formatTimestamp(Date.now());
  try {
    await store.insert({ ri: config.cse.id, pi: '', ty: RESOURCE_TYPE.CSEBase, rn: config.cse.rn, srn: config.cse.rn, ct: now, lt: now, doc });
    await ensureDefaultTargetPolicy(store, config);
  } catch (err) {
    // Another process sharing the database created it at the same moment: adopt theirs.
    if (!(err instanceof StoreConflictError)) throw err;
    await ensureCseBase(store, config, registry, pointOfAccess);
  }
}

const ACTION_OF_SETTING = { accept: 1, reject: 2, seekAuthorization: 3, inform: 4 } as const;

/**
 * The system default <notificationTargetPolicy> [TS-0001 §9.6.31: "the hosting CSE shall have a system created
 * default one to apply"], named and labelled as ACME does; its action follows notifications.defaultTargetPolicy at
 * every start. A resource of another type holding the name leaves the CSE without one: removals are then refused.
 */
export async function ensureDefaultTargetPolicy(store: ResourceStore, config: Config): Promise<void> {
  const acn = ACTION_OF_SETTING[config.notifications.defaultTargetPolicy];
  const existing = await store.get(SYSTEM_DEFAULT_POLICY_ID);
  if (existing) {
    if (existing.ty === RESOURCE_TYPE.notificationTargetPolicy && existing.doc.acn !== acn) await store.update({ ...existing, doc: { ...existing.doc, acn } });
    return;
  }
  const now = formatTimestamp(Date.now());
  const doc = { acn, plbl: DEFAULT_POLICY_LABEL, rrs: LOGICAL_OPERATOR.AND, [CREATOR_KEY]: config.security.admin };
  try {
    await store.insert({ ri: SYSTEM_DEFAULT_POLICY_ID, pi: config.cse.id, ty: RESOURCE_TYPE.notificationTargetPolicy, rn: SYSTEM_DEFAULT_POLICY_ID, srn: `${config.cse.rn}/${SYSTEM_DEFAULT_POLICY_ID}`, ct: now, lt: now, doc });
  } catch (err) {
    // Another process made it at the same moment, or the name is taken.
    if (!(err instanceof StoreConflictError)) throw err;
  }
}
