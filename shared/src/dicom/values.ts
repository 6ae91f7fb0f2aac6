import type { DataSet, Element } from 'dicom-parser';
import { CharacterSet, decodeTextChecked } from './charset';
import { BINARY_VRS, dictionaryVr, formatTag, isVr, keyOf, SINGLE_VALUED_VRS, tagOf, TEXT_VRS, type Vr } from './dictionary';
import { parsePersonName, type PersonName } from './person-name';

/** Something worth knowing about an accepted data set (the ingest logs or stores it). */
export interface HeaderWarning {
  code: string;
  message: string;
  location?: string;
}

/** How the data set under a reader is encoded. */
export interface Encoding {
  explicitVr: boolean;
  littleEndian: boolean;
}

const TRIM_BOTH = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'SH', 'TM', 'UI']);
const SPECIFIC_CHARACTER_SET = 0x00080005;
const PIXEL_REPRESENTATION = 0x00280103;

/** Padding and insignificant spaces off one value, by VR (PS3.5 Table 6.2-1). */
export function trimValue(value: string, vr: string): string {
  const v = value.replace(/[\0 ]+$/, '');
  return TRIM_BOTH.has(vr) ? v.replace(/^[\0 ]+/, '') : v;
}

/**
 * Reads element values of one data set (or sequence item): VRs from the data or the
 * dictionary, text in the character set in force, numbers in the byte order. Decoding
 * problems become warnings, not failures.
 */
export class ElementReader {
  constructor(
    readonly dataSet: DataSet,
    readonly charset: CharacterSet,
    readonly encoding: Encoding,
    readonly warnings: HeaderWarning[],
    /** Where this data set is: `(0040,0275)[1] ` for an item; empty at the top. */
    readonly path = '',
  ) {}

  element(tag: number): Element | undefined {
    return this.dataSet.elements[keyOf(tag)];
  }

  bytes(el: Element): Uint8Array {
    return this.dataSet.byteArray.subarray(el.dataOffset, el.dataOffset + el.length);
  }

  /**
   * The VR of an element: as written in explicit VR (UN replaced by the dictionary's, as a
   * little endian UN value is the value in implicit VR); from the dictionary otherwise, SQ
   * when the parser found items, undefined for a tag nobody knows.
   */
  vr(el: Element): Vr | undefined {
    const written = el.vr;
    if (this.encoding.explicitVr && written !== 'UN') return isVr(written) ? written : undefined;
    if (el.items) return 'SQ';
    if (written === 'UN' && !this.encoding.littleEndian) return 'UN';
    const known = dictionaryVr(tagOf(el.tag), this.dataSet.uint16(keyOf(PIXEL_REPRESENTATION)));
    if (known === undefined || known === 'SQ') return written === 'UN' ? 'UN' : undefined;
    return known;
  }

  /** Decoded text of all values, still joined by `\`; undefined if absent or empty. */
  text(tag: number, vr: string): string | undefined {
    const el = this.element(tag);
    if (!el || el.length === 0 || el.hadUndefinedLength) return undefined;
    return this.decode(el, vr, tag);
  }

  decode(el: Element, vr: string, tag = tagOf(el.tag)): string {
    const bytes = this.bytes(el);
    if (!TEXT_VRS.has(vr) && vr !== 'CS' && vr !== 'AE') return latin1(bytes);
    const decoded = decodeTextChecked(bytes, this.charset, vr);
    if (!decoded.valid) {
      this.warnings.push({
        code: 'charset-mismatch',
        message: `${this.path}${formatTag(tag)} has bytes that are not valid in the declared character set "${this.charset.terms.join('\\')}"; they were replaced by U+FFFD`,
        location: `${this.path}${formatTag(tag)}`,
      });
    }
    return decoded.text;
  }

  /** All values of a string element, trimmed; empty values as ''. */
  strings(tag: number, vr: string): string[] {
    const text = this.text(tag, vr);
    if (text === undefined) return [];
    return splitValues(text, vr).map((v) => trimValue(v, vr));
  }

  /** The first value of a string element; undefined when absent or empty. */
  string(tag: number, vr: string): string | undefined {
    const first = this.strings(tag, vr)[0];
    return first === '' ? undefined : first;
  }

  personNames(tag: number): (PersonName | undefined)[] {
    return this.strings(tag, 'PN').map(parsePersonName);
  }

  /** A US value. */
  uint16(tag: number): number | undefined {
    const el = this.element(tag);
    return el && el.length >= 2 ? this.dataSet.uint16(el.tag) : undefined;
  }

  /** An IS value as a number; undefined (and a warning) when it is not an integer. */
  integer(tag: number): number | undefined {
    const value = this.string(tag, 'IS');
    if (value === undefined) return undefined;
    if (/^[+-]?\d{1,12}$/.test(value)) return Number(value);
    this.warnings.push({
      code: 'invalid-value',
      message: `${this.path}${formatTag(tag)} "${value.slice(0, 20)}" is not an integer string (IS); ignored`,
      location: `${this.path}${formatTag(tag)}`,
    });
    return undefined;
  }

  /** Readers for the items of a sequence, each in its own character set if it declares one. */
  items(tag: number): ElementReader[] {
    const el = this.element(tag);
    return (el?.items ?? []).map((item, i) => this.item(el!, i, item.dataSet!));
  }

  item(sequence: Element, index: number, dataSet: DataSet): ElementReader {
    const own = dataSet.elements[keyOf(SPECIFIC_CHARACTER_SET)];
    const declared = own && own.length > 0 ? latin1(dataSet.byteArray.subarray(own.dataOffset, own.dataOffset + own.length)) : undefined;
    const charset = declared === undefined ? this.charset : new CharacterSet(declared);
    const path = `${this.path}${formatTag(tagOf(sequence.tag))}[${index}] `;
    // An undefined-length UN holds an implicit VR little endian sequence (PS3.5 6.2.2).
    const encoding = this.encoding.explicitVr && sequence.vr === 'UN' ? { explicitVr: false, littleEndian: true } : this.encoding;
    return new ElementReader(dataSet, charset, encoding, this.warnings, path);
  }
}

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

/** Splits a decoded string into its values (not for single-valued VRs). */
export function splitValues(text: string, vr: string): string[] {
  return SINGLE_VALUED_VRS.has(vr) ? [text] : text.split('\\');
}

/** True for a VR whose value is opaque bytes (bulk data candidates). */
export const isBinaryVr = (vr: string): boolean => BINARY_VRS.has(vr);
