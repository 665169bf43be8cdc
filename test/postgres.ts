// A PostgreSQL database of its own for each test run, on the server CI starts (127.0.0.1:5432).
import pg from 'pg';
import { randomBytes } from 'node:crypto';

const SERVER = process.env.WARDEN_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432';

export interface TestDatabase {
  readonly url: string;
  /** One statement on a connection of its own, for tests that look at what the CSE stored. */
  query(sql: string, args?: unknown[]): Promise<Array<Record<string, unknown>>>;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `warden_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = `${SERVER}/${name}`;
  return {
    url,
    async query(sql, args = []) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query(sql, args)).rows as Array<Record<string, unknown>>;
      } finally {
        await client.end();
      }
    },
    async drop() {
      const client = new pg.Client({ connectionString: `${SERVER}/postgres` });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
