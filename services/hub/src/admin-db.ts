import type { HubConfig } from '@hub/shared/config';
import { createDb, migrateLatest, startEmbeddedPostgres, type Knex } from '@hub/shared/db';
import pg from 'pg';
import type { Logger } from '@hub/shared/log';
import { ensureLocalSecrets } from '@hub/shared/runtime';

/**
 * The admin tool's database: the configured one, or the embedded PostgreSQL — the running
 * hub's when it is up, otherwise started here for the duration of the command.
 */
export async function openAdminDatabase(config: HubConfig, log: Logger): Promise<{ db: Knex; close(): Promise<void> }> {
  if (config.database.mode === 'external') {
    const db = createDb({ url: config.database.url, poolMax: 2, applicationName: 'hub admin' });
    await migrateLatest(db, config.database.url, log);
    return { db, close: () => db.destroy() };
  }
  const { postgresPassword } = await ensureLocalSecrets(config.dataDir);
  const runningUrl = `postgres://hub:${encodeURIComponent(postgresPassword)}@127.0.0.1:${config.database.port}/postgres`;
  if (await accepts(runningUrl)) {
    const db = createDb({ url: runningUrl, poolMax: 2, applicationName: 'hub admin' });
    await migrateLatest(db, runningUrl, log);
    return { db, close: () => db.destroy() };
  }
  const embedded = await startEmbeddedPostgres({ dir: config.database.dir, port: config.database.port, password: postgresPassword, log });
  const db = createDb({ url: embedded.url, poolMax: 2, applicationName: 'hub admin' });
  await migrateLatest(db, embedded.url, log);
  return {
    db,
    async close() {
      await db.destroy();
      await embedded.stop();
    },
  };
}

async function accepts(url: string): Promise<boolean> {
  const probe = new pg.Client({ connectionString: url });
  try {
    await probe.connect();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') return false;
    throw err;
  } finally {
    await probe.end().catch(() => undefined);
  }
}
