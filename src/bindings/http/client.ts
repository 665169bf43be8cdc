// Outbound requests over HTTP(S) [TS-0009]: a request primitive to a URL, the response primitive back.
// Outgoing TLS verifies the peer against the system roots plus the CSE's trust anchors, always.
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { RequestPrimitive } from '../../primitive/request.js';

export interface OutboundResult {
  /** The X-M2M-RSC of the answer; 5103 when nothing usable came back. */
  rsc: number;
  body?: unknown;
}

const MAX_RESPONSE_BYTES = 1_048_576;

/** A route for other URL schemes (mqtt://), attached once that binding runs. */
export type SchemeRoute = (url: URL, primitive: RequestPrimitive, timeoutMs: number) => Promise<OutboundResult>;

export class HttpOutbound {
  private readonly routes = new Map<string, SchemeRoute>();

  /** Lets another binding carry requests to URLs of its scheme (e.g. 'mqtt:'). */
  route(protocol: string, route: SchemeRoute): void {
    this.routes.set(protocol, route);
  }

  private readonly http = new HttpAgent({ keepAlive: true, maxSockets: 64 });
  private readonly https: HttpsAgent;

  constructor(
    private readonly timeoutMs: number,
    trustAnchors?: string,
  ) {
    this.https = new HttpsAgent({ keepAlive: true, maxSockets: 64, ca: trustAnchors ? [...rootCertificates, trustAnchors] : [...rootCertificates], rejectUnauthorized: true });
  }

  /** Sends a NOTIFY (no ty) or other primitive; never throws: failures are 5103 TARGET_NOT_REACHABLE. */
  send(url: string, primitive: RequestPrimitive): Promise<OutboundResult> {
    return new Promise((resolve) => {
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        resolve({ rsc: 5103 });
        return;
      }
      const route = this.routes.get(target.protocol);
      if (route) {
        route(target, primitive, this.timeoutMs).then(resolve, () => resolve({ rsc: 5103 }));
        return;
      }
      if (target.protocol !== 'http:' && target.protocol !== 'https:') {
        resolve({ rsc: 5103 });
        return;
      }
      const body = primitive.pc === undefined ? undefined : Buffer.from(JSON.stringify(primitive.pc));
      const headers: Record<string, string> = {
        'X-M2M-Origin': primitive.fr,
        'X-M2M-RI': primitive.rqi,
        'X-M2M-RVI': primitive.rvi ?? '3',
        Accept: 'application/json',
      };
      if (primitive.ec !== undefined) headers['X-M2M-EC'] = String(primitive.ec);
      if (body) {
        headers['Content-Type'] = primitive.ty === undefined ? 'application/json' : `application/json;ty=${primitive.ty}`;
        headers['Content-Length'] = String(body.length);
      }
      const secure = target.protocol === 'https:';
      const call = secure ? httpsRequest : httpRequest;
      const req = call(
        target,
        { method: primitive.op === 2 ? 'GET' : 'POST', headers, agent: secure ? this.https : this.http, timeout: this.timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_RESPONSE_BYTES) req.destroy();
            else chunks.push(c);
          });
          res.on('end', () => {
            const rsc = Number(res.headers['x-m2m-rsc']);
            let parsed: unknown;
            try {
              parsed = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
            } catch {
              parsed = undefined;
            }
            // A receiver that answers without an RSC did not speak oneM2M: not a delivery.
            resolve(Number.isInteger(rsc) && rsc > 0 ? { rsc, body: parsed } : { rsc: 5103 });
          });
          res.on('error', () => resolve({ rsc: 5103 }));
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      // The socket timeout only notices silence: a peer that trickles bytes is cut off by a total deadline.
      const deadline = setTimeout(() => req.destroy(new Error('deadline')), this.timeoutMs);
      req.on('close', () => clearTimeout(deadline));
      req.on('error', () => resolve({ rsc: 5103 }));
      req.end(body);
    });
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}
