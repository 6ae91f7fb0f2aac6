import type { Knex } from '@hub/shared/db';
import { LOINC_SYSTEM } from '@hub/shared/recognition';
import { seedCatalogItems, type SeedItem } from './catalog';

export { seedCatalogItems, type SeedItem } from './catalog';

export interface SeedRegion {
  code: string;
  name: string;
  nameEn?: string;
  timeZone?: string;
}

/** The day the national measure (国卫医发〔2022〕6号) took effect: seeded versions apply from it. */
export const SEED_EFFECTIVE_FROM = '2022-03-01';

const defaultRegion: SeedRegion = { code: 'REGION', name: '本地区', nameEn: 'This region' };

/**
 * Loads the seed catalog into a region (created when missing, and made the default region when
 * the hub has none). Safe to run again: items the region already has are left as they are, so
 * the authority's own changes are never overwritten.
 */
export async function seedCatalog(
  db: Knex,
  options: { region?: SeedRegion; effectiveFrom?: string; items?: SeedItem[] } = {},
): Promise<{ regionId: number; itemsAdded: number }> {
  const region = options.region ?? defaultRegion;
  const items = options.items ?? seedCatalogItems;
  const effectiveFrom = options.effectiveFrom ?? SEED_EFFECTIVE_FROM;
  return db.transaction(async (trx) => {
    const hasDefault = await trx('regions').where({ is_default: true }).first('id');
    await trx('regions')
      .insert({ code: region.code, name: region.name, name_en: region.nameEn ?? null, time_zone: region.timeZone ?? 'Asia/Shanghai', is_default: !hasDefault })
      .onConflict('code')
      .ignore();
    const { id: regionId } = (await trx('regions').where({ code: region.code }).first('id')) as { id: number };

    const added: Array<{ id: number; code: string }> = await trx('catalog_items')
      .insert(items.map((i) => ({ region_id: regionId, code: i.code, kind: i.kind, category: i.category })))
      .onConflict(['region_id', 'code'])
      .ignore()
      .returning(['id', 'code']);
    if (added.length === 0) return { regionId, itemsAdded: 0 };

    const byCode = new Map(items.map((i) => [i.code, i]));
    await trx('catalog_item_versions').insert(
      added.map(({ id, code }) => {
        const i = byCode.get(code)!;
        return {
          item_id: id,
          effective_from: effectiveFrom,
          name: i.name,
          name_en: i.nameEn,
          validity_days: i.validityDays,
          price_cny: i.priceCny,
          films_per_exam: i.kind === 'imaging' ? (i.filmsPerExam ?? 0) : null,
          note: 'seed catalog',
        };
      }),
    );
    const codes = added.flatMap(({ id, code }) => {
      const i = byCode.get(code)!;
      return [
        ...(i.loinc ?? []).map((c) => ({ region_id: regionId, system: LOINC_SYSTEM, code: c, item_id: id })),
        ...(i.procedureCodes ?? []).map((c) => ({ region_id: regionId, system: c.system, code: c.code, item_id: id })),
      ];
    });
    if (codes.length > 0) await trx('catalog_item_codes').insert(codes).onConflict(['region_id', 'system', 'code']).ignore();
    const keys = added.flatMap(({ id, code }) =>
      (byCode.get(code)!.imaging ?? []).map(([modality, bodyPart]) => ({ region_id: regionId, modality, body_part: bodyPart, item_id: id })),
    );
    if (keys.length > 0) await trx('catalog_imaging_keys').insert(keys).onConflict(['region_id', 'modality', 'body_part']).ignore();
    return { regionId, itemsAdded: added.length };
  });
}
