// Live views: a real <subscription> created as the signed-in originator, whose notifications reach the browser.
//
// The route: the subscription's notificationURI is `console://<channel>`, a scheme the outbound requester
// (bindings/http/client.ts) hands to this module instead of opening a connection (as mqtt: and ws: are handed to
// their bindings). Notifications therefore take the CSE's one delivery path — outbox, retries, verification,
// notification policies — and the browser reads them from a server-sent-events stream of its own session. The
// channel id is 128 random bits and a channel accepts only the verification naming its own originator and the
// notifications of the subscription it created, so another originator's subscription cannot write into it.
// The subscription is deleted (through the pipeline, as its originator) when the view closes, the stream
// drops, or the session ends; its expirationTime is the session's end, should Warden stop before that.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { OutboundResult } from '../bindings/http/client.js';
import type { RequestPrimitive } from '../primitive/request.js';
import { formatTimestamp } from '../primitive/identifiers.js';
import type { ConsoleConnection, ConsoleGateway } from './gateway.js';
import type { Session } from './sessions.js';

export const CONSOLE_SCHEME = 'console:';

/** Events kept for a stream that is not (or no longer) being read; older ones are dropped. */
const BUFFERED = 100;
/**
 * Bytes an open stream may hold unread; beyond, events are dropped (and counted, then told to the page as one
 * `dropped` event). A stream whose reader stopped reading grew this process's memory with every notification of a
 * resource others write (400 MB in a probe).
 */
const UNREAD_BYTES = 1_048_576;
/** A channel whose stream is not opened this soon after it was created is closed (and its subscription deleted). */
const OPEN_WITHIN_MS = 30_000;
const HEARTBEAT_MS = 15_000;
/** Live views per session at most. */
const PER_SESSION = 4;

interface Channel {
  readonly id: string;
  readonly session: Session;
  readonly connection: ConsoleConnection;
  /** The subscription's address as the CSE names it in sur (/cseId/ri), once created. */
  subscription?: { ri: string; sur: string; path: string };
  stream?: ServerResponse;
  readonly buffered: string[];
  /** Events not written to the open stream because its reader was behind. */
  dropped: number;
  timer?: NodeJS.Timeout;
  closed: boolean;
}

export class LiveViews {
  private readonly channels = new Map<string, Channel>();

  constructor(
    private readonly gateway: ConsoleGateway,
    private readonly cseId: string,
    private readonly now: () => number,
  ) {}

  /** Creates the subscription on `target` (a console path) as the session's originator. */
  async open(session: Session, connection: ConsoleConnection, target: string): Promise<{ channel?: string; rsc: number; pc?: unknown }> {
    const own = [...this.channels.values()].filter((c) => c.session === session);
    if (own.length >= PER_SESSION) return { rsc: 4000, pc: { 'm2m:dbg': `at most ${PER_SESSION} live views per session: close one first` } };
    const id = randomBytes(16).toString('hex');
    const channel: Channel = { id, session, connection, buffered: [], dropped: 0, closed: false };
    this.channels.set(id, channel);
    const answer = await this.gateway.send(session, connection, {
      method: 'POST',
      path: target,
      ty: 23,
      body: {
        'm2m:sub': {
          rn: `console-live-${id.slice(0, 12)}`,
          nu: [`console://${id}`],
          // Updates of the resource, creation and deletion of its children, its own deletion.
          enc: { net: [1, 2, 3, 4] },
          et: formatTimestamp(session.expires),
          lbl: ['warden-console'],
        },
      },
    });
    const sub = (answer.pc as Record<string, Record<string, unknown> | undefined> | undefined)?.['m2m:sub'];
    if (answer.rsc !== 2001 || typeof sub?.ri !== 'string') {
      this.channels.delete(id);
      return { rsc: answer.rsc, pc: answer.pc };
    }
    channel.subscription = { ri: sub.ri, sur: `/${this.cseId}/${sub.ri}`, path: `${target.split('?')[0] ?? target}/${String(sub.rn)}` };
    channel.timer = setTimeout(() => void this.close(id), OPEN_WITHIN_MS);
    channel.timer.unref();
    return { channel: id, rsc: answer.rsc, pc: answer.pc };
  }

