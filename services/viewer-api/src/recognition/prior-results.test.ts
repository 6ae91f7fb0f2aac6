import { createRecognitionStage } from '@hub/index';
import { readJson, startTestHub, testLogger, type TestHub } from '@hub/shared/testing';
import { recognitionFactsCache } from '@hub/shared/recognition';
import { checkSchema, createOrderTimeRecognition, createPriorResultCheck, priorResultsParameters } from '.';
import { parseWith } from './schemas';
import { createTestRegion, type TestRegion } from '../../../index/src/recognition/test-region';
import { createFhirRouter } from '../fhir';

const K = '2823-3';
// the hub's clock in these tests, moved by each test (Beijing time)
let clock = new Date('2026-03-08T12:00:00+08:00');
const at = (instant: string) => (clock = new Date(instant));

describe('the prior-result check and decisions', () => {
  let t: TestHub;
  let r: TestRegion;
  let h2: string;
  let h3: string;
  const P: Record<string, number> = {};
  const Q: Record<string, number> = {};
  const drain = () => createRecognitionStage({ db: t.hub.db, log: testLogger(), factsStaleMs: 0 }).drain();

  beforeAll(async () => {
    t = await startTestHub((hub) => {
      const recognition = createOrderTimeRecognition({ db: hub.db, publicUrl: hub.config.publicUrl, idHashSecret: hub.idHashSecret, factsStaleMs: 0, now: () => clock });
      return [
        {
          name: 'recognition',
          mount(app) {
            app.use(createFhirRouter({ db: hub.db, publicUrl: hub.config.publicUrl, providers: [], operations: [recognition.fhirOperation] }));
            app.use(recognition.router);
          },
        },
      ];
    });
    r = await createTestRegion(t.hub.db, [{ code: 'H1' }, { code: 'H2' }, { code: 'H3' }, { code: 'H4', city: '420500' }]);
    h2 = await t.tokenFor('H2', ['recognition:check', 'recognition:decide']);
    h3 = await t.tokenFor('H3', ['recognition:check', 'recognition:decide']);
    await r.qualify('H1', { category: 'clinical-chemistry', from: '2026-01-01', until: '2026-03-10' });
    await r.qualify('H1', { category: 'CT', from: '2026-01-01', until: '2026-03-10' });
    await r.qualify('H3', { category: 'CT', from: '2026-03-11', scope: 'city' });

    const p = await r.person();
    for (const o of ['H1', 'H2', 'H3']) P[o] = await r.patient(o, `P-${o}`, p);
    await r.consent(p, { recordedBy: 'H2', from: '2026-01-01T00:00:00+08:00' });
    const q = await r.person();
    for (const o of ['H1', 'H2']) Q[o] = await r.patient(o, `Q-${o}`, q);

    await r.lab('H1', P.H1!, { loinc: K, at: '2026-03-01T10:00:00+08:00', value: 4.1, key: 'P-K-H1' });
    await r.lab('H3', P.H3!, { loinc: K, at: '2026-03-02T10:00:00+08:00', value: 4.3 });
    await r.lab('H1', P.H1!, { loinc: K, at: '2026-03-03T10:00:00+08:00', status: 'preliminary', value: 4.0, key: 'P-K-PRELIM' });
    await r.lab('H2', P.H2!, { loinc: K, at: '2026-02-01T10:00:00+08:00', value: 3.9 });
    await r.study('H1', P.H1!, { modality: 'CT', bodyPart: 'CHEST', date: '2026-03-01', description: '双肺纹理增多' });
    await r.study('H3', P.H3!, { modality: 'CT', bodyPart: 'CHEST', date: '2026-03-05' });
    await r.lab('H1', Q.H1!, { loinc: K, at: '2026-03-05T10:00:00+08:00' });
    await drain();
  });
  afterAll(() => t.stop());

  const post = async (token: string, path: string, body: unknown) => {
    const res = await fetch(`${t.baseUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: await readJson(res) };
  };
  const check = async (body: Record<string, unknown>, token = h2) => post(token, '/recognition/checks', { practitioner: 'Dr Li', ...body });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const byOrg = (results: any[], org: string, day: string): any => results.find((x) => x.organization.code === org && x.referenceDay === day);

  it('marks each prior recognizable or for reference with every reason, on the last day of the window', async () => {
    at('2026-03-08T12:00:00+08:00');
    const { status, body } = await check({ patient: { mrn: 'P-H2' }, item: 'LAB-K' });
    expect(status).toBe(201);
    expect(body).toMatchObject({ day: '2026-03-08', item: { code: 'LAB-K', validityDays: 7, priceCny: 6 }, authorization: { allowed: true, basis: 'consent' }, recognizable: 1, withheld: 0 });
    expect(body.results.map((x: { referenceDay: string }) => x.referenceDay)).toEqual(['2026-03-03', '2026-03-02', '2026-03-01', '2026-02-01']);
    expect(byOrg(body.results, 'H1', '2026-03-01')).toMatchObject({ recognizable: true, reasons: [], ageDays: 7, daysLeft: 0, status: 'final', values: [expect.objectContaining({ value: '4.1' })] });
    expect(byOrg(body.results, 'H1', '2026-03-01').links.fhir).toMatch(/\/fhir\/DiagnosticReport\/\d+$/);
    expect(byOrg(body.results, 'H3', '2026-03-02')).toMatchObject({ recognizable: false, reasons: [{ code: 'organization-not-qualified' }] });
    expect(byOrg(body.results, 'H1', '2026-03-03')).toMatchObject({ recognizable: false, reasons: [{ code: 'preliminary' }], daysLeft: 2 });
    // the asker's own result needs no qualification, but keeps to the window
    expect(byOrg(body.results, 'H2', '2026-02-01')).toMatchObject({ recognizable: false, organization: { own: true }, reasons: [{ code: 'outside-window', detail: expect.stringContaining('by 28 days') }] });
  });

  it('puts a result outside the window the day after its last day, counted in the region\'s days', async () => {
    at('2026-03-08T23:59:00+08:00');
    expect(byOrg((await check({ patient: { mrn: 'P-H2' }, item: 'LAB-K' })).body.results, 'H1', '2026-03-01').recognizable).toBe(true);
    at('2026-03-09T00:00:00+08:00'); // still 8 March in UTC
    const after = byOrg((await check({ patient: { mrn: 'P-H2' }, code: { system: 'http://loinc.org', code: K } })).body.results, 'H1', '2026-03-01');
    expect(after).toMatchObject({ recognizable: false, daysLeft: null, reasons: [{ code: 'outside-window', detail: expect.stringContaining('by 1 day ') }] });
  });

  it('follows a qualification to the day it ends and from the day it starts', async () => {
    const ct = async (day: string) => {
      at(`${day}T09:00:00+08:00`);
      const { body } = await check({ patient: { mrn: 'P-H2' }, modality: 'CT', bodyPart: 'CHEST' });
      return Object.fromEntries(body.results.map((x: { organization: { code: string }; recognizable: boolean; reasons: Array<{ detail: string }> }) => [x.organization.code, x.recognizable || x.reasons.map((y) => y.detail).join('; ')]));
    };
    expect(await ct('2026-03-10')).toEqual({ H1: true, H3: expect.stringContaining('valid from 2026-03-11') });
    expect(await ct('2026-03-11')).toEqual({ H1: expect.stringContaining('ended on 2026-03-10'), H3: true });
    // H4 is in another city: H3's city-wide qualification does not reach it
    const h4 = await t.tokenFor('H4', ['recognition:check']);
    await r.patient('H4', 'P-H4', (await t.hub.db('patients').where({ id: P.H1 }).first('person_id')).person_id);
    const { body } = await check({ patient: { mrn: 'P-H4' }, item: 'CT-CHEST' }, h4);
    expect(byOrg(body.results, 'H3', '2026-03-05').reasons[0].detail).toContain('city 420100, which does not include');
    const study = byOrg(body.results, 'H1', '2026-03-01');
    expect(study).toMatchObject({ study: { modalities: ['CT'], bodyParts: ['CHEST'] }, forReference: { description: '双肺纹理增多' } });
    expect(study.links.dicomweb).toContain(`/dicomweb/studies/${study.study.uid}`);
  });

  it('shows nothing of another organization\'s results without the patient\'s consent, unless an emergency is stated, and audits it', async () => {
    at('2026-03-06T09:00:00+08:00');
    const plain = await check({ patient: { mrn: 'Q-H2' }, item: 'LAB-K' });
    expect(plain.body).toMatchObject({ results: [], withheld: 1, recognizable: 0, authorization: { allowed: false, reason: 'no-consent' } });
    const emergency = await check({ patient: { mrn: 'Q-H2' }, item: 'LAB-K', emergencyReason: '昏迷，无法取得同意' });
    expect(emergency.body).toMatchObject({ withheld: 0, recognizable: 1, authorization: { allowed: true, basis: 'emergency', emergency: true } });
    const audit = await t.hub.db('audit_events').where({ action: 'recognition.check', resource_id: emergency.body.check }).first('emergency', 'purpose', 'patient_id', 'practitioner');
    expect(audit).toEqual({ emergency: true, purpose: 'emergency-treatment', patient_id: Q.H1, practitioner: 'Dr Li' });
    expect((await check({ patient: { mrn: 'Q-H2' }, item: 'LAB-K', emergencyReason: ' ' })).body.authorization).toMatchObject({ allowed: false, reason: 'emergency-reason-required' });
  });

  it('refuses a patient it cannot find, an item not in the catalog, and a check without a practitioner', async () => {
    expect((await check({ patient: { mrn: 'NOBODY' }, item: 'LAB-K' })).body.error).toMatchObject({ code: 'unknown-patient' });
    expect((await check({ patient: { mrn: 'P-H2' }, item: 'LAB-NOPE' })).body.error).toMatchObject({ code: 'unknown-item' });
    const missing = await post(h2, '/recognition/checks', { patient: { mrn: 'P-H2' }, item: 'LAB-K' });
    expect(missing).toMatchObject({ status: 400, body: { error: { location: 'practitioner' } } });
    expect((await check({ patient: { nationalId: '110101199003074515' }, item: 'LAB-K' })).body.error).toMatchObject({ code: 'national-id-check-digit' });
  });

  describe('decisions', () => {
    let checkId: string;
    let recognizable: string;
    let unqualified: string;
    beforeAll(async () => {
      at('2026-03-07T10:00:00+08:00');
      const { body } = await check({ patient: { mrn: 'P-H2' }, item: 'LAB-K' });
      checkId = body.check;
      recognizable = byOrg(body.results, 'H1', '2026-03-01').id;
      unqualified = byOrg(body.results, 'H3', '2026-03-02').id;
    });
    const decide = (body: Record<string, unknown>, token = h2) => post(token, '/recognition/decisions', { checkId, practitioner: 'Dr Li', ...body });

    it('refuses a decision on a result the check never offered, on a reference-only one, and on another organization\'s check', async () => {
      const qResult = (await t.hub.db('recognition_results').where({ patient_id: Q.H1 }).first('id')).id;
      expect(await decide({ resultId: String(qResult), decision: 'recognized' })).toMatchObject({ status: 400, body: { error: { code: 'result-not-offered' } } });
      expect(await decide({ resultId: unqualified, decision: 'recognized' })).toMatchObject({ status: 409, body: { error: { code: 'not-recognizable' } } });
      expect(await decide({ resultId: recognizable, decision: 'recognized' }, h3)).toMatchObject({ status: 403, body: { error: { code: 'not-own-check' } } });
      expect(await decide({ checkId: '999999', resultId: recognizable, decision: 'recognized' })).toMatchObject({ status: 404 });
    });

    it('takes only reasons from the national list, and text with "other"', async () => {
      expect((await decide({ resultId: recognizable, decision: 'declined' })).body.error.location).toBe('reasons');
      expect((await decide({ resultId: recognizable, decision: 'declined', reasons: ['too-expensive'] })).status).toBe(400);
      expect((await decide({ resultId: recognizable, decision: 'declined', reasons: ['other'] })).body.error.location).toBe('text');
      expect((await decide({ resultId: recognizable, decision: 'recognized', reasons: ['emergency'] })).status).toBe(400);
    });

    it('records a recognized result once: the same decision again is the same decision, another one a conflict', async () => {
      const first = await decide({ resultId: recognizable, decision: 'recognized' });
      expect(first).toMatchObject({ status: 201, body: { decision: 'recognized', priceCny: 6, day: '2026-03-07', check: checkId, result: recognizable } });
      const again = await decide({ resultId: recognizable, decision: 'recognized' });
      expect(again).toMatchObject({ status: 200, body: { id: first.body.id } });
      expect(await decide({ resultId: recognizable, decision: 'declined', reasons: ['condition-changed'] })).toMatchObject({ status: 409, body: { error: { code: 'already-decided' } } });
      const deltas = await t.hub.db('recognition_daily_deltas').where({ day: '2026-03-07', organization_id: r.org('H2') }).sum('recognized as n').sum('saved_cny as cny').first();
      expect(deltas).toEqual({ n: 1, cny: 6 });
    });

    it('declines with reasons, and refuses to recognize a result corrected since the check', async () => {
      at('2026-03-08T08:00:00+08:00');
      const { body } = await check({ patient: { mrn: 'P-H2' }, item: 'LAB-K' });
      const result = byOrg(body.results, 'H1', '2026-03-01').id;
      await t.hub.db('observations').where({ patient_id: P.H1 }).whereIn('report_id', t.hub.db('lab_reports').where({ report_key: 'P-K-H1' }).select('id')).update({ value_num: 4.6, status: 'corrected' });
      await t.hub.db('lab_reports').where({ report_key: 'P-K-H1' }).update({ status: 'corrected' });
      await drain();
      const refused = await decide({ checkId: body.check, resultId: result, decision: 'recognized' });
      expect(refused).toMatchObject({ status: 409, body: { error: { code: 'corrected-since-check' } } });
      const declined = await decide({ checkId: body.check, resultId: result, decision: 'declined', reasons: ['value-changes-fast', 'other'], text: '复查前后差异大' });
      expect(declined).toMatchObject({ status: 201, body: { reasons: ['value-changes-fast', 'other'], text: '复查前后差异大' } });
      // a new check shows the corrected value, recognizable, and the preliminary result once it is final
      await t.hub.db('lab_reports').where({ report_key: 'P-K-PRELIM' }).update({ status: 'final' });
      await t.hub.db('observations').where({ patient_id: P.H1, status: 'preliminary' }).update({ status: 'final' });
      await drain();
      const fresh = (await check({ patient: { mrn: 'P-H2' }, item: 'LAB-K' })).body.results;
      expect(byOrg(fresh, 'H1', '2026-03-01')).toMatchObject({ recognizable: true, status: 'corrected', values: [expect.objectContaining({ value: '4.6' })] });
      expect(byOrg(fresh, 'H1', '2026-03-01').correctedAt).not.toBeNull();
      expect(byOrg(fresh, 'H1', '2026-03-03')).toMatchObject({ recognizable: true, status: 'final' });
    });
  });

  describe('$prior-results', () => {
    const fhir = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${t.baseUrl}/fhir/${path}`, {
        method,
        headers: { authorization: `Bearer ${h2}`, 'content-type': 'application/fhir+json', 'x-practitioner': 'Dr Zhao' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: await readJson(res) };
    };
    const results = (p: { parameter: Array<{ name: string; part?: Array<Record<string, unknown>> }> }) =>
      p.parameter.filter((x) => x.name === 'result').map((x) => Object.fromEntries(x.part!.filter((y) => y.name !== 'reason').map((y) => [y.name, Object.entries(y).find(([k]) => k.startsWith('value'))![1]])));

    it('answers GET and POST (Parameters or a ServiceRequest) with the check as Parameters, listed in the CapabilityStatement', async () => {
      at('2026-03-08T12:00:00+08:00');
      const get = await fhir('GET', `$prior-results?patient=${encodeURIComponent('urn:hub:organization:H2:mrn|P-H2')}&code=${encodeURIComponent(`http://loinc.org|${K}`)}`);
      expect(get.status).toBe(200);
      expect(get.body).toMatchObject({ resourceType: 'Parameters', parameter: expect.arrayContaining([{ name: 'item', valueCoding: expect.objectContaining({ code: 'LAB-K' }) }]) });
      expect(results(get.body).filter((x) => x.recognizable)).toHaveLength(2);

      const sr = { resourceType: 'ServiceRequest', status: 'draft', intent: 'order', subject: { identifier: { system: 'urn:hub:organization:H2:mrn', value: 'P-H2' } }, code: { coding: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'CT' }] }, bodySite: [{ coding: [{ code: 'CHEST' }] }] };
      const onType = await fhir('POST', 'ServiceRequest/$prior-results', sr);
      expect(results(onType.body).map((x) => x.organization)).toEqual([{ system: 'urn:hub:organization', value: 'H3' }, { system: 'urn:hub:organization', value: 'H1' }]);
      expect(results(onType.body)[1]!.reference).toMatchObject({ type: 'ImagingStudy' });
      const params = await fhir('POST', '%24prior-results', { resourceType: 'Parameters', parameter: [{ name: 'serviceRequest', resource: sr }] });
      expect(results(params.body)).toHaveLength(2);
      const checks = await t.hub.db('recognition_checks').whereIn('id', [onType.body.parameter[0].valueString, params.body.parameter[0].valueString]).select('practitioner');
      expect(checks).toEqual([{ practitioner: 'Dr Zhao' }, { practitioner: 'Dr Zhao' }]);

      const refused = await fhir('GET', '$prior-results?patient=urn:hub:organization:H1:mrn|P-H1&item=LAB-K');
      expect(refused).toMatchObject({ status: 400, body: { resourceType: 'OperationOutcome' } });
      const cs = (await fhir('GET', 'metadata')).body;
      expect(cs.rest[0].operation).toEqual([{ name: 'prior-results', definition: expect.stringMatching(/\/fhir\/OperationDefinition\/prior-results$/) }]);
    });

    it('links a study to the configured OHIF viewer (HUB_VIEWER_URL) and, without one, gives no viewer link at all', async () => {
      at('2026-03-10T09:00:00+08:00');
      const viewerParts = (p: { parameter: Array<{ name: string; part?: Array<{ name: string; valueUrl?: string }> }> }) =>
        p.parameter.filter((x) => x.name === 'result').flatMap((x) => x.part!.filter((y) => y.name === 'viewer').map((y) => y.valueUrl));
      // this hub has no viewer configured: REST and FHIR answers link the study's FHIR and DICOMweb only
      const rest = byOrg((await check({ patient: { mrn: 'P-H2' }, item: 'CT-CHEST' })).body.results, 'H1', '2026-03-01');
      expect(Object.keys(rest.links).sort()).toEqual(['dicomweb', 'fhir']);
      const op = await fhir('GET', `$prior-results?patient=${encodeURIComponent('urn:hub:organization:H2:mrn|P-H2')}&item=CT-CHEST`);
      expect(op.status).toBe(200);
      expect(viewerParts(op.body)).toEqual([]);

      // with one: OHIF's viewer route with the study's UID, after the route's own query
      const withViewer = createPriorResultCheck({ db: t.hub.db, facts: recognitionFactsCache(t.hub.db, 0), publicUrl: 'http://hub.example', viewerUrl: 'https://viewer.example.org/viewer?datasources=hub', idHashSecret: t.hub.idHashSecret, now: () => clock });
      const answer = await withViewer(parseWith(checkSchema, { patient: { mrn: 'P-H2' }, item: 'CT-CHEST', practitioner: 'Dr Li' }), { organizationId: r.org('H2') });
      const uids = answer.results.map((x) => x.study!.uid);
      expect(answer.results.map((x) => x.links.viewer)).toEqual(uids.map((uid) => `https://viewer.example.org/viewer?datasources=hub&StudyInstanceUIDs=${uid}`));
      expect(viewerParts(priorResultsParameters(answer) as unknown as Parameters<typeof viewerParts>[0])).toEqual(answer.results.map((x) => x.links.viewer));
      // a lab result has no viewer
      const lab = await withViewer(parseWith(checkSchema, { patient: { mrn: 'P-H2' }, item: 'LAB-K', practitioner: 'Dr Li' }), { organizationId: r.org('H2') });
      expect(lab.results.every((x) => x.links.viewer === undefined)).toBe(true);
    });
  });
});
