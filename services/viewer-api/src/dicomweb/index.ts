export { createDicomwebRouter, DICOMWEB_PATH, type DicomwebRouterDeps } from './router';
