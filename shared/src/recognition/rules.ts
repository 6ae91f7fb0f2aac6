import { addDays, daysBetween } from './dates';

/**
 * The rules of mutual recognition as pure functions of the facts they need, so the prior-result
 * check (viewer-api, at order time) and the missed-repeat stage (index, when a result arrives)
 * apply the very same rule, each loading the facts its own way.
 */

/** A result as the rules see it: a lab report's or an imaging study's state. */
export type ResultStatus = 'final' | 'preliminary' | 'corrected' | 'withdrawn';

/** A catalog item's version as the rules need it (the one in force on the day asked). */
export interface ItemVersion {
  effectiveFrom: string;
  inCatalog: boolean;
  validityDays: number;
  priceCny: number;
  filmsPerExam: number | null;
}

/** The version in force on a day: the latest effectiveFrom on or before it; undefined before the first. */
export function versionOn<V extends { effectiveFrom: string }>(versions: readonly V[], day: string): V | undefined {
  let found: V | undefined;
  for (const v of versions) if (v.effectiveFrom <= day && (!found || v.effectiveFrom > found.effectiveFrom)) found = v;
  return found;
}

export interface Window {
  /** whole days from the reference day to today */
  ageDays: number;
  /** the last day the result is recognizable: reference day + validity days */
  lastDay: string;
  /** days still left after today (0 on the last day); null once outside */
  daysLeft: number | null;
  /** days past the last day; 0 while inside */
  outsideBy: number;
}

/** Recognizable while today <= reference day + window (calendar days of the region). */
export function windowOn(referenceDay: string, validityDays: number, today: string): Window {
  const lastDay = addDays(referenceDay, validityDays);
  const left = daysBetween(today, lastDay);
  return { ageDays: daysBetween(referenceDay, today), lastDay, daysLeft: left >= 0 ? left : null, outsideBy: left >= 0 ? 0 : -left };
}

/** A quality-control qualification as stored (migration 0006): days inclusive at both ends. */
export interface QualificationFact {
  organizationId: number;
  itemId: number | null;
  category: string | null;
  regionId: number;
  scope: 'region' | 'city' | 'alliance';
  scopeRegionId: number | null;
  scopeCityCode: string | null;
  scopeAllianceId: number | null;
  validFrom: string;
  validUntil: string | null;
  withdrawn: boolean;
}

/** Where the asking organization stands on a day: its region, its city, its alliances. */
export interface Asker {
  organizationId: number;
  regionId: number;
  cityCode: string | null;
  /** whether it is a member of the alliance on the day asked */
  inAlliance(allianceId: number, day: string): boolean;
}

export type QualificationRefusal = 'not-qualified' | 'expired' | 'not-yet-valid' | 'scope-excludes-asker';

export type QualificationVerdict<Q> = { qualified: true; qualification: Q } | { qualified: false; reason: QualificationRefusal; qualification?: Q };

/**
 * Whether the source organization holds, on a day, a qualification for the item (or its
 * category) whose scope covers the asker. When not, the reason the asker can act on: a covering
 * qualification that expired or is not yet valid; one in force whose scope leaves the asker
 * out; or none at all. `facts` are the source organization's qualifications (others ignored).
 */
