import type { Knex } from '@hub/shared/db';

/** The counters of a daily roll-up row, as the deltas carry them. */
export const DAILY_MEASURES = [
  'uploads',
  'films_avoided',
  'lookups',
  'checks',
  'checks_recognizable',
  'checks_decided',
  'recognized',
  'declined',
  'missed',
  'saved_cny',
  'missed_cny',
] as const;

const FOLD_BATCH = 50_000;

/**
 * Folds the appended deltas (measures, reasons declined, look-ups by source organization) into
 * the daily and monthly roll-ups, a batch at a time, each in one statement:
 * the deltas are deleted and their sums added in the same snapshot, so statistics (which read
 * both) never count a delta twice or miss one. Several folders may run: each takes deltas the
 * others have not locked. Returns the deltas folded.
 */
export async function foldDailyDeltas(db: Knex): Promise<number> {
  let folded = 0;
  for (;;) {
    const sums = DAILY_MEASURES.map((m) => `sum(${m})`).join(', ');
    const adds = DAILY_MEASURES.map((m) => `${m} = d.${m} + excluded.${m}`).join(', ');
    const { rows } = await db.raw(
      `with moved as (
         delete from recognition_daily_deltas where id in (select id from recognition_daily_deltas order by id limit ? for update skip locked)
         returning *
       ), daily as (
         insert into recognition_daily as d (day, organization_id, item_id, ${DAILY_MEASURES.join(', ')})
         select day, organization_id, item_id, ${sums} from moved group by day, organization_id, item_id
         on conflict (day, organization_id, item_id) do update set ${adds}
       ), monthly as (
         insert into recognition_monthly as d (month, organization_id, item_id, ${DAILY_MEASURES.join(', ')})
         select date_trunc('month', day)::date, organization_id, item_id, ${sums} from moved group by 1, organization_id, item_id
         on conflict (month, organization_id, item_id) do update set ${adds}
       )
       select count(*)::int as n from moved`,
      [FOLD_BATCH],
    );
    const { rows: reasons } = await db.raw(
      `with moved as (
         delete from recognition_reason_deltas where id in (select id from recognition_reason_deltas order by id limit ? for update skip locked)
         returning *
       ), daily as (
         insert into recognition_daily_reasons as d (day, organization_id, item_id, reason, declined)
         select day, organization_id, item_id, reason, sum(declined) from moved group by day, organization_id, item_id, reason
         on conflict (day, organization_id, item_id, reason) do update set declined = d.declined + excluded.declined
       ), monthly as (
         insert into recognition_monthly_reasons as d (month, organization_id, item_id, reason, declined)
         select date_trunc('month', day)::date, organization_id, item_id, reason, sum(declined) from moved group by 1, organization_id, item_id, reason
         on conflict (month, organization_id, item_id, reason) do update set declined = d.declined + excluded.declined
       )
       select count(*)::int as n from moved`,
      [FOLD_BATCH],
    );
    const { rows: lookups } = await db.raw(
      `with moved as (
         delete from recognition_lookup_deltas where id in (select id from recognition_lookup_deltas order by id limit ? for update skip locked)
         returning *
       ), daily as (
         insert into recognition_lookups_daily as d (day, region_id, organization_id, source_organization_id, item_id, channel, lookups)
         select day, region_id, organization_id, source_organization_id, item_id, channel, sum(lookups) from moved
         group by day, region_id, organization_id, source_organization_id, item_id, channel
         on conflict (day, region_id, organization_id, source_organization_id, item_id, channel) do update set lookups = d.lookups + excluded.lookups
       ), monthly as (
         insert into recognition_lookups_monthly as d (month, region_id, organization_id, source_organization_id, item_id, channel, lookups)
         select date_trunc('month', day)::date, region_id, organization_id, source_organization_id, item_id, channel, sum(lookups) from moved
         group by 1, region_id, organization_id, source_organization_id, item_id, channel
         on conflict (month, region_id, organization_id, source_organization_id, item_id, channel) do update set lookups = d.lookups + excluded.lookups
       )
       select count(*)::int as n from moved`,
      [FOLD_BATCH],
    );
    const n = (rows[0].n as number) + (reasons[0].n as number) + (lookups[0].n as number);
    folded += n;
    if (n < FOLD_BATCH) return folded;
  }
}
