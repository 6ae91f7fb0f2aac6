import { LAB_SUBMISSION_VERSION, type LabSubmission, type ObservationSubmission, type PatientGroup, type ReportStatus, type ReportSubmission } from '@hub/shared/lab';
import { BundleIssues } from './issues';
import { arrayOf, codesOf, instantOf, isObject, observationOf, patientOf, type Json, type ResourceContext } from './resources';

const SUPPORTED = new Set(['Patient', 'DiagnosticReport', 'Observation', 'Specimen']);
const REPORT_STATUS = new Set<ReportStatus>(['registered', 'partial', 'preliminary', 'final', 'amended', 'corrected', 'appended', 'cancelled', 'entered-in-error']);

/** Where each entry of the Bundle lands in the index, to answer it with a location. */
export interface EntryPlan {
  resourceType: string;
  patientLocalId?: string;
  reportKey?: string;
  observationKey?: string;
}

export type MappedBundle = { ok: true; submission: LabSubmission; plan: EntryPlan[] } | { ok: false; issues: BundleIssues };

interface Entry {
  index: number;
  at: string;
  resource: Json;
}

/**
 * A FHIR R4 transaction Bundle (Patient, DiagnosticReport, Observation, Specimen; references
 * between entries by fullUrl, `urn:uuid:` or `Type/id`) as the lab submission the index
 * reads. Every Observation must be a result of a DiagnosticReport of the Bundle. Problems are
 * named by expression (`Bundle.entry[2].resource.subject`): 400 when the request is not a
 * transaction Bundle, 422 when an entry breaks a rule.
 */
