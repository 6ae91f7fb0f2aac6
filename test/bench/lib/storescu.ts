import { writeFile } from 'node:fs/promises';
import { runCommand } from './process';
import type { Target } from './target';

export interface StoreOutcome {
  stored: number;
  /** storescu's exit code and last output, when not every instance was stored. */
  problem?: string;
}

/**
 * DCMTK storescu pushing every file of `dir` over one association, as a PACS does; counts
 * the C-STORE responses with status Success.
 */
export async function storescu(target: Target, dir: string, expected: number): Promise<StoreOutcome> {
  const { host, port, calledAe, callingAe } = target.dicom;
  // DCMTK as packaged leaves Nagle's algorithm on unless TCP_NODELAY=1 is set, which costs
  // ~40 ms (a delayed ACK) per instance on both ends; the same setting for every server.
  const result = await runCommand('storescu', ['-v', '--no-halt', '-aet', callingAe, '-aec', calledAe, host, String(port), '+sd', dir], {
    env: { ...process.env, TCP_NODELAY: '1' },
  });
  const output = result.stdout + result.stderr;
  // kept beside the files (BENCH_KEEP keeps the scratch folder) for a look at what went wrong
  await writeFile(`${dir}.${target.name}.storescu.log`, output);
  const stored = output.split('Received Store Response (Success)').length - 1;
  if (stored === expected && result.code === 0) return { stored };
  const lines = output.split('\n').filter((l) => /^[EWF]:|Response \((?!Success)/.test(l));
  return { stored, problem: `storescu exit ${result.code}, ${stored}/${expected} stored: ${lines.slice(0, 3).join(' | ') || output.trim().split('\n').slice(-2).join(' | ')} (log: ${dir}.${target.name}.storescu.log)` };
}
