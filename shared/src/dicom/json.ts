import type { Element } from 'dicom-parser';
import { isPrivate, NUMBER_SIZES, PIXEL_DATA, tagOf } from './dictionary';
import { parsePersonName, personNameToJson, type PersonNameJson } from './person-name';
import { readPart10, type ParsedDicom, type ReadOptions } from './read';
import { ElementReader, isBinaryVr, splitValues, trimValue } from './values';

/**
 * The DICOM JSON model (PS3.18 Annex F) of a header: every element up to the pixel data,
 * sequences recursively, keyed by `GGGGEEEE`.
 *
 * - Values by VR: numbers for US, SS, UL, SL, FL, FD, IS, DS (and UV/SV while they fit a
 *   double; as strings beyond), `{Alphabetic, Ideographic, Phonetic}` for PN, `GGGGEEEE` for
 *   AT, strings otherwise; an empty value in a multi-valued element is null; text decoded in
 *   the Specific Character Set in force (an item may declare its own). As all text is then
 *   Unicode, (0008,0005) says `ISO_IR 192` (as DCMTK's dcm2json does), also when the charset
 *   was assumed by the undeclared rule.
 * - Binary (OB, OD, OF, OL, OV, OW, UN) up to `bulkDataThreshold` bytes is InlineBinary
 *   (little endian); above it a BulkDataURI if `bulkDataUri` gives one, else the attribute is
 *   left out: an attribute with only a "vr" would claim the value is empty. Pixel data is
 *   only ever a BulkDataURI.
 * - Implicit VR: the VR comes from the data dictionary (dictionary.ts, all of PS3.6); a tag it
 *   does not know (private tags, newer ones) is UN with its bytes as InlineBinary, which is
 *   what PS3.18 F.2.3 prescribes for an unknown VR, so nothing is dropped silently.
 * - Group lengths and item delimiters are not attributes and are left out; the file meta
 *   (group 0002) only with `includeFileMeta`.
 * - DS/IS text that is not a number becomes null: JSON readers must be able to trust the type.
 */
export type DicomJson = Record<string, DicomJsonAttribute>;

export type DicomJsonValue = string | number | null | PersonNameJson | DicomJson;

export interface DicomJsonAttribute {
  vr: string;
  Value?: DicomJsonValue[];
  InlineBinary?: string;
  BulkDataURI?: string;
}

/** Where a bulk value is, for the caller to turn into a URI. */
export interface BulkDataReference {
  /** Tags and item indexes from the top: ['00540016', 0, '00181072']. */
  path: (string | number)[];
  vr: string;
  /** Offset and length of the value in the read bytes (length undefined: encapsulated). */
  offset: number;
  length: number | undefined;
}

export interface DicomJsonOptions {
  /** Binary values up to this many bytes are inlined (default 1024). */
  bulkDataThreshold?: number;
  /** The BulkDataURI of a larger binary value or of the pixel data; undefined leaves it out. */
  bulkDataUri?: (ref: BulkDataReference) => string | undefined;
  /** Include group 0002 of a Part-10 file (default false). */
  includeFileMeta?: boolean;
  /** Leave private attributes out (default false). */
  omitPrivate?: boolean;
  /** Options for reading when bytes are given. */
  read?: ReadOptions;
}

const SPECIFIC_CHARACTER_SET = 0x00080005;
const hexTag = (tag: number) => tag.toString(16).toUpperCase().padStart(8, '0');

/** Builds the DICOM JSON model of a Part-10 file's header, or of a data set already read. */
export function toDicomJson(input: Uint8Array | ParsedDicom, options: DicomJsonOptions = {}): DicomJson {
  const parsed = input instanceof Uint8Array ? readPart10(input, options.read) : input;
  const json: DicomJson = {};
  if (options.includeFileMeta && parsed.fileMeta) {
    const meta = new ElementReader(parsed.fileMeta, parsed.charset, { explicitVr: true, littleEndian: true }, []);
    Object.assign(json, dataSetJson(meta, options, [], 0));
  }
  const reader = new ElementReader(parsed.dataSet, parsed.charset, parsed, []);
  Object.assign(json, dataSetJson(reader, options, [], 0));
  if (parsed.charset.assumed) json[hexTag(SPECIFIC_CHARACTER_SET)] = { vr: 'CS', Value: ['ISO_IR 192'] };
  const pixel = parsed.pixelData;
  const uri = pixel && options.bulkDataUri?.({ path: [hexTag(PIXEL_DATA)], vr: pixel.vr, offset: pixel.offset, length: pixel.length });
  if (pixel && uri !== undefined) json[hexTag(PIXEL_DATA)] = { vr: pixel.vr, BulkDataURI: uri };
  return json;
}

