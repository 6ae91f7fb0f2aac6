/** Transfer syntaxes (PS3.5 10 and Annex A; UIDs in PS3.6 Annex A). */
export const TransferSyntax = {
  ImplicitVrLittleEndian: '1.2.840.10008.1.2',
  ExplicitVrLittleEndian: '1.2.840.10008.1.2.1',
  DeflatedExplicitVrLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVrBigEndian: '1.2.840.10008.1.2.2',
  JpegBaseline: '1.2.840.10008.1.2.4.50',
  JpegExtended: '1.2.840.10008.1.2.4.51',
  JpegLossless: '1.2.840.10008.1.2.4.57',
  JpegLosslessSv1: '1.2.840.10008.1.2.4.70',
  JpegLsLossless: '1.2.840.10008.1.2.4.80',
  JpegLsNearLossless: '1.2.840.10008.1.2.4.81',
  Jpeg2000Lossless: '1.2.840.10008.1.2.4.90',
  Jpeg2000: '1.2.840.10008.1.2.4.91',
  HtJpeg2000Lossless: '1.2.840.10008.1.2.4.201',
  HtJpeg2000RpclLossless: '1.2.840.10008.1.2.4.202',
  HtJpeg2000: '1.2.840.10008.1.2.4.203',
  Rle: '1.2.840.10008.1.2.5',
  Mpeg2MainProfile: '1.2.840.10008.1.2.4.100',
  Mpeg2HighProfile: '1.2.840.10008.1.2.4.101',
  Mpeg4HighProfile: '1.2.840.10008.1.2.4.102',
  Mpeg4BdHighProfile: '1.2.840.10008.1.2.4.103',
  HevcMainProfile: '1.2.840.10008.1.2.4.107',
  HevcMain10Profile: '1.2.840.10008.1.2.4.108',
} as const;

export interface TransferSyntaxInfo {
  uid: string;
  name: string;
  explicitVr: boolean;
  littleEndian: boolean;
  deflated: boolean;
  /** Pixel data in fragments (compressed). */
  encapsulated: boolean;
  /** Compression that loses information; such pixels must not be re-sent as lossless. */
  lossy: boolean;
}

const native = (uid: string, name: string, explicitVr: boolean, littleEndian = true, deflated = false): TransferSyntaxInfo => ({
  uid, name, explicitVr, littleEndian, deflated, encapsulated: false, lossy: false,
});
const compressed = (uid: string, name: string, lossy: boolean): TransferSyntaxInfo => ({
  uid, name, explicitVr: true, littleEndian: true, deflated: false, encapsulated: true, lossy,
});

/** The transfer syntaxes the hub accepts, in the order an SCP should prefer them. */
export const ACCEPTED_TRANSFER_SYNTAXES: readonly TransferSyntaxInfo[] = [
  native(TransferSyntax.ExplicitVrLittleEndian, 'Explicit VR Little Endian', true),
  native(TransferSyntax.ImplicitVrLittleEndian, 'Implicit VR Little Endian', false),
  native(TransferSyntax.DeflatedExplicitVrLittleEndian, 'Deflated Explicit VR Little Endian', true, true, true),
  native(TransferSyntax.ExplicitVrBigEndian, 'Explicit VR Big Endian (retired)', true, false),
  compressed(TransferSyntax.JpegLosslessSv1, 'JPEG Lossless, First-Order Prediction (Process 14 SV1)', false),
  compressed(TransferSyntax.JpegLossless, 'JPEG Lossless, Non-Hierarchical (Process 14)', false),
  compressed(TransferSyntax.JpegBaseline, 'JPEG Baseline (Process 1)', true),
  compressed(TransferSyntax.JpegExtended, 'JPEG Extended (Process 2 & 4)', true),
  compressed(TransferSyntax.JpegLsLossless, 'JPEG-LS Lossless', false),
  compressed(TransferSyntax.JpegLsNearLossless, 'JPEG-LS Near-Lossless', true),
  compressed(TransferSyntax.Jpeg2000Lossless, 'JPEG 2000 (Lossless Only)', false),
  compressed(TransferSyntax.Jpeg2000, 'JPEG 2000', true),
  compressed(TransferSyntax.HtJpeg2000Lossless, 'High-Throughput JPEG 2000 (Lossless Only)', false),
  compressed(TransferSyntax.HtJpeg2000RpclLossless, 'High-Throughput JPEG 2000 with RPCL Options (Lossless Only)', false),
  compressed(TransferSyntax.HtJpeg2000, 'High-Throughput JPEG 2000', true),
  compressed(TransferSyntax.Rle, 'RLE Lossless', false),
  compressed(TransferSyntax.Mpeg2MainProfile, 'MPEG2 Main Profile / Main Level', true),
  compressed(TransferSyntax.Mpeg2HighProfile, 'MPEG2 Main Profile / High Level', true),
  compressed(TransferSyntax.Mpeg4HighProfile, 'MPEG-4 AVC/H.264 High Profile / Level 4.1', true),
  compressed(TransferSyntax.Mpeg4BdHighProfile, 'MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1', true),
  compressed(TransferSyntax.HevcMainProfile, 'HEVC/H.265 Main Profile / Level 5.1', true),
  compressed(TransferSyntax.HevcMain10Profile, 'HEVC/H.265 Main 10 Profile / Level 5.1', true),
];

const BY_UID = new Map(ACCEPTED_TRANSFER_SYNTAXES.map((ts) => [ts.uid, ts]));

export const transferSyntaxInfo = (uid: string): TransferSyntaxInfo | undefined => BY_UID.get(uid);
export const isAcceptedTransferSyntax = (uid: string): boolean => BY_UID.has(uid);

/**
 * How a data set in this transfer syntax is encoded. Every transfer syntax other than the
 * four native ones is explicit VR little endian with encapsulated pixel data (PS3.5 A.4), so
 * that is assumed for one this table does not know.
 */
export function encodingOf(uid: string): TransferSyntaxInfo {
  return BY_UID.get(uid) ?? compressed(uid, 'unknown', true);
}
