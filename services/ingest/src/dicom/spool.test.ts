import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildDataSet, buildInstance, instanceSpec } from '@hub/shared/dicom/testing';
import { createSpool, type Spool } from './spool';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('the DICOM spool', () => {
  let dir: string;
  let spool: Spool;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'spool-'));
    spool = createSpool(path.join(dir, 'spool'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes what it is given and hashes the file and, read from the file meta, the data set after it', async () => {
    const spec = instanceSpec();
    const file = buildInstance(spec);
    const writer = spool.create({ dataSetAt: 'part10' });
    for (let at = 0; at < file.length; at += 61) writer.write(file.subarray(at, at + 61));
    writer.end();
    const spooled = await writer.finished();
    expect(spooled).toMatchObject({ size: file.length, sha256: sha(file), dataSetSha256: sha(buildDataSet(spec)) });
    expect(await readFile(spooled.path)).toEqual(file);
    await writer.discard();
    expect(await readdir(spool.dir)).toEqual([]);
  });

  it('has no data set hash for bytes that are not a Part-10 file', async () => {
    const writer = spool.create({ dataSetAt: 'part10' });
    writer.end(Buffer.alloc(500, 1));
    expect((await writer.finished()).dataSetSha256).toBeUndefined();
    await writer.discard();
  });

  it('removes a file abandoned half-written, and sweeps leftovers', async () => {
    const writer = spool.create({ dataSetAt: 0 });
    writer.write(Buffer.alloc(1000));
    await writer.discard();
    const left = spool.create({ dataSetAt: 0 });
    left.end(Buffer.alloc(10));
    await left.finished();
    expect(await spool.sweep()).toBe(1);
    expect(await readdir(spool.dir)).toEqual([]);
  });
});
