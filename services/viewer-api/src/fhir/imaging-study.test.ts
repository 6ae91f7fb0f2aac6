import { Router } from 'express';
import { buildInstance, generateUid, instanceSpec } from '@hub/shared/dicom/testing';
import { DICOM_MODALITY_SYSTEM, DICOM_UID_SYSTEM, NATIONAL_ID_SYSTEM, mrnSystem } from '@hub/shared/fhir';
import { maskNationalId, nationalIdHash } from '@hub/shared/identity';
import { readJson, startTestHub, TEST_ID_HASH_SECRET, type TestHub } from '@hub/shared/testing';
import { fhirKitSearch } from '../../../../test/support/fhir-kit';
import { indexInstances } from '../dicomweb/testing';
import { recordConsent } from '../recognition';
import { createFhirRouter, FHIR_METADATA_PATH } from '.';
import { accessionSystem, createImagingStudyProvider } from './imaging-study';

const WANG = '110101198001010053';

describe('FHIR ImagingStudy', () => {
  let t: TestHub;
  let token: string;
  // the same resident: three studies at H1, two at H2; and someone else's study at H1
  const dates = ['20240105', '20240210', '20240301', '20240315', '20240401'];
  const wang = dates.map((d, i) => ({ study: generateUid(), date: d, org: i < 3 ? 'H1' : 'H2', modality: i % 2 ? 'MR' : 'CT' }));
  const other = generateUid();
  const sopUid = generateUid();

  beforeAll(async () => {
    // the router is made once the port (and so the public URL paging links use) is known
    let fhir = Router();
    t = await startTestHub(() => [{ name: 'fhir', publicPaths: [FHIR_METADATA_PATH], mount: (app) => app.use((req, res, next) => fhir(req, res, next)) }]);
    fhir = createFhirRouter({ db: t.hub.db, publicUrl: t.baseUrl, providers: [createImagingStudyProvider({ idHashSecret: TEST_ID_HASH_SECRET })] });
    token = await t.tokenFor('H1', ['results:read']);
    const nationalId = { hash: nationalIdHash(WANG, TEST_ID_HASH_SECRET), masked: maskNationalId(WANG) };
    for (const org of ['H1', 'H2']) {
      const mine = wang.filter((w) => w.org === org);
      const files = mine.flatMap((w, i) => {
        // what every instance of the study says about it
        const studyLevel = { studyInstanceUid: w.study, studyDate: w.date, studyTime: '083015.5', patientId: `${org}-W`, accessionNumber: `${org}-ACC-${i}`, patientName: 'Wang^Gang=王^刚', charset: 'ISO_IR 192', referringPhysicianName: 'Li^Yi=李^医' };
        return [
          buildInstance(instanceSpec({ ...studyLevel, modality: w.modality, ...(w === wang[0] ? { sopInstanceUid: sopUid } : {}) })),
          buildInstance(instanceSpec({ ...studyLevel, modality: 'SR', seriesNumber: 2 })),
        ];
      });
      await indexInstances(t.hub, org, files, { nationalId });
    }
    await indexInstances(t.hub, 'H1', [buildInstance(instanceSpec({ studyInstanceUid: other, studyDate: '20240301', modality: 'CT', patientId: 'H1-OTHER', accessionNumber: 'H1-ACC-X' }))]);
    // at H2, Wang authorized H1 (the reader below) to read his results
    const atH2 = await t.hub.db('patients as p').join('organizations as o', 'o.id', 'p.organization_id').where({ 'o.code': 'H2', 'p.local_id': 'H2-W' }).first('p.person_id', 'o.id');
    const h1 = await t.hub.db('organizations').where({ code: 'H1' }).first('id');
    await recordConsent(t.hub.db, { personId: atH2.person_id, recordedByOrganizationId: atH2.id, scope: { kind: 'organizations', organizationIds: [h1.id] }, purpose: 'treatment', method: 'electronic', validFrom: new Date('2024-01-01T00:00:00Z') });
  });
  afterAll(() => t.stop());

  const get = (path: string) => fetch(`${t.baseUrl}/fhir/${path}`, { headers: { authorization: `Bearer ${token}`, 'x-practitioner': 'Dr Zhao' } });
  const uidsOf = (bundle: { entry?: Array<{ resource: { identifier: Array<{ value: string }> } }> }) => (bundle.entry ?? []).map((e) => e.resource.identifier[0]!.value.replace('urn:oid:', ''));

  it("finds a resident's studies in every hospital by the national ID, newest first, page by page with fhir-kit-client", async () => {
    const [pages] = await fhirKitSearch(`${t.baseUrl}/fhir`, token, [{ resourceType: 'ImagingStudy', searchParams: { 'subject:identifier': `${NATIONAL_ID_SYSTEM}|${WANG}`, _count: '2' } }]);
    expect(pages!.map((p) => p.entry.length)).toEqual([2, 2, 1]);
    expect(pages!.flatMap(uidsOf)).toEqual([...wang].reverse().map((w) => w.study));
  });

  it('is a valid R4 ImagingStudy with its series, instances and an Endpoint to the DICOMweb service', async () => {
    const [found] = (await readJson(await get(`ImagingStudy?identifier=${DICOM_UID_SYSTEM}|urn:oid:${wang[0]!.study}`))).entry;
    const study = await readJson(await get(`ImagingStudy/${found.resource.id}`));
    const patient = await t.hub.db('patients as p').join('organizations as o', 'o.id', 'p.organization_id').where({ 'o.code': 'H1', 'p.local_id': 'H1-W' }).first('p.id');
    expect(study).toMatchObject({
      resourceType: 'ImagingStudy',
      status: 'available',
      identifier: [
        { system: 'urn:dicom:uid', value: `urn:oid:${wang[0]!.study}` },
        { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'ACSN' }] }, system: accessionSystem('H1'), value: 'H1-ACC-0' },
      ],
      subject: { reference: `Patient/${patient.id}` },
      started: '2024-01-05T08:30:15.5+08:00',
      modality: [{ system: DICOM_MODALITY_SYSTEM, code: 'CT' }, { system: DICOM_MODALITY_SYSTEM, code: 'SR' }],
      referrer: { display: '李医' },
      numberOfSeries: 2,
      numberOfInstances: 2,
      endpoint: [{ reference: '#dicomweb' }],
      contained: [{ resourceType: 'Endpoint', id: 'dicomweb', status: 'active', connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'dicom-wado-rs' }, payloadType: [{ text: 'DICOM' }], address: `${t.baseUrl}/dicomweb` }],
    });
    expect(study.series).toHaveLength(2);
    expect(study.series.find((s: { modality: { code: string } }) => s.modality.code === 'CT')).toMatchObject({
      number: 1,
      numberOfInstances: 1,
      instance: [{ uid: sopUid, sopClass: { system: 'urn:ietf:rfc:3986', code: 'urn:oid:1.2.840.10008.5.1.4.1.1.2' }, number: 1 }],
    });
  });

  it.each([
    ['patient (a hospital record)', async () => `patient=Patient/${(await t.hub.db('patients').where({ local_id: 'H2-W' }).first('id')).id}`, () => [wang[4]!.study, wang[3]!.study]],
    ['subject:identifier with a hospital MRN', async () => `subject:identifier=${mrnSystem('H2')}|H2-W`, () => [wang[4]!.study, wang[3]!.study]],
    ['identifier (an accession number of a hospital)', async () => `identifier=${accessionSystem('H1')}|H1-ACC-1`, () => [wang[1]!.study]],
    ['started with prefixes', async () => 'started=ge2024-02-10&started=lt2024-03-15', () => [other, wang[2]!.study, wang[1]!.study]],
    ['started on a day', async () => 'started=2024-03-01', () => [other, wang[2]!.study]],
    ['modality', async () => `modality=${DICOM_MODALITY_SYSTEM}|MR`, () => [wang[3]!.study, wang[1]!.study]],
    ['modality and started', async () => 'modality=CT&started=le2024-03-01', () => [other, wang[2]!.study, wang[0]!.study]],
  ])('searches by %s', async (_name, query, expected) => {
    const res = await get(`ImagingStudy?${await query()}`);
    expect(res.status).toBe(200);
    expect(uidsOf(await readJson(res))).toEqual(expected());
  });

  it('audits each study returned, with the person and the practitioner', async () => {
    const bundle = await readJson(await get(`ImagingStudy?identifier=${accessionSystem('H1')}|H1-ACC-X`));
    const id = bundle.entry[0].resource.id;
    const row = await t.hub.db('audit_events').where({ resource_type: 'ImagingStudy', resource_id: id }).orderBy('id', 'desc').first();
    const person = await t.hub.db('studies as st').join('patients as p', 'p.id', 'st.patient_id').where('st.id', Number(id)).first('p.person_id');
    expect(row).toMatchObject({ action: 'search', practitioner: 'Dr Zhao', patient_id: person.person_id, outcome: 'ok' });
  });

  it('says what it supports in the CapabilityStatement and refuses an invalid national ID', async () => {
    const cs = await readJson(await fetch(`${t.baseUrl}/fhir/metadata`));
    const imaging = cs.rest[0].resource.find((r: { type: string }) => r.type === 'ImagingStudy');
    expect(imaging.searchParam.map((p: { name: string }) => p.name)).toEqual(['patient', 'subject', 'identifier', 'started', 'modality']);
    const bad = await get(`ImagingStudy?subject:identifier=${NATIONAL_ID_SYSTEM}|110101198001010054`);
    expect(bad.status).toBe(400);
    expect((await readJson(bad)).resourceType).toBe('OperationOutcome');
  });
});
