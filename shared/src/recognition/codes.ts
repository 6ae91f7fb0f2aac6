/** The code system URI of LOINC in FHIR is also how the catalog stores LOINC codes. */
export { LOINC_SYSTEM } from '../fhir';

// How senders name LOINC: HL7 v2 coding system 'LN', DICOM coding scheme designator 'LN', FHIR URI.
const loincAliases = new Set(['ln', 'loinc', 'http://loinc.org', 'https://loinc.org', '2.16.840.1.113883.6.1', 'urn:oid:2.16.840.1.113883.6.1']);

export function isLoincSystem(system: string | undefined | null): boolean {
  return system !== undefined && system !== null && loincAliases.has(system.trim().toLowerCase());
}

/**
 * The LOINC check digit of the part before the dash: the mod-10 algorithm LOINC publishes
 * (double every other digit from the right, add the digits, distance to the next multiple of ten).
 */
export function loincCheckDigit(base: string): number {
  let sum = 0;
  for (let i = 0; i < base.length; i++) {
    const digit = base.charCodeAt(base.length - 1 - i) - 48;
    const weighted = i % 2 === 0 ? digit * 2 : digit;
    sum += weighted > 9 ? weighted - 9 : weighted;
  }
  return (10 - (sum % 10)) % 10;
}

/** A LOINC code such as 4548-4: 1-7 digits, a dash, and the right check digit. */
export function isWellFormedLoinc(code: string): boolean {
  const match = /^(\d{1,7})-(\d)$/.exec(code);
  return match !== null && loincCheckDigit(match[1]!) === Number(match[2]);
}
