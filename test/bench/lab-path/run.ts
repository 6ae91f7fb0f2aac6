/**
 * The lab path measured from the outside (issue 4's MLLP benchmark), for the figures in
 * docs/benchmarks.md: ORU^R01 (ten OBX each) over MLLP on real TCP connections, at 1 and 8
 * connections, one at a time and pipelined; the index's lag and sustained rate; and the COPY
 * ceiling for the same rows. The hub runs as `npm start` runs it (all services in one
 * process), then as ingest and index apart, on a PostgreSQL of this script's own and the
 * filesystem blob store. A script, not a test: it prints, and asserts nothing.
 *
 *   node --import tsx test/bench/lab-path/run.ts
 *   BENCH_MLLP_MESSAGES=4000 BENCH_MLLP_WINDOW=32 BENCH_BACKLOG=20000 BENCH_COPY_MESSAGES=20000 BENCH_PACED=300,1000
 *   BENCH_PHASES=hub,apart,copy  BENCH_RUNS=1x1,8x32  BENCH_APART_CONNECTIONS=8  BENCH_LOG_LEVEL=debug BENCH_ECHO=1  BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"  BENCH_KEEP=1
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDb, migrateLatest, startEmbeddedPostgres, type Knex } from '@hub/shared/db';
import { frame } from '@hub/shared/hl7';
import { createLogger } from '@hub/shared/log';
import { createOrganization } from '@hub/shared/org';
import { freePort } from '@hub/shared/testing';
import { addHl7Sender } from '@hub/ingest';
import { oruMessage } from '@hub/shared/hl7/testing';
import { copyCeiling, cpuSeconds, push, type Pushed } from './load';

const env = process.env;
const MESSAGES = Number(env.BENCH_MLLP_MESSAGES ?? 4000);
const WINDOW = Number(env.BENCH_MLLP_WINDOW ?? 32);
/** connections × window of the all-in-one runs. */
const RUNS = (env.BENCH_RUNS ?? `1x1,1x${WINDOW},8x1,8x${WINDOW}`).split(',').map((r) => r.split('x').map(Number) as [number, number]);
const BACKLOG = Number(env.BENCH_BACKLOG ?? 20000);
/** Connections ingest alone is pushed over (each BENCH_MLLP_WINDOW deep). */
const APART_CONNECTIONS = Number(env.BENCH_APART_CONNECTIONS ?? 8);
const COPY_MESSAGES = Number(env.BENCH_COPY_MESSAGES ?? 20000);
const PACED = (env.BENCH_PACED ?? '300,1000').split(',').map(Number).filter((n) => n > 0);
const PACED_SECONDS = Number(env.BENCH_PACED_SECONDS ?? 10);
/** Which parts to run: `hub` (all in one), `apart` (ingest alone, then index alone), `copy` (the ceiling). */
const PHASES = new Set((env.BENCH_PHASES ?? 'hub,apart,copy').split(','));
/** Extra node flags for the hub's processes, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`. */
const NODE_ARGS = (env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const PATIENTS = 1000;
const FACILITY = 'BENCHLIS';
const repo = path.resolve(__dirname, '../../..');
const log = createLogger({ level: 'warn' });
const round = (n: number) => (n >= 100 ? Math.round(n) : Math.round(n * 100) / 100);

interface Service {
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts one of the hub's mains and waits for its "is ready" banner. */
async function startService(entry: string, vars: Record<string, string>): Promise<Service> {
  const child = spawn(process.execPath, [...NODE_ARGS, '--import', 'tsx', entry], { cwd: repo, env: { PATH: env.PATH, HOME: env.HOME, ...vars }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${entry} not ready in 120 s:\n${output}`)), 120_000);
    const seen = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('is ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', seen);
    // BENCH_ECHO: the services' own output (their logs, at BENCH_LOG_LEVEL) on this one's stderr
    if (env.BENCH_ECHO) for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (c: Buffer) => process.stderr.write(c));
    child.stderr!.on('data', seen);
    child.once('exit', (code) => reject(new Error(`${entry} exited with ${code}:\n${output}`)));
  });
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    child,
    stop: () => new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

const framesFor = (run: string, count: number) => Array.from({ length: count }, (_, i) => frame(Buffer.from(oruMessage(i, { sendingFacility: FACILITY, runId: run, patients: PATIENTS }), 'utf8')));

/** Waits until every message of `run` is indexed; the seconds that took. */
async function indexed(db: Knex, run: string, organizationId: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const { rows } = await db.raw(`select count(*) filter (where state = 'accepted')::int as pending, count(*) filter (where state = 'failed')::int as failed from accepted_objects where identity like ?`, [`${organizationId}|${run}-%`]);
    if (rows[0].failed > 0) throw new Error(`${rows[0].failed} messages of ${run} failed to index`);
    if (rows[0].pending === 0) return (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Ack → visible in the index, per message of `run`: p50, p99, max (seconds), and the index's rate over the run. */
async function lagOf(db: Knex, run: string, organizationId: number) {
  const { rows } = await db.raw(
    `select percentile_cont(0.5) within group (order by extract(epoch from indexed_at - received_at)) as p50,
            percentile_cont(0.99) within group (order by extract(epoch from indexed_at - received_at)) as p99,
            max(extract(epoch from indexed_at - received_at)) as max,
            count(*) / nullif(extract(epoch from max(indexed_at) - min(received_at)), 0) as rate
     from accepted_objects where identity like ?`,
    [`${organizationId}|${run}-%`],
  );
  return { p50: Number(rows[0].p50), p99: Number(rows[0].p99), max: Number(rows[0].max), rate: Number(rows[0].rate) };
}

interface Bench {
  db: Knex;
  /** The PostgreSQL data folder (its postmaster.pid), for CPU accounting. */
  pgDir: string;
  org: number;
  mllpPort: number;
  vars: Record<string, string>;
  say(line: string): void;
  /** Services running now, stopped on the way out. */
  services: Service[];
}

async function run(b: Bench, entry: string, work: (pid: number | undefined) => Promise<void>): Promise<void> {
  const service = await startService(entry, b.vars);
  b.services.push(service);
  try {
    await work(service.child.pid);
  } finally {
    b.services.splice(b.services.indexOf(service), 1);
    await service.stop();
  }
}

/** The hub as npm start runs it: ingest and index in one process, sharing its cores. */
async function allInOne(b: Bench): Promise<void> {
  await run(b, 'services/hub/src/main.ts', async () => {
    await push(b.mllpPort, framesFor('WARM', 500), { connections: 8, window: WINDOW });
    await indexed(b.db, 'WARM', b.org);
    b.say('\n| hub (all in one) | connections | window | messages | msg/s ACKed | obs/s | not AA | indexing after last ACK s | lag p50 s | lag p99 s | lag max s |');
    b.say('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const [connections, window] of RUNS) {
      const run = `R${connections}X${window}`;
      const pushed = await push(b.mllpPort, framesFor(run, MESSAGES), { connections, window });
      const after = await indexed(b.db, run, b.org);
      const lag = await lagOf(b.db, run, b.org);
      const rate = MESSAGES / pushed.seconds;
      b.say(`| | ${connections} | ${window} | ${MESSAGES} | ${round(rate)} | ${round(rate * 10)} | ${MESSAGES - (pushed.acks.AA ?? 0)} | ${round(after)} | ${round(lag.p50)} | ${round(lag.p99)} | ${round(lag.max)} |`);
    }
    b.say('\n| hub (all in one), paced | connections | msg/s offered | msg/s ACKed | lag p50 s | lag p99 s | lag max s |');
    b.say('| --- | --- | --- | --- | --- | --- | --- |');
    for (const perSecond of PACED) {
      const run = `P${perSecond}`;
      const pushed = await push(b.mllpPort, framesFor(run, perSecond * PACED_SECONDS), { connections: 8, window: WINDOW, perSecond });
      await indexed(b.db, run, b.org);
      const lag = await lagOf(b.db, run, b.org);
      b.say(`| | 8 | ${perSecond} | ${round((perSecond * PACED_SECONDS) / pushed.seconds)} | ${round(lag.p50)} | ${round(lag.p99)} | ${round(lag.max)} |`);
    }
  });
}

/** Ingest alone (its rate with no indexing on the same cores), then index alone on the backlog it left. Returns ingest's msg/s. */
async function apart(b: Bench): Promise<number> {
  let pushed: Pushed | undefined;
  const cpu = { ingest: { service: 0, postgres: 0 }, index: { service: 0, postgres: 0 } };
  const frames = framesFor('BACKLOG', BACKLOG);
  await run(b, 'services/ingest/src/main.ts', async (pid) => {
    const before = await cpuSeconds(pid, b.pgDir);
    pushed = await push(b.mllpPort, frames, { connections: APART_CONNECTIONS, window: WINDOW });
    const after = await cpuSeconds(pid, b.pgDir);
    cpu.ingest = { service: after.service - before.service, postgres: after.postgres - before.postgres };
  });
  let drained = 0;
  await run(b, 'services/index/src/main.ts', async (pid) => {
    const before = await cpuSeconds(pid, b.pgDir);
    drained = await indexed(b.db, 'BACKLOG', b.org);
    const after = await cpuSeconds(pid, b.pgDir);
    cpu.index = { service: after.service - before.service, postgres: after.postgres - before.postgres };
  });
  const perMessage = (s: number) => round((s * 1000) / BACKLOG);
  const { rows } = await b.db.raw(`select extract(epoch from max(indexed_at) - min(indexed_at)) as s from accepted_objects where identity like ?`, [`${b.org}|BACKLOG-%`]);
  const accepted = BACKLOG / pushed!.seconds;
  const indexRate = BACKLOG / Number(rows[0].s);
  b.say('\n| apart | messages | seconds | msg/s | obs/s | CPU ms/msg: node | CPU ms/msg: PostgreSQL |');
  b.say('| --- | --- | --- | --- | --- | --- | --- |');
  b.say(`| ingest alone, ${APART_CONNECTIONS} connections × ${WINDOW} | ${BACKLOG} | ${round(pushed!.seconds)} | ${round(accepted)} | ${round(accepted * 10)} | ${perMessage(cpu.ingest.service)} | ${perMessage(cpu.ingest.postgres)} |`);
  b.say(`| index alone on that backlog (2 loops, batches of 200) | ${BACKLOG} | ${round(drained)} | ${round(indexRate)} | ${round(indexRate * 10)} | ${perMessage(cpu.index.service)} | ${perMessage(cpu.index.postgres)} |`);
  return accepted;
}

/** The same rows by COPY, in a scratch database with the hub's schema. */
async function ceiling(b: Bench, pgUrl: string, accepted: number | undefined): Promise<void> {
  await b.db.raw('create database bench_copy');
  const url = pgUrl.replace(/\/[^/]*$/, '/bench_copy');
  const db = createDb({ url, poolMax: 2 });
  try {
    await migrateLatest(db, url, log);
    const org = (await createOrganization(db, { code: 'BENCH', name: 'Bench hospital', kind: 'hospital' })).id;
    await db.raw('insert into persons (id) overriding system value select g from generate_series(1, ?) g', [PATIENTS]);
    await db.raw(`insert into patients (id, organization_id, local_id, person_id) overriding system value select g, ?, 'LM' || lpad((g - 1)::text, 7, '0'), g from generate_series(1, ?) g`, [org, PATIENTS]);
    const texts = Array.from({ length: COPY_MESSAGES }, (_, i) => oruMessage(i, { sendingFacility: FACILITY, runId: 'COPY', patients: PATIENTS }));
    const rate = await copyCeiling(url, texts, org, PATIENTS, b.vars.HUB_ID_HASH_SECRET!);
    b.say('\n| COPY ceiling | messages | rows | msg/s | rows/s | ingest alone as share |');
    b.say('| --- | --- | --- | --- | --- | --- |');
    b.say(`| accepted_objects + lab_reports + observations | ${COPY_MESSAGES} | ${COPY_MESSAGES * 12} | ${round(rate)} | ${round(rate * 12)} | ${accepted ? `${round((accepted / rate) * 100)} %` : '-'} |`);
  } finally {
    await db.destroy();
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hub-mllp-bench-'));
  // PostgreSQL runs as its own user when this runs as root: it must reach the folder.
  await chmod(dir, 0o755);
  const pg = await startEmbeddedPostgres({ dir: path.join(dir, 'pg'), port: await freePort(), password: 'bench', log });
  const db = createDb({ url: pg.url, poolMax: 4 });
  const out: string[] = [];
  const b: Bench = {
    db,
    pgDir: path.join(dir, 'pg'),
    org: 0,
    mllpPort: await freePort(),
    vars: {},
    services: [],
    say(line) {
      out.push(line);
      process.stderr.write(`${line}\n`);
    },
  };
  try {
    await migrateLatest(db, pg.url, log);
    b.org = (await createOrganization(db, { code: 'BENCH', name: 'Bench hospital', kind: 'hospital' })).id;
    await addHl7Sender(db, { organizationCode: 'BENCH', facility: FACILITY });
    b.vars = {
      DATABASE_URL: pg.url,
      HUB_TOKEN_SECRET: randomBytes(24).toString('hex'),
      HUB_ID_HASH_SECRET: randomBytes(24).toString('hex'),
      HUB_DATA_DIR: path.join(dir, 'data'),
      HUB_DEMO: 'false',
      HUB_RECONCILE_HOURS: '0',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(await freePort()),
      DICOM_HOST: '127.0.0.1',
      DICOM_PORT: String(await freePort()),
      MLLP_HOST: '127.0.0.1',
      MLLP_PORT: String(b.mllpPort),
      LOG_LEVEL: env.BENCH_LOG_LEVEL ?? 'warn',
    };
    b.say(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, load average at start ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; node ${process.version}`);
    if (PHASES.has('hub')) await allInOne(b);
    const accepted = PHASES.has('apart') ? await apart(b) : undefined;
    if (PHASES.has('copy')) await ceiling(b, pg.url, accepted);
  } finally {
    for (const s of b.services) await s.stop().catch(() => undefined);
    await db.destroy();
    await pg.stop();
    if (!env.BENCH_KEEP) await rm(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
