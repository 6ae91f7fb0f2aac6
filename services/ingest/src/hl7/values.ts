import { component, type Repetition } from '@hub/shared/hl7';
import { ERR, type Problems } from './problems';
import type { Coding } from '@hub/shared/lab';

/** HL7 times without an offset are local time at the hospital: China Standard Time. */
const CHINA_OFFSET = '+08:00';

// DTM: YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]
const DTM = /^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,4}))?)?)?)?)?)?([+-]\d{4})?$/;
// What many Chinese LIS write instead: 2024-03-15 08:00:00 (a dialect, read the same way)
const DASHED = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,4}))?)?)?([+-]\d{2}:?\d{2})?$/;

export interface HL7Time {
  /** ISO 8601 instant with the offset resolved, e.g. 2024-03-15T00:00:00.000Z. */
  iso: string;
  /** The calendar date as written, YYYY-MM-DD (when at least the day is given). */
  date?: string;
}

/** Reads an HL7 date/time; undefined when it is not one (the caller names the field). */
export function parseHl7Time(raw: string | undefined): HL7Time | undefined {
  if (raw === undefined) return undefined;
  const text = raw.trim();
  const m = DTM.exec(text) ?? DASHED.exec(text);
  if (!m) return undefined;
  const [year, month = '01', day = '01', hour = '00', minute = '00', second = '00', fraction = '0'] = m.slice(1, 8).map((v) => v) as string[];
  const zone = m[8] ? `${m[8].slice(0, 3)}:${m[8].slice(-2)}` : CHINA_OFFSET;
  const y = Number(year);
  const mo = Number(month);
  const d = Number(day);
  if (mo < 1 || mo > 12 || d < 1 || d > new Date(Date.UTC(y, mo, 0)).getUTCDate()) return undefined;
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59 || y < 1800) return undefined;
  const ms = String(Math.round(Number(`0.${fraction}`) * 1000)).padStart(3, '0');
  const instant = new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}.${ms}${zone}`);
  if (Number.isNaN(instant.getTime())) return undefined;
  return { iso: instant.toISOString(), ...(m[3] !== undefined ? { date: `${year}-${month}-${day}` } : {}) };
}

/** A time field that must parse when present; a wrong one becomes an AE naming it. */
export function timeField(raw: string | undefined, location: string, problems: Problems): HL7Time | undefined {
  if (raw === undefined) return undefined;
  const time = parseHl7Time(raw);
  if (!time) problems.add(location, ERR.dataType, `${location} is not an HL7 date/time (YYYYMMDDHHMMSS[+ZZZZ])`, 'invalid-datetime');
  return time;
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;

export function parseNumber(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const text = raw.trim();
  return NUMBER.test(text) ? Number(text) : undefined;
}

const LOINC_SYSTEMS = new Set(['LN', 'LOINC', '2.16.840.1.113883.6.1', 'HTTP://LOINC.ORG']);
const UCUM_SYSTEMS = new Set(['UCUM', '2.16.840.1.113883.6.8', 'HTTP://UNITSOFMEASURE.ORG']);

export const isLoincSystem = (system: string | undefined): boolean => system !== undefined && LOINC_SYSTEMS.has(system.trim().toUpperCase());

/**
 * A test code (CE/CWE): the hospital's local code and, when the sender gives one in either
 * triplet (identifier^text^system or the alternate 4^5^6), the LOINC code.
 */
export function testCoding(rep: Repetition | undefined): { local?: Coding; loinc?: Coding } {
  const out: { local?: Coding; loinc?: Coding } = {};
  for (const first of [1, 4]) {
    const code = component(rep, first)?.trim();
    if (!code) continue;
    const display = component(rep, first + 1)?.trim();
    const coding: Coding = display ? { code, display } : { code };
    if (isLoincSystem(component(rep, first + 2))) out.loinc ??= coding;
    else out.local ??= coding;
  }
  // A code with no code but a text (some LIS): the text is the local code.
  if (!out.local && !out.loinc) {
    const text = component(rep, 2)?.trim();
    if (text) out.local = { code: text, display: text };
  }
  return out;
}

/** OBX-6: `mmol/L`, `mmol/L^^UCUM`, `10*9/L^10^9/L^UCUM`, `个/μL`. */
export function unitOf(rep: Repetition | undefined): { text: string; code?: string; ucum: boolean } | undefined {
  const code = component(rep, 1)?.trim();
  const text = component(rep, 2)?.trim() || code;
  if (!text) return undefined;
  const ucum = UCUM_SYSTEMS.has((component(rep, 3) ?? '').trim().toUpperCase());
  return { text, ...(code ? { code } : {}), ucum };
}

const RANGE = /^\s*([+-]?\d+(?:\.\d+)?)\s*(?:-|~|～|–|—|to)\s*([+-]?\d+(?:\.\d+)?)\s*$/;
const BOUND = /^\s*(<=?|>=?|≤|≥)\s*([+-]?\d+(?:\.\d+)?)\s*$/;

/** OBX-7 as sent, plus its bounds when it reads as `3.5-9.5`, `<5` or `>=10`. */
export function referenceRangeOf(raw: string | undefined): { low?: number; high?: number; text?: string } | undefined {
  const text = raw?.trim();
  if (!text) return undefined;
  const range = RANGE.exec(text);
  if (range) return { low: Number(range[1]), high: Number(range[2]), text };
  const bound = BOUND.exec(text);
  if (bound) return bound[1]!.startsWith('<') || bound[1] === '≤' ? { high: Number(bound[2]), text } : { low: Number(bound[2]), text };
  return { text };
}

/** HL7 text with repetitions (TX, FT): one line per repetition. */
export function textOf(reps: readonly Repetition[]): string | undefined {
  const lines = reps.map((r) => r.map((c) => c.join('&')).join('^'));
  const text = lines.join('\n').trim();
  return text === '' ? undefined : text;
}
