import type { Knex } from '@hub/shared/db';
import { badInput, notFound } from '@hub/shared/errors';
import { linkPatient, livePerson, type PatientFacts } from '../empi';

export interface MergeRequest {
  organizationId: number;
  /** The record that survives (ADT A40 PID-3), as the message describes it. */
  survivor: PatientFacts;
  /** The hospital's earlier number for the same patient (MRG-1). */
  priorLocalId: string;
  /** Where the merge came from, e.g. `ADT^A40 HIS0004`. */
  source: string;
}

export interface MergeResult {
  mergeId: number;
  survivingPatientId: number;
  retiredPatientId: number;
  reportsMoved: number;
}

/** The record later messages for `patientId` are filed under: itself, or the survivor of its merges. */
export async function survivingPatient(trx: Knex, patientId: number): Promise<number> {
  let id = patientId;
  for (let depth = 0; depth < 16; depth++) {
    const row = await trx('patients').where({ id }).first('merged_into_patient_id');
    if (!row?.merged_into_patient_id) return id;
    id = row.merged_into_patient_id;
  }
  return id;
}

/**
 * HL7 ADT^A40 within one organization: the prior record is retired into the survivor. Its
 * lab reports (and their observations) move to the survivor, each move recorded so that
 * `unmergePatients` can put exactly those back; the retired record points at the survivor
 * (later messages for its number follow); when the two records were different persons the
 * retired person is merged into the surviving one. A prior number the hub has never seen is
 * registered first, so its later messages are redirected too. Merging records that carry two
 * different national IDs is refused. Merging again is a no-op.
 */
export async function mergePatients(trx: Knex.Transaction, request: MergeRequest): Promise<MergeResult> {
  const survivor = await linkPatient(trx, request.survivor);
  const survivingPatientId = await survivingPatient(trx, survivor.patientId);
  const retired = (await linkPatient(trx, { organizationId: request.organizationId, localId: request.priorLocalId })).patientId;
  const previous = await latestMerge(trx, retired);
  if (retired === survivingPatientId || (previous?.kind === 'merge' && previous.surviving_patient_id === survivingPatientId)) {
    return { mergeId: previous?.id ?? 0, survivingPatientId, retiredPatientId: retired, reportsMoved: 0 };
  }

  const [survivorRow, retiredRow] = await Promise.all([
    trx('patients').where({ id: survivingPatientId }).first('person_id', 'national_id_hash'),
    trx('patients').where({ id: retired }).forUpdate().first('person_id', 'national_id_hash'),
  ]);
  if (survivorRow.national_id_hash && retiredRow.national_id_hash && survivorRow.national_id_hash !== retiredRow.national_id_hash) {
    throw badInput('ADT^A40 would merge two records with different national IDs; refused', { location: 'MRG-1', code: 'merge-national-id-conflict' });
  }
  const survivingPerson = await livePerson(trx, survivorRow.person_id);
  const retiredPerson = await livePerson(trx, retiredRow.person_id);

  const [merge] = await trx('person_merges')
    .insert({
      kind: 'merge',
      organization_id: request.organizationId,
      surviving_patient_id: survivingPatientId,
      retired_patient_id: retired,
      surviving_person_id: survivingPerson,
      retired_person_id: retiredPerson === survivingPerson ? null : retiredPerson,
      reason: 'HL7 ADT^A40: the prior record is the same patient',
      source: request.source,
    })
    .returning('id');
  const mergeId = merge.id as number;

  const moved = await moveReports(trx, retired, survivingPatientId);
  if (moved.length > 0) await trx('lab_report_moves').insert(moved.map((reportId) => ({ merge_id: mergeId, report_id: reportId, from_patient_id: retired })));
  await trx('patients').where({ id: retired }).update({ merged_into_patient_id: survivingPatientId, updated_at: trx.fn.now() });
  if (retiredPerson !== survivingPerson) {
    await trx('persons').where({ id: retiredPerson }).update({ merged_into_id: survivingPerson, updated_at: trx.fn.now() });
  }
  return { mergeId, survivingPatientId, retiredPatientId: retired, reportsMoved: moved.length };
}

/**
 * Undoes the latest merge of a retired record: the reports that merge moved go back (those
 * filed under the survivor since stay there), the record is live again, and a person merged
 * by it is separated again. Recorded as an `unmerge` in person_merges.
 */
export async function unmergePatients(trx: Knex.Transaction, request: { organizationId: number; priorLocalId: string; source: string }): Promise<{ reportsMoved: number }> {
  const retired = await trx('patients').where({ organization_id: request.organizationId, local_id: request.priorLocalId }).forUpdate().first('id');
  const merge = retired ? await latestMerge(trx, retired.id) : undefined;
  if (!merge || merge.kind !== 'merge') throw notFound('this record is not merged into another', { code: 'not-merged' });

  const reportIds = (await trx('lab_report_moves').where({ merge_id: merge.id }).pluck('report_id')) as number[];
  const back = reportIds.length
    ? ((await trx('lab_reports').whereIn('id', reportIds).where({ patient_id: merge.surviving_patient_id }).pluck('id')) as number[])
    : [];
  if (back.length > 0) {
    await trx('observations').where({ patient_id: merge.surviving_patient_id }).whereIn('report_id', back).update({ patient_id: merge.retired_patient_id });
    await trx('lab_reports').whereIn('id', back).update({ patient_id: merge.retired_patient_id, updated_at: trx.fn.now() });
  }
  await trx('patients').where({ id: merge.retired_patient_id }).update({ merged_into_patient_id: null, updated_at: trx.fn.now() });
  if (merge.retired_person_id) {
    await trx('persons').where({ id: merge.retired_person_id, merged_into_id: merge.surviving_person_id }).update({ merged_into_id: null, updated_at: trx.fn.now() });
  }
  await trx('person_merges').insert({
    kind: 'unmerge',
    organization_id: request.organizationId,
    surviving_patient_id: merge.surviving_patient_id,
    retired_patient_id: merge.retired_patient_id,
    surviving_person_id: merge.surviving_person_id,
    retired_person_id: merge.retired_person_id,
    reason: `undoes merge ${merge.id}`,
    source: request.source,
  });
  return { reportsMoved: back.length };
}

async function latestMerge(trx: Knex, retiredPatientId: number) {
  return trx('person_merges').where({ retired_patient_id: retiredPatientId }).whereIn('kind', ['merge', 'unmerge']).orderBy('id', 'desc').first();
}

/** Moves every report of a record, and its observations (which change partition), to another record. */
async function moveReports(trx: Knex.Transaction, from: number, to: number): Promise<number[]> {
  const ids = (await trx('lab_reports').where({ patient_id: from }).forUpdate().pluck('id')) as number[];
  if (ids.length === 0) return [];
  await trx('observations').where({ patient_id: from }).update({ patient_id: to });
  await trx('lab_reports').whereIn('id', ids).update({ patient_id: to, updated_at: trx.fn.now() });
  return ids;
}
