/**
 * Identifier and code systems the hub writes and reads, defined once. FHIR identifiers for
 * a hospital's own patient numbers are scoped by the organization's code.
 */
// The resident identity card number (GB 11643), by the OID China's health-record CDA templates
// (WS/T 500) use for it. Reads accept it in clear and hash it at once.
export const NATIONAL_ID_SYSTEM = 'urn:oid:2.16.156.10011.1.3';
/**
 * How a national ID stands in a link the hub writes (a Bundle's self/next/previous): its keyed
 * hash, never the number. Searches accept it back in place of the clear number.
 */
export const NATIONAL_ID_HASH_PREFIX = 'hmac-sha256:';
/** A hospital's own patient number (MRN / DICOM Patient ID) in the hub. */
export const mrnSystem = (organizationCode: string) => `urn:hub:organization:${organizationCode}:mrn`;
/** Parses `mrnSystem(...)` back to the organization code, or null. */
export function organizationOfMrnSystem(system: string): string | null {
  return /^urn:hub:organization:([A-Za-z0-9][A-Za-z0-9_.-]{0,31}):mrn$/.exec(system)?.[1] ?? null;
}
/** Organizations by their hub code. */
export const ORGANIZATION_SYSTEM = 'urn:hub:organization';
export const DICOM_UID_SYSTEM = 'urn:dicom:uid';
export const LOINC_SYSTEM = 'http://loinc.org';
export const UCUM_SYSTEM = 'http://unitsofmeasure.org';
export const DICOM_MODALITY_SYSTEM = 'http://dicom.nema.org/resources/ontology/DCM';
/** A hospital's local lab codes. */
export const localCodeSystem = (organizationCode: string) => `urn:hub:organization:${organizationCode}:code`;
