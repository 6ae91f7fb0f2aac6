import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { parseInstanceHeader } from './parse';
import { readDataSet, readPart10 } from './read';
import { STORAGE_SOP_CLASSES } from './sop-classes';
import { buildDataSet, buildInstance, instanceElements, instanceSpec, type InstanceSpec } from './testing';
import { TransferSyntax } from './transfer-syntax';
import { encodeDataSet, encodeFileMeta, toPart10 } from './writer';

const hasDcmtk = spawnSync('dcmdump', ['--version']).status === 0;
const withDcmtk = hasDcmtk ? describe : describe.skip;

describe('the Part-10 layout buildInstance writes', () => {
  const spec = instanceSpec();
  const file = buildInstance(spec);

  it('starts with a 128-byte zero preamble and DICM', () => {
    expect(file.subarray(0, 128).every((b) => b === 0)).toBe(true);
    expect(file.subarray(128, 132).toString('latin1')).toBe('DICM');
  });

  it('writes a file meta group whose group length counts the rest of group 0002', () => {
    expect(file.subarray(132, 140)).toEqual(Buffer.from([0x02, 0x00, 0x00, 0x00, 0x55, 0x4c, 0x04, 0x00]));
    const groupLength = file.readUInt32LE(140);
    const dataSetStart = 144 + groupLength;
    expect(file.readUInt16LE(dataSetStart)).toBe(0x0008);
    const meta = readPart10(file).fileMeta!;
    expect(Object.keys(meta.elements)).toEqual(['x00020000', 'x00020001', 'x00020002', 'x00020003', 'x00020010', 'x00020012', 'x00020013', 'x00020016']);
  });

  it('writes elements in ascending tag order with even lengths, UIDs padded with NUL and text with a space', () => {
    const parsed = readPart10(buildInstance({ ...spec, sopInstanceUid: '1.2.3', patientId: 'ABC' }));
    const tags = Object.keys(parsed.dataSet.elements);
    expect(tags).toEqual([...tags].sort());
    expect(Object.values(parsed.dataSet.elements).every((el) => el.length % 2 === 0)).toBe(true);
    const bytesOf = (key: string) => {
      const el = parsed.dataSet.elements[key]!;
      return parsed.dataSet.byteArray.subarray(el.dataOffset, el.dataOffset + el.length);
    };
    expect(Buffer.from(bytesOf('x00080018')).toString('latin1')).toBe('1.2.3\0');
    expect(Buffer.from(bytesOf('x00100020')).toString('latin1')).toBe('ABC ');
  });

  it('writes big endian numbers and OW words byte-swapped', () => {
    const be = encodeDataSet(
      [
        { tag: 0x00280010, vr: 'US', value: 0x0102 },
        { tag: 0x00281201, vr: 'OW', value: Buffer.from([0x01, 0x02]) },
      ],
      { explicitVr: true, littleEndian: false },
    );
    expect(be).toEqual(Buffer.from([0x00, 0x28, 0x00, 0x10, 0x55, 0x53, 0x00, 0x02, 0x01, 0x02, 0x00, 0x28, 0x12, 0x01, 0x4f, 0x57, 0, 0, 0, 0, 0, 2, 0x02, 0x01]));
  });

  it('writes sequences with defined or undefined lengths that read back the same', () => {
    const items = [[{ tag: 0x00100020, vr: 'LO' as const, value: 'X' }], []];
    for (const undefinedLength of [false, true]) {
      const parsed = readDataSet(encodeDataSet([{ tag: 0x00101002, vr: 'SQ', value: items, undefinedLength }], { explicitVr: true, littleEndian: true }), TransferSyntax.ExplicitVrLittleEndian);
      const sq = parsed.dataSet.elements.x00101002!;
      expect(sq.items).toHaveLength(2);
      expect(sq.hadUndefinedLength ?? false).toBe(undefinedLength);
    }
  });

  it('deflates the data set of a deflated transfer syntax', () => {
    const deflated = buildDataSet({ ...spec, transferSyntaxUid: TransferSyntax.DeflatedExplicitVrLittleEndian });
    expect(inflateRawSync(deflated)).toEqual(buildDataSet({ ...spec, transferSyntaxUid: TransferSyntax.ExplicitVrLittleEndian }));
  });

  it('writes encapsulated frames behind a basic offset table that points at each', () => {
    const file = buildInstance({ transferSyntaxUid: TransferSyntax.JpegBaseline, numberOfFrames: 3, pixelBytes: 300 });
    const { dataSet } = readPart10(file);
    const pixel = dataSet.elements.x7fe00010!;
    // dicom-parser reads on to the pixel data only when not told to stop before it.
    expect(pixel.hadUndefinedLength).toBe(true);
    const table = file.readUInt32LE(pixel.dataOffset + 4) / 4;
    expect(table).toBe(3);
    const first = pixel.dataOffset + 8 + 12;
    for (let i = 0; i < 3; i++) {
      const at = first + file.readUInt32LE(pixel.dataOffset + 8 + 4 * i);
      expect(file.subarray(at, at + 4)).toEqual(Buffer.from([0xfe, 0xff, 0x00, 0xe0]));
      expect(file.subarray(at + 8, at + 10)).toEqual(Buffer.from([0xff, 0xd8]));
    }
  });

  it('builds an instance of the size asked for', () => {
    const file = buildInstance({ modality: 'MR', pixelBytes: 20_000_000 });
    expect(file.length).toBeGreaterThan(20_000_000);
    expect(file.length).toBeLessThan(20_002_000);
    expect(parseInstanceHeader(file).pixelData?.length).toBe(20_000_000);
  });

  it('builds the pixel data from rows, columns, samples, bits and frames by default', () => {
    expect(parseInstanceHeader(buildInstance({ modality: 'US', rows: 10, columns: 20, numberOfFrames: 3 })).pixelData?.length).toBe(10 * 20 * 3 * 3);
  });

  it('writes the modality-specific attributes of each preset', () => {
    const elements = instanceElements({ modality: 'CT' });
    expect(elements.map((e) => e.tag)).toEqual(expect.arrayContaining([0x00180060, 0x00200032, 0x00281052]));
    expect(parseInstanceHeader(buildInstance({ modality: 'US' }))).toMatchObject({ samplesPerPixel: 3, photometricInterpretation: 'RGB', bitsAllocated: 8 });
  });

  it('wraps a data set received over DIMSE into a Part-10 file that names it (toPart10)', () => {
    const spec2 = instanceSpec({ transferSyntaxUid: TransferSyntax.ImplicitVrLittleEndian });
    const file = toPart10(buildDataSet(spec2), { ...spec2, sourceApplicationEntityTitle: 'CT_SCANNER_1' });
    const header = parseInstanceHeader(file);
    expect(header).toMatchObject({ sopInstanceUid: spec2.sopInstanceUid, transferSyntaxUid: TransferSyntax.ImplicitVrLittleEndian, sourceApplicationEntityTitle: 'CT_SCANNER_1' });
    expect(encodeFileMeta(spec2).length % 2).toBe(0);
  });
});

