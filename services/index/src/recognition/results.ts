import type { Knex } from '@hub/shared/db';
import { localDate, startOfDay, type RecognitionFacts, type ResultStatus } from '@hub/shared/recognition';
import { LOINC_SYSTEM } from '@hub/shared/recognition';
import { recognitionItemForImaging, recognitionItemsForLab, type Coding } from './match';

export type ResultKind = 'lab' | 'imaging';

/** One result under one catalog item, as the stage writes it to recognition_results. */
export interface MappedResult {
  kind: ResultKind;
  resultId: number;
  itemId: number;
  patientId: number;
  organizationId: number;
  referenceAt: Date;
  referenceDay: string;
  status: ResultStatus;
  summary: Record<string, unknown>;
  availableAt: Date;
}

const SETTLED_LAB = new Set(['final', 'amended', 'appended', 'corrected']);
const WITHDRAWN_LAB = new Set(['cancelled', 'entered-in-error']);
const CORRECTED_LAB = new Set(['corrected', 'amended']);

/** One status for a group of lab statuses: withdrawn when all are, preliminary when any is, corrected when any was. */
function labStatus(statuses: string[]): ResultStatus {
  const live = statuses.filter((s) => !WITHDRAWN_LAB.has(s));
  if (live.length === 0) return 'withdrawn';
  if (live.some((s) => !SETTLED_LAB.has(s))) return 'preliminary';
  return live.some((s) => CORRECTED_LAB.has(s)) ? 'corrected' : 'final';
}

const zoneOf = (facts: RecognitionFacts, organizationId: number) => facts.regionOf(organizationId)?.timeZone ?? 'Asia/Shanghai';

interface ObservationRow {
  id: number;
  loinc_code: string | null;
  loinc_display: string | null;
  local_code: string | null;
  local_display: string | null;
  value_num: number | null;
  value_comparator: string | null;
  value_text: string | null;
  value_code_display: string | null;
  value_code: string | null;
  unit: string | null;
  ref_text: string | null;
  ref_low: number | null;
  ref_high: number | null;
  abnormal_flags: string[] | null;
  status: string;
  effective_at: Date;
}

const codingsOf = (r: { loinc_code: string | null; local_code: string | null }): Coding[] => [
  ...(r.local_code ? [{ code: r.local_code, system: 'local' }] : []),
  ...(r.loinc_code ? [{ code: r.loinc_code, system: LOINC_SYSTEM }] : []),
];

/** What the check shows of an observation: the value as reported, never re-interpreted. */
function valueOf(o: ObservationRow) {
  const value = o.value_num !== null ? `${o.value_comparator ?? ''}${o.value_num}` : (o.value_text ?? o.value_code_display ?? o.value_code);
  const range = o.ref_text ?? (o.ref_low !== null || o.ref_high !== null ? `${o.ref_low ?? ''}-${o.ref_high ?? ''}` : null);
  return {
    id: o.id,
    code: o.loinc_code ?? o.local_code,
    system: o.loinc_code ? 'http://loinc.org' : 'local',
    display: o.loinc_display ?? o.local_display,
    value,
    unit: o.unit,
    range,
    flags: o.abnormal_flags ?? [],
    status: o.status,
  };
}

/**
 * A lab report under each catalog item it carries: the report's own code (a panel: the whole
 * report), and each observation's code (a potassium inside a chemistry panel is a potassium
 * result). The organization's own code mapping wins over LOINC (recognitionItemsForLab).
 */
