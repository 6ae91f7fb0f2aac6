import { badInput } from '../errors';
import type { ByteRange } from './types';

/** Rejects a range no object could satisfy (negative, fractional, end before start). */
export function assertValidRange(range: ByteRange | undefined): void {
  if (range === undefined) return;
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0) {
    throw badInput(`range start ${start} is not a byte offset`, { code: 'invalid-range' });
  }
  if (end !== undefined && (!Number.isSafeInteger(end) || end < start)) {
    throw badInput(`range end ${end} is not an offset at or after ${start}`, { code: 'invalid-range' });
  }
}

/**
 * The inclusive offsets to read from an object of `size` bytes, HTTP style: an end past the
 * last byte is clamped, a start at or past the end is unsatisfiable (416 in HTTP).
 */
export function resolveRange(range: ByteRange, size: number): { start: number; end: number } {
  if (range.start >= size) {
    throw badInput(`range starts at ${range.start} but the object has ${size} bytes`, { code: 'range-not-satisfiable' });
  }
  return { start: range.start, end: Math.min(range.end ?? size - 1, size - 1) };
}