  /** Attaches the browser's event stream; false when the channel is not this session's. */
  attach(id: string, session: Session, res: ServerResponse): boolean {
    const channel = this.channels.get(id);
    if (!channel || channel.closed || channel.session !== session || channel.stream) return false;
    if (channel.timer) clearInterval(channel.timer);
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    res.write(': live\n\n');
    channel.stream = res;
    for (const event of channel.buffered.splice(0)) res.write(event);
    channel.timer = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
    channel.timer.unref();
    res.on('close', () => void this.close(id));
    return true;
  }

  /** Closes one channel: the stream ends and the subscription is deleted as its originator. */
  async close(id: string, session?: Session): Promise<boolean> {
    const channel = this.channels.get(id);
    if (!channel || (session && channel.session !== session)) return false;
    this.channels.delete(id);
    channel.closed = true;
    if (channel.timer) clearInterval(channel.timer);
    channel.stream?.end();
    if (channel.subscription) {
      // Best effort: if the session's originator may no longer delete it, its et removes it at the session's end.
      await this.gateway.send(channel.session, channel.connection, { method: 'DELETE', path: `/~/${this.cseId}/${channel.subscription.ri}` }).catch(() => undefined);
    }
    return true;
  }

  /** Closes every channel of a session that ended. */
  async closeSession(session: Session): Promise<void> {
    await Promise.all([...this.channels.values()].filter((c) => c.session === session).map((c) => this.close(c.id)));
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.channels.keys()].map((id) => this.close(id)));
  }

  /** The outbound route of the console: scheme: a NOTIFY the Deliverer (or verification) sends to console://<channel>. */
  deliver(url: URL, primitive: RequestPrimitive): Promise<OutboundResult> {
    const channel = this.channels.get(url.hostname);
    if (!channel || channel.closed) return Promise.resolve({ rsc: 4004 });
    const sgn = (primitive.pc as Record<string, Record<string, unknown> | undefined> | undefined)?.['m2m:sgn'];
    if (!sgn) return Promise.resolve({ rsc: 4000 });
    if (sgn.vrq === true) {
      // Verification comes before the subscription exists: it must name this channel's originator as creator.
      const accepted = channel.subscription === undefined && sgn.cr === channel.session.originator;
      return Promise.resolve({ rsc: accepted ? 2000 : 4103 });
    }
    if (!channel.subscription || sgn.sur !== channel.subscription.sur) return Promise.resolve({ rsc: 4103 });
    this.push(channel, JSON.stringify({ at: this.now(), notification: sgn }));
    if (sgn.sud === true) void this.close(channel.id);
    return Promise.resolve({ rsc: 2000 });
  }

  /** One `dropped` event with the count of events dropped since the last one, if any. */
  private tellDropped(channel: Channel): void {
    if (channel.dropped === 0 || channel.closed || !channel.stream) return;
    channel.stream.write(`event: dropped\ndata: ${JSON.stringify({ count: channel.dropped })}\n\n`);
    channel.dropped = 0;
  }

  private push(channel: Channel, data: string): void {
    const event = `event: notification\ndata: ${data}\n\n`;
    const stream = channel.stream;
    if (stream) {
      if (stream.writableLength > UNREAD_BYTES) {
        // The page hears of what was dropped as soon as it has read what it holds, not only with a later event.
        if (channel.dropped++ === 0) stream.once('drain', () => this.tellDropped(channel));
        return;
      }
      this.tellDropped(channel);
      stream.write(event);
    } else {
      channel.buffered.push(event);
      if (channel.buffered.length > BUFFERED) channel.buffered.shift();
    }
  }
}
