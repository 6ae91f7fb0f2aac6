import type { Knex } from '@hub/shared/db';
import { badInput } from '@hub/shared/errors';
import { groupKeys, groupSql, LOOKUP_TABLES, MAX_ROWS, periodText, rangeRows, type Grouping, type StatisticsQuery } from './query';

export const lookupGroupings = ['organization', 'grade', 'kind', 'source', 'item', 'modality', 'channel'] as const;
export type LookupGrouping = (typeof lookupGroupings)[number];

/** One line of the look-ups: who read whose results, of which item, through which door. Aggregates only. */
export interface LookupRow {
  period: string | null;
  organization?: string;
  organizationName?: string;
  kind?: string;
  grade?: string | null;
  /** the organization holding the results read */
  source?: string;
  sourceName?: string;
  /** null: results that map to no catalog item */
  item?: string | null;
  modality?: string | null;
  channel?: string;
  lookups: number;
}

const sql: Record<LookupGrouping, string[]> = {
  ...(groupSql as Record<Grouping, string[]>),
  source: ['so.code as source', 'so.name as "sourceName"'],
  channel: ['a.channel'],
};
const keys: Record<LookupGrouping, string[]> = { ...(groupKeys as Record<Grouping, string[]>), source: ['so.code', 'so.name'], channel: ['a.channel'] };

export type LookupQuery = Omit<StatisticsQuery, 'groups'> & { groups: LookupGrouping[] };

/**
 * Look-ups of other organizations' results through FHIR and DICOMweb, over a range of days:
 * the look-up roll-ups (the monthly ones for whole months) plus what the stage has not folded
 * yet, for readers in the authority's region, by period and the groupings asked. Results a
 * prior-result check shows are counted with the checks (the `lookups` of /stats/recognition,
 * by asker and item), not here.
 */
export async function lookupStatistics(db: Knex, q: LookupQuery): Promise<LookupRow[]> {
  const groups = [...new Set(q.groups)];
  const range = rangeRows(q, LOOKUP_TABLES, ['region_id', 'organization_id', 'source_organization_id', 'item_id', 'channel', 'lookups']);
  const byOrganization = groups.some((g) => g === 'organization' || g === 'grade' || g === 'kind');
  const byItem = groups.some((g) => g === 'item' || g === 'modality');
  const group = ['a.period', ...groups.flatMap((g) => keys[g])];
  const { rows } = await db.raw(
    `select ${[`${periodText[q.by]} as period`, ...groups.flatMap((g) => sql[g])].join(', ')}, sum(a.lookups)::float8 as lookups
     from (${range.sql}) a
     ${byOrganization ? 'join organizations o on o.id = a.organization_id' : ''}
     ${groups.includes('source') ? 'join organizations so on so.id = a.source_organization_id' : ''}
     ${byItem ? 'left join catalog_items i on i.id = a.item_id' : ''}
     where a.region_id = ?
     group by ${group.join(', ')} order by ${group.join(', ')} limit ${MAX_ROWS + 1}`,
    [...range.bindings, q.regionId],
  );
  if (rows.length > MAX_ROWS) throw badInput(`more than ${MAX_ROWS} lines: ask for fewer days, months instead of days, or fewer groupings`, { location: 'group', code: 'too-many-rows' });
  return rows as LookupRow[];
}
