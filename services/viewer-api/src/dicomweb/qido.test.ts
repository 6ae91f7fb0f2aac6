import { buildInstance, generateUid, instanceSpec } from '@hub/shared/dicom/testing';
import { readJson, startTestHub, type TestHub } from '@hub/shared/testing';
import { createDicomwebRouter } from '.';
import { recordConsent } from '../recognition';
import { indexInstances } from './testing';

describe('QIDO-RS', () => {
  let t: TestHub;
  let token: string;
  // A: GB18030 name, CT + SR; B and D: one UTF-8 patient, MR then CT; C: a plain ASCII name, CR
  const A = { study: generateUid(), ct: generateUid(), sr: generateUid() };
  const B = { study: generateUid(), mr: generateUid() };
  const C = { study: generateUid() };
  const D = { study: generateUid() };
  const ctInstances = [generateUid(), generateUid()];

  beforeAll(async () => {
    t = await startTestHub((hub) => [{ name: 'dicomweb', mount: (app) => app.use(createDicomwebRouter({ db: hub.db, blob: hub.blob, log: hub.log, publicUrl: 'http://hub.example' })) }]);
    token = await t.tokenFor('H1', ['results:read']);
    const a = { studyInstanceUid: A.study, patientId: 'P-GB', charset: 'GB18030', patientName: 'Zhang^San=张^三', studyDate: '20240115', accessionNumber: 'ACC-A', referringPhysicianName: 'Wang^Yi=王^医', studyDescription: '胸部 CT' };
    const b = { patientId: 'P-UTF', charset: 'ISO_IR 192', patientName: 'Li^Si=李^四', patientSex: 'F' };
    await indexInstances(t.hub, 'H1', [
      buildInstance(instanceSpec({ ...a, modality: 'CT', seriesInstanceUid: A.ct, seriesNumber: 1, instanceNumber: 1, sopInstanceUid: ctInstances[0] })),
      buildInstance(instanceSpec({ ...a, modality: 'CT', seriesInstanceUid: A.ct, seriesNumber: 1, instanceNumber: 2, sopInstanceUid: ctInstances[1] })),
      buildInstance(instanceSpec({ ...a, modality: 'SR', seriesInstanceUid: A.sr, seriesNumber: 2 })),
      buildInstance(instanceSpec({ ...b, studyInstanceUid: B.study, modality: 'MR', seriesInstanceUid: B.mr, studyDate: '20240210', accessionNumber: 'ACC-B' })),
      buildInstance(instanceSpec({ ...b, studyInstanceUid: D.study, modality: 'CT', studyDate: '20240301', accessionNumber: 'ACC-D' })),
    ]);
    await indexInstances(t.hub, 'H2', [buildInstance(instanceSpec({ studyInstanceUid: C.study, patientId: 'P-ASCII', patientName: 'Wang^Wu', modality: 'CR', studyDate: '20231201', accessionNumber: 'ACC-C' }))]);
    // at H2, Wang Wu authorized H1 (the reader below) to read his results
    const wang = await t.hub.db('patients as p').join('organizations as o', 'o.id', 'p.organization_id').where({ 'p.local_id': 'P-ASCII' }).first('p.person_id', 'o.id');
    const h1 = await t.hub.db('organizations').where({ code: 'H1' }).first('id');
    await recordConsent(t.hub.db, { personId: wang.person_id, recordedByOrganizationId: wang.id, scope: { kind: 'organizations', organizationIds: [h1.id] }, purpose: 'treatment', method: 'written', validFrom: new Date('2023-01-01T00:00:00Z') });
  });
  afterAll(() => t.stop());

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${t.baseUrl}/dicomweb${path}`, { headers: { authorization: `Bearer ${token}`, 'x-practitioner': 'Dr Li', ...headers } });
  const studies = async (query: string) => {
    const res = await get(`/studies?${query}`);
    expect(res.status).toBe(200);
    return ((await readJson(res)) as Array<Record<string, { Value?: unknown[] }>>).map((r) => r['0020000D']!.Value![0]);
  };

  it('finds patients by name with wildcards in any name group, case-insensitive, for GB18030 and UTF-8 names', async () => {
    expect(await studies('PatientName=张*')).toEqual([A.study]);
    expect(await studies(`PatientName=${encodeURIComponent('李^四')}`)).toEqual([D.study, B.study]);
    expect(await studies('PatientName=zhang*')).toEqual([A.study]);
    expect(await studies(`00100010=${encodeURIComponent('Li^S?')}`)).toEqual([D.study, B.study]);
    expect(await studies('PatientName=Wang*')).toEqual([C.study]);
    // family and given names are matched apart when the query names them: Wan^W* is not Wang^Wu
    expect(await studies('PatientName=Wang^W*')).toEqual([C.study]);
    expect(await studies('PatientName=Wan^W*')).toEqual([]);
    const [first] = await readJson(await get('/studies?PatientName=张*'));
    expect(first['00100010']).toEqual({ vr: 'PN', Value: [{ Alphabetic: 'Zhang^San', Ideographic: '张^三' }] });
  });

  it('refuses a name with a leading wildcard unless another key narrows the search', async () => {
    const res = await get('/studies?PatientName=*四');
    expect(res.status).toBe(400);
    expect((await readJson(res)).error.message).toContain('leading wildcard');
    expect(await studies('PatientName=*四&StudyDate=20240201-')).toEqual([D.study, B.study]);
  });

  it('matches single dates, date ranges and ranges open at either end', async () => {
    expect(await studies('StudyDate=20240101-20240131')).toEqual([A.study]);
    expect(await studies('StudyDate=20240201-')).toEqual([D.study, B.study]);
    expect(await studies('StudyDate=-20231231')).toEqual([C.study]);
    expect(await studies('00080020=20240210')).toEqual([B.study]);
    const bad = await get('/studies?StudyDate=2024-01-01');
    expect(bad.status).toBe(400);
  });

  it('matches ModalitiesInStudy, AccessionNumber, PatientID and a list of Study Instance UIDs', async () => {
    expect(await studies('ModalitiesInStudy=CT')).toEqual([D.study, A.study]);
    expect(await studies('ModalitiesInStudy=CT&StudyDate=20240101-20240131')).toEqual([A.study]);
    expect(await studies('ModalitiesInStudy=MR,CR')).toEqual([B.study, C.study]);
    expect(await studies('AccessionNumber=ACC-B')).toEqual([B.study]);
    expect(await studies('AccessionNumber=ACC-*&StudyDate=-20240131')).toEqual([A.study, C.study]);
    expect(await studies('00100020=P-UTF')).toEqual([D.study, B.study]);
    expect(await studies(`StudyInstanceUID=${C.study},${A.study}&fuzzymatching=true`)).toEqual([A.study, C.study]);
  });

  it('answers with the PS3.18 study attributes as application/dicom+json', async () => {
    const res = await get(`/studies?StudyInstanceUID=${A.study}`);
    expect(res.headers.get('content-type')).toContain('application/dicom+json');
    const [study] = await readJson(res);
    expect(study).toMatchObject({
      '00080020': { vr: 'DA', Value: ['20240115'] },
      '00080030': { vr: 'TM', Value: ['093000'] },
      '00080050': { vr: 'SH', Value: ['ACC-A'] },
      '00080056': { vr: 'CS', Value: ['ONLINE'] },
      '00080061': { vr: 'CS', Value: ['CT', 'SR'] },
      '00080090': { vr: 'PN', Value: [{ Alphabetic: 'Wang^Yi', Ideographic: '王^医' }] },
      '00081190': { vr: 'UR', Value: [`http://hub.example/dicomweb/studies/${A.study}`] },
      '00100020': { vr: 'LO', Value: ['P-GB'] },
      '00100030': { vr: 'DA', Value: ['19700101'] },
      '00100040': { vr: 'CS', Value: ['O'] },
      '0020000D': { vr: 'UI', Value: [A.study] },
      '00200010': { vr: 'SH', Value: ['1'] },
      '00201206': { vr: 'IS', Value: [2] },
      '00201208': { vr: 'IS', Value: [3] },
    });
    expect(study['00081030']).toBeUndefined();
    expect(Object.keys(study)).toEqual([...Object.keys(study)].sort());
  });

  it('adds attributes asked for by includefield, by keyword, by tag, or all', async () => {
    const [byKeyword] = await readJson(await get(`/studies?StudyInstanceUID=${A.study}&includefield=StudyDescription`));
    expect(byKeyword['00081030']).toEqual({ vr: 'LO', Value: ['胸部 CT'] });
    const [byTag] = await readJson(await get(`/studies?StudyInstanceUID=${A.study}&includefield=00081030`));
    expect(byTag['00081030'].Value).toEqual(['胸部 CT']);
    // at instance level, from the instance's stored metadata
    const instances = await readJson(await get(`/studies/${A.study}/series/${A.ct}/instances?includefield=00180050,ImagePositionPatient`));
    expect(instances.map((i: Record<string, { Value: unknown[] }>) => i['00180050']!.Value)).toEqual([[5], [5]]);
    expect(instances[0]['00200032'].Value).toEqual([-125, -125, 0]);
    const [all] = await readJson(await get(`/studies/${A.study}/series/${A.ct}/instances?includefield=all&limit=1`));
    expect(all['00080070']).toEqual({ vr: 'LO', Value: ['Test Manufacturer'] });
  });

  it('pages with limit and offset, and says when more results can be requested', async () => {
    const first = await get('/studies?limit=2');
    expect(first.headers.get('warning')).toContain('additional results');
    const page1 = (await readJson(first)).map((r: Record<string, { Value: string[] }>) => r['0020000D']!.Value[0]);
    expect(page1).toEqual([D.study, B.study]);
    expect(await studies('limit=2&offset=2')).toEqual([A.study, C.study]);
    const last = await get('/studies?limit=2&offset=2');
    expect(last.headers.get('warning')).toBeNull();
  });

  it('searches the series of a study, series across studies, and instances at each scope', async () => {
    const series = await readJson(await get(`/studies/${A.study}/series`));
    expect(series.map((s: Record<string, { Value: unknown[] }>) => [s['0020000E']!.Value[0], s['00080060']!.Value[0], s['00201209']!.Value[0]])).toEqual([
      [A.ct, 'CT', 2],
      [A.sr, 'SR', 1],
    ]);
    expect(series[0]['0020000D']).toBeUndefined();
    const mr = await readJson(await get('/series?Modality=MR&PatientID=P-UTF'));
    expect(mr).toHaveLength(1);
    expect(mr[0]).toMatchObject({ '0020000E': { Value: [B.mr] }, '0020000D': { Value: [B.study] }, '00100020': { Value: ['P-UTF'] } });
    const inSeries = await readJson(await get(`/studies/${A.study}/series/${A.ct}/instances`));
    expect(inSeries.map((i: Record<string, { Value: unknown[] }>) => i['00080018']!.Value[0])).toEqual(ctInstances);
    expect(inSeries[0]).toMatchObject({ '00200013': { Value: [1] }, '00280010': { Value: [64] }, '00280011': { Value: [64] }, '00280100': { Value: [16] } });
    expect(await readJson(await get(`/studies/${A.study}/instances`))).toHaveLength(3);
    const one = await readJson(await get(`/instances?SOPInstanceUID=${ctInstances[1]}`));
    expect(one[0]['00081190'].Value[0]).toBe(`http://hub.example/dicomweb/studies/${A.study}/series/${A.ct}/instances/${ctInstances[1]}`);
  });

  it('answers 200 with an empty array when nothing matches, and names ignored keys in a Warning', async () => {
    const res = await get('/studies?PatientID=nobody&InstitutionName=X');
    expect(res.status).toBe(200);
    expect(await readJson(res)).toEqual([]);
    expect(res.headers.get('warning')).toContain('InstitutionName');
  });

  it('writes an audit row per study found, with the person and the practitioner', async () => {
    await get(`/studies?AccessionNumber=ACC-C`);
    const rows = await t.hub.db('audit_events').where({ action: 'dicomweb-search-study', resource_id: C.study });
    const person = await t.hub.db('studies as st').join('patients as p', 'p.id', 'st.patient_id').where('st.study_uid', C.study).first('p.person_id');
    expect(rows.at(-1)).toMatchObject({ outcome: 'ok', practitioner: 'Dr Li', resource_type: 'ImagingStudy', patient_id: person.person_id, client_id: expect.any(String) });
  });

  it('needs a token with results:read', async () => {
    expect((await fetch(`${t.baseUrl}/dicomweb/studies`)).status).toBe(401);
    const writer = await t.tokenFor('H1', ['results:write']);
    expect((await fetch(`${t.baseUrl}/dicomweb/studies`, { headers: { authorization: `Bearer ${writer}` } })).status).toBe(403);
  });
});
