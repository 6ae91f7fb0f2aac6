import type { BlobStore } from '@hub/shared/blob';
import type { Knex } from '@hub/shared/db';
import type { Logger } from '@hub/shared/log';

export type AcceptedKind = 'dicom' | 'hl7v2' | 'fhir';

/** One row of accepted_objects as a worker sees it. */
export interface AcceptedObject {
  id: number;
  kind: AcceptedKind;
  organizationId: number;
  identity: string;
  sha256: string;
  size: number;
  blobKey: string;
  /** Where the original starts inside the object `blobKey` names (a segment of many); null: that object is the original. */
  blobOffset: number | null;
  source: string;
  summary: Record<string, unknown>;
  attempts: number;
  receivedAt: Date;
}

export interface IndexContext {
  blob: BlobStore;
  log: Logger;
  idHashSecret: string;
}

/**
 * Turns one accepted object into index rows inside the worker's transaction (a savepoint of
 * its own). Throwing a BadInput HubError marks the object failed for good; any other error
 * is retried on a later pass.
 */
export type IndexHandler = (trx: Knex.Transaction, object: AcceptedObject, ctx: IndexContext) => Promise<void>;

/**
 * Turns a whole claimed batch of one kind into index rows at once (set-based statements
 * instead of a few per object), inside a savepoint: all of it or none. When it throws, the
 * worker rolls it back and indexes the same objects one by one with the kind's IndexHandler,
 * so a bad object still fails alone and the others are indexed. It may also return objects
 * it left alone (one it could not read, say): the worker indexes those one by one after it,
 * and the rest of the batch stands.
 */
export type IndexBatchHandler = (trx: Knex.Transaction, objects: AcceptedObject[], ctx: IndexContext) => Promise<void | AcceptedObject[]>;
