import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { createDb, migrateLatest } from '@hub/shared/db';
import { createLogger } from '@hub/shared/log';
import type { Benchmark } from '../lib/benchmark';
import { oruValues } from '@hub/shared/hl7/testing';
import { round } from '../lib/report';
import { Unsupported } from '../lib/target';
import { COPY_CEILING } from './mllp';

const DATABASE = 'bench_copy';
const PATIENTS = 1000;
const CHUNK = 500;

/**
 * Rows as COPY text format, `CHUNK` messages per chunk, all built before the clock starts:
 * the ceiling is PostgreSQL's, not this generator's.
 */
function rows(count: number, line: (i: number) => string): string[] {
  const chunks: string[] = [];
  for (let i = 0; i < count; ) {
    let text = '';
    for (const end = Math.min(count, i + CHUNK); i < end; i++) text += line(i);
    chunks.push(text);
  }
  return chunks;
}

const iso = (ts: string) => `${ts.slice(0, 4)}-${ts.slice(4, 6)}-${ts.slice(6, 8)} ${ts.slice(8, 10)}:${ts.slice(10, 12)}:${ts.slice(12, 14)}+08`;

/**
 * What the MLLP door and the index workers write for one ORU^R01 of ten OBX — one
 * accepted_objects row, one lab_reports row, ten observations rows — loaded with COPY into a
 * scratch database with the hub's schema, in the hub's PostgreSQL: the database's ceiling
 * for those rows on this machine.
 */
export const copyCeiling: Benchmark = {
  name: 'copy-ceiling',
  description: 'the rows of BENCH_COPY_MESSAGES ORU^R01 messages (1 accepted object + 1 report + 10 observations each) loaded by PostgreSQL COPY into the hub schema: the ceiling for mllp',
  run: (ctx) =>
    ctx.each(ctx.compared().filter((t) => t === 'hub'), async (hub) => {
      const admin = new pg.Client({ connectionString: hub.databaseUrl });
      await admin.connect();
      const url = hub.databaseUrl.replace(/\/[^/]*$/, `/${DATABASE}`);
      try {
        await admin.query(`drop database if exists ${DATABASE}`);
        await admin.query(`create database ${DATABASE}`);
        const knex = createDb({ url, poolMax: 2 });
        await migrateLatest(knex, url, createLogger({ level: 'warn' }));
        await knex.destroy();

        const db = new pg.Client({ connectionString: url });
        await db.connect();
        try {
          const missing = (await db.query(`select t from unnest(array['accepted_objects', 'lab_reports', 'observations']) t where to_regclass(t) is null`)).rows;
          if (missing.length > 0) throw new Unsupported(`the hub schema has no ${missing.map((r) => r.t).join(', ')}`);
          const org = (await db.query(`insert into organizations (code, name, kind) values ('BENCH', 'Bench hospital', 'hospital') returning id`)).rows[0].id as number;
          await db.query(`insert into persons (id) overriding system value select g from generate_series(1, $1) g`, [PATIENTS]);
          await db.query(
            `insert into patients (id, organization_id, local_id, person_id) overriding system value
             select g, $1, 'LM' || lpad((g - 1)::text, 7, '0'), g from generate_series(1, $2) g`,
            [org, PATIENTS],
          );

          const n = ctx.sizes.copyMessages;
          const values = Array.from({ length: n }, (_, i) => oruValues(i, PATIENTS));
          const accepted = rows(n, (i) => {
            const sha = createHash('sha256').update(String(i)).digest('hex');
            const summary = JSON.stringify({ type: 'ORU^R01', controlId: `BENCH-${i}`, patient: { localId: values[i]!.mrn }, reports: 1, observations: 10 });
            return `${i + 1}\thl7v2\t${org}\tBENCHLIS|BENCH-${i}\t${sha}\t1400\thl7v2/${org}/${sha}\tmllp\t${summary}\tindexed\n`;
          });
          const reports = rows(n, (i) => {
            const at = iso(values[i]!.collected);
            return `${i + 1}\t${org}\t${(i % PATIENTS) + 1}\tF${i}|CHEM\tP${i}\tF${i}\tCHEM\tChemistry panel\tfinal\t${at}\t${at}\thl7v2\t${i + 1}\n`;
          });
          const observations = rows(n, (i) => {
            const v = values[i]!;
            const at = iso(v.collected);
            return v.results
              .map((r, k) => `${i * 10 + k + 1}\t${(i % PATIENTS) + 1}\t${i + 1}\t${org}\t${r.loinc}|${k + 1}\t${r.local}\t${r.name}\t${r.loinc}\t${r.name}\tNM\t${r.value}\t${r.unit}\t${r.unit}\tt\t${r.low}\t${r.high}\t${r.low}-${r.high}\t{${r.flag}}\tfinal\t${at}\t${i + 1}\n`)
              .join('');
          });

          const copy = (sql: string, chunks: string[]) => pipeline(Readable.from(chunks), db.query(copyFrom(sql)));
          const started = performance.now();
          await db.query('begin');
          await copy('copy accepted_objects (id, kind, organization_id, identity, sha256, size, blob_key, source, summary, state) from stdin', accepted);
          await copy(
            'copy lab_reports (id, organization_id, patient_id, report_key, placer_order_number, filler_order_number, local_code, local_display, status, effective_at, issued_at, source, accepted_id) from stdin',
            reports,
          );
          await copy(
            'copy observations (id, patient_id, report_id, organization_id, obs_key, local_code, local_display, loinc_code, loinc_display, value_type, value_num, unit, unit_code, unit_ucum, ref_low, ref_high, ref_text, abnormal_flags, status, effective_at, accepted_id) from stdin',
            observations,
          );
          await db.query('commit');
          const seconds = (performance.now() - started) / 1000;
          ctx.figures.set(COPY_CEILING, n / seconds);
          return [{ target: 'hub postgres', messages: n, rows: n * 12, seconds: round(seconds), 'msg/s': round(n / seconds), 'rows/s': round((n * 12) / seconds) }];
        } finally {
          await db.end();
        }
      } finally {
        await admin.query(`drop database if exists ${DATABASE}`).catch(() => undefined);
        await admin.end();
      }
    }),
};
