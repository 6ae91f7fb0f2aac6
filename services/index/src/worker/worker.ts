import type { Knex } from '@hub/shared/db';
import { isHubError } from '@hub/shared/errors';
import type { Metrics } from '@hub/shared/http';
import { Counter, Histogram } from 'prom-client';
import pg from 'pg';
import { lockOrder } from './order';
import type { AcceptedKind, AcceptedObject, IndexBatchHandler, IndexContext, IndexHandler } from './types';

/** The channel ingest notifies (in the accepting transaction) so workers wake at once. */
export const ACCEPTED_CHANNEL = 'hub_accepted';
const MAX_ATTEMPTS = 5;

export interface IndexWorkerOptions {
  db: Knex;
  /** For LISTEN on a connection of its own. */
  databaseUrl: string;
  ctx: IndexContext;
  handlers: Partial<Record<AcceptedKind, IndexHandler>>;
  /** Kinds that can also be indexed a claimed batch at a time (set-based), falling back to `handlers`. */
  batchHandlers?: Partial<Record<AcceptedKind, IndexBatchHandler>>;
  loops: number;
  batchSize: number;
  metrics?: Metrics;
  /** Fallback poll when no notification arrives. */
  pollMs?: number;
}

export interface IndexWorker {
  start(): Promise<void>;
  /** Finishes the batches in hand, then resolves. */
  stop(): Promise<void>;
  /** Indexes everything pending now, in this call; for tests and the bulk importer. */
  drain(): Promise<number>;
}

const toObject = (row: Record<string, unknown>): AcceptedObject => ({
  id: row.id as number,
  kind: row.kind as AcceptedKind,
  organizationId: row.organization_id as number,
  identity: row.identity as string,
  sha256: row.sha256 as string,
  size: row.size as number,
  blobKey: row.blob_key as string,
  blobOffset: row.blob_offset === null || row.blob_offset === undefined ? null : Number(row.blob_offset),
  source: row.source as string,
  summary: row.summary as Record<string, unknown>,
  attempts: row.attempts as number,
  receivedAt: row.received_at as Date,
});

export function createIndexWorker(options: IndexWorkerOptions): IndexWorker {
  const { db, ctx, handlers } = options;
  const registry = options.metrics?.registry;
  const indexed = new Counter({ name: 'hub_index_objects_total', help: 'Accepted objects indexed, by kind and outcome', labelNames: ['kind', 'outcome'] as const, registers: registry ? [registry] : [] });
  const lag = new Histogram({ name: 'hub_index_lag_seconds', help: 'From acknowledgement to visible in the index', labelNames: ['kind'] as const, buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15, 60, 300], registers: registry ? [registry] : [] });

  let running = false;
  // Every sleeping loop, so a notification or stop() wakes them all.
  const sleepers = new Set<() => void>();
  const wakeAll = () => {
    for (const wake of sleepers) wake();
  };
  let listener: pg.Client | undefined;
  const loops: Promise<void>[] = [];

  /**
   * Claims one batch and indexes it in one transaction, in lock order (see lockOrder): each
   * run of one kind with a batch handler in one savepoint, else (or when that fails, and for
   * what it leaves) each object in a savepoint of its own. Returns how many were claimed.
   */
  async function indexBatch(): Promise<number> {
    return db.transaction(async (trx) => {
      const { rows } = await trx.raw(
        `select * from accepted_objects where state = 'accepted' and (retry_at is null or retry_at <= now()) order by id limit ? for update skip locked`,
        [options.batchSize],
      );
      const objects = lockOrder((rows as Record<string, unknown>[]).map(toObject));
      const done: AcceptedObject[] = [];
      for (let start = 0; start < objects.length; ) {
        const kind = objects[start]!.kind;
        let end = start;
        while (end < objects.length && objects[end]!.kind === kind) end++;
        const run = objects.slice(start, end);
        start = end;
        const batchHandler = options.batchHandlers?.[kind];
        let oneByOne = run;
        if (batchHandler) {
          try {
            const left = new Set(((await trx.transaction((sp) => batchHandler(sp, run, ctx))) ?? []).map((o) => o.id));
            done.push(...run.filter((o) => !left.has(o.id)));
            oneByOne = run.filter((o) => left.has(o.id));
          } catch (err) {
            ctx.log.info({ kind, objects: run.length, err }, 'batch indexing failed; indexing its objects one by one');
          }
        }
        for (const object of oneByOne) if (await indexOne(trx, object)) done.push(object);
      }
      if (done.length > 0) {
        // clock_timestamp(), not now(): when the batch was written, just before it becomes visible, not when it was claimed
        await trx('accepted_objects').whereIn('id', done.map((o) => o.id)).update({ state: 'indexed', indexed_at: trx.raw('clock_timestamp()'), attempts: trx.raw('attempts + 1'), error: null });
        const now = Date.now();
        for (const object of done) {
          indexed.inc({ kind: object.kind, outcome: 'indexed' });
          lag.observe({ kind: object.kind }, (now - object.receivedAt.getTime()) / 1000);
        }
      }
      return rows.length;
    });
  }

  /** One object in a savepoint of its own; a failure is recorded on its row. True when indexed. */
  async function indexOne(trx: Knex.Transaction, object: AcceptedObject): Promise<boolean> {
    const handler = handlers[object.kind];
    try {
      if (!handler) throw new Error(`no indexer for ${object.kind} in this process`);
      await trx.transaction((sp) => handler(sp, object, ctx));
      return true;
    } catch (err) {
      const permanent = isHubError(err, 'BadInput') || object.attempts + 1 >= MAX_ATTEMPTS;
      const message = err instanceof Error ? err.message : String(err);
      await trx('accepted_objects')
        .where({ id: object.id })
        .update({
          state: permanent ? 'failed' : 'accepted',
          attempts: object.attempts + 1,
          error: message.slice(0, 2000),
          // back off 2, 4, 8, 16 s so a failing object does not spin the loop
          retry_at: permanent ? null : trx.raw(`now() + interval '1 second' * ?`, [2 ** (object.attempts + 1)]),
        });
      indexed.inc({ kind: object.kind, outcome: permanent ? 'failed' : 'retry' });
      ctx.log[permanent ? 'warn' : 'info']({ acceptedId: object.id, kind: object.kind, err }, permanent ? 'could not index; kept as failed' : 'indexing failed; will retry');
      return false;
    }
  }

  async function loop(): Promise<void> {
    while (running) {
      let claimed = 0;
      try {
        claimed = await indexBatch();
      } catch (err) {
        ctx.log.error({ err }, 'index batch failed');
      }
      if (claimed === 0 && running) {
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            sleepers.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, options.pollMs ?? 1000);
          sleepers.add(wake);
        });
      }
    }
  }

  return {
    async start() {
      running = true;
      listener = new pg.Client({ connectionString: options.databaseUrl, application_name: 'hub index listener' });
      await listener.connect();
      listener.on('notification', wakeAll);
      listener.on('error', (err) => ctx.log.warn({ err }, 'index listener connection lost; polling'));
      await listener.query(`listen ${ACCEPTED_CHANNEL}`);
      for (let i = 0; i < options.loops; i++) loops.push(loop());
    },
    async stop() {
      running = false;
      wakeAll();
      await Promise.all(loops);
      await listener?.end().catch(() => undefined);
    },
    async drain() {
      let total = 0;
      for (let n = await indexBatch(); n > 0; n = await indexBatch()) total += n;
      return total;
    },
  };
}
