// One serialization layer for every binding: a codec per media type, chosen by Content-Type / Accept.
import { CseError, badRequest } from '../primitive/errors.js';
import { RSC } from '../primitive/rsc.js';
import { cborCodec } from './cbor.js';
import { jsonCodec } from './json.js';
import { xmlCodec } from './xml.js';

export interface Codec {
  /** Canonical media type sent in responses. */
  readonly mediaType: string;
  /** Media types (without parameters) this codec reads. */
  readonly accepts: readonly string[];
  decode(body: Buffer): unknown;
  encode(value: unknown): Buffer;
  /**
   * Text serializations: the same encoding as a string. node:http writes a string body together with the head in
   * one socket write, where a Buffer body takes a gathered write of two (measured: about 10 % of a small read).
   */
  encodeText?(value: unknown): string;
}

const CODECS: readonly Codec[] = [jsonCodec, cborCodec, xmlCodec];

/** The codec of a serialization name as bindings spell it (MQTT topic suffix, WebSocket sub-protocol). */
export function codecByName(name: string): Codec | undefined {
  return { json: jsonCodec, cbor: cborCodec, xml: xmlCodec }[name];
}

/** The serialization name of a codec (for content that must follow it, such as SPARQL results). */
export function formatOfCodec(codec: Codec): 'json' | 'cbor' | 'xml' {
  return codec === xmlCodec ? 'xml' : codec === cborCodec ? 'cbor' : 'json';
}

/** Media type without parameters, lower case: 'application/json;ty=2' → 'application/json'. */
export function baseMediaType(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

export function codecForContentType(contentType: string | undefined): Codec {
  if (!contentType) throw new CseError(RSC.UNSUPPORTED_MEDIA_TYPE, 'Content-Type is missing for a request with content');
  const base = baseMediaType(contentType);
  const codec = CODECS.find((c) => c.accepts.includes(base));
  if (!codec) throw new CseError(RSC.UNSUPPORTED_MEDIA_TYPE, `content type '${base}' is not supported (use application/json, application/cbor or application/xml)`);
  return codec;
}

/** The codec for the response: the first Accept entry we can produce; absent Accept → the request's codec. */
export function codecForAccept(accept: string | undefined, fallback: Codec = jsonCodec): Codec {
  if (!accept || accept.trim() === '') return fallback;
  for (const entry of accept.split(',')) {
    const base = baseMediaType(entry);
    if (base === '*/*' || base === 'application/*') return fallback;
    const codec = CODECS.find((c) => c.accepts.includes(base));
    if (codec) return codec;
  }
  throw new CseError(RSC.NOT_ACCEPTABLE, `none of the accepted media types '${accept}' can be produced (application/json, application/cbor, application/xml)`);
}

/** Characters of a parser's message kept in the answer to content it could not read. */
const MAX_REASON = 200;

export function decodeBody(codec: Codec, body: Buffer): unknown {
  try {
    return codec.decode(body);
  } catch (err) {
    // A parser's message may quote the input (an XML parser lists every open tag): the answer says what is wrong, it
    // does not echo the request back, larger than it came.
    const reason = err instanceof Error ? err.message : 'unreadable';
    throw badRequest(`content is not valid ${codec.mediaType}: ${reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON)}…` : reason}`);
  }
}
