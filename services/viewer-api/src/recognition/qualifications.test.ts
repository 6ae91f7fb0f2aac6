import { createOrganization } from '@hub/shared/org';
import { testDatabase, type TestDatabase } from '@hub/shared/testing';
import { grantQualification, listQualifications, placeOrganization, putAlliance, qualificationFor, reviseCatalogItem, withdrawQualification, type CatalogChange } from '.';

const lab = (category: string): CatalogChange => ({ effectiveFrom: '2024-01-01', kind: 'lab', category, name: '项目', nameEn: 'item', validityDays: 30, priceCny: 10 });

describe('qualifications', () => {
  let t: TestDatabase;
  let region: number;
  const org: Record<string, number> = {};
  const item: Record<string, number> = {};
  beforeAll(async () => {
    t = await testDatabase();
    [{ id: region }] = await t.db('regions').insert({ code: 'R', name: '本市', is_default: true }).returning('id');
    const [{ id: province }] = await t.db('regions').insert({ code: 'P', name: '外省' }).returning('id');
    for (const code of ['LAB', 'A', 'B', 'C', 'D', 'AUTH']) org[code] = (await createOrganization(t.db, { code, name: code, kind: code === 'AUTH' ? 'authority' : 'hospital' })).id;
    await placeOrganization(t.db, { organizationId: org.A!, regionId: region, cityCode: '420100' });
    await placeOrganization(t.db, { organizationId: org.B!, regionId: region, cityCode: '420200' });
    await placeOrganization(t.db, { organizationId: org.C!, regionId: province, cityCode: '420100' });
    // D sits in the default region without a placement, and in the alliance for 2025 only
    await putAlliance(t.db, { code: 'ALL1', name: '医联体', members: [{ organizationId: org.D!, from: '2025-01-01', until: '2025-12-31' }] });
    for (const [code, change] of [['LAB-K', lab('clinical-chemistry')], ['LAB-CBC', lab('haematology')], ['LAB-PT', lab('coagulation')]] as const) {
      item[code] = (await reviseCatalogItem(t.db, { regionId: region, code, change, changedByOrganizationId: org.AUTH!, today: '2024-01-01' })).itemId;
    }
    item['CT-HEAD'] = (
      await reviseCatalogItem(t.db, {
        regionId: region,
        code: 'CT-HEAD',
        change: { ...lab('CT'), kind: 'imaging', filmsPerExam: 2 },
        changedByOrganizationId: org.AUTH!,
        today: '2024-01-01',
      })
    ).itemId;
    const grant = { organizationId: org.LAB!, regionId: region, basis: 'eqa-passed' as const, grantedByOrganizationId: org.AUTH! };
    await grantQualification(t.db, { ...grant, category: 'clinical-chemistry', scope: { kind: 'region' }, validFrom: '2025-03-01', validUntil: '2025-03-31' });
    await grantQualification(t.db, { ...grant, item: 'LAB-CBC', scope: { kind: 'city', city: '420100' }, validFrom: '2025-01-01' });
    await grantQualification(t.db, { ...grant, basis: 'hr-mark', category: 'CT', scope: { kind: 'alliance', alliance: 'ALL1' }, validFrom: '2025-01-01', validUntil: '2026-12-31' });
  });
  afterAll(() => t.drop());

  const ask = (asker: string, itemCode: string, on: string) => qualificationFor(t.db, { sourceOrganizationId: org.LAB!, itemId: item[itemCode]!, askingOrganizationId: org[asker]!, on });

  it.each([
    ['the day before it starts', '2025-02-28', { qualified: false, reason: 'not-yet-valid' }],
    ['the day it starts', '2025-03-01', { qualified: true }],
    ['the day it ends', '2025-03-31', { qualified: true }],
    ['the day after it ends', '2025-04-01', { qualified: false, reason: 'expired' }],
  ])('answers for a category qualification %s (%s)', async (_what, on, expected) => {
    expect(await ask('A', 'LAB-K', on)).toMatchObject(expected);
  });

  it('covers every organization of its region, including one without a placement, and no other region', async () => {
    expect(await ask('D', 'LAB-K', '2025-03-15')).toMatchObject({ qualified: true, qualification: { category: 'clinical-chemistry', scope: { kind: 'region', region: 'R' } } });
    expect(await ask('C', 'LAB-K', '2025-03-15')).toMatchObject({ qualified: false, reason: 'scope-excludes-asker' });
  });

  it('covers the askers of its city only', async () => {
    expect(await ask('A', 'LAB-CBC', '2030-01-01')).toMatchObject({ qualified: true, qualification: { item: 'LAB-CBC', validUntil: null } });
    expect(await ask('B', 'LAB-CBC', '2030-01-01')).toMatchObject({ qualified: false, reason: 'scope-excludes-asker', detail: expect.stringContaining('city 420100') });
  });

  it('covers alliance members while they are members, and no one else', async () => {
    expect(await ask('D', 'CT-HEAD', '2025-12-31')).toMatchObject({ qualified: true, qualification: { basis: 'hr-mark', scope: { kind: 'alliance', alliance: 'ALL1' } } });
    expect(await ask('D', 'CT-HEAD', '2026-01-01')).toMatchObject({ qualified: false, reason: 'scope-excludes-asker' });
    expect(await ask('A', 'CT-HEAD', '2025-06-01')).toMatchObject({ qualified: false, reason: 'scope-excludes-asker' });
  });

  it('says not-qualified when the organization holds nothing for the item or its category', async () => {
    expect(await ask('A', 'LAB-PT', '2025-03-15')).toMatchObject({ qualified: false, reason: 'not-qualified' });
  });

  it('stops counting a withdrawn qualification, and keeps it on record', async () => {
    const [cbc] = await listQualifications(t.db, { organizationId: org.LAB!, on: '2030-01-01' }).then((qs) => qs.filter((q) => q.item === 'LAB-CBC'));
    const withdrawn = await withdrawQualification(t.db, { id: cbc!.id, byOrganizationId: org.AUTH! });
    expect(withdrawn.withdrawnAt).toBeInstanceOf(Date);
    expect(await ask('A', 'LAB-CBC', '2030-01-01')).toMatchObject({ qualified: false, reason: 'not-qualified' });
    expect(await t.db('qualifications').where({ id: cbc!.id }).first('withdrawn_by_organization_id')).toEqual({ withdrawn_by_organization_id: org.AUTH });
  });

  it('lists what an organization holds on a day', async () => {
    expect((await listQualifications(t.db, { organizationId: org.LAB!, on: '2025-03-31' })).map((q) => q.category ?? q.item)).toEqual(['CT', 'clinical-chemistry']);
    expect((await listQualifications(t.db, { organizationId: org.LAB!, on: '2025-04-01' })).map((q) => q.category ?? q.item)).toEqual(['CT']);
  });

  it.each([
    [{ category: 'radiotherapy' }, 'category', 'unknown-category'],
    [{ item: 'LAB-NOPE' }, 'item', 'unknown-item'],
    [{ item: 'LAB-K', category: 'coagulation' }, 'item', 'item-or-category'],
  ])('refuses %j at its location', async (subject, location, code) => {
    const err = await grantQualification(t.db, { organizationId: org.LAB!, regionId: region, basis: 'eqa-passed', grantedByOrganizationId: org.AUTH!, scope: { kind: 'region' }, validFrom: '2025-01-01', ...subject }).catch((e) => e);
    expect(err.detail).toMatchObject({ location, code });
  });
});
