import { encodingCharactersFrom, msh2Of, STANDARD_ENCODING, type EncodingCharacters } from './delimiters';
import { escapeValue } from './escape';
import { Segment, type Field } from './message';

/** A leaf value; null and undefined are empty. Numbers are written with String(). */
export type Leaf = string | number | null | undefined;
/** A component: a value, or an array of its sub-components. */
export type ComponentInput = Leaf | readonly Leaf[];
/** One repetition of a field: a value, or an array of its components. */
export type RepetitionInput = Leaf | readonly ComponentInput[];
/** A field: one repetition, or several made with `repeat(...)`. */
export type FieldInput = RepetitionInput | { readonly repetitions: readonly RepetitionInput[] };
/**
 * A segment to write: `['PID', '1', null, repeat(['MRN1', null, null, 'HOSP', 'MR'], …)]`.
 * Index n is field n. For MSH, index 1 and 2 are MSH-1 and MSH-2 (or null to use the
 * encoding given in the options).
 */
export type SegmentInput = readonly [name: string, ...fields: FieldInput[]] | Segment;

/** Marks a field value as several repetitions (a plain array means components). */
export function repeat(...repetitions: RepetitionInput[]): FieldInput {
  return { repetitions };
}

/** A parsed field as writable input, to copy a field from one message into another. */
export function fieldInput(field: Field): FieldInput {
  return { repetitions: field };
}

export interface EncodeOptions {
  /** Delimiters to write with; by default those of the MSH given, else `|^~\&`. */
  encoding?: EncodingCharacters;
}

/**
 * Writes segments as one HL7 message: each segment ends with CR, values are escaped, and
 * trailing empty fields, repetitions and components are left out as HL7 allows.
 * `parseMessage(encodeMessage(x))` gives back the values of `x`.
 */
export function encodeMessage(segments: readonly SegmentInput[], options: EncodeOptions = {}): string {
  const rows = segments.map(toRow);
  const enc = options.encoding ?? encodingOf(rows) ?? STANDARD_ENCODING;
  return rows.map((row) => encodeRow(row, enc) + '\r').join('');
}

type Row = readonly [string, ...FieldInput[]];

function toRow(seg: SegmentInput): Row {
  if (!(seg instanceof Segment)) return seg;
  return [seg.name, ...seg.fields.slice(1).map(fieldInput)];
}

/** The delimiters an MSH row declares in positions 1 and 2, checked. */
function encodingOf(rows: readonly Row[]): EncodingCharacters | undefined {
  const msh = rows.find((r) => r[0] === 'MSH');
  const msh1 = msh && plain(msh[1]);
  const msh2 = msh && plain(msh[2]);
  return msh1 && msh2 ? encodingCharactersFrom(msh1, msh2) : undefined;
}

function plain(value: FieldInput | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'repetitions' in value) {
    const first = value.repetitions[0];
    const leaf = Array.isArray(first) ? first[0] : first;
    return typeof leaf === 'string' ? leaf : Array.isArray(leaf) && typeof leaf[0] === 'string' ? leaf[0] : undefined;
  }
  return undefined;
}

function encodeRow(row: Row, enc: EncodingCharacters): string {
  const [name, ...fields] = row;
  if (name === 'MSH') {
    // MSH-1 is the separator itself and MSH-2 is written raw: neither is a value.
    return trimJoin(['MSH' + enc.field + msh2Of(enc), ...fields.slice(2).map((f) => encodeField(f, enc))], enc.field);
  }
  return trimJoin([name, ...fields.map((f) => encodeField(f, enc))], enc.field);
}

function encodeField(value: FieldInput, enc: EncodingCharacters): string {
  const reps = value !== null && typeof value === 'object' && 'repetitions' in value ? value.repetitions : [value];
  return trimJoin(
    reps.map((r) => encodeRepetition(r, enc)),
    enc.repetition,
  );
}

function encodeRepetition(value: RepetitionInput, enc: EncodingCharacters): string {
  if (!Array.isArray(value)) return leaf(value as Leaf, enc);
  return trimJoin(
    (value as readonly ComponentInput[]).map((c) =>
      Array.isArray(c)
        ? trimJoin(
            (c as readonly Leaf[]).map((s) => leaf(s, enc)),
            enc.subcomponent,
          )
        : leaf(c as Leaf, enc),
    ),
    enc.component,
  );
}

function leaf(value: Leaf, enc: EncodingCharacters): string {
  return value === null || value === undefined ? '' : escapeValue(String(value), enc);
}

function trimJoin(parts: string[], sep: string): string {
  let end = parts.length;
  while (end > 1 && parts[end - 1] === '') end--;
  return parts.slice(0, end).join(sep);
}
