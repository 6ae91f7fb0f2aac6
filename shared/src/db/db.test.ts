import { createDb, migrateLatest } from '.';
import { testDatabase, testLogger, type TestDatabase } from '../testing';

describe('database schema', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await testDatabase();
  });
  afterAll(() => t.drop());

  it('is already at the latest version in a test database, so migrating again applies nothing', async () => {
    expect(await migrateLatest(t.db, t.url, testLogger())).toEqual([]);
  });

  it('lets several instances migrate at once: exactly one applies, none fails', async () => {
    await t.db.raw('drop schema public cascade; create schema public;');
    const pools = Array.from({ length: 4 }, () => createDb({ url: t.url, poolMax: 2 }));
    try {
      const results = await Promise.all(pools.map((db) => migrateLatest(db, t.url, testLogger())));
      const applied = results.filter((r) => r.length > 0);
      expect(applied).toHaveLength(1);
      expect(applied[0]).toContain('0001_foundation');
      const { rows } = await t.db.raw("select count(*)::int as n from information_schema.tables where table_name = 'organizations'");
      expect(rows[0].n).toBe(1);
    } finally {
      await Promise.all(pools.map((db) => db.destroy()));
    }
  });
});
