// The two serializations the client speaks: JSON and CBOR (TS-0004 §8.3, §8.4). XML is left to other clients.
import { Decoder, Encoder } from 'cbor-x';

export type Format = 'json' | 'cbor';

export interface Codec {
  readonly format: Format;
  readonly mediaType: string;
  encode(value: unknown): Buffer;
  /** Throws on anything that does not decode. */
  decode(body: Buffer): unknown;
}

// Plain maps and arrays only, as Warden sends them: no records or other extensions.
const decoder = new Decoder({ mapsAsObjects: true, useRecords: false });
const encoder = new Encoder({ useRecords: false, variableMapSize: true });

const json: Codec = {
  format: 'json',
  mediaType: 'application/json',
  encode: (value) => Buffer.from(JSON.stringify(value)),
  decode: (body) => JSON.parse(body.toString('utf8')) as unknown,
};

const cbor: Codec = {
  format: 'cbor',
  mediaType: 'application/cbor',
  encode: (value) => Buffer.from(encoder.encode(value)),
  decode: (body) => decoder.decode(body) as unknown,
};

export function codecOf(format: Format): Codec {
  return format === 'cbor' ? cbor : json;
}

/** The codec a Content-Type names, or undefined for one the client does not read. */
export function codecForMediaType(contentType: string | undefined): Codec | undefined {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'application/json' || (type.startsWith('application/vnd.onem2m') && type.endsWith('+json'))) return json;
  if (type === 'application/cbor' || (type.startsWith('application/vnd.onem2m') && type.endsWith('+cbor'))) return cbor;
  return undefined;
}
