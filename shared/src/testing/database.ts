import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDb, type Knex } from '../db';
import { createLogger, type Logger } from '../log';
import { TEMPLATE_DATABASE, withDatabase } from './database-url';


export interface TestDatabase {
  db: Knex;
  url: string;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const url = process.env.HUB_TEST_ADMIN_URL;
  if (!url) throw new Error('HUB_TEST_ADMIN_URL is not set: run tests through jest, whose globalSetup starts PostgreSQL');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh, fully migrated database of its own for one test file. */
export async function testDatabase(): Promise<TestDatabase> {
  const name = `hub_test_${randomBytes(6).toString('hex')}`;
  await admin(async (client) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(`create database ${name} template ${TEMPLATE_DATABASE}`);
        return;
      } catch (err) {
        // Two files copying the template at the same instant can collide; a retry settles it.
        if (attempt >= 5 || !/being accessed by other users/.test(String(err))) throw err;
        await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
      }
    }
  });
  const url = withDatabase(process.env.HUB_TEST_ADMIN_URL!, name);
  const db = createDb({ url, poolMax: 5 });
  return {
    db,
    url,
    async drop() {
      await db.destroy();
      await admin((client) => client.query(`drop database if exists ${name} with (force)`));
    },
  };
}

/** A logger that keeps quiet unless a test run asks for output (HUB_TEST_LOG=debug). */
export function testLogger(): Logger {
  return createLogger({ level: process.env.HUB_TEST_LOG ?? 'silent' });
}
