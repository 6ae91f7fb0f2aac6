import { inflateRawSync } from 'node:zlib';
import type { DataSet } from 'dicom-parser';
import * as dicomParser from 'dicom-parser';
import { CharacterSet, undeclaredCharsetGuess } from './charset';
import { formatTag, isVr, keyOf, PIXEL_DATA, tagOf, TEXT_VRS } from './dictionary';
import { describeError, fail, lastLocation, MAX_SEQUENCE_DEPTH, parseElements, UNDEFINED_LENGTH } from './parser';
import { encodingOf } from './transfer-syntax';
import { uidProblem } from './uid';
import { ElementReader, type HeaderWarning } from './values';

export { MAX_SEQUENCE_DEPTH };

/** Where the pixel data value is; the header parse stops in front of it. */
export interface PixelDataLocation {
  /** Offset of the value in the input bytes (in the inflated data set if deflated). */
  offset: number;
  /** Length of the value; undefined for encapsulated (undefined length) pixel data. */
  length: number | undefined;
  vr: 'OB' | 'OW';
  encapsulated: boolean;
  /** Encapsulated only: items after the basic offset table. */
  fragments?: number;
}

/** A data set read up to its pixel data, with what is needed to read its values. */
export interface ParsedDicom {
  /** The data set as dicom-parser read it (group 0002 not included). */
  dataSet: DataSet;
  /** The file meta information of a Part-10 file. */
  fileMeta: DataSet | undefined;
  transferSyntaxUid: string;
  explicitVr: boolean;
  littleEndian: boolean;
  /** The Specific Character Set in force at the top level (with the undeclared rule applied). */
  charset: CharacterSet;
  pixelData: PixelDataLocation | undefined;
  warnings: HeaderWarning[];
}

export interface ReadOptions {
  /** Refuse a deflated data set that inflates to more than this (default 1 GiB). */
  maxInflatedBytes?: number;
}

const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
const uidText = (b: Uint8Array) => latin1(b).replace(/^[\0 ]+|[\0 ]+$/g, '');

/**
 * Reads a DICOM Part-10 file (128-byte preamble, `DICM`, file meta information, data set) up
 * to its pixel data. Anything that is not a readable DICOM file is a BadInput HubError with a
 * code: not-dicom, truncated, malformed, missing/invalid-transfer-syntax-uid, deflate-failed.
 */
export function readPart10(bytes: Uint8Array, options: ReadOptions = {}): ParsedDicom {
  if (bytes.length < 132 || latin1(bytes.subarray(128, 132)) !== 'DICM') {
    throw fail(
      'not-dicom',
      bytes.length < 132
        ? `not a DICOM file: ${bytes.length} bytes is shorter than the 128-byte preamble and "DICM" prefix`
        : 'not a DICOM file: no "DICM" prefix after the 128-byte preamble (PS3.10 7.1)',
    );
  }
  const metaEnd = fileMetaEnd(bytes);
  let fileMeta: DataSet;
  try {
    fileMeta = dicomParser.readPart10Header(bytes.subarray(0, metaEnd));
  } catch (e) {
    throw fail('malformed', `the file meta information cannot be read: ${describeError(e)}`, 'file meta information', e);
  }
  const ts = fileMeta.elements[keyOf(0x00020010)];
  const tsUid = ts && ts.length > 0 ? uidText(bytes.subarray(ts.dataOffset, ts.dataOffset + ts.length)) : '';
  if (tsUid === '') throw fail('missing-transfer-syntax-uid', 'the file meta information has no Transfer Syntax UID', '(0002,0010) Transfer Syntax UID');
  const problem = uidProblem(tsUid);
  if (problem) {
    throw fail('invalid-transfer-syntax-uid', `Transfer Syntax UID "${tsUid.slice(0, 80)}" is not a valid UID: ${problem}`, '(0002,0010) Transfer Syntax UID');
  }
  if (metaEnd >= bytes.length) throw fail('truncated', 'the file ends after the file meta information: there is no data set', `byte ${metaEnd}`);
  return readBody(bytes, metaEnd, tsUid, fileMeta, options);
}

