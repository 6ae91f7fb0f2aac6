import iconv from 'iconv-lite';
import { parseMessage } from '@hub/shared/hl7';
import { maskNationalId, nationalIdHash } from '@hub/shared/identity';
import { TEST_ID_HASH_SECRET } from '@hub/shared/testing';
// The shared HL7 fixtures (real-world message shapes) are test data; hl7 has no testing entry point to import them by.
import { adtA01, adtA04, adtA08, adtA40, join, oru, oruV23 } from '../../../../shared/src/hl7/fixtures';
import { labSubmissionOf } from './map';
import type { LabSubmission } from '@hub/shared/lab';

const now = new Date('2024-03-16T04:00:00Z');
const map = (input: Buffer | string) => labSubmissionOf(parseMessage(typeof input === 'string' ? Buffer.from(input) : input), { idHashSecret: TEST_ID_HASH_SECRET, now });
const ok = (input: Buffer | string): LabSubmission => {
  const result = map(input);
  if (!result.ok) throw new Error(`expected AA, got ${JSON.stringify(result.errors)}`);
  return result.submission;
};
const errorsOf = (input: Buffer | string) => {
  const result = map(input);
  if (result.ok) throw new Error('expected content errors');
  return result.errors.map((e) => ({ location: e.location, code: e.code, applicationCode: e.applicationCode }));
};
const ZHANG = '110101199003074514';
const MSH = 'MSH|^~\\&|LIS|H1|HUB|REGION|20240315103000||ORU^R01|C1|P|2.5.1|||AL|NE||UNICODE UTF-8';

