import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PANELS, RESULTS_PER_REPORT } from './lab-panels';
import { GIVEN, SURNAMES } from './qido-corpus';

/**
 * Lab results at scale, written straight into the hub's lab tables (migrations 0002, 0005,
 * 0006, 0009) with INSERT … SELECT generate_series: what the index workers would have written for
 * `observations` results, without sending the messages.
 *
 * Shape: reports of ten results (lib/lab-panels.ts) over the last two years, inserted in
 * collection-time order as they would arrive (so a patient's rows lie scattered over the
 * heap, as in a real table); one accepted HL7 v2 message per report. Records: 3 per 10
 * reports (300,000 for 10 M results), at the two demo hospitals (DEMO-H1 two thirds,
 * DEMO-H2 one third); a fifth of them are one person with a record at each hospital
 * (linked by national ID). A fifth of the reports go to 2 % of the records — chronic
 * patients, with ten times the average — and the rest spread evenly. Every person has a
 * national ID (keyed hash and masked form) and a region-wide consent for treatment, so
 * DEMO-H1 reads DEMO-H2's results through the consent check. Statuses: 1 % preliminary,
 * 1 % corrected (one result each, its earlier value in observation_history), the rest final.
 * The reports are taken out of the recognition stage's queue again (see writeBatch).
 */
export interface GeneratedLab {
  reports: number;
  observations: number;
  records: number;
  persons: number;
  /** lab_reports ids of the generated reports are within this range. */
  firstReportId: number;
  lastReportId: number;
  seconds: number;
}

const TABLES = ['persons', 'patients', 'consents', 'accepted_objects', 'lab_reports', 'observations', 'observation_history', 'recognition_queue'];
/** Reports written per transaction: bounds the server's temporary tables and WAL between commits. */
const BATCH_REPORTS = 50_000;
const DAYS = 730;

export type Say = (line: string) => void;

/**
 * A client of the hub's database. A server that goes away (stopped, killed) fails the query in
 * hand; without a listener, the client's own 'error' event would end the run before the
 * servers are stopped and the scratch folder removed.
 */
export async function connectHubDatabase(databaseUrl: string): Promise<pg.Client> {
  const db = new pg.Client({ connectionString: databaseUrl });
  db.on('error', () => undefined);
  await db.connect();
  return db;
}

async function timed(db: pg.Client, say: Say, label: string, sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const started = performance.now();
  const result = await db.query(sql, params);
  say(`    ${label}: ${result.rowCount ? `${result.rowCount} rows in ` : ''}${Math.round((performance.now() - started) / 1000)} s`);
  return result;
}

