import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { GIVEN, MODALITIES, SURNAMES } from './qido-corpus';

/**
 * Index rows for QIDO at scale, written straight into the hub's imaging tables (migration
 * 0004_imaging_index) with INSERT … SELECT generate_series: what the index workers would have
 * written for `instances` instances, without pushing them. Ten instances per study in two
 * series, two studies per patient record, study dates over two years, the same names,
 * modalities and identifier shapes as the QIDO corpus (lib/qido-corpus.ts), so the same
 * kinds of searches apply. All under one organization created for it (BENCH-QIDO).
 *
 * Identifiers are numbered from `offset`, so the rows never collide with pushed ones.
 */
export interface GeneratedIndex {
  studies: number;
  patients: number;
  /** Patient IDs (DICOM 0010,0020) are `${prefix}${n}` for n in 1..patients. */
  patientIdPrefix: string;
}

const TABLES = ['persons', 'patients', 'accepted_objects', 'studies', 'study_modalities', 'series', 'instances'];

export async function generateImagingIndex(databaseUrl: string, instances: number, say: (line: string) => void): Promise<GeneratedIndex> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const missing = (await db.query(`select t from unnest($1::text[]) t where to_regclass(t) is null`, [TABLES])).rows.map((r) => r.t as string);
    if (missing.length > 0) throw new Error(`the hub database has no ${missing.join(', ')} (migration 0004_imaging_index)`);
    const studies = Math.max(1, Math.floor(instances / 10));
    const patients = Math.max(1, Math.floor(studies / 2));
    const prefix = 'QM';
    // a root of our own under 2.25 (a random number), so a second generation never collides
    const root = `2.25.${BigInt(`0x${randomBytes(12).toString('hex')}`)}`;
    const q = async (label: string, sql: string, params: unknown[] = []) => {
      const started = performance.now();
      const result = await db.query(sql, params);
      say(`    ${label}: ${result.rowCount ?? 0} rows in ${Math.round((performance.now() - started) / 1000)} s`);
    };
    await db.query('begin');
    const org = (await db.query(`insert into organizations (code, name, kind) values ('BENCH-QIDO', 'Bench imaging centre', 'imaging_centre') on conflict (code) do update set name = excluded.name returning id`)).rows[0].id as number;
    // Temporary maps from the generated numbers to the rows' ids.
    await q(
      'persons',
      `create temporary table bench_people on commit drop as
       with p as (insert into persons (created_at) select now() from generate_series(1, $1) returning id)
       select id as person_id, (row_number() over (order by id))::int as n from p`,
      [patients],
    );
    await q(
      'patients',
      `create temporary table bench_patients on commit drop as
       with named as (
         select n, person_id, ($2::text[])[1 + ((n::bigint * 7919) % array_length($2::text[], 1))::int] || '^' || ($3::text[])[1 + ((n::bigint * 104729) % array_length($3::text[], 1))::int] as name
         from bench_people
       ), p as (
         insert into patients (organization_id, local_id, person_id, name_alphabetic, name_key, birth_date, sex)
         select $1, '${prefix}' || n, person_id, name, lower(replace(name, '^', '')), date '1940-01-01' + (n * 37) % 29000, case when n % 2 = 0 then 'F' else 'M' end
         from named
         returning id, local_id
       )
       select id as patient_id, substr(local_id, 3)::int as n from p`,
      [org, SURNAMES, GIVEN],
    );
    await q(
      'studies',
      `create temporary table bench_studies on commit drop as
       with s as (
         insert into studies (study_uid, organization_id, patient_id, study_date, study_time, accession_number, description, modalities, body_parts, series_count, instance_count)
         select $5 || '.' || g, $1, bp.patient_id, date '2023-01-01' + (g * 7) % 730, '093000', 'QM' || g,
                m.modality || ' exam', array[m.modality], array['CHEST'], 2, 10
         from generate_series(1, $2) g
         join bench_patients bp on bp.n = 1 + (g - 1) % $3
         cross join lateral (select ($4::text[])[1 + (g * 31) % array_length($4::text[], 1)] as modality) m
         returning id, study_date, modalities[1] as modality, study_uid
       )
       select id as study_id, study_date, modality, study_uid from s`,
      [org, studies, patients, MODALITIES, root],
    );
    await q('study_modalities', `insert into study_modalities (study_id, modality, study_date) select study_id, modality, study_date from bench_studies`);
    await q(
      'series',
      `create temporary table bench_series on commit drop as
       with s as (
         insert into series (series_uid, study_id, modality, series_number, description, body_part, instance_count, metadata_base)
         select bs.study_uid || '.' || k, bs.study_id, bs.modality, k, bs.modality || ' series', 'CHEST', 5, '{}'::jsonb
         from bench_studies bs cross join generate_series(1, 2) k
         returning id, series_uid
       )
       select id as series_id, series_uid from s`,
    );
    await q(
      'accepted_objects',
      `create temporary table bench_objects on commit drop as
       with a as (
         insert into accepted_objects (kind, organization_id, identity, sha256, size, blob_key, source, summary, state, indexed_at)
         select 'dicom', $1, bs.series_uid || '.' || k, md5(bs.series_uid || k) || md5(k || bs.series_uid), 525432, 'dicom/bench/' || bs.series_uid || '.' || k, 'stow-rs', '{}'::jsonb, 'indexed', now()
         from bench_series bs cross join generate_series(1, 5) k
         returning id, identity, sha256, blob_key
       )
       select * from a`,
      [org],
    );
    await q(
      'instances',
      `insert into instances (sop_instance_uid, series_id, sop_class_uid, instance_number, transfer_syntax_uid, rows, columns, samples_per_pixel, bits_allocated,
                              accepted_object_id, blob_key, size, sha256, received_at)
       select o.identity, bs.series_id, '1.2.840.10008.5.1.4.1.1.2', k, '1.2.840.10008.1.2.1', 512, 512, 1, 16, o.id, o.blob_key, 525432, o.sha256, now()
       from bench_series bs cross join generate_series(1, 5) k
       join bench_objects o on o.identity = bs.series_uid || '.' || k`,
    );
    await db.query('commit');
    await q('analyze', 'analyze persons, patients, studies, study_modalities, series, instances, accepted_objects');
    return { studies, patients, patientIdPrefix: prefix };
  } catch (err) {
    await db.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    await db.end();
  }
}
