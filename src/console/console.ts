// The web console's HTTP entry: /console/ (static UI) and /console/api/* (sign-in, session, and data calls that
// all go through the oneM2M pipeline as the session's originator). Plugged into the HTTP(S) binding.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CseServices } from '../pipeline/context.js';
import type { RequestHandler } from '../bindings/http/server.js';
import { CseError } from '../primitive/errors.js';
import { loadAssets, type Asset } from './assets.js';
import { ConsoleGateway, consoleRequestOf, type ConsoleConnection } from './gateway.js';
import { Explainer, explainQuestionOf } from './explain.js';
import { BodyError, clearedCookie, cookieName, cookieOf, headerOf, readJson, sameOrigin, securityHeaders, sendError, sendJson, sessionCookie } from './httpKit.js';
import { LiveViews } from './live.js';
import { AttemptLimiter } from './rateLimit.js';
import type { SecurityEvents } from './securityEvents.js';
import { Sessions, csrfMatches, type Session } from './sessions.js';
import { redeemToken, sweepTokens } from './signInTokens.js';
import { CONSOLE_PREFIX, tokenDirectory } from './settings.js';

const CSRF_HEADER = 'x-console-csrf';
const SWEEP_MS = 60_000;

export interface ConsoleOptions {
  /** The request handler the bindings use (the pipeline, with security events noted). */
  readonly handle: RequestHandler;
  readonly events: SecurityEvents;
  /** Where the built UI is; defaults to dist/console-ui. */
  readonly assetDirectory?: string;
}

