import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { toDicomJson, type BulkDataReference } from './json';
import { readDataSet, readPart10 } from './read';
import { buildDataSet, buildInstance, instanceSpec, type WriteElement } from './testing';
import { TransferSyntax } from './transfer-syntax';

const fixture = (name: string) => join(__dirname, 'fixtures', name);
const hasDcm2json = spawnSync('dcm2json', ['--version']).status === 0;

const code = (value: string, meaning: string): WriteElement[] => [
  { tag: 0x00080100, vr: 'SH', value },
  { tag: 0x00080102, vr: 'SH', value: 'DCM' },
  { tag: 0x00080104, vr: 'LO', value: meaning },
];

/** Elements of every value type, several values, empty values and nested sequences. */
const extra: WriteElement[] = [
  { tag: 0x00081060, vr: 'PN', value: ['Smith^John', 'Wang^XiaoDong=王^小東', ''] },
  { tag: 0x00180015, vr: 'CS', value: ['HEAD', '', 'NECK'] },
  { tag: 0x00181164, vr: 'DS', value: ['0.5', ' 1.25e1 ', 'not-a-number'] },
  { tag: 0x00181310, vr: 'US', value: [0, 256, 256, 0] },
  { tag: 0x00186018, vr: 'UL', value: [4_000_000_000] },
  { tag: 0x00186020, vr: 'SL', value: [-5, 7] },
  { tag: 0x00189087, vr: 'FD', value: [1000.5] },
  { tag: 0x00189089, vr: 'FD', value: [0.25, -0.5, 1] },
  { tag: 0x00189219, vr: 'SS', value: [-3] },
  { tag: 0x00280009, vr: 'AT', value: [0x00181063, 0x00181065] },
  { tag: 0x00280034, vr: 'IS', value: ['1', '2'] },
  { tag: 0x00281201, vr: 'OW', value: Buffer.from([1, 0, 2, 0, 3, 0]) },
  { tag: 0x00420011, vr: 'OB', value: Buffer.alloc(2000, 7) },
  { tag: 0x00660016, vr: 'OF', value: Buffer.from(new Float32Array([1.5, -2]).buffer) },
  { tag: 0x00700022, vr: 'FL', value: [0.5, 2] },
  {
    tag: 0x00400275,
    vr: 'SQ',
    value: [
      [{ tag: 0x00321060, vr: 'LO', value: '胸部CT' }, { tag: 0x00321064, vr: 'SQ', value: [code('C1', 'one'), code('C2', 'two')] }],
      [{ tag: 0x00321064, vr: 'SQ', value: [] }],
    ],
    undefinedLength: true,
  },
];

const expected = {
  '00081060': { vr: 'PN', Value: [{ Alphabetic: 'Smith^John' }, { Alphabetic: 'Wang^XiaoDong', Ideographic: '王^小東' }, null] },
  '00180015': { vr: 'CS', Value: ['HEAD', null, 'NECK'] },
  '00181164': { vr: 'DS', Value: [0.5, 12.5, null] },
  '00181310': { vr: 'US', Value: [0, 256, 256, 0] },
  '00186018': { vr: 'UL', Value: [4_000_000_000] },
  '00186020': { vr: 'SL', Value: [-5, 7] },
  '00189087': { vr: 'FD', Value: [1000.5] },
  '00189089': { vr: 'FD', Value: [0.25, -0.5, 1] },
  '00189219': { vr: 'SS', Value: [-3] },
  '00280009': { vr: 'AT', Value: ['00181063', '00181065'] },
  '00280034': { vr: 'IS', Value: [1, 2] },
  '00281201': { vr: 'OW', InlineBinary: Buffer.from([1, 0, 2, 0, 3, 0]).toString('base64') },
  '00660016': { vr: 'OF', InlineBinary: Buffer.from(new Float32Array([1.5, -2]).buffer).toString('base64') },
  '00700022': { vr: 'FL', Value: [0.5, 2] },
  '00400275': {
    vr: 'SQ',
    Value: [
      {
        '00321060': { vr: 'LO', Value: ['胸部CT'] },
        '00321064': {
          vr: 'SQ',
          Value: [
            { '00080100': { vr: 'SH', Value: ['C1'] }, '00080102': { vr: 'SH', Value: ['DCM'] }, '00080104': { vr: 'LO', Value: ['one'] } },
            { '00080100': { vr: 'SH', Value: ['C2'] }, '00080102': { vr: 'SH', Value: ['DCM'] }, '00080104': { vr: 'LO', Value: ['two'] } },
          ],
        },
      },
      { '00321064': { vr: 'SQ' } },
    ],
  },
};

