// <policyDeletionRules> (ty 27, TS-0001 §9.6.33, TS-0004 §7.4.32): one group of rules under a
// <notificationTargetPolicy>; its action applies only while the rules hold (notifications/targetRemoval.ts).
import { ACCESS_CONTROL, EXPIRATION, LABELS, UNIVERSAL } from '../common.js';
import { defineResourceType, type AttributeSpec } from '../define.js';
import { RESOURCE_TYPE } from '../types.js';
import { CseError } from '../../primitive/errors.js';
import { RSC } from '../../primitive/rsc.js';
import { WINDOW_LIMITS, compileSchedule } from '../../security/schedule.js';
import { LOGICAL_OPERATOR } from './notificationTargetPolicy.js';

/** "A maximum of two groups of <policyDeletionRules> can be defined" [TS-0001 §9.6.32]. */
export const MAX_RULE_GROUPS = 2;
/** Times of day one group may list: each is tested on every removal request the policy decides. */
const MAX_TIMES_OF_DAY = 16;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** m2m:deletionContexts [TS-0004 §6.3.5.37]: timeOfDay (m2m:scheduleEntry crontabs) and locationRegions. */
function checkDeletionContexts(value: unknown): string | undefined {
  if (!isRecord(value)) return 'must be an object of deletion contexts {tod, lr}';
  const extra = Object.keys(value).find((key) => key !== 'tod' && key !== 'lr');
  if (extra !== undefined) return `member '${extra}' is not part of m2m:deletionContexts`;
  const tod = value.tod;
  if (tod !== undefined) {
    if (!Array.isArray(tod) || tod.length > MAX_TIMES_OF_DAY) return `member 'tod' must be a list of at most ${MAX_TIMES_OF_DAY} schedule entries`;
    for (const entry of tod) {
      if (typeof entry !== 'string' || entry.length > WINDOW_LIMITS.characters) return "member 'tod' must be a list of schedule entries (crontab strings)";
      try {
        compileSchedule(entry);
      } catch (err) {
        return `member 'tod' entry '${entry}': ${(err as Error).message}`;
      }
    }
  }
  if (value.lr !== undefined && !Array.isArray(value.lr)) return "member 'lr' must be a list of location regions";
  return undefined;
}

const attributes = {
  ...UNIVERSAL,
  ...EXPIRATION,
  ...LABELS,
  ...ACCESS_CONTROL,
  dr: { type: 'object', create: 'O', update: 'NP', check: checkDeletionContexts },
  drr: { type: 'enum', create: 'O', update: 'O', values: Object.values(LOGICAL_OPERATOR) },
} as const satisfies Record<string, AttributeSpec>;

export const policyDeletionRulesType = defineResourceType({
  ty: RESOURCE_TYPE.policyDeletionRules,
  typeName: 'm2m:pdr',
  attributes,
  childTypes: [RESOURCE_TYPE.subscription],
  creatable: true,
  updatable: true,
  deletable: true,
  hasAcpi: true,
  hooks: {
    async beforeCreate(ctx, resource, parent) {
      // The parent's row is locked by the creating transaction (operations/create.ts): counted once.
      if ((await ctx.store.count(parent.ri, RESOURCE_TYPE.policyDeletionRules)) >= MAX_RULE_GROUPS) {
        // "more than two existing ... CONFLICT" [TS-0004 §7.4.32.2.1]; the multiplicity is 0..2 [TS-0001 table 9.6.32-1].
        throw new CseError(RSC.CONFLICT, `a notificationTargetPolicy has at most ${MAX_RULE_GROUPS} policyDeletionRules`);
      }
      // Warden does not know where a Notification Target is: a location rule could never be decided truthfully.
      const dr = resource.doc.dr as { lr?: unknown[] } | undefined;
      if (dr?.lr !== undefined && dr.lr.length > 0) throw new CseError(RSC.NOT_IMPLEMENTED, "deletion rules on locationRegions ('lr') are not supported: the CSE does not know the Notification Target's location");
    },
  },
});
