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
