// Chooses the storage backend from configuration.
import type { Config } from '../config/config.js';
import { openPostgresStore } from './postgres.js';
import { openSqliteStore } from './sqlite.js';
import type { ResourceStore } from './store.js';

export async function openStore(config: Config): Promise<ResourceStore> {
  switch (config.storage.backend) {
    case 'sqlite':
      return openSqliteStore({ path: config.storage.path, durability: config.storage.durability });
    case 'postgres':
      return openPostgresStore({ url: config.storage.url, poolSize: config.storage.poolSize, waitTimeoutMs: config.storage.waitTimeout * 1000 });
  }
}
