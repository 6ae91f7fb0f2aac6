import type { Knex } from '@hub/shared/db';
import type { Row } from './attributes';
import type { Pattern, QidoQuery } from './qido-query';

/**
 * The SQL of a QIDO-RS search. Each matching key maps to a condition an index of migration
 * 0004 (or of patients) serves:
 *   PatientID        patients_local_id_idx, then studies_patient_date_idx (see matchingPatients)
 *   PatientName      patients_name_idx (name_key) ∪ patients_name_alphabetic_idx, then as PatientID
 *   StudyDate        studies_date_idx (or study_modalities_date_idx with one modality)
 *   ModalitiesInStudy study_modalities_date_idx, ordered by date, stopping at the limit
 *   AccessionNumber  studies_accession_idx
 *   StudyInstanceUID studies_uid_key; SeriesInstanceUID series_uid_key; SOPInstanceUID instances_sop_uid_key
 *   a study's series series_study_idx; a series' instances instances_series_idx
 * Results come newest study first, then by series and instance number (stable for paging).
 */

// The expression patients_name_alphabetic_idx (migration 0005) is built on; it must be written the same way.
const ALPHABETIC_KEY = `lower(regexp_replace(p.name_alphabetic, '[\\^=\\s,.·•]', '', 'g'))`;

function like(qb: Knex.QueryBuilder, column: string, p: Pattern): void {
  if (p.exact) qb.where(column, p.like.replace(/\\(.)/g, '$1'));
  else qb.whereRaw(`${column} like ?`, [p.like]);
}

/** At most this many patient records are looked up for a PatientID or PatientName; a broader pattern is searched in date order. */
export const MAX_PATIENTS = 1000;

/** PatientName on the indexed keys, then, when it names components (`LI^N*`), on a stored group with its delimiters. */
function nameMatches(qb: Knex.QueryBuilder, name: Pattern): void {
  qb.where((w) => w.whereRaw('p.name_key like ?', [name.like]).orWhere((a) => a.whereNotNull('p.name_alphabetic').whereRaw(`${ALPHABETIC_KEY} like ?`, [name.like])));
  const components = name.components;
  if (components) {
    qb.where((w) =>
      w.whereRaw('p.name_alphabetic ilike ?', [components]).orWhereRaw('p.name_ideographic ilike ?', [components]).orWhereRaw('p.name_phonetic ilike ?', [components]),
    );
  }
}

/** The patient records a PatientID / PatientName (without a leading wildcard) matches, up to MAX_PATIENTS + 1. */
export function matchingPatients(db: Knex, q: QidoQuery): Knex.QueryBuilder | undefined {
  const id = q.patientId?.prefixed ? q.patientId : undefined;
  const name = q.patientName?.prefixed ? q.patientName : undefined;
  if (!id && !name) return undefined;
  const qb = db('patients as p').select('p.id', 'p.person_id as personId', 'p.organization_id as organizationId').limit(MAX_PATIENTS + 1);
  if (id) like(qb, 'p.local_id', id);
  if (name) nameMatches(qb, name);
  return qb;
}

/**
 * The search. `patients` are the records matchingPatients found (when it found at most
 * MAX_PATIENTS): the studies are then read per patient through studies_patient_date_idx and
 * sorted. The sort is on `study_date + 0` on purpose: ordered by the bare column, the planner
 * may instead walk studies_date_idx newest first and filter by patient, hoping to meet 25
 * matches early, which reads every study in the region when the patients have few or none
 * (a rare name, a lab-only patient). With `readable` (a search not scoped to patients), the
 * same query reads at most its page plus SCAN_WINDOW candidates in index order and keeps those
 * the caller may read.
 */
