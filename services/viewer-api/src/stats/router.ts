import { Router, type Request } from 'express';
import { principalOf, requireScope } from '@hub/shared/auth';
import type { Knex } from '@hub/shared/db';
import { badInput, forbidden } from '@hub/shared/errors';
import { addDays, isCalendarDate, localDate, type FactsCache } from '@hub/shared/recognition';
import { statisticsCsv } from './csv';
import { groupings, periods, recognitionStatistics, totalsOver, type Grouping, type Period, type StatisticsRow } from './query';
import { round2, type SavingsFactors } from './savings';

export interface StatsRouterDeps {
  db: Knex;
  facts: FactsCache;
  savings: SavingsFactors;
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

/**
 * GET /stats/recognition — the authority's statistics of mutual recognition (scope stats:read,
 * an authority's token only): aggregates by day or month, organization, its grade or kind,
 * item and modality, with the savings and a five-year projection; JSON, or CSV with
 * `Accept: text/csv` or `?format=csv`. Never a patient-level row.
 *
 * Query: from, to (days, inclusive; default the twelve months up to today), by=day|month|total
 * (default month), group=organization,item,… (default none: one line per period).
 */
export function createStatsRouter(deps: StatsRouterDeps): Router {
  const now = deps.now ?? (() => new Date());
  const router = Router();

  router.get('/stats/recognition', requireScope('stats:read'), async (req, res) => {
    const caller = principalOf(res).organization;
    if (caller.kind !== 'authority') throw forbidden('statistics are the health authority\'s', { code: 'not-authority' });
    const facts = await deps.facts.get();
    const region = facts.regionOf(caller.id);
    if (!region) throw badInput('the hub has no region yet: seed a catalog first', { code: 'no-region' });

    const today = localDate(now(), region.timeZone);
    const to = one(req, 'to') ?? today;
    const from = one(req, 'from') ?? addDays(to, -364);
    for (const [name, day] of [['from', from], ['to', to]] as const) {
      if (!isCalendarDate(day)) throw badInput(`${name} must be a day written YYYY-MM-DD`, { location: name, code: 'invalid-query' });
    }
    if (from > to) throw badInput('from is on or before to', { location: 'from', code: 'period-reversed' });
    const by = (one(req, 'by') ?? 'month') as Period;
    if (!periods.includes(by)) throw badInput(`by is ${periods.join(', ')}`, { location: 'by', code: 'invalid-query' });
    const groups = (one(req, 'group') ?? '').split(',').map((g) => g.trim()).filter(Boolean) as Grouping[];
    const unknown = groups.find((g) => !groupings.includes(g));
    if (unknown) throw badInput(`group "${unknown}" is not one of ${groupings.join(', ')}`, { location: 'group', code: 'invalid-query' });
    const format = one(req, 'format') ?? (req.accepts(['application/json', 'text/csv']) === 'text/csv' ? 'csv' : 'json');
    if (format !== 'csv' && format !== 'json') throw badInput('format is json or csv', { location: 'format', code: 'invalid-query' });

    const ttmFrom = addDays(to, -364);
    const [rows, ttm] = await Promise.all([
      recognitionStatistics(deps.db, { regionId: region.id, from, to, by, groups }, deps.savings),
      totalsOver(deps.db, { regionId: region.id, from: ttmFrom, to }, deps.savings),
    ]);
    res.setHeader('Cache-Control', 'no-store');
    if (format === 'csv') {
      res.type('text/csv; charset=utf-8').setHeader('Content-Disposition', `attachment; filename="recognition-${region.code}-${from}-${to}.csv"`);
      res.send(statisticsCsv(rows, groups));
      return;
    }
    res.json({ region: region.code, from, to, by, groups, factors: deps.savings, rows, projection: projection(ttm, ttmFrom, to) });
  });

  return router;
}
