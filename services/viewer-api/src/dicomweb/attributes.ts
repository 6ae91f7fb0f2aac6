import { parsePersonName, personNameToJson, type DicomJson, type DicomJsonAttribute } from '@hub/shared/dicom';

/**
 * The attributes QIDO-RS answers with (PS3.18 10.6.3, Tables 10.6.3-3 to -5) and matches on,
 * by keyword and tag, and how each is made from the index rows. `returned` attributes are
 * in every result of their level; `optional` ones only when asked for by includefield.
 */
export type Level = 'study' | 'series' | 'instance';

export interface AttributeDefinition {
  tag: string;
  keyword: string;
  vr: string;
  level: Level;
  optional?: boolean;
  /** The value from a result row (columns of studies st, patients p, series se, instances i). */
  value(row: Row, urls: ResultUrls): DicomJsonAttribute['Value'] | undefined;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Row = Record<string, any>;

export interface ResultUrls {
  study: string;
  series?: string;
  instance?: string;
}

const da = (iso: string | null | undefined) => (iso ? [iso.replace(/-/g, '')] : undefined);
const str = (v: unknown) => (v === null || v === undefined || v === '' ? undefined : [String(v)]);
const num = (v: unknown) => (v === null || v === undefined ? undefined : [Number(v)]);
const pn = (text: string | null | undefined) => {
  const name = text ? parsePersonName(text) : undefined;
  return name ? [personNameToJson(name)] : undefined;
};
const patientName = (row: Row) => {
  const json: Record<string, string> = {};
  if (row.name_alphabetic) json.Alphabetic = row.name_alphabetic;
  if (row.name_ideographic) json.Ideographic = row.name_ideographic;
  if (row.name_phonetic) json.Phonetic = row.name_phonetic;
  return Object.keys(json).length > 0 ? [json] : undefined;
};

const A = (tag: string, keyword: string, vr: string, level: Level, value: AttributeDefinition['value'], optional = false): AttributeDefinition => ({ tag, keyword, vr, level, value, optional });

export const ATTRIBUTES: readonly AttributeDefinition[] = [
  A('00080005', 'SpecificCharacterSet', 'CS', 'study', () => ['ISO_IR 192']),
  A('00080020', 'StudyDate', 'DA', 'study', (r) => da(r.study_date)),
  A('00080030', 'StudyTime', 'TM', 'study', (r) => str(r.study_time)),
  A('00080050', 'AccessionNumber', 'SH', 'study', (r) => str(r.accession_number)),
  A('00080056', 'InstanceAvailability', 'CS', 'study', () => ['ONLINE']),
  A('00080061', 'ModalitiesInStudy', 'CS', 'study', (r) => (r.modalities?.length ? r.modalities : undefined)),
  A('00080090', 'ReferringPhysicianName', 'PN', 'study', (r) => pn(r.referring_physician)),
  A('00081030', 'StudyDescription', 'LO', 'study', (r) => str(r.study_description), true),
  A('00081190', 'RetrieveURL', 'UR', 'study', (_r, u) => [u.study]),
  A('00100010', 'PatientName', 'PN', 'study', patientName),
  A('00100020', 'PatientID', 'LO', 'study', (r) => str(r.local_id)),
  A('00100030', 'PatientBirthDate', 'DA', 'study', (r) => da(r.birth_date)),
  A('00100040', 'PatientSex', 'CS', 'study', (r) => str(r.sex)),
  A('0020000D', 'StudyInstanceUID', 'UI', 'study', (r) => [r.study_uid]),
  A('00200010', 'StudyID', 'SH', 'study', (r) => str(r.study_id)),
  A('00201206', 'NumberOfStudyRelatedSeries', 'IS', 'study', (r) => num(r.series_count)),
  A('00201208', 'NumberOfStudyRelatedInstances', 'IS', 'study', (r) => num(r.study_instance_count)),

  A('00080060', 'Modality', 'CS', 'series', (r) => str(r.modality)),
  A('0008103E', 'SeriesDescription', 'LO', 'series', (r) => str(r.series_description)),
  A('00081190', 'RetrieveURL', 'UR', 'series', (_r, u) => [u.series!]),
  A('00180015', 'BodyPartExamined', 'CS', 'series', (r) => str(r.body_part), true),
  A('0020000E', 'SeriesInstanceUID', 'UI', 'series', (r) => [r.series_uid]),
  A('00200011', 'SeriesNumber', 'IS', 'series', (r) => num(r.series_number)),
  A('00201209', 'NumberOfSeriesRelatedInstances', 'IS', 'series', (r) => num(r.series_instance_count)),

  A('00080016', 'SOPClassUID', 'UI', 'instance', (r) => [r.sop_class_uid]),
  A('00080018', 'SOPInstanceUID', 'UI', 'instance', (r) => [r.sop_instance_uid]),
  A('00080056', 'InstanceAvailability', 'CS', 'instance', () => ['ONLINE']),
  A('00081190', 'RetrieveURL', 'UR', 'instance', (_r, u) => [u.instance!]),
  A('00083002', 'AvailableTransferSyntaxUID', 'UI', 'instance', (r) => [r.transfer_syntax_uid]),
  A('00200013', 'InstanceNumber', 'IS', 'instance', (r) => num(r.instance_number)),
  A('00280002', 'SamplesPerPixel', 'US', 'instance', (r) => num(r.samples_per_pixel), true),
  A('00280008', 'NumberOfFrames', 'IS', 'instance', (r) => num(r.number_of_frames)),
  A('00280010', 'Rows', 'US', 'instance', (r) => num(r.rows)),
  A('00280011', 'Columns', 'US', 'instance', (r) => num(r.columns)),
  A('00280100', 'BitsAllocated', 'US', 'instance', (r) => num(r.bits_allocated)),
];

const byKeyword = new Map(ATTRIBUTES.map((a) => [a.keyword, a.tag]));
// keywords of attributes matched on or asked for that the table above does not return
const otherKeywords: Record<string, string> = { StudyTime: '00080030', InstitutionName: '00080080', SliceThickness: '00180050', SliceLocation: '00201041', ImagePositionPatient: '00200032', ImageOrientationPatient: '00200037', PixelSpacing: '00280030', PhotometricInterpretation: '00280004', WindowCenter: '00281050', WindowWidth: '00281051', FrameOfReferenceUID: '00200052', SeriesDate: '00080021', SeriesTime: '00080031', PerformedProcedureStepStartDate: '00400244', PerformedProcedureStepStartTime: '00400245', Manufacturer: '00080070', ImageType: '00080008', TimezoneOffsetFromUTC: '00080201', IssuerOfPatientID: '00100021' };

/** The tag (GGGGEEEE, upper case) of a keyword or tag as a query names it; undefined if neither. */
export function tagOfKey(key: string): string | undefined {
  if (/^[0-9A-Fa-f]{8}$/.test(key)) return key.toUpperCase();
  return byKeyword.get(key) ?? otherKeywords[key];
}

/** The levels whose attributes a result at `level` carries: its own, and the ones above it unless the path fixes them. */
export function levelsOf(level: Level, scope: { study?: string; series?: string }): Level[] {
  if (level === 'study') return ['study'];
  if (level === 'series') return scope.study ? ['series'] : ['study', 'series'];
  return scope.series ? ['instance'] : scope.study ? ['series', 'instance'] : ['study', 'series', 'instance'];
}

/** One result as DICOM JSON: the returned attributes of its levels, plus those asked for. */
export function resultJson(row: Row, levels: Level[], include: { all: boolean; tags: Set<string> }, urls: ResultUrls): DicomJson {
  const json: DicomJson = {};
  for (const a of ATTRIBUTES) {
    if (!levels.includes(a.level)) continue;
    if (a.optional && !include.all && !include.tags.has(a.tag)) continue;
    const value = a.value(row, urls);
    json[a.tag] = value === undefined ? { vr: a.vr } : { vr: a.vr, Value: value };
  }
  return json;
}

/** Sorts the attributes of a result by tag, as DICOM JSON writers do. */
export function sortedJson(json: DicomJson): DicomJson {
  return Object.fromEntries(Object.entries(json).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
