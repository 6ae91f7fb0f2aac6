import pg from 'pg';

/**
 * A synthetic region the size of the reference city (30 hospitals and 7 imaging centres,
 * 1.44 million imaging exams and 6.78 million lab results; DESIGN.md), written straight into
 * the tables the prior-result check and the statistics read — organizations and their
 * placement, qualifications, persons, patient records, consents, recognition_results and a
 * year of daily and monthly roll-ups — as the index and the recognition stage would have left them. Sized
 * by `scale` (1 = the city), so a small run is quick.
 *
 * Rows are made by PostgreSQL itself (INSERT … SELECT over generate_series with a seeded
 * random()), not sent over the wire: for synthetic rows that is the direct path, faster than
 * COPY from a client because nothing is serialized twice. Foreign keys are not checked row by
 * row while loading (session_replication_role = replica, where the role may set it): the
 * generator makes every reference itself.
 *
 * The shape of the data: a person has records at one to three organizations (70 % one), one
 * result in two is a routine item (blood count, electrolytes, glucose, liver and kidney
 * function), and results concentrate on the chronically ill (a tenth of the records hold
 * a fifth of the results), so a check often finds priors of the item, as it does in a real city. Results
 * span the 365 days before today; 60 % of persons consented region-wide.
 */
export interface RegionSize {
  scale: number;
  hospitals: number;
  imagingCentres: number;
  persons: number;
  labResults: number;
  imagingExams: number;
}

export function regionSize(scale: number): RegionSize {
  return {
    scale,
    hospitals: 30,
    imagingCentres: 7,
    persons: Math.max(100, Math.round(2_000_000 * scale)),
    labResults: Math.max(100, Math.round(6_780_000 * scale)),
    imagingExams: Math.max(20, Math.round(1_440_000 * scale)),
  };
}

export interface GeneratedRegion {
  regionId: number;
  /** hospitals first, then imaging centres */
  organizations: string[];
  authority: string;
  patients: number;
  results: number;
  firstDay: string;
  lastDay: string;
}

/** Routine items first: picked with a bias towards the head of each list. */
const LAB_ITEMS = ['LAB-CBC', 'LAB-K', 'LAB-NA', 'LAB-GLU', 'LAB-ALT', 'LAB-CREA', 'LAB-UREA', 'LAB-AST', 'LAB-TBIL', 'LAB-ALB', 'LAB-CL', 'LAB-TC', 'LAB-TG', 'LAB-URINE', 'LAB-PT', 'LAB-APTT', 'LAB-HBA1C', 'LAB-TSH', 'LAB-HBSAG', 'LAB-AFP', 'LAB-CEA', 'LAB-LDL', 'LAB-HDL', 'LAB-UA', 'LAB-CA', 'LAB-FT3', 'LAB-FT4', 'LAB-HIV'];
const IMAGING_ITEMS = ['DR-CHEST', 'CT-HEAD', 'CT-CHEST', 'US-ABDOMEN', 'MR-HEAD', 'CT-ABDOMEN', 'DR-LSPINE', 'MR-LSPINE', 'US-THYROID', 'MG-BREAST', 'DR-KNEE', 'MR-KNEE', 'US-HEART', 'CT-LSPINE'];
const LAB_CATEGORIES = ['haematology', 'clinical-chemistry', 'coagulation', 'endocrinology', 'tumour-markers', 'infectious-serology', 'urinalysis'];
const IMAGING_CATEGORIES = ['CT', 'MR', 'DR', 'MG', 'US'];
const REASONS = ['condition-changed', 'value-changes-fast', 'before-surgery-or-transfusion', 'emergency', 'patient-request', 'physician-judgement', 'result-too-old'];

export const BENCH_ORG_PREFIX = 'RR';

