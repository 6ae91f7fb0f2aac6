import type { Knex } from '@hub/shared/db';
import type { DicomJson } from '@hub/shared/dicom';
import { linkPatient } from '../empi';
import type { AcceptedObject, IndexBatchHandler, IndexContext } from '../worker';
import { indexInstance, patientFacts, readInstance, type ReadInstance } from './instance';
import { metadataDifference } from './metadata';
import { STUDY_LOCK, insertStudy, instanceValues, patchSeries, patchStudy, rollUpStudy, seriesValues, studyValues } from './rows';

/** Stored headers read at once: enough to hide the blob store's latency, few enough not to flood it. */
const READS_AT_ONCE = 16;

/** What the index holds for the instances of one study that a batch brings, read in one statement. */
interface StudyState {
  study?: Record<string, unknown> & { id: number; patient_id: number; patient_organization_id: number; patient_local_id: string; patient_national_id_hash: string | null };
  /** SOP Instance UIDs the index already has (anywhere). */
  instances: Set<string>;
  series: Map<string, Record<string, unknown> & { id: number; study_id: number; metadata_base: DicomJson }>;
}

/** The records a batch linked, by (organization, Patient ID): what it was told last, and the patient. */
type Linked = Map<string, { told: string; patientId: number }>;

/**
 * A claimed batch of DICOM instances into the index with a few statements per study instead
 * of about ten per instance, with the outcome of indexing them one by one in the order they
 * were accepted (indexDicom). The stored headers are read first, several at once; an object
 * that cannot be read or does not match its summary is left to the worker, which indexes it
 * alone (and keeps it as failed with its error). Every study of the batch is then locked, in
 * UID order, and its instances indexed in acceptance order: a run of simple new instances
 * (none known to the index, in series of this study or new ones, one patient record) with one
 * patient link, one study and one series upsert, one insert of all instances and their
 * metadata and one roll-up; anything else — a new version of a known instance, an older one
 * indexed late, an object indexed before, a series moving from another study — through
 * indexInstance in a savepoint of its own, as the worker would.
 */
export const indexDicomBatch: IndexBatchHandler = async (trx, objects, ctx) => {
  const left: AcceptedObject[] = [];
  const read = await readAll(objects, ctx, left);
  const studies = new Map<string, ReadInstance[]>();
  for (const r of read.sort((a, b) => compare(a.summary.studyInstanceUid, b.summary.studyInstanceUid) || a.object.id - b.object.id)) {
    const list = studies.get(r.summary.studyInstanceUid) ?? [];
    if (list.length === 0) studies.set(r.summary.studyInstanceUid, list);
    list.push(r);
  }
  if (studies.size === 0) return left;
  // every study's lock before any of its rows, in UID order like indexDicom (lockOrder): workers queue, never deadlock
  await trx.raw('select pg_advisory_xact_lock(?, hashtext(u)) from unnest(?::text[]) with ordinality as t(u, n) order by n', [STUDY_LOCK, [...studies.keys()]]);
  const linked: Linked = new Map();
  for (const [studyUid, items] of studies) await indexStudy(trx, studyUid, items, ctx, linked, left);
  ctx.log.debug({ instances: read.length, studies: studies.size, left: left.length }, 'indexed a batch of DICOM instances');
  return left;
};

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

async function readAll(objects: AcceptedObject[], ctx: IndexContext, left: AcceptedObject[]): Promise<ReadInstance[]> {
  const out: Array<ReadInstance | undefined> = new Array(objects.length);
  const unreadable = new Set<number>();
  let next = 0;
  const reader = async () => {
    for (let i = next++; i < objects.length; i = next++) {
      try {
        out[i] = await readInstance(objects[i]!, ctx);
      } catch {
        // its own error is recorded when the worker indexes it alone
        unreadable.add(i);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(READS_AT_ONCE, objects.length) }, reader));
  objects.forEach((o, i) => unreadable.has(i) && left.push(o));
  return out.filter((r): r is ReadInstance => r !== undefined);
}

