import { badInput } from '../errors';
import { formatTag } from './dictionary';
import type { PersonName } from './person-name';
import { readDataSet, readPart10, type ParsedDicom, type PixelDataLocation, type ReadOptions } from './read';
import { uidProblem } from './uid';
import { ElementReader, type HeaderWarning } from './values';

/** A code (PS3.3 8.8 Code Sequence Macro): value, scheme, meaning. */
export interface CodedEntry {
  /** Code Value, or Long Code Value / URN Code Value when that is what the item has. */
  codeValue: string;
  codingSchemeDesignator?: string;
  codingSchemeVersion?: string;
  codeMeaning?: string;
}

/** One identifier of the patient from another issuer (Other Patient IDs Sequence). */
export interface OtherPatientId {
  patientId: string;
  issuerOfPatientId?: string;
  /** TEXT, RFID, BARCODE, … */
  typeOfPatientId?: string;
}

/** What the hub indexes from one instance, read from its header (text decoded to Unicode). */
export interface InstanceHeader {
  sopClassUid: string;
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  transferSyntaxUid: string;
  /** The values of Specific Character Set (0008,0005) as declared; empty when absent. */
  specificCharacterSet: string[];
  /** Set when text was not ASCII and no character set was declared: what it was decoded as. */
  assumedCharacterSet?: 'ISO_IR 192' | 'GB18030';

  patientId?: string;
  issuerOfPatientId?: string;
  /** From Other Patient IDs Sequence (0010,1002), then the retired Other Patient IDs (0010,1000). */
  otherPatientIds: OtherPatientId[];
  patientName?: PersonName;
  /** DA as sent: YYYYMMDD. */
  patientBirthDate?: string;
  patientSex?: string;

  studyDate?: string;
  studyTime?: string;
  studyId?: string;
  accessionNumber?: string;
  studyDescription?: string;
  referringPhysicianName?: PersonName;
  requestedProcedureDescription?: string;
  /** Procedure Code Sequence (0008,1032). */
  procedureCodes: CodedEntry[];
  /** Requested Procedure Code Sequence (0032,1064), top level and in Request Attributes Sequence. */
  requestedProcedureCodes: CodedEntry[];

  modality?: string;
  seriesNumber?: number;
  seriesDate?: string;
  seriesTime?: string;
  seriesDescription?: string;
  bodyPartExamined?: string;
  laterality?: string;
  protocolName?: string;

  instanceNumber?: number;
  contentDate?: string;
  contentTime?: string;
  institutionName?: string;
  institutionalDepartmentName?: string;
  stationName?: string;
  manufacturer?: string;
  manufacturerModelName?: string;

  numberOfFrames?: number;
  rows?: number;
  columns?: number;
  samplesPerPixel?: number;
  photometricInterpretation?: string;
  bitsAllocated?: number;
  bitsStored?: number;
  pixelRepresentation?: number;
  pixelData?: PixelDataLocation;

  /** From the file meta information of a Part-10 file. */
  sourceApplicationEntityTitle?: string;
  implementationClassUid?: string;
  implementationVersionName?: string;

  warnings: HeaderWarning[];
}

/** Parses the header of a Part-10 file (STOW-RS part, file import); see readPart10 for errors. */
export function parseInstanceHeader(bytes: Uint8Array, options?: ReadOptions): InstanceHeader {
  return instanceHeaderOf(readPart10(bytes, options));
}

/** Parses the header of a data set as C-STORE carries it, in the negotiated transfer syntax. */
export function parseDataSet(bytes: Uint8Array, transferSyntaxUid: string, options?: ReadOptions): InstanceHeader {
  return instanceHeaderOf(readDataSet(bytes, transferSyntaxUid, options));
}