/**
 * Reads a data set without preamble or file meta, as a DIMSE C-STORE carries it, in the
 * transfer syntax the presentation context negotiated.
 */
export function readDataSet(bytes: Uint8Array, transferSyntaxUid: string, options: ReadOptions = {}): ParsedDicom {
  const problem = uidProblem(transferSyntaxUid);
  if (problem) throw fail('invalid-transfer-syntax-uid', `Transfer Syntax UID "${transferSyntaxUid.slice(0, 80)}" is not a valid UID: ${problem}`);
  if (bytes.length === 0) throw fail('truncated', 'the data set is empty');
  return readBody(bytes, 0, transferSyntaxUid, undefined, options);
}

/** The end of group 0002, walked by hand so that a cut or odd meta gives a precise answer. */
function fileMetaEnd(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 132;
  while (pos + 8 <= bytes.length && view.getUint16(pos, true) === 0x0002) {
    const tag = formatTag((0x0002 << 16) | view.getUint16(pos + 2, true));
    const vr = latin1(bytes.subarray(pos + 4, pos + 6));
    if (!isVr(vr)) throw fail('malformed', `file meta element ${tag} has no valid VR ("${vr}"): group 0002 must be explicit VR little endian`, tag);
    let length: number;
    let header = 8;
    if (['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'].includes(vr)) {
      if (pos + 12 > bytes.length) break;
      length = view.getUint32(pos + 8, true);
      header = 12;
    } else {
      length = view.getUint16(pos + 6, true);
    }
    if (length === UNDEFINED_LENGTH) throw fail('malformed', `file meta element ${tag} has undefined length`, tag);
    pos += header + length;
    if (pos > bytes.length) throw fail('truncated', `the file is truncated: file meta element ${tag} runs past the end (${pos} > ${bytes.length} bytes)`, tag);
  }
  if (pos + 8 > bytes.length && pos < bytes.length) {
    throw fail('truncated', `the file is truncated: the ${bytes.length - pos} bytes after byte ${pos} cannot hold an element`, `byte ${pos}`);
  }
  return pos;
}

function inflate(bytes: Uint8Array, max: number): Buffer {
  try {
    return inflateRawSync(bytes, { maxOutputLength: max });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw fail('inflated-too-large', `the deflated data set inflates to more than ${max} bytes`, undefined, e);
    if (code === 'Z_BUF_ERROR') throw fail('truncated', 'the deflated data set is truncated: the compressed stream ends early', undefined, e);
    throw fail('deflate-failed', `the deflated data set cannot be inflated: ${describeError(e)}`, undefined, e);
  }
}

/**
 * Whether the first element looks explicit: a VR of two upper-case letters at bytes 4–5. When
 * the declaration disagrees, the bytes win (a frequent sender bug), with a warning.
 */
function sniffExplicit(body: Uint8Array, start: number, declared: boolean): boolean {
  if (start + 8 > body.length) return declared;
  const looksExplicit = isVr(latin1(body.subarray(start + 4, start + 6)));
  if (declared) return looksExplicit;
  // As implicit, "VR" plus 2-byte length read as a 4-byte length must still fit.
  const implicitLength = new DataView(body.buffer, body.byteOffset + start + 4, 4).getUint32(0, true);
  return looksExplicit && start + 8 + implicitLength > body.length;
}

