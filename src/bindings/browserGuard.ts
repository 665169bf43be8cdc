// What keeps a web page in a browser from using a CSE the browser can reach (on loopback, or inside a site's
// network): the HTTP binding and the WebSocket binding both answer only to names they were configured with, and the
// WebSocket binding refuses a handshake that a page of another origin opened.
import { isIP } from 'node:net';

/**
 * A browser tricked by DNS rebinding sends the attacker's name in Host; a CSE only answers to names it was configured
 * with (and to IP literals and localhost, which rebinding cannot produce).
 */
export function hostAllowed(hostHeader: string | undefined, allowed: readonly string[]): boolean {
  if (allowed.includes('*')) return true;
  if (!hostHeader) return true; // HTTP/1.0 clients send none; rebinding needs a browser, which always does
  const host = hostHeader.startsWith('[') ? hostHeader.slice(1, hostHeader.indexOf(']')) : (hostHeader.split(':')[0] ?? '');
  const name = host.toLowerCase();
  return isIP(name) !== 0 || name === 'localhost' || allowed.includes(name);
}

/**
 * Cross-site WebSocket hijacking: a browser opens a WebSocket to any address a page names and sends the page's
 * `Origin`, and no same-origin policy or CORS preflight stands in the way (RFC 6455 §10.2: "servers that are not
 * intended to process input from any web page but only for certain sites SHOULD verify the Origin field"). A page could
 * then send primitives in the message bodies, as any originator the connection is trusted for (the admin, on
 * loopback). Devices and applications send no Origin; a handshake that carries one is refused unless the origin is
 * listed (`ws.allowedOrigins`; `*` admits every page). Compared as RFC 6454 serializes origins: scheme, host and
 * port, lower case.
 */
export function originAllowed(originHeader: string | undefined, allowed: readonly string[]): boolean {
  if (originHeader === undefined) return true;
  if (allowed.includes('*')) return true;
  return allowed.includes(originHeader.trim().toLowerCase());
}
