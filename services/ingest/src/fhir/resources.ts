import { isHubError } from '@hub/shared/errors';
import { LOINC_SYSTEM, NATIONAL_ID_SYSTEM, UCUM_SYSTEM, mrnSystem, organizationOfMrnSystem } from '@hub/shared/fhir';
import { maskNationalId, nationalIdHash, validateNationalId } from '@hub/shared/identity';
import type { Coding, ObservationStatus, ObservationSubmission, PatientSubmission } from '@hub/shared/lab';
import type { BundleIssues } from './issues';

/** A resource as JSON; every field is checked before use. */
export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
export const arrayOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

const EN_REPRESENTATION = 'http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation';
const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const CJK = /[\u3400-\u9fff\uf900-\ufaff\u{20000}-\u{3134f}]/u;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/;

/** A FHIR dateTime/instant as an ISO instant; a date alone is midnight in China (as HL7 times are). */
export function instantOf(value: unknown): string | undefined {
  const text = str(value);
  const m = text ? DATE_TIME.exec(text) : null;
  if (!m || !m[3]) return undefined;
  const iso = m[4] ? text! : `${text}T00:00:00+08:00`;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1 || d > new Date(Date.UTC(y, mo, 0)).getUTCDate()) return undefined;
  return date.toISOString();
}

/** The codes of a CodeableConcept: LOINC when given, and the hospital's own code. */
export function codesOf(concept: unknown, organizationCode: string): { local?: Coding; loinc?: Coding } {
  const out: { local?: Coding; loinc?: Coding } = {};
  if (!isObject(concept)) return out;
  for (const c of arrayOf(concept.coding)) {
    if (!isObject(c)) continue;
    const code = str(c.code);
    if (!code) continue;
    const display = str(c.display);
    const coding: Coding = display ? { code, display } : { code };
    if (c.system === LOINC_SYSTEM) out.loinc ??= coding;
    else if (!out.local || c.system === `urn:hub:organization:${organizationCode}:code`) out.local = coding;
  }
  if (!out.local && !out.loinc && str(concept.text)) out.local = { code: str(concept.text)!, display: str(concept.text)! };
  return out;
}

export interface ResourceContext {
  organizationCode: string;
  idHashSecret: string;
  issues: BundleIssues;
  now?: Date;
}

const GENDER: Record<string, PatientSubmission['sex']> = { male: 'M', female: 'F', other: 'O', unknown: 'U' };

function isNationalIdentifier(identifier: Json): boolean {
  if (identifier.system === NATIONAL_ID_SYSTEM) return true;
  const type = isObject(identifier.type) ? arrayOf(identifier.type.coding) : [];
  return type.some((c) => isObject(c) && c.code === 'NNCHN');
}

/** A Patient as the record the hub links: the MRN, the national ID only as hash + masked form. */
export function patientOf(resource: Json, at: string, ctx: ResourceContext): PatientSubmission | undefined {
  const { issues } = ctx;
  let nationalId: PatientSubmission['nationalId'];
  const locals: Array<{ value: string; rank: number }> = [];
  arrayOf(resource.identifier).forEach((identifier, j) => {
    if (!isObject(identifier)) return;
    const value = str(identifier.value);
    if (!value) return;
    if (isNationalIdentifier(identifier)) {
      try {
        const valid = validateNationalId(value, { now: ctx.now });
        nationalId ??= { hash: nationalIdHash(valid, ctx.idHashSecret), masked: maskNationalId(valid) };
      } catch (err) {
        if (!isHubError(err)) throw err;
        issues.add(422, `${at}.identifier[${j}].value`, err.message, 'value');
      }
      return;
    }
    const system = str(identifier.system);
    const owner = system ? organizationOfMrnSystem(system) : null;
    if (owner !== null && owner !== ctx.organizationCode) return; // another hospital's number, not ours to file under
    const typed = isObject(identifier.type) && arrayOf(identifier.type.coding).some((c) => isObject(c) && c.system === V2_0203 && c.code === 'MR');
    locals.push({ value, rank: system === mrnSystem(ctx.organizationCode) ? 0 : typed ? 1 : 2 });
  });
  const localId = locals.sort((a, b) => a.rank - b.rank)[0]?.value;
  if (!localId) {
    issues.add(422, `${at}.identifier`, `a Patient needs the hospital's own identifier (system ${mrnSystem(ctx.organizationCode)}, or type MR)`, 'required');
    return undefined;
  }

  const patient: PatientSubmission = { localId };
  const name: NonNullable<PatientSubmission['name']> = {};
  for (const n of arrayOf(resource.name)) {
    if (!isObject(n)) continue;
    const family = str(n.family) ?? '';
    const given = arrayOf(n.given).filter((g): g is string => typeof g === 'string').join(' ').trim();
    const written = family ? (given ? `${family}^${given}` : family) : (str(n.text) ?? given);
    if (!written) continue;
    const representation = arrayOf(n.extension).find((e) => isObject(e) && e.url === EN_REPRESENTATION) as Json | undefined;
    const code = representation?.valueCode;
    const group = code === 'IDE' || (code === undefined && CJK.test(written)) ? 'ideographic' : code === 'SYL' ? 'phonetic' : 'alphabetic';
    name[group] ??= written;
  }
  if (Object.keys(name).length > 0) patient.name = name;
  if (resource.gender !== undefined) {
    const sex = typeof resource.gender === 'string' ? GENDER[resource.gender] : undefined;
    if (sex) patient.sex = sex;
    else issues.add(422, `${at}.gender`, 'gender must be male, female, other or unknown', 'value');
  }
  if (resource.birthDate !== undefined) {
    const birth = str(resource.birthDate);
    if (birth && DATE.test(birth) && instantOf(birth)) patient.birthDate = birth;
    else if (!(birth && /^\d{4}(-\d{2})?$/.test(birth))) issues.add(422, `${at}.birthDate`, 'birthDate must be a date (YYYY-MM-DD)', 'value');
  }
  if (nationalId) patient.nationalId = nationalId;
  return patient;
}

