// Shared by the interop checks: oneM2M requests over the HTTP binding, a notification receiver for an AE, and
// PASS/FAIL bookkeeping. Plain JavaScript so that the checks run without a build.
import http from 'node:http';
import https from 'node:https';
import { Buffer } from 'node:buffer';
import { setTimeout as sleep } from 'node:timers/promises';
import { URL } from 'node:url';

export const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`interop checks: ${name} is not set`);
  return value;
};

let counter = 0;
/** One oneM2M request over the HTTP binding; `tls` adds https options (ca, client certificate). */
export function request(url, { method = 'GET', origin, ty, body, tls } = {}) {
  const target = new URL(url);
  const headers = { 'X-M2M-RI': `interop-${++counter}`, 'X-M2M-RVI': '3', Accept: 'application/json' };
  if (origin !== undefined) headers['X-M2M-Origin'] = origin;
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  if (payload) {
    headers['Content-Type'] = ty === undefined ? 'application/json' : `application/json;ty=${ty}`;
    headers['Content-Length'] = String(payload.length);
  }
  const lib = target.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    const req = lib.request(target, { method, headers, timeout: 15000, ...(tls ?? {}) }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ rsc: Number(res.headers['x-m2m-rsc']), status: res.statusCode, json, text, contentType: res.headers['content-type'] });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ rsc: 0, status: 0, error: err.code ?? err.message, text: String(err.message) }));
    if (payload) req.write(payload);
    req.end();
  });
}

/** Polls until `probe` returns something truthy, or `ms` passed; returns the last value. */
export async function eventually(probe, ms = 8000) {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value || Date.now() > until) return value;
    await sleep(250);
  }
}

/** An AE's point of access on 127.0.0.1:port that answers every request 2000 and keeps what it received. */
export async function startReceiver(port) {
  const received = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = undefined;
      }
      received.push({ origin: req.headers['x-m2m-origin'], body });
      res.writeHead(200, { 'X-M2M-RSC': '2000', 'X-M2M-RI': req.headers['x-m2m-ri'] ?? '' });
      res.end();
    });
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { received, close: () => server.close() };
}

const results = [];
/** Runs one check (`body` returns {ok, detail}) and prints its PASS/FAIL line. */
export async function check(name, body) {
  let outcome;
  try {
    outcome = await body();
  } catch (err) {
    outcome = { ok: false, detail: `threw ${err instanceof Error ? err.message : String(err)}` };
  }
  results.push({ name, ...outcome });
  console.log(`${outcome.ok ? 'PASS' : 'FAIL'} ${name}: ${outcome.detail}`);
  return outcome.ok;
}

/** Prints the tally; the exit status is the number of failed checks. */
export function finish() {
  const failed = results.filter((r) => !r.ok).length;
  console.log(`${results.length - failed} passed, ${failed} failed`);
  process.exit(failed);
}

export const brief = (r) => `${r.rsc || r.error} ${(r.text ?? '').slice(0, 160)}`;
