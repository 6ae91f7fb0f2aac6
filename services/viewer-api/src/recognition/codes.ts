export { isWellFormedLoinc, loincCheckDigit, LOINC_SYSTEM } from '@hub/shared/recognition';

/** DICOM Modality (CS) and Body Part Examined (CS) values as the catalog keys them. */
export const modalityPattern = /^[A-Z0-9]{1,16}$/;
export const bodyPartPattern = /^[A-Z0-9_ ]{1,16}$/;
