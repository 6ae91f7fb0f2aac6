import type { Knex } from '@hub/shared/db';
import { preparedQuery } from '../recognition/prepared';

export const lookupChannels = ['fhir', 'dicomweb'] as const;
export type LookupChannel = (typeof lookupChannels)[number];

/** The results one answer read, as the door knows them. */
export interface ResultsRead {
  /** lab_reports ids (DiagnosticReport) */
  reports?: number[];
  /** observations (their primary key: the partition key is the patient record) */
  observations?: Array<{ id: number; patientId: number }>;
  /** studies ids (ImagingStudy) */
  studies?: number[];
  /** Study Instance UIDs (DICOMweb) */
  studyUids?: string[];
}

const isEmpty = (r: ResultsRead) => !r.reports?.length && !r.observations?.length && !r.studies?.length && !r.studyUids?.length;

// The reader's region and day; the reports and studies read with the organization holding each
// (primary keys, studies_uid_key); those of another organization not counted yet today marked (the
// marks' primary key) and, for each mark made, a delta per item the result maps to (the
// recognition_results_key prefix; none known: a null item). One statement: a mark is never
// made without its delta.
const RECORD = `
  with day as (
    select r.id as region_id, ($1::timestamptz at time zone r.time_zone)::date as day from regions r
    where r.id = coalesce((select region_id from organization_regions where organization_id = $2::bigint), (select id from regions where is_default))
  ), read as (
    select 'lab'::text as kind, l.id as result_id, l.organization_id as source from lab_reports l where l.id = any ($3::bigint[])
    union
    select 'imaging', s.id, s.organization_id from studies s where s.id = any ($4::bigint[])
    union
    select 'imaging', s.id, s.organization_id from studies s where s.study_uid = any ($5::text[])
  ), fresh as (
    insert into recognition_lookup_marks (day, organization_id, kind, result_id)
    select d.day, $2::bigint, r.kind, r.result_id from read r cross join day d where r.source <> $2::bigint
    on conflict do nothing
    returning kind, result_id
  ), counted as (
    insert into recognition_lookup_deltas (day, region_id, organization_id, source_organization_id, item_id, channel, lookups)
    select d.day, d.region_id, $2::bigint, r.source, i.item_id, $6::text, count(*)
    from fresh f join read r on r.kind = f.kind and r.result_id = f.result_id cross join day d
    left join lateral (select rr.item_id from recognition_results rr where rr.kind = f.kind and rr.result_id = f.result_id and rr.status <> 'withdrawn') i on true
    group by d.day, d.region_id, r.source, i.item_id
    returning lookups
  )
  select coalesce(sum(lookups), 0)::int as n from counted`;

const PRUNE_EVERY_MS = 3600_000;

export type LookupRecorder = (organizationId: number, channel: LookupChannel, read: ResultsRead, at?: Date) => Promise<number>;

/**
 * Counts look-ups of other organizations' results as the doors answer them (FHIR, DICOMweb),
 * for the authority's statistics: each result another organization holds counts once per
 * reading organization and day of its region, in every item it maps to, whatever the number
 * of requests. Called after the read is audited, before answering. Own results cost nothing
 * (the doors leave them out; the statement checks again). Returns the look-ups counted now.
 * Marks of days gone by are removed once an hour (three days back: any region's today is kept).
 */
export function createLookupRecorder(db: Knex): LookupRecorder {
  let prunedAt = 0;
  return async (organizationId, channel, read, at = new Date()) => {
    if (isEmpty(read)) return 0;
    if (at.getTime() - prunedAt > PRUNE_EVERY_MS) {
      prunedAt = at.getTime();
      const before = new Date(at.getTime() - 3 * 86_400_000).toISOString().slice(0, 10);
      await db('recognition_lookup_marks').where('day', '<', before).delete();
    }
    // an observation counts as its report (observations' primary key, each patient's partition named)
    const observations = read.observations ?? [];
    const ofObservations: number[] = observations.length === 0 ? [] : (await db('observations').whereIn(['id', 'patient_id'], observations.map((o) => [o.id, o.patientId])).distinct('report_id')).map((o: { report_id: number }) => o.report_id);
    // planned once per connection: the statement's planning costs several times its execution
    const rows = await preparedQuery(db, 'recognition-lookups-record', RECORD, [at, organizationId, [...(read.reports ?? []), ...ofObservations], read.studies ?? [], read.studyUids ?? [], channel]);
    return rows[0]!.n as number;
  };
}
