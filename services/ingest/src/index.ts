import type { Hub, ServicePart } from '@hub/shared/runtime';

/**
 * The doors hospitals push through (STOW-RS, C-STORE, MLLP, FHIR intake). Every door ends in
 * one accept path: store the object, record its row, then acknowledge.
 */
export function createIngestService(_hub: Hub): ServicePart {
  return { name: 'ingest' };
}
