/**
 * Failures as values with a kind. They are raised where the fact is known and translated
 * once per protocol at the door (HTTP status + body, DICOM status, HL7 ACK code).
 * Anything that is not a HubError reaching a door is a bug and answers 500.
 */
export type ErrorKind = 'BadInput' | 'Unauthorized' | 'Forbidden' | 'NotFound' | 'Conflict' | 'Unsupported' | 'TooLarge' | 'Unavailable';

export interface ErrorDetail {
  /** Where the problem is: a field, a DICOM tag, an HL7 segment-field such as `PID-3`. */
  location?: string;
  /** A short machine-readable code, e.g. `invalid-check-digit`. */
  code?: string;
}

export class HubError extends Error {
  readonly kind: ErrorKind;
  readonly detail: ErrorDetail;

  constructor(kind: ErrorKind, message: string, detail: ErrorDetail = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = kind;
    this.kind = kind;
    this.detail = detail;
  }
}

const make =
  (kind: ErrorKind) =>
  (message: string, detail?: ErrorDetail, options?: { cause?: unknown }): HubError =>
    new HubError(kind, message, detail, options);

export const badInput = make('BadInput');
export const unauthorized = make('Unauthorized');
export const forbidden = make('Forbidden');
export const notFound = make('NotFound');
export const conflict = make('Conflict');
export const unsupported = make('Unsupported');
export const tooLarge = make('TooLarge');
export const unavailable = make('Unavailable');

export function isHubError(err: unknown, kind?: ErrorKind): err is HubError {
  return err instanceof HubError && (kind === undefined || err.kind === kind);
}

/** The HTTP status each kind maps to; every HTTP door uses this one table. */
export const httpStatusOf: Record<ErrorKind, number> = {
  BadInput: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  Conflict: 409,
  Unsupported: 415,
  TooLarge: 413,
  Unavailable: 503,
};
