import { NATIONAL_ID_SYSTEM } from '@hub/shared/fhir';
import { maskNationalId, nationalIdHash, validateNationalId } from '@hub/shared/identity';
import type { FhirSearch } from './fhir-search';
import { connectHubDatabase, type GeneratedLab } from './observation-rows';
import { random } from './qido-corpus';

/**
 * Whom the searches ask about: patients of generated reports drawn at random, so a patient
 * comes up as often as they visit (chronic patients more often, as at a clinic), with a
 * test they have had and a day they had it. Each sampled person gets a real resident ID
 * number: its keyed hash (the hub's secret) replaces the generated one on the person and
 * their records, so `subject:identifier` searches send the clear number as a clinician's
 * system does and the hub hashes it.
 */
export interface LabSubject {
  patientId: number;
  nationalId: string;
  /** A LOINC code among the patient's results. */
  loinc: string;
  /** A day the patient had a specimen collected, YYYY-MM-DD in China. */
  day: string;
}

/** 17 digits → the 18-character number, the check character as the hub's own validation computes it. */
function withCheckCharacter(first17: string): string {
  for (const c of '0123456789X') {
    try {
      return validateNationalId(first17 + c);
    } catch {
      // not this one
    }
  }
  throw new Error(`no check character makes ${first17.slice(0, 6)}… valid`);
}

export async function sampleSubjects(databaseUrl: string, lab: GeneratedLab, count: number, idHashSecret: string, seed = 1): Promise<LabSubject[]> {
  const rng = random(seed);
  const span = lab.lastReportId - lab.firstReportId + 1;
  const picks = [...new Set(Array.from({ length: Math.ceil(count * 1.2) }, () => lab.firstReportId + Math.floor(rng() * span)))];
  const db = await connectHubDatabase(databaseUrl);
  try {
    // lab_reports' primary key, patients' primary key, observations_report_key
    const { rows } = await db.query(
      `select r.patient_id, pt.person_id, pt.birth_date::text as birth_date, to_char(r.effective_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD') as day,
              (select o.loinc_code from observations o where o.patient_id = r.patient_id and o.report_id = r.id order by o.obs_key offset r.id % 10 limit 1) as loinc
       from unnest($1::bigint[]) with ordinality u(id, ord)
       join lab_reports r on r.id = u.id join patients pt on pt.id = r.patient_id
       order by u.ord`,
      [picks],
    );
    if (rows.length < count) throw new Error(`only ${rows.length} of ${count} sampled reports found`);
    const sample = rows.slice(0, count) as Array<{ patient_id: string; person_id: string; birth_date: string; day: string; loinc: string }>;
    // one resident ID per person: region code 99…, the birth date of the record, a sequence from the person's id
    const ids = new Map<number, string>();
    for (const s of sample) {
      const person = Number(s.person_id);
      if (!ids.has(person)) ids.set(person, withCheckCharacter(`99${String(Math.floor(person / 1000) % 10000).padStart(4, '0')}${s.birth_date.replaceAll('-', '')}${String(person % 1000).padStart(3, '0')}`));
    }
    const persons = [...ids.keys()];
    const hashes = persons.map((p) => nationalIdHash(ids.get(p)!, idHashSecret));
    const masked = persons.map((p) => maskNationalId(ids.get(p)!));
    await db.query('begin');
    await db.query(`update persons p set national_id_hash = v.hash, national_id_masked = v.masked from unnest($1::bigint[], $2::text[], $3::text[]) v(id, hash, masked) where p.id = v.id`, [persons, hashes, masked]);
    await db.query(`update patients p set national_id_hash = v.hash, national_id_masked = v.masked from unnest($1::bigint[], $2::text[], $3::text[]) v(id, hash, masked) where p.person_id = v.id`, [persons, hashes, masked]);
    await db.query('commit');
    return sample.map((s) => ({ patientId: Number(s.patient_id), nationalId: ids.get(Number(s.person_id))!, loinc: s.loinc, day: s.day }));
  } finally {
    await db.end();
  }
}

const CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category|laboratory';
const plusDays = (day: string, days: number) => new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

/** The searches a clinician's system makes about a patient, by kind; each kind asks about its own subjects. */
export function labSearches(subjects: readonly LabSubject[], perKind: number): Array<{ kind: string; searches: FhirSearch[] }> {
  const page: Array<[string, string]> = [
    ['_sort', '-date'],
    ['_count', '50'],
  ];
  const kinds: Array<[string, (s: LabSubject) => FhirSearch]> = [
    ['Observation?patient', (s) => ({ type: 'Observation', params: [['patient', `Patient/${s.patientId}`], ...page] })],
    ['Observation?patient&code', (s) => ({ type: 'Observation', params: [['patient', `Patient/${s.patientId}`], ['code', `http://loinc.org|${s.loinc}`], ...page] })],
    [
      'Observation?patient&date (±90 days)',
      (s) => ({ type: 'Observation', params: [['patient', `Patient/${s.patientId}`], ['date', `ge${plusDays(s.day, -90)}`], ['date', `le${plusDays(s.day, 90)}`], ...page] }),
    ],
    ['Observation?patient&category', (s) => ({ type: 'Observation', params: [['patient', `Patient/${s.patientId}`], ['category', CATEGORY], ...page] })],
    ['Observation?subject:identifier', (s) => ({ type: 'Observation', params: [['subject:identifier', `${NATIONAL_ID_SYSTEM}|${s.nationalId}`], ...page] })],
    [
      'DiagnosticReport?patient&_include=result',
      (s) => ({ type: 'DiagnosticReport', params: [['patient', `Patient/${s.patientId}`], ['_include', 'DiagnosticReport:result'], ['_sort', '-date'], ['_count', '10']] }),
    ],
  ];
  if (subjects.length < kinds.length * perKind) throw new Error(`${subjects.length} subjects for ${kinds.length} × ${perKind} searches`);
  return kinds.map(([kind, build], k) => ({ kind, searches: subjects.slice(k * perKind, (k + 1) * perKind).map(build) }));
}
