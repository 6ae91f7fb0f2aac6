import { buildInstance, generateUid, instanceSpec } from '@hub/shared/dicom/testing';
import { readJson, startTestHub, type TestHub } from '@hub/shared/testing';
import { recordConsent, revokeConsent } from '../recognition';
import { createDicomwebRouter } from '.';
import { indexInstances, parseMultipart } from './testing';

describe('DICOMweb reads of another organization need the patient\'s authorization', () => {
  let t: TestHub;
  const token: Record<string, string> = {};
  // Zhao's CT (two slices) and Qian's MR, both held by H1; H2 reads
  const zhao = { study: generateUid(), series: generateUid(), sops: [generateUid(), generateUid()] };
  const qian = { study: generateUid() };
  let region: number;
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    t = await startTestHub((hub) => [{ name: 'dicomweb', mount: (app) => app.use(createDicomwebRouter({ db: hub.db, blob: hub.blob, log: hub.log, publicUrl: 'http://hub.example' })) }]);
    token.H1 = await t.tokenFor('H1', ['results:read']);
    token.H2 = await t.tokenFor('H2', ['results:read']);
    token.AUTH = await t.tokenFor('AUTH', ['results:read', 'stats:read'], 'authority');
    const common = { charset: 'ISO_IR 192', studyDate: '20250301', modality: 'CT' };
    await indexInstances(t.hub, 'H1', [
      ...zhao.sops.map((sop, n) => buildInstance(instanceSpec({ ...common, studyInstanceUid: zhao.study, seriesInstanceUid: zhao.series, sopInstanceUid: sop, instanceNumber: n + 1, patientId: 'ZHAO-1', patientName: 'Zhao^Yi=赵^一', accessionNumber: 'ACC-ZHAO' }))),
      buildInstance(instanceSpec({ ...common, studyInstanceUid: qian.study, modality: 'MR', studyDate: '20250302', patientId: 'QIAN-1', patientName: 'Qian^Er=钱^二' })),
    ]);
    [{ id: region }] = await t.hub.db('regions').insert({ code: 'R', name: '本市', is_default: true }).returning('id');
    for (const code of ['H1', 'H2']) ids[code] = (await t.hub.db('organizations').where({ code }).first('id')).id;
    ids.zhao = (await t.hub.db('patients').where({ local_id: 'ZHAO-1' }).first('person_id')).person_id;
  });
  afterAll(() => t.stop());

  const get = (as: string, path: string, headers: Record<string, string> = {}) => fetch(`${t.baseUrl}/dicomweb${path}`, { headers: { authorization: `Bearer ${token[as]}`, 'x-practitioner': `Dr ${as}`, ...headers } });
  const studies = async (as: string, query: string, headers: Record<string, string> = {}) => {
    const res = await get(as, `/studies?${query}`, headers);
    expect(res.status).toBe(200);
    return { uids: ((await readJson(res)) as Array<Record<string, { Value: string[] }>>).map((r) => r['0020000D']!.Value[0]), warning: res.headers.get('warning') };
  };
  const frame = `/studies/${zhao.study}/series/${zhao.series}/instances/${zhao.sops[0]}/frames/1`;
  const lastAudit = (where: Record<string, unknown>) => t.hub.db('audit_events').where(where).orderBy('id', 'desc').first();

  it('lets the organization holding the studies search and retrieve them without any consent', async () => {
    expect((await studies('H1', 'StudyDate=20250101-')).uids).toEqual([qian.study, zhao.study]);
    const res = await get('H1', `/studies/${zhao.study}`);
    expect(res.status).toBe(200);
    expect(parseMultipart(Buffer.from(await res.arrayBuffer()), res.headers.get('content-type')!)).toHaveLength(2);
    expect(await lastAudit({ action: 'dicomweb-retrieve', resource_id: zhao.study })).toMatchObject({ outcome: 'ok', emergency: false, detail: expect.objectContaining({ authorization: 'own-organization' }) });
  });

  it('leaves them out of every search by another organization, uncounted, and refuses their retrieval with 403', async () => {
    for (const query of ['PatientID=ZHAO-1', `PatientName=${encodeURIComponent('赵*')}`, `StudyInstanceUID=${zhao.study}`, 'AccessionNumber=ACC-ZHAO', 'ModalitiesInStudy=CT', 'limit=1']) {
      expect(await studies('H2', query)).toEqual({ uids: [], warning: null });
    }
    expect(await readJson(await get('H2', `/studies/${zhao.study}/series`))).toEqual([]);
    for (const path of [`/studies/${zhao.study}`, `/studies/${zhao.study}/metadata`, `/studies/${zhao.study}/series/${zhao.series}/metadata`, frame]) {
      const res = await get('H2', path);
      expect(res.status).toBe(403);
      expect((await readJson(res)).error).toMatchObject({ kind: 'Forbidden', code: 'no-patient-authorization', message: expect.stringContaining('X-Emergency-Reason') });
    }
    expect(await lastAudit({ action: 'dicomweb-metadata', resource_id: zhao.study })).toMatchObject({ outcome: 'denied', organization_id: ids.H2, patient_id: ids.zhao, practitioner: 'Dr H2', detail: expect.objectContaining({ authorization: 'no-consent' }) });
    expect(await lastAudit({ action: 'dicomweb-search-study', resource_type: 'Patient' })).toMatchObject({ outcome: 'denied', patient_id: ids.zhao });
    // nothing retrieved: no ok row for H2
    expect(await t.hub.db('audit_events').where({ organization_id: ids.H2, outcome: 'ok' }).first()).toBeUndefined();
  });

  it("shows them once the patient consents, counting only what may be read, and hides them again when the consent is revoked", async () => {
    const consent = await recordConsent(t.hub.db, { personId: ids.zhao!, recordedByOrganizationId: ids.H1!, scope: { kind: 'organizations', organizationIds: [ids.H2!] }, purpose: 'treatment', method: 'written', validFrom: new Date(Date.now() - 60_000) });
    expect((await studies('H2', 'PatientID=ZHAO-1')).uids).toEqual([zhao.study]);
    // Qian's newer study is not counted: one result, and no "additional results"
    expect(await studies('H2', 'limit=1')).toEqual({ uids: [zhao.study], warning: null });
    expect((await studies('H2', 'ModalitiesInStudy=CT')).uids).toEqual([zhao.study]);
    expect((await get('H2', `/studies/${zhao.study}/metadata`)).status).toBe(200);
    expect((await get('H2', frame)).status).toBe(200);
    expect(await lastAudit({ action: 'dicomweb-metadata', resource_id: zhao.study })).toMatchObject({ outcome: 'ok', organization_id: ids.H2, detail: expect.objectContaining({ authorization: 'consent', consentId: consent.id }) });

    await revokeConsent(t.hub.db, { consentId: consent.id, byOrganizationId: ids.H1!, reason: 'patient withdrew' });
    expect((await studies('H2', 'PatientID=ZHAO-1')).uids).toEqual([]);
    expect((await studies('H2', 'limit=1')).uids).toEqual([]);
    const refused = await get('H2', `/studies/${zhao.study}/metadata`);
    expect(refused.status).toBe(403);
    expect((await readJson(refused)).error.message).toContain('consent-revoked');
  });

  it('opens an emergency read with a stated reason, flagged and audited with it; a blank reason is refused', async () => {
    const emergency = { 'x-emergency-reason': encodeURIComponent('昏迷送医 unconscious on arrival') };
    const res = await get('H2', `/studies/${zhao.study}/metadata`, emergency);
    expect(res.status).toBe(200);
    expect(await readJson(res)).toHaveLength(2);
    expect(await lastAudit({ action: 'dicomweb-metadata', resource_id: zhao.study })).toMatchObject({
      outcome: 'ok',
      emergency: true,
      organization_id: ids.H2,
      detail: expect.objectContaining({ authorization: 'emergency', emergencyReason: '昏迷送医 unconscious on arrival' }),
    });
    // a search naming the study or the patient finds it; one across the region does not
    expect((await studies('H2', `StudyInstanceUID=${zhao.study}`, emergency)).uids).toEqual([zhao.study]);
    expect((await studies('H2', 'PatientID=ZHAO-1', emergency)).uids).toEqual([zhao.study]);
    expect((await studies('H2', 'ModalitiesInStudy=CT', emergency)).uids).toEqual([]);
    expect(await lastAudit({ action: 'dicomweb-search-study', resource_id: zhao.study, organization_id: ids.H2 })).toMatchObject({ emergency: true });
    const blank = await get('H2', `/studies/${zhao.study}/metadata`, { 'x-emergency-reason': ' ' });
    expect(blank.status).toBe(403);
    expect((await readJson(blank)).error.message).toContain('emergency-reason-required');
  });

  it('never lets the health authority read a patient, consent or emergency', async () => {
    await recordConsent(t.hub.db, { personId: ids.zhao!, recordedByOrganizationId: ids.H1!, scope: { kind: 'region', regionId: region }, purpose: 'treatment', method: 'electronic', validFrom: new Date(Date.now() - 60_000) });
    expect((await studies('H2', 'PatientID=ZHAO-1')).uids).toEqual([zhao.study]);
    const emergency = { 'x-emergency-reason': 'inspection' };
    for (const query of ['PatientID=ZHAO-1', `StudyInstanceUID=${zhao.study}`, 'StudyDate=20250101-']) expect((await studies('AUTH', query, emergency)).uids).toEqual([]);
    const res = await get('AUTH', `/studies/${zhao.study}`, emergency);
    expect(res.status).toBe(403);
    expect((await readJson(res)).error.message).toContain('not-a-care-provider');
  });
});
