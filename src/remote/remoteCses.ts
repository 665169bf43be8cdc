// The other CSEs of the tree: where a request for another CSE goes next [TS-0004 §7.3.2.6], and the link that
// carries it (link.ts), and this CSE's own registration (registration.ts).
import { CseError } from '../primitive/errors.js';
import type { RequestContext } from '../pipeline/context.js';
import { OPERATION, type RequestPrimitive } from '../primitive/request.js';
import type { ResponsePrimitive } from '../primitive/response.js';
import { RSC, type Rsc } from '../primitive/rsc.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { REMOTE_CSE_TOPIC, remoteCseRi } from '../resources/types/remoteCse.js';
import type { StoredResource } from '../storage/store.js';
import type { CseServices } from '../pipeline/context.js';
import type { CseLink, LinkResult, PeerIdentity } from './link.js';
import { formatTimestamp, parseAbsRelTimestamp, parseTarget, randomIdSuffix } from '../primitive/identifiers.js';
import type { RegistrarRegistration } from './registration.js';
import { Announcements } from './announcement.js';
import { parsePeers, peerOf, type PeerSp } from '../config/peers.js';

/** The next hop of a request: a CSE and the point of access it is reached at. */
export interface Hop {
  readonly peer: PeerIdentity;
  readonly poa: string;
  /** 'peer': to the IN-CSE of another M2M Service Provider over Mcc' (peers.list). */
  readonly direction: 'down' | 'up' | 'peer';
}

export class RemoteCses {
  private readonly unsubscribe: () => void;
  /** Announcement of resources hosted here to other CSEs (announcement.ts). */
  readonly announcements: Announcements;
  /** The IN-CSEs of other M2M Service Providers this IN-CSE forwards their SPs' requests to (peers.list). */
  readonly peers: readonly PeerSp[];

  constructor(
    private readonly services: CseServices,
    readonly link: CseLink,
    readonly registration: RegistrarRegistration | undefined,
  ) {
    this.announcements = new Announcements(services);
    // Validated when the configuration was loaded (config.ts): only an IN-CSE has any.
    this.peers = services.config.cse.type === 'IN' ? parsePeers(services.config.peers.list, services.self.spId) : [];
    this.unsubscribe = services.store.subscribe(REMOTE_CSE_TOPIC, (payload) => {
      if (payload.startsWith('dropped ')) void this.deregisterRegistree(payload.slice('dropped '.length));
      else if (payload.startsWith('removed ')) void this.dropBranchAnnouncements(payload.slice('removed '.length)).catch((err: unknown) => services.log.error({ err }, 'removing announced resources failed'));
    });
  }

  /**
   * A registree's <remoteCSE> was deleted here by a request: the registrar's <remoteCSE> on the registree goes
   * too [TS-0001 §10.2.2.10, deregistration initiated by the registrar]. Best effort: the registree's own
   * periodic check finds itself unregistered otherwise, and registers again.
   */
  private async deregisterRegistree(payload: string): Promise<void> {
    const { self, log } = this.services;
    let dropped: { csi?: unknown; poa?: unknown };
    try {
      dropped = JSON.parse(payload) as { csi?: unknown; poa?: unknown };
    } catch {
      return;
    }
    const csi = typeof dropped.csi === 'string' ? dropped.csi : undefined;
    const poa = Array.isArray(dropped.poa) ? dropped.poa.find((p): p is string => typeof p === 'string' && (p.startsWith('https://') || (this.services.config.mqtt.cseLinks && p.startsWith('mqtts://')))) : undefined;
    if (!csi || !poa) return;
    const result = await this.link.send(poa, { csi, spId: self.spId }, { op: OPERATION.DELETE, to: `${csi}/${self.cseId}`, fr: `/${self.cseId}`, rqi: `dereg-${randomIdSuffix(12)}`, rvi: '3' });
    log.info({ event: 'cse-registree-deregistered', registree: csi, rsc: result.rsc }, `deregistered ${csi}`);
  }

  /**
   * A CSE left the tree here (`<ri> [<its dcse as JSON>]`): what it announced here goes, and what its descendants
   * announced through it — they are reachable only through it. A descendant that is still registered here itself, or
   * listed by another registree, keeps its announcements, and so does a name the registree could not stand for (one
   * the registrar refused or has not accepted): a registree could otherwise list other CSEs and leave, to wipe what
   * they announced.
   */
  private async dropBranchAnnouncements(removed: string): Promise<void> {
    const at = removed.indexOf(' ');
    const ri = at < 0 ? removed : removed.slice(0, at);
    const gone = new Set([`/${ri}`]);
    let listed: unknown = [];
    try {
      listed = at < 0 ? [] : JSON.parse(removed.slice(at + 1));
    } catch {
      // not ours to read: the CSE's own announcements still go
    }
    // Taken before anything else: this CSE's registration update that follows the same removal replaces the list.
    const accepted = await this.services.descendants.acceptedNames();
    for (const csi of Array.isArray(listed) ? listed.slice(0, 1000) : []) {
      if (typeof csi !== 'string' || gone.has(csi)) continue;
      // A name it could not stand for (refused by the registrar, not accepted by it, an S-AE-ID) was never its branch.
      if (!this.services.descendants.mayStandFor(csi, accepted)) continue;
      if ((await this.registree(csi)) || (await this.services.descendants.registreeListing(csi))) continue;
      gone.add(csi);
    }
    await this.announcements.dropAnnouncedBy(gone);
  }

