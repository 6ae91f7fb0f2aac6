import type { Knex } from 'knex';

/**
 * Mutual recognition at work: every indexed result under its catalog item, the prior-result
 * checks and the decisions clinicians make on them, the repeats that were made although a
 * recognizable prior existed, and the daily roll-ups the authority's statistics read.
 *
 * Which results to map. Lab reports and imaging studies are written by the index workers;
 * a trigger on each puts the result's id in recognition_queue when it is created or when a
 * column that matters changes (status, patient, reference time, codes — not a study's
 * instance counts, which change with every instance). The recognition stage claims queue rows
 * with FOR UPDATE SKIP LOCKED and deletes them once mapped. A queue rather than an id
 * watermark: identity values are handed out before commit, so a watermark would step over a
 * row whose transaction commits late, and it would never see an update; a queue row becomes
 * visible exactly when the result it names does. Results already indexed are queued once here.
 *
 * Sizes: recognition_results has one row per result and item (a city: 1.44 M studies and
 * 6.78 M lab results; a province 10–50×); checks and decisions grow with orders (tens of
 * millions a year in a province); the daily roll-ups with days × organizations × items
 * (a city year: under a million rows).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table recognition_queue (
      id bigint generated always as identity primary key,
      kind text not null check (kind in ('lab', 'imaging')),
      result_id bigint not null,
      queued_at timestamptz not null default now(),
      -- a result the stage could not map stays queued with its error; after 5 attempts it is left for an operator
      attempts integer not null default 0,
      error text
    );

    -- new reports, one statement for however many rows the index inserts at once
    create function recognition_queue_lab_inserted() returns trigger language plpgsql as $$
    begin
      insert into recognition_queue (kind, result_id) select 'lab', id from inserted_reports order by id;
      return null;
    end $$;
    create function recognition_queue_lab() returns trigger language plpgsql as $$
    begin
      insert into recognition_queue (kind, result_id) values ('lab', new.id);
      return null;
    end $$;
    create function recognition_queue_study() returns trigger language plpgsql as $$
    begin
      insert into recognition_queue (kind, result_id) values ('imaging', new.id);
      return null;
    end $$;
    create trigger lab_reports_recognition_insert after insert on lab_reports
      referencing new table as inserted_reports for each statement execute function recognition_queue_lab_inserted();
    -- a changed report: every rewrite by a new message changes accepted_id, a merge patient_id.
    -- Row triggers with a WHEN condition: an update that changes none of these costs no call.
    create trigger lab_reports_recognition_update after update on lab_reports
      for each row when (old.accepted_id is distinct from new.accepted_id or old.status is distinct from new.status
        or old.patient_id is distinct from new.patient_id or old.effective_at is distinct from new.effective_at
        or old.loinc_code is distinct from new.loinc_code or old.local_code is distinct from new.local_code)
      execute function recognition_queue_lab();
    create trigger studies_recognition_insert after insert on studies
      for each row execute function recognition_queue_study();
    create trigger studies_recognition_update after update on studies
      for each row when (old.patient_id is distinct from new.patient_id or old.study_date is distinct from new.study_date
        or old.study_time is distinct from new.study_time or old.modalities is distinct from new.modalities
        or old.body_parts is distinct from new.body_parts or old.description is distinct from new.description)
      execute function recognition_queue_study();

    create table recognition_results (
      id bigint generated always as identity primary key,
      kind text not null check (kind in ('lab', 'imaging')),
      -- lab_reports.id or studies.id
      result_id bigint not null,
      item_id bigint not null references catalog_items (id),
      -- the hospital's record (as the result has it); the person is reached through it
      patient_id bigint not null references patients (id),
      organization_id bigint not null references organizations (id),
      -- specimen collection (lab) or study date and time (imaging), and its day in the region
      reference_at timestamptz not null,
      reference_day date not null,
      -- 'withdrawn': cancelled or entered in error, or no longer mapped to this item; kept for the checks and decisions that name it
      status text not null check (status in ('final', 'preliminary', 'corrected', 'withdrawn')),
      -- what the check shows without reading the result's own tables: lab values of this item,
      -- the study's UID, description, modalities and body parts
      summary jsonb not null,
      -- when the result reached the hub: a prior counts for a missed repeat only if it was there in time
      available_at timestamptz not null,
      -- the last time a correction changed it after it was first mapped
      corrected_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      -- the stage's upsert
      constraint recognition_results_key unique (kind, result_id, item_id)
    );
    -- a person's results for an item, newest first: the prior-result check and the missed-repeat
    -- stage, one probe per patient record of the person
    create index recognition_results_patient_item_idx on recognition_results (patient_id, item_id, reference_at desc);

    create table recognition_checks (
      id bigint generated always as identity primary key,
      organization_id bigint not null references organizations (id),
      client_id text,
      practitioner text not null,
      purpose text not null,
      -- an emergency read without consent, and why
      emergency_reason text,
      -- the live person at the time of the check (not a foreign key: persons merge)
      person_id bigint not null,
      item_id bigint not null references catalog_items (id),
      asked_at timestamptz not null default now(),
      -- the asker's calendar day: the day rules and statistics count the check on
      day date not null,
      -- recognition_results shown, and those of them recognizable: what a decision may name
      offered_ids bigint[] not null,
      recognizable_ids bigint[] not null,
      -- results held elsewhere that were not shown for want of authorization
      withheld integer not null default 0,
      first_decided_at timestamptz,
      recognized_at timestamptz,
      declined_at timestamptz
    );

    create table recognition_decisions (
      id bigint generated always as identity primary key,
      check_id bigint not null references recognition_checks (id),
      result_row_id bigint not null references recognition_results (id),
      organization_id bigint not null references organizations (id),
      person_id bigint not null,
      item_id bigint not null references catalog_items (id),
      decision text not null check (decision in ('recognized', 'declined')),
      reasons text[] not null,
      reason_text text,
      practitioner text not null,
      decided_at timestamptz not null default now(),
      day date not null,
      -- the item's price on the decision day (a recognized result: the repeat avoided)
      price_cny numeric(12, 2) not null,
      -- one decision per result offered by a check (the same again is the same decision)
      constraint recognition_decisions_key unique (check_id, result_row_id)
    );
    -- "did this organization decide on this person's item lately": the missed-repeat stage
    create index recognition_decisions_person_item_idx on recognition_decisions (person_id, item_id, decided_at);

    create table recognition_missed (
      id bigint generated always as identity primary key,
      -- the repeat, and the prior that could have been recognized instead
      result_row_id bigint not null references recognition_results (id),
      prior_row_id bigint not null references recognition_results (id),
      organization_id bigint not null references organizations (id),
      item_id bigint not null references catalog_items (id),
      person_id bigint not null,
      day date not null,
      price_cny numeric(12, 2) not null,
      created_at timestamptz not null default now(),
      -- one missed repeat per result, also when two stage loops race
      constraint recognition_missed_result_key unique (result_row_id)
    );

    -- Daily roll-ups, per day of the region, organization (whose act it is: the uploader, the
    -- asker, the repeater) and item. Writers never update these rows (a check a millisecond
    -- would make one row a hot spot): they append to the deltas, which the stage folds in.
    create table recognition_daily (
      day date not null,
      organization_id bigint not null references organizations (id),
      item_id bigint not null references catalog_items (id),
      uploads integer not null default 0,
      films_avoided integer not null default 0,
      lookups integer not null default 0,
      checks integer not null default 0,
      checks_recognizable integer not null default 0,
      checks_decided integer not null default 0,
      recognized integer not null default 0,
      declined integer not null default 0,
      missed integer not null default 0,
      saved_cny numeric(16, 2) not null default 0,
      missed_cny numeric(16, 2) not null default 0,
      -- statistics over a range of days (every grouping reads this one range)
      primary key (day, organization_id, item_id)
    );
    create table recognition_daily_deltas (
      id bigint generated always as identity primary key,
      day date not null,
      organization_id bigint not null,
      item_id bigint not null,
      uploads integer not null default 0,
      films_avoided integer not null default 0,
      lookups integer not null default 0,
      checks integer not null default 0,
      checks_recognizable integer not null default 0,
      checks_decided integer not null default 0,
      recognized integer not null default 0,
      declined integer not null default 0,
      missed integer not null default 0,
      saved_cny numeric(16, 2) not null default 0,
      missed_cny numeric(16, 2) not null default 0
    );
    -- statistics add what is not folded yet (a few seconds' worth) by the same day range
    create index recognition_daily_deltas_day_idx on recognition_daily_deltas (day);

    create table recognition_daily_reasons (
      day date not null,
      organization_id bigint not null references organizations (id),
      item_id bigint not null references catalog_items (id),
      reason text not null,
      declined integer not null default 0,
      primary key (day, organization_id, item_id, reason)
    );
    create table recognition_reason_deltas (
      id bigint generated always as identity primary key,
      day date not null,
      organization_id bigint not null,
      item_id bigint not null,
      reason text not null,
      declined integer not null default 1
    );
    create index recognition_reason_deltas_day_idx on recognition_reason_deltas (day);

    -- The same per calendar month (its first day), folded from the same deltas: a year of a city
    -- is twelve rows per organization and item instead of 365, so statistics by month or for a
    -- whole year read whole months here and only the partial months at the ends from the days.
    create table recognition_monthly (
      month date not null check (extract(day from month) = 1),
      organization_id bigint not null references organizations (id),
      item_id bigint not null references catalog_items (id),
      uploads integer not null default 0,
      films_avoided integer not null default 0,
      lookups integer not null default 0,
      checks integer not null default 0,
      checks_recognizable integer not null default 0,
      checks_decided integer not null default 0,
      recognized integer not null default 0,
      declined integer not null default 0,
      missed integer not null default 0,
      saved_cny numeric(16, 2) not null default 0,
      missed_cny numeric(16, 2) not null default 0,
      primary key (month, organization_id, item_id)
    );
    create table recognition_monthly_reasons (
      month date not null check (extract(day from month) = 1),
      organization_id bigint not null references organizations (id),
      item_id bigint not null references catalog_items (id),
      reason text not null,
      declined integer not null default 0,
      primary key (month, organization_id, item_id, reason)
    );

    insert into recognition_queue (kind, result_id) select 'lab', id from lab_reports order by id;
    insert into recognition_queue (kind, result_id) select 'imaging', id from studies order by id;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop trigger lab_reports_recognition_insert on lab_reports;
    drop trigger lab_reports_recognition_update on lab_reports;
    drop trigger studies_recognition_insert on studies;
    drop trigger studies_recognition_update on studies;
    drop function recognition_queue_lab_inserted();
    drop function recognition_queue_lab();
    drop function recognition_queue_study();
    drop table recognition_monthly_reasons, recognition_monthly, recognition_reason_deltas, recognition_daily_reasons, recognition_daily_deltas, recognition_daily,
      recognition_missed, recognition_decisions, recognition_checks, recognition_results, recognition_queue;
  `);
}
