import type { Knex } from '@hub/shared/db';
import { linkPatient, type PatientFacts } from '../empi';
import type { AcceptedObject, IndexHandler } from '../worker';
import { mergePatients, survivingPatient } from './merge';
import { writeReport } from './reports';
import { labSubmissionOf, type PatientSubmission } from '@hub/shared/lab';

export const factsOf = (organizationId: number, p: PatientSubmission): PatientFacts => ({
  organizationId,
  localId: p.localId,
  ...(p.name ? { name: p.name } : {}),
  ...(p.birthDate ? { birthDate: p.birthDate } : {}),
  ...(p.sex ? { sex: p.sex } : {}),
  ...(p.nationalId ? { nationalId: p.nationalId } : {}),
});

/**
 * One accepted lab submission into the index: every patient is linked (EMPI), then its
 * reports and observations written (results), or nothing more (registration), or its prior
 * numbers merged into it (merge). Results for a retired record are filed under its survivor.
 */
export async function indexLabSubmission(trx: Knex.Transaction, object: AcceptedObject, source: 'hl7v2' | 'fhir'): Promise<void> {
  const submission = labSubmissionOf(object.summary);
  const label = `${submission.messageType} ${String(object.summary.controlId ?? object.id)}`;
  for (const group of submission.groups) {
    const facts = factsOf(object.organizationId, group.patient);
    if (submission.event === 'merge') {
      for (const prior of group.priorLocalIds ?? []) {
        await mergePatients(trx, { organizationId: object.organizationId, survivor: facts, priorLocalId: prior, source: label });
      }
      continue;
    }
    const linked = await linkPatient(trx, facts);
    if (submission.event !== 'results') continue;
    const patientId = await survivingPatient(trx, linked.patientId);
    for (const report of group.reports) {
      await writeReport(trx, report, { organizationId: object.organizationId, patientId, acceptedId: object.id, source });
    }
  }
}

/** HL7 v2 (MLLP, HTTP): ORU^R01, ADT A01/A04/A08/A28/A31, ADT A40. */
export const indexHl7v2: IndexHandler = (trx, object) => indexLabSubmission(trx, object, 'hl7v2');

/** A FHIR transaction Bundle of lab results. */
export const indexFhirBundle: IndexHandler = (trx, object) => indexLabSubmission(trx, object, 'fhir');
