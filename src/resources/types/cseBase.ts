// <CSEBase> (ty 5, TS-0001 §9.6.3): the root of the tree, created by the CSE itself at start-up.
import { UNIVERSAL, LABELS, LOCATION, ACCESS_CONTROL } from '../common.js';
import { defineResourceType, type AttributeSpec } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { formatTimestamp } from '../../primitive/identifiers.js';
import type { StoredResource } from '../../storage/store.js';
import { unlinkRemoved } from './node.js';
import { REGISTRAR_KEY, REMOTE_CSE_TOPIC } from './remoteCse.js';
import { CSE_BASE_ANNC } from '../announceable.js';

const attributes = {
  ...UNIVERSAL,
  ...LABELS,
  ...LOCATION,
  ...ACCESS_CONTROL,
  cst: { type: 'enum', create: 'NP', update: 'NP', values: [1, 2, 3] },
  csi: { type: 'string', create: 'NP', update: 'NP' },
  spi: { type: 'string', create: 'NP', update: 'NP' },
  srt: { type: 'enumList', create: 'NP', update: 'NP' },
  poa: { type: 'anyURIList', create: 'NP', update: 'O' },
  srv: { type: 'stringList', create: 'NP', update: 'NP' },
  csz: { type: 'stringList', create: 'NP', update: 'NP' },
  ctm: { type: 'timestamp', create: 'NP', update: 'NP' },
} as const satisfies Record<string, AttributeSpec>;

export const cseBaseType = defineResourceType({
  ty: RESOURCE_TYPE.CSEBase,
  typeName: 'm2m:cb',
  attributes,
  childTypes: [RESOURCE_TYPE.accessControlPolicy, RESOURCE_TYPE.dynamicAuthorizationConsultation, RESOURCE_TYPE.AE, RESOURCE_TYPE.container, RESOURCE_TYPE.flexContainer, RESOURCE_TYPE.group, RESOURCE_TYPE.node, RESOURCE_TYPE.remoteCSE, RESOURCE_TYPE.subscription, RESOURCE_TYPE.timeSeries, RESOURCE_TYPE.crossResourceSubscription, RESOURCE_TYPE.schedule, RESOURCE_TYPE.timeSyncBeacon, RESOURCE_TYPE.action, RESOURCE_TYPE.notificationTargetPolicy, RESOURCE_TYPE.locationPolicy, RESOURCE_TYPE.role, RESOURCE_TYPE.token, CSE_BASE_ANNC],
  // The CSEBase is configured, not changed by requests [TS-0004 §7.4.3]: UPDATE and DELETE are 4005.
  creatable: false,
  updatable: false,
  deletable: false,
  hasAcpi: true,
  hooks: {
    async afterChildRemoved(ctx, _cseBase, child) {
      // Routing and this CSE's registration follow its <remoteCSE> resources (src/remote), after the commit.
      if (child.ty === RESOURCE_TYPE.remoteCSE) {
        // With the descendants it listed: what they announced here through it goes with it (remote/remoteCses.ts).
        const branch = Array.isArray(child.doc.dcse) ? child.doc.dcse.filter((d): d is string => typeof d === 'string' && !d.includes(' ')) : [];
        await ctx.store.broadcast(REMOTE_CSE_TOPIC, `removed ${child.ri}${branch.length > 0 ? ` ${JSON.stringify(branch)}` : ''}`);
        // A registree deregistered by a request here (not by itself, not by expiry) is told so: the registrar may
        // initiate the deregistration too [TS-0001 §10.2.2.10].
        const csi = child.doc.csi;
        if (child.doc[REGISTRAR_KEY] !== true && typeof csi === 'string' && ctx.originator !== csi && ctx.originator !== `/${ctx.self.cseId}`) {
          await ctx.store.broadcast(REMOTE_CSE_TOPIC, `dropped ${JSON.stringify({ csi, poa: child.doc.poa })}`);
        }
      }
      await unlinkRemoved(ctx, child);
    },
  },
});

/**
 * The CSEBase as shown at `now`: currentTime (ctm, Release 4; taken from ACME's reference data, it is not in the V3
 * texts) is the CSE's clock when it answers, so it is added to each representation and never stored.
 */
export function withCurrentTime(cseBase: StoredResource, now: number): StoredResource {
  return { ...cseBase, doc: { ...cseBase.doc, ctm: formatTimestamp(now) } };
}
