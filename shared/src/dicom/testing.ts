import { SopClass, STORAGE_SOP_CLASSES } from './sop-classes';
import { encodingOf, TransferSyntax } from './transfer-syntax';
import { generateUid } from './uid';
import { encodeDataSetIn, toPart10, type FileMeta, type WriteElement, type WriteFragments } from './writer';

/**
 * Real DICOM instances for tests, of any modality, transfer syntax, character set and size:
 * what a PACS would send, byte for byte (DCMTK's dcmdump reads them; see testing.test.ts).
 *
 *   const spec = instanceSpec({ modality: 'MR', charset: 'ISO_IR 192', patientName: '张^三' });
 *   const file = buildInstance(spec);        // Part-10
 *   const dimse = buildDataSet(spec);        // the data set alone, as C-STORE carries it
 */
export { generateUid };
export type { WriteElement, WriteItem } from './writer';

export interface InstanceSpec {
  /** Picks the SOP class and the attributes its IOD has (CT, MR, CR, DX, MG, US, XA, RF, PT, NM, OT, SR, KO, DOC, PR…). */
  modality?: string;
  sopClassUid?: string;
  sopInstanceUid?: string;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  /** For modalities with patient geometry (CT, MR, PT). */
  frameOfReferenceUid?: string;
  /** Default Explicit VR Little Endian; a compressed one gets encapsulated fragments. */
  transferSyntaxUid?: string;
  /** Specific Character Set (0008,0005); text given as strings is encoded in it. Absent: none written. */
  charset?: string;
  patientId?: string;
  issuerOfPatientId?: string;
  /** A string is encoded in `charset`; bytes are written as they are. */
  patientName?: string | Uint8Array;
  patientBirthDate?: string;
  patientSex?: string;
  studyDate?: string;
  studyTime?: string;
  accessionNumber?: string;
  studyDescription?: string | Uint8Array;
  seriesDescription?: string | Uint8Array;
  bodyPartExamined?: string;
  referringPhysicianName?: string | Uint8Array;
  institutionName?: string | Uint8Array;
  seriesNumber?: number;
  instanceNumber?: number;
  rows?: number;
  columns?: number;
  bitsAllocated?: number;
  samplesPerPixel?: number;
  /** Written as (0028,0008) when given. */
  numberOfFrames?: number;
  /** Size of the pixel data value in bytes (of all fragments if compressed); 0 for none. */
  pixelBytes?: number;
  /** More elements; one with the tag of a built element replaces it. */
  extra?: readonly WriteElement[];
  /** Tags to leave out of the data set. */
  omit?: readonly number[];
  /** File meta overrides (e.g. a different SOP Instance UID). */
  meta?: Partial<FileMeta>;
}

interface Preset {
  sopClassUid: string;
  image: boolean;
  bodyPart?: string;
  bitsAllocated?: number;
  samplesPerPixel?: number;
  elements?: (spec: InstanceSpec) => WriteElement[];
}

const DS = (tag: number, ...values: string[]): WriteElement => ({ tag, vr: 'DS', value: values });
const CS = (tag: number, ...values: string[]): WriteElement => ({ tag, vr: 'CS', value: values });
const code = (value: string, scheme: string, meaning: string): WriteElement[] => [
  { tag: 0x00080100, vr: 'SH', value },
  { tag: 0x00080102, vr: 'SH', value: scheme },
  { tag: 0x00080104, vr: 'LO', value: meaning },
];
const geometry = (spec: InstanceSpec) => [
  DS(0x00200032, '-125', '-125', '0'),
  DS(0x00200037, '1', '0', '0', '0', '1', '0'),
  { tag: 0x00200052, vr: 'UI', value: spec.frameOfReferenceUid } as WriteElement,
  DS(0x00280030, '0.5', '0.5'),
];
const srDocument = (): WriteElement[] => [
  CS(0x0040a040, 'CONTAINER'),
  { tag: 0x0040a043, vr: 'SQ', value: [code('18748-4', 'LN', 'Diagnostic Imaging Report')] },
  CS(0x0040a050, 'SEPARATE'),
  CS(0x0040a491, 'COMPLETE'),
  CS(0x0040a493, 'UNVERIFIED'),
  {
    tag: 0x0040a730,
    vr: 'SQ',
    value: [
      [
        CS(0x0040a010, 'CONTAINS'),
        CS(0x0040a040, 'TEXT'),
        { tag: 0x0040a043, vr: 'SQ', value: [code('121071', 'DCM', 'Finding')] },
        { tag: 0x0040a160, vr: 'UT', value: 'No abnormality.' },
      ],
    ],
  },
];

