import type { Knex } from 'knex';

/** Observation partitions: a power of two, so one can later be split by re-hashing into 2×. */
export const OBSERVATION_PARTITIONS = 32;

/**
 * Lab results (DiagnosticReport → Observation), the HL7 senders bound to an organization,
 * and what merges of hospital records need to be undone.
 *
 * Sizes to design for: 300 million observations, some 30 million reports, tens of millions
 * of patient records.
 *
 * Partitioning: `observations` is partitioned by HASH of patient_id (32 partitions), not by
 * month. Every request-path query of observations names a patient (the FHIR searches, the
 * prior-result check, a report's results — the report knows its patient), so hashing prunes
 * any query, whatever its date range, to one partition of ~10 M rows whose indexes stay
 * small; a month partitioning would make "this patient's HbA1c, all of them" probe every
 * month of history. Results are kept, not aged out, so the main advantage of months
 * (detaching old ones) does not apply. The key is the hospital's patient record, not the
 * regional person: a national ID arriving later or a confirmed candidate re-links a record to
 * another person without touching a single result row; only an HL7 A40 merge moves results
 * (rows change partition then, rarely). `lab_reports` (~10 observations each) stays one
 * table: its unique (organization, report key) — what a corrected message finds — could not
 * be enforced on a table partitioned by patient.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    -- An LIS sending over MLLP is recognized by its MSH-4 sending facility and/or the address
    -- it connects from; either binds it to one organization.
    create table hl7_senders (
      id bigint generated always as identity primary key,
      organization_id bigint not null references organizations (id),
      -- MSH-4.1 (namespace id) as the LIS writes it; null: any facility from source_address
      sending_facility text,
      -- an address or a network (10.0.0.7, 10.0.0.0/24); null: from any address
      source_address inet,
      created_at timestamptz not null default now(),
      constraint hl7_senders_binding check (sending_facility is not null or source_address is not null)
    );
    create unique index hl7_senders_binding_key on hl7_senders (coalesce(sending_facility, ''), coalesce(source_address::text, ''));
    -- the MLLP door: which organization a facility belongs to
    create index hl7_senders_facility_idx on hl7_senders (sending_facility) where sending_facility is not null;
    -- the MLLP door: senders bound by address only (network containment)
    create index hl7_senders_address_idx on hl7_senders using gist (source_address inet_ops) where sending_facility is null;
    -- admin: an organization's senders
    create index hl7_senders_organization_idx on hl7_senders (organization_id);

    -- A40: the retired record points at the one that survives (reads and later messages follow it)
    alter table patients add column merged_into_patient_id bigint references patients (id);
    create index patients_merged_into_idx on patients (merged_into_patient_id) where merged_into_patient_id is not null;
    -- Patient?name= on the alphabetic group too (name_key holds the ideographic one when there is
    -- one); the expression is the one services/viewer-api/src/fhir/patient.ts queries with
    create index patients_name_alphabetic_idx on patients ((lower(regexp_replace(name_alphabetic, '[\\^=\\s,.·•]', '', 'g'))) text_pattern_ops)
      where name_alphabetic is not null;

    create table lab_reports (
      id bigint generated always as identity primary key,
      organization_id bigint not null references organizations (id),
      patient_id bigint not null references patients (id),
      -- what makes a later message the same report: filler (else placer) order number + test
      -- code for HL7; the DiagnosticReport identifier for FHIR
      report_key text not null,
      placer_order_number text,
      filler_order_number text,
      local_code text,
      local_display text,
      loinc_code text,
      loinc_display text,
      status text not null check (status in ('registered', 'partial', 'preliminary', 'final', 'amended', 'corrected', 'appended', 'cancelled', 'entered-in-error')),
      -- specimen collection time (OBR-7): the date a result counts from
      effective_at timestamptz not null,
      issued_at timestamptz,
      specimen_type text,
      specimen_display text,
      source text not null check (source in ('hl7v2', 'fhir')),
      -- the accepted message that last wrote this report (its original is in the blob store)
      accepted_id bigint not null references accepted_objects (id),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      constraint lab_reports_key unique (organization_id, report_key)
    );
    -- a patient's reports by date (DiagnosticReport?patient=&date=, _sort=-date)
    create index lab_reports_patient_date_idx on lab_reports (patient_id, effective_at desc);
    -- a patient's reports by code (DiagnosticReport?code=, the prior-result check)
    create index lab_reports_patient_loinc_idx on lab_reports (patient_id, loinc_code, effective_at desc) where loinc_code is not null;
    create index lab_reports_patient_local_idx on lab_reports (patient_id, local_code, effective_at desc) where local_code is not null;
    -- reports by code across the region, over a period (statistics roll-ups)
    create index lab_reports_loinc_idx on lab_reports (loinc_code, effective_at) where loinc_code is not null;
    -- a hospital's reports by its order numbers (DiagnosticReport?identifier=)
    create index lab_reports_placer_idx on lab_reports (organization_id, placer_order_number) where placer_order_number is not null;
    create index lab_reports_filler_idx on lab_reports (organization_id, filler_order_number) where filler_order_number is not null;

    -- a sequence rather than an identity column: identity on partitioned tables needs PostgreSQL 17
    create sequence observations_id_seq as bigint;
    create table observations (
      id bigint not null default nextval('observations_id_seq'),
      patient_id bigint not null,
      report_id bigint not null references lab_reports (id),
      organization_id bigint not null,
      -- what a corrected result replaces: test code + OBX-4 sub-id
      obs_key text not null,
      local_code text,
      local_display text,
      loinc_code text,
      loinc_display text,
      -- HL7 value type (NM, SN, ST, TX, CWE …) or the FHIR value[x] it came as
      value_type text,
      value_num numeric,
      value_comparator text,
      value_text text,
      value_code text,
      value_code_display text,
      value_code_system text,
      unit text,
      unit_code text,
      unit_ucum boolean not null default false,
      ref_low numeric,
      ref_high numeric,
      ref_text text,
      abnormal_flags text[],
      status text not null check (status in ('registered', 'preliminary', 'final', 'amended', 'corrected', 'cancelled', 'entered-in-error', 'unknown')),
      effective_at timestamptz not null,
      issued_at timestamptz,
      accepted_id bigint not null,
      updated_at timestamptz not null default now(),
      -- Observation/{id}: one probe per partition
      primary key (id, patient_id),
      -- a report's observations (the report knows the patient) and what a correction finds
      constraint observations_report_key unique (patient_id, report_id, obs_key)
    ) partition by hash (patient_id);
    alter sequence observations_id_seq owned by observations.id;
    -- a patient's observations by code and date (Observation?patient=&code=&date=)
    create index observations_patient_loinc_idx on observations (patient_id, loinc_code, effective_at desc) where loinc_code is not null;
    -- … by local code, and by date alone (its patient_id prefix; a patient has hundreds, not millions)
    create index observations_patient_local_idx on observations (patient_id, local_code, effective_at desc);
  `);
  for (let i = 0; i < OBSERVATION_PARTITIONS; i++) {
    const name = `observations_p${String(i).padStart(2, '0')}`;
    await knex.raw(`create table ${name} partition of observations for values with (modulus ${OBSERVATION_PARTITIONS}, remainder ${i})`);
  }
  await knex.raw(`
    -- what a result was before a corrected (or newer) one replaced it
    create table observation_history (
      id bigint generated always as identity primary key,
      observation_id bigint not null,
      patient_id bigint not null,
      report_id bigint not null references lab_reports (id),
      prior jsonb not null,
      replaced_by_accepted_id bigint references accepted_objects (id),
      replaced_at timestamptz not null default now()
    );
    -- an observation's history (FHIR _history, audit of corrections)
    create index observation_history_observation_idx on observation_history (observation_id, replaced_at);
    create index observation_history_report_idx on observation_history (report_id);

    -- which reports an A40 merge moved from the retired record, so an unmerge moves exactly those back
    create table lab_report_moves (
      merge_id bigint not null references person_merges (id),
      report_id bigint not null references lab_reports (id),
      from_patient_id bigint not null references patients (id),
      primary key (merge_id, report_id)
    );
    -- the merge that last moved a report
    create index lab_report_moves_report_idx on lab_report_moves (report_id);
    -- undoing a merge: the merge row of a retired record (person_merges_retired_idx exists), and
    -- the surviving side of it
    create index person_merges_surviving_idx on person_merges (surviving_patient_id) where surviving_patient_id is not null;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop index person_merges_surviving_idx;
    drop table lab_report_moves, observation_history, observations, lab_reports, hl7_senders;
    drop index patients_name_alphabetic_idx;
    alter table patients drop column merged_into_patient_id;
  `);
}
