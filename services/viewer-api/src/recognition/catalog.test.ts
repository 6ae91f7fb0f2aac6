import { isHubError } from '@hub/shared/errors';
import { createOrganization } from '@hub/shared/org';
import { testDatabase, type TestDatabase } from '@hub/shared/testing';
import { catalogItemByCode, catalogItemDetail, catalogItemOn, catalogOn, listLocalCodes, mapLocalCodes, reviseCatalogItem, type CatalogChange } from '.';

const potassium: CatalogChange = { effectiveFrom: '2025-01-01', kind: 'lab', category: 'clinical-chemistry', name: '钾', nameEn: 'Potassium', validityDays: 7, priceCny: 6, loinc: ['2823-3'] };

describe('catalog versions', () => {
  let t: TestDatabase;
  let region: number;
  let authority: number;
  let h1: number;
  beforeAll(async () => {
    t = await testDatabase();
    [{ id: region }] = await t.db('regions').insert({ code: 'R', name: '本市', is_default: true }).returning('id');
    authority = (await createOrganization(t.db, { code: 'AUTH', name: '卫健委', kind: 'authority' })).id;
    h1 = (await createOrganization(t.db, { code: 'H1', name: '一院', kind: 'hospital' })).id;
    await reviseCatalogItem(t.db, { regionId: region, code: 'LAB-K', change: potassium, changedByOrganizationId: authority, today: '2025-01-01' });
    // on 2025-06-01 the authority announces a 3-day window and a new price from 2025-07-01
    await reviseCatalogItem(t.db, {
      regionId: region,
      code: 'LAB-K',
      change: { ...potassium, kind: undefined, category: undefined, effectiveFrom: '2025-07-01', validityDays: 3, priceCny: 8.5, loinc: undefined },
      changedByOrganizationId: authority,
      today: '2025-06-01',
    });
  });
  afterAll(() => t.drop());

  const itemId = async () => (await catalogItemByCode(t.db, { regionId: region, code: 'LAB-K' })).id;

  it('answers a day before a change with the old version, the day of and after with the new one', async () => {
    const id = await itemId();
    expect(await catalogItemOn(t.db, { itemId: id, on: '2025-06-30' })).toMatchObject({ validityDays: 7, priceCny: 6, effectiveFrom: '2025-01-01' });
    expect(await catalogItemOn(t.db, { itemId: id, on: '2025-07-01' })).toMatchObject({ validityDays: 3, priceCny: 8.5, effectiveFrom: '2025-07-01' });
    expect(await catalogItemOn(t.db, { itemId: id, on: '2026-02-01' })).toMatchObject({ validityDays: 3 });
    expect(await catalogItemOn(t.db, { itemId: id, on: '2024-12-31' })).toBeNull();
  });

  it('keeps the whole history and lists the catalogue as it stood on a day', async () => {
    const detail = await catalogItemDetail(t.db, { regionId: region, code: 'LAB-K', on: '2025-03-01' });
    expect(detail.versions.map((v) => [v.effectiveFrom, v.validityDays])).toEqual([
      ['2025-01-01', 7],
      ['2025-07-01', 3],
    ]);
    expect(detail.current).toMatchObject({ code: 'LAB-K', validityDays: 7 });
    expect(detail.matches.loinc).toEqual(['2823-3']);
    expect((await catalogOn(t.db, { regionId: region, on: '2025-07-01' })).map((i) => [i.code, i.validityDays, i.matches.loinc])).toEqual([['LAB-K', 3, ['2823-3']]]);
    expect(await catalogOn(t.db, { regionId: region, on: '2024-06-01' })).toEqual([]);
  });

  it('refuses a change that reaches back before today, so past answers never move', async () => {
    const err = await reviseCatalogItem(t.db, { regionId: region, code: 'LAB-K', change: { ...potassium, effectiveFrom: '2025-05-31' }, changedByOrganizationId: authority, today: '2025-06-01' }).catch((e) => e);
    expect(isHubError(err, 'BadInput')).toBe(true);
    expect(err.detail).toMatchObject({ location: 'effectiveFrom', code: 'effective-in-past' });
  });

  it('replaces a change announced for a future day, but not a version already in force', async () => {
    const change = { ...potassium, effectiveFrom: '2025-07-01', validityDays: 4, priceCny: 8 };
    await reviseCatalogItem(t.db, { regionId: region, code: 'LAB-K', change, changedByOrganizationId: authority, today: '2025-06-15' });
    expect(await catalogItemOn(t.db, { itemId: await itemId(), on: '2025-07-01' })).toMatchObject({ validityDays: 4 });
    const late = await reviseCatalogItem(t.db, { regionId: region, code: 'LAB-K', change, changedByOrganizationId: authority, today: '2025-07-01' }).catch((e) => e);
    expect(isHubError(late, 'Conflict')).toBe(true);
  });

  it('takes an item out of the catalogue from a day and keeps its past', async () => {
    await reviseCatalogItem(t.db, { regionId: region, code: 'LAB-K', change: { ...potassium, effectiveFrom: '2026-01-01', inCatalog: false }, changedByOrganizationId: authority, today: '2025-12-01' });
    expect(await catalogOn(t.db, { regionId: region, on: '2026-01-01' })).toEqual([]);
    expect(await catalogOn(t.db, { regionId: region, on: '2025-12-31' })).toHaveLength(1);
    expect((await catalogOn(t.db, { regionId: region, on: '2026-01-01', includeWithdrawn: true }))[0]).toMatchObject({ inCatalog: false });
  });

  it.each([
    [{ loinc: ['2823-4'] }, 'loinc[0]', 'invalid-loinc'],
    [{ imaging: [{ modality: 'CT', bodyPart: 'HEAD' }] }, 'imaging', 'not-for-lab'],
    [{ kind: 'imaging' as const }, 'kind', 'kind-fixed'],
    [{ category: 'haematology' }, 'category', 'category-fixed'],
  ])('refuses %j at its location', async (bad, location, code) => {
    const err = await reviseCatalogItem(t.db, { regionId: region, code: 'LAB-K', change: { ...potassium, effectiveFrom: '2027-01-01', ...bad }, changedByOrganizationId: authority, today: '2026-06-01' }).catch((e) => e);
    expect(err.detail).toMatchObject({ location, code });
  });

  it('refuses a LOINC code that already means another item, naming it', async () => {
    const err = await reviseCatalogItem(t.db, {
      regionId: region,
      code: 'LAB-K2',
      change: { ...potassium, effectiveFrom: '2027-01-01', loinc: ['6298-4', '2823-3'] },
      changedByOrganizationId: authority,
      today: '2026-06-01',
    }).catch((e) => e);
    expect(isHubError(err, 'Conflict')).toBe(true);
    expect(err.message).toContain('LAB-K');
    expect(err.detail).toMatchObject({ location: 'loinc[1]', code: 'code-taken' });
    // the whole change was refused: no half-created item
    expect(await t.db('catalog_items').where({ code: 'LAB-K2' }).first()).toBeUndefined();
  });

  it("maps an organization's local codes, moving a code mapped again", async () => {
    await reviseCatalogItem(t.db, {
      regionId: region,
      code: 'CT-HEAD',
      change: { effectiveFrom: '2026-06-01', kind: 'imaging', category: 'CT', name: '头颅CT平扫', nameEn: 'CT head', validityDays: 90, priceCny: 200, filmsPerExam: 2, imaging: [{ modality: 'CT', bodyPart: 'HEAD' }] },
      changedByOrganizationId: authority,
      today: '2026-06-01',
    });
    await mapLocalCodes(t.db, { organizationId: h1, regionId: region, mappings: [{ localCode: 'K01', item: 'LAB-K' }, { localCode: 'CT9', item: 'CT-HEAD', localName: '头颅平扫' }] });
    await mapLocalCodes(t.db, { organizationId: h1, regionId: region, mappings: [{ localCode: 'K01', item: 'LAB-K', localName: '血钾' }] });
    expect(await listLocalCodes(t.db, { organizationId: h1 })).toEqual([
      { localCode: 'CT9', item: 'CT-HEAD', kind: 'imaging', localName: '头颅平扫' },
      { localCode: 'K01', item: 'LAB-K', kind: 'lab', localName: '血钾' },
    ]);
    const err = await mapLocalCodes(t.db, { organizationId: h1, regionId: region, mappings: [{ localCode: 'X', item: 'LAB-NOPE' }] }).catch((e) => e);
    expect(err.detail).toMatchObject({ location: 'mappings[0].item', code: 'unknown-item' });
  });
});
