// The HTTP(S) binding [TS-0009]: a request primitive as method, path, X-M2M-* headers and query; the response
// from X-M2M-RSC and the body. node:http / node:https (not fetch) so that client certificates and PSKs work.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { codecForMediaType, codecOf, type Format } from './codec.js';
import { ConnectionError, ProtocolError, TimeoutError } from './errors.js';
import type { FilterCriteria, RequestPrimitive, ResponsePrimitive } from './primitive.js';
import { tlsConnectionOptions, type TlsOptions, type Transport } from './transport.js';

export interface HttpTransportOptions {
  url: string;
  format: Format;
  tls?: TlsOptions;
  /** Largest response body read; a bigger one is a ProtocolError (default 16 MiB). */
  maxResponseBytes?: number;
}

const METHOD: Record<number, string> = { 1: 'POST', 2: 'GET', 3: 'PUT', 4: 'DELETE', 5: 'POST' };

/** To → URL path [TS-0009 table 6.2.2.1-1]: //x absolute is /_/x, /x SP-relative is /~/x, x CSE-relative is /x. */
export function pathOf(to: string): string {
  const encode = (p: string): string => p.split('/').map(encodeURIComponent).join('/');
  if (to.startsWith('//')) return `/_/${encode(to.slice(2))}`;
  if (to.startsWith('/')) return `/~/${encode(to.slice(1))}`;
  return `/${encode(to)}`;
}

/** Request parameters and filter criteria as query parameters [TS-0009 §6.2.2.2]; lists joined with '+'. */
export function queryOf(r: RequestPrimitive): string {
  const q = new URLSearchParams();
  if (r.rcn !== undefined) q.set('rcn', String(r.rcn));
  if (r.rt !== undefined) q.set('rt', String(r.rt.rtv));
  if (r.rp !== undefined) q.set('rp', r.rp);
  if (r.drt !== undefined) q.set('drt', String(r.drt));
  if (r.atrl !== undefined) q.set('atrl', r.atrl.join(' '));
  const fc: FilterCriteria = r.fc ?? {};
  for (const [key, value] of Object.entries(fc) as Array<[keyof FilterCriteria, unknown]>) {
    if (value === undefined) continue;
    if (key === 'atr' || key === 'catr' || key === 'patr') {
      const prefix = key === 'catr' ? 'c.' : key === 'patr' ? 'p.' : '';
      for (const [name, v] of Object.entries(value as Record<string, string>)) q.append(`${prefix}${name}`, v);
    } else if (key === 'lbq' || key === 'smf') {
      // They may hold spaces and '+': each value is its own parameter.
      for (const v of value as string[]) q.append(key, v);
    } else if (Array.isArray(value)) q.set(key, value.map(String).join(' '));
    else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') q.set(key, String(value));
  }
  const text = q.toString();
  return text ? `?${text}` : '';
}

