import type { Knex } from '@hub/shared/db';
import { notFound } from '@hub/shared/errors';

/** A WADO-RS target: a study, a series of it, or an instance of that series. */
export interface Target {
  study: string;
  series?: string;
  instance?: string;
}

/** What retrieving an instance needs from the index. */
export interface StoredInstance {
  id: number;
  study_uid: string;
  series_uid: string;
  sop_instance_uid: string;
  sop_class_uid: string;
  transfer_syntax_uid: string;
  blob_key: string;
  size: number;
  rows: number | null;
  columns: number | null;
  samples_per_pixel: number | null;
  bits_allocated: number | null;
  number_of_frames: number | null;
  pixel_data_offset: number | null;
  pixel_data_length: number | null;
  pixel_data_encapsulated: boolean | null;
  /** The regional person and the organization holding the study: for authorization and the audit log. */
  person_id: number;
  organization_id: number;
}

/**
 * The instances of a target in order (series number, instance number), through
 * studies_uid_key → series_study_idx → instances_series_idx; NotFound when there are none.
 * A 5,000-instance study is 5,000 small rows: the objects themselves are streamed later.
 */
export async function instancesOf(db: Knex, target: Target): Promise<StoredInstance[]> {
  const qb = db('studies as st')
    .join('patients as p', 'p.id', 'st.patient_id')
    .join('series as se', 'se.study_id', 'st.id')
    .join('instances as i', 'i.series_id', 'se.id')
    .where('st.study_uid', target.study)
    .select(
      'i.id', 'st.study_uid', 'se.series_uid', 'i.sop_instance_uid', 'i.sop_class_uid', 'i.transfer_syntax_uid', 'i.blob_key', 'i.size',
      'i.rows', 'i.columns', 'i.samples_per_pixel', 'i.bits_allocated', 'i.number_of_frames',
      'i.pixel_data_offset', 'i.pixel_data_length', 'i.pixel_data_encapsulated', 'p.person_id', 'st.organization_id',
    )
    .orderByRaw('se.series_number nulls last, se.id, i.instance_number nulls last, i.id');
  if (target.series) qb.where('se.series_uid', target.series);
  if (target.instance) qb.where('i.sop_instance_uid', target.instance);
  const rows: StoredInstance[] = await qb;
  if (rows.length === 0) {
    const what = target.instance ? `instance ${target.instance} in series ${target.series} of study ${target.study}` : target.series ? `series ${target.series} in study ${target.study}` : `study ${target.study}`;
    throw notFound(`the hub has no ${what}`, { code: 'not-found' });
  }
  return rows;
}

/** The URL of a target under the DICOMweb base. */
export function targetUrl(base: string, t: { study: string; series?: string; instance?: string }): string {
  let url = `${base}/studies/${t.study}`;
  if (t.series) url += `/series/${t.series}`;
  if (t.instance) url += `/instances/${t.instance}`;
  return url;
}
