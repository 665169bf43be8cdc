// The CSEBase is created by the CSE itself, once, from configuration [TS-0001 §9.6.3].
import type { Config } from '../config/config.js';
import { SUPPORTED_RELEASES } from '../pipeline/stages/checkPrimitive.js';
import { formatTimestamp } from '../primitive/identifiers.js';
import type { ResourceStore } from '../storage/store.js';
import type { ResourceRegistry } from './registry.js';
import { RESOURCE_TYPE } from './types.js';

const CSE_TYPES = { IN: 1, MN: 2, ASN: 3 } as const;

export async function ensureCseBase(store: ResourceStore, config: Config, registry: ResourceRegistry, pointOfAccess: string[]): Promise<void> {
  const existing = await store.get(config.cse.id);
  const doc = {
    cst: CSE_TYPES[config.cse.type],
    csi: `/${config.cse.id}`,
    spi: config.cse.spid,
    srt: registry.supportedTypes(),
    poa: pointOfAccess,
    srv: SUPPORTED_RELEASES.filter((r) => r !== '1' && r !== '2'),
    csz: ['application/json'],
  };
  if (existing) {
    if (existing.rn !== config.cse.rn) {
      throw new Error(`the database holds CSEBase '${existing.rn}' but cse.rn is '${config.cse.rn}'; use another storage.path`);
    }
    await store.update({ ...existing, doc: { ...existing.doc, ...doc } });
    return;
  }
  const now = formatTimestamp(Date.now());
  await store.insert({ ri: config.cse.id, pi: '', ty: RESOURCE_TYPE.CSEBase, rn: config.cse.rn, srn: config.cse.rn, ct: now, lt: now, doc });
}
