import { createHash, randomBytes } from 'node:crypto';
import { badInput } from '@hub/shared/errors';
import { Histogram } from 'prom-client';
import { ACCEPTED_CHANNEL, acceptedCounter, createAccept, type Accept, type AcceptDeps, type Accepted, type Acceptance } from './accept';

export interface BatchAcceptOptions {
  /** Most acceptances one batch writes. */
  maxBatch?: number;
  /** Most bytes of originals one batch writes (a batch always takes at least one). */
  maxBatchBytes?: number;
  /**
   * Batches written at once. The objects of the next batch are stored while the rows of the
   * previous one commit; rows still commit in batch order, so acceptances keep their order.
   */
  maxInFlight?: number;
  /** With a batch already being written, how long the next one may gather before it starts too. */
  lingerMs?: number;
}

export interface BatchAccept {
  /** The accept contract, for small objects whose body is a Buffer (a stream goes the single path). */
  accept: Accept;
  /** Writes everything already handed in, then resolves. */
  stop(): Promise<void>;
}

interface Pending {
  a: Acceptance & { body: Buffer };
  resolve(accepted: Accepted): void;
  reject(err: unknown): void;
}

interface Inserted {
  id: number;
  /** Another version of the same identity was accepted before. */
  earlier: boolean;
}

interface Placed {
  item: Pending;
  blobKey: string;
  blobOffset: number;
}

const START = Buffer.from([0x0b]);
const END = Buffer.from([0x1c, 0x0d]);
const sameObject = (a: Acceptance) => `${a.kind}\u0000${a.identity}\u0000${a.sha256}`;
const sameIdentity = (a: Acceptance) => `${a.kind}\u0000${a.identity}`;
const folderOf = (key: string) => key.slice(0, key.lastIndexOf('/') + 1);

/**
 * Group commit for the accept path (HL7 v2 over MLLP and HTTP: thousands of messages of a few
 * KB a second). Acceptances from every connection are gathered while the previous batch is
 * written; then, for a whole batch, the originals go to the blob store as one segment object
 * per folder (each original MLLP-framed, so a segment can be replayed to any MLLP listener),
 * and all rows are inserted by one statement with one notification. Each caller's promise
 * resolves only after that statement committed — nothing is acknowledged before it is
 * durable — and a batch that cannot be stored rejects every caller in it, leaving at most a
 * segment no row names (the reconciler's to collect). The same object twice in a batch is
 * written once; one accepted before (a resend) gets no second row and is answered as a
 * `duplicate` — its bytes are not looked up first, which would cost every batch a round trip
 * for the rare resend, so they sit unreferenced in the segment.
 *
 * A row names its segment in `blob_key` and its place in `blob_offset` (`size` bytes): the
 * original is `blob.get(blob_key, { start: blob_offset, end: blob_offset + size - 1 })`.
 */