  /** The <remoteCSE> of a CSE registered here (not the registrar's), alive now. */
  private async registree(csi: string): Promise<StoredResource | undefined> {
    const { store, self, clock } = this.services;
    const csr = await store.get(remoteCseRi(csi));
    if (csr?.ty !== RESOURCE_TYPE.remoteCSE || csr.pi !== self.cseId || csr.doc.csi !== csi) return undefined;
    if (csr.et !== undefined && csr.et <= clock.now()) return undefined;
    return csr;
  }

  /**
   * Where a request for CSE `csi` goes [TS-0004 §7.3.2.6]: down to the registree whose CSE-ID or descendantCSEs
   * match, else up to the registrar unless it came from there; undefined: nowhere (the caller answers 4004).
   */
  async nextHop(csi: string, spId: string | undefined, cameFrom: string | undefined, cameFromSp?: string): Promise<Hop | undefined> {
    const { self, config } = this.services;
    const registrar = this.registration;
    const sameSp = spId === undefined || spId.toLowerCase() === self.spId.toLowerCase();
    if (!sameSp && config.cse.type === 'IN') {
      // Another SP's target leaves through its IN-CSE over Mcc' [TS-0001 §5.2.2.4], when that SP is a configured
      // peer. Not what came in over Mcc' itself: an IN-CSE is no transit between two other SPs (no business
      // agreement covers it, and it would let two peers loop a request), so that is 4004 like an unknown SP.
      const peer = peerOf(this.peers, spId);
      if (!peer || cameFromSp !== undefined) return undefined;
      return { peer: { csi: peer.csi, spId: peer.spId }, poa: peer.url, direction: 'peer' };
    }
    if (sameSp) {
      const registrarCse = registrar?.peer.csi;
      if (csi !== registrarCse) {
        const csr = (await this.registree(csi)) ?? (await this.services.descendants.registreeListing(csi));
        if (csr) {
          const poas = Array.isArray(csr.doc.poa) ? (csr.doc.poa as unknown[]).filter((p): p is string => typeof p === 'string') : [];
          // https first; mqtts (the broker of mqtt.url) only where links through it are on (link.ts).
          const poa = poas.find((p) => p.startsWith('https://')) ?? (config.mqtt.cseLinks ? poas.find((p) => p.startsWith('mqtts://')) : undefined);
          const peer = { csi: String(csr.doc.csi), spId: self.spId };
          // A registree without such a point of access cannot be reached inside a security association.
          if (!poa) throw new CseError(RSC.TARGET_NOT_REACHABLE, `CSE ${peer.csi} has no https (or mqtts) point of access`);
          return { peer, poa, direction: 'down' };
        }
      }
    }
    // Up only what came from an AE here or from below: what came from the registrar goes no further up, so a
    // request never travels back the way it came [TS-0004 §7.3.2.6].
    if (!registrar || config.cse.type === 'IN') return undefined;
    if (cameFrom !== undefined && cameFrom === registrar.peer.csi) return undefined;
    return { peer: registrar.peer, poa: registrar.url, direction: 'up' };
  }

  /**
   * The CSE a notification target or other address names when it is another CSE's (`/id-mn/Cae`,
   * `//sp/id-mn/Cae`); undefined for this CSE's addresses and URLs.
   */
  otherCseOf(address: string): { csi: string; spId?: string } | undefined {
    const { self } = this.services;
    if (!address.startsWith('/')) return undefined;
    try {
      const target = parseTarget(address, self);
      if (target.kind !== 'remote') return undefined;
      return target.spId === undefined ? { csi: target.cseId } : { csi: target.cseId, spId: target.spId };
    } catch {
      return undefined;
    }
  }

  /**
   * A request this CSE originates (a notification, a verification request) to an address on another CSE, sent
   * towards it as a forwarded one would be; 5103 when no route leads there or the next hop does not answer.
   */
  async sendToOtherCse(address: string, primitive: RequestPrimitive, waitMs?: number): Promise<LinkResult> {
    const other = this.otherCseOf(address);
    const hop = other ? await this.nextHop(other.csi, other.spId, undefined).catch(() => undefined) : undefined;
    if (!hop) return { rsc: RSC.TARGET_NOT_REACHABLE, unreachable: `no route to ${address}` };
    // Over Mcc' this CSE names itself (or its AE) in absolute form, as a forwarded originator is [TS-0004 §7.3.2.6].
    const { self } = this.services;
    const fr = primitive.fr;
    const absolute = fr.startsWith('//') ? fr : `//${self.spId}${fr.startsWith('/') ? fr : `/${self.cseId}/${fr}`}`;
    return this.link.send(hop.poa, hop.peer, { ...primitive, to: address, ...(hop.direction === 'peer' ? { fr: absolute } : {}) }, waitMs);
  }