withDcmtk('what DCMTK reads from the files buildInstance writes', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dicom-writer-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** dcmdump's output; fails on any warning or error DCMTK reports. */
  function dcmdump(bytes: Buffer, ...args: string[]): string {
    const path = join(dir, `${Math.random().toString(36).slice(2)}.dcm`);
    writeFileSync(path, bytes);
    const run = spawnSync('dcmdump', ['+L', ...args, path], { encoding: 'utf8' });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    return run.stdout;
  }

  const syntaxes = [
    TransferSyntax.ExplicitVrLittleEndian,
    TransferSyntax.ImplicitVrLittleEndian,
    TransferSyntax.ExplicitVrBigEndian,
    TransferSyntax.DeflatedExplicitVrLittleEndian,
    TransferSyntax.JpegBaseline,
    TransferSyntax.JpegLossless,
    TransferSyntax.JpegLsLossless,
    TransferSyntax.Jpeg2000,
    TransferSyntax.Rle,
  ];

  it.each(syntaxes)('reads a CT in transfer syntax %s as a valid Part-10 file', (transferSyntaxUid) => {
    const spec = instanceSpec({ transferSyntaxUid, numberOfFrames: 2, extra: [{ tag: 0x00101002, vr: 'SQ', value: [[{ tag: 0x00100020, vr: 'LO', value: 'OTHER-1' }]] }] });
    const out = dcmdump(buildInstance(spec), '+fo', '-Un');
    expect(out).toContain(`(0002,0010) UI [${transferSyntaxUid}]`);
    expect(out).toContain(`(0008,0018) UI [${spec.sopInstanceUid}]`);
    expect(out).toContain(`(0020,000d) UI [${spec.studyInstanceUid}]`);
    expect(out).toContain('(0010,0020) LO [OTHER-1]');
    expect(out).toContain('(0028,0008) IS [2]');
    expect(out).toMatch(/\(7fe0,0010\) O[BW] /);
  });

  it.each(['CT', 'MR', 'CR', 'DX', 'MG', 'US', 'XA', 'RF', 'PT', 'NM', 'OT', 'SR', 'KO', 'PR', 'DOC', 'RTDOSE'])('reads a %s instance', (modality) => {
    const spec = instanceSpec({ modality });
    const out = dcmdump(buildInstance(spec), '+fo', '-Un');
    expect(out).toContain(`(0008,0016) UI [${spec.sopClassUid}]`);
    expect(out).toContain(`(0008,0060) CS [${modality}]`);
    expect(STORAGE_SOP_CLASSES.some((s) => s.uid === spec.sopClassUid)).toBe(true);
  });

  it.each([
    ['ISO_IR 192', 'Wang^XiaoDong=王^小東='],
    ['GB18030', '李四^𠀀=李四'],
    ['GBK', '王^小明=王^小明'],
    ['\\ISO 2022 IR 58', 'Zhang^XiaoDong=张^小东='],
    ['ISO_IR 100', 'Müller^Jürgen'],
  ])('decodes the patient name written in %s to the same text (dcmdump +U8)', (charset, patientName) => {
    const out = dcmdump(buildInstance({ charset, patientName }), '+U8', '+P', '0010,0010');
    expect(out.trim()).toMatch(new RegExp(`^\\(0010,0010\\) PN \\[${patientName.replace(/[\^$]/g, '\\$&')} ?\\]`));
  });

  it.each([
    [TransferSyntax.ImplicitVrLittleEndian, '-ti'],
    [TransferSyntax.ExplicitVrLittleEndian, '-te'],
    [TransferSyntax.ExplicitVrBigEndian, '-tb'],
  ])('reads the raw data set in %s as C-STORE would carry it', (transferSyntaxUid, option) => {
    const spec = instanceSpec({ transferSyntaxUid });
    const out = dcmdump(buildDataSet(spec), '-f', option);
    expect(out).toContain(`(0008,0018) UI [${spec.sopInstanceUid}]`);
  });

  it('agrees with dcmftest that the file is Part-10', () => {
    const path = join(dir, 'ftest.dcm');
    writeFileSync(path, buildInstance());
    expect(spawnSync('dcmftest', [path], { encoding: 'utf8' }).stdout).toMatch(/^yes:/);
  });

  it('reads back files DCMTK converted to other transfer syntaxes with the same header', () => {
    const spec: InstanceSpec = instanceSpec({ charset: 'GB18030', patientName: '李四=李四', rows: 16, columns: 16 });
    const source = join(dir, 'source.dcm');
    writeFileSync(source, buildInstance(spec));
    const original = parseInstanceHeader(buildInstance(spec));
    for (const [tool, option] of [['dcmconv', '+ti'], ['dcmconv', '+tb'], ['dcmconv', '+td'], ['dcmcjpeg', '+el'], ['dcmcrle', '']] as const) {
      const target = join(dir, `${tool}${option}.dcm`);
      const run = spawnSync(tool, [...(option ? [option] : []), source, target], { encoding: 'utf8' });
      expect(run.status).toBe(0);
      const converted = parseInstanceHeader(readFileSync(target));
      expect(converted).toMatchObject({ sopInstanceUid: original.sopInstanceUid, patientName: original.patientName, rows: 16, warnings: [] });
    }
  });
});
