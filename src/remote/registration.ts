// This CSE's registration with its registrar CSE [TS-0001 §10.2.2.6–10.2.2.9, TS-0004 §7.4.4.2]: its <remoteCSE>
// is created on the registrar (or found there after a restart and updated), the registrar's <remoteCSE> is created
// here, and the two are kept current (poa, descendantCSEs). While the registrar cannot be reached the attempts are
// repeated with a doubling back-off, and local requests are served meanwhile. Deleting the registrar's <remoteCSE>
// here deregisters: this CSE's <remoteCSE> on the registrar is deleted and no attempt follows until a restart.
//
// The attempts are process timers, not the durable timers of scheduler/timers.ts: those run inside a transaction
// that holds the resource locked, and a registration waits on the network for seconds; and a registration is
// started again by every start anyway (the state it restores is the registrar's, not this database's).
import type { CseServices } from '../pipeline/context.js';
import { OPERATION, type RequestPrimitive } from '../primitive/request.js';
import { formatTimestamp, randomIdSuffix } from '../primitive/identifiers.js';
import { RSC } from '../primitive/rsc.js';
import { CREATOR_KEY } from '../resources/common.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { REGISTRAR_KEY, REMOTE_CSE_TOPIC, remoteCseRi, spellsSAeId } from '../resources/types/remoteCse.js';
import { ACCEPTED_AT_KEY, ACCEPTED_DESCENDANTS_KEY } from '../security/registrations.js';
import { StoreConflictError } from '../storage/store.js';
import type { CseLink, LinkResult, PeerIdentity } from './link.js';


const CSE_TYPE_NUMBERS = { IN: 1, MN: 2, ASN: 3 } as const;

export type RegistrationState = 'registering' | 'registered' | 'deregistered' | 'stopped';

