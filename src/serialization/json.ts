import type { Codec } from './codec.js';

/** Deepest nesting accepted in request content; deeper documents are a denial-of-service shape, not data. */
export const MAX_JSON_DEPTH = 64;

/** Nesting depth of a decoded document, counted only as far as the limit (shared by every codec). */
export function depthOf(value: unknown, depth = 0): number {
  if (depth > MAX_JSON_DEPTH || typeof value !== 'object' || value === null) return depth;
  let max = depth;
  for (const v of Object.values(value)) {
    max = Math.max(max, depthOf(v, depth + 1));
    if (max > MAX_JSON_DEPTH) break;
  }
  return max;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Characters no xs:string holds (XML 1.0 §2.2, production Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] |
 * [#x10000-#x10FFFF]), whatever serialization carried them: U+0000 stored broke every PostgreSQL query that reads the
 * document (json ->> fails on \u0000), discovery for everyone included; the other control characters, U+FFFE/U+FFFF and
 * unpaired surrogates made every XML answer that holds them malformed, for every reader of a shared tree (nothing in
 * XML 1.0 can escape them). In `u` mode a surrogate pair is one character, so only an unpaired half matches.
 */
// eslint-disable-next-line no-control-regex -- control characters are what it finds
const NOT_XML_CHARACTER = /[\0-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDFFF]/u;
export const NOT_XML_REFUSED = 'text may not contain control characters other than tab, line feed and carriage return, U+FFFE, U+FFFF or unpaired surrogates (not characters of xs:string, XML 1.0 §2.2)';

/** Whether text holds a character no xs:string may hold (see NOT_XML_CHARACTER). */
export function hasNonXmlCharacter(text: string): boolean {
  return NOT_XML_CHARACTER.test(text);
}

/**
 * Decoded content as the JSON data model (objects, arrays, text, finite numbers, booleans, null) whatever
 * serialization it came in, nested at most MAX_JSON_DEPTH deep. CBOR carries more — integers beyond 2^53
 * (bigint), byte strings, tags (dates, bignums), undefined, NaN — and JSON.parse turns 1e400 into Infinity:
 * such values would fail (5000) or silently change wherever content is stored or sent, so they are refused
 * here, where the answer is still 4000. An integer within ±(2^53 - 1) sent as a CBOR uint64 is a number.
 *
 * `sourceBytes` is the size of the body the value was decoded from. A body holds each value and each character
 * of text once, so the values and characters met are at most about twice its bytes — unless the decoder let one
 * value stand for another: CBOR's value sharing (tags 28/29) and packed values (tags 51/6), which cbor-x honours,
 * make a 400-byte body a tree of 2^40 values that this walk (and every later store or answer) would visit one by
 * one on the event loop. Past that bound the content is refused, before any of it is looked at further.
 */
export function plainData(value: unknown, sourceBytes: number): unknown {
  return new PlainDataWalk(2 * sourceBytes + 64).plain(value, 0);
}

class PlainDataWalk {
  constructor(private budget: number) {}

  private spend(units: number): void {
    this.budget -= units;
    if (this.budget < 0) throw new Error('the content decodes to more values than its body holds (shared or packed CBOR values are not accepted)');
  }

  plain(value: unknown, depth: number): unknown {
    if (depth > MAX_JSON_DEPTH) throw new Error(`nesting deeper than ${MAX_JSON_DEPTH} levels`);
    switch (typeof value) {
      case 'string':
        this.spend(1 + value.length);
        if (NOT_XML_CHARACTER.test(value)) throw new Error(NOT_XML_REFUSED);
        return value;
      case 'boolean':
        this.spend(1);
        return value;
      case 'number':
        this.spend(1);
        if (!Number.isFinite(value)) throw new Error('numbers must be finite');
        return value;
      case 'bigint':
        this.spend(1);
        if (value > MAX_SAFE || value < -MAX_SAFE) throw new Error('an integer is out of range (at most 2^53 - 1 in magnitude)');
        return Number(value);
      case 'object': {
        this.spend(1);
        if (value === null) return null;
        const list = Array.isArray(value);
        const prototype: unknown = Object.getPrototypeOf(value);
        if (!list && prototype !== Object.prototype && prototype !== null) {
          throw new Error('only maps, arrays, text, numbers, booleans and null are accepted (no byte strings, tags or dates)');
        }
        const container = value as Record<string, unknown>;
        for (const key of Object.keys(container)) {
          // A list's indices are no characters of the body.
          if (!list) this.spend(key.length);
          if (NOT_XML_CHARACTER.test(key)) throw new Error(NOT_XML_REFUSED);
          const item = container[key];
          const plain = this.plain(item, depth + 1);
          // defineProperty: a '__proto__' key is data, never the prototype setter.
          if (plain !== item) Object.defineProperty(container, key, { value: plain, writable: true, enumerable: true, configurable: true });
        }
        return value;
      }
      default:
        throw new Error(`a value of type ${typeof value} is not accepted`);
    }
  }
}

export const jsonCodec: Codec = {
  mediaType: 'application/json',
  accepts: ['application/json', 'application/vnd.onem2m-res+json', 'application/vnd.onem2m-ntfy+json', 'application/vnd.onem2m-preq+json', 'application/vnd.onem2m-prsp+json'],
  decode(body) {
    return plainData(JSON.parse(body.toString('utf8')), body.length);
  },
  encode(value) {
    return Buffer.from(JSON.stringify(value), 'utf8');
  },
  encodeText(value) {
    return JSON.stringify(value);
  },
};
