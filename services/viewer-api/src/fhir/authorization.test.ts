import { createHash, randomUUID } from 'node:crypto';
import { buildInstance, generateUid, instanceSpec } from '@hub/shared/dicom/testing';
import { DICOM_MODALITY_SYSTEM, NATIONAL_ID_SYSTEM } from '@hub/shared/fhir';
import { maskNationalId, nationalIdHash } from '@hub/shared/identity';
import { readJson, startTestHub, TEST_ID_HASH_SECRET, type TestHub } from '@hub/shared/testing';
import { indexInstances } from '../dicomweb/testing';
import { recordConsent, revokeConsent } from '../recognition';
import { createDiagnosticReportProvider, createFhirRouter, createImagingStudyProvider, createObservationProvider, createPatientProvider, FHIR_METADATA_PATH } from '.';

const ZHAO = '110101198001010053';
const national = encodeURIComponent(`${NATIONAL_ID_SYSTEM}|${ZHAO}`);

describe("FHIR reads of another organization need the patient's authorization", () => {
  let t: TestHub;
  const token: Record<string, string> = {};
  const ids: Record<string, number> = {};
  const study = generateUid();

  beforeAll(async () => {
    t = await startTestHub((hub) => [
      {
        name: 'fhir',
        publicPaths: [FHIR_METADATA_PATH],
        mount: (app) => app.use(createFhirRouter({ db: hub.db, publicUrl: 'http://hub.example', providers: [createPatientProvider(hub), createDiagnosticReportProvider(hub), createObservationProvider(hub), createImagingStudyProvider(hub)] })),
      },
    ]);
    for (const code of ['H1', 'H2']) token[code] = await t.tokenFor(code, ['results:read']);
    token.AUTH = await t.tokenFor('AUTH', ['results:read', 'stats:read'], 'authority');
    const db = t.hub.db;
    // Zhao: a CT and a lab report at H1, a record of his own at H2 (which reads), linked by national ID
    await indexInstances(t.hub, 'H1', [buildInstance(instanceSpec({ studyInstanceUid: study, patientId: 'Z-1', modality: 'CT', studyDate: '20250301' }))], { nationalId: { hash: nationalIdHash(ZHAO, TEST_ID_HASH_SECRET), masked: maskNationalId(ZHAO) } });
    for (const code of ['H1', 'H2']) ids[code] = (await db('organizations').where({ code }).first('id')).id;
    ids.a = (await db('patients').where({ local_id: 'Z-1' }).first('id')).id;
    ids.person = (await db('patients').where({ id: ids.a }).first('person_id')).person_id;
    [{ id: ids.b }] = await db('patients').insert({ organization_id: ids.H2, local_id: 'Z-2', person_id: ids.person, national_id_hash: nationalIdHash(ZHAO, TEST_ID_HASH_SECRET), national_id_masked: maskNationalId(ZHAO) }).returning('id');
    const body = randomUUID();
    const [{ id: accepted }] = await db('accepted_objects').insert({ kind: 'hl7v2', organization_id: ids.H1, identity: body, sha256: createHash('sha256').update(body).digest('hex'), size: 1, blob_key: `x/${body}`, source: 'test', summary: '{}' }).returning('id');
    [{ id: ids.report }] = await db('lab_reports')
      .insert({ organization_id: ids.H1, patient_id: ids.a, report_key: 'R1', filler_order_number: 'R1', local_code: 'BIO', status: 'final', effective_at: '2025-03-01T00:00:00Z', source: 'hl7v2', accepted_id: accepted })
      .returning('id');
    [{ id: ids.observation }] = await db('observations')
      .insert({ patient_id: ids.a, report_id: ids.report, organization_id: ids.H1, obs_key: 'K', local_code: 'GLU', value_type: 'NM', value_num: 5.2, status: 'final', effective_at: '2025-03-01T00:00:00Z', accepted_id: accepted })
      .returning('id');
    ids.study = (await db('studies').where({ study_uid: study }).first('id')).id;
    [{ id: ids.region }] = await db('regions').insert({ code: 'R', name: '本市', is_default: true }).returning('id');
  });
  afterAll(() => t.stop());

  const get = async (as: string, path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${t.baseUrl}/fhir/${path}`, { headers: { authorization: `Bearer ${token[as]}`, 'x-practitioner': `Dr ${as}`, ...headers } });
    return { status: res.status, body: await readJson(res) };
  };
  const found = async (as: string, path: string, headers: Record<string, string> = {}) => {
    const { status, body } = await get(as, path, headers);
    expect([status, body.total]).toEqual([200, undefined]);
    // nothing hidden shows through paging either
    if (!body.entry?.length) expect(body.link.map((l: { relation: string }) => l.relation)).toEqual(['self']);
    return (body.entry ?? []).map((e: { resource: { resourceType: string; id: string } }) => `${e.resource.resourceType}/${e.resource.id}`);
  };
  const reads = () => [`Patient/${ids.a}`, `ImagingStudy/${ids.study}`, `DiagnosticReport/${ids.report}`, `Observation/${ids.observation}`];
  const searches = () => [
    `Patient?identifier=${national}`,
    `ImagingStudy?subject:identifier=${national}`,
    `ImagingStudy?modality=${DICOM_MODALITY_SYSTEM}|CT`,
    `DiagnosticReport?subject:identifier=${national}&_include=DiagnosticReport:result`,
    `DiagnosticReport?identifier=urn:hub:organization:H1:filler|R1`,
    `Observation?subject:identifier=${national}`,
  ];
  const lastAudit = (where: Record<string, unknown>) => t.hub.db('audit_events').where(where).orderBy('id', 'desc').first();

  it("lets the patient's own organization read its results without any consent, and hides where else the patient is treated", async () => {
    for (const path of reads()) expect((await get('H1', path)).status).toBe(200);
    expect((await get('H1', `Patient/${ids.a}`)).body.link).toBeUndefined();
    expect(await found('H1', `DiagnosticReport?subject:identifier=${national}&_include=DiagnosticReport:result`)).toEqual([`DiagnosticReport/${ids.report}`, `Observation/${ids.observation}`]);
    expect(await lastAudit({ resource_type: 'Observation', organization_id: ids.H1 })).toMatchObject({ outcome: 'ok', detail: { authorization: 'own-organization' } });
  });

  it('shows another organization nothing without consent, not even a count, and refuses a read by id with 403', async () => {
    expect(await found('H2', `Patient?identifier=${national}`)).toEqual([`Patient/${ids.b}`]);
    for (const path of searches().slice(1)) expect(await found('H2', path)).toEqual([]);
    for (const path of reads()) {
      const { status, body } = await get('H2', path);
      expect(status).toBe(403);
      expect(body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'forbidden', diagnostics: expect.stringMatching(/^no-patient-authorization: .*\(no-consent\).*X-Emergency-Reason/) }] });
    }
    expect(await lastAudit({ action: 'read', resource_type: 'DiagnosticReport', resource_id: String(ids.report) })).toMatchObject({ outcome: 'denied', organization_id: ids.H2, practitioner: 'Dr H2', detail: { authorization: 'no-consent' } });
    expect(await lastAudit({ action: 'search', resource_type: 'Observation', organization_id: ids.H2 })).toMatchObject({ outcome: 'denied', patient_id: ids.a });
  });

  it('shows them with the consent in force, and hides them again once it is revoked', async () => {
    const consent = await recordConsent(t.hub.db, { personId: ids.person!, recordedByOrganizationId: ids.H1!, scope: { kind: 'organizations', organizationIds: [ids.H2!] }, purpose: 'treatment', method: 'written', validFrom: new Date(Date.now() - 60_000) });
    for (const path of reads()) expect((await get('H2', path)).status).toBe(200);
    expect(await found('H2', `Patient?identifier=${national}`)).toEqual([`Patient/${ids.a}`, `Patient/${ids.b}`]);
    expect((await get('H2', `Patient/${ids.b}`)).body.link).toEqual([{ other: { reference: `Patient/${ids.a}` }, type: 'seealso' }]);
    expect(await found('H2', `ImagingStudy?modality=${DICOM_MODALITY_SYSTEM}|CT`)).toEqual([`ImagingStudy/${ids.study}`]);
    expect(await found('H2', `DiagnosticReport?subject:identifier=${national}&_include=DiagnosticReport:result`)).toEqual([`DiagnosticReport/${ids.report}`, `Observation/${ids.observation}`]);
    expect(await lastAudit({ resource_type: 'Observation', organization_id: ids.H2 })).toMatchObject({ outcome: 'ok', detail: { authorization: 'consent', consentId: consent.id } });

    await revokeConsent(t.hub.db, { consentId: consent.id, byOrganizationId: ids.H1!, reason: 'patient withdrew' });
    for (const path of searches().slice(1)) expect(await found('H2', path)).toEqual([]);
    expect((await get('H2', `Patient/${ids.b}`)).body.link).toBeUndefined();
    const { status, body } = await get('H2', `ImagingStudy/${ids.study}`);
    expect([status, body.issue[0].diagnostics]).toEqual([403, expect.stringContaining('consent-revoked')]);
  });

  it('opens an emergency read with a stated reason, flagged and audited with it; a blank reason is refused', async () => {
    const emergency = { 'x-emergency-reason': encodeURIComponent('胸痛急诊 chest pain, unconscious') };
    expect((await get('H2', `DiagnosticReport/${ids.report}`, emergency)).status).toBe(200);
    expect(await lastAudit({ action: 'read', resource_type: 'DiagnosticReport', organization_id: ids.H2 })).toMatchObject({
      outcome: 'ok',
      emergency: true,
      detail: { authorization: 'emergency', emergencyReason: '胸痛急诊 chest pain, unconscious' },
    });
    // searches naming the patient or the result find it; a search across the region does not
    expect(await found('H2', `ImagingStudy?subject:identifier=${national}`, emergency)).toEqual([`ImagingStudy/${ids.study}`]);
    expect(await found('H2', `DiagnosticReport?identifier=urn:hub:organization:H1:filler|R1`, emergency)).toEqual([`DiagnosticReport/${ids.report}`]);
    expect(await found('H2', `ImagingStudy?modality=${DICOM_MODALITY_SYSTEM}|CT`, emergency)).toEqual([]);
    expect(await lastAudit({ action: 'search', resource_type: 'ImagingStudy', organization_id: ids.H2 })).toMatchObject({ emergency: true, outcome: 'ok' });
    const blank = await get('H2', `Observation/${ids.observation}`, { 'x-emergency-reason': '' });
    expect([blank.status, blank.body.issue[0].diagnostics]).toEqual([403, expect.stringContaining('emergency-reason-required')]);
  });

  it('never lets the health authority read a patient, consent or emergency', async () => {
    await recordConsent(t.hub.db, { personId: ids.person!, recordedByOrganizationId: ids.H1!, scope: { kind: 'region', regionId: ids.region! }, purpose: 'treatment', method: 'electronic', validFrom: new Date(Date.now() - 60_000) });
    expect(await found('H2', `ImagingStudy?subject:identifier=${national}`)).toEqual([`ImagingStudy/${ids.study}`]);
    const emergency = { 'x-emergency-reason': 'inspection' };
    for (const path of searches()) expect(await found('AUTH', path, emergency)).toEqual([]);
    for (const path of reads()) {
      const { status, body } = await get('AUTH', path, emergency);
      expect([status, body.issue[0].diagnostics]).toEqual([403, expect.stringContaining('not-a-care-provider')]);
    }
  });
});
