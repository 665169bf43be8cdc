// Which AE-IDs are registered here, and the credential each is bound to; which registree lists a CSE among its
// descendants. The authenticate stage asks on every request, so answers are cached; deregistration (and every
// change of a <remoteCSE>) drops them here and, through the store's broadcast, in every other process.
import type { ResourceStore, StoredResource } from '../storage/store.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { REGISTRAR_KEY, REMOTE_CSE_TOPIC, remoteCseRi, spellsSAeId } from '../resources/types/remoteCse.js';
import type { LocalIdentity } from '../primitive/identifiers.js';
import type { Clock } from '../pipeline/clock.js';

const TOPIC = 'registrations';
const CACHE_LIMIT = 100_000;
/** Document key of an AE holding the Credential-ID its registration was bound to. */
export const CREDENTIAL_KEY = '__credential';

export interface Registration {
  /** Credential-ID the AE registered with; requests for it must present the same credential. */
  readonly credentialId?: string;
}

export class RegisteredAes {
  private readonly known = new Map<string, Registration>();
  private generation = 0;

  private readonly listeners = new Set<(aei: string) => void>();

  constructor(private readonly store: ResourceStore) {
    store.subscribe(TOPIC, (aei) => {
      this.drop(aei);
      for (const listener of this.listeners) listener(aei);
    });
    // Deregistrations in other processes may have gone unheard: every registration is read again.
    store.onBroadcastsMissed?.(() => {
      this.generation++;
      this.known.clear();
    });
  }

  /** Called with the AE-ID of every deregistered AE, in every process (e.g. to forget its connections). */
  onDeregistered(listener: (aei: string) => void): void {
    this.listeners.add(listener);
  }

  async lookup(aei: string): Promise<Registration | undefined> {
    const cached = this.known.get(aei);
    if (cached) return cached;
    const generation = this.generation;
    const ae = await this.store.get(aei);
    if (ae?.ty !== RESOURCE_TYPE.AE) return undefined;
    const credential = ae.doc[CREDENTIAL_KEY];
    const registration: Registration = typeof credential === 'string' ? { credentialId: credential } : {};
    if (generation === this.generation) {
      if (this.known.size >= CACHE_LIMIT) this.known.clear();
      this.known.set(aei, registration);
    }
    return registration;
  }

  /** Called for every deleted AE (deregistration or expiry). */
  async deregistered(aei: string, via: ResourceStore = this.store): Promise<void> {
    this.drop(aei);
    await via.broadcast(TOPIC, aei);
  }

  private drop(aei: string): void {
    this.generation++;
    this.known.delete(aei);
  }
}

/**
 * The registration an originator stands for now: the seq of the AE registered here under that AE-ID (never reused by a
 * later registration of it); undefined for any other originator. What the CSE granted or recorded for one registration
 * (a DAS grant, the creator of what an AE left outside its subtree) is compared with it. `store` is the one to read
 * through: inside a transaction, the transaction's.
 */
export async function registrationSeq(store: Pick<ResourceStore, 'get'>, originator: string): Promise<number | undefined> {
  if (originator === '' || originator.includes('/')) return undefined;
  const ae = await store.get(originator);
  return ae?.ty === RESOURCE_TYPE.AE ? ae.seq : undefined;
}

/** Document key of the registrar's <remoteCSE> here: the descendantCSEs the registrar accepted (DescendantCses). */
export const ACCEPTED_DESCENDANTS_KEY = '__acceptedDcse';
/** Beside it: when the registrar's answer that accepted them was had (epoch ms), so a later answer wins. */
export const ACCEPTED_AT_KEY = '__acceptedAt';

/** Refused descendant CSE-IDs one process remembers at most. */
const DISOWNED_MAX = 10_000;

/** <remoteCSE> resources read per page when the index of descendants is built. */
const PAGE = 500;
/**
 * Longest an index is used without a change being heard of: a broadcast lost while a process's LISTEN connection
 * was down (PostgreSQL) leaves a CSE added to a registree's descendantCSEs unknown for this long at most.
 */
export const DESCENDANTS_MAX_AGE_MS = 30_000;

/** What the index holds: descendant CSE-ID → registree, and each registree's descendants as the index read them. */
interface DescendantIndex {
  readonly registreeOf: ReadonlyMap<string, string>;
  readonly listedBy: ReadonlyMap<string, string>;
}

