import type { Benchmark } from '../lib/benchmark';
import { memoryColumns, ratioRows } from '../lib/context';
import { writeCtStudy } from '../lib/dicom-gen';
import { waitUntilSearchable } from '../lib/dicomweb';
import { MB, round, type Row } from '../lib/report';
import { storescu } from '../lib/storescu';
import { Unsupported } from '../lib/target';

const SENDERS = [1, 4] as const;

export const cstore: Benchmark = {
  name: 'cstore',
  description: 'DCMTK storescu pushes BENCH_INSTANCES CT instances (512×512×16 bit, ~0.5 MB) over 1 and 4 concurrent associations',
  async run(ctx) {
    // One study per sender count, pushed to every server: the same bytes, new UIDs per run.
    const studies = new Map<number, Awaited<ReturnType<typeof writeCtStudy>>>();
    for (const senders of SENDERS) studies.set(senders, await writeCtStudy(await ctx.dir(`cstore-${senders}`), ctx.sizes.instances, senders));

    const rows = await ctx.each(ctx.compared(), async (target) => {
      const out: Row[] = [];
      for (const senders of SENDERS) {
        const study = studies.get(senders)!;
        await ctx.quiet(target);
        const pushed = await ctx.measure(target, () => Promise.all(study.senderDirs.map((dir, k) => storescu(target, dir, study.files[k]!.length))));
        const stored = pushed.value.reduce((sum, o) => sum + o.stored, 0);
        const problem = pushed.value.find((o) => o.problem)?.problem;
        if (problem && stored === 0 && /refused|Association Request Failed|Association Rejected|Peer aborted/i.test(problem)) {
          throw new Unsupported(`${target.name} does not accept C-STORE from ${target.dicom.callingAe} at ${target.dicom.calledAe}@${target.dicom.host}:${target.dicom.port}: ${problem}`);
        }
        if (problem) {
          // the other runs' rows still count
          ctx.failures.push(`${target.name}, ${senders} sender(s): ${problem}`);
          continue;
        }
        const searchable = await waitUntilSearchable(target, study.studyUid, study.instances).then(round, (err: Error) => `n/a (${err.message.slice(0, 60)})`);
        out.push({
          target: target.name,
          senders,
          instances: stored,
          seconds: round(pushed.seconds),
          'inst/s': round(stored / pushed.seconds),
          'MB/s': round(study.bytes / MB / pushed.seconds),
          'searchable after s': searchable,
          ...memoryColumns(target, pushed.memory),
        });
      }
      return out;
    });
    return [...rows, ...ratioRows(rows, ['senders'], ['inst/s', 'MB/s', 'server RSS MB', 'PG PSS MB'])];
  },
};
