// Announcement from this CSE, the Hosting CSE of the originals [TS-0001 §10.2.13, TS-0004 §7.3.3.10–11]: a CREATE or
// UPDATE whose announceTo (at) names a CSE makes this CSE create the announced resource there — under the announced
// parent, or under the <CSEBaseAnnc> that stands for this CSE on that CSE (created first when missing) — with link
// to the original; at then lists the addresses of the announced resources that were created, in place of the
// CSE-IDs asked for. MA attributes and those announcedAttribute (aa) names are kept in sync by UPDATEs; a CSE
// removed from at, or the original's deletion, deletes the announced resource (de-announcement).
//
// Every request goes over the CSE link (remoteCses.sendToOtherCse → link.ts, inside the outbound policy) after the
// original's transaction committed: a target that refuses or is not reachable costs the original nothing but its
// place in at, and is logged with its CSE-ID.
import type { CseServices, RequestContext } from '../pipeline/context.js';
import { notAllowed } from '../primitive/errors.js';
import { formatTimestamp, randomIdSuffix } from '../primitive/identifiers.js';
import { OPERATION, type RequestPrimitive } from '../primitive/request.js';
import { RSC } from '../primitive/rsc.js';
import { ANNOUNCEABLE, ANNOUNCED_TO_KEY, BI_DIRECTIONAL, CSE_BASE_ANNC, NEEDS_ANNOUNCED_PARENT, announcedToOf, cseIdOfAddress, isAnnouncedType, specializedOa, type Announceable, type AnnouncedTo } from '../resources/announceable.js';
import { deleteWithBookkeeping } from '../operations/removal.js';
import { SP_RELATIVE_CSE_ID } from '../resources/types/remoteCse.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import type { StoredResource } from '../storage/store.js';
import { retryable, withdrawalMessage, type Withdrawal } from './withdrawals.js';
import type { LinkResult } from './link.js';


/**
 * Announced attributes that hold identifiers of resources or entities (one or a list): sent SP-relative, since on the
 * other CSE a CSE-relative one would name its own resources — an AE's aei, a group's members, an action's subject and
 * object, a dependency's referenced resource, a location policy's container, a beacon's requester and targets, a
 * semantic descriptor's related semantics.
 */
const ANNOUNCED_IDENTIFIERS: ReadonlySet<string> = new Set(['aei', 'mid', 'sri', 'orc', 'rri', 'loi', 'bcnr', 'bcnu', 'rels']);

/** What an announced resource's changes never send back to the original: the original governs these (syncBack). */
const NOT_SYNCED_BACK: ReadonlySet<string> = new Set(['acpi', 'at', 'aa', 'ast', 'lnk', 'et', 'lbl']);

/** An entry of at as asked for: a CSE to announce to, or the address of an announced parent there. */
interface Target {
  readonly csi: string;
  /** Where to create the announced resource when the request named it; else the CSE decides. */
  readonly parent?: string;
}


function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

export class Announcements {
  constructor(private readonly services: CseServices) {}

  private get cse(): string {
    return `/${this.services.self.cseId}`;
  }

  /** An at entry as SP-relative: this SP's absolute form loses its SP-ID; another SP's stays as it is (and fails). */
  private spRelative(entry: string): string {
    const prefix = `//${this.services.self.spId}/`;
    return entry.toLowerCase().startsWith(prefix.toLowerCase()) ? `/${entry.slice(prefix.length)}` : entry;
  }

  /** The targets an at list asks for that are not announced yet (announcedTo: those that are). */
  private newTargets(at: readonly string[], announcedTo: AnnouncedTo): Target[] {
    const known = new Set(Object.values(announcedTo));
    const out: Target[] = [];
    for (const raw of at) {
      const entry = this.spRelative(raw);
      if (known.has(entry)) continue;
      const csi = SP_RELATIVE_CSE_ID.test(entry) ? entry : cseIdOfAddress(entry, this.services.self.spId);
      // As ACME does, this CSE is no announcement target of itself: the entry is dropped.
      if (csi === undefined || csi === this.cse || csi in announcedTo || out.some((t) => t.csi === csi)) continue;
      out.push(csi === entry ? { csi } : { csi, parent: entry });
    }
    return out;
  }