describe('mapping an ORU^R01 to the lab submission', () => {
  it('reads a Chinese LIS report: patient, order numbers, collection time, every value type', () => {
    const s = ok(join(oru('UNICODE UTF-8')));
    expect(s).toMatchObject({ event: 'results', messageType: 'ORU^R01' });
    const [{ patient, reports }] = s.groups as [LabSubmission['groups'][0]];
    expect(patient).toEqual({
      localId: 'M0012345',
      name: { ideographic: '张三', alphabetic: 'Zhang^San' },
      birthDate: '1990-03-07',
      sex: 'M',
      nationalId: { hash: nationalIdHash(ZHANG, TEST_ID_HASH_SECRET), masked: maskNationalId(ZHANG) },
    });
    const [report] = reports;
    expect(report).toMatchObject({
      key: 'F|LAB20240315001|CBC',
      placerOrderNumber: 'ORD20240315001',
      fillerOrderNumber: 'LAB20240315001',
      local: { code: 'CBC', display: '血常规' },
      status: 'final',
      effectiveAt: '2024-03-15T00:00:00.000Z', // OBR-7 08:00 in Beijing
      issuedAt: '2024-03-15T02:20:00.000Z',
      specimen: { type: '血液', display: 'Blood' },
    });
    const byKey = Object.fromEntries(report!.observations.map((o) => [o.key, o]));
    expect(byKey.WBC).toMatchObject({ valueType: 'NM', value: { number: 6.5 }, unit: { text: '10*9/L', ucum: false }, referenceRange: { low: 3.5, high: 9.5 }, abnormalFlags: ['N'], status: 'final' });
    expect(byKey.PLT!.unit).toEqual({ text: '个/μL', code: '个/μL', ucum: false });
    expect(byKey.CRP!.value).toEqual({ number: 100, comparator: '>' });
    expect(byKey.ABO!.value).toEqual({ text: 'A型 Rh&(D)阳性' });
    expect(byKey.MORPH!.value).toEqual({ text: '未见异常细胞\n红细胞大小均一' });
    expect(byKey.HBSAG!.value).toEqual({ coded: { code: 'NEG', display: '阴性', system: 'L' } });
    expect(byKey.UPRO).toMatchObject({ value: { coded: { code: '2+', display: '++' } }, referenceRange: { text: '阴性' }, abnormalFlags: ['A'] });
    // the result counts from the collection time, not from when the analyser ran (OBX-14)
    expect(byKey.WBC!.effectiveAt).toBeUndefined();
    expect(JSON.stringify(s)).not.toContain(ZHANG);
  });

  it('reads the same message sent in GB18030, with CRLF or LF line ends', () => {
    const utf8 = ok(join(oru('UNICODE UTF-8')));
    const gb = ok(iconv.encode(join(oru('GB18030'), '\r\n'), 'gb18030'));
    const lf = ok(join(oru(''), '\n'));
    expect(gb.groups).toEqual(utf8.groups);
    expect(lf.groups).toEqual(utf8.groups);
  });

  it('reads a v2.3 LIS: no MSH-18, no OBR-7 (the message time stands in), CE codes', () => {
    const [{ patient, reports }] = ok(join(oruV23)).groups as [LabSubmission['groups'][0]];
    expect(patient).toEqual({ localId: 'A998877', name: { ideographic: '李四' }, birthDate: '1985-11-03', sex: 'F' });
    expect(reports[0]).toMatchObject({ key: 'F|S0001|GLU', effectiveAt: '2024-03-15T02:30:00.000Z', observations: [{ key: 'GLU', value: { number: 6.8 }, abnormalFlags: ['H'] }] });
  });

  it('reads another dialect: dashed times, order numbers only in ORC, LOINC as the alternate code, UCUM units, "<0.5" in NM, GB/T sex codes, two patients, a Z-segment', () => {
    const s = ok(
      join([
        'MSH|^~\\&|KingLIS|H1||HUB|2024-03-15 10:30:00||ORU^R01|K-77|P|2.4',
        'PID|||P001^^^H1^PI||王^小明||19800102|1',
        'ORC|RE|PL-1|FL-1',
        'OBR|1|||GLU^葡萄糖^L^2345-7^Glucose^LN|||2024-03-15 07:45:00',
        'OBX|1|NM|GLU^葡萄糖^L^2345-7^Glucose^LN||5.6|mmol/L^^UCUM|3.9-6.1||||F',
        'OBX|2|NM|HCG^hCG^L||<0.5|IU/L|||||F',
        'ZXT|vendor extension|kept in the original',
        'PID|||P002^^^H1^PI||赵^六||19700304|2',
        'OBR|1||FL-2|K^钾^L|||20240315074600',
        'OBX|1|NM|K^钾^L||4.1|mmol/L|3.5-5.3||||P',
      ]),
    );
    expect(s.groups.map((g) => g.patient)).toEqual([
      { localId: 'P001', name: { ideographic: '王^小明' }, birthDate: '1980-01-02', sex: 'M' },
      { localId: 'P002', name: { ideographic: '赵^六' }, birthDate: '1970-03-04', sex: 'F' },
    ]);
    const [glu] = s.groups[0]!.reports;
    expect(glu).toMatchObject({ key: 'F|FL-1|GLU', placerOrderNumber: 'PL-1', fillerOrderNumber: 'FL-1', local: { code: 'GLU' }, loinc: { code: '2345-7', display: 'Glucose' }, effectiveAt: '2024-03-14T23:45:00.000Z' });
    expect(glu!.observations[0]).toMatchObject({ loinc: { code: '2345-7' }, unit: { text: 'mmol/L', ucum: true } });
    expect(glu!.observations[1]!.value).toEqual({ number: 0.5, comparator: '<' });
    // a preliminary result makes a report without OBR-25 preliminary
    expect(s.groups[1]!.reports[0]).toMatchObject({ key: 'F|FL-2|K', status: 'preliminary', observations: [{ status: 'preliminary' }] });
  });

  it('keeps a test sent twice in one report as two results', () => {
    const s = ok(join([MSH, 'PID|||M1', 'OBR|1||F9|BG^血气^L|||20240315080000', 'OBX|1|NM|PH^pH^L||7.40||||||F', 'OBX|2|NM|PH^pH^L||7.38||||||F', 'OBX|3|NM|PH^pH^L|2|7.41||||||F']));
    expect(s.groups[0]!.reports[0]!.observations.map((o) => o.key)).toEqual(['PH', 'PH#2', 'PH|2']);
  });
});

