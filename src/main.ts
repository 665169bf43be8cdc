// Composition root: config → store → security → pipeline → bindings. No globals: everything is passed down.
import { startHttpBinding } from './bindings/http/server.js';
import { startMqttBinding } from './bindings/mqtt/server.js';
import { startWsBinding } from './bindings/ws/server.js';
import { sendCoap, startCoapBinding } from './bindings/coap/server.js';
import type { Config } from './config/config.js';
import { startExpirySweeps } from './housekeeping/expiry.js';
import { createLogger, type Logger } from './log/logger.js';
import { systemClock, type Clock } from './pipeline/clock.js';
import type { CseServices } from './pipeline/context.js';
import { Pipeline } from './pipeline/pipeline.js';
import { ensureCseBase } from './resources/bootstrap.js';
import { ResourceRegistry } from './resources/registry.js';
import { AccessDecider } from './security/authorize.js';
import { DescendantCses, RegisteredAes } from './security/registrations.js';
import { Credentials } from './security/credentials.js';
import { HttpOutbound } from './bindings/http/client.js';
import { OutboundPolicy, loopbackOpen } from './security/outboundPolicy.js';
import { JOB_TARGET_PREFIX, runRequestJob } from './operations/nonBlocking.js';
import { SparqlEngine } from './semantics/sparql.js';
import { Deliverer } from './notifications/deliver.js';
import { FANOUT_TARGET_PREFIX } from './notifications/events.js';
import { runFanOut } from './notifications/fanout.js';
import { CHANNEL_ANSWER_PREFIX, sweepChannelAnswer } from './notifications/polling.js';
import { missingDataTimer } from './notifications/missingData.js';
import { MISSING_DATA_TIMER } from './resources/types/timeSeries.js';
import { CRS_WINDOW_TIMER, crossResourceWindowTimer } from './notifications/crossResource.js';
import { ACTION_JOB_PREFIX, actionPeriodTimer, runActionJob } from './actions/runner.js';
import { PERIOD_TIMER } from './actions/state.js';
import { locationUpdateTimer, runLocationJob, trustedLocationOf } from './location/networkLocation.js';
import { LOCATION_JOB_PREFIX, LOCATION_UPDATE_TIMER } from './resources/types/locationPolicy.js';
import { TIMER_TARGET_PREFIX, runTimer, type TimerHandler } from './scheduler/timers.js';
import { NOTIFICATION_SCHEDULE_TIMER } from './resources/types/schedule.js';
import { releaseHeldNotifications } from './notifications/notificationSchedule.js';
import { TIME_SYNC_BEACON_TIMER } from './resources/types/timeSyncBeacon.js';
import { sendTimeSyncBeacon } from './notifications/timeSyncBeacon.js';
import { readFileSync } from 'node:fs';
import { CseLink } from './remote/link.js';
import { RegistrarRegistration } from './remote/registration.js';
import { RemoteCses } from './remote/remoteCses.js';
import { startupBanner } from './log/banner.js';
import { CseMetrics, type MetricsSources } from './ops/metrics.js';
import type { ResourceStore } from './storage/store.js';
import type { RequestPrimitive } from './primitive/request.js';
import type { ResponsePrimitive } from './primitive/response.js';
import type { TransportContext } from './primitive/transport.js';
import { probe, startOpsListener, type ReadinessCheck } from './ops/server.js';
import { WITHDRAWAL_JOB_PREFIX, runWithdrawalJob } from './remote/withdrawals.js';
import { WebConsole } from './console/console.js';
import { CONSOLE_SCHEME } from './console/live.js';
import { SecurityEvents } from './console/securityEvents.js';
import { consoleEnabled } from './console/settings.js';

/** The durable timers, by kind (scheduler/timers.ts). */
const TIMERS: Readonly<Record<string, TimerHandler>> = {
  [MISSING_DATA_TIMER]: missingDataTimer,
  [CRS_WINDOW_TIMER]: crossResourceWindowTimer,
  [NOTIFICATION_SCHEDULE_TIMER]: releaseHeldNotifications,
  [TIME_SYNC_BEACON_TIMER]: sendTimeSyncBeacon,
  [PERIOD_TIMER]: actionPeriodTimer,
  [LOCATION_UPDATE_TIMER]: locationUpdateTimer,
};