/** A registree's descendantCSEs as a comparable key; '' for none (or for what is no registree alive at `now`). */
function listedKey(csr: StoredResource | undefined, cseId: string, now: number): string {
  if (csr?.ty !== RESOURCE_TYPE.remoteCSE || csr.pi !== cseId || csr.doc[REGISTRAR_KEY] === true || !Array.isArray(csr.doc.dcse)) return '';
  if (csr.et !== undefined && csr.et <= now) return '';
  return (csr.doc.dcse as unknown[])
    .filter((id): id is string => typeof id === 'string')
    .sort()
    .join(' ');
}

/**
 * Which registree (a CSE registered here, not the registrar) lists a CSE-ID in its descendantCSEs (dcse): that CSE
 * is known here, and requests for it go down through the registree [TS-0004 §7.3.2.6]. A CSE that is not
 * registered here asks this on every request (authenticate), so an index of all registrees' dcse is kept instead
 * of reading every <remoteCSE> each time. Every create, update and delete of a <remoteCSE> is broadcast
 * (REMOTE_CSE_TOPIC, delivered on commit in every process): the next look-up reads that one <remoteCSE> again, and
 * reads the whole index again only if its dcse is not what the index holds (registrees send theirs unchanged at
 * every check); anything else it cannot tell drops the index. It is read again at the latest after
 * DESCENDANTS_MAX_AGE_MS. The index only says where to look: the registree it names is read on every look-up and must
 * still be alive and list the CSE, so a descendant removed (or a registree gone) counts at once, in any process.
 */
export class DescendantCses {
  private index: DescendantIndex | undefined;
  private builtAt = 0;
  private reading: Promise<DescendantIndex> | undefined;
  /** Bumped by every invalidation: an index read before one must not be kept after it. */
  private generation = 0;
  /** <remoteCSE> resources changed since (or while) the index was read, to compare with it before it is used. */
  private readonly changed = new Set<string>();
  private comparing: Promise<void> | undefined;

  constructor(
    private readonly store: ResourceStore,
    private readonly self: LocalIdentity,
    private readonly clock: Clock,
  ) {
    store.subscribe(REMOTE_CSE_TOPIC, (payload) => this.heard(payload));
    store.onBroadcastsMissed?.(() => {
      this.invalidate();
      this.acceptedGeneration++;
      this.accepted = undefined;
    });
  }

  /**
   * CSE-IDs this CSE's registrar refused as its descendants (remote/registration.ts): another part of the tree has
   * them, so a registree here listing one is not routed to for it, nor may relay for it. Kept in this process until
   * it ends (the registrar refuses them again at the next check after a restart); bounded.
   */
  private readonly refusedByRegistrar = new Set<string>();

  disown(csi: string): void {
    if (this.refusedByRegistrar.size >= DISOWNED_MAX) return;
    this.refusedByRegistrar.add(csi);
  }

  disowned(csi: string): boolean {
    return this.refusedByRegistrar.has(csi);
  }

  /**
   * On a CSE with a registrar, the resource ID of the registrar's <remoteCSE> here, whose ACCEPTED_DESCENDANTS_KEY
   * holds the descendants the registrar last accepted in this CSE's registration (remote/registration.ts writes it).
   * A registree's descendantCSEs are its own word; this CSE knows only its own branch, and a name from elsewhere in
   * the tree (a sibling branch, the registrar's registrar, …) looks like any other until the registrar refuses it.
   * So a name counts only once the registrar has taken it: until then it is not routed to, relayed for, nor has its
   * announcements dropped with the registree. Undefined on the root of a tree, which has no one to ask.
   */
  private registrarRi: string | undefined;
  private accepted: { readonly names: ReadonlySet<string>; readonly readAt: number } | undefined;
  /** Bumped whenever the registrar's <remoteCSE> changes: a list read before must not be kept after. */
  private acceptedGeneration = 0;

  /** Called once there is a registrar: from then on only the names it accepted count (none until it answers). */
  awaitRegistrar(registrarCsi: string): void {
    this.registrarRi = remoteCseRi(registrarCsi);
  }

  /** The names the registrar accepted (read from the store, kept until it changes or 30 s); undefined: no registrar. */
  async acceptedNames(): Promise<ReadonlySet<string> | undefined> {
    const ri = this.registrarRi;
    if (ri === undefined) return undefined;
    const kept = this.accepted;
    if (kept && this.clock.now() - kept.readAt < DESCENDANTS_MAX_AGE_MS) return kept.names;
    const generation = this.acceptedGeneration;
    const csr = await this.store.get(ri);
    const listed = csr?.ty === RESOURCE_TYPE.remoteCSE && csr.doc[REGISTRAR_KEY] === true ? csr.doc[ACCEPTED_DESCENDANTS_KEY] : undefined;
    const names: ReadonlySet<string> = new Set(Array.isArray(listed) ? listed.filter((n): n is string => typeof n === 'string') : []);
    if (generation === this.acceptedGeneration) this.accepted = { names, readAt: this.clock.now() };
    return names;
  }

