import { readJson, startTestHub, type TestHub } from '@hub/shared/testing';
import { createAccept } from '../accept';
import { createFhirIntakeRouter } from './intake';
import { labBundle } from './test-bundle';

const CHEN = '11010519491231002X';

// The door alone, without index workers: it answers once the Bundle is durable, with 202
// entries because nothing indexes it here (test/lab.test.ts runs the whole path with locations).
describe('FHIR transaction Bundle intake', () => {
  let t: TestHub;
  let token: string;
  beforeAll(async () => {
    t = await startTestHub((hub) => [
      { name: 'fhir-intake', mount: (app) => app.use(createFhirIntakeRouter({ db: hub.db, accept: createAccept({ db: hub.db, blob: hub.blob, log: hub.log }), idHashSecret: hub.idHashSecret, log: hub.log, indexWaitMs: 50 })) },
    ]);
    token = await t.tokenFor('H1', ['results:write']);
  });
  afterAll(() => t.stop());

  const post = (body: unknown, type = 'application/fhir+json') =>
    fetch(`${t.baseUrl}/fhir`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('keeps the Bundle as sent and answers a transaction-response once it is durable; the same Bundle again is one row', async () => {
    const bundle = labBundle({ organizationCode: 'H1', mrn: 'F-1', nationalId: CHEN, bundleId: 'B-1' });
    const res = await post(bundle);
    expect(res.status).toBe(200);
    const answer = await readJson(res);
    expect(answer).toMatchObject({ resourceType: 'Bundle', type: 'transaction-response' });
    expect(answer.entry).toHaveLength(5);
    expect(answer.entry[0].response.status).toBe('202 Accepted');
    const row = await t.hub.db('accepted_objects').where({ kind: 'fhir' }).first('identity', 'blob_key', 'summary');
    expect(row.identity).toMatch(/^\d+\|urn:hub:organization:H1:bundle\|B-1$/);
    expect(row.blob_key).toMatch(/^fhir\/H1\/\d{4}-\d{2}-\d{2}\/B-1-[0-9a-f]{64}\.json$/);
    expect(JSON.stringify(row.summary)).not.toContain(CHEN);
    expect((await post(bundle)).status).toBe(200);
    expect(await t.hub.db('accepted_objects').where({ kind: 'fhir' }).count('* as n').first()).toEqual({ n: 1 });
  });

  it('answers a faulty entry with 422 and an OperationOutcome naming it, and stores nothing', async () => {
    const bundle = labBundle({ organizationCode: 'H1', mrn: 'F-2' }) as { entry: Array<{ resource: Record<string, unknown> }> };
    bundle.entry[2]!.resource.subject = { reference: 'urn:uuid:0000' };
    const res = await post(bundle);
    expect(res.status).toBe(422);
    const outcome = await readJson(res);
    expect(outcome).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', expression: ['Bundle.entry[2].resource.subject'] }] });
    expect(await t.hub.db('accepted_objects').where({ kind: 'fhir' }).count('* as n').first()).toEqual({ n: 1 });
  });

  it('answers what is not a Bundle with 400, and another media type with 415, as OperationOutcomes', async () => {
    const notJson = await post('{"resourceType":');
    expect(notJson.status).toBe(400);
    expect((await readJson(notJson)).resourceType).toBe('OperationOutcome');
    const patient = await post({ resourceType: 'Patient' });
    expect(patient.status).toBe(400);
    expect((await readJson(patient)).issue[0].expression).toEqual(['Bundle']);
    const xml = await post('<Bundle/>', 'application/fhir+xml');
    expect(xml.status).toBe(415);
    expect((await readJson(xml)).resourceType).toBe('OperationOutcome');
  });
});
