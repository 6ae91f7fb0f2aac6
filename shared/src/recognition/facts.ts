import type { Knex } from '../db';
import { versionOn, type Asker, type ItemVersion, type QualificationFact } from './rules';

/**
 * What the rules read that changes rarely and is small next to the results: regions,
 * organizations and their placement, the catalog with every version and code, qualifications
 * and alliance memberships. A city has tens of organizations, hundreds of items and thousands
 * of qualifications; a province a few thousand organizations and tens of thousands of
 * qualifications — a few MB, loaded whole so that the prior-result check (1,500 a second) and
 * the stage ask the database only about the patient.
 */
export interface RegionFact {
  id: number;
  code: string;
  name: string;
  timeZone: string;
  isDefault: boolean;
}

export interface OrganizationFact {
  id: number;
  code: string;
  name: string;
  nameEn: string | null;
  kind: 'hospital' | 'imaging_centre' | 'authority';
  grade: string | null;
  stoppedPrintingFilmOn: string | null;
  /** its catalogue region: its placement, else the default region (null before any region exists) */
  regionId: number | null;
  cityCode: string | null;
}

export interface ItemVersionFact extends ItemVersion {
  name: string;
  nameEn: string;
}

export interface CatalogItemFact {
  id: number;
  code: string;
  kind: 'imaging' | 'lab';
  category: string;
  regionId: number;
  /** oldest first */
  versions: ItemVersionFact[];
}

export interface RecognitionFacts {
  loadedAt: number;
  regions: Map<number, RegionFact>;
  organizations: Map<number, OrganizationFact>;
  organizationsByCode: Map<string, OrganizationFact>;
  items: Map<number, CatalogItemFact>;
  /** `${regionId}|${code}` */
  itemsByCode: Map<string, CatalogItemFact>;
  /** `${regionId}|${system}|${code}` (LOINC and procedure codes) */
  itemsByStandardCode: Map<string, CatalogItemFact>;
  /** `${regionId}|${MODALITY}|${BODY PART}` */
  itemsByImagingKey: Map<string, CatalogItemFact>;
  qualificationsOf(organizationId: number): QualificationFact[];
  /** the asker as the qualification rule sees it; null for an organization unknown or without a region */
  asker(organizationId: number): Asker | null;
  regionOf(organizationId: number): RegionFact | null;
  /** an item's version in force on a day */
  versionOf(itemId: number, day: string): ItemVersionFact | undefined;
}

interface Membership {
  allianceId: number;
  from: string;
  until: string | null;
}

