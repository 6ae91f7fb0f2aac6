/** Storage SOP classes (PS3.4 B.5) the hub knows, with the Modality (0008,0060) they carry. */
export interface StorageSopClass {
  uid: string;
  name: string;
  /** The modality such instances usually carry (SC may carry any). */
  modality: string;
  retired?: boolean;
}

const ROOT = '1.2.840.10008.5.1.4.1.1';
const c = (suffix: string, name: string, modality: string, retired?: true): StorageSopClass =>
  retired ? { uid: `${ROOT}.${suffix}`, name, modality, retired } : { uid: `${ROOT}.${suffix}`, name, modality };

export const STORAGE_SOP_CLASSES: readonly StorageSopClass[] = [
  c('1', 'Computed Radiography Image Storage', 'CR'),
  c('1.1', 'Digital X-Ray Image Storage - For Presentation', 'DX'),
  c('1.1.1', 'Digital X-Ray Image Storage - For Processing', 'DX'),
  c('1.2', 'Digital Mammography X-Ray Image Storage - For Presentation', 'MG'),
  c('1.2.1', 'Digital Mammography X-Ray Image Storage - For Processing', 'MG'),
  c('1.3', 'Digital Intra-Oral X-Ray Image Storage - For Presentation', 'IO'),
  c('1.3.1', 'Digital Intra-Oral X-Ray Image Storage - For Processing', 'IO'),
  c('2', 'CT Image Storage', 'CT'),
  c('2.1', 'Enhanced CT Image Storage', 'CT'),
  c('2.2', 'Legacy Converted Enhanced CT Image Storage', 'CT'),
  c('3', 'Ultrasound Multi-frame Image Storage (Retired)', 'US', true),
  c('3.1', 'Ultrasound Multi-frame Image Storage', 'US'),
  c('4', 'MR Image Storage', 'MR'),
  c('4.1', 'Enhanced MR Image Storage', 'MR'),
  c('4.2', 'MR Spectroscopy Storage', 'MR'),
  c('4.3', 'Enhanced MR Color Image Storage', 'MR'),
  c('4.4', 'Legacy Converted Enhanced MR Image Storage', 'MR'),
  c('5', 'Nuclear Medicine Image Storage (Retired)', 'NM', true),
  c('6', 'Ultrasound Image Storage (Retired)', 'US', true),
  c('6.1', 'Ultrasound Image Storage', 'US'),
  c('6.2', 'Enhanced US Volume Storage', 'US'),
  c('7', 'Secondary Capture Image Storage', 'OT'),
  c('7.1', 'Multi-frame Single Bit Secondary Capture Image Storage', 'OT'),
  c('7.2', 'Multi-frame Grayscale Byte Secondary Capture Image Storage', 'OT'),
  c('7.3', 'Multi-frame Grayscale Word Secondary Capture Image Storage', 'OT'),
  c('7.4', 'Multi-frame True Color Secondary Capture Image Storage', 'OT'),
  c('9.1.1', '12-lead ECG Waveform Storage', 'ECG'),
  c('9.1.2', 'General ECG Waveform Storage', 'ECG'),
  c('11.1', 'Grayscale Softcopy Presentation State Storage', 'PR'),
  c('11.2', 'Color Softcopy Presentation State Storage', 'PR'),
  c('12.1', 'X-Ray Angiographic Image Storage', 'XA'),
  c('12.1.1', 'Enhanced XA Image Storage', 'XA'),
  c('12.2', 'X-Ray Radiofluoroscopic Image Storage', 'RF'),
  c('12.2.1', 'Enhanced XRF Image Storage', 'RF'),
  c('13.1.1', 'X-Ray 3D Angiographic Image Storage', 'XA'),
  c('13.1.3', 'Breast Tomosynthesis Image Storage', 'MG'),
  c('20', 'Nuclear Medicine Image Storage', 'NM'),
  c('66.4', 'Segmentation Storage', 'SEG'),
  c('77.1.1', 'VL Endoscopic Image Storage', 'ES'),
  c('77.1.1.1', 'Video Endoscopic Image Storage', 'ES'),
  c('77.1.2', 'VL Microscopic Image Storage', 'GM'),
  c('77.1.3', 'VL Slide-Coordinates Microscopic Image Storage', 'SM'),
  c('77.1.4', 'VL Photographic Image Storage', 'XC'),
  c('77.1.4.1', 'Video Photographic Image Storage', 'XC'),
  c('77.1.5.1', 'Ophthalmic Photography 8 Bit Image Storage', 'OP'),
  c('77.1.5.4', 'Ophthalmic Tomography Image Storage', 'OPT'),
  c('77.1.6', 'VL Whole Slide Microscopy Image Storage', 'SM'),
  c('88.11', 'Basic Text SR Storage', 'SR'),
  c('88.22', 'Enhanced SR Storage', 'SR'),
  c('88.33', 'Comprehensive SR Storage', 'SR'),
  c('88.34', 'Comprehensive 3D SR Storage', 'SR'),
  c('88.50', 'Mammography CAD SR Storage', 'SR'),
  c('88.59', 'Key Object Selection Document Storage', 'KO'),
  c('88.67', 'X-Ray Radiation Dose SR Storage', 'SR'),
  c('104.1', 'Encapsulated PDF Storage', 'DOC'),
  c('104.2', 'Encapsulated CDA Storage', 'DOC'),
  c('128', 'Positron Emission Tomography Image Storage', 'PT'),
  c('128.1', 'Legacy Converted Enhanced PET Image Storage', 'PT'),
  c('130', 'Enhanced PET Image Storage', 'PT'),
  c('481.1', 'RT Image Storage', 'RTIMAGE'),
  c('481.2', 'RT Dose Storage', 'RTDOSE'),
  c('481.3', 'RT Structure Set Storage', 'RTSTRUCT'),
  c('481.4', 'RT Beams Treatment Record Storage', 'RTRECORD'),
  c('481.5', 'RT Plan Storage', 'RTPLAN'),
  c('481.8', 'RT Ion Plan Storage', 'RTPLAN'),
];

