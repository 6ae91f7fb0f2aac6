import type { Knex } from '@hub/shared/db';
import { badInput, conflict, notFound } from '@hub/shared/errors';
import type { ItemKind } from './catalog';
import { bodyPartPattern, isWellFormedLoinc, LOINC_SYSTEM, modalityPattern } from './codes';

/** A new version of an item, applying from a day; the codes, when given, replace the item's codes. */
export interface CatalogChange {
  effectiveFrom: string;
  /** required when the item is new; an item's kind and category never change */
  kind?: ItemKind;
  category?: string;
  name: string;
  nameEn: string;
  validityDays: number;
  priceCny: number;
  filmsPerExam?: number | null;
  inCatalog?: boolean;
  note?: string | null;
  loinc?: string[];
  procedureCodes?: Array<{ system: string; code: string }>;
  imaging?: Array<{ modality: string; bodyPart: string }>;
}

/**
 * Records a change of an item from a day on (creating the item when it is new). A change never
 * reaches back: `effectiveFrom` is today or later, so what was in force on a past day stays
 * the answer for that day and past statistics do not move. A second change for the same future
 * day replaces the first; today's version, once in force, is kept.
 */
export async function reviseCatalogItem(
  db: Knex,
  input: { regionId: number; code: string; change: CatalogChange; changedByOrganizationId: number; today: string },
): Promise<{ created: boolean; itemId: number }> {
  const { change } = input;
  if (change.effectiveFrom < input.today) {
    throw badInput(`a change applies from today (${input.today}) or a later day; past days keep the version they had`, { location: 'effectiveFrom', code: 'effective-in-past' });
  }
  return db.transaction(async (trx) => {
    let item = await trx('catalog_items').where({ region_id: input.regionId, code: input.code }).forUpdate().first('id', 'kind', 'category');
    let created = false;
    if (!item) {
      if (!change.kind) throw badInput('a new item needs its kind (imaging or lab)', { location: 'kind', code: 'required' });
      if (!change.category) throw badInput('a new item needs its category (e.g. clinical-chemistry, CT)', { location: 'category', code: 'required' });
      [item] = await trx('catalog_items')
        .insert({ region_id: input.regionId, code: input.code, kind: change.kind, category: change.category })
        .returning(['id', 'kind', 'category']);
      created = true;
    } else {
      if (change.kind && change.kind !== item.kind) throw conflict(`item ${input.code} is a ${item.kind} item; its kind cannot change`, { location: 'kind', code: 'kind-fixed' });
      if (change.category && change.category !== item.category) {
        throw conflict(`item ${input.code} is in category ${item.category}; a category cannot change (qualifications name it): create a new item`, { location: 'category', code: 'category-fixed' });
      }
    }
    const kind = item.kind as ItemKind;
    checkCodesFitKind(kind, change);

    const version = {
      item_id: item.id,
      effective_from: change.effectiveFrom,
      in_catalog: change.inCatalog ?? true,
      name: change.name,
      name_en: change.nameEn,
      validity_days: change.validityDays,
      price_cny: change.priceCny,
      films_per_exam: kind === 'imaging' ? (change.filmsPerExam ?? 0) : null,
      note: change.note ?? null,
      changed_by_organization_id: input.changedByOrganizationId,
    };
    const existing = await trx('catalog_item_versions').where({ item_id: item.id, effective_from: change.effectiveFrom }).first('id');
    if (existing && change.effectiveFrom <= input.today) {
      throw conflict(`item ${input.code} already has a version in force from ${change.effectiveFrom}; a further change applies from a later day`, { location: 'effectiveFrom', code: 'version-in-force' });
    }
    if (existing) await trx('catalog_item_versions').where({ id: existing.id }).update({ ...version, created_at: trx.fn.now() });
    else await trx('catalog_item_versions').insert(version);

    const codes = kind === 'lab' ? change.loinc?.map((code) => ({ system: LOINC_SYSTEM, code })) : change.procedureCodes;
    if (codes) await replaceCodes(trx, { regionId: input.regionId, itemId: item.id, code: input.code, kind, codes });
    if (change.imaging) await replaceImagingKeys(trx, { regionId: input.regionId, itemId: item.id, code: input.code, keys: change.imaging });
    return { created, itemId: item.id };
  });
}

function checkCodesFitKind(kind: ItemKind, change: CatalogChange): void {
  if (kind === 'lab') {
    if (change.imaging) throw badInput('a lab item has no modality and body part', { location: 'imaging', code: 'not-for-lab' });
    if (change.procedureCodes) throw badInput('a lab item is matched by LOINC codes (loinc) and local codes, not procedure codes', { location: 'procedureCodes', code: 'not-for-lab' });
    if (change.filmsPerExam) throw badInput('a lab item has no films', { location: 'filmsPerExam', code: 'not-for-lab' });
    change.loinc?.forEach((code, i) => {
      if (!isWellFormedLoinc(code)) throw badInput(`"${code}" is not a LOINC code (digits, a dash and the mod-10 check digit, e.g. 4548-4)`, { location: `loinc[${i}]`, code: 'invalid-loinc' });
    });
  } else {
    if (change.loinc) throw badInput('an imaging item names LOINC procedure codes under procedureCodes (system http://loinc.org)', { location: 'loinc', code: 'not-for-imaging' });
    change.procedureCodes?.forEach((c, i) => {
      if (c.system === LOINC_SYSTEM && !isWellFormedLoinc(c.code)) throw badInput(`"${c.code}" is not a LOINC code`, { location: `procedureCodes[${i}].code`, code: 'invalid-loinc' });
    });
    change.imaging?.forEach((k, i) => {
      if (!modalityPattern.test(k.modality)) throw badInput('a modality is a DICOM defined term such as CT, MR, DX, CR, MG, US', { location: `imaging[${i}].modality`, code: 'invalid-modality' });
      if (!bodyPartPattern.test(k.bodyPart)) throw badInput('a body part is a DICOM Body Part Examined defined term such as HEAD, CHEST, LSPINE', { location: `imaging[${i}].bodyPart`, code: 'invalid-body-part' });
    });
  }
}

