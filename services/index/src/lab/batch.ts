import type { Knex } from '@hub/shared/db';
import { linkPatients, patientKey } from '../empi';
import type { AcceptedObject, IndexBatchHandler } from '../worker';
import { factsOf, indexLabSubmission } from './handlers';
import { observationRow, reportRow, writeReport, type ReportTarget } from './reports';
import { labSubmissionOf, type LabSubmission, type ReportSubmission } from '@hub/shared/lab';

interface Item {
  object: AcceptedObject;
  submission: LabSubmission;
  source: 'hl7v2' | 'fhir';
}

interface ReportWrite {
  report: ReportSubmission;
  target: ReportTarget;
}

/**
 * A claimed batch of lab submissions (HL7 v2 and FHIR) into the index with a few set-based
 * statements, with the outcome of indexing them one by one in the order they were accepted:
 * every patient of the batch linked at once (linkPatients), then every new report inserted
 * by one statement and all their observations by another. What the set-based path does not
 * cover is done one at a time, in acceptance order: a report the index already has (or that
 * the batch names twice) goes through writeReport, which keeps the history of what a
 * correction replaces; an A40 merge is a barrier (what comes before it is written first).
 * Any error rolls the whole batch back, and the worker indexes its objects one by one.
 */
export const indexLabBatch: IndexBatchHandler = async (trx, objects) => {
  const items: Item[] = [...objects]
    .sort((a, b) => a.id - b.id)
    .map((object) => ({ object, submission: labSubmissionOf(object.summary), source: object.kind === 'fhir' ? 'fhir' : 'hl7v2' }));
  let run: Item[] = [];
  for (const item of items) {
    if (item.submission.event !== 'merge') {
      run.push(item);
      continue;
    }
    await indexRun(trx, run);
    run = [];
    await indexLabSubmission(trx, item.object, item.source);
  }
  await indexRun(trx, run);
};

/** Results and registrations without a merge among them. */
async function indexRun(trx: Knex.Transaction, run: Item[]): Promise<void> {
  if (run.length === 0) return;
  const linked = await linkPatients(
    trx,
    run.flatMap((i) => i.submission.groups.map((g) => factsOf(i.object.organizationId, g.patient))),
  );
  const survivor = await survivingPatients(trx, [...linked.values()].map((l) => l.patientId));
  const writes: ReportWrite[] = [];
  for (const { object, submission, source } of run) {
    if (submission.event !== 'results') continue;
    for (const group of submission.groups) {
      const patientId = survivor.get(linked.get(patientKey({ organizationId: object.organizationId, localId: group.patient.localId }))!.patientId)!;
      for (const report of group.reports) writes.push({ report, target: { organizationId: object.organizationId, patientId, acceptedId: object.id, source } });
    }
  }
  await writeReports(trx, writes);
}

/** survivingPatient for many records in one statement: each → the record later messages are filed under. */
async function survivingPatients(trx: Knex.Transaction, patientIds: number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>(patientIds.map((id) => [id, id]));
  if (patientIds.length === 0) return out;
  const { rows } = await trx.raw(
    `with recursive chain(start, id, next, depth) as (
       select id, id, merged_into_patient_id, 0 from patients where id = any(?::bigint[]) and merged_into_patient_id is not null
       union all
       select c.start, p.id, p.merged_into_patient_id, c.depth + 1 from patients p join chain c on p.id = c.next where c.depth < 16
     )
     select distinct on (start) start, id from chain order by start, depth desc`,
    [[...new Set(patientIds)]],
  );
  for (const r of rows as Array<{ start: string; id: string }>) out.set(Number(r.start), Number(r.id));
  return out;
}

const reportKey = (w: ReportWrite) => `${w.target.organizationId}|${w.report.key}`;

/** New reports and their observations set-based; known ones, and a report's second message, through writeReport in order. */
async function writeReports(trx: Knex.Transaction, writes: ReportWrite[]): Promise<void> {
  if (writes.length === 0) return;
  const firsts = new Map<string, ReportWrite>();
  for (const w of writes) if (!firsts.has(reportKey(w))) firsts.set(reportKey(w), w);
  // in (organization, key) order: concurrent batches meet on lab_reports_key alike
  const candidates = [...firsts.values()].sort((a, b) => a.target.organizationId - b.target.organizationId || (a.report.key < b.report.key ? -1 : a.report.key > b.report.key ? 1 : 0));
  const { rows } = await trx.raw(
    `insert into lab_reports (organization_id, patient_id, report_key, placer_order_number, filler_order_number, local_code, local_display, loinc_code, loinc_display,
                              status, effective_at, issued_at, specimen_type, specimen_display, source, accepted_id)
     select organization_id, patient_id, report_key, placer_order_number, filler_order_number, local_code, local_display, loinc_code, loinc_display,
            status, effective_at, issued_at, specimen_type, specimen_display, source, accepted_id
     from json_populate_recordset(null::lab_reports, ?::json)
     on conflict (organization_id, report_key) do nothing
     returning id, organization_id, report_key`,
    [JSON.stringify(candidates.map((w) => reportRow(w.report, w.target)))],
  );
  const created = new Map<string, number>((rows as Array<{ id: string; organization_id: string; report_key: string }>).map((r) => [`${r.organization_id}|${r.report_key}`, Number(r.id)]));

  const observations = [...firsts.values()].flatMap((w) => {
    const reportId = created.get(reportKey(w));
    return reportId === undefined ? [] : w.report.observations.map((o) => observationRow(o, w.report, reportId, w.target));
  });
  if (observations.length > 0) {
    await trx.raw(
      `insert into observations (patient_id, report_id, organization_id, obs_key, local_code, local_display, loinc_code, loinc_display, value_type, value_num, value_comparator,
                                 value_text, value_code, value_code_display, value_code_system, unit, unit_code, unit_ucum, ref_low, ref_high, ref_text, abnormal_flags,
                                 status, effective_at, issued_at, accepted_id, updated_at)
       select patient_id, report_id, organization_id, obs_key, local_code, local_display, loinc_code, loinc_display, value_type, value_num, value_comparator,
              value_text, value_code, value_code_display, value_code_system, unit, unit_code, unit_ucum, ref_low, ref_high, ref_text, abnormal_flags,
              status, effective_at, issued_at, accepted_id, updated_at
       from json_populate_recordset(null::observations, ?::json)`,
      [JSON.stringify(observations)],
    );
  }
  for (const w of writes) {
    if (firsts.get(reportKey(w)) === w && created.has(reportKey(w))) continue;
    await writeReport(trx, w.report, w.target);
  }
}
