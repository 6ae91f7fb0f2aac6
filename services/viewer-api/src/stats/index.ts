export { statisticsCsv } from './csv';
export { groupings, MAX_ROWS, periods, recognitionStatistics, totalsOver, wholeMonths, type Grouping, type Period, type StatisticsQuery, type StatisticsRow } from './query';
export { createStatsRouter, type StatsRouterDeps } from './router';
export { noDecisionShare, recognitionRate, savingsOf, type Savings, type SavingsFactors } from './savings';
