// A request primitive to another CSE over HTTPS [TS-0009], inside a security association [TS-0003 §6.1.2.2.1]:
// the connection presents this CSE's certificate (tls.cert/tls.key), trusts tls.ca only, and accepts the peer
// only if its certificate names the CSE-ID the request is meant for (a `warden pki cse` certificate carries
// `onem2m://SP/CSE-ID` and no host names, so the host name is not what is verified). Every destination passes
// the outbound destination policy first (src/security/outboundPolicy.ts), through its lookup.
import { readFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import type { PeerCertificate } from 'node:tls';
import type { Config } from '../config/config.js';
import { parsePeerCas, parsePeers } from '../config/peers.js';
import type { Logger } from '../log/logger.js';
import { filterCriteriaContent, OPERATION, type RequestPrimitive } from '../primitive/request.js';
import { isOutboundRefused, type OutboundPolicy } from '../security/outboundPolicy.js';
import { uriSubjectAltNames } from '../security/pki.js';

/** What came back from the other CSE; rsc 5103 when nothing usable did (`unreachable` says why). */
export interface LinkResult {
  rsc: number;
  pc?: Record<string, unknown>;
  cnst?: number;
  cnot?: number;
  unreachable?: string;
}

/** The CSE a link must reach: its CSE-ID (SP-relative, `/id-in`) and its M2M-SP-ID. */
export interface PeerIdentity {
  readonly csi: string;
  readonly spId: string;
}

/**
 * Whether a certificate names the CSE: a URI subjectAltName `[scheme:]//SP/CSE-ID` [TS-0003 §10.1.1.5], the SP
 * compared without case (a domain name), the CSE-ID exactly.
 */
export function certificateNamesCse(uris: readonly string[], peer: PeerIdentity): boolean {
  const stem = peer.csi.replace(/^\//, '');
  return uris.some((uri) => {
    const m = /^(?:[a-z][a-z0-9+.-]*:)?\/\/([^/]+)\/([^/]+)$/i.exec(uri);
    return m !== null && (m[1] as string).toLowerCase() === peer.spId.toLowerCase() && m[2] === stem;
  });
}

/** To → HTTP path [TS-0009 table 6.2.2.1-1]: SP-relative /x is /~/x, absolute //x is /_/x, CSE-relative x is /x. */
export function httpPathOf(to: string): string {
  const encode = (path: string): string => path.split('/').map(encodeURIComponent).join('/');
  if (to.startsWith('//')) return `/_/${encode(to.slice(2))}`;
  if (to.startsWith('/')) return `/~/${encode(to.slice(1))}`;
  return `/${encode(to)}`;
}

/** The request parameters that travel in the query string [TS-0009 §6.2.2.2], the inverse of bindings/http/decode.ts. */
export function queryOf(p: RequestPrimitive): URLSearchParams {
  const q = new URLSearchParams();
  if (p.rcn !== undefined) q.set('rcn', String(p.rcn));
  if (p.rt !== undefined) q.set('rt', String(p.rt.rtv));
  if (p.rp !== undefined) q.set('rp', p.rp);
  if (p.da !== undefined) q.set('da', String(p.da));
  if (p.drt !== undefined) q.set('drt', String(p.drt));
  if (p.sqi !== undefined) q.set('sqi', String(p.sqi));
  if (p.tqi !== undefined) q.set('tqi', String(p.tqi));
  for (const key of ['atrl', 'rids', 'tids', 'ltids'] as const) {
    const values = p[key];
    if (values && values.length > 0) q.set(key, values.join(' '));
  }
  if (p.fc) {
    for (const [key, value] of Object.entries(filterCriteriaContent(p.fc))) {
      if (key === 'atr' || key === 'catr' || key === 'patr') {
        const prefix = key === 'catr' ? 'c.' : key === 'patr' ? 'p.' : '';
        for (const { nm, val } of value as Array<{ nm: string; val: string }>) q.append(`${prefix}${nm}`, val);
      } else if (key === 'lbq' || key === 'smf') {
        for (const v of value as string[]) q.append(key, v);
      } else if (Array.isArray(value)) {
        q.set(key, value.map(String).join(' '));
      } else {
        q.set(key, String(value));
      }
    }
  }
  return q;
}

const METHODS: Readonly<Record<number, string>> = { [OPERATION.CREATE]: 'POST', [OPERATION.RETRIEVE]: 'GET', [OPERATION.UPDATE]: 'PUT', [OPERATION.DELETE]: 'DELETE', [OPERATION.NOTIFY]: 'POST' };

interface TlsMaterial {
  cert: string;
  key: string;
  ca: string;
  /** peers.ca: each peer SP's CAs (by SP-ID in lower case), the only ones a link to its IN-CSE trusts when set. */
  peerCas?: ReadonlyMap<string, string>;
  crl?: string;
}

function readMaterial(config: Config): TlsMaterial | undefined {
  const t = config.tls;
  if (!t.cert || !t.key || !t.ca) return undefined;
  return {
    cert: readFileSync(t.cert, 'utf8'),
    key: readFileSync(t.key, 'utf8'),
    ca: readFileSync(t.ca, 'utf8'),
    ...(config.peers.ca ? { peerCas: peerCasOf(config) } : {}),
    ...(t.crl ? { crl: readFileSync(t.crl, 'utf8') } : {}),
  };
}

/** Each peer SP's CA certificates (peers.ca, validated when the configuration was loaded). */
function peerCasOf(config: Config): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  for (const file of parsePeerCas(config.peers.ca, parsePeers(config.peers.list, config.cse.spid))) {
    const pem = readFileSync(file.path, 'utf8');
    for (const sp of file.spIds) out.set(sp, pem);
  }
  return out;
}

export class CseLink {
  private material: TlsMaterial | undefined;
  /** One connection pool per peer CSE: a pooled connection was verified for that CSE and no other. */
  private readonly agents = new Map<string, Agent>();

  constructor(
    private readonly config: Config,
    private readonly policy: OutboundPolicy,
    private readonly log: Logger,
  ) {
    this.material = readMaterial(config);
  }

  private closed = false;
  /** The broker connection of the MQTT binding, for links through it (mqtt.cseLinks); undefined: https only. */
  private mqtt: ((target: string, primitive: RequestPrimitive, timeoutMs: number) => Promise<{ rsc: number; body?: unknown }>) | undefined;

  /**
   * Links to points of access `mqtts://` go through this broker connection (TS-0010; the request topic names the
   * target CSE, and the broker's client certificates and ACL are the security association — mqtt.cseLinks).
   */
  useMqtt(request: (target: string, primitive: RequestPrimitive, timeoutMs: number) => Promise<{ rsc: number; body?: unknown }>): void {
    this.mqtt = request;
  }

  /** A request to the CSE `peer` through the MQTT broker: only the broker of mqtt.url, only with mqtt.cseLinks. */
  private async sendMqtt(url: URL, peer: PeerIdentity, primitive: RequestPrimitive, timeoutMs: number, unreachable: (reason: string) => LinkResult): Promise<LinkResult> {
    const mqtt = this.mqtt;
    if (!mqtt || !this.config.mqtt.cseLinks) return unreachable('CSE links over MQTT need mqtt.enabled and mqtt.cseLinks');
    let broker: URL;
    try {
      broker = new URL(this.config.mqtt.url);
    } catch {
      return unreachable('mqtt.url is no URL');
    }
    // The point of access names a broker; this CSE reaches CSEs only through the one it is connected to (and trusts).
    if (url.protocol !== 'mqtts:' || url.host !== broker.host) return unreachable(`${url.protocol}//${url.host} is not the broker of mqtt.url`);
    const answer = await mqtt(peer.csi, primitive, timeoutMs);
    if (!Number.isInteger(answer.rsc) || answer.rsc < 1000 || answer.rsc > 9999) return unreachable('the peer answered without a valid response status code');
    if (answer.rsc === 5103 && answer.body === undefined) return unreachable('no answer through the broker');
    const result: LinkResult = { rsc: answer.rsc };
    if (typeof answer.body === 'object' && answer.body !== null && !Array.isArray(answer.body)) result.pc = answer.body as Record<string, unknown>;
    return result;
  }

  /** Re-reads tls.cert, tls.key, tls.ca and tls.crl; connections opened from now on use them. */
  reload(): void {
    this.material = readMaterial(this.config);
    this.dropConnections();
  }

  private agentFor(peer: PeerIdentity, material: TlsMaterial): Agent {
    const key = `${peer.spId.toLowerCase()}/${peer.csi}`;
    let agent = this.agents.get(key);
    if (!agent) {
      agent = new Agent({
        keepAlive: true,
        maxSockets: 16,
        cert: material.cert,
        key: material.key,
        // A CSE of this SP is vouched for by tls.ca alone; another SP's by that SP's CAs (peers.ca), where they are
        // configured (send() refuses a peer SP they name none for).
        ca: peer.spId.toLowerCase() !== this.config.cse.spid.toLowerCase() && material.peerCas ? (material.peerCas.get(peer.spId.toLowerCase()) ?? '') : material.ca,
        ...(material.crl ? { crl: material.crl } : {}),
        minVersion: this.config.tls.minVersion,
        rejectUnauthorized: true,
        checkServerIdentity: (_host: string, cert: PeerCertificate) => {
          let uris: string[] = [];
          try {
            uris = uriSubjectAltNames(cert.raw);
          } catch {
            uris = [];
          }
          return certificateNamesCse(uris, peer) ? undefined : new Error(`the peer certificate does not name CSE //${peer.spId}${peer.csi}`);
        },
      });
      this.agents.set(key, agent);
    }
    return agent;
  }

  /** Sends a primitive to the CSE `peer` at `poa`; never throws. */
  send(poa: string, peer: PeerIdentity, primitive: RequestPrimitive, waitMs?: number): Promise<LinkResult> {
    const unreachable = (reason: string): LinkResult => {
      this.log.warn({ event: 'cse-link-failed', peer: peer.csi, poa: safeOrigin(poa), rqi: primitive.rqi, reason }, 'CSE link');
      return { rsc: 5103, unreachable: reason };
    };
    if (this.closed) return Promise.resolve({ rsc: 5103, unreachable: 'this CSE is shutting down' });
    let url: URL;
    try {
      url = new URL(poa);
    } catch {
      return Promise.resolve(unreachable('the point of access is no URL'));
    }
    if (url.protocol === 'mqtts:') return this.sendMqtt(url, peer, primitive, Math.min(this.config.registrar.timeout * 1000, waitMs ?? Infinity), unreachable);
    // Every CSE-to-CSE hop is inside a security association: plain HTTP (or MQTT) carries no CSE's identity.
    if (url.protocol !== 'https:') return Promise.resolve(unreachable(`scheme ${url.protocol} carries no security association: CSE links use https (or mqtts with mqtt.cseLinks)`));
    const material = this.material;
    if (!material) return Promise.resolve(unreachable('tls.cert, tls.key and tls.ca are needed for links to other CSEs'));
    const otherSp = peer.spId.toLowerCase() !== this.config.cse.spid.toLowerCase();
    if (otherSp && material.peerCas && !material.peerCas.has(peer.spId.toLowerCase())) return Promise.resolve(unreachable(`peers.ca names no CA for SP ${peer.spId}`));
    const refusal = this.policy.checkUrl(url);
    if (refusal) {
      this.log.warn({ event: 'outbound-refused', destination: safeOrigin(poa), to: primitive.to, rqi: primitive.rqi, reason: refusal }, 'security event');
      return Promise.resolve({ rsc: 5103, unreachable: refusal });
    }
    const body = primitive.pc === undefined ? undefined : Buffer.from(JSON.stringify(primitive.pc));
    const headers: Record<string, string> = {
      'X-M2M-Origin': primitive.fr,
      'X-M2M-RI': primitive.rqi,
      Accept: 'application/json',
    };
    if (primitive.rvi !== undefined) headers['X-M2M-RVI'] = primitive.rvi;
    const optional = [
      ['X-M2M-RST', primitive.rset],
      ['X-M2M-RET', primitive.rqet],
      ['X-M2M-OET', primitive.oet],
      ['X-M2M-OT', primitive.ot],
      ['X-M2M-VSI', primitive.vsi],
      ['X-M2M-GID', primitive.gid],
      ['X-M2M-EC', primitive.ec === undefined ? undefined : String(primitive.ec)],
      ['X-M2M-RTU', primitive.rt?.nu?.join('&')],
    ] as const;
    for (const [name, value] of optional) if (value !== undefined && value !== '') headers[name] = value;
    if (primitive.tkns && primitive.tkns.length > 0) headers.Authorization = primitive.tkns.join('+');
    if (body) {
      headers['Content-Type'] = primitive.op === OPERATION.CREATE && primitive.ty !== undefined ? `application/json;ty=${primitive.ty}` : 'application/json';
      headers['Content-Length'] = String(body.length);
    }
    const query = queryOf(primitive).toString();
    const base = url.pathname.replace(/\/+$/, '');
    const path = `${base}${httpPathOf(primitive.to)}${query ? `?${query}` : ''}`;
    // The request's own expiry, where it is sooner than the configured wait.
    const timeoutMs = Math.min(this.config.registrar.timeout * 1000, waitMs ?? Infinity);
    const maxBytes = this.config.http.maxBodyBytes;
    return new Promise((resolve) => {
      const req = httpsRequest(
        { protocol: 'https:', hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || 443, path, method: METHODS[primitive.op] ?? 'POST', headers, agent: this.agentFor(peer, material), timeout: timeoutMs, lookup: this.policy.lookup },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > maxBytes) req.destroy(new Error('the answer is larger than http.maxBodyBytes'));
            else chunks.push(c);
          });
          res.on('end', () => {
            const rsc = Number(res.headers['x-m2m-rsc']);
            // An answer without an RSC is no oneM2M answer: the next hop is not a CSE.
            if (!Number.isInteger(rsc) || rsc < 1000 || rsc > 9999) {
              resolve(unreachable(`the peer answered HTTP ${res.statusCode ?? 0} without a valid X-M2M-RSC`));
              return;
            }
            const result: LinkResult = { rsc };
            if (chunks.length > 0) {
              try {
                const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
                if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) result.pc = parsed as Record<string, unknown>;
              } catch {
                resolve(unreachable('the peer answered content that is no JSON'));
                return;
              }
            }
            const cts = Number(res.headers['x-m2m-cts']);
            const cto = Number(res.headers['x-m2m-cto']);
            if (Number.isInteger(cts)) result.cnst = cts;
            if (Number.isInteger(cto)) result.cnot = cto;
            resolve(result);
          });
          res.on('error', (err) => resolve(unreachable(err.message)));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      // The socket timeout notices only silence: a peer that trickles bytes is cut off by a total deadline.
      const deadline = setTimeout(() => req.destroy(new Error(`no answer within ${Math.ceil(timeoutMs) / 1000} s`)), timeoutMs);
      req.on('close', () => clearTimeout(deadline));
      req.on('error', (err) => {
        if (isOutboundRefused(err)) {
          this.log.warn({ event: 'outbound-refused', destination: safeOrigin(poa), to: primitive.to, rqi: primitive.rqi, reason: err.reason }, 'security event');
          resolve({ rsc: 5103, unreachable: err.reason });
        } else resolve(unreachable(err.message));
      });
      req.end(body);
    });
  }

  private dropConnections(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  /** Ends every connection, in flight or idle; nothing is sent afterwards. */
  close(): void {
    this.closed = true;
    this.dropConnections();
  }
}

/** Scheme, host and port of a URL, for logs (never its user info or query). */
function safeOrigin(poa: string): string {
  try {
    const u = new URL(poa);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(invalid)';
  }
}
