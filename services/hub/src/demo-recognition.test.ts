import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { recognitionItemForLab } from '@hub/index';
import { findOrganization } from '@hub/shared/org';
import { testDatabase, type TestDatabase } from '@hub/shared/testing';
import { catalogOn, localDate, qualificationFor } from '@hub/viewer-api';
import { ensureDemoRegion } from './demo';

describe('the demo region', () => {
  let t: TestDatabase;
  let dataDir: string;
  beforeAll(async () => {
    t = await testDatabase();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'hub-demo-'));
  });
  afterAll(async () => {
    await t.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('comes with the seed catalog and qualified hospitals, and a restart changes nothing', async () => {
    await ensureDemoRegion(t.db, dataDir);
    const counts = async () => ({
      items: Number((await t.db('catalog_items').count('* as n').first())!.n),
      qualifications: Number((await t.db('qualifications').count('* as n').first())!.n),
    });
    const first = await counts();
    await ensureDemoRegion(t.db, dataDir);
    expect(await counts()).toEqual(first);

    const today = localDate(new Date(), 'Asia/Shanghai');
    const [{ id: regionId }] = await t.db('regions').where({ code: 'DEMO', is_default: true }).select('id');
    const catalog = await catalogOn(t.db, { regionId, on: today });
    expect(catalog.filter((i) => i.kind === 'imaging').length).toBeGreaterThanOrEqual(20);
    expect(catalog.filter((i) => i.kind === 'lab').length).toBeGreaterThanOrEqual(30);

    const [h1, h2] = await Promise.all([findOrganization(t.db, 'DEMO-H1'), findOrganization(t.db, 'DEMO-H2')]);
    const hba1c = await recognitionItemForLab(t.db, { organizationId: h2!.id, codings: [{ code: '4548-4', system: 'LN' }] });
    const chest = catalog.find((i) => i.code === 'CT-CHEST')!;
    // the TCM hospital is qualified for routine chemistry region-wide and for CT in its city only
    expect(await qualificationFor(t.db, { sourceOrganizationId: h2!.id, itemId: hba1c!.id, askingOrganizationId: h1!.id, on: today })).toMatchObject({ qualified: true });
    expect(await qualificationFor(t.db, { sourceOrganizationId: h2!.id, itemId: chest.id, askingOrganizationId: h1!.id, on: today })).toMatchObject({
      qualified: true,
      qualification: { scope: { kind: 'city', city: '990100' } },
    });
  });
});