/** The UIDs of the most used classes, by name. */
export const SopClass = {
  ComputedRadiography: `${ROOT}.1`,
  DigitalXRayForPresentation: `${ROOT}.1.1`,
  DigitalXRayForProcessing: `${ROOT}.1.1.1`,
  DigitalMammographyForPresentation: `${ROOT}.1.2`,
  CtImage: `${ROOT}.2`,
  EnhancedCtImage: `${ROOT}.2.1`,
  UltrasoundMultiFrameImage: `${ROOT}.3.1`,
  MrImage: `${ROOT}.4`,
  EnhancedMrImage: `${ROOT}.4.1`,
  UltrasoundImage: `${ROOT}.6.1`,
  SecondaryCaptureImage: `${ROOT}.7`,
  MultiFrameTrueColorSecondaryCapture: `${ROOT}.7.4`,
  GrayscaleSoftcopyPresentationState: `${ROOT}.11.1`,
  XRayAngiographicImage: `${ROOT}.12.1`,
  XRayRadiofluoroscopicImage: `${ROOT}.12.2`,
  NuclearMedicineImage: `${ROOT}.20`,
  VlPhotographicImage: `${ROOT}.77.1.4`,
  BasicTextSr: `${ROOT}.88.11`,
  EnhancedSr: `${ROOT}.88.22`,
  ComprehensiveSr: `${ROOT}.88.33`,
  KeyObjectSelectionDocument: `${ROOT}.88.59`,
  EncapsulatedPdf: `${ROOT}.104.1`,
  PositronEmissionTomographyImage: `${ROOT}.128`,
  RtImage: `${ROOT}.481.1`,
  RtDose: `${ROOT}.481.2`,
  RtStructureSet: `${ROOT}.481.3`,
  RtPlan: `${ROOT}.481.5`,
} as const;

const BY_UID = new Map(STORAGE_SOP_CLASSES.map((s) => [s.uid, s]));
export const storageSopClass = (uid: string): StorageSopClass | undefined => BY_UID.get(uid);
