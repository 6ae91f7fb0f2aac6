import { createHmac } from 'node:crypto';
import { badInput, type HubError } from '../errors';

/**
 * China resident identity card number (居民身份证号码), GB 11643-1999: 6-digit address code,
 * 8-digit birth date YYYYMMDD, 3-digit sequence (odd for men), ISO 7064 MOD 11-2 check
 * character. The number is patient data: no message written here ever contains it.
 */

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK_CHARACTERS = '10X98765432';
const FORMAT = /^\d{17}[\dX]$/;
// Resident IDs are issued in China Standard Time: a child born just after midnight there
// is still "yesterday" in UTC, and must not be refused as born in the future.
const CHINA_OFFSET_MS = 8 * 60 * 60 * 1000;

export interface NationalIdOptions {
  /** Where the number came from (e.g. `PID-3[2]`), copied into the error's location. */
  location?: string;
  /** The clock for the not-in-the-future rule; now by default. */
  now?: Date;
}

export type Sex = 'male' | 'female';

/**
 * The number in canonical form (18 characters, uppercase X), or a BadInput whose
 * `detail.code` says what is wrong: `national-id-length`, `national-id-format`,
 * `national-id-birth-date` or `national-id-check-digit`. Surrounding whitespace and
 * full-width characters typed by a Chinese input method (１２…Ｘ) are tolerated.
 */
export function validateNationalId(raw: string, options: NationalIdOptions = {}): string {
  const fail = (code: string, message: string): HubError =>
    badInput(message, options.location === undefined ? { code } : { code, location: options.location });
  const id = String(raw).normalize('NFKC').trim().toUpperCase();

  if (id.length === 15) {
    throw fail('national-id-length', 'resident ID number has 15 characters: legacy 15-digit numbers are not accepted, the 18-character number is required');
  }
  if (id.length !== 18) throw fail('national-id-length', `resident ID number must have 18 characters, found ${id.length}`);
  if (!FORMAT.test(id)) throw fail('national-id-format', 'resident ID number must be 17 digits followed by a digit or X');

  const birth = id.slice(6, 14);
  const year = Number(birth.slice(0, 4));
  const month = Number(birth.slice(4, 6));
  const day = Number(birth.slice(6, 8));
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw fail('national-id-birth-date', 'resident ID number holds a birth date that does not exist');
  }
  if (year < 1900) throw fail('national-id-birth-date', 'resident ID number holds a birth date before 1900');
  const today = new Date((options.now ?? new Date()).getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 10).replaceAll('-', '');
  if (birth > today) throw fail('national-id-birth-date', 'resident ID number holds a birth date in the future');

  if (checkCharacter(id) !== id[17]) {
    throw fail('national-id-check-digit', 'resident ID number check digit does not match (ISO 7064 MOD 11-2)');
  }
  return id;
}

/** The birth date the number holds, as `YYYY-MM-DD` (a calendar date, no time zone). */
export function birthDateFromNationalId(id: string): string {
  const valid = validateNationalId(id);
  return `${valid.slice(6, 10)}-${valid.slice(10, 12)}-${valid.slice(12, 14)}`;
}

/** Sex from the 17th digit: odd for male, even for female (FHIR AdministrativeGender codes). */
export function sexFromNationalId(id: string): Sex {
  return Number(validateNationalId(id)[16]) % 2 === 1 ? 'male' : 'female';
}

/** The form shown to people: first 6 and last 4 characters, e.g. `110101********4514`. */
export function maskNationalId(id: string): string {
  const valid = validateNationalId(id);
  return `${valid.slice(0, 6)}${'*'.repeat(8)}${valid.slice(14)}`;
}

/**
 * The keyed hash patients are matched on (HMAC-SHA256, hex). Keyed, because 18-digit IDs
 * with known birth dates and region codes are few enough to hash exhaustively: without
 * the secret, a plain hash would be as good as the number itself.
 */
export function nationalIdHash(id: string, secret: string | Buffer): string {
  if (secret.length === 0) throw new Error('national ID hash secret is empty; it must come from config');
  return createHmac('sha256', secret).update(validateNationalId(id), 'utf8').digest('hex');
}

function checkCharacter(id: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(id[i]) * WEIGHTS[i]!;
  return CHECK_CHARACTERS[sum % 11]!;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
