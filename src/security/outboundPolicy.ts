// Outbound destination policy: the one place that decides where the CSE may open a connection on behalf of
// an originator (notification targets and points of access, verification requests, X-M2M-RTU results, IPE
// on-demand discovery, and whatever later reaches other CSEs: registrar, DAS, announcement, EST).
// A `nu`, `poa` or `X-M2M-RTU` is written by an originator; without this check it makes the CSE send requests
// to its own loopback services, to cloud metadata endpoints or to anything else the CSE's network can reach.
//
// The decision is made on the address actually connected to, after DNS resolution, and the address is never
// resolved a second time (a name that answers once with a public address and then with 127.0.0.1 gains
// nothing): `lookup` goes to net/tls/http, which connect to what it returns; `resolve` is for libraries that
// resolve by themselves (CoAP), which are then handed the IP literal. A URL whose host is an IP literal is
// never resolved by node:net, so `checkUrl` decides it first. Spellings such as 2130706433, 0x7f.1 or 0177.0.0.1
// are normalised by the WHATWG URL parser for http(s)/ws(s) and by getaddrinfo for any other scheme; either way
// the address compared here is the canonical one.
//
// Rules: the built-in ranges below and `outbound.deny` refuse, `outbound.allow` permits; the most specific
// range that contains the address decides, and an address no range contains is permitted. Between equal
// ranges the operator's deny beats the operator's allow, which beats the built-in list.
// `outbound.allow=127.0.0.1/32` therefore opens the loopback receiver of a single-machine demo, and
// `outbound.deny=0.0.0.0/0,::/0` with a narrower allow list permits only that list.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { inRange, isLoopbackAddress, parseAddress, type AddressRange, type ParsedAddress } from './addresses.js';

export interface OutboundPolicyOptions {
  /** Comma-separated CIDR ranges (or single addresses) that are permitted even inside a denied range. */
  readonly allow: string;
  /** Comma-separated CIDR ranges refused besides the built-in ones. */
  readonly deny: string;
  /** Comma-separated URL schemes (without ':') the CSE may use. */
  readonly schemes: string;
  /** Comma-separated ports or ranges (8000-8999) the CSE may connect to; empty: any. */
  readonly ports: string;
  /**
   * Whether loopback destinations (127.0.0.0/8, ::1) are open without an `allow` entry. Decided by
   * `loopbackOpen` from `outbound.loopback`; absent: refused, as every other built-in range.
   */
  readonly loopback?: boolean;
}

/** The listener addresses and the loopback setting `loopbackOpen` decides from. */
export interface ListenerFacts {
  readonly setting: 'auto' | 'allow' | 'deny';
  /** Host of every enabled listener (HTTP, WebSocket, CoAP). */
  readonly hosts: readonly string[];
  /** MQTT requests come through a broker whose listeners Warden cannot know: never loopback-only. */
  readonly mqtt: boolean;
  /**
   * `security.adminFromLoopback=false` says a proxy on this machine forwards clients from elsewhere: loopback
   * listeners are then no sign that every originator is local.
   */
  readonly behindProxy: boolean;
}

/**
 * `auto` opens loopback only while every way into this CSE is itself loopback: then every originator already runs
 * on this machine and reaches its loopback services directly, so a loopback `nu` gives it nothing it did not have
 * (the single-machine quick start and the community test suite, whose receivers listen on 127.0.0.1). As soon as
 * one listener is reachable from elsewhere (or the MQTT binding is on: the broker's listeners are not Warden's to
 * know; or a reverse proxy forwards remote clients, `security.adminFromLoopback=false`), loopback is refused like the other built-in ranges and only `outbound.allow` opens it.
 */
export function loopbackOpen(facts: ListenerFacts): boolean {
  if (facts.setting !== 'auto') return facts.setting === 'allow';
  if (facts.mqtt || facts.behindProxy) return false;
  return facts.hosts.every((host) => host.toLowerCase() === 'localhost' || isLoopbackAddress(host));
}

/** The policy of a CSE configured with nothing but defaults. */
export const DEFAULT_OUTBOUND: OutboundPolicyOptions = { allow: '', deny: '', schemes: 'http,https,mqtt,mqtts,coap,ws,wss', ports: '' };

interface Rule {
  readonly range: AddressRange;
  readonly allow: boolean;
  readonly label: string;
  /** Between ranges of one prefix length: the operator's deny, then the operator's allow, then the built-in list. */
  readonly weight: number;
}

/**
 * Refused unless `outbound.allow` names them. Private ranges (10/8, 172.16/12, 192.168/16, fc00::/7, 100.64/10)
 * are not here: the devices and gateways a CSE notifies usually sit on a LAN. A CSE whose originators may not
 * reach its own network denies them with `outbound.deny`.
 */
