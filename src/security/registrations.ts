// Which AE-IDs are registered here, and the credential each is bound to. The authenticate stage asks on
// every request, so answers are cached; deregistration drops them here and, through the store's broadcast,
// in every other process.
import type { ResourceStore } from '../storage/store.js';
import { RESOURCE_TYPE } from '../resources/types.js';

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
