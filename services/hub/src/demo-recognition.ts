import type { Knex } from '@hub/shared/db';
import { seedCatalog } from '@hub/index';
import { findOrganization } from '@hub/shared/org';
import { grantQualification, localDate, type NewQualification } from '@hub/viewer-api';

/** The demo region's catalogue region and its one city (99 is no province of GB/T 2260: it cannot be mistaken for a real one). */
const DEMO_REGION = { code: 'DEMO', name: '示范市', nameEn: 'Demo City' };
const DEMO_CITY = '990100';

const labCategories = ['haematology', 'clinical-chemistry', 'coagulation', 'endocrinology', 'tumour-markers', 'infectious-serology', 'urinalysis'];
const imagingCategories = ['CT', 'MR', 'DR', 'MG', 'US'];

type DemoQualification = { category: string; basis: NewQualification['basis']; scope: 'region' | 'city' };

/**
 * What each demo organization is qualified for: the first hospital for everything region-wide,
 * the TCM hospital for routine lab region-wide and CT/DR in its city only, the imaging centre
 * for every modality. Enough to see a result recognized, and one refused for its scope.
 */
const demoQualifications: Record<string, DemoQualification[]> = {
  'DEMO-H1': [...labCategories, ...imagingCategories].map((category) => ({ category, basis: 'hr-mark', scope: 'region' })),
  'DEMO-H2': [
    ...['haematology', 'clinical-chemistry', 'urinalysis'].map((category): DemoQualification => ({ category, basis: 'eqa-passed', scope: 'region' })),
    ...['CT', 'DR'].map((category): DemoQualification => ({ category, basis: 'hr-mark', scope: 'city' })),
  ],
  'DEMO-IC': imagingCategories.map((category) => ({ category, basis: 'hr-mark', scope: 'region' })),
};

/**
 * Seeds the catalog into the demo region, places the demo organizations in its city and gives
 * them qualifications from the start of last year to the end of next year. Safe on every start:
 * what exists (a placement, any qualification of an organization) is left alone.
 */
export async function ensureDemoRecognition(db: Knex): Promise<void> {
  const { regionId } = await seedCatalog(db, { region: DEMO_REGION });
  const authority = await findOrganization(db, 'DEMO-AUTH');
  const year = Number(localDate(new Date(), 'Asia/Shanghai').slice(0, 4));
  for (const code of ['DEMO-H1', 'DEMO-H2', 'DEMO-IC', 'DEMO-AUTH']) {
    const org = await findOrganization(db, code);
    if (!org) continue;
    await db('organization_regions').insert({ organization_id: org.id, region_id: regionId, city_code: DEMO_CITY }).onConflict('organization_id').ignore();
    const granted = await db('qualifications').where({ organization_id: org.id }).first('id');
    if (granted || !demoQualifications[code]) continue;
    for (const q of demoQualifications[code]) {
      await grantQualification(db, {
        organizationId: org.id,
        regionId,
        category: q.category,
        basis: q.basis,
        scope: q.scope === 'region' ? { kind: 'region' } : { kind: 'city', city: DEMO_CITY },
        validFrom: `${year - 1}-01-01`,
        validUntil: `${year + 1}-12-31`,
        reference: 'demo',
        grantedByOrganizationId: authority?.id ?? org.id,
      });
    }
  }
}