export function qualificationAmong<Q extends QualificationFact>(
  facts: readonly Q[],
  item: { id: number; category: string; regionId: number },
  asker: Asker,
  day: string,
): QualificationVerdict<Q> {
  const rows = facts.filter((q) => !q.withdrawn && (q.itemId === item.id || (q.itemId === null && q.category === item.category && q.regionId === item.regionId)));
  if (rows.length === 0) return { qualified: false, reason: 'not-qualified' };
  const covers = (q: Q) =>
    q.scope === 'region' ? q.scopeRegionId === asker.regionId : q.scope === 'city' ? q.scopeCityCode === asker.cityCode : asker.inAlliance(q.scopeAllianceId!, day);
  const inForce = (q: Q) => q.validFrom <= day && (q.validUntil === null || q.validUntil >= day);

  const valid = rows.filter((q) => covers(q) && inForce(q));
  if (valid.length > 0) {
    // the one that lasts longest, so "qualified until" shows the best answer
    valid.sort((a, b) => (a.validUntil === null ? -1 : b.validUntil === null ? 1 : b.validUntil.localeCompare(a.validUntil)));
    return { qualified: true, qualification: valid[0]! };
  }
  const covering = rows.filter(covers);
  const expired = covering.filter((q) => q.validUntil !== null && q.validUntil < day).sort((a, b) => b.validUntil!.localeCompare(a.validUntil!));
  if (expired.length > 0) return { qualified: false, reason: 'expired', qualification: expired[0]! };
  const later = covering.filter((q) => q.validFrom > day).sort((a, b) => a.validFrom.localeCompare(b.validFrom));
  if (later.length > 0) return { qualified: false, reason: 'not-yet-valid', qualification: later[0]! };
  return { qualified: false, reason: 'scope-excludes-asker', qualification: rows.find(inForce) ?? rows[0]! };
}

export const consentPurposes = ['treatment', 'emergency-treatment', 'care-management'] as const;
export type ConsentPurpose = (typeof consentPurposes)[number];

/** A patient's consent as stored (migration 0006): in force from validFrom until validUntil (exclusive), unless revoked before. */
export interface ConsentFact {
  id: number;
  scope: 'region' | 'organizations';
  regionId: number | null;
  organizationIds: number[];
  purpose: ConsentPurpose;
  validFrom: Date;
  validUntil: Date | null;
  revokedAt: Date | null;
}

export type ConsentStatus = 'active' | 'pending' | 'expired' | 'revoked';

export function consentStatusAt(c: Pick<ConsentFact, 'validFrom' | 'validUntil' | 'revokedAt'>, at: Date): ConsentStatus {
  if (c.revokedAt && c.revokedAt <= at) return 'revoked';
  if (c.validFrom > at) return 'pending';
  if (c.validUntil && c.validUntil <= at) return 'expired';
  return 'active';
}

export type AuthorizationRefusal =
  | 'no-consent'
  | 'consent-revoked'
  | 'consent-expired'
  | 'consent-not-yet-valid'
  | 'consent-excludes-asker'
  | 'emergency-reason-required'
  | 'not-a-care-provider';

export type Authorization =
  | { allowed: true; basis: 'own-organization' }
  | { allowed: true; basis: 'consent'; consentId: number }
  | { allowed: true; basis: 'emergency'; flagged: true; emergencyReason: string }
  | { allowed: false; reason: AuthorizationRefusal; detail: string };

// A consent for treatment covers an emergency read too (v3 ActReason: ETREAT specializes TREAT).
const purposeCovers = (given: ConsentPurpose, asked: ConsentPurpose) => given === asked || (given === 'treatment' && asked === 'emergency-treatment');

export interface AuthorizationQuery {
  askingOrganizationId: number;
  /** organizations.kind of the asker: the authority is never a reader */
  askerKind: string;
  /** the asker's region, for region-wide consents */
  askerRegionId: number | null;
  resultOrganizationId: number;
  at: Date;
  purpose?: ConsentPurpose;
  emergencyReason?: string;
}

/**
 * May the asking organization read a result of a person held by the result's organization,
 * given the person's consents? Its own results, always. Another organization's: with a consent
 * in force that covers the asker and the purpose; without one, only in an emergency with a
 * stated reason, flagged so the read is audited as such.
 */
