import { badInput } from '@hub/shared/errors';
import { tagOfKey, type Level } from './attributes';

/**
 * A QIDO-RS query (PS3.18 8.3.4) as the hub runs it: matching keys by keyword or tag, with
 * the matching PS3.4 C.2.2.2 defines for each (single value, `*`/`?` wildcards, UID lists,
 * date ranges), includefield, limit and offset. Keys the hub cannot match on are ignored and
 * named in a Warning header, as PS3.18 allows.
 */
export interface QidoQuery {
  level: Level;
  scope: { study?: string; series?: string };
  patientId?: Pattern;
  patientName?: Pattern;
  /** Inclusive ISO dates; either end may be open. */
  studyDate?: { from?: string; to?: string };
  modalitiesInStudy?: string[];
  accessionNumber?: Pattern;
  studyUids?: string[];
  patientBirthDate?: { from?: string; to?: string };
  patientSex?: string;
  studyDescription?: Pattern;
  modality?: string;
  seriesUids?: string[];
  seriesNumber?: number;
  sopInstanceUids?: string[];
  sopClassUids?: string[];
  instanceNumber?: number;
  include: { all: boolean; tags: Set<string> };
  limit: number;
  offset: number;
  /** Keys ignored, for the Warning header. */
  ignored: string[];
}

/** A value with DICOM wildcards as an SQL LIKE pattern, and whether an index can serve it (no leading wildcard). */
export interface Pattern {
  like: string;
  exact: boolean;
  prefixed: boolean;
  /**
   * For a PatientName given with its component delimiter (`LI^N*`): the same value as a
   * case-insensitive pattern on a stored name group, delimiters kept, so family and given
   * names are matched apart (`LI^N*` is not `LIN^…`). The key pattern above still picks the index.
   */
  components?: string;
}

export const MAX_LIMIT = 1000;

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export function pattern(value: string, normalize: (s: string) => string = (s) => s): Pattern {
  const v = normalize(value);
  const like = [...v].map((c) => (c === '*' ? '%' : c === '?' ? '_' : likeEscape(c))).join('');
  return { like, exact: !/[*?]/.test(v), prefixed: !/^[*?]/.test(v) };
}

/** The same reduction as the EMPI's nameKey (delimiters and spaces out, lower case), wildcards kept. */
export const nameKeyPattern = (value: string) => value.replace(/[\^=\s,.·•]/g, '').toLowerCase();

function dateRange(key: string, value: string): { from?: string; to?: string } {
  const iso = (d: string) => {
    const m = d.match(/^(\d{4})(\d{2})(\d{2})$/);
    const out = m && `${m[1]}-${m[2]}-${m[3]}`;
    if (!out || Number.isNaN(Date.parse(`${out}T00:00:00Z`)) || !new Date(`${out}T00:00:00Z`).toISOString().startsWith(out)) {
      throw badInput(`${key} "${value}" is not a date (YYYYMMDD) or a range of dates (YYYYMMDD-YYYYMMDD, open at either end)`, { location: key, code: 'invalid-date' });
    }
    return out;
  };
  const parts = value.replace(/\./g, '').split('-');
  if (parts.length === 1) return { from: iso(parts[0]!), to: iso(parts[0]!) };
  if (parts.length !== 2 || (parts[0] === '' && parts[1] === '')) throw badInput(`${key} "${value}" is not a date range`, { location: key, code: 'invalid-date' });
  return { from: parts[0] ? iso(parts[0]) : undefined, to: parts[1] ? iso(parts[1]) : undefined };
}

const list = (values: string[]) => values.flatMap((v) => v.split(/[\\,]/)).map((v) => v.trim()).filter(Boolean);

function uids(key: string, values: string[]): string[] {
  const out = list(values);
  for (const uid of out) if (!/^[0-9.]{1,64}$/.test(uid)) throw badInput(`${key} "${uid.slice(0, 80)}" is not a UID`, { location: key, code: 'invalid-uid' });
  if (out.length > MAX_LIMIT) throw badInput(`${key} lists more than ${MAX_LIMIT} UIDs`, { location: key, code: 'too-many-uids' });
  return out;
}

function whole(key: string, value: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(value) || Number(value) > max) throw badInput(`${key} must be a whole number${max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ''}`, { location: key, code: `invalid-${key}` });
  return Number(value);
}