const WARN_DAYS = 30;

/** A comma-separated setting of names (hosts, origins): trimmed, lower case, no empty items. */
function commaList(text: string): string[] {
  return text.split(',').map((item) => item.trim().toLowerCase()).filter(Boolean);
}

function warnIfExpiring(services: CseServices): void {
  const days = services.credentials.daysOfValidity(services.clock.now());
  if (days !== undefined && days < WARN_DAYS) {
    services.log.warn({ event: 'certificate-expiring', days: Math.floor(days) }, `the CSE certificate expires in ${Math.floor(days)} days: renew it and reload`);
  }
}

/** Warns at start and twice a day while the CSE's own certificate is close to expiry. */
function watchOwnCertificate(services: CseServices): NodeJS.Timeout {
  warnIfExpiring(services);
  const timer = setInterval(() => warnIfExpiring(services), 12 * 3_600_000);
  timer.unref();
  return timer;
}
import { openStore } from './storage/open.js';
import { checkDynamicAuthorizationFiles } from './security/tokens.js';

export interface StartOptions {
  clock?: Clock;
  logger?: Logger;
  /** Port of the operations listener instead of ops.port (where 0 means off): here 0 picks a free one (tests). */
  opsPort?: number;
  /** The outbox fills but nothing is fanned out or delivered until `deliverer.start()` (tests of what a change queues). */
  holdDeliveries?: boolean;
}

export interface RunningCse {
  readonly httpPort: number;
  /** Port of the WebSocket binding, when enabled. */
  readonly wsPort: number | undefined;
  /** UDP port of the CoAP binding, when enabled. */
  readonly coapPort: number | undefined;
  /** Port of the operations listener (/live, /ready, /metrics), when on. */
  readonly opsPort: number | undefined;
  readonly deliverer: Deliverer;
  readonly services: CseServices;
  readonly pipeline: Pipeline;
  /** Re-reads certificate, key, trust anchors, CRL and PSK store; new handshakes use them (SIGHUP). */
  reloadCredentials(): void;
  close(): Promise<void>;
}