describe('refusing content with an AE that names segment and field', () => {
  const base = (...rest: string[]) => join([MSH, ...rest]);
  it.each([
    ['no hospital patient number in PID-3', base(`PID|||${ZHANG}^^^CHN^NNCHN`, 'OBR|1||F1|GLU|||20240315080000'), [{ location: 'PID-3', code: 101, applicationCode: 'missing-patient-id' }]],
    ['an invalid national ID check digit', base('PID|||M1^^^H1^MR~110101199003074515^^^CHN^NNCHN', 'OBR|1||F1|GLU|||20240315080000'), [{ location: 'PID-3[2]', code: 102, applicationCode: 'national-id-check-digit' }]],
    ['an unknown observation value type', base('PID|||M1', 'OBR|1||F1|GLU|||20240315080000', 'OBX|1|NM|GLU||5.1', 'OBX|2|XYZ|ALT||12'), [{ location: 'OBX[2]-2', code: 103, applicationCode: 'unknown-value-type' }]],
    ['a number that is not one', base('PID|||M1', 'OBR|1||F1|GLU|||20240315080000', 'OBX|1|NM|GLU||5,1'), [{ location: 'OBX-5', code: 102, applicationCode: 'invalid-numeric-value' }]],
    ['an unparseable collection time', base('PID|||M1', 'OBR|1||F1|GLU|||20241315'), [{ location: 'OBR-7', code: 102, applicationCode: 'invalid-datetime' }]],
    ['an unparseable birth date', base('PID|||M1||李^四||1990-02-30', 'OBR|1||F1|GLU|||20240315'), [{ location: 'PID-7', code: 102, applicationCode: 'invalid-datetime' }]],
    ['an OBX before any OBR', base('PID|||M1', 'OBX|1|NM|GLU||5.1', 'OBR|1||F1|GLU|||20240315'), [{ location: 'OBX', code: 100, applicationCode: 'obx-without-obr' }]],
    ['an OBR without a test code', base('PID|||M1', 'OBR|1||F1||||20240315'), [{ location: 'OBR-4', code: 101, applicationCode: 'missing-test-code' }]],
    ['an unknown result status', base('PID|||M1', 'OBR|1||F1|GLU|||20240315', 'OBX|1|NM|GLU||5.1||||||Q'), [{ location: 'OBX-11', code: 103, applicationCode: 'unknown-result-status' }]],
    ['no PID at all', base('OBR|1||F1|GLU|||20240315'), [{ location: 'PID', code: 101, applicationCode: 'missing-pid' }]],
    ['an unsupported message type', join(['MSH|^~\\&|HIS|H1|HUB|R|20240315||ORM^O01|C2|P|2.5', 'PID|||M1']), [{ location: 'MSH-9', code: 200, applicationCode: 'unsupported-message-type' }]],
    ['an unsupported ADT event', join(['MSH|^~\\&|HIS|H1|HUB|R|20240315||ADT^A03|C3|P|2.5', 'PID|||M1']), [{ location: 'MSH-9', code: 201, applicationCode: 'unsupported-event' }]],
    ['an A40 without MRG', join(['MSH|^~\\&|HIS|H1|HUB|R|20240315||ADT^A40|C4|P|2.5', 'PID|||M1']), [{ location: 'MRG', code: 101, applicationCode: 'missing-mrg' }]],
  ])('%s', (_name, message, expected) => {
    expect(errorsOf(message)).toEqual(expected);
  });

  it('names every faulty field of a message at once', () => {
    const errors = errorsOf(base('PID|||M1||||19900230', 'OBR|1||F1|GLU|||notadate', 'OBX|1|NM|GLU||high', 'OBX|2|QQ|X||1'));
    expect(errors.map((e) => e.location)).toEqual(['PID-7', 'OBR-7', 'OBX-5', 'OBX[2]-2']);
  });
});

describe('mapping ADT messages', () => {
  it('reads A01, A04 and A08 as registrations', () => {
    for (const adt of [adtA01, adtA04]) {
      const s = ok(join(adt));
      expect(s.event).toBe('registration');
      expect(s.groups[0]!.patient).toMatchObject({ localId: 'M0099887', name: { ideographic: '王芳' }, birthDate: '1949-12-31', sex: 'F', nationalId: { masked: '110105********002X' } });
    }
    expect(ok(join(adtA08)).groups[0]!.patient).toEqual({ localId: 'M0099887', name: { ideographic: '王芳' }, birthDate: '1949-12-31', sex: 'F' });
  });

  it('reads an A40 as the survivor and the prior numbers to merge into it', () => {
    const s = ok(join(adtA40));
    expect(s).toMatchObject({ event: 'merge', messageType: 'ADT^A40' });
    expect(s.groups).toEqual([{ patient: { localId: 'M0099887', name: { ideographic: '王芳' } }, reports: [], priorLocalIds: ['M0011111', 'M0022222'] }]);
  });
});
