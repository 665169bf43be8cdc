// Console sessions: server-side state keyed by a random id that only the browser's HttpOnly cookie carries.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface Session {
  /** The originator every request of this session is sent as. */
  readonly originator: string;
  /** 'certificate': the browser's client certificate authenticates each request; 'token': an operator's sign-in token. */
  readonly kind: 'token' | 'certificate';
  /** Fingerprint of the client certificate a certificate session was opened with: another certificate is another user. */
  readonly fingerprint?: string;
  /** Sent back in the X-Console-CSRF header of every API call. */
  readonly csrf: string;
  readonly expires: number;
}

/** Sessions held at most; the oldest go first (a flood of sign-ins cannot exhaust memory). */
const MAX_SESSIONS = 1000;

/** The map key: a hash of the id, so that a heap dump or a log of keys does not hand out live cookies. */
function keyOf(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

export class Sessions {
  private readonly byKey = new Map<string, Session>();
  private readonly ended: Array<(session: Session) => void> = [];

  constructor(private readonly lifetimeMs: number) {}

  /** Called when a session ends (sign-out, expiry, eviction): its live views are closed. */
  onEnd(listener: (session: Session) => void): void {
    this.ended.push(listener);
  }

  /** A new session with a new random id (never one the client proposed: no fixation). */
  open(now: number, fields: Omit<Session, 'csrf' | 'expires'>): { id: string; session: Session } {
    const id = randomBytes(32).toString('base64url');
    const session: Session = { ...fields, csrf: randomBytes(32).toString('base64url'), expires: now + this.lifetimeMs };
    if (this.byKey.size >= MAX_SESSIONS) {
      const oldest = this.byKey.keys().next().value;
      if (oldest !== undefined) this.drop(oldest);
    }
    this.byKey.set(keyOf(id), session);
    return { id, session };
  }

  /** The live session of a cookie value; an expired one is ended on the way. */
  get(id: string | undefined, now: number): Session | undefined {
    if (!id || id.length > 128) return undefined;
    const key = keyOf(id);
    const session = this.byKey.get(key);
    if (!session) return undefined;
    if (session.expires <= now) {
      this.drop(key);
      return undefined;
    }
    return session;
  }

  close(id: string | undefined): void {
    if (id && id.length <= 128) this.drop(keyOf(id));
  }

  /** Ends every expired session (run now and then, so that their live views do not outlast them). */
  sweep(now: number): void {
    for (const [key, session] of this.byKey) if (session.expires <= now) this.drop(key);
  }

  closeAll(): void {
    for (const key of [...this.byKey.keys()]) this.drop(key);
  }

  private drop(key: string): void {
    const session = this.byKey.get(key);
    if (!session) return;
    this.byKey.delete(key);
    for (const listener of this.ended) listener(session);
  }
}

/** Compares a presented CSRF token with the session's in constant time. */
export function csrfMatches(session: Session, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
