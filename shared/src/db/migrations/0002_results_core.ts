import type { Knex } from 'knex';

/**
 * What every kind of result shares: the regional person (EMPI), each hospital's own record
 * of a patient, and the inbox of accepted objects that the index workers drain.
 *
 * Sizes to expect (DESIGN.md): a province has tens of millions of patients and hundreds of
 * millions of accepted objects. Every request-path query below names the index that serves it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table persons (
      id bigint generated always as identity primary key,
      -- HMAC-SHA256 (key from configuration) of the resident ID number; never the number itself
      national_id_hash text,
      national_id_masked text,
      -- a merged person points at the survivor; reads follow the pointer
      merged_into_id bigint references persons (id),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    -- linking by national ID: one live person per ID
    create unique index persons_national_id_key on persons (national_id_hash) where national_id_hash is not null and merged_into_id is null;
    create index persons_merged_into_idx on persons (merged_into_id) where merged_into_id is not null;

    create table patients (
      id bigint generated always as identity primary key,
      organization_id bigint not null references organizations (id),
      -- the hospital's own identifier: MRN, DICOM Patient ID
      local_id text not null,
      person_id bigint not null references persons (id),
      name_alphabetic text,
      name_ideographic text,
      name_phonetic text,
      -- lower-cased, delimiter-free form of every name group, for search and candidate matching
      name_key text,
      birth_date date,
      sex text check (sex in ('M', 'F', 'O', 'U')),
      national_id_hash text,
      national_id_masked text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      -- a hospital's patient by its own id: every accept and every local look-up
      constraint patients_local_key unique (organization_id, local_id)
    );
    -- all records of one person across the region
    create index patients_person_idx on patients (person_id);
    -- a look-up by national ID (FHIR Patient?identifier=, the prior-result check)
    create index patients_national_id_idx on patients (national_id_hash) where national_id_hash is not null;
    -- candidate links on name + birth date + sex, and Patient?name=&birthdate=
    create index patients_demographics_idx on patients (birth_date, name_key);
    -- Patient?name= (prefix match)
    create index patients_name_idx on patients (name_key text_pattern_ops);

    -- same name + birth date + sex without an ID: a person must confirm
    create table person_link_candidates (
      id bigint generated always as identity primary key,
      patient_id bigint not null references patients (id),
      candidate_patient_id bigint not null references patients (id),
      reason text not null,
      state text not null default 'open' check (state in ('open', 'confirmed', 'rejected')),
      decided_by text,
      decided_at timestamptz,
      created_at timestamptz not null default now(),
      constraint person_link_candidates_pair_key unique (patient_id, candidate_patient_id)
    );
    create index person_link_candidates_open_idx on person_link_candidates (created_at) where state = 'open';

    -- merges (HL7 A40, a confirmed candidate) and their undoing, as history
    create table person_merges (
      id bigint generated always as identity primary key,
      kind text not null check (kind in ('merge', 'unmerge', 'link', 'unlink')),
      organization_id bigint references organizations (id),
      surviving_patient_id bigint references patients (id),
      retired_patient_id bigint references patients (id),
      surviving_person_id bigint references persons (id),
      retired_person_id bigint references persons (id),
      reason text,
      source text,
      created_at timestamptz not null default now()
    );
    create index person_merges_retired_idx on person_merges (retired_patient_id);

    -- Everything a door accepted, before the index workers turn it into index rows. The row and
    -- the object in the blob store are written before the sender is acknowledged.
    create table accepted_objects (
      id bigint generated always as identity primary key,
      kind text not null check (kind in ('dicom', 'hl7v2', 'fhir')),
      organization_id bigint not null references organizations (id),
      -- what makes a push the same push again: the SOP Instance UID; org + MSH-10; org + Bundle id
      identity text not null,
      sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
      size bigint not null,
      blob_key text not null,
      -- which door: 'stow-rs', 'c-store', 'mllp', 'http-hl7', 'fhir'
      source text not null,
      -- what the door parsed, for the workers (never a clear national ID)
      summary jsonb not null,
      state text not null default 'accepted' check (state in ('accepted', 'indexed', 'failed')),
      attempts integer not null default 0,
      -- after a passing failure, not claimed again before this time
      retry_at timestamptz,
      error text,
      received_at timestamptz not null default now(),
      indexed_at timestamptz
    );
    -- idempotency: the same identity with the same bytes is the same push
    create unique index accepted_objects_identity_key on accepted_objects (kind, identity, sha256);
    -- the workers' queue: only rows still to index are in this index
    create index accepted_objects_pending_idx on accepted_objects (id) where state = 'accepted';
    -- failures stay visible for operators
    create index accepted_objects_failed_idx on accepted_objects (received_at) where state = 'failed';
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table accepted_objects, person_merges, person_link_candidates, patients, persons;');
}
