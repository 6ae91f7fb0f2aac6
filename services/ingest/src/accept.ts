import type { Readable } from 'node:stream';
import type { BlobStore } from '@hub/shared/blob';
import type { Knex } from '@hub/shared/db';
import type { Logger } from '@hub/shared/log';
import { Counter } from 'prom-client';
import type { Metrics } from '@hub/shared/http';

/** The channel the index workers LISTEN on (services/index ACCEPTED_CHANNEL). */
export const ACCEPTED_CHANNEL = 'hub_accepted';

export type AcceptedKind = 'dicom' | 'hl7v2' | 'fhir';

export interface Acceptance {
  kind: AcceptedKind;
  organizationId: number;
  /** What makes a push the same push: the SOP Instance UID; `${orgId}|${MSH-10}`; … */
  identity: string;
  /** The door: 'stow-rs', 'c-store', 'mllp', 'http-hl7', 'fhir'. */
  source: string;
  /** Derived from the identity and the content hash, so a new version never overwrites an old one. */
  blobKey: string;
  /** The object; its size and SHA-256 are known before it is accepted (doors hash as they receive). */
  body: Readable | Buffer;
  size: number;
  sha256: string;
  contentType?: string;
  /** What the door parsed, for the workers; never a clear national ID. */
  summary: Record<string, unknown>;
  /** The door already looked for an earlier acceptance of the same bytes (and found none): no second look. */
  duplicateChecked?: boolean;
}

export interface Accepted {
  acceptedId: number;
  /** `stored`: new; `duplicate`: the same identity and bytes were accepted before (nothing new); `replaced`: a new version of a known identity. */
  outcome: 'stored' | 'duplicate' | 'replaced';
}

export interface AcceptDeps {
  db: Knex;
  blob: BlobStore;
  log: Logger;
  metrics?: Metrics;
}

export type Accept = (acceptance: Acceptance) => Promise<Accepted>;

/**
 * The one path every door ends in: the object goes to the blob store first, then its row is
 * committed (with a notification for the workers), and only then may the door acknowledge.
 * A crash between the two leaves an object without a row, which the reconciler collects;
 * a row without its object cannot exist.
 */
export function createAccept(deps: AcceptDeps): Accept {
  const accepted = acceptedCounter(deps.metrics);

  return async (a) => {
    const known = a.duplicateChecked ? undefined : await deps.db('accepted_objects').where({ kind: a.kind, identity: a.identity, sha256: a.sha256 }).first('id');
    if (known) {
      if (!Buffer.isBuffer(a.body)) a.body.resume();
      accepted.inc({ kind: a.kind, source: a.source, outcome: 'duplicate' });
      return { acceptedId: known.id, outcome: 'duplicate' };
    }

    await deps.blob.put(a.blobKey, a.body, { size: a.size, sha256: a.sha256, contentType: a.contentType });

    // One statement, one round trip, one commit: the row, whether an earlier version exists, and
    // the workers' notification (sent on commit, and only when a row was inserted).
    const { rows } = await deps.db.raw(
      `with inserted as (
         insert into accepted_objects (kind, organization_id, identity, sha256, size, blob_key, source, summary)
         values (?, ?, ?, ?, ?, ?, ?, ?)
         on conflict (kind, identity, sha256) do nothing
         returning id),
       notified as (select pg_notify(?, ?) from inserted)
       select (select id from inserted) as id,
              (select count(*) from notified) as notified,
              exists (select 1 from accepted_objects where kind = ? and identity = ? and sha256 <> ?) as earlier`,
      [a.kind, a.organizationId, a.identity, a.sha256, a.size, a.blobKey, a.source, JSON.stringify(a.summary), ACCEPTED_CHANNEL, a.kind, a.kind, a.identity, a.sha256],
    );
    const row = rows[0] as { id: string | number | null; earlier: boolean };
    let result: Accepted;
    if (row.id === null) {
      // the same push raced us and won: one row, one object (same key, same bytes)
      const winner = await deps.db('accepted_objects').where({ kind: a.kind, identity: a.identity, sha256: a.sha256 }).first('id');
      result = { acceptedId: Number(winner.id), outcome: 'duplicate' };
    } else {
      result = { acceptedId: Number(row.id), outcome: row.earlier ? 'replaced' : 'stored' };
    }
    accepted.inc({ kind: a.kind, source: a.source, outcome: result.outcome });
    return result;
  };
}

const ACCEPTED_METRIC = 'hub_accepted_objects_total';

/** The one counter of accepted objects per registry, whichever accept path (single or batched) counts. */
export function acceptedCounter(metrics: Metrics | undefined): Counter<'kind' | 'source' | 'outcome'> {
  const known = metrics?.registry.getSingleMetric(ACCEPTED_METRIC);
  if (known) return known as Counter<'kind' | 'source' | 'outcome'>;
  return new Counter({
    name: ACCEPTED_METRIC,
    help: 'Objects accepted by the doors, by kind, door and outcome',
    labelNames: ['kind', 'source', 'outcome'] as const,
    registers: metrics ? [metrics.registry] : [],
  });
}
