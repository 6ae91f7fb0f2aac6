import type { Knex } from '@hub/shared/db';
import { badInput } from '@hub/shared/errors';
import { noDecisionShare, recognitionRate, round2, savingsOf, type SavingsFactors } from './savings';

export const periods = ['day', 'month', 'total'] as const;
export type Period = (typeof periods)[number];
export const groupings = ['organization', 'grade', 'kind', 'item', 'modality'] as const;
export type Grouping = (typeof groupings)[number];

/** The national list of reasons a recognizable result is declined (recognition/decisions.ts). */
export type ReasonCounts = Record<string, number>;

/** One line of the statistics: aggregates only, never a patient. */
export interface StatisticsRow {
  period: string | null;
  organization?: string;
  organizationName?: string;
  kind?: string;
  grade?: string | null;
  item?: string;
  modality?: string | null;
  uploads: number;
  /** results of other organizations shown by the organization's checks, or read through FHIR and DICOMweb (once a day each; /stats/recognition/lookups breaks these down) */
  lookups: number;
  checks: number;
  checksWithRecognizable: number;
  checksWithoutDecision: number;
  recognized: number;
  declined: number;
  declinedByReason: ReasonCounts;
  missedRepeats: number;
  missedCny: number;
  recognitionRate: number | null;
  noDecisionShare: number | null;
  /** the catalog prices of the repeats avoided, on the day each was avoided */
  savedCny: number;
  /** the repeats avoided at the configured flat rate (the reference deployment's arithmetic) */
  savedCnyFlatRate: number;
  filmsAvoided: number;
  filmCnySaved: number;
  plasticKg: number;
}

const MEASURES = ['uploads', 'films_avoided', 'lookups', 'checks', 'checks_recognizable', 'checks_decided', 'recognized', 'declined', 'missed', 'saved_cny', 'missed_cny'];

// Each period is grouped on as its first day (a date is cheaper than text) and shown as text at the end.
export const periodText: Record<Period, string> = { day: `to_char(a.period, 'YYYY-MM-DD')`, month: `to_char(a.period, 'YYYY-MM')`, total: 'null::text' };
export const groupSql: Record<Grouping, string[]> = {
  organization: ['o.code as organization', 'o.name as "organizationName"', 'o.kind', 'o.grade'],
  grade: ['o.grade'],
  kind: ['o.kind'],
  item: ['i.code as item'],
  modality: [`case when i.kind = 'imaging' then i.category end as modality`],
};
export const groupKeys: Record<Grouping, string[]> = { organization: ['o.code', 'o.name', 'o.kind', 'o.grade'], grade: ['o.grade'], kind: ['o.kind'], item: ['i.code'], modality: [`case when i.kind = 'imaging' then i.category end`] };
const rowKeys: Record<Grouping, string[]> = { organization: ['organization'], grade: ['grade'], kind: ['kind'], item: ['item'], modality: ['modality'] };

export interface RollUps {
  daily: string;
  monthly: string;
  deltas: string;
}
const MEASURE_TABLES: RollUps = { daily: 'recognition_daily', monthly: 'recognition_monthly', deltas: 'recognition_daily_deltas' };
const REASON_TABLES: RollUps = { daily: 'recognition_daily_reasons', monthly: 'recognition_monthly_reasons', deltas: 'recognition_reason_deltas' };
/** Look-ups through FHIR and DICOMweb, by reader, source organization, item (or none) and channel (stats/lookups.ts). */
export const LOOKUP_TABLES: RollUps = { daily: 'recognition_lookups_daily', monthly: 'recognition_lookups_monthly', deltas: 'recognition_lookup_deltas' };

