// HTTPS requests with a client certificate or a pre-shared key, for the mutual-authentication tests.
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';

export interface TlsClient {
  ca: string;
  cert?: string;
  key?: string;
  psk?: { identity: string; key: Buffer };
  maxVersion?: 'TLSv1.2' | 'TLSv1.3';
}

export interface TlsReply {
  status: number;
  rsc: number;
  body: Record<string, unknown> | undefined;
  serverSerial: string;
}

let n = 0;

export function tlsRequest(
  port: number,
  client: TlsClient,
  method: string,
  path: string,
  origin: string,
  options: { ty?: number; body?: unknown; headers?: Record<string, string> } = {},
): Promise<TlsReply> {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { 'X-M2M-RI': `tls-${++n}`, 'X-M2M-RVI': '3', Accept: 'application/json', ...options.headers };
  if (origin) headers['X-M2M-Origin'] = origin;
  if (body !== undefined) headers['Content-Type'] = options.ty === undefined ? 'application/json' : `application/json;ty=${options.ty}`;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers,
        agent: false,
        ca: client.ca,
        servername: 'localhost',
        ...(client.cert ? { cert: client.cert, key: client.key } : {}),
        ...(client.maxVersion ? { maxVersion: client.maxVersion } : {}),
        ...(client.psk
          ? {
              pskCallback: () => ({ psk: client.psk?.key as Buffer, identity: client.psk?.identity ?? '' }),
              ciphers: 'PSK-AES128-CBC-SHA256:TLS_AES_128_GCM_SHA256',
              checkServerIdentity: () => undefined,
            }
          : {}),
      },
      (res) => {
        let text = '';
        const socket = res.socket as TLSSocket;
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            rsc: Number(res.headers['x-m2m-rsc']),
            body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
            serverSerial: socket.getPeerCertificate?.()?.serialNumber ?? '',
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
