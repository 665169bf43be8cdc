// Typed configuration: one schema, each key with a default; sources layered file < env < CLI flags.
import { readFileSync } from 'node:fs';
import { DEFAULT_OUTBOUND, OutboundPolicy } from '../security/outboundPolicy.js';
import { parsePeerCas, parsePeers } from './peers.js';

type Kind =
  | { kind: 'string'; pattern?: RegExp; hint?: string }
  | { kind: 'int'; min: number; max: number }
  | { kind: 'bool' }
  | { kind: 'enum'; values: readonly string[] };

interface KeySpec<T> {
  readonly type: Kind;
  readonly default: T;
  readonly doc: string;
}

const str = (def: string, doc: string, pattern?: RegExp, hint?: string): KeySpec<string> => ({
  type: { kind: 'string', pattern, hint },
  default: def,
  doc,
});
const int = (def: number, min: number, max: number, doc: string): KeySpec<number> => ({ type: { kind: 'int', min, max }, default: def, doc });
const bool = (def: boolean, doc: string): KeySpec<boolean> => ({ type: { kind: 'bool' }, default: def, doc });
const oneOf = <V extends string>(values: readonly V[], def: V, doc: string): KeySpec<V> => ({
  type: { kind: 'enum', values },
  default: def,
  doc,
});

const ID_TOKEN = /^[A-Za-z0-9][A-Za-z0-9\-._~]{0,63}$/;

