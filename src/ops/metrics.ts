// Prometheus metrics of one CSE (prom-client, a registry per CSE, never the global one). The request path only
// increments a counter and observes a histogram through children bound once per label set; everything that
// needs the database (queue depths, pool) is read when Prometheus scrapes.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BindingName } from '../primitive/transport.js';

type Labelled = { inc(): void };
type Observed = { observe(value: number): void };

/** Operation names by `op` (1–5; 0 for a request whose op is not valid: hostile input must not add label sets). */
const OPERATIONS = ['invalid', 'create', 'retrieve', 'update', 'delete', 'notify'] as const;
const BINDINGS: readonly BindingName[] = ['http', 'mqtt', 'coap', 'ws'];

/**
 * Access denials by a reason of bounded cardinality: the decision's text names policies and attributes, which
 * must not become label values.
 */
export function denialClass(reason: string): string {
  if (reason.startsWith('only its AE')) return 'polling-channel-owner';
  if (reason.includes('not its custodian')) return 'no-policy-not-custodian';
  if (reason.includes('did not create it')) return 'no-policy-not-creator';
  if (reason.includes('do not cover attribute')) return 'attribute-not-granted';
  if (/^no \S+ rule of /.test(reason)) return 'no-granting-rule';
  return 'other';
}

/** The class of a notification target for the delivery counters: its URL scheme, from a fixed set. */
export function targetClass(url: string): string {
  const colon = url.indexOf(':');
  const scheme = colon > 0 ? url.slice(0, colon).toLowerCase() : '';
  return ['http', 'https', 'mqtt', 'mqtts', 'coap', 'coaps', 'ws', 'wss'].includes(scheme) ? scheme : 'other';
}

export interface MetricsSources {
  /** Outbox messages waiting, by queue; read on scrape. */
  queueDepths(): Promise<Record<string, number>>;
  /** Connections of the database pool, where the backend keeps one. */
  poolStats(): { total: number; idle: number; waiting: number } | undefined;
  /** Seconds until the CSE's own certificate expires, when it has one. */
  certificateSecondsLeft(): number | undefined;
  /** Whether each dependency answers now (the readiness checks). */
  dependencies(): Promise<Record<string, boolean>>;
}

/** How long a scrape waits for the outbox's counts. */
const QUEUE_COUNT_WAIT_MS = 2000;

/** The promise's value if it settles within `ms` and succeeds; otherwise undefined. */
function withinTime<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}

