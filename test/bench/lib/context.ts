import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { orthancInstalled, startOrthanc } from '../orthanc';
import { startHub } from './hub';
import { insideNamespace } from './netns';
import { sampleMemory, waitUntilQuiet, type GroupPeak } from './procs';
import { round, type Row } from './report';
import { Unsupported, type Target } from './target';

/** Sizes, from the environment so a longer run needs no code change. */
export interface Sizes {
  instances: number;
  stowBatch: number;
  qidoInstances: number;
  qidoQueries: number;
  qidoMillion: number;
  wadoInstances: number;
  wadoRepeats: number;
  ingestMb: number;
  mllpMessages: number;
  mllpWindow: number;
  copyMessages: number;
  obsMillions: number;
  obsQueries: number;
}

export const sizeVariables: Record<keyof Sizes, [variable: string, fallback: number, doc: string]> = {
  instances: ['BENCH_INSTANCES', 200, 'CT instances per push (cstore, stow), at 1 and at 4 senders'],
  stowBatch: ['BENCH_STOW_BATCH', 10, 'instances per STOW-RS request'],
  qidoInstances: ['BENCH_QIDO_INSTANCES', 20_000, 'instances loaded into hub and Orthanc for the QIDO comparison'],
  qidoQueries: ['BENCH_QIDO_QUERIES', 200, 'searches of each kind (after 10 warm-up searches)'],
  qidoMillion: ['BENCH_QIDO_1M_INSTANCES', 1_000_000, 'instance index rows generated in the hub database for qido-1m'],
  wadoInstances: ['BENCH_WADO_INSTANCES', 200, 'CT instances in the study WADO-RS retrieves'],
  wadoRepeats: ['BENCH_WADO_REPEATS', 3, 'retrievals by one client (the median is reported)'],
  ingestMb: ['BENCH_INGEST_MB', 2048, 'size of the one STOW-RS request of ingest-memory, MB'],
  mllpMessages: ['BENCH_MLLP_MESSAGES', 2000, 'ORU^R01 messages per MLLP run'],
  mllpWindow: ['BENCH_MLLP_WINDOW', 32, 'messages a pipelining connection sends ahead of their ACKs'],
  copyMessages: ['BENCH_COPY_MESSAGES', 50_000, 'messages worth of rows loaded by COPY'],
  obsMillions: ['BENCH_OBS_MILLIONS', 10, 'millions of observations generated in the hub database for observations-10m'],
  obsQueries: ['BENCH_OBS_QUERIES', 200, 'searches of each kind in observations-10m (after 10 warm-up searches)'],
};