  /**
   * Before the CREATE's transaction: an instance (contentInstance) is announced only where its parent is, else the
   * request fails with 4005 [TS-0004 §7.3.3.10].
   */
  checkCreate(ty: number, content: Readonly<Record<string, unknown>>, parent: StoredResource): void {
    if (!NEEDS_ANNOUNCED_PARENT.has(ty)) return;
    const parentAnnounced = announcedToOf(parent.doc);
    for (const target of this.newTargets(strings(content.at), {})) {
      if (!(target.csi in parentAnnounced)) {
        throw notAllowed(`the parent is not announced to ${target.csi}: its instances cannot be announced there`);
      }
    }
  }

  private primitive(op: RequestPrimitive['op'], to: string, extra: Partial<RequestPrimitive> = {}): RequestPrimitive {
    return { op, to, fr: this.cse, rqi: `annc-${randomIdSuffix(12)}`, rvi: '3', ...extra };
  }

  private async send(primitive: RequestPrimitive): Promise<LinkResult> {
    const remote = this.services.remote;
    if (!remote) return { rsc: RSC.TARGET_NOT_REACHABLE, unreachable: 'no links to other CSEs' };
    return remote.sendToOtherCse(primitive.to, primitive);
  }

  private refused(what: string, csi: string, ri: string, result: LinkResult): void {
    const dbg = result.pc?.['m2m:dbg'];
    this.services.log.warn(
      { event: 'announcement-failed', target: csi, resource: ri, what, rsc: result.rsc, reason: typeof dbg === 'string' ? dbg.slice(0, 200) : result.unreachable },
      `announcement to ${csi} failed`,
    );
  }

  /** The attribute values as announced: identifiers this CSE-relative become SP-relative [TS-0004 §7.3.3.10]. */
  private values(resource: StoredResource, names: Iterable<string>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    // URLs (a beacon's or a policy's targets may be) are no identifiers of this CSE and stay as they are.
    const spRelative = (id: unknown): unknown => (typeof id === 'string' && !id.startsWith('/') && !id.includes('://') ? `${this.cse}/${id}` : id);
    for (const name of names) {
      const value = name === 'et' ? (resource.et === undefined ? undefined : formatTimestamp(resource.et)) : resource.doc[name];
      if (value === undefined) continue;
      if (ANNOUNCED_IDENTIFIERS.has(name)) out[name] = Array.isArray(value) ? value.map(spRelative) : spRelative(value);
      // An announced policy is read on the other CSE: its originators there must still name this CSE's entities.
      else if (name === 'pv' || name === 'pvs') out[name] = this.rulesSpRelative(value);
      else out[name] = value;
    }
    return out;
  }

  /**
   * Access control rules with their CSE-relative originators (AE-IDs, group IDs of this CSE) made SP-relative, so that
   * `Cae` in a policy announced to another CSE still means this CSE's AE there and not one registered there [TS-0001
   * §10.2.13.5: identifiers are converted to the form the receiver needs]. `all`, Role-IDs and SP-relative or absolute
   * entries stay as they are.
   */
  private rulesSpRelative(value: unknown): unknown {
    const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
    if (!isRecord(value) || !Array.isArray(value.acr)) return value;
    const entry = (e: unknown): unknown => (typeof e === 'string' && e !== 'all' && !e.includes('@') && !e.startsWith('/') ? `${this.cse}/${e}` : e);
    return { ...value, acr: value.acr.map((rule: unknown) => (isRecord(rule) && Array.isArray(rule.acor) ? { ...rule, acor: rule.acor.map(entry) } : rule)) };
  }

