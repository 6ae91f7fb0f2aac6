import { createRecognitionStage, type RecognitionStage } from '@hub/index';
import { buildInstance, generateUid, instanceSpec } from '@hub/shared/dicom/testing';
import { localDate } from '@hub/shared/recognition';
import { readJson, startTestHub, testLogger, type TestHub } from '@hub/shared/testing';
import { createTestRegion, type TestRegion } from '../../../index/src/recognition/test-region';
import { indexInstances } from '../dicomweb/testing';
import { createViewerApiService } from '../index';
import { createLookupRecorder } from './lookups';

const K = '2823-3';
const GLU = '2345-7';

describe('look-ups of other organizations\' results through FHIR and DICOMweb, in the authority\'s statistics', () => {
  let t: TestHub;
  let r: TestRegion;
  let stage: RecognitionStage;
  const token: Record<string, string> = {};
  const ids: Record<string, number> = {};
  // B's chest CT and B's angiography (no catalog item); A's own chest CT
  const ct = generateUid();
  const xa = generateUid();
  const own = generateUid();
  // what the statistics must say, kept as the reads are made: one per reader, result and day
  const counted = new Set<string>();
  const expected: Array<{ organization: string; source: string; item: string | null; channel: string; lookups: number }> = [];
  const expectLookup = (reader: string, source: string, result: string, item: string | null, channel: string) => {
    if (reader === source || counted.has(`${reader}|${result}`)) return;
    counted.add(`${reader}|${result}`);
    const line = expected.find((e) => e.organization === reader && e.source === source && e.item === item && e.channel === channel);
    if (line) line.lookups += 1;
    else expected.push({ organization: reader, source, item, channel, lookups: 1 });
  };

  beforeAll(async () => {
    t = await startTestHub((hub) => [createViewerApiService(hub)]);
    r = await createTestRegion(t.hub.db, [{ code: 'A' }, { code: 'B' }, { code: 'AUTH', kind: 'authority' }]);
    stage = createRecognitionStage({ db: t.hub.db, log: testLogger(), factsStaleMs: 0 });
    token.A = await t.tokenFor('A', ['results:read']);
    token.B = await t.tokenFor('B', ['results:read']);
    token.AUTH = await t.tokenFor('AUTH', ['stats:read'], 'authority');

    const person = await r.person();
    const atA = await r.patient('A', 'A-1', person);
    const atB = await r.patient('B', 'B-1', person);
    ids.reportB = await r.lab('B', atB, { loinc: K, at: '2026-03-01T08:00:00+08:00' });
    ids.glucoseB = await r.lab('B', atB, { loinc: GLU, at: '2026-03-01T08:00:00+08:00' });
    ids.reportA = await r.lab('A', atA, { loinc: K, at: '2026-03-02T08:00:00+08:00' });
    ids.patientB = atB;
    const study = { charset: 'ISO_IR 192', studyDate: '20260301', patientName: 'Sun^San=孙^三' };
    await indexInstances(t.hub, 'B', [buildInstance(instanceSpec({ ...study, modality: 'CT', patientId: 'B-1', studyInstanceUid: ct })), buildInstance(instanceSpec({ ...study, modality: 'XA', patientId: 'B-1', studyInstanceUid: xa }))]);
    await indexInstances(t.hub, 'A', [buildInstance(instanceSpec({ ...study, modality: 'CT', patientId: 'A-1', studyInstanceUid: own }))]);
    ids.ctStudy = (await t.hub.db('studies').where({ study_uid: ct }).first('id')).id;
    // the patient authorizes the region's hospitals, for whichever person the index linked each record to
    const persons = await t.hub.db('patients').whereIn('local_id', ['A-1', 'B-1']).distinct('person_id');
    for (const p of persons) await r.consent(p.person_id, { recordedBy: 'B', from: '2026-01-01T00:00:00+08:00' });
    // every result under its catalog item (the XA study has none)
    await stage.drain();
  });
  afterAll(() => t.stop());

  const get = async (as: string, path: string) => {
    const res = await fetch(`${t.baseUrl}${path}`, { headers: { authorization: `Bearer ${token[as]}`, 'x-practitioner': `Dr ${as}`, ...(path.includes('/metadata') ? { accept: 'application/dicom+json' } : {}) } });
    expect({ path, status: res.status }).toEqual({ path, status: 200 });
    return readJson(res);
  };
  const today = () => localDate(new Date(), 'Asia/Shanghai');
  const stats = async (path: string) => {
    const res = await fetch(`${t.baseUrl}${path}${path.includes('?') ? '&' : '?'}from=${today()}&to=${today()}`, { headers: { authorization: `Bearer ${token.AUTH}` } });
    expect(res.status).toBe(200);
    return res.headers.get('content-type')?.includes('csv') ? new TextDecoder().decode(await res.arrayBuffer()) : readJson(res);
  };

  it('counts A reading B\'s report over FHIR and B\'s studies over QIDO-RS and WADO-RS, once each a day, and not A\'s or B\'s own reads', async () => {
    // A reads B's report, again, and its observations: one look-up of one result
    await get('A', `/fhir/DiagnosticReport/${ids.reportB}`);
    expectLookup('A', 'B', `lab:${ids.reportB}`, 'LAB-K', 'fhir');
    await get('A', `/fhir/DiagnosticReport/${ids.reportB}`);
    // B's glucose seen only as an Observation counts as its report
    expect((await get('A', `/fhir/Observation?patient=Patient/${ids.patientB}&code=${encodeURIComponent(`http://loinc.org|${GLU}`)}`)).entry).toHaveLength(1);
    expectLookup('A', 'B', `lab:${ids.glucoseB}`, 'LAB-GLU', 'fhir');
    expect((await get('A', `/fhir/Observation?patient=Patient/${ids.patientB}`)).entry).toHaveLength(2);
    expectLookup('A', 'B', `lab:${ids.reportB}`, 'LAB-K', 'fhir');
    expectLookup('A', 'B', `lab:${ids.glucoseB}`, 'LAB-GLU', 'fhir');
    // A finds B's CT with QIDO-RS and opens it (metadata, as a viewer does), then reads it as FHIR too
    const found = await get('A', `/dicomweb/studies?StudyInstanceUID=${ct}`);
    expect(found).toHaveLength(1);
    expectLookup('A', 'B', `imaging:${ct}`, 'CT-CHEST', 'dicomweb');
    await get('A', `/dicomweb/studies/${ct}/metadata`);
    await get('A', `/fhir/ImagingStudy/${ids.ctStudy}`);
    expectLookup('A', 'B', `imaging:${ct}`, 'CT-CHEST', 'fhir');
    // B's angiography maps to no catalog item: a look-up all the same
    await get('A', `/dicomweb/studies/${xa}/metadata`);
    expectLookup('A', 'B', `imaging:${xa}`, null, 'dicomweb');
    // own results are no look-up, whoever reads them
    await get('A', `/fhir/DiagnosticReport/${ids.reportA}`);
    await get('A', `/dicomweb/studies?StudyInstanceUID=${own}`);
    await get('B', `/fhir/DiagnosticReport/${ids.reportB}`);
    await get('B', `/dicomweb/studies/${ct}/metadata`);
    expectLookup('A', 'A', `lab:${ids.reportA}`, 'LAB-K', 'fhir');
    expectLookup('B', 'B', `imaging:${ct}`, 'CT-CHEST', 'dicomweb');
    expect(expected.reduce((n, e) => n + e.lookups, 0)).toBe(4);

    const byItem = (rows: Array<{ item: string | null }>) => [...rows].sort((a, b) => String(a.item).localeCompare(String(b.item)));
    const sorted = <T extends { item: string | null; channel: string }>(rows: T[]) => [...rows].sort((a, b) => `${a.item}|${a.channel}`.localeCompare(`${b.item}|${b.channel}`));
    const want = sorted(expected.map((e) => ({ period: today().slice(0, 7), ...e, sourceName: 'B (test)' })));
    // not folded yet: the deltas are read
    expect(await t.hub.db('recognition_lookup_deltas').count('* as n').first()).toEqual({ n: 4 });
    const lookups = await stats('/stats/recognition/lookups?by=month&group=organization,source,item,channel');
    expect(sorted(lookups.rows).map(({ organizationName: _n, kind: _k, grade: _g, ...line }: Record<string, unknown>) => line)).toEqual(want);

    // in the statistics' own lines: by organization and item, beside the checks (none here)
    const main = await stats('/stats/recognition?by=month&group=organization,item');
    const lines = byItem(main.rows.filter((x: { lookups: number }) => x.lookups > 0)).map((x: Record<string, unknown>) => ({ organization: x.organization, item: x.item, lookups: x.lookups, checks: x.checks, uploads: x.uploads }));
    expect(lines).toEqual([
      { organization: 'A', item: 'CT-CHEST', lookups: 1, checks: 0, uploads: 0 },
      { organization: 'A', item: 'LAB-GLU', lookups: 1, checks: 0, uploads: 0 },
      { organization: 'A', item: 'LAB-K', lookups: 1, checks: 0, uploads: 0 },
      { organization: 'A', item: null, lookups: 1, checks: 0, uploads: 0 },
    ]);

    // folded by the stage: the same figures from the roll-ups
    await stage.drain();
    expect(await t.hub.db('recognition_lookup_deltas').count('* as n').first()).toEqual({ n: 0 });
    expect(sorted((await stats('/stats/recognition/lookups?by=month&group=organization,source,item,channel')).rows).map(({ organizationName: _n, kind: _k, grade: _g, ...line }: Record<string, unknown>) => line)).toEqual(want);
    expect((await stats('/stats/recognition/lookups?by=total&group=channel')).rows).toEqual([
      { period: null, channel: 'dicomweb', lookups: 2 },
      { period: null, channel: 'fhir', lookups: 2 },
    ]);
    const csv = await stats('/stats/recognition/lookups?by=month&group=source,item&format=csv');
    expect(csv.trim().split('\r\n')).toEqual(['period,source,sourceName,item,lookups', `${today().slice(0, 7)},B,B (test),CT-CHEST,1`, `${today().slice(0, 7)},B,B (test),LAB-GLU,1`, `${today().slice(0, 7)},B,B (test),LAB-K,1`, `${today().slice(0, 7)},B,B (test),,1`]);
  });

  it('withholds a day\'s small counts per reader, source and item (HUB_STATS_MIN_CELL), and keeps coarser lines exact', async () => {
    const fine = await stats('/stats/recognition/lookups?by=day&group=organization,source,item');
    expect(fine.rows.map((x: Record<string, unknown>) => [x.item, x.lookups, x.suppressed])).toEqual([
      ['CT-CHEST', null, ['lookups']],
      ['LAB-GLU', null, ['lookups']],
      ['LAB-K', null, ['lookups']],
      [null, null, ['lookups']],
    ]);
    expect((await stats('/stats/recognition/lookups?by=day&group=organization,source')).rows).toEqual([expect.objectContaining({ organization: 'A', source: 'B', lookups: 4 })]);
    const csv = await stats('/stats/recognition/lookups?by=day&group=source,item&format=csv');
    expect(csv.trim().split('\r\n')[1]).toBe(`${today()},B,B (test),CT-CHEST,suppressed`);
    // the authority's only, and only its groupings
    const hospital = await fetch(`${t.baseUrl}/stats/recognition/lookups`, { headers: { authorization: `Bearer ${await t.tokenFor('A', ['stats:read'])}` } });
    expect((await readJson(hospital)).error).toMatchObject({ kind: 'Forbidden', code: 'not-authority' });
    const patient = await fetch(`${t.baseUrl}/stats/recognition/lookups?group=patient`, { headers: { authorization: `Bearer ${token.AUTH}` } });
    expect(patient.status).toBe(400);
  });

  it('counts the same result again on another day of the region, and forgets the marks of days gone by', async () => {
    const record = createLookupRecorder(t.hub.db);
    const a = r.org('A');
    // 23:59 and 00:01 in Beijing are two days, whatever the UTC date
    expect(await record(a, 'fhir', { reports: [ids.reportB!] }, new Date('2031-05-01T23:59:00+08:00'))).toBe(1);
    expect(await record(a, 'fhir', { reports: [ids.reportB!] }, new Date('2031-05-01T23:59:30+08:00'))).toBe(0);
    expect(await record(a, 'dicomweb', { studyUids: [ct], reports: [ids.reportB!] }, new Date('2031-05-02T00:01:00+08:00'))).toBe(2);
    expect(await t.hub.db('recognition_lookup_deltas as d').join('catalog_items as i', 'i.id', 'd.item_id').where('d.day', '>=', '2031-01-01').orderBy(['d.day', 'i.code']).select('d.day', 'd.channel', 'i.code')).toEqual([
      { day: '2031-05-01', channel: 'fhir', code: 'LAB-K' },
      { day: '2031-05-02', channel: 'dicomweb', code: 'CT-CHEST' },
      { day: '2031-05-02', channel: 'dicomweb', code: 'LAB-K' },
    ]);
    // a recorder started later, reading days after: the old days' marks go, today's stay
    await createLookupRecorder(t.hub.db)(a, 'fhir', { reports: [ids.reportA!] }, new Date('2031-05-05T12:00:00+08:00'));
    expect(await t.hub.db('recognition_lookup_marks').distinct('day').orderBy('day').pluck('day')).toEqual(['2031-05-02']);
    await t.hub.db('recognition_lookup_deltas').where('day', '>=', '2031-01-01').delete();
  });

  it('leaves out reads the patient did not authorize', async () => {
    const stranger = await r.person();
    const record = await r.patient('B', 'B-2', stranger);
    const report = await r.lab('B', record, { loinc: K, at: '2026-03-03T08:00:00+08:00' });
    await stage.drain();
    const res = await fetch(`${t.baseUrl}/fhir/DiagnosticReport/${report}`, { headers: { authorization: `Bearer ${token.A}` } });
    expect(res.status).toBe(403);
    expect(await t.hub.db('recognition_lookup_deltas').count('* as n').first()).toEqual({ n: 0 });
    expect(await t.hub.db('recognition_lookup_marks').where({ result_id: report }).first()).toBeUndefined();
  });
});