export class WebConsole {
  private readonly sessions: Sessions;
  private readonly limiter: AttemptLimiter;
  private readonly gateway: ConsoleGateway;
  readonly live: LiveViews;
  private readonly explainer: Explainer;
  private readonly assets: ReadonlyMap<string, Asset> | undefined;
  private readonly tokenDir: string;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly services: CseServices,
    private readonly options: ConsoleOptions,
  ) {
    const { config, clock } = services;
    this.sessions = new Sessions(config.console.sessionLifetime * 1000);
    this.limiter = new AttemptLimiter(config.console.signInAttempts, config.console.signInAttempts * 10);
    this.gateway = new ConsoleGateway(options.handle, config.http.maxQueryParameters);
    this.live = new LiveViews(this.gateway, services.self.cseId, () => clock.now());
    this.explainer = new Explainer(services, this.gateway);
    this.assets = loadAssets(options.assetDirectory);
    this.tokenDir = tokenDirectory(config);
    this.sessions.onEnd((session) => void this.live.closeSession(session));
    this.sweeper = setInterval(() => {
      this.sessions.sweep(clock.now());
      sweepTokens(this.tokenDir, clock.now());
    }, SWEEP_MS);
    this.sweeper.unref();
    if (!this.assets) services.log.warn({ event: 'console-assets-missing' }, 'the web console is enabled but its files are not built (npm run build)');
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.live.closeAll();
    this.sessions.closeAll();
  }

  /** Serves one request under /console; never throws. */
  async serve(req: IncomingMessage, res: ServerResponse, connection: ConsoleConnection): Promise<void> {
    securityHeaders(res, connection.secure);
    try {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (path === CONSOLE_PREFIX) {
        res.writeHead(308, { Location: `${CONSOLE_PREFIX}/`, 'Content-Length': '0' });
        res.end();
        return;
      }
      const rest = path.slice(CONSOLE_PREFIX.length + 1);
      if (rest.startsWith('api/')) {
        await this.api(req, res, connection, rest.slice(4));
        return;
      }
      this.serveAsset(req, res, rest === '' ? 'index.html' : rest);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof BodyError) sendError(res, 400, err.message);
      else {
        this.services.log.error({ err }, 'web console failure');
        sendError(res, 500, 'internal error');
      }
    }
  }

  private serveAsset(req: IncomingMessage, res: ServerResponse, name: string): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(res, 405, 'the console pages are read with GET', { Allow: 'GET, HEAD' });
      return;
    }
    if (!this.assets) {
      sendError(res, 503, 'the web console is not built: run npm run build');
      return;
    }
    const asset = this.assets.get(name);
    if (!asset) {
      sendError(res, 404, 'no such console page');
      return;
    }
    res.writeHead(200, { 'Content-Type': asset.type, 'Content-Length': String(asset.body.length) });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  }

  private sessionOf(req: IncomingMessage, connection: ConsoleConnection): { id: string | undefined; session: Session | undefined } {
    const id = cookieOf(req, cookieName(connection.secure));
    const session = this.sessions.get(id, this.services.clock.now());
    // A certificate session belongs to the certificate it was opened with: another one (or none) is not it.
    if (session?.kind === 'certificate' && connection.peerCertificate?.fingerprint256 !== session.fingerprint) return { id, session: undefined };
    return { id, session };
  }

  private async api(req: IncomingMessage, res: ServerResponse, connection: ConsoleConnection, route: string): Promise<void> {
    const method = req.method ?? '';
    if (method !== 'GET' && !sameOrigin(req, connection.secure)) {
      sendError(res, 403, 'refused: the request does not come from the console (Origin)');
      return;
    }
    if (route === 'session') {
      if (method === 'POST') return this.signIn(req, res, connection);
      const { id, session } = this.sessionOf(req, connection);
      if (method === 'GET') {
        if (!session) sendJson(res, 200, { signedIn: false, certificate: connection.peerCertificate?.verified === true });
        else sendJson(res, 200, this.describe(session));
        return;
      }
      if (method === 'DELETE') {
        if (!session || !csrfMatches(session, headerOf(req, CSRF_HEADER))) {
          sendError(res, 403, 'refused: no session or missing CSRF token');
          return;
        }
        this.sessions.close(id);
        sendJson(res, 200, { signedIn: false }, { 'Set-Cookie': clearedCookie(connection.secure) });
        return;
      }
      sendError(res, 405, 'GET, POST or DELETE');
      return;
    }
    const { session } = this.sessionOf(req, connection);
    if (!session) {
      sendError(res, 401, 'not signed in (or the session has expired)');
      return;
    }
    // The live stream is read by EventSource, which cannot send headers; it changes nothing and is this session's only.
    const live = /^live\/([0-9a-f]{32})$/.exec(route);
    if (live && method === 'GET') {
      if (!this.live.attach(live[1] as string, session, res)) sendError(res, 404, 'no such live view in this session');
      return;
    }
    if (!csrfMatches(session, headerOf(req, CSRF_HEADER))) {
      sendError(res, 403, 'refused: missing or wrong CSRF token');
      return;
    }
    const limit = this.services.config.http.maxBodyBytes;
    if (route === 'request' && method === 'POST') {
      let request;
      try {
        request = consoleRequestOf(await readJson(req, limit));
      } catch (err) {
        if (err instanceof CseError) {
          sendError(res, 400, err.message);
          return;
        }
        throw err;
      }
      sendJson(res, 200, await this.gateway.send(session, connection, request));
      return;
    }
    if (route === 'live' && method === 'POST') {
      const body = (await readJson(req, limit)) as { target?: unknown } | null;
      if (typeof body?.target !== 'string' || !body.target.startsWith('/') || body.target.length > 4096) {
        sendError(res, 400, "target must be a path starting with '/'");
        return;
      }
      sendJson(res, 200, await this.live.open(session, connection, body.target));
      return;
    }
    if (live && method === 'DELETE') {
      sendJson(res, 200, { closed: await this.live.close(live[1] as string, session) });
      return;
    }
    if (route === 'explain' && method === 'POST') {
      const question = explainQuestionOf(await readJson(req, limit));
      if (typeof question === 'string') {
        sendError(res, 400, question);
        return;
      }
      sendJson(res, 200, await this.explainer.explain(session, connection, question));
      return;
    }
    if (route === 'events' && method === 'GET') {
      if (!(await this.actsAsAdmin(session, connection))) {
        sendError(res, 403, 'security events are shown to the admin originator only');
        return;
      }
      const now = this.services.clock.now();
      const days = this.services.credentials.daysOfValidity(now);
      sendJson(res, 200, { events: this.options.events.recent(), certificateDays: days === undefined ? null : Math.floor(days) });
      return;
    }
    sendError(res, 404, 'no such console call');
  }

  /**
   * The admin, as the pipeline accepts it on this connection: a token session for the admin from another machine
   * is refused there (security.adminFromLoopback), and so it is here.
   */
  private async actsAsAdmin(session: Session, connection: ConsoleConnection): Promise<boolean> {
    if (!this.services.access.isAdmin(session.originator)) return false;
    const probe = await this.gateway.send(session, connection, { method: 'GET', path: `/${this.services.self.cseRn}` });
    return probe.rsc === 2000;
  }

  private describe(session: Session): Record<string, unknown> {
    return {
      signedIn: true,
      originator: session.originator,
      kind: session.kind,
      authenticated: session.kind === 'certificate',
      admin: this.services.access.isAdmin(session.originator),
      csrf: session.csrf,
      expires: session.expires,
      cseRn: this.services.self.cseRn,
      cseId: this.services.self.cseId,
    };
  }

  private async signIn(req: IncomingMessage, res: ServerResponse, connection: ConsoleConnection): Promise<void> {
    const { clock, log, credentials, config } = this.services;
    const now = clock.now();
    const limited = (): void => sendError(res, 429, 'too many sign-in attempts: wait a minute', { 'Retry-After': String(this.limiter.retryAfter(now)) });
    if (!this.limiter.attempt(connection.remoteAddress, now)) return limited();
    const raw = await readJson(req, 4096);
    // JSON that is no object (null, a list, a number) is a malformed sign-in like any other: 400, not a TypeError.
    const body: { token?: unknown; certificate?: unknown } = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : {};
    const refuse = (why: string): void => {
      // Past the total, failures are answered 429 and not written down one by one: a flood from many addresses
      // would otherwise fill the log and push every other entry out of the console's security events.
      if (this.limiter.overTotal()) return limited();
      log.warn({ event: 'console-sign-in-refused', remote: connection.remoteAddress, reason: why }, 'security event');
      this.options.events.record({ at: now, kind: 'authentication-failed', originator: '(console sign-in)', reason: why, remote: connection.remoteAddress, binding: 'http' });
      sendError(res, 401, why);
    };
    let fields: Omit<Session, 'csrf' | 'expires'>;
    if (body.certificate === true) {
      const cert = connection.peerCertificate;
      if (!cert?.verified) return refuse('no verified client certificate on this connection');
      const anchors = credentials.anchorsOf(cert);
      if (anchors && !anchors.own) return refuse('the client certificate was issued under a peer SP\'s CA (peers.ca)');
      const evidence = credentials.evidenceOfCertificate(cert.subjectAltNameUris, cert.fingerprint256);
      const originator = evidence.aeIds[0] ?? evidence.cseIds[0];
      if (originator === undefined) return refuse('the client certificate names no originator');
      fields = { originator, kind: 'certificate', fingerprint: cert.fingerprint256 };
    } else if (typeof body.token === 'string') {
      const originator = redeemToken(this.tokenDir, body.token.trim(), now);
      if (originator === undefined) return refuse('the sign-in token is not valid (unknown, already used or expired)');
      fields = { originator, kind: 'token' };
    } else {
      sendError(res, 400, 'send {"token": "…"} or {"certificate": true}');
      return;
    }
    this.limiter.succeeded(connection.remoteAddress);
    // Whatever session the browser had ends, and the new one gets a new id: a planted cookie is worth nothing.
    this.sessions.close(cookieOf(req, cookieName(connection.secure)));
    const { id, session } = this.sessions.open(now, fields);
    log.info({ event: 'console-sign-in', originator: session.originator, kind: session.kind, remote: connection.remoteAddress }, 'console session opened');
    sendJson(res, 200, this.describe(session), { 'Set-Cookie': sessionCookie(connection.secure, id, config.console.sessionLifetime) });
  }
}
