import type { Knex } from '@hub/shared/db';
import type { DicomJson } from '@hub/shared/dicom';
import { badInput } from '@hub/shared/errors';
import { linkPatient, type PatientFacts } from '../empi';
import type { AcceptedObject, IndexContext, IndexHandler } from '../worker';
import { readStoredHeader, type StoredHeader } from './header';
import { instanceMetadata } from './metadata';
import { currentInstance, lockStudy, recordOlderVersion, rollUpStudy, upsertSeries, upsertStudy, writeInstance } from './rows';
import { imagingSummaryOf, type ImagingSummary } from './summary';

/** What the EMPI is told about the hospital's patient of an instance. */
export const patientFacts = (object: AcceptedObject, s: ImagingSummary): PatientFacts => ({
  organizationId: object.organizationId,
  localId: s.patientId,
  name: s.patientName,
  birthDate: s.patientBirthDate,
  sex: s.patientSex,
  nationalId: s.nationalId,
});

/**
 * The hospital's patient record for this instance. The instances of a study nearly always
 * name the patient its first instance did: then the study's patient is taken as it is, and
 * the patient row is not locked and rewritten once per instance. A new study, another
 * Patient ID (a corrected push) or a national ID the record lacks go through the EMPI.
 */
async function patientFor(trx: Knex.Transaction, object: AcceptedObject, s: ImagingSummary): Promise<number> {
  const known = await trx('studies as st')
    .join('patients as p', 'p.id', 'st.patient_id')
    .where({ 'st.study_uid': s.studyInstanceUid, 'p.organization_id': object.organizationId, 'p.local_id': s.patientId })
    .first('st.patient_id', 'p.national_id_hash');
  if (known && (!s.nationalId || known.national_id_hash === s.nationalId.hash)) return known.patient_id;
  return (await linkPatient(trx, patientFacts(object, s))).patientId;
}

/** An accepted instance with its summary, the header read back from the blob store, and its DICOM JSON metadata. */
export interface ReadInstance {
  object: AcceptedObject;
  summary: ImagingSummary;
  header: StoredHeader;
  metadata: DicomJson;
}

/**
 * Reads an accepted instance back for indexing: its summary, and the header of the stored
 * object, whose UIDs must be the summary's. BadInput when the summary or the object is not a
 * readable instance, or they disagree.
 */
export async function readInstance(object: AcceptedObject, ctx: IndexContext): Promise<ReadInstance> {
  const summary = imagingSummaryOf(object.summary);
  if (summary.sopInstanceUid !== object.identity) {
    throw badInput(`the summary names SOP Instance UID ${summary.sopInstanceUid} but the object was accepted as ${object.identity}`, { code: 'identity-mismatch' });
  }
  const header = await readStoredHeader(ctx.blob, object.blobKey, object.size, summary.pixelDataOffset);
  const stored = {
    sopInstanceUid: header.parsed.dataSet.string('x00080018'),
    studyInstanceUid: header.parsed.dataSet.string('x0020000d'),
    seriesInstanceUid: header.parsed.dataSet.string('x0020000e'),
  };
  for (const [field, value] of Object.entries(stored)) {
    if (value !== summary[field as keyof typeof stored]) {
      throw badInput(`the stored object's ${field} ${value ?? '(none)'} differs from the summary's ${summary[field as keyof typeof stored]}`, { code: 'summary-mismatch' });
    }
  }
  return { object, summary, header, metadata: instanceMetadata(header, summary) };
}

/**
 * Indexes one instance read back (readInstance): links its patient, upserts its study, series
 * and instance rows (a new version of a known SOP Instance UID replaces the current one, which
 * is kept in instance_versions), stores its DICOM JSON metadata and updates the study's
 * roll-ups.
 */
export async function indexInstance(trx: Knex.Transaction, { object, summary, header, metadata }: ReadInstance, ctx: IndexContext): Promise<void> {
  await lockStudy(trx, summary.studyInstanceUid);
  const current = await currentInstance(trx, summary.sopInstanceUid);
  if (current && current.accepted_object_id === object.id) return;
  if (current && current.accepted_object_id > object.id) {
    // an older version indexed late: history only; the current version's attributes stand
    await recordOlderVersion(trx, current, object);
    return;
  }

  const patientId = await patientFor(trx, object, summary);
  const study = await upsertStudy(trx, summary, object.organizationId, patientId);
  const series = await upsertSeries(trx, summary, study.id, metadata);
  const { previousSeries } = await writeInstance(trx, current, object, summary, header, series, metadata);

  if (!current) {
    await rollUpStudy(trx, study.id, { added: new Map([[series.id, 1]]) });
  } else if (previousSeries !== undefined || study.changed || series.changed) {
    await rollUpStudy(trx, study.id, { recount: [series.id, ...(previousSeries !== undefined ? [previousSeries] : [])] });
  }
  // a correction that moved a series or an instance to another study: the study it left
  const left = previousSeries !== undefined ? (await trx('series').where({ id: previousSeries }).first('study_id'))?.study_id : series.movedFromStudy;
  if (left !== undefined && left !== study.id) await rollUpStudy(trx, left, { recount: previousSeries !== undefined ? [previousSeries] : [] });
  ctx.log.debug({ acceptedId: object.id, replaced: current !== undefined }, 'indexed DICOM instance');
}

/**
 * Indexes one accepted DICOM instance (readInstance, then indexInstance). A summary or object
 * that is not a readable instance is BadInput (kept as failed).
 */
export const indexDicom: IndexHandler = async (trx, object, ctx: IndexContext) => indexInstance(trx, await readInstance(object, ctx), ctx);
