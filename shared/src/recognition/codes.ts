/** The code system URI of LOINC in FHIR, and how the catalog stores LOINC codes. */
export const LOINC_SYSTEM = 'http://loinc.org';

// How senders name LOINC: HL7 v2 coding system 'LN', DICOM coding scheme designator 'LN', FHIR URI.
const loincAliases = new Set(['ln', 'loinc', 'http://loinc.org', 'https://loinc.org', '2.16.840.1.113883.6.1', 'urn:oid:2.16.840.1.113883.6.1']);

export function isLoincSystem(system: string | undefined | null): boolean {
  return system !== undefined && system !== null && loincAliases.has(system.trim().toLowerCase());
}
