import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '@hub/shared/testing';
import { repoRoot, runEntry, type HubProcess } from './support/process';

// The embedded default, as a new user meets it: `npm start` with no configuration but ports.
describe('the hub on its embedded default', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let hub: HubProcess | undefined;

  beforeAll(async () => {
    const parent = await mkdtemp(path.join(os.tmpdir(), 'hub-e2e-'));
    await chmod(parent, 0o755);
    dataDir = path.join(parent, 'data');
    env = {
      HUB_DATA_DIR: dataDir,
      HTTP_PORT: String(await freePort()),
      DICOM_PORT: String(await freePort()),
      MLLP_PORT: String(await freePort()),
      HUB_EMBEDDED_PG_PORT: String(await freePort()),
    };
  });
  afterAll(async () => {
    if (hub && hub.child.exitCode === null) {
      hub.child.kill('SIGTERM');
      await hub.exited;
    }
    await rm(path.dirname(dataDir), { recursive: true, force: true });
  });

  const start = async () => {
    hub = runEntry('services/hub/src/main.ts', env);
    await hub.waitFor('is ready');
    return hub;
  };
  const stop = async () => {
    hub!.child.kill('SIGTERM');
    return hub!.exited;
  };
  const admin = (...args: string[]) =>
    execFileSync(process.execPath, ['--import', 'tsx', 'services/hub/src/admin.ts', ...args], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
  const postgresRunning = () => {
    try {
      return execFileSync('pgrep', ['-f', `postgres -D ${path.join(dataDir, 'postgres')}`], { encoding: 'utf8' }).trim() !== '';
    } catch {
      return false;
    }
  };
  const demoToken = async (clientId: string, clientSecret: string) => {
    const res = await fetch(`http://127.0.0.1:${env.HTTP_PORT}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    return res.status;
  };

  it('starts, prints where to connect and the demo credentials it created', async () => {
    const first = await start();
    const banner = first.stdout();
    expect(banner).toContain(`HTTP               http://localhost:${env.HTTP_PORT}`);
    expect(banner).toContain('DEMO credentials');
    for (const org of ['DEMO-H1', 'DEMO-H2', 'DEMO-IC', 'DEMO-AUTH']) expect(banner).toContain(org);
    const [, clientId, clientSecret] = banner.match(/client_id=(demo-h1-systems)\s+client_secret=(\S+)/)!;
    expect(await demoToken(clientId!, clientSecret!)).toBe(200);
    expect((await fetch(`http://127.0.0.1:${env.HTTP_PORT}/readyz`)).status).toBe(200);
  });

  it('lets the admin tool add an organization and a client while the hub runs', () => {
    expect(admin('org', 'create', '--code', 'H3', '--name', '示范市第三医院', '--kind', 'hospital')).toContain('created organization H3');
    const created = admin('client', 'create', '--org', 'H3', '--name', 'pacs', '--scopes', 'results:write');
    expect(created).toMatch(/client_id=h3-pacs-[0-9a-f]{6}\nclient_secret=hs_/);
  });

  it('stops cleanly on SIGTERM, PostgreSQL included', async () => {
    expect(postgresRunning()).toBe(true);
    expect(await stop()).toBe(0);
    expect(hub!.stdout()).toMatch(/"msg":"stopped"/);
    expect(postgresRunning()).toBe(false);
  });

  it('keeps everything across a restart: organizations, clients, secrets, demo credentials', async () => {
    const demo = JSON.parse(await readFile(path.join(dataDir, 'demo-credentials.json'), 'utf8')) as Array<{ clientId: string; clientSecret: string }>;
    const second = await start();
    expect(second.stdout()).not.toContain('initialising embedded PostgreSQL');
    expect(second.stdout()).toContain(demo[0]!.clientSecret);
    expect(await demoToken(demo[0]!.clientId, demo[0]!.clientSecret)).toBe(200);
    expect(admin('org', 'list')).toContain('H3\thospital\t示范市第三医院');
    expect(await stop()).toBe(0);
  });

  it('refuses a wrong setting with one line naming it, before touching anything', async () => {
    const bad = runEntry('services/hub/src/main.ts', { ...env, HTTP_PORT: 'eighty' });
    expect(await bad.exited).toBe(2);
    expect(bad.stderr().trim()).toBe('configuration error: HTTP_PORT: must be a number (expected a port 1..65535)');
  });
});
