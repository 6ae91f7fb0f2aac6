import type { Knex } from '@hub/shared/db';
import { notFound } from '@hub/shared/errors';
import { nationalIdHash, validateNationalId } from '@hub/shared/identity';
import {
  authorizationAmong,
  localDate,
  priorVerdict,
  qualificationAmong,
  type Authorization,
  type ConsentFact,
  type FactsCache,
  type QualificationVerdict,
  type RecognitionFacts,
  type ResultStatus,
} from '@hub/shared/recognition';
import { orderedItem, requirePlacedAsker, type CheckRequest } from './check-input';
import { createCheckRecorder } from './check-recorder';
import { createPriorReader, type ConsentJson, type FoundRow } from './prior-reader';

export interface Caller {
  organizationId: number;
  clientId?: string;
  requestId?: string;
}

export interface OfferedResult {
  /** the recognition result: what a decision names */
  id: string;
  kind: 'lab' | 'imaging';
  recognizable: boolean;
  reasons: Array<{ code: string; detail: string }>;
  status: ResultStatus;
  correctedAt: string | null;
  referenceTime: string;
  referenceDay: string;
  ageDays: number;
  daysLeft: number | null;
  organization: { code: string; name: string; own: boolean };
  /** lab: the values of this item, which are what is recognized */
  values?: unknown[];
  /** imaging: the study, which is what is recognized */
  study?: { uid: string; accession: string | null; modalities: string[]; bodyParts: string[] };
  /** text a physician wrote (a study's description, a report's title): shown for reference, never part of what is recognized */
  forReference?: Record<string, unknown>;
  /** viewer: the study in the configured OHIF viewer (HUB_VIEWER_URL), absent without one */
  links: { fhir: string; dicomweb?: string; viewer?: string };
}

export interface CheckAnswer {
  check: string;
  askedAt: string;
  day: string;
  item: { code: string; kind: string; name: string | null; nameEn: string | null; validityDays: number | null; priceCny: number | null; inCatalog: boolean };
  authorization: { allowed: true; basis: string; consent?: string; emergency?: boolean } | { allowed: false; reason: string; detail: string };
  recognizable: number;
  results: OfferedResult[];
  /** results held by other organizations and not shown: the patient has not authorized this organization (nothing else is said of them) */
  withheld: number;
}

export interface PriorResultCheckDeps {
  db: Knex;
  facts: FactsCache;
  publicUrl: string;
  /** the OHIF viewer route a study's `links.viewer` opens (?StudyInstanceUIDs=); no viewer link without it */
  viewerUrl?: string;
  idHashSecret: string;
  now?: () => Date;
}

export type PriorResultCheck = (request: CheckRequest, caller: Caller) => Promise<CheckAnswer>;

/**
 * The prior-result check: every result of the ordered item the person has across the region,
 * each recognizable or for reference only with every reason, recorded (what was offered is
 * what a decision may name; createCheckRecorder), audited and counted. Another organization's results are shown
 * only under the patient's consent or a stated emergency; otherwise only their number is said.
 */
export function createPriorResultCheck(deps: PriorResultCheckDeps): PriorResultCheck {
  const { db, publicUrl, viewerUrl } = deps;
  const now = deps.now ?? (() => new Date());
  const record = createCheckRecorder(db);
  const readPriors = createPriorReader(db);
  return async (request, caller) => {
    const facts = await deps.facts.get();
    const { org: askerOrg, asker, region } = requirePlacedAsker(facts, caller.organizationId);
    const item = await orderedItem(db, facts, { organizationId: asker.organizationId, regionId: region.id }, request);
    const askedAt = now();
    const today = localDate(askedAt, region.timeZone);

    const byMrn = 'mrn' in request.patient;
    const patient = 'mrn' in request.patient
      ? { organizationId: caller.organizationId, mrn: request.patient.mrn }
      : { nationalIdHash: nationalIdHash(validateNationalId(request.patient.nationalId, { location: 'patient.nationalId' }), deps.idHashSecret) };
    const found = await readPriors(patient, item.id);
    if (found.person_id === null) throw notFound(byMrn ? 'this organization has no patient with that MRN' : 'no patient in the region has that resident ID number', { location: 'patient', code: 'unknown-patient' });

    const emergencyReason = request.emergencyReason;
    const purpose = emergencyReason !== undefined && request.purpose === 'treatment' ? 'emergency-treatment' : request.purpose;
    const authorization = authorizationAmong(found.consents.map(consentOf), {
      askingOrganizationId: caller.organizationId,
      askerKind: askerOrg.kind,
      askerRegionId: asker.regionId,
      // any other organization: the answer depends on the person, not on which organization holds the result
      resultOrganizationId: -1,
      at: askedAt,
      purpose,
      emergencyReason,
    });
    const version = facts.versionOf(item.id, today);
    const shown = found.results.filter((r) => r.organization_id === caller.organizationId || authorization.allowed);
    const results = shown.map((r) => offered(facts, r, { caller: caller.organizationId, item, asker, today, version, publicUrl, viewerUrl }));
    const recognizable = results.filter((r) => r.recognizable);
    const others = shown.filter((r) => r.organization_id !== caller.organizationId).length;

    const audited = [...new Set(shown.map((r) => r.patient_id))];
    if (audited.length === 0) {
      const own = found.records.find((r) => r.organization === caller.organizationId) ?? found.records[0];
      if (own) audited.push(own.id);
    }
    const detail = {
      item: item.code,
      shown: shown.length,
      recognizable: recognizable.length,
      withheld: found.results.length - shown.length,
      authorization: authorization.allowed ? authorization.basis : authorization.reason,
      ...(authorization.allowed && authorization.basis === 'emergency' ? { emergencyReason: authorization.emergencyReason } : {}),
    };
    const emergency = authorization.allowed && authorization.basis === 'emergency' && others > 0;
    const checkId = await record({
      organizationId: caller.organizationId,
      clientId: caller.clientId ?? null,
      practitioner: request.practitioner,
      purpose,
      emergencyReason: emergencyReason ?? null,
      personId: found.person_id,
      itemId: item.id,
      askedAt,
      day: today,
      offeredIds: shown.map((r) => r.id),
      recognizableIds: recognizable.map((r) => Number(r.id)),
      withheld: found.results.length - shown.length,
      audit: { patientIds: audited, emergency, requestId: caller.requestId ?? null, detail },
      lookups: others,
    });

    return {
      check: String(checkId),
      askedAt: askedAt.toISOString(),
      day: today,
      item: {
        code: item.code,
        kind: item.kind,
        name: version?.name ?? null,
        nameEn: version?.nameEn ?? null,
        validityDays: version?.validityDays ?? null,
        priceCny: version?.priceCny ?? null,
        inCatalog: version?.inCatalog ?? false,
      },
      authorization: authorizationView(authorization),
      recognizable: recognizable.length,
      results,
      withheld: found.results.length - shown.length,
    };
  };
}

