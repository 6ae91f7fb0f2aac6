import type { LookupRow } from './lookups-query';
import type { Period, StatisticsRow } from './query';

/**
 * Small-cell suppression. The statistics are the authority's and hold no patient, but a line
 * for one day, one organization and one item counts a handful of people: "one missed CT of the
 * head at H2 on 3 March" is a patient to anyone who knows who was there. In such a line (by
 * day, broken down by organization — or the source organization of look-ups — and by item or
 * modality) a count of patients' events from 1 to minCell − 1 is not shown: it is null in
 * JSON, named in the line's `suppressed`, and `suppressed` in CSV, and so is every figure
 * derived from it (money from a count, films from uploads, a rate from its parts). Zero is
 * shown. Coarser lines (by month, for a whole range, or not down to organization and item)
 * are exact: totals and savings never change, and a month of one hospital's item is as far
 * down as an authority's report goes. No complementary suppression: a hidden day can be
 * worked out from its month and the other days when all of those are shown; the rule
 * removes the casual exposure of a single event, not a determined differencing.
 */
export interface SmallCellRule {
  minCell: number;
  by: Period;
  groups: readonly string[];
}

/** Whether the lines asked for are fine enough for the rule to apply. */
export function isFineBreakdown(rule: SmallCellRule): boolean {
  const g = new Set(rule.groups);
  return rule.minCell > 1 && rule.by === 'day' && (g.has('organization') || g.has('source')) && (g.has('item') || g.has('modality'));
}

const small = (n: number | null | undefined, minCell: number) => typeof n === 'number' && n > 0 && n < minCell;

// each count of patients' events, and what is worked out from it
const COUNTS: Array<{ count: keyof StatisticsRow; derived: Array<keyof StatisticsRow> }> = [
  { count: 'uploads', derived: ['filmsAvoided', 'filmCnySaved', 'plasticKg'] },
  { count: 'lookups', derived: [] },
  { count: 'checks', derived: [] },
  { count: 'checksWithRecognizable', derived: ['noDecisionShare'] },
  { count: 'checksWithoutDecision', derived: ['noDecisionShare'] },
  { count: 'recognized', derived: ['savedCny', 'savedCnyFlatRate', 'recognitionRate'] },
  { count: 'declined', derived: ['recognitionRate'] },
  { count: 'missedRepeats', derived: ['missedCny', 'recognitionRate'] },
];

type Nullable<T, K extends keyof T> = Omit<T, K> & { [P in K]: T[P] | null };
type Measure = (typeof COUNTS)[number]['count'] | (typeof COUNTS)[number]['derived'][number];

/** A line as published: counts and figures may be withheld (null), and `suppressed` names them. */
export type PublishedRow = Nullable<StatisticsRow, Measure> & { declinedByReason: Record<string, number | null>; suppressed?: string[] };
export type PublishedLookupRow = Nullable<LookupRow, 'lookups'> & { suppressed?: string[] };

export function suppressSmallCells(rows: StatisticsRow[], rule: SmallCellRule): PublishedRow[] {
  if (!isFineBreakdown(rule)) return rows;
  return rows.map((row) => {
    const hidden = new Set<string>();
    for (const c of COUNTS) if (small(row[c.count] as number, rule.minCell)) [c.count, ...c.derived].forEach((k) => hidden.add(k));
    const reasons = Object.fromEntries(Object.entries(row.declinedByReason).map(([r, n]) => [r, small(n, rule.minCell) ? (hidden.add(`declinedByReason.${r}`), null) : n]));
    if (hidden.size === 0) return row;
    const out: Record<string, unknown> = { ...row, declinedByReason: reasons };
    for (const k of hidden) if (k in out) out[k] = null;
    return { ...(out as PublishedRow), suppressed: [...hidden] };
  });
}

export function suppressSmallLookups(rows: LookupRow[], rule: SmallCellRule): PublishedLookupRow[] {
  if (!isFineBreakdown(rule)) return rows;
  return rows.map((row) => (small(row.lookups, rule.minCell) ? { ...row, lookups: null, suppressed: ['lookups'] } : row));
}
