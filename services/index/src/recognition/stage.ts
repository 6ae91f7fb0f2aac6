import type { Knex } from '@hub/shared/db';
import type { Metrics } from '@hub/shared/http';
import type { Logger } from '@hub/shared/log';
import { recognitionFactsCache, type FactsCache } from '@hub/shared/recognition';
import { Counter } from 'prom-client';
import { recordResult } from './record';
import type { ResultKind } from './results';
import { foldDailyDeltas } from './rollup';

const MAX_ATTEMPTS = 5;

export interface RecognitionStageOptions {
  db: Knex;
  log: Logger;
  metrics?: Metrics;
  /** queue rows claimed per transaction */
  batchSize?: number;
  /** how often an idle stage looks for work and folds the roll-ups */
  pollMs?: number;
  /** how stale the catalog, qualifications and placements may be (default 0: each batch asks whether they changed) */
  factsStaleMs?: number;
}

export interface RecognitionStage {
  start(): void;
  /** Finishes the batch in hand, then resolves. */
  stop(): Promise<void>;
  /** Maps everything queued now and folds the roll-ups, in this call (tests, bulk import). */
  drain(): Promise<number>;
}

/**
 * The recognition stage: follows results as the index writes them (recognition_queue, fed by
 * triggers on lab_reports and studies), maps each to its catalog items, records missed repeats,
 * and folds the daily roll-ups. Its own loop beside the index workers, so the lab and imaging
 * indexers know nothing of recognition, and a slow catalog match never holds up an ACK.
 */
export function createRecognitionStage(options: RecognitionStageOptions): RecognitionStage {
  const { db, log } = options;
  const batchSize = options.batchSize ?? 200;
  const facts: FactsCache = recognitionFactsCache(db, options.factsStaleMs ?? 0);
  const registry = options.metrics?.registry;
  const mapped = new Counter({ name: 'hub_recognition_results_total', help: 'Results mapped to catalog items, by kind and outcome', labelNames: ['kind', 'outcome'] as const, registers: registry ? [registry] : [] });
  const missed = new Counter({ name: 'hub_recognition_missed_repeats_total', help: 'Repeats made while a recognizable prior existed and no decision covered them', registers: registry ? [registry] : [] });

  async function stageBatch(): Promise<number> {
    return db.transaction(async (trx) => {
      const { rows } = await trx.raw(
        `select id, kind, result_id, attempts from recognition_queue where attempts < ? order by id limit ? for update skip locked`,
        [MAX_ATTEMPTS, batchSize],
      );
      const queued = rows as Array<{ id: number; kind: ResultKind; result_id: number; attempts: number }>;
      if (queued.length === 0) return 0;
      const known = await facts.get();
      // a result queued several times (a study's instances) is mapped once
      const results = new Map<string, typeof queued>();
      for (const q of queued) results.set(`${q.kind}|${q.result_id}`, [...(results.get(`${q.kind}|${q.result_id}`) ?? []), q]);
      const done: number[] = [];
      for (const group of results.values()) {
        const { kind, result_id: resultId } = group[0]!;
        try {
          const recorded = await trx.transaction((sp) => recordResult(sp, known, kind, resultId));
          mapped.inc({ kind, outcome: recorded.length > 0 ? 'mapped' : 'no-item' });
          for (const r of recorded) if (r.missed) missed.inc();
          done.push(...group.map((q) => q.id));
        } catch (err) {
          mapped.inc({ kind, outcome: 'failed' });
          log.warn({ err, kind, resultId }, 'could not map a result to the recognition catalog; it stays queued');
          const message = (err instanceof Error ? err.message : String(err)).slice(0, 2000);
          await trx('recognition_queue').whereIn('id', group.map((q) => q.id)).update({ attempts: trx.raw('attempts + 1'), error: message });
        }
      }
      if (done.length > 0) await trx('recognition_queue').whereIn('id', done).delete();
      return queued.length;
    });
  }

  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;

  async function run(): Promise<void> {
    while (running) {
      let claimed = 0;
      try {
        claimed = await stageBatch();
        if (claimed < batchSize) await foldDailyDeltas(db);
      } catch (err) {
        log.error({ err }, 'recognition stage batch failed');
      }
      if (claimed < batchSize && running) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => resolve(), options.pollMs ?? 500);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    }
  }

  return {
    start() {
      running = true;
      loop = run();
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
    async drain() {
      facts.invalidate();
      let total = 0;
      for (let n = await stageBatch(); n > 0; n = await stageBatch()) total += n;
      await foldDailyDeltas(db);
      return total;
    },
  };
}
