// Chooses the storage backend from configuration.
import type { Config } from '../config/config.js';
import { openPostgresStore } from './postgres.js';
import { openSqliteStore } from './sqlite.js';
import type { ResourceStore } from './store.js';
import type { Logger } from '../log/logger.js';

export async function openStore(config: Config, log?: Logger): Promise<ResourceStore> {
  switch (config.storage.backend) {
    case 'sqlite':
      return openSqliteStore({
        path: config.storage.path,
        durability: config.storage.durability,
        onDamagedWal: (damage) =>
          log?.error(
            { event: 'sqlite-wal-damaged', validFrames: damage.validFrames, commitsLost: damage.commitsLost, keptAt: damage.keptAt },
            `the write-ahead log of ${config.storage.path} is damaged: ${damage.commitsLost} committed transactions behind the damage cannot be replayed; the log was kept at ${damage.keptAt}`,
          ),
        onWalUnchecked: (reason) => log?.warn({ event: 'sqlite-wal-unchecked', reason }, `the write-ahead log of ${config.storage.path} could not be checked before it was replayed: ${reason}`),
      });
    case 'postgres':
      return openPostgresStore({ url: config.storage.url, poolSize: config.storage.poolSize, waitTimeoutMs: config.storage.waitTimeout * 1000 });
  }
}
