// HTTP details of the console's own endpoints: security headers, cookies, JSON bodies, same-origin checks.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLarge, readBody } from '../bindings/http/body.js';

/** No inline script or style, nothing from elsewhere, no framing, no plug-ins. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export function securityHeaders(res: ServerResponse, secure: boolean): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), usb=()');
  res.setHeader('Cache-Control', 'no-store');
  if (secure) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
}

export function sendJson(res: ServerResponse, status: number, value: unknown, extra: Record<string, string> = {}): void {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { ...extra, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(body.length) });
  res.end(body);
}

export function sendError(res: ServerResponse, status: number, message: string, extra: Record<string, string> = {}): void {
  sendJson(res, status, { error: message }, extra);
}

/** The session cookie: __Host- on HTTPS (Secure, Path=/, no Domain: it cannot be planted by a sibling host). */
export function cookieName(secure: boolean): string {
  return secure ? '__Host-warden-console' : 'warden-console';
}

export function sessionCookie(secure: boolean, id: string, maxAgeSeconds: number): string {
  const attributes = [`${cookieName(secure)}=${id}`, secure ? 'Path=/' : 'Path=/console/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAgeSeconds}`];
  if (secure) attributes.push('Secure');
  return attributes.join('; ');
}

export function clearedCookie(secure: boolean): string {
  return sessionCookie(secure, '', 0);
}

/** The value of one cookie (the first, should a client send several). */
export function cookieOf(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header || header.length > 8192) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

export function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * A state-changing call must come from the console's own pages: its Origin is this server's (scheme and Host),
 * and the browser, where it says so, calls it same-origin. A request without Origin is refused: browsers send it
 * on every POST, PUT and DELETE.
 */
export function sameOrigin(req: IncomingMessage, secure: boolean): boolean {
  const origin = headerOf(req, 'origin');
  const host = headerOf(req, 'host');
  if (!origin || !host) return false;
  if (origin !== `${secure ? 'https' : 'http'}://${host}`) return false;
  const site = headerOf(req, 'sec-fetch-site');
  return site === undefined || site === 'same-origin';
}

export class BodyError extends Error {}

/** A JSON body of at most `limit` bytes, sent as application/json (so that no simple cross-site form can send it). */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = (headerOf(req, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') throw new BodyError('the body must be application/json');
  let body: Buffer;
  try {
    body = await readBody(req, limit);
  } catch (err) {
    throw err instanceof BodyTooLarge ? new BodyError(`the body exceeds ${limit} bytes`) : err;
  }
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new BodyError('the body is not valid JSON');
  }
}
