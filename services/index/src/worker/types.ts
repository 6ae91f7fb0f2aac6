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