const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
const firstOfNextMonth = (day: string) => {
  const d = new Date(`${day.slice(0, 7)}-01T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + 1);
  return d.toISOString().slice(0, 10);
};

/** The whole calendar months inside from..to (both days inclusive), as [first, until), or null. */
export function wholeMonths(from: string, to: string): { first: string; until: string } | null {
  const first = from.endsWith('-01') ? from : firstOfNextMonth(from);
  const after = nextDay(to);
  const until = after.endsWith('-01') ? after : `${to.slice(0, 7)}-01`;
  return first < until ? { first, until } : null;
}

/**
 * The range's roll-up rows as (period, columns…): by day, the daily rows; by month or for the
 * whole range, the monthly rows of its whole months and the daily rows of the days before and
 * after them (each a range of a primary key) — and always the deltas not folded yet.
 */
export function rangeRows(q: Pick<StatisticsQuery, 'from' | 'to' | 'by'>, tables: RollUps, columns: string[]): { sql: string; bindings: string[] } {
  const cols = columns.join(', ');
  const fromDays = q.by === 'day' ? 'day' : q.by === 'month' ? `date_trunc('month', day)::date` : 'null::date';
  const months = q.by === 'day' ? null : wholeMonths(q.from, q.to);
  const deltas = `select ${fromDays} as period, ${cols} from ${tables.deltas} where day between ?::date and ?::date`;
  if (!months) {
    return { sql: `select ${fromDays} as period, ${cols} from ${tables.daily} where day between ?::date and ?::date union all ${deltas}`, bindings: [q.from, q.to, q.from, q.to] };
  }
  return {
    sql: `select ${q.by === 'month' ? 'month' : 'null::date'} as period, ${cols} from ${tables.monthly} where month >= ?::date and month < ?::date
      union all select ${fromDays} as period, ${cols} from ${tables.daily} where day >= ?::date and day < ?::date
      union all select ${fromDays} as period, ${cols} from ${tables.daily} where day >= ?::date and day <= ?::date
      union all ${deltas}`,
    bindings: [months.first, months.until, q.from, months.first, months.until, q.to, q.from, q.to],
  };
}

export interface StatisticsQuery {
  regionId: number;
  from: string;
  to: string;
  by: Period;
  groups: Grouping[];
}

/** At most this many lines in one answer: a finer one is asked for in parts. */
export const MAX_ROWS = 200_000;

/**
 * The authority's statistics over a range of days: the monthly and daily roll-ups (rangeRows)
 * plus what the stage has not folded yet, for the items of the authority's region, summed by
 * period and the groupings asked.
 */
export async function recognitionStatistics(db: Knex, q: StatisticsQuery, factors: SavingsFactors): Promise<StatisticsRow[]> {
  const groups = [...new Set(q.groups)];
  const select = [`${periodText[q.by]} as period`, ...groups.flatMap((g) => groupSql[g])];
  const keys = ['a.period', ...groups.flatMap((g) => groupKeys[g])];
  // First summed by period and only the ids the groupings need (small keys: a year's rows become
  // a few thousand groups at most), then named and grouped as asked.
  const byOrganization = groups.some((g) => g === 'organization' || g === 'grade' || g === 'kind');
  const byItem = groups.some((g) => g === 'item' || g === 'modality');
  const ids = [...(byOrganization ? ['organization_id'] : []), ...(byItem ? ['item_id'] : [])];
  const summed = (tables: RollUps, columns: string[], extra: string[] = []) => {
    const range = rangeRows(q, tables, ['organization_id', 'item_id', ...extra, ...columns]);
    return {
      sql: `select d.period, ${[...ids, ...extra].map((c) => `d.${c}, `).join('')}${columns.map((c) => `sum(d.${c})::float8 as ${c}`).join(', ')}
        from (${range.sql}) d
        where d.item_id in (select id from catalog_items where region_id = ?)
        group by ${['d.period', ...ids.map((c) => `d.${c}`), ...extra.map((c) => `d.${c}`)].join(', ')}`,
      bindings: [...range.bindings, q.regionId],
    };
  };
  // (a look-up's item is null when its result maps to none)
  const named = `${byOrganization ? 'join organizations o on o.id = a.organization_id' : ''} ${byItem ? 'left join catalog_items i on i.id = a.item_id' : ''}`;

  const measures = summed(MEASURE_TABLES, MEASURES);
  // look-ups through FHIR and DICOMweb join those the checks showed, in the same lines
  const readRange = rangeRows(q, LOOKUP_TABLES, ['region_id', 'organization_id', 'item_id', 'lookups']);
  const reads = `select d.period, ${ids.map((c) => `d.${c}, `).join('')}${MEASURES.map((m) => (m === 'lookups' ? 'sum(d.lookups)::float8' : '0::float8') + ` as ${m}`).join(', ')}
    from (${readRange.sql}) d where d.region_id = ? group by ${['d.period', ...ids.map((c) => `d.${c}`)].join(', ')}`;
  const { rows } = await db.raw(
    `select ${select.join(', ')}, ${MEASURES.map((m) => `sum(a.${m})::float8 as ${m}`).join(', ')}
     from (${measures.sql} union all ${reads}) a ${named}
     group by ${keys.join(', ')} order by ${keys.join(', ')} limit ${MAX_ROWS + 1}`,
    [...measures.bindings, ...readRange.bindings, q.regionId],
  );
  if (rows.length > MAX_ROWS) throw badInput(`more than ${MAX_ROWS} lines: ask for fewer days, months instead of days, or fewer groupings`, { location: 'group', code: 'too-many-rows' });
  const declined = summed(REASON_TABLES, ['declined'], ['reason']);
  const { rows: reasons } = await db.raw(
    `select ${select.join(', ')}, a.reason, sum(a.declined)::float8 as declined
     from (${declined.sql}) a ${named}
     group by ${[...keys, 'a.reason'].join(', ')}`,
    declined.bindings,
  );
  const keyOf = (r: Record<string, unknown>) => JSON.stringify([r.period, ...groups.flatMap((g) => rowKeys[g].map((k) => r[k]))]);
  const byKey = new Map<string, ReasonCounts>();
  for (const r of reasons as Array<Record<string, unknown>>) {
    const counts = byKey.get(keyOf(r)) ?? {};
    counts[r.reason as string] = (counts[r.reason as string] ?? 0) + (r.declined as number);
    byKey.set(keyOf(r), counts);
  }
  return (rows as Array<Record<string, any>>).map((r) => statisticsRow(r, byKey.get(keyOf(r)) ?? {}, factors)); // eslint-disable-line @typescript-eslint/no-explicit-any
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function statisticsRow(r: Record<string, any>, declinedByReason: ReasonCounts, factors: SavingsFactors): StatisticsRow {
  const savings = savingsOf({ repeatsAvoided: r.recognized, filmsAvoided: r.films_avoided }, factors);
  const grouped = Object.fromEntries(['organization', 'organizationName', 'kind', 'grade', 'item', 'modality'].filter((k) => k in r).map((k) => [k, r[k]]));
  return {
    period: r.period,
    ...grouped,
    uploads: r.uploads,
    lookups: r.lookups,
    checks: r.checks,
    checksWithRecognizable: r.checks_recognizable,
    checksWithoutDecision: r.checks_recognizable - r.checks_decided,
    recognized: r.recognized,
    declined: r.declined,
    declinedByReason,
    missedRepeats: r.missed,
    missedCny: round2(r.missed_cny),
    recognitionRate: recognitionRate({ recognized: r.recognized, declined: r.declined, missed: r.missed }),
    noDecisionShare: noDecisionShare({ checksRecognizable: r.checks_recognizable, checksDecided: r.checks_decided }),
    savedCny: round2(r.saved_cny),
    savedCnyFlatRate: savings.repeatsCnyFlatRate,
    filmsAvoided: r.films_avoided,
    filmCnySaved: savings.filmCny,
    plasticKg: savings.plasticKg,
  };
}

/** The totals of a whole range, one line (the projection's basis). */
export async function totalsOver(db: Knex, q: Omit<StatisticsQuery, 'by' | 'groups'>, factors: SavingsFactors): Promise<StatisticsRow> {
  const [row] = await recognitionStatistics(db, { ...q, by: 'total', groups: [] }, factors);
  return row ?? statisticsRow(Object.fromEntries(MEASURES.map((m) => [m, 0])), {}, factors);
}
