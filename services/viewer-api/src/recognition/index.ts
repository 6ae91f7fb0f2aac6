export { allianceByCode, allianceMemberships, listAlliances, putAlliance, type Alliance } from './alliances';
export { catalogItemByCode, catalogItemDetail, catalogItemOn, catalogOn, matchesOf, type CatalogEntry, type CatalogItemDetail, type CatalogMatches, type ItemKind } from './catalog';
export { listLocalCodes, mapLocalCodes, reviseCatalogItem, type CatalogChange, type LocalCodeMapping } from './catalog-edit';
export {
  auditOfAuthorization,
  authorizationFor,
  consentMethods,
  consentPurposes,
  listConsents,
  patientAt,
  personGroup,
  recordConsent,
  revokeConsent,
  type Authorization,
  type AuthorizationRefusal,
  type Consent,
  type ConsentMethod,
  type ConsentPurpose,
  type NewConsent,
} from './consents';
export { addDays, daysBetween, isCalendarDate, localDate, startOfDay } from './dates';
export {
  getQualification,
  grantQualification,
  listQualifications,
  qualificationBases,
  qualificationFor,
  withdrawQualification,
  type NewQualification,
  type Qualification,
  type QualificationAnswer,
  type QualificationRefusal,
} from './qualifications';
export { defaultRegion, organizationAt, placementOf, placeOrganization, regionByCode, type Placement, type Region } from './regions';
export { createRecognitionRouter, type RecognitionRouterDeps } from './router';
export { createOrderTimeRecognition, type OrderTime, type OrderTimeDeps } from './at-order';
export { checkSchema, type CheckRequest } from './check-input';
export { createCheckRouter } from './check-router';
export { declineReasons, decisionSchema, recordDecision, type Decision, type DecisionRequest, type DeclineReason } from './decisions';
export { priorResultsOperation, priorResultsParameters, RECOGNITION_ITEM_SYSTEM, REFERENCE_REASON_SYSTEM } from './fhir-operation';
export { createPriorResultCheck, type CheckAnswer, type OfferedResult, type PriorResultCheck } from './prior-results';
