import { testDatabase, testLogger, type TestDatabase } from '@hub/shared/testing';
import { createRecognitionStage, type RecognitionStage } from '.';
import { createTestRegion, type TestRegion } from './test-region';

const K = '2823-3';
const NA = '2951-2';
const TP = '2885-2';
const GLU = '2345-7';

describe('the recognition stage', () => {
  let t: TestDatabase;
  let r: TestRegion;
  let stage: RecognitionStage;
  beforeAll(async () => {
    t = await testDatabase();
    r = await createTestRegion(t.db, [
      { code: 'H1', grade: '3A' },
      { code: 'H2', grade: '2A', stoppedPrintingFilmOn: '2026-01-01' },
      { code: 'H3' },
      { code: 'H4' },
      { code: 'H5' },
      { code: 'IC', kind: 'imaging_centre', stoppedPrintingFilmOn: '2026-02-01' },
    ]);
    stage = createRecognitionStage({ db: t.db, log: testLogger(), factsStaleMs: 0 });
  });
  afterAll(() => t.drop());

  const rowsOf = (kind: string, resultId: number) =>
    t.db('recognition_results as r').join('catalog_items as i', 'i.id', 'r.item_id').where({ 'r.kind': kind, 'r.result_id': resultId }).orderBy('i.code').select('i.code', 'r.*');

  it('maps a lab report and a study to their catalog items, once however often they are queued', async () => {
    const person = await r.person();
    const patient = await r.patient('H1', 'M-1', person);
    const report = await r.lab('H1', patient, { loinc: K, at: '2026-01-10T09:30:00+08:00', value: 4.1 });
    const study = await r.study('H2', await r.patient('H2', 'B-1', person), { modality: 'CT', bodyPart: 'CHEST', date: '2026-01-11', time: '233000' });
    await t.db('studies').where({ id: study }).update({ description: 'CT chest plain' });
    await stage.drain();
    await stage.drain();

    const [lab] = await rowsOf('lab', report);
    expect(lab).toMatchObject({ code: 'LAB-K', status: 'final', reference_day: '2026-01-10', patient_id: patient, corrected_at: null });
    expect(lab.summary.values).toEqual([expect.objectContaining({ code: K, value: '4.1', unit: 'mmol/L' })]);
    const [ct] = await rowsOf('imaging', study);
    // 23:30 in Beijing is that day, whatever the UTC date
    expect(ct).toMatchObject({ code: 'CT-CHEST', status: 'final', reference_day: '2026-01-11', reference_at: new Date('2026-01-11T15:30:00Z') });
    expect(ct.summary).toMatchObject({ description: 'CT chest plain', modalities: ['CT'], bodyParts: ['CHEST'] });
    expect(await t.db('recognition_queue').count('* as n').first()).toEqual({ n: 0 });
    // one upload each; H2 stopped printing film before the study: its 3 films are avoided
    const daily = await t.db('recognition_daily').orderBy('day').select('day', 'uploads', 'films_avoided');
    expect(daily).toEqual([
      { day: '2026-01-10', uploads: 1, films_avoided: 0 },
      { day: '2026-01-11', uploads: 1, films_avoided: 3 },
    ]);
  });

  it('follows a preliminary result to its final one, and marks a later change a correction', async () => {
    const patient = await r.patient('H1', 'M-2', await r.person());
    const report = await r.lab('H1', patient, { loinc: GLU, at: '2026-02-01T08:00:00+08:00', status: 'preliminary', value: 6.1 });
    await stage.drain();
    expect((await rowsOf('lab', report))[0]).toMatchObject({ status: 'preliminary', corrected_at: null });

    const finalise = async (status: string, value: number) => {
      await t.db('observations').where({ report_id: report }).update({ status: status === 'corrected' ? 'corrected' : 'final', value_num: value });
      // the index rewrites the report with the new message's id; its status change queues it as well
      await t.db('lab_reports').where({ id: report }).update({ status, updated_at: new Date() });
    };
    await finalise('final', 6.1);
    await stage.drain();
    expect((await rowsOf('lab', report))[0]).toMatchObject({ status: 'final', corrected_at: null });

    await finalise('corrected', 7.9);
    await stage.drain();
    const [corrected] = await rowsOf('lab', report);
    expect(corrected.status).toBe('corrected');
    expect(corrected.corrected_at).toBeInstanceOf(Date);
    expect(corrected.summary.values[0].value).toBe('7.9');
    // an upload is counted once, whatever happens to it later
    expect(await t.db('recognition_daily').where({ day: '2026-02-01' }).first('uploads')).toEqual({ uploads: 1 });
  });

  it('maps a study once its body part is known, and withdraws a cancelled report', async () => {
    const patient = await r.patient('IC', 'IC-1', await r.person());
    const study = await r.study('IC', patient, { modality: 'MR', bodyPart: 'UNKNOWNPART', date: '2026-02-10' });
    await stage.drain();
    expect(await rowsOf('imaging', study)).toEqual([]);
    await t.db('studies').where({ id: study }).update({ body_parts: ['KNEE'] });
    await stage.drain();
    expect((await rowsOf('imaging', study)).map((s) => s.code)).toEqual(['MR-KNEE']);

    const report = await r.lab('IC', patient, { loinc: K, at: '2026-02-10T08:00:00+08:00' });
    await stage.drain();
    await t.db('lab_reports').where({ id: report }).update({ status: 'entered-in-error' });
    await stage.drain();
    expect((await rowsOf('lab', report))[0].status).toBe('withdrawn');
  });

  describe('missed repeats on a timeline', () => {
    beforeAll(async () => {
      await r.qualify('H1', { category: 'clinical-chemistry', from: '2026-01-01', until: '2026-03-06' });
      await r.qualify('H5', { category: 'clinical-chemistry', from: '2026-01-01' });
    });

    it('records a repeat made while a recognizable prior existed, at the boundaries of window, qualification, availability, consent and decision', async () => {
      const everyone = ['H1', 'H2', 'H3', 'H4', 'H5'];
      const person = async (consent: 'region' | string[] | null) => {
        const id = await r.person();
        const records = Object.fromEntries(await Promise.all(everyone.map(async (o) => [o, await r.patient(o, `${o}-${id}`, id)] as const)));
        if (consent === 'region') await r.consent(id, { recordedBy: 'H1', from: '2026-01-01T00:00:00+08:00' });
        else if (consent) await r.consent(id, { recordedBy: 'H5', from: '2026-01-01T00:00:00+08:00', organizations: consent });
        return { id, records };
      };
      const P = await person('region');
      const R = await person('region');
      const S = await person('region');
      const Q = await person(['H2']);

      // priors first, as they reach the hub
      await r.lab('H1', P.records.H1, { loinc: K, at: '2026-03-01T10:00:00+08:00' });
      await r.lab('H5', R.records.H5, { loinc: NA, at: '2026-04-01T08:00:00+08:00' });
      await r.lab('H5', S.records.H5, { loinc: TP, at: '2026-05-01T08:00:00+08:00', availableAt: '2026-05-20T08:00:00+08:00' });
      await r.lab('H5', S.records.H5, { loinc: GLU, at: '2026-06-01T08:00:00+08:00', status: 'preliminary' });
      await r.lab('H5', Q.records.H5, { loinc: K, at: '2026-03-01T08:00:00+08:00' });
      await stage.drain();

      // H3 checked R's sodium on 5 April and declined the prior (a check row and a decision, as the API writes them)
      const [prior] = await t.db('recognition_results').where({ patient_id: R.records.H5, item_id: r.item('LAB-NA') }).select('id');
      const [check] = await t.db('recognition_checks')
        .insert({ organization_id: r.org('H3'), practitioner: 'Dr Wu', purpose: 'treatment', person_id: R.id, item_id: r.item('LAB-NA'), asked_at: new Date('2026-04-05T09:00:00+08:00'), day: '2026-04-05', offered_ids: [prior.id], recognizable_ids: [prior.id] })
        .returning('id');
      await t.db('recognition_decisions').insert({ check_id: check.id, result_row_id: prior.id, organization_id: r.org('H3'), person_id: R.id, item_id: r.item('LAB-NA'), decision: 'declined', reasons: ['condition-changed'], practitioner: 'Dr Wu', decided_at: new Date('2026-04-05T09:01:00+08:00'), day: '2026-04-05', price_cny: 6 });

      // the repeats
      await r.lab('H2', P.records.H2, { loinc: K, at: '2026-03-05T09:00:00+08:00' }); // missed: H1 qualified, day 4 of 7
      await r.lab('H3', P.records.H3, { loinc: K, at: '2026-03-06T09:00:00+08:00' }); // missed: H1's qualification ends that day
      await r.lab('H4', P.records.H4, { loinc: K, at: '2026-03-07T09:00:00+08:00' }); // not: it ended the day before
      await r.lab('H1', R.records.H1, { loinc: NA, at: '2026-04-08T20:00:00+08:00' }); // missed: the last day of H5's window
      await r.lab('H2', R.records.H2, { loinc: NA, at: '2026-04-09T08:00:00+08:00' }); // not: the day after
      await r.lab('H3', R.records.H3, { loinc: NA, at: '2026-04-06T08:00:00+08:00' }); // not: H3 decided the day before
      await r.lab('H1', S.records.H1, { loinc: TP, at: '2026-05-10T08:00:00+08:00' }); // not: the prior reached the hub on the 20th
      await r.lab('H2', S.records.H2, { loinc: TP, at: '2026-05-25T08:00:00+08:00' }); // missed: by then it had
      await r.lab('H2', S.records.H2, { loinc: GLU, at: '2026-06-02T08:00:00+08:00' }); // not: the prior is preliminary
      await r.lab('H2', Q.records.H2, { loinc: K, at: '2026-03-03T08:00:00+08:00' }); // missed: Q's consent names H2
      await r.lab('H4', Q.records.H4, { loinc: K, at: '2026-03-03T08:00:00+08:00' }); // not: no consent covers H4
      await r.lab('H5', Q.records.H5, { loinc: K, at: '2026-03-04T08:00:00+08:00' }); // not: its own prior is no mutual recognition
      await stage.drain();

      const missed = await t.db('recognition_missed as m')
        .join('organizations as o', 'o.id', 'm.organization_id')
        .join('recognition_results as p', 'p.id', 'm.prior_row_id')
        .join('organizations as po', 'po.id', 'p.organization_id')
        .join('catalog_items as i', 'i.id', 'm.item_id')
        .orderBy(['m.day', 'o.code'])
        .select('m.day', 'o.code as repeatedBy', 'po.code as prior', 'i.code as item', 'm.price_cny as price', 'm.person_id as person');
      expect(missed).toEqual([
        { day: '2026-03-03', repeatedBy: 'H2', prior: 'H5', item: 'LAB-K', price: 6, person: Q.id },
        { day: '2026-03-05', repeatedBy: 'H2', prior: 'H1', item: 'LAB-K', price: 6, person: P.id },
        { day: '2026-03-06', repeatedBy: 'H3', prior: 'H1', item: 'LAB-K', price: 6, person: P.id },
        { day: '2026-04-08', repeatedBy: 'H1', prior: 'H5', item: 'LAB-NA', price: 6, person: R.id },
        { day: '2026-05-25', repeatedBy: 'H2', prior: 'H5', item: 'LAB-TP', price: 5, person: S.id },
      ]);
      const rolled = await t.db('recognition_daily').where('missed', '>', 0).sum('missed as n').sum('missed_cny as cny').first();
      expect(rolled).toEqual({ n: 5, cny: 29 });
      // mapping again changes nothing
      await t.db('recognition_queue').insert((await t.db('lab_reports').select('id')).map((l: { id: number }) => ({ kind: 'lab', result_id: l.id })));
      await stage.drain();
      expect(await t.db('recognition_missed').count('* as n').first()).toEqual({ n: 5 });
    });
  });
});
