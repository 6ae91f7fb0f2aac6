import type { Benchmark } from '../lib/benchmark';
import { ratioRows } from '../lib/context';
import { ctInstance, newStudy, type CtSeries } from '../lib/dicom-gen';
import { stowStream } from '../lib/dicomweb';
import { processMemory } from '../lib/procs';
import { MB, round } from '../lib/report';

export const ingestMemory: Benchmark = {
  name: 'ingest-memory',
  description: 'peak memory while one STOW-RS request of BENCH_INGEST_MB (0.5 MB CT instances, streamed by the client) is received; a freshly started server each',
  async run(ctx) {
    // A new process each: its VmHWM then covers this request and nothing before it.
    const rows = await ctx.each(ctx.compared(), async (target) => {
      const study = newStudy();
      const series: CtSeries = { studyUid: study.studyUid, seriesUid: study.series(1), patientId: 'BENCHBIG', count: 0 };
      const size = ctInstance(series, 0).length;
      const count = Math.max(1, Math.floor((ctx.sizes.ingestMb * MB) / size));
      await ctx.quiet(target);
      const serverPid = (await target.groups())[target.name]![0]!;
      const before = (await processMemory(serverPid))!;
      const pushed = await ctx.measure(target, () => stowStream(target, count, size, (i) => ctInstance(series, i)));
      const after = (await processMemory(serverPid))!;
      return [
        {
          target: target.name,
          'request MB': round((count * size) / MB),
          instances: count,
          seconds: round(pushed.seconds),
          'MB/s': round((count * size) / MB / pushed.seconds),
          'server RSS before MB': round(before.rssKb / 1024),
          'server peak RSS MB': pushed.memory[target.name]?.rssMb ?? '',
          'server VmHWM MB': round(after.hwmKb / 1024),
          'PG peak PSS MB': pushed.memory[`${target.name} postgres`]?.pssMb ?? '',
        },
      ];
    }, { fresh: true });
    return [...rows, ...ratioRows(rows, ['request MB'], ['MB/s', 'server peak RSS MB', 'server VmHWM MB', 'PG peak PSS MB'])];
  },
};
