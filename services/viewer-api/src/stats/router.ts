import { Router, type Request, type Response } from 'express';
import { principalOf, requireScope } from '@hub/shared/auth';
import type { Knex } from '@hub/shared/db';
import { badInput, forbidden } from '@hub/shared/errors';
import { addDays, isCalendarDate, localDate, type FactsCache } from '@hub/shared/recognition';
import { lookupsCsv, statisticsCsv } from './csv';
import { lookupGroupings, lookupStatistics, type LookupGrouping } from './lookups-query';
import { groupings, periods, recognitionStatistics, totalsOver, type Grouping, type Period, type StatisticsRow } from './query';
import { round2, type SavingsFactors } from './savings';
import { suppressSmallCells, suppressSmallLookups } from './small-cells';

export interface StatsRouterDeps {
  db: Knex;
  facts: FactsCache;
  savings: SavingsFactors;
  /** small-cell suppression: counts from 1 to minCell − 1 in lines by day, organization and item are withheld (0: none) */
  minCell: number;
  now?: () => Date;
}

const one = (req: Request, name: string): string | undefined => {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw badInput(`${name} is given once`, { location: name, code: 'invalid-query' });
  return v;
};

/** What a year at the trailing twelve months' pace adds up to, and five of them. */
function projection(ttm: StatisticsRow, from: string, to: string) {
  const year = {
    recognized: ttm.recognized,
    savedCny: ttm.savedCny,
    savedCnyFlatRate: ttm.savedCnyFlatRate,
    missedRepeats: ttm.missedRepeats,
    missedCny: ttm.missedCny,
    filmsAvoided: ttm.filmsAvoided,
    filmCnySaved: ttm.filmCnySaved,
    plasticKg: ttm.plasticKg,
  };
  const five = Object.fromEntries(Object.entries(year).map(([k, v]) => [k, round2(v * 5)]));
  return { basis: { from, to, note: 'the trailing twelve months, held flat' }, perYear: year, fiveYears: five };
}

/** The query both statistics take, checked: the authority's region, the days, the period, the groupings, the format. */
async function statsQuery<G extends string>(deps: StatsRouterDeps, req: Request, res: Response, allowed: readonly G[]) {
  const caller = principalOf(res).organization;
  if (caller.kind !== 'authority') throw forbidden('statistics are the health authority\'s', { code: 'not-authority' });
  const facts = await deps.facts.get();
  const region = facts.regionOf(caller.id);
  if (!region) throw badInput('the hub has no region yet: seed a catalog first', { code: 'no-region' });

  const today = localDate((deps.now ?? (() => new Date()))(), region.timeZone);
  const to = one(req, 'to') ?? today;
  const from = one(req, 'from') ?? addDays(to, -364);
  for (const [name, day] of [['from', from], ['to', to]] as const) {
    if (!isCalendarDate(day)) throw badInput(`${name} must be a day written YYYY-MM-DD`, { location: name, code: 'invalid-query' });
  }
  if (from > to) throw badInput('from is on or before to', { location: 'from', code: 'period-reversed' });
  const by = (one(req, 'by') ?? 'month') as Period;
  if (!periods.includes(by)) throw badInput(`by is ${periods.join(', ')}`, { location: 'by', code: 'invalid-query' });
  const groups = (one(req, 'group') ?? '').split(',').map((g) => g.trim()).filter(Boolean) as G[];
  const unknown = groups.find((g) => !allowed.includes(g));
  if (unknown) throw badInput(`group "${unknown}" is not one of ${allowed.join(', ')}`, { location: 'group', code: 'invalid-query' });
  const format = one(req, 'format') ?? (req.accepts(['application/json', 'text/csv']) === 'text/csv' ? 'csv' : 'json');
  if (format !== 'csv' && format !== 'json') throw badInput('format is json or csv', { location: 'format', code: 'invalid-query' });
  res.setHeader('Cache-Control', 'no-store');
  return { region, from, to, by, groups, format, smallCells: { minCell: deps.minCell, by, groups } };
}

const sendCsv = (res: Response, name: string, body: string) => {
  res.type('text/csv; charset=utf-8').setHeader('Content-Disposition', `attachment; filename="${name}.csv"`);
  res.send(body);
};

/**
 * GET /stats/recognition — the authority's statistics of mutual recognition (scope stats:read,
 * an authority's token only): aggregates by day or month, organization, its grade or kind,
 * item and modality, with the savings and a five-year projection; JSON, or CSV with
 * `Accept: text/csv` or `?format=csv`. Never a patient-level row; small counts in lines by
 * day, organization and item are withheld (small-cells.ts).
 *
 * GET /stats/recognition/lookups — look-ups of other organizations' results through FHIR and
 * DICOMweb: who read whose results, of which item, through which door.
 *
 * Query: from, to (days, inclusive; default the twelve months up to today), by=day|month|total
 * (default month), group=organization,item,… (default none: one line per period).
 */
export function createStatsRouter(deps: StatsRouterDeps): Router {
  const router = Router();

  router.get('/stats/recognition', requireScope('stats:read'), async (req, res) => {
    const { region, from, to, by, groups, format, smallCells } = await statsQuery<Grouping>(deps, req, res, groupings);
    const ttmFrom = addDays(to, -364);
    const [rows, ttm] = await Promise.all([
      recognitionStatistics(deps.db, { regionId: region.id, from, to, by, groups }, deps.savings),
      totalsOver(deps.db, { regionId: region.id, from: ttmFrom, to }, deps.savings),
    ]);
    const published = suppressSmallCells(rows, smallCells);
    if (format === 'csv') return sendCsv(res, `recognition-${region.code}-${from}-${to}`, statisticsCsv(published, groups));
    res.json({ region: region.code, from, to, by, groups, factors: deps.savings, minCell: deps.minCell, rows: published, projection: projection(ttm, ttmFrom, to) });
  });

  router.get('/stats/recognition/lookups', requireScope('stats:read'), async (req, res) => {
    const { region, from, to, by, groups, format, smallCells } = await statsQuery<LookupGrouping>(deps, req, res, lookupGroupings);
    const rows = suppressSmallLookups(await lookupStatistics(deps.db, { regionId: region.id, from, to, by, groups }), smallCells);
    if (format === 'csv') return sendCsv(res, `lookups-${region.code}-${from}-${to}`, lookupsCsv(rows, groups));
    res.json({ region: region.code, from, to, by, groups, minCell: deps.minCell, rows });
  });

  return router;
}
