import type { Benchmark } from '../lib/benchmark';
import { generateImagingIndex } from '../lib/index-rows';
import { random, searchesFor, type CorpusPatient } from '../lib/qido-corpus';
import { round } from '../lib/report';
import { latencyRow, runSearches } from './qido';

export const qidoMillion: Benchmark = {
  name: 'qido-1m',
  description: 'the qido searches on the hub alone with BENCH_QIDO_1M_INSTANCES instances indexed (index rows generated directly in its PostgreSQL); run only when named',
  async run(ctx) {
    return ctx.each(ctx.compared().filter((t) => t === 'hub'), async (hub) => {
      ctx.log(`  generating index rows for ${ctx.sizes.qidoMillion} instances…`);
      const started = performance.now();
      const index = await generateImagingIndex(hub.databaseUrl, ctx.sizes.qidoMillion, (line) => ctx.log(line));
      ctx.notes.push(`qido-1m: ${index.studies} studies of ${index.patients} patient records generated in ${round((performance.now() - started) / 1000)} s`);
      // The same kinds of searches, over patients of the generated rows.
      const rng = random(1);
      const sample: CorpusPatient[] = Array.from({ length: 1000 }, () => ({ id: `${index.patientIdPrefix}${1 + Math.floor(rng() * index.patients)}`, name: '', birthDate: '', sex: '' }));
      const results = await runSearches(hub, searchesFor(sample, ctx.sizes.qidoQueries + 10));
      return results.map((r) => ({ ...latencyRow(hub.name, r.kind, r.ms, r.matches), 'instances indexed': `≥ ${ctx.sizes.qidoMillion}` }));
    });
  },
};
