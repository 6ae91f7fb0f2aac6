import type { Knex } from '@hub/shared/db';

export interface PatientFacts {
  organizationId: number;
  /** The hospital's own identifier (MRN, DICOM Patient ID). */
  localId: string;
  name?: { alphabetic?: string; ideographic?: string; phonetic?: string };
  /** YYYY-MM-DD */
  birthDate?: string;
  sex?: 'M' | 'F' | 'O' | 'U';
  /** Keyed hash and masked form of an already validated national ID. */
  nationalId?: { hash: string; masked: string };
}

export interface LinkedPatient {
  patientId: number;
  personId: number;
  /** Other patients who share name, birth date and sex but no ID: recorded for a person to confirm. */
  candidates: number;
}

/** Lower-cased, delimiter-free name used for search and candidate matching; the ideographic group when there is one. */
export function nameKey(name: PatientFacts['name']): string | null {
  const chosen = name?.ideographic || name?.alphabetic || name?.phonetic;
  if (!chosen) return null;
  const key = chosen.replace(/[\^=\s,.·•]/g, '').toLowerCase();
  return key || null;
}

/** The live person a (possibly merged) person id stands for. */
export async function livePerson(db: Knex, personId: number): Promise<number> {
  const { rows } = await db.raw(
    `with recursive chain(id, merged_into_id, depth) as (
       select id, merged_into_id, 0 from persons where id = ?
       union all
       select p.id, p.merged_into_id, c.depth + 1 from persons p join chain c on p.id = c.merged_into_id where c.depth < 32
     )
     select id from chain where merged_into_id is null limit 1`,
    [personId],
  );
  return rows[0]?.id ?? personId;
}

/** The one live person with this national ID, created if there is none; safe when two hospitals race. */
async function personForNationalId(trx: Knex.Transaction, id: { hash: string; masked: string }): Promise<number> {
  const inserted = await trx.raw(
    `insert into persons (national_id_hash, national_id_masked) values (?, ?)
     on conflict (national_id_hash) where national_id_hash is not null and merged_into_id is null do nothing
     returning id`,
    [id.hash, id.masked],
  );
  if (inserted.rows[0]) return inserted.rows[0].id;
  const existing = await trx('persons').where({ national_id_hash: id.hash }).whereNull('merged_into_id').first('id');
  return existing.id;
}

/**
 * Records what a hospital says about its patient and links the record to the regional person:
 * by national ID when there is one (records from different hospitals with the same ID are
 * one person), otherwise to a person of its own. Name + birth date + sex alone never link:
 * such pairs become candidates for a person to confirm.
 */
export async function linkPatient(trx: Knex.Transaction, facts: PatientFacts): Promise<LinkedPatient> {
  const key = nameKey(facts.name);
  const values = {
    name_alphabetic: facts.name?.alphabetic ?? null,
    name_ideographic: facts.name?.ideographic ?? null,
    name_phonetic: facts.name?.phonetic ?? null,
    name_key: key,
    birth_date: facts.birthDate ?? null,
    sex: facts.sex ?? null,
  };
  // Known facts are updated; a push that omits a fact does not erase it.
  const updates = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== null));

  const existing = await trx('patients')
    .where({ organization_id: facts.organizationId, local_id: facts.localId })
    .forUpdate()
    .first('id', 'person_id', 'national_id_hash');

  const targetPerson = facts.nationalId ? await personForNationalId(trx, facts.nationalId) : null;

  if (existing) {
    const patch: Record<string, unknown> = { ...updates, updated_at: trx.fn.now() };
    if (facts.nationalId) {
      patch.national_id_hash = facts.nationalId.hash;
      patch.national_id_masked = facts.nationalId.masked;
    }
    let personId = await livePerson(trx, existing.person_id);
    if (targetPerson !== null && targetPerson !== personId) {
      patch.person_id = targetPerson;
      await trx('person_merges').insert({
        kind: 'link',
        organization_id: facts.organizationId,
        surviving_patient_id: existing.id,
        surviving_person_id: targetPerson,
        retired_person_id: personId,
        reason: 'national ID received for an existing record',
        source: 'index',
      });
      personId = targetPerson;
    }
    await trx('patients').where({ id: existing.id }).update(patch);
    return { patientId: existing.id, personId, candidates: 0 };
  }

  const personId = targetPerson ?? (await trx('persons').insert({}).returning('id'))[0].id;
  const inserted = await trx.raw(
    `insert into patients (organization_id, local_id, person_id, name_alphabetic, name_ideographic, name_phonetic, name_key, birth_date, sex, national_id_hash, national_id_masked)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     on conflict (organization_id, local_id) do nothing
     returning id`,
    [facts.organizationId, facts.localId, personId, values.name_alphabetic, values.name_ideographic, values.name_phonetic, key, values.birth_date, values.sex, facts.nationalId?.hash ?? null, facts.nationalId?.masked ?? null],
  );
  if (!inserted.rows[0]) {
    // Another worker registered the same record in the meantime: take that one.
    return linkPatient(trx, facts);
  }
  const patientId: number = inserted.rows[0].id;

  let candidates = 0;
  if (!facts.nationalId && key && facts.birthDate && facts.sex) {
    const result = await trx.raw(
      `insert into person_link_candidates (patient_id, candidate_patient_id, reason)
       select ?, p.id, 'same name, birth date and sex; no shared identifier'
       from patients p
       where p.birth_date = ? and p.name_key = ? and p.sex = ? and p.organization_id <> ? and p.person_id <> ?
       limit 20
       on conflict do nothing`,
      [patientId, facts.birthDate, key, facts.sex, facts.organizationId, personId],
    );
    candidates = result.rowCount ?? 0;
  }
  return { patientId, personId, candidates };
}
