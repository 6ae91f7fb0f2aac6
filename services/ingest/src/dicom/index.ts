/**
 * The DICOM accept both DICOM doors (C-STORE, STOW-RS) end in: spool, read the header, check,
 * accept; and the status vocabulary they answer in.
 */
export { createInstanceAcceptance, type AcceptInstance, type EarlierVersions, type InstanceOutcome, type InstanceSource, type InstanceUids } from './accept-instance';
export { createSpool, dataSetOffsetOfPart10, type Spool, type SpooledInstance, type SpoolWriter } from './spool';
export { DicomStatus, failureStatusOf, statusHex } from './status';
export type { DicomSummary } from './summary';
