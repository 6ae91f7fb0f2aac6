import * as dicomParser from 'dicom-parser';
import type { ByteArrayParser, DataSet, Element } from 'dicom-parser';
import { badInput, HubError } from '../errors';
import { dictionaryVr, formatTag, keyOf, PIXEL_DATA, tagOf } from './dictionary';

/**
 * dicom-parser, wrapped: it throws strings as well as Errors, reads OV/SV/UV with the wrong
 * length size, and needs a data dictionary for implicit VR sequences. Everything it throws
 * leaves here as a BadInput HubError with a code.
 */

/** Sequences nested deeper than this are refused rather than risk the stack. */
export const MAX_SEQUENCE_DEPTH = 64;
export const UNDEFINED_LENGTH = 0xffffffff;
const DataSetClass = (dicomParser as unknown as { DataSet: new (p: ByteArrayParser, b: Uint8Array, e: Record<string, Element>) => DataSet }).DataSet;
const parserFor = (littleEndian: boolean) => (littleEndian ? dicomParser.littleEndianByteArrayParser : dicomParser.bigEndianByteArrayParser);

export const fail = (code: string, message: string, location?: string, cause?: unknown): HubError =>
  badInput(message, location === undefined ? { code } : { code, location }, cause === undefined ? undefined : { cause });

function runParser(body: Uint8Array, start: number, littleEndian: boolean, explicitVr: boolean): { dataSet: DataSet; error?: unknown } {
  const parser = parserFor(littleEndian);
  const dataSet = new DataSetClass(parser, body, {});
  dataSet.warnings = [];
  try {
    const stream = new dicomParser.ByteStream(parser, body, start);
    if (explicitVr) {
      dicomParser.parseDicomDataSetExplicit(dataSet, stream, body.length, { untilTag: keyOf(PIXEL_DATA) });
    } else {
      const vrCallback = (key: string) => dictionaryVr(tagOf(key)) as string;
      dicomParser.parseDicomDataSetImplicit(dataSet, stream, body.length, { untilTag: keyOf(PIXEL_DATA), vrCallback });
    }
    return { dataSet };
  } catch (error) {
    return { dataSet, error };
  }
}

const NEW_LONG_VRS = ['OV', 'SV', 'UV'];
const misreadLongVr = (dataSet: DataSet, depth = 0): boolean =>
  depth <= MAX_SEQUENCE_DEPTH &&
  Object.values(dataSet.elements).some(
    (el) => NEW_LONG_VRS.includes(el.vr ?? '') || el.items?.some((item) => item.dataSet !== undefined && misreadLongVr(item.dataSet, depth + 1)),
  );

/**
 * Parses the elements up to the pixel data. dicom-parser 1.8 reads a 2-byte length for the
 * VRs OV, SV and UV, which have a 4-byte one (the Extended Offset Table in front of large
 * multi-frame pixel data is OV). When such a VR shows up, every `OV|SV|UV 00 00` header is
 * relabelled OB (same layout) for a second parse and the bytes are put back before returning;
 * this is synchronous, so nothing else sees the change.
 */
export function parseElements(body: Uint8Array, start: number, littleEndian: boolean, explicitVr: boolean): DataSet {
  let { dataSet, error } = runParser(body, start, littleEndian, explicitVr);
  if (explicitVr && (error !== undefined || misreadLongVr(dataSet))) {
    const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    const patched = new Map<number, string>();
    for (const vr of NEW_LONG_VRS) {
      const needle = Buffer.from(`${vr}\0\0`, 'latin1');
      for (let at = buf.indexOf(needle, start + 4); at !== -1; at = buf.indexOf(needle, at + 1)) patched.set(at, vr);
    }
    if (patched.size > 0) {
      try {
        for (const at of patched.keys()) buf.write('OB', at, 'latin1');
        ({ dataSet, error } = runParser(body, start, littleEndian, explicitVr));
      } finally {
        for (const [at, vr] of patched) buf.write(vr, at, 'latin1');
      }
      restoreVrs(dataSet, patched, 0);
    }
  }
  if (error !== undefined) throw parseFailure(error, dataSet);
  return dataSet;
}

function restoreVrs(dataSet: DataSet, patched: Map<number, string>, depth: number): void {
  if (depth > MAX_SEQUENCE_DEPTH) return;
  for (const el of Object.values(dataSet.elements)) {
    const vr = el.vr === 'OB' ? patched.get(el.dataOffset - 8) : undefined;
    if (vr) el.vr = vr;
    el.items?.forEach((item) => item.dataSet && restoreVrs(item.dataSet, patched, depth + 1));
  }
}

/** dicom-parser throws strings as well as Errors; say what went wrong in our words. */
function parseFailure(e: unknown, partial: DataSet): HubError {
  const text = describeError(e);
  const location = lastLocation(partial);
  // by name, not instanceof: a stack overflow inside a native call raises another realm's RangeError
  if ((e as Error | undefined)?.name === 'RangeError' && /call stack/i.test(text)) {
    return fail('too-deeply-nested', 'the data set nests sequences too deeply to be read', location, e);
  }
  if (/past end|overrun|overread|greater than or equal|eof/i.test(text)) {
    return fail('truncated', `the data set is truncated or its lengths are wrong: an element runs past the end of the data (${text})`, location, e);
  }
  return fail('malformed', `the data set cannot be read as DICOM: ${text}`, location, e);
}

export function describeError(e: unknown): string {
  if (typeof e === 'string') return e;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** The element that overran the data, or `after (0010,0010)`: the last one read. */
export function lastLocation(dataSet: DataSet): string | undefined {
  const keys = Object.keys(dataSet.elements).filter((k) => !k.startsWith('xfffe'));
  const last = keys[keys.length - 1];
  if (last === undefined) return undefined;
  const el = dataSet.elements[last]!;
  const overran = el.length !== UNDEFINED_LENGTH && el.dataOffset + el.length > dataSet.byteArray.length;
  return `${overran ? '' : 'after '}${formatTag(tagOf(last))}`;
}

