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

export const jsonCodec: Codec = {
  mediaType: 'application/json',
  accepts: ['application/json', 'application/vnd.onem2m-res+json', 'application/vnd.onem2m-ntfy+json', 'application/vnd.onem2m-preq+json', 'application/vnd.onem2m-prsp+json'],
  decode(body) {
    const value: unknown = JSON.parse(body.toString('utf8'));
    if (depthOf(value) > MAX_JSON_DEPTH) throw new Error(`nesting deeper than ${MAX_JSON_DEPTH} levels`);
    return value;
  },
  encode(value) {
    return Buffer.from(JSON.stringify(value), 'utf8');
  },
};