export class RegistrarRegistration {
  readonly peer: PeerIdentity;
  private state: RegistrationState = 'registering';
  private timer: NodeJS.Timeout | undefined;
  private delayMs: number;
  private running: Promise<void> | undefined;
  private again = false;
  private readonly unsubscribe: () => void;
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly services: CseServices,
    private readonly link: CseLink,
  ) {
    const r = services.config.registrar;
    this.peer = { csi: `/${r.cseId}`, spId: r.spid || services.config.cse.spid };
    this.delayMs = r.retryMin * 1000;
    services.descendants.awaitRegistrar(this.peer.csi);
    this.unsubscribe = services.store.subscribe(REMOTE_CSE_TOPIC, (payload) => this.onRemoteCseChange(payload));
  }

  get status(): RegistrationState {
    return this.state;
  }

  /** The registrar's point of access: the configured one (what its certificate is verified for). */
  get url(): string {
    return this.services.config.registrar.url;
  }

  start(): void {
    this.schedule(0);
  }

  /** Resolves once the registration succeeded (for tests and the demo); never rejects. */
  whenRegistered(): Promise<void> {
    if (this.state === 'registered') return Promise.resolve();
    return new Promise((resolve) => this.waiters.add(resolve));
  }

  /** No attempt after this one; `settled` waits for one in flight (the link's close cuts it short). */
  stop(): void {
    this.state = 'stopped';
    this.unsubscribe();
    if (this.timer) clearTimeout(this.timer);
  }

  async settled(): Promise<void> {
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.state === 'stopped' || this.state === 'deregistered') return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), ms);
    this.timer.unref();
  }

  /** One attempt at a time; a change meanwhile (a new descendant) makes one more attempt follow. */
  private async run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    const { config, log } = this.services;
    this.running = (async () => {
      let ok = false;
      try {
        ok = await this.attempt();
      } catch (err) {
        log.error({ err, registrar: this.peer.csi }, 'registration attempt failed unexpectedly');
      }
      if (ok) {
        this.delayMs = config.registrar.retryMin * 1000;
        if (this.state === 'registering') log.info({ event: 'cse-registered', registrar: this.peer.csi }, `registered with ${this.peer.csi}`);
        if (this.state !== 'stopped' && this.state !== 'deregistered') this.state = 'registered';
        for (const resolve of this.waiters) resolve();
        this.waiters.clear();
        this.schedule(config.registrar.checkInterval * 1000);
      } else {
        if (this.state === 'registered') this.state = 'registering';
        log.warn({ event: 'cse-registration-retry', registrar: this.peer.csi, retryInSeconds: this.delayMs / 1000 }, `registration with ${this.peer.csi} failed; retrying`);
        this.schedule(this.delayMs);
        this.delayMs = Math.min(this.delayMs * 2, config.registrar.retryMax * 1000);
      }
    })();
    await this.running;
    this.running = undefined;
    if (this.again) {
      this.again = false;
      this.schedule(0);
    }
  }

  private primitive(op: RequestPrimitive['op'], to: string, extra: Partial<RequestPrimitive> = {}): RequestPrimitive {
    return { op, to, fr: `/${this.services.self.cseId}`, rqi: `reg-${randomIdSuffix(12)}`, rvi: '3', ...extra };
  }

  private send(primitive: RequestPrimitive): Promise<LinkResult> {
    return this.link.send(this.url, this.peer, primitive);
  }

  /** The attributes of this CSE's <remoteCSE> that it keeps current on the registrar. */
  private async ownAttributes(): Promise<Record<string, unknown>> {
    const { store, self } = this.services;
    const cseBase = await store.get(self.cseId);
    const registrees = await this.descendants();
    const configured = this.services.config.registrar.poa
      .split(',')
      .map((u) => u.trim())
      .filter(Boolean);
    return {
      poa: configured.length > 0 ? configured : Array.isArray(cseBase?.doc.poa) ? cseBase.doc.poa : [],
      rr: true,
      srv: Array.isArray(cseBase?.doc.srv) ? cseBase.doc.srv : ['3'],
      csz: ['application/json'],
      dcse: registrees,
    };
  }

  /**
   * The CSEs registered here and their descendants: what the registrar may route to this CSE [TS-0004 §7.4.4.2.1].
   * At most MAX_DCSE: the registrees themselves first, then their descendants taken in turn, one of each registree's
   * at a time, so that one registree listing a thousand names cannot push the others' out (their routes were cut).
   * Names the registrar refused are left out (see attempt).
   */
  private async descendants(): Promise<string[]> {
    const { store, self, descendants } = this.services;
    const out = new Set<string>();
    const lists: string[][] = [];
    for (let offset = 0; ; offset += 500) {
      const page = await store.children(self.cseId, { ty: RESOURCE_TYPE.remoteCSE, aliveAt: this.services.clock.now(), limit: 500, offset });
      for (const csr of page) {
        if (csr.doc[REGISTRAR_KEY] === true) continue;
        if (typeof csr.doc.csi === 'string' && !spellsSAeId(csr.doc.csi)) out.add(csr.doc.csi);
        if (Array.isArray(csr.doc.dcse)) lists.push(csr.doc.dcse.filter((d): d is string => typeof d === 'string' && !spellsSAeId(d) && !descendants.disowned(d)));
      }
      if (page.length < 500) break;
    }
    for (let i = 0; out.size < MAX_DCSE && lists.some((list) => i < list.length); i++) {
      for (const list of lists) {
        const id = list[i];
        if (id !== undefined && out.size < MAX_DCSE) out.add(id);
      }
    }
    return [...out].slice(0, MAX_DCSE);
  }

  /**
   * Sends the registration (a CREATE or an UPDATE of this CSE's <remoteCSE> there). A registrar that refuses a name
   * among the descendants (Warden's registrar: 4000 "descendantCSEs may not name 'X'", because X is registered there
   * or below another of its registrees) would otherwise refuse every update, and routes to the other registrees with
   * it: a hostile registree needed only to list one such name. The name is dropped (and no registree here is routed
   * to for it, nor may relay for it), logged, and the registration sent again without it.
   */
  private async register(send: (attributes: Record<string, unknown>) => Promise<LinkResult>, attributes: Record<string, unknown>): Promise<{ result: LinkResult; sent: string[] }> {
    for (let round = 0; ; round++) {
      const result = await send(attributes);
      const refused = result.rsc === RSC.BAD_REQUEST ? /descendantCSEs may not name '([^']{1,256})'/.exec(debugOf(result))?.[1] : undefined;
      const dcse = attributes.dcse as string[];
      if (refused === undefined || !dcse.includes(refused) || round >= MAX_REFUSED_ROUNDS) return { result, sent: dcse };
      // A CSE registered here itself proved its name with its certificate: the registrar's word does not take it away.
      const registered = await this.services.store.get(remoteCseRi(refused));
      if (registered?.ty !== RESOURCE_TYPE.remoteCSE || registered.doc.csi !== refused) this.services.descendants.disown(refused);
      this.services.log.warn({ event: 'cse-descendant-refused', registrar: this.peer.csi, descendant: refused }, 'security event');
      attributes = { ...attributes, dcse: dcse.filter((id) => id !== refused) };
    }
  }

  /** Registers (or confirms and updates the registration); true when this CSE is registered afterwards. */
  private async attempt(): Promise<boolean> {
    const { config, self, log } = this.services;
    // A check of a registration this process has made: the registrar's <remoteCSE> here exists, unless it was deleted.
    const checking = this.state === 'registered';
    const registrarId = this.peer.csi;
    const mine = `${registrarId}/${self.cseId}`;
    const attributes = await this.ownAttributes();
    const found = await this.send(this.primitive(OPERATION.RETRIEVE, mine));
    let accepted: string[];
    if (found.rsc === RSC.OK) {
      const csr = found.pc?.['m2m:csr'] as Record<string, unknown> | undefined;
      if (csr?.csi !== `/${self.cseId}`) {
        log.warn({ event: 'cse-registration-refused', registrar: registrarId, reason: 'the registrar answered a <remoteCSE> of another CSE' }, 'CSE registration');
        return false;
      }
      // A re-registration (after a restart) finds its <remoteCSE> and brings it up to date [TS-0001 §10.2.2.8].
      const updated = await this.register((a) => this.send(this.primitive(OPERATION.UPDATE, mine, { pc: { 'm2m:csr': a } })), attributes);
      if (updated.result.rsc !== RSC.UPDATED) {
        log.warn({ event: 'cse-registration-refused', registrar: registrarId, rsc: updated.result.rsc, reason: debugOf(updated.result) }, 'CSE registration update refused');
        return false;
      }
      accepted = acceptedDescendants(updated, self.spId);
    } else if (found.rsc === RSC.NOT_FOUND) {
      const created = await this.register(
        (a) =>
          this.send(
            this.primitive(OPERATION.CREATE, `${registrarId}/${config.registrar.rn}`, {
              ty: RESOURCE_TYPE.remoteCSE,
              pc: { 'm2m:csr': { cb: `/${self.cseId}/${self.cseRn}`, csi: `/${self.cseId}`, cst: CSE_TYPE_NUMBERS[config.cse.type], ...a } },
            }),
          ),
        attributes,
      );
      if (created.result.rsc !== RSC.CREATED) {
        log.warn({ event: 'cse-registration-refused', registrar: registrarId, rsc: created.result.rsc, reason: debugOf(created.result) }, 'CSE registration refused');
        return false;
      }
      accepted = acceptedDescendants(created, self.spId);
    } else {
      if (found.rsc !== 5103) log.warn({ event: 'cse-registration-refused', registrar: registrarId, rsc: found.rsc, reason: debugOf(found) }, 'CSE registration check refused');
      return false;
    }
    // When the registrar's answer was had: of two processes storing what it accepted, the later answer stands.
    const acceptedAt = this.services.clock.now();
    // The registrar's own description, for its <remoteCSE> here [TS-0004 §7.4.4.2.1 Originator].
    const base = await this.send(this.primitive(OPERATION.RETRIEVE, `${registrarId}/${config.registrar.rn}`));
    const cb = base.pc?.['m2m:cb'] as Record<string, unknown> | undefined;
    if (base.rsc !== RSC.OK || !cb || (cb.csi !== registrarId && cb.csi !== registrarId.slice(1))) {
      log.warn({ event: 'cse-registration-refused', registrar: registrarId, rsc: base.rsc, reason: 'the registrar CSEBase could not be read or names another CSE-ID' }, 'CSE registration');
      return false;
    }
    if (this.state === 'stopped') return false;
    return this.storeRegistrarCse(cb, checking, { names: accepted, at: acceptedAt });
  }

  /**
   * Creates or updates the <remoteCSE> of the registrar under this CSEBase. `checking`: a registration made before
   * is checked, and a <remoteCSE> found gone was deleted meanwhile (a deregistration, answered 2002): not made again.
   */
  private async storeRegistrarCse(cb: Record<string, unknown>, checking: boolean, accepted: { names: readonly string[]; at: number }): Promise<boolean> {
    const { store, self, clock, log, config } = this.services;
    const ri = remoteCseRi(this.peer.csi);
    const strings = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, 32) : undefined);
    const doc: Record<string, unknown> = {
      csi: this.peer.csi,
      cb: `${this.peer.csi}/${config.registrar.rn}`,
      rr: true,
      srv: strings(cb.srv) ?? ['3'],
      poa: strings(cb.poa) ?? [this.url],
      ...(typeof cb.cst === 'number' && [1, 2, 3].includes(cb.cst) ? { cst: cb.cst } : {}),
      ...(strings(cb.csz) ? { csz: strings(cb.csz) } : {}),
      // The registrar manages its <remoteCSE> here (it may deregister this CSE by deleting it), as ACME sets it.
      [CREATOR_KEY]: this.peer.csi,
      [REGISTRAR_KEY]: true,
      // What routing and relaying may use of the registrees' descendantCSEs, in every process (DescendantCses).
      [ACCEPTED_DESCENDANTS_KEY]: accepted.names,
      [ACCEPTED_AT_KEY]: accepted.at,
    };
    const ts = formatTimestamp(clock.now());
    return store.transaction(async (tx) => {
      const existing = await tx.getForUpdate(ri);
      if (this.state === 'stopped' || this.state === 'deregistered' || (checking && !existing)) return false;
      if (existing && (existing.ty !== RESOURCE_TYPE.remoteCSE || existing.pi !== self.cseId)) {
        log.error({ registrar: this.peer.csi, ri }, `resource '${ri}' exists and is not the registrar's <remoteCSE>: registration not recorded`);
        return false;
      }
      if (existing) {
        // Every process keeps the registration current: an answer older than the one stored (another process's,
        // had later) does not replace what the registrar accepted.
        const stored = existing.doc[ACCEPTED_AT_KEY];
        const newer = typeof stored !== 'number' || stored <= accepted.at;
        const kept = newer ? doc : { ...doc, [ACCEPTED_DESCENDANTS_KEY]: existing.doc[ACCEPTED_DESCENDANTS_KEY], [ACCEPTED_AT_KEY]: stored };
        await tx.update({ ...existing, lt: ts, doc: { ...existing.doc, ...kept } });
      } else {
        try {
          await tx.insert({ ri, pi: self.cseId, ty: RESOURCE_TYPE.remoteCSE, rn: ri, srn: `${self.cseRn}/${ri}`, ct: ts, lt: ts, owner: this.peer.csi, doc });
        } catch (err) {
          if (err instanceof StoreConflictError) return false;
          throw err;
        }
      }
      // Every process reads the accepted descendants again (delivered on commit).
      await tx.broadcast(REMOTE_CSE_TOPIC, `changed ${ri}`);
      return true;
    });
  }

  private onRemoteCseChange(payload: string): void {
    const [what, ri] = payload.split(' ');
    if (what === 'removed' && ri === remoteCseRi(this.peer.csi)) {
      void this.deregister();
      return;
    }
    // A registree came, changed or went: the registrar learns the new descendantCSEs [TS-0004 §7.4.4.2.1–4].
    if (this.state === 'registered' && ri !== remoteCseRi(this.peer.csi)) this.schedule(0);
  }

  /** The registrar's <remoteCSE> here was deleted: this CSE's on the registrar goes too [TS-0001 §10.2.2.9]. */
  private async deregister(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'deregistered') return;
    this.state = 'deregistered';
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    const result = await this.send(this.primitive(OPERATION.DELETE, `${this.peer.csi}/${this.services.self.cseId}`));
    const level = result.rsc === RSC.DELETED || result.rsc === RSC.NOT_FOUND ? 'info' : 'warn';
    this.services.log[level]({ event: 'cse-deregistered', registrar: this.peer.csi, rsc: result.rsc }, `deregistered from ${this.peer.csi}`);
  }
}

