import { Router } from 'express';
import { createClient, createTokenService, disableClient, requireScope, rotateClientSecret, verifyClient } from '.';
import { createOrganization } from '../org';
import { readJson, startTestHub, TEST_TOKEN_SECRET, type TestHub } from '../testing';

// A route of each kind, the way services mount theirs: authenticated by the app, scoped here.
const probeRoutes = () => ({
  name: 'probe',
  mount(app: import('express').Express) {
    const router = Router();
    router.get('/probe/read', requireScope('results:read'), (_req, res) => void res.json({ ok: true, org: res.locals.principal.organization.code }));
    router.get('/probe/stats', requireScope('stats:read'), (_req, res) => void res.json({ ok: true }));
    app.use(router);
  },
});

describe('machine credentials and access tokens', () => {
  let t: TestHub;
  let client: { clientId: string; clientSecret: string };

  beforeAll(async () => {
    t = await startTestHub(() => [probeRoutes()]);
    await createOrganization(t.hub.db, { code: 'H1', name: '第一医院', kind: 'hospital' });
    client = await createClient(t.hub.db, { organizationCode: 'H1', name: 'emr', scopes: ['results:read', 'recognition:check'] });
  });
  afterAll(() => t.stop());

  const token = (body: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${t.baseUrl}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(body) });
  const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });
  const get = (path: string, accessToken?: string) => fetch(`${t.baseUrl}${path}`, { headers: accessToken ? { authorization: `Bearer ${accessToken}` } : {} });

  it('issues a short-lived bearer token for client credentials sent with HTTP Basic', async () => {
    const res = await token({ grant_type: 'client_credentials' }, basic(client.clientId, client.clientSecret));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = await readJson(res);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'results:read recognition:check' });
    const read = await get('/probe/read', body.access_token);
    expect(read.status).toBe(200);
    expect(await readJson(read)).toEqual({ ok: true, org: 'H1' });
  });

  it('accepts credentials in the form body and narrows the scope on request', async () => {
    const res = await token({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret, scope: 'results:read' });
    expect(res.status).toBe(200);
    expect((await readJson(res)).scope).toBe('results:read');
  });

  it('refuses a wrong secret, an unknown client and a disabled client alike with 401 invalid_client', async () => {
    const other = await createClient(t.hub.db, { organizationCode: 'H1', name: 'old pacs', scopes: ['results:write'] });
    await disableClient(t.hub.db, other.clientId);
    for (const [id, secret] of [
      [client.clientId, 'hs_wrong'],
      ['h1-nobody-000000', client.clientSecret],
      [other.clientId, other.clientSecret],
    ]) {
      const res = await token({ grant_type: 'client_credentials' }, basic(id!, secret!));
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic/);
      expect((await readJson(res)).error).toBe('invalid_client');
    }
  });

  it('refuses another grant type and a scope the client was not given', async () => {
    const grant = await token({ grant_type: 'password', username: 'x', password: 'y' }, basic(client.clientId, client.clientSecret));
    expect(grant.status).toBe(400);
    expect((await readJson(grant)).error).toBe('unsupported_grant_type');
    const scope = await token({ grant_type: 'client_credentials', scope: 'results:read stats:read' }, basic(client.clientId, client.clientSecret));
    expect(scope.status).toBe(400);
    expect(await readJson(scope)).toMatchObject({ error: 'invalid_scope', error_description: expect.stringContaining('stats:read') });
  });

  it('answers 401 with a Bearer challenge when the token is missing, malformed or signed by someone else', async () => {
    const missing = await get('/probe/read');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="regional-results-hub"');
    expect((await readJson(missing)).error.code).toBe('missing-token');

    const forged = await createTokenService({ secret: 'another-secret-another-secret-another', issuer: 'regional-results-hub', ttlSeconds: 900 }).issue(
      { clientId: client.clientId, organization: { id: 1, code: 'H1', kind: 'hospital' }, scopes: ['results:read'] },
      ['results:read'],
    );
    for (const bad of ['not-a-jwt', forged.accessToken]) {
      const res = await get('/probe/read', bad);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
      expect((await readJson(res)).error.code).toBe('invalid-token');
    }
  });

  it('refuses an expired token', async () => {
    let now = new Date('2026-03-01T08:00:00Z');
    const tokens = createTokenService({ secret: TEST_TOKEN_SECRET, issuer: 'regional-results-hub', ttlSeconds: 60, now: () => now });
    const identity = (await verifyClient(t.hub.db, client.clientId, client.clientSecret))!;
    const issued = await tokens.issue(identity, identity.scopes);
    await expect(tokens.verify(issued.accessToken)).resolves.toMatchObject({ clientId: client.clientId });
    now = new Date(now.getTime() + 66_000);
    await expect(tokens.verify(issued.accessToken)).rejects.toMatchObject({ kind: 'Unauthorized', detail: { code: 'expired-token' } });
  });

  it('answers 403 naming the scope a route needs and the token lacks', async () => {
    const accessToken = (await readJson(await token({ grant_type: 'client_credentials' }, basic(client.clientId, client.clientSecret)))).access_token;
    const res = await get('/probe/stats', accessToken);
    expect(res.status).toBe(403);
    expect((await readJson(res)).error).toMatchObject({ kind: 'Forbidden', code: 'insufficient-scope', message: expect.stringContaining('stats:read') });
  });

  it('stops accepting the old secret as soon as it is rotated', async () => {
    const rotating = await createClient(t.hub.db, { organizationCode: 'H1', name: 'lis', scopes: ['results:write'] });
    const fresh = await rotateClientSecret(t.hub.db, rotating.clientId);
    expect((await token({ grant_type: 'client_credentials' }, basic(rotating.clientId, rotating.clientSecret))).status).toBe(401);
    expect((await token({ grant_type: 'client_credentials' }, basic(rotating.clientId, fresh))).status).toBe(200);
  });

  it('stores only a hash of each secret', async () => {
    const rows = await t.hub.db('clients').select('secret_hash');
    for (const { secret_hash } of rows) expect(secret_hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(JSON.stringify(rows)).not.toContain(client.clientSecret);
  });
});
