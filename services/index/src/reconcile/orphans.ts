import type { BlobInfo, BlobStore } from '@hub/shared/blob';
import type { Knex } from '@hub/shared/db';
import type { Logger } from '@hub/shared/log';

export interface OrphanSweep {
  /** Key prefixes to walk, e.g. ['dicom/', 'hl7v2/']. */
  prefixes: string[];
  /** Objects younger than this may still be waiting for their row (a door between put and commit). */
  olderThanMs: number;
  dryRun?: boolean;
  now?: Date;
}

export interface OrphanReport {
  examined: number;
  orphans: string[];
  removed: number;
}

const BATCH = 500;

/**
 * Collects objects that no accepted row describes: what a door left when it died between
 * writing the object and committing its row. Such an object was never acknowledged, so the
 * sender still holds it and will send it again; removing it loses nothing.
 */
export async function collectOrphanObjects(deps: { db: Knex; blob: BlobStore; log: Logger }, sweep: OrphanSweep): Promise<OrphanReport> {
  const cutoff = (sweep.now ?? new Date()).getTime() - sweep.olderThanMs;
  const report: OrphanReport = { examined: 0, orphans: [], removed: 0 };

  const settle = async (batch: BlobInfo[]) => {
    if (batch.length === 0) return;
    const keys = batch.map((b) => b.key);
    const described = new Set((await deps.db('accepted_objects').whereIn('blob_key', keys).pluck('blob_key')) as string[]);
    for (const key of keys) {
      if (described.has(key)) continue;
      report.orphans.push(key);
      if (sweep.dryRun) continue;
      await deps.blob.delete(key);
      report.removed++;
    }
  };

  for (const prefix of sweep.prefixes) {
    let batch: BlobInfo[] = [];
    for await (const info of deps.blob.list(prefix)) {
      report.examined++;
      // an object of unknown age is left alone: it may be in the middle of its accept
      if (!info.modifiedAt || info.modifiedAt.getTime() > cutoff) continue;
      batch.push(info);
      if (batch.length >= BATCH) {
        await settle(batch);
        batch = [];
      }
    }
    await settle(batch);
  }
  if (report.orphans.length > 0) deps.log.warn({ orphans: report.orphans.length, removed: report.removed, dryRun: Boolean(sweep.dryRun) }, 'objects without a row collected');
  return report;
}

const SWEEP_LOCK = 0x6f727068; // "orph"

/**
 * Sweeps every `intervalMs`; with several index instances only one sweeps at a time (an
 * advisory lock held for the sweep). Returns a function that stops the schedule.
 */
export function scheduleOrphanSweeps(deps: { db: Knex; blob: BlobStore; log: Logger }, intervalMs: number): () => void {
  const sweep = () =>
    deps.db
      .transaction(async (trx) => {
        const { rows } = await trx.raw('select pg_try_advisory_xact_lock(?) as mine', [SWEEP_LOCK]);
        if (!rows[0].mine) return;
        await collectOrphanObjects(deps, { prefixes: ['dicom/', 'hl7v2/', 'fhir/'], olderThanMs: 3600_000 });
      })
      .catch((err) => deps.log.error({ err }, 'orphan sweep failed'));
  const timer = setInterval(sweep, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