/** Parses the query string of a QIDO-RS request; BadInput for a value that cannot mean anything. */
export function parseQidoQuery(level: Level, scope: QidoQuery['scope'], query: Record<string, unknown>): QidoQuery {
  const q: QidoQuery = { level, scope, include: { all: false, tags: new Set() }, limit: MAX_LIMIT, offset: 0, ignored: [] };
  for (const [key, raw] of Object.entries(query)) {
    const values = (Array.isArray(raw) ? raw : [raw]).map(String);
    const value = values[values.length - 1]!;
    if (key === 'limit') q.limit = Math.min(whole('limit', value), MAX_LIMIT);
    else if (key === 'offset') q.offset = whole('offset', value, 10_000_000);
    else if (key === 'fuzzymatching') continue;
    else if (key === 'includefield') {
      for (const field of list(values)) {
        if (field === 'all') q.include.all = true;
        else {
          const tag = tagOfKey(field);
          if (tag) q.include.tags.add(tag);
          else q.ignored.push(field);
        }
      }
    } else {
      const tag = tagOfKey(key.split('.')[0]!);
      if (!tag) {
        q.ignored.push(key);
        continue;
      }
      // an empty value is universal matching: return the attribute, match everything
      if (value === '' || key.includes('.')) {
        q.include.tags.add(tag);
        if (key.includes('.')) q.ignored.push(key);
        continue;
      }
      if (!applyKey(q, tag, values, value)) q.ignored.push(key);
      q.include.tags.add(tag);
    }
  }
  return q;
}

/** Sets the matching of one key; false when the hub does not match on it at this level. */
function applyKey(q: QidoQuery, tag: string, values: string[], value: string): boolean {
  const at = (...levels: Level[]) => levels.includes(q.level);
  switch (tag) {
    case '00100020': q.patientId = pattern(value); return true;
    case '00100010':
      q.patientName = { ...pattern(value, nameKeyPattern), ...(value.includes('^') ? { components: pattern(value.split('=')[0]!).like } : {}) };
      return true;
    case '00080020': q.studyDate = dateRange('StudyDate', value); return true;
    case '00080061': q.modalitiesInStudy = list(values).map((m) => m.toUpperCase()); return true;
    case '00080050': q.accessionNumber = pattern(value); return true;
    case '0020000D': q.studyUids = uids('StudyInstanceUID', values); return true;
    case '00100030': q.patientBirthDate = dateRange('PatientBirthDate', value); return true;
    case '00100040': q.patientSex = value.toUpperCase(); return true;
    case '00081030': q.studyDescription = pattern(value, (s) => s.toLowerCase()); return true;
    case '00080060': if (!at('series', 'instance')) return false; q.modality = value.toUpperCase(); return true;
    case '0020000E': if (!at('series', 'instance')) return false; q.seriesUids = uids('SeriesInstanceUID', values); return true;
    case '00200011': if (!at('series', 'instance')) return false; q.seriesNumber = whole('SeriesNumber', value, 2 ** 31 - 1); return true;
    case '00080018': if (!at('instance')) return false; q.sopInstanceUids = uids('SOPInstanceUID', values); return true;
    case '00080016': if (!at('instance')) return false; q.sopClassUids = uids('SOPClassUID', values); return true;
    case '00200013': if (!at('instance')) return false; q.instanceNumber = whole('InstanceNumber', value, 2 ** 31 - 1); return true;
    default: return false;
  }
}

/**
 * Every query must be answerable from an index. Keys that no index serves (a leading
 * wildcard, a description, birth date, sex, numbers) narrow a result only together with one
 * that does; alone they would read every study in the region.
 */
export function assertIndexServed(q: QidoQuery): void {
  const narrow = Boolean(
    q.scope.study || q.scope.series || (q.patientId && q.patientId.prefixed) || (q.patientName && q.patientName.prefixed) ||
      (q.accessionNumber && q.accessionNumber.prefixed) || q.studyUids || q.studyDate || q.seriesUids || q.sopInstanceUids,
  );
  if (narrow) return;
  const unserved = [
    q.patientId && 'PatientID with a leading wildcard',
    q.patientName && 'PatientName with a leading wildcard',
    q.accessionNumber && 'AccessionNumber with a leading wildcard',
    q.patientBirthDate && 'PatientBirthDate',
    q.patientSex && 'PatientSex',
    q.studyDescription && 'StudyDescription',
    q.seriesNumber !== undefined && 'SeriesNumber',
    q.sopClassUids && 'SOPClassUID',
    q.instanceNumber !== undefined && 'InstanceNumber',
  ].filter(Boolean);
  if (unserved.length > 0) {
    throw badInput(`${unserved.join(', ')} can only narrow a search that also gives PatientID, PatientName, AccessionNumber (each without a leading wildcard), StudyInstanceUID, StudyDate, SeriesInstanceUID or SOPInstanceUID`, {
      code: 'query-too-broad',
    });
  }
}