const PRESETS: Record<string, Preset> = {
  CT: {
    sopClassUid: SopClass.CtImage,
    image: true,
    bodyPart: 'CHEST',
    elements: (spec) => [
      CS(0x00080008, 'ORIGINAL', 'PRIMARY', 'AXIAL'),
      DS(0x00180050, '5'),
      DS(0x00180060, '120'),
      ...geometry(spec),
      DS(0x00281050, '40'),
      DS(0x00281051, '400'),
      DS(0x00281052, '-1024'),
      DS(0x00281053, '1'),
    ],
  },
  MR: {
    sopClassUid: SopClass.MrImage,
    image: true,
    bodyPart: 'HEAD',
    elements: (spec) => [
      CS(0x00080008, 'ORIGINAL', 'PRIMARY', 'M'),
      CS(0x00180020, 'SE'),
      CS(0x00180021, 'NONE'),
      CS(0x00180023, '2D'),
      DS(0x00180080, '500'),
      DS(0x00180081, '15'),
      DS(0x00180087, '1.5'),
      ...geometry(spec),
    ],
  },
  CR: { sopClassUid: SopClass.ComputedRadiography, image: true, bodyPart: 'CHEST', elements: () => [CS(0x00185101, 'PA')] },
  DX: {
    sopClassUid: SopClass.DigitalXRayForPresentation,
    image: true,
    bodyPart: 'CHEST',
    elements: () => [CS(0x00080008, 'ORIGINAL', 'PRIMARY'), CS(0x00080068, 'FOR PRESENTATION')],
  },
  MG: {
    sopClassUid: SopClass.DigitalMammographyForPresentation,
    image: true,
    bodyPart: 'BREAST',
    elements: () => [CS(0x00080068, 'FOR PRESENTATION'), CS(0x00200062, 'L')],
  },
  US: { sopClassUid: SopClass.UltrasoundImage, image: true, bodyPart: 'ABDOMEN', bitsAllocated: 8, samplesPerPixel: 3 },
  XA: { sopClassUid: SopClass.XRayAngiographicImage, image: true, bodyPart: 'HEART', bitsAllocated: 8 },
  RF: { sopClassUid: SopClass.XRayRadiofluoroscopicImage, image: true, bitsAllocated: 8 },
  PT: {
    sopClassUid: SopClass.PositronEmissionTomographyImage,
    image: true,
    bodyPart: 'WHOLEBODY',
    elements: (spec) => [CS(0x00541001, 'BQML'), ...geometry(spec)],
  },
  NM: { sopClassUid: SopClass.NuclearMedicineImage, image: true },
  OT: { sopClassUid: SopClass.SecondaryCaptureImage, image: true, bitsAllocated: 8, elements: () => [CS(0x00080064, 'WSD')] },
  SR: { sopClassUid: SopClass.ComprehensiveSr, image: false, elements: srDocument },
  KO: { sopClassUid: SopClass.KeyObjectSelectionDocument, image: false, elements: srDocument },
  PR: {
    sopClassUid: SopClass.GrayscaleSoftcopyPresentationState,
    image: false,
    elements: () => [CS(0x00700080, 'DEFAULT'), { tag: 0x00700081, vr: 'LO', value: 'Default presentation' }],
  },
  DOC: {
    sopClassUid: SopClass.EncapsulatedPdf,
    image: false,
    elements: () => [
      { tag: 0x00420010, vr: 'ST', value: 'Report' },
      { tag: 0x00420011, vr: 'OB', value: Buffer.from('%PDF-1.4\n%%EOF\n', 'latin1') },
      { tag: 0x00420012, vr: 'LO', value: 'application/pdf' },
    ],
  },
};

