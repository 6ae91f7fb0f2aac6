import { deflateRawSync } from 'node:zlib';
import { encodeText } from './charset';
import { NUMBER_SIZES, TEXT_VRS, formatTag, type Vr } from './dictionary';
import { encodingOf } from './transfer-syntax';
import { HUB_IMPLEMENTATION_CLASS_UID, HUB_IMPLEMENTATION_VERSION_NAME } from './uid';

/**
 * Encodes data sets and Part-10 files (PS3.5 7, PS3.10 7): used by the C-STORE SCP to store a
 * received data set as a file (toPart10), and by tests to build real instances (testing.ts).
 */

/** The elements of one sequence item. */
export type WriteItem = readonly WriteElement[];

/** Encapsulated pixel data: a basic offset table (may be empty) and the fragments. */
export interface WriteFragments {
  fragments: readonly Uint8Array[];
  offsets?: readonly number[];
}

export interface WriteElement {
  /** 0xGGGGEEEE */
  tag: number;
  vr: Vr;
  /**
   * Strings (several values as an array) for string VRs, text in the data set's character set;
   * numbers (or bigints for UV/SV) for binary numbers and AT (tags as 0xGGGGEEEE); bytes for
   * OB/OW/OF/OD/OL/OV/UN, little endian; items for SQ; fragments for encapsulated pixel data;
   * raw bytes for any string VR to write exactly those. Absent: zero length.
   */
  value?: string | number | bigint | readonly (string | number | bigint | null)[] | Uint8Array | readonly WriteItem[] | WriteFragments;
  /** Write an SQ (and its items) with undefined length and delimitation items. */
  undefinedLength?: boolean;
}

export interface DataSetEncoding {
  explicitVr: boolean;
  littleEndian: boolean;
  /** Specific Character Set (0008,0005) text is encoded in; default ASCII. */
  charset?: string;
}

const LONG_LENGTH_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const UNDEFINED = 0xffffffff;
const WORD_SIZES: Record<string, number> = { OW: 2, OF: 4, OL: 4, OD: 8, OV: 8 };

