// IPv4 / IPv6 addresses and CIDR ranges for accessControlIpAddresses, parsed once and compared as numbers.
// (node:net's BlockList costs about a microsecond per check; a decision may check several ranges.)
import { isIPv4, isIPv6 } from 'node:net';

/** An address as 16-bit groups: 2 for IPv4, 8 for IPv6. */
export interface ParsedAddress {
  readonly family: 'ipv4' | 'ipv6';
  readonly groups: readonly number[];
}

export interface AddressRange {
  readonly address: ParsedAddress;
  readonly prefix: number;
}

export function parseAddress(text: string): ParsedAddress | undefined {
  if (isIPv4(text)) {
    const [a, b, c, d] = text.split('.').map(Number) as [number, number, number, number];
    return { family: 'ipv4', groups: [(a << 8) | b, (c << 8) | d] };
  }
  if (!isIPv6(text)) return undefined;
  // Zone index dropped; an embedded dotted IPv4 tail becomes its two hexadecimal groups.
  const body = (text.split('%')[0] as string).replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a: string, b: string, c: string, d: string) =>
    `${((Number(a) << 8) | Number(b)).toString(16)}:${((Number(c) << 8) | Number(d)).toString(16)}`,
  );
  const hex = (s: string): number[] => (s === '' ? [] : s.split(':').map((h) => parseInt(h, 16)));
  const gap = body.indexOf('::');
  if (gap < 0) return { family: 'ipv6', groups: hex(body) };
  const left = hex(body.slice(0, gap));
  const right = hex(body.slice(gap + 2));
  return { family: 'ipv6', groups: [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right] };
}

/** IPv4-mapped IPv6 (::ffff:a.b.c.d) is the IPv4 address it carries. */
export function unmapped(address: ParsedAddress): ParsedAddress {
  const g = address.groups;
  if (address.family === 'ipv6' && g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return { family: 'ipv4', groups: [g[6] as number, g[7] as number] };
  }
  return address;
}

/** Whether an address (IPv4-mapped forms included) is loopback: 127.0.0.0/8 or ::1. Not an address: false. */
export function isLoopbackAddress(text: string): boolean {
  const parsed = parseAddress(text.replace(/^\[|\]$/g, ''));
  if (!parsed) return false;
  const a = unmapped(parsed);
  return a.family === 'ipv4' ? (a.groups[0] ?? 0) >> 8 === 127 : a.groups.every((g, i) => g === (i === 7 ? 1 : 0));
}

export function inRange(address: ParsedAddress, range: AddressRange): boolean {
  if (address.family !== range.address.family) return false;
  let bits = range.prefix;
  for (let i = 0; bits > 0; i++, bits -= 16) {
    const mask = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
    if (((address.groups[i] as number) & mask) !== ((range.address.groups[i] as number) & mask)) return false;
  }
  return true;
}
