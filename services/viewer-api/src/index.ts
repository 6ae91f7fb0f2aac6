import type { Hub, ServicePart } from '@hub/shared/runtime';
import { createFhirRouter, FHIR_METADATA_PATH, type FhirResourceProvider } from './fhir';

/** The FHIR resource types served; each result kind adds its providers. */
export function fhirProviders(_hub: Hub): FhirResourceProvider[] {
  return [];
}

/** Everything read: FHIR, DICOMweb, the prior-result check, statistics, web pages. */
export function createViewerApiService(hub: Hub): ServicePart {
  return {
    name: 'viewer-api',
    publicPaths: [FHIR_METADATA_PATH],
    mount(app) {
      app.use(createFhirRouter({ db: hub.db, publicUrl: hub.config.publicUrl, providers: fhirProviders(hub) }));
    },
  };
}
