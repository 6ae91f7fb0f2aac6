import { testDatabase } from '../testing';
import { authorizationAmong, priorVerdict, qualificationAmong, recognitionFactsCache, versionOn, windowOn, type Asker, type ConsentFact, type QualificationFact } from '.';

const asker: Asker = { organizationId: 2, regionId: 1, cityCode: '420100', inAlliance: (id, day) => id === 9 && day <= '2026-06-30' };
const item = { id: 7, category: 'clinical-chemistry', regionId: 1 };
const qualification = (q: Partial<QualificationFact>): QualificationFact => ({
  organizationId: 1,
  itemId: null,
  category: 'clinical-chemistry',
  regionId: 1,
  scope: 'region',
  scopeRegionId: 1,
  scopeCityCode: null,
  scopeAllianceId: null,
  validFrom: '2026-01-01',
  validUntil: '2026-03-10',
  withdrawn: false,
  ...q,
});

describe('the rules of mutual recognition', () => {
  it('keeps a result recognizable through the last day of its window and not the day after', () => {
    expect(windowOn('2026-03-01', 7, '2026-03-08')).toEqual({ ageDays: 7, lastDay: '2026-03-08', daysLeft: 0, outsideBy: 0 });
    expect(windowOn('2026-03-01', 7, '2026-03-09')).toEqual({ ageDays: 8, lastDay: '2026-03-08', daysLeft: null, outsideBy: 1 });
    expect(windowOn('2024-02-28', 1, '2024-02-29').daysLeft).toBe(0); // a leap day is a day
  });

  it('takes the catalog version in force on the day: the latest that starts on or before it', () => {
    const versions = [{ effectiveFrom: '2022-03-01', validityDays: 7 }, { effectiveFrom: '2026-04-01', validityDays: 3 }];
    expect(versionOn(versions, '2026-03-31')?.validityDays).toBe(7);
    expect(versionOn(versions, '2026-04-01')?.validityDays).toBe(3);
    expect(versionOn(versions, '2022-02-28')).toBeUndefined();
  });

  it('counts a qualification on its first and last day, by item or category, within its scope', () => {
    const q = [qualification({})];
    expect(qualificationAmong(q, item, asker, '2026-01-01').qualified).toBe(true);
    expect(qualificationAmong(q, item, asker, '2026-03-10').qualified).toBe(true);
    expect(qualificationAmong(q, item, asker, '2026-03-11')).toMatchObject({ qualified: false, reason: 'expired' });
    expect(qualificationAmong(q, item, asker, '2025-12-31')).toMatchObject({ qualified: false, reason: 'not-yet-valid' });
    expect(qualificationAmong([qualification({ category: 'haematology' })], item, asker, '2026-02-01')).toMatchObject({ reason: 'not-qualified' });
    expect(qualificationAmong([qualification({ category: null, itemId: 7 })], item, asker, '2026-02-01').qualified).toBe(true);
    expect(qualificationAmong([qualification({ withdrawn: true })], item, asker, '2026-02-01')).toMatchObject({ reason: 'not-qualified' });
    expect(qualificationAmong([qualification({ scope: 'city', scopeRegionId: null, scopeCityCode: '420500' })], item, asker, '2026-02-01')).toMatchObject({ reason: 'scope-excludes-asker' });
    const alliance = [qualification({ scope: 'alliance', scopeRegionId: null, scopeAllianceId: 9, validUntil: null })];
    expect(qualificationAmong(alliance, item, asker, '2026-06-30').qualified).toBe(true);
    expect(qualificationAmong(alliance, item, asker, '2026-07-01')).toMatchObject({ reason: 'scope-excludes-asker' });
  });

  it('lets another organization read only under a consent in force, or a stated emergency', () => {
    const consent: ConsentFact = { id: 5, scope: 'region', regionId: 1, organizationIds: [], purpose: 'treatment', validFrom: new Date('2026-01-01T00:00:00+08:00'), validUntil: new Date('2026-07-01T00:00:00+08:00'), revokedAt: null };
    const ask = { askingOrganizationId: 2, askerKind: 'hospital', askerRegionId: 1, resultOrganizationId: 1, at: new Date('2026-03-01T00:00:00+08:00') };
    expect(authorizationAmong([consent], ask)).toEqual({ allowed: true, basis: 'consent', consentId: 5 });
    expect(authorizationAmong([consent], { ...ask, at: new Date('2026-07-01T00:00:00+08:00') })).toMatchObject({ allowed: false, reason: 'consent-expired' });
    expect(authorizationAmong([{ ...consent, revokedAt: new Date('2026-02-01') }], ask)).toMatchObject({ allowed: false, reason: 'consent-revoked' });
    expect(authorizationAmong([], ask)).toMatchObject({ allowed: false, reason: 'no-consent' });
    expect(authorizationAmong([], { ...ask, emergencyReason: '昏迷' })).toEqual({ allowed: true, basis: 'emergency', flagged: true, emergencyReason: '昏迷' });
    expect(authorizationAmong([], { ...ask, resultOrganizationId: 2 })).toEqual({ allowed: true, basis: 'own-organization' });
    expect(authorizationAmong([consent], { ...ask, askerKind: 'authority' })).toMatchObject({ allowed: false, reason: 'not-a-care-provider' });
  });

  it('gives every reason a prior is for reference only', () => {
    const verdict = priorVerdict({
      status: 'preliminary',
      referenceDay: '2026-03-01',
      today: '2026-03-10',
      version: { effectiveFrom: '2022-03-01', inCatalog: true, validityDays: 7, priceCny: 6, filmsPerExam: null },
      qualification: { qualified: false, reason: 'not-qualified' },
    });
    expect(verdict).toMatchObject({ recognizable: false, ageDays: 9, daysLeft: null });
    expect(verdict.reasons.map((r) => r.code)).toEqual(['preliminary', 'outside-window', 'organization-not-qualified']);
    expect(priorVerdict({ status: 'corrected', referenceDay: '2026-03-01', today: '2026-03-01', version: undefined, qualification: 'own-organization' }).reasons.map((r) => r.code)).toEqual(['not-in-catalog']);
  });
});

describe('the facts cache', () => {
  it('loads the facts again only when one of their tables changed', async () => {
    const t = await testDatabase();
    try {
      const cache = recognitionFactsCache(t.db, 0);
      const first = await cache.get();
      expect(await cache.get()).toBe(first);
      await t.db('organizations').insert({ code: 'NEW', name: 'new', kind: 'hospital' });
      const second = await cache.get();
      expect(second).not.toBe(first);
      expect(second.organizationsByCode.get('NEW')).toMatchObject({ kind: 'hospital', regionId: null });
      await t.db('organizations').where({ code: 'NEW' }).update({ stopped_printing_film_on: '2026-01-01' });
      expect((await cache.get()).organizationsByCode.get('NEW')!.stoppedPrintingFilmOn).toBe('2026-01-01');
    } finally {
      await t.drop();
    }
  });
});
