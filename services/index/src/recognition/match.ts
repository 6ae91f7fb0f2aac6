import type { Knex } from '@hub/shared/db';
import { isLoincSystem, LOINC_SYSTEM } from '@hub/shared/recognition';

export type ItemKind = 'imaging' | 'lab';

/** A code as a result carries it: HL7 OBX-3 (identifier + coding system), FHIR Coding, DICOM code item. */
export interface Coding {
  code: string;
  /** 'LN' / 'http://loinc.org' for LOINC; any other value, or none, may be the organization's own code. */
  system?: string | null;
}

/** The catalog item a result counts as, and how it was found. */
export interface RecognitionItemRef {
  id: number;
  code: string;
  kind: ItemKind;
  category: string;
  regionId: number;
  matchedBy: 'local-code' | 'loinc' | 'procedure-code' | 'modality-body-part';
}

export interface ImagingFacts {
  organizationId: number;
  /** Modality (0008,0060) of a series, or Modalities in Study (0008,0061). */
  modality: string | string[];
  /** Body Part Examined (0018,0015) defined terms, in order of preference. */
  bodyPart?: string | string[] | null;
  /** Procedure Code Sequence (0008,1032) items, or the sender's own exam codes. */
  procedureCodes?: Coding[];
}

interface ItemRow {
  id: number;
  code: string;
  kind: ItemKind;
  category: string;
  region_id: number;
}

const itemColumns = ['i.id', 'i.code', 'i.kind', 'i.category', 'i.region_id'];

// An organization without a placement of its own takes part in the default region.
function regionOf(db: Knex, organizationId: number) {
  return db.raw('coalesce((select region_id from organization_regions where organization_id = ?), (select id from regions where is_default))', [organizationId]);
}

const asList = (v: string | string[] | null | undefined): string[] =>
  (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]).map((s) => s.trim().toUpperCase()).filter(Boolean);

const ref = (row: ItemRow, matchedBy: RecognitionItemRef['matchedBy']): RecognitionItemRef => ({
  id: row.id,
  code: row.code,
  kind: row.kind,
  category: row.category,
  regionId: row.region_id,
  matchedBy,
});

/** The organization's own codes among `codes` (served by the primary key of organization_item_codes). */
async function localItems(db: Knex, organizationId: number, kind: ItemKind, codes: string[]): Promise<Map<string, ItemRow>> {
  if (codes.length === 0) return new Map();
  const rows = await db('organization_item_codes as l')
    .join('catalog_items as i', 'i.id', 'l.item_id')
    .where({ 'l.organization_id': organizationId, 'l.kind': kind })
    .whereIn('l.local_code', [...new Set(codes)])
    .select('l.local_code', ...itemColumns);
  return new Map(rows.map((r: ItemRow & { local_code: string }) => [r.local_code, r]));
}

function bySystem(codings: Array<{ system: string; code: string }>): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const c of codings) groups.set(c.system, [...(groups.get(c.system) ?? []), c.code]);
  return groups;
}

/** Standard codes (system, code) of the organization's region (served by the primary key of catalog_item_codes). */
async function standardItems(db: Knex, organizationId: number, kind: ItemKind, codings: Array<{ system: string; code: string }>): Promise<Map<string, ItemRow>> {
  if (codings.length === 0) return new Map();
  const rows = await db('catalog_item_codes as c')
    .join('catalog_items as i', 'i.id', 'c.item_id')
    .where('c.region_id', regionOf(db, organizationId))
    .where('i.kind', kind)
    // one (system = ? and code = any(?)) per system: each an index condition on the whole primary key
    .where((q) => {
      for (const [system, codes] of bySystem(codings)) q.orWhere((w) => w.where('c.system', system).whereIn('c.code', codes));
    })
    .select('c.system', 'c.code as matched_code', ...itemColumns);
  return new Map(rows.map((r: ItemRow & { system: string; matched_code: string }) => [`${r.system}|${r.matched_code}`, r]));
}

/**
 * The catalog item of each lab result (an observation or a report, given by its codings), in
 * the order given; null where none matches. The organization's own mapping of a code wins
 * over LOINC: the sender said what its code means. Two queries for the whole batch.
 */
export async function recognitionItemsForLab(db: Knex, query: { organizationId: number; results: Coding[][] }): Promise<Array<RecognitionItemRef | null>> {
  const codings = query.results.map((codes) => codes.map((c) => ({ code: c.code.trim(), system: c.system?.trim() || null })).filter((c) => c.code));
  const localCodes = codings.flat().filter((c) => !isLoincSystem(c.system)).map((c) => c.code);
  const loincCodes = codings.flat().filter((c) => c.system === null || isLoincSystem(c.system)).map((c) => ({ system: LOINC_SYSTEM, code: c.code }));
  const [local, loinc] = await Promise.all([
    localItems(db, query.organizationId, 'lab', localCodes),
    standardItems(db, query.organizationId, 'lab', loincCodes),
  ]);
  return codings.map((codes) => {
    for (const c of codes) {
      const row = !isLoincSystem(c.system) && local.get(c.code);
      if (row) return ref(row, 'local-code');
    }
    for (const c of codes) {
      const row = (c.system === null || isLoincSystem(c.system)) && loinc.get(`${LOINC_SYSTEM}|${c.code}`);
      if (row) return ref(row, 'loinc');
    }
    return null;
  });
}

/** The catalog item of one lab result, given its codings (LOINC and/or the organization's local code). */
export async function recognitionItemForLab(db: Knex, query: { organizationId: number; codings: Coding[] }): Promise<RecognitionItemRef | null> {
  const [item] = await recognitionItemsForLab(db, { organizationId: query.organizationId, results: [query.codings] });
  return item ?? null;
}

/**
 * The catalog item of an imaging study or series. Procedure codes are the most specific fact
 * (they tell a plain CT from an enhanced one), the organization's own codes first; otherwise
 * modality + body part, in the order the body parts are given.
 */
export async function recognitionItemForImaging(db: Knex, facts: ImagingFacts): Promise<RecognitionItemRef | null> {
  const procedures = (facts.procedureCodes ?? []).map((c) => ({ code: c.code.trim(), system: c.system?.trim() || null })).filter((c) => c.code);
  if (procedures.length > 0) {
    const standard = procedures.filter((c) => c.system).map((c) => ({ system: isLoincSystem(c.system) ? LOINC_SYSTEM : c.system!, code: c.code }));
    const [local, known] = await Promise.all([
      localItems(db, facts.organizationId, 'imaging', procedures.map((c) => c.code)),
      standardItems(db, facts.organizationId, 'imaging', standard),
    ]);
    for (const c of procedures) {
      const row = local.get(c.code);
      if (row) return ref(row, 'local-code');
    }
    for (const c of standard) {
      const row = known.get(`${c.system}|${c.code}`);
      if (row) return ref(row, 'procedure-code');
    }
  }

  const modalities = asList(facts.modality);
  const bodyParts = asList(facts.bodyPart);
  if (modalities.length === 0 || bodyParts.length === 0) return null;
  const rows: Array<ItemRow & { modality: string; body_part: string }> = await db('catalog_imaging_keys as k')
    .join('catalog_items as i', 'i.id', 'k.item_id')
    .where('k.region_id', regionOf(db, facts.organizationId))
    .whereIn('k.modality', modalities)
    .whereIn('k.body_part', bodyParts)
    .select('k.modality', 'k.body_part', ...itemColumns);
  for (const part of bodyParts) {
    for (const modality of modalities) {
      const row = rows.find((r) => r.body_part === part && r.modality === modality);
      if (row) return ref(row, 'modality-body-part');
    }
  }
  return null;
}
