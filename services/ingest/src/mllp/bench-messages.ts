import { encodeMessage, repeat, type SegmentInput } from '@hub/shared/hl7';

/**
 * ORU^R01 as the benchmark sends it (issue 4: ten OBX each): one chemistry panel, ten NM
 * results LOINC-coded with units, reference ranges and flags, patients rotating through
 * `patients` records so linking sees returning patients as a real LIS feed does.
 */
const PANEL = [
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
] as const;

const pad = (n: number, width: number) => String(n).padStart(width, '0');

export interface BenchOru {
  /** MSH-4, registered for the sending organization. */
  facility: string;
  /** Tells one run's MSH-10 and order numbers from another's. */
  run: string;
  patients?: number;
}

/** Message `i` of a run, as HL7 text (segments ending in CR), about 1.9 KB. */
export function benchOru(i: number, o: BenchOru): string {
  const patient = i % (o.patients ?? 1000);
  const collected = new Date(Date.UTC(2024, 0, 1) + (i % 365) * 86_400_000 + (i % 600) * 60_000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const order = `${o.run}${pad(i, 8)}`;
  const segments: SegmentInput[] = [
    ['MSH', '|', '^~\\&', 'LIS', o.facility, 'HUB', 'REGION', collected, null, ['ORU', 'R01', 'ORU_R01'], `${o.run}-${i}`, 'P', '2.5.1', null, null, 'AL', 'NE', 'CHN', 'UNICODE UTF-8'],
    ['PID', '1', null, repeat([`LM${pad(patient, 7)}`, null, null, o.facility, 'MR']), null, [`病人${pad(patient, 4)}`, null], null, `19${pad(40 + (patient % 60), 2)}${pad(1 + (patient % 12), 2)}${pad(1 + (patient % 28), 2)}`, patient % 2 ? 'M' : 'F'],
    ['ORC', 'RE', `P${order}`, `F${order}`],
    ['OBR', '1', `P${order}`, `F${order}`, ['CHEM', 'Chemistry panel', 'L'], null, null, collected, null, null, null, null, null, null, collected, null, null, null, null, null, null, null, collected, null, 'CH', 'F'],
    ...PANEL.map((t, k): SegmentInput => {
      const value = Number((t.low + (t.high - t.low) * (((i * 7 + k * 13) % 140) / 100)).toFixed(2));
      const flag = value > t.high ? 'H' : value < t.low ? 'L' : 'N';
      return ['OBX', String(k + 1), 'NM', [t.loinc, t.name, 'LN', t.local, t.name, 'L'], null, String(value), [t.unit, t.unit, 'UCUM'], `${t.low}-${t.high}`, flag, null, null, 'F', null, null, collected];
    }),
  ];
  return encodeMessage(segments);
}
