import type { Knex } from '@hub/shared/db';
import type { DicomJson, PersonName } from '@hub/shared/dicom';
import type { AcceptedObject } from '../worker';
import type { StoredHeader } from './header';
import { metadataDifference } from './metadata';
import type { ImagingSummary } from './summary';

/**
 * The imaging rows of one accepted instance (indexInstance), or of a run of new instances of
 * one study at once (indexDicomBatch), written under its study's lock (lockStudy).
 * Study and series inserts are still `on conflict do nothing` followed by a read (a series
 * moved between studies by a correction is not under the new study's lock). Attributes are
 * written only when they change (a later, corrected push wins), so the instances of a study
 * do not rewrite its row hundreds of times.
 */

// pg_advisory_xact_lock(key1, key2): key1 says "an imaging study", key2 is a hash of its UID
// (a collision only serializes two unrelated studies).
export const STUDY_LOCK = 0x494d4753;

/**
 * Serializes the indexing of one study across workers until this transaction ends. A worker
 * holds its batch's locks until the batch commits, so every write for a study is made under
 * this one lock, taken before any row of the study is touched: two workers on one study then
 * queue instead of deadlocking on its instance, series and study rows in different orders.
 */
export async function lockStudy(trx: Knex.Transaction, studyInstanceUid: string): Promise<void> {
  await trx.raw('select pg_advisory_xact_lock(?, hashtext(?))', [STUDY_LOCK, studyInstanceUid]);
}

const pn = (name: PersonName | undefined) => (name ? [name.alphabetic ?? '', name.ideographic ?? '', name.phonetic ?? ''].join('=').replace(/=+$/, '') : null);

/** Columns that differ, with the new values; a value the push omits never erases a known one. */
function changes(current: Record<string, unknown>, wanted: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(wanted)) {
    if (value === null || value === undefined) continue;
    const was = current[column];
    if (was === null || was === undefined || String(was) !== String(value)) out[column] = value;
  }
  return out;
}

export type StudyValues = ReturnType<typeof studyValues>;

/** The study columns an instance tells. */
export function studyValues(s: ImagingSummary) {
  return {
    study_date: s.studyDate ?? null,
    study_time: s.studyTime ?? null,
    accession_number: s.accessionNumber ?? null,
    study_id: s.studyId ?? null,
    description: s.studyDescription ?? null,
    referring_physician: pn(s.referringPhysicianName),
  };
}

/** A new study row, or undefined when the UID is already taken. */
export async function insertStudy(trx: Knex.Transaction, studyUid: string, organizationId: number, patientId: number, values: StudyValues): Promise<number | undefined> {
  const inserted = await trx.raw(
    `insert into studies (study_uid, organization_id, patient_id, study_date, study_time, accession_number, study_id, description, referring_physician)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (study_uid) do nothing returning id`,
    [studyUid, organizationId, patientId, values.study_date, values.study_time, values.accession_number, values.study_id, values.description, values.referring_physician],
  );
  return inserted.rows[0]?.id;
}

/** Writes what differs from the study row as read (`current`: id, patient_id and the StudyValues columns); true when something did. */
export async function patchStudy(trx: Knex.Transaction, current: Record<string, unknown> & { id: number }, values: StudyValues, patientId: number): Promise<boolean> {
  const patch = changes(current, { ...values, patient_id: patientId });
  if (Object.keys(patch).length === 0) return false;
  await trx('studies').where({ id: current.id }).update({ ...patch, updated_at: trx.fn.now() });
  if (patch.study_date) await trx('study_modalities').where({ study_id: current.id }).update({ study_date: patch.study_date });
  return true;
}

/** The study row; `changed` when it is new or one of its attributes changed. */
export async function upsertStudy(trx: Knex.Transaction, s: ImagingSummary, organizationId: number, patientId: number): Promise<{ id: number; changed: boolean }> {
  const values = studyValues(s);
  const inserted = await insertStudy(trx, s.studyInstanceUid, organizationId, patientId, values);
  if (inserted !== undefined) return { id: inserted, changed: true };
  const current = await trx('studies').where({ study_uid: s.studyInstanceUid }).first('id', 'patient_id', ...Object.keys(values));
  return { id: current.id, changed: await patchStudy(trx, current, values, patientId) };
}

