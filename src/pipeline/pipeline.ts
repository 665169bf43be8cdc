// The one entry every binding calls: an ordered list of named stages over one request context.
import { denialClass } from '../ops/metrics.js';
import { CseError } from '../primitive/errors.js';
import { OPERATION, OPERATION_NAMES, type RequestPrimitive } from '../primitive/request.js';
import type { ResponsePrimitive } from '../primitive/response.js';
import { RSC } from '../primitive/rsc.js';
import type { TransportContext } from '../primitive/transport.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { formatTimestamp } from '../primitive/identifiers.js';
import { QuotaExceededError, StoreUnavailableError } from '../storage/store.js';
import { quotaRefusal } from '../quotas/stored.js';
import type { CseServices, RequestContext } from './context.js';
import { authenticate } from './stages/authenticate.js';
import { authorize } from './stages/authorize.js';
import { rateLimit } from '../quotas/stage.js';
import { checkExpiry } from './stages/checkExpiry.js';
import { checkPrimitive } from './stages/checkPrimitive.js';
import { execute } from './stages/execute.js';
import { resolveTarget } from './stages/resolveTarget.js';
import { route } from './stages/route.js';
import { shapeResult } from './stages/shapeResult.js';
import { validateContent } from './stages/validateContent.js';
import { checkClockDrift } from '../notifications/timeSyncBeacon.js';
import { requestLineWriter, type RequestLine } from '../log/logger.js';

export interface Stage {
  readonly name: string;
  /** A stage with nothing to wait for returns undefined: the pipeline awaits only a promise (a turn of the microtask queue each). */
  run(ctx: RequestContext): Promise<void> | undefined;
}

/** Loss-of-synchronization time sync beacons watch the originating timestamps of their requesters' requests. */
const clockDrift: Stage = { name: 'clockDrift', run: checkClockDrift };

export const DEFAULT_STAGES: readonly Stage[] = [
  checkPrimitive,
  authenticate,
  clockDrift,
  rateLimit,
  checkExpiry,
  route,
  resolveTarget,
  authorize,
  validateContent,
  execute,
  shapeResult,
];

/**
 * Whom a request proved its connection speaks for (ResponsePrimitive.connectionOriginator). A registration
 * proves its new AE-ID only when it succeeded: TS-0020 routes requests to a WebSocket client only after a
 * successful registration. Any other request proves its originator only when the connection's credential
 * authenticated it; a claimed From proves nothing, and a DELETE may be the AE's own deregistration.
 */
function connectionOriginator(ctx: RequestContext): string | undefined {
  const { request: r, response } = ctx;
  if (r.op === OPERATION.CREATE && r.ty === RESOURCE_TYPE.AE) {
    const created = ctx.outcome?.resource;
    const registered = response?.rsc === RSC.CREATED && ctx.resource?.ty === RESOURCE_TYPE.CSEBase && created?.ty === RESOURCE_TYPE.AE;
    return registered ? created.ri : undefined;
  }
  if (r.op === OPERATION.DELETE || ctx.originator?.authenticated !== true) return undefined;
  return ctx.originator.id;
}

export class Pipeline {
  /** Writes the request line through the CSE's logger (src/log/logger.ts). */
  private readonly writeRequestLine: (line: RequestLine) => void;

  constructor(
    private readonly services: CseServices,
    private readonly stages: readonly Stage[] = DEFAULT_STAGES,
  ) {
    this.writeRequestLine = requestLineWriter(services.log);
  }

