/** Lab results into the index: HL7 v2 ORU/ADT and FHIR Bundles, A40 merges and their undoing. */
export { indexLabBatch } from './batch';
export { indexFhirBundle, indexHl7v2, indexLabSubmission } from './handlers';
export { mergePatients, survivingPatient, unmergePatients, type MergeRequest, type MergeResult } from './merge';
export { writeReport, type ReportTarget } from './reports';
export { labSubmissionOf, type LabSubmission } from '@hub/shared/lab';