const OBSERVATION_STATUS = new Set<ObservationStatus>(['registered', 'preliminary', 'final', 'amended', 'corrected', 'cancelled', 'entered-in-error', 'unknown']);
const COMPARATORS = new Set(['<', '<=', '>=', '>']);

/** An Observation as a lab result; the key is completed by the bundle (test code + repeat). */
export function observationOf(resource: Json, at: string, ctx: ResourceContext): ObservationSubmission | undefined {
  const { issues } = ctx;
  const codes = codesOf(resource.code, ctx.organizationCode);
  const code = codes.local?.code ?? codes.loinc?.code;
  if (!code) issues.add(422, `${at}.code`, 'an Observation needs a code (LOINC or the hospital\'s own)', 'required');
  const status = resource.status as ObservationStatus;
  if (!OBSERVATION_STATUS.has(status)) issues.add(422, `${at}.status`, 'status must be one of registered, preliminary, final, amended, corrected, cancelled, entered-in-error, unknown', 'value');
  if (!code || !OBSERVATION_STATUS.has(status)) return undefined;

  const obs: ObservationSubmission = { key: code, ...codes, status };
  if (isObject(resource.valueQuantity)) {
    const q = resource.valueQuantity;
    if (typeof q.value !== 'number' || (q.comparator !== undefined && !COMPARATORS.has(q.comparator as string))) {
      issues.add(422, `${at}.valueQuantity`, 'valueQuantity needs a numeric value (and a comparator among <, <=, >=, >)', 'value');
    } else {
      obs.valueType = 'Quantity';
      obs.value = { number: q.value, ...(typeof q.comparator === 'string' ? { comparator: q.comparator } : {}) };
      const text = str(q.unit) ?? str(q.code);
      if (text) obs.unit = { text, ...(str(q.code) ? { code: str(q.code)! } : {}), ucum: q.system === UCUM_SYSTEM };
    }
  } else if (typeof resource.valueString === 'string') {
    obs.valueType = 'string';
    obs.value = { text: resource.valueString };
  } else if (typeof resource.valueInteger === 'number') {
    obs.valueType = 'integer';
    obs.value = { number: resource.valueInteger };
  } else if (isObject(resource.valueCodeableConcept)) {
    const c = arrayOf(resource.valueCodeableConcept.coding).find(isObject);
    const text = str(resource.valueCodeableConcept.text);
    obs.valueType = 'CodeableConcept';
    if (c && str(c.code)) obs.value = { coded: { code: str(c.code)!, ...(str(c.display) ?? text ? { display: (str(c.display) ?? text)! } : {}), ...(str(c.system) ? { system: str(c.system)! } : {}) } };
    else if (text) obs.value = { text };
  } else if (Object.keys(resource).some((k) => k.startsWith('value'))) {
    issues.add(422, `${at}.value[x]`, 'the hub reads valueQuantity, valueString, valueInteger and valueCodeableConcept', 'not-supported');
  }
  const range = arrayOf(resource.referenceRange).find(isObject);
  if (range) {
    const low = isObject(range.low) && typeof range.low.value === 'number' ? range.low.value : undefined;
    const high = isObject(range.high) && typeof range.high.value === 'number' ? range.high.value : undefined;
    const text = str(range.text);
    if (low !== undefined || high !== undefined || text) obs.referenceRange = { ...(low !== undefined ? { low } : {}), ...(high !== undefined ? { high } : {}), ...(text ? { text } : {}) };
  }
  const flags = arrayOf(resource.interpretation).flatMap((i) => (isObject(i) ? arrayOf(i.coding) : [])).map((c) => (isObject(c) ? str(c.code) : undefined)).filter((c): c is string => Boolean(c));
  if (flags.length > 0) obs.abnormalFlags = flags;
  const effective = resource.effectiveDateTime ?? (isObject(resource.effectivePeriod) ? resource.effectivePeriod.start : undefined);
  if (effective !== undefined) {
    const iso = instantOf(effective);
    if (iso) obs.effectiveAt = iso;
    else issues.add(422, `${at}.effectiveDateTime`, 'effectiveDateTime is not a FHIR dateTime', 'value');
  }
  if (resource.issued !== undefined) {
    const iso = instantOf(resource.issued);
    if (iso) obs.issuedAt = iso;
    else issues.add(422, `${at}.issued`, 'issued is not a FHIR instant', 'value');
  }
  return obs;
}
