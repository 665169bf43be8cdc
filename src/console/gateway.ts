// Every console data call becomes a oneM2M request primitive, sent as the session's originator and handed to
// the same handler the HTTP binding uses: authentication, quotas, access control and validation all apply, and
// the answer (RSC and message) is the API's own. The console never reads resources around that pipeline.
import { randomBytes } from 'node:crypto';
import { CseError } from '../primitive/errors.js';
import type { ResponsePrimitive } from '../primitive/response.js';
import type { PeerCertificate, TransportContext } from '../primitive/transport.js';
import { decodeHttpRequest } from '../bindings/http/decode.js';
import type { RequestHandler } from '../bindings/http/server.js';
import type { Session } from './sessions.js';

export interface ConsoleRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** The HTTP binding's path form: /cse-in/ae/cnt?rcn=1 (CSE-relative), /~/id-in/… (SP-relative), /_/… (absolute). */
  readonly path: string;
  readonly ty?: number;
  readonly body?: unknown;
}

/** What the browser connection proved, for the transport of the request the console makes for it. */
export interface ConsoleConnection {
  readonly remoteAddress: string;
  readonly secure: boolean;
  readonly peerCertificate?: PeerCertificate;
}

export interface ConsoleAnswer {
  readonly rsc: number;
  readonly pc?: unknown;
  readonly location?: string;
  /** Content status (1 partial, 2 full) and the offset of the next page, for discovery. */
  readonly cnst?: number;
  readonly cnot?: number;
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE']);

/** Checks the shape of a request the browser sent; throws CseError 4000 with what is wrong. */
export function consoleRequestOf(value: unknown): ConsoleRequest {
  if (typeof value !== 'object' || value === null) throw new CseError(4000, 'the request must be a JSON object');
  const v = value as Record<string, unknown>;
  if (typeof v.method !== 'string' || !METHODS.has(v.method)) throw new CseError(4000, 'method must be GET, POST, PUT or DELETE');
  if (typeof v.path !== 'string' || !v.path.startsWith('/') || v.path.length > 4096) throw new CseError(4000, "path must start with '/' (at most 4096 characters)");
  if (v.ty !== undefined && (typeof v.ty !== 'number' || !Number.isInteger(v.ty) || v.ty < 0 || v.ty > 999_999)) throw new CseError(4000, 'ty must be a resource type number');
  return { method: v.method as ConsoleRequest['method'], path: v.path, ...(v.ty === undefined ? {} : { ty: v.ty }), ...(v.body === undefined ? {} : { body: v.body }) };
}

export class ConsoleGateway {
  constructor(
    private readonly handle: RequestHandler,
    private readonly maxQueryParameters: number,
  ) {}

  /**
   * Sends one request as the session's originator. A token session's request carries no client credential (it is
   * not rq_authn); a certificate session's carries the certificate of the browser's connection, so authenticate
   * checks it exactly as for any HTTPS request.
   */
  async send(session: Session, connection: ConsoleConnection, request: ConsoleRequest): Promise<ConsoleAnswer> {
    const body = request.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(request.body));
    const headers: Record<string, string> = {
      'x-m2m-origin': session.originator,
      'x-m2m-ri': `console-${randomBytes(8).toString('hex')}`,
      'x-m2m-rvi': '3',
      accept: 'application/json',
    };
    if (body.length > 0 || request.ty !== undefined) headers['content-type'] = request.ty === undefined ? 'application/json' : `application/json;ty=${request.ty}`;
    let response: ResponsePrimitive;
    try {
      const primitive = decodeHttpRequest({ method: request.method, url: request.path, headers, body }, this.maxQueryParameters);
      const transport: TransportContext = { binding: 'http', remoteAddress: connection.remoteAddress, secure: connection.secure, responseFormat: 'json' };
      if (session.kind === 'certificate' && connection.peerCertificate) transport.peerCertificate = connection.peerCertificate;
      response = await this.handle(primitive, transport);
    } catch (err) {
      if (err instanceof CseError) return { rsc: err.rsc, pc: { 'm2m:dbg': err.message } };
      throw err;
    }
    return { rsc: response.rsc, ...(response.pc === undefined ? {} : { pc: response.pc }), ...(response.location ? { location: response.location } : {}),
      ...(response.cnst === undefined ? {} : { cnst: response.cnst }),
      ...(response.cnot === undefined ? {} : { cnot: response.cnot }),
    };
  }
}