async function indexStudy(trx: Knex.Transaction, studyUid: string, items: ReadInstance[], ctx: IndexContext, linked: Linked, left: AcceptedObject[]): Promise<void> {
  let pending = items;
  let state = await studyState(trx, studyUid, pending);
  let fresh = true;
  while (pending.length > 0) {
    const run = simpleRun(pending, state);
    if (run.length > 0 && !fresh) {
      // what was just written may have made these instances known, or their series
      state = await studyState(trx, studyUid, pending);
      fresh = true;
      continue;
    }
    fresh = false;
    if (run.length > 0) {
      await indexRun(trx, studyUid, run, state, linked);
      pending = pending.slice(run.length);
      continue;
    }
    const [item, ...rest] = pending;
    // it may link a record with other facts: what the batch linked is to be told again
    linked.clear();
    try {
      await trx.transaction((sp) => indexInstance(sp, item!, ctx));
    } catch (err) {
      ctx.log.info({ acceptedId: item!.object.id, err }, 'indexing a DICOM instance of a batch failed; the worker tries it alone');
      left.push(item!.object);
    }
    pending = rest;
  }
}

async function studyState(trx: Knex.Transaction, studyUid: string, items: ReadInstance[]): Promise<StudyState> {
  const { rows } = await trx.raw(
    `select
       (select row_to_json(s) from (
          select st.id, st.patient_id, st.study_date, st.study_time, st.accession_number, st.study_id, st.description, st.referring_physician,
                 p.organization_id as patient_organization_id, p.local_id as patient_local_id, p.national_id_hash as patient_national_id_hash
          from studies st join patients p on p.id = st.patient_id where st.study_uid = ?) s) as study,
       (select coalesce(json_agg(sop_instance_uid), '[]') from instances where sop_instance_uid = any(?::text[])) as instances,
       (select coalesce(json_agg(s), '[]') from (
          select id, series_uid, study_id, metadata_base, modality, series_number, description, body_part from series where series_uid = any(?::text[])) s) as series`,
    [studyUid, items.map((i) => i.summary.sopInstanceUid), [...new Set(items.map((i) => i.summary.seriesInstanceUid))]],
  );
  const row = rows[0] as { study: StudyState['study'] | null; instances: string[]; series: Array<NonNullable<ReturnType<StudyState['series']['get']>>> };
  return { study: row.study ?? undefined, instances: new Set(row.instances), series: new Map(row.series.map((s) => [s.series_uid as string, s])) };
}

const recordKey = (r: ReadInstance) => `${r.object.organizationId}|${r.summary.patientId}`;
/** Instances that name one record with one national ID (or none) find their patient alike. */
const patientKey = (r: ReadInstance) => `${recordKey(r)}|${r.summary.nationalId?.hash ?? ''}`;

/** The leading instances that are simple new ones of this study under one patient key (see indexDicomBatch). */
function simpleRun(pending: ReadInstance[], state: StudyState): ReadInstance[] {
  const run: ReadInstance[] = [];
  const sops = new Set<string>();
  for (const item of pending) {
    const s = item.summary;
    if (state.instances.has(s.sopInstanceUid) || sops.has(s.sopInstanceUid)) break;
    const series = state.series.get(s.seriesInstanceUid);
    if (series && series.study_id !== state.study?.id) break;
    if (run.length > 0 && patientKey(item) !== patientKey(run[0]!)) break;
    run.push(item);
    sops.add(s.sopInstanceUid);
  }
  return run;
}