function readBody(input: Uint8Array, start: number, tsUid: string, fileMeta: DataSet | undefined, options: ReadOptions): ParsedDicom {
  const ts = encodingOf(tsUid);
  const warnings: HeaderWarning[] = [];
  let body = input;
  if (ts.deflated) {
    body = inflate(input.subarray(start), options.maxInflatedBytes ?? 1 << 30);
    start = 0;
    if (body.length === 0) throw fail('truncated', 'the deflated data set is empty');
  }
  let explicitVr = ts.explicitVr;
  if (ts.littleEndian) {
    explicitVr = sniffExplicit(body, start, ts.explicitVr);
    if (explicitVr !== ts.explicitVr) {
      warnings.push({
        code: 'transfer-syntax-mismatch',
        message: `the data set is encoded in ${explicitVr ? 'explicit' : 'implicit'} VR although its transfer syntax ${tsUid} says ${ts.explicitVr ? 'explicit' : 'implicit'}; read as encoded`,
      });
    }
  }
  const dataSet = parseElements(body, start, ts.littleEndian, explicitVr);
  checkElements(dataSet, body.length, explicitVr, 0, '');
  const eof = dataSet.warnings.find((w) => /eof/i.test(w));
  if (eof) throw fail('truncated', `the data set is truncated: ${eof}`, lastLocation(dataSet));
  const pixelData = locatePixelData(dataSet, body, ts.littleEndian, ts.encapsulated, explicitVr, warnings);
  for (const w of dataSet.warnings) warnings.push({ code: 'parser-warning', message: w });

  const encoding = { explicitVr, littleEndian: ts.littleEndian };
  const charset = resolveCharset(dataSet, encoding, warnings);
  return { dataSet, fileMeta, transferSyntaxUid: tsUid, explicitVr, littleEndian: ts.littleEndian, charset, pixelData, warnings };
}

/** Every element within the bytes and (explicit VR) with a real VR; items recursively. */
function checkElements(dataSet: DataSet, end: number, explicitVr: boolean, depth: number, path: string): void {
  if (depth > MAX_SEQUENCE_DEPTH) throw fail('too-deeply-nested', `sequences are nested more than ${MAX_SEQUENCE_DEPTH} deep`, path);
  for (const el of Object.values(dataSet.elements)) {
    const tag = tagOf(el.tag);
    if (tag >>> 16 === 0xfffe || tag === PIXEL_DATA) continue;
    const where = `${path}${formatTag(tag)}`;
    if (explicitVr && !isVr(el.vr)) {
      throw fail('malformed', `element ${where} has no valid VR ("${String(el.vr).slice(0, 2)}"): the data set is corrupt or not in its transfer syntax`, where);
    }
    if (el.length !== UNDEFINED_LENGTH && el.dataOffset + el.length > end) {
      throw fail('truncated', `the data set is truncated: element ${where} declares ${el.length} bytes but only ${Math.max(0, end - el.dataOffset)} remain`, where);
    }
    el.items?.forEach((item, i) => {
      if (item.dataOffset + item.length > end) throw fail('truncated', `the data set is truncated inside ${where} item ${i + 1}`, where);
      // An undefined-length UN holds an implicit VR sequence (PS3.5 6.2.2).
      if (item.dataSet) checkElements(item.dataSet, end, explicitVr && el.vr !== 'UN', depth + 1, `${where}[${i}] `);
    });
  }
}