export const SCHEMA = {
  cse: {
    type: oneOf(['IN', 'MN', 'ASN'] as const, 'IN', 'CSE type (TS-0001 cseType)'),
    id: str('id-in', 'CSE-ID without the leading slash', ID_TOKEN, 'letters, digits, - . _ ~ (max 64)'),
    rn: str('cse-in', 'resource name of the CSEBase', ID_TOKEN, 'letters, digits, - . _ ~ (max 64)'),
    spid: str('warden.example.net', 'M2M-SP-ID (domain form, no slashes)', /^[A-Za-z0-9][A-Za-z0-9\-.]{0,252}$/, 'a domain name'),
    defaultExpiration: int(31_536_000, 1, 3_153_600_000, 'seconds added to now for a resource created without et'),
    maxExpiration: int(315_360_000, 1, 3_153_600_000, 'largest et distance from now that is accepted (later values are clamped)'),
  },
  http: {
    host: str('127.0.0.1', 'address the HTTP binding listens on'),
    port: int(8080, 0, 65_535, 'TCP port of the HTTP binding; 0 picks a free port'),
    maxBodyBytes: int(1_048_576, 1024, 268_435_456, 'largest accepted request body'),
    maxQueryParameters: int(64, 1, 10_000, 'most query parameters accepted in one request'),
    requestTimeout: int(30, 1, 3600, 'seconds a client has to send a whole request'),
    allowedHosts: str('', 'host names accepted in the Host header besides IP addresses and localhost (comma-separated; * accepts any)'),
    tls: bool(false, 'serve HTTPS with the tls section (mutual TLS, TLS-PSK)'),
  },
  mqtt: {
    enabled: bool(false, 'serve the MQTT binding through a broker (Warden embeds none: run Mosquitto or another broker)'),
    url: str('mqtt://127.0.0.1:1883', 'broker URL (mqtt:// or mqtts://)', /^mqtts?:\/\/\S+$/, 'mqtt://host:port'),
    clientId: str('', 'MQTT client ID (default: warden-<cse.id>)'),
    username: str('', 'broker user name'),
    password: str('', 'broker password'),
    qos: int(1, 0, 2, 'MQTT quality of service for requests and responses'),
    ca: str('', 'PEM trust anchors for the broker certificate (mqtts://; the broker is always verified)'),
    cert: str('', 'PEM client certificate presented to the broker (mqtts://)'),
    key: str('', 'PEM private key of the client certificate'),
    maxMessageBytes: int(1_048_576, 1024, 268_435_456, 'largest accepted MQTT message'),
    cseLinks: bool(false, 'links to other CSEs through this broker (mqtts:// only): the broker requires client certificates and its ACL lets each CSE publish requests only as itself (docs/deploy/mosquitto.md); a request on /oneM2M/req/<CSE-ID>/... then counts as sent by that CSE'),
  },
  ws: {
    enabled: bool(false, 'serve the WebSocket binding'),
    host: str('127.0.0.1', 'address the WebSocket binding listens on'),
    port: int(8081, 0, 65_535, 'TCP port of the WebSocket binding; 0 picks a free port'),
    tls: bool(false, 'WSS with the tls section (client certificates and PSK as on HTTPS)'),
    maxFrameBytes: int(1_048_576, 1024, 268_435_456, 'largest accepted WebSocket message'),
    allowedOrigins: str('', 'origins (scheme://host[:port]) whose web pages may open WebSocket connections, comma-separated; * admits any. Empty: a handshake that carries an Origin (sent by browsers, not by devices) is refused'),
  },
  coap: {
    enabled: bool(false, 'serve the CoAP binding (UDP; no DTLS)'),
    host: str('127.0.0.1', 'address the CoAP binding listens on'),
    port: int(5683, 0, 65_535, 'UDP port of the CoAP binding; 0 picks a free port'),
  },
  tls: {
    cert: str('', "PEM file of the CSE's certificate (chain)"),
    key: str('', "PEM file of the CSE's private key"),
    ca: str('', 'PEM file of the trust anchors for client certificates'),
    crl: str('', 'PEM file of certificate revocation lists, one current CRL per trust anchor'),
    psk: str('', 'JSON key store of pre-shared keys: {"keys": [{"identity", "key" (hex), "aeIds", "cseId"}]}'),
    clientAuth: oneOf(['none', 'optional', 'required'] as const, 'required', 'client credentials: none, optional, or required (a certificate or a PSK)'),
    minVersion: oneOf(['TLSv1.2', 'TLSv1.3'] as const, 'TLSv1.2', 'lowest TLS version accepted (TS-0003 §10.2 profiles TLS 1.2)'),
    ciphers: str(
      'TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:PSK-AES128-CBC-SHA256:PSK-AES128-GCM-SHA256:ECDHE-PSK-AES128-CBC-SHA256:ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256',
      'cipher policy (OpenSSL names); the defaults hold the oneM2M mandatory suites and SHA-256 TLS 1.3 suites for PSK',
    ),
  },
  security: {
    admin: str('CAdmin', 'originator with every privilege', /^[A-Za-z0-9/][A-Za-z0-9\-._~/]{0,127}$/, 'an originator ID'),
    authentication: oneOf(
      ['auto', 'all', 'cse', 'cse-sae'] as const,
      'auto',
      'who must be authenticated: all; cse (CSEs only, the TS-0004 minimum); cse-sae (CSEs and S-AEs); auto = all with http.tls, else cse',
    ),
    // Behind a reverse proxy on the same machine every client is a loopback peer: turn this off there.
    adminFromLoopback: bool(true, 'honour the admin originator without a credential from loopback peers (off: only a credential that names it)'),
  },
  // Other M2M Service Providers' IN-CSEs [TS-0001 §5.2.2.4, Mcc'] that requests for `//their-sp/...` go to (src/config/peers.ts).
  peers: {
    list: str('', "peer SPs of this IN-CSE, comma-separated SP-ID/CSE-ID=https://host:port (the peer IN-CSE's certificate must name //SP-ID/CSE-ID); empty: none"),
    // Kept apart from tls.ca: a CA in tls.ca vouches for every name of this SP, the admin's included, so a peer SP's CA
    // there could issue a certificate acting as any originator here.
    ca: str('', "the peer SPs' CAs, each peer's apart: comma-separated SP-ID=PEM file (a single file where peers.list names one peer); a certificate issued under one (and not under tls.ca) is accepted only as the IN-CSE of that peer SP, and a link to a peer trusts only its CAs; empty: peers are trusted through tls.ca"),
  },
  // CSE registration [TS-0001 §10.2.2.6]: no registrar.url makes this CSE the root of its tree (an IN-CSE).
  registrar: {
    url: str('', 'point of access of the registrar CSE (https://host:port, or the mqtts:// broker of mqtt.url with mqtt.cseLinks); empty: no registrar (an IN-CSE)', /^((https?|mqtts):\/\/\S+)?$/, 'https://host:port'),
    cseId: str('', 'CSE-ID of the registrar without the leading slash (its certificate must name it)', /^([A-Za-z0-9][A-Za-z0-9\-._~]{0,63})?$/, 'letters, digits, - . _ ~ (max 64)'),
    rn: str('', 'resource name of the registrar CSEBase (as in its cb)', /^([A-Za-z0-9][A-Za-z0-9\-._~]{0,63})?$/, 'letters, digits, - . _ ~ (max 64)'),
    spid: str('', 'M2M-SP-ID of the registrar; empty: cse.spid', /^([A-Za-z0-9][A-Za-z0-9\-.]{0,252})?$/, 'a domain name'),
    poa: str('', "point(s) of access this CSE gives its registrar, comma-separated https URLs; empty: the CSEBase's (from http.host and the port)"),
    retryMin: int(2, 1, 3600, 'seconds before the first retry while the registrar cannot be reached (doubled each time)'),
    retryMax: int(300, 1, 86_400, 'longest wait between two registration attempts, seconds'),
    checkInterval: int(60, 5, 86_400, 'seconds between checks that this CSE is still registered (its <remoteCSE> is re-created if the registrar lost it)'),
    timeout: int(10, 1, 300, 'seconds to wait for another CSE to answer a registration or a forwarded request'),
  },
  storage: {
    backend: oneOf(['sqlite', 'postgres'] as const, 'sqlite', 'sqlite: embedded file; postgres: a PostgreSQL server shared by several Warden processes'),
    path: str('data/warden.sqlite', 'SQLite database file, or :memory:'),
    url: str('postgres://127.0.0.1:5432/warden', 'PostgreSQL connection URL (storage.backend=postgres)', /^postgres(ql)?:\/\/\S+$/, 'postgres://user@host:port/database'),
    poolSize: int(10, 1, 1000, 'PostgreSQL connections per process'),
    waitTimeout: int(30, 0, 3600, 'seconds one PostgreSQL statement, or the wait for a connection of the pool, may take before the request is refused with 5000 and its transaction rolled back (a locked table, a stalled server); 0: no limit'),
    durability: oneOf(['full', 'normal'] as const, 'full', 'full: fsync every commit (survives power loss); normal: survives a process crash only'),
  },
  notifications: {
    timeout: int(10, 1, 300, 'seconds to wait for a notification target to answer'),
    maxAttempts: int(10, 1, 1000, 'attempts before a notification is given up'),
    maxBackoff: int(300, 1, 86_400, 'longest wait between two attempts, seconds'),
    maxQueue: int(1000, 1, 1_000_000, 'notifications kept per target while it is unreachable (oldest dropped beyond)'),
    concurrency: int(32, 1, 1024, 'notification targets served at once'),
    // Issue #18: one request at a time per target made a busy receiver's latency the bound of its notification rate.
    pipelining: int(16, 1, 64, 'notifications to one HTTP(S) URL target written on its connection before the first is answered (HTTP/1.1 pipelining, in order); 1: one at a time'),
    batchDuration: int(60, 1, 86_400, 'seconds a batch waits when batchNotify gives no duration'),
    pollTimeout: int(20, 1, 600, 'seconds a polling-channel RETRIEVE waits for a notification (or its X-M2M-RET)'),
    // TS-0001 §9.6.31: "The system created default policy shall be configurable by the M2M Service Provider."
    defaultTargetPolicy: oneOf(['accept', 'reject', 'seekAuthorization', 'inform'] as const, 'reject', 'action of the system default notificationTargetPolicy: what a Notification Target asking to be removed from a subscription gets when no other policy applies'),
    pollResponseTimeout: int(5, 1, 600, 'seconds the CSE waits for an AE reachable only by polling to answer a request it passed through the polling channel (verification, relayed NOTIFY)'),
    // Issue #20: a slow receiver is backed off; a resource holds a bounded number of subscriptions.
    slowAfter: int(5, 1, 300, 'seconds after which an answering notification target counts as slow: its queue is backed off like a failing one'),
    // The upper bound is SUBSCRIPTION_LIMITS.perResource (resources/types/subscription.ts): what an event reads.
    maxSubscriptionsPerResource: int(1000, 1, 1000, 'subscriptions one resource may hold (at most 1000, the most an event reads); more are refused with 5207'),
    // Bounds on what notifications may write to the outbox (issue #20, finding 4).
    maxEventBytes: int(1_048_576, 1024, 1_073_741_824, 'outbox bytes the notifications of one event may add beyond its payload, which is stored once (later ones dropped, logged)'),
    maxOutboxBytesPerOriginator: int(
      67_108_864,
      1024,
      1_099_511_627_776,
      "bytes of queued notifications (each with its payload) per subscription creator; beyond it that creator's new notifications are dropped (logged)",
    ),
  },
  discovery: {
    maxResults: int(1000, 1, 100_000, 'most resources one discovery returns (larger results are paged with ofst)'),
    scanLimit: int(20_000, 500, 10_000_000, 'rows one discovery page may read before it answers partially (the next page continues)'),
    maxPageBytes: int(33_554_432, 65_536, 1_073_741_824, 'bytes of stored documents one discovery or result-content page may read before it answers partially'),
    // Fair shares of the one SPARQL worker, per originator (authenticated or registered; the others share one).
    semanticSecondsPerMinute: int(20, 0, 60, 'seconds of SPARQL worker time one originator may use per minute (refilled continuously); 0: no limit'),
    semanticQueuePerOriginator: int(8, 1, 64, 'semantic operations one originator may have waiting for the SPARQL worker'),
    semanticTimeLimit: int(5, 1, 60, 'seconds a semantic operation (SPARQL query or update) may run before it is stopped'),
  },
  // Where the CSE may connect on an originator's behalf (nu, poa, X-M2M-RTU, IPE discovery); see
  // src/security/outboundPolicy.ts. Loopback, link-local (cloud metadata), unspecified and multicast are
  // refused unless `allow` names them.
  outbound: {
    allow: str('', 'CIDR ranges permitted even inside a refused range, comma-separated (e.g. 127.0.0.1/32 for a receiver on this machine)'),
    deny: str('', 'CIDR ranges refused besides loopback, link-local, unspecified, multicast and reserved (e.g. 10.0.0.0/8,fc00::/7)'),
    schemes: str(DEFAULT_OUTBOUND.schemes, 'URL schemes the CSE may send requests to, comma-separated'),
    ports: str('', 'ports or ranges the CSE may connect to, comma-separated (e.g. 80,443,8000-8999); empty: any'),
    loopback: oneOf(['auto', 'allow', 'deny'] as const, 'auto', 'loopback destinations: auto = open only while every listener is loopback-only, MQTT is off and security.adminFromLoopback is on (no proxy)'),
  },
  groups: {
    maxFanOutRequests: int(10_000, 1, 1_000_000, 'member requests one fan-out through fopt may make, over all nested groups together (members beyond answer 5209)'),
    maxAnswerBytes: int(8_388_608, 1024, 268_435_456, 'bytes of member answers one fan-out aggregates (answers beyond keep their status but not their content)'),
  },
  nonBlocking: {
    maxRetention: int(172_800, 60, 31_536_000, 'seconds a non-blocking request (its <request> and result) is kept at most, whatever rp or rset ask; an oet later than that is refused'),
    maxJobs: int(10_000, 10, 10_000_000, 'non-blocking requests waiting or running at once over the whole CSE (then 5207); originators with none in progress may still add a tenth more, the admin twice as many'),
  },
  // Per-originator quotas (src/quotas): who counts as an originator is decided there (authenticated or
  // registered identities; everyone else shares one anonymous key; the admin is never limited).
  quota: {
    rate: int(1000, 0, 1_000_000, 'requests per second one originator may send on average while other originators are active (token bucket); 0: no limit'),
    burst: int(10_000, 1, 10_000_000, 'requests one originator may send at once before quota.rate applies (bucket size)'),
    anonymousRate: int(500, 0, 1_000_000, 'requests per second shared by all originators that are neither authenticated nor registered; 0: no limit'),
    anonymousBurst: int(5000, 1, 10_000_000, 'bucket size shared by all originators that are neither authenticated nor registered'),
    relayRate: int(10_000, 0, 1_000_000, 'requests per second everything one other CSE sends or relays may add up to (itself, the CSEs below it and their AEs, or a peer SP), whatever originators it names; 0: no limit'),
    relayBurst: int(100_000, 1, 10_000_000, 'bucket size of that limit per relaying CSE'),
    inFlight: int(256, 0, 100_000, 'requests of one originator being served at once, in each process (until the answer has left); beyond, 4141 at once; 0: no limit'),
    inFlightTotal: int(512, 0, 1_000_000, 'requests of all originators together being served at once, in each process; beyond, only originators with none in progress are served, up to an eighth more, then 4141 for everyone (the admin excepted); 0: no limit'),
    processes: int(1, 1, 1024, 'Warden processes serving one database: each enforces 1/processes of the rates and bursts, with no database round trip'),
    resources: int(10_000_000, 0, 1_000_000_000, 'resources one originator may hold (those it created; counted in the database); 0: no limit'),
    storedBytes: int(10_737_418_240, 0, 2 ** 50, 'bytes of resource documents one originator may hold (counted in the database); 0: no limit'),
    subscriptions: int(10_000, 0, 1_000_000_000, 'subscriptions one originator may hold; 0: no limit'),
    jobs: int(100, 1, 1_000_000, 'non-blocking requests one originator may have waiting or running'),
  },
  // Dynamic authorization (TS-0003 §7.3; src/security/dynamicAuthorization.ts, src/security/tokens.ts).
  dynamicAuthorization: {
    timeout: int(3, 1, 60, 'seconds a dynamic authorization server (DAS) has to answer a consultation, for all of its points of access together; a later answer is a denial'),
    defaultConsultation: str('', 'resource ID of the system default <dynamicAuthorizationConsultation>, used when neither the target nor an ancestor links one (empty: none, so no consultation)'),
    defaultLifetime: int(300, 1, 86_400, 'seconds of privilege the CSE proposes (ppl) when the consultation names no dynamicAuthorizationLifetime, and grants when the DAS answers no privilegesLifetime'),
    maxLifetime: int(86_400, 1, 31_536_000, 'longest a privilege granted by a DAS is kept, seconds, whatever privilegesLifetime says'),
    tokenIssuers: str('', 'JSON file of the token issuers whose oneM2M JWTs (tkns) are accepted: {"issuers": [{"id", "algorithms", "publicKey" | "jwk" | "secret", "roleDomains"}]} (roleDomains: the domains whose Role-IDs the issuer may vouch for; empty file name: no token is accepted)'),
    tokenClockSkew: int(30, 0, 300, 'seconds of clock difference tolerated when checking a token\'s nbf and exp'),
    tokenRequiresAuthentication: bool(true, 'accept tokens only from authenticated originators (a token is bound to its holder, and From alone proves nothing)'),
    tokenDecryptionKey: str('', 'PEM private key file (RSA or EC) that decrypts JWE tokens (nested sign-then-encrypt, RSA-OAEP or ECDH-ES, AES-GCM or AES-CBC-HMAC); empty: encrypted tokens are refused'),
    revokedTokens: str('', 'JSON file of revoked token IDs, {"revoked": ["tokenID", …]}, checked at start-up and read again when it changes (malformed later: every token is refused until it is good again): a revoked token grants nothing (Warden policy; empty: none)'),
    dasRules: str('', 'JSON file of the rules of the built-in dynamic authorization server (consulters, rules, roles, tokens; src/security/das.ts); empty: this CSE is no DAS'),
  },
  housekeeping: {
    interval: int(10, 1, 86_400, 'seconds between expiry sweeps'),
  },
  // Network-based <locationPolicy> (resources/types/locationPolicy.ts, location/server.ts): the Underlying Network's
  // location server, asked over OMA RESTful NetAPI for Terminal Location through the outbound destination policy.
  location: {
    server: str('', 'base URL of the location server (OMA RESTful NetAPI for Terminal Location, http(s)://); empty: network-based locationPolicy is 5001', /^(https?:\/\/\S+)?$/, 'an http(s):// URL'),
    maxAge: int(300, 1, 86_400, 'seconds a network-reported location stays the trusted location of its AE for accessControlLocationRegion (older: unknown, denied)'),
    timeout: int(10, 1, 120, 'seconds to wait for the location server'),
  },
  log: {
    level: oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const, 'info', 'log level'),
    pretty: bool(false, 'human-readable coloured lines (pino-pretty) instead of JSON lines'),
  },
  // The web console (src/console), served at /console/ on the HTTP(S) listener.
  console: {
    enabled: oneOf(['auto', 'on', 'off'] as const, 'auto', 'serve the web console at /console/: auto = only while http.host is a loopback address'),
    tokenDir: str('', 'directory of pending console sign-in tokens (hashes only, 0700); empty: console-tokens beside storage.path'),
    tokenLifetime: int(300, 30, 3600, 'seconds a sign-in token minted by `warden console-token` stays valid (it is single-use)'),
    sessionLifetime: int(3600, 60, 86_400, 'seconds a console session lasts from sign-in, whatever its activity'),
    signInAttempts: int(10, 1, 1000, 'failed sign-in attempts one client address may make per minute (all addresses together: ten times that, past which failures are answered 429)'),
  },
  // The operations listener (src/ops): /live, /ready, /metrics; never resource data.
  ops: {
    host: str('127.0.0.1', 'address of the operations listener (/live, /ready, /metrics)'),
    port: int(9464, 0, 65_535, 'TCP port of the operations listener; 0 turns it off'),
    allowedHosts: str('', 'host names the operations listener accepts in the Host header besides IP addresses and localhost (comma-separated; * accepts any)'),
  },
} as const;

