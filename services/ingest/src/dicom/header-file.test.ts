import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseInstanceHeader, TransferSyntax } from '@hub/shared/dicom';
import { buildInstance, type InstanceSpec } from '@hub/shared/dicom/testing';
import { readHeaderOf } from './header-file';
import type { SpooledInstance } from './spool';

const digest = { sha256: '0'.repeat(64) };

describe.each(['held in memory', 'spilled to a file'])('reading the header of a spooled instance %s', (where) => {
  let dir: string;
  beforeAll(async () => (dir = await mkdtemp(path.join(tmpdir(), 'header-file-'))));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  let n = 0;
  const onDisk = async (bytes: Buffer) => {
    if (where === 'held in memory') return readHeaderOf({ ...digest, size: bytes.length, bytes });
    const file = path.join(dir, `${++n}.dcm`);
    await writeFile(file, bytes);
    const spooled: SpooledInstance = { ...digest, size: bytes.length, path: file };
    return readHeaderOf(spooled);
  };

  const PIXEL_TAG_BYTES = Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42, 0, 0, 0, 0, 0, 0]);
  it.each<[string, InstanceSpec]>([
    ['native pixel data far larger than the first read', { rows: 1024, columns: 1024 }],
    ['big endian', { rows: 512, columns: 512, transferSyntaxUid: TransferSyntax.ExplicitVrBigEndian }],
    ['implicit VR', { rows: 512, columns: 512, transferSyntaxUid: TransferSyntax.ImplicitVrLittleEndian }],
    ['encapsulated fragments', { rows: 512, columns: 512, numberOfFrames: 5, transferSyntaxUid: TransferSyntax.JpegBaseline }],
    [
      'an icon image with pixel data of its own in front',
      { rows: 512, columns: 512, extra: [{ tag: 0x00880200, vr: 'SQ', value: [[{ tag: 0x00280010, vr: 'US', value: 8 }, { tag: 0x7fe00010, vr: 'OB', value: Buffer.alloc(64, 1) }]] }] },
    ],
    ['the Pixel Data tag inside another value', { rows: 512, columns: 512, extra: [{ tag: 0x00291010, vr: 'OB', value: Buffer.concat([PIXEL_TAG_BYTES, PIXEL_TAG_BYTES]) }] }],
    ['a header longer than the first read', { rows: 512, columns: 512, extra: [{ tag: 0x00291020, vr: 'OB', value: Buffer.alloc(300_000, 7) }] }],
  ])('reads the same header as a whole-file parse for %s', async (_what, spec) => {
    const file = buildInstance(spec);
    const header = await onDisk(file);
    const whole = parseInstanceHeader(file);
    expect(header).toEqual({ ...whole, warnings: header.warnings });
    expect(header.pixelData).toEqual(whole.pixelData);
  });

  it.each<[string, InstanceSpec, number]>([
    ['native pixel data', { rows: 1024, columns: 1024 }, 1000],
    ['encapsulated pixel data', { rows: 512, columns: 512, numberOfFrames: 4, transferSyntaxUid: TransferSyntax.JpegLosslessSv1 }, 300_000],
    ['encapsulated pixel data without its delimiter', { rows: 512, columns: 512, numberOfFrames: 4, transferSyntaxUid: TransferSyntax.JpegLosslessSv1 }, 8],
  ])('refuses a file cut inside its %s as truncated', async (_what, spec, cut) => {
    const file = buildInstance(spec);
    await expect(onDisk(file.subarray(0, file.length - cut))).rejects.toMatchObject({ kind: 'BadInput', detail: { code: 'truncated' } });
  });

  it('refuses bytes that are not DICOM, large or small', async () => {
    await expect(onDisk(Buffer.alloc(200_000, 0x41))).rejects.toMatchObject({ kind: 'BadInput', detail: { code: 'not-dicom' } });
    await expect(onDisk(Buffer.from('hello'))).rejects.toMatchObject({ kind: 'BadInput', detail: { code: 'not-dicom' } });
  });
});
