import { component, type Field, type Repetition, type Segment } from '@hub/shared/hl7';
import { isHubError } from '@hub/shared/errors';
import { maskNationalId, nationalIdHash, validateNationalId } from '@hub/shared/identity';
import { ERR, type Problems } from './problems';
import type { PatientSubmission } from '@hub/shared/lab';
import { parseHl7Time } from './values';

/**
 * How LIS and HIS in China mark the resident ID number in a CX (PID-3, MRG-1): identifier
 * type (CX.5) NNCHN as HL7 table 0203 spells "national person identifier, China", or the
 * local habits NNCN, NI, SFZ (身份证) and ID; or an assigning authority (CX.4) of CHN, CN,
 * ID or SFZ, or the resident ID OID, with no type or a generic one. A CHN authority with a
 * type such as PPN (passport) is not the resident ID.
 */
const NATIONAL_TYPES = new Set(['NNCHN', 'NNCN', 'NI', 'SFZ', 'ID', 'IDCARD']);
const GENERIC_TYPES = new Set(['', 'NN', 'CZ']);
const NATIONAL_AUTHORITIES = new Set(['CHN', 'CN', 'ID', 'SFZ', '2.16.156.10011.1.3']);
/** Types that name a hospital's own patient number, preferred as the MRN in that order. */
const MRN_TYPES = ['MR', 'PI', 'PT', 'MRN'];

const upper = (v: string | undefined): string => (v ?? '').trim().toUpperCase();

export function isNationalIdentifier(rep: Repetition): boolean {
  const type = upper(component(rep, 5));
  if (NATIONAL_TYPES.has(type)) return true;
  if (!GENERIC_TYPES.has(type)) return false;
  return NATIONAL_AUTHORITIES.has(upper(component(rep, 4))) || NATIONAL_AUTHORITIES.has(upper(component(rep, 4, 2)));
}

/** The hospital's own numbers in a CX list, best first: typed MRN, then any other non-national id. */
export function localIdsOf(field: Field): string[] {
  const candidates = field
    .map((rep, i) => ({ rep, i, id: component(rep, 1)?.trim() }))
    .filter((c): c is { rep: Repetition; i: number; id: string } => Boolean(c.id) && !isNationalIdentifier(c.rep));
  const rank = (rep: Repetition) => {
    const r = MRN_TYPES.indexOf(upper(component(rep, 5)));
    return r < 0 ? MRN_TYPES.length : r;
  };
  return candidates.sort((a, b) => rank(a.rep) - rank(b.rep) || a.i - b.i).map((c) => c.id);
}

const CJK = /[\u3400-\u9fff\uf900-\ufaff\u{20000}-\u{3134f}]/u;

/** PID-5 (XPN, repeating) as the name groups the index keeps, each `family^given`. */
export function namesOf(field: Field): PatientSubmission['name'] {
  const name: NonNullable<PatientSubmission['name']> = {};
  for (const rep of field) {
    const family = component(rep, 1)?.trim() ?? '';
    const given = [component(rep, 2), component(rep, 3)].filter(Boolean).join(' ').trim();
    const written = given ? `${family}^${given}` : family;
    if (!written) continue;
    // XPN.8 (v2.4+) says which representation it is; many senders leave it out or put it in
    // XPN.7, so the characters decide when it is not P (phonetic).
    const group = CJK.test(written) ? 'ideographic' : upper(component(rep, 8)) === 'P' ? 'phonetic' : 'alphabetic';
    name[group] ??= written;
  }
  return Object.keys(name).length > 0 ? name : undefined;
}

/** PID-8, including what Chinese systems send instead of table 0001 (GB/T 2261.1 codes, 男/女). */
function sexOf(raw: string | undefined): PatientSubmission['sex'] {
  switch (raw?.trim().toUpperCase()) {
    case 'M': case '1': case '男': return 'M';
    case 'F': case '2': case '女': return 'F';
    case 'O': case 'A': return 'O';
    case 'U': case 'N': case '0': case '9': return 'U';
    default: return undefined;
  }
}

export interface PatientContext {
  idHashSecret: string;
  now?: Date;
  problems: Problems;
}

/**
 * A PID as the patient the hub links: MRN from PID-3 (PID-2 for v2.3 senders that put it
 * there), the national ID validated then kept only as hash + masked form. `pidLocation` is
 * `PID` or `PID[2]` so errors name the right segment of a multi-patient message.
 */
export function patientOf(pid: Segment, pidLocation: string, ctx: PatientContext): PatientSubmission | undefined {
  const { problems } = ctx;
  let nationalId: PatientSubmission['nationalId'];
  pid.field(3).forEach((rep, i) => {
    if (!isNationalIdentifier(rep) || nationalId) return;
    const location = `${pidLocation}-3[${i + 1}]`;
    const raw = component(rep, 1);
    if (!raw) return;
    try {
      const valid = validateNationalId(raw, { location, now: ctx.now });
      nationalId = { hash: nationalIdHash(valid, ctx.idHashSecret), masked: maskNationalId(valid) };
    } catch (err) {
      if (!isHubError(err)) throw err;
      problems.add(location, ERR.dataType, err.message, err.detail.code);
    }
  });

  const localId = localIdsOf(pid.field(3))[0] ?? localIdsOf(pid.field(2))[0];
  if (!localId) {
    problems.add(`${pidLocation}-3`, ERR.requiredMissing, 'PID-3 holds no patient identifier of the hospital (MRN); a national ID alone does not identify the record', 'missing-patient-id');
    return undefined;
  }

  const patient: PatientSubmission = { localId };
  const name = namesOf(pid.field(5));
  if (name) patient.name = name;
  const birth = pid.value(7);
  if (birth !== undefined) {
    const time = parseHl7Time(birth);
    if (!time) problems.add(`${pidLocation}-7`, ERR.dataType, 'PID-7 birth date is not an HL7 date (YYYYMMDD)', 'invalid-datetime');
    else if (time.date) patient.birthDate = time.date;
  }
  const sex = sexOf(pid.value(8));
  if (sex) patient.sex = sex;
  if (nationalId) patient.nationalId = nationalId;
  return patient;
}
