// The start-up banner: one log line that tells an operator what this process serves and where it keeps data.
import type { Config } from '../config/config.js';
import { redactUrl } from './redact.js';

export interface ListeningAddresses {
  http: number;
  ws?: number | undefined;
  coap?: number | undefined;
  /** The operations listener (/live, /ready, /metrics), when on. */
  ops?: number | undefined;
}

const hostPart = (host: string): string => (host.includes(':') ? `[${host}]` : host);

/** Every binding with its address, the storage backend and where it is, the TLS mode and the admin originator. */
export function startupBanner(config: Config, ports: ListeningAddresses): Record<string, unknown> {
  const bindings: Record<string, string> = {
    http: `${config.http.tls ? 'https' : 'http'}://${hostPart(config.http.host)}:${ports.http}/${config.cse.rn}`,
  };
  if (ports.ws !== undefined) bindings.ws = `${config.ws.tls ? 'wss' : 'ws'}://${hostPart(config.ws.host)}:${ports.ws}`;
  if (ports.coap !== undefined) bindings.coap = `coap://${hostPart(config.coap.host)}:${ports.coap}`;
  if (config.mqtt.enabled) bindings.mqtt = redactUrl(config.mqtt.url);
  const tlsOn = config.http.tls || config.ws.tls;
  return {
    event: 'started',
    cseId: config.cse.id,
    cseType: config.cse.type,
    bindings,
    storage: config.storage.backend === 'sqlite' ? { backend: 'sqlite', path: config.storage.path, durability: config.storage.durability } : { backend: 'postgres', url: redactUrl(config.storage.url), poolSize: config.storage.poolSize },
    tls: tlsOn ? { http: config.http.tls, ws: config.ws.tls, clientAuth: config.tls.clientAuth, psk: config.tls.psk !== '', minVersion: config.tls.minVersion } : 'off',
    authentication: config.security.authentication,
    admin: config.security.admin,
    ...(ports.ops !== undefined ? { ops: `http://${hostPart(config.ops.host)}:${ports.ops}` } : {}),
  };
}