  async handle(request: RequestPrimitive, transport: TransportContext): Promise<ResponsePrimitive> {
    const started = process.hrtime.bigint();
    const ctx: RequestContext = { request, transport, services: this.services, receivedAt: this.services.clock.now() };
    let stage = '';
    // Decided once per request: with trace off no stage line is built.
    const tracing = this.services.log.isLevelEnabled('trace');
    try {
      for (const s of this.stages) {
        stage = s.name;
        const pending = s.run(ctx);
        if (pending !== undefined) await pending;
        if (tracing) this.services.log.trace({ rqi: request.rqi, stage, answered: ctx.response?.rsc }, 'stage done');
        if (ctx.response) break;
      }
      if (!ctx.response) throw new Error('the pipeline ended without a response');
      const speaksFor = connectionOriginator(ctx);
      if (speaksFor !== undefined) ctx.response.connectionOriginator = speaksFor;
    } catch (err) {
      ctx.response = this.errorResponse(ctx, err, stage);
    }
    if (ctx.done) {
      if (transport.settle) transport.settle(ctx.done);
      else ctx.done();
    }
    // Every response carries its originating timestamp, and echoes the result expiration timestamp it was
    // asked to meet [TS-0004 table 7.2.1.2-1; TS-0001 §8.1.3: "the Receiver shall echo the result expiration timestamp"].
    ctx.response.ot = formatTimestamp(this.services.clock.now());
    if (request.rset !== undefined) ctx.response.rset = request.rset;
    this.logRequest(ctx, started);
    return ctx.response;
  }

  /** The one place a thrown error becomes a response. Unexpected errors never show their details. */
  private errorResponse(ctx: RequestContext, err: unknown, stage: string): ResponsePrimitive {
    const base = { rqi: ctx.request.rqi, fr: `/${this.services.self.cseId}`, ...(ctx.request.rvi ? { rvi: ctx.request.rvi } : {}) };
    if (err instanceof QuotaExceededError) err = quotaRefusal(err);
    // At debug: which stage refused the request and why, beside the request line (which has the RSC only).
    if (err instanceof CseError && this.services.log.isLevelEnabled('debug')) this.services.log.debug({ rqi: ctx.request.rqi, stage, rsc: err.rsc, reason: err.message }, 'request refused');
    if (err instanceof CseError) return { ...base, rsc: err.rsc, pc: err.content ?? { 'm2m:dbg': err.message }, ...(err.retryAfter === undefined ? {} : { retryAfter: err.retryAfter }) };
    if (err instanceof StoreUnavailableError) {
      this.services.log.error({ stage, rqi: ctx.request.rqi }, 'storage unavailable');
      return { ...base, rsc: RSC.INTERNAL_SERVER_ERROR, pc: { 'm2m:dbg': 'the storage is unavailable; the request was not carried out' } };
    }
    this.services.log.error({ err, stage, rqi: ctx.request.rqi }, 'unexpected error');
    return { ...base, rsc: RSC.INTERNAL_SERVER_ERROR, pc: { 'm2m:dbg': 'internal server error' } };
  }

  private logRequest(ctx: RequestContext, started: bigint): void {
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const r = ctx.request;
    const d = ctx.decision;
    // Set by now: handle answers every request, an error included.
    const rsc = ctx.response?.rsc ?? 0;
    const metrics = this.services.metrics;
    if (metrics) {
      metrics.request(r.op, rsc, ctx.transport.binding, ms / 1000);
      if (d && !d.granted) metrics.denied(denialClass(d.reason));
      else if (rsc === RSC.ORIGINATOR_NOT_AUTHENTICATED) metrics.denied('originator-not-authenticated');
      else if (rsc === RSC.SECURITY_ASSOCIATION_REQUIRED) metrics.denied('security-association-required');
    }
    // Below info (warn, the usual production choice for throughput) the record is not built at all.
    if (!this.services.log.isLevelEnabled('info')) return;
    this.writeRequestLine({
      rqi: r.rqi,
      originator: ctx.originator?.id ?? r.fr,
      authenticated: ctx.originator?.authenticated ?? false,
      op: OPERATION_NAMES[r.op] ?? r.op,
      to: r.to,
      rsc,
      ms: Math.round(ms * 1000) / 1000,
      binding: ctx.transport.binding,
      ...(d ? { access: d.granted ? { basis: d.basis, policy: d.policy, rule: d.rule } : { denied: d.reason } } : {}),
    });
  }
}
