import { mkdtemp, rm, utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createFsBlobStore, type BlobStore } from '@hub/shared/blob';
import { createOrganization } from '@hub/shared/org';
import { testDatabase, testLogger, type TestDatabase } from '@hub/shared/testing';
import { collectOrphanObjects } from '../reconcile';

/**
 * HL7 v2 originals accepted together share one blob, a segment (services/ingest
 * accept-batch.ts); each row names the segment and its byte range. The reconciler matches
 * rows by blob key, so a segment is described while any row names it.
 */
describe('segments of lab originals and the reconciler', () => {
  let t: TestDatabase;
  let root: string;
  let blob: BlobStore;
  beforeAll(async () => {
    t = await testDatabase();
    root = await mkdtemp(path.join(os.tmpdir(), 'hub-segments-'));
    blob = createFsBlobStore({ root });
  });
  afterAll(async () => {
    await t.drop();
    await rm(root, { recursive: true, force: true });
  });

  it('keeps a segment any row names, whatever the offset, and collects one no row names (a batch that died before its rows committed)', async () => {
    const org = await createOrganization(t.db, { code: 'H1', name: '一院', kind: 'hospital' });
    const described = 'hl7v2/H1/2024-03-15/seg-20240315T020000000Z-aaaaaaaaaaaa.mllp';
    const orphan = 'hl7v2/H1/2024-03-15/seg-20240315T020000100Z-bbbbbbbbbbbb.mllp';
    await blob.put(described, Buffer.from('\x0bMSH|1\x1c\r\x0bMSH|2\x1c\r'));
    await blob.put(orphan, Buffer.from('\x0bMSH|3\x1c\r'));
    // only the second message of the described segment still has its row (the first was removed)
    await t.db('accepted_objects').insert({ kind: 'hl7v2', organization_id: org.id, identity: `${org.id}|2`, sha256: 'b'.repeat(64), size: 5, blob_key: described, blob_offset: 9, source: 'mllp', summary: {} });
    const old = new Date(Date.now() - 3 * 3600_000);
    for (const key of [described, orphan]) await utimes(path.join(root, key), old, old);

    const report = await collectOrphanObjects({ db: t.db, blob, log: testLogger() }, { prefixes: ['hl7v2/'], olderThanMs: 3600_000 });
    expect(report).toEqual({ examined: 2, orphans: [orphan], removed: 1 });
    expect(await blob.head(described)).not.toBeNull();
    const chunks: Buffer[] = [];
    for await (const c of await blob.get(described, { start: 9, end: 13 })) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('MSH|2');
  });
});
