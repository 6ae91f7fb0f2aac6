import type { Knex } from 'knex';

/**
 * The regional catalog of recognizable items, the organizations' quality-control
 * qualifications, and the patients' authorizations (consents).
 *
 * A region is the scope a catalogue is defined for (a province, or a city that runs its own),
 * so each item belongs to one region and the same code may mean different windows or prices
 * in two regions. An item's attributes are versioned by the day they apply from: the version
 * in force on day D is the one with the latest effective_from <= D, so a question about a past
 * day keeps its past answer. The catalog holds hundreds of items, qualifications thousands,
 * consents grow with patients (tens of millions in a province): every request-path query
 * below names the index that serves it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table regions (
      id bigint generated always as identity primary key,
      code text not null,
      name text not null,
      name_en text,
      -- calendar days (windows, qualification and consent dates) are counted in this zone
      time_zone text not null default 'Asia/Shanghai',
      -- the region of every organization without a placement of its own: a one-region hub needs none
      is_default boolean not null default false,
      created_at timestamptz not null default now(),
      constraint regions_code_key unique (code),
      constraint regions_code_format check (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$')
    );
    create unique index regions_one_default_key on regions (is_default) where is_default;

    -- where an organization takes part: its catalogue region and its city (a GB/T 2260 code, say)
    create table organization_regions (
      organization_id bigint primary key references organizations (id),
      region_id bigint not null references regions (id),
      city_code text check (city_code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$'),
      updated_at timestamptz not null default now()
    );

    create table catalog_items (
      id bigint generated always as identity primary key,
      region_id bigint not null references regions (id),
      code text not null check (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
      kind text not null check (kind in ('imaging', 'lab')),
      -- what a qualification may name instead of single items: 'clinical-chemistry', 'CT' …
      category text not null check (category ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
      created_at timestamptz not null default now(),
      -- an item by its code (the catalog API), and a region's whole catalogue (listing)
      constraint catalog_items_code_key unique (region_id, code)
    );
    -- a category qualification covers the items of that category
    create index catalog_items_category_idx on catalog_items (region_id, category);

    create table catalog_item_versions (
      id bigint generated always as identity primary key,
      item_id bigint not null references catalog_items (id),
      effective_from date not null,
      -- false: the item leaves the catalogue from this day (its history stays)
      in_catalog boolean not null default true,
      name text not null,
      name_en text not null,
      validity_days integer not null check (validity_days between 1 and 3650),
      price_cny numeric(12, 2) not null check (price_cny >= 0),
      films_per_exam integer check (films_per_exam between 0 and 100),
      note text,
      changed_by_organization_id bigint references organizations (id),
      created_at timestamptz not null default now(),
      -- "the version in force on day D": one backward probe of this index
      constraint catalog_item_versions_effective_key unique (item_id, effective_from)
    );

    -- standard codes that mean the item: LOINC for lab, procedure codes for imaging
    create table catalog_item_codes (
      region_id bigint not null references regions (id),
      system text not null check (length(system) between 1 and 200),
      code text not null check (length(code) between 1 and 64),
      item_id bigint not null references catalog_items (id),
      -- a result's code to its item (index workers, per observation): one code, one item per region
      primary key (region_id, system, code)
    );
    create index catalog_item_codes_item_idx on catalog_item_codes (item_id);

    -- DICOM Modality + Body Part Examined (defined terms) that mean the item
    create table catalog_imaging_keys (
      region_id bigint not null references regions (id),
      modality text not null check (modality ~ '^[A-Z0-9]{1,16}$'),
      body_part text not null check (body_part ~ '^[A-Z0-9_ ]{1,16}$'),
      item_id bigint not null references catalog_items (id),
      primary key (region_id, modality, body_part)
    );
    create index catalog_imaging_keys_item_idx on catalog_imaging_keys (item_id);

    -- each organization's own codes (LIS test codes, PACS procedure codes) mapped to items
    create table organization_item_codes (
      organization_id bigint not null references organizations (id),
      kind text not null check (kind in ('imaging', 'lab')),
      local_code text not null check (length(local_code) between 1 and 64),
      item_id bigint not null references catalog_items (id),
      local_name text,
      updated_at timestamptz not null default now(),
      primary key (organization_id, kind, local_code)
    );
    create index organization_item_codes_item_idx on organization_item_codes (item_id);

    create table alliances (
      id bigint generated always as identity primary key,
      code text not null,
      name text not null,
      name_en text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      constraint alliances_code_key unique (code),
      constraint alliances_code_format check (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$')
    );
    create table alliance_members (
      alliance_id bigint not null references alliances (id),
      organization_id bigint not null references organizations (id),
      -- both days inclusive
      member_from date not null,
      member_until date,
      -- "is the asker a member of this alliance on day D"
      primary key (alliance_id, organization_id, member_from),
      constraint alliance_members_period check (member_until is null or member_until >= member_from)
    );
    create index alliance_members_organization_idx on alliance_members (organization_id);

    create table qualifications (
      id bigint generated always as identity primary key,
      organization_id bigint not null references organizations (id),
      -- the catalogue the item or category belongs to
      region_id bigint not null references regions (id),
      item_id bigint references catalog_items (id),
      category text,
      -- passed external quality assessment, the 'HR' mark, an accreditation (ISO 15189 …)
      basis text not null check (basis in ('eqa-passed', 'hr-mark', 'accreditation')),
      scope text not null check (scope in ('region', 'city', 'alliance')),
      scope_region_id bigint references regions (id),
      scope_city_code text,
      scope_alliance_id bigint references alliances (id),
      -- both days inclusive: valid on valid_from and on valid_until
      valid_from date not null,
      valid_until date,
      reference text,
      granted_by_organization_id bigint references organizations (id),
      created_at timestamptz not null default now(),
      -- withdrawn (entered in error, revoked): kept, and no longer counts for any day
      withdrawn_at timestamptz,
      withdrawn_by_organization_id bigint references organizations (id),
      constraint qualifications_subject check ((item_id is null) <> (category is null)),
      constraint qualifications_scope check (
        (scope = 'region' and scope_region_id is not null and scope_city_code is null and scope_alliance_id is null)
        or (scope = 'city' and scope_city_code is not null and scope_region_id is null and scope_alliance_id is null)
        or (scope = 'alliance' and scope_alliance_id is not null and scope_region_id is null and scope_city_code is null)
      ),
      constraint qualifications_period check (valid_until is null or valid_until >= valid_from)
    );
    -- "is this organization qualified for this item" (its item and category rows, a few hundred at
    -- most per organization) and the organization's list
    create index qualifications_organization_idx on qualifications (organization_id) where withdrawn_at is null;

    -- A patient's authorization for other organizations to read their results (FHIR Consent-like).
    create table consents (
      id bigint generated always as identity primary key,
      person_id bigint not null references persons (id),
      -- the patient's own organization that took it down and keeps the signed form or the record
      recorded_by_organization_id bigint not null references organizations (id),
      recorded_by_practitioner text,
      -- who may read: every organization of a region, or the organizations listed
      scope text not null check (scope in ('region', 'organizations')),
      region_id bigint references regions (id),
      purpose text not null check (purpose in ('treatment', 'emergency-treatment', 'care-management')),
      method text not null check (method in ('written', 'electronic', 'verbal-recorded')),
      -- in force from valid_from (inclusive) until valid_until (exclusive), unless revoked before
      valid_from timestamptz not null,
      valid_until timestamptz,
      recorded_at timestamptz not null default now(),
      revoked_at timestamptz,
      revoked_by_organization_id bigint references organizations (id),
      revocation_reason text,
      constraint consents_scope check ((scope = 'region') = (region_id is not null)),
      constraint consents_period check (valid_until is null or valid_until > valid_from)
    );
    -- every authorization check and the patient's consent list: one person's few consents
    create index consents_person_idx on consents (person_id);

    create table consent_organizations (
      consent_id bigint not null references consents (id),
      organization_id bigint not null references organizations (id),
      primary key (consent_id, organization_id)
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop table consent_organizations, consents, qualifications, alliance_members, alliances,
      organization_item_codes, catalog_imaging_keys, catalog_item_codes, catalog_item_versions,
      catalog_items, organization_regions, regions;
  `);
}