/** Column values told by several instances in order: a later one's value wins, an absent one erases nothing. */
function laterWins<T extends Record<string, unknown>>(told: T[]): T {
  const out = { ...told[0]! };
  for (const t of told.slice(1)) for (const [k, v] of Object.entries(t)) if (v !== null && v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/**
 * The study's patient as indexDicom finds it for each instance of a run: the study's own when
 * it names the same record (and no other national ID), else the EMPI's link, made once for
 * what the batch tells about a record (linking again with the same facts changes nothing).
 */
async function patientOf(trx: Knex.Transaction, first: ReadInstance, state: StudyState, linked: Linked): Promise<number> {
  const s = first.summary;
  const st = state.study;
  if (st && st.patient_organization_id === first.object.organizationId && st.patient_local_id === s.patientId && (!s.nationalId || st.patient_national_id_hash === s.nationalId.hash)) {
    return st.patient_id;
  }
  const facts = patientFacts(first.object, s);
  const told = JSON.stringify(facts);
  const known = linked.get(recordKey(first));
  if (known?.told === told) return known.patientId;
  const { patientId } = await linkPatient(trx, facts);
  linked.set(recordKey(first), { told, patientId });
  return patientId;
}

/** A run of simple new instances of one study (simpleRun), set-based. */
async function indexRun(trx: Knex.Transaction, studyUid: string, run: ReadInstance[], state: StudyState, linked: Linked): Promise<void> {
  const first = run[0]!;
  const patientId = await patientOf(trx, first, state, linked);
  const values = laterWins(run.map((r) => studyValues(r.summary)));
  let studyId: number;
  if (state.study) {
    studyId = state.study.id;
    await patchStudy(trx, state.study, values, patientId);
  } else {
    const inserted = await insertStudy(trx, studyUid, first.object.organizationId, patientId, values);
    // the study's lock is held: nobody else can have made it
    if (inserted === undefined) throw new Error(`study ${studyUid} appeared while its lock was held`);
    studyId = inserted;
  }

  const bySeries = new Map<string, ReadInstance[]>();
  for (const r of run) {
    const list = bySeries.get(r.summary.seriesInstanceUid) ?? [];
    if (list.length === 0) bySeries.set(r.summary.seriesInstanceUid, list);
    list.push(r);
  }
  const series = new Map<string, { id: number; base: DicomJson }>();
  const newSeries: Array<Record<string, unknown>> = [];
  for (const [uid, items] of [...bySeries].sort(([a], [b]) => compare(a, b))) {
    const told = laterWins(items.map((r) => seriesValues(r.summary)));
    const known = state.series.get(uid);
    if (known) {
      await patchSeries(trx, known, told, studyId);
      series.set(uid, { id: known.id, base: known.metadata_base });
    } else {
      // a new series' metadata base is its first instance's, as in upsertSeries
      newSeries.push({ series_uid: uid, study_id: studyId, ...told, metadata_base: items[0]!.metadata });
    }
  }
  if (newSeries.length > 0) {
    const { rows } = await trx.raw(
      `insert into series (series_uid, study_id, modality, series_number, description, body_part, metadata_base)
       select series_uid, study_id, modality, series_number, description, body_part, metadata_base from json_populate_recordset(null::series, ?::json)
       on conflict (series_uid) do nothing
       returning id, series_uid`,
      [JSON.stringify(newSeries)],
    );
    // a series made meanwhile under another study's lock (a correction moving it): the batch is redone one by one
    if (rows.length !== newSeries.length) throw new Error(`a series of study ${studyUid} was created by another worker meanwhile`);
    for (const r of rows as Array<{ id: number; series_uid: string }>) series.set(r.series_uid, { id: r.id, base: bySeries.get(r.series_uid)![0]!.metadata });
  }

  const instances = run.map((r) => {
    const s = series.get(r.summary.seriesInstanceUid)!;
    return { sop_instance_uid: r.summary.sopInstanceUid, ...instanceValues(r.object, r.summary, r.header, s.id), attributes: metadataDifference(s.base, r.metadata) };
  });
  // one statement for every instance and its metadata: the rows travel as one JSON parameter (no bind-parameter limit)
  const written = await trx.raw(
    `with given as (select value as v from json_array_elements(?::json)),
     added as (
       insert into instances (sop_instance_uid, series_id, sop_class_uid, instance_number, transfer_syntax_uid, rows, columns, samples_per_pixel, bits_allocated,
                              number_of_frames, pixel_data_offset, pixel_data_length, pixel_data_encapsulated, accepted_object_id, blob_key, size, sha256, received_at)
       select r.sop_instance_uid, r.series_id, r.sop_class_uid, r.instance_number, r.transfer_syntax_uid, r.rows, r.columns, r.samples_per_pixel, r.bits_allocated,
              r.number_of_frames, r.pixel_data_offset, r.pixel_data_length, r.pixel_data_encapsulated, r.accepted_object_id, r.blob_key, r.size, r.sha256, r.received_at
       from given, json_populate_record(null::instances, given.v) r
       returning id, sop_instance_uid
     )
     insert into instance_metadata (instance_id, attributes)
     select a.id, (g.v -> 'attributes')::jsonb from added a join given g on g.v ->> 'sop_instance_uid' = a.sop_instance_uid`,
    [JSON.stringify(instances)],
  );
  if (written.rowCount !== run.length) throw new Error(`wrote ${written.rowCount} of ${run.length} instances of study ${studyUid}`);

  const added = new Map<number, number>();
  for (const i of instances) added.set(i.series_id, (added.get(i.series_id) ?? 0) + 1);
  await rollUpStudy(trx, studyId, { added });
}