export async function generateRecognitionRegion(databaseUrl: string, size: RegionSize, say: (line: string) => void): Promise<GeneratedRegion> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const q = async (label: string, sql: string, params: unknown[] = []) => {
    const started = performance.now();
    const result = await db.query(sql, params);
    say(`    ${label}: ${result.rowCount ?? 0} rows in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return result;
  };
  try {
    const region = (await db.query(`select id from regions where is_default`)).rows[0]?.id as number | undefined;
    if (!region) throw new Error('the hub has no default region: start it with its demo region (HUB_DEMO=true)');
    if ((await db.query(`select 1 from organizations where code = $1`, [`${BENCH_ORG_PREFIX}-H01`])).rowCount) throw new Error('the region is already generated in this database');
    await db.query(`set session_replication_role = replica`).catch(() => say('    (foreign keys checked while loading: the role may not turn them off)'));
    await db.query(`select setseed(0.42)`);
    const lastDay = (await db.query(`select ((now() at time zone 'Asia/Shanghai')::date - 1)::text as d`)).rows[0].d as string;
    const firstDay = (await db.query(`select ($1::date - 364)::text as d`, [lastDay])).rows[0].d as string;

    const hospitals = Array.from({ length: size.hospitals }, (_, i) => `${BENCH_ORG_PREFIX}-H${String(i + 1).padStart(2, '0')}`);
    const centres = Array.from({ length: size.imagingCentres }, (_, i) => `${BENCH_ORG_PREFIX}-IC${i + 1}`);
    const authority = `${BENCH_ORG_PREFIX}-AUTH`;
    await db.query('begin');
    await q(
      'organizations',
      `insert into organizations (code, name, kind, grade, stopped_printing_film_on)
       select code, '合成市' || code, kind, case when kind = 'hospital' then (array['3A', '3A', '3B', '2A', '2B'])[1 + (n % 5)] end,
              case when n % 3 = 0 then $4::date - 200 end
       from (select code, 'hospital' as kind, row_number() over () as n from unnest($1::text[]) code
             union all select code, 'imaging_centre', 100 + row_number() over () from unnest($2::text[]) code
             union all select $3, 'authority', 1000) o`,
      [hospitals, centres, authority, lastDay],
    );
    await db.query(`insert into organization_regions (organization_id, region_id, city_code) select id, $1, '990100' from organizations where code like '${BENCH_ORG_PREFIX}-%'`, [region]);
    await db.query(`create temporary table rr_orgs as select id, code, kind, row_number() over (order by kind, code) - 1 as i from organizations where code like '${BENCH_ORG_PREFIX}-%' and kind <> 'authority'`);
    await q(
      'qualifications',
      `insert into qualifications (organization_id, region_id, category, basis, scope, scope_region_id, valid_from, valid_until)
       select o.id, $1, c, 'eqa-passed', 'region', $1, $2::date - 365, case when random() < 0.05 then $2::date + (random() * 300)::int end
       from rr_orgs o cross join unnest($3::text[] || $4::text[]) c
       where (o.kind = 'hospital' or c = any($4::text[])) and random() < 0.9`,
      [region, firstDay, LAB_CATEGORIES, IMAGING_CATEGORIES],
    );
    await db.query(`create temporary table rr_items as select i.id, i.code, i.kind, l.n from catalog_items i join unnest($1::text[]) with ordinality l(code, n) on l.code = i.code where i.region_id = $2`, [[...LAB_ITEMS, ...IMAGING_ITEMS], region]);

    await q(
      'persons',
      `create temporary table rr_people as
       with p as (insert into persons (created_at) select now() from generate_series(1, $1) returning id)
       select id as person_id, row_number() over (order by id) as n from p`,
      [size.persons],
    );
    // one to three records a person: the first at a home hospital (large ones take more), others anywhere
    await q(
      'patients',
      `create temporary table rr_records as
       with plan as (
         select p.person_id, p.n, k, case when k = 1 then floor(random() ^ 1.6 * $1)::int else floor(random() * ($1 + $2))::int end as org_index
         from rr_people p
         -- (p.n makes the draw one per person: an uncorrelated subquery would be drawn once)
         cross join lateral (select case when random() < 0.7 then 1 when random() < 0.73 then 2 else 3 end + 0 * p.n as records) r
         cross join lateral generate_series(1, r.records) k
       ), ins as (
         insert into patients (organization_id, local_id, person_id, birth_date, sex)
         select o.id, 'R' || plan.n || '-' || plan.k, plan.person_id, date '1940-01-01' + ((plan.n * 37) % 29000)::int, case when plan.n % 2 = 0 then 'F' else 'M' end
         from plan join rr_orgs o on o.i = plan.org_index
         returning id, organization_id, person_id, local_id
       )
       select ins.*, o.kind, row_number() over (order by ins.id) as r from ins join rr_orgs o on o.id = ins.organization_id`,
      [size.hospitals, size.imagingCentres],
    );
    await db.query(`create temporary table rr_lab_records as select id, organization_id, row_number() over (order by id) as r from rr_records where kind = 'hospital'`);
    await db.query(`create index on rr_records (r)`);
    await db.query(`create index on rr_lab_records (r)`);
    await db.query('analyze rr_records, rr_lab_records, rr_items');
    const [labRecords, records] = [(await db.query('select count(*)::int as n from rr_lab_records')).rows[0].n, (await db.query('select count(*)::int as n from rr_records')).rows[0].n];

    await q(
      'consents',
      `insert into consents (person_id, recorded_by_organization_id, scope, region_id, purpose, method, valid_from)
       select distinct on (person_id) person_id, organization_id, 'region', $1, 'treatment', 'written', $2::date - 30
       from rr_records where random() < 0.6 order by person_id, id`,
      [region, firstDay],
    );

    // results: the record by a uniform draw to the power 1.5 (the busiest tenth of the records hold a fifth of
    // the results), the item by a squared one (routine items first)
    const results = async (kind: 'lab' | 'imaging', count: number) => {
      const source = kind === 'lab' ? 'rr_lab_records' : 'rr_records';
      const items = kind === 'lab' ? LAB_ITEMS.length : IMAGING_ITEMS.length;
      const summary =
        kind === 'lab'
          ? `jsonb_build_object('report', jsonb_build_object('code', i.code, 'display', i.code), 'values', jsonb_build_array(jsonb_build_object('id', x.g, 'code', i.code, 'system', 'local', 'display', i.code, 'value', round((random() * 10)::numeric, 1)::text, 'unit', 'mmol/L', 'range', '3.5-5.3', 'flags', '[]'::jsonb, 'status', 'final')))`
          : `jsonb_build_object('studyUid', '2.25.4242' || x.g, 'accession', 'A' || x.g, 'description', i.code || ' 平扫', 'modalities', jsonb_build_array(split_part(i.code, '-', 1)), 'bodyParts', jsonb_build_array(split_part(i.code, '-', 2)))`;
      await q(
        `${kind} results`,
        `insert into recognition_results (kind, result_id, item_id, patient_id, organization_id, reference_at, reference_day, status, summary, available_at)
         select '${kind}', x.g, i.id, rec.id, rec.organization_id, x.ts, (x.ts at time zone 'Asia/Shanghai')::date,
                case when '${kind}' = 'lab' and random() < 0.01 then 'preliminary' else 'final' end, ${summary}, x.ts + interval '3 hours'
         from (
           select g, 1 + floor(random() ^ 1.5 * $1)::bigint as r, 1 + floor(random() ^ 2 * $2)::int as n,
                  $3::date::timestamp at time zone 'Asia/Shanghai' + random() * interval '365 days' as ts
           from generate_series(1, $4) g
         ) x
         join ${source} rec on rec.r = x.r
         join rr_items i on i.n = x.n + ${kind === 'lab' ? 0 : LAB_ITEMS.length}`,
        [kind === 'lab' ? labRecords : records, items, firstDay, count],
      );
    };
    await results('lab', size.labResults);
    await results('imaging', size.imagingExams);

    // a year of daily roll-ups, as the stage and the order-time traffic would have left them
    await q(
      'daily roll-ups',
      `insert into recognition_daily (day, organization_id, item_id, uploads, films_avoided, lookups, checks, checks_recognizable, checks_decided, recognized, declined, missed, saved_cny, missed_cny)
       select d.day, d.organization_id, d.item_id, d.n,
              case when o.stopped_printing_film_on <= d.day then d.n * coalesce(v.films_per_exam, 0) else 0 end,
              round(d.n * 0.4), round(d.n * 0.3), round(d.n * 0.12), round(d.n * 0.09), round(d.n * 0.06), round(d.n * 0.03), round(d.n * 0.02),
              round(d.n * 0.06) * v.price_cny, round(d.n * 0.02) * v.price_cny
       from (select reference_day as day, organization_id, item_id, count(*) as n from recognition_results where organization_id in (select id from rr_orgs) group by 1, 2, 3) d
       join organizations o on o.id = d.organization_id
       cross join lateral (select films_per_exam, price_cny from catalog_item_versions v where v.item_id = d.item_id and v.effective_from <= d.day order by v.effective_from desc limit 1) v`,
    );
    await q(
      'daily reasons',
      `insert into recognition_daily_reasons (day, organization_id, item_id, reason, declined)
       select day, organization_id, item_id, ($1::text[])[1 + (abs(hashtext(day::text || item_id)) % array_length($1::text[], 1))], declined
       from recognition_daily where declined > 0 and organization_id in (select id from rr_orgs)`,
      [REASONS],
    );
    await q(
      'monthly roll-ups',
      `insert into recognition_monthly (month, organization_id, item_id, uploads, films_avoided, lookups, checks, checks_recognizable, checks_decided, recognized, declined, missed, saved_cny, missed_cny)
       select date_trunc('month', day)::date, organization_id, item_id, sum(uploads), sum(films_avoided), sum(lookups), sum(checks), sum(checks_recognizable), sum(checks_decided),
              sum(recognized), sum(declined), sum(missed), sum(saved_cny), sum(missed_cny)
       from recognition_daily where organization_id in (select id from rr_orgs) group by 1, 2, 3`,
    );
    await q(
      'monthly reasons',
      `insert into recognition_monthly_reasons (month, organization_id, item_id, reason, declined)
       select date_trunc('month', day)::date, organization_id, item_id, reason, sum(declined)
       from recognition_daily_reasons where organization_id in (select id from rr_orgs) group by 1, 2, 3, 4`,
    );
    await db.query('commit');
    await db.query(`set session_replication_role = origin`).catch(() => undefined);
    // vacuumed now rather than by autovacuum in the middle of a measurement (and index-only scans see all-visible pages)
    await q('vacuum', 'vacuum (analyze) persons, patients, consents, qualifications, organizations, recognition_results, recognition_daily, recognition_daily_reasons, recognition_monthly, recognition_monthly_reasons');
    return { regionId: region, organizations: [...hospitals, ...centres], authority, patients: records, results: size.labResults + size.imagingExams, firstDay, lastDay };
  } catch (err) {
    await db.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    await db.end();
  }
}
