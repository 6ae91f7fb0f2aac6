export { ACCEPTED_CHANNEL, createIndexWorker, type IndexWorker, type IndexWorkerOptions } from './worker';
export type { AcceptedKind, AcceptedObject, IndexContext, IndexHandler } from './types';