class Out {
  private chunks: Buffer[] = [];
  length = 0;
  constructor(readonly le: boolean) {}
  bytes(b: Uint8Array): void {
    this.chunks.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    this.length += b.byteLength;
  }
  u16(v: number): void {
    const b = Buffer.alloc(2);
    if (this.le) b.writeUInt16LE(v);
    else b.writeUInt16BE(v);
    this.bytes(b);
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    if (this.le) b.writeUInt32LE(v);
    else b.writeUInt32BE(v);
    this.bytes(b);
  }
  tag(tag: number): void {
    this.u16(tag >>> 16);
    this.u16(tag & 0xffff);
  }
  done(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

const isFragments = (v: WriteElement['value']): v is WriteFragments => typeof v === 'object' && v !== null && 'fragments' in v;
const isItems = (v: WriteElement['value']): v is readonly WriteItem[] => Array.isArray(v) && v.every((x) => Array.isArray(x));

function padded(bytes: Buffer, vr: string): Buffer {
  if (bytes.length % 2 === 0) return bytes;
  const pad = vr === 'UI' || WORD_SIZES[vr] || vr === 'OB' || vr === 'UN' ? 0 : 0x20;
  return Buffer.concat([bytes, Buffer.from([pad])]);
}

function numberBytes(vr: string, values: readonly (string | number | bigint | null)[], le: boolean): Buffer {
  const size = vr === 'AT' ? 4 : NUMBER_SIZES[vr]!;
  const b = Buffer.alloc(size * values.length);
  const view = new DataView(b.buffer, b.byteOffset, b.length);
  values.forEach((raw, i) => {
    const v = raw ?? 0;
    const o = i * size;
    const n = Number(v);
    if (vr === 'US') view.setUint16(o, n, le);
    else if (vr === 'SS') view.setInt16(o, n, le);
    else if (vr === 'UL') view.setUint32(o, n, le);
    else if (vr === 'SL') view.setInt32(o, n, le);
    else if (vr === 'FL') view.setFloat32(o, n, le);
    else if (vr === 'FD') view.setFloat64(o, n, le);
    else if (vr === 'UV') view.setBigUint64(o, BigInt(v), le);
    else if (vr === 'SV') view.setBigInt64(o, BigInt(v), le);
    else {
      view.setUint16(o, n >>> 16, le);
      view.setUint16(o + 2, n & 0xffff, le);
    }
  });
  return b;
}

/** The value bytes of a non-SQ, non-fragment element, padded to even length. */
function valueBytes(el: WriteElement, enc: DataSetEncoding): Buffer {
  const { vr, value } = el;
  if (value === undefined) return Buffer.alloc(0);
  if (value instanceof Uint8Array) {
    const bytes = Buffer.from(value);
    const word = WORD_SIZES[vr];
    if (word && !enc.littleEndian) for (let i = 0; i + word <= bytes.length; i += word) bytes.subarray(i, i + word).reverse();
    return padded(bytes, vr);
  }
  const values = Array.isArray(value) ? (value as readonly (string | number | bigint | null)[]) : [value as string | number | bigint];
  if (vr === 'AT' || NUMBER_SIZES[vr] !== undefined) return numberBytes(vr, values, enc.littleEndian);
  const text = values.map((v) => (v === null ? '' : String(v))).join('\\');
  const bytes = TEXT_VRS.has(vr) ? encodeText(text, enc.charset, vr) : Buffer.from(text, 'latin1');
  return padded(bytes, vr);
}

function writeHeader(out: Out, tag: number, vr: Vr, length: number, enc: DataSetEncoding): void {
  out.tag(tag);
  if (!enc.explicitVr) return out.u32(length);
  out.bytes(Buffer.from(vr, 'latin1'));
  if (LONG_LENGTH_VRS.has(vr)) {
    out.u16(0);
    out.u32(length);
  } else {
    if (length > 0xfffe) throw new Error(`${formatTag(tag)} ${vr} value of ${length} bytes does not fit a 16-bit length`);
    out.u16(length);
  }
}

function writeElement(out: Out, el: WriteElement, enc: DataSetEncoding): void {
  const { tag, vr, value } = el;
  if (vr === 'SQ') {
    const items = isItems(value) ? value : [];
    const body = new Out(enc.littleEndian);
    for (const item of items) {
      const content = encodeDataSet(item, enc);
      body.tag(0xfffee000);
      body.u32(el.undefinedLength ? UNDEFINED : content.length);
      body.bytes(content);
      if (el.undefinedLength) {
        body.tag(0xfffee00d);
        body.u32(0);
      }
    }
    if (el.undefinedLength) {
      body.tag(0xfffee0dd);
      body.u32(0);
    }
    const bytes = body.done();
    writeHeader(out, tag, vr, el.undefinedLength ? UNDEFINED : bytes.length, enc);
    return out.bytes(bytes);
  }
  if (isFragments(value)) {
    writeHeader(out, tag, vr, UNDEFINED, enc);
    out.tag(0xfffee000);
    out.u32(4 * (value.offsets?.length ?? 0));
    for (const offset of value.offsets ?? []) out.u32(offset);
    for (const fragment of value.fragments) {
      const bytes = padded(Buffer.from(fragment), 'OB');
      out.tag(0xfffee000);
      out.u32(bytes.length);
      out.bytes(bytes);
    }
    out.tag(0xfffee0dd);
    return out.u32(0);
  }
  const bytes = valueBytes(el, enc);
  writeHeader(out, tag, vr, bytes.length, enc);
  out.bytes(bytes);
}

/** Encodes elements (sorted by tag; a later duplicate wins) as a data set. */
export function encodeDataSet(elements: readonly WriteElement[], enc: DataSetEncoding): Buffer {
  const byTag = new Map<number, WriteElement>();
  for (const el of elements) byTag.set(el.tag >>> 0, el);
  const out = new Out(enc.littleEndian);
  for (const tag of [...byTag.keys()].sort((a, b) => a - b)) writeElement(out, byTag.get(tag)!, enc);
  return out.done();
}

/** Encodes elements in a transfer syntax, deflating for Deflated Explicit VR Little Endian. */
export function encodeDataSetIn(elements: readonly WriteElement[], transferSyntaxUid: string, charset?: string): Buffer {
  const ts = encodingOf(transferSyntaxUid);
  const bytes = encodeDataSet(elements, { explicitVr: ts.explicitVr, littleEndian: ts.littleEndian, charset });
  return ts.deflated ? deflateRawSync(bytes) : bytes;
}

export interface FileMeta {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  sourceApplicationEntityTitle?: string;
  implementationClassUid?: string;
  implementationVersionName?: string;
}

/** Group 0002 with its group length, explicit VR little endian (PS3.10 7.1). */
export function encodeFileMeta(meta: FileMeta): Buffer {
  const elements: WriteElement[] = [
    { tag: 0x00020001, vr: 'OB', value: Uint8Array.of(0, 1) },
    { tag: 0x00020002, vr: 'UI', value: meta.sopClassUid },
    { tag: 0x00020003, vr: 'UI', value: meta.sopInstanceUid },
    { tag: 0x00020010, vr: 'UI', value: meta.transferSyntaxUid },
    { tag: 0x00020012, vr: 'UI', value: meta.implementationClassUid ?? HUB_IMPLEMENTATION_CLASS_UID },
    { tag: 0x00020013, vr: 'SH', value: meta.implementationVersionName ?? HUB_IMPLEMENTATION_VERSION_NAME },
  ];
  if (meta.sourceApplicationEntityTitle) elements.push({ tag: 0x00020016, vr: 'AE', value: meta.sourceApplicationEntityTitle });
  const enc = { explicitVr: true, littleEndian: true };
  const body = encodeDataSet(elements, enc);
  return Buffer.concat([encodeDataSet([{ tag: 0x00020000, vr: 'UL', value: body.length }], enc), body]);
}

/** A Part-10 file: 128-byte preamble, `DICM`, file meta, and the data set bytes as given. */
export function toPart10(dataSet: Uint8Array, meta: FileMeta): Buffer {
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), encodeFileMeta(meta), dataSet]);
}
