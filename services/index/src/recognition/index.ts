export { isLoincSystem, isWellFormedLoinc, loincCheckDigit, LOINC_SYSTEM } from '@hub/shared/recognition';
export {
  recognitionItemForImaging,
  recognitionItemForLab,
  recognitionItemsForLab,
  type Coding,
  type ImagingFacts,
  type ItemKind,
  type RecognitionItemRef,
} from './match';
export { SEED_EFFECTIVE_FROM, seedCatalog, seedCatalogItems, type SeedItem, type SeedRegion } from './seed';
export { detectMissedRepeat, DECISION_COVERS_DAYS_AFTER, DECISION_COVERS_DAYS_BEFORE, laterRepeatsOf } from './missed';
export { recordResult, type RecordedResult } from './record';
export { mapLabReport, mapStudy, type MappedResult, type ResultKind } from './results';
export { DAILY_MEASURES, foldDailyDeltas } from './rollup';
export { createRecognitionStage, type RecognitionStage, type RecognitionStageOptions } from './stage';
