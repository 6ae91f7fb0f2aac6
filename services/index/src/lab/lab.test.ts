import { createHash, randomUUID } from 'node:crypto';
import { createFsBlobStore } from '@hub/shared/blob';
import { maskNationalId, nationalIdHash } from '@hub/shared/identity';
import { createOrganization } from '@hub/shared/org';
import { testDatabase, testLogger, TEST_ID_HASH_SECRET, type TestDatabase } from '@hub/shared/testing';
import { createIndexWorker, type IndexWorker } from '../worker';
import { indexFhirBundle, indexHl7v2, unmergePatients } from '.';
import type { LabSubmission, ObservationSubmission, PatientSubmission, ReportSubmission, ObservationStatus, ReportStatus } from '@hub/shared/lab';

const nid = (raw: string) => ({ hash: nationalIdHash(raw, TEST_ID_HASH_SECRET), masked: maskNationalId(raw) });
const WANG = '11010519491231002X';
const LI = '110101199003074514';

const glucose = (value: number, status: ObservationStatus = 'final', extra: Partial<ObservationSubmission> = {}): ObservationSubmission => ({
  key: 'GLU',
  local: { code: 'GLU', display: '葡萄糖' },
  loinc: { code: '2345-7', display: 'Glucose' },
  valueType: 'NM',
  value: { number: value },
  unit: { text: 'mmol/L', ucum: true },
  referenceRange: { low: 3.9, high: 6.1, text: '3.9-6.1' },
  status,
  ...extra,
});
const report = (key: string, observations: ObservationSubmission[], status: ReportStatus = 'final'): ReportSubmission => ({
  key,
  fillerOrderNumber: key,
  local: { code: 'BIO', display: '生化' },
  status,
  effectiveAt: '2024-03-15T00:00:00.000Z',
  issuedAt: '2024-03-15T02:00:00.000Z',
  observations,
});
const results = (patient: PatientSubmission, ...reports: ReportSubmission[]): LabSubmission => ({ lab: 1, event: 'results', messageType: 'ORU^R01', groups: [{ patient, reports }] });