const T = {
  SpecificCharacterSet: 0x00080005,
  SopClassUid: 0x00080016,
  SopInstanceUid: 0x00080018,
  StudyDate: 0x00080020,
  SeriesDate: 0x00080021,
  ContentDate: 0x00080023,
  StudyTime: 0x00080030,
  SeriesTime: 0x00080031,
  ContentTime: 0x00080033,
  AccessionNumber: 0x00080050,
  Modality: 0x00080060,
  Manufacturer: 0x00080070,
  InstitutionName: 0x00080080,
  ReferringPhysicianName: 0x00080090,
  CodeValue: 0x00080100,
  CodingSchemeDesignator: 0x00080102,
  CodingSchemeVersion: 0x00080103,
  CodeMeaning: 0x00080104,
  LongCodeValue: 0x00080119,
  UrnCodeValue: 0x00080120,
  StationName: 0x00081010,
  StudyDescription: 0x00081030,
  ProcedureCodeSequence: 0x00081032,
  SeriesDescription: 0x0008103e,
  InstitutionalDepartmentName: 0x00081040,
  ManufacturerModelName: 0x00081090,
  PatientName: 0x00100010,
  PatientId: 0x00100020,
  IssuerOfPatientId: 0x00100021,
  TypeOfPatientId: 0x00100022,
  PatientBirthDate: 0x00100030,
  PatientSex: 0x00100040,
  OtherPatientIds: 0x00101000,
  OtherPatientIdsSequence: 0x00101002,
  BodyPartExamined: 0x00180015,
  ProtocolName: 0x00181030,
  StudyInstanceUid: 0x0020000d,
  SeriesInstanceUid: 0x0020000e,
  StudyId: 0x00200010,
  SeriesNumber: 0x00200011,
  InstanceNumber: 0x00200013,
  Laterality: 0x00200060,
  SamplesPerPixel: 0x00280002,
  PhotometricInterpretation: 0x00280004,
  NumberOfFrames: 0x00280008,
  Rows: 0x00280010,
  Columns: 0x00280011,
  BitsAllocated: 0x00280100,
  BitsStored: 0x00280101,
  PixelRepresentation: 0x00280103,
  RequestedProcedureDescription: 0x00321060,
  RequestedProcedureCodeSequence: 0x00321064,
  RequestAttributesSequence: 0x00400275,
} as const;

const REQUIRED_UIDS = [
  [T.SopClassUid, 'SOP Class UID', 'sop-class-uid'],
  [T.SopInstanceUid, 'SOP Instance UID', 'sop-instance-uid'],
  [T.StudyInstanceUid, 'Study Instance UID', 'study-instance-uid'],
  [T.SeriesInstanceUid, 'Series Instance UID', 'series-instance-uid'],
] as const;

/** One required UID: present, one value, syntactically valid; otherwise BadInput. */
function requiredUid(reader: ElementReader, tag: number, name: string, code: string): string {
  const location = `${formatTag(tag)} ${name}`;
  const raw = reader.text(tag, 'UI')?.replace(/^[\0 ]+|[\0 ]+$/g, '');
  if (raw === undefined || raw === '') {
    throw badInput(`${name} ${formatTag(tag)} is ${reader.element(tag) ? 'empty' : 'missing'}`, { location, code: `missing-${code}` });
  }
  const problem = uidProblem(raw);
  if (problem) {
    throw badInput(`${name} ${formatTag(tag)} "${raw.slice(0, 80)}" is not a valid UID: ${problem}`, { location, code: `invalid-${code}` });
  }
  return raw;
}

/** The file meta must name the same instance as the data set (PS3.10 7.1). */
function checkFileMeta(parsed: ParsedDicom, sopClassUid: string, sopInstanceUid: string, header: Partial<InstanceHeader>, warnings: HeaderWarning[]): void {
  if (!parsed.fileMeta) return;
  const meta = new ElementReader(parsed.fileMeta, parsed.charset, { explicitVr: true, littleEndian: true }, warnings);
  const pairs = [
    [0x00020002, 'Media Storage SOP Class UID', sopClassUid, 'SOP Class UID (0008,0016)', 'sop-class-uid-mismatch'],
    [0x00020003, 'Media Storage SOP Instance UID', sopInstanceUid, 'SOP Instance UID (0008,0018)', 'sop-instance-uid-mismatch'],
  ] as const;
  for (const [tag, name, expected, other, code] of pairs) {
    const value = meta.text(tag, 'UI')?.replace(/^[\0 ]+|[\0 ]+$/g, '');
    if (value === undefined || value === '') {
      warnings.push({ code: 'incomplete-file-meta', message: `the file meta information has no ${name}`, location: `${formatTag(tag)} ${name}` });
    } else if (value !== expected) {
      throw badInput(`${name} ${formatTag(tag)} "${value.slice(0, 80)}" in the file meta information differs from the data set's ${other} "${expected}"`, {
        location: `${formatTag(tag)} ${name}`,
        code,
      });
    }
  }
  header.sourceApplicationEntityTitle = meta.string(0x00020016, 'AE');
  header.implementationClassUid = meta.text(0x00020012, 'UI')?.replace(/^[\0 ]+|[\0 ]+$/g, '');
  header.implementationVersionName = meta.string(0x00020013, 'SH');
}