/** Finds the pixel data and checks that it is complete (the part the header parse skips). */
function locatePixelData(
  dataSet: DataSet,
  body: Uint8Array,
  littleEndian: boolean,
  encapsulatedSyntax: boolean,
  explicitVr: boolean,
  warnings: HeaderWarning[],
): PixelDataLocation | undefined {
  const el = dataSet.elements[keyOf(PIXEL_DATA)];
  if (!el) return undefined;
  const where = '(7FE0,0010) Pixel Data';
  if (el.dataOffset > body.length) throw fail('truncated', 'the data set is truncated inside the Pixel Data header', where);
  const vr = explicitVr && el.vr === 'OB' ? 'OB' : explicitVr && el.vr === 'OW' ? 'OW' : el.length === UNDEFINED_LENGTH ? 'OB' : 'OW';
  if (el.length !== UNDEFINED_LENGTH) {
    if (el.dataOffset + el.length > body.length) {
      throw fail('truncated', `the data set is truncated: Pixel Data declares ${el.length} bytes but only ${body.length - el.dataOffset} remain`, where);
    }
    if (encapsulatedSyntax) {
      warnings.push({ code: 'native-pixel-data', message: 'pixel data has a defined length although the transfer syntax is a compressed one', location: where });
    }
    return { offset: el.dataOffset, length: el.length, vr, encapsulated: false };
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const u16 = (p: number) => view.getUint16(p, littleEndian);
  let pos = el.dataOffset;
  let items = 0;
  for (;;) {
    if (pos + 8 > body.length) throw fail('truncated', `the data set is truncated inside the encapsulated pixel data (fragment ${items})`, where);
    const group = u16(pos);
    const element = u16(pos + 2);
    const length = view.getUint32(pos + 4, littleEndian);
    if (group === 0xfffe && element === 0xe0dd) break;
    if (group !== 0xfffe || element !== 0xe000 || length === UNDEFINED_LENGTH) {
      throw fail('malformed', `encapsulated pixel data has ${formatTag(((group << 16) | element) >>> 0)} where an item was expected`, where);
    }
    pos += 8 + length;
    if (pos > body.length) throw fail('truncated', `the data set is truncated inside pixel data fragment ${items}`, where);
    items++;
  }
  if (items === 0) throw fail('malformed', 'encapsulated pixel data has no basic offset table item', where);
  return { offset: el.dataOffset, length: undefined, vr, encapsulated: true, fragments: items - 1 };
}

/** The character set in force, applying the undeclared rule (see undeclaredCharsetGuess). */
function resolveCharset(dataSet: DataSet, encoding: { explicitVr: boolean; littleEndian: boolean }, warnings: HeaderWarning[]): CharacterSet {
  const el = dataSet.elements[keyOf(0x00080005)];
  const declaredText = el && el.length > 0 ? latin1(dataSet.byteArray.subarray(el.dataOffset, el.dataOffset + el.length)) : undefined;
  const declared = new CharacterSet(declaredText);
  if (declared.unknownTerms.length > 0) {
    warnings.push({
      code: 'charset-unknown',
      message: `Specific Character Set "${declared.terms.join('\\')}" names ${declared.unknownTerms.map((t) => `"${t}"`).join(', ')}, which this hub does not know`,
      location: '(0008,0005) Specific Character Set',
    });
  }
  if (declared.kind !== 'default') return declared;
  const guess = undeclaredCharsetGuess(textValues(new ElementReader(dataSet, declared, encoding, []), 0));
  if (!guess) return declared;
  warnings.push({
    code: 'charset-undeclared',
    message:
      `text has non-ASCII bytes but Specific Character Set ${declaredText === undefined ? 'is absent' : `is "${declared.terms.join('\\')}"`}; ` +
      `decoded as ${guess === 'ISO_IR 192' ? 'UTF-8 (all of it is valid UTF-8)' : 'GB18030 (it is not all valid UTF-8)'}`,
    location: '(0008,0005) Specific Character Set',
  });
  return new CharacterSet(declaredText, guess);
}

/** The raw bytes of every text value under the top-level character set. */
function* textValues(reader: ElementReader, depth: number): Generator<Uint8Array> {
  for (const el of Object.values(reader.dataSet.elements)) {
    if (el.items) {
      if (depth >= MAX_SEQUENCE_DEPTH) continue;
      for (const [i, item] of el.items.entries()) {
        // An item that declares its own character set is not the top level's business.
        if (item.dataSet && !item.dataSet.elements[keyOf(0x00080005)]) yield* textValues(reader.item(el, i, item.dataSet), depth + 1);
      }
      continue;
    }
    const vr = reader.vr(el);
    if (vr && TEXT_VRS.has(vr) && el.length !== UNDEFINED_LENGTH && el.length > 0) yield reader.bytes(el);
  }
}
