import type { PersonName } from '@hub/shared/dicom';
import { badInput } from '@hub/shared/errors';

/**
 * The part of a DICOM door's summary (accepted_objects.summary, written by
 * services/ingest/src/dicom/summary.ts: the decoded header fields, with the national ID only
 * as hash + masked form) that the imaging index uses. The stored object is read as well, for
 * the DICOM JSON metadata; the summary is what the door decided about identity (the Patient
 * ID stand-in for a resident ID number, the national ID hash), so that is taken from here.
 */
export interface ImagingSummary {
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopClassUid?: string;
  patientId: string;
  patientIdIsNationalId: boolean;
  patientName?: PersonName;
  /** YYYY-MM-DD */
  patientBirthDate?: string;
  patientSex?: 'M' | 'F' | 'O';
  nationalId?: { hash: string; masked: string };
  /** Other Patient IDs the door kept (national IDs left out). */
  otherPatientIds: Array<{ patientId: string; issuerOfPatientId?: string; typeOfPatientId?: string }>;
  /** YYYY-MM-DD */
  studyDate?: string;
  studyTime?: string;
  accessionNumber?: string;
  studyId?: string;
  studyDescription?: string;
  referringPhysicianName?: PersonName;
  modality?: string;
  seriesNumber?: number;
  seriesDescription?: string;
  bodyPartExamined?: string;
  instanceNumber?: number;
  /** Where the door found the pixel data value, a hint for reading the header back. */
  pixelDataOffset?: number;
}

const malformed = (field: string, what: string) => badInput(`malformed DICOM summary: ${field} ${what}`, { location: `summary.${field}`, code: 'malformed-summary' });

function text(s: Record<string, unknown>, field: string, required: true): string;
function text(s: Record<string, unknown>, field: string, required?: false): string | undefined;
function text(s: Record<string, unknown>, field: string, required = false): string | undefined {
  const v = s[field];
  if (v === undefined || v === null || v === '') {
    if (required) throw malformed(field, 'is missing');
    return undefined;
  }
  if (typeof v !== 'string') throw malformed(field, 'must be a string');
  return v.trim() === '' ? undefined : v.trim();
}

function integer(s: Record<string, unknown>, field: string): number | undefined {
  const v = s[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw malformed(field, 'must be a number');
  // IS values outside a PostgreSQL integer are noise from the sender, not a reason to fail.
  return Number.isInteger(v) && Math.abs(v) <= 2 ** 31 - 1 ? v : undefined;
}

function personName(s: Record<string, unknown>, field: string): PersonName | undefined {
  const v = s[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw malformed(field, 'must be an object of name groups');
  const name: PersonName = {};
  for (const group of ['alphabetic', 'ideographic', 'phonetic'] as const) {
    const g = (v as Record<string, unknown>)[group];
    if (g === undefined || g === null) continue;
    if (typeof g !== 'string') throw malformed(`${field}.${group}`, 'must be a string');
    if (g.trim() !== '') name[group] = g.trim();
  }
  return Object.keys(name).length > 0 ? name : undefined;
}

/** DA (YYYYMMDD, or the old YYYY.MM.DD) as an ISO date; a date that does not exist is left out rather than failing the instance. */
export function isoDate(da: string | undefined): string | undefined {
  const m = da?.replace(/\./g, '').match(/^(\d{4})(\d{2})(\d{2})$/);
  if (!m) return undefined;
  const iso = `${m[1]}-${m[2]}-${m[3]}`;
  const d = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(iso) ? iso : undefined;
}

/** TM as hhmmss(.frac) with colons some senders write removed; anything else is left out. */
function dicomTime(tm: string | undefined): string | undefined {
  const t = tm?.replace(/:/g, '');
  return t && /^([01]\d|2[0-3])([0-5]\d([0-5]\d(\.\d{1,6})?)?)?$/.test(t) ? t : undefined;
}

/** Reads the summary of an accepted DICOM object; BadInput when it is not one a door wrote. */
export function imagingSummaryOf(summary: unknown): ImagingSummary {
  if (typeof summary !== 'object' || summary === null || Array.isArray(summary)) throw malformed('summary', 'must be an object');
  const s = summary as Record<string, unknown>;
  const patientId = text(s, 'patientId');
  // Without the hospital's patient number the study cannot be put under any patient.
  if (patientId === undefined) throw badInput('the instance has no Patient ID (0010,0020): it cannot be linked to a patient', { location: '(0010,0020) Patient ID', code: 'missing-patient-id' });
  const sex = text(s, 'patientSex')?.toUpperCase();
  const nid = s.nationalId as { hash?: unknown; masked?: unknown } | undefined;
  if (nid !== undefined && (typeof nid !== 'object' || nid === null || typeof nid.hash !== 'string' || typeof nid.masked !== 'string')) {
    throw malformed('nationalId', 'must be { hash, masked }');
  }
  const others = s.otherPatientIds ?? [];
  if (!Array.isArray(others)) throw malformed('otherPatientIds', 'must be a list');
  const pixel = s.pixelData as { offset?: unknown } | undefined;
  return {
    sopInstanceUid: text(s, 'sopInstanceUid', true),
    studyInstanceUid: text(s, 'studyInstanceUid', true),
    seriesInstanceUid: text(s, 'seriesInstanceUid', true),
    sopClassUid: text(s, 'sopClassUid'),
    patientId,
    patientIdIsNationalId: s.patientIdIsNationalId === true,
    patientName: personName(s, 'patientName'),
    patientBirthDate: isoDate(text(s, 'patientBirthDate')),
    patientSex: sex === 'M' || sex === 'F' || sex === 'O' ? sex : undefined,
    nationalId: nid ? { hash: nid.hash as string, masked: nid.masked as string } : undefined,
    otherPatientIds: others.filter((o): o is ImagingSummary['otherPatientIds'][number] => typeof o === 'object' && o !== null && typeof o.patientId === 'string'),
    studyDate: isoDate(text(s, 'studyDate')),
    studyTime: dicomTime(text(s, 'studyTime')),
    accessionNumber: text(s, 'accessionNumber'),
    studyId: text(s, 'studyId'),
    studyDescription: text(s, 'studyDescription'),
    referringPhysicianName: personName(s, 'referringPhysicianName'),
    modality: text(s, 'modality')?.toUpperCase(),
    seriesNumber: integer(s, 'seriesNumber'),
    seriesDescription: text(s, 'seriesDescription'),
    bodyPartExamined: text(s, 'bodyPartExamined')?.toUpperCase(),
    instanceNumber: integer(s, 'instanceNumber'),
    pixelDataOffset: pixel && typeof pixel.offset === 'number' && Number.isSafeInteger(pixel.offset) && pixel.offset > 0 ? pixel.offset : undefined,
  };
}