  /**
   * The acpi of the announced resource on `csi`: the policies of the original — or, where it has no acpi, of its
   * parent [TS-0001 §9.6.26.1, §10.2.13.5] — as announced to that CSE, each announced there first where it is not yet
   * (and recorded in its at). A policy that cannot be announced is left out: the announced resource is then governed
   * by fewer policies there, never by more. Undefined for types without acpi.
   */
  private async announcedAcpi(resource: StoredResource, csi: string): Promise<string[] | undefined> {
    const { store, registry } = this.services;
    if (registry.get(resource.ty)?.hasAcpi !== true) return undefined;
    const own = resource.doc.acpi;
    const ids = Array.isArray(own) ? strings(own) : strings((await store.get(resource.pi))?.doc.acpi);
    const out: string[] = [];
    for (const id of ids) {
      const policy = await store.get(id);
      if (policy?.ty !== RESOURCE_TYPE.accessControlPolicy) continue;
      let address = announcedToOf(policy.doc)[csi];
      if (address === undefined) {
        const made = await this.announceTo(policy, { csi });
        if (made !== undefined) address = announcedToOf((await this.recordChanges(policy.ri, {}, { [csi]: made }))?.doc ?? {})[csi];
      }
      if (address !== undefined && !out.includes(address)) out.push(address);
    }
    return out;
  }

  /**
   * What is announced of this resource: its type's announced variant — for a specialization (a mgmtObj's mgd), its own
   * content name + 'A' and its own attributes as OA ones (resources/announceable.ts specializedOa).
   */
  private announceableOf(resource: StoredResource): Announceable | undefined {
    const announceable = ANNOUNCEABLE[resource.ty];
    if (!announceable) return undefined;
    const { registry } = this.services;
    const definition = registry.of(resource);
    if (resource.ty === RESOURCE_TYPE.flexContainer && definition) {
      const contentName = registry.contentName(resource);
      if (contentName === definition.typeName) return announceable;
      const custom = Object.keys(registry.attributesOf(resource)).filter((name) => !Object.hasOwn(definition.attributes, name));
      return { ...announceable, anncName: `${contentName}Annc`, oa: specializedOa(resource.ty, custom) };
    }
    if (resource.ty !== RESOURCE_TYPE.mgmtObj || !definition?.specializedBy) return announceable;
    return { ...announceable, anncName: `${definition.typeName}A`, oa: specializedOa(resource.ty, Object.keys(definition.attributes)) };
  }

  /** MA attributes, and the OA ones announcedAttribute names. */
  private announcedNames(resource: StoredResource): string[] {
    const announceable = this.announceableOf(resource);
    if (!announceable) return [];
    const oa = new Set(announceable.oa);
    // announceSyncType travels with the MA attributes: the announced resource's CSE acts on it.
    return [...announceable.ma, 'ast', ...strings(resource.doc.aa).filter((n) => oa.has(n))];
  }

  /**
   * The <CSEBaseAnnc> of this CSE on `csi`: the one recorded, else created there (or, when one already exists
   * there under its name, found and checked to be this CSE's).
   */
  private async cseBaseAnnc(csi: string, forget: boolean): Promise<string | undefined> {
    const { store, self } = this.services;
    const cseBase = await store.get(self.cseId);
    if (!cseBase) return undefined;
    const recorded = announcedToOf(cseBase.doc)[csi];
    if (recorded !== undefined && !forget) return recorded;
    const rn = `${self.cseId}Annc`;
    const lnk = `${this.cse}/${cseBase.ri}`;
    const created = await this.send(
      this.primitive(OPERATION.CREATE, `${csi}/-`, {
        ty: CSE_BASE_ANNC,
        pc: { 'm2m:cbA': { rn, lnk, csi: this.cse, ...this.values(cseBase, ['lbl', 'srv', 'cst', 'csz', 'poa']) } },
      }),
    );
    let ri: unknown;
    if (created.rsc === RSC.CREATED) {
      ri = (created.pc?.['m2m:cbA'] as Record<string, unknown> | undefined)?.ri;
    } else if (created.rsc === RSC.CONFLICT) {
      const found = await this.send(this.primitive(OPERATION.RETRIEVE, `${csi}/-/${rn}`));
      const cbA = found.pc?.['m2m:cbA'] as Record<string, unknown> | undefined;
      if (found.rsc === RSC.OK && cbA?.lnk === lnk) ri = cbA.ri;
      else this.refused('CSEBaseAnnc', csi, cseBase.ri, found);
    } else {
      this.refused('CSEBaseAnnc', csi, cseBase.ri, created);
    }
    if (typeof ri !== 'string') return undefined;
    const address = `${csi}/${ri}`;
    await this.record(cseBase.ri, (doc) => ({ ...announcedToOf(doc), [csi]: address }));
    return address;
  }

