import { isHubError } from '@hub/shared/errors';

/**
 * The DICOM status vocabulary both doors answer in: a C-STORE response status (PS3.4 B.2.3,
 * PS3.7 C) and a STOW-RS Failure Reason (PS3.18 I.2.2) are the same numbers.
 */
export const DicomStatus = {
  Success: 0x0000,
  /** PS3.7 C.4.2: a failure not covered by another status (a bug on our side). */
  ProcessingFailure: 0x0110,
  /** PS3.7 C.5.x, PS3.18 I.2.2: the SOP class is not one the hub stores. */
  SopClassNotSupported: 0x0122,
  /** PS3.7 C.5.x "Refused: Not Authorized": the study belongs to another organization. */
  NotAuthorized: 0x0124,
  /** A7xx: the blob store or the database cannot take the instance now; a retry later may work. */
  OutOfResources: 0xa700,
  /** A9xx: a UID the IOD requires is missing or invalid, or the data set is not the instance the command names. */
  DataSetDoesNotMatchSopClass: 0xa900,
  /** Cxxx: not DICOM, truncated, or unreadable. */
  CannotUnderstand: 0xc000,
  /** PS3.18 I.2.2: the transfer syntax is not one the hub stores. */
  TransferSyntaxNotSupported: 0xc122,
  /** Cxxx, hub-specific (as dcm4chee-arc): STOW-RS to /studies/{study} with an instance of another study. */
  StudyInstanceUidMismatch: 0xc409,
} as const;

const UID_PROBLEMS = /^(missing|invalid)-(sop-class|sop-instance|study-instance|series-instance)-uid$|-uid-mismatch$/;
const RESOURCE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EIO', 'EMFILE', 'ENFILE', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'KnexTimeoutError']);

/** Whether an error that is not a HubError means "cannot now" (disk, database) rather than a bug. */
function isResourceFailure(err: unknown): boolean {
  const e = err as { code?: unknown; name?: unknown };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  // PostgreSQL classes 53 (insufficient resources), 57 (operator intervention), 08 (connection)
  return (code !== undefined && (RESOURCE_CODES.has(code) || /^(53|57P|08)/.test(code))) || e?.name === 'KnexTimeoutError';
}

/** The failure status for what went wrong accepting one instance. */
export function failureStatusOf(err: unknown): number {
  if (!isHubError(err)) return isResourceFailure(err) ? DicomStatus.OutOfResources : DicomStatus.ProcessingFailure;
  const code = err.detail.code ?? '';
  switch (err.kind) {
    case 'Unavailable':
    case 'TooLarge':
      return DicomStatus.OutOfResources;
    case 'Forbidden':
      return DicomStatus.NotAuthorized;
    case 'Unsupported':
      return code === 'transfer-syntax-not-supported' ? DicomStatus.TransferSyntaxNotSupported : DicomStatus.SopClassNotSupported;
    case 'BadInput':
    case 'Conflict':
      if (code === 'study-instance-uid-mismatch') return DicomStatus.StudyInstanceUidMismatch;
      return UID_PROBLEMS.test(code) ? DicomStatus.DataSetDoesNotMatchSopClass : DicomStatus.CannotUnderstand;
    default:
      return DicomStatus.ProcessingFailure;
  }
}

export const statusHex = (status: number) => `0x${status.toString(16).toUpperCase().padStart(4, '0')}`;
