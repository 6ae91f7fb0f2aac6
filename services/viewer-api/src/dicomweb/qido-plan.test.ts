import { testDatabase, type TestDatabase } from '@hub/shared/testing';
import type { Level } from './attributes';
import { parseQidoQuery } from './qido-query';
import { readableBy } from '../recognition/authorizations';
import { matchingPatients, qidoSearch, runQidoSearch, SCAN_WINDOW, type QidoAccess } from './qido-search';

/**
 * Each QIDO-RS search runs on an index: checked with EXPLAIN on a generated index of
 * 50,000 studies (10,000 patients, 100,000 series, 200,000 instances) after ANALYZE, so the
 * planner sees real statistics and would pick a sequential scan where no index serves.
 */
describe('QIDO-RS query plans', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await testDatabase();
    await t.db.raw(`
      insert into organizations (code, name, kind) values ('GEN', 'generated', 'hospital');
      insert into persons (national_id_masked) select null from generate_series(1, 10000);
      insert into patients (organization_id, local_id, person_id, name_alphabetic, name_ideographic, name_key, birth_date, sex)
        select o.id, 'PID' || g, p.first + g - 1, 'Pat^' || substr(md5(g::text), 1, 6), chr(19968 + g % 5000) || chr(19968 + (g * 7) % 5000),
               chr(19968 + g % 5000) || chr(19968 + (g * 7) % 5000), date '1950-01-01' + g % 20000, 'F'
        from generate_series(1, 10000) g, (select id from organizations where code = 'GEN') o, (select min(id) as first from persons) p;
      insert into studies (study_uid, organization_id, patient_id, study_date, accession_number, modalities, series_count, instance_count)
        select '1.2.826.0.1.' || g, o.id, p.first + g % 10000, date '2015-01-01' + g % 3650, 'ACC' || g,
               array[(array['CT','MR','CR','US','DX'])[1 + g % 5]], 2, 4
        from generate_series(1, 50000) g, (select id from organizations where code = 'GEN') o, (select min(id) as first from patients) p;
      insert into study_modalities (study_id, modality, study_date) select id, modalities[1], study_date from studies;
      insert into series (series_uid, study_id, modality, series_number, instance_count, metadata_base)
        select st.study_uid || '.' || n, st.id, st.modalities[1], n, 2, '{}' from studies st, generate_series(1, 2) n;
      insert into accepted_objects (kind, organization_id, identity, sha256, size, blob_key, source, summary, state)
        select 'dicom', id, 'generated', repeat('0', 64), 1, 'k', 'test', '{}', 'indexed' from organizations where code = 'GEN';
      insert into instances (sop_instance_uid, series_id, sop_class_uid, instance_number, transfer_syntax_uid, accepted_object_id, blob_key, size, sha256, received_at)
        select se.series_uid || '.' || n, se.id, '1.2.840.10008.5.1.4.1.1.2', n, '1.2.840.10008.1.2.1', a.id, 'k', 1, repeat('0', 64), now()
        from series se, generate_series(1, 2) n, (select id from accepted_objects where identity = 'generated') a;
      -- a patient in ten has authorized another hospital
      insert into organizations (code, name, kind) values ('OTHER-H', 'another hospital', 'hospital');
      insert into consents (person_id, recorded_by_organization_id, scope, purpose, method, valid_from)
        select p.id, o.id, 'organizations', 'treatment', 'written', now() - interval '1 day' from persons p, (select id from organizations where code = 'GEN') o where p.id % 10 = 0;
      insert into consent_organizations (consent_id, organization_id) select c.id, o.id from consents c, (select id from organizations where code = 'OTHER-H') o;
      analyze;
    `);
  }, 120_000);
  afterAll(() => t.drop());

  // Sequential scans are priced out, as at production size: on these few thousand rows a
  // planner (PostgreSQL 15 more than 17) may prefer one, which says nothing about 50 M studies.
  const explain = async (qb: { toSQL(): { sql: string; bindings: readonly unknown[] } }) => {
    const sql = qb.toSQL();
    const rows = await t.db.transaction(async (trx) => {
      await trx.raw('set local enable_seqscan = off');
      return (await trx.raw(`explain ${sql.sql}`, sql.bindings as never)).rows;
    });
    return rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');
  };

  /** The plans of a search as runQidoSearch runs it: the patients first when it names them, then the studies. */
  async function plan(level: Level, query: Record<string, string>, scope: { study?: string; series?: string } = {}): Promise<string> {
    const q = parseQidoQuery(level, scope, { limit: '25', ...query });
    const lookup = matchingPatients(t.db, q);
    const patients: number[] | undefined = lookup ? await lookup.clone().pluck('p.id') : undefined;
    return [lookup ? await explain(lookup) : '', await explain(qidoSearch(t.db, q, patients))].join('\n');
  }

  it.each([
    ['PatientID', 'study', { PatientID: 'PID1234' }, {}, ['patients_local_id_idx', 'studies_patient_date_idx']],
    ['PatientName (ideographic or alphabetic, prefix)', 'study', { PatientName: 'pat^3a*' }, {}, ['patients_name_idx', 'patients_name_alphabetic_idx', 'studies_patient_date_idx']],
    ['a rare ideographic name, newest first', 'study', { PatientName: '丁*' }, {}, ['patients_name_idx', 'studies_patient_date_idx']],
    // the studies side may be served by the patient's dates or by the date range: either is an index
    ['PatientName with a StudyDate range and a modality', 'study', { PatientName: 'pat^3*', StudyDate: '20200101-20201231', ModalitiesInStudy: 'CT' }, {}, ['patients_name_idx', 'studies_']],
    ['a StudyDate range', 'study', { StudyDate: '20200101-20200115' }, {}, ['studies_date_idx']],
    ['ModalitiesInStudy', 'study', { ModalitiesInStudy: 'MR' }, {}, ['study_modalities_date_idx']],
    ['ModalitiesInStudy with a StudyDate range', 'study', { ModalitiesInStudy: 'CT', StudyDate: '20200101-20200131' }, {}, ['study_modalities_date_idx']],
    ['AccessionNumber', 'study', { AccessionNumber: 'ACC4242' }, {}, ['studies_accession_idx']],
    ['a list of StudyInstanceUIDs', 'study', { StudyInstanceUID: '1.2.826.0.1.7,1.2.826.0.1.8' }, {}, ['studies_uid_key']],
    ['no key at all (newest first)', 'study', {}, {}, ['studies_date_idx']],
    ['the series of a study', 'series', {}, { study: '1.2.826.0.1.77' }, ['studies_uid_key', 'series_study_idx']],
    ['the instances of a series', 'instance', {}, { study: '1.2.826.0.1.77', series: '1.2.826.0.1.77.1' }, ['series_uid_key', 'instances_series_idx']],
    ['a SOPInstanceUID', 'instance', { SOPInstanceUID: '1.2.826.0.1.77.1.2' }, {}, ['instances_sop_uid_key']],
    ['series by SeriesInstanceUID', 'series', { SeriesInstanceUID: '1.2.826.0.1.99.2' }, {}, ['series_uid_key']],
  ] as const)('uses an index for %s', async (_name, level, query, scope, indexes) => {
    const text = await plan(level as Level, query as Record<string, string>, scope);
    if (process.env.SHOW_PLANS) console.log(_name, text);
    expect(text).not.toMatch(/Seq Scan on (studies|patients|series|instances|study_modalities)\b/);
    for (const index of indexes) expect(text).toContain(index);
  });

  it.each([
    ['no key at all', {}, 'studies_date_idx'],
    ['ModalitiesInStudy', { ModalitiesInStudy: 'MR' }, 'study_modalities_date_idx'],
    ['AccessionNumber', { AccessionNumber: 'ACC4242' }, 'studies_accession_idx'],
  ] as const)('searches by %s for another organization on the same index, examining at most the page and its window', async (_name, query, index) => {
    const [{ id: asker }] = await t.db('organizations').insert({ code: `R-${index}`, name: 'reader', kind: 'hospital' }).returning('id');
    const readable = (columns: { organization: string; person: string }) => readableBy(t.db, { askingOrganizationId: asker, on: new Date() }, columns);
    const access: QidoAccess = { readableRecords: async (records) => records.map((r) => r.id), readable: () => readable };
    const q = parseQidoQuery('study', {}, { limit: '25', ...query });
    const text = await explain(qidoSearch(t.db, q, undefined, readable));
    if (process.env.SHOW_PLANS) console.log(_name, text);
    expect(text).not.toMatch(/Seq Scan on (studies|patients|series|instances|study_modalities|persons|consents)\b/);
    expect(text).not.toContain('Sort Key: c.');
    for (const used of [index, 'consents_person_idx']) expect(text).toContain(used);
    const started = performance.now();
    // no patient of GEN has authorized the reader: nothing is found, and a search wider than the window says so
    expect(await runQidoSearch(t.db, q, access)).toEqual({ rows: [], more: false, cut: index === 'studies_date_idx' });
    const ms = performance.now() - started;
    if (process.env.SHOW_PLANS) console.log(`${_name}: ${ms.toFixed(0)} ms for ${SCAN_WINDOW} candidates`);
    expect(ms).toBeLessThan(5_000);
  });
});
