import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildDataSet, buildInstance, instanceSpec } from '@hub/shared/dicom/testing';
import { createSpool, type Spool } from './spool';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('the DICOM spool', () => {
  let dir: string;
  /** Holds up to 64 KiB of an instance in memory. */
  let spool: Spool;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'spool-'));
    spool = createSpool(path.join(dir, 'spool'), 64 * 1024);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const written = (file: Buffer) => {
    const writer = spool.create({ dataSetAt: 'part10' });
    for (let at = 0; at < file.length; at += 6100) writer.write(file.subarray(at, at + 6100));
    writer.end();
    return writer;
  };

  it('holds an instance within its memory limit in memory, hashing the file and, read from the file meta, the data set', async () => {
    const spec = instanceSpec({ rows: 64, columns: 64 });
    const file = buildInstance(spec);
    const writer = written(file);
    const spooled = await writer.finished();
    expect(spooled).toMatchObject({ size: file.length, sha256: sha(file), dataSetSha256: sha(buildDataSet(spec)) });
    expect(spooled.bytes).toEqual(file);
    expect(spooled.path).toBeUndefined();
    expect(await readdir(spool.dir)).toEqual([]);
    await writer.discard();
  });

  it('spills an instance past its memory limit to a file, whole, and removes the file when discarded', async () => {
    const spec = instanceSpec({ rows: 512, columns: 512 });
    const file = buildInstance(spec);
    const writer = written(file);
    const spooled = await writer.finished();
    expect(spooled).toMatchObject({ size: file.length, sha256: sha(file), dataSetSha256: sha(buildDataSet(spec)) });
    expect(spooled.bytes).toBeUndefined();
    expect(await readFile(spooled.path!)).toEqual(file);
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
    writer.write(Buffer.alloc(100_000));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await writer.discard();
    expect(await readdir(spool.dir)).toEqual([]);
    const left = spool.create({ dataSetAt: 0 });
    left.end(Buffer.alloc(100_000));
    await left.finished();
    expect(await spool.sweep()).toBe(1);
    expect(await readdir(spool.dir)).toEqual([]);
  });
});