export function labSubmissionOfBundle(bundle: unknown, options: Omit<ResourceContext, 'issues'> & { bundleIdentity: string }): MappedBundle {
  const issues = new BundleIssues();
  const ctx: ResourceContext = { ...options, issues };
  if (!isObject(bundle) || bundle.resourceType !== 'Bundle') {
    issues.add(400, 'Bundle', 'the body must be a FHIR Bundle', 'structure');
    return { ok: false, issues };
  }
  if (bundle.type !== 'transaction') issues.add(400, 'Bundle.type', 'POST /fhir takes a Bundle of type transaction', 'not-supported');
  const raw = arrayOf(bundle.entry);
  if (raw.length === 0) issues.add(400, 'Bundle.entry', 'the Bundle has no entries', 'required');
  if (issues.any) return { ok: false, issues };

  const entries: Entry[] = [];
  const byUrl = new Map<string, Entry>();
  raw.forEach((e, index) => {
    const at = `Bundle.entry[${index}]`;
    if (!isObject(e) || !isObject(e.resource) || typeof e.resource.resourceType !== 'string') {
      issues.add(400, `${at}.resource`, 'each entry needs a resource', 'structure');
      return;
    }
    const method = isObject(e.request) ? e.request.method : undefined;
    if (method !== 'POST' && method !== 'PUT') issues.add(400, `${at}.request.method`, 'each transaction entry needs request.method POST (or PUT)', 'structure');
    const resource = e.resource;
    if (!SUPPORTED.has(resource.resourceType as string)) {
      issues.add(422, `${at}.resource.resourceType`, `${String(resource.resourceType)} is not taken here: Patient, DiagnosticReport, Observation and Specimen are`, 'not-supported');
      return;
    }
    const entry: Entry = { index, at: `${at}.resource`, resource };
    entries[index] = entry;
    if (typeof e.fullUrl === 'string') byUrl.set(e.fullUrl, entry);
    if (typeof resource.id === 'string') byUrl.set(`${resource.resourceType}/${resource.id}`, entry);
  });

  const resolve = (ref: unknown, type: string, expression: string): Entry | undefined => {
    const target = isObject(ref) && typeof ref.reference === 'string' ? byUrl.get(ref.reference) : undefined;
    if (!target || target.resource.resourceType !== type) {
      issues.add(422, expression, `must reference a ${type} entry of this Bundle (by its fullUrl)`, 'invalid');
      return undefined;
    }
    return target;
  };

  const plan: EntryPlan[] = raw.map((_, i) => ({ resourceType: String(entries[i]?.resource.resourceType ?? '') }));
  const groups = new Map<number, PatientGroup>();
  for (const entry of entries.filter((e) => e?.resource.resourceType === 'Patient')) {
    const patient = patientOf(entry.resource, entry.at, ctx);
    if (!patient) continue;
    groups.set(entry.index, { patient, reports: [] });
    plan[entry.index]!.patientLocalId = patient.localId;
  }

  const resultOf = new Map<number, number>(); // observation entry → report entry
  for (const entry of entries.filter((e) => e?.resource.resourceType === 'DiagnosticReport')) {
    const r = entry.resource;
    const at = entry.at;
    const subject = resolve(r.subject, 'Patient', `${at}.subject`);
    const group = subject ? groups.get(subject.index) : undefined;
    const codes = codesOf(r.code, ctx.organizationCode);
    const code = codes.local?.code ?? codes.loinc?.code;
    if (!code) issues.add(422, `${at}.code`, 'a DiagnosticReport needs a code (LOINC or the hospital\'s own)', 'required');
    if (!REPORT_STATUS.has(r.status as ReportStatus)) issues.add(422, `${at}.status`, 'status must be a DiagnosticReport status (final, preliminary, corrected …)', 'value');

    let specimen: ReportSubmission['specimen'];
    let collectedAt: string | undefined;
    let specimenMissing = false;
    arrayOf(r.specimen).forEach((ref, k) => {
      const s = resolve(ref, 'Specimen', `${at}.specimen[${k}]`)?.resource;
      specimenMissing ||= !s;
      if (!s || specimen) return;
      const type = codesOf(s.type, ctx.organizationCode).local;
      if (type) specimen = { type: type.code, ...(type.display ? { display: type.display } : {}) };
      collectedAt = isObject(s.collection) ? instantOf(s.collection.collectedDateTime) : undefined;
    });
    const effectiveRaw = r.effectiveDateTime ?? (isObject(r.effectivePeriod) ? r.effectivePeriod.start : undefined);
    const effectiveAt = effectiveRaw === undefined ? collectedAt : instantOf(effectiveRaw);
    if (!effectiveAt && !(effectiveRaw === undefined && specimenMissing)) {
      issues.add(422, `${at}.effectiveDateTime`, effectiveRaw === undefined ? 'a DiagnosticReport needs effectiveDateTime (or a Specimen with collection.collectedDateTime): the date the result counts from' : 'effectiveDateTime is not a FHIR dateTime', effectiveRaw === undefined ? 'required' : 'value');
    }
    const issuedAt = r.issued === undefined ? undefined : instantOf(r.issued);
    if (r.issued !== undefined && !issuedAt) issues.add(422, `${at}.issued`, 'issued is not a FHIR instant', 'value');

    const observations: ObservationSubmission[] = [];
    const observationEntries: number[] = [];
    arrayOf(r.result).forEach((ref, k) => {
      const target = resolve(ref, 'Observation', `${at}.result[${k}]`);
      if (!target) return;
      if (resultOf.has(target.index)) {
        issues.add(422, `${at}.result[${k}]`, 'an Observation can be the result of one DiagnosticReport only', 'invalid');
        return;
      }
      resultOf.set(target.index, entry.index);
      if (subject && target.resource.subject !== undefined && resolve(target.resource.subject, 'Patient', `${target.at}.subject`) !== subject) {
        issues.add(422, `${target.at}.subject`, 'an Observation must have the subject of its DiagnosticReport', 'invalid');
      }
      const obs = observationOf(target.resource, target.at, ctx);
      if (obs) {
        observations.push(obs);
        observationEntries.push(target.index);
      }
    });
    if (!group || !code || !effectiveAt || !REPORT_STATUS.has(r.status as ReportStatus)) continue;

    const identifiers = arrayOf(r.identifier).filter(isObject);
    const typed = (code: string) => identifiers.find((i) => isObject(i.type) && arrayOf(i.type.coding).some((c) => isObject(c) && c.code === code));
    const filler = typed('FILL');
    const placer = typed('PLAC');
    const main = filler ?? identifiers.find((i) => typeof i.value === 'string');
    const key = main ? `I|${String(main.system ?? '')}|${String(main.value)}` : `B|${options.bundleIdentity}|${entry.index}`;
    const report: ReportSubmission = { key, ...codes, status: r.status as ReportStatus, effectiveAt, observations };
    if (typeof filler?.value === 'string') report.fillerOrderNumber = filler.value;
    if (typeof placer?.value === 'string') report.placerOrderNumber = placer.value;
    if (issuedAt) report.issuedAt = issuedAt;
    if (specimen) report.specimen = specimen;
    uniqueKeys(observations);
    observations.forEach((obs, k) => (plan[observationEntries[k]!]!.observationKey = obs.key));
    group.reports.push(report);
    plan[entry.index]!.reportKey = key;
    plan[entry.index]!.patientLocalId = group.patient.localId;
  }

  for (const entry of entries.filter((e) => e?.resource.resourceType === 'Observation')) {
    if (!resultOf.has(entry.index)) issues.add(422, `Bundle.entry[${entry.index}]`, 'an Observation must be a result of a DiagnosticReport in this Bundle', 'invalid');
    else plan[entry.index]!.reportKey = plan[resultOf.get(entry.index)!]!.reportKey;
  }
  if (issues.any) return { ok: false, issues };
  return { ok: true, submission: { lab: LAB_SUBMISSION_VERSION, event: 'results', messageType: 'Bundle/transaction', groups: [...groups.values()] }, plan };
}

/** The same test twice in a report: the second becomes `code#2`, so both are kept. */
function uniqueKeys(observations: ObservationSubmission[]): void {
  const count = new Map<string, number>();
  for (const obs of observations) {
    const n = (count.get(obs.key) ?? 0) + 1;
    count.set(obs.key, n);
    if (n > 1) obs.key = `${obs.key}#${n}`;
  }
}
