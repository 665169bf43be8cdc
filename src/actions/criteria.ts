// m2m:evalCriteria (Release 4; the V3 texts have no <action>, so the facts are ACME's data files): a subject
// attribute, an operator and a threshold, checked against the subject resource's type when an <action> or a
// <dependency> is written, and evaluated against the subject's representation when the CSE evaluates it.
import { badRequest } from '../primitive/errors.js';
import type { AttributeSpec, AttributeTable } from '../resources/define.js';
import { INTERNAL_PREFIX } from '../resources/representation.js';
import { checkValue } from '../resources/validate.js';

/** m2m:evalCriteriaOperator. */
export const OPERATOR = { EQUAL: 1, NOT_EQUAL: 2, GREATER: 3, LESS: 4, GREATER_EQUAL: 5, LESS_EQUAL: 6 } as const;

export interface EvalCriteria {
  readonly sbjt: string;
  readonly optr: number;
  readonly thld: unknown;
}

/** Only numbers and timestamps have an order; every other type may only be compared for (in)equality (as ACME). */
const ORDERED: ReadonlySet<AttributeSpec['type']> = new Set(['integer', 'number', 'nonNegInteger', 'positiveInteger', 'timestamp']);
const MEMBERS = new Set(['sbjt', 'optr', 'thld']);

/** The structure alone (the check of the attribute table's `evc`): exactly sbjt, optr and thld. */
export function checkCriteriaShape(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be an m2m:evalCriteria object';
  const evc = value as Record<string, unknown>;
  const unknown = Object.keys(evc).find((k) => !MEMBERS.has(k));
  if (unknown !== undefined) return `has a member '${unknown}' that m2m:evalCriteria does not define`;
  if (typeof evc.sbjt !== 'string' || evc.sbjt === '') return "needs 'sbjt', the name of an attribute of the subject resource";
  if (!Number.isSafeInteger(evc.optr) || (evc.optr as number) < OPERATOR.EQUAL || (evc.optr as number) > OPERATOR.LESS_EQUAL) return "needs 'optr', an m2m:evalCriteriaOperator (1..6)";
  if (evc.thld === undefined || evc.thld === null) return "needs 'thld', the threshold";
  return undefined;
}

/**
 * Whether the criteria can be evaluated on a resource with this attribute table: the subject attribute is one of
 * its type, the threshold a valid value of it, and the operator one its type has. Throws 4000 naming the problem.
 */
export function checkCriteriaFor(evc: unknown, table: AttributeTable, what: string): EvalCriteria {
  const shape = checkCriteriaShape(evc);
  if (shape) throw badRequest(`attribute 'evc' ${shape}`);
  const criteria = evc as EvalCriteria;
  const spec = Object.hasOwn(table, criteria.sbjt) && !criteria.sbjt.startsWith(INTERNAL_PREFIX) ? table[criteria.sbjt] : undefined;
  if (!spec) throw badRequest(`evc.sbjt '${criteria.sbjt}' is no attribute of ${what}`);
  const problem = checkValue(spec, criteria.thld);
  if (problem) throw badRequest(`evc.thld is no valid value of '${criteria.sbjt}': it ${problem}`);
  if (criteria.optr !== OPERATOR.EQUAL && criteria.optr !== OPERATOR.NOT_EQUAL && !ORDERED.has(spec.type)) {
    throw badRequest(`evc.optr ${criteria.optr} orders values, and '${criteria.sbjt}' (${spec.type}) has no order: only equal (1) and not equal (2) apply`);
  }
  return criteria;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Numbers compare as numbers, timestamps (strings of one format) as text; anything else has no order. */
function order(a: unknown, b: unknown): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

/** The criteria against a representation; an attribute the subject does not have (or shows) never meets them. */
export function criteriaMet(evc: EvalCriteria, attributes: Readonly<Record<string, unknown>>): boolean {
  if (!Object.hasOwn(attributes, evc.sbjt)) return false;
  const value = attributes[evc.sbjt];
  switch (evc.optr) {
    case OPERATOR.EQUAL:
      return sameValue(value, evc.thld);
    case OPERATOR.NOT_EQUAL:
      return !sameValue(value, evc.thld);
  }
  const d = order(value, evc.thld);
  if (d === undefined) return false;
  switch (evc.optr) {
    case OPERATOR.GREATER:
      return d > 0;
    case OPERATOR.LESS:
      return d < 0;
    case OPERATOR.GREATER_EQUAL:
      return d >= 0;
    case OPERATOR.LESS_EQUAL:
      return d <= 0;
    default:
      return false;
  }
}
