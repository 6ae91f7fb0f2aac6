export { ACCEPTED_CHANNEL, createIndexWorker, type IndexWorker, type IndexWorkerOptions } from './worker';
export { lockOrder } from './order';
export type { AcceptedKind, AcceptedObject, IndexBatchHandler, IndexContext, IndexHandler } from './types';
