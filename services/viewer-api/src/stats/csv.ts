import { declineReasons as REASONS } from '../recognition/decisions';
import type { LookupGrouping } from './lookups-query';
import type { Grouping, StatisticsRow } from './query';
import type { PublishedLookupRow, PublishedRow } from './small-cells';

const MEASURE_COLUMNS: Array<keyof StatisticsRow> = [
  'uploads',
  'lookups',
  'checks',
  'checksWithRecognizable',
  'checksWithoutDecision',
  'recognized',
  'declined',
  'missedRepeats',
  'missedCny',
  'recognitionRate',
  'noDecisionShare',
  'savedCny',
  'savedCnyFlatRate',
  'filmsAvoided',
  'filmCnySaved',
  'plasticKg',
];

const GROUP_COLUMNS: Record<Grouping, Array<keyof StatisticsRow>> = {
  organization: ['organization', 'organizationName', 'kind', 'grade'],
  grade: ['grade'],
  kind: ['kind'],
  item: ['item'],
  modality: ['modality'],
};

// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled
const field = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

// a count withheld by small-cell suppression says so, unlike a rate with nothing to divide by (empty)
const SUPPRESSED = 'suppressed';
const shown = (r: { suppressed?: string[] }, name: string, v: unknown) => (v === null && r.suppressed?.includes(name) ? SUPPRESSED : v);

/**
 * A CSV file (RFC 4180, CRLF). It starts with a UTF-8 byte order mark: Excel as installed in
 * China opens a file without one as GBK and garbles the organizations' names.
 */
const csvFile = (header: string[], lines: unknown[][]) => `\ufeff${[header.join(','), ...lines.map((l) => l.map(field).join(','))].join('\r\n')}\r\n`;

/** The statistics as CSV, one column per measure and per reason declined. */
export function statisticsCsv(rows: PublishedRow[], groups: Grouping[]): string {
  const groupColumns = [...new Set(groups.flatMap((g) => GROUP_COLUMNS[g]))];
  const header = ['period', ...groupColumns, ...MEASURE_COLUMNS, ...REASONS.map((r) => `declined:${r}`)];
  return csvFile(
    header,
    rows.map((r) => [r.period, ...groupColumns.map((c) => r[c]), ...MEASURE_COLUMNS.map((c) => shown(r, c, r[c])), ...REASONS.map((x) => shown(r, `declinedByReason.${x}`, r.declinedByReason[x] ?? 0))]),
  );
}

const LOOKUP_GROUP_COLUMNS: Record<LookupGrouping, Array<keyof PublishedLookupRow>> = {
  organization: ['organization', 'organizationName', 'kind', 'grade'],
  grade: ['grade'],
  kind: ['kind'],
  source: ['source', 'sourceName'],
  item: ['item'],
  modality: ['modality'],
  channel: ['channel'],
};

/** The look-ups as CSV: the groupings asked, then the count. */
export function lookupsCsv(rows: PublishedLookupRow[], groups: LookupGrouping[]): string {
  const groupColumns = [...new Set(groups.flatMap((g) => LOOKUP_GROUP_COLUMNS[g]))];
  return csvFile(['period', ...groupColumns, 'lookups'], rows.map((r) => [r.period, ...groupColumns.map((c) => r[c]), shown(r, 'lookups', r.lookups)]));
}