export function authorizationAmong(consents: readonly ConsentFact[], query: AuthorizationQuery): Authorization {
  if (query.askingOrganizationId === query.resultOrganizationId) return { allowed: true, basis: 'own-organization' };
  if (query.askerKind === 'authority') return { allowed: false, reason: 'not-a-care-provider', detail: 'only hospitals and imaging centres read patients\' results' };
  const purpose = query.purpose ?? 'treatment';
  const covering = consents.filter(
    (c) => purposeCovers(c.purpose, purpose) && (c.scope === 'region' ? c.regionId === query.askerRegionId : c.organizationIds.includes(query.askingOrganizationId)),
  );
  const active = covering.find((c) => consentStatusAt(c, query.at) === 'active');
  if (active) return { allowed: true, basis: 'consent', consentId: active.id };

  if (query.emergencyReason !== undefined) {
    const reason = query.emergencyReason.trim();
    if (reason) return { allowed: true, basis: 'emergency', flagged: true, emergencyReason: reason };
    return { allowed: false, reason: 'emergency-reason-required', detail: 'an emergency read without the patient\'s consent needs a stated reason' };
  }
  const states = new Set(covering.map((c) => consentStatusAt(c, query.at)));
  if (states.has('revoked')) return { allowed: false, reason: 'consent-revoked', detail: 'the patient revoked the consent that covered this organization' };
  if (states.has('expired')) return { allowed: false, reason: 'consent-expired', detail: 'the patient\'s consent for this organization has expired' };
  if (states.has('pending')) return { allowed: false, reason: 'consent-not-yet-valid', detail: 'the patient\'s consent for this organization is not yet in force' };
  if (consents.some((c) => consentStatusAt(c, query.at) === 'active')) {
    return { allowed: false, reason: 'consent-excludes-asker', detail: 'the patient\'s consent does not cover this organization or purpose' };
  }
  return { allowed: false, reason: 'no-consent', detail: 'the patient has not authorized other organizations to read their results' };
}

/** Why a prior result is shown for reference only. */
export type ReferenceReason = 'outside-window' | 'organization-not-qualified' | 'preliminary' | 'not-in-catalog';

export interface PriorVerdict {
  recognizable: boolean;
  reasons: Array<{ code: ReferenceReason; detail: string }>;
  ageDays: number;
  /** days of the window left after today (also when another reason applies); null when outside it or not in the catalog */
  daysLeft: number | null;
}

/**
 * Whether a prior result may be recognized today: final (a corrected result is final, its
 * correction being the word that stands), inside the window of the item's version in force
 * today, and from an organization qualified for the item whose scope covers the asker — or the
 * asker's own result, which needs no external qualification to be used where it was made.
 * Every reason that applies is given, not only the first.
 */
export function priorVerdict(input: {
  status: ResultStatus;
  referenceDay: string;
  today: string;
  /** the item's version in force today; undefined or out of the catalog: not recognizable */
  version: ItemVersion | undefined;
  qualification: QualificationVerdict<unknown> | 'own-organization';
  describeQualification?: (v: QualificationVerdict<unknown> & { qualified: false }) => string;
}): PriorVerdict {
  const reasons: PriorVerdict['reasons'] = [];
  let daysLeft: number | null = null;
  if (input.status === 'preliminary') reasons.push({ code: 'preliminary', detail: 'the result is preliminary; only a final result is recognized' });
  if (!input.version || !input.version.inCatalog) {
    reasons.push({ code: 'not-in-catalog', detail: 'the item is not in the recognition catalog on this day' });
  } else {
    const w = windowOn(input.referenceDay, input.version.validityDays, input.today);
    daysLeft = w.daysLeft;
    if (w.daysLeft === null) reasons.push({ code: 'outside-window', detail: `outside the ${input.version.validityDays}-day window by ${w.outsideBy} day${w.outsideBy === 1 ? '' : 's'} (last day ${w.lastDay})` });
  }
  const q = input.qualification;
  if (q !== 'own-organization' && !q.qualified) {
    reasons.push({ code: 'organization-not-qualified', detail: input.describeQualification?.(q) ?? `the organization is not qualified for this item (${q.reason})` });
  }
  return { recognizable: reasons.length === 0, reasons, ageDays: daysBetween(input.referenceDay, input.today), daysLeft };
}
