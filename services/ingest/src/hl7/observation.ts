import { component, type Segment } from '@hub/shared/hl7';
import { ERR, type Problems } from './problems';
import type { ObservationStatus, ObservationSubmission } from '@hub/shared/lab';
import { parseHl7Time, parseNumber, referenceRangeOf, testCoding, textOf, timeField, unitOf } from './values';

/** HL7 table 0085 (OBX-11) as FHIR Observation.status. */
const OBSERVATION_STATUS: Record<string, ObservationStatus> = {
  F: 'final',
  C: 'corrected',
  P: 'preliminary',
  R: 'preliminary',
  S: 'preliminary',
  U: 'final',
  A: 'amended',
  I: 'registered',
  O: 'registered',
  X: 'cancelled',
  N: 'cancelled',
  D: 'entered-in-error',
  W: 'entered-in-error',
};

const TEXT_TYPES = new Set(['ST', 'TX', 'FT', 'TM', 'NA', 'MA', 'ID', 'IS']);
const CODED_TYPES = new Set(['CE', 'CWE', 'CNE', 'CF']);
const TIME_TYPES = new Set(['DT', 'DTM', 'TS']);
// An embedded PDF or a reference: kept in the original message, not indexed as a value
const DOCUMENT_TYPES = new Set(['ED', 'RP']);
const COMPARATOR = /^\s*(<=|>=|<|>|≤|≥)\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*$/;
const normalComparator = (c: string) => (c === '≤' ? '<=' : c === '≥' ? '>=' : c);

/**
 * One OBX as an observation. `loc` is the segment as an ERR names it (`OBX[3]`); problems
 * found (unknown value type, a number that is not one, an unreadable time) are added to
 * `problems` and the observation is still returned so mapping can go on.
 */
export function observationOf(obx: Segment, loc: string, problems: Problems): ObservationSubmission | undefined {
  const coding = testCoding(obx.field(3)[0]);
  const code = coding.local?.code ?? coding.loinc?.code;
  if (!code) {
    problems.add(`${loc}-3`, ERR.requiredMissing, 'OBX-3 (observation identifier) is required', 'missing-observation-code');
    return undefined;
  }
  const subId = obx.value(4)?.trim();
  const obs: ObservationSubmission = { key: subId ? `${code}|${subId}` : code, ...coding, status: 'final' };

  const rawStatus = obx.value(11)?.trim().toUpperCase();
  if (rawStatus) {
    const status = OBSERVATION_STATUS[rawStatus];
    if (status) obs.status = status;
    else problems.add(`${loc}-11`, ERR.tableValue, 'OBX-11 result status is not one of HL7 table 0085 (F, C, P, R, S, U, I, X, D, W …)', 'unknown-result-status');
  }

  const valueType = obx.value(2)?.trim().toUpperCase();
  const values = obx.field(5);
  const first = values[0];
  const raw = component(first, 1);
  if (!valueType) {
    if (values.length > 0) problems.add(`${loc}-2`, ERR.requiredMissing, 'OBX-2 (value type) is required when OBX-5 holds a value', 'missing-value-type');
  } else {
    obs.valueType = valueType;
    if (valueType === 'NM') {
      if (raw !== undefined) {
        const number = parseNumber(raw);
        // "<0.5" in an NM field: a censored value many LIS send as NM rather than SN
        const censored = number === undefined ? COMPARATOR.exec(raw) : null;
        if (number !== undefined) obs.value = { number };
        else if (censored) obs.value = { number: Number(censored[2]), comparator: normalComparator(censored[1]!) };
        else problems.add(`${loc}-5`, ERR.dataType, 'OBX-5 is not a number for value type NM', 'invalid-numeric-value');
      }
    } else if (valueType === 'SN') {
      if (first) obs.value = structuredNumber(first, `${loc}-5`, problems);
    } else if (TEXT_TYPES.has(valueType)) {
      const text = textOf(values);
      if (text !== undefined) obs.value = { text };
    } else if (CODED_TYPES.has(valueType)) {
      const valueCode = component(first, 1)?.trim();
      const display = component(first, 2)?.trim();
      const system = component(first, 3)?.trim();
      if (valueCode || display) obs.value = { coded: { code: valueCode ?? display!, ...(display ? { display } : {}), ...(system ? { system } : {}) } };
    } else if (TIME_TYPES.has(valueType)) {
      const time = timeField(raw, `${loc}-5`, problems);
      if (time) obs.value = { text: time.date && raw!.trim().length <= 8 ? time.date : time.iso };
    } else if (DOCUMENT_TYPES.has(valueType)) {
      if (values.length > 0) obs.value = { text: '(document kept in the original message)' };
    } else {
      problems.add(`${loc}-2`, ERR.tableValue, `OBX-2 value type is not one the hub reads (NM, SN, ST, TX, FT, CE, CWE, CNE, DT, TS, ED …)`, 'unknown-value-type');
    }
  }

  const unit = unitOf(obx.field(6)[0]);
  if (unit) obs.unit = unit;
  const range = referenceRangeOf(obx.value(7));
  if (range) obs.referenceRange = range;
  const flags = obx.field(8).map((r) => component(r, 1)?.trim()).filter((f): f is string => Boolean(f));
  if (flags.length > 0) obs.abnormalFlags = flags;
  const observed = timeField(obx.value(14), `${loc}-14`, problems);
  if (observed) obs.effectiveAt = observed.iso;
  const analysed = obx.value(19) === undefined ? undefined : parseHl7Time(obx.value(19));
  if (analysed) obs.issuedAt = analysed.iso;
  return obs;
}

/** SN: comparator^num1^separator^num2 — `>^100`, `^5.2`, `^1^:^128` (a ratio), `^10^-^20` (a range). */
function structuredNumber(rep: readonly (readonly string[])[], location: string, problems: Problems): ObservationSubmission['value'] {
  const comparator = component(rep, 1)?.trim();
  const n1 = component(rep, 2);
  const separator = component(rep, 3)?.trim();
  const n2 = component(rep, 4);
  const first = parseNumber(n1);
  const second = parseNumber(n2);
  if ((n1 !== undefined && first === undefined) || (n2 !== undefined && second === undefined) || (comparator && !/^(<=|>=|<|>|=|<>)$/.test(comparator))) {
    problems.add(location, ERR.dataType, 'OBX-5 is not a structured numeric (comparator^number^separator^number) for value type SN', 'invalid-numeric-value');
    return undefined;
  }
  if (separator) return { text: `${comparator ?? ''}${n1 ?? ''}${separator}${n2 ?? ''}` };
  if (first === undefined) return undefined;
  return comparator && comparator !== '=' ? { number: first, comparator } : { number: first };
}
