import { badInput } from '../errors';

/**
 * What a lab door hands the index, whatever the protocol (HL7 v2 over MLLP or HTTP, a FHIR
 * transaction Bundle): the accepted object's `summary`. One contract, written by the ingest
 * doors and read by the index workers, which never parse HL7 or FHIR again and never see a
 * clear national ID.
 */

export const LAB_SUBMISSION_VERSION = 1;

export interface Coding {
  code: string;
  display?: string;
}

/** A hospital's patient as the message describes it. */
export interface PatientSubmission {
  /** The hospital's own patient number (MRN). */
  localId: string;
  name?: { alphabetic?: string; ideographic?: string; phonetic?: string };
  /** YYYY-MM-DD */
  birthDate?: string;
  sex?: 'M' | 'F' | 'O' | 'U';
  /** Keyed hash and masked form; the number itself stays in the original message only. */
  nationalId?: { hash: string; masked: string };
}

export type ReportStatus = 'registered' | 'partial' | 'preliminary' | 'final' | 'amended' | 'corrected' | 'appended' | 'cancelled' | 'entered-in-error';
export type ObservationStatus = 'registered' | 'preliminary' | 'final' | 'amended' | 'corrected' | 'cancelled' | 'entered-in-error' | 'unknown';

export interface ObservationSubmission {
  /** What a corrected result replaces within its report: test code + sub-id. */
  key: string;
  local?: Coding;
  loinc?: Coding;
  /** HL7 value type (NM, SN, ST, TX, CWE …) or the FHIR value[x] it came as. */
  valueType?: string;
  value?: {
    number?: number;
    /** `<`, `<=`, `>`, `>=` of a censored number (SN, or a "<0.5" a sender put in NM). */
    comparator?: string;
    text?: string;
    coded?: Coding & { system?: string };
  };
  unit?: { text: string; code?: string; ucum: boolean };
  referenceRange?: { low?: number; high?: number; text?: string };
  abnormalFlags?: string[];
  status: ObservationStatus;
  /** ISO 8601; the report's collection time when absent. */
  effectiveAt?: string;
  issuedAt?: string;
}

export interface ReportSubmission {
  /** What makes a later message the same report (see lab_reports.report_key). */
  key: string;
  placerOrderNumber?: string;
  fillerOrderNumber?: string;
  local?: Coding;
  loinc?: Coding;
  status: ReportStatus;
  /** Specimen collection time, ISO 8601: the date the result counts from. */
  effectiveAt: string;
  issuedAt?: string;
  specimen?: { type?: string; display?: string };
  observations: ObservationSubmission[];
}

export interface PatientGroup {
  patient: PatientSubmission;
  reports: ReportSubmission[];
  /** A40: the hospital's earlier numbers for this patient, to merge into `patient`. */
  priorLocalIds?: string[];
}

export interface LabSubmission {
  lab: typeof LAB_SUBMISSION_VERSION;
  /** results: ORU^R01 / a FHIR Bundle; registration: ADT A01/A04/A08; merge: ADT A40. */
  event: 'results' | 'registration' | 'merge';
  /** e.g. `ORU^R01`, `ADT^A40`, `Bundle/transaction`. */
  messageType: string;
  groups: PatientGroup[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The summary as a lab submission, checked for the shape the writers rely on. A summary
 * that is not one is a bug or a tampered row: BadInput, so the object is kept as failed.
 */
export function labSubmissionOf(summary: Record<string, unknown>): LabSubmission {
  const fail = (what: string) => badInput(`accepted object is not a lab submission the index reads: ${what}`, { code: 'invalid-lab-submission' });
  if (summary.lab !== LAB_SUBMISSION_VERSION) throw fail(`version ${String(summary.lab)}`);
  if (!['results', 'registration', 'merge'].includes(summary.event as string)) throw fail('unknown event');
  if (!Array.isArray(summary.groups)) throw fail('no groups');
  for (const g of summary.groups as unknown[]) {
    if (!isObject(g) || !isObject(g.patient) || typeof g.patient.localId !== 'string' || !Array.isArray(g.reports)) throw fail('a group without a patient');
    for (const r of g.reports as unknown[]) {
      if (!isObject(r) || typeof r.key !== 'string' || typeof r.effectiveAt !== 'string' || !Array.isArray(r.observations)) throw fail('a report without key, time or observations');
      for (const o of r.observations as unknown[]) if (!isObject(o) || typeof o.key !== 'string') throw fail('an observation without key');
    }
  }
  return summary as unknown as LabSubmission;
}
