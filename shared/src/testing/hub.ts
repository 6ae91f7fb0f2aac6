import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createClient, type Scope } from '../auth';
import { loadConfig, type HubConfig } from '../config';
import { createOrganization, findOrganization, type OrganizationKind } from '../org';
import { runHub, type Hub, type RunningHub, type ServicePart } from '../runtime';
import { testDatabase, testLogger, type TestDatabase } from './database';

export const TEST_TOKEN_SECRET = 'test-token-secret-0123456789abcdef0123456789';
export const TEST_ID_HASH_SECRET = 'test-id-hash-secret-0123456789abcdef012345';

export interface TestHub extends RunningHub {
  baseUrl: string;
  database: TestDatabase;
  /** A bearer token for a client of `organization` (created on first use) with these scopes. */
  tokenFor(organization: string, scopes: Scope[], kind?: OrganizationKind): Promise<string>;
  stop(): Promise<void>;
}

/**
 * The real HTTP stack of a service on a fresh test database and a temporary filesystem
 * blob store, on a free loopback port. `env` adds settings as the environment would.
 */
export async function startTestHub(buildParts: (hub: Hub) => ServicePart[] = () => [], env: Record<string, string> = {}): Promise<TestHub> {
  const database = await testDatabase();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'hub-test-data-'));
  const loaded = loadConfig({ DATABASE_URL: database.url, HUB_TOKEN_SECRET: TEST_TOKEN_SECRET, HUB_ID_HASH_SECRET: TEST_ID_HASH_SECRET, HUB_DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...env });
  const config: HubConfig = { ...loaded, http: { host: '127.0.0.1', port: 0 }, shutdownGraceMs: 2000 };
  const running = await runHub(config, 'test', buildParts, testLogger());
  const baseUrl = `http://127.0.0.1:${running.http.port}`;
  const clients = new Map<string, { clientId: string; clientSecret: string }>();

  return {
    ...running,
    baseUrl,
    database,
    async tokenFor(organization, scopes, kind = 'hospital') {
      const db = running.hub.db;
      if (!(await findOrganization(db, organization))) await createOrganization(db, { code: organization, name: `${organization} (test)`, kind });
      const key = `${organization} ${scopes.join(' ')}`;
      let client = clients.get(key);
      if (!client) {
        client = await createClient(db, { organizationCode: organization, name: 'test', scopes });
        clients.set(key, client);
      }
      const res = await fetch(`${baseUrl}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret }),
      });
      if (!res.ok) throw new Error(`token request failed: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { access_token: string }).access_token;
    },
    async stop() {
      await running.shutdown();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
