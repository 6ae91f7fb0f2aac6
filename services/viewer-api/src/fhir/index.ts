export { createFhirRouter, FHIR_METADATA_PATH, type FhirRouterDeps } from './router';
export { searchsetBundle } from './bundle';
export { capabilityStatement } from './capability';
export type { FhirContext, FhirResourceProvider, Resource, SearchPage, SearchParamDefinition, SearchParams, SearchResult } from './types';
export { createPatientProvider, patientResource } from './patient';
export { createDiagnosticReportProvider, diagnosticReportResource } from './diagnostic-report';
export { createObservationProvider, observationResource } from './observation';
export { createImagingStudyProvider, imagingStudyResource } from './imaging-study';
