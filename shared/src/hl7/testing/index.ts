import { encodeMessage, repeat, type SegmentInput } from '..';

/**
 * For tests and benchmarks: ORU^R01 lab results as a LIS sends them, one report (a chemistry
 * panel) with ten NM observations, LOINC-coded, with units, reference ranges and flags.
 * Patients rotate through `patients` records so the hub links and indexes realistic volumes.
 */
export const PANEL: ReadonlyArray<{ local: string; loinc: string; name: string; unit: string; low: number; high: number }> = [
  { local: 'GLU', loinc: '2345-7', name: 'Glucose', unit: 'mmol/L', low: 3.9, high: 6.1 },
  { local: 'ALT', loinc: '1742-6', name: 'ALT', unit: 'U/L', low: 9, high: 50 },
  { local: 'AST', loinc: '1920-8', name: 'AST', unit: 'U/L', low: 15, high: 40 },
  { local: 'CREA', loinc: '2160-0', name: 'Creatinine', unit: 'umol/L', low: 57, high: 111 },
  { local: 'UREA', loinc: '3091-6', name: 'Urea', unit: 'mmol/L', low: 3.1, high: 8 },
  { local: 'TBIL', loinc: '1975-2', name: 'Bilirubin total', unit: 'umol/L', low: 0, high: 26 },
  { local: 'ALB', loinc: '1751-7', name: 'Albumin', unit: 'g/L', low: 40, high: 55 },
  { local: 'CHOL', loinc: '2093-3', name: 'Cholesterol', unit: 'mmol/L', low: 0, high: 5.2 },
  { local: 'TG', loinc: '2571-8', name: 'Triglyceride', unit: 'mmol/L', low: 0, high: 1.7 },
  { local: 'K', loinc: '2823-3', name: 'Potassium', unit: 'mmol/L', low: 3.5, high: 5.3 },
];

export interface OruOptions {
  /** MSH-4, registered at the hub for the sending organization. */
  sendingFacility: string;
  /** Distinct patient records the messages rotate through. */
  patients?: number;
  /** Tells one run's control ids (MSH-10) from another's. */
  runId: string;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** The values of message `i`, deterministic. */
export function oruValues(i: number, patients: number) {
  const patient = i % patients;
  const day = i % 365;
  const date = new Date(Date.UTC(2024, 0, 1) + day * 86_400_000 + (i % 600) * 60_000);
  const ts = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return {
    mrn: `LM${pad(patient, 7)}`,
    birthDate: `19${pad(40 + (patient % 60), 2)}${pad(1 + (patient % 12), 2)}${pad(1 + (patient % 28), 2)}`,
    sex: patient % 2 === 0 ? 'F' : 'M',
    collected: ts,
    results: PANEL.map((t, k) => {
      const value = Number((t.low + ((t.high - t.low) * (((i * 7 + k * 13) % 140) / 100))).toFixed(2));
      return { ...t, value, flag: value > t.high ? 'H' : value < t.low ? 'L' : 'N' };
    }),
  };
}

/** Message `i` as HL7 text (segments ending in CR). */
export function oruMessage(i: number, options: OruOptions): string {
  const v = oruValues(i, options.patients ?? 1000);
  const order = `${options.runId}${pad(i, 8)}`;
  const segments: SegmentInput[] = [
    ['MSH', '|', '^~\\&', 'LIS', options.sendingFacility, 'HUB', 'REGION', v.collected, null, ['ORU', 'R01', 'ORU_R01'], `${options.runId}-${i}`, 'P', '2.5.1', null, null, 'AL', 'NE', 'CHN', 'UNICODE UTF-8'],
    ['PID', '1', null, repeat([v.mrn, null, null, options.sendingFacility, 'MR']), null, [`BENCH${pad(i % (options.patients ?? 1000), 4)}`, 'LAB'], null, v.birthDate, v.sex],
    ['ORC', 'RE', `P${order}`, `F${order}`],
    ['OBR', '1', `P${order}`, `F${order}`, ['CHEM', 'Chemistry panel', 'L'], null, null, v.collected, null, null, null, null, null, null, v.collected, null, null, null, null, null, null, null, v.collected, null, 'CH', 'F'],
    ...v.results.map((r, k): SegmentInput => [
      'OBX',
      String(k + 1),
      'NM',
      [r.loinc, r.name, 'LN', r.local, r.name, 'L'],
      null,
      String(r.value),
      [r.unit, r.unit, 'UCUM'],
      `${r.low}-${r.high}`,
      r.flag,
      null,
      null,
      'F',
      null,
      null,
      v.collected,
    ]),
  ];
  return encodeMessage(segments);
}
