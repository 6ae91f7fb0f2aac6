import { createOrganization } from '@hub/shared/org';
import { testDatabase, type TestDatabase } from '@hub/shared/testing';
import { recognitionItemForImaging, recognitionItemForLab, recognitionItemsForLab, seedCatalog } from '.';

describe('mapping a result to its catalog item', () => {
  let t: TestDatabase;
  let h1: number;
  let h2: number;
  let province: number;
  beforeAll(async () => {
    t = await testDatabase();
    await seedCatalog(t.db, { region: { code: 'CITY', name: '本市' } });
    h1 = (await createOrganization(t.db, { code: 'H1', name: '一院', kind: 'hospital' })).id;
    h2 = (await createOrganization(t.db, { code: 'H2', name: '二院', kind: 'hospital' })).id;
    // a second catalogue where creatinine is not an item: H2 takes part there
    province = (
      await seedCatalog(t.db, { region: { code: 'PROV', name: '本省' }, items: [{ code: 'LAB-K', kind: 'lab', category: 'clinical-chemistry', name: '钾', nameEn: 'Potassium', validityDays: 3, priceCny: 6, loinc: ['2823-3'] }] })
    ).regionId;
    await t.db('organization_regions').insert({ organization_id: h2, region_id: province });
    const item = async (code: string) => (await t.db('catalog_items').where({ code }).whereNot('region_id', province).first('id')).id;
    await t.db('organization_item_codes').insert([
      { organization_id: h1, kind: 'lab', local_code: 'GLU01', item_id: await item('LAB-GLU') },
      // H1's LIS reports its own HbA1c code that happens to look like a LOINC code of another item
      { organization_id: h1, kind: 'lab', local_code: '2345-7', item_id: await item('LAB-HBA1C') },
      { organization_id: h1, kind: 'imaging', local_code: 'CT0012', item_id: await item('CT-CHEST') },
    ]);
  });
  afterAll(() => t.drop());

  it('finds an item by LOINC, whether the code names its system or not', async () => {
    expect(await recognitionItemForLab(t.db, { organizationId: h1, codings: [{ code: '4548-4', system: 'LN' }] })).toMatchObject({ code: 'LAB-HBA1C', kind: 'lab', matchedBy: 'loinc' });
    expect(await recognitionItemForLab(t.db, { organizationId: h1, codings: [{ code: '14682-9', system: 'http://loinc.org' }] })).toMatchObject({ code: 'LAB-CREA', category: 'clinical-chemistry' });
    expect(await recognitionItemForLab(t.db, { organizationId: h1, codings: [{ code: '2823-3' }] })).toMatchObject({ code: 'LAB-K' });
  });

  it("finds an item by the organization's own code, which wins over LOINC", async () => {
    expect(await recognitionItemForLab(t.db, { organizationId: h1, codings: [{ code: 'GLU01', system: 'L' }] })).toMatchObject({ code: 'LAB-GLU', matchedBy: 'local-code' });
    expect(await recognitionItemForLab(t.db, { organizationId: h1, codings: [{ code: '2345-7' }] })).toMatchObject({ code: 'LAB-HBA1C', matchedBy: 'local-code' });
    // said to be LOINC: the local mapping does not apply
    expect(await recognitionItemForLab(t.db, { organizationId: h1, codings: [{ code: '2345-7', system: 'LN' }] })).toMatchObject({ code: 'LAB-GLU', matchedBy: 'loinc' });
    // another organization's code means nothing here
    expect(await recognitionItemForLab(t.db, { organizationId: h2, codings: [{ code: 'GLU01', system: 'L' }] })).toBeNull();
  });

  it('maps a whole report in one call, in order, with null where nothing matches', async () => {
    const items = await recognitionItemsForLab(t.db, {
      organizationId: h1,
      results: [[{ code: 'X-UNKNOWN', system: 'L' }, { code: '2951-2', system: 'LN' }], [{ code: '99999-9', system: 'LN' }], [{ code: 'GLU01' }], []],
    });
    expect(items.map((i) => i?.code ?? null)).toEqual(['LAB-NA', null, 'LAB-GLU', null]);
  });

  it("uses the catalogue of the organization's own region", async () => {
    expect(await recognitionItemForLab(t.db, { organizationId: h2, codings: [{ code: '2823-3', system: 'LN' }] })).toMatchObject({ code: 'LAB-K', regionId: province });
    expect(await recognitionItemForLab(t.db, { organizationId: h2, codings: [{ code: '14682-9', system: 'LN' }] })).toBeNull();
  });

  it('finds an imaging item by modality and body part, DR and CR alike', async () => {
    expect(await recognitionItemForImaging(t.db, { organizationId: h1, modality: 'CT', bodyPart: 'HEAD' })).toMatchObject({ code: 'CT-HEAD', kind: 'imaging', matchedBy: 'modality-body-part' });
    expect(await recognitionItemForImaging(t.db, { organizationId: h1, modality: 'dx', bodyPart: 'CHEST ' })).toMatchObject({ code: 'DR-CHEST' });
    expect(await recognitionItemForImaging(t.db, { organizationId: h1, modality: 'CR', bodyPart: 'CHEST' })).toMatchObject({ code: 'DR-CHEST' });
    expect(await recognitionItemForImaging(t.db, { organizationId: h1, modality: ['SR', 'MR'], bodyPart: ['LSPINE'] })).toMatchObject({ code: 'MR-LSPINE' });
    expect(await recognitionItemForImaging(t.db, { organizationId: h1, modality: 'MG', bodyPart: 'BREAST' })).toMatchObject({ code: 'MG-BREAST', category: 'MG' });
    expect(await recognitionItemForImaging(t.db, { organizationId: h1, modality: 'CT', bodyPart: null })).toBeNull();
    expect(await recognitionItemForImaging(t.db, { organizationId: h1, modality: 'XA', bodyPart: 'HEART' })).toBeNull();
  });

  it('prefers procedure codes, the organization’s own first, over modality and body part', async () => {
    expect(await recognitionItemForImaging(t.db, { organizationId: h1, modality: 'CT', bodyPart: 'ABDOMEN', procedureCodes: [{ code: 'CT0012', system: '99H1' }] })).toMatchObject({
      code: 'CT-CHEST',
      matchedBy: 'local-code',
    });
    expect(await recognitionItemForImaging(t.db, { organizationId: h1, modality: 'CT', bodyPart: 'ABDOMEN', procedureCodes: [{ code: '24725-4', system: 'LN' }] })).toMatchObject({
      code: 'CT-HEAD',
      matchedBy: 'procedure-code',
    });
    // a procedure code nobody knows falls back to modality and body part
    expect(await recognitionItemForImaging(t.db, { organizationId: h1, modality: 'CT', bodyPart: 'ABDOMEN', procedureCodes: [{ code: 'ZZZ', system: '99H1' }] })).toMatchObject({
      code: 'CT-ABDOMEN',
      matchedBy: 'modality-body-part',
    });
  });

  it('seeds once: a second run adds nothing and keeps edits', async () => {
    await t.db('catalog_item_versions').whereIn('item_id', t.db('catalog_items').where({ code: 'LAB-K' }).select('id')).update({ validity_days: 5 });
    expect(await seedCatalog(t.db, { region: { code: 'CITY', name: '本市' } })).toMatchObject({ itemsAdded: 0 });
    const version = await t.db('catalog_item_versions as v').join('catalog_items as i', 'i.id', 'v.item_id').join('regions as r', 'r.id', 'i.region_id').where({ 'i.code': 'LAB-K', 'r.code': 'CITY' }).first('v.validity_days');
    expect(version.validity_days).toBe(5);
    expect(await t.db('regions').where({ is_default: true }).pluck('code')).toEqual(['CITY']);
  });
});
