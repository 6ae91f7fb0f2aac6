import { createOrganization } from '@hub/shared/org';
import { testDatabase, type TestDatabase } from '@hub/shared/testing';
import { authorizationFor, placeOrganization, recordConsent, revokeConsent, type NewConsent } from '.';
import { authorizationsFor, emergencyReasonOf, readableBy } from './authorizations';

const at = (iso: string) => new Date(iso);
const ON = at('2025-06-01T00:00:00Z');

describe('patient authorization for many results at once', () => {
  let t: TestDatabase;
  const org: Record<string, number> = {};
  // one person per case, each known at H1 (which holds the result)
  const person: Record<string, number> = {};
  beforeAll(async () => {
    t = await testDatabase();
    const [{ id: region }] = await t.db('regions').insert({ code: 'R', name: '本市', is_default: true }).returning('id');
    const [{ id: province }] = await t.db('regions').insert({ code: 'P', name: '外省' }).returning('id');
    for (const code of ['H1', 'H2', 'H3', 'X', 'AUTH']) org[code] = (await createOrganization(t.db, { code, name: code, kind: code === 'AUTH' ? 'authority' : 'hospital' })).id;
    await placeOrganization(t.db, { organizationId: org.X!, regionId: province, cityCode: null });
    const consent = (name: string, overrides: Partial<NewConsent> = {}) =>
      recordConsent(t.db, {
        personId: person[name]!,
        recordedByOrganizationId: org.H1!,
        scope: { kind: 'organizations', organizationIds: [org.H2!] },
        purpose: 'treatment',
        method: 'written',
        validFrom: at('2025-01-01T00:00:00+08:00'),
        validUntil: at('2026-01-01T00:00:00+08:00'),
        ...overrides,
      });
    for (const name of ['none', 'listed', 'region', 'revoked', 'expired', 'pending', 'other-purpose', 'merged', 'retired']) {
      const [{ id }] = await t.db('persons').insert({}).returning('id');
      person[name] = id;
      await t.db('patients').insert({ organization_id: org.H1, local_id: name, person_id: id });
    }
    await consent('listed');
    await consent('region', { scope: { kind: 'region', regionId: region } });
    const revoked = await consent('revoked');
    await revokeConsent(t.db, { consentId: revoked.id, byOrganizationId: org.H1!, at: at('2025-05-01T00:00:00Z') });
    await consent('expired', { validUntil: at('2025-05-01T00:00:00Z') });
    await consent('pending', { validFrom: at('2025-07-01T00:00:00Z') });
    await consent('other-purpose', { purpose: 'care-management' });
    // a consent given on a record later merged into another person holds for that person
    await consent('retired');
    await t.db('persons').where({ id: person.retired }).update({ merged_into_id: person.merged });
  });
  afterAll(() => t.drop());

  const cases = () => Object.values(person).map((personId) => ({ personId, resultOrganizationId: org.H1! }));

  it.each(['H2', 'H3', 'X', 'AUTH'])('gives %s the same answer for every person as authorizationFor, in one query', async (asker) => {
    const queries: string[] = [];
    const count = (q: { sql: string }) => queries.push(q.sql);
    t.db.on('query', count);
    const batch = await authorizationsFor(t.db, { askingOrganizationId: org[asker]!, on: ON }, cases());
    t.db.off('query', count);
    expect(queries).toHaveLength(1);
    for (const c of cases()) {
      expect(batch.of(c.personId, c.resultOrganizationId)).toEqual(await authorizationFor(t.db, { ...c, askingOrganizationId: org[asker]!, on: ON }));
    }
    if (asker === 'H2') {
      const answers = Object.fromEntries(Object.entries(person).map(([name, id]) => [name, batch.of(id, org.H1!)]));
      expect(answers).toMatchObject({
        none: { allowed: false, reason: 'no-consent' },
        listed: { allowed: true, basis: 'consent' },
        region: { allowed: true, basis: 'consent' },
        revoked: { allowed: false, reason: 'consent-revoked' },
        expired: { allowed: false, reason: 'consent-expired' },
        pending: { allowed: false, reason: 'consent-not-yet-valid' },
        'other-purpose': { allowed: false, reason: 'consent-excludes-asker' },
        merged: { allowed: true, basis: 'consent' },
        retired: { allowed: true, basis: 'consent' },
      });
    }
  });

  it("asks nothing when every result is the asker's own", async () => {
    const queries: string[] = [];
    const count = (q: { sql: string }) => queries.push(q.sql);
    t.db.on('query', count);
    const batch = await authorizationsFor(t.db, { askingOrganizationId: org.H1!, on: ON }, cases());
    t.db.off('query', count);
    expect(queries).toEqual([]);
    expect(batch.of(person.none!, org.H1!)).toEqual({ allowed: true, basis: 'own-organization' });
  });

  it('flags an emergency read of a person without consent, and still refuses the authority', async () => {
    const reason = emergencyReasonOf(encodeURIComponent(' 昏迷，无法取得授权 '));
    expect(reason).toBe('昏迷，无法取得授权');
    const h2 = await authorizationsFor(t.db, { askingOrganizationId: org.H2!, on: ON, emergencyReason: reason, purpose: 'emergency-treatment' }, cases());
    expect(h2.of(person.none!, org.H1!)).toEqual({ allowed: true, basis: 'emergency', flagged: true, emergencyReason: '昏迷，无法取得授权' });
    expect(h2.of(person.listed!, org.H1!)).toMatchObject({ allowed: true, basis: 'consent' });
    const authority = await authorizationsFor(t.db, { askingOrganizationId: org.AUTH!, on: ON, emergencyReason: 'inspection' }, cases());
    expect(authority.of(person.region!, org.H1!)).toMatchObject({ allowed: false, reason: 'not-a-care-provider' });
    expect(emergencyReasonOf('   ')).toBe('');
    expect(emergencyReasonOf(undefined)).toBeUndefined();
  });

  it.each(['H1', 'H2', 'H3', 'X', 'AUTH'])('lets %s read in SQL exactly the persons the batch allows without an emergency', async (asker) => {
    const read = { askingOrganizationId: org[asker]!, on: ON };
    const batch = await authorizationsFor(t.db, read, cases());
    const readable = (await t.db('patients as p').where(readableBy(t.db, read, { organization: 'p.organization_id', person: 'p.person_id' })).pluck('p.person_id')) as number[];
    const allowed = Object.values(person).filter((id) => batch.of(id, org.H1!).allowed);
    expect(readable.sort()).toEqual(allowed.sort());
  });
});