  /** Creates the announced resource of `resource` on the target; its address there, or undefined. */
  private async announceTo(resource: StoredResource, target: Target): Promise<string | undefined> {
    const { store } = this.services;
    const announceable = this.announceableOf(resource);
    if (!announceable) return undefined;
    const { csi } = target;
    const acpi = await this.announcedAcpi(resource, csi);
    const pc = { [announceable.anncName]: { ...this.values(resource, this.announcedNames(resource)), ...(acpi === undefined || acpi.length === 0 ? {} : { acpi }), lnk: `${this.cse}/${resource.ri}` } };
    const create = (to: string): Promise<LinkResult> => this.send(this.primitive(OPERATION.CREATE, to, { ty: announceable.annc, pc }));
    const parent = await store.get(resource.pi);
    let to = parent ? announcedToOf(parent.doc)[csi] : undefined;
    // An address in at is honoured only where it is the place this CSE would choose anyway: the other CSE knows only
    // this CSE as the originator, so an AE must not use it to put announced resources under another AE's.
    if (target.parent !== undefined && target.parent !== to) {
      this.refused(announceable.anncName, csi, resource.ri, { rsc: RSC.BAD_REQUEST, unreachable: `${target.parent} is not the announced parent of this resource` });
      return undefined;
    }
    // The CSEBase's record is its <CSEBaseAnnc> there, which the other CSE may have lost.
    const underCseBase = to === undefined || parent?.ty === RESOURCE_TYPE.CSEBase;
    if (to === undefined) {
      if (NEEDS_ANNOUNCED_PARENT.has(resource.ty)) return undefined;
      to = await this.cseBaseAnnc(csi, false);
    }
    if (to === undefined) return undefined;
    let result = await create(to);
    // The target lost this CSE's <CSEBaseAnnc> (a reset, an expiry): made again, once.
    if (result.rsc === RSC.NOT_FOUND && underCseBase) {
      const again = await this.cseBaseAnnc(csi, true);
      if (again !== undefined) result = await create(again);
    }
    const ri = (result.pc?.[announceable.anncName] as Record<string, unknown> | undefined)?.ri;
    if (result.rsc !== RSC.CREATED || typeof ri !== 'string') {
      this.refused(announceable.anncName, csi, resource.ri, result);
      return undefined;
    }
    this.services.log.info({ event: 'announced', target: csi, resource: resource.ri, at: `${csi}/${ri}` }, `announced to ${csi}`);
    return `${csi}/${ri}`;
  }

  /** Writes the announcement record (and at with it) of a resource that may have changed or gone meanwhile. */
  private async record(ri: string, next: (doc: Readonly<Record<string, unknown>>) => AnnouncedTo, withAt = false): Promise<StoredResource | undefined> {
    return this.services.store.transaction(async (tx) => {
      const current = await tx.getForUpdate(ri);
      if (!current) return undefined;
      const announcedTo = next(current.doc);
      current.doc[ANNOUNCED_TO_KEY] = announcedTo;
      if (withAt) {
        const addresses = Object.values(announcedTo);
        if (addresses.length > 0) current.doc.at = addresses;
        else delete current.doc.at;
      }
      await tx.update(current);
      return current;
    });
  }

  /** After a CREATE committed: announces to what at names; the resource as it is now (at = what succeeded). */
  async afterCreate(resource: StoredResource): Promise<StoredResource> {
    if (!ANNOUNCEABLE[resource.ty] || !Array.isArray(resource.doc.at)) return resource;
    const done: AnnouncedTo = {};
    for (const target of this.newTargets(strings(resource.doc.at), {})) {
      const address = await this.announceTo(resource, target);
      if (address !== undefined) done[target.csi] = address;
    }
    return (await this.recordChanges(resource.ri, {}, done)) ?? resource;
  }

