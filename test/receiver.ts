// A notification receiver on loopback for tests: records what it gets, answers as told.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Decoder } from 'cbor-x';

const cborDecoder = new Decoder({ mapsAsObjects: true, useRecords: false });

export interface Received {
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

/** hang: never answers; hold: records the request and answers it (as 'ok') only when release() is called. */
export type Behaviour = 'ok' | 'refuse' | 'garbage' | 'hang' | 'hold';

export class Receiver {
  readonly received: Received[] = [];
  behaviour: Behaviour = 'ok';
  /** The RSC of a refusal (behaviour 'refuse'). */
  refusal = 4101;
  /** Answers of its own for some requests (an IPE answering an on-demand discovery); undefined: the behaviour. */
  respond: ((body: Record<string, unknown>) => Promise<{ rsc: number; body?: unknown } | undefined>) | undefined;
  private server: Server | undefined;
  private readonly held: Array<() => void> = [];
  port = 0;

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        if (this.behaviour === 'hang') return;
        const raw = Buffer.concat(chunks);
        // A notification in CBOR (the receiver's csz or a ct= key asked for it) is read as such.
        const cbor = String(req.headers['content-type'] ?? '').startsWith('application/cbor');
        const body = raw.length === 0 ? {} : cbor ? (cborDecoder.decode(raw) as Record<string, unknown>) : (JSON.parse(raw.toString()) as Record<string, unknown>);
        this.received.push({ headers: req.headers, body });
        if (this.behaviour === 'hold') {
          this.held.push(() => this.answer(req, res));
          return;
        }
        const own = this.respond;
        if (own) {
          void own(body).then((answer) => {
            if (!answer) return this.answer(req, res);
            res.writeHead(answer.rsc < 3000 ? 200 : 403, { 'X-M2M-RSC': String(answer.rsc), 'X-M2M-RI': String(req.headers['x-m2m-ri'] ?? ''), 'Content-Type': 'application/json' });
            res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
          });
          return;
        }
        this.answer(req, res);
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    this.port = (this.server?.address() as AddressInfo).port;
    return this;
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    if (this.behaviour === 'garbage') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('I am not a oneM2M entity');
      return;
    }
    const rsc = this.behaviour === 'refuse' ? String(this.refusal) : '2000';
    res.writeHead(this.behaviour === 'refuse' ? 403 : 200, { 'X-M2M-RSC': rsc, 'X-M2M-RI': String(req.headers['x-m2m-ri'] ?? '') });
    res.end();
  }

  /** Requests held open so far (behaviour 'hold'). */
  get holding(): number {
    return this.held.length;
  }

  /** Answers every held request with 2000 and stops holding new ones. */
  release(): void {
    this.behaviour = 'ok';
    for (const answer of this.held.splice(0)) answer();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/notify`;
  }

  /** Notifications only (verification requests left out). */
  notifications(): Record<string, unknown>[] {
    return this.received.map((r) => r.body).filter((b) => !((b['m2m:sgn'] as Record<string, unknown> | undefined)?.vrq === true));
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
