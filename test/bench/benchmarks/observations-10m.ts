import os from 'node:os';
import type { Benchmark } from '../lib/benchmark';
import { createExplainer, fhirSearch, type FhirSearch, type SearchPlan } from '../lib/fhir-search';
import { labSearches, sampleSubjects } from '../lib/lab-subjects';
import { connectHubDatabase, generateLab } from '../lib/observation-rows';
import { round, type Row } from '../lib/report';
import { Unsupported, type Target } from '../lib/target';
import { latencyRow } from './qido';

const WARM_UP = 10;
/** Subjects of each kind whose searches are explained: a few, drawn like the measured ones. */
const EXPLAINED = 5;
const READER = 'DEMO-H1';

/** Rows, heap and index size of the lab tables (a partitioned table with its partitions). */
async function tableSizes(databaseUrl: string): Promise<Row[]> {
  const db = await connectHubDatabase(databaseUrl);
  try {
    const { rows } = await db.query(
      `select t.name, sum(c.reltuples)::float8 as n, sum(pg_table_size(c.oid))::float8 as heap, sum(pg_indexes_size(c.oid))::float8 as idx
       from unnest($1::text[]) t(name)
       -- a partitioned table's partitions; a plain table has no partition tree, and is its own
       cross join lateral (
         select relid from pg_partition_tree(t.name::regclass) where isleaf
         union all select t.name::regclass where not exists (select 1 from pg_partition_tree(t.name::regclass))
       ) p
       join pg_class c on c.oid = p.relid
       group by t.name order by t.name`,
      [['observations', 'lab_reports', 'observation_history', 'accepted_objects', 'patients', 'persons', 'consents']],
    );
    const mb = (v: number) => round(v / 1024 / 1024);
    return rows.map((r) => ({ table: r.name, rows: Math.round(Number(r.n)), 'table MB': mb(Number(r.heap)), 'indexes MB': mb(Number(r.idx)), 'total MB': mb(Number(r.heap) + Number(r.idx)) }));
  } finally {
    await db.end();
  }
}

async function measure(hub: Target, searches: readonly FhirSearch[]): Promise<{ ms: number[]; matches: number[]; included: number[]; bytes: number[] }> {
  for (const search of searches.slice(0, WARM_UP)) await fhirSearch(hub, search);
  const out = { ms: [] as number[], matches: [] as number[], included: [] as number[], bytes: [] as number[] };
  for (const search of searches.slice(WARM_UP)) {
    const answer = await fhirSearch(hub, search);
    out.ms.push(answer.ms);
    out.matches.push(answer.matches);
    out.included.push(answer.included);
    out.bytes.push(answer.bytes);
  }
  return out;
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' / ');

export const observationsTenMillion: Benchmark = {
  name: 'observations-10m',
  description:
    'FHIR Observation and DiagnosticReport searches (by patient; + code, date range, category; by national ID; reports with their results) on the hub alone with BENCH_OBS_MILLIONS million observations generated in its PostgreSQL, p50/p99 over HTTP; run only when named',
  async run(ctx) {
    return ctx.each(ctx.compared().filter((t) => t === 'hub'), async (hub) => {
      if (!hub.fhir || !hub.idHashSecret) throw new Unsupported(`${hub.name} has no FHIR endpoint or national ID key for this benchmark`);
      const wanted = ctx.sizes.obsMillions * 1_000_000;
      ctx.log(`  generating ${wanted} observations…`);
      const lab = await generateLab(hub.databaseUrl, wanted, (line) => ctx.log(line));
      ctx.notes.push(
        `observations-10m: ${lab.observations} observations in ${lab.reports} reports of ${lab.records} patient records (${lab.persons} persons) generated, with VACUUM ANALYZE, in ${round(lab.seconds)} s`,
      );
      for (const s of await tableSizes(hub.databaseUrl)) ctx.notes.push(`observations-10m size: ${s.table}: ${s.rows} rows, table ${s['table MB']} MB + indexes ${s['indexes MB']} MB = ${s['total MB']} MB`);

      const perKind = WARM_UP + ctx.sizes.obsQueries;
      const kinds = labSearches(await sampleSubjects(hub.databaseUrl, lab, perKind * 6, hub.idHashSecret), perKind);

      // Which indexes serve each kind of search, on these rows (the hub's own query code).
      const explainer = await createExplainer(hub.databaseUrl, hub.idHashSecret, READER);
      try {
        for (const { kind, searches } of kinds) {
          const plan: SearchPlan = { indexes: [], seqScans: [], partitions: {} };
          for (const search of searches.slice(0, EXPLAINED)) await explainer.plan(search, plan);
          const partitions = Object.entries(plan.partitions).map(([table, n]) => `${table}: at most ${n} of ${explainer.partitionsOf(table)} partitions per statement`);
          const scans = plan.seqScans.length ? `; SEQUENTIAL SCAN of ${plan.seqScans.join(', ')}` : '; no large table read whole';
          ctx.notes.push(`observations-10m plan: ${kind}: ${plan.indexes.join(', ') || 'no index'}${partitions.length ? ` (${partitions.join('; ')})` : ''}${scans}`);
          if (plan.seqScans.length > 0) ctx.failures.push(`hub: ${kind} scans ${plan.seqScans.join(', ')} whole`);
        }
      } finally {
        await explainer.close();
      }

      await ctx.quiet(hub);
      const loadBefore = load();
      const rows: Row[] = [];
      for (const { kind, searches } of kinds) {
        const r = await measure(hub, searches);
        rows.push({
          ...latencyRow(hub.name, kind, r.ms, r.matches),
          'mean included': kind.startsWith('DiagnosticReport') ? round(mean(r.included)) : '',
          'mean KB': round(mean(r.bytes) / 1024),
          'observations indexed': lab.observations,
        });
      }
      ctx.notes.push(`observations-10m: load average (1 / 5 / 15 min) ${loadBefore} as the searches began, ${load()} as they ended (${os.availableParallelism()} cores)`);
      return rows;
    });
  },
};
