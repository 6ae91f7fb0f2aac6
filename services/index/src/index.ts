import type { Hub, ServicePart } from '@hub/shared/runtime';
import { scheduleOrphanSweeps } from './reconcile';
import { indexDicom, indexDicomBatch } from './imaging';
import { indexFhirBundle, indexHl7v2, indexLabBatch } from './lab';
import { createRecognitionStage } from './recognition';
import { createIndexWorker, type AcceptedKind, type IndexBatchHandler, type IndexHandler } from './worker';

export { linkPatient, livePerson, nameKey, type LinkedPatient, type PatientFacts } from './empi';
export * from './recognition';
export { indexLabSubmission, mergePatients, unmergePatients, type MergeRequest, type MergeResult } from './lab';
export { ACCEPTED_CHANNEL, createIndexWorker, type AcceptedObject, type IndexBatchHandler, type IndexContext, type IndexHandler, type IndexWorker } from './worker';

/** How each kind of accepted object becomes index rows. */
export const indexHandlers: Partial<Record<AcceptedKind, IndexHandler>> = {
  dicom: indexDicom,
  hl7v2: indexHl7v2,
  fhir: indexFhirBundle,
};

/** Kinds also indexed a claimed batch at a time (set-based), falling back to indexHandlers. */
export const indexBatchHandlers: Partial<Record<AcceptedKind, IndexBatchHandler>> = {
  dicom: indexDicomBatch,
  hl7v2: indexLabBatch,
  fhir: indexLabBatch,
};

/** The worker pool that turns accepted results into the index. */
export function createIndexService(hub: Hub): ServicePart {
  const worker = createIndexWorker({
    db: hub.db,
    databaseUrl: hub.databaseUrl,
    ctx: { blob: hub.blob, log: hub.log.child({ service: 'index' }), idHashSecret: hub.idHashSecret },
    handlers: indexHandlers,
    batchHandlers: indexBatchHandlers,
    loops: hub.config.index.workers,
    batchSize: hub.config.index.batchSize,
    metrics: hub.metrics,
  });
  const recognition = createRecognitionStage({ db: hub.db, log: hub.log.child({ service: 'recognition' }), metrics: hub.metrics });
  let stopSweeps = () => {};
  return {
    name: 'index',
    async start() {
      await worker.start();
      recognition.start();
      if (hub.config.index.reconcileHours > 0) stopSweeps = scheduleOrphanSweeps({ db: hub.db, blob: hub.blob, log: hub.log }, hub.config.index.reconcileHours * 3600_000);
      return [`index workers      ${hub.config.index.workers} loop(s), batches of ${hub.config.index.batchSize}`];
    },
    async stop() {
      stopSweeps();
      await worker.stop();
      await recognition.stop();
    },
  };
}
