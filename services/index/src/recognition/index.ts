export { isLoincSystem, isWellFormedLoinc, loincCheckDigit, LOINC_SYSTEM } from './loinc';
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