  /**
   * Whether a registree may stand for `csi`: not an S-AE-ID, not refused by the registrar, and accepted by it where
   * there is one (`accepted` as acceptedNames() answered).
   */
  mayStandFor(csi: string, accepted: ReadonlySet<string> | undefined): boolean {
    if (spellsSAeId(csi)) return false;
    if (this.refusedByRegistrar.has(csi)) return false;
    return accepted === undefined || accepted.has(csi);
  }

  /** The <remoteCSE> of the registree whose descendantCSEs list `csi`, alive now; undefined: none. */
  async registreeListing(csi: string): Promise<StoredResource | undefined> {
    if (!this.mayStandFor(csi, await this.acceptedNames())) return undefined;
    const ri = (await this.current()).registreeOf.get(csi);
    if (ri === undefined) return undefined;
    const csr = await this.store.get(ri);
    if (csr?.ty !== RESOURCE_TYPE.remoteCSE || csr.pi !== this.self.cseId || csr.doc[REGISTRAR_KEY] === true) return undefined;
    if (csr.et !== undefined && csr.et <= this.clock.now()) return undefined;
    return Array.isArray(csr.doc.dcse) && (csr.doc.dcse as unknown[]).includes(csi) ? csr : undefined;
  }

  invalidate(): void {
    this.generation++;
    this.index = undefined;
    this.reading = undefined;
  }

  private heard(payload: string): void {
    const [what, ri] = payload.split(' ');
    if (ri !== undefined && ri === this.registrarRi) {
      this.acceptedGeneration++;
      this.accepted = undefined;
    }
    // A deleted registree's entries name a <remoteCSE> that is gone: look-ups find nothing there already.
    if (what === 'removed' || what === 'dropped') return;
    if (what === 'changed' && ri) this.changed.add(ri);
    else this.invalidate();
  }

  private async current(): Promise<DescendantIndex> {
    // Twice at most: a change found on comparing makes the index be read again, once, for this look-up.
    for (let round = 0; ; round++) {
      const index = await this.built();
      if (this.changed.size === 0 || round === 2) return index;
      this.comparing ??= this.compare(index).finally(() => {
        this.comparing = undefined;
      });
      await this.comparing;
    }
  }

  /** Drops the index if a changed <remoteCSE> no longer lists what the index holds for it. */
  private async compare(index: DescendantIndex): Promise<void> {
    const now = this.clock.now();
    const changed = [...this.changed];
    // Taken off first: a change heard while they are read is compared again next time.
    this.changed.clear();
    for (const ri of changed) {
      if (listedKey(await this.store.get(ri), this.self.cseId, now) !== (index.listedBy.get(ri) ?? '')) {
        this.invalidate();
        return;
      }
    }
  }

  private built(): Promise<DescendantIndex> {
    const now = this.clock.now();
    if (this.index !== undefined && now - this.builtAt < DESCENDANTS_MAX_AGE_MS) return Promise.resolve(this.index);
    // Callers that ask while the index is being read share that one read.
    if (this.reading === undefined) {
      const generation = this.generation;
      // What changed before this read began, it reads as changed.
      const covered = [...this.changed];
      const reading = this.read(now)
        .then((index) => {
          if (generation === this.generation) {
            this.index = index;
            this.builtAt = now;
            for (const ri of covered) this.changed.delete(ri);
          }
          return index;
        })
        .finally(() => {
          if (this.reading === reading) this.reading = undefined;
        });
      this.reading = reading;
    }
    return this.reading;
  }

  private async read(now: number): Promise<DescendantIndex> {
    const registreeOf = new Map<string, string>();
    const listedBy = new Map<string, string>();
    for (let offset = 0; ; offset += PAGE) {
      const page = await this.store.children(this.self.cseId, { ty: RESOURCE_TYPE.remoteCSE, aliveAt: now, limit: PAGE, offset });
      for (const csr of page) {
        const key = listedKey(csr, this.self.cseId, now);
        if (key === '') continue;
        listedBy.set(csr.ri, key);
        // The oldest registree listing a CSE wins, as the scan this replaces found it (creation refuses a second).
        for (const id of key.split(' ')) if (!registreeOf.has(id)) registreeOf.set(id, csr.ri);
      }
      if (page.length < PAGE) return { registreeOf, listedBy };
    }
  }
}