export function sizesFromEnvironment(env: NodeJS.ProcessEnv): Sizes {
  const sizes = {} as Sizes;
  for (const [key, [variable, fallback]] of Object.entries(sizeVariables) as Array<[keyof Sizes, [string, number, string]]>) {
    const raw = env[variable];
    const value = raw === undefined || raw === '' ? fallback : Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${variable} must be a whole number ≥ 1, not "${raw}"`);
    sizes[key] = value;
  }
  return sizes;
}

export type TargetName = 'hub' | 'orthanc';

export interface Measured<T> {
  value: T;
  seconds: number;
  memory: Record<string, GroupPeak>;
}

/**
 * What a benchmark gets: sizes, a scratch folder, the servers (started on first use and kept
 * for the run), and where to leave notes and figures for other benchmarks.
 */
export class BenchContext {
  readonly notes: string[] = [];
  /** Figures one benchmark leaves for another (the COPY ceiling for mllp). */
  readonly figures = new Map<string, number>();
  /** One line per server that failed in the current benchmark (the runner prints and clears them). */
  failures: string[] = [];
  private readonly running = new Map<TargetName, Target>();
  private counter = 0;
  private closed = false;

  private constructor(
    readonly sizes: Sizes,
    readonly workDir: string,
    private readonly wanted: TargetName[],
    private readonly say: (line: string) => void,
  ) {}

  static async create(sizes: Sizes, wanted: TargetName[], say: (line: string) => void): Promise<BenchContext> {
    const workDir = await mkdtemp(path.join(os.tmpdir(), 'hub-bench-'));
    // PostgreSQL runs as its own user under root: it must reach the folders below.
    await chmod(workDir, 0o755);
    return new BenchContext(sizes, workDir, wanted, say);
  }

  log(line: string): void {
    this.say(line);
  }

  /** A new empty folder in the run's scratch space. */
  async dir(name: string): Promise<string> {
    const dir = path.join(this.workDir, `${String(++this.counter).padStart(2, '0')}-${name}`);
    await mkdir(dir, { recursive: true });
    await chmod(dir, 0o755);
    return dir;
  }

  /** Why a server cannot be measured in this run, or undefined if it can. */
  unavailable(name: TargetName): string | undefined {
    if (!this.wanted.includes(name)) return `not in BENCH_TARGETS`;
    if (name === 'orthanc') {
      if (!insideNamespace()) return 'Orthanc runs only inside the network namespace, which needs root';
      if (!orthancInstalled()) return 'Orthanc is not installed (apt-get install orthanc orthanc-dicomweb orthanc-postgresql)';
    }
    return undefined;
  }

  /** The servers to compare in this run (the hub first); a note says why one is left out. */
  compared(): TargetName[] {
    const names: TargetName[] = [];
    for (const name of ['hub', 'orthanc'] as const) {
      const why = this.unavailable(name);
      if (why === undefined) names.push(name);
      else if (!this.notes.some((n) => n.startsWith(`${name} skipped`))) this.notes.push(`${name} skipped: ${why}`);
    }
    return names;
  }

  /** The running server, started on first use; `fresh` stops it and starts a new one (a clean memory baseline). */
  async target(name: TargetName, options: { fresh?: boolean } = {}): Promise<Target> {
    if (this.closed) throw new Error('the run is stopping');
    const current = this.running.get(name);
    if (current && !options.fresh) return current;
    if (current) {
      this.running.delete(name);
      await current.stop();
    }
    this.say(`  starting ${name}…`);
    const dir = name === 'hub' && process.env.BENCH_HUB_DIR ? await keptDir(process.env.BENCH_HUB_DIR) : await this.dir(name);
    const target =
      name === 'hub'
        ? await startHub({ dir, callingAe: process.env.BENCH_CALLING_AE || 'BENCHSCU', sendingFacility: process.env.BENCH_SENDING_FACILITY || 'BENCHLIS' })
        : await startOrthanc({ dir });
    if ('version' in target && !this.notes.some((n) => n.startsWith('Orthanc '))) this.notes.push(`Orthanc ${String(target.version)} with the PostgreSQL index plugin, files on disk`);
    this.running.set(name, target);
    return target;
  }

  /**
   * Runs `measure` for each server (a newly started one with `fresh`); a server that fails
   * gives one line (and no rows), and the others still run.
   */
  async each(names: readonly TargetName[], measure: (target: Target) => Promise<Row[]>, options: { fresh?: boolean } = {}): Promise<Row[]> {
    const rows: Row[] = [];
    for (const name of names) {
      try {
        rows.push(...(await measure(await this.target(name, options))));
      } catch (err) {
        const ended = this.running.get(name)?.exited();
        if (ended) this.running.delete(name); // the next benchmark starts it again
        this.failures.push(`${name}: ${err instanceof Unsupported ? err.message : (err as Error).message.split('\n')[0]}${ended ? ` (the ${name} process ${ended})` : ''}`);
        if (!(err instanceof Unsupported) && process.env.BENCH_DEBUG) this.say(String((err as Error).stack));
      }
    }
    return rows;
  }

  /** Waits until the server has finished what earlier work left behind; resolves with the seconds waited. */
  async quiet(target: Target): Promise<number> {
    return round(await waitUntilQuiet(() => target.groups()));
  }

  /** Times `work` while sampling the server's memory. */
  async measure<T>(target: Target, work: () => Promise<T>): Promise<Measured<T>> {
    const sampler = sampleMemory(() => target.groups());
    const started = performance.now();
    try {
      const value = await work();
      return { value, seconds: (performance.now() - started) / 1000, memory: await sampler.stop() };
    } catch (err) {
      await sampler.stop();
      throw err;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const [name, target] of [...this.running].reverse()) {
      this.running.delete(name);
      await target.stop().catch((err: Error) => this.say(`  could not stop ${name}: ${err.message}`));
    }
    if (process.env.BENCH_KEEP) this.say(`scratch folder kept: ${this.workDir}`);
    else await rm(this.workDir, { recursive: true, force: true });
  }
}

/**
 * BENCH_HUB_DIR: the hub's folder, kept between runs (never removed), so a second run starts
 * the hub on the database the first one filled — the recognition region, for instance.
 */
async function keptDir(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o755);
  return dir;
}

/** The memory columns of a row: the server process's peak RSS and its PostgreSQL's peak PSS, MB. */
export function memoryColumns(target: Target, memory: Record<string, GroupPeak>): Row {
  return {
    'server RSS MB': memory[target.name]?.rssMb ?? '',
    'PG PSS MB': memory[`${target.name} postgres`]?.pssMb ?? '',
  };
}

/** Rows of hub ÷ Orthanc for each value of `by`, for the given columns. */
export function ratioRows(rows: readonly Row[], by: string[], columns: string[]): Row[] {
  const out: Row[] = [];
  const key = (r: Row) => by.map((b) => String(r[b])).join('\u0000');
  for (const hub of rows.filter((r) => r.target === 'hub')) {
    const orthanc = rows.find((r) => r.target === 'orthanc' && key(r) === key(hub));
    if (!orthanc) continue;
    const ratio: Row = { target: 'hub ÷ orthanc' };
    for (const b of by) ratio[b] = hub[b]!;
    for (const c of columns) {
      const [h, o] = [Number(hub[c]), Number(orthanc[c])];
      if (Number.isFinite(h) && Number.isFinite(o) && o !== 0) ratio[c] = `${round(h / o)}×`;
    }
    out.push(ratio);
  }
  return out;
}
