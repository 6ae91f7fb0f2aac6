import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createFsBlobStore, type BlobStore } from '@hub/shared/blob';
import { createOrganization } from '@hub/shared/org';
import { testDatabase, testLogger, type TestDatabase } from '@hub/shared/testing';
import { createAccept, type Acceptance } from './accept';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('accepting an object', () => {
  let t: TestDatabase;
  let root: string;
  let blob: BlobStore;
  let org: number;
  beforeAll(async () => {
    t = await testDatabase();
    root = await mkdtemp(path.join(os.tmpdir(), 'hub-accept-'));
    blob = createFsBlobStore({ root });
    org = (await createOrganization(t.db, { code: 'H1', name: '一院', kind: 'hospital' })).id;
  });
  afterAll(async () => {
    await t.drop();
    await rm(root, { recursive: true, force: true });
  });

  const acceptance = (identity: string, body: Buffer): Acceptance => ({
    kind: 'dicom',
    organizationId: org,
    identity,
    source: 'test',
    blobKey: `dicom/${identity}/${sha(body)}.dcm`,
    body,
    size: body.length,
    sha256: sha(body),
    summary: { identity },
  });

  it('stores the object, then commits its row; the same bytes again are a no-op', async () => {
    const accept = createAccept({ db: t.db, blob, log: testLogger() });
    const body = Buffer.from('DICM instance one');
    const first = await accept(acceptance('1.2.3.1', body));
    expect(first.outcome).toBe('stored');
    expect(await blob.head(`dicom/1.2.3.1/${sha(body)}.dcm`)).toMatchObject({ size: body.length });
    const again = await accept(acceptance('1.2.3.1', body));
    expect(again).toEqual({ acceptedId: first.acceptedId, outcome: 'duplicate' });
    expect(await t.db('accepted_objects').where({ identity: '1.2.3.1' }).count('* as n').first()).toEqual({ n: 1 });
  });

  it('keeps the old version when the same identity arrives with other bytes, and says it replaced it', async () => {
    const accept = createAccept({ db: t.db, blob, log: testLogger() });
    const v1 = Buffer.from('version one');
    const v2 = Buffer.from('version two');
    await accept(acceptance('1.2.3.2', v1));
    expect((await accept(acceptance('1.2.3.2', v2))).outcome).toBe('replaced');
    expect(await blob.head(`dicom/1.2.3.2/${sha(v1)}.dcm`)).not.toBeNull();
    expect(await blob.head(`dicom/1.2.3.2/${sha(v2)}.dcm`)).not.toBeNull();
  });

  it('writes one row when the same push arrives twice at once', async () => {
    const accept = createAccept({ db: t.db, blob, log: testLogger() });
    const body = Buffer.from('raced');
    const results = await Promise.all(Array.from({ length: 6 }, () => accept(acceptance('1.2.3.3', body))));
    expect(new Set(results.map((r) => r.acceptedId)).size).toBe(1);
    expect(results.filter((r) => r.outcome === 'stored')).toHaveLength(1);
  });

  it('writes no row when the object cannot be stored', async () => {
    const accept = createAccept({ db: t.db, blob, log: testLogger() });
    const body = Buffer.from('bytes that do not match the declared hash');
    await expect(accept({ ...acceptance('1.2.3.4', body), sha256: 'f'.repeat(64) })).rejects.toMatchObject({ kind: 'BadInput' });
    expect(await t.db('accepted_objects').where({ identity: '1.2.3.4' }).first()).toBeUndefined();
  });
});
