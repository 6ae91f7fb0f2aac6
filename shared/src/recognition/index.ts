/** The rules of mutual recognition (pure), the calendar days they count in, and the facts they read. */
export { addDays, daysBetween, isCalendarDate, isTimeZone, localDate, startOfDay } from './dates';
export {
  authorizationAmong,
  consentPurposes,
  consentStatusAt,
  priorVerdict,
  qualificationAmong,
  versionOn,
  windowOn,
  type Asker,
  type Authorization,
  type AuthorizationQuery,
  type AuthorizationRefusal,
  type ConsentFact,
  type ConsentPurpose,
  type ConsentStatus,
  type ItemVersion,
  type PriorVerdict,
  type QualificationFact,
  type QualificationRefusal,
  type QualificationVerdict,
  type ReferenceReason,
  type ResultStatus,
  type Window,
} from './rules';
export { loadRecognitionFacts, recognitionFactsCache, type CatalogItemFact, type FactsCache, type ItemVersionFact, type OrganizationFact, type RecognitionFacts, type RegionFact } from './facts';
export { PERSON_GROUP_CTES, PERSON_GROUPS_BY_START } from './persons';
export { DECISION_COVERS_DAYS_AFTER, DECISION_COVERS_DAYS_BEFORE, DECISION_COVERS_REPEAT, lockPersonItem } from './cover';
export { isLoincSystem, isWellFormedLoinc, loincCheckDigit, LOINC_SYSTEM } from './codes';