export function createBatchAccept(deps: AcceptDeps, options: BatchAcceptOptions = {}): BatchAccept {
  const maxBatch = options.maxBatch ?? 500;
  const maxBatchBytes = options.maxBatchBytes ?? 8 << 20;
  const maxInFlight = options.maxInFlight ?? 2;
  const lingerMs = options.lingerMs ?? 2;
  const single = createAccept(deps);
  const accepted = acceptedCounter(deps.metrics);
  const batchSize =
    (deps.metrics?.registry.getSingleMetric('hub_accept_batch_size') as Histogram | undefined) ??
    new Histogram({
      name: 'hub_accept_batch_size',
      help: 'Objects written by one group commit of the batched accept path',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500],
      registers: deps.metrics ? [deps.metrics.registry] : [],
    });

  const queue: Pending[] = [];
  const running = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let lingered = false;
  let stopping = false;
  // Rows commit in the order batches were started: a later batch waits for the earlier one's turn.
  let rowsTurn: Promise<void> = Promise.resolve();

  function schedule(): void {
    while (queue.length > 0 && running.size < maxInFlight) {
      // A second batch in flight is only worth its own writes once it has gathered some objects.
      if (running.size > 0 && queue.length < maxBatch && !lingered && !stopping) {
        timer ??= setTimeout(() => {
          timer = undefined;
          lingered = true;
          schedule();
        }, lingerMs);
        return;
      }
      lingered = false;
      let bytes = 0;
      let n = 0;
      while (n < queue.length && n < maxBatch && (n === 0 || bytes + queue[n]!.a.size <= maxBatchBytes)) bytes += queue[n++]!.a.size;
      const batch = queue.splice(0, n);
      const previous = rowsTurn;
      let release!: () => void;
      rowsTurn = new Promise((resolve) => (release = resolve));
      const done: Promise<void> = write(batch, previous)
        .catch((err) => {
          deps.log.error({ err, objects: batch.length }, 'batch could not be stored; every acceptance in it refused');
          for (const item of batch) item.reject(err);
        })
        .finally(() => {
          // a batch that failed before its turn still hands the turn on only after the one before it
          void previous.then(release);
          running.delete(done);
          schedule();
        });
      running.add(done);
    }
  }

  /** Stores one batch: its originals into segments, then all rows in one statement, then answers each caller. */
  async function write(batch: Pending[], previous: Promise<void>): Promise<void> {
    batchSize.observe(batch.length);
    const firsts = new Map<string, Pending>();
    const followers: Array<[Pending, Pending]> = [];
    for (const item of batch) {
      const first = firsts.get(sameObject(item.a));
      if (first) followers.push([item, first]);
      else firsts.set(sameObject(item.a), item);
    }
    const started = performance.now();
    const placed = await storeSegments([...firsts.values()]);
    const stored = performance.now();
    await previous;
    const turn = performance.now();
    const rows = await insertRows(placed);
    const ms = (from: number, to: number) => Math.round((to - from) * 10) / 10;
    deps.log.debug({ objects: batch.length, storeMs: ms(started, stored), waitMs: ms(stored, turn), rowsMs: ms(turn, performance.now()), queued: queue.length }, 'accept batch written');

    // Not inserted and not refused: accepted before (a resend), or by someone else meanwhile.
    const known = await existingIds(placed.filter((p) => !rows.has(sameObject(p.item.a))).map((p) => p.item.a));
    const results = new Map<Pending, Accepted | Error>();
    const seen = new Set<string>();
    for (const { item } of placed) {
      const row = rows.get(sameObject(item.a));
      if (row instanceof Error) results.set(item, row);
      else if (row === undefined) results.set(item, { acceptedId: known.get(sameObject(item.a))!, outcome: 'duplicate' });
      else results.set(item, { acceptedId: row.id, outcome: row.earlier || seen.has(sameIdentity(item.a)) ? 'replaced' : 'stored' });
      seen.add(sameIdentity(item.a));
    }
    for (const [item, first] of followers) {
      const result = results.get(first)!;
      results.set(item, result instanceof Error ? result : { acceptedId: result.acceptedId, outcome: 'duplicate' });
    }
    for (const item of batch) {
      const result = results.get(item)!;
      if (result instanceof Error) {
        item.reject(result);
        continue;
      }
      accepted.inc({ kind: item.a.kind, source: item.a.source, outcome: result.outcome });
      item.resolve(result);
    }
  }

  /** The rows of objects accepted before: (kind, identity, sha256) → id. */
  async function existingIds(list: Acceptance[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (list.length === 0) return out;
    // accepted_objects_identity_key serves it
    const { rows } = await deps.db.raw(
      `select a.id, a.kind, a.identity, a.sha256 from accepted_objects a
       join unnest(?::text[], ?::text[], ?::text[]) k(kind, identity, sha256) on a.kind = k.kind and a.identity = k.identity and a.sha256 = k.sha256`,
      [list.map((a) => a.kind), list.map((a) => a.identity), list.map((a) => a.sha256)],
    );
    for (const r of rows as Array<{ id: string; kind: string; identity: string; sha256: string }>) out.set(`${r.kind}\u0000${r.identity}\u0000${r.sha256}`, Number(r.id));
    for (const a of list) if (!out.has(sameObject(a))) throw new Error(`accepted row for ${a.kind} ${a.identity} neither inserted nor found`);
    return out;
  }

  /** One segment per folder of the acceptances' keys, written side by side; each original framed. */
  async function storeSegments(items: Pending[]): Promise<Placed[]> {
    const byFolder = new Map<string, Pending[]>();
    for (const item of items) {
      const folder = folderOf(item.a.blobKey);
      if (!byFolder.has(folder)) byFolder.set(folder, []);
      byFolder.get(folder)!.push(item);
    }
    const placed = new Map<Pending, Placed>();
    const writes: Promise<unknown>[] = [];
    for (const [folder, items] of byFolder) {
      const key = `${folder}seg-${new Date().toISOString().replace(/[-:.]/g, '')}-${randomBytes(6).toString('hex')}.mllp`;
      const parts: Buffer[] = [];
      let offset = 0;
      for (const item of items) {
        placed.set(item, { item, blobKey: key, blobOffset: offset + START.length });
        parts.push(START, item.a.body, END);
        offset += START.length + item.a.body.length + END.length;
      }
      writes.push(deps.blob.put(key, Buffer.concat(parts, offset), { size: offset, contentType: 'application/octet-stream' }));
    }
    await Promise.all(writes);
    // rows keep the order acceptances were handed in, whatever segment holds them
    return items.map((item) => placed.get(item)!);
  }

  /** The rows of a batch in one statement (one commit, one notification); falls back to one by one so a row PostgreSQL refuses costs only its own acceptance. */
  async function insertRows(placed: Placed[]): Promise<Map<string, Inserted | Error>> {
    try {
      return await insertStatement(placed);
    } catch (err) {
      if (placed.length === 1) throw err;
      deps.log.warn({ err, objects: placed.length }, 'batch rows refused; recording them one by one');
      const ids = new Map<string, Inserted | Error>();
      for (const p of placed) {
        try {
          for (const [k, v] of await insertStatement([p])) ids.set(k, v);
        } catch (one) {
          deps.log.error({ err: one, kind: p.item.a.kind, identity: p.item.a.identity }, 'accepted row refused');
          ids.set(sameObject(p.item.a), one instanceof Error ? one : new Error(String(one)));
        }
      }
      return ids;
    }
  }

  async function insertStatement(placed: Placed[]): Promise<Map<string, Inserted | Error>> {
    const ids = new Map<string, Inserted | Error>();
    if (placed.length === 0) return ids;
    const rows = placed.map((p, ord) => ({
      ord,
      kind: p.item.a.kind,
      organization_id: p.item.a.organizationId,
      identity: p.item.a.identity,
      sha256: p.item.a.sha256,
      size: p.item.a.size,
      blob_key: p.blobKey,
      blob_offset: p.blobOffset,
      source: p.item.a.source,
      summary: p.item.a.summary,
    }));
    // One statement is one transaction: every row of the batch commits, or none. A row already
    // there is left alone (a resend); `earlier` says whether another version of the identity was
    // (the statement sees the table as it was before it). The notification, once per kind, goes
    // out at the commit, and only when a row was inserted.
    const { rows: inserted } = await deps.db.raw(
      `with ins as (
         insert into accepted_objects (kind, organization_id, identity, sha256, size, blob_key, blob_offset, source, summary)
         select kind, organization_id, identity, sha256, size, blob_key, blob_offset, source, summary
         from json_to_recordset(?::json) as r(ord int, kind text, organization_id bigint, identity text, sha256 text, size bigint, blob_key text, blob_offset bigint, source text, summary jsonb)
         order by ord
         on conflict (kind, identity, sha256) do nothing
         returning id, kind, identity, sha256
       ),
       notified as (select pg_notify(?, k.kind) from (select distinct kind from ins) k)
       select id, kind, identity, sha256,
              exists (select 1 from accepted_objects e where e.kind = ins.kind and e.identity = ins.identity and e.sha256 <> ins.sha256) as earlier,
              (select count(*) from notified) as notifications
       from ins`,
      [JSON.stringify(rows), ACCEPTED_CHANNEL],
    );
    for (const r of inserted as Array<{ id: string; kind: string; identity: string; sha256: string; earlier: boolean }>) ids.set(`${r.kind}\u0000${r.identity}\u0000${r.sha256}`, { id: Number(r.id), earlier: r.earlier });
    return ids;
  }

  return {
    accept(a) {
      if (!Buffer.isBuffer(a.body)) return single(a);
      const body = a.body;
      // What the blob store would check on its own put, checked before the object joins a batch.
      if (body.length !== a.size) return Promise.reject(badInput(`body is ${body.length} bytes, expected ${a.size}`, { code: 'size-mismatch' }));
      const sha256 = createHash('sha256').update(body).digest('hex');
      if (sha256 !== a.sha256) return Promise.reject(badInput(`body SHA-256 is ${sha256}, expected ${a.sha256}`, { code: 'sha256-mismatch' }));
      return new Promise<Accepted>((resolve, reject) => {
        queue.push({ a: { ...a, body }, resolve, reject });
        schedule();
      });
    },
    async stop() {
      stopping = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      schedule();
      while (running.size > 0) {
        await Promise.all([...running]);
        schedule();
      }
    },
  };
}