const consentOf = (c: ConsentJson): ConsentFact => ({
  ...c,
  validFrom: new Date(c.validFrom),
  validUntil: c.validUntil ? new Date(c.validUntil) : null,
  revokedAt: c.revokedAt ? new Date(c.revokedAt) : null,
});

function authorizationView(a: Authorization): CheckAnswer['authorization'] {
  if (!a.allowed) return { allowed: false, reason: a.reason, detail: a.detail };
  if (a.basis === 'consent') return { allowed: true, basis: 'consent', consent: String(a.consentId) };
  if (a.basis === 'emergency') return { allowed: true, basis: 'emergency', emergency: true };
  return { allowed: true, basis: a.basis };
}

/** The reason a qualification refusal gives the asker, in the words of the qualification API. */
function qualificationDetail(facts: RecognitionFacts, v: QualificationVerdict<{ validFrom: string; validUntil: string | null; scope: string; scopeRegionId: number | null; scopeCityCode: string | null }> & { qualified: false }): string {
  const q = v.qualification;
  if (v.reason === 'expired' && q) return `the organization's qualification for this item ended on ${q.validUntil}`;
  if (v.reason === 'not-yet-valid' && q) return `the organization's qualification for this item is valid from ${q.validFrom}`;
  if (v.reason === 'scope-excludes-asker' && q) {
    const scope = q.scope === 'region' ? `region ${facts.regions.get(q.scopeRegionId!)?.code ?? q.scopeRegionId}` : q.scope === 'city' ? `city ${q.scopeCityCode}` : 'an alliance';
    return `the organization's qualification covers ${scope}, which does not include the asking organization`;
  }
  return 'the organization holds no quality-control qualification for this item or its category';
}

/** OHIF v3 opens a study at its viewer route with StudyInstanceUIDs (the route may carry a query of its own, e.g. a data source). */
export function viewerLink(viewerUrl: string, studyUid: string): string {
  const url = new URL(viewerUrl);
  url.searchParams.append('StudyInstanceUIDs', studyUid);
  return url.toString();
}

function offered(
  facts: RecognitionFacts,
  r: FoundRow,
  ctx: { caller: number; item: { id: number; category: string; regionId: number }; asker: NonNullable<ReturnType<RecognitionFacts['asker']>>; today: string; version: ReturnType<RecognitionFacts['versionOf']>; publicUrl: string; viewerUrl?: string },
): OfferedResult {
  const own = r.organization_id === ctx.caller;
  const qualification = own ? ('own-organization' as const) : qualificationAmong(facts.qualificationsOf(r.organization_id), ctx.item, ctx.asker, ctx.today);
  const verdict = priorVerdict({
    status: r.status,
    referenceDay: r.reference_day,
    today: ctx.today,
    version: ctx.version,
    qualification,
    describeQualification: (v) => qualificationDetail(facts, v as Parameters<typeof qualificationDetail>[1]),
  });
  const org = facts.organizations.get(r.organization_id);
  const base = {
    id: String(r.id),
    kind: r.kind,
    recognizable: verdict.recognizable,
    reasons: verdict.reasons,
    status: r.status,
    correctedAt: r.corrected_at === null ? null : new Date(r.corrected_at).toISOString(),
    referenceTime: new Date(r.reference_at).toISOString(),
    referenceDay: r.reference_day,
    ageDays: verdict.ageDays,
    daysLeft: verdict.daysLeft,
    organization: { code: org?.code ?? String(r.organization_id), name: org?.name ?? '', own },
  };
  if (r.kind === 'lab') {
    return {
      ...base,
      values: r.summary.values ?? [],
      ...(r.summary.report ? { forReference: { report: r.summary.report } } : {}),
      links: { fhir: `${ctx.publicUrl}/fhir/DiagnosticReport/${r.result_id}` },
    };
  }
  const uid = r.summary.studyUid ?? '';
  return {
    ...base,
    study: { uid, accession: r.summary.accession ?? null, modalities: r.summary.modalities ?? [], bodyParts: r.summary.bodyParts ?? [] },
    forReference: { description: r.summary.description ?? null },
    links: {
      fhir: `${ctx.publicUrl}/fhir/ImagingStudy/${r.result_id}`,
      dicomweb: `${ctx.publicUrl}/dicomweb/studies/${uid}`,
      ...(ctx.viewerUrl && uid ? { viewer: viewerLink(ctx.viewerUrl, uid) } : {}),
    },
  };
}