  /**
   * Forwards a request to the resource an SP-relative (`/csi/...`) or absolute (`//sp/csi/...`) address names on
   * another CSE — an announced resource's link [TS-0001 §9.6.26.1] — and answers with what came back; 5103 when the
   * address names no other CSE's resource.
   */
  async forwardTo(ctx: RequestContext, address: string): Promise<ResponsePrimitive> {
    const named = /^(?:\/\/([^/]+))?(\/[^/]+)\/./.exec(address);
    const other = named ? this.otherCseOf(address) : undefined;
    if (!named || !other) throw new CseError(RSC.TARGET_NOT_REACHABLE, `${address} is no resource on another CSE`);
    return this.forward({ ...ctx, request: { ...ctx.request, to: address } }, other.csi, other.spId);
  }

  /** Forwards a request whose target is on another CSE, and answers with what came back. */
  async forward(ctx: RequestContext, csi: string, spId: string | undefined): Promise<ResponsePrimitive> {
    const { self, config, log } = this.services;
    const request = ctx.request;
    const hop = await this.nextHop(csi, spId, ctx.originator?.via, ctx.originator?.viaSp);
    const named = `${spId === undefined ? '' : `//${spId}`}${csi}`;
    if (!hop) {
      if (config.cse.type === 'IN' && spId !== undefined && spId.toLowerCase() !== self.spId.toLowerCase()) {
        throw new CseError(RSC.NOT_FOUND, ctx.originator?.viaSp !== undefined ? `this IN-CSE forwards no request of SP ${ctx.originator.viaSp} on to another SP (${spId})` : `SP ${spId} is no peer of this IN-CSE (peers.list)`);
      }
      if (config.cse.type === 'IN') throw new CseError(RSC.NOT_FOUND, `no CSE ${named} is known to this IN-CSE`);
      // A CSE without a registrar cannot retarget upwards: the target is out of reach, not known to be absent.
      if (!this.registration) throw new CseError(RSC.TARGET_NOT_REACHABLE, `no route to CSE ${named}: it is not registered with this CSE, which has no registrar`);
      throw new CseError(RSC.NOT_FOUND, `no CSE ${named} is registered below this CSE`);
    }
    const originator = ctx.originator?.id ?? request.fr;
    // A CSE-relative originator becomes SP-relative by this CSE's CSE-ID [TS-0004 §7.3.2.6].
    let fr = originator.startsWith('/') ? originator : `/${self.cseId}/${originator}`;
    // Leaving the SP over Mcc', the originator becomes absolute by this SP's SP-ID [TS-0004 §7.3.2.6], so the
    // other SP's CSEs (and their ACPs) tell it from their own.
    if (hop.direction === 'peer' && !fr.startsWith('//')) fr = `//${self.spId}${fr}`;
    const forwarded: RequestPrimitive = { ...request, fr };
    // Relative times count from when the originator's request arrived here, not from each later hop.
    for (const name of ['rqet', 'rset', 'oet'] as const) {
      const at = request[name] === undefined ? undefined : parseAbsRelTimestamp(request[name], ctx.receivedAt);
      if (at !== undefined) forwarded[name] = formatTimestamp(at);
    }
    const expires = request.rqet === undefined ? undefined : parseAbsRelTimestamp(request.rqet, ctx.receivedAt);
    const waitMs = expires === undefined ? undefined : Math.max(1, expires - this.services.clock.now());
    const result = await this.link.send(hop.poa, hop.peer, forwarded, waitMs);
    // Over Mcc' the next hop's CSE-ID alone is ambiguous (each SP has its own): logs name it absolute.
    const via = hop.direction === 'peer' ? `//${hop.peer.spId}${hop.peer.csi}` : hop.peer.csi;
    if (result.unreachable !== undefined) {
      log.warn({ event: 'forward-failed', rqi: request.rqi, target: named, via, reason: result.unreachable }, 'request not forwarded');
      if (expires !== undefined && expires <= this.services.clock.now()) throw new CseError(RSC.REQUEST_TIMEOUT, `no answer from CSE ${via} (towards ${named}) before the request expired`);
      throw new CseError(RSC.TARGET_NOT_REACHABLE, `CSE ${via} (towards ${named}) is not reachable`);
    }
    log.debug({ event: 'forwarded', rqi: request.rqi, target: named, via, direction: hop.direction, rsc: result.rsc }, 'request forwarded');
    const response: ResponsePrimitive = { rsc: result.rsc as Rsc, rqi: request.rqi };
    if (result.pc !== undefined) response.pc = result.pc;
    if (result.cnst !== undefined) response.cnst = result.cnst;
    if (result.cnot !== undefined) response.cnot = result.cnot;
    if (request.rvi !== undefined) response.rvi = request.rvi;
    return response;
  }

  async close(): Promise<void> {
    this.unsubscribe();
    this.registration?.stop();
    this.link.close();
    await this.registration?.settled();
  }
}