/** The first instant of today in China, minus two years: reports are collected from then until today. */
function firstDay(now = new Date()): Date {
  const today = new Date(now.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
  return new Date(new Date(`${today}T00:00:00+08:00`).getTime() - DAYS * 86_400_000);
}

export async function generateLab(databaseUrl: string, observations: number, say: Say): Promise<GeneratedLab> {
  const started = performance.now();
  const db = await connectHubDatabase(databaseUrl);
  try {
    const missing = (await db.query(`select t from unnest($1::text[]) t where to_regclass(t) is null`, [TABLES])).rows.map((r) => r.t as string);
    if (missing.length > 0) throw new Error(`the hub database has no ${missing.join(', ')} (migrations 0005_lab, 0006_recognition_catalog, 0009_recognition_results)`);
    const orgs = new Map<string, number>((await db.query(`select code, id from organizations where code in ('DEMO-H1', 'DEMO-H2')`)).rows.map((r) => [r.code as string, Number(r.id)]));
    const [h1, h2] = [orgs.get('DEMO-H1'), orgs.get('DEMO-H2')];
    if (h1 === undefined || h2 === undefined) throw new Error('the hub has no demo hospitals DEMO-H1 and DEMO-H2 (HUB_DEMO=true)');

    const reports = Math.max(1, Math.floor(observations / RESULTS_PER_REPORT));
    const records = Math.max(2, Math.floor(reports * 0.3));
    const shared = Math.floor(records / 10); // persons with a record at each hospital
    const persons = records - shared;
    const chronic = Math.max(1, Math.floor(records / 50));
    // one run's keys: order numbers, MRNs and message ids never meet another run's
    const tag = `b${randomBytes(3).toString('hex')}`;

    // The panels and their results, as small tables the inserts join.
    let cumulative = 0;
    const panels = PANELS.map((p, i) => ({ panel: i + 1, upto: (cumulative += p.share), local: p.local, display: p.display, loinc: p.loinc ?? null, loinc_display: p.loincDisplay ?? null, specimen_type: p.specimen.type, specimen_display: p.specimen.display }));
    const analytes = PANELS.flatMap((p, i) =>
      p.analytes.map((a, k) => ({ panel: i + 1, k: k + 1, local: a.local, loinc: a.loinc, display: a.display, type: a.type, unit: a.unit ?? null, ucum: a.ucum ?? null, low: a.low ?? null, high: a.high ?? null, decimals: a.decimals ?? 0, detection: a.detectionLimit ?? null })),
    );
    await db.query(`create temporary table bench_panels as select * from jsonb_to_recordset($1::jsonb) as p(panel int, upto int, local text, display text, loinc text, loinc_display text, specimen_type text, specimen_display text)`, [JSON.stringify(panels)]);
    await db.query(
      `create temporary table bench_analytes as select * from jsonb_to_recordset($1::jsonb) as a(panel int, k int, local text, loinc text, display text, type text, unit text, ucum text, low numeric, high numeric, decimals int, detection numeric)`,
      [JSON.stringify(analytes)],
    );
    const catalog = await db.query(`select count(distinct a.loinc)::int as n from bench_analytes a join catalog_item_codes c on c.system = 'http://loinc.org' and c.code = a.loinc`);
    say(`    ${catalog.rows[0].n} of ${new Set(analytes.map((a) => a.loinc)).size} LOINC codes of the panels are catalogue items`);

    await db.query('begin');
    await timed(
      db,
      say,
      'persons',
      `create temporary table bench_people as
       with p as (
         insert into persons (national_id_hash, national_id_masked)
         select encode(sha256(convert_to($1::text || ':' || n, 'UTF8')), 'hex'), '99' || lpad((n % 10000)::text, 4, '0') || '********' || lpad((n % 10000)::text, 4, '0')
         from generate_series(1, $2::int) n
         returning id, national_id_hash, national_id_masked
       )
       select id as person_id, national_id_hash, national_id_masked, (row_number() over (order by id))::int as n from p`,
      [tag, persons],
    );
    await db.query('create unique index on bench_people (n); analyze bench_people');
    // Records 1..2×shared pair up (odd at DEMO-H1, even at DEMO-H2); the rest are one person each.
    await timed(
      db,
      say,
      'patients',
      `create temporary table bench_patients as
       with rec as (
         select n,
           case when n <= 2 * $4 then (n + 1) / 2 else n - $4 end as person_n,
           case when n <= 2 * $4 then case when n % 2 = 1 then $2::bigint else $3::bigint end
                else case when n % 3 = 0 then $3::bigint else $2::bigint end end as organization_id,
           ($6::text[])[1 + (n::bigint * 7919) % array_length($6::text[], 1)] || '^' || ($7::text[])[1 + (n::bigint * 104729) % array_length($7::text[], 1)] as name
         from generate_series(1, $5::int) n
       ), p as (
         insert into patients (organization_id, local_id, person_id, name_alphabetic, name_key, birth_date, sex, national_id_hash, national_id_masked)
         select rec.organization_id, $1::text || rec.n, bp.person_id, rec.name, lower(replace(rec.name, '^', '')), date '1940-01-01' + (rec.n * 37) % 29000,
                case when rec.n % 2 = 0 then 'F' else 'M' end, bp.national_id_hash, bp.national_id_masked
         from rec join bench_people bp on bp.n = rec.person_n
         returning id, organization_id, local_id
       )
       select id as patient_id, organization_id, substr(local_id, length($1::text) + 1)::int as n from p`,
      [tag, h1, h2, shared, records, SURNAMES, GIVEN],
    );
    await db.query('create unique index on bench_patients (n); analyze bench_patients');
    await timed(
      db,
      say,
      'consents',
      `insert into consents (person_id, recorded_by_organization_id, scope, region_id, purpose, method, valid_from)
       select person_id, $1::bigint, 'region', coalesce((select region_id from organization_regions where organization_id = $1::bigint), (select id from regions where is_default)),
              'treatment', 'electronic', now() - interval '3 years'
       from bench_people`,
      [h1],
    );
    await db.query('commit');

    const first = firstDay();
    let firstReportId = Number.MAX_SAFE_INTEGER;
    let lastReportId = 0;
    for (let lo = 1; lo <= reports; lo += BATCH_REPORTS) {
      const hi = Math.min(reports, lo + BATCH_REPORTS - 1);
      const ids = await writeBatch(db, { lo, hi, reports, records, chronic, tag, first });
      firstReportId = Math.min(firstReportId, ids.first);
      lastReportId = Math.max(lastReportId, ids.last);
      say(`    reports ${hi} of ${reports} (${Math.round((performance.now() - started) / 1000)} s)`);
    }
    // as autovacuum would have by the time anyone searches: statistics, hint bits, visibility map
    await timed(db, say, 'vacuum analyze', 'vacuum (analyze) persons, patients, consents, accepted_objects, lab_reports, observations, observation_history');
    // the pages written so far reach disk now, not during the searches (a spread checkpoint takes minutes)
    await timed(db, say, 'checkpoint', 'checkpoint');
    return { reports, observations: reports * RESULTS_PER_REPORT, records, persons, firstReportId, lastReportId, seconds: (performance.now() - started) / 1000 };
  } catch (err) {
    await db.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    await db.end();
  }
}

interface Batch {
  lo: number;
  hi: number;
  reports: number;
  records: number;
  chronic: number;
  tag: string;
  first: Date;
}

/**
 * Reports lo..hi in one transaction: their messages, reports and results. Ids are drawn from
 * the tables' own sequences up front, so every insert reads the one batch table and none
 * joins another insert's output.
 */
async function writeBatch(db: pg.Client, b: Batch): Promise<{ first: number; last: number }> {
  await db.query('begin');
  // report g: its record (every fifth to a chronic patient), panel, status and collection time (mornings, in order of g)
  await db.query(
    `create temporary table bench_batch on commit drop as
     select g, bp.patient_id, bp.organization_id, pn.panel, pn.local as panel_local,
       nextval(pg_get_serial_sequence('accepted_objects', 'id')) as accepted_id,
       nextval(pg_get_serial_sequence('lab_reports', 'id')) as report_id,
       case when s.v < 10 then 'preliminary' when s.v < 20 then 'corrected' else 'final' end as status,
       $6::timestamptz + make_interval(days => ((g - 1) * ${DAYS} / $1)::int, secs => 27000 + abs(hashint8extended(g, 5) % 14400)) as effective_at
     from generate_series($2::bigint, $3::bigint) g
     cross join lateral (select abs(hashint8extended(g, 3) % 1000) as v, 1 + abs(hashint8extended(g, 2) % 100) as pick) s
     join bench_patients bp on bp.n = 1 + case when g % 5 = 0 then abs(hashint8extended(g, 1) % $4) else abs(hashint8extended(g, 1) % $5) end
     join lateral (select panel, local from bench_panels where upto >= s.pick order by upto limit 1) pn on true
     order by g`,
    [b.reports, b.lo, b.hi, b.chronic, b.records, b.first],
  );
  await db.query(
    `insert into accepted_objects (id, kind, organization_id, identity, sha256, size, blob_key, source, summary, state, received_at, indexed_at)
     overriding system value
     select accepted_id, 'hl7v2', organization_id, organization_id || '|' || $1::text || '-' || g, encode(sha256(convert_to($1::text || g, 'UTF8')), 'hex'), 2400,
            'hl7v2/bench/' || $1::text || '/' || g, 'mllp', '{}'::jsonb, 'indexed', effective_at + interval '2 hours', effective_at + interval '2 hours'
     from bench_batch order by g`,
    [b.tag],
  );
  await db.query(
    `insert into lab_reports (id, organization_id, patient_id, report_key, placer_order_number, filler_order_number, local_code, local_display, loinc_code, loinc_display,
                              status, effective_at, issued_at, specimen_type, specimen_display, source, accepted_id, created_at, updated_at)
     overriding system value
     select b.report_id, b.organization_id, b.patient_id, 'F|' || $1::text || b.g || '|' || p.local, 'P' || $1::text || b.g, $1::text || b.g, p.local, p.display, p.loinc, p.loinc_display,
            b.status, b.effective_at, b.effective_at + interval '3 hours', p.specimen_type, p.specimen_display, 'hl7v2', b.accepted_id, b.effective_at + interval '2 hours', b.effective_at + interval '3 hours'
     from bench_batch b join bench_panels p on p.panel = b.panel order by b.g`,
    [b.tag],
  );
  // Values spread over the reference range and 10 % beyond each side; below a detection limit
  // the LIS reports "<limit"; 3 % of serology positive. A corrected report's first result is
  // the corrected one, what it replaced kept in observation_history.
  await db.query(
    `with ins as (
       insert into observations (patient_id, report_id, organization_id, obs_key, local_code, local_display, loinc_code, loinc_display, value_type, value_num,
                                 value_comparator, value_code, value_code_display, value_code_system, unit, unit_code, unit_ucum, ref_low, ref_high, ref_text,
                                 abnormal_flags, status, effective_at, issued_at, accepted_id, updated_at)
       select b.patient_id, b.report_id, b.organization_id, a.local, a.local, a.display, a.loinc, a.display,
              case when a.type = 'CWE' then 'CWE' when v.censored then 'SN' else 'NM' end,
              case when a.type = 'CWE' then null when v.censored then a.detection else v.num end,
              case when v.censored then '<' end,
              case when a.type = 'CWE' then case when v.positive then 'POS' else 'NEG' end end,
              case when a.type = 'CWE' then case when v.positive then '阳性' else '阴性' end end,
              case when a.type = 'CWE' then 'L' end,
              a.unit, a.ucum, a.ucum is not null, a.low, a.high, case when a.type = 'CWE' then '阴性' end,
              case when a.type = 'CWE' then case when v.positive then array['A'] end when v.num > a.high then array['H'] when v.num < a.low then array['L'] end,
              case when b.status = 'preliminary' then 'preliminary' when b.status = 'corrected' and a.k = 1 then 'corrected' else 'final' end,
              b.effective_at, b.effective_at + interval '3 hours', b.accepted_id, b.effective_at + interval '3 hours'
       from bench_batch b
       join bench_analytes a on a.panel = b.panel
       cross join lateral (
         select greatest(0, round(a.low + (a.high - a.low) * ((abs(hashint8extended(b.g * 16 + a.k, 4) % 1200) - 100) / 1000.0), a.decimals)) as num,
                abs(hashint8extended(b.g * 16 + a.k, 6) % 100) < 3 as positive
       ) r
       cross join lateral (select r.num as num, r.positive as positive, a.detection is not null and r.num < a.detection as censored) v
       order by b.g, a.k
       returning id, patient_id, report_id, status, value_num, accepted_id, effective_at
     )
     insert into observation_history (observation_id, patient_id, report_id, prior, replaced_by_accepted_id, replaced_at)
     select id, patient_id, report_id, jsonb_build_object('status', 'final', 'value_num', round(value_num * 1.1, 2)), accepted_id, effective_at + interval '1 day'
     from ins where status = 'corrected'`,
  );
  const ids = (await db.query('select min(report_id)::bigint as first, max(report_id)::bigint as last from bench_batch')).rows[0];
  // The insert trigger queued every report for the recognition stage, which would spend an
  // hour on them after the generation; its work is the recognition benchmark's, not this one's.
  await db.query(`delete from recognition_queue where kind = 'lab' and result_id between $1 and $2`, [ids.first, ids.last]);
  await db.query('commit');
  return { first: Number(ids.first), last: Number(ids.last) };
}