  /**
   * After an UPDATE committed: CSEs that left at are de-announced, new ones announced, and the announced resources
   * that stay are sent the announced attributes that changed (null for those no longer announced).
   */
  async afterUpdate(ctx: RequestContext, previous: Readonly<Record<string, unknown>>, resource: StoredResource): Promise<StoredResource> {
    if (isAnnouncedType(resource.ty)) {
      await this.syncBack(ctx, resource);
      return resource;
    }
    const announceable = this.announceableOf(resource);
    if (!announceable) return resource;
    const content = ctx.content ?? {};
    const before = announcedToOf(previous);
    const after: AnnouncedTo = { ...before };
    if ('at' in content) {
      const asked = strings(content.at).map((e) => this.spRelative(e));
      for (const [csi, address] of Object.entries(before)) {
        if (asked.includes(address) || asked.includes(csi)) continue;
        // The entry leaves at at once (as ACME does); a target that cannot be told now is told later, from the outbox.
        await this.withdraw({ csi, address, ri: resource.ri });
        delete after[csi];
      }
      for (const target of this.newTargets(asked, after)) {
        const address = await this.announceTo(resource, target);
        if (address !== undefined) after[target.csi] = address;
      }
    }
    // What changed among the announced attributes, and what left announcedAttribute.
    const oa = new Set(announceable.oa);
    const names = new Set(this.announcedNames(resource));
    const changed = Object.keys(content).filter((n) => names.has(n));
    const added = strings(resource.doc.aa).filter((n) => oa.has(n) && !strings(previous.aa).includes(n));
    const dropped = strings(previous.aa).filter((n) => oa.has(n) && !names.has(n));
    const update: Record<string, unknown> = this.values(resource, new Set([...changed, ...added]));
    for (const n of [...changed, ...dropped]) if (!(n in update)) update[n] = null;
    // The announced resources' policies follow the original's [TS-0001 §9.6.26.1].
    const acpiChanged = 'acpi' in content;
    if (Object.keys(update).length > 0 || acpiChanged) {
      for (const [csi, address] of Object.entries(after)) {
        if (before[csi] !== address) continue;
        const acpi = acpiChanged ? await this.announcedAcpi(resource, csi) : undefined;
        const changes = acpi === undefined ? update : { ...update, acpi: acpi.length === 0 ? null : acpi };
        const result = await this.sendUpdate(address, announceable.anncName, changes);
        if (result.rsc !== RSC.UPDATED) this.refused('update', csi, resource.ri, result);
        // A target that cannot be reached now gets the announced attributes later, from the outbox (a refusal is final).
        if (retryable(result)) await this.queueSync({ csi, address, ri: resource.ri, sync: true });
      }
    }
    if ('at' in content || JSON.stringify(before) !== JSON.stringify(after)) return (await this.recordChanges(resource.ri, before, after)) ?? resource;
    return resource;
  }

  /**
   * Writes what this request changed in a resource's announcement record (`before` → `after`) into the record as it
   * is now, not the record as it read it: requests at once (two UPDATEs of at, two resources announcing one policy)
   * each wrote theirs over the other's, and an announced copy was left on the other CSE with nothing to sync or
   * withdraw it. Where another request recorded a copy on the same CSE meanwhile, that one stays and this one's is
   * withdrawn. Returns the resource as recorded (undefined when it is gone).
   */
  private async recordChanges(ri: string, before: AnnouncedTo, after: AnnouncedTo): Promise<StoredResource | undefined> {
    const duplicates: Withdrawal[] = [];
    const stored = await this.record(
      ri,
      (doc) => {
        duplicates.length = 0;
        const current: AnnouncedTo = { ...announcedToOf(doc) };
        for (const [csi, address] of Object.entries(before)) if (after[csi] !== address && current[csi] === address) delete current[csi];
        for (const [csi, address] of Object.entries(after)) {
          if (before[csi] === address) continue;
          if (current[csi] === undefined || current[csi] === address) current[csi] = address;
          else duplicates.push({ csi, address, ri });
        }
        return current;
      },
      true,
    );
    // The resource went meanwhile: its withdrawals were queued with its deletion, from the record it had then.
    if (!stored) for (const [csi, address] of Object.entries(after)) if (before[csi] !== address) duplicates.push({ csi, address, ri });
    for (const job of duplicates) await this.withdraw(job);
    return stored;
  }

