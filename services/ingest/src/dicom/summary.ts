import type { InstanceHeader, OtherPatientId } from '@hub/shared/dicom';
import { isHubError } from '@hub/shared/errors';
import { maskNationalId, nationalIdHash, validateNationalId } from '@hub/shared/identity';

/**
 * What the index workers get of a DICOM instance in accepted_objects.summary: the header
 * fields (text decoded), the transfer syntax and character set, and who sent it. A national
 * ID never appears in clear: only its keyed hash and masked form.
 */
export type DicomSummary = Omit<InstanceHeader, 'otherPatientIds' | 'warnings' | 'pixelData' | 'patientId'> & {
  patientId?: string;
  /** Set when Patient ID (0010,0020) itself was a resident ID number: it is replaced by `NID-<hash prefix>`. */
  patientIdIsNationalId?: true;
  /** The resident ID number found in Patient ID or Other Patient IDs, valid, as hash + masked form. */
  nationalId?: { hash: string; masked: string };
  /** The other identifiers, national IDs left out. */
  otherPatientIds: OtherPatientId[];
  /** Pixel data present, and where, for the workers' frame offsets. */
  pixelData?: { offset: number; length?: number; encapsulated: boolean; fragments?: number };
  /** Hash of the data set alone (after the file meta): the same instance through another door is the same push. */
  dataSetSha256?: string;
  /** C-STORE: the sender's AE title. */
  callingAeTitle?: string;
  /** Anything odd in the header (undeclared character set, an invalid national ID …): codes and places, never values. */
  warnings: Array<{ code: string; location?: string }>;
};

// An issuer or type that says "resident ID card": 身份证, the WS/T 500 OID, or English words for it.
const NATIONAL_ISSUER = /身份证|居民身份|2\.16\.156\.10011\.1\.3|resident|national|citizen|\bID ?CARD\b|\bRIC\b|\bSFZ\b/i;
// What a resident ID number looks like, even with the wrong check digit (15 digits: the legacy form).
const LOOKS_NATIONAL = /^(\d{17}[\dXx]|\d{15})$/;

const looksNational = (value: string, issuer?: string, type?: string) =>
  LOOKS_NATIONAL.test(value.normalize('NFKC').trim()) || NATIONAL_ISSUER.test(issuer ?? '') || NATIONAL_ISSUER.test(type ?? '');

export interface SummaryContext {
  idHashSecret: string;
  dataSetSha256?: string;
  callingAeTitle?: string;
}

export function dicomSummary(header: InstanceHeader, ctx: SummaryContext): DicomSummary {
  const { otherPatientIds, warnings, pixelData, patientId, ...rest } = header;
  const notes: DicomSummary['warnings'] = warnings.map((w) => (w.location === undefined ? { code: w.code } : { code: w.code, location: w.location }));
  let nationalId: DicomSummary['nationalId'];

  const consider = (value: string, location: string, noteInvalid = true): boolean => {
    try {
      const id = validateNationalId(value);
      nationalId ??= { hash: nationalIdHash(id, ctx.idHashSecret), masked: maskNationalId(id) };
      return true;
    } catch (err) {
      if (!isHubError(err)) throw err;
      // An invalid number links nothing; it is noted (by its problem, not its value) and dropped.
      if (noteInvalid) notes.push({ code: `invalid-national-id:${err.detail.code ?? 'invalid'}`, location });
      return false;
    }
  };

  const summary: DicomSummary = { ...rest, otherPatientIds: [], warnings: notes };
  if (patientId !== undefined) {
    if (LOOKS_NATIONAL.test(patientId.normalize('NFKC').trim()) && consider(patientId, '(0010,0020) Patient ID', false)) {
      // The hospital uses the resident ID as its patient number: keep a stable stand-in instead.
      summary.patientId = `NID-${nationalId!.hash.slice(0, 32)}`;
      summary.patientIdIsNationalId = true;
    } else {
      // An 18-digit hospital number that is not a valid resident ID is just a hospital number.
      summary.patientId = patientId;
    }
  }
  for (const other of otherPatientIds) {
    if (looksNational(other.patientId, other.issuerOfPatientId, other.typeOfPatientId)) consider(other.patientId, '(0010,1002) Other Patient IDs Sequence');
    else summary.otherPatientIds.push(other);
  }
  if (nationalId) summary.nationalId = nationalId;
  if (pixelData) summary.pixelData = { offset: pixelData.offset, length: pixelData.length, encapsulated: pixelData.encapsulated, fragments: pixelData.fragments };
  if (ctx.dataSetSha256) summary.dataSetSha256 = ctx.dataSetSha256;
  if (ctx.callingAeTitle) summary.callingAeTitle = ctx.callingAeTitle;
  return summary;
}
