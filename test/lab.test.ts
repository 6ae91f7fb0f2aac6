import iconv from 'iconv-lite';
import { createIndexService, unmergePatients } from '@hub/index';
import { addHl7Sender, createIngestService } from '@hub/ingest';
import { mllpTestClient } from '../services/ingest/src/mllp/test-client';
import { labBundle } from '../services/ingest/src/fhir/test-bundle';
import { NATIONAL_ID_SYSTEM, mrnSystem } from '@hub/shared/fhir';
import { freePort, readJson, startTestHub, type TestHub } from '@hub/shared/testing';
import { createViewerApiService } from '@hub/viewer-api';
// The shared HL7 fixtures (real-world message shapes) are test data; hl7 has no testing entry point to import them by.
import { adtA04, join, oru } from '../shared/src/hl7/fixtures';
import { fhirKitSearch, publicUrlProxy } from './support/fhir-kit';

const ZHANG = '110101199003074514';
const national = `${NATIONAL_ID_SYSTEM}|${ZHANG}`;

/** The fixture ORU as another hospital's LIS sends it: its own facility, MRN, order numbers and control id. */
const oruOf = (facility: string, mrn: string, controlId: string, filler: string, msh18: string) =>
  oru(msh18).map((s) =>
    s
      .replace('BJXH^12400000400002244A^ISO', facility)
      .replace('LIS20240315000123', controlId)
      .replace('M0012345^^^BJXH^MR', `${mrn}^^^${facility}^MR`)
      .replaceAll('LAB20240315001', filler),
  );