  /** De-announces now; a target that cannot be told now is told later, from the outbox. */
  private async withdraw(job: Withdrawal): Promise<void> {
    if (!retryable(await this.sendWithdrawal(job))) return;
    const now = this.services.clock.now();
    await this.services.store.transaction(async (tx) => tx.enqueue([withdrawalMessage(job, now + 5_000)]));
  }

  /**
   * CSEs left the tree here (a <remoteCSE> was deleted or expired, with its branch): what they announced here goes
   * too — their <CSEBaseAnnc> and everything below it. Announced resources of a CSE that is no longer linked would otherwise stay
   * forever, with nobody left who may update or delete them.
   */
  async dropAnnouncedBy(csis: ReadonlySet<string>): Promise<void> {
    const { store, self, clock, log } = this.services;
    const mine = `/${self.cseId}`;
    // Found first, deleted after: deleting while paging by offset would skip the entries that moved up.
    const found: Array<{ ri: string; csi: string }> = [];
    for (let offset = 0; ; offset += 500) {
      const page = await store.children(self.cseId, { ty: CSE_BASE_ANNC, limit: 500, offset });
      for (const cbA of page) {
        const csi = cseIdOfAddress(cbA.doc.lnk, self.spId);
        if (csi !== undefined && csis.has(csi)) found.push({ ri: cbA.ri, csi });
      }
      if (page.length < 500) break;
    }
    for (const { ri, csi } of found) {
      const gone = await deleteWithBookkeeping(this.services, ri, clock.now(), mine, { op: OPERATION.DELETE, to: ri, fr: mine, rqi: 'deregistered' });
      if (gone) log.info({ event: 'announced-resources-dropped', cse: csi, resource: ri }, `announced resources of ${csi} removed`);
    }
  }

  /**
   * UPDATEs an announced resource; acpi goes in a request of its own, as an UPDATE of acpi must change nothing else
   * [TS-0001 §9.6.1.3.2]. The first answer that is no success is the answer.
   */
  private async sendUpdate(address: string, anncName: string, changes: Readonly<Record<string, unknown>>): Promise<LinkResult> {
    const { acpi, ...others } = changes;
    let result: LinkResult = { rsc: RSC.UPDATED };
    if (Object.keys(others).length > 0) result = await this.send(this.primitive(OPERATION.UPDATE, address, { pc: { [anncName]: others } }));
    if (result.rsc === RSC.UPDATED && acpi !== undefined) result = await this.send(this.primitive(OPERATION.UPDATE, address, { pc: { [anncName]: { acpi } } }));
    return result;
  }

  private async queueSync(job: Withdrawal): Promise<void> {
    const notBefore = this.services.clock.now() + 5_000;
    await this.services.store.transaction(async (tx) => tx.enqueue([withdrawalMessage(job, notBefore)]));
  }

  /**
   * Sends the announced attributes of the original again (an outbox job after a failed sync-update): all of them, as
   * they are now, so that the order of the failed updates does not matter. Nothing to do (2004) when the original or
   * this announcement of it is gone meanwhile.
   */
  async sendSync(job: Withdrawal): Promise<LinkResult> {
    const original = await this.services.store.get(job.ri);
    const announceable = original ? this.announceableOf(original) : undefined;
    if (!original || !announceable || announcedToOf(original.doc)[job.csi] !== job.address) return { rsc: RSC.UPDATED };
    const names = new Set(this.announcedNames(original));
    const changes: Record<string, unknown> = this.values(original, names);
    // What is not announced (any more) is removed there; MA and OA names the type has, minus those sent.
    for (const name of [...announceable.ma, ...announceable.oa]) if (!(name in changes) && name !== 'et') changes[name] = null;
    const acpi = await this.announcedAcpi(original, job.csi);
    if (acpi !== undefined) changes.acpi = acpi.length === 0 ? null : acpi;
    const result = await this.sendUpdate(job.address, announceable.anncName, changes);
    if (result.rsc === RSC.UPDATED) this.services.log.info({ event: 'announcement-synced', target: job.csi, resource: job.ri, at: job.address }, `announced attributes synced to ${job.csi}`);
    else this.refused('sync', job.csi, job.ri, result);
    return result;
  }

