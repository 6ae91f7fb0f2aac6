import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import pg from 'pg';
import { createClient } from '@hub/shared/auth';
import { createDb } from '@hub/shared/db';
import type { Benchmark } from './lib/benchmark';
import { request } from './lib/http';
import { percentile, round, type Row } from './lib/report';
import type { Target } from './lib/target';
import { generateRecognitionRegion, regionSize, type GeneratedRegion } from './recognition-region';

const run = promisify(execFile);

/** Sizes of this benchmark, from the environment (bench code, not a service: it reads it here). */
const settings = {
  scale: Number(process.env.BENCH_REGION_SCALE ?? '0.1'),
  clients: Number(process.env.BENCH_RECOGNITION_CLIENTS ?? '16'),
  seconds: Number(process.env.BENCH_RECOGNITION_SECONDS ?? '20'),
};

interface Ask {
  org: string;
  mrn: string;
  item: string;
}

/** What the clinicians ask about: half the time an item the person has a result of, else any item. */
async function askings(databaseUrl: string, count: number): Promise<Ask[]> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query(
      `with sample as (select patient_id, item_id from recognition_results tablesample system (1) limit $1)
       select o.code as org, p2.local_id as mrn, case when random() < 0.5 then i.code else (select code from catalog_items where region_id = i.region_id order by random() + s.patient_id * 0 limit 1) end as item
       from sample s join patients p on p.id = s.patient_id join patients p2 on p2.person_id = p.person_id join organizations o on o.id = p2.organization_id
       join catalog_items i on i.id = s.item_id where o.kind = 'hospital' limit $1`,
      [count],
    );
    return rows as Ask[];
  } finally {
    await db.end();
  }
}

/** A client per asking organization (scopes recognition:check and stats:read for the authority), and its token. */
async function tokens(target: Target, region: GeneratedRegion): Promise<Map<string, string>> {
  const base = target.dicomweb.replace(/\/dicomweb$/, '');
  const knex = createDb({ url: target.databaseUrl, poolMax: 2 });
  const out = new Map<string, string>();
  try {
    for (const org of [...region.organizations, region.authority]) {
      const scopes = org === region.authority ? (['stats:read'] as const) : (['recognition:check', 'recognition:decide'] as const);
      const client = await createClient(knex, { organizationCode: org, name: 'bench', scopes: [...scopes] });
      const answer = await request(`${base}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: Buffer.from(new URLSearchParams({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret }).toString()),
      });
      if (answer.status !== 200) throw new Error(`token for ${org}: ${answer.status}`);
      out.set(org, (JSON.parse(answer.body.toString('utf8')) as { access_token: string }).access_token);
    }
  } finally {
    await knex.destroy();
  }
  return out;
}

/** `clients` loops asking checks back to back for `seconds`; latencies of the answered ones. */
async function load(base: string, asks: Ask[], token: Map<string, string>, clients: number, seconds: number) {
  const ms: number[] = [];
  let errors = 0;
  let found = 0;
  let next = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < until) {
        const ask = asks[next++ % asks.length]!;
        const started = performance.now();
        const answer = await request(`${base}/recognition/checks`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token.get(ask.org)}`, 'content-type': 'application/json' },
          body: Buffer.from(JSON.stringify({ patient: { mrn: ask.mrn }, item: ask.item, practitioner: 'Dr Bench' })),
        });
        const took = performance.now() - started;
        if (answer.status !== 201) {
          errors++;
          continue;
        }
        ms.push(took);
        // (the client parses nothing it does not need: it shares the two cores with the hub)
        if (!answer.body.includes('"results":[]')) found++;
      }
    }),
  );
  return { ms, errors, found, perSecond: ms.length / seconds };
}

/** The same machine's PostgreSQL ceiling: pgbench's select-only transactions at the same concurrency, in a scratch database. */
async function pgbenchSelectOnly(databaseUrl: string, clients: number): Promise<number | string> {
  const binary = ['/usr/bin/pgbench', ...['17', '16', '15'].map((v) => `/usr/lib/postgresql/${v}/bin/pgbench`)].find((p) => existsSync(p));
  if (!binary) return 'pgbench not installed (apt-get install postgresql-contrib)';
  const url = new URL(databaseUrl);
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query('drop database if exists bench_pgbench');
  await admin.query('create database bench_pgbench');
  await admin.end();
  const env = { ...process.env, PGPASSWORD: decodeURIComponent(url.password), PGHOST: url.hostname, PGPORT: url.port, PGUSER: decodeURIComponent(url.username), PGDATABASE: 'bench_pgbench' };
  await run(binary, ['-i', '-s', '20', '-q'], { env });
  const { stdout } = await run(binary, ['-S', '-n', '-c', String(clients), '-j', '2', '-T', '15'], { env });
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1];
  return tps ? Number(tps) : `pgbench said: ${stdout.slice(-200)}`;
}

