import { openSqliteStore } from '../../src/storage/sqlite.js';
import { tempDatabase } from '../harness.js';
import { storeContract } from './contract.js';

storeContract('SQLite in memory', () => Promise.resolve(openSqliteStore({ path: ':memory:', durability: 'normal' })));
storeContract('SQLite file, full durability', () => Promise.resolve(openSqliteStore({ path: tempDatabase(), durability: 'full' })));