  /**
   * announceSyncType 2 (bi-directional, Release 4; as ACME does it): an UPDATE of an announced resource here by anyone
   * but the CSE that announced it is sent on to the original, as this CSE (From = its CSE-ID, so the original's
   * policies must grant this CSE UPDATE); the original's CSE then syncs every announced resource as usual. The
   * announcing CSE's own syncs are not sent back (no loop), nor are acpi, at, aa, ast, lnk and et, which the original
   * governs. An original that cannot be reached now gets the change later, from the outbox, through the same jobs as
   * the announcing side's missed syncs (withdrawals.ts); a refusal is final, logged, and the change stays here.
   */
  private async syncBack(ctx: RequestContext, announced: StoredResource): Promise<void> {
    const lnk = announced.doc.lnk;
    if (announced.doc.ast !== BI_DIRECTIONAL || typeof lnk !== 'string') return;
    const announcer = cseIdOfAddress(lnk, ctx.services.self.spId);
    if (announcer === undefined || ctx.originator?.id === announcer) return;
    const names = Object.keys(ctx.content ?? {}).filter((name) => !NOT_SYNCED_BACK.has(name));
    if (names.length === 0) return;
    const job: Withdrawal = { csi: announcer, address: lnk, ri: announced.ri, syncBack: names };
    if (retryable(await this.sendSyncBack(job, { announced, changes: ctx.content ?? {} }))) await this.queueSync(job);
  }

  /**
   * Sends changed attributes of an announced resource back to its original: as the request changed them (`now`), or,
   * from the outbox, as the announced resource has them when the job runs (null for one it no longer has). Nothing to
   * do (2004) when the announced resource is gone or no longer links that original two-way.
   */
  async sendSyncBack(job: Withdrawal, now?: { announced: StoredResource; changes: Readonly<Record<string, unknown>> }): Promise<LinkResult> {
    const announced = now?.announced ?? (await this.services.store.get(job.ri));
    if (!announced || announced.doc.lnk !== job.address || announced.doc.ast !== BI_DIRECTIONAL) return { rsc: RSC.UPDATED };
    const values = now?.changes ?? announced.doc;
    const sent = Object.fromEntries((job.syncBack ?? []).filter((name) => !NOT_SYNCED_BACK.has(name)).map((name) => [name, values[name] ?? null]));
    const anncName = this.services.registry.contentName(announced);
    const originalName = anncName.endsWith('Annc') ? anncName.slice(0, -'Annc'.length) : anncName.replace(/A$/, '');
    const result = await this.send(this.primitive(OPERATION.UPDATE, job.address, { pc: { [originalName]: sent } }));
    if (result.rsc === RSC.UPDATED) this.services.log.info({ event: 'announcement-synced-back', original: job.address, resource: job.ri }, `announced change sent back to ${job.csi}`);
    else this.refused('sync-back', job.csi, job.ri, result);
    return result;
  }

  /** Sends one de-announcement (an outbox job, runWithdrawalJob); the answer decides whether it is tried again. */
  async sendWithdrawal(job: Withdrawal): Promise<LinkResult> {
    const result = await this.send(this.primitive(OPERATION.DELETE, job.address));
    if (result.rsc === RSC.DELETED || result.rsc === RSC.NOT_FOUND) this.services.log.info({ event: 'de-announced', target: job.csi, resource: job.ri, at: job.address }, `de-announced from ${job.csi}`);
    else this.refused('delete', job.csi, job.ri, result);
    return result;
  }
}
