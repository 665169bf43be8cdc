// Which AE-IDs are registered here, and the credential each is bound to; which registree lists a CSE among its
// descendants. The authenticate stage asks on every request, so answers are cached; deregistration (and every
// change of a <remoteCSE>) drops them here and, through the store's broadcast, in every other process.
import type { ResourceStore, StoredResource } from '../storage/store.js';
import { RESOURCE_TYPE } from '../resources/types.js';
import { REGISTRAR_KEY, REMOTE_CSE_TOPIC } from '../resources/types/remoteCse.js';
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

/** <remoteCSE> resources read per page when the index of descendants is built. */
const PAGE = 500;
/**
 * Longest an index is used without a change being heard of: a broadcast lost while a process's LISTEN connection
 * was down (PostgreSQL) leaves a CSE added to a registree's descendantCSEs unknown for this long at most.
 */
export const DESCENDANTS_MAX_AGE_MS = 30_000;

/**
 * Which registree (a CSE registered here, not the registrar) lists a CSE-ID in its descendantCSEs (dcse): that CSE
 * is known here, and requests for it go down through the registree [TS-0004 §7.3.2.6]. A CSE that is not
 * registered here asks this on every request (authenticate), so an index of all registrees' dcse is kept instead
 * of reading every <remoteCSE> each time. Every create, update and delete of a <remoteCSE> drops it (REMOTE_CSE_TOPIC,
 * delivered on commit in every process); it is read again, once, when next asked, and at the latest after
 * DESCENDANTS_MAX_AGE_MS. The index only says where to look: the registree it names is read each time and must
 * still be alive and list the CSE, so a descendant removed (or a registree gone) counts at once, in any process.
 */
export class DescendantCses {
  /** Descendant CSE-ID → resource ID of the registree's <remoteCSE> that lists it. */
  private index: ReadonlyMap<string, string> | undefined;
  private builtAt = 0;
  private reading: Promise<ReadonlyMap<string, string>> | undefined;
  /** Bumped by every change: an index read before one must not be kept after it. */
  private generation = 0;

  constructor(
    private readonly store: ResourceStore,
    private readonly self: LocalIdentity,
    private readonly clock: Clock,
  ) {
    store.subscribe(REMOTE_CSE_TOPIC, () => this.invalidate());
  }

  /** The <remoteCSE> of the registree whose descendantCSEs list `csi`, alive now; undefined: none. */
  async registreeListing(csi: string): Promise<StoredResource | undefined> {
    const ri = (await this.current()).get(csi);
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

  private current(): Promise<ReadonlyMap<string, string>> {
    const now = this.clock.now();
    if (this.index !== undefined && now - this.builtAt < DESCENDANTS_MAX_AGE_MS) return Promise.resolve(this.index);
    // Callers that ask while the index is being read share that one read.
    if (this.reading === undefined) {
      const generation = this.generation;
      const reading = this.read(now)
        .then((index) => {
          if (generation === this.generation) {
            this.index = index;
            this.builtAt = now;
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

  private async read(now: number): Promise<ReadonlyMap<string, string>> {
    const index = new Map<string, string>();
    for (let offset = 0; ; offset += PAGE) {
      const page = await this.store.children(this.self.cseId, { ty: RESOURCE_TYPE.remoteCSE, aliveAt: now, limit: PAGE, offset });
      for (const csr of page) {
        if (csr.doc[REGISTRAR_KEY] === true || !Array.isArray(csr.doc.dcse)) continue;
        // The oldest registree listing a CSE wins, as the scan this replaces found it (creation refuses a second).
        for (const id of csr.doc.dcse as unknown[]) if (typeof id === 'string' && !index.has(id)) index.set(id, csr.ri);
      }
      if (page.length < PAGE) return index;
    }
  }
}
