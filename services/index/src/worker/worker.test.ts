import { createFsBlobStore } from '@hub/shared/blob';
import { badInput } from '@hub/shared/errors';
import { createOrganization } from '@hub/shared/org';
import { testDatabase, testLogger, TEST_ID_HASH_SECRET, type TestDatabase } from '@hub/shared/testing';
import os from 'node:os';
import { ACCEPTED_CHANNEL, createIndexWorker, lockOrder, type AcceptedObject, type IndexBatchHandler, type IndexHandler } from '.';

describe('index workers', () => {
  let t: TestDatabase;
  let org: number;
  beforeAll(async () => {
    t = await testDatabase();
    org = (await createOrganization(t.db, { code: 'H1', name: '一院', kind: 'hospital' })).id;
    await t.db.raw('create table indexed_probe (accepted_id bigint primary key, identity text)');
  });
  afterAll(() => t.drop());

  let n = 0;
  const accept = async (identity: string, summary: Record<string, unknown> = {}, kind = 'hl7v2') => {
    const [row] = await t.db('accepted_objects')
      .insert({ kind, organization_id: org, identity, sha256: (n++).toString(16).padStart(64, '0'), size: 10, blob_key: `k/${identity}`, source: 'test', summary })
      .returning('id');
    await t.db.raw(`select pg_notify(?, 'hl7v2')`, [ACCEPTED_CHANNEL]);
    return row.id as number;
  };
  const ctx = { blob: createFsBlobStore({ root: os.tmpdir() }), log: testLogger(), idHashSecret: TEST_ID_HASH_SECRET };
  const worker = (handler: IndexHandler, loops = 1) => createIndexWorker({ db: t.db, databaseUrl: t.url, ctx, handlers: { hl7v2: handler }, loops, batchSize: 7, pollMs: 60_000 });
  const record: IndexHandler = async (trx, o) => {
    if (o.identity.startsWith('bad')) throw badInput('no patient identifier', { location: 'PID-3' });
    if (o.identity.startsWith('flaky') && o.attempts === 0) throw new Error('connection reset');
    await trx('indexed_probe').insert({ accepted_id: o.id, identity: o.identity });
  };

  it('indexes each accepted object exactly once across concurrent workers, woken by the notification', async () => {
    const ids = await Promise.all(Array.from({ length: 40 }, (_, i) => accept(`ok-${i}`)));
    const w = worker(record, 3);
    await w.start();
    try {
      for (let i = 0; i < 100 && (await t.db('accepted_objects').whereIn('id', ids).where({ state: 'indexed' }).count('* as c').first())!.c !== 40; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await w.stop();
    }
    expect(await t.db('indexed_probe').whereIn('accepted_id', ids).count('* as c').first()).toEqual({ c: 40 });
  });

  it('keeps a bad object as failed with its error, rolls back its partial rows, and goes on with the rest', async () => {
    const bad = await accept('bad-1');
    const good = await accept('ok-after-bad');
    // writes a row, then finds the object bad: the row must not survive
    const failing: IndexHandler = async (trx, o) => {
      await trx('indexed_probe').insert({ accepted_id: o.id, identity: o.identity });
      if (o.identity.startsWith('bad')) throw badInput('no patient identifier', { location: 'PID-3' });
    };
    await worker(failing).drain();
    expect(await t.db('accepted_objects').where({ id: bad }).first('state', 'error', 'attempts')).toEqual({ state: 'failed', error: 'no patient identifier', attempts: 1 });
    expect(await t.db('indexed_probe').where({ accepted_id: bad }).first()).toBeUndefined();
    expect(await t.db('accepted_objects').where({ id: good }).first('state')).toEqual({ state: 'indexed' });
  });

  it('retries an object whose indexing failed for a passing reason', async () => {
    const flaky = await accept('flaky-1');
    const w = worker(record);
    await w.drain();
    const waiting = await t.db('accepted_objects').where({ id: flaky }).first('state', 'attempts', 'error', t.db.raw('retry_at > now() as later'));
    expect(waiting).toEqual({ state: 'accepted', attempts: 1, error: 'connection reset', later: true });
    await t.db('accepted_objects').where({ id: flaky }).update({ retry_at: t.db.raw(`now() - interval '1 second'`) });
    await w.drain();
    expect(await t.db('accepted_objects').where({ id: flaky }).first('state', 'attempts', 'error')).toEqual({ state: 'indexed', attempts: 2, error: null });
  });

  it('indexes a run of one kind with its batch handler in one go, and one by one when that fails', async () => {
    const ids = [await accept('set-1'), await accept('set-2'), await accept('set-3')];
    const seen: number[][] = [];
    const batch: IndexBatchHandler = async (trx, objects) => {
      seen.push(objects.map((o) => o.id));
      for (const o of objects) await trx('indexed_probe').insert({ accepted_id: o.id, identity: o.identity });
    };
    const w = createIndexWorker({ db: t.db, databaseUrl: t.url, ctx, handlers: { hl7v2: record }, batchHandlers: { hl7v2: batch }, loops: 1, batchSize: 50, pollMs: 60_000 });
    await w.drain();
    expect(seen).toEqual([ids]);
    expect(await t.db('accepted_objects').whereIn('id', ids).pluck('state')).toEqual(['indexed', 'indexed', 'indexed']);

    // a batch that fails is rolled back whole, then its objects go one by one: the bad one fails alone
    const more = [await accept('set-4'), await accept('bad-set-5'), await accept('set-6')];
    const failing: IndexBatchHandler = async (trx, objects) => {
      for (const o of objects) await trx('indexed_probe').insert({ accepted_id: o.id, identity: o.identity });
      throw new Error('one of them is bad');
    };
    await createIndexWorker({ db: t.db, databaseUrl: t.url, ctx, handlers: { hl7v2: record }, batchHandlers: { hl7v2: failing }, loops: 1, batchSize: 50, pollMs: 60_000 }).drain();
    expect(await t.db('accepted_objects').whereIn('id', more).orderBy('id').pluck('state')).toEqual(['indexed', 'failed', 'indexed']);
    expect(await t.db('indexed_probe').whereIn('accepted_id', more).orderBy('accepted_id').pluck('identity')).toEqual(['set-4', 'set-6']);
  });

  it('indexes what a batch handler leaves one by one after it, and keeps the rest of its batch', async () => {
    const ids = [await accept('left-1'), await accept('bad-left-2'), await accept('left-3')];
    const leaving: IndexBatchHandler = async (trx, objects) => {
      for (const o of objects.filter((o) => !o.identity.startsWith('bad'))) await trx('indexed_probe').insert({ accepted_id: o.id, identity: `${o.identity} (batch)` });
      return objects.filter((o) => o.identity.startsWith('bad'));
    };
    await createIndexWorker({ db: t.db, databaseUrl: t.url, ctx, handlers: { hl7v2: record }, batchHandlers: { hl7v2: leaving }, loops: 1, batchSize: 50, pollMs: 60_000 }).drain();
    expect(await t.db('accepted_objects').whereIn('id', ids).orderBy('id').select('state', 'error')).toEqual([
      { state: 'indexed', error: null },
      { state: 'failed', error: 'no patient identifier' },
      { state: 'indexed', error: null },
    ]);
    expect(await t.db('indexed_probe').whereIn('accepted_id', ids).orderBy('accepted_id').pluck('identity')).toEqual(['left-1 (batch)', 'left-3 (batch)']);
  });

  it('orders a claimed batch by kind, then study or patient, keeping the accepted order within one', () => {
    const object = (id: number, kind: AcceptedObject['kind'], summary: Record<string, unknown>): AcceptedObject => ({ id, kind, organizationId: 1, identity: String(id), sha256: '', size: 1, blobKey: 'k', blobOffset: null, source: 't', summary, attempts: 0, receivedAt: new Date() });
    const lab = (id: number, localId: string) => object(id, 'hl7v2', { groups: [{ patient: { localId } }] });
    const ordered = lockOrder([lab(1, 'M9'), object(2, 'dicom', { studyInstanceUid: '1.2.9' }), lab(3, 'M1'), lab(4, 'M9'), object(5, 'dicom', { studyInstanceUid: '1.2.1' }), lab(6, 'M1'), object(7, 'fhir', {})]);
    expect(ordered.map((o) => o.id)).toEqual([5, 2, 7, 3, 6, 1, 4]);
  });
});
