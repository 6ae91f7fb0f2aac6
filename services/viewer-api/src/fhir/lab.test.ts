import { createHash, randomUUID } from 'node:crypto';
import type { Knex } from '@hub/shared/db';
import { NATIONAL_ID_SYSTEM, mrnSystem } from '@hub/shared/fhir';
import { maskNationalId, nationalIdHash } from '@hub/shared/identity';
import { readJson, startTestHub, TEST_ID_HASH_SECRET, type TestHub } from '@hub/shared/testing';
import { createFhirRouter, FHIR_METADATA_PATH } from '.';
import { createDiagnosticReportProvider } from './diagnostic-report';
import { createObservationProvider } from './observation';
import { createPatientProvider } from './patient';
import { recordConsent } from '../recognition';

const LI = '110101199003074514';

/** Rows as the index writes them (services/index/src/lab), seeded directly: viewer-api only reads. */
async function seed(db: Knex) {
  const org = async (code: string, name: string) => (await db('organizations').insert({ code, name, kind: 'hospital' }).returning('id'))[0].id as number;
  const [h1, h2] = [await org('H1', '一院'), await org('H2', '二院')];
  const accepted = async (organization: number) => {
    const body = randomUUID();
    return (await db('accepted_objects').insert({ kind: 'hl7v2', organization_id: organization, identity: body, sha256: createHash('sha256').update(body).digest('hex'), size: 1, blob_key: `x/${body}`, source: 'test', summary: '{}' }).returning('id'))[0].id as number;
  };
  const person = async (nid?: string) => (await db('persons').insert(nid ? { national_id_hash: nationalIdHash(nid, TEST_ID_HASH_SECRET), national_id_masked: maskNationalId(nid) } : {}).returning('id'))[0].id as number;
  const patient = async (p: Record<string, unknown>) => (await db('patients').insert(p).returning('id'))[0].id as number;
  const li = await person(LI);
  const nid = { national_id_hash: nationalIdHash(LI, TEST_ID_HASH_SECRET), national_id_masked: maskNationalId(LI) };
  const a = await patient({ organization_id: h1, local_id: 'M1', person_id: li, name_ideographic: '李^四', name_alphabetic: 'Li^Si', name_key: '李四', birth_date: '1990-03-07', sex: 'M', ...nid });
  const b = await patient({ organization_id: h2, local_id: 'B-77', person_id: li, name_ideographic: '李四', name_key: '李四', birth_date: '1990-03-07', sex: 'M', ...nid });
  // linked to the person later, without an ID of its own
  const c = await patient({ organization_id: h2, local_id: 'B-78', person_id: li, name_alphabetic: 'Li^Si', name_key: 'lisi' });
  // merged into M1 by an ADT^A40: its person merged into Li's, as the index records a merge
  const retiredPerson = await person();
  const retired = await patient({ organization_id: h1, local_id: 'M1-OLD', person_id: retiredPerson, name_ideographic: '李四', name_key: '李四', merged_into_patient_id: a });
  await db('persons').where({ id: retiredPerson }).update({ merged_into_id: li });
  const other = await patient({ organization_id: h1, local_id: 'M9', person_id: await person(), name_ideographic: '李^明', name_key: '李明', birth_date: '1990-03-07', sex: 'F' });

  const report = async (organization: number, patientId: number, key: string, at: string, observations: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}) => {
    const acceptedId = await accepted(organization);
    const [{ id }] = await db('lab_reports')
      .insert({ organization_id: organization, patient_id: patientId, report_key: key, filler_order_number: key, local_code: 'BIO', local_display: '生化', status: 'final', effective_at: at, issued_at: at, source: 'hl7v2', accepted_id: acceptedId, specimen_type: 'SER', specimen_display: '血清', ...extra })
      .returning('id');
    if (observations.length) await db('observations').insert(observations.map((o, i) => ({ patient_id: patientId, report_id: id, organization_id: organization, obs_key: `K${i}`, status: 'final', effective_at: at, accepted_id: acceptedId, ...o })));
    return id as number;
  };
  const glu = (value: number, flags: string[] = ['N']) => ({ local_code: 'GLU', local_display: '葡萄糖', loinc_code: '2345-7', loinc_display: 'Glucose', value_type: 'NM', value_num: value, unit: 'mmol/L', unit_ucum: true, ref_low: 3.9, ref_high: 6.1, ref_text: '3.9-6.1', abnormal_flags: flags });
  const r1 = await report(h1, a, 'LAB-1', '2024-03-01T00:00:00Z', [glu(5.2), { local_code: 'HBSAG', value_type: 'CWE', value_code: 'NEG', value_code_display: '阴性', value_code_system: 'L', status: 'preliminary' }]);
  const r2 = await report(h2, b, 'X-9', '2024-03-10T00:00:00Z', [glu(7.4, ['H']), { local_code: 'ABO', value_type: 'ST', value_text: 'A型 Rh(D)阳性' }], { loinc_code: '24323-8' });
  const r3 = await report(h2, c, 'X-10', '2024-02-01T00:00:00Z', [glu(6.9, ['H'])], { status: 'preliminary' });
  const r4 = await report(h1, other, 'LAB-2', '2024-03-05T00:00:00Z', [glu(4.4)]);
  // Li authorized the third hospital (H3, the reader below) at H1; Li Ming (M9) authorized no one
  const [{ id: h3 }] = await db('organizations').insert({ code: 'H3', name: '三院', kind: 'hospital' }).returning('id');
  await db('regions').insert({ code: 'R', name: '本市', is_default: true });
  await recordConsent(db, { personId: li, recordedByOrganizationId: h1, scope: { kind: 'organizations', organizationIds: [h3] }, purpose: 'treatment', method: 'written', validFrom: new Date('2024-01-01T00:00:00+08:00') });
  return { li, a, b, c, retired, other, r1, r2, r3, r4 };
}

