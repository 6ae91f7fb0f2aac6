import { notFound } from '@hub/shared/errors';
import { readJson, startTestHub, type TestHub } from '@hub/shared/testing';
import { createFhirRouter, FHIR_METADATA_PATH, type FhirResourceProvider } from '.';

// A provider over a fixed list, to exercise the router's paging, errors and auditing.
const people = Array.from({ length: 7 }, (_, i) => ({ resourceType: 'Basic', id: `b${i}`, code: { text: i % 2 ? 'odd' : 'even' } }));
const basic: FhirResourceProvider = {
  type: 'Basic',
  searchParams: [{ name: 'code', type: 'token', documentation: 'odd or even' }],
  async read(id, ctx) {
    const found = people.find((p) => p.id === id);
    if (!found) throw notFound(`no Basic/${id}`);
    await ctx.audit([{ action: 'read', resourceType: 'Basic', resourceId: id, patientId: 1 }]);
    return found;
  },
  async search(params, page) {
    const code = params.get('code')?.[0];
    const all = people.filter((p) => !code || p.code.text === code);
    return { matches: all.slice(page.offset, page.offset + page.count), total: all.length };
  },
};

describe('FHIR endpoint', () => {
  let t: TestHub;
  let token: string;
  beforeAll(async () => {
    t = await startTestHub((hub) => [
      { name: 'fhir', publicPaths: [FHIR_METADATA_PATH], mount: (app) => app.use(createFhirRouter({ db: hub.db, publicUrl: 'http://hub.example', providers: [basic] })) },
    ]);
    token = await t.tokenFor('H1', ['results:read']);
  });
  afterAll(() => t.stop());
  const get = (path: string) => fetch(`${t.baseUrl}${path}`, { headers: { authorization: `Bearer ${token}`, 'x-practitioner': 'Dr Wang' } });

  it('publishes a CapabilityStatement without a token', async () => {
    const res = await fetch(`${t.baseUrl}/fhir/metadata`);
    expect(res.headers.get('content-type')).toContain('application/fhir+json');
    const cs = await readJson(res);
    expect(cs).toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1', kind: 'instance' });
    expect(cs.rest[0].resource[0]).toMatchObject({ type: 'Basic', interaction: [{ code: 'read' }, { code: 'search-type' }] });
  });

  it('pages a search with next and previous links that keep the parameters', async () => {
    const first = await readJson(await get('/fhir/Basic?code=even&_count=2'));
    expect(first).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 4 });
    expect(first.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual(['b0', 'b2']);
    const next = first.link.find((l: { relation: string }) => l.relation === 'next').url as string;
    expect(next).toBe('http://hub.example/fhir/Basic?code=even&_count=2&_offset=2');
    const second = await readJson(await get(next.replace('http://hub.example', '')));
    expect(second.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual(['b4', 'b6']);
    expect(second.link.map((l: { relation: string }) => l.relation)).toEqual(['self', 'previous']);
  });

  it('audits a read with the practitioner named by the caller', async () => {
    expect((await get('/fhir/Basic/b3')).status).toBe(200);
    expect(await t.hub.db('audit_events').where({ resource_id: 'b3' }).first('action', 'practitioner', 'client_id')).toMatchObject({ action: 'read', practitioner: 'Dr Wang' });
  });

  it.each([
    ['/fhir/Basic?colour=red', 400, 'unknown search parameter colour'],
    ['/fhir/Basic?_count=-1', 400, '_count must be a whole number'],
    ['/fhir/Unicorn?x=1', 404, 'does not serve Unicorn'],
    ['/fhir/Basic/b99', 404, 'no Basic/b99'],
  ])('answers %s with %i and an OperationOutcome', async (path, status, text) => {
    const res = await get(path);
    expect(res.status).toBe(status);
    const outcome = await readJson(res);
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue[0].diagnostics).toContain(text);
  });

  it('needs the results:read scope', async () => {
    const other = await t.tokenFor('AUTH', ['stats:read'], 'authority');
    const res = await fetch(`${t.baseUrl}/fhir/Basic`, { headers: { authorization: `Bearer ${other}` } });
    expect(res.status).toBe(403);
    expect((await readJson(res)).resourceType).toBe('OperationOutcome');
  });
});