function dataSetJson(reader: ElementReader, options: DicomJsonOptions, path: (string | number)[], depth: number): DicomJson {
  const json: DicomJson = {};
  const elements = Object.values(reader.dataSet.elements).sort((a, b) => tagOf(a.tag) - tagOf(b.tag));
  for (const el of elements) {
    const tag = tagOf(el.tag);
    if ((tag & 0xffff) === 0 || tag >>> 16 === 0xfffe || tag === PIXEL_DATA) continue;
    if (options.omitPrivate && isPrivate(tag)) continue;
    const attribute = attributeJson(reader, el, options, [...path, hexTag(tag)], depth);
    if (attribute) json[hexTag(tag)] = attribute;
  }
  return json;
}

function attributeJson(
  reader: ElementReader,
  el: Element,
  options: DicomJsonOptions,
  path: (string | number)[],
  depth: number,
): DicomJsonAttribute | undefined {
  const vr = reader.vr(el) ?? 'UN';
  if (vr === 'SQ') {
    const items = (el.items ?? []).map((item, i) => dataSetJson(reader.item(el, i, item.dataSet!), options, [...path, i], depth + 1));
    return items.length > 0 ? { vr, Value: items } : { vr };
  }
  if (el.length === 0) return { vr };
  if (tagOf(el.tag) === SPECIFIC_CHARACTER_SET) return { vr, Value: ['ISO_IR 192'] };
  if (isBinaryVr(vr) || el.hadUndefinedLength) return binaryJson(reader, el, vr, options, path);
  const size = NUMBER_SIZES[vr];
  if (size !== undefined) return { vr, Value: numbers(reader, el, vr, size) };
  if (vr === 'AT') {
    const values: string[] = [];
    for (let i = 0; i + 4 <= el.length; i += 4) {
      const view = new DataView(reader.dataSet.byteArray.buffer, reader.dataSet.byteArray.byteOffset + el.dataOffset + i, 4);
      values.push(hexTag(((view.getUint16(0, reader.encoding.littleEndian) << 16) | view.getUint16(2, reader.encoding.littleEndian)) >>> 0));
    }
    return { vr, Value: values };
  }
  const values = splitValues(reader.decode(el, vr), vr).map((v) => stringValue(v, vr));
  if (values.every((v) => v === null)) return { vr };
  return { vr, Value: values };
}

function stringValue(raw: string, vr: string): DicomJsonValue {
  const v = trimValue(raw, vr);
  if (v === '') return null;
  if (vr === 'PN') {
    const name = parsePersonName(v);
    return name ? personNameToJson(name) : null;
  }
  if (vr === 'DS' || vr === 'IS') {
    const n = Number(v);
    return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v) && Number.isFinite(n) ? n : null;
  }
  return v;
}

function numbers(reader: ElementReader, el: Element, vr: string, size: number): number[] | (number | string)[] {
  const bytes = reader.dataSet.byteArray;
  const view = new DataView(bytes.buffer, bytes.byteOffset + el.dataOffset, el.length);
  const le = reader.encoding.littleEndian;
  const out: (number | string)[] = [];
  for (let i = 0; i + size <= el.length; i += size) {
    switch (vr) {
      case 'US': out.push(view.getUint16(i, le)); break;
      case 'SS': out.push(view.getInt16(i, le)); break;
      case 'UL': out.push(view.getUint32(i, le)); break;
      case 'SL': out.push(view.getInt32(i, le)); break;
      case 'FL': out.push(view.getFloat32(i, le)); break;
      case 'FD': out.push(view.getFloat64(i, le)); break;
      default: {
        const big = vr === 'UV' ? view.getBigUint64(i, le) : view.getBigInt64(i, le);
        out.push(big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(big) : big.toString());
      }
    }
  }
  return out;
}

const WORD_SIZES: Record<string, number> = { OW: 2, OF: 4, OL: 4, OD: 8, OV: 8 };

function binaryJson(reader: ElementReader, el: Element, vr: string, options: DicomJsonOptions, path: (string | number)[]): DicomJsonAttribute | undefined {
  if (el.length > (options.bulkDataThreshold ?? 1024)) {
    const uri = options.bulkDataUri?.({ path, vr, offset: el.dataOffset, length: el.length });
    return uri === undefined ? undefined : { vr, BulkDataURI: uri };
  }
  const bytes = Buffer.from(reader.bytes(el));
  const word = WORD_SIZES[vr];
  // InlineBinary is little endian whatever the transfer syntax.
  if (word && !reader.encoding.littleEndian) for (let i = 0; i + word <= bytes.length; i += word) bytes.subarray(i, i + word).reverse();
  return { vr, InlineBinary: bytes.toString('base64') };
}
