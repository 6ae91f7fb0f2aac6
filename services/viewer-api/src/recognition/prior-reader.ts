import type { Knex } from '@hub/shared/db';
import { PERSON_GROUP_CTES, type ConsentFact, type ResultStatus } from '@hub/shared/recognition';
import { createBatcher } from './batcher';
import { preparedQuery } from './prepared';

/** At most this many prior results are read, newest first (a chronic patient's potassium over years). */
export const MAX_RESULTS = 100;

/** Whose priors: the asker's own MRN, or the resident ID number's keyed hash. */
export type PatientKey = { organizationId: number; mrn: string } | { nationalIdHash: string };

export interface FoundRow {
  id: number;
  kind: 'lab' | 'imaging';
  result_id: number;
  patient_id: number;
  organization_id: number;
  reference_at: string;
  reference_day: string;
  status: ResultStatus;
  summary: Record<string, unknown> & { values?: unknown[]; report?: Record<string, unknown>; studyUid?: string; accession?: string | null; description?: string | null; modalities?: string[]; bodyParts?: string[] };
  corrected_at: string | null;
}

export type ConsentJson = Omit<ConsentFact, 'validFrom' | 'validUntil' | 'revokedAt'> & { validFrom: string; validUntil: string | null; revokedAt: string | null };

/** A person found (null when nobody is), every record of theirs, their results of the item, their consents. */
export interface Priors {
  person_id: number | null;
  records: Array<{ id: number; organization: number }>;
  results: FoundRow[];
  consents: ConsentJson[];
}

// For each asked (patient, item): the person (by the asker's MRN or the resident ID number),
// every record of theirs, their results of the item across the region
// (recognition_results_patient_item_idx per record) and their consents (consents_person_idx).
// One statement for every check waiting, each asked in a lateral subquery. The first array is
// read through a sub-select so the plan is generic (see preparedQuery).
const READ_BATCH = `
  select u.ord, q.* from unnest((select $1::bigint[]), $2::text[], $3::text[], $4::bigint[]) with ordinality as u(organization_id, mrn, national_id_hash, item_id, ord)
  cross join lateral (
    with recursive start_persons(id) as (
      select person_id from patients where u.mrn is not null and organization_id = u.organization_id and local_id = u.mrn
      union select id from persons where u.national_id_hash is not null and national_id_hash = u.national_id_hash and merged_into_id is null
      union select person_id from patients where u.national_id_hash is not null and national_id_hash = u.national_id_hash
    ), ${PERSON_GROUP_CTES},
    found as (
      select r.id, r.kind, r.result_id, r.patient_id, r.organization_id, r.reference_at, r.reference_day, r.status, r.summary, r.corrected_at
      from recognition_results r
      where r.patient_id in (select id from records) and r.item_id = u.item_id and r.status <> 'withdrawn'
      order by r.reference_at desc, r.id desc limit ${MAX_RESULTS}
    )
    select (select min(id) from live) as person_id,
      (select coalesce(json_agg(json_build_object('id', id, 'organization', organization_id)), '[]') from records) as records,
      (select coalesce(json_agg(f order by f.reference_at desc, f.id desc), '[]') from found f) as results,
      (select coalesce(json_agg(c), '[]') from (
        select c.id, c.scope, c.region_id as "regionId", c.purpose, c.valid_from as "validFrom", c.valid_until as "validUntil", c.revoked_at as "revokedAt",
          array(select co.organization_id from consent_organizations co where co.consent_id = c.id) as "organizationIds"
        from consents c where c.person_id in (select id from grp)) c) as consents
  ) q
  order by u.ord`;

/**
 * Reads priors for the checks: those arriving together are read in one statement, two
 * statements at most at a time (one per core of a small database server).
 */
export function createPriorReader(db: Knex): (patient: PatientKey, itemId: number) => Promise<Priors> {
  const read = createBatcher(
    async (asked: Array<{ patient: PatientKey; itemId: number }>) => {
      const rows = await preparedQuery(db, 'recognition-priors', READ_BATCH, [
        asked.map((a) => ('mrn' in a.patient ? a.patient.organizationId : null)),
        asked.map((a) => ('mrn' in a.patient ? a.patient.mrn : null)),
        asked.map((a) => ('nationalIdHash' in a.patient ? a.patient.nationalIdHash : null)),
        asked.map((a) => a.itemId),
      ]);
      return rows as unknown as Priors[];
    },
    { maxBatch: 64, inFlight: 2 },
  );
  return (patient, itemId) => read({ patient, itemId });
}
