import type { Hub, ServicePart } from '@hub/shared/runtime';

/** Everything read: FHIR, DICOMweb, the prior-result check, statistics, web pages. */
export function createViewerApiService(_hub: Hub): ServicePart {
  return { name: 'viewer-api' };
}
