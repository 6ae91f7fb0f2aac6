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

  it('registers, lists and removes the calling AE titles of an organization, unique in the region', async () => {
    await run('org', 'create', '--code', 'H9', '--name', '第九医院', '--kind', 'hospital');
    expect(await run('ae', 'add', '--org', 'H9', '--ae', 'H9_PACS')).toBe('registered AE title H9_PACS for H9 from any address');
    expect(await run('ae', 'add', '--org', 'H9', '--ae', 'H9_CT', '--address', '10.0.0.5', '--address', '10.1.0.0/16')).toBe('registered AE title H9_CT for H9 from 10.0.0.5, 10.1.0.0/16');
    await expect(run('ae', 'add', '--org', 'H7', '--ae', 'h9_pacs')).rejects.toThrow(/AE title "h9_pacs" is already registered to H9/);
    await expect(run('ae', 'add', '--org', 'H9', '--ae', 'X', '--address', '10.0.0.300')).rejects.toThrow(/not an IP address or network/);
    await expect(run('ae', 'add', '--org', 'H9', '--ae', 'MUCH_TOO_LONG_AE_TITLE')).rejects.toThrow(/1..16 ASCII characters/);
    expect(await run('ae', 'list', '--org', 'H9')).toBe('H9_CT\tH9\t10.0.0.5 10.1.0.0/16\nH9_PACS\tH9\tany address');
    expect(await run('ae', 'remove', '--ae', 'H9_CT')).toBe('removed AE title H9_CT');
    await expect(run('ae', 'remove', '--ae', 'H9_CT')).rejects.toThrow(/no DICOM sender with AE title "H9_CT"/);
    expect(await run('ae', 'list')).toBe('H9_PACS\tH9\tany address');
  });

  it('binds HL7 senders to an organization by MSH-4 facility and address, lists and removes them', async () => {
    await run('org', 'create', '--code', 'H10', '--name', '第十医院', '--kind', 'hospital');
    expect(await run('hl7', 'add', '--org', 'H10', '--facility', 'H10LIS')).toBe('registered HL7 sender H10LIS for H10 from any address');
    expect(await run('hl7', 'add', '--org', 'H10', '--facility', 'H10HIS', '--address', '10.0.0.7', '--address', '10.2.0.0/16')).toBe(
      'registered HL7 sender H10HIS for H10 from 10.0.0.7\nregistered HL7 sender H10HIS for H10 from 10.2.0.0/16',
    );
    expect(await run('hl7', 'add', '--org', 'H10', '--address', '10.3.0.9')).toBe('registered HL7 sender any facility for H10 from 10.3.0.9');
    await expect(run('hl7', 'add', '--org', 'H10', '--facility', 'H10LIS')).rejects.toThrow(/already registered/);
    await expect(run('hl7', 'add', '--org', 'H10', '--address', '10.0.0.300')).rejects.toThrow(/not an IP address or network/);
    await expect(run('hl7', 'add', '--org', 'H10')).rejects.toThrow(/--facility or --address is required/);
    expect(await run('hl7', 'list', '--org', 'H10')).toBe('H10\tH10HIS\t10.0.0.7\nH10\tH10HIS\t10.2.0.0/16\nH10\tH10LIS\tany address\nH10\tany facility\t10.3.0.9');
    expect(await run('hl7', 'remove', '--org', 'H10', '--facility', 'H10HIS', '--address', '10.2.0.0/16')).toBe('removed HL7 sender H10HIS of H10 from 10.2.0.0/16');
    await expect(run('hl7', 'remove', '--org', 'H10', '--facility', 'H10HIS', '--address', '10.2.0.0/16')).rejects.toThrow(/no HL7 sender of H10/);
    expect(await run('hl7', 'list', '--org', 'H10')).toBe('H10\tH10HIS\t10.0.0.7\nH10\tH10LIS\tany address\nH10\tany facility\t10.3.0.9');
  });

  it('prints usage with the scopes it knows', async () => {
    const usage = await run('--help');
    expect(usage).toContain('client rotate --client CLIENT_ID');
    expect(usage).toContain('recognition:check');
    expect(usage).toContain('ae add --org CODE --ae AE_TITLE');
    expect(usage).toContain('hl7 add --org CODE [--facility MSH4] [--address IP|CIDR …]');
  });
});
