import { badInput } from '@hub/shared/errors';
import { DICOM_MODALITY_SYSTEM, mrnSystem, NATIONAL_ID_SYSTEM, ORGANIZATION_SYSTEM } from '@hub/shared/fhir';
import { isLoincSystem } from '@hub/shared/recognition';
import type { FhirContext, FhirOperation, Resource } from '../fhir';
import { checkSchema } from './check-input';
import type { CheckAnswer, PriorResultCheck } from './prior-results';
import { parseWith } from './schemas';

/** The code system of recognition items, and of the reasons a result is for reference only. */
export const RECOGNITION_ITEM_SYSTEM = 'urn:hub:recognition-item';
export const REFERENCE_REASON_SYSTEM = 'urn:hub:recognition-reference-reason';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const first = (v: unknown): string | undefined => (Array.isArray(v) ? first(v[0]) : typeof v === 'string' ? v : undefined);
const token = (v: string | undefined) => {
  if (v === undefined) return undefined;
  const bar = v.indexOf('|');
  return bar < 0 ? { code: v } : { system: v.slice(0, bar) || undefined, code: v.slice(bar + 1) };
};

/** The patient as the check takes it: the asker's own MRN, or the resident ID number. */
function patientOf(identifier: { system?: string; value?: string } | undefined, callerCode: string) {
  if (!identifier?.value) throw badInput('name the patient: patient=<system>|<value> (the national ID, or your own MRN)', { location: 'patient', code: 'required' });
  if (identifier.system === NATIONAL_ID_SYSTEM) return { nationalId: identifier.value };
  if (identifier.system === undefined || identifier.system === mrnSystem(callerCode)) return { mrn: identifier.value };
  throw badInput(`the patient is named by ${NATIONAL_ID_SYSTEM} or by your own MRN (${mrnSystem(callerCode)})`, { location: 'patient', code: 'unknown-identifier-system' });
}

/** What a ServiceRequest orders: a recognition item, a LOINC or other code, or a DICOM modality with its body site. */
function orderOf(codings: Array<{ system?: string; code?: string }>, bodySite: string | undefined) {
  const modality = codings.find((c) => c.system === DICOM_MODALITY_SYSTEM && c.code);
  if (modality) return { modality: modality.code, bodyPart: bodySite };
  const item = codings.find((c) => c.system === RECOGNITION_ITEM_SYSTEM && c.code);
  if (item) return { item: item.code };
  const coding = codings.find((c) => isLoincSystem(c.system) && c.code) ?? codings.find((c) => c.code);
  return coding ? { code: { ...(coding.system ? { system: coding.system } : {}), code: coding.code! } } : {};
}

function fromServiceRequest(sr: Json, callerCode: string, practitioner: string | undefined) {
  if (sr.resourceType !== 'ServiceRequest') throw badInput('the body is a ServiceRequest or Parameters', { location: 'resourceType', code: 'invalid-resource' });
  return {
    patient: patientOf(sr.subject?.identifier, callerCode),
    ...orderOf(sr.code?.coding ?? [], sr.bodySite?.[0]?.coding?.[0]?.code),
    practitioner: sr.requester?.display ?? sr.requester?.identifier?.value ?? practitioner,
  };
}

function fromParameters(p: Json, callerCode: string, practitioner: string | undefined) {
  const named = (name: string) => (p.parameter ?? []).find((x: Json) => x.name === name);
  const sr = named('serviceRequest')?.resource;
  const base = sr ? fromServiceRequest(sr, callerCode, practitioner) : undefined;
  const code = named('code')?.valueCoding;
  return {
    patient: base?.patient ?? patientOf(named('patient')?.valueIdentifier, callerCode),
    ...(base ? orderOf(sr.code?.coding ?? [], sr.bodySite?.[0]?.coding?.[0]?.code) : orderOf(code ? [code] : [], undefined)),
    ...(named('item') ? { item: named('item').valueCode ?? named('item').valueString } : {}),
    ...(named('modality') ? { modality: named('modality').valueCode, bodyPart: named('bodyPart')?.valueCode ?? named('bodyPart')?.valueString } : {}),
    practitioner: named('practitioner')?.valueString ?? base?.practitioner ?? practitioner,
    ...(named('purpose') ? { purpose: named('purpose').valueCode } : {}),
    ...(named('emergencyReason') ? { emergencyReason: named('emergencyReason').valueString } : {}),
  };
}

