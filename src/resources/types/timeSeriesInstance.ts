// <timeSeriesInstance> (ty 30, TS-0001 §9.6.37; TS-0004 §7.4.39): one immutable reading of a timeSeries.
import { EXPIRATION, LABELS, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributesOf, type AttributeSpec, type HookContext } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { admittedContentSize, boundByMaxInstanceAge } from '../instances.js';
import { CseError, badRequest } from '../../primitive/errors.js';
import { parseTimestamp } from '../../primitive/identifiers.js';
import { RSC } from '../../primitive/rsc.js';
import type { StoredResource } from '../../storage/store.js';
import { announceAttributes } from '../announceable.js';

const attributes = {
  ...UNIVERSAL,
  ...announceAttributes(RESOURCE_TYPE.timeSeriesInstance),
  ...EXPIRATION,
  ...LABELS,
  dgt: { type: 'timestamp', create: 'M', update: 'NP' },
  con: { type: 'any', create: 'M', update: 'NP' },
  // sequenceNr: the originator counts it up and wraps it to 1 at the parent's mni [TS-0004 §7.4.39.2.1], so
  // a smaller number than the last one is no error.
  snr: { type: 'nonNegInteger', create: 'O', update: 'NP' },
  cs: { type: 'nonNegInteger', create: 'NP', update: 'NP' },
} as const satisfies Record<string, AttributeSpec>;

export type TimeSeriesInstanceAttributes = AttributesOf<typeof attributes>;

const BATCH = 500;

/** Whether another instance of the timeSeries has this dataGenerationTime (compared as instants). */
async function hasReadingAt(ctx: HookContext, timeSeries: StoredResource, dgt: number): Promise<boolean> {
  for (let offset = 0; ; offset += BATCH) {
    const batch = await ctx.store.children(timeSeries.ri, { ty: RESOURCE_TYPE.timeSeriesInstance, limit: BATCH, offset });
    if (batch.some((instance) => parseTimestamp(instance.doc.dgt as string) === dgt)) return true;
    if (batch.length < BATCH) return false;
  }
}

export const timeSeriesInstanceType = defineResourceType({
  ty: RESOURCE_TYPE.timeSeriesInstance,
  typeName: 'm2m:tsi',
  attributes,
  childTypes: [RESOURCE_TYPE.semanticDescriptor],
  creatable: true,
  updatable: false,
  deletable: true,
  hasAcpi: false,
  hooks: {
    async beforeCreate(ctx, resource, timeSeries) {
      const dgt = parseTimestamp(resource.doc.dgt as string);
      if (dgt === undefined) throw badRequest("attribute 'dgt' must be a timestamp");
      const cs = admittedContentSize(ctx, resource, timeSeries, "timeSeries'");
      // [TS-0004 §7.4.39.2.1] another instance with the same dataGenerationTime is a CONFLICT.
      if (await hasReadingAt(ctx, timeSeries, dgt)) throw new CseError(RSC.CONFLICT, `attribute 'dgt': the timeSeries already holds an instance generated at ${resource.doc.dgt as string}`);
      resource.doc.cs = cs;
      boundByMaxInstanceAge(ctx, resource, timeSeries);
    },
  },
});