function codes(items: ElementReader[]): CodedEntry[] {
  const out: CodedEntry[] = [];
  for (const item of items) {
    const codeValue = item.string(T.CodeValue, 'SH') ?? item.string(T.LongCodeValue, 'UC') ?? item.string(T.UrnCodeValue, 'UR');
    if (codeValue === undefined) continue;
    out.push(
      dropUndefined({
        codeValue,
        codingSchemeDesignator: item.string(T.CodingSchemeDesignator, 'SH'),
        codingSchemeVersion: item.string(T.CodingSchemeVersion, 'SH'),
        codeMeaning: item.string(T.CodeMeaning, 'LO'),
      }),
    );
  }
  return out;
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Extracts and validates the header fields of a read data set. */
export function instanceHeaderOf(parsed: ParsedDicom): InstanceHeader {
  const warnings = [...parsed.warnings];
  const r = new ElementReader(parsed.dataSet, parsed.charset, parsed, warnings);
  const [sopClassUid, sopInstanceUid, studyInstanceUid, seriesInstanceUid] = REQUIRED_UIDS.map(([tag, name, code]) => requiredUid(r, tag, name, code)) as [
    string,
    string,
    string,
    string,
  ];
  const fromMeta: Partial<InstanceHeader> = {};
  checkFileMeta(parsed, sopClassUid, sopInstanceUid, fromMeta, warnings);

  const otherPatientIds: OtherPatientId[] = [];
  for (const item of r.items(T.OtherPatientIdsSequence)) {
    const patientId = item.string(T.PatientId, 'LO');
    if (patientId === undefined) continue;
    otherPatientIds.push(
      dropUndefined({ patientId, issuerOfPatientId: item.string(T.IssuerOfPatientId, 'LO'), typeOfPatientId: item.string(T.TypeOfPatientId, 'CS') }),
    );
  }
  for (const patientId of r.strings(T.OtherPatientIds, 'LO')) if (patientId !== '') otherPatientIds.push({ patientId });

  const requests = r.items(T.RequestAttributesSequence);
  const requestedProcedureCodes: CodedEntry[] = [];
  for (const code of [r, ...requests].flatMap((x) => codes(x.items(T.RequestedProcedureCodeSequence)))) {
    const seen = requestedProcedureCodes.some((c) => c.codeValue === code.codeValue && c.codingSchemeDesignator === code.codingSchemeDesignator);
    if (!seen) requestedProcedureCodes.push(code);
  }

  return dropUndefined({
    sopClassUid,
    sopInstanceUid,
    studyInstanceUid,
    seriesInstanceUid,
    transferSyntaxUid: parsed.transferSyntaxUid,
    specificCharacterSet: [...parsed.charset.terms],
    assumedCharacterSet: parsed.charset.assumed,
    patientId: r.string(T.PatientId, 'LO'),
    issuerOfPatientId: r.string(T.IssuerOfPatientId, 'LO'),
    otherPatientIds,
    patientName: r.personNames(T.PatientName)[0],
    patientBirthDate: r.string(T.PatientBirthDate, 'DA'),
    patientSex: r.string(T.PatientSex, 'CS'),
    studyDate: r.string(T.StudyDate, 'DA'),
    studyTime: r.string(T.StudyTime, 'TM'),
    studyId: r.string(T.StudyId, 'SH'),
    accessionNumber: r.string(T.AccessionNumber, 'SH'),
    studyDescription: r.string(T.StudyDescription, 'LO'),
    referringPhysicianName: r.personNames(T.ReferringPhysicianName)[0],
    requestedProcedureDescription: [r, ...requests].map((x) => x.string(T.RequestedProcedureDescription, 'LO')).find((d) => d !== undefined),
    procedureCodes: codes(r.items(T.ProcedureCodeSequence)),
    requestedProcedureCodes,
    modality: r.string(T.Modality, 'CS'),
    seriesNumber: r.integer(T.SeriesNumber),
    seriesDate: r.string(T.SeriesDate, 'DA'),
    seriesTime: r.string(T.SeriesTime, 'TM'),
    seriesDescription: r.string(T.SeriesDescription, 'LO'),
    bodyPartExamined: r.string(T.BodyPartExamined, 'CS'),
    laterality: r.string(T.Laterality, 'CS'),
    protocolName: r.string(T.ProtocolName, 'LO'),
    instanceNumber: r.integer(T.InstanceNumber),
    contentDate: r.string(T.ContentDate, 'DA'),
    contentTime: r.string(T.ContentTime, 'TM'),
    institutionName: r.string(T.InstitutionName, 'LO'),
    institutionalDepartmentName: r.string(T.InstitutionalDepartmentName, 'LO'),
    stationName: r.string(T.StationName, 'SH'),
    manufacturer: r.string(T.Manufacturer, 'LO'),
    manufacturerModelName: r.string(T.ManufacturerModelName, 'LO'),
    numberOfFrames: r.integer(T.NumberOfFrames),
    rows: r.uint16(T.Rows),
    columns: r.uint16(T.Columns),
    samplesPerPixel: r.uint16(T.SamplesPerPixel),
    photometricInterpretation: r.string(T.PhotometricInterpretation, 'CS'),
    bitsAllocated: r.uint16(T.BitsAllocated),
    bitsStored: r.uint16(T.BitsStored),
    pixelRepresentation: r.uint16(T.PixelRepresentation),
    pixelData: parsed.pixelData,
    ...fromMeta,
    warnings,
  }) as InstanceHeader;
}
