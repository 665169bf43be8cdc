// Content-based discovery (contentFilterSyntax 1 = JSON-path, contentFilterQuery; TS-0004 §7.3.3.17.13,
// TS-0001 annex "jsonpath query syntax"): a predicate over the JSON content (con) of a contentInstance whose
// contentInfo says JSON. A query is clauses `<path> <KEYWORD> <literal>` joined by AND / OR:
//   path      $ followed by .name, ."name with special characters" or [n]
//   keyword   EQ NE GT LT GE LE MATCH (MATCH: the string contains the literal)
//   literal   a number, a JSON string in double quotes, true, false or null
// As in ACME, AND and OR apply strictly from left to right, and a clause whose path leads nowhere or whose
// types do not compare is false rather than an error. A malformed query is 4000.
import { badRequest } from '../primitive/errors.js';

const MAX_QUERY_LENGTH = 4_096;
const MAX_CLAUSES = 32;
const MAX_PATH_STEPS = 32;
/** Largest content parsed for a content filter; larger instances do not match. */
const MAX_CONTENT_BYTES = 256 * 1024;

type Step = string | number;
type Keyword = 'EQ' | 'NE' | 'GT' | 'LT' | 'GE' | 'LE' | 'MATCH';
interface Clause {
  path: Step[];
  keyword: Keyword;
  literal: unknown;
}

const KEYWORDS = new Set<string>(['EQ', 'NE', 'GT', 'LT', 'GE', 'LE', 'MATCH']);

function malformed(why: string): Error {
  return badRequest(`contentFilterQuery is malformed: ${why}`);
}

/** A small tokenizer-parser: positions move over the text; every loop consumes at least one character. */
class Parser {
  private at = 0;
  constructor(private readonly text: string) {}

  done(): boolean {
    this.skipSpaces();
    return this.at >= this.text.length;
  }

  private skipSpaces(): void {
    while (this.text[this.at] === ' ') this.at++;
  }

  word(): string {
    this.skipSpaces();
    const start = this.at;
    while (this.at < this.text.length && this.text[this.at] !== ' ') this.at++;
    return this.text.slice(start, this.at);
  }

  /** A JSON string literal starting at the current position (its escapes decoded by JSON.parse). */
  private quoted(): string {
    const start = this.at;
    this.at++;
    while (this.at < this.text.length && this.text[this.at] !== '"') this.at += this.text[this.at] === '\\' ? 2 : 1;
    if (this.at >= this.text.length) throw malformed('a quoted name or string is not closed');
    this.at++;
    try {
      return JSON.parse(this.text.slice(start, this.at)) as string;
    } catch {
      throw malformed('a quoted name or string has an invalid escape');
    }
  }

  path(): Step[] {
    this.skipSpaces();
    if (this.text[this.at] !== '$') throw malformed('a clause starts with a path beginning with $');
    this.at++;
    const steps: Step[] = [];
    while (this.at < this.text.length && this.text[this.at] !== ' ') {
      if (steps.length >= MAX_PATH_STEPS) throw malformed(`a path has at most ${MAX_PATH_STEPS} steps`);
      const c = this.text[this.at];
      if (c === '.') {
        this.at++;
        if (this.text[this.at] === '"') steps.push(this.quoted());
        else {
          const start = this.at;
          while (this.at < this.text.length && !' .[]{}$"'.includes(this.text[this.at] as string)) this.at++;
          if (this.at === start) throw malformed('a member name is missing after "."');
          steps.push(this.text.slice(start, this.at));
        }
      } else if (c === '[') {
        const close = this.text.indexOf(']', this.at);
        const index = close < 0 ? '' : this.text.slice(this.at + 1, close);
        if (!/^\d{1,9}$/.test(index)) throw malformed('an array index is [n] with n a non-negative integer');
        steps.push(Number(index));
        this.at = close + 1;
      } else throw malformed(`unexpected '${c}' in a path`);
    }
    return steps;
  }

  literal(): unknown {
    this.skipSpaces();
    if (this.text[this.at] === '"') return this.quoted();
    const word = this.word();
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null') return null;
    if (/^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(word)) return Number(word);
    throw malformed(word === '' ? 'a literal is missing' : `'${word.slice(0, 40)}' is not a number, a quoted string, true, false or null`);
  }
}

