import type { Knex } from 'knex';

/**
 * Two additions to mutual recognition's statistics.
 *
 * Look-ups of other organizations' results through FHIR and DICOMweb, counted as they happen
 * (statistics never read audit_events, which is partitioned by month and grows with every
 * read). A look-up is one organization reading one result another organization holds, on one
 * day of its region, however many requests it takes (a viewer opening a study makes dozens):
 * recognition_lookup_marks remembers the (day, reader, result) pairs already counted and is
 * emptied of days gone by. Each new pair appends a delta by day, region, reader, source
 * organization, item (null when the result maps to none, or not yet) and channel; the
 * recognition stage folds them into the daily and monthly roll-ups as it does the others.
 * Sizes: marks hold a few days of distinct reads; the roll-ups grow with days × readers ×
 * sources × items (a city year: a few million rows at most; statistics read a day range).
 *
 * Retracted missed repeats: a decision recorded after the repeat it covers (decisions lag
 * behind orders) retracts the missed repeat. The row stays, with when and by which decision;
 * statistics stop counting it (the decision's transaction appends the negative deltas).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table recognition_lookup_marks (
      day date not null,
      organization_id bigint not null,
      kind text not null check (kind in ('lab', 'imaging')),
      result_id bigint not null,
      -- "counted already today" (the insert's conflict), and the prune of past days (its leading column)
      primary key (day, organization_id, kind, result_id)
    );

    create table recognition_lookups_daily (
      day date not null,
      -- the reader's region: statistics are an authority's, over its region
      region_id bigint not null references regions (id),
      organization_id bigint not null references organizations (id),
      source_organization_id bigint not null references organizations (id),
      item_id bigint references catalog_items (id),
      channel text not null check (channel in ('fhir', 'dicomweb')),
      lookups integer not null default 0,
      -- the fold's upsert, and statistics over a range of days (its leading column)
      constraint recognition_lookups_daily_key unique nulls not distinct (day, region_id, organization_id, source_organization_id, item_id, channel)
    );
    create table recognition_lookups_monthly (
      month date not null check (extract(day from month) = 1),
      region_id bigint not null references regions (id),
      organization_id bigint not null references organizations (id),
      source_organization_id bigint not null references organizations (id),
      item_id bigint references catalog_items (id),
      channel text not null check (channel in ('fhir', 'dicomweb')),
      lookups integer not null default 0,
      constraint recognition_lookups_monthly_key unique nulls not distinct (month, region_id, organization_id, source_organization_id, item_id, channel)
    );
    create table recognition_lookup_deltas (
      id bigint generated always as identity primary key,
      day date not null,
      region_id bigint not null,
      organization_id bigint not null,
      source_organization_id bigint not null,
      item_id bigint,
      channel text not null,
      lookups integer not null default 1
    );
    -- statistics add what is not folded yet by the same day range
    create index recognition_lookup_deltas_day_idx on recognition_lookup_deltas (day);

    alter table recognition_missed
      add column retracted_at timestamptz,
      add column retracted_by_decision_id bigint references recognition_decisions (id);
    -- "this organization's live missed repeats of this person's item": what a late decision retracts
    create index recognition_missed_person_item_idx on recognition_missed (person_id, item_id, organization_id) where retracted_at is null;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop index recognition_missed_person_item_idx;
    alter table recognition_missed drop column retracted_by_decision_id, drop column retracted_at;
    drop table recognition_lookup_deltas, recognition_lookups_monthly, recognition_lookups_daily, recognition_lookup_marks;
  `);
}
