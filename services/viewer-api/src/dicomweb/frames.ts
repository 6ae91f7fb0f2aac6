import { Readable } from 'node:stream';
import type { BlobStore } from '@hub/shared/blob';
import { encodingOf, TransferSyntax } from '@hub/shared/dicom';
import { badInput, notFound } from '@hub/shared/errors';
import type { StoredInstance } from './instances';

/**
 * Frames of an instance (PS3.18 10.4.1.1.4), cut from the stored object with range reads:
 * native pixel data by arithmetic (Rows × Columns × Samples per Pixel × Bits Allocated / 8
 * per frame, from the pixel data offset the index recorded), encapsulated pixel data by its
 * fragments (the Basic Offset Table when there is one, else one fragment per frame, or every
 * fragment for a single frame). Nothing is decoded or transcoded.
 */
export interface FrameSource {
  /** The transfer syntax the frame bytes are in. */
  transferSyntaxUid: string;
  /** Byte ranges (inclusive) in the stored object making up each frame asked for, in order. */
  frames: Array<Array<{ start: number; end: number }>>;
}

/** The media type of one compressed frame (PS3.18 Table 8.7.3-5). */
export function frameMediaType(transferSyntaxUid: string): string {
  const ts = transferSyntaxUid;
  if (['1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.57', '1.2.840.10008.1.2.4.70'].includes(ts)) return 'image/jpeg';
  if (ts === TransferSyntax.JpegLsLossless || ts === TransferSyntax.JpegLsNearLossless) return 'image/jls';
  if (ts === TransferSyntax.Jpeg2000Lossless || ts === TransferSyntax.Jpeg2000) return 'image/jp2';
  if (ts.startsWith('1.2.840.10008.1.2.4.20')) return 'image/jphc';
  if (ts === TransferSyntax.Rle) return 'image/dicom-rle';
  return 'application/octet-stream';
}

export function parseFrameList(text: string, count: number): number[] {
  const frames = text.split(',').map((f) => f.trim());
  if (frames.some((f) => !/^\d{1,9}$/.test(f) || Number(f) < 1)) throw badInput(`frame list "${text.slice(0, 80)}" must be frame numbers from 1, separated by commas`, { location: 'frames', code: 'invalid-frame-list' });
  const numbers = frames.map(Number);
  const beyond = numbers.find((n) => n > count);
  if (beyond !== undefined) throw notFound(`the instance has ${count} frame(s); there is no frame ${beyond}`, { location: 'frames', code: 'no-such-frame' });
  return numbers;
}

function nativeFrames(i: StoredInstance, wanted: number[]): FrameSource {
  const bits = i.bits_allocated ?? 0;
  if (bits % 8 !== 0 || !i.rows || !i.columns) throw badInput(`frames of ${bits}-bit pixel data are not served; retrieve the instance`, { code: 'frames-not-served' });
  if (!encodingOf(i.transfer_syntax_uid).littleEndian) throw badInput('frames of big endian pixel data are not served; retrieve the instance', { code: 'frames-not-served' });
  const size = i.rows * i.columns * (i.samples_per_pixel ?? 1) * (bits / 8);
  const start = i.pixel_data_offset!;
  const frames = wanted.map((n) => {
    const from = start + (n - 1) * size;
    if (from + size > start + i.pixel_data_length!) throw notFound(`frame ${n} lies beyond the pixel data the instance holds`, { code: 'no-such-frame' });
    return [{ start: from, end: from + size - 1 }];
  });
  // native pixel data is the same bytes in implicit and explicit VR little endian
  return { transferSyntaxUid: TransferSyntax.ExplicitVrLittleEndian, frames };
}

async function readAt(blob: BlobStore, key: string, start: number, length: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await blob.get(key, { start, end: start + length - 1 })) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface Item {
  start: number;
  length: number;
}

/** The item at `pos`, or undefined at the sequence delimiter. */
async function itemAt(blob: BlobStore, key: string, pos: number): Promise<Item | undefined> {
  const header = await readAt(blob, key, pos, 8);
  if (header.length < 8) throw new Error(`encapsulated pixel data of ${key} ends at byte ${pos}`);
  const tag = header.readUInt32LE(0);
  if (tag === 0xe0ddfffe) return undefined;
  if (tag !== 0xe000fffe) throw new Error(`encapsulated pixel data of ${key} has no item at byte ${pos}`);
  return { start: pos + 8, length: header.readUInt32LE(4) };
}

async function encapsulatedFrames(blob: BlobStore, i: StoredInstance, count: number, wanted: number[]): Promise<FrameSource> {
  const key = i.blob_key;
  const bot = await itemAt(blob, key, i.pixel_data_offset!);
  if (!bot) throw new Error(`encapsulated pixel data of ${key} has no basic offset table`);
  const first = bot.start + bot.length;
  const offsets: number[] = [];
  if (bot.length >= 4 * count) {
    const table = await readAt(blob, key, bot.start, bot.length);
    for (let k = 0; k < count; k++) offsets.push(table.readUInt32LE(4 * k));
  }
  /** Fragments from `pos` until `stop` (relative to the first fragment) or the delimiter. */
  const fragmentsFrom = async (pos: number, stop?: number, max = Infinity) => {
    const out: Item[] = [];
    while (out.length < max && (stop === undefined || pos - first < stop)) {
      const item = await itemAt(blob, key, pos);
      if (!item) break;
      out.push(item);
      pos = item.start + item.length;
    }
    return out;
  };
  const ranges = (items: Item[]) => items.filter((f) => f.length > 0).map((f) => ({ start: f.start, end: f.start + f.length - 1 }));
  if (offsets.length === count) {
    const frames = await Promise.all(wanted.map(async (n) => ranges(await fragmentsFrom(first + offsets[n - 1]!, n < count ? offsets[n]! : undefined))));
    return { transferSyntaxUid: i.transfer_syntax_uid, frames };
  }
  if (count === 1) return { transferSyntaxUid: i.transfer_syntax_uid, frames: [ranges(await fragmentsFrom(first))] };
  // no offset table: one fragment per frame is the only layout that can be cut without decoding
  const all = await fragmentsFrom(first);
  if (all.length !== count) throw badInput(`the instance has ${count} frames in ${all.length} fragments and no offset table; retrieve the instance`, { code: 'frames-not-served' });
  return { transferSyntaxUid: i.transfer_syntax_uid, frames: wanted.map((n) => ranges([all[n - 1]!])) };
}

/** Where the frames asked for are in the stored object. */
export async function frameSource(blob: BlobStore, i: StoredInstance, frameList: string): Promise<FrameSource> {
  if (i.pixel_data_offset === null) throw notFound(`instance ${i.sop_instance_uid} has no pixel data the hub can cut into frames`, { code: 'no-pixel-data' });
  const count = i.number_of_frames ?? 1;
  const wanted = parseFrameList(frameList, count);
  return i.pixel_data_encapsulated ? encapsulatedFrames(blob, i, count, wanted) : nativeFrames(i, wanted);
}

/** One frame's bytes as a stream of its ranges, read one after the other. */
export function openFrame(blob: BlobStore, key: string, ranges: Array<{ start: number; end: number }>): Readable {
  return Readable.from(
    (async function* () {
      for (const range of ranges) for await (const chunk of await blob.get(key, range)) yield chunk as Buffer;
    })(),
  );
}