/**
 * The descendants a registrar accepted in a registration it answered with success: those sent that its answer lists
 * (a registrar may keep fewer), or all those sent when the answer shows none.
 */
export function acceptedDescendants(answer: { result: LinkResult; sent: readonly string[] }, spId: string): string[] {
  const stored = (answer.result.pc?.['m2m:csr'] as Record<string, unknown> | undefined)?.dcse;
  if (!Array.isArray(stored)) return [...answer.sent];
  // In whichever spelling the registrar writes them: /id-x, id-x, //SP/id-x.
  const kept = new Set(stored.filter((id): id is string => typeof id === 'string').map((id) => spRelativeCseId(id, spId)));
  return answer.sent.filter((id) => kept.has(id));
}

/** A CSE-ID as SP-relative /id, from /id, id or //SP/id (this SP); anything else as given. */
function spRelativeCseId(id: string, spId: string): string {
  if (id.startsWith('//')) {
    const [sp, ...rest] = id.slice(2).split('/');
    return sp?.toLowerCase() === spId.toLowerCase() && rest.length === 1 ? `/${rest[0] ?? ''}` : id;
  }
  return id.startsWith('/') ? id : `/${id}`;
}

/** Descendant CSE-IDs a registration lists at most (as a registrar accepts in one registree's dcse: remoteCse.ts). */
const MAX_DCSE = 1000;
/** Refused descendants dropped and the registration sent again, at most, in one attempt. */
const MAX_REFUSED_ROUNDS = 8;

function debugOf(result: LinkResult): string {
  const dbg = result.pc?.['m2m:dbg'];
  return typeof dbg === 'string' ? dbg.slice(0, 200) : (result.unreachable ?? '');
}
