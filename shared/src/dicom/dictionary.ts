import { TAGS_BY_VR } from './dictionary-data';

/** The value representations of PS3.5 Table 6.2-1. */
export const VRS = [
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV', 'OW',
  'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV',
] as const;
export type Vr = (typeof VRS)[number];

const VR_SET: ReadonlySet<string> = new Set(VRS);
export const isVr = (s: string | undefined): s is Vr => s !== undefined && VR_SET.has(s);

/** VRs whose text is in the Specific Character Set (PS3.5 6.1.2.3); the others are ASCII. */
export const TEXT_VRS: ReadonlySet<string> = new Set(['SH', 'LO', 'ST', 'LT', 'PN', 'UC', 'UT']);
/** String VRs that hold one value only: a backslash in them is text, not a separator. */
export const SINGLE_VALUED_VRS: ReadonlySet<string> = new Set(['LT', 'ST', 'UT', 'UR']);
/** VRs whose values are opaque bytes. */
export const BINARY_VRS: ReadonlySet<string> = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);
/** Binary numbers and their size in bytes. */
export const NUMBER_SIZES: Readonly<Record<string, number>> = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8, UV: 8, SV: 8 };

export const PIXEL_DATA = 0x7fe00010;

/** `x00080018`, the key dicom-parser uses for a tag. */
export const keyOf = (tag: number): string => `x${tag.toString(16).padStart(8, '0')}`;
export const tagOf = (key: string): number => parseInt(key.slice(1), 16);
/** `(0008,0018)` */
export function formatTag(tag: number): string {
  const hex = tag.toString(16).toUpperCase().padStart(8, '0');
  return `(${hex.slice(0, 4)},${hex.slice(4)})`;
}
export const isPrivate = (tag: number): boolean => ((tag >>> 16) & 1) === 1;

let table: Map<number, string> | undefined;
function dictionary(): Map<number, string> {
  if (!table) {
    table = new Map();
    for (const [vr, tags] of Object.entries(TAGS_BY_VR)) {
      for (const hex of tags.split(' ')) table.set(parseInt(hex, 16), vr);
    }
  }
  return table;
}

/**
 * The VR of a tag from the data dictionary, for data sets in Implicit VR Little Endian (or
 * explicit UN): group lengths are UL, private creators LO, other private tags unknown.
 * Two-VR attributes follow PS3.5 A.1: pixel-value attributes (US or SS) by Pixel
 * Representation, OB-or-OW data as OW.
 */
export function dictionaryVr(tag: number, pixelRepresentation?: number): Vr | undefined {
  const group = tag >>> 16;
  const element = tag & 0xffff;
  if (element === 0) return 'UL';
  if (group & 1) return element >= 0x10 && element <= 0xff ? 'LO' : undefined;
  if (tag === PIXEL_DATA) return 'OW';
  const dict = dictionary();
  let vr = dict.get(tag);
  const family = group & 0xff00;
  if (vr === undefined && (family === 0x5000 || family === 0x6000)) vr = dict.get(((family << 16) | element) >>> 0);
  if (vr === 'US|SS') return pixelRepresentation === 1 ? 'SS' : 'US';
  if (vr === 'OB|OW' || vr === 'US|OW') return 'OW';
  return isVr(vr) ? vr : undefined;
}
