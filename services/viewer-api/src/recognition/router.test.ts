import { findOrganization } from '@hub/shared/org';
import { readJson, startTestHub, type TestHub } from '@hub/shared/testing';
import { createRecognitionRouter, reviseCatalogItem, type CatalogChange } from '.';

// The hub's clock in these tests: 10 March 2026, 10:00 in Beijing.
const NOW = new Date('2026-03-10T10:00:00+08:00');
const potassium: CatalogChange = { effectiveFrom: '2025-01-01', kind: 'lab', category: 'clinical-chemistry', name: '钾', nameEn: 'Potassium', validityDays: 7, priceCny: 6, loinc: ['2823-3'] };

describe('the recognition API', () => {
  let t: TestHub;
  let authority: string;
  let h1: string;
  let h2: string;
  beforeAll(async () => {
    t = await startTestHub((hub) => [{ name: 'recognition', mount: (app) => app.use(createRecognitionRouter({ db: hub.db, now: () => NOW })) }]);
    const db = t.hub.db;
    await db('regions').insert([{ code: 'DEMO', name: '示范市', is_default: true }, { code: 'OTHER', name: '邻市' }]);
    authority = await t.tokenFor('AUTH', ['catalog:write', 'stats:read'], 'authority');
    // a hospital, even one whose client was given catalog:write by mistake, is not the authority
    h1 = await t.tokenFor('H1', ['results:write', 'results:read', 'catalog:write']);
    h2 = await t.tokenFor('H2', ['results:read', 'results:write']);
    const auth = (await findOrganization(db, 'AUTH'))!;
    const [{ id: region }] = await db('regions').where({ code: 'DEMO' }).select('id');
    await reviseCatalogItem(db, { regionId: region, code: 'LAB-K', change: potassium, changedByOrganizationId: auth.id, today: '2025-01-01' });
    const [{ id: personId }] = await db('persons').insert({}).returning('id');
    await db('patients').insert({ organization_id: (await findOrganization(db, 'H1'))!.id, local_id: 'MRN-1', person_id: personId });
  });
  afterAll(() => t.stop());

  const call = (token: string, method: string, path: string, body?: unknown) =>
    fetch(`${t.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-practitioner': 'Dr Li' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const ct: CatalogChange = { effectiveFrom: '2026-03-10', kind: 'imaging', category: 'CT', name: '头颅CT平扫', nameEn: 'CT head', validityDays: 90, priceCny: 200, filmsPerExam: 2, imaging: [{ modality: 'ct', bodyPart: 'head' }] };

  it('lets only the health authority edit the catalog, and only with catalog:write', async () => {
    const byHospital = await call(h1, 'PUT', '/recognition/catalog/CT-HEAD', ct);
    expect(byHospital.status).toBe(403);
    expect((await readJson(byHospital)).error).toMatchObject({ kind: 'Forbidden', code: 'not-authority' });
    const withoutScope = await call(await t.tokenFor('AUTH', ['stats:read'], 'authority'), 'PUT', '/recognition/catalog/CT-HEAD', ct);
    expect((await readJson(withoutScope)).error).toMatchObject({ code: 'insufficient-scope' });
    const created = await call(authority, 'PUT', '/recognition/catalog/CT-HEAD', ct);
    expect(created.status).toBe(201);
    expect(await readJson(created)).toMatchObject({ code: 'CT-HEAD', kind: 'imaging', current: { validityDays: 90, filmsPerExam: 2 }, imaging: [{ modality: 'CT', bodyPart: 'HEAD' }] });
    expect((await call(authority, 'PUT', '/recognition/catalog/CT-HEAD', { ...ct, effectiveFrom: '2026-06-01', priceCny: 180 })).status).toBe(200);
    const elsewhere = await call(authority, 'PUT', '/recognition/catalog/CT-HEAD?region=OTHER', ct);
    expect((await readJson(elsewhere)).error).toMatchObject({ kind: 'Forbidden', code: 'other-region' });
  });

  it('applies a change from its day: the day before keeps the old version, the day of and after see the new one', async () => {
    const put = await call(authority, 'PUT', '/recognition/catalog/LAB-K', { ...potassium, kind: undefined, category: undefined, effectiveFrom: '2026-04-01', validityDays: 3, priceCny: 7.5 });
    expect(put.status).toBe(200);
    const windowOn = async (on?: string) => (await readJson(await call(h2, 'GET', `/recognition/catalog/LAB-K${on ? `?on=${on}` : ''}`))).current.validityDays;
    expect(await windowOn('2026-03-31')).toBe(7);
    expect(await windowOn('2026-04-01')).toBe(3);
    expect(await windowOn('2026-05-01')).toBe(3);
    expect(await windowOn()).toBe(7);
    const detail = await readJson(await call(h2, 'GET', '/recognition/catalog/LAB-K'));
    expect(detail).toMatchObject({ region: 'DEMO', on: '2026-03-10', loinc: ['2823-3'] });
    expect(detail.versions.map((v: { effectiveFrom: string; priceCny: number }) => [v.effectiveFrom, v.priceCny])).toEqual([
      ['2025-01-01', 6],
      ['2026-04-01', 7.5],
    ]);
    const past = await call(authority, 'PUT', '/recognition/catalog/LAB-K', { ...potassium, effectiveFrom: '2026-03-09' });
    expect(past.status).toBe(400);
    expect((await readJson(past)).error).toMatchObject({ location: 'effectiveFrom', code: 'effective-in-past' });
  });

  it('lists the catalogue in force on a day, by kind', async () => {
    const all = await readJson(await call(h2, 'GET', '/recognition/catalog?on=2026-04-01'));
    expect(all.items.map((i: { code: string; validityDays: number }) => [i.code, i.validityDays])).toEqual([
      ['CT-HEAD', 90],
      ['LAB-K', 3],
    ]);
    const lab = await readJson(await call(h2, 'GET', '/recognition/catalog?kind=lab'));
    expect(lab).toMatchObject({ region: 'DEMO', on: '2026-03-10', count: 1, items: [{ code: 'LAB-K', name: '钾', nameEn: 'Potassium', priceCny: 6, loinc: ['2823-3'] }] });
    expect((await call(h2, 'GET', '/recognition/catalog?on=2026-02-30')).status).toBe(400);
    expect((await call(h2, 'GET', '/recognition/catalog/LAB-NOPE')).status).toBe(404);
  });

  it.each([
    ['effective_from', { ...potassium, effectiveFrom: undefined, effective_from: '2026-05-01' }, 'effective_from: is not a field of this request; effectiveFrom: is required'],
    ['validityDays', { ...potassium, validityDays: '7' }, 'whole number of days'],
    ['priceCny', { ...potassium, priceCny: 6.125 }, 'two decimals'],
    ['loinc[0]', { ...potassium, loinc: ['2823-4'] }, 'check digit'],
    ['imaging[0].bodyPart', { ...ct, imaging: [{ modality: 'CT', bodyPart: 'HEAD/NECK' }] }, 'Body Part Examined'],
  ])('refuses a body with a bad %s, naming that JSON path', async (location, body, words) => {
    const res = await call(authority, 'PUT', `/recognition/catalog/${'imaging' in body ? 'CT-HEAD' : 'LAB-K'}`, { ...body, effectiveFrom: body.effectiveFrom && '2026-05-01' });
    expect(res.status).toBe(400);
    const { error } = await readJson(res);
    expect(error).toMatchObject({ kind: 'BadInput', location });
    expect(error.message).toContain(words);
  });

  it("lets an organization map its own local codes and the authority map anyone's", async () => {
    const own = await call(h1, 'POST', '/recognition/local-codes', { mappings: [{ localCode: 'K01', item: 'LAB-K', localName: '血钾' }] });
    expect(own.status).toBe(200);
    expect((await call(h1, 'POST', '/recognition/local-codes', { organization: 'H2', mappings: [{ localCode: 'K', item: 'LAB-K' }] })).status).toBe(403);
    expect((await call(authority, 'POST', '/recognition/local-codes', { organization: 'H1', mappings: [{ localCode: 'CT1', item: 'CT-HEAD' }] })).status).toBe(200);
    expect(await readJson(await call(h1, 'GET', '/recognition/local-codes'))).toEqual({
      count: 2,
      mappings: [
        { localCode: 'CT1', item: 'CT-HEAD', kind: 'imaging', localName: null },
        { localCode: 'K01', item: 'LAB-K', kind: 'lab', localName: '血钾' },
      ],
    });
    expect((await call(h2, 'GET', '/recognition/local-codes?organization=H1')).status).toBe(403);
    const unknown = await call(h1, 'POST', '/recognition/local-codes', { mappings: [{ localCode: 'X', item: 'LAB-NOPE' }] });
    expect((await readJson(unknown)).error).toMatchObject({ location: 'mappings[0].item', code: 'unknown-item' });
  });

  it('grants, lists and withdraws qualifications as the authority only', async () => {
    const body = { organization: 'H1', category: 'clinical-chemistry', basis: 'eqa-passed', scope: { kind: 'city', city: '420100' }, validFrom: '2026-01-01', validUntil: '2026-12-31', reference: 'EQA 2025-2' };
    expect((await call(h1, 'POST', '/recognition/qualifications', body)).status).toBe(403);
    const granted = await call(authority, 'POST', '/recognition/qualifications', body);
    expect(granted.status).toBe(201);
    const q = await readJson(granted);
    expect(q).toMatchObject({ organization: 'H1', category: 'clinical-chemistry', item: null, scope: { kind: 'city', city: '420100' }, validUntil: '2026-12-31', withdrawnAt: null });
    expect((await readJson(await call(h2, 'GET', '/recognition/qualifications?organization=H1&on=2026-12-31'))).count).toBe(1);
    expect((await readJson(await call(h2, 'GET', '/recognition/qualifications?organization=H1&on=2027-01-01'))).count).toBe(0);
    expect((await call(h1, 'DELETE', `/recognition/qualifications/${q.id}`)).status).toBe(403);
    expect((await readJson(await call(authority, 'DELETE', `/recognition/qualifications/${q.id}`))).withdrawnAt).not.toBeNull();
    expect((await readJson(await call(h2, 'GET', '/recognition/qualifications?organization=H1'))).count).toBe(0);
    const bad = await call(authority, 'POST', '/recognition/qualifications', { ...body, scope: { kind: 'planet' } });
    expect((await readJson(bad)).error).toMatchObject({ location: 'scope.kind' });
  });

  it('keeps alliances and placements as the authority says', async () => {
    const put = await call(authority, 'PUT', '/recognition/alliances/EAST', { name: '东部医联体', members: [{ organization: 'H1', from: '2026-01-01' }, { organization: 'H2', from: '2026-01-01', until: '2026-06-30' }] });
    expect(put.status).toBe(201);
    expect(await readJson(await call(h2, 'GET', '/recognition/alliances/EAST'))).toMatchObject({ code: 'EAST', members: [{ organization: 'H1', until: null }, { organization: 'H2', until: '2026-06-30' }] });
    const missing = await call(authority, 'PUT', '/recognition/alliances/EAST', { name: 'x', members: [{ organization: 'NOPE', from: '2026-01-01' }] });
    expect((await readJson(missing)).error).toMatchObject({ location: 'members[0].organization', code: 'unknown-organization' });
    expect((await call(h1, 'PUT', '/recognition/organizations/H1/placement', { city: '420100' })).status).toBe(403);
    expect(await readJson(await call(authority, 'PUT', '/recognition/organizations/H1/placement', { city: '420100' }))).toEqual({ organization: 'H1', region: 'DEMO', city: '420100' });
  });

  it("records, lists and revokes a consent at the patient's own organization, audited", async () => {
    const body = { patient: 'MRN-1', scope: 'organizations', organizations: ['H2'], method: 'written', from: '2026-03-10', until: '2026-12-31' };
    const notTheirs = await call(h2, 'POST', '/recognition/consents', body);
    expect((await readJson(notTheirs)).error).toMatchObject({ kind: 'NotFound', location: 'patient', code: 'unknown-patient' });
    const recorded = await call(h1, 'POST', '/recognition/consents', body);
    expect(recorded.status).toBe(201);
    const consent = await readJson(recorded);
    // whole days in Beijing: from the first instant of 10 March to the end of 31 December
    expect(consent).toMatchObject({ scope: 'organizations', organizations: ['H2'], purpose: 'treatment', method: 'written', validFrom: '2026-03-09T16:00:00.000Z', validUntil: '2026-12-31T16:00:00.000Z', recordedBy: 'H1', practitioner: 'Dr Li', status: 'active' });
    const listed = await readJson(await call(h1, 'GET', '/recognition/consents?patient=MRN-1'));
    expect(listed).toMatchObject({ patient: 'MRN-1', count: 1, consents: [{ id: consent.id }] });
    expect((await call(h2, 'POST', `/recognition/consents/${consent.id}/revoke`, {})).status).toBe(403);
    const revoked = await call(h1, 'POST', `/recognition/consents/${consent.id}/revoke`, { reason: 'patient request' });
    expect(await readJson(revoked)).toMatchObject({ status: 'revoked', revokedBy: 'H1', revocationReason: 'patient request' });
    const audit = await t.hub.db('audit_events').where({ resource_type: 'Consent' }).orderBy('id').pluck('action');
    expect(audit).toEqual(['consent.record', 'consent.list', 'consent.revoke']);
    const bad = await call(h1, 'POST', '/recognition/consents', { ...body, organizations: undefined });
    expect((await readJson(bad)).error).toMatchObject({ location: 'organizations' });
  });
});
