import type { Knex } from 'knex';

/**
 * The imaging index: study → series → instance, each instance's replaced versions, and the
 * DICOM JSON metadata WADO-RS serves. Sizes to design for: 50 M studies, ~200 M series,
 * 500 M instances.
 *
 * Counts (studies.series_count/instance_count, series.instance_count) are roll-ups the index
 * worker recomputes under the study's row lock, so concurrent workers never leave them
 * stale. A study's patient is the hospital's record (patients.id), not the regional person:
 * an EMPI link or merge re-points the record and no imaging row has to change; reads reach
 * the person through patients_person_idx.
 *
 * Metadata and its size. The DICOM JSON of one header is 5–20 KB (CT/MR with private tags);
 * naively as one jsonb per instance that is 2–4 TB for 500 M instances even after TOAST
 * compression. But the instances of a series share nearly all of it (patient, study, series,
 * equipment, acquisition modules); what differs per slice is a dozen attributes (UIDs,
 * numbers, position, slice location, window). So each series keeps one base document
 * (series.metadata_base, the first indexed instance's, never changed afterwards) and each
 * instance only its difference from it (instance_metadata.attributes: attributes that differ
 * or are new, and removed ones as JSON null); an instance's metadata is
 * `jsonb_strip_nulls(base || attributes)`. A 300-slice CT series then stores ~15 KB + 300 ×
 * ~0.6 KB instead of 300 × 15 KB. It stays in PostgreSQL rather than as a blob per series
 * because instances of one series are indexed concurrently by several workers: a per-series
 * object would need a read-modify-write per instance (lost updates, or a lock per series held
 * across a slow object-store round trip), while rows insert independently. The base is
 * written once with the series row (insert … on conflict do nothing), so it is never
 * contended. DICOM JSON objects never hold a JSON null as an attribute, so null can mark
 * "removed". Pixel data and bulk values are not in it: the BulkDataURI is made at read time
 * from the instance's pixel data offset or from a `bulk:<offset>:<length>` marker.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table studies (
      id bigint generated always as identity primary key,
      study_uid text not null,
      organization_id bigint not null references organizations (id),
      patient_id bigint not null references patients (id),
      study_date date,
      -- TM as sent (hhmmss.frac), local time of the sending hospital
      study_time text,
      accession_number text,
      -- Study ID (0020,0010)
      study_id text,
      description text,
      modalities text[] not null default '{}',
      body_parts text[] not null default '{}',
      -- PN as sent, groups joined with '=' (Alphabetic=Ideographic=Phonetic)
      referring_physician text,
      series_count integer not null default 0,
      instance_count integer not null default 0,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      -- QIDO StudyInstanceUID (list), WADO-RS study paths, the index worker's upsert
      constraint studies_uid_key unique (study_uid)
    );
    -- a patient's studies newest first: QIDO PatientID / PatientName (after patients), FHIR
    -- ImagingStudy?patient= and subject:identifier, the prior-result check
    create index studies_patient_date_idx on studies (patient_id, study_date desc nulls last, id desc);
    -- QIDO StudyDate ranges and the unfiltered newest-first list (limit/offset), FHIR started=
    create index studies_date_idx on studies (study_date desc nulls last, id desc);
    -- QIDO AccessionNumber (exact, or a trailing wildcard), FHIR ImagingStudy?identifier=<accession>
    create index studies_accession_idx on studies (accession_number text_pattern_ops) where accession_number is not null;

    -- One row per modality of a study, with the study's date: "CT studies in January, newest
    -- first" is one ordered range scan that stops at the limit. A GIN index on
    -- studies.modalities would have to build the bitmap of every CT study (a third of all)
    -- and intersect it with the date range before it could return the first row.
    create table study_modalities (
      study_id bigint not null references studies (id) on delete cascade,
      modality text not null,
      study_date date,
      -- the worker's sync of one study's modalities
      primary key (study_id, modality)
    );
    -- QIDO ModalitiesInStudy (+ StudyDate), FHIR ImagingStudy?modality= (+ started=)
    create index study_modalities_date_idx on study_modalities (modality, study_date desc nulls last, study_id desc);

    create table series (
      id bigint generated always as identity primary key,
      series_uid text not null,
      study_id bigint not null references studies (id),
      modality text,
      series_number integer,
      description text,
      body_part text,
      instance_count integer not null default 0,
      -- the DICOM JSON its instances' metadata is a difference from (see above); TOASTed
      metadata_base jsonb not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      -- QIDO SeriesInstanceUID, WADO-RS series paths, the worker's upsert
      constraint series_uid_key unique (series_uid)
    );
    -- a study's series in order: QIDO /studies/{uid}/series, WADO study retrieval and
    -- metadata, the study roll-up
    create index series_study_idx on series (study_id, series_number, id);
    -- QIDO /series?Modality= across studies, newest first
    create index series_modality_idx on series (modality, id desc);

    create table instances (
      id bigint generated always as identity primary key,
      sop_instance_uid text not null,
      series_id bigint not null references series (id),
      sop_class_uid text not null,
      instance_number integer,
      transfer_syntax_uid text not null,
      rows integer,
      columns integer,
      samples_per_pixel integer,
      bits_allocated integer,
      number_of_frames integer,
      -- where the pixel data value starts in the stored object and its length (null when
      -- encapsulated), for WADO-RS frames without reading the object's header again
      pixel_data_offset bigint,
      pixel_data_length bigint,
      pixel_data_encapsulated boolean,
      -- the current version: the accepted object it was indexed from, and that object
      accepted_object_id bigint not null references accepted_objects (id),
      blob_key text not null,
      size bigint not null,
      sha256 text not null,
      -- 1 + the versions in instance_versions
      version integer not null default 1,
      received_at timestamptz not null,
      updated_at timestamptz not null default now(),
      -- QIDO SOPInstanceUID, WADO-RS instance paths, the worker's upsert
      constraint instances_sop_uid_key unique (sop_instance_uid)
    );
    -- a series' instances in order: QIDO instance searches, WADO series/study retrieval and
    -- metadata, the series count (index-only)
    create index instances_series_idx on instances (series_id, instance_number, id);

    -- Versions an instance had before its current one (the same SOP Instance UID pushed again
    -- with other bytes). Their objects stay in the blob store.
    create table instance_versions (
      id bigint generated always as identity primary key,
      instance_id bigint not null references instances (id),
      accepted_object_id bigint not null references accepted_objects (id),
      blob_key text not null,
      size bigint not null,
      sha256 text not null,
      received_at timestamptz not null,
      replaced_at timestamptz not null default now(),
      replaced_by_accepted_object_id bigint not null references accepted_objects (id),
      -- one history row per accepted version, also when indexing is retried
      constraint instance_versions_accepted_key unique (accepted_object_id)
    );
    -- an instance's history in the order the versions were accepted (operators, audit of a correction)
    create index instance_versions_instance_idx on instance_versions (instance_id, accepted_object_id);

    create table instance_metadata (
      instance_id bigint primary key references instances (id) on delete cascade,
      -- the difference from series.metadata_base: changed or added attributes, removed ones as null
      attributes jsonb not null
    );

    -- QIDO PatientID across the region (exact, or a trailing wildcard); patients_local_key
    -- needs the organization first. PatientName goes through patients_name_idx (name_key) and
    -- patients_name_alphabetic_idx (0005_lab).
    create index if not exists patients_local_id_idx on patients (local_id text_pattern_ops);
  `);
  // lz4 decompresses several times faster than pglz, which matters when a viewer asks for a
  // 1,000-instance series' metadata; servers built without lz4 keep the default.
  await knex.raw(`
    do $$ begin
      alter table series alter column metadata_base set compression lz4;
      alter table instance_metadata alter column attributes set compression lz4;
    exception when others then null;
    end $$;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop index if exists patients_local_id_idx;
    drop table instance_metadata, instance_versions, instances, series, study_modalities, studies;
  `);
}
