import { readFile } from 'node:fs/promises';
import type { Benchmark } from '../lib/benchmark';
import { memoryColumns, ratioRows } from '../lib/context';
import { writeCtStudy } from '../lib/dicom-gen';
import { stow, waitUntilSearchable } from '../lib/dicomweb';
import { MB, round, type Row } from '../lib/report';
import type { Target } from '../lib/target';

const CLIENTS = [1, 4] as const;

/** One client: its files in requests of `batch` instances, one request after the other. */
async function client(target: Target, files: readonly string[], batch: number): Promise<void> {
  for (let i = 0; i < files.length; i += batch) {
    const instances = await Promise.all(files.slice(i, i + batch).map((f) => readFile(f)));
    await stow(target, instances);
  }
}

export const stowBenchmark: Benchmark = {
  name: 'stow',
  description: 'STOW-RS of BENCH_INSTANCES CT instances (~0.5 MB) in requests of BENCH_STOW_BATCH, from 1 and 4 concurrent clients',
  async run(ctx) {
    const studies = new Map<number, Awaited<ReturnType<typeof writeCtStudy>>>();
    for (const clients of CLIENTS) studies.set(clients, await writeCtStudy(await ctx.dir(`stow-${clients}`), ctx.sizes.instances, clients));

    const rows = await ctx.each(ctx.compared(), async (target) => {
      const out: Row[] = [];
      for (const clients of CLIENTS) {
        const study = studies.get(clients)!;
        await ctx.quiet(target);
        const pushed = await ctx.measure(target, () => Promise.all(study.files.map((files) => client(target, files, ctx.sizes.stowBatch))));
        const searchable = await waitUntilSearchable(target, study.studyUid, study.instances).then(round, (err: Error) => `n/a (${err.message.slice(0, 60)})`);
        out.push({
          target: target.name,
          clients,
          batch: ctx.sizes.stowBatch,
          instances: study.instances,
          seconds: round(pushed.seconds),
          'inst/s': round(study.instances / pushed.seconds),
          'MB/s': round(study.bytes / MB / pushed.seconds),
          'searchable after s': searchable,
          ...memoryColumns(target, pushed.memory),
        });
      }
      return out;
    });
    return [...rows, ...ratioRows(rows, ['clients'], ['inst/s', 'MB/s', 'server RSS MB', 'PG PSS MB'])];
  },
};