function presetOf(modality: string): Preset {
  const known = PRESETS[modality];
  if (known) return known;
  const sop = STORAGE_SOP_CLASSES.find((s) => s.modality === modality);
  return { sopClassUid: sop?.uid ?? SopClass.SecondaryCaptureImage, image: true };
}

export type CompleteInstanceSpec = InstanceSpec &
  Required<Pick<InstanceSpec, 'modality' | 'sopClassUid' | 'sopInstanceUid' | 'studyInstanceUid' | 'seriesInstanceUid' | 'frameOfReferenceUid' | 'transferSyntaxUid'>>;

/** The spec with every identifier filled in (generated UIDs), so a test knows them. */
export function instanceSpec(spec: InstanceSpec = {}): CompleteInstanceSpec {
  const modality = spec.modality ?? 'CT';
  return {
    ...spec,
    modality,
    sopClassUid: spec.sopClassUid ?? presetOf(modality).sopClassUid,
    sopInstanceUid: spec.sopInstanceUid ?? generateUid(),
    studyInstanceUid: spec.studyInstanceUid ?? generateUid(),
    seriesInstanceUid: spec.seriesInstanceUid ?? generateUid(),
    frameOfReferenceUid: spec.frameOfReferenceUid ?? generateUid(),
    transferSyntaxUid: spec.transferSyntaxUid ?? TransferSyntax.ExplicitVrLittleEndian,
  };
}

const text = (tag: number, vr: 'LO' | 'SH' | 'PN', value: string | Uint8Array | undefined): WriteElement => ({ tag, vr, value: value ?? '' });

/** A frame that looks like the codec's output (right markers), of about `size` bytes. */
function fakeFrame(transferSyntaxUid: string, size: number): Buffer {
  const n = Math.max(8, size + (size % 2));
  const frame = Buffer.alloc(n, 0x5a);
  if (transferSyntaxUid === TransferSyntax.Rle) {
    frame.fill(0, 0, 64);
    frame.writeUInt32LE(1, 0);
    frame.writeUInt32LE(64, 4);
    return frame;
  }
  const j2k = transferSyntaxUid.startsWith('1.2.840.10008.1.2.4.9') || transferSyntaxUid.startsWith('1.2.840.10008.1.2.4.20');
  frame.set(j2k ? [0xff, 0x4f, 0xff, 0x51] : [0xff, 0xd8, 0xff, 0xe0], 0);
  frame.set([0xff, 0xd9], n - 2);
  return frame;
}

function pixelData(spec: InstanceSpec, bitsAllocated: number, samples: number): WriteElement | undefined {
  const frames = spec.numberOfFrames ?? 1;
  const native = (spec.rows ?? 64) * (spec.columns ?? 64) * samples * (bitsAllocated / 8) * frames;
  const size = spec.pixelBytes ?? native;
  if (size === 0) return undefined;
  const ts = spec.transferSyntaxUid ?? TransferSyntax.ExplicitVrLittleEndian;
  if (!encodingOf(ts).encapsulated) {
    return { tag: 0x7fe00010, vr: bitsAllocated > 8 ? 'OW' : 'OB', value: Buffer.alloc(size + (size % 2), Buffer.from([0x12, 0x34, 0x56, 0x78])) };
  }
  const perFrame = Math.ceil(size / frames);
  const fragments = Array.from({ length: frames }, () => fakeFrame(ts, perFrame));
  const offsets = fragments.map((_, i) => fragments.slice(0, i).reduce((sum, f) => sum + 8 + f.length, 0));
  const value: WriteFragments = { fragments, offsets };
  return { tag: 0x7fe00010, vr: 'OB', value };
}

