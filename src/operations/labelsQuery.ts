// labelsQuery (TS-0004 §7.3.3.17.16): a small query language over labels written `key` or `key:value`.
// Each expression is one of
//   key                  a label with that key (alone or with any value)
//   NT key               no label with that key
//   key EQ value         the label key:value (also written key:value)
//   key NE value         labels with that key, none of them with that value
//   key IN (v1, v2 …)    the label key:v for one of the values
//   key NI (v1, v2 …)    labels with that key, none of them with one of the values
// and the condition holds when any expression of the list matches. The spec defines no error for a
// malformed expression; it is a bad request parameter (4000).
import { badRequest } from '../primitive/errors.js';

const MAX_EXPRESSIONS = 16;
const MAX_EXPRESSION_LENGTH = 1_024;
const MAX_VALUES = 64;
/** A key or value: no blanks, no parentheses or commas (they delimit the value lists), no ':' in keys. */
const KEY = /^[^\s():,]+$/;
const VALUE = /^[^\s(),]+$/;

type Expression =
  | { kind: 'has' | 'not'; key: string }
  | { kind: 'in' | 'notIn'; key: string; values: readonly string[] };

function malformed(expression: string, why: string): Error {
  return badRequest(`labelsQuery '${expression.slice(0, 100)}' is malformed: ${why}`);
}

function valueList(expression: string, text: string): string[] {
  const m = /^\((.*)\)$/.exec(text);
  if (!m) throw malformed(expression, 'IN and NI take a list such as (red, green)');
  const values = (m[1] as string).split(',').map((v) => v.trim());
  if (values.length > MAX_VALUES) throw malformed(expression, `a list holds at most ${MAX_VALUES} values`);
  for (const v of values) if (!VALUE.test(v)) throw malformed(expression, `'${v.slice(0, 40)}' is not a label value`);
  return values;
}

function parseExpression(raw: string): Expression {
  if (raw.length > MAX_EXPRESSION_LENGTH) throw malformed(raw, `longer than ${MAX_EXPRESSION_LENGTH} characters`);
  const text = raw.trim();
  const key = (k: string): string => {
    if (!KEY.test(k)) throw malformed(raw, `'${k.slice(0, 40)}' is not a label key`);
    return k;
  };
  const nt = /^NT\s+(\S+)$/.exec(text);
  if (nt) return { kind: 'not', key: key(nt[1] as string) };
  const op = /^(\S+)\s+(EQ|NE|IN|NI)\s+(.+)$/.exec(text);
  if (op) {
    const k = key(op[1] as string);
    const operand = (op[3] as string).trim();
    switch (op[2]) {
      case 'EQ':
      case 'NE':
        if (!VALUE.test(operand)) throw malformed(raw, `'${operand.slice(0, 40)}' is not a label value`);
        return { kind: op[2] === 'EQ' ? 'in' : 'notIn', key: k, values: [operand] };
      case 'IN':
        return { kind: 'in', key: k, values: valueList(raw, operand) };
      default:
        return { kind: 'notIn', key: k, values: valueList(raw, operand) };
    }
  }
  const pair = /^([^\s():,]+):([^\s(),]+)$/.exec(text);
  if (pair) return { kind: 'in', key: pair[1] as string, values: [pair[2] as string] };
  if (KEY.test(text)) return { kind: 'has', key: text };
  throw malformed(raw, 'expected key, NT key, key EQ|NE value, key:value or key IN|NI (values)');
}

export interface LabelsQuery {
  test(labels: unknown): boolean;
  /** Label keys one of which a match must carry (every form but NT needs its key), for the database to narrow by. */
  keys?: string[];
  /** When every expression names exact labels (EQ, IN, key:value): a match carries one of these. */
  exact?: string[];
}

/** Compiles the expressions once per request; throws 4000 on the first malformed one. */
export function compileLabelsQuery(expressions: readonly string[]): LabelsQuery {
  if (expressions.length === 0) throw badRequest('labelsQuery is empty');
  if (expressions.length > MAX_EXPRESSIONS) throw badRequest(`labelsQuery holds at most ${MAX_EXPRESSIONS} expressions`);
  const compiled = expressions.map(parseExpression);
  const keys = compiled.some((e) => e.kind === 'not') ? undefined : [...new Set(compiled.map((e) => e.key))];
  const test = (labels: unknown): boolean => {
    const list = Array.isArray(labels) ? labels.filter((l): l is string => typeof l === 'string') : [];
    // key → the values it carries; a key-only label contributes the key with no value.
    const byKey = new Map<string, string[]>();
    for (const label of list) {
      const colon = label.indexOf(':');
      const k = colon < 0 ? label : label.slice(0, colon);
      const values = byKey.get(k) ?? [];
      if (colon >= 0) values.push(label.slice(colon + 1));
      byKey.set(k, values);
    }
    return compiled.some((e) => {
      const values = byKey.get(e.key);
      switch (e.kind) {
        case 'has':
          return values !== undefined;
        case 'not':
          return values === undefined;
        case 'in':
          return values !== undefined && values.some((v) => e.values.includes(v));
        case 'notIn':
          return values !== undefined && values.length > 0 && !values.some((v) => e.values.includes(v));
      }
    });
  };
  const exact = compiled.every((e) => e.kind === 'in') ? compiled.flatMap((e) => (e.kind === 'in' ? e.values.map((v) => `${e.key}:${v}`) : [])) : undefined;
  return { test, ...(keys ? { keys } : {}), ...(exact ? { exact } : {}) };
}