export class CseMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'op' | 'rsc' | 'binding'>;
  private readonly latency: Histogram<'op'>;
  private readonly denials: Counter<'reason'>;
  private readonly deliveries: Counter<'target_class' | 'result'>;
  private readonly jobs: Counter<'result'>;
  private readonly dependencyUp: Gauge<'dependency'>;
  /** Bound children, by a number made of binding, op and RSC: no string or object is built per request. */
  private readonly requestChildren = new Map<number, Labelled>();
  private readonly latencyChildren: Observed[];

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    this.processMetrics(registers);
    this.requests = new Counter({ name: 'warden_requests_total', help: 'Requests answered, by operation, response status code (RSC) and binding', labelNames: ['op', 'rsc', 'binding'], registers });
    this.latency = new Histogram({
      name: 'warden_request_duration_seconds',
      help: 'Time from a decoded request to its response, by operation',
      labelNames: ['op'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.latencyChildren = OPERATIONS.map((op) => this.latency.labels(op));
    this.denials = new Counter({ name: 'warden_access_denials_total', help: 'Requests refused by the access decision or by authentication, by reason', labelNames: ['reason'], registers });
    this.deliveries = new Counter({
      name: 'warden_notification_deliveries_total',
      help: 'Notification delivery attempts, by target class (URL scheme) and result (delivered, failed)',
      labelNames: ['target_class', 'result'],
      registers,
    });
    this.jobs = new Counter({ name: 'warden_nonblocking_jobs_total', help: 'Non-blocking requests carried out, by result (done, failed)', labelNames: ['result'], registers });
    this.dependencyUp = new Gauge({
      name: 'warden_dependency_up',
      help: 'Whether a dependency (database, MQTT broker) answers (1) or not (0); checked at every scrape and /ready',
      labelNames: ['dependency'],
      registers,
      async collect() {
        for (const [dependency, up] of Object.entries(await sources.dependencies())) this.set({ dependency }, up ? 1 : 0);
      },
    });
    new Gauge({
      name: 'warden_outbox_queue_depth',
      help: 'Messages waiting in the outbox, by queue (notifications, polling channels, fan-out, non-blocking jobs, timers, actions); counted up to 1e6',
      labelNames: ['queue'],
      registers,
      async collect() {
        // The count reads the database: a locked table or a stalled server must not hold the scrape (the last
        // counts stay, and warden_dependency_up says why).
        const depths = await withinTime(sources.queueDepths(), QUEUE_COUNT_WAIT_MS);
        for (const [queue, depth] of Object.entries(depths ?? {})) this.set({ queue }, depth);
      },
    });
    new Gauge({
      name: 'warden_db_pool_connections',
      help: 'Database pool connections, by state (total, idle, waiting clients); absent for SQLite',
      labelNames: ['state'],
      registers,
      collect() {
        const stats = sources.poolStats();
        if (!stats) return;
        this.set({ state: 'total' }, stats.total);
        this.set({ state: 'idle' }, stats.idle);
        this.set({ state: 'waiting' }, stats.waiting);
      },
    });
    // Labelled, so that without a certificate there is no sample at all (an unlabelled gauge would read 0: "expired").
    new Gauge({
      name: 'warden_certificate_expiry_seconds',
      help: "Seconds until the CSE's own TLS certificate expires (absent without TLS)",
      labelNames: ['certificate'],
      registers,
      collect() {
        const left = sources.certificateSecondsLeft();
        if (left !== undefined) this.set({ certificate: 'cse' }, Math.floor(left));
      },
    });
  }

  /**
   * A few process metrics read at scrape time. Not prom-client's collectDefaultMetrics: its garbage-collection
   * observer cost about 100 µs of CPU per ingest request in the benchmark (a performance entry per GC).
   */
  private processMetrics(registers: Registry[]): void {
    const lag = (this.eventLoop = monitorEventLoopDelay({ resolution: 20 }));
    lag.enable();
    new Counter({
      name: 'warden_process_cpu_seconds_total',
      help: 'User and system CPU time of the process',
      registers,
      collect() {
        const used = process.cpuUsage();
        this.reset();
        this.inc((used.user + used.system) / 1e6);
      },
    });
    new Gauge({ name: 'warden_process_resident_memory_bytes', help: 'Resident memory of the process', registers, collect() { this.set(process.memoryUsage.rss()); } });
    new Gauge({ name: 'warden_nodejs_heap_used_bytes', help: 'V8 heap in use', registers, collect() { this.set(process.memoryUsage().heapUsed); } });
    new Gauge({ name: 'warden_process_start_time_seconds', help: 'Start of the process, seconds since the epoch', registers }).set(Math.round(Date.now() / 1000 - process.uptime()));
    new Gauge({
      name: 'warden_nodejs_eventloop_lag_p99_seconds',
      help: '99th percentile of the event loop delay since the previous scrape',
      registers,
      collect() {
        this.set(lag.percentile(99) / 1e9);
        lag.reset();
      },
    });
  }

  private eventLoop: IntervalHistogram | undefined;

  /** Stops the event loop monitor. */
  close(): void {
    this.eventLoop?.disable();
  }

  /** The hot path: one counter increment and one histogram observation. */
  request(op: number, rsc: number, binding: BindingName, seconds: number): void {
    const opIndex = op >= 1 && op <= 5 ? op : 0;
    const key = (BINDINGS.indexOf(binding) * 8 + opIndex) * 100_000 + (rsc >= 0 && rsc < 100_000 ? rsc : 0);
    let child = this.requestChildren.get(key);
    if (child === undefined) {
      child = this.requests.labels(OPERATIONS[opIndex] as string, String(rsc), binding);
      this.requestChildren.set(key, child);
    }
    child.inc();
    (this.latencyChildren[opIndex] as Observed).observe(seconds);
  }

  denied(reason: string): void {
    this.denials.inc({ reason });
  }

  delivery(url: string, delivered: boolean): void {
    this.deliveries.inc({ target_class: targetClass(url), result: delivered ? 'delivered' : 'failed' });
  }

  job(done: boolean): void {
    this.jobs.inc({ result: done ? 'done' : 'failed' });
  }

  dependency(name: string, up: boolean): void {
    this.dependencyUp.set({ dependency: name }, up ? 1 : 0);
  }
}
