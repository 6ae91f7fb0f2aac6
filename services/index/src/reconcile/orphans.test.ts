import { mkdtemp, rm, utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createFsBlobStore, type BlobStore } from '@hub/shared/blob';
import { createOrganization } from '@hub/shared/org';
import { testDatabase, testLogger, type TestDatabase } from '@hub/shared/testing';
import { collectOrphanObjects } from '.';

describe('collecting objects without a row', () => {
  let t: TestDatabase;
  let root: string;
  let blob: BlobStore;
  beforeAll(async () => {
    t = await testDatabase();
    root = await mkdtemp(path.join(os.tmpdir(), 'hub-orphans-'));
    blob = createFsBlobStore({ root });
    const org = await createOrganization(t.db, { code: 'H1', name: '一院', kind: 'hospital' });
    await blob.put('dicom/1.2/1.2.3/1.2.3.4/aa.dcm', Buffer.from('described'));
    await t.db('accepted_objects').insert({ kind: 'dicom', organization_id: org.id, identity: '1.2.3.4', sha256: 'a'.repeat(64), size: 9, blob_key: 'dicom/1.2/1.2.3/1.2.3.4/aa.dcm', source: 'test', summary: {} });
    await blob.put('dicom/1.2/1.2.3/1.2.3.5/bb.dcm', Buffer.from('orphan: the door died before its row'));
    await blob.put('dicom/1.2/1.2.3/1.2.3.6/cc.dcm', Buffer.from('young: its row may be on the way'));
    const old = new Date(Date.now() - 3 * 3600_000);
    for (const key of ['dicom/1.2/1.2.3/1.2.3.4/aa.dcm', 'dicom/1.2/1.2.3/1.2.3.5/bb.dcm']) await utimes(path.join(root, key), old, old);
  });
  afterAll(async () => {
    await t.drop();
    await rm(root, { recursive: true, force: true });
  });

  it('reports without removing on a dry run', async () => {
    const report = await collectOrphanObjects({ db: t.db, blob, log: testLogger() }, { prefixes: ['dicom/'], olderThanMs: 3600_000, dryRun: true });
    expect(report).toEqual({ examined: 3, orphans: ['dicom/1.2/1.2.3/1.2.3.5/bb.dcm'], removed: 0 });
    expect(await blob.head('dicom/1.2/1.2.3/1.2.3.5/bb.dcm')).not.toBeNull();
  });

  it('removes only old objects that no row describes', async () => {
    const report = await collectOrphanObjects({ db: t.db, blob, log: testLogger() }, { prefixes: ['dicom/'], olderThanMs: 3600_000 });
    expect(report.removed).toBe(1);
    expect(await blob.head('dicom/1.2/1.2.3/1.2.3.5/bb.dcm')).toBeNull();
    expect(await blob.head('dicom/1.2/1.2.3/1.2.3.4/aa.dcm')).not.toBeNull();
    expect(await blob.head('dicom/1.2/1.2.3/1.2.3.6/cc.dcm')).not.toBeNull();
  });
});
