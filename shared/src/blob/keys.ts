import { badInput } from '../errors';

/**
 * Keys are the one place where a caller's string becomes a filesystem path or an S3 URL, so
 * both drivers accept exactly the same, deliberately small, language: `/`-separated segments
 * of ASCII letters, digits and `. _ = -`. ASCII only keeps "key order" the same everywhere
 * (S3 sorts by UTF-8 bytes, JavaScript by UTF-16 units; they agree on ASCII).
 */

/** S3's own limit, in bytes; our keys are ASCII so characters and bytes agree. */
export const MAX_KEY_LENGTH = 1024;
/** The usual NAME_MAX of a filesystem: one segment becomes one file or folder name. */
export const MAX_SEGMENT_LENGTH = 255;

const SEGMENT_CHARS = /^[A-Za-z0-9._=-]+$/;

function segmentProblem(segment: string): string | null {
  if (segment === '') return 'has an empty segment (leading, trailing or doubled "/")';
  if (segment.length > MAX_SEGMENT_LENGTH) return `has a segment longer than ${MAX_SEGMENT_LENGTH} characters`;
  if (!SEGMENT_CHARS.test(segment)) return 'has a character outside A-Z a-z 0-9 . _ = -';
  // Rules out "." and ".." (no escaping the root) and hidden names, which keeps the fs
  // driver's own `.tmp` folder out of reach of any key.
  if (segment.startsWith('.')) return 'has a segment starting with "."';
  return null;
}

/** True for a name the fs driver may show as part of a key (list skips anything else it finds). */
export function isValidSegment(segment: string): boolean {
  return segmentProblem(segment) === null;
}

/** True for a valid key; for skipping foreign objects in a listing rather than failing on them. */
export function isValidKey(key: string): boolean {
  return key !== '' && key.length <= MAX_KEY_LENGTH && key.split('/').every(isValidSegment);
}

/** Rejects with BadInput unless `key` is a valid blob key; a valid key never leaves the store's root. */
export function assertValidKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key === '') throw badInput('blob key is empty', { code: 'invalid-blob-key' });
  if (key.length > MAX_KEY_LENGTH) {
    throw badInput(`blob key is longer than ${MAX_KEY_LENGTH} characters`, { code: 'invalid-blob-key' });
  }
  for (const segment of key.split('/')) {
    const problem = segmentProblem(segment);
    if (problem) throw badInput(`blob key ${JSON.stringify(key)} ${problem}`, { code: 'invalid-blob-key' });
  }
}

/**
 * A list prefix is any string a valid key could start with: whole segments up to the last
 * `/`, then the start of a segment (possibly empty). `''` lists everything.
 */
export function assertValidPrefix(prefix: unknown): asserts prefix is string {
  if (typeof prefix !== 'string') throw badInput('blob prefix is not a string', { code: 'invalid-blob-prefix' });
  if (prefix === '') return;
  if (prefix.length > MAX_KEY_LENGTH) {
    throw badInput(`blob prefix is longer than ${MAX_KEY_LENGTH} characters`, { code: 'invalid-blob-prefix' });
  }
  const segments = prefix.split('/');
  const partial = segments.pop() as string;
  const problem =
    segments.map(segmentProblem).find((p) => p !== null) ?? (partial === '' ? null : segmentProblem(partial));
  if (problem) throw badInput(`blob prefix ${JSON.stringify(prefix)} ${problem}`, { code: 'invalid-blob-prefix' });
}

/** Joins parts into a key, e.g. `blobKeyFor('dicom', studyUid, seriesUid, `${sopUid}.dcm`)`; rejects what would be invalid. */
export function blobKeyFor(...parts: string[]): string {
  const key = parts.join('/');
  assertValidKey(key);
  return key;
}
