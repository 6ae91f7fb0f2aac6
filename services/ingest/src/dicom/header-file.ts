import { open, type FileHandle } from 'node:fs/promises';
import type { SpooledInstance } from './spool';
import { parseInstanceHeader, type InstanceHeader } from '@hub/shared/dicom';
import { badInput, isHubError } from '@hub/shared/errors';

/** Positional reads from an instance held in memory or spilled to a file. */
interface ByteSource {
  size: number;
  read(position: number, length: number): Promise<Buffer>;
}

/**
 * Reads the header of a spooled Part-10 object without reading its pixel data: the first
 * 64 KiB hold the whole header of nearly every image. The header codec checks that the data
 * it is given is complete, so it is given the bytes in front of the top-level Pixel Data
 * element, and the pixel data is then checked here against the file (its declared length,
 * or the chain of encapsulated fragments) with small positional reads.
 */
const FIRST_READ = 64 * 1024;
/** A header (or a whole object without pixel data: SR, PDF, RT structure set) larger than this is refused. */
export const MAX_HEADER_BYTES = 256 * 1024 * 1024;
const UNDEFINED_LENGTH = 0xffffffff;
const PIXEL_DATA_LE = Buffer.from([0xe0, 0x7f, 0x10, 0x00]);
const PIXEL_DATA_BE = Buffer.from([0x7f, 0xe0, 0x00, 0x10]);
const WHERE = '(7FE0,0010) Pixel Data';

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await fh.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === length ? buffer : buffer.subarray(0, filled);
}

export async function readHeaderOf(instance: SpooledInstance): Promise<InstanceHeader> {
  const { bytes, size } = instance;
  if (bytes) return readHeader({ size, read: async (position, length) => bytes.subarray(position, position + length) });
  const fh = await open(instance.path, 'r');
  try {
    return await readHeader({ size, read: (position, length) => readAt(fh, position, length) });
  } finally {
    await fh.close();
  }
}

async function readHeader(source: ByteSource): Promise<InstanceHeader> {
  const { size } = source;
  let length = Math.min(size, FIRST_READ);
  for (;;) {
    const bytes = await source.read(0, length);
    if (length >= size) return parseInstanceHeader(bytes);
    const header = await headerInFrontOfPixelData(source, bytes);
    if (header) return header;
    if (length >= MAX_HEADER_BYTES) {
      throw badInput(`the header (everything in front of the pixel data) is larger than ${MAX_HEADER_BYTES} bytes`, { code: 'header-too-large' });
    }
    length = Math.min(size, length * 4, MAX_HEADER_BYTES);
  }
}

/**
 * Tries each place in `prefix` where the Pixel Data tag appears, first to last: only at the
 * real top-level element does everything in front of it read as a complete data set (a match
 * inside another value, or in an icon's sequence, leaves that element cut short).
 */
async function headerInFrontOfPixelData(source: ByteSource, prefix: Buffer): Promise<InstanceHeader | undefined> {
  for (const [tag, littleEndian] of [
    [PIXEL_DATA_LE, true],
    [PIXEL_DATA_BE, false],
  ] as const) {
    for (let at = prefix.indexOf(tag, 132); at !== -1 && at + 12 <= prefix.length; at = prefix.indexOf(tag, at + 1)) {
      let header: InstanceHeader;
      try {
        header = parseInstanceHeader(prefix.subarray(0, at));
      } catch (err) {
        if (isHubError(err, 'BadInput')) continue;
        throw err;
      }
      header.pixelData = await checkPixelData(source, prefix, at, littleEndian);
      return header;
    }
  }
  return undefined;
}

async function checkPixelData(source: ByteSource, prefix: Buffer, at: number, littleEndian: boolean): Promise<NonNullable<InstanceHeader['pixelData']>> {
  const { size } = source;
  const u32 = (b: Buffer, p: number) => (littleEndian ? b.readUInt32LE(p) : b.readUInt32BE(p));
  const u16 = (b: Buffer, p: number) => (littleEndian ? b.readUInt16LE(p) : b.readUInt16BE(p));
  const vr = prefix.toString('latin1', at + 4, at + 6);
  const explicit = (vr === 'OB' || vr === 'OW' || vr === 'UN') && prefix[at + 6] === 0 && prefix[at + 7] === 0;
  const length = u32(prefix, explicit ? at + 8 : at + 4);
  const offset = at + (explicit ? 12 : 8);
  const valueVr = vr === 'OW' || (!explicit && length !== UNDEFINED_LENGTH) ? 'OW' : 'OB';
  if (length !== UNDEFINED_LENGTH) {
    if (offset + length > size) {
      throw badInput(`the data set is truncated: Pixel Data declares ${length} bytes but only ${size - offset} remain`, { code: 'truncated', location: WHERE });
    }
    return { offset, length, vr: valueVr, encapsulated: false };
  }
  // Encapsulated: items (FFFE,E000) of defined length up to the delimiter (FFFE,E0DD).
  let pos = offset;
  let items = 0;
  let window: Buffer = Buffer.alloc(0);
  let windowAt = 0;
  for (;;) {
    if (pos + 8 > size) throw badInput(`the data set is truncated inside the encapsulated pixel data (fragment ${items})`, { code: 'truncated', location: WHERE });
    if (pos < windowAt || pos + 8 > windowAt + window.length) {
      windowAt = pos;
      window = await source.read(pos, Math.min(64 * 1024, size - pos));
    }
    const p = pos - windowAt;
    const group = u16(window, p);
    const element = u16(window, p + 2);
    const itemLength = u32(window, p + 4);
    if (group === 0xfffe && element === 0xe0dd) break;
    if (group !== 0xfffe || element !== 0xe000 || itemLength === UNDEFINED_LENGTH) {
      throw badInput('encapsulated pixel data has something other than an item where an item was expected', { code: 'malformed', location: WHERE });
    }
    pos += 8 + itemLength;
    if (pos > size) throw badInput(`the data set is truncated inside pixel data fragment ${items}`, { code: 'truncated', location: WHERE });
    items++;
  }
  if (items === 0) throw badInput('encapsulated pixel data has no basic offset table item', { code: 'malformed', location: WHERE });
  return { offset, length: undefined, vr: 'OB', encapsulated: true, fragments: items - 1 };
}
