import type { FhirResourceProvider, Resource } from './types';

/** What the hub's FHIR endpoint supports, built from the providers actually mounted. */
export function capabilityStatement(base: string, providers: FhirResourceProvider[], operations: Array<{ name: string; definition: string }> = []): Resource {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-11-23',
    kind: 'instance',
    software: { name: 'Regional results hub' },
    implementation: { description: 'Regional hub for the mutual recognition of exam and lab results', url: base },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        security: {
          service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'OAuth' }] }],
          description: 'OAuth2 client credentials: POST /oauth/token, then Authorization: Bearer <token>',
        },
        resource: providers.map((p) => ({
          type: p.type,
          ...(p.profile ? { profile: p.profile } : {}),
          interaction: [...(p.read ? [{ code: 'read' }] : []), ...(p.search ? [{ code: 'search-type' }] : [])],
          ...(p.searchInclude?.length ? { searchInclude: p.searchInclude } : {}),
          searchParam: p.searchParams.map((s) => ({ name: s.name, type: s.type, documentation: s.documentation })),
        })),
        ...(operations.length ? { operation: operations } : {}),
      },
    ],
  };
}
