import { testDatabase, TEST_ID_HASH_SECRET, TEST_TOKEN_SECRET, type TestDatabase } from '@hub/shared/testing';
import { verifyClient } from '@hub/shared/auth';
import { admin } from './admin';

describe('hub admin command line', () => {
  let t: TestDatabase;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await testDatabase();
    env = { DATABASE_URL: t.url, HUB_TOKEN_SECRET: TEST_TOKEN_SECRET, HUB_ID_HASH_SECRET: TEST_ID_HASH_SECRET };
  });
  afterAll(() => t.drop());

  const run = async (...argv: string[]) => {
    const lines: string[] = [];
    await admin(argv, env, (line) => lines.push(line));
    return lines.join('\n');
  };

  it('creates an organization, a client with a working secret, rotates and disables it', async () => {
    expect(await run('org', 'create', '--code', 'H7', '--name', '第七医院', '--kind', 'hospital', '--grade', '3A')).toBe('created organization H7 (hospital)');
    const created = await run('client', 'create', '--org', 'H7', '--name', 'LIS gateway', '--scopes', 'results:write results:read');
    const [, clientId, secret] = created.match(/client_id=(\S+)\nclient_secret=(\S+)/)!;
    expect(clientId).toMatch(/^h7-lis-gateway-[0-9a-f]{6}$/);
    expect(await verifyClient(t.db, clientId!, secret!)).toMatchObject({ organization: { code: 'H7' }, scopes: ['results:write', 'results:read'] });

    const rotated = (await run('client', 'rotate', '--client', clientId!)).match(/client_secret=(\S+)/)![1]!;
    expect(await verifyClient(t.db, clientId!, secret!)).toBeNull();
    expect(await verifyClient(t.db, clientId!, rotated)).not.toBeNull();

    await run('client', 'disable', '--client', clientId!);
    expect(await verifyClient(t.db, clientId!, rotated)).toBeNull();
    expect(await run('client', 'list', '--org', 'H7')).toMatch(new RegExp(`^${clientId}\\tH7\\tresults:write results:read\\tdisabled`));
    expect(await run('org', 'list')).toContain('H7\thospital\t第七医院');
  });

  it.each([
    [['org', 'create', '--code', 'H7', '--name', 'again', '--kind', 'hospital'], /already exists/],
    [['org', 'create', '--code', 'bad code!', '--name', 'x', '--kind', 'hospital'], /organization code/],
    [['org', 'create', '--code', 'H8', '--name', 'x', '--kind', 'clinic'], /kind must be one of hospital, imaging_centre, authority/],
    [['client', 'create', '--org', 'NOPE', '--name', 'x', '--scopes', 'results:read'], /no organization with code "NOPE"/],
    [['client', 'create', '--org', 'H7', '--name', 'x', '--scopes', 'results:read everything'], /unknown scope everything/],
    [['client', 'rotate', '--client', 'nobody'], /no client "nobody"/],
    [['client', 'create', '--org', 'H7', '--name', 'x'], /--scopes is required/],
    [['org', 'explode'], /unknown command "org explode"/],
  ])('refuses %j with a clear message', async (argv, message) => {
    await expect(run(...argv)).rejects.toThrow(message);
  });

  it('prints usage with the scopes it knows', async () => {
    const usage = await run('--help');
    expect(usage).toContain('client rotate --client CLIENT_ID');
    expect(usage).toContain('recognition:check');
  });
});