type Schema = typeof SCHEMA;
type ValueOf<S> = S extends KeySpec<infer T> ? T : never;
export type Config = { [Sec in keyof Schema]: { [K in keyof Schema[Sec]]: ValueOf<Schema[Sec][K]> } };
export type ConfigOverrides = Record<string, string | number | boolean>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

interface Sources {
  /** Path of a JSON config file: { "http": { "port": 8081 } }. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** `section.key` → raw value, e.g. from `--http.port=8081`. */
  flags?: ConfigOverrides;
}

export function defaultConfig(): Config {
  return loadConfig({});
}

/** Builds the configuration; throws ConfigError with one line naming the key and the problem. */
export function loadConfig(sources: Sources): Config {
  const out: Record<string, Record<string, unknown>> = {};
  const fileValues = sources.file ? readConfigFile(sources.file) : {};
  const flagValues = normaliseFlags(sources.flags ?? {});
  for (const [section, keys] of Object.entries(SCHEMA)) {
    const target: Record<string, unknown> = (out[section] = {});
    for (const [key, spec] of Object.entries(keys) as [string, KeySpec<unknown>][]) {
      const name = `${section}.${key}`;
      const envName = `WARDEN_${section}_${key}`.toUpperCase();
      let value: unknown = spec.default;
      const fromFile = fileValues[name];
      if (fromFile !== undefined) value = coerce(name, spec, fromFile, `config file ${sources.file ?? ''}`);
      const fromEnv = sources.env?.[envName];
      if (fromEnv !== undefined && fromEnv !== '') value = coerce(name, spec, fromEnv, `environment ${envName}`);
      const fromFlag = flagValues.get(name.toLowerCase());
      if (fromFlag !== undefined) value = coerce(name, spec, fromFlag, `flag --${name}`);
      target[key] = value;
    }
  }
  for (const name of flagValues.keys()) {
    if (!KNOWN_KEYS.has(name)) throw new ConfigError(`unknown configuration key '${name}'`);
  }
  const config = out as Config;
  if ((config.http.tls || config.ws.tls) && (!config.tls.cert || !config.tls.key)) {
    throw new ConfigError('tls.cert: http.tls=true needs tls.cert and tls.key');
  }
  if (config.http.tls && config.tls.clientAuth !== 'none' && !config.tls.ca && !config.tls.psk) {
    throw new ConfigError(`tls.ca: tls.clientAuth=${config.tls.clientAuth} needs tls.ca (certificates) or tls.psk (pre-shared keys)`);
  }
  if (config.registrar.url && (!config.registrar.cseId || !config.registrar.rn)) {
    throw new ConfigError('registrar.cseId: registrar.url needs registrar.cseId and registrar.rn');
  }
  if (config.mqtt.cseLinks && (!config.mqtt.enabled || !config.mqtt.url.startsWith('mqtts://') || !config.mqtt.ca || !config.mqtt.cert || !config.mqtt.key)) {
    throw new ConfigError('mqtt.cseLinks: CSE links over MQTT need mqtt.enabled, an mqtts:// broker, mqtt.ca, and a client certificate (mqtt.cert, mqtt.key)');
  }
  const overMqtt = config.registrar.url.startsWith('mqtts://');
  if (config.registrar.url && !config.registrar.url.startsWith('https://') && !overMqtt) {
    throw new ConfigError('registrar.url: a CSE registers over https or mqtts only (every CSE-to-CSE hop is inside a security association)');
  }
  if (overMqtt && (!config.mqtt.cseLinks || config.registrar.url !== config.mqtt.url)) {
    throw new ConfigError('registrar.url: an mqtts:// registrar must be the broker of mqtt.url, with mqtt.cseLinks=true');
  }
  if (config.registrar.url && (!config.tls.cert || !config.tls.key || !config.tls.ca)) {
    throw new ConfigError('tls.cert: registrar.url needs tls.cert, tls.key (a `warden pki cse` certificate) and tls.ca');
  }
  if (config.registrar.poa && !config.registrar.poa.split(',').every((u) => /^(https|mqtts):\/\/\S+$/.test(u.trim()))) {
    throw new ConfigError('registrar.poa: must be https (or, with mqtt.cseLinks, mqtts) URLs, comma-separated');
  }
  if (config.registrar.url && config.registrar.cseId === config.cse.id) {
    throw new ConfigError('registrar.cseId: a CSE cannot register with itself');
  }
  if (config.registrar.url && config.cse.type === 'IN') {
    throw new ConfigError('registrar.url: an IN-CSE has no registrar (set cse.type to MN or ASN)');
  }
  if (config.peers.list) {
    try {
      parsePeers(config.peers.list, config.cse.spid);
    } catch (err) {
      throw new ConfigError(`peers.list: ${(err as Error).message}`);
    }
    // Mcc' joins the infrastructure nodes of two SPs: only an IN-CSE has peers, and only over mutual TLS.
    if (config.cse.type !== 'IN') throw new ConfigError('peers.list: only an IN-CSE has peer SPs (cse.type=IN)');
    if (!config.tls.cert || !config.tls.key || !config.tls.ca) throw new ConfigError('peers.list: peer SPs need tls.cert, tls.key (a `warden pki cse` certificate) and tls.ca');
    // The peer's requests are recognised by its client certificate only: without one they could not be admitted.
    if (!config.http.tls || config.tls.clientAuth === 'none') throw new ConfigError('peers.list: peer SPs need http.tls=true and tls.clientAuth optional or required (their IN-CSEs present certificates)');
  }
  if (config.peers.ca && !config.peers.list) throw new ConfigError('peers.ca: the CAs of peer SPs are used only with peers.list');
  if (config.peers.ca) {
    try {
      parsePeerCas(config.peers.ca, parsePeers(config.peers.list, config.cse.spid));
    } catch (err) {
      throw new ConfigError(`peers.ca: ${(err as Error).message}`);
    }
  }
  // /console/ and /.well-known/ are served by Warden itself: a CSEBase of that name could not be addressed.
  if (['console', '.well-known'].includes(config.cse.rn.toLowerCase())) {
    throw new ConfigError(`cse.rn: '${config.cse.rn}' is reserved (/console/ and /.well-known/ are not oneM2M paths)`);
  }
  if (config.cse.defaultExpiration > config.cse.maxExpiration) {
    throw new ConfigError('cse.defaultExpiration: must not exceed cse.maxExpiration');
  }
  for (const key of ['allow', 'deny', 'schemes', 'ports'] as const) {
    try {
      new OutboundPolicy({ allow: '', deny: '', schemes: '', ports: '', [key]: config.outbound[key] });
    } catch (err) {
      throw new ConfigError(`outbound.${key}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return config;
}

const KNOWN_KEYS = new Set(
  Object.entries(SCHEMA).flatMap(([section, keys]) => Object.keys(keys).map((k) => `${section}.${k}`.toLowerCase())),
);

/**
 * WARDEN_* variables that name no configuration key (a typo is otherwise silently ignored), each as a warning
 * with the closest key. WARDEN_TEST_* and WARDEN_BENCH_* belong to the test suite and the benchmark.
 */
export function unknownEnvironmentKeys(env: NodeJS.ProcessEnv): string[] {
  const known = [...KNOWN_KEYS].map((k) => `WARDEN_${k.replace('.', '_')}`.toUpperCase());
  const warnings: string[] = [];
  for (const name of Object.keys(env)) {
    if (!name.startsWith('WARDEN_') || /^WARDEN_(TEST|BENCH)_/.test(name) || name === 'WARDEN_FLAGS') continue;
    if (known.includes(name.toUpperCase())) continue;
    const closest = known.map((k) => ({ k, d: editDistance(k, name.toUpperCase()) })).sort((a, b) => a.d - b.d)[0];
    const hint = closest && closest.d <= 3 ? ` (did you mean ${closest.k}?)` : '';
    warnings.push(`environment variable ${name} is not a configuration key and is ignored${hint}`);
  }
  return warnings;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] as number;
}

function normaliseFlags(flags: ConfigOverrides): Map<string, string | number | boolean> {
  return new Map(Object.entries(flags).map(([k, v]) => [k.toLowerCase(), v]));
}

function readConfigFile(path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`config file ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isRecord(parsed)) throw new ConfigError(`config file ${path}: must be a JSON object of sections`);
  const flat: Record<string, unknown> = {};
  for (const [section, keys] of Object.entries(parsed)) {
    if (!isRecord(keys)) throw new ConfigError(`config file ${path}: section '${section}' must be an object`);
    for (const [key, value] of Object.entries(keys)) {
      const name = `${section}.${key}`;
      if (!KNOWN_KEYS.has(name.toLowerCase())) throw new ConfigError(`config file ${path}: unknown configuration key '${name}'`);
      flat[canonicalName(name)] = value;
    }
  }
  return flat;
}

function canonicalName(name: string): string {
  for (const [section, keys] of Object.entries(SCHEMA)) {
    for (const key of Object.keys(keys)) {
      const candidate = `${section}.${key}`;
      if (candidate.toLowerCase() === name.toLowerCase()) return candidate;
    }
  }
  return name;
}

function coerce(name: string, spec: KeySpec<unknown>, raw: unknown, source: string): unknown {
  const fail = (problem: string): never => {
    throw new ConfigError(`${name}: ${problem} (from ${source})`);
  };
  const t = spec.type;
  switch (t.kind) {
    case 'string': {
      if (typeof raw !== 'string' && typeof raw !== 'number') return fail('must be a string');
      const s = String(raw);
      if (t.pattern && !t.pattern.test(s)) return fail(`'${s}' is not valid: expected ${t.hint ?? t.pattern.source}`);
      return s;
    }
    case 'int': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n)) return fail(`'${String(raw)}' is not an integer`);
      if (n < t.min || n > t.max) return fail(`${n} is out of range ${t.min}..${t.max}`);
      return n;
    }
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1' || raw === 'yes') return true;
      if (raw === 'false' || raw === '0' || raw === 'no') return false;
      return fail(`'${String(raw)}' is not a boolean (true/false)`);
    }
    case 'enum': {
      const s = String(raw);
      if (!t.values.includes(s)) return fail(`'${s}' is not one of ${t.values.join(', ')}`);
      return s;
    }
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Lines for `warden --help`: every key, its default and its meaning. */
export function describeConfig(): string[] {
  const lines: string[] = [];
  for (const [section, keys] of Object.entries(SCHEMA)) {
    for (const [key, spec] of Object.entries(keys) as [string, KeySpec<unknown>][]) {
      lines.push(`  --${section}.${key}=<v>`.padEnd(36) + `${spec.doc} (default ${JSON.stringify(spec.default)}; env WARDEN_${section.toUpperCase()}_${key.toUpperCase()})`);
    }
  }
  return lines;
}