describe('indexing lab submissions', () => {
  let t: TestDatabase;
  let worker: IndexWorker;
  let h1: number;
  let h2: number;
  beforeAll(async () => {
    t = await testDatabase();
    h1 = (await createOrganization(t.db, { code: 'H1', name: '一院', kind: 'hospital' })).id;
    h2 = (await createOrganization(t.db, { code: 'H2', name: '二院', kind: 'hospital' })).id;
    worker = createIndexWorker({
      db: t.db,
      databaseUrl: t.url,
      ctx: { blob: createFsBlobStore({ root: '/tmp/unused' }), log: testLogger(), idHashSecret: TEST_ID_HASH_SECRET },
      handlers: { hl7v2: indexHl7v2, fhir: indexFhirBundle },
      loops: 1,
      batchSize: 50,
    });
  });
  afterAll(() => t.drop());

  /** Accepts a submission as a door would (the row), then indexes everything pending. */
  const index = async (organizationId: number, summary: LabSubmission | Record<string, unknown>, kind: 'hl7v2' | 'fhir' = 'hl7v2') => {
    const body = randomUUID();
    const [{ id }] = await t.db('accepted_objects')
      .insert({ kind, organization_id: organizationId, identity: `${organizationId}|${body}`, sha256: createHash('sha256').update(body).digest('hex'), size: 1, blob_key: `x/${body}`, source: 'test', summary: JSON.stringify({ controlId: body, ...summary }) })
      .returning('id');
    await worker.drain();
    return t.db('accepted_objects').where({ id }).first('id', 'state', 'error');
  };
  const patientOf = (organizationId: number, localId: string) => t.db('patients').where({ organization_id: organizationId, local_id: localId }).first();
  const observationsOf = (patientId: number) => t.db('observations').where({ patient_id: patientId }).orderBy('obs_key').select();

  it('writes an ORU as a report keyed by its order number, with each value, unit, range and flag', async () => {
    const state = await index(h1, results({ localId: 'M1', name: { ideographic: '王芳' }, sex: 'F', birthDate: '1949-12-31', nationalId: nid(WANG) }, report('LAB-1', [
      glucose(6.8, 'final', { abnormalFlags: ['H'] }),
      { key: 'CRP', local: { code: 'CRP' }, valueType: 'SN', value: { number: 100, comparator: '>' }, unit: { text: 'mg/L', ucum: false }, status: 'final' },
      { key: 'HBSAG', local: { code: 'HBSAG' }, valueType: 'CWE', value: { coded: { code: 'NEG', display: '阴性', system: 'L' } }, status: 'preliminary' },
    ])));
    expect(state.state).toBe('indexed');
    const patient = await patientOf(h1, 'M1');
    expect(patient).toMatchObject({ national_id_masked: '110105********002X', name_ideographic: '王芳' });
    const reportRow = await t.db('lab_reports').where({ organization_id: h1, report_key: 'LAB-1' }).first();
    expect(reportRow).toMatchObject({ patient_id: patient.id, filler_order_number: 'LAB-1', local_code: 'BIO', status: 'final', source: 'hl7v2', accepted_id: state.id });
    expect(reportRow.effective_at.toISOString()).toBe('2024-03-15T00:00:00.000Z');
    const [crp, glu, hbsag] = await observationsOf(patient.id);
    expect(glu).toMatchObject({ report_id: reportRow.id, loinc_code: '2345-7', value_num: 6.8, unit: 'mmol/L', unit_ucum: true, ref_low: 3.9, ref_high: 6.1, abnormal_flags: ['H'], status: 'final' });
    expect(crp).toMatchObject({ value_num: 100, value_comparator: '>' });
    expect(hbsag).toMatchObject({ value_code: 'NEG', value_code_display: '阴性', status: 'preliminary' });
  });

  it('replaces a result with its correction and keeps the earlier value in history', async () => {
    const patient = { localId: 'M2', name: { ideographic: '李四' } };
    await index(h1, results(patient, report('LAB-2', [glucose(5.1), { ...glucose(4.0), key: 'K', local: { code: 'K' }, loinc: undefined }])));
    const corrected = await index(h1, results(patient, report('LAB-2', [glucose(7.9, 'corrected')], 'corrected')));
    const p = await patientOf(h1, 'M2');
    const rows = await observationsOf(p.id);
    expect(rows.map((r) => [r.obs_key, r.value_num, r.status])).toEqual([['GLU', 7.9, 'corrected'], ['K', 4.0, 'final']]);
    const history = await t.db('observation_history').where({ observation_id: rows[0].id }).select();
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ replaced_by_accepted_id: corrected.id, prior: { value_num: 5.1, status: 'final' } });
    expect(await t.db('lab_reports').where({ report_key: 'LAB-2' }).first('status')).toEqual({ status: 'corrected' });
  });

  it('marks preliminary results, lets the final replace them, and never lets a late preliminary replace a final', async () => {
    const patient = { localId: 'M3' };
    await index(h1, results(patient, report('LAB-3', [glucose(5.0, 'preliminary')], 'preliminary')));
    const p = await patientOf(h1, 'M3');
    expect((await observationsOf(p.id))[0]).toMatchObject({ status: 'preliminary', value_num: 5.0 });
    await index(h1, results(patient, report('LAB-3', [glucose(5.2)])));
    await index(h1, results(patient, report('LAB-3', [glucose(5.0, 'preliminary')], 'preliminary')));
    expect((await observationsOf(p.id))[0]).toMatchObject({ status: 'final', value_num: 5.2 });
    expect(await t.db('lab_reports').where({ report_key: 'LAB-3' }).first('status')).toEqual({ status: 'final' });
  });

  it('makes the records of two hospitals with one national ID one person; name and birth date alone only a candidate', async () => {
    await index(h1, results({ localId: 'A-1', name: { ideographic: '张三' }, sex: 'M', birthDate: '1990-03-07', nationalId: nid(LI) }, report('LAB-4', [glucose(5.5)])));
    await index(h2, results({ localId: 'B-1', name: { alphabetic: 'Zhang^San' }, nationalId: nid(LI) }, report('LAB-4', [glucose(6.5)])));
    await index(h2, { lab: 1, event: 'registration', messageType: 'ADT^A04', groups: [{ patient: { localId: 'B-2', name: { ideographic: '张三' }, sex: 'M', birthDate: '1990-03-07' }, reports: [] }] });
    const [a, b, c] = await Promise.all([patientOf(h1, 'A-1'), patientOf(h2, 'B-1'), patientOf(h2, 'B-2')]);
    expect(b.person_id).toBe(a.person_id);
    expect(c.person_id).not.toBe(a.person_id);
    expect(await t.db('person_link_candidates').where({ patient_id: c.id }).first('state')).toEqual({ state: 'open' });
  });

  it('merges a prior record into the survivor on A40, files later messages for the prior number under it, and undoes the merge', async () => {
    await index(h1, results({ localId: 'OLD-1', name: { ideographic: '赵六' } }, report('LAB-5', [glucose(6.0)])));
    await index(h1, results({ localId: 'NEW-1', name: { ideographic: '赵六' } }, report('LAB-6', [glucose(6.1)])));
    const merged = await index(h1, { lab: 1, event: 'merge', messageType: 'ADT^A40', groups: [{ patient: { localId: 'NEW-1', name: { ideographic: '赵六' } }, reports: [], priorLocalIds: ['OLD-1'] }] });
    expect(merged.state).toBe('indexed');
    const [old, survivor] = await Promise.all([patientOf(h1, 'OLD-1'), patientOf(h1, 'NEW-1')]);
    expect(old.merged_into_patient_id).toBe(survivor.id);
    expect(await t.db('lab_reports').where({ patient_id: survivor.id }).orderBy('report_key').pluck('report_key')).toEqual(['LAB-5', 'LAB-6']);
    expect(await observationsOf(old.id)).toEqual([]);
    expect(await t.db('persons').where({ id: old.person_id }).first('merged_into_id')).toEqual({ merged_into_id: survivor.person_id });
    // a result sent later under the retired number follows the merge
    await index(h1, results({ localId: 'OLD-1' }, report('LAB-7', [glucose(5.9)])));
    expect(await t.db('lab_reports').where({ report_key: 'LAB-7' }).first('patient_id')).toEqual({ patient_id: survivor.id });
    // the same A40 again changes nothing
    await index(h1, { lab: 1, event: 'merge', messageType: 'ADT^A40', groups: [{ patient: { localId: 'NEW-1' }, reports: [], priorLocalIds: ['OLD-1'] }] });
    expect(await t.db('person_merges').where({ retired_patient_id: old.id, kind: 'merge' }).count('* as n').first()).toEqual({ n: 1 });

    const undone = await t.db.transaction((trx) => unmergePatients(trx, { organizationId: h1, priorLocalId: 'OLD-1', source: 'test' }));
    expect(undone).toEqual({ reportsMoved: 1 });
    expect(await t.db('lab_reports').where({ patient_id: old.id }).pluck('report_key')).toEqual(['LAB-5']);
    expect((await observationsOf(old.id)).map((o) => o.value_num)).toEqual([6.0]);
    expect(await t.db('lab_reports').where({ patient_id: survivor.id }).orderBy('report_key').pluck('report_key')).toEqual(['LAB-6', 'LAB-7']);
    expect(await patientOf(h1, 'OLD-1')).toMatchObject({ merged_into_patient_id: null });
    expect(await t.db('persons').where({ id: old.person_id }).first('merged_into_id')).toEqual({ merged_into_id: null });
    expect(await t.db('person_merges').where({ retired_patient_id: old.id }).orderBy('id').pluck('kind')).toEqual(['merge', 'unmerge']);
    await expect(t.db.transaction((trx) => unmergePatients(trx, { organizationId: h1, priorLocalId: 'OLD-1', source: 'test' }))).rejects.toMatchObject({ kind: 'NotFound' });
  });

  it('refuses an A40 that would merge two different national IDs, keeping the message as failed', async () => {
    await index(h1, results({ localId: 'X-1', nationalId: nid(WANG) }, report('LAB-8', [glucose(5)])));
    await index(h1, results({ localId: 'X-2', nationalId: nid('440524198001010013') }, report('LAB-9', [glucose(5)])));
    const state = await index(h1, { lab: 1, event: 'merge', messageType: 'ADT^A40', groups: [{ patient: { localId: 'X-2' }, reports: [], priorLocalIds: ['X-1'] }] });
    expect(state).toMatchObject({ state: 'failed', error: expect.stringContaining('different national IDs') });
    expect((await patientOf(h1, 'X-1')).merged_into_patient_id).toBeNull();
  });

  it('keeps a summary that is not a lab submission as failed', async () => {
    expect(await index(h1, { lab: 7, groups: [] })).toMatchObject({ state: 'failed', error: expect.stringContaining('not a lab submission') });
  });

  it('indexes a FHIR Bundle submission the same way', async () => {
    const state = await index(h2, results({ localId: 'F-1', name: { ideographic: '陈^静', alphabetic: 'Chen^Jing' } }, report('I|sys|R-1', [glucose(5.4)])), 'fhir');
    expect(state.state).toBe('indexed');
    expect(await t.db('lab_reports').where({ organization_id: h2, report_key: 'I|sys|R-1' }).first('source')).toEqual({ source: 'fhir' });
  });
});
