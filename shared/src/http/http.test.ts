import express, { Router } from 'express';
import { badInput, conflict, notFound } from '../errors';
import { readJson, startTestHub, type TestHub } from '../testing';

// Routes that fail in each way a service route can, behind the real app and auth.
const failingRoutes = (release: Promise<void>) => ({
  name: 'failing',
  mount(app: express.Express) {
    const router = Router();
    router.post('/things', express.json(), (req, res) => void res.status(201).json(req.body));
    router.get('/things/missing', () => {
      throw notFound('no thing 42', { location: 'id', code: 'unknown-thing' });
    });
    router.get('/fhir/Patient/x', async () => {
      throw badInput('identifier system is required', { location: 'Patient.identifier', code: 'missing-system' });
    });
    router.get('/things/conflict', () => {
      throw conflict('already there');
    });
    router.get('/things/bug', () => {
      throw new TypeError('cannot read properties of undefined (secret internals)');
    });
    router.get('/things/slow', async (_req, res) => {
      await release;
      res.json({ finished: true });
    });
    app.use(router);
  },
});

describe('HTTP error model, health and metrics', () => {
  let t: TestHub;
  let token: string;
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));

  beforeAll(async () => {
    t = await startTestHub(() => [failingRoutes(released)]);
    token = await t.tokenFor('H1', ['results:read']);
  });
  afterAll(async () => {
    release();
    await t.stop();
  });

  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${t.baseUrl}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } });

  it('answers a known failure with its status and a machine-readable body naming the request', async () => {
    const res = await call('/things/missing', { headers: { 'x-request-id': 'req-123' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-request-id')).toBe('req-123');
    expect(await readJson(res)).toEqual({ error: { kind: 'NotFound', message: 'no thing 42', location: 'id', code: 'unknown-thing' }, requestId: 'req-123' });
    expect((await call('/things/conflict')).status).toBe(409);
  });

  it('answers FHIR routes with an OperationOutcome', async () => {
    const res = await call('/fhir/Patient/x');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/fhir+json');
    expect(await readJson(res)).toEqual({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'invalid', diagnostics: 'identifier system is required', expression: ['Patient.identifier'] }],
    });
  });

  it('answers a bug with 500 and no stack trace or internals', async () => {
    const res = await call('/things/bug');
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toMatch(/TypeError|secret internals|at .*\.ts/);
    expect(JSON.parse(text).error.kind).toBe('Internal');
  });

  it('answers a malformed JSON body with 400 and an unknown route with 404', async () => {
    const res = await call('/things', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' });
    expect(res.status).toBe(400);
    expect((await readJson(res)).error).toMatchObject({ kind: 'BadInput', message: 'the request body is not valid JSON' });
    expect((await call('/nowhere')).status).toBe(404);
  });

  it('serves health and readiness without a token, and checks the database and blob store', async () => {
    expect(await readJson(await fetch(`${t.baseUrl}/healthz`))).toEqual({ status: 'ok' });
    const ready = await fetch(`${t.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await readJson(ready)).toEqual({ status: 'ready', checks: { database: 'ok', 'blob-store': 'ok' } });
  });

  it('exposes Prometheus metrics with request durations by route', async () => {
    await call('/things/missing');
    const text = await (await fetch(`${t.baseUrl}/metrics`)).text();
    expect(text).toMatch(/hub_http_request_duration_seconds_count\{service="test",method="GET",route="\/things\/missing",status="404"\} [1-9]/);
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('lets an in-flight request finish on shutdown, answering readiness 503 meanwhile', async () => {
    const slow = call('/things/slow');
    await new Promise((r) => setTimeout(r, 50));
    const stopping = t.shutdown();
    const ready = await fetch(`${t.baseUrl}/readyz`).catch(() => null);
    if (ready) expect(ready.status).toBe(503);
    release();
    const res = await slow;
    expect(await readJson(res)).toEqual({ finished: true });
    await stopping;
  });
});

describe('readiness', () => {
  it('answers 503 naming the part that is down', async () => {
    const t = await startTestHub();
    try {
      await t.hub.db.destroy();
      const res = await fetch(`${t.baseUrl}/readyz`);
      expect(res.status).toBe(503);
      expect(await readJson(res)).toEqual({ status: 'unavailable', checks: { database: 'unavailable', 'blob-store': 'ok' } });
    } finally {
      await t.http.close(0);
      await t.database.drop();
    }
  });

  it('guards /metrics with a token when one is configured', async () => {
    const t = await startTestHub(() => [], { HUB_METRICS_TOKEN: 'metrics-token-0123456789' });
    try {
      expect((await fetch(`${t.baseUrl}/metrics`)).status).toBe(401);
      expect((await fetch(`${t.baseUrl}/metrics`, { headers: { authorization: 'Bearer metrics-token-0123456789' } })).status).toBe(200);
    } finally {
      await t.stop();
    }
  });
});