async function replaceCodes(trx: Knex.Transaction, x: { regionId: number; itemId: number; code: string; kind: ItemKind; codes: Array<{ system: string; code: string }> }) {
  const field = x.kind === 'lab' ? 'loinc' : 'procedureCodes';
  if (x.codes.length > 0) {
    const taken = await trx('catalog_item_codes as c')
      .join('catalog_items as i', 'i.id', 'c.item_id')
      .where('c.region_id', x.regionId)
      .whereIn(['c.system', 'c.code'], x.codes.map((c) => [c.system, c.code]))
      .whereNot('c.item_id', x.itemId)
      .first('c.system', 'c.code', 'i.code as item');
    if (taken) {
      const at = x.codes.findIndex((c) => c.system === taken.system && c.code === taken.code);
      throw conflict(`${taken.code} already means item ${taken.item} in this catalogue; change that item first`, { location: x.kind === 'lab' ? `${field}[${at}]` : `${field}[${at}].code`, code: 'code-taken' });
    }
  }
  await trx('catalog_item_codes').where({ item_id: x.itemId }).delete();
  const rows = [...new Map(x.codes.map((c) => [`${c.system}|${c.code}`, c])).values()];
  if (rows.length > 0) await trx('catalog_item_codes').insert(rows.map((c) => ({ region_id: x.regionId, system: c.system, code: c.code, item_id: x.itemId })));
}

async function replaceImagingKeys(trx: Knex.Transaction, x: { regionId: number; itemId: number; code: string; keys: Array<{ modality: string; bodyPart: string }> }) {
  if (x.keys.length > 0) {
    const taken = await trx('catalog_imaging_keys as k')
      .join('catalog_items as i', 'i.id', 'k.item_id')
      .where('k.region_id', x.regionId)
      .whereIn(['k.modality', 'k.body_part'], x.keys.map((k) => [k.modality, k.bodyPart]))
      .whereNot('k.item_id', x.itemId)
      .first('k.modality', 'k.body_part', 'i.code as item');
    if (taken) {
      const at = x.keys.findIndex((k) => k.modality === taken.modality && k.bodyPart === taken.body_part);
      throw conflict(`${taken.modality} ${taken.body_part} already means item ${taken.item}; change that item first`, { location: `imaging[${at}]`, code: 'key-taken' });
    }
  }
  await trx('catalog_imaging_keys').where({ item_id: x.itemId }).delete();
  const rows = [...new Map(x.keys.map((k) => [`${k.modality}|${k.bodyPart}`, k])).values()];
  if (rows.length > 0) await trx('catalog_imaging_keys').insert(rows.map((k) => ({ region_id: x.regionId, modality: k.modality, body_part: k.bodyPart, item_id: x.itemId })));
}

export interface LocalCodeMapping {
  localCode: string;
  item: string;
  kind: ItemKind;
  localName: string | null;
}

/**
 * Maps an organization's own codes (LIS test codes, PACS exam codes) to items of its region's
 * catalogue; a code mapped again moves to the new item. Mapping takes effect for results
 * indexed from now on (a result keeps the item it was indexed with).
 */
export async function mapLocalCodes(
  db: Knex,
  input: { organizationId: number; regionId: number; mappings: Array<{ localCode: string; item: string; localName?: string | null }> },
): Promise<LocalCodeMapping[]> {
  const itemCodes = [...new Set(input.mappings.map((m) => m.item))];
  const items = await db('catalog_items').where('region_id', input.regionId).whereIn('code', itemCodes).select('id', 'code', 'kind');
  const byCode = new Map(items.map((i: { id: number; code: string; kind: ItemKind }) => [i.code, i]));
  const rows = input.mappings.map((m, i) => {
    const item = byCode.get(m.item);
    if (!item) throw notFound(`the catalog has no item "${m.item}"`, { location: `mappings[${i}].item`, code: 'unknown-item' });
    return { organization_id: input.organizationId, kind: item.kind, local_code: m.localCode, item_id: item.id, local_name: m.localName ?? null, updated_at: db.fn.now() };
  });
  const unique = [...new Map(rows.map((r) => [`${r.kind}|${r.local_code}`, r])).values()];
  if (unique.length > 0) {
    await db('organization_item_codes').insert(unique).onConflict(['organization_id', 'kind', 'local_code']).merge(['item_id', 'local_name', 'updated_at']);
  }
  return input.mappings.map((m) => ({ localCode: m.localCode, item: m.item, kind: byCode.get(m.item)!.kind, localName: m.localName ?? null }));
}

/** An organization's mappings (primary key prefix of organization_item_codes). */
export async function listLocalCodes(db: Knex, query: { organizationId: number; kind?: ItemKind }): Promise<LocalCodeMapping[]> {
  const rows = await db('organization_item_codes as l')
    .join('catalog_items as i', 'i.id', 'l.item_id')
    .where('l.organization_id', query.organizationId)
    .modify((q) => {
      if (query.kind) q.where('l.kind', query.kind);
    })
    .orderBy(['l.kind', 'l.local_code'])
    .select('l.local_code as localCode', 'i.code as item', 'l.kind', 'l.local_name as localName');
  return rows as LocalCodeMapping[];
}
