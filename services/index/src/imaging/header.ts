import type { BlobStore } from '@hub/shared/blob';
import { encodingOf, readPart10, type ParsedDicom } from '@hub/shared/dicom';
import { badInput, isHubError } from '@hub/shared/errors';

/** Where the top-level pixel data value is in the stored object. */
export interface StoredPixelData {
  offset: number;
  /** undefined: encapsulated (undefined length) */
  length: number | undefined;
}

export interface StoredHeader {
  /** The header up to (not including) the pixel data. */
  parsed: ParsedDicom;
  pixelData: StoredPixelData | undefined;
  /** Offsets in `parsed` are offsets in the stored object (false for a deflated data set). */
  offsetsAreInObject: boolean;
}

const FIRST_READ = 64 * 1024;
/** Everything in front of the pixel data (or a whole object without any) larger than this is refused. */
const MAX_HEADER_BYTES = 256 * 1024 * 1024;
const UNDEFINED_LENGTH = 0xffffffff;
const PIXEL_DATA_LE = Buffer.from([0xe0, 0x7f, 0x10, 0x00]);
const PIXEL_DATA_BE = Buffer.from([0x7f, 0xe0, 0x00, 0x10]);

async function readRange(blob: BlobStore, key: string, length: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await blob.get(key, { start: 0, end: length - 1 })) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The data set in front of the top-level Pixel Data element, tried at each place the tag
 * occurs: only at the real element does everything before it read as a complete data set (a
 * match inside another value, or in an icon image sequence, leaves that element cut short).
 */
function headerBeforePixelData(prefix: Buffer): StoredHeader | undefined {
  for (const [tag, littleEndian] of [
    [PIXEL_DATA_LE, true],
    [PIXEL_DATA_BE, false],
  ] as const) {
    for (let at = prefix.indexOf(tag, 132); at !== -1 && at + 8 <= prefix.length; at = prefix.indexOf(tag, at + 1)) {
      const vr = prefix.toString('latin1', at + 4, at + 6);
      const explicit = (vr === 'OB' || vr === 'OW') && prefix.readUInt16LE(at + 6) === 0;
      if (explicit && at + 12 > prefix.length) continue;
      const length = explicit ? (littleEndian ? prefix.readUInt32LE(at + 8) : prefix.readUInt32BE(at + 8)) : prefix.readUInt32LE(at + 4);
      let parsed: ParsedDicom;
      try {
        parsed = readPart10(prefix.subarray(0, at));
      } catch (err) {
        if (isHubError(err, 'BadInput')) continue;
        throw err;
      }
      return { parsed, pixelData: { offset: at + (explicit ? 12 : 8), length: length === UNDEFINED_LENGTH ? undefined : length }, offsetsAreInObject: true };
    }
  }
  return undefined;
}

/**
 * Reads the header of a stored Part-10 object without its pixel data: the bytes up to the
 * offset the door noted when it has one (checked, not trusted), else a first 64 KiB that
 * grows until the pixel data element is in it. A deflated data set ends up read whole, as
 * only its inflated form has element boundaries.
 */
export async function readStoredHeader(blob: BlobStore, key: string, size: number, pixelDataHint?: number): Promise<StoredHeader> {
  let length = Math.min(size, pixelDataHint !== undefined && pixelDataHint <= size ? pixelDataHint : FIRST_READ);
  for (;;) {
    const bytes = await readRange(blob, key, length);
    if (bytes.length < length) throw new Error(`blob ${key} holds ${bytes.length} bytes, the accepted row says ${size}`);
    if (length >= size) {
      const parsed = readPart10(bytes);
      const inObject = !encodingOf(parsed.transferSyntaxUid).deflated;
      return { parsed, pixelData: inObject && parsed.pixelData ? { offset: parsed.pixelData.offset, length: parsed.pixelData.length } : undefined, offsetsAreInObject: inObject };
    }
    const header = headerBeforePixelData(bytes);
    if (header) return header;
    if (length >= MAX_HEADER_BYTES) {
      throw badInput(`the header (everything in front of the pixel data) is larger than ${MAX_HEADER_BYTES} bytes`, { code: 'header-too-large' });
    }
    length = Math.min(size, Math.max(length, FIRST_READ) * 4, MAX_HEADER_BYTES);
  }
}