export async function startCse(config: Config, options: StartOptions = {}): Promise<RunningCse> {
  const log = options.logger ?? createLogger(config.log.level, config.log.pretty);
  const clock = options.clock ?? systemClock;
  const self = { cseId: config.cse.id, cseRn: config.cse.rn, spId: config.cse.spid };
  // Broken token, revocation or DAS rule files stop start-up here, before anything is opened.
  checkDynamicAuthorizationFiles(config, self);
  const store = await openStore(config, log);
  // What has started so far, stopped again (newest first) if a later part of start-up fails.
  const started: Array<() => Promise<void>> = [];
  try {
    const registry = new ResourceRegistry();
    const access = new AccessDecider(config, self, store, registry);
    const registrations = new RegisteredAes(store);
    const descendants = new DescendantCses(store, self, clock);
    const credentials = new Credentials(config, self);
    const outbound = new HttpOutbound(config.notifications.timeout * 1000, config.tls.ca ? readFileSync(config.tls.ca, 'utf8') : undefined, {
      policy: new OutboundPolicy({
        ...config.outbound,
        // The console's live views are delivered to console:// (src/console/live.ts), never over a network.
        ...(consoleEnabled(config) ? { schemes: `${config.outbound.schemes},console` } : {}),
        loopback: loopbackOpen({
          setting: config.outbound.loopback,
          hosts: [config.http.host, ...(config.ws.enabled ? [config.ws.host] : []), ...(config.coap.enabled ? [config.coap.host] : [])],
          mqtt: config.mqtt.enabled,
          behindProxy: !config.security.adminFromLoopback,
        }),
      }),
      log,
    });
    const semantics = new SparqlEngine(config.discovery.semanticTimeLimit * 1000, {
      secondsPerMinute: config.discovery.semanticSecondsPerMinute,
      queuedPerOriginator: config.discovery.semanticQueuePerOriginator,
    });
    started.push(() => semantics.close());
    const opsPort = options.opsPort ?? (config.ops.port === 0 ? undefined : config.ops.port);
    // The checks read the MQTT binding once it exists (it starts after the services are built).
    const dependencies: { checks: ReadinessCheck[] } = { checks: readinessChecks(store, undefined) };
    const metrics = opsPort === undefined ? undefined : new CseMetrics(metricsSources(store, credentials, clock, dependencies));
    if (metrics) started.push(() => Promise.resolve(metrics.close()));
    const services: CseServices = { config, self, store, registry, access, registrations, descendants, credentials, outbound, clock, log, semantics, dispatcher: {}, ...(metrics ? { metrics } : {}) };
    access.locate = (originator, now) => trustedLocationOf(services, originator, now);
    const deliverer = new Deliverer(services, outbound, {
      maxAttempts: config.notifications.maxAttempts,
      maxBackoffMs: config.notifications.maxBackoff * 1000,
      maxQueue: config.notifications.maxQueue,
      concurrency: config.notifications.concurrency,
      defaultBatchMs: config.notifications.batchDuration * 1000,
      slowAfterMs: config.notifications.slowAfter * 1000,
      pipelining: config.notifications.pipelining,
      jobs: {
        [JOB_TARGET_PREFIX]: (message, owner) =>
          runRequestJob(services, message, owner).then(
            () => metrics?.job(true),
            (err: unknown) => {
              metrics?.job(false);
              throw err;
            },
          ),
        [FANOUT_TARGET_PREFIX]: (message, owner) => runFanOut(services, message, owner),
        [CHANNEL_ANSWER_PREFIX]: (message, owner) => sweepChannelAnswer(services, message, owner),
        [TIMER_TARGET_PREFIX]: (message, owner) => runTimer(services, TIMERS, message, owner),
        [ACTION_JOB_PREFIX]: (message, owner) => runActionJob(services, message, owner),
        [LOCATION_JOB_PREFIX]: (message, owner) => runLocationJob(services, message, owner),
        [WITHDRAWAL_JOB_PREFIX]: (message, owner) => runWithdrawalJob(services, message, owner),
      },
    });
    const link = new CseLink(config, outbound.policy, log);
    const remote = new RemoteCses(services, link, config.registrar.url ? new RegistrarRegistration(services, link) : undefined);
    services.remote = remote;
    services.subscriptionEnds = deliverer;
    started.push(() => remote.close());
    const pipeline = new Pipeline(services);
    services.dispatcher.handle = (request, transport) => pipeline.handle(request, { ...transport, internal: true });
    await ensureCseBase(store, config, registry, []);
    const tlsBinding = {
      context: credentials.contextOptions(),
      requestCert: config.tls.clientAuth !== 'none',
      ...(credentials.hasPsk() ? { pskKey: (identity: string) => credentials.pskKey(identity), pskIdentityHint: self.cseId } : {}),
    };
    // What the bindings hand their requests to: the pipeline, with refusals noted for the console's security view
    // when there is a console to show them (nothing else reads the ring; the log has every refusal anyway).
    const securityEvents = new SecurityEvents(500, WARN_DAYS);
    const withConsole = consoleEnabled(config);
    const handle = withConsole
      ? async (request: RequestPrimitive, transport: TransportContext): Promise<ResponsePrimitive> => {
          const response = await pipeline.handle(request, transport);
          securityEvents.observe(request, transport, response, clock.now());
          return response;
        }
      : (request: RequestPrimitive, transport: TransportContext): Promise<ResponsePrimitive> => pipeline.handle(request, transport);
    const webConsole = withConsole ? new WebConsole(services, { handle, events: securityEvents }) : undefined;
    if (webConsole) {
      started.push(() => webConsole.close());
      outbound.route(CONSOLE_SCHEME, (url, primitive) => webConsole.live.deliver(url, primitive), 'elsewhere');
      const days = credentials.daysOfValidity(clock.now());
      if (days !== undefined) securityEvents.certificateSeen('this CSE', 'own', clock.now() + days * 86_400_000, clock.now());
    }
    const allowedHosts = commaList(config.http.allowedHosts);
    const http = await startHttpBinding(handle, {
      host: config.http.host,
      allowedHosts,
      port: config.http.port,
      maxBodyBytes: config.http.maxBodyBytes,
      maxQueryParameters: config.http.maxQueryParameters,
      requestTimeoutSeconds: config.http.requestTimeout,
      ...(config.http.tls ? { tls: tlsBinding } : {}),
      ...(webConsole ? { console: (req, res, connection) => webConsole.serve(req, res, connection) } : {}),
      ...(webConsole
        ? {
            onTlsFailure: (remote: string, reason: string) =>
              securityEvents.record({ at: clock.now(), kind: 'authentication-failed', originator: '(TLS handshake)', reason: reason.slice(0, 512), remote, binding: 'http' }),
          }
        : {}),
    }, log);
    started.push(() => http.close());
    const ws = config.ws.enabled
      ? await startWsBinding(handle, {
          host: config.ws.host,
          port: config.ws.port,
          allowedHosts,
          allowedOrigins: commaList(config.ws.allowedOrigins),
          maxFrameBytes: config.ws.maxFrameBytes,
          ...(config.ws.tls ? { tls: tlsBinding } : {}),
        }, log)
      : undefined;
    if (ws) started.push(() => ws.close());
    if (ws) registrations.onDeregistered((aei) => ws.forget(aei));
    const coapBinding = config.coap.enabled
      ? await startCoapBinding(handle, {
          host: config.coap.host,
          port: config.coap.port,
          maxQueryParameters: config.http.maxQueryParameters,
          maxBodyBytes: config.http.maxBodyBytes,
        }, log)
      : undefined;
    if (coapBinding) started.push(() => coapBinding.close());
    const mqttBinding = config.mqtt.enabled
      ? await startMqttBinding(handle, {
          url: config.mqtt.url,
          clientId: config.mqtt.clientId || `warden-${self.cseId}`,
          ...(config.mqtt.username ? { username: config.mqtt.username, password: config.mqtt.password } : {}),
          qos: config.mqtt.qos as 0 | 1 | 2,
          ...(config.mqtt.url.startsWith('mqtts:')
            ? {
                tls: {
                  ...(config.mqtt.ca ? { ca: readFileSync(config.mqtt.ca, 'utf8') } : {}),
                  ...(config.mqtt.cert ? { cert: readFileSync(config.mqtt.cert, 'utf8'), key: readFileSync(config.mqtt.key, 'utf8') } : {}),
                },
              }
            : {}),
          cseId: self.cseId,
          spId: self.spId,
          maxMessageBytes: config.mqtt.maxMessageBytes,
          cseLinks: config.mqtt.cseLinks,
        }, log)
      : undefined;
    // Notifications to AEs whose point of access is mqtt:// go through the broker Warden is connected to;
    // the AE-ID is the target in the request topic [TS-0010 §6.4]. The URL's host is never connected to (the
    // broker is the operator's choice), so the outbound policy checks only its scheme.
    if (mqttBinding) outbound.route('mqtt:', (_url, primitive, timeoutMs) => mqttBinding.request(primitive.to, primitive, timeoutMs), 'elsewhere');
    // Links to other CSEs through the same broker, where it authenticates CSEs (mqtt.cseLinks; src/remote/link.ts).
    if (mqttBinding && config.mqtt.cseLinks) remote.link.useMqtt((target, primitive, timeoutMs) => mqttBinding.request(target, primitive, timeoutMs));
    // An AE that talks WebSocket is reached over the connection it opened (its ws:// poa only says so).
    if (ws) for (const scheme of ['ws:', 'wss:']) outbound.route(scheme, (_url, primitive, timeoutMs) => ws.request(primitive.to, primitive, timeoutMs), 'elsewhere');
    outbound.route('coap:', sendCoap);
    const hostForPoa = config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
    // The pointOfAccess is only known once the port is bound (http.port=0 picks one).
    await ensureCseBase(store, config, registry, [`${config.http.tls ? 'https' : 'http'}://${hostForPoa}:${http.port}`]);
    // Registration needs the point of access, and goes on in the background: local service does not wait for it.
    remote.registration?.start();
    // Stopped again if a later part of start-up fails (the operations listener's port taken): left running, a
    // delivery round used the store after it was closed.
    const sweeps = startExpirySweeps(services, config.housekeeping.interval);
    started.push(() => sweeps.stop());
    if (!options.holdDeliveries) deliverer.start();
    started.push(() => deliverer.stop());
    const expiryWatch = watchOwnCertificate(services);
    started.push(() => Promise.resolve(clearInterval(expiryWatch)));
    const ops =
      metrics && opsPort !== undefined
        ? await startOpsListener({ host: config.ops.host, port: opsPort, allowedHosts: commaList(config.ops.allowedHosts) }, (dependencies.checks = readinessChecks(store, mqttBinding, remote.registration)), metrics, log)
        : undefined;
    if (ops) started.push(() => ops.close());
    log.info(startupBanner(config, { http: http.port, ws: ws?.port, coap: coapBinding?.port, ops: ops?.port }), 'Warden CSE started');
    return {
      httpPort: http.port,
      wsPort: ws?.port,
      coapPort: coapBinding?.port,
      opsPort: ops?.port,
      deliverer,
      services,
      pipeline,
      reloadCredentials() {
        credentials.reload();
        // Every TLS listener: a CRL, certificate or trust anchor reloaded for HTTPS alone left WSS accepting a revoked
        // certificate until a restart (found by a probe).
        http.setSecureContext(credentials.contextOptions());
        ws?.setSecureContext(credentials.contextOptions());
        link.reload();
        log.info({ event: 'credentials-reloaded' }, 'TLS credentials reloaded');
        warnIfExpiring(services);
      },
      async close() {
        clearInterval(expiryWatch);
        await remote.close();
        await webConsole?.close();
        await http.close();
        await ws?.close();
        await coapBinding?.close();
        await mqttBinding?.close();
        await deliverer.stop();
        outbound.close();
        await sweeps.stop();
        await semantics.close();
        await store.close();
        await ops?.close();
        metrics?.close();
        log.info({ event: 'stopped', cseId: self.cseId }, 'Warden CSE stopped');
      },
    };
  } catch (err) {
    for (const stop of started.reverse()) await stop().catch(() => undefined);
    await store.close();
    throw err;
  }
}