export function qidoSearch(db: Knex, q: QidoQuery, patients?: number[], readable?: Readable): Knex.QueryBuilder {
  const qb = db('studies as st').join('patients as p', 'p.id', 'st.patient_id');
  const columns = [
    'st.id as study_row', 'st.study_uid', 'st.study_date', 'st.study_time', 'st.accession_number', 'st.study_id', 'st.description as study_description',
    'st.modalities', 'st.referring_physician', 'st.series_count', 'st.instance_count as study_instance_count',
    'p.local_id', 'p.name_alphabetic', 'p.name_ideographic', 'p.name_phonetic', 'p.birth_date', 'p.sex', 'p.person_id', 'st.organization_id',
  ];
  // One modality: drive from study_modalities in date order, so the limit stops the scan.
  const oneModality = q.level === 'study' && q.modalitiesInStudy?.length === 1 && !patients;
  const dateColumn = oneModality ? 'sm.study_date' : 'st.study_date';
  // the same order over a readable window's candidates (`c`), by the driving index's own
  // columns, so PostgreSQL reads the window in index order and stops once the page is full
  if (readable) columns.push(`${dateColumn} as window_date`, `${oneModality ? 'sm.study_id' : 'st.id'} as window_study`);
  const windowOrder = ['c.window_date desc nulls last', 'c.window_study desc'];
  if (oneModality) qb.join('study_modalities as sm', 'sm.study_id', 'st.id').where('sm.modality', q.modalitiesInStudy![0]);
  else if (q.modalitiesInStudy?.length) {
    qb.whereExists((sub) => sub.select(db.raw('1')).from('study_modalities as sm').whereRaw('sm.study_id = st.id').whereIn('sm.modality', q.modalitiesInStudy!));
  }

  if (q.scope.study) qb.where('st.study_uid', q.scope.study);
  if (q.studyUids) qb.whereIn('st.study_uid', q.studyUids);
  // the records found already say what a PatientID / PatientName without a leading wildcard matched
  if (patients) qb.whereIn('st.patient_id', patients).whereIn('p.id', patients);
  if (q.patientId && !(patients && q.patientId.prefixed)) like(qb, 'p.local_id', q.patientId);
  if (q.patientName && !(patients && q.patientName.prefixed)) {
    const name = q.patientName;
    nameMatches(qb, name);
  }
  if (q.studyDate?.from) qb.where(dateColumn, '>=', q.studyDate.from);
  if (q.studyDate?.to) qb.where(dateColumn, '<=', q.studyDate.to);
  if (q.accessionNumber) like(qb, 'st.accession_number', q.accessionNumber);
  if (q.patientBirthDate?.from) qb.where('p.birth_date', '>=', q.patientBirthDate.from);
  if (q.patientBirthDate?.to) qb.where('p.birth_date', '<=', q.patientBirthDate.to);
  if (q.patientSex) qb.where('p.sex', q.patientSex);
  if (q.studyDescription) qb.whereRaw('lower(st.description) like ?', [q.studyDescription.like]);

  const order = oneModality ? ['sm.study_date desc nulls last', 'sm.study_id desc'] : patients ? ['(st.study_date + 0) desc nulls last', '(st.id + 0) desc'] : ['st.study_date desc nulls last', 'st.id desc'];
  if (q.level !== 'study') {
    qb.join('series as se', 'se.study_id', 'st.id');
    columns.push('se.id as series_row', 'se.series_uid', 'se.modality', 'se.series_number', 'se.description as series_description', 'se.body_part', 'se.instance_count as series_instance_count');
    if (q.scope.series) qb.where('se.series_uid', q.scope.series);
    if (q.seriesUids) qb.whereIn('se.series_uid', q.seriesUids);
    if (q.modality) qb.where('se.modality', q.modality);
    if (q.seriesNumber !== undefined) qb.where('se.series_number', q.seriesNumber);
    order.push('se.series_number nulls last', 'se.id');
    windowOrder.push('c.series_number nulls last', 'c.series_row');
  }
  if (q.level === 'instance') {
    qb.join('instances as i', 'i.series_id', 'se.id');
    columns.push('i.id as instance_row', 'i.sop_instance_uid', 'i.sop_class_uid', 'i.instance_number', 'i.transfer_syntax_uid', 'i.rows', 'i.columns', 'i.bits_allocated', 'i.samples_per_pixel', 'i.number_of_frames');
    if (q.sopInstanceUids) qb.whereIn('i.sop_instance_uid', q.sopInstanceUids);
    if (q.sopClassUids) qb.whereIn('i.sop_class_uid', q.sopClassUids);
    if (q.instanceNumber !== undefined) qb.where('i.instance_number', q.instanceNumber);
    order.push('i.instance_number nulls last', 'i.id');
    windowOrder.push('c.instance_number nulls last', 'c.instance_row');
  }
  qb.select(columns).orderByRaw(order.join(', '));
  // one more than asked for, to know whether to say there are more
  if (!readable) return qb.limit(q.limit + 1).offset(q.offset);
  return db
    .from(qb.limit(windowOf(q)).as('c'))
    .where(readable({ organization: 'c.organization_id', person: 'c.person_id' }))
    .select('c.*')
    .orderByRaw(windowOrder.join(', '))
    .limit(q.limit + 1)
    .offset(q.offset);
}

