import type { Hub, ServicePart } from '@hub/shared/runtime';
import { createIndexWorker, type AcceptedKind, type IndexHandler } from './worker';

export { linkPatient, livePerson, nameKey, type LinkedPatient, type PatientFacts } from './empi';
export { ACCEPTED_CHANNEL, createIndexWorker, type AcceptedObject, type IndexContext, type IndexHandler, type IndexWorker } from './worker';

/** How each kind of accepted object becomes index rows. */
export const indexHandlers: Partial<Record<AcceptedKind, IndexHandler>> = {};

/** The worker pool that turns accepted results into the index. */
export function createIndexService(hub: Hub): ServicePart {
  const worker = createIndexWorker({
    db: hub.db,
    databaseUrl: hub.databaseUrl,
    ctx: { blob: hub.blob, log: hub.log.child({ service: 'index' }), idHashSecret: hub.idHashSecret },
    handlers: indexHandlers,
    loops: hub.config.index.workers,
    batchSize: hub.config.index.batchSize,
    metrics: hub.metrics,
  });
  return {
    name: 'index',
    async start() {
      await worker.start();
      return [`index workers      ${hub.config.index.workers} loop(s), batches of ${hub.config.index.batchSize}`];
    },
    stop: () => worker.stop(),
  };
}
