import { badInput } from '@hub/shared/errors';

/**
 * The lab submission a door leaves in `accepted_objects.summary` (written by
 * services/ingest/src/hl7/submission.ts; the two are one contract, versioned by `lab`). The
 * worker reads this rather than the original, so it never parses HL7 or FHIR and never sees
 * a clear national ID.
 */
export interface Coding {
  code: string;
  display?: string;
}

export interface PatientSubmission {
  localId: string;
  name?: { alphabetic?: string; ideographic?: string; phonetic?: string };
  birthDate?: string;
  sex?: 'M' | 'F' | 'O' | 'U';
  nationalId?: { hash: string; masked: string };
}

export interface ObservationSubmission {
  key: string;
  local?: Coding;
  loinc?: Coding;
  valueType?: string;
  value?: { number?: number; comparator?: string; text?: string; coded?: Coding & { system?: string } };
  unit?: { text: string; code?: string; ucum: boolean };
  referenceRange?: { low?: number; high?: number; text?: string };
  abnormalFlags?: string[];
  status: string;
  effectiveAt?: string;
  issuedAt?: string;
}

export interface ReportSubmission {
  key: string;
  placerOrderNumber?: string;
  fillerOrderNumber?: string;
  local?: Coding;
  loinc?: Coding;
  status: string;
  effectiveAt: string;
  issuedAt?: string;
  specimen?: { type?: string; display?: string };
  observations: ObservationSubmission[];
}

export interface PatientGroup {
  patient: PatientSubmission;
  reports: ReportSubmission[];
  priorLocalIds?: string[];
}

export interface LabSubmission {
  lab: 1;
  event: 'results' | 'registration' | 'merge';
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
  if (summary.lab !== 1) throw fail(`version ${String(summary.lab)}`);
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
