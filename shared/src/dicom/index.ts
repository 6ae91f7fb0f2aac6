/**
 * DICOM: the header codec the doors use to accept instances (C-STORE, STOW-RS, file import),
 * text in the character sets Chinese hospitals send, and the DICOM JSON model for DICOMweb.
 * Test instances: `@hub/shared/dicom/testing`.
 */
export { parseDataSet, parseInstanceHeader, instanceHeaderOf, type CodedEntry, type InstanceHeader, type OtherPatientId } from './parse';
export { readDataSet, readPart10, MAX_SEQUENCE_DEPTH, type ParsedDicom, type PixelDataLocation, type ReadOptions } from './read';
export type { HeaderWarning } from './values';
export { toDicomJson, type BulkDataReference, type DicomJson, type DicomJsonAttribute, type DicomJsonOptions, type DicomJsonValue } from './json';
export {
  CharacterSet,
  characterSet,
  decodeText,
  decodeTextChecked,
  encodeText,
  normalizeTerm,
  undeclaredCharsetGuess,
  type DecodedText,
} from './charset';
export {
  formatPersonName,
  parsePersonName,
  personNameComponents,
  personNameToJson,
  type PersonName,
  type PersonNameComponents,
  type PersonNameJson,
} from './person-name';
export { generateUid, HUB_IMPLEMENTATION_CLASS_UID, HUB_IMPLEMENTATION_VERSION_NAME, isValidUid, uidProblem } from './uid';
export { SopClass, STORAGE_SOP_CLASSES, storageSopClass, type StorageSopClass } from './sop-classes';
export {
  ACCEPTED_TRANSFER_SYNTAXES,
  encodingOf,
  isAcceptedTransferSyntax,
  TransferSyntax,
  transferSyntaxInfo,
  type TransferSyntaxInfo,
} from './transfer-syntax';
export { encodeDataSet, encodeDataSetIn, encodeFileMeta, toPart10, type DataSetEncoding, type FileMeta, type WriteElement, type WriteItem } from './writer';
export { formatTag } from './dictionary';
