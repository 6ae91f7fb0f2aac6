import type { Knex } from 'knex';
import pg from 'pg';
import type { Logger } from '../log';
import { migrations, type Migration } from './migrations';

const source: Knex.MigrationSource<Migration> = {
  // by name, so the order does not depend on where each was added to the list
  getMigrations: async () => [...migrations].sort((a, b) => a.name.localeCompare(b.name)),
  getMigrationName: (m) => m.name,
  getMigration: async (m) => m,
};

// One fixed key for "the hub's schema is being migrated"; any 64-bit number unique to us.
const MIGRATION_LOCK = 0x68756221; // "hub!"

/**
 * Brings the schema to the latest version. Several instances starting together queue on a
 * PostgreSQL advisory lock held on a connection of its own, so exactly one migrates and the
 * others find the work done.
 */
export async function migrateLatest(db: Knex, url: string, log: Logger): Promise<string[]> {
  const lock = new pg.Client({ connectionString: url, application_name: 'regional-results-hub migrate' });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const [, applied] = (await db.migrate.latest({ migrationSource: source })) as [number, string[]];
    if (applied.length > 0) log.info({ migrations: applied }, 'database schema migrated');
    return applied;
  } finally {
    await lock.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await lock.end();
  }
}
