import { chmod, mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createDb, migrateLatest, startEmbeddedPostgres, type EmbeddedPostgres } from '../db';
import { createLogger } from '../log';
import { TEMPLATE_DATABASE, withDatabase } from './database-url';

declare global {
  var __hubTestPostgres: { embedded?: EmbeddedPostgres; dir?: string } | undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * One PostgreSQL for the whole run: the embedded one in a temporary folder, or the server
 * DATABASE_URL names. The schema is migrated once into a template database; each test file
 * then gets a fresh copy of it (see testDatabase), so files never see each other's rows.
 */
export default async function globalSetup(): Promise<void> {
  const log = createLogger({ level: 'warn' });
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hub-test-pg-'));
    // PostgreSQL runs as its own user when the tests run as root: it must reach the folder.
    await chmod(dir, 0o755);
    const embedded = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), port: await freePort(), password: 'hub-test', log });
    globalThis.__hubTestPostgres = { embedded, dir };
    adminUrl = embedded.url;
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${TEMPLATE_DATABASE} with (force)`);
    await admin.query(`create database ${TEMPLATE_DATABASE}`);
  } finally {
    await admin.end();
  }
  const templateUrl = withDatabase(adminUrl, TEMPLATE_DATABASE);
  const db = createDb({ url: templateUrl, poolMax: 2 });
  try {
    await migrateLatest(db, templateUrl, log);
  } finally {
    await db.destroy();
  }
  process.env.HUB_TEST_ADMIN_URL = adminUrl;
}