export interface SeriesRow {
  id: number;
  base: DicomJson;
  /** The study it belonged to before this push moved it (a corrected Study Instance UID). */
  movedFromStudy?: number;
  changed: boolean;
}

export type SeriesValues = ReturnType<typeof seriesValues>;

/** The series columns an instance tells. */
export function seriesValues(s: ImagingSummary) {
  return { modality: s.modality ?? null, series_number: s.seriesNumber ?? null, description: s.seriesDescription ?? null, body_part: s.bodyPartExamined ?? null };
}

/** Writes what differs from the series row as read (`current`: id, study_id and the SeriesValues columns); true when something did. */
export async function patchSeries(trx: Knex.Transaction, current: Record<string, unknown> & { id: number }, values: SeriesValues, studyId: number): Promise<boolean> {
  const patch = changes(current, { ...values, study_id: studyId });
  if (Object.keys(patch).length === 0) return false;
  await trx('series').where({ id: current.id }).update({ ...patch, updated_at: trx.fn.now() });
  return true;
}

/** The series row; a new series takes this instance's metadata as its base. */
export async function upsertSeries(trx: Knex.Transaction, s: ImagingSummary, studyId: number, metadata: DicomJson): Promise<SeriesRow> {
  const values = seriesValues(s);
  const inserted = await trx.raw(
    `insert into series (series_uid, study_id, modality, series_number, description, body_part, metadata_base)
     values (?, ?, ?, ?, ?, ?, ?) on conflict (series_uid) do nothing returning id`,
    [s.seriesInstanceUid, studyId, ...Object.values(values), JSON.stringify(metadata)],
  );
  if (inserted.rows[0]) return { id: inserted.rows[0].id, base: metadata, changed: true };
  const current = await trx('series').where({ series_uid: s.seriesInstanceUid }).first('id', 'study_id', 'metadata_base', ...Object.keys(values));
  const changed = await patchSeries(trx, current, values, studyId);
  const moved = current.study_id !== studyId ? (current.study_id as number) : undefined;
  return { id: current.id, base: current.metadata_base, movedFromStudy: moved, changed };
}

/** The current version of an instance, locked for this transaction. */
export interface CurrentInstance {
  id: number;
  series_id: number;
  accepted_object_id: number;
  blob_key: string;
  size: number;
  sha256: string;
  received_at: Date;
}

export async function currentInstance(trx: Knex.Transaction, sopInstanceUid: string): Promise<CurrentInstance | undefined> {
  return trx('instances').where({ sop_instance_uid: sopInstanceUid }).forUpdate().first('id', 'series_id', 'accepted_object_id', 'blob_key', 'size', 'sha256', 'received_at');
}

async function recordVersion(trx: Knex.Transaction, instanceId: number, version: Omit<CurrentInstance, 'id' | 'series_id'>, replacedBy: number): Promise<void> {
  await trx.raw(
    `insert into instance_versions (instance_id, accepted_object_id, blob_key, size, sha256, received_at, replaced_by_accepted_object_id)
     values (?, ?, ?, ?, ?, ?, ?) on conflict (accepted_object_id) do nothing`,
    [instanceId, version.accepted_object_id, version.blob_key, version.size, version.sha256, version.received_at, replacedBy],
  );
  await trx.raw('update instances set version = 1 + (select count(*) from instance_versions where instance_id = ?) where id = ?', [instanceId, instanceId]);
}

/** A version older than the current one, indexed late (a retry): it only joins the history. */
export async function recordOlderVersion(trx: Knex.Transaction, current: CurrentInstance, object: AcceptedObject): Promise<void> {
  await recordVersion(trx, current.id, { accepted_object_id: object.id, blob_key: object.blobKey, size: object.size, sha256: object.sha256, received_at: object.receivedAt }, current.accepted_object_id);
}

