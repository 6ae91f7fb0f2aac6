import type { Benchmark } from '../lib/benchmark';
import { memoryColumns, ratioRows } from '../lib/context';
import { ctInstance, newStudy, type CtSeries } from '../lib/dicom-gen';
import { retrieveStudy, stow, waitUntilSearchable } from '../lib/dicomweb';
import { MB, percentile, round, type Row } from '../lib/report';

export const wado: Benchmark = {
  name: 'wado',
  description: 'WADO-RS retrieval of a whole study of BENCH_WADO_INSTANCES CT instances (~0.5 MB), by 1 client (median of BENCH_WADO_REPEATS) and 4 at once',
  async run(ctx) {
    const study = newStudy();
    const series: CtSeries = { studyUid: study.studyUid, seriesUid: study.series(1), patientId: 'BENCHWADO', count: ctx.sizes.wadoInstances };
    const rows = await ctx.each(ctx.compared(), async (target) => {
      // Loaded by STOW-RS, in batches; not part of the figure.
      let stored = 0;
      for (let i = 0; i < series.count; i += ctx.sizes.stowBatch) {
        const batch = Array.from({ length: Math.min(ctx.sizes.stowBatch, series.count - i) }, (_, k) => ctInstance(series, i + k));
        await stow(target, batch);
        stored += batch.reduce((sum, b) => sum + b.length, 0);
      }
      await waitUntilSearchable(target, study.studyUid, series.count).catch(() => undefined);
      await ctx.quiet(target);

      const out: Row[] = [];
      const one = await ctx.measure(target, async () => {
        const rates: number[] = [];
        for (let r = 0; r < ctx.sizes.wadoRepeats; r++) {
          const got = await retrieveStudy(target, study.studyUid);
          if (got.bytes < stored) throw new Error(`${target.name} WADO-RS returned ${got.bytes} bytes for a study of ${stored}`);
          rates.push(got.bytes / MB / got.seconds);
        }
        return percentile(rates, 50);
      });
      out.push({ target: target.name, clients: 1, 'study MB': round(stored / MB), 'MB/s': round(one.value), ...memoryColumns(target, one.memory) });

      const four = await ctx.measure(target, () => Promise.all([1, 2, 3, 4].map(() => retrieveStudy(target, study.studyUid))));
      const bytes = four.value.reduce((sum, g) => sum + g.bytes, 0);
      out.push({ target: target.name, clients: 4, 'study MB': round(stored / MB), 'MB/s': round(bytes / MB / four.seconds), ...memoryColumns(target, four.memory) });
      return out;
    });
    return [...rows, ...ratioRows(rows, ['clients'], ['MB/s', 'server RSS MB'])];
  },
};
