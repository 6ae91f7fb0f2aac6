import { statisticsCsv } from './csv';
import type { StatisticsRow } from './query';
import { isFineBreakdown, suppressSmallCells, suppressSmallLookups } from './small-cells';

const line = (patch: Partial<StatisticsRow>): StatisticsRow => ({
  period: '2026-03-03',
  organization: 'H2',
  item: 'CT-HEAD',
  uploads: 0,
  lookups: 0,
  checks: 0,
  checksWithRecognizable: 0,
  checksWithoutDecision: 0,
  recognized: 0,
  declined: 0,
  declinedByReason: {},
  missedRepeats: 0,
  missedCny: 0,
  recognitionRate: null,
  noDecisionShare: null,
  savedCny: 0,
  savedCnyFlatRate: 0,
  filmsAvoided: 0,
  filmCnySaved: 0,
  plasticKg: 0,
  ...patch,
});

describe('small-cell suppression', () => {
  const fine = { minCell: 5, by: 'day' as const, groups: ['organization', 'item'] };

  it('applies to lines by day, organization (or source) and item (or modality) only, and not when turned off', () => {
    expect(isFineBreakdown(fine)).toBe(true);
    expect(isFineBreakdown({ ...fine, groups: ['source', 'modality'] })).toBe(true);
    expect(isFineBreakdown({ ...fine, by: 'month' })).toBe(false);
    expect(isFineBreakdown({ ...fine, groups: ['organization'] })).toBe(false);
    expect(isFineBreakdown({ ...fine, groups: ['grade', 'item'] })).toBe(false);
    expect(isFineBreakdown({ ...fine, minCell: 0 })).toBe(false);
    expect(isFineBreakdown({ ...fine, minCell: 1 })).toBe(false);
  });

  it('withholds counts from 1 to minCell − 1 and every figure made from them; shows 0 and minCell', () => {
    const [row] = suppressSmallCells(
      [line({ uploads: 4, filmsAvoided: 8, filmCnySaved: 132, plasticKg: 0.32, checks: 5, checksWithRecognizable: 5, checksWithoutDecision: 1, noDecisionShare: 0.2, missedRepeats: 1, missedCny: 200, recognized: 0, declined: 7, recognitionRate: 0, declinedByReason: { 'condition-changed': 6, other: 2 } })],
      fine,
    );
    expect(row).toEqual({
      ...line({}),
      uploads: null,
      filmsAvoided: null,
      filmCnySaved: null,
      plasticKg: null,
      checks: 5,
      checksWithRecognizable: 5,
      checksWithoutDecision: null,
      noDecisionShare: null,
      missedRepeats: null,
      missedCny: null,
      recognized: 0,
      declined: 7,
      recognitionRate: null,
      declinedByReason: { 'condition-changed': 6, other: null },
      suppressed: expect.arrayContaining(['uploads', 'filmsAvoided', 'checksWithoutDecision', 'noDecisionShare', 'missedRepeats', 'missedCny', 'recognitionRate', 'declinedByReason.other']),
    });
    expect(row!.suppressed).toHaveLength(10);
    // a line with nothing small is left as it is
    const whole = line({ uploads: 12, checks: 0 });
    expect(suppressSmallCells([whole], fine)).toEqual([whole]);
    expect(suppressSmallCells([line({ uploads: 2 })], { ...fine, by: 'month' })).toEqual([line({ uploads: 2 })]);
    expect(suppressSmallLookups([{ period: '2026-03-03', organization: 'H2', source: 'H1', item: null, lookups: 3 }], { ...fine, groups: ['organization', 'source', 'item'] })).toEqual([
      { period: '2026-03-03', organization: 'H2', source: 'H1', item: null, lookups: null, suppressed: ['lookups'] },
    ]);
  });

  it('says "suppressed" in CSV where a count is withheld, and leaves a rate with nothing to divide by empty', () => {
    const rows = suppressSmallCells([line({ uploads: 3, recognitionRate: null })], fine);
    const [header, values] = statisticsCsv(rows, ['organization', 'item']).slice(1).trim().split('\r\n');
    const cell = Object.fromEntries(header!.split(',').map((c, i) => [c, values!.split(',')[i]]));
    expect(cell).toMatchObject({ uploads: 'suppressed', filmsAvoided: 'suppressed', plasticKg: 'suppressed', checks: '0', recognitionRate: '', 'declined:other': '0' });
  });
});
