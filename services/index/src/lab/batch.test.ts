import { createHash } from 'node:crypto';
import { createFsBlobStore } from '@hub/shared/blob';
import type { Knex } from '@hub/shared/db';
import { maskNationalId, nationalIdHash } from '@hub/shared/identity';
import { createOrganization } from '@hub/shared/org';
import { testDatabase, testLogger, TEST_ID_HASH_SECRET, type TestDatabase } from '@hub/shared/testing';
import { createIndexWorker, type AcceptedObject } from '../worker';
import { indexFhirBundle, indexHl7v2, indexLabBatch } from '.';
import type { LabSubmission, ObservationSubmission, PatientSubmission, ReportSubmission, ObservationStatus, ReportStatus } from '@hub/shared/lab';

const nid = (raw: string) => ({ hash: nationalIdHash(raw, TEST_ID_HASH_SECRET), masked: maskNationalId(raw) });
const WANG = '11010519491231002X';
const LI = '110101199003074514';

const result = (key: string, value: number, status: ObservationStatus = 'final'): ObservationSubmission => ({ key, local: { code: key }, valueType: 'NM', value: { number: value }, unit: { text: 'mmol/L', ucum: true }, abnormalFlags: value > 6 ? ['H'] : [], status });
const report = (key: string, observations: ObservationSubmission[], status: ReportStatus = 'final'): ReportSubmission => ({ key, fillerOrderNumber: key, local: { code: 'BIO' }, status, effectiveAt: '2024-03-15T08:00:00+08:00', observations });
const results = (patient: PatientSubmission, ...reports: ReportSubmission[]): LabSubmission => ({ lab: 1, event: 'results', messageType: 'ORU^R01', groups: [{ patient, reports }] });
const registration = (patient: PatientSubmission): LabSubmission => ({ lab: 1, event: 'registration', messageType: 'ADT^A04', groups: [{ patient, reports: [] }] });
const merge = (survivor: PatientSubmission, prior: string): LabSubmission => ({ lab: 1, event: 'merge', messageType: 'ADT^A40', groups: [{ patient: survivor, reports: [], priorLocalIds: [prior] }] });

/** What a hospital feed does over a day, in the order it was accepted: [organization (1 or 2), submission, kind]. */
const FEED: Array<[1 | 2, LabSubmission | Record<string, unknown>, ('hl7v2' | 'fhir')?]> = [
  [1, results({ localId: 'P1', name: { ideographic: '王芳' }, birthDate: '1949-12-31', sex: 'F', nationalId: nid(WANG) }, report('R1', [result('GLU', 6.8), result('K', 4.1)]))],
  [2, results({ localId: 'Q1', name: { alphabetic: 'Wang^Fang' }, nationalId: nid(WANG) }, report('R2', [result('GLU', 5.9)]))],
  [1, results({ localId: 'P2', name: { ideographic: '李四' }, birthDate: '1980-05-06', sex: 'M' }, report('R3', [result('GLU', 5.0)]))],
  [2, registration({ localId: 'Q2', name: { ideographic: '李^四' }, birthDate: '1980-05-06', sex: 'M' })],
  // the correction of R1 in the same batch as R1, then a late preliminary that must not win
  [1, results({ localId: 'P1' }, report('R1', [result('GLU', 7.0, 'corrected')], 'corrected'))],
  [1, results({ localId: 'P1' }, report('R1', [result('GLU', 5.0, 'preliminary')], 'preliminary'))],
  // a record first seen without its national ID, which a registration brings later in the batch
  [1, results({ localId: 'P3', name: { ideographic: '张三' } }, report('R4', [result('GLU', 4.4)]))],
  [1, registration({ localId: 'P3', nationalId: nid(LI) })],
  // a merge in the middle of a batch: what comes after it for the prior number follows it
  [1, results({ localId: 'P4', name: { ideographic: '赵六' } }, report('R5', [result('GLU', 6.0)]))],
  [1, merge({ localId: 'P5', name: { ideographic: '赵六' } }, 'P4')],
  [1, results({ localId: 'P4' }, report('R6', [result('GLU', 6.1)]))],
  [2, results({ localId: 'Q3', name: { ideographic: '陈静' } }, report('I|sys|R7', [result('GLU', 5.4)])), 'fhir'],
  [2, results({ localId: 'Q1', name: { ideographic: '王芳' }, birthDate: '1949-12-31' }, report('R8', [result('GLU', 5.5)]))],
  // two different national IDs for one record within a batch: both links stay on record
  [2, results({ localId: 'Q4', nationalId: nid(LI) }, report('R9', [result('GLU', 5.1)]))],
  [2, results({ localId: 'Q4', nationalId: nid(WANG) }, report('R9', [result('GLU', 5.2)]))],
];