describe('FHIR Patient, DiagnosticReport and Observation', () => {
  let t: TestHub;
  let token: string;
  let ids: Awaited<ReturnType<typeof seed>>;
  beforeAll(async () => {
    t = await startTestHub((hub) => [
      {
        name: 'fhir',
        publicPaths: [FHIR_METADATA_PATH],
        mount: (app) => app.use(createFhirRouter({ db: hub.db, publicUrl: 'http://hub.example', providers: [createPatientProvider(hub), createDiagnosticReportProvider(hub), createObservationProvider(hub)] })),
      },
    ]);
    ids = await seed(t.hub.db);
    token = await t.tokenFor('H3', ['results:read']);
  });
  afterAll(() => t.stop());
  const get = async (path: string, status = 200) => {
    const res = await fetch(`${t.baseUrl}/fhir/${path}`, { headers: { authorization: `Bearer ${token}`, 'x-practitioner': 'Dr Zhou' } });
    const body = await readJson(res);
    if (res.status !== status) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
    return body;
  };
  const idsOf = (bundle: { entry?: Array<{ resource: { id: string }; search: { mode: string } }> }, mode = 'match') => (bundle.entry ?? []).filter((e) => e.search.mode === mode).map((e) => Number(e.resource.id));
  const national = encodeURIComponent(`${NATIONAL_ID_SYSTEM}|${LI}`);

  it('reads a Patient: MRN, the national ID only masked, name groups, links to the person\'s other records; audited', async () => {
    const p = await get(`Patient/${ids.a}`);
    expect(p.identifier).toEqual([
      { use: 'usual', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, system: mrnSystem('H1'), value: 'M1', assigner: { display: '一院' } },
      expect.objectContaining({ system: NATIONAL_ID_SYSTEM, type: expect.objectContaining({ text: '居民身份证 110101********4514' }), _value: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'masked' }] } }),
    ]);
    expect(JSON.stringify(p)).not.toContain(LI);
    expect(p.meta.security).toEqual([expect.objectContaining({ code: 'MASKED' })]);
    expect(p.name).toEqual([
      { use: 'official', text: '李四', family: '李', given: ['四'], extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation', valueCode: 'IDE' }] },
      { use: 'usual', text: 'Li Si', family: 'Li', given: ['Si'], extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation', valueCode: 'ABC' }] },
    ]);
    expect(p).toMatchObject({ gender: 'male', birthDate: '1990-03-07', active: true, managingOrganization: { identifier: { value: 'H1' }, display: '一院' } });
    expect(p.link).toEqual([
      { other: { reference: `Patient/${ids.retired}` }, type: 'replaces' },
      { other: { reference: `Patient/${ids.b}` }, type: 'seealso' },
      { other: { reference: `Patient/${ids.c}` }, type: 'seealso' },
    ]);
    expect(await t.hub.db('audit_events').where({ resource_type: 'Patient', resource_id: String(ids.a) }).first('action', 'patient_id', 'practitioner')).toEqual({ action: 'read', patient_id: ids.a, practitioner: 'Dr Zhou' });
    expect((await get(`Patient/${ids.retired}`)).link).toEqual([
      { other: { reference: `Patient/${ids.a}` }, type: 'replaced-by' },
      { other: { reference: `Patient/${ids.b}` }, type: 'seealso' },
      { other: { reference: `Patient/${ids.c}` }, type: 'seealso' },
    ]);
  });

  it('finds every record of a person from a clear national ID, from another organization; a wrong number is a 400', async () => {
    expect(idsOf(await get(`Patient?identifier=${national}`))).toEqual([ids.a, ids.b, ids.c, ids.retired]);
    expect(idsOf(await get(`Patient?identifier=${LI}`))).toEqual([ids.a, ids.b, ids.c, ids.retired]);
    expect(idsOf(await get(`Patient?identifier=${encodeURIComponent(`${mrnSystem('H2')}|B-77`)}`))).toEqual([ids.b]);
    const bad = await get(`Patient?identifier=${encodeURIComponent(`${NATIONAL_ID_SYSTEM}|110101199003074515`)}`, 400);
    expect(bad).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ diagnostics: expect.stringContaining('check digit') }] });
    expect(await t.hub.db('audit_events').where({ resource_type: 'Patient', action: 'search' }).count('* as n').first()).toEqual({ n: 9 });
  });

  it('searches by name prefix in any group, and by birth date', async () => {
    expect(idsOf(await get(`Patient?name=${encodeURIComponent('李四')}`))).toEqual([ids.a, ids.b, ids.retired]);
    expect(idsOf(await get('Patient?name=lisi'))).toEqual([ids.a, ids.c]);
    // Li Ming (H1) has authorized no one: H3 never sees the record
    expect(idsOf(await get(`Patient?name=${encodeURIComponent('李')}&birthdate=1990-03-07`))).toEqual([ids.a, ids.b]);
    expect(idsOf(await get('Patient?birthdate=1990-03-07&_count=2'))).toEqual([ids.a, ids.b]);
    expect(idsOf(await get('Patient?name:exact=li'))).toEqual([]);
    await get(`Patient?name=${encodeURIComponent('李')}`, 400);
    await get('Patient?birthdate=ge1990-01-01', 400);
    await get('Patient', 400);
  });

  it('finds a person\'s reports from both hospitals by national ID, newest first, with their results included and paged', async () => {
    const all = await get(`DiagnosticReport?subject:identifier=${national}&_include=DiagnosticReport:result`);
    expect(idsOf(all)).toEqual([ids.r2, ids.r1, ids.r3]);
    expect(idsOf(all, 'include')).toHaveLength(5);
    const r2 = all.entry[0].resource;
    expect(r2).toMatchObject({
      resourceType: 'DiagnosticReport',
      status: 'final',
      category: [{ coding: [{ code: 'LAB' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '24323-8' }, { system: 'urn:hub:organization:H2:code', code: 'BIO', display: '生化' }] },
      subject: { reference: `Patient/${ids.b}` },
      effectiveDateTime: '2024-03-10T00:00:00.000Z',
      identifier: [{ system: 'urn:hub:organization:H2:filler', value: 'X-9' }],
      performer: [{ display: '二院' }],
      contained: [{ resourceType: 'Specimen', type: { coding: [{ code: 'SER', display: '血清' }] } }],
    });
    expect(r2.result).toHaveLength(2);
    const page = await get(`DiagnosticReport?patient=${ids.a},${ids.b}&_count=1&_sort=-date`);
    expect(idsOf(page)).toEqual([ids.r2]);
    expect(page.link.find((l: { relation: string }) => l.relation === 'next').url).toContain('_offset=1');
    expect(idsOf(await get(`DiagnosticReport?patient=${ids.a},${ids.b}&_count=1&_sort=-date&_offset=1`))).toEqual([ids.r1]);
    expect(await t.hub.db('audit_events').where({ resource_type: 'Observation', action: 'search' }).count('* as n').first()).toEqual({ n: 5 });
  });

  it('filters reports by code, category, date, status and order number', async () => {
    const subject = `subject:identifier=${national}`;
    expect(idsOf(await get(`DiagnosticReport?${subject}&code=${encodeURIComponent('http://loinc.org|24323-8')}`))).toEqual([ids.r2]);
    expect(idsOf(await get(`DiagnosticReport?${subject}&code=${encodeURIComponent('urn:hub:organization:H1:code|BIO')}`))).toEqual([ids.r1]);
    expect(idsOf(await get(`DiagnosticReport?${subject}&category=LAB&date=ge2024-03-01&date=lt2024-03-05`))).toEqual([ids.r1]);
    expect(idsOf(await get(`DiagnosticReport?${subject}&status=preliminary`))).toEqual([ids.r3]);
    expect(idsOf(await get(`DiagnosticReport?${subject}&date=2024-03&_sort=date`))).toEqual([ids.r1, ids.r2]);
    expect(idsOf(await get(`DiagnosticReport?identifier=${encodeURIComponent('urn:hub:organization:H2:filler|X-9')}`))).toEqual([ids.r2]);
    expect(idsOf(await get(`DiagnosticReport?${subject}&category=imaging`))).toEqual([]);
    await get('DiagnosticReport?code=BIO', 400);
    expect((await get(`DiagnosticReport/${ids.r1}`)).id).toBe(String(ids.r1));
  });

  it('searches Observations by patient, code, date, status and value; values, units, ranges and flags as FHIR', async () => {
    const glucose = await get(`Observation?subject:identifier=${national}&code=${encodeURIComponent('http://loinc.org|2345-7')}`);
    expect(glucose.entry.map((e: { resource: { valueQuantity: { value: number } } }) => e.resource.valueQuantity.value)).toEqual([7.4, 5.2, 6.9]);
    expect(glucose.entry[0].resource).toMatchObject({
      status: 'final',
      category: [{ coding: [{ code: 'laboratory' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }, { system: 'urn:hub:organization:H2:code', code: 'GLU' }] },
      valueQuantity: { value: 7.4, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
      interpretation: [{ coding: [{ code: 'H' }] }],
      referenceRange: [{ low: { value: 3.9 }, high: { value: 6.1 }, text: '3.9-6.1' }],
      effectiveDateTime: '2024-03-10T00:00:00.000Z',
    });
    expect((await get(`Observation?patient=${ids.a},${ids.b},${ids.c}&value-quantity=gt7`)).entry).toHaveLength(1);
    const prelim = await get(`Observation?patient=${ids.a}&status=preliminary&category=laboratory`);
    expect(prelim.entry[0].resource).toMatchObject({ status: 'preliminary', valueCodeableConcept: { coding: [{ system: 'urn:hub:organization:H1:code', code: 'NEG', display: '阴性' }] } });
    const typed = await get(`Observation?patient=${ids.b}&code=ABO&date=2024-03-10`);
    expect(typed.entry[0].resource.valueString).toBe('A型 Rh(D)阳性');
    const read = await get(`Observation/${typed.entry[0].resource.id}`);
    expect(read.subject).toEqual({ reference: `Patient/${ids.b}` });
    await get('Observation?code=GLU', 400);
  });

  it('lists the three resources and their search parameters in the CapabilityStatement', async () => {
    const cs = await readJson(await fetch(`${t.baseUrl}/fhir/metadata`));
    const byType = Object.fromEntries(cs.rest[0].resource.map((r: { type: string }) => [r.type, r]));
    expect(Object.keys(byType)).toEqual(['Patient', 'DiagnosticReport', 'Observation']);
    expect(byType.DiagnosticReport.searchInclude).toEqual(['DiagnosticReport:result']);
    expect(byType.Observation.searchParam.map((p: { name: string }) => p.name)).toContain('value-quantity');
  });
});