export type ContentFilter = (doc: Record<string, unknown>) => boolean;

/** Compiles a content filter query; throws 4000 when it is malformed. */
export function compileContentFilter(syntax: number | undefined, query: string | undefined): ContentFilter {
  if (syntax !== undefined && syntax !== 1) throw badRequest('contentFilterSyntax must be 1 (JSON-path)');
  // The query is required with the syntax; without the syntax it is read as JSON-path, the only one defined.
  if (query === undefined) throw badRequest('contentFilterSyntax needs a contentFilterQuery');
  if (query.length > MAX_QUERY_LENGTH) throw malformed(`longer than ${MAX_QUERY_LENGTH} characters`);
  const parser = new Parser(query);
  const clauses: Clause[] = [];
  const combinators: Array<'AND' | 'OR'> = [];
  for (;;) {
    if (clauses.length >= MAX_CLAUSES) throw malformed(`at most ${MAX_CLAUSES} clauses`);
    const path = parser.path();
    const keyword = parser.word().toUpperCase();
    if (!KEYWORDS.has(keyword)) throw malformed(`'${keyword.slice(0, 20)}' is not one of EQ, NE, GT, LT, GE, LE, MATCH`);
    clauses.push({ path, keyword: keyword as Keyword, literal: parser.literal() });
    if (parser.done()) break;
    const combinator = parser.word().toUpperCase();
    if (combinator !== 'AND' && combinator !== 'OR') throw malformed(`expected AND or OR, found '${combinator.slice(0, 20)}'`);
    if (parser.done()) throw malformed(`nothing follows ${combinator}`);
    combinators.push(combinator);
  }
  return (doc) => {
    const content = jsonContent(doc);
    if (content === undefined) return false;
    let result = evaluate(clauses[0] as Clause, content.value);
    for (let i = 1; i < clauses.length; i++) {
      const next = evaluate(clauses[i] as Clause, content.value);
      result = combinators[i - 1] === 'AND' ? result && next : result || next;
    }
    return result;
  };
}

/** The parsed content of an instance that contentInfo marks as JSON (media type json, no base64), or undefined. */
function jsonContent(doc: Record<string, unknown>): { value: unknown } | undefined {
  const cnf = typeof doc.cnf === 'string' ? doc.cnf : '';
  const [mediaType = '', encoding = '0'] = cnf.split(':');
  if (!/(^|[/+])json$/i.test(mediaType.trim()) || encoding !== '0') return undefined;
  const con = doc.con;
  if (typeof con !== 'string') return con === undefined ? undefined : { value: con };
  if (con.length > MAX_CONTENT_BYTES) return undefined;
  try {
    return { value: JSON.parse(con) as unknown };
  } catch {
    return undefined;
  }
}

function resolve(value: unknown, path: readonly Step[]): { found: boolean; value?: unknown } {
  let current = value;
  for (const step of path) {
    if (typeof step === 'number') {
      if (!Array.isArray(current) || step >= current.length) return { found: false };
      current = current[step];
    } else {
      if (typeof current !== 'object' || current === null || Array.isArray(current) || !Object.hasOwn(current, step)) return { found: false };
      current = (current as Record<string, unknown>)[step];
    }
  }
  return { found: true, value: current };
}

function evaluate(clause: Clause, content: unknown): boolean {
  const { found, value } = resolve(content, clause.path);
  if (!found) return false;
  const literal = clause.literal;
  switch (clause.keyword) {
    case 'EQ':
      return sameTypes(value, literal) && value === literal;
    case 'NE':
      return !sameTypes(value, literal) || value !== literal;
    case 'MATCH':
      return typeof value === 'string' && typeof literal === 'string' && value.includes(literal);
    default: {
      if (typeof value !== 'number' || typeof literal !== 'number') return false;
      switch (clause.keyword) {
        case 'GT':
          return value > literal;
        case 'LT':
          return value < literal;
        case 'GE':
          return value >= literal;
        default:
          return value <= literal;
      }
    }
  }
}

function sameTypes(a: unknown, b: unknown): boolean {
  return (a === null) === (b === null) && typeof a === typeof b;
}