/** The index as a reader sees it, by natural keys (row ids differ between the two databases). */
async function indexState(db: Knex) {
  const patients = await db('patients as p').join('organizations as o', 'o.id', 'p.organization_id').select('p.*', 'o.code').orderBy(['o.code', 'p.local_id']);
  const label = new Map(patients.map((p) => [p.id, `${p.code}/${p.local_id}`]));
  const personOf = (id: number) => patients.filter((p) => p.person_id === id).map((p) => label.get(p.id)).join('+');
  const reports = await db('lab_reports').orderBy('report_key').select();
  const reportLabel = new Map(reports.map((r) => [r.id, r.report_key]));
  return {
    patients: patients.map((p) => ({
      key: label.get(p.id),
      person: personOf(p.person_id),
      ...Object.fromEntries(['name_alphabetic', 'name_ideographic', 'name_phonetic', 'name_key', 'birth_date', 'sex', 'national_id_masked'].map((c) => [c, p[c]])),
      merged_into: label.get(p.merged_into_patient_id) ?? null,
    })),
    reports: reports.map((r) => ({ key: r.report_key, patient: label.get(r.patient_id), status: r.status, accepted: r.accepted_id, source: r.source })),
    observations: (await db('observations').select()).map((o) => `${reportLabel.get(o.report_id)} ${label.get(o.patient_id)} ${o.obs_key}=${o.value_num} ${o.status} [${o.abnormal_flags}] ${o.accepted_id}`).sort(),
    history: (await db('observation_history').select()).map((h) => `${reportLabel.get(h.report_id)} ${h.prior.value_num} ${h.prior.status} by ${h.replaced_by_accepted_id}`).sort(),
    merges: (await db('person_merges').orderBy('id').select()).map((m) => `${m.kind} ${label.get(m.surviving_patient_id)} ${label.get(m.retired_patient_id) ?? '-'}`),
    moves: (await db('lab_report_moves').select()).map((m) => `${reportLabel.get(m.report_id)} from ${label.get(m.from_patient_id)}`).sort(),
    // as unordered pairs: which of two records registered in one batch names the other may differ
    candidates: (await db('person_link_candidates').select()).map((c) => [label.get(c.patient_id), label.get(c.candidate_patient_id)].sort().join(' ~ ')).sort(),
    states: (await db('accepted_objects').orderBy('id').select('id', 'state')).map((r) => `${r.id} ${r.state}`),
  };
}

const toObject = (r: Record<string, any>): AcceptedObject => ({ id: Number(r.id), kind: r.kind, organizationId: Number(r.organization_id), identity: r.identity, sha256: r.sha256, size: Number(r.size), blobKey: r.blob_key, blobOffset: null, source: r.source, summary: r.summary, attempts: r.attempts, receivedAt: r.received_at });