describe('toDicomJson', () => {
  const spec = instanceSpec({ charset: 'ISO_IR 192', patientName: 'Wang^XiaoDong=王^小東=', extra });

  it.each([
    ['explicit VR little endian', TransferSyntax.ExplicitVrLittleEndian],
    ['implicit VR little endian', TransferSyntax.ImplicitVrLittleEndian],
    ['explicit VR big endian', TransferSyntax.ExplicitVrBigEndian],
    ['deflated', TransferSyntax.DeflatedExplicitVrLittleEndian],
    ['JPEG 2000', TransferSyntax.Jpeg2000],
  ])('writes each VR as its JSON type, several values as arrays, sequences nested, in %s', (_, transferSyntaxUid) => {
    const json = toDicomJson(buildInstance({ ...spec, transferSyntaxUid }));
    expect(json).toMatchObject(expected);
    expect(json['00100010']).toEqual({ vr: 'PN', Value: [{ Alphabetic: 'Wang^XiaoDong', Ideographic: '王^小東' }] });
    expect(json['0020000D']).toEqual({ vr: 'UI', Value: [spec.studyInstanceUid] });
    expect(json['00080090']).toEqual({ vr: 'PN' });
    expect(json['00080005']).toEqual({ vr: 'CS', Value: ['ISO_IR 192'] });
  });

  it('gives the same model for every transfer syntax', () => {
    const models = [TransferSyntax.ExplicitVrLittleEndian, TransferSyntax.ImplicitVrLittleEndian, TransferSyntax.ExplicitVrBigEndian, TransferSyntax.DeflatedExplicitVrLittleEndian].map(
      (transferSyntaxUid) => toDicomJson(buildInstance({ ...spec, transferSyntaxUid })),
    );
    for (const model of models.slice(1)) expect(model).toEqual(models[0]);
  });

  it('leaves out bulk data above the threshold and the pixel data unless given a BulkDataURI', () => {
    const json = toDicomJson(buildInstance(spec));
    expect(json['00420011']).toBeUndefined();
    expect(json['7FE00010']).toBeUndefined();
    expect(Object.keys(json).every((k) => !k.startsWith('0002'))).toBe(true);
  });

  it('writes a BulkDataURI for large values and the pixel data when asked', () => {
    const refs: BulkDataReference[] = [];
    const json = toDicomJson(buildInstance(spec), {
      bulkDataThreshold: 4,
      bulkDataUri: (ref) => {
        refs.push(ref);
        return `bulk/${ref.path.join('/')}`;
      },
    });
    expect(json['00420011']).toEqual({ vr: 'OB', BulkDataURI: 'bulk/00420011' });
    expect(json['00281201']).toEqual({ vr: 'OW', BulkDataURI: 'bulk/00281201' });
    expect(json['7FE00010']).toEqual({ vr: 'OW', BulkDataURI: 'bulk/7FE00010' });
    expect(refs.find((r) => r.path[0] === '7FE00010')).toMatchObject({ vr: 'OW', length: 64 * 64 * 2 });
  });

  it('includes the file meta information when asked', () => {
    const json = toDicomJson(buildInstance(spec), { includeFileMeta: true });
    expect(json['00020010']).toEqual({ vr: 'UI', Value: [TransferSyntax.ExplicitVrLittleEndian] });
    expect(json['00020003']).toEqual({ vr: 'UI', Value: [spec.sopInstanceUid] });
  });

  it('writes private attributes of an implicit VR data set as UN with their bytes, the creator as LO', () => {
    const privateTags: WriteElement[] = [
      { tag: 0x00290010, vr: 'LO', value: 'HUB TEST' },
      { tag: 0x00291001, vr: 'LO', value: 'abc' },
    ];
    const parsed = readDataSet(buildDataSet({ transferSyntaxUid: TransferSyntax.ImplicitVrLittleEndian, extra: privateTags }), TransferSyntax.ImplicitVrLittleEndian);
    const json = toDicomJson(parsed);
    expect(json['00290010']).toEqual({ vr: 'LO', Value: ['HUB TEST'] });
    expect(json['00291001']).toEqual({ vr: 'UN', InlineBinary: Buffer.from('abc ').toString('base64') });
    expect(toDicomJson(parsed, { omitPrivate: true })['00290010']).toBeUndefined();
  });

  it('reads an explicit UN value by the dictionary VR, as a router that did not know it would have written it', () => {
    const json = toDicomJson(buildInstance({ extra: [{ tag: 0x00181164, vr: 'UN', value: Buffer.from('0.5\\0.5 ') }] }));
    expect(json['00181164']).toEqual({ vr: 'DS', Value: [0.5, 0.5] });
  });

  it('splits GBK values only between characters, even where a second byte is a backslash', () => {
    const json = toDicomJson(buildInstance({ charset: 'GBK', extra: [{ tag: 0x00081030, vr: 'LO', value: iconv.encode('乗\\二', 'gbk') }] }));
    expect(json['00081030']).toEqual({ vr: 'LO', Value: ['乗', '二'] });
  });

  it('decodes an instance without a declared character set by the undeclared rule and says ISO_IR 192', () => {
    const json = toDicomJson(buildInstance({ patientName: iconv.encode('张^三', 'gbk') }));
    expect(json['00100010']).toEqual({ vr: 'PN', Value: [{ Alphabetic: '张^三' }] });
    expect(json['00080005']).toEqual({ vr: 'CS', Value: ['ISO_IR 192'] });
  });

  it('models the DCMTK-written fixture the same in every transfer syntax, implicit private tags aside', () => {
    const explicit = toDicomJson(readFileSync(fixture('rich-explicit.dcm')));
    expect(toDicomJson(readFileSync(fixture('rich-big.dcm')))).toEqual(explicit);
    expect(toDicomJson(readFileSync(fixture('rich-deflated.dcm')))).toEqual(explicit);
    const implicit = toDicomJson(readFileSync(fixture('rich-implicit.dcm')));
    expect(implicit['00291001']).toEqual({ vr: 'UN', InlineBinary: Buffer.from('private value ').toString('base64') });
    expect({ ...implicit, '00291001': undefined, '00291002': undefined }).toEqual({ ...explicit, '00291001': undefined, '00291002': undefined });
  });

  (hasDcm2json ? it : it.skip).each(['rich-explicit.dcm', 'rich-implicit.dcm', 'rich-big.dcm', 'rich-deflated.dcm'])(
    'agrees with DCMTK dcm2json on %s (pixel data aside)',
    (name) => {
      const dcmtk = JSON.parse(spawnSync('dcm2json', [fixture(name)], { encoding: 'utf8' }).stdout) as Record<string, unknown>;
      delete dcmtk['7FE00010'];
      expect(toDicomJson(readFileSync(fixture(name)))).toEqual(dcmtk);
    },
  );

  it('accepts a data set already read, so the ingest parses once', () => {
    const file = buildInstance(spec);
    expect(toDicomJson(readPart10(file))).toEqual(toDicomJson(file));
  });
});