function fromQuery(q: Record<string, string | string[]>, callerCode: string, practitioner: string | undefined) {
  const patient = token(first(q.patient));
  const code = token(first(q.code));
  return {
    patient: patientOf(patient && { system: patient.system, value: patient.code }, callerCode),
    ...(first(q.item) ? { item: first(q.item) } : {}),
    ...(code ? orderOf([code], first(q.bodySite) ?? first(q.bodyPart)) : {}),
    ...(first(q.modality) ? { modality: first(q.modality), bodyPart: first(q.bodySite) ?? first(q.bodyPart) } : {}),
    practitioner: first(q.practitioner) ?? practitioner,
    ...(first(q.purpose) ? { purpose: first(q.purpose) } : {}),
    ...(first(q.emergencyReason) ? { emergencyReason: first(q.emergencyReason) } : {}),
  };
}

/** The check's answer as FHIR Parameters: the check, the item, and one `result` part per result offered. */
export function priorResultsParameters(answer: CheckAnswer): Resource {
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'check', valueString: answer.check },
      { name: 'item', valueCoding: { system: RECOGNITION_ITEM_SYSTEM, code: answer.item.code, ...(answer.item.name ? { display: answer.item.name } : {}) } },
      { name: 'recognizable', valueInteger: answer.recognizable },
      { name: 'withheld', valueInteger: answer.withheld },
      ...answer.results.map((r) => ({
        name: 'result',
        part: [
          { name: 'id', valueString: r.id },
          { name: 'reference', valueReference: { reference: r.links.fhir, type: r.kind === 'lab' ? 'DiagnosticReport' : 'ImagingStudy' } },
          { name: 'recognizable', valueBoolean: r.recognizable },
          ...r.reasons.map((x) => ({ name: 'reason', valueCoding: { system: REFERENCE_REASON_SYSTEM, code: x.code, display: x.detail } })),
          { name: 'status', valueCode: r.status },
          { name: 'referenceTime', valueDateTime: r.referenceTime },
          { name: 'ageDays', valueInteger: r.ageDays },
          ...(r.daysLeft === null ? [] : [{ name: 'daysLeft', valueInteger: r.daysLeft }]),
          { name: 'organization', valueIdentifier: { system: ORGANIZATION_SYSTEM, value: r.organization.code } },
          ...(r.links.dicomweb ? [{ name: 'dicomweb', valueUrl: r.links.dicomweb }] : []),
          ...(r.links.viewer ? [{ name: 'viewer', valueUrl: r.links.viewer }] : []),
        ],
      })),
    ],
  };
}

/**
 * `$prior-results`: the prior-result check as a FHIR operation, at the system level and on
 * ServiceRequest. GET takes patient (token), code (token) or item, modality + bodySite,
 * practitioner, purpose, emergencyReason; POST takes Parameters with the same names (patient as
 * valueIdentifier, code as valueCoding, or a serviceRequest resource) or a ServiceRequest itself.
 */
export function priorResultsOperation(check: PriorResultCheck, base: string): FhirOperation {
  return {
    name: 'prior-results',
    definition: `${base}/OperationDefinition/prior-results`,
    system: true,
    types: ['ServiceRequest'],
    scope: 'recognition:check',
    async invoke(input, ctx: FhirContext) {
      const callerCode = ctx.principal.organization.code;
      const body = input.body as Json | undefined;
      const raw =
        input.method === 'GET'
          ? fromQuery(input.query, callerCode, ctx.practitioner)
          : body?.resourceType === 'Parameters'
            ? fromParameters(body, callerCode, ctx.practitioner)
            : fromServiceRequest(body ?? {}, callerCode, ctx.practitioner);
      const request = parseWith(checkSchema, raw);
      return priorResultsParameters(await check(request, { organizationId: ctx.principal.organization.id, clientId: ctx.principal.clientId, requestId: ctx.requestId }));
    },
  };
}