/** The instance columns of an accepted object (its current version) in a series. */
export function instanceValues(object: AcceptedObject, s: ImagingSummary, header: StoredHeader, seriesId: number) {
  const pixel = header.pixelData;
  const r = header.parsed;
  const u16 = (tag: string) => (r.dataSet.uint16(tag) as number | undefined) ?? null;
  const frames = Number.parseInt(r.dataSet.string('x00280008') ?? '', 10);
  return {
    series_id: seriesId,
    sop_class_uid: s.sopClassUid ?? r.dataSet.string('x00080016') ?? '',
    instance_number: s.instanceNumber ?? null,
    transfer_syntax_uid: r.transferSyntaxUid,
    rows: u16('x00280010'),
    columns: u16('x00280011'),
    samples_per_pixel: u16('x00280002'),
    bits_allocated: u16('x00280100'),
    number_of_frames: Number.isInteger(frames) && frames > 0 ? frames : null,
    pixel_data_offset: pixel?.offset ?? null,
    pixel_data_length: pixel?.length ?? null,
    pixel_data_encapsulated: pixel ? pixel.length === undefined : null,
    accepted_object_id: object.id,
    blob_key: object.blobKey,
    size: object.size,
    sha256: object.sha256,
    received_at: object.receivedAt,
  };
}

/**
 * Writes the instance row: a new one, or this newer version in place of the current one
 * (which goes to instance_versions first). Returns the series the instance was in before,
 * when a replacement moved it. Versions are ordered by accepted_objects.id.
 */
export async function writeInstance(
  trx: Knex.Transaction,
  current: CurrentInstance | undefined,
  object: AcceptedObject,
  s: ImagingSummary,
  header: StoredHeader,
  series: SeriesRow,
  metadata: DicomJson,
): Promise<{ previousSeries?: number }> {
  const values = instanceValues(object, s, header, series.id);
  const attributes = JSON.stringify(metadataDifference(series.base, metadata));
  if (!current) {
    // the study lock (lockStudy) keeps any other worker from inserting this UID meanwhile
    const [row] = await trx('instances').insert({ sop_instance_uid: s.sopInstanceUid, ...values }).returning('id');
    await trx('instance_metadata').insert({ instance_id: row.id, attributes });
    return {};
  }
  await recordVersion(trx, current.id, current, object.id);
  await trx('instances').where({ id: current.id }).update({ ...values, updated_at: trx.fn.now() });
  await trx.raw(`insert into instance_metadata (instance_id, attributes) values (?, ?) on conflict (instance_id) do update set attributes = excluded.attributes`, [current.id, attributes]);
  return { previousSeries: current.series_id !== series.id ? current.series_id : undefined };
}

/**
 * Updates a study's roll-ups (series and instance counts, modalities, body parts, and its
 * study_modalities rows) after instances came or went: `added` gives the instances each
 * series gained, each of `recount` is counted again (a replacement moved an instance between
 * series). Runs under the study's lock (lockStudy), so it reads what every worker before it
 * committed: the last one writes the true figures.
 */
export async function rollUpStudy(trx: Knex.Transaction, studyId: number, change: { added?: Map<number, number>; recount?: number[] } = {}): Promise<void> {
  if (change.added && change.added.size > 0) {
    await trx.raw('update series s set instance_count = s.instance_count + a.n from unnest(?::bigint[], ?::int[]) as a(id, n) where s.id = a.id', [
      [...change.added.keys()],
      [...change.added.values()],
    ]);
  }
  for (const seriesId of change.recount ?? []) {
    await trx.raw('update series set instance_count = (select count(*) from instances where series_id = ?) where id = ?', [seriesId, seriesId]);
  }
  await trx.raw(
    `update studies st set
       series_count = agg.series_count, instance_count = agg.instance_count, modalities = agg.modalities, body_parts = agg.body_parts, updated_at = now()
     from (
       select count(*)::int as series_count, coalesce(sum(instance_count), 0)::int as instance_count,
              coalesce(array_agg(distinct modality) filter (where modality is not null), '{}') as modalities,
              coalesce(array_agg(distinct body_part) filter (where body_part is not null), '{}') as body_parts
       from series where study_id = ?
     ) agg
     where st.id = ?`,
    [studyId, studyId],
  );
  // both parts read the study as the statement above left it
  await trx.raw(
    `with added as (
       insert into study_modalities (study_id, modality, study_date)
       select st.id, m, st.study_date from studies st, unnest(st.modalities) m where st.id = ?
       on conflict (study_id, modality) do nothing
     )
     delete from study_modalities sm using studies st where st.id = ? and sm.study_id = st.id and not (sm.modality = any (st.modalities))`,
    [studyId, studyId],
  );
}
