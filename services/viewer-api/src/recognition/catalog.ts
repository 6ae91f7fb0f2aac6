import type { Knex } from '@hub/shared/db';
import { notFound } from '@hub/shared/errors';
import { LOINC_SYSTEM } from './codes';

export type ItemKind = 'imaging' | 'lab';

/** A catalog item as the version in force on a day describes it. */
export interface CatalogEntry {
  id: number;
  code: string;
  kind: ItemKind;
  category: string;
  /** the day this version applies from */
  effectiveFrom: string;
  /** false: the item left the catalogue on effectiveFrom */
  inCatalog: boolean;
  name: string;
  nameEn: string;
  /** days a result stays recognizable after its reference time (specimen collection, study date) */
  validityDays: number;
  priceCny: number;
  filmsPerExam: number | null;
  note: string | null;
}

/** The codes that mean an item. */
export interface CatalogMatches {
  loinc: string[];
  procedureCodes: Array<{ system: string; code: string }>;
  imaging: Array<{ modality: string; bodyPart: string }>;
}

export type CatalogVersion = Omit<CatalogEntry, 'id' | 'code' | 'kind' | 'category'>;

export interface CatalogItemDetail {
  id: number;
  code: string;
  kind: ItemKind;
  category: string;
  /** the version in force on the day asked; null when the item is not yet in force then */
  current: CatalogEntry | null;
  versions: CatalogVersion[];
  matches: CatalogMatches;
}

const versionColumns = `v.effective_from as "effectiveFrom", v.in_catalog as "inCatalog", v.name, v.name_en as "nameEn",
  v.validity_days as "validityDays", v.price_cny as "priceCny", v.films_per_exam as "filmsPerExam", v.note`;

// The version in force on a day: the latest effective_from on or before it, one backward probe of
// catalog_item_versions_effective_key per item.
const inForce = `cross join lateral (
  select * from catalog_item_versions v where v.item_id = i.id and v.effective_from <= ?::date order by v.effective_from desc limit 1
) v`;

/**
 * The region's catalogue on a day: every item with the version in force then. Items that left
 * the catalogue are omitted unless asked for. Served by catalog_items_code_key (region prefix).
 */
export async function catalogOn(
  db: Knex,
  query: { regionId: number; on: string; kind?: ItemKind; category?: string; includeWithdrawn?: boolean },
): Promise<Array<CatalogEntry & { matches: CatalogMatches }>> {
  const filters: string[] = [];
  const bindings: Array<string | number> = [query.on, query.regionId];
  if (query.kind) {
    filters.push('and i.kind = ?');
    bindings.push(query.kind);
  }
  if (query.category) {
    filters.push('and i.category = ?');
    bindings.push(query.category);
  }
  if (!query.includeWithdrawn) filters.push('and v.in_catalog');
  const { rows } = await db.raw(
    `select i.id, i.code, i.kind, i.category, ${versionColumns}
     from catalog_items i ${inForce}
     where i.region_id = ? ${filters.join(' ')}
     order by i.kind, i.code`,
    bindings,
  );
  const matches = await matchesOf(db, rows);
  return (rows as CatalogEntry[]).map((r) => ({ ...r, matches: matches.get(r.id) ?? emptyMatches() }));
}

/** The version of one item in force on a day (null before its first version): what a window or a price was then. */
export async function catalogItemOn(db: Knex, query: { itemId: number; on: string }): Promise<CatalogEntry | null> {
  const { rows } = await db.raw(`select i.id, i.code, i.kind, i.category, ${versionColumns} from catalog_items i ${inForce} where i.id = ?`, [query.on, query.itemId]);
  return (rows[0] as CatalogEntry | undefined) ?? null;
}

export async function catalogItemByCode(db: Knex, query: { regionId: number; code: string }): Promise<{ id: number; code: string; kind: ItemKind; category: string }> {
  const item = await db('catalog_items').where({ region_id: query.regionId, code: query.code }).first('id', 'code', 'kind', 'category');
  if (!item) throw notFound(`the catalog has no item "${query.code}"`, { location: 'code', code: 'unknown-item' });
  return item;
}

/** One item: the version in force on a day, its whole history, and the codes that mean it. */
export async function catalogItemDetail(db: Knex, query: { regionId: number; code: string; on: string }): Promise<CatalogItemDetail> {
  const item = await catalogItemByCode(db, query);
  const { rows: versions } = await db.raw(
    `select ${versionColumns} from catalog_item_versions v where v.item_id = ? order by v.effective_from`,
    [item.id],
  );
  const current = [...(versions as CatalogVersion[])].reverse().find((v) => v.effectiveFrom <= query.on);
  const matches = await matchesOf(db, [item]);
  return {
    ...item,
    current: current ? { ...item, ...current } : null,
    versions,
    matches: matches.get(item.id) ?? emptyMatches(),
  };
}

const emptyMatches = (): CatalogMatches => ({ loinc: [], procedureCodes: [], imaging: [] });

/** The codes of a set of items (catalog_item_codes_item_idx, catalog_imaging_keys_item_idx). */
export async function matchesOf(db: Knex, items: Array<{ id: number; kind: ItemKind }>): Promise<Map<number, CatalogMatches>> {
  const result = new Map<number, CatalogMatches>();
  if (items.length === 0) return result;
  const itemIds = items.map((i) => i.id);
  // an imaging item's LOINC codes are procedure codes; a lab item's are its LOINC codes
  const lab = new Set(items.filter((i) => i.kind === 'lab').map((i) => i.id));
  const of = (id: number) => {
    let m = result.get(id);
    if (!m) result.set(id, (m = emptyMatches()));
    return m;
  };
  const [codes, keys] = await Promise.all([
    db('catalog_item_codes').whereIn('item_id', itemIds).orderBy(['item_id', 'system', 'code']).select('item_id', 'system', 'code'),
    db('catalog_imaging_keys').whereIn('item_id', itemIds).orderBy(['item_id', 'modality', 'body_part']).select('item_id', 'modality', 'body_part'),
  ]);
  for (const c of codes) {
    if (c.system === LOINC_SYSTEM && lab.has(c.item_id)) of(c.item_id).loinc.push(c.code);
    else of(c.item_id).procedureCodes.push({ system: c.system, code: c.code });
  }
  for (const k of keys) of(k.item_id).imaging.push({ modality: k.modality, bodyPart: k.body_part });
  return result;
}
