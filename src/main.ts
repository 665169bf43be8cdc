// Composition root: config → store → security → pipeline → bindings. No globals: everything is passed down.
import { startHttpBinding } from './bindings/http/server.js';
import type { Config } from './config/config.js';
import { startExpirySweeps } from './housekeeping/expiry.js';
import { createLogger, type Logger } from './log/logger.js';
import { systemClock, type Clock } from './pipeline/clock.js';
import type { CseServices } from './pipeline/context.js';
import { Pipeline } from './pipeline/pipeline.js';
import { ensureCseBase } from './resources/bootstrap.js';
import { ResourceRegistry } from './resources/registry.js';
import { AccessDecider } from './security/authorize.js';
import { RegisteredAes } from './security/registrations.js';
import { openStore } from './storage/open.js';

export interface StartOptions {
  clock?: Clock;
  logger?: Logger;
}

export interface RunningCse {
  readonly httpPort: number;
  readonly services: CseServices;
  readonly pipeline: Pipeline;
  close(): Promise<void>;
}

export async function startCse(config: Config, options: StartOptions = {}): Promise<RunningCse> {
  const log = options.logger ?? createLogger(config.log.level);
  const clock = options.clock ?? systemClock;
  const self = { cseId: config.cse.id, cseRn: config.cse.rn, spId: config.cse.spid };
  const store = await openStore(config);
  try {
    const registry = new ResourceRegistry();
    const access = new AccessDecider(config, self, store, registry);
    const registrations = new RegisteredAes(store);
    const services: CseServices = { config, self, store, registry, access, registrations, clock, log };
    const pipeline = new Pipeline(services);
    await ensureCseBase(store, config, registry, []);
    const http = await startHttpBinding((request, transport) => pipeline.handle(request, transport), {
      host: config.http.host,
      allowedHosts: config.http.allowedHosts.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean),
      port: config.http.port,
      maxBodyBytes: config.http.maxBodyBytes,
      maxQueryParameters: config.http.maxQueryParameters,
      requestTimeoutSeconds: config.http.requestTimeout,
    }, log);
    const hostForPoa = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
    // The pointOfAccess is only known once the port is bound (http.port=0 picks one).
    await ensureCseBase(store, config, registry, [`http://${hostForPoa}:${http.port}`]);
    const sweeps = startExpirySweeps(services, config.housekeeping.interval);
    log.info({ port: http.port, host: config.http.host, cseId: self.cseId, storage: config.storage.backend }, 'Warden CSE started');
    return {
      httpPort: http.port,
      services,
      pipeline,
      async close() {
        await http.close();
        await sweeps.stop();
        await store.close();
      },
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}
