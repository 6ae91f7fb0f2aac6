import type { Hub, ServicePart } from '@hub/shared/runtime';
import { createDicomwebRouter } from './dicomweb';
import { createDiagnosticReportProvider, createFhirRouter, createImagingStudyProvider, createObservationProvider, createPatientProvider, FHIR_METADATA_PATH, type FhirResourceProvider } from './fhir';
import { createOrderTimeRecognition, createRecognitionRouter } from './recognition';
import { createStatsRouter } from './stats';

export * from './recognition';
// for the observation benchmark, which explains the searches' SQL on generated data
export { createDiagnosticReportProvider, createObservationProvider, type FhirContext, type SearchPage, type SearchParams } from './fhir';
export * from './stats';

/** The FHIR resource types served; each result kind adds its providers. */
export function fhirProviders(hub: Hub): FhirResourceProvider[] {
  const lab = { idHashSecret: hub.idHashSecret };
  return [createPatientProvider(lab), createDiagnosticReportProvider(lab), createObservationProvider(lab), createImagingStudyProvider({ idHashSecret: hub.idHashSecret })];
}

/** Everything read: FHIR, DICOMweb, the prior-result check, statistics, web pages. */
export function createViewerApiService(hub: Hub): ServicePart {
  const recognition = createOrderTimeRecognition({ db: hub.db, publicUrl: hub.config.publicUrl, viewerUrl: hub.config.viewerUrl, idHashSecret: hub.idHashSecret, metrics: hub.metrics });
  return {
    name: 'viewer-api',
    publicPaths: [FHIR_METADATA_PATH],
    mount(app) {
      // the check first: the route taken most often, 1,500 times a second, passes no other router
      app.use(recognition.router);
      app.use(createFhirRouter({ db: hub.db, publicUrl: hub.config.publicUrl, providers: fhirProviders(hub), operations: [recognition.fhirOperation], idHashSecret: hub.idHashSecret }));
      app.use(createRecognitionRouter({ db: hub.db }));
      app.use(createStatsRouter({ db: hub.db, facts: recognition.facts, savings: hub.config.savings, minCell: hub.config.statistics.minCell }));
      app.use(createDicomwebRouter({ db: hub.db, blob: hub.blob, log: hub.log, publicUrl: hub.config.publicUrl }));
    },
  };
}
