import type { ClientIdentity } from '@hub/shared/auth';
import type { AuditEvent } from '@hub/shared/audit';
import type { Knex } from '@hub/shared/db';

// A FHIR resource as JSON; each provider builds its own shape.
export type Resource = { resourceType: string; id?: string } & Record<string, unknown>;

/** What a provider knows of the request: who asks, and how to audit what it reads. */
export interface FhirContext {
  db: Knex;
  principal: ClientIdentity;
  /** The practitioner named by the caller (X-Practitioner header), when given. */
  practitioner?: string;
  requestId: string;
  /** The FHIR base URL as the client sees it, e.g. http://hub:8080/fhir */
  base: string;
  /** The hub's base URL (for DICOMweb endpoints and other links). */
  publicUrl: string;
  /** The reason the caller states for an emergency read (X-Emergency-Reason), when it declares one. */
  emergencyReason?: string;
  /** The instant every authorization of the request is decided at. */
  readAt?: Date;
  /** Records one audit row per patient-level resource returned; call before answering. */
  audit(events: Array<Omit<AuditEvent, 'organizationId' | 'clientId' | 'practitioner' | 'requestId' | 'outcome'> & { outcome?: AuditEvent['outcome'] }>): Promise<void>;
}

export interface SearchParamDefinition {
  name: string;
  type: 'string' | 'token' | 'date' | 'reference' | 'quantity' | 'number' | 'uri' | 'special';
  documentation: string;
}

/** The parsed query: every parameter with all its values (a repeated parameter is AND). */
export type SearchParams = Map<string, string[]>;

export interface SearchPage {
  count: number;
  offset: number;
  /** `_sort` values as given, e.g. ['-date']. */
  sort: string[];
  /** `_include` values, e.g. ['DiagnosticReport:result']. */
  include: string[];
}

export interface SearchResult {
  matches: Resource[];
  /** Resources added by _include (search mode "include"). */
  included?: Resource[];
  /** Total matches when cheap to know; omitted otherwise. */
  total?: number;
  /** Whether more matches exist after this page (when total is not known). */
  more?: boolean;
}

/** One resource type served under /fhir. Routes stay thin; the provider does the work. */
export interface FhirResourceProvider {
  type: string;
  profile?: string;
  searchParams: SearchParamDefinition[];
  /** `_include` values supported, for the CapabilityStatement. */
  searchInclude?: string[];
  read?(id: string, ctx: FhirContext): Promise<Resource>;
  search?(params: SearchParams, page: SearchPage, ctx: FhirContext): Promise<SearchResult>;
}
