export { lookupsCsv, statisticsCsv } from './csv';
export { createLookupRecorder, lookupChannels, type LookupChannel, type LookupRecorder, type ResultsRead } from './lookups';
export { lookupGroupings, lookupStatistics, type LookupGrouping, type LookupRow } from './lookups-query';
export { groupings, MAX_ROWS, periods, recognitionStatistics, totalsOver, wholeMonths, type Grouping, type Period, type StatisticsQuery, type StatisticsRow } from './query';
export { createStatsRouter, type StatsRouterDeps } from './router';
export { noDecisionShare, recognitionRate, savingsOf, type Savings, type SavingsFactors } from './savings';
export { isFineBreakdown, suppressSmallCells, suppressSmallLookups, type PublishedLookupRow, type PublishedRow, type SmallCellRule } from './small-cells';
