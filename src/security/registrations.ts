// Which AE-IDs are registered here. The authenticate stage asks on every request, so positive answers are
// cached; deregistration drops them here and, through the store's broadcast, in every other process.
import type { ResourceStore } from '../storage/store.js';
import { RESOURCE_TYPE } from '../resources/types.js';

const TOPIC = 'registrations';
const CACHE_LIMIT = 100_000;

export class RegisteredAes {
  private readonly known = new Set<string>();
  private generation = 0;

  constructor(private readonly store: ResourceStore) {
    store.subscribe(TOPIC, (aei) => this.drop(aei));
  }

  async isRegistered(aei: string): Promise<boolean> {
    if (this.known.has(aei)) return true;
    const generation = this.generation;
    const ae = await this.store.get(aei);
    const registered = ae?.ty === RESOURCE_TYPE.AE;
    if (registered && generation === this.generation) {
      if (this.known.size >= CACHE_LIMIT) this.known.clear();
      this.known.add(aei);
    }
    return registered;
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
