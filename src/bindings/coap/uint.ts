// CoAP uint option values (RFC 7252 §3.2): big-endian, without leading zero bytes.

export function uint(value: number): Buffer {
  const bytes: number[] = [];
  for (let v = value; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from(bytes);
}

export function readUint(b: Buffer): number {
  return [...b].reduce((n, byte) => n * 256 + byte, 0);
}
