import { copyCeiling } from './benchmarks/copy-ceiling';
import { cstore } from './benchmarks/cstore';
import { ingestMemory } from './benchmarks/ingest-memory';
import { mllp } from './benchmarks/mllp';
import { observationsTenMillion } from './benchmarks/observations-10m';
import { qidoBenchmark } from './benchmarks/qido';
import { qidoMillion } from './benchmarks/qido-1m';
import { stowBenchmark } from './benchmarks/stow';
import { wado } from './benchmarks/wado';
import type { Benchmark } from './lib/benchmark';
import { BenchContext, sizeVariables, sizesFromEnvironment, type TargetName } from './lib/context';
import { canCreateNamespaces, DEFAULT_NAMESPACE, insideNamespace, rerunInNamespace } from './lib/netns';
import { machine, table } from './lib/report';
import { ensureOrthancInstalled } from './orthanc';
import { recognitionBenchmark } from './recognition';

/**
 * npm run bench [-- NAME…]: runs the benchmarks (all, or those named) and prints their
 * figures with the machine they ran on. Nothing is written to the docs: the figures are
 * copied into docs/benchmarks.md by hand, with the machine section.
 *
 * As root, the whole run happens inside a network namespace of its own (see lib/netns.ts):
 * Orthanc can be measured there without ever being reachable from outside, and the hub
 * gets the same network path. Without root, only the hub is measured.
 */
const benchmarks: Benchmark[] = [cstore, stowBenchmark, wado, qidoBenchmark, ingestMemory, copyCeiling, mllp, qidoMillion, observationsTenMillion, recognitionBenchmark];
/** Run only when named: it takes long and needs only the hub. */
const onlyWhenNamed = new Set(['qido-1m', 'observations-10m', 'recognition']);
const needsOrthanc = new Set(['cstore', 'stow', 'wado', 'qido', 'ingest-memory']);

function usage(): string {
  return [
    'usage: npm run bench [-- NAME…]      (no name: every benchmark but qido-1m, observations-10m and recognition)',
    '',
    ...benchmarks.map((b) => `  ${b.name.padEnd(16)} ${b.description}`),
    '',
    'sizes (environment):',
    ...Object.values(sizeVariables).map(([variable, fallback, doc]) => `  ${variable.padEnd(24)} ${String(fallback).padStart(8)}  ${doc}`),
    '',
    '  BENCH_TARGETS   hub,orthanc   the servers to measure',
    `  BENCH_NETNS     ${DEFAULT_NAMESPACE}      network namespace name; "off" runs without one (hub only)`,
    '  BENCH_KEEP      keep the scratch folder (logs, data) after the run',
    '  BENCH_HUB_DIR   the hub\'s folder, kept between runs: a second recognition run reuses the region generated in it',
  ].join('\n');
}

function selected(names: string[]): Benchmark[] {
  if (names.length === 0) return benchmarks.filter((b) => !onlyWhenNamed.has(b.name));
  return names.map((name) => {
    const found = benchmarks.find((b) => b.name === name);
    if (!found) throw new Error(`no benchmark named "${name}"\n\n${usage()}`);
    return found;
  });
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h') || argv.includes('--list')) {
    console.log(usage());
    return 0;
  }
  const chosen = selected(argv);
  const sizes = sizesFromEnvironment(process.env);
  const wanted = (process.env.BENCH_TARGETS || 'hub,orthanc').split(',').map((t) => t.trim()) as TargetName[];
  const namespace = process.env.BENCH_NETNS || DEFAULT_NAMESPACE;

  if (!insideNamespace() && namespace !== 'off' && canCreateNamespaces()) {
    if (wanted.includes('orthanc') && chosen.some((b) => needsOrthanc.has(b.name))) ensureOrthancInstalled((line) => console.log(line));
    return rerunInNamespace(namespace);
  }

  const ctx = await BenchContext.create(sizes, wanted, (line) => console.log(line));
  let interrupted = false;
  let stopping: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    console.log(`\n${signal}: stopping the servers…`);
    // The benchmark under way fails as its servers go; the run ends when they are stopped.
    stopping = ctx.close().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const m = machine();
  console.log('# Benchmark run');
  console.log(`machine: ${m.cpu}, ${m.cores} cores, ${m.ramGb} GB RAM, ${m.kernel}; node ${m.node}; ${m.date}`);
  console.log(insideNamespace() ? `network: loopback of network namespace ${insideNamespace()}` : 'network: host loopback (no namespace: Orthanc not measured)');
  console.log(`sizes: ${Object.entries(sizes).map(([k, v]) => `${k}=${v}`).join(' ')}`);

  let failed = 0;
  try {
    for (const benchmark of chosen) {
      if (interrupted) break;
      console.log(`\n## ${benchmark.name}\n${benchmark.description}`);
      ctx.failures = [];
      const started = performance.now();
      try {
        const rows = await benchmark.run(ctx);
        if (rows.length > 0) console.log(`\n${table(rows)}\n`);
      } catch (err) {
        ctx.failures.push((err as Error).message.split('\n')[0]!);
        if (process.env.BENCH_DEBUG) console.log((err as Error).stack);
      }
      if (interrupted) break;
      for (const line of ctx.failures) console.log(`FAILED ${benchmark.name}: ${line}`);
      if (ctx.failures.length > 0) failed++;
      console.log(`(${Math.round((performance.now() - started) / 1000)} s)`);
    }
    if (ctx.notes.length > 0) console.log(`\nnotes:\n${ctx.notes.map((n) => `  - ${n}`).join('\n')}`);
  } finally {
    await (stopping ?? ctx.close());
  }
  return failed > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`bench: ${err.message}`);
    process.exit(2);
  },
);
