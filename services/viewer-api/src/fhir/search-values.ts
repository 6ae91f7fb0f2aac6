import { badInput } from '@hub/shared/errors';
import type { Knex } from '@hub/shared/db';

/** One token of a search value: `system|code`, `|code` (no system), or `code` (any system). */
export interface Token {
  system?: string;
  /** true for `|code`: explicitly no system. */
  noSystem?: boolean;
  code: string;
}

/** The values of a token parameter: each repetition is AND, commas inside one are OR. */
export function tokensOf(values: readonly string[] | undefined): Token[][] {
  return (values ?? []).map((value) =>
    splitOr(value).map((part) => {
      const bar = part.indexOf('|');
      if (bar < 0) return { code: part };
      const system = part.slice(0, bar);
      const code = part.slice(bar + 1);
      return system === '' ? { code, noSystem: true } : { system, code };
    }),
  );
}

/** Splits on commas that are not escaped (`\,`), as FHIR search values do. */
export function splitOr(value: string): string[] {
  return value
    .split(/(?<!\\),/)
    .map((v) => v.replace(/\\([,|$\\])/g, '$1').trim())
    .filter((v) => v !== '');
}

const DATE_VALUE = /^(eq|ne|gt|lt|ge|le|sa|eb)?(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;
// A date without a zone is a day in China, where every hospital of the region is
const CHINA = '+08:00';

/** A FHIR date search value as the half-open instant range it denotes, and its prefix. */
export function dateRange(param: string, value: string): { prefix: string; from: Date; to: Date } {
  const m = DATE_VALUE.exec(value.trim());
  if (!m) throw badInput(`${param}=${value} is not a FHIR date search value (e.g. ge2024-03-01)`, { location: param, code: 'invalid-date' });
  const [, prefix = 'eq', y, mo, d, h, mi, s, zone] = m;
  if (prefix === 'ne' || prefix === 'sa' || prefix === 'eb') throw badInput(`${param}: the prefix ${prefix} is not supported (eq, gt, lt, ge, le are)`, { location: param, code: 'unsupported-prefix' });
  const at = (yy: number, mm: number, dd: number, hh = 0, mn = 0, ss = 0) =>
    new Date(`${String(yy).padStart(4, '0')}-${String(mm).padStart(2, '0')}-${String(dd).padStart(2, '0')}T${String(hh).padStart(2, '0')}:${String(mn).padStart(2, '0')}:${String(ss).padStart(2, '0')}${zone ?? CHINA}`);
  const year = Number(y);
  let from: Date;
  let to: Date;
  if (mo === undefined) [from, to] = [at(year, 1, 1), at(year + 1, 1, 1)];
  else if (d === undefined) [from, to] = [at(year, Number(mo), 1), Number(mo) === 12 ? at(year + 1, 1, 1) : at(year, Number(mo) + 1, 1)];
  else if (h === undefined) {
    from = at(year, Number(mo), Number(d));
    to = new Date(from.getTime() + 24 * 3600_000);
  } else {
    from = at(year, Number(mo), Number(d), Number(h), Number(mi), Number(s ?? 0));
    to = new Date(from.getTime() + (s === undefined ? 60_000 : 1000));
  }
  if (Number.isNaN(from.getTime())) throw badInput(`${param}=${value} is not a date`, { location: param, code: 'invalid-date' });
  return { prefix, from, to };
}

export type DateRangeQuery = Knex.QueryBuilder;

/** Adds `column` conditions for every value of a date parameter (repetitions AND). */
export function whereDate(query: Knex.QueryBuilder, column: string, param: string, values: readonly string[] | undefined): void {
  for (const value of values ?? []) {
    const { prefix, from, to } = dateRange(param, value);
    if (prefix === 'eq') query.where(column, '>=', from).where(column, '<', to);
    else if (prefix === 'gt') query.where(column, '>=', to);
    else if (prefix === 'ge') query.where(column, '>=', from);
    else if (prefix === 'lt') query.where(column, '<', from);
    else query.where(column, '<', to);
  }
}

/** `_sort` as an ORDER BY over the columns a provider allows; `fallback` when none is given. */
export function orderOf(sort: readonly string[], allowed: Record<string, string>, fallback: string): Array<{ column: string; order: 'asc' | 'desc' }> {
  const chosen = sort.length > 0 ? sort : [fallback];
  return chosen.map((s) => {
    const desc = s.startsWith('-');
    const column = allowed[desc ? s.slice(1) : s];
    if (!column) throw badInput(`_sort=${s} is not supported (${Object.keys(allowed).map((k) => `${k}, -${k}`).join(', ')})`, { location: '_sort', code: 'unsupported-sort' });
    return { column, order: desc ? 'desc' : 'asc' };
  });
}

/** Escapes LIKE wildcards so a name typed by a user only ever matches as a prefix. */
export const likePrefix = (text: string): string => `${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
