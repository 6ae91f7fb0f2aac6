/**
 * LOINC as the catalog stores it. The same check lives in @hub/index (recognition/loinc.ts),
 * which maps results to items; a service may not import another, so the few lines are twice.
 */
export const LOINC_SYSTEM = 'http://loinc.org';

export function loincCheckDigit(base: string): number {
  let sum = 0;
  for (let i = 0; i < base.length; i++) {
    const digit = base.charCodeAt(base.length - 1 - i) - 48;
    const weighted = i % 2 === 0 ? digit * 2 : digit;
    sum += weighted > 9 ? weighted - 9 : weighted;
  }
  return (10 - (sum % 10)) % 10;
}

/** 1-7 digits, a dash, and the mod-10 check digit LOINC publishes. */
export function isWellFormedLoinc(code: string): boolean {
  const match = /^(\d{1,7})-(\d)$/.exec(code);
  return match !== null && loincCheckDigit(match[1]!) === Number(match[2]);
}

/** DICOM Modality (CS) and Body Part Examined (CS) values as the catalog keys them. */
export const modalityPattern = /^[A-Z0-9]{1,16}$/;
export const bodyPartPattern = /^[A-Z0-9_ ]{1,16}$/;
