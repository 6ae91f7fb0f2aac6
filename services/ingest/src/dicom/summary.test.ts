import { parseInstanceHeader } from '@hub/shared/dicom';
import { buildInstance, type InstanceSpec } from '@hub/shared/dicom/testing';
import { maskNationalId, nationalIdHash } from '@hub/shared/identity';
import { dicomSummary } from './summary';

const SECRET = 'summary-test-secret-0123456789abcdef0123';
const NATIONAL_ID = '11010519491231002X';
const otherIds = (...items: Array<{ id: string; issuer?: string }>): InstanceSpec['extra'] => [
  {
    tag: 0x00101002,
    vr: 'SQ',
    value: items.map((i) => [{ tag: 0x00100020, vr: 'LO' as const, value: i.id }, ...(i.issuer ? [{ tag: 0x00100021, vr: 'LO' as const, value: i.issuer }] : [])]),
  },
];
const summaryOf = (spec: InstanceSpec) => dicomSummary(parseInstanceHeader(buildInstance({ charset: 'ISO_IR 192', ...spec })), { idHashSecret: SECRET });

describe('the summary an accepted DICOM instance carries', () => {
  it('keeps a resident ID from Other Patient IDs only as its keyed hash and masked form', () => {
    const summary = summaryOf({ extra: otherIds({ id: NATIONAL_ID, issuer: '居民身份证' }, { id: 'MRN-7', issuer: 'H1' }) });
    expect(summary.nationalId).toEqual({ hash: nationalIdHash(NATIONAL_ID, SECRET), masked: maskNationalId(NATIONAL_ID) });
    expect(summary.otherPatientIds).toEqual([{ patientId: 'MRN-7', issuerOfPatientId: 'H1' }]);
    expect(JSON.stringify(summary)).not.toContain(NATIONAL_ID);
  });

  it('drops an invalid resident ID, links nothing with it, and notes why without the number', () => {
    const wrong = '110105194912310021';
    const summary = summaryOf({ extra: otherIds({ id: wrong }) });
    expect(summary.nationalId).toBeUndefined();
    expect(summary.warnings).toContainEqual({ code: 'invalid-national-id:national-id-check-digit', location: '(0010,1002) Other Patient IDs Sequence' });
    expect(JSON.stringify(summary)).not.toContain(wrong);
  });

  it('replaces a Patient ID that is a resident ID by a stable stand-in', () => {
    const summary = summaryOf({ patientId: NATIONAL_ID });
    expect(summary).toMatchObject({ patientIdIsNationalId: true, nationalId: { masked: maskNationalId(NATIONAL_ID) } });
    expect(summary.patientId).toBe(`NID-${nationalIdHash(NATIONAL_ID, SECRET).slice(0, 32)}`);
    expect(JSON.stringify(summary)).not.toContain(NATIONAL_ID);
  });

  it('carries the UIDs, transfer syntax, character set and decoded names', () => {
    const summary = summaryOf({ patientId: 'P-1', patientName: 'Zhang^San=张^三', modality: 'MR' });
    expect(summary).toMatchObject({ patientId: 'P-1', modality: 'MR', specificCharacterSet: ['ISO_IR 192'], transferSyntaxUid: '1.2.840.10008.1.2.1', patientName: { ideographic: '张^三' } });
    expect(summary.sopInstanceUid).toMatch(/^2\.25\./);
  });
});