/** What /ready asks: the database always, the MQTT broker when that binding is on (both required). */
function readinessChecks(
  store: ResourceStore,
  mqtt: { readonly connected: boolean } | undefined,
  registration?: { readonly status: string },
): ReadinessCheck[] {
  const checks: ReadinessCheck[] = [{ name: 'database', required: true, check: () => store.ping?.() ?? Promise.resolve() }];
  // Not registered with the registrar: degraded, not unready — local AEs are still served (issue #16).
  if (registration) {
    checks.push({
      name: 'registrar',
      required: false,
      check: () => (registration.status === 'registered' ? Promise.resolve() : Promise.reject(new Error(`${registration.status}, not registered`))),
    });
  }
  if (mqtt) {
    checks.push({
      name: 'mqtt',
      required: true,
      check: () => (mqtt.connected ? Promise.resolve() : Promise.reject(new Error('not connected to the broker'))),
    });
  }
  return checks;
}

/** The outbox queues the metrics show, by the prefixes of their targets; the rest are notification targets. */
const QUEUES: Readonly<Record<string, readonly string[]>> = {
  notifications: ['http:', 'https:', 'ae:', 'mqtt:', 'mqtts:', 'coap:', 'ws:', 'wss:'],
  polling: ['pch:'],
  fanout: [FANOUT_TARGET_PREFIX],
  nonblocking: [JOB_TARGET_PREFIX],
  timers: [TIMER_TARGET_PREFIX],
  actions: [ACTION_JOB_PREFIX],
  location: [LOCATION_JOB_PREFIX],
};

function metricsSources(store: ResourceStore, credentials: Credentials, clock: Clock, dependencies: { checks: readonly ReadinessCheck[] }): MetricsSources {
  return {
    async dependencies() {
      const up: Record<string, boolean> = {};
      for (const check of dependencies.checks) up[check.name] = (await probe(check)) === undefined;
      return up;
    },
    async queueDepths() {
      const depths: Record<string, number> = {};
      for (const [queue, prefixes] of Object.entries(QUEUES)) {
        let n = 0;
        for (const prefix of prefixes) n += await store.countQueuedByPrefix(prefix, 1_000_000);
        depths[queue] = n;
      }
      return depths;
    },
    poolStats: () => store.poolStats?.(),
    certificateSecondsLeft() {
      const days = credentials.daysOfValidity(clock.now());
      return days === undefined ? undefined : days * 86_400;
    },
  };
}