describe('lab results across hospitals, end to end', () => {
  let t: TestHub;
  let proxy: Awaited<ReturnType<typeof publicUrlProxy>>;
  let mllpPort: number;
  let clinician: string;
  let lis: string;
  beforeAll(async () => {
    proxy = await publicUrlProxy();
    mllpPort = await freePort();
    t = await startTestHub((hub) => [createIngestService(hub), createIndexService(hub), createViewerApiService(hub)], {
      MLLP_HOST: '127.0.0.1',
      MLLP_PORT: String(mllpPort),
      DICOM_HOST: '127.0.0.1',
      DICOM_PORT: String(await freePort()),
      HUB_PUBLIC_URL: proxy.url,
      HUB_INDEX_WORKERS: '1',
    });
    proxy.forwardTo(t.http.port);
    lis = await t.tokenFor('H1', ['results:write']);
    await t.tokenFor('H2', ['results:write']);
    clinician = await t.tokenFor('H3', ['results:read']);
    await addHl7Sender(t.hub.db, { organizationCode: 'H1', facility: 'BJXH' });
    await addHl7Sender(t.hub.db, { organizationCode: 'H2', facility: 'SZRM', address: '127.0.0.1' });
    // the city every hospital is in: a patient's consent may cover all of it
    await t.hub.db('regions').insert({ code: 'CITY', name: '示范市', is_default: true });
  });
  afterAll(async () => {
    await t.stop();
    await proxy.close();
  });

  /** Until the index workers have taken everything accepted so far. */
  const indexed = async () => {
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      const pending = await t.hub.db('accepted_objects').where({ state: 'accepted' }).count('* as n').first();
      if (Number(pending!.n) === 0) return;
    }
    throw new Error('index workers did not catch up');
  };
  const fhirAs = async (token: string, path: string) => readJson(await fetch(`${t.baseUrl}/fhir/${path}`, { headers: { authorization: `Bearer ${token}` } }));
  const fhir = (path: string) => fhirAs(clinician, path);

  it('finds the same person registered at two hospitals by national ID, once the patient has authorized the city, from a third hospital or either, with results from both, through paging', async () => {
    const h1 = await mllpTestClient(mllpPort);
    const h2 = await mllpTestClient(mllpPort);
    // H1: a registration and a report in one write, UTF-8 and CR; H2: GB18030 with Windows line ends
    h1.send(join(adtA04.map((s) => s.replace('|BJXH|', '|BJXH|').replace('M0099887^^^BJXH^MR~11010519491231002X', `M0012345^^^BJXH^MR~${ZHANG}`).replace('王芳', '张三').replace('19491231|F', '19900307|M'))), join(oruOf('BJXH', 'M0012345', 'H1-0001', 'H1LAB-1', 'UNICODE UTF-8')));
    h2.send(iconv.encode(join(oruOf('SZRM', 'SZ-889', 'H2-0001', 'H2LAB-1', 'GB18030'), '\r\n'), 'gb18030'));
    expect((await h1.acks(2)).map((a) => a.get('MSA-1'))).toEqual(['AA', 'AA']);
    expect((await h2.acks(1)).map((a) => a.get('MSA-1'))).toEqual(['AA']);
    await Promise.all([h1.close(), h2.close()]);
    await indexed();

    // without the patient's authorization the third hospital sees nothing of either hospital's
    expect(await fhir(`Patient?identifier=${encodeURIComponent(national)}`)).not.toHaveProperty('entry.0');
    expect(await fhir(`DiagnosticReport?subject:identifier=${encodeURIComponent(national)}`)).not.toHaveProperty('entry.0');
    // at H1 the patient authorizes every hospital of the city
    const consent = await fetch(`${t.baseUrl}/recognition/consents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${lis}`, 'content-type': 'application/json', 'x-practitioner': 'Dr Wang' },
      body: JSON.stringify({ patient: 'M0012345', scope: 'region', purpose: 'treatment', method: 'electronic' }),
    });
    expect(consent.status).toBe(201);

    const [patients, reports, glucose] = await fhirKitSearch(`${proxy.url}/fhir`, clinician, [
      { resourceType: 'Patient', searchParams: { identifier: national } },
      { resourceType: 'DiagnosticReport', searchParams: { 'subject:identifier': national, _count: '1', _include: 'DiagnosticReport:result' } },
      { resourceType: 'Observation', searchParams: { 'subject:identifier': national, code: 'PLT', _count: '1' } },
    ]);
    const people = patients![0].entry.map((e: { resource: Record<string, unknown> }) => e.resource);
    expect(people.map((p: { identifier: Array<{ value?: string }> }) => p.identifier[0]!.value).sort()).toEqual(['M0012345', 'SZ-889']);
    for (const p of people) expect(p.name[0]).toMatchObject({ text: '张三' });
    // neither the resources nor the Bundles' self/next links carry the number: links hold its keyed hash
    expect(JSON.stringify(people)).not.toContain(ZHANG);
    for (const page of [...patients!, ...reports!, ...glucose!]) expect(JSON.stringify(page.link)).not.toContain(ZHANG);
    expect(JSON.stringify(reports![0].link)).toContain('hmac-sha256%3A');

    expect(reports).toHaveLength(2); // one report per page, the next link followed
    const byOrg = reports!.map((page) => page.entry.find((e: { search: { mode: string } }) => e.search.mode === 'match').resource.performer[0].identifier.value).sort();
    expect(byOrg).toEqual(['H1', 'H2']);
    expect(reports![0].entry.filter((e: { search: { mode: string } }) => e.search.mode === 'include')).toHaveLength(8);

    expect(glucose).toHaveLength(2);
    expect(glucose!.map((page) => page.entry[0].resource.valueQuantity)).toEqual([
      { value: 250, unit: '个/μL' },
      { value: 250, unit: '个/μL' },
    ]);
    // from either hospital's own EMR the same: the person's records and reports of both
    for (const hospital of ['H1', 'H2']) {
      const token = await t.tokenFor(hospital, ['results:read']);
      const [[found]] = await fhirKitSearch(`${proxy.url}/fhir`, token, [{ resourceType: 'DiagnosticReport', searchParams: { 'subject:identifier': national } }]);
      expect(found.entry.map((e: { resource: { performer: Array<{ identifier: { value: string } }> } }) => e.resource.performer[0]!.identifier.value).sort()).toEqual(['H1', 'H2']);
    }
    const audited = await t.hub.db('audit_events').where({ client_id: (await t.hub.db('clients').join('organizations as o', 'o.id', 'clients.organization_id').where('o.code', 'H3').first('client_id')).client_id }).count('* as n').first();
    expect(Number(audited!.n)).toBeGreaterThanOrEqual(2 + 2 + 16 + 2);
  });

  it('refuses an invalid check digit at the door and links nothing', async () => {
    const client = await mllpTestClient(mllpPort);
    client.send(join(oruOf('BJXH', 'BAD-1', 'H1-0002', 'H1LAB-2', 'UNICODE UTF-8').map((s) => s.replace(ZHANG, '110101199003074515'))));
    const [ack] = await client.acks(1);
    expect([ack!.get('MSA-1'), ack!.get('ERR-2.1'), ack!.get('ERR-2.3'), ack!.get('ERR-2.4'), ack!.get('ERR-5')]).toEqual(['AE', 'PID', '3', '2', 'national-id-check-digit']);
    await client.close();
    expect(await t.hub.db('patients').where({ local_id: 'BAD-1' }).first()).toBeUndefined();
  });

  it('replaces a corrected result, keeps the earlier value, and marks preliminary ones', async () => {
    const client = await mllpTestClient(mllpPort);
    const base = oruOf('BJXH', 'M0012345', 'H1-0003', 'H1LAB-1', 'UNICODE UTF-8');
    const corrected = base.filter((s) => !s.startsWith('OBX') || s.startsWith('OBX|3|')).map((s) => (s.startsWith('OBX|3|') ? 'OBX|3|NM|GLU^葡萄糖^L||7.9|mmol/L|3.9-6.1|H|||C' : s.replace('|LAB|F', '|LAB|C')));
    const preliminary = oruOf('BJXH', 'M0012345', 'H1-0004', 'H1LAB-9', 'UNICODE UTF-8').map((s) => (s.startsWith('OBX') ? s.replace(/\|F(\|\|\|\d+)?$/, '|P$1') : s.replace('|LAB|F', '|LAB|P')));
    client.send(join(corrected), join(preliminary));
    expect((await client.acks(2)).map((a) => a.get('MSA-1'))).toEqual(['AA', 'AA']);
    await client.close();
    await indexed();
    const h1 = await fhir(`Patient?identifier=${encodeURIComponent(`${mrnSystem('H1')}|M0012345`)}`);
    const patient = h1.entry[0].resource.id;
    const glu = await fhir(`Observation?patient=${patient}&code=GLU&_sort=-date`);
    expect(glu.entry.map((e: { resource: { status: string; valueQuantity: { value: number } } }) => [e.resource.status, e.resource.valueQuantity.value]).sort()).toEqual([
      ['corrected', 7.9],
      ['preliminary', 5.2],
    ]);
    const correctedId = glu.entry.find((e: { resource: { status: string } }) => e.resource.status === 'corrected').resource.id;
    expect(await t.hub.db('observation_history').where({ observation_id: Number(correctedId) }).select('prior')).toEqual([{ prior: expect.objectContaining({ value_num: 5.2, status: 'final' }) }]);
    const prelim = await fhir(`DiagnosticReport?patient=${patient}&status=preliminary`);
    expect(prelim.entry.map((e: { resource: { identifier: Array<{ value: string }> } }) => e.resource.identifier[0]!.value)).toEqual(['H1LAB-9']);
  });

  it('merges a record on ADT^A40 over MLLP, moving its results, and undoes it', async () => {
    const client = await mllpTestClient(mllpPort);
    client.send(
      join(oruOf('BJXH', 'OLD-7', 'H1-0005', 'H1LAB-7', 'UNICODE UTF-8').map((s) => s.replace(`~${ZHANG}^^^CHN^NNCHN`, ''))),
      join(['MSH|^~\\&|HIS|BJXH|HUB|REGION|20240316090300||ADT^A40^ADT_A39|H1-0006|P|2.5|||AL|NE||UNICODE UTF-8', 'EVN|A40|20240316090300', 'PID|1||M0012345^^^BJXH^MR||张三', 'MRG|OLD-7^^^BJXH^MR']),
    );
    expect((await client.acks(2)).map((a) => a.get('MSA-1'))).toEqual(['AA', 'AA']);
    await client.close();
    await indexed();
    const old = await t.hub.db('patients').where({ local_id: 'OLD-7' }).first('id', 'merged_into_patient_id');
    expect(old.merged_into_patient_id).not.toBeNull();
    const retired = await fhir(`Patient/${old.id}`);
    expect(retired).toMatchObject({ active: false, link: expect.arrayContaining([{ other: { reference: `Patient/${old.merged_into_patient_id}` }, type: 'replaced-by' }]) });
    // the merged record's report is now found with the person's, by national ID
    const reports = await fhir(`DiagnosticReport?subject:identifier=${encodeURIComponent(national)}&identifier=${encodeURIComponent('urn:hub:organization:H1:filler|H1LAB-7')}`);
    expect(reports.entry).toHaveLength(1);

    const h1 = await t.hub.db('organizations').where({ code: 'H1' }).first('id');
    await t.hub.db.transaction((trx) => unmergePatients(trx, { organizationId: h1.id, priorLocalId: 'OLD-7', source: 'test' }));
    expect(await fhir(`DiagnosticReport?subject:identifier=${encodeURIComponent(national)}&identifier=${encodeURIComponent('urn:hub:organization:H1:filler|H1LAB-7')}`)).not.toHaveProperty('entry.0');
    // the record is no longer the consenting person's: H1, which holds it, finds its report back
    expect(await fhir(`DiagnosticReport?patient=${old.id}`)).not.toHaveProperty('entry.0');
    expect((await fhirAs(await t.tokenFor('H1', ['results:read']), `DiagnosticReport?patient=${old.id}`)).entry).toHaveLength(1);
  });

  it('takes a FHIR transaction Bundle and answers with the location of each resource; a faulty entry gets a 422 naming it', async () => {
    const post = (body: unknown) => fetch(`${t.baseUrl}/fhir`, { method: 'POST', headers: { authorization: `Bearer ${lis}`, 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) });
    const bundle = labBundle({ organizationCode: 'H1', mrn: 'FH-1', nationalId: ZHANG, bundleId: 'FB-1' });
    const res = await post(bundle);
    expect(res.status).toBe(200);
    const answer = await readJson(res);
    expect(answer.entry.map((e: { response: { status: string; location?: string } }) => [e.response.status, e.response.location?.split('/')[0]])).toEqual([
      ['201 Created', 'Patient'],
      ['201 Created', undefined],
      ['201 Created', 'DiagnosticReport'],
      ['201 Created', 'Observation'],
      ['201 Created', 'Observation'],
    ]);
    const report = await fhir(answer.entry[2].response.location);
    expect(report).toMatchObject({ resourceType: 'DiagnosticReport', status: 'final', effectiveDateTime: '2024-04-02T00:10:00.000Z', result: [{ reference: answer.entry[3].response.location }, { reference: answer.entry[4].response.location }] });
    expect(await fhir(answer.entry[4].response.location)).toMatchObject({ status: 'preliminary', valueCodeableConcept: { coding: [{ code: 'NEG' }] } });
    // the Bundle's patient is the same person too
    const person = await fhir(`Patient?identifier=${encodeURIComponent(national)}`);
    expect(person.entry.map((e: { resource: { identifier: Array<{ value: string }> } }) => e.resource.identifier[0]!.value)).toContain('FH-1');

    const again = await readJson(await post(bundle));
    expect(again.entry.map((e: { response: { status: string; location?: string } }) => e.response)).toEqual(answer.entry.map((e: { response: { location?: string } }) => ({ ...e.response, status: '200 OK' })));

    const faulty = labBundle({ organizationCode: 'H1', mrn: 'FH-2' }) as { entry: Array<{ resource: Record<string, unknown> }> };
    faulty.entry[3]!.resource.valueQuantity = { value: 'high' };
    const refused = await post(faulty);
    expect(refused.status).toBe(422);
    expect((await readJson(refused)).issue[0].expression).toEqual(['Bundle.entry[3].resource.valueQuantity']);
  });
});