/** The data set elements of an instance. */
export function instanceElements(input: InstanceSpec = {}): WriteElement[] {
  const spec = instanceSpec(input);
  const preset = presetOf(spec.modality);
  const bits = spec.bitsAllocated ?? preset.bitsAllocated ?? 16;
  const samples = spec.samplesPerPixel ?? preset.samplesPerPixel ?? 1;
  const elements: WriteElement[] = [
    { tag: 0x00080016, vr: 'UI', value: spec.sopClassUid },
    { tag: 0x00080018, vr: 'UI', value: spec.sopInstanceUid },
    { tag: 0x00080020, vr: 'DA', value: spec.studyDate ?? '20240315' },
    { tag: 0x00080030, vr: 'TM', value: spec.studyTime ?? '093000' },
    { tag: 0x00080050, vr: 'SH', value: spec.accessionNumber ?? 'A20240315001' },
    { tag: 0x00080060, vr: 'CS', value: spec.modality },
    { tag: 0x00080070, vr: 'LO', value: 'Test Manufacturer' },
    text(0x00080080, 'LO', spec.institutionName ?? 'Test Hospital'),
    text(0x00080090, 'PN', spec.referringPhysicianName),
    text(0x00081030, 'LO', spec.studyDescription ?? `${spec.modality} study`),
    text(0x0008103e, 'LO', spec.seriesDescription ?? `${spec.modality} series`),
    text(0x00100010, 'PN', spec.patientName ?? 'Test^Patient'),
    { tag: 0x00100020, vr: 'LO', value: spec.patientId ?? 'P0001' },
    { tag: 0x00100030, vr: 'DA', value: spec.patientBirthDate ?? '19700101' },
    { tag: 0x00100040, vr: 'CS', value: spec.patientSex ?? 'O' },
    { tag: 0x0020000d, vr: 'UI', value: spec.studyInstanceUid },
    { tag: 0x0020000e, vr: 'UI', value: spec.seriesInstanceUid },
    { tag: 0x00200010, vr: 'SH', value: '1' },
    { tag: 0x00200011, vr: 'IS', value: spec.seriesNumber ?? 1 },
    { tag: 0x00200013, vr: 'IS', value: spec.instanceNumber ?? 1 },
  ];
  if (spec.charset !== undefined) elements.push({ tag: 0x00080005, vr: 'CS', value: spec.charset.split('\\') });
  if (spec.issuerOfPatientId !== undefined) elements.push({ tag: 0x00100021, vr: 'LO', value: spec.issuerOfPatientId });
  const bodyPart = spec.bodyPartExamined ?? preset.bodyPart;
  if (bodyPart !== undefined) elements.push({ tag: 0x00180015, vr: 'CS', value: bodyPart });
  elements.push(...(preset.elements?.(spec) ?? []));
  if (preset.image) {
    elements.push(
      { tag: 0x00280002, vr: 'US', value: samples },
      CS(0x00280004, samples === 3 ? 'RGB' : 'MONOCHROME2'),
      { tag: 0x00280010, vr: 'US', value: spec.rows ?? 64 },
      { tag: 0x00280011, vr: 'US', value: spec.columns ?? 64 },
      { tag: 0x00280100, vr: 'US', value: bits },
      { tag: 0x00280101, vr: 'US', value: bits === 16 ? 12 : bits },
      { tag: 0x00280102, vr: 'US', value: (bits === 16 ? 12 : bits) - 1 },
      { tag: 0x00280103, vr: 'US', value: 0 },
    );
    if (samples === 3) elements.push({ tag: 0x00280006, vr: 'US', value: 0 });
    if (spec.numberOfFrames !== undefined) elements.push({ tag: 0x00280008, vr: 'IS', value: spec.numberOfFrames });
    const pixels = pixelData(spec, bits, samples);
    if (pixels) elements.push(pixels);
  }
  elements.push(...(spec.extra ?? []));
  const omit = new Set(spec.omit ?? []);
  return elements.filter((el) => !omit.has(el.tag));
}

/** The data set alone, encoded in the spec's transfer syntax (deflated if that says so). */
export function buildDataSet(input: InstanceSpec = {}): Buffer {
  const spec = instanceSpec(input);
  return encodeDataSetIn(instanceElements(spec), spec.transferSyntaxUid, spec.charset);
}

/** A Part-10 file of the instance. */
export function buildInstance(input: InstanceSpec = {}): Buffer {
  const spec = instanceSpec(input);
  return toPart10(buildDataSet(spec), {
    sopClassUid: spec.sopClassUid,
    sopInstanceUid: spec.sopInstanceUid,
    transferSyntaxUid: spec.transferSyntaxUid,
    sourceApplicationEntityTitle: 'TESTSCU',
    ...spec.meta,
  });
}
