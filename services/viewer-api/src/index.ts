import type { Hub, ServicePart } from '@hub/shared/runtime';
import { createDicomwebRouter } from './dicomweb';
import { createDiagnosticReportProvider, createFhirRouter, createImagingStudyProvider, createObservationProvider, createPatientProvider, FHIR_METADATA_PATH, type FhirResourceProvider } from './fhir';
import { createRecognitionRouter } from './recognition';

export * from './recognition';

/** The FHIR resource types served; each result kind adds its providers. */
export function fhirProviders(hub: Hub): FhirResourceProvider[] {
  const lab = { idHashSecret: hub.idHashSecret };
  return [createPatientProvider(lab), createDiagnosticReportProvider(lab), createObservationProvider(lab), createImagingStudyProvider({ idHashSecret: hub.idHashSecret })];
}

/** Everything read: FHIR, DICOMweb, the prior-result check, statistics, web pages. */
export function createViewerApiService(hub: Hub): ServicePart {
  return {
    name: 'viewer-api',
    publicPaths: [FHIR_METADATA_PATH],
    mount(app) {
      app.use(createFhirRouter({ db: hub.db, publicUrl: hub.config.publicUrl, providers: fhirProviders(hub) }));
      app.use(createRecognitionRouter({ db: hub.db }));
      app.use(createDicomwebRouter({ db: hub.db, blob: hub.blob, log: hub.log, publicUrl: hub.config.publicUrl }));
    },
  };
}
