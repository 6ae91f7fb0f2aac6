import type { Benchmark } from '../lib/benchmark';
import { ratioRows, type BenchContext } from '../lib/context';
import { qido, queryString, stow, studyInstanceCount, waitUntilSearchable } from '../lib/dicomweb';
import { buildCorpus, searchesFor, type Corpus, type SearchKind } from '../lib/qido-corpus';
import { percentile, round, type Row } from '../lib/report';
import type { Target } from '../lib/target';

const WARM_UP = 10;
const LOADERS = 4;

/** STOW-RS of the corpus from a few clients at once; then waits until the server has indexed it. */
export async function loadCorpus(ctx: BenchContext, target: Target, corpus: Corpus): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: LOADERS }, async () => {
      while (next < corpus.batches.length) await stow(target, corpus.batches[next++]!);
    }),
  );
  // Searchable: a sample of studies, the last loaded among them, shows all its instances.
  const step = Math.max(1, Math.floor(corpus.studies.length / 20));
  for (let i = corpus.studies.length - 1; i >= 0; i -= step) await waitUntilSearchable(target, corpus.studies[i]!.uid, corpus.studies[i]!.instances);
  await ctx.quiet(target);
  const seconds = (performance.now() - started) / 1000;
  // Then every study, so a search that finds other studies than the other server is a
  // difference in matching, not in what was loaded.
  const incomplete: string[] = [];
  for (const study of corpus.studies) {
    const found = await studyInstanceCount(target, study.uid);
    if (found !== study.instances) incomplete.push(`${study.uid} (${found} of ${study.instances})`);
  }
  if (incomplete.length > 0) ctx.notes.push(`qido: ${target.name} shows ${incomplete.length} of ${corpus.studies.length} studies incomplete after loading, e.g. ${incomplete[0]}`);
  return seconds;
}

/** Runs each kind's searches one after the other (after a warm-up); latencies and match counts. */
export async function runSearches(target: Target, kinds: readonly SearchKind[]): Promise<Array<{ kind: string; ms: number[]; matches: number[] }>> {
  const out = [];
  for (const { kind, searches } of kinds) {
    for (const search of searches.slice(0, WARM_UP)) await qido(target, search);
    const ms: number[] = [];
    const matches: number[] = [];
    for (const search of searches.slice(WARM_UP)) {
      const answer = await qido(target, search);
      ms.push(answer.ms);
      matches.push(answer.matches);
    }
    out.push({ kind, ms, matches });
  }
  return out;
}

export function latencyRow(target: string, kind: string, ms: readonly number[], matches: readonly number[]): Row {
  return {
    target,
    search: kind,
    searches: ms.length,
    'p50 ms': round(percentile(ms, 50)),
    'p99 ms': round(percentile(ms, 99)),
    'mean ms': round(ms.reduce((a, b) => a + b, 0) / ms.length),
    'mean matches': round(matches.reduce((a, b) => a + b, 0) / matches.length),
  };
}

export const qidoBenchmark: Benchmark = {
  name: 'qido',
  description: 'QIDO-RS study searches (by PatientID; StudyDate range + ModalitiesInStudy; PatientName wildcard), p50/p99, on the same BENCH_QIDO_INSTANCES instances in hub and Orthanc',
  async run(ctx) {
    const corpus = buildCorpus(ctx.sizes.qidoInstances, 100);
    const kinds = searchesFor(corpus.patients, ctx.sizes.qidoQueries + WARM_UP);
    const matchesBy = new Map<string, number[][]>();
    const rows = await ctx.each(ctx.compared(), async (target) => {
      const loadSeconds = await loadCorpus(ctx, target, corpus);
      ctx.notes.push(`qido: ${corpus.instances} instances (${corpus.studies.length} studies, ${corpus.patients.length} patients) loaded into ${target.name} by STOW-RS in ${round(loadSeconds)} s`);
      const results = await runSearches(target, kinds);
      matchesBy.set(target.name, results.map((r) => r.matches));
      return results.map((r) => latencyRow(target.name, r.kind, r.ms, r.matches));
    });
    // Both must answer the same searches with the same studies for the latencies to compare.
    const [hub, orthanc] = [matchesBy.get('hub'), matchesBy.get('orthanc')];
    if (hub && orthanc) {
      for (const row of rows.filter((r) => r.target === 'hub')) {
        const k = kinds.findIndex((kind) => kind.kind === row.search);
        const differing = hub[k]!.map((_, i) => i).filter((i) => hub[k]![i] !== orthanc[k]![i]);
        row['searches with other matches than Orthanc'] = differing.length;
        const i = differing[0];
        if (i !== undefined) {
          const search = kinds[k]!.searches[WARM_UP + i]!;
          ctx.notes.push(`qido: e.g. ${search.path}?${queryString(search.params)} → hub ${hub[k]![i]} matches, Orthanc ${orthanc[k]![i]}`);
        }
      }
    }
    return [...rows, ...ratioRows(rows, ['search'], ['p50 ms', 'p99 ms'])];
  },
};
