import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { HubError, isHubError } from '../errors';
import { parseDataSet, parseInstanceHeader, type InstanceHeader } from './parse';
import { readPart10 } from './read';
import { buildDataSet, buildInstance, generateUid, instanceSpec, type InstanceSpec, type WriteElement } from './testing';
import { TransferSyntax } from './transfer-syntax';
import { toPart10 } from './writer';

const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', name));

/** The BadInput a call throws (failing the test if it throws anything else or nothing). */
function badInput(fn: () => unknown): HubError {
  try {
    fn();
  } catch (e) {
    if (isHubError(e, 'BadInput')) return e;
    throw new Error(`expected a BadInput HubError, got ${e instanceof Error ? `${e.name}: ${e.message}` : JSON.stringify(e)}`);
  }
  throw new Error('expected a BadInput HubError, but parsing succeeded');
}

/** A small deterministic PRNG (mulberry32), so failures reproduce. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const otherIds: WriteElement = {
  tag: 0x00101002,
  vr: 'SQ',
  value: [
    [
      { tag: 0x00100020, vr: 'LO', value: '11010519491231002X' },
      { tag: 0x00100021, vr: 'LO', value: 'CN-NATIONAL-ID' },
    ],
  ],
};

describe('parseInstanceHeader of a Part-10 file', () => {
  const spec = instanceSpec({
    modality: 'CT',
    charset: 'ISO_IR 192',
    patientId: 'MRN-7',
    issuerOfPatientId: 'HOSP-A',
    patientName: 'Wang^XiaoDong=王^小東=',
    patientBirthDate: '19800102',
    patientSex: 'F',
    studyDate: '20240301',
    studyTime: '081500',
    accessionNumber: 'ACC-1',
    studyDescription: '胸部CT平扫',
    seriesDescription: '肺窗',
    bodyPartExamined: 'CHEST',
    referringPhysicianName: 'Li^Hua=李^华',
    institutionName: '北京协和医院',
    seriesNumber: 4,
    instanceNumber: 17,
    rows: 16,
    columns: 8,
    extra: [
      otherIds,
      { tag: 0x00081032, vr: 'SQ', value: [[{ tag: 0x00080100, vr: 'SH', value: 'ZY001' }, { tag: 0x00080102, vr: 'SH', value: '99HOSP' }, { tag: 0x00080104, vr: 'LO', value: '胸部CT平扫' }]] },
      { tag: 0x00321064, vr: 'SQ', value: [[{ tag: 0x00080100, vr: 'SH', value: 'RP1' }, { tag: 0x00080102, vr: 'SH', value: '99HOSP' }]] },
    ],
  });

  const expected: Partial<InstanceHeader> = {
    sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
    sopInstanceUid: spec.sopInstanceUid,
    studyInstanceUid: spec.studyInstanceUid,
    seriesInstanceUid: spec.seriesInstanceUid,
    specificCharacterSet: ['ISO_IR 192'],
    patientId: 'MRN-7',
    issuerOfPatientId: 'HOSP-A',
    otherPatientIds: [{ patientId: '11010519491231002X', issuerOfPatientId: 'CN-NATIONAL-ID' }],
    patientName: { alphabetic: 'Wang^XiaoDong', ideographic: '王^小東' },
    patientBirthDate: '19800102',
    patientSex: 'F',
    studyDate: '20240301',
    studyTime: '081500',
    accessionNumber: 'ACC-1',
    studyDescription: '胸部CT平扫',
    seriesDescription: '肺窗',
    modality: 'CT',
    bodyPartExamined: 'CHEST',
    referringPhysicianName: { alphabetic: 'Li^Hua', ideographic: '李^华' },
    institutionName: '北京协和医院',
    seriesNumber: 4,
    instanceNumber: 17,
    procedureCodes: [{ codeValue: 'ZY001', codingSchemeDesignator: '99HOSP', codeMeaning: '胸部CT平扫' }],
    requestedProcedureCodes: [{ codeValue: 'RP1', codingSchemeDesignator: '99HOSP' }],
    rows: 16,
    columns: 8,
    bitsAllocated: 16,
    samplesPerPixel: 1,
    photometricInterpretation: 'MONOCHROME2',
    warnings: [],
  };

  it.each([
    ['explicit VR little endian', TransferSyntax.ExplicitVrLittleEndian],
    ['implicit VR little endian', TransferSyntax.ImplicitVrLittleEndian],
    ['explicit VR big endian', TransferSyntax.ExplicitVrBigEndian],
    ['deflated explicit VR little endian', TransferSyntax.DeflatedExplicitVrLittleEndian],
  ])('reads identity, patient, study, series and image attributes in %s', (_, transferSyntaxUid) => {
    const header = parseInstanceHeader(buildInstance({ ...spec, transferSyntaxUid }));
    expect(header).toMatchObject({ ...expected, transferSyntaxUid });
    expect(header.pixelData).toMatchObject({ length: 16 * 8 * 2, vr: 'OW', encapsulated: false });
  });

  it('points at the native pixel data value in the file', () => {
    const file = buildInstance({ ...spec, pixelBytes: 4 });
    const { pixelData } = parseInstanceHeader(file);
    expect(file.subarray(pixelData!.offset, pixelData!.offset + 4)).toEqual(Buffer.from([0x12, 0x34, 0x56, 0x78]));
  });

  it('reads a JPEG-compressed multi-frame instance up to its encapsulated pixel data', () => {
    const file = buildInstance({ modality: 'XA', transferSyntaxUid: TransferSyntax.JpegBaseline, numberOfFrames: 3, pixelBytes: 3000 });
    const header = parseInstanceHeader(file);
    expect(header).toMatchObject({ modality: 'XA', numberOfFrames: 3, transferSyntaxUid: '1.2.840.10008.1.2.4.50', bitsAllocated: 8 });
    expect(header.pixelData).toMatchObject({ encapsulated: true, fragments: 3, vr: 'OB', length: undefined });
    // The value starts with the basic offset table item (FFFE,E000).
    expect(file.subarray(header.pixelData!.offset, header.pixelData!.offset + 4)).toEqual(Buffer.from([0xfe, 0xff, 0x00, 0xe0]));
  });

  it.each([TransferSyntax.JpegLossless, TransferSyntax.JpegLosslessSv1, TransferSyntax.JpegLsLossless, TransferSyntax.Jpeg2000Lossless, TransferSyntax.Jpeg2000, TransferSyntax.Rle])(
    'reads an encapsulated instance in transfer syntax %s',
    (transferSyntaxUid) => {
      expect(parseInstanceHeader(buildInstance({ ...spec, transferSyntaxUid })).pixelData).toMatchObject({ encapsulated: true, fragments: 1 });
    },
  );

  it('reads past an Extended Offset Table (OV), which dicom-parser alone misreads', () => {
    const eot = new Uint8Array(16);
    const file = buildInstance({
      transferSyntaxUid: TransferSyntax.Jpeg2000Lossless,
      numberOfFrames: 2,
      extra: [
        { tag: 0x7fe00001, vr: 'OV', value: eot },
        { tag: 0x7fe00002, vr: 'OV', value: eot },
      ],
    });
    expect(parseInstanceHeader(file).pixelData).toMatchObject({ encapsulated: true, fragments: 2 });
    // The bytes it relabels for dicom-parser are put back.
    expect(file.includes(Buffer.from('OV\0\0', 'latin1'))).toBe(true);
  });

  it.each(['SR', 'KO', 'DOC', 'PR'])('reads a %s instance, which has no pixel data', (modality) => {
    const header = parseInstanceHeader(buildInstance({ modality }));
    expect(header.modality).toBe(modality);
    expect(header.pixelData).toBeUndefined();
  });

  it('reads the DCMTK-written fixtures in four transfer syntaxes and JPEG Lossless alike', () => {
    const headers = ['rich-explicit.dcm', 'rich-implicit.dcm', 'rich-big.dcm', 'rich-deflated.dcm', 'rich-jpeg-lossless.dcm'].map((f) => parseInstanceHeader(fixture(f)));
    for (const header of headers) {
      expect(header).toMatchObject({
        sopInstanceUid: '2.25.100000000000000000000000000000000001',
        specificCharacterSet: ['GB18030'],
        patientName: { alphabetic: 'Wang^XiaoDong', ideographic: '王^小东' },
        patientId: 'MRN00042',
        issuerOfPatientId: 'BJXH',
        otherPatientIds: [
          { patientId: '11010519491231002X', issuerOfPatientId: 'CN-NATIONAL-ID', typeOfPatientId: 'TEXT' },
          { patientId: 'H2-778899', issuerOfPatientId: '第二医院' },
        ],
        institutionName: '北京协和医院',
        manufacturer: '联影',
        studyDescription: '胸部CT平扫',
        seriesDescription: '肺窗',
        requestedProcedureDescription: '胸部CT平扫+增强',
        procedureCodes: [{ codeValue: 'ZY0001', codingSchemeDesignator: '99BJXH', codeMeaning: '胸部CT平扫' }],
        requestedProcedureCodes: [
          { codeValue: 'RPID-CT-CHEST', codingSchemeDesignator: '99BJXH', codeMeaning: '胸部CT' },
          { codeValue: 'RPID-CT-CHEST-ENH', codingSchemeDesignator: '99BJXH', codeMeaning: '胸部CT增强' },
        ],
        seriesNumber: 3,
        instanceNumber: 42,
        rows: 8,
        columns: 8,
        implementationVersionName: 'OFFIS_DCMTK_367',
        warnings: [],
      });
    }
    expect(headers.map((h) => h.transferSyntaxUid)).toEqual(['1.2.840.10008.1.2.1', '1.2.840.10008.1.2', '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.4.57']);
  });
});

describe('character sets in an instance', () => {
  const name = (charset: string | undefined, patientName: string | Uint8Array) => parseInstanceHeader(buildInstance({ charset, patientName }));

  it.each([
    ['ISO_IR 192', '张三=张三'],
    ['GB18030', '李四^𠀀=李四'],
    ['GBK', '王^小明=王^小明'],
    ['\\ISO 2022 IR 58', 'Zhang^XiaoDong=张^小东='],
    ['ISO 2022 IR 6\\ISO 2022 IR 58', 'Zhang^XiaoDong=张^小东='],
    ['ISO_IR 100', 'Müller^Jürgen'],
  ])('decodes the patient name in %s', (charset, patientName) => {
    const header = name(charset, patientName);
    const [alphabetic, ideographic] = patientName.replace(/=$/, '').split('=');
    expect(header.patientName).toEqual(ideographic ? { alphabetic, ideographic } : { alphabetic });
    expect(header.warnings).toEqual([]);
  });

  it('decodes undeclared UTF-8 as UTF-8 and warns that it assumed so', () => {
    const header = name(undefined, Buffer.from('张^三', 'utf8'));
    expect(header.patientName).toEqual({ alphabetic: '张^三' });
    expect(header.assumedCharacterSet).toBe('ISO_IR 192');
    expect(header.warnings).toEqual([expect.objectContaining({ code: 'charset-undeclared', location: '(0008,0005) Specific Character Set' })]);
  });

  it('decodes undeclared GBK as GB18030 and warns that it assumed so', () => {
    const header = parseInstanceHeader(buildInstance({ patientName: iconv.encode('张^三', 'gbk'), institutionName: iconv.encode('北京协和医院', 'gbk') }));
    expect(header).toMatchObject({ patientName: { alphabetic: '张^三' }, institutionName: '北京协和医院', assumedCharacterSet: 'GB18030' });
    expect(header.warnings.map((w) => w.code)).toEqual(['charset-undeclared']);
  });

  it('warns where bytes are not valid in the declared character set', () => {
    const header = name('ISO_IR 192', iconv.encode('张三', 'gbk'));
    expect(header.warnings).toEqual([expect.objectContaining({ code: 'charset-mismatch', location: '(0010,0010)' })]);
  });

  it('warns about a character set it does not know and decodes by the undeclared rule', () => {
    const header = name('KOI8-R', Buffer.from('张三', 'utf8'));
    expect(header.patientName).toEqual({ alphabetic: '张三' });
    expect(header.warnings.map((w) => w.code)).toEqual(['charset-unknown', 'charset-undeclared']);
  });

  it('decodes a sequence item in the character set the item declares', () => {
    const item: WriteElement[] = [
      { tag: 0x00080005, vr: 'CS', value: 'GB18030' },
      { tag: 0x00100020, vr: 'LO', value: 'X1' },
      { tag: 0x00100021, vr: 'LO', value: iconv.encode('第二医院', 'gb18030') },
    ];
    const header = parseInstanceHeader(buildInstance({ charset: 'ISO_IR 192', patientName: '张三', extra: [{ tag: 0x00101002, vr: 'SQ', value: [item] }] }));
    expect(header.otherPatientIds).toEqual([{ patientId: 'X1', issuerOfPatientId: '第二医院' }]);
    expect(header.patientName).toEqual({ alphabetic: '张三' });
  });
});

describe('parseDataSet of a data set received over DIMSE', () => {
  it.each([TransferSyntax.ImplicitVrLittleEndian, TransferSyntax.ExplicitVrLittleEndian, TransferSyntax.ExplicitVrBigEndian, TransferSyntax.DeflatedExplicitVrLittleEndian])(
    'reads the same header as the Part-10 file in %s',
    (transferSyntaxUid) => {
      const spec = instanceSpec({ transferSyntaxUid, charset: 'GB18030', patientName: '李四' });
      const { implementationClassUid, implementationVersionName, sourceApplicationEntityTitle, ...fromFile } = parseInstanceHeader(buildInstance(spec));
      expect(implementationClassUid).toBeDefined();
      expect(implementationVersionName).toBeDefined();
      expect(sourceApplicationEntityTitle).toBe('TESTSCU');
      const fromDataSet = parseDataSet(buildDataSet(spec), transferSyntaxUid);
      expect({ ...fromDataSet, pixelData: undefined }).toEqual({ ...fromFile, pixelData: undefined });
      expect(fromDataSet.pixelData?.length).toBe(fromFile.pixelData?.length);
    },
  );

  it('reads the DCMTK-written raw data set', () => {
    expect(parseDataSet(fixture('rich-implicit-dataset.bin'), TransferSyntax.ImplicitVrLittleEndian)).toMatchObject({
      sopInstanceUid: '2.25.100000000000000000000000000000000001',
      patientName: { alphabetic: 'Wang^XiaoDong', ideographic: '王^小东' },
    });
  });

  it('reads a data set whose encoding disagrees with the negotiated transfer syntax, and warns', () => {
    const header = parseDataSet(buildDataSet({ transferSyntaxUid: TransferSyntax.ImplicitVrLittleEndian, modality: 'MR' }), TransferSyntax.ExplicitVrLittleEndian);
    expect(header).toMatchObject({ modality: 'MR', rows: 64 });
    expect(header.warnings.map((w) => w.code)).toEqual(['transfer-syntax-mismatch']);
    const back = parseDataSet(buildDataSet({ modality: 'MR' }), TransferSyntax.ImplicitVrLittleEndian);
    expect(back.warnings.map((w) => w.code)).toEqual(['transfer-syntax-mismatch']);
  });

  it('rejects a transfer syntax UID that is not a UID', () => {
    expect(badInput(() => parseDataSet(buildDataSet(), '1.2.840.10008.1.2.')).detail.code).toBe('invalid-transfer-syntax-uid');
  });

  it('rejects an empty data set', () => {
    expect(badInput(() => parseDataSet(new Uint8Array(0), TransferSyntax.ImplicitVrLittleEndian)).detail.code).toBe('truncated');
  });
});

describe('rejecting what is not a valid instance', () => {
  it.each([
    ['(0008,0016) SOP Class UID', 0x00080016, 'missing-sop-class-uid'],
    ['(0008,0018) SOP Instance UID', 0x00080018, 'missing-sop-instance-uid'],
    ['(0020,000D) Study Instance UID', 0x0020000d, 'missing-study-instance-uid'],
    ['(0020,000E) Series Instance UID', 0x0020000e, 'missing-series-instance-uid'],
  ])('rejects an instance without %s, naming the tag', (location, tag, code) => {
    const error = badInput(() => parseInstanceHeader(buildInstance({ omit: [tag] })));
    expect(error.detail).toEqual({ code, location });
    expect(error.message).toMatch(/is missing$/);
  });

  it('rejects an empty SOP Instance UID', () => {
    const error = badInput(() => parseDataSet(buildDataSet({ extra: [{ tag: 0x00080018, vr: 'UI', value: '' }] }), TransferSyntax.ExplicitVrLittleEndian));
    expect(error.detail.code).toBe('missing-sop-instance-uid');
    expect(error.message).toBe('SOP Instance UID (0008,0018) is empty');
  });

  it.each([
    ['1.2.03.4', /component 3 \("03"\) has a leading zero/],
    ['1.2.abc', /contains "a"/],
    ['1..2', /component 2 is empty/],
    ['1.2.', /component 3 is empty/],
    [`1.${'2'.repeat(63)}`, /65 characters long/],
    ['1.2.3\\1.2.4', /contains "\\\\"/],
  ])('rejects the invalid SOP Instance UID %s with the reason', (uid, reason) => {
    const error = badInput(() => parseDataSet(buildDataSet({ sopInstanceUid: uid }), TransferSyntax.ExplicitVrLittleEndian));
    expect(error.detail).toEqual({ code: 'invalid-sop-instance-uid', location: '(0008,0018) SOP Instance UID' });
    expect(error.message).toMatch(reason);
  });

  it('rejects a file whose file meta names another SOP instance', () => {
    const error = badInput(() => parseInstanceHeader(buildInstance({ meta: { sopInstanceUid: generateUid() } })));
    expect(error.detail).toEqual({ code: 'sop-instance-uid-mismatch', location: '(0002,0003) Media Storage SOP Instance UID' });
  });

  it('rejects a file whose file meta names another SOP class', () => {
    const error = badInput(() => parseInstanceHeader(buildInstance({ meta: { sopClassUid: '1.2.840.10008.5.1.4.1.1.4' } })));
    expect(error.detail.code).toBe('sop-class-uid-mismatch');
  });

  it('rejects a file meta without a transfer syntax', () => {
    const dataSet = buildDataSet();
    const file = toPart10(dataSet, { sopClassUid: '1.2.3', sopInstanceUid: '1.2.4', transferSyntaxUid: '' });
    expect(badInput(() => parseInstanceHeader(file)).detail).toEqual({ code: 'missing-transfer-syntax-uid', location: '(0002,0010) Transfer Syntax UID' });
  });

  it.each([
    ['nothing', Buffer.alloc(0)],
    ['a short buffer', Buffer.from('hello')],
    ['a PNG', Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(300)])],
    ['a PDF', Buffer.from(`%PDF-1.4\n${'x'.repeat(300)}`)],
    ['a data set without preamble', buildDataSet()],
  ])('rejects %s as not DICOM', (_, bytes) => {
    expect(badInput(() => parseInstanceHeader(bytes)).detail.code).toBe('not-dicom');
  });

  it('rejects random bytes, with or without a DICM prefix, and never throws anything else', () => {
    const next = random(42);
    for (let i = 0; i < 300; i++) {
      const bytes = Buffer.from(Array.from({ length: Math.floor(next() * 2000) }, () => Math.floor(next() * 256)));
      if (i % 2 === 1 && bytes.length > 132) bytes.write('DICM', 128, 'latin1');
      badInput(() => parseInstanceHeader(bytes));
      badInput(() => parseDataSet(bytes, i % 4 < 2 ? TransferSyntax.ImplicitVrLittleEndian : TransferSyntax.ExplicitVrLittleEndian));
    }
  });
});

describe('truncated and corrupted files', () => {
  const cases: [string, InstanceSpec][] = [
    ['explicit VR little endian', { transferSyntaxUid: TransferSyntax.ExplicitVrLittleEndian }],
    ['implicit VR little endian', { transferSyntaxUid: TransferSyntax.ImplicitVrLittleEndian }],
    ['explicit VR big endian', { transferSyntaxUid: TransferSyntax.ExplicitVrBigEndian }],
    ['JPEG baseline', { transferSyntaxUid: TransferSyntax.JpegBaseline, numberOfFrames: 2, pixelBytes: 64 }],
    ['deflated', { transferSyntaxUid: TransferSyntax.DeflatedExplicitVrLittleEndian }],
  ];

  it.each(cases)('in %s: a cut at any byte is a BadInput, unless it falls between two elements', (_, spec) => {
    const file = buildInstance({ ...spec, charset: 'GB18030', patientName: '李^四', pixelBytes: spec.pixelBytes ?? 32, extra: [otherIds] });
    const full = readPart10(file);
    // Where a data set may legitimately end: after a top-level element (nothing says more follows).
    const ends = new Set(Object.values(full.dataSet.elements).map((el) => el.dataOffset + el.length));
    const pixelHeader = full.pixelData!.offset - (spec.transferSyntaxUid === TransferSyntax.ImplicitVrLittleEndian ? 8 : 12);
    ends.add(pixelHeader);
    const deflated = spec.transferSyntaxUid === TransferSyntax.DeflatedExplicitVrLittleEndian;
    for (let cut = 0; cut < file.length; cut++) {
      const bytes = file.subarray(0, cut);
      let header: InstanceHeader | undefined;
      try {
        header = parseInstanceHeader(bytes);
      } catch (e) {
        if (!isHubError(e, 'BadInput')) throw new Error(`cut at ${cut}: ${String(e)}`);
        continue;
      }
      // A deflated stream can end at a block boundary; otherwise only a cut between elements
      // reads (as a shorter data set).
      if (!deflated) expect({ cut, between: ends.has(cut) }).toEqual({ cut, between: true });
      expect(header.pixelData).toBeUndefined();
    }
  });

  it.each(cases)('in %s: a cut inside the pixel data is reported as truncated', (_, spec) => {
    const file = buildInstance({ ...spec, pixelBytes: 4096 });
    expect(badInput(() => parseInstanceHeader(file.subarray(0, file.length - 100))).detail).toMatchObject({ code: 'truncated' });
  });

  it('reports a cut inside the header value as truncated with where it happened', () => {
    const file = buildInstance({ institutionName: 'A hospital with a long name' });
    const at = file.indexOf('A hospital');
    const error = badInput(() => parseInstanceHeader(file.subarray(0, at + 5)));
    expect(error.detail).toEqual({ code: 'truncated', location: '(0008,0080)' });
    expect(error.message).toMatch(/^the data set is truncated/);
  });

  it('reports a cut inside the file meta as truncated', () => {
    const file = buildInstance();
    expect(badInput(() => parseInstanceHeader(file.subarray(0, 150))).detail.code).toBe('truncated');
  });

  it('reports a file that ends after its file meta', () => {
    const file = toPart10(Buffer.alloc(0), { sopClassUid: '1.2.3', sopInstanceUid: '1.2.4', transferSyntaxUid: TransferSyntax.ExplicitVrLittleEndian });
    expect(badInput(() => parseInstanceHeader(file)).message).toMatch(/no data set/);
  });

  it('never throws anything but BadInput for files with random bytes changed', () => {
    const next = random(7);
    const originals = [
      buildInstance({ extra: [otherIds], charset: '\\ISO 2022 IR 58', patientName: '张^三' }),
      buildInstance({ transferSyntaxUid: TransferSyntax.ImplicitVrLittleEndian, extra: [otherIds] }),
      buildInstance({ transferSyntaxUid: TransferSyntax.ExplicitVrBigEndian, modality: 'SR' }),
      buildInstance({ transferSyntaxUid: TransferSyntax.JpegBaseline, numberOfFrames: 2, pixelBytes: 200 }),
    ];
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.from(originals[i % originals.length]!);
      const changes = 1 + Math.floor(next() * 4);
      for (let c = 0; c < changes; c++) bytes[132 + Math.floor(next() * (bytes.length - 132))] = Math.floor(next() * 256);
      try {
        parseInstanceHeader(bytes);
      } catch (e) {
        if (!isHubError(e, 'BadInput')) throw new Error(`mutation ${i}: ${e instanceof Error ? e.stack : String(e)}`);
      }
    }
  });

  it('reports a length near 4 GiB as truncated without allocating it', () => {
    const file = buildInstance({ extra: [{ tag: 0x0040a160, vr: 'UT', value: 'short' }] });
    const at = file.indexOf(Buffer.from([0x40, 0x00, 0x60, 0xa1, 0x55, 0x54, 0, 0]));
    file.writeUInt32LE(0xfffffff0, at + 8);
    expect(badInput(() => parseInstanceHeader(file)).detail).toEqual({ code: 'truncated', location: '(0040,A160)' });
  });

  it('reads a header with a 4 MiB text value', () => {
    const big = 'CT '.repeat(1_400_000);
    const spec = { transferSyntaxUid: TransferSyntax.ImplicitVrLittleEndian, studyDescription: big, extra: [{ tag: 0x0040a160, vr: 'UT', value: big } as WriteElement] };
    const header = parseDataSet(buildDataSet(spec), TransferSyntax.ImplicitVrLittleEndian);
    expect(header.studyDescription).toHaveLength(big.length - 1);
  });

  it('rejects sequences nested too deeply instead of overflowing the stack', () => {
    const depth = 20_000;
    const open = Buffer.from([0x08, 0x00, 0x15, 0x11, 0x53, 0x51, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0x00, 0xe0, 0xff, 0xff, 0xff, 0xff]);
    const close = Buffer.from([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0, 0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
    const nested = Buffer.concat([...Array(depth).fill(open), ...Array(depth).fill(close)]);
    const dataSet = Buffer.concat([buildDataSet({ omit: [0x7fe00010] }), nested]);
    expect(badInput(() => parseDataSet(dataSet, TransferSyntax.ExplicitVrLittleEndian)).detail.code).toBe('too-deeply-nested');
    const shallower = Buffer.concat([buildDataSet({ omit: [0x7fe00010] }), ...Array(100).fill(open), ...Array(100).fill(close)]);
    expect(badInput(() => parseDataSet(shallower, TransferSyntax.ExplicitVrLittleEndian)).detail.code).toBe('too-deeply-nested');
  });

  it('refuses a deflated data set that inflates beyond the limit, and a corrupt deflate stream', () => {
    const file = buildInstance({ transferSyntaxUid: TransferSyntax.DeflatedExplicitVrLittleEndian, pixelBytes: 100_000 });
    expect(badInput(() => parseInstanceHeader(file, { maxInflatedBytes: 10_000 })).detail.code).toBe('inflated-too-large');
    const meta = readPart10(file).fileMeta!;
    const start = Math.max(...Object.values(meta.elements).map((el) => el.dataOffset + el.length));
    const corrupt = Buffer.concat([file.subarray(0, start), Buffer.alloc(16, 0xff)]);
    expect(badInput(() => parseInstanceHeader(corrupt)).detail.code).toBe('deflate-failed');
  });
});
