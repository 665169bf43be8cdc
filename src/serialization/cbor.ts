import { Decoder, Encoder } from 'cbor-x';
import type { Codec } from './codec.js';
import { plainData } from './json.js';

// Plain maps and arrays only: no records, structured clones or other extensions a peer might not read.
const decoder = new Decoder({ mapsAsObjects: true, useRecords: false });
const encoder = new Encoder({ useRecords: false, variableMapSize: true });

export const cborCodec: Codec = {
  mediaType: 'application/cbor',
  accepts: ['application/cbor', 'application/vnd.onem2m-res+cbor', 'application/vnd.onem2m-ntfy+cbor'],
  decode(body) {
    const value: unknown = decoder.decode(body);
    if (value instanceof Map) throw new Error('map keys must be strings');
    return plainData(value, body.length);
  },
  encode(value) {
    return Buffer.from(encoder.encode(value));
  },
};