async function timed(fn: () => Promise<{ status: number; body: Buffer }>, times = 3): Promise<{ ms: number; bytes: number }> {
  const runs: number[] = [];
  let bytes = 0;
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    const answer = await fn();
    if (answer.status !== 200) throw new Error(`statistics answered ${answer.status}: ${answer.body.toString('utf8').slice(0, 200)}`);
    runs.push(performance.now() - started);
    bytes = answer.body.length;
  }
  return { ms: percentile(runs, 50), bytes };
}

export const recognitionBenchmark: Benchmark = {
  name: 'recognition',
  description: `prior-result checks/s and p50/p99 at BENCH_RECOGNITION_CLIENTS (${settings.clients}) clients for BENCH_RECOGNITION_SECONDS (${settings.seconds}) on a synthetic region of BENCH_REGION_SCALE (${settings.scale}) × the reference city (30 hospitals, 7 imaging centres, 1.44 M exams, 6.78 M lab results), pgbench -S as the ceiling, and a year of statistics; run only when named`,
  async run(ctx) {
    return ctx.each(ctx.compared().filter((t) => t === 'hub'), async (hub) => {
      const size = regionSize(settings.scale);
      ctx.log(`  generating a region of ${size.persons} persons, ${size.labResults} lab results and ${size.imagingExams} imaging exams…`);
      const started = performance.now();
      const region = await generateRecognitionRegion(hub.databaseUrl, size, (line) => ctx.log(line));
      ctx.notes.push(`recognition: ${region.patients} patient records and ${region.results} results generated in ${round((performance.now() - started) / 1000)} s (scale ${settings.scale})`);
      ctx.log(`  waiting until the hub is quiet (${await ctx.quiet(hub)} s)`);
      const token = await tokens(hub, region);
      const asks = await askings(hub.databaseUrl, 20_000);
      const base = hub.dicomweb.replace(/\/dicomweb$/, '');

      await load(base, asks, token, settings.clients, 3); // warm-up: connections, caches, plans
      const checks = await load(base, asks, token, settings.clients, settings.seconds);
      const ceiling = await pgbenchSelectOnly(hub.databaseUrl, settings.clients);

      await ctx.quiet(hub);
      const auth = { authorization: `Bearer ${token.get(region.authority)}` };
      const year = `from=${region.firstDay}&to=${region.lastDay}`;
      const statistics: Array<[string, string]> = [
        ['year, by month', `${year}&by=month`],
        ['year, by month × organization', `${year}&by=month&group=organization`],
        ['year, by month × organization × item (CSV)', `${year}&by=month&group=organization,item&format=csv`],
        ['year, by day × organization', `${year}&by=day&group=organization`],
      ];
      const rows: Row[] = [
        {
          measure: 'prior-result check (POST /recognition/checks)',
          clients: settings.clients,
          'per second': round(checks.perSecond),
          'p50 ms': round(percentile(checks.ms, 50)),
          'p99 ms': round(percentile(checks.ms, 99)),
          note: `${checks.ms.length} checks, ${round((100 * checks.found) / Math.max(1, checks.ms.length))} % found priors, ${checks.errors} errors`,
        },
        { measure: 'pgbench -S (select-only, same PostgreSQL)', clients: settings.clients, 'per second': typeof ceiling === 'number' ? round(ceiling) : '', note: typeof ceiling === 'number' ? `checks are ${round((100 * checks.perSecond) / ceiling)} % of it` : ceiling },
      ];
      for (const [label, query] of statistics) {
        const answer = await timed(() => request(`${base}/stats/recognition?${query}`, { headers: auth }));
        rows.push({ measure: `statistics: ${label}`, clients: 1, 'p50 ms': round(answer.ms), note: `${round(answer.bytes / 1024)} KB` });
      }
      return rows;
    });
  },
};
