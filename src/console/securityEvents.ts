// Recent security events for the console's admin view: a bounded ring in memory, fed by the responses the
// bindings hand out (refused requests, failed authentications) and by the certificates seen (expiry ahead).
// The log keeps the full record (authenticate's 'security event' lines, each request line); this is only the
// recent past, so that an operator sees it without a log pipeline.
import type { RequestPrimitive } from '../primitive/request.js';
import { OPERATION_NAMES } from '../primitive/request.js';
import type { ResponsePrimitive } from '../primitive/response.js';
import { RSC } from '../primitive/rsc.js';
import type { TransportContext } from '../primitive/transport.js';

export type SecurityEventKind = 'refused' | 'authentication-failed' | 'certificate-expiring';

export interface SecurityEvent {
  readonly at: number;
  readonly kind: SecurityEventKind;
  readonly originator: string;
  readonly operation?: string;
  readonly target?: string;
  readonly rsc?: number;
  readonly reason: string;
  readonly remote?: string;
  readonly binding?: string;
}

/** Whom a certificate warning is about is said once per certificate (its fingerprint) per day. */
const WARNED_KEPT = 1000;
const DAY_MS = 86_400_000;

/** Responses that are a refusal on security grounds. */
const AUTHENTICATION = new Set<number>([RSC.ORIGINATOR_NOT_AUTHENTICATED, RSC.SECURITY_ASSOCIATION_REQUIRED]);
const REFUSAL = new Set<number>([RSC.ORIGINATOR_HAS_NO_PRIVILEGE]);

/** The newest `capacity` events, oldest first when read. */
class Ring {
  private readonly events: SecurityEvent[] = [];
  private next = 0;

  constructor(private readonly capacity: number) {}

  add(event: SecurityEvent): void {
    if (this.events.length < this.capacity) this.events.push(event);
    else this.events[this.next] = event;
    this.next = (this.next + 1) % this.capacity;
  }

  ordered(): SecurityEvent[] {
    return this.events.length < this.capacity ? [...this.events] : [...this.events.slice(this.next), ...this.events.slice(0, this.next)];
  }
}

/**
 * Two rings of `capacity` each: the refusals of requests (observe), which anyone who can send a request can fill, and
 * the CSE's own findings (record: console sign-ins, certificates about to expire), which requests cannot push out.
 */
export class SecurityEvents {
  private readonly requests: Ring;
  private readonly own: Ring;
  private readonly warned = new Map<string, number>();

  constructor(
    capacity: number,
    private readonly warnDays: number,
  ) {
    this.requests = new Ring(capacity);
    this.own = new Ring(capacity);
  }

  /** One of the CSE's own findings (not a request's refusal). */
  record(event: SecurityEvent): void {
    this.own.add(event);
  }

  /** Newest first, both rings together. */
  recent(): SecurityEvent[] {
    // Each ring newest first, then a stable sort by time: events of one instant stay newest first.
    return [...this.requests.ordered().reverse(), ...this.own.ordered().reverse()].sort((a, b) => b.at - a.at);
  }

  /** Notes what one request/response pair says about security. */
  observe(request: RequestPrimitive, transport: TransportContext, response: ResponsePrimitive, now: number): void {
    const cert = transport.peerCertificate;
    if (cert?.verified && cert.validTo) this.certificateSeen(`client ${cert.subject.replace(/\n/g, ', ')}`, cert.fingerprint256, Date.parse(cert.validTo), now);
    const kind: SecurityEventKind | undefined = AUTHENTICATION.has(response.rsc) ? 'authentication-failed' : REFUSAL.has(response.rsc) ? 'refused' : undefined;
    if (!kind) return;
    const pc = response.pc;
    const reason = typeof pc?.['m2m:dbg'] === 'string' ? pc['m2m:dbg'] : `answered ${response.rsc}`;
    this.requests.add({
      at: now,
      kind,
      originator: request.fr.slice(0, 256),
      operation: OPERATION_NAMES[request.op] ?? String(request.op),
      target: request.to.slice(0, 512),
      rsc: response.rsc,
      reason: reason.slice(0, 512),
      remote: transport.remoteAddress,
      binding: transport.binding,
    });
  }

  /** A certificate (the CSE's own, or a client's) that expires within the warning period, once a day. */
  certificateSeen(whose: string, fingerprint: string, validTo: number, now: number): void {
    if (!Number.isFinite(validTo) || validTo - now > this.warnDays * DAY_MS) return;
    const last = this.warned.get(fingerprint);
    if (last !== undefined && now - last < DAY_MS) return;
    if (this.warned.size >= WARNED_KEPT) this.warned.clear();
    this.warned.set(fingerprint, now);
    const days = Math.floor((validTo - now) / DAY_MS);
    this.record({ at: now, kind: 'certificate-expiring', originator: whose.slice(0, 256), reason: days < 0 ? 'the certificate has expired' : `the certificate expires in ${days} days` });
  }
}