function header(res: IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const errorCode = (err: unknown): string | undefined => (err as { code?: string }).code;

export function httpTransport(options: HttpTransportOptions): Transport {
  const base = new URL(options.url);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error(`not an HTTP URL: ${options.url}`);
  const secure = base.protocol === 'https:';
  if (options.tls && !secure) throw new Error('TLS options (certificate, key, PSK) need an https:// URL');
  const codec = codecOf(options.format);
  const maxBytes = options.maxResponseBytes ?? 16 * 1024 * 1024;
  // Keep-alive: an AE sends many small requests; a TLS handshake each time would cost more than the request.
  const agent = secure ? new HttpsAgent({ keepAlive: true, ...tlsConnectionOptions(options.tls) }) : new HttpAgent({ keepAlive: true });
  const prefix = base.pathname.replace(/\/+$/, '');

  return {
    codec,
    send(r, timeoutMs) {
      const headers: Record<string, string> = {
        'X-M2M-Origin': r.fr,
        'X-M2M-RI': r.rqi,
        'X-M2M-RVI': r.rvi,
        Accept: codec.mediaType,
      };
      if (r.rqet !== undefined) headers['X-M2M-RET'] = r.rqet;
      if (r.rset !== undefined) headers['X-M2M-RST'] = r.rset;
      if (r.oet !== undefined) headers['X-M2M-OET'] = r.oet;
      if (r.gid !== undefined) headers['X-M2M-GID'] = r.gid;
      if (r.rt?.nu !== undefined) headers['X-M2M-RTU'] = r.rt.nu.join('&');
      let body: Buffer | undefined;
      if (r.pc !== undefined) {
        body = codec.encode(r.pc);
        headers['Content-Type'] = r.op === 1 && r.ty !== undefined ? `${codec.mediaType};ty=${r.ty}` : codec.mediaType;
        headers['Content-Length'] = String(body.length);
      } else if (r.op === 1 && r.ty !== undefined) headers['Content-Type'] = `${codec.mediaType};ty=${r.ty}`;
      const path = `${prefix}${pathOf(r.to)}${queryOf(r)}`;
      return new Promise<ResponsePrimitive>((resolve, reject) => {
        let settled = false;
        const finish = (err: Error | undefined, value?: ResponsePrimitive): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (err) {
            req.destroy();
            reject(err);
          } else resolve(value as ResponsePrimitive);
        };
        const request = secure ? httpsRequest : httpRequest;
        const req = request(
          { protocol: base.protocol, hostname: base.hostname.replace(/^\[(.*)\]$/, '$1'), port: base.port || (secure ? 443 : 80), method: METHOD[r.op] ?? 'GET', path, headers, agent },
          (res) => {
            const chunks: Buffer[] = [];
            let size = 0;
            res.on('data', (chunk: Buffer) => {
              size += chunk.length;
              if (size > maxBytes) {
                finish(new ProtocolError(`the response exceeds ${maxBytes} bytes`));
                return;
              }
              chunks.push(chunk);
            });
            res.on('aborted', () => finish(new ConnectionError('the connection closed in the middle of the response')));
            res.on('error', (err) => finish(new ConnectionError(`the response could not be read: ${err.message}`, errorCode(err))));
            res.on('end', () => {
              const rscText = header(res, 'x-m2m-rsc');
              if (rscText === undefined || !/^\d{4}$/.test(rscText)) {
                finish(new ProtocolError(`HTTP ${res.statusCode ?? 0} without a oneM2M status (X-M2M-RSC)${rscText === undefined ? '' : `: '${rscText.slice(0, 32)}'`}`));
                return;
              }
              const response: ResponsePrimitive = { rsc: Number(rscText), rqi: header(res, 'x-m2m-ri') ?? '' };
              const raw = Buffer.concat(chunks);
              if (raw.length > 0) {
                const bodyCodec = codecForMediaType(header(res, 'content-type'));
                if (!bodyCodec) {
                  finish(new ProtocolError(`a response body of type '${String(header(res, 'content-type')).slice(0, 64)}', which is neither JSON nor CBOR`));
                  return;
                }
                let pc: unknown;
                try {
                  pc = bodyCodec.decode(raw);
                } catch (err) {
                  finish(new ProtocolError(`the response body does not decode as ${bodyCodec.format}: ${(err as Error).message}`));
                  return;
                }
                if (typeof pc !== 'object' || pc === null || Array.isArray(pc)) {
                  finish(new ProtocolError('the response content is not an object'));
                  return;
                }
                response.pc = pc as Record<string, unknown>;
              }
              const cts = header(res, 'x-m2m-cts');
              const cto = header(res, 'x-m2m-cto');
              if (cts !== undefined && /^\d+$/.test(cts)) response.cnst = Number(cts);
              if (cto !== undefined && /^\d+$/.test(cto)) response.cnot = Number(cto);
              const ot = header(res, 'x-m2m-ot');
              if (ot !== undefined) response.ot = ot;
              const rst = header(res, 'x-m2m-rst');
              if (rst !== undefined) response.rset = rst;
              finish(undefined, response);
            });
          },
        );
        const timer = setTimeout(() => finish(new TimeoutError(timeoutMs, `${METHOD[r.op] ?? '?'} ${r.to}`)), timeoutMs);
        req.on('error', (err) => {
          const code = errorCode(err);
          const reason = code === 'ECONNRESET' || err.message === 'socket hang up' ? 'the CSE closed the connection without answering' : err.message || code || 'connection failed';
          finish(new ConnectionError(`${base.host}: ${reason}`, code));
        });
        req.end(body);
      });
    },
    close() {
      agent.destroy();
      return Promise.resolve();
    },
  };
}