export const BUILT_IN_DENY: ReadonlyArray<readonly [string, string]> = [
  ['0.0.0.0/8', 'unspecified ("this network")'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local (cloud metadata services live at 169.254.169.254)'],
  ['100.100.100.200/32', 'a cloud metadata service'],
  ['168.63.129.16/32', 'a cloud platform endpoint'],
  ['192.0.0.0/24', 'IETF protocol assignments (includes a cloud metadata address)'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved or broadcast'],
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['100::/64', 'discard-only'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local'],
  ['ff00::/8', 'multicast'],
  ['fd00:ec2::254/128', 'a cloud metadata service'],
];

/** Default ports of the schemes the CSE connects with, for URLs that name none. */
const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443, ws: 80, wss: 443, coap: 5683, coaps: 5684, mqtt: 1883, mqtts: 8883 };

/** A refusal: `lookup` fails a connection with it; its code lets callers tell it from a network error. */
export class OutboundRefused extends Error {
  readonly code = 'EOUTBOUNDREFUSED';
  constructor(
    readonly destination: string,
    readonly reason: string,
  ) {
    super(`outbound destination ${destination} refused: ${reason}`);
    this.name = 'OutboundRefused';
  }
}

export function isOutboundRefused(err: unknown): err is OutboundRefused {
  return err instanceof OutboundRefused || (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'EOUTBOUNDREFUSED');
}

/** Parses `a.b.c.d/n`, `x::y/n` or a single address; throws with a message naming the entry. */
export function parseRange(text: string): AddressRange {
  const [addressText = '', prefixText, extra] = text.trim().split('/');
  const address = parseAddress(addressText);
  if (!address || extra !== undefined) throw new Error(`'${text}' is not an IP address or CIDR range`);
  const max = address.family === 'ipv4' ? 32 : 128;
  if (prefixText === undefined) return { address, prefix: max };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) throw new Error(`'${text}' has a prefix length outside 0..${max}`);
  return { address, prefix: Number(prefixText) };
}

function parseList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function parsePorts(text: string): Array<readonly [number, number]> | undefined {
  const entries = parseList(text);
  if (entries.length === 0) return undefined;
  return entries.map((entry) => {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(entry);
    const low = Number(m?.[1]);
    const high = m?.[2] === undefined ? low : Number(m[2]);
    if (!m || low < 1 || high > 65_535 || low > high) throw new Error(`'${entry}' is not a port or a port range (1-65535)`);
    return [low, high] as const;
  });
}

/**
 * The IPv4 address an IPv6 address carries. `same`: the IPv6 form is only another spelling of that IPv4 address
 * (a dual-stack socket connects to the IPv4 address itself), so the IPv4 address alone is decided; otherwise
 * (NAT64, 6to4) the packets travel as IPv6 to a translator, and both forms must be permitted.
 */
export function embeddedIpv4(address: ParsedAddress): { v4: ParsedAddress; same: boolean } | undefined {
  if (address.family !== 'ipv6') return undefined;
  const [g0, g1, g2, g3, g4, g5, g6, g7] = address.groups as [number, number, number, number, number, number, number, number];
  const v4: ParsedAddress = { family: 'ipv4', groups: [g6, g7] };
  const zeroHead = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0;
  if (zeroHead && g4 === 0 && g5 === 0xffff) return { v4, same: true }; // IPv4-mapped ::ffff:a.b.c.d
  // IPv4-compatible ::a.b.c.d (deprecated, still routed by some stacks); :: and ::1 are themselves, not 0.0.0.x.
  if (zeroHead && g4 === 0 && g5 === 0 && g6 !== 0) return { v4, same: true };
  if (zeroHead && g4 === 0xffff && g5 === 0) return { v4, same: true }; // IPv4-translated ::ffff:0:a.b.c.d (SIIT)
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return { v4, same: false }; // NAT64 64:ff9b::/96
  if (g0 === 0x2002) return { v4: { family: 'ipv4', groups: [g1, g2] }, same: false }; // 6to4 2002:AABB:CCDD::/48
  return undefined;
}

export function formatAddress(address: ParsedAddress): string {
  // The URL parser writes IPv6 in its canonical, compressed form.
  if (address.family === 'ipv6') return new URL(`http://[${address.groups.map((x) => x.toString(16)).join(':')}]/`).hostname.slice(1, -1);
  const [high = 0, low = 0] = address.groups;
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

export class OutboundPolicy {
  /** By address family, so a decision looks only at ranges that can contain the address. */
  private readonly rules: Readonly<Record<ParsedAddress['family'], readonly Rule[]>>;
  private readonly schemes: ReadonlySet<string>;
  private readonly ports: Array<readonly [number, number]> | undefined;

  /** Throws an Error naming the bad entry (the config loader turns it into a ConfigError). */
  constructor(options: OutboundPolicyOptions) {
    const rules: Rule[] = [
      ...BUILT_IN_DENY.filter(([, label]) => !(options.loopback === true && label === 'loopback')).map(([cidr, label]) => ({
        range: parseRange(cidr),
        allow: false,
        label: `${label} (${cidr})`,
        weight: 0,
      })),
      ...parseList(options.allow).map((cidr) => ({ range: parseRange(cidr), allow: true, label: `outbound.allow ${cidr}`, weight: 1 })),
      ...parseList(options.deny).map((cidr) => ({ range: parseRange(cidr), allow: false, label: `outbound.deny ${cidr}`, weight: 2 })),
    ];
    this.rules = { ipv4: rules.filter((r) => r.range.address.family === 'ipv4'), ipv6: rules.filter((r) => r.range.address.family === 'ipv6') };
    this.schemes = new Set(
      parseList(options.schemes).map((s) => {
        const scheme = s.toLowerCase().replace(/:$/, '');
        if (!/^[a-z][a-z0-9+.-]*$/.test(scheme)) throw new Error(`'${s}' is not a URL scheme`);
        return scheme;
      }),
    );
    this.ports = parsePorts(options.ports);
  }

  /** Why an address is refused, or undefined when the CSE may connect to it. */
  checkAddress(text: string): string | undefined {
    const address = parseAddress(text.replace(/^\[|\]$/g, ''));
    if (!address) return `'${text}' is not an IP address`;
    const embedded = embeddedIpv4(address);
    const own = embedded?.same ? undefined : this.refusingRule(address);
    if (own) return `${formatAddress(address)} is ${own}`;
    const carried = embedded ? this.refusingRule(embedded.v4) : undefined;
    return carried && embedded ? `${formatAddress(address)} carries ${formatAddress(embedded.v4)}, which is ${carried}` : undefined;
  }

  /** The label of the most specific range containing the address when that range refuses it. */
  private refusingRule(address: ParsedAddress): string | undefined {
    let best: Rule | undefined;
    for (const rule of this.rules[address.family]) {
      if (!inRange(address, rule.range)) continue;
      if (!best || rule.range.prefix > best.range.prefix || (rule.range.prefix === best.range.prefix && rule.weight > best.weight)) best = rule;
    }
    return best && !best.allow ? best.label : undefined;
  }

  /** Why a scheme is refused (`http:` or `http`), or undefined. */
  checkScheme(protocol: string): string | undefined {
    const scheme = protocol.toLowerCase().replace(/:$/, '');
    return this.schemes.has(scheme) ? undefined : `scheme '${scheme}' is not in outbound.schemes`;
  }

  /** Why a port is refused, or undefined. */
  checkPort(port: number): string | undefined {
    if (!Number.isInteger(port) || port < 1 || port > 65_535) return `port ${port} is not a valid port`;
    if (this.ports && !this.ports.some(([low, high]) => port >= low && port <= high)) return `port ${port} is not in outbound.ports`;
    return undefined;
  }

  /**
   * What can be decided from the URL alone: scheme, port and — when the host is an IP literal, which node:net
   * connects to without a lookup — the address. A host name is decided by `lookup`/`resolve` once resolved.
   * `connects=false` is for schemes whose host Warden never connects to (mqtt: the operator's broker carries
   * the request; ws: the AE's own connection): only the scheme is checked.
   */
  checkUrl(url: URL, connects = true): string | undefined {
    const schemeRefusal = this.checkScheme(url.protocol);
    if (schemeRefusal || !connects) return schemeRefusal;
    const scheme = url.protocol.slice(0, -1).toLowerCase();
    const port = url.port === '' ? DEFAULT_PORTS[scheme] : Number(url.port);
    if (port === undefined) return `scheme '${scheme}' has no default port`;
    const portRefusal = this.checkPort(port);
    if (portRefusal) return portRefusal;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (host === '') return 'the URL names no host';
    return isIP(host) ? this.checkAddress(host) : undefined;
  }

  /**
   * A drop-in `lookup` for net.connect / tls.connect / http(s).request: resolves once and hands back only the
   * permitted addresses, so the socket connects to an address this policy accepted. All refused: the
   * connection fails with OutboundRefused.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) {
        callback(err, '', 0);
        return;
      }
      const { allowed, refusal } = this.filter(addresses);
      if (allowed.length === 0) {
        callback(new OutboundRefused(hostname, refusal ?? 'the name resolved to no address'), '', 0);
        return;
      }
      if (options.all) callback(null, allowed);
      else callback(null, (allowed[0] as LookupAddress).address, (allowed[0] as LookupAddress).family);
    });
  };

  /** Resolves a host name (or literal) once to a permitted address, for libraries that would resolve by themselves. */
  resolve(host: string): Promise<LookupAddress> {
    const bare = host.replace(/^\[|\]$/g, '');
    if (isIP(bare)) {
      const refusal = this.checkAddress(bare);
      return refusal ? Promise.reject(new OutboundRefused(host, refusal)) : Promise.resolve({ address: bare, family: isIP(bare) });
    }
    return new Promise((resolve, reject) => {
      dnsLookup(bare, { all: true }, (err, addresses) => {
        if (err) return reject(err);
        const { allowed, refusal } = this.filter(addresses);
        const first = allowed[0];
        if (first) resolve(first);
        else reject(new OutboundRefused(host, refusal ?? 'the name resolved to no address'));
      });
    });
  }

  private filter(addresses: readonly LookupAddress[]): { allowed: LookupAddress[]; refusal: string | undefined } {
    let refusal: string | undefined;
    const allowed = addresses.filter((a) => {
      const why = this.checkAddress(a.address);
      refusal ??= why;
      return why === undefined;
    });
    return { allowed, refusal };
  }
}