export async function loadRecognitionFacts(db: Knex): Promise<RecognitionFacts> {
  const [regions, organizations, items, versions, codes, keys, qualifications, members] = await Promise.all([
    db('regions').select('id', 'code', 'name', 'time_zone as timeZone', 'is_default as isDefault'),
    db('organizations as o')
      .leftJoin('organization_regions as p', 'p.organization_id', 'o.id')
      .select('o.id', 'o.code', 'o.name', 'o.name_en as nameEn', 'o.kind', 'o.grade', 'o.stopped_printing_film_on as stoppedPrintingFilmOn', 'p.region_id as regionId', 'p.city_code as cityCode'),
    db('catalog_items').select('id', 'code', 'kind', 'category', 'region_id as regionId'),
    db('catalog_item_versions')
      .orderBy(['item_id', 'effective_from'])
      .select('item_id', 'effective_from as effectiveFrom', 'in_catalog as inCatalog', 'name', 'name_en as nameEn', 'validity_days as validityDays', 'price_cny as priceCny', 'films_per_exam as filmsPerExam'),
    db('catalog_item_codes').select('region_id', 'system', 'code', 'item_id'),
    db('catalog_imaging_keys').select('region_id', 'modality', 'body_part', 'item_id'),
    db('qualifications')
      .whereNull('withdrawn_at')
      .select(
        'organization_id as organizationId',
        'item_id as itemId',
        'category',
        'region_id as regionId',
        'scope',
        'scope_region_id as scopeRegionId',
        'scope_city_code as scopeCityCode',
        'scope_alliance_id as scopeAllianceId',
        'valid_from as validFrom',
        'valid_until as validUntil',
      ),
    db('alliance_members').select('alliance_id as allianceId', 'organization_id', 'member_from as from', 'member_until as until'),
  ]);

  const regionMap = new Map<number, RegionFact>(regions.map((r: RegionFact) => [r.id, r]));
  const defaultRegion = regions.find((r: RegionFact) => r.isDefault)?.id ?? null;
  const orgMap = new Map<number, OrganizationFact>();
  for (const o of organizations as OrganizationFact[]) orgMap.set(o.id, { ...o, regionId: o.regionId ?? defaultRegion });

  const itemMap = new Map<number, CatalogItemFact>();
  for (const i of items as Omit<CatalogItemFact, 'versions'>[]) itemMap.set(i.id, { ...i, versions: [] });
  for (const { item_id, ...v } of versions as Array<ItemVersionFact & { item_id: number }>) itemMap.get(item_id)?.versions.push(v);
  const byCode = new Map<string, CatalogItemFact>();
  for (const i of itemMap.values()) byCode.set(`${i.regionId}|${i.code}`, i);
  const byStandard = new Map<string, CatalogItemFact>();
  for (const c of codes as Array<{ region_id: number; system: string; code: string; item_id: number }>) {
    const item = itemMap.get(c.item_id);
    if (item) byStandard.set(`${c.region_id}|${c.system}|${c.code}`, item);
  }
  const byKey = new Map<string, CatalogItemFact>();
  for (const k of keys as Array<{ region_id: number; modality: string; body_part: string; item_id: number }>) {
    const item = itemMap.get(k.item_id);
    if (item) byKey.set(`${k.region_id}|${k.modality}|${k.body_part}`, item);
  }

  const qualificationsByOrg = new Map<number, QualificationFact[]>();
  for (const q of qualifications as Array<Omit<QualificationFact, 'withdrawn'>>) {
    const list = qualificationsByOrg.get(q.organizationId) ?? [];
    list.push({ ...q, withdrawn: false });
    qualificationsByOrg.set(q.organizationId, list);
  }
  const membershipsByOrg = new Map<number, Membership[]>();
  for (const m of members as Array<Membership & { organization_id: number }>) {
    const list = membershipsByOrg.get(m.organization_id) ?? [];
    list.push({ allianceId: m.allianceId, from: m.from, until: m.until });
    membershipsByOrg.set(m.organization_id, list);
  }

  const askers = new Map<number, Asker | null>();
  return {
    loadedAt: Date.now(),
    regions: regionMap,
    organizations: orgMap,
    organizationsByCode: new Map([...orgMap.values()].map((o) => [o.code, o])),
    items: itemMap,
    itemsByCode: byCode,
    itemsByStandardCode: byStandard,
    itemsByImagingKey: byKey,
    qualificationsOf: (organizationId) => qualificationsByOrg.get(organizationId) ?? [],
    asker(organizationId) {
      if (!askers.has(organizationId)) {
        const org = orgMap.get(organizationId);
        const memberships = membershipsByOrg.get(organizationId) ?? [];
        askers.set(
          organizationId,
          org && org.regionId !== null
            ? {
                organizationId,
                regionId: org.regionId,
                cityCode: org.cityCode,
                inAlliance: (allianceId, day) => memberships.some((m) => m.allianceId === allianceId && m.from <= day && (m.until === null || m.until >= day)),
              }
            : null,
        );
      }
      return askers.get(organizationId)!;
    },
    regionOf(organizationId) {
      const regionId = orgMap.get(organizationId)?.regionId;
      return regionId === undefined || regionId === null ? null : (regionMap.get(regionId) ?? null);
    },
    versionOf: (itemId, day) => versionOn(itemMap.get(itemId)?.versions ?? [], day),
  };
}

export interface FactsCache {
  /** the facts, as they were at most `staleMs` ago */
  get(): Promise<RecognitionFacts>;
  /** the next get() loads them again */
  invalidate(): void;
}

// Whether anything the facts are made of changed: each table's row count and the sum of its
// rows' xmin (an insert, update or delete changes one or the other). A few thousand rows per
// table at most: a millisecond or two, where loading them all takes tens.
const STAMP = `select concat_ws('|', ${[
  'regions',
  'organizations',
  'organization_regions',
  'catalog_items',
  'catalog_item_versions',
  'catalog_item_codes',
  'catalog_imaging_keys',
  'qualifications',
  'alliance_members',
]
  .map((t) => `(select count(*) || ':' || coalesce(sum(xmin::text::bigint), 0) from ${t})`)
  .join(', ')}) as stamp`;

/**
 * The facts, kept in memory: at most every `staleMs` (default 1 s) a one-line query tells
 * whether any of their tables changed, and only then are they loaded again. So an authority's
 * change (a qualification, a catalog version) reaches every check and the stage within a
 * second, while a check reads nothing but the patient. Concurrent callers share one load; a
 * failed load is not kept. 0: every call asks.
 */
export function recognitionFactsCache(db: Knex, staleMs = 1000): FactsCache {
  let current: { facts: RecognitionFacts; stamp: string; checkedAt: number } | undefined;
  let pending: Promise<RecognitionFacts> | undefined;
  const refresh = async (): Promise<RecognitionFacts> => {
    const { rows } = await db.raw(STAMP);
    const stamp = rows[0].stamp as string;
    if (current && current.stamp === stamp) {
      current.checkedAt = Date.now();
      return current.facts;
    }
    const facts = await loadRecognitionFacts(db);
    current = { facts, stamp, checkedAt: Date.now() };
    return facts;
  };
  return {
    async get() {
      if (current && staleMs > 0 && Date.now() - current.checkedAt < staleMs) return current.facts;
      pending ??= refresh().finally(() => {
        pending = undefined;
      });
      return pending;
    },
    invalidate() {
      current = undefined;
    },
  };
}
