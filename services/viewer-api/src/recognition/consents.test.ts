import { isHubError } from '@hub/shared/errors';
import { createOrganization } from '@hub/shared/org';
import { testDatabase, type TestDatabase } from '@hub/shared/testing';
import { auditOfAuthorization, authorizationFor, listConsents, placeOrganization, recordConsent, revokeConsent, type NewConsent } from '.';

const at = (iso: string) => new Date(iso);

describe('patient authorization', () => {
  let t: TestDatabase;
  let region: number;
  const org: Record<string, number> = {};
  beforeAll(async () => {
    t = await testDatabase();
    [{ id: region }] = await t.db('regions').insert({ code: 'R', name: '本市', is_default: true }).returning('id');
    const [{ id: province }] = await t.db('regions').insert({ code: 'P', name: '外省' }).returning('id');
    for (const code of ['H1', 'H2', 'H3', 'X', 'AUTH']) org[code] = (await createOrganization(t.db, { code, name: code, kind: code === 'AUTH' ? 'authority' : 'hospital' })).id;
    await placeOrganization(t.db, { organizationId: org.X!, regionId: province, cityCode: null });
  });
  afterAll(() => t.drop());

  /** A person known at H1 (the organization holding the result). */
  const patientAtH1 = async (mrn: string) => {
    const [{ id: personId }] = await t.db('persons').insert({}).returning('id');
    await t.db('patients').insert({ organization_id: org.H1, local_id: mrn, person_id: personId });
    return personId as number;
  };
  const consent = (personId: number, overrides: Partial<NewConsent> = {}) =>
    recordConsent(t.db, {
      personId,
      recordedByOrganizationId: org.H1!,
      scope: { kind: 'organizations', organizationIds: [org.H2!] },
      purpose: 'treatment',
      method: 'written',
      validFrom: at('2025-01-01T00:00:00+08:00'),
      validUntil: at('2026-01-01T00:00:00+08:00'),
      ...overrides,
    });
  const read = (personId: number, asker: string, on: string, extra: { emergencyReason?: string } = {}) =>
    authorizationFor(t.db, { personId, askingOrganizationId: org[asker]!, resultOrganizationId: org.H1!, on: at(on), ...extra });

  it("lets the patient's own organization read its own results without any consent", async () => {
    const person = await patientAtH1('OWN-1');
    expect(await authorizationFor(t.db, { personId: person, askingOrganizationId: org.H1!, resultOrganizationId: org.H1!, on: at('2025-06-01T00:00:00Z') })).toEqual({ allowed: true, basis: 'own-organization' });
    expect(await read(person, 'H2', '2025-06-01T00:00:00Z')).toMatchObject({ allowed: false, reason: 'no-consent' });
  });

  it('allows a listed organization while the consent is in force, and no other organization', async () => {
    const person = await patientAtH1('LIST-1');
    const c = await consent(person);
    expect(await read(person, 'H2', '2025-01-01T00:00:00+08:00')).toEqual({ allowed: true, basis: 'consent', consentId: c.id });
    expect(await read(person, 'H2', '2025-12-31T23:59:59+08:00')).toMatchObject({ allowed: true, basis: 'consent' });
    expect(await read(person, 'H3', '2025-06-01T00:00:00Z')).toMatchObject({ allowed: false, reason: 'consent-excludes-asker' });
  });

  it('refuses before the consent starts and once it has expired', async () => {
    const person = await patientAtH1('PERIOD-1');
    await consent(person);
    expect(await read(person, 'H2', '2024-12-31T23:59:59+08:00')).toMatchObject({ allowed: false, reason: 'consent-not-yet-valid' });
    expect(await read(person, 'H2', '2026-01-01T00:00:00+08:00')).toMatchObject({ allowed: false, reason: 'consent-expired' });
  });

  it('allows every organization of the region with a region-wide consent, and none outside it', async () => {
    const person = await patientAtH1('REGION-1');
    await consent(person, { scope: { kind: 'region', regionId: region }, method: 'electronic' });
    expect(await read(person, 'H3', '2025-06-01T00:00:00Z')).toMatchObject({ allowed: true, basis: 'consent' });
    expect(await read(person, 'X', '2025-06-01T00:00:00Z')).toMatchObject({ allowed: false, reason: 'consent-excludes-asker' });
  });

  it("never lets the health authority read a patient's results, consent or emergency", async () => {
    const person = await patientAtH1('AUTH-1');
    await consent(person, { scope: { kind: 'region', regionId: region } });
    expect(await read(person, 'AUTH', '2025-06-01T00:00:00Z', { emergencyReason: 'inspection' })).toMatchObject({ allowed: false, reason: 'not-a-care-provider' });
  });

  it('refuses from the moment a consent is revoked; only an organization holding the patient may revoke', async () => {
    const person = await patientAtH1('REVOKE-1');
    const c = await consent(person, { method: 'verbal-recorded' });
    const refused = await revokeConsent(t.db, { consentId: c.id, byOrganizationId: org.H2!, reason: 'asked' }).catch((e) => e);
    expect(isHubError(refused, 'Forbidden')).toBe(true);
    const { consent: revoked } = await revokeConsent(t.db, { consentId: c.id, byOrganizationId: org.H1!, reason: 'patient withdrew', at: at('2025-06-01T10:00:00+08:00') });
    expect(revoked).toMatchObject({ status: 'revoked', revokedBy: 'H1', revocationReason: 'patient withdrew' });
    expect(await read(person, 'H2', '2025-06-01T09:59:59+08:00')).toMatchObject({ allowed: true });
    expect(await read(person, 'H2', '2025-06-01T10:00:00+08:00')).toMatchObject({ allowed: false, reason: 'consent-revoked' });
    // revoking again changes nothing
    const again = await revokeConsent(t.db, { consentId: c.id, byOrganizationId: org.H1!, reason: 'twice', at: at('2025-07-01T00:00:00Z') });
    expect(again.consent).toMatchObject({ revocationReason: 'patient withdrew', revokedAt: at('2025-06-01T10:00:00+08:00') });
  });

  it('allows an emergency read without consent only with a stated reason, flagged', async () => {
    const person = await patientAtH1('ER-1');
    const emergency = await read(person, 'H2', '2025-06-01T00:00:00Z', { emergencyReason: '  昏迷，无法取得授权 / unconscious on arrival ' });
    expect(emergency).toEqual({ allowed: true, basis: 'emergency', flagged: true, emergencyReason: '昏迷，无法取得授权 / unconscious on arrival' });
    expect(auditOfAuthorization(emergency)).toMatchObject({ outcome: 'ok', emergency: true, detail: { authorization: 'emergency' } });
    const silent = await read(person, 'H2', '2025-06-01T00:00:00Z', { emergencyReason: '   ' });
    expect(silent).toMatchObject({ allowed: false, reason: 'emergency-reason-required' });
    expect(auditOfAuthorization(silent)).toMatchObject({ outcome: 'denied', emergency: false });
  });

  it('holds a consent for a purpose to that purpose; one for treatment covers an emergency too', async () => {
    const person = await patientAtH1('PURPOSE-1');
    await consent(person, { purpose: 'care-management' });
    expect(await read(person, 'H2', '2025-06-01T00:00:00Z')).toMatchObject({ allowed: false, reason: 'consent-excludes-asker' });
    await consent(person);
    expect(await authorizationFor(t.db, { personId: person, askingOrganizationId: org.H2!, resultOrganizationId: org.H1!, on: at('2025-06-01T00:00:00Z'), purpose: 'emergency-treatment' })).toMatchObject({
      allowed: true,
      basis: 'consent',
    });
  });

  it('keeps a consent given before two records of the patient were merged', async () => {
    const survivor = await patientAtH1('MERGE-1');
    const [{ id: retired }] = await t.db('persons').insert({}).returning('id');
    await t.db('patients').insert({ organization_id: org.H3, local_id: 'H3-77', person_id: retired });
    await consent(retired, { recordedByOrganizationId: org.H3! });
    await t.db('persons').where({ id: retired }).update({ merged_into_id: survivor });
    expect(await read(survivor, 'H2', '2025-06-01T00:00:00Z')).toMatchObject({ allowed: true, basis: 'consent' });
    expect((await listConsents(t.db, { personId: survivor, now: at('2025-06-01T00:00:00Z') })).map((c) => [c.recordedBy, c.status])).toEqual([['H3', 'active']]);
  });
});