/** The condition on a result row's organization and person columns that the caller may read it. */
export type Readable = (columns: { organization: string; person: string }) => Knex.Raw;

/** What a search needs to know of the caller's authorization (dicomweb/access.ts). */
export interface QidoAccess {
  /** The patient records among these the caller may read; each refusal audited. */
  readableRecords(records: ReadonlyArray<{ id: number; personId: number; organizationId: number }>): Promise<number[]>;
  /** The condition for a search not scoped to patients; none when every match may be read (an emergency read naming its studies). */
  readable(named: boolean): Readable | undefined;
}

/** How many candidates beyond the page a search not scoped to patients examines for readable ones. */
export const SCAN_WINDOW = 10_000;
const windowOf = (q: QidoQuery) => q.offset + q.limit + 1 + SCAN_WINDOW;

/** A search that names its studies (their UIDs, or an accession number): an emergency read may return them all. */
const isNamed = (q: QidoQuery) => Boolean(q.scope.study || q.studyUids || q.seriesUids || q.sopInstanceUids || q.accessionNumber?.exact);

/**
 * Runs the search over what the caller may read; `more` when readable results beyond the limit
 * exist; `cut` when a search not scoped to patients examined its whole window of candidates
 * (the newest SCAN_WINDOW beyond the page) without filling the page: older readable results
 * may exist, and a narrower search finds them. A search naming patients (PatientID,
 * PatientName) leaves out the records the caller may not read before it runs.
 */
export async function runQidoSearch(db: Knex, q: QidoQuery, access: QidoAccess): Promise<{ rows: Row[]; more: boolean; cut: boolean }> {
  const lookup = matchingPatients(db, q);
  const found: Array<{ id: number; personId: number; organizationId: number }> | undefined = lookup ? await lookup : undefined;
  if (found?.length === 0) return { rows: [], more: false, cut: false };
  if (found && found.length <= MAX_PATIENTS) {
    const records = await access.readableRecords(found);
    if (records.length === 0) return { rows: [], more: false, cut: false };
    const rows: Row[] = await qidoSearch(db, q, records);
    return { rows: rows.slice(0, q.limit), more: rows.length > q.limit, cut: false };
  }
  const readable = access.readable(isNamed(q));
  const rows: Row[] = await qidoSearch(db, q, undefined, readable);
  let cut = false;
  if (readable && rows.length <= q.limit) {
    const candidates = qidoSearch(db, q).clearSelect().clearOrder().clear('limit').clear('offset').select(db.raw('1')).limit(windowOf(q) + 1);
    const examined = await db.from(candidates.as('w')).count('* as n').first();
    cut = Number(examined?.n) > windowOf(q);
  }
  return { rows: rows.slice(0, q.limit), more: rows.length > q.limit, cut };
}

/** Attributes asked for by includefield at instance level that the index rows do not hold: from the stored metadata. */
export async function instanceMetadataAttributes(db: Knex, sopInstanceUids: string[], tags: string[] | 'all'): Promise<Map<string, Record<string, unknown>>> {
  if (sopInstanceUids.length === 0) return new Map();
  const { rows } = await db.raw(
    `select i.sop_instance_uid, jsonb_strip_nulls(se.metadata_base || m.attributes) as json
     from instances i join series se on se.id = i.series_id join instance_metadata m on m.instance_id = i.id
     where i.sop_instance_uid = any (?)`,
    [sopInstanceUids],
  );
  return new Map(
    (rows as Array<{ sop_instance_uid: string; json: Record<string, unknown> }>).map((r) => [
      r.sop_instance_uid,
      tags === 'all' ? r.json : Object.fromEntries(tags.filter((t) => t in r.json).map((t) => [t, r.json[t]])),
    ]),
  );
}
