import { maskNationalId, nationalIdHash } from '@hub/shared/identity';
import { TEST_ID_HASH_SECRET } from '@hub/shared/testing';
import { labSubmissionOfBundle } from './bundle';
import { labBundle } from './test-bundle';

const CHEN = '11010519491231002X';
const map = (bundle: unknown) => labSubmissionOfBundle(bundle, { organizationCode: 'H1', idHashSecret: TEST_ID_HASH_SECRET, bundleIdentity: '1|sha' });
const issuesOf = (bundle: unknown) => {
  const r = map(bundle);
  if (r.ok) throw new Error('expected issues');
  return { status: r.issues.status, issues: r.issues.list.map((i) => [i.expression, i.code]) };
};
type Entry = { resource: Record<string, unknown> };
const edit = (change: (entries: Entry[]) => void) => {
  const bundle = labBundle({ organizationCode: 'H1', mrn: 'M-1', nationalId: CHEN });
  change(bundle.entry as Entry[]);
  return bundle;
};

describe('mapping a FHIR transaction Bundle to the lab submission', () => {
  it('reads the patient, the report with its specimen time, and each result', () => {
    const r = map(labBundle({ organizationCode: 'H1', mrn: 'M-1', nationalId: CHEN }));
    if (!r.ok) throw new Error(JSON.stringify(r.issues.list));
    const [group] = r.submission.groups;
    expect(group!.patient).toEqual({
      localId: 'M-1',
      name: { ideographic: '陈^静', alphabetic: 'Chen^Jing' },
      sex: 'F',
      birthDate: '1975-06-01',
      nationalId: { hash: nationalIdHash(CHEN, TEST_ID_HASH_SECRET), masked: maskNationalId(CHEN) },
    });
    expect(group!.reports[0]).toMatchObject({
      key: 'I|urn:hub:organization:H1:filler|R-M-1',
      fillerOrderNumber: 'R-M-1',
      loinc: { code: '24323-8' },
      local: { code: 'BIO', display: '生化全项' },
      status: 'final',
      effectiveAt: '2024-04-02T00:10:00.000Z',
      issuedAt: '2024-04-02T03:00:00.000Z',
      specimen: { type: 'SER', display: '血清' },
    });
    expect(group!.reports[0]!.observations).toEqual([
      { key: 'GLU', local: { code: 'GLU', display: '葡萄糖' }, loinc: { code: '2345-7', display: 'Glucose' }, status: 'final', valueType: 'Quantity', value: { number: 5.4 }, unit: { text: 'mmol/L', code: 'mmol/L', ucum: true }, referenceRange: { low: 3.9, high: 6.1 }, abnormalFlags: ['N'] },
      { key: 'HBSAG', local: { code: 'HBSAG', display: '乙肝表面抗原' }, status: 'preliminary', valueType: 'CodeableConcept', value: { coded: { code: 'NEG', display: '阴性' } } },
    ]);
    expect(r.plan.map((p) => [p.resourceType, p.patientLocalId, p.reportKey, p.observationKey])).toEqual([
      ['Patient', 'M-1', undefined, undefined],
      ['Specimen', undefined, undefined, undefined],
      ['DiagnosticReport', 'M-1', 'I|urn:hub:organization:H1:filler|R-M-1', undefined],
      ['Observation', undefined, 'I|urn:hub:organization:H1:filler|R-M-1', 'GLU'],
      ['Observation', undefined, 'I|urn:hub:organization:H1:filler|R-M-1', 'HBSAG'],
    ]);
    expect(JSON.stringify(r.submission)).not.toContain(CHEN);
  });

  it.each([
    ['a subject that is not in the Bundle', (e: Entry[]) => (e[2]!.resource.subject = { reference: 'urn:uuid:nobody' }), 422, [['Bundle.entry[2].resource.subject', 'invalid']]],
    ['an invalid national ID', (e: Entry[]) => ((e[0]!.resource.identifier as Array<{ value: string }>)[1]!.value = '110105194912310021'), 422, [['Bundle.entry[0].resource.identifier[1].value', 'value']]],
    ['a Patient without the hospital\'s number', (e: Entry[]) => (e[0]!.resource.identifier = [{ system: 'urn:oid:2.16.156.10011.1.3', value: CHEN }]), 422, [['Bundle.entry[0].resource.identifier', 'required']]],
    ['a report without a date to count from', (e: Entry[]) => delete (e[1]!.resource.collection as Record<string, unknown>).collectedDateTime, 422, [['Bundle.entry[2].resource.effectiveDateTime', 'required']]],
    ['an observation outside every report', (e: Entry[]) => (e[2]!.resource.result as unknown[]).pop(), 422, [['Bundle.entry[4]', 'invalid']]],
    ['an unknown status', (e: Entry[]) => (e[3]!.resource.status = 'done'), 422, [['Bundle.entry[3].resource.status', 'value']]],
    ['a Medication', (e: Entry[]) => (e[1]!.resource = { resourceType: 'Medication' }), 422, [['Bundle.entry[1].resource.resourceType', 'not-supported'], ['Bundle.entry[2].resource.specimen[0]', 'invalid']]],
    ['an entry without request', (e: Entry[]) => delete (e[0] as Record<string, unknown>).request, 400, [['Bundle.entry[0].request.method', 'structure']]],
  ])('names the faulty entry: %s', (_name, change, status, issues) => {
    expect(issuesOf(edit(change))).toEqual({ status, issues });
  });

  it('refuses what is not a transaction Bundle with 400', () => {
    expect(issuesOf({ resourceType: 'Patient' })).toEqual({ status: 400, issues: [['Bundle', 'structure']] });
    expect(issuesOf({ ...labBundle({ organizationCode: 'H1', mrn: 'M-1' }), type: 'batch' })).toEqual({ status: 400, issues: [['Bundle.type', 'not-supported']] });
  });
});
