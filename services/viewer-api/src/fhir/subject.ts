import type { Knex } from '@hub/shared/db';
import { badInput } from '@hub/shared/errors';
import { NATIONAL_ID_HASH_PREFIX, NATIONAL_ID_SYSTEM, organizationOfMrnSystem } from '@hub/shared/fhir';
import { nationalIdHash } from '@hub/shared/identity';
import { PERSON_GROUPS_BY_START } from '@hub/shared/recognition';
import { splitOr, tokensOf, type Token } from './search-values';
import type { SearchParams } from './types';

/**
 * Every patient record each person stands for, in one query: the live person it was merged
 * into (if any), and every person merged into that one, across all hospitals; by record id,
 * keyed by the person asked about. Served by persons' primary key, persons_merged_into_idx
 * and patients_person_idx.
 */
export async function recordsOfPersons(db: Knex, personIds: number[]): Promise<Map<number, Array<{ id: number; personId: number; organizationId: number }>>> {
  const out = new Map<number, Array<{ id: number; personId: number; organizationId: number }>>();
  if (personIds.length === 0) return out;
  const { rows } = await db.raw(
    `with recursive ${PERSON_GROUPS_BY_START}
     select d.start, pa.id, pa.person_id as "personId", pa.organization_id as "organizationId" from down d join patients pa on pa.person_id = d.id order by d.start, pa.id`,
    [personIds],
  );
  for (const { start, ...record } of rows as Array<{ start: number; id: number; personId: number; organizationId: number }>) out.set(start, [...(out.get(start) ?? []), record]);
  return out;
}

/** A clear national ID as the key the hub matches on; a wrong number is a 400, not "no results". */
function hashOf(value: string, idHashSecret: string, location: string): string {
  const hashed = value.startsWith(NATIONAL_ID_HASH_PREFIX) ? value.slice(NATIONAL_ID_HASH_PREFIX.length) : undefined;
  if (hashed !== undefined) {
    if (!/^[0-9a-f]{64}$/.test(hashed)) throw badInput(`${location}: a hashed national ID is 64 hex digits`, { location, code: 'invalid-national-id' });
    return hashed;
  }
  try {
    return nationalIdHash(value, idHashSecret);
  } catch (err) {
    throw badInput(`${location}: ${(err as Error).message}`, { location, code: 'invalid-national-id' });
  }
}

const looksLikeNationalId = (v: string) => /^\s*\d{17}[\dXx]\s*$/.test(v) || v.startsWith(NATIONAL_ID_HASH_PREFIX);

/**
 * A search parameter value as it may stand in a link: a national ID (alone, or after a `|`)
 * replaced by its keyed hash, which searches accept back. The clear number never leaves.
 */
export function linkSafeValue(value: string, idHashSecret: string): string {
  return value.replace(/(^|\|)\s*(\d{17}[\dXx])\s*$/, (whole, bar: string, id: string) => {
    try {
      return `${bar}${NATIONAL_ID_HASH_PREFIX}${nationalIdHash(id, idHashSecret)}`;
    } catch {
      return whole;
    }
  });
}

/**
 * The records an identifier names: the national ID (system NATIONAL_ID_SYSTEM, or an
 * 18-character number with no system) → every record of that person in the region; an
 * MRN (system mrnSystem(org)) → that hospital's record. Other systems match nothing here.
 */
export async function recordsByIdentifier(db: Knex, token: Token, idHashSecret: string, location: string): Promise<number[]> {
  if (token.system === NATIONAL_ID_SYSTEM || (!token.system && !token.noSystem && looksLikeNationalId(token.code))) {
    const hash = hashOf(token.code, idHashSecret, location);
    // patients_national_id_idx; a record linked later (no ID of its own) is found through its person
    const persons = (await db('patients').where({ national_id_hash: hash }).distinct('person_id').limit(50)).map((r) => r.person_id as number);
    const records = new Set<number>();
    for (const found of (await recordsOfPersons(db, persons)).values()) for (const r of found) records.add(r.id);
    return [...records];
  }
  const org = token.system ? organizationOfMrnSystem(token.system) : null;
  if (org) {
    // patients_local_key
    const row = await db('patients as p').join('organizations as o', 'o.id', 'p.organization_id').where({ 'o.code': org, 'p.local_id': token.code }).first('p.id');
    return row ? [row.id] : [];
  }
  if (!token.system) {
    throw badInput(`${location}: give the identifier's system (${NATIONAL_ID_SYSTEM} for the resident ID, urn:hub:organization:CODE:mrn for a hospital's number)`, { location, code: 'identifier-system-required' });
  }
  return [];
}

const intersect = (a: number[] | undefined, b: number[]): number[] => (a === undefined ? b : a.filter((x) => b.includes(x)));

function referencedIds(param: string, value: string): number[] {
  return splitOr(value).map((ref) => {
    const m = /^(?:(?:.*\/)?Patient\/)?(\d{1,18})$/.exec(ref);
    if (!m) throw badInput(`${param}=${ref}: a patient reference is Patient/{id}`, { location: param, code: 'invalid-reference' });
    return Number(m[1]);
  });
}

/**
 * The patient records a search is about, from `patient`, `subject` (references) and
 * `patient:identifier` / `subject:identifier`; undefined when the search names none.
 * Repeated parameters narrow (AND), commas widen (OR).
 */
export async function searchedRecords(db: Knex, params: SearchParams, idHashSecret: string): Promise<number[] | undefined> {
  let records: number[] | undefined;
  for (const [name, values] of params) {
    const [base, modifier] = name.split(':');
    if (base !== 'patient' && base !== 'subject') continue;
    if (modifier === 'identifier') {
      for (const tokens of tokensOf(values)) {
        const found = new Set<number>();
        for (const token of tokens) for (const id of await recordsByIdentifier(db, token, idHashSecret, name)) found.add(id);
        records = intersect(records, [...found]);
      }
    } else if (modifier === undefined || modifier === 'Patient') {
      for (const value of values) records = intersect(records, referencedIds(name, value));
    } else {
      throw badInput(`${name}: the modifier :${modifier} is not supported (:identifier is)`, { location: name, code: 'unsupported-modifier' });
    }
  }
  return records;
}
