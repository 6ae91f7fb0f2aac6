export { createHttpApp, type HttpApp, type HttpAppOptions, type ReadinessCheck } from './app';
export { errorHandler, sendError } from './errors';
export { createMetrics, type Metrics } from './metrics';
export { listen, type RunningServer } from './server';
