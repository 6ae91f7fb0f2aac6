import { declineReasons as REASONS } from '../recognition/decisions';
import type { Grouping, StatisticsRow } from './query';

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

/**
 * The statistics as CSV (RFC 4180, CRLF), one column per measure and per reason declined. It
 * starts with a UTF-8 byte order mark: Excel as installed in China opens a file without one
 * as GBK and garbles the organizations' names.
 */
export function statisticsCsv(rows: StatisticsRow[], groups: Grouping[]): string {
  const groupColumns = [...new Set(groups.flatMap((g) => GROUP_COLUMNS[g]))];
  const header = ['period', ...groupColumns, ...MEASURE_COLUMNS, ...REASONS.map((r) => `declined:${r}`)];
  const lines = rows.map((r) => [r.period, ...groupColumns.map((c) => r[c]), ...MEASURE_COLUMNS.map((c) => r[c]), ...REASONS.map((x) => r.declinedByReason[x] ?? 0)].map(field).join(','));
  return `\ufeff${[header.join(','), ...lines].join('\r\n')}\r\n`;
}