export async function mapLabReport(trx: Knex.Transaction, facts: RecognitionFacts, reportId: number): Promise<MappedResult[]> {
  const report = await trx('lab_reports')
    .where({ id: reportId })
    .first('id', 'organization_id', 'patient_id', 'status', 'effective_at', 'created_at', 'loinc_code', 'local_code', 'loinc_display', 'local_display', 'issued_at');
  if (!report) return [];
  // the report's observations (observations_report_key: patient first, so one partition)
  const observations: ObservationRow[] = await trx('observations')
    .where({ patient_id: report.patient_id, report_id: report.id })
    .orderBy('id')
    .select('id', 'loinc_code', 'loinc_display', 'local_code', 'local_display', 'value_num', 'value_comparator', 'value_text', 'value_code', 'value_code_display', 'unit', 'ref_text', 'ref_low', 'ref_high', 'abnormal_flags', 'status', 'effective_at');
  const items = await recognitionItemsForLab(trx, { organizationId: report.organization_id, results: [codingsOf(report), ...observations.map(codingsOf)] });

  const groups = new Map<number, { whole: boolean; observations: ObservationRow[] }>();
  if (items[0]) groups.set(items[0].id, { whole: true, observations });
  observations.forEach((o, i) => {
    const item = items[i + 1];
    if (!item || groups.get(item.id)?.whole) return;
    const group = groups.get(item.id) ?? { whole: false, observations: [] };
    group.observations.push(o);
    groups.set(item.id, group);
  });

  const zone = zoneOf(facts, report.organization_id);
  const withdrawn = WITHDRAWN_LAB.has(report.status);
  return [...groups].map(([itemId, group]) => {
    const statuses = group.whole || group.observations.length === 0 ? [report.status, ...group.observations.map((o) => o.status)] : group.observations.map((o) => o.status);
    const referenceAt = group.whole ? report.effective_at : new Date(Math.min(...group.observations.map((o) => o.effective_at.getTime())));
    return {
      kind: 'lab',
      resultId: report.id,
      itemId,
      patientId: report.patient_id,
      organizationId: report.organization_id,
      referenceAt,
      referenceDay: localDate(referenceAt, zone),
      status: withdrawn ? 'withdrawn' : labStatus(statuses),
      summary: {
        report: { code: report.loinc_code ?? report.local_code, display: report.loinc_display ?? report.local_display, issued: report.issued_at },
        values: group.observations.slice(0, 100).map(valueOf),
      },
      availableAt: report.created_at,
    };
  });
}

/** DICOM DA + TM (local time of the region) as an instant; a study without a date counts from its arrival. */
function studyInstant(date: string | null, time: string | null, arrived: Date, zone: string): Date {
  if (!date) return arrived;
  const m = time?.match(/^(\d{2})(\d{2})?(\d{2})?/);
  const seconds = m ? Number(m[1]) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0) : 0;
  return new Date(startOfDay(date, zone).getTime() + Math.min(seconds, 86_399) * 1000);
}

/**
 * An imaging study under its catalog item (modality + body part). The index keeps no report
 * status for images: a study is final once indexed, and a later change of its date or patient
 * is a correction.
 */
export async function mapStudy(trx: Knex.Transaction, facts: RecognitionFacts, studyId: number): Promise<MappedResult[]> {
  const study = await trx('studies')
    .where({ id: studyId })
    .first('id', 'study_uid', 'organization_id', 'patient_id', 'study_date', 'study_time', 'accession_number', 'description', 'modalities', 'body_parts', 'created_at');
  if (!study) return [];
  const item = await recognitionItemForImaging(trx, { organizationId: study.organization_id, modality: study.modalities, bodyPart: study.body_parts });
  if (!item) return [];
  const zone = zoneOf(facts, study.organization_id);
  const referenceAt = studyInstant(study.study_date, study.study_time, study.created_at, zone);
  return [
    {
      kind: 'imaging',
      resultId: study.id,
      itemId: item.id,
      patientId: study.patient_id,
      organizationId: study.organization_id,
      referenceAt,
      referenceDay: study.study_date ?? localDate(referenceAt, zone),
      status: 'final',
      summary: { studyUid: study.study_uid, accession: study.accession_number, description: study.description, modalities: study.modalities, bodyParts: study.body_parts },
      availableAt: study.created_at,
    },
  ];
}
