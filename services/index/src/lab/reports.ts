import type { Knex } from '@hub/shared/db';
import type { ObservationSubmission, ReportSubmission } from '@hub/shared/lab';

/** Statuses a later preliminary message must not overwrite (a late retry of an early result). */
const SETTLED = new Set(['final', 'corrected', 'amended', 'appended']);
const UNSETTLED = new Set(['preliminary', 'registered', 'partial']);

/** The columns of an observation that a replacement can change; what history keeps. */
const VALUE_COLUMNS = [
  'local_code', 'local_display', 'loinc_code', 'loinc_display', 'value_type', 'value_num', 'value_comparator', 'value_text',
  'value_code', 'value_code_display', 'value_code_system', 'unit', 'unit_code', 'unit_ucum', 'ref_low', 'ref_high', 'ref_text',
  'abnormal_flags', 'status', 'effective_at', 'issued_at',
] as const;

export interface ReportTarget {
  organizationId: number;
  patientId: number;
  acceptedId: number;
  source: 'hl7v2' | 'fhir';
}

export function reportRow(report: ReportSubmission, t: ReportTarget) {
  return {
    organization_id: t.organizationId,
    patient_id: t.patientId,
    report_key: report.key,
    placer_order_number: report.placerOrderNumber ?? null,
    filler_order_number: report.fillerOrderNumber ?? null,
    local_code: report.local?.code ?? null,
    local_display: report.local?.display ?? null,
    loinc_code: report.loinc?.code ?? null,
    loinc_display: report.loinc?.display ?? null,
    status: report.status,
    effective_at: report.effectiveAt,
    issued_at: report.issuedAt ?? null,
    specimen_type: report.specimen?.type ?? null,
    specimen_display: report.specimen?.display ?? null,
    source: t.source,
    accepted_id: t.acceptedId,
  };
}

export function observationRow(obs: ObservationSubmission, report: ReportSubmission, reportId: number, t: ReportTarget) {
  return {
    patient_id: t.patientId,
    report_id: reportId,
    organization_id: t.organizationId,
    obs_key: obs.key,
    local_code: obs.local?.code ?? null,
    local_display: obs.local?.display ?? null,
    loinc_code: obs.loinc?.code ?? null,
    loinc_display: obs.loinc?.display ?? null,
    value_type: obs.valueType ?? null,
    value_num: obs.value?.number ?? null,
    value_comparator: obs.value?.comparator ?? null,
    value_text: obs.value?.text ?? null,
    value_code: obs.value?.coded?.code ?? null,
    value_code_display: obs.value?.coded?.display ?? null,
    value_code_system: obs.value?.coded?.system ?? null,
    unit: obs.unit?.text ?? null,
    unit_code: obs.unit?.code ?? null,
    unit_ucum: obs.unit?.ucum ?? false,
    ref_low: obs.referenceRange?.low ?? null,
    ref_high: obs.referenceRange?.high ?? null,
    ref_text: obs.referenceRange?.text ?? null,
    abnormal_flags: obs.abnormalFlags ?? null,
    status: obs.status,
    // the collection time: the date the result counts from (FHIR may say otherwise per result)
    effective_at: obs.effectiveAt ?? report.effectiveAt,
    issued_at: obs.issuedAt ?? report.issuedAt ?? null,
    accepted_id: t.acceptedId,
    updated_at: new Date(),
  };
}

type Row = Record<string, unknown>;

const comparable = (v: unknown): unknown => (v instanceof Date ? v.toISOString() : typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v) ? new Date(v).toISOString() : v ?? null);
const sameValue = (a: Row, b: Row) => VALUE_COLUMNS.every((c) => JSON.stringify(comparable(a[c])) === JSON.stringify(comparable(b[c])));

/**
 * Writes one report and its observations. A report already known (same organization and
 * key) is updated; each observation with the same key is replaced, its earlier value kept
 * in observation_history — except that a preliminary result never replaces a final one
 * (a late retry). Observations the new message leaves out are kept: a correction often
 * carries only the corrected results.
 */
export async function writeReport(trx: Knex.Transaction, report: ReportSubmission, target: ReportTarget): Promise<number> {
  const row = reportRow(report, target);
  const inserted = await trx('lab_reports').insert(row).onConflict(['organization_id', 'report_key']).ignore().returning('id');
  if (inserted[0]) {
    const reportId = inserted[0].id as number;
    const rows = report.observations.map((o) => observationRow(o, report, reportId, target));
    if (rows.length > 0) await trx('observations').insert(rows);
    return reportId;
  }

  const existing = await trx('lab_reports').where({ organization_id: target.organizationId, report_key: report.key }).forUpdate().first('id', 'patient_id', 'status');
  const reportId = existing.id as number;
  const status = SETTLED.has(existing.status) && UNSETTLED.has(report.status) ? existing.status : report.status;
  if (existing.patient_id !== target.patientId) {
    // The hospital re-sent the report under another patient: its results follow it.
    await trx('observations').where({ patient_id: existing.patient_id, report_id: reportId }).update({ patient_id: target.patientId });
  }
  await trx('lab_reports').where({ id: reportId }).update({ ...row, status, updated_at: trx.fn.now() });

  const known = new Map<string, Row>(
    (await trx('observations').where({ patient_id: target.patientId, report_id: reportId }).select('id', 'obs_key', 'accepted_id', 'updated_at', ...VALUE_COLUMNS)).map((r: Row) => [r.obs_key as string, r]),
  );
  const rows: Row[] = [];
  const history: Row[] = [];
  for (const obs of report.observations) {
    const next = observationRow(obs, report, reportId, target);
    const before = known.get(obs.key);
    if (before && SETTLED.has(before.status as string) && UNSETTLED.has(obs.status)) continue;
    if (before && !sameValue(before, next)) {
      const prior = Object.fromEntries([...VALUE_COLUMNS, 'accepted_id', 'updated_at'].map((c) => [c, before[c]]));
      history.push({ observation_id: before.id, patient_id: target.patientId, report_id: reportId, prior: JSON.stringify(prior), replaced_by_accepted_id: target.acceptedId });
    }
    rows.push(next);
  }
  if (history.length > 0) await trx('observation_history').insert(history);
  if (rows.length > 0) await trx('observations').insert(rows).onConflict(['patient_id', 'report_id', 'obs_key']).merge();
  return reportId;
}