describe('indexing a batch of lab submissions at once', () => {
  const dbs: TestDatabase[] = [];
  afterAll(async () => {
    for (const d of dbs) await d.drop();
  });

  /** A fresh database with the two hospitals and the feed accepted (not yet indexed). */
  async function accepted(feed = FEED) {
    const t = await testDatabase();
    dbs.push(t);
    const orgs = [(await createOrganization(t.db, { code: 'H1', name: '一院', kind: 'hospital' })).id, (await createOrganization(t.db, { code: 'H2', name: '二院', kind: 'hospital' })).id];
    const rows = feed.map(([org, summary, kind], i) => {
      const sha256 = createHash('sha256').update(String(i)).digest('hex');
      return { kind: kind ?? 'hl7v2', organization_id: orgs[org - 1], identity: `${orgs[org - 1]}|M-${i}`, sha256, size: 1, blob_key: `hl7v2/x/${i}`, source: 'test', summary: JSON.stringify({ controlId: `M-${i}`, ...summary }) };
    });
    return { t, rows };
  }
  const worker = (t: TestDatabase, batchSize: number, batch: boolean) =>
    createIndexWorker({
      db: t.db,
      databaseUrl: t.url,
      ctx: { blob: createFsBlobStore({ root: '/tmp/unused' }), log: testLogger(), idHashSecret: TEST_ID_HASH_SECRET },
      handlers: { hl7v2: indexHl7v2, fhir: indexFhirBundle },
      ...(batch ? { batchHandlers: { hl7v2: indexLabBatch, fhir: indexLabBatch } } : {}),
      loops: 1,
      batchSize,
    });

  it('leaves the index exactly as indexing the same messages one at a time does', async () => {
    const one = await accepted();
    const w1 = worker(one.t, 1, false);
    for (const row of one.rows) {
      await one.t.db('accepted_objects').insert(row);
      await w1.drain();
    }

    const all = await accepted();
    await all.t.db('accepted_objects').insert(all.rows);
    // the batch handler itself, so that a failure shows here rather than as the worker's one-by-one fallback
    await all.t.db.transaction(async (trx) => {
      const claimed = await trx('accepted_objects').orderBy('id').select();
      const byKind = (kind: string) => claimed.filter((r) => r.kind === kind).map(toObject);
      await indexLabBatch(trx, byKind('hl7v2'), { blob: createFsBlobStore({ root: '/tmp/unused' }), log: testLogger(), idHashSecret: TEST_ID_HASH_SECRET });
      await indexLabBatch(trx, byKind('fhir'), { blob: createFsBlobStore({ root: '/tmp/unused' }), log: testLogger(), idHashSecret: TEST_ID_HASH_SECRET });
      await trx('accepted_objects').update({ state: 'indexed' });
    });

    const expected = await indexState(one.t.db);
    expect(expected.history.length).toBeGreaterThan(0);
    expect(expected.candidates).toEqual(['H1/P2 ~ H2/Q2']);
    expect(await indexState(all.t.db)).toEqual(expected);
  });

  it('fails a bad submission alone and indexes the rest of its batch', async () => {
    const feed: typeof FEED = [FEED[0]!, [1, { lab: 7, groups: [] }], FEED[2]!];
    const { t, rows } = await accepted(feed);
    await t.db('accepted_objects').insert(rows);
    expect(await worker(t, 50, true).drain()).toBe(3);
    expect(await t.db('accepted_objects').orderBy('id').pluck('state')).toEqual(['indexed', 'failed', 'indexed']);
    expect(await t.db('lab_reports').orderBy('report_key').pluck('report_key')).toEqual(['R1', 'R3']);
  });

  it('indexes batches of two workers that share patients without a deadlock', async () => {
    const feed: typeof FEED = Array.from({ length: 120 }, (_, i) => [1, results({ localId: `S${(i * 7) % 13}`, name: { ideographic: '孙七' }, nationalId: i % 3 === 0 ? nid(WANG) : undefined }, report(`RS-${i}`, [result('GLU', 5 + (i % 3))]))]);
    const { t, rows } = await accepted(feed);
    await t.db('accepted_objects').insert(rows);
    const [a, b] = [worker(t, 10, true), worker(t, 10, true)];
    await Promise.all([a.drain(), b.drain()]);
    expect(await t.db('accepted_objects').where({ state: 'indexed' }).count('* as n').first()).toEqual({ n: 120 });
    expect(await t.db('observations').count('* as n').first()).toEqual({ n: 120 });
  });
});
