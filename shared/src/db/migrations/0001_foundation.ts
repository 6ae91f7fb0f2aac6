import type { Knex } from 'knex';

/**
 * Member organizations, their machine clients, and the audit log.
 *
 * The audit log is the one table of this migration that grows with traffic (every
 * patient-level read adds a row), so it is partitioned by month from the start: old months
 * can be detached and archived without touching the live one, and each query names a
 * time range so it reads only the partitions it needs.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table organizations (
      id bigint generated always as identity primary key,
      code text not null,
      name text not null,
      name_en text,
      kind text not null check (kind in ('hospital', 'imaging_centre', 'authority')),
      -- the class of a hospital in the Chinese grading (e.g. '3A'), used to break statistics down
      grade text,
      stopped_printing_film_on date,
      active boolean not null default true,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      constraint organizations_code_key unique (code),
      constraint organizations_code_format check (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$')
    );

    create table clients (
      id bigint generated always as identity primary key,
      client_id text not null,
      organization_id bigint not null references organizations (id),
      name text not null,
      secret_hash text not null,
      scopes text[] not null,
      created_at timestamptz not null default now(),
      secret_rotated_at timestamptz not null default now(),
      disabled_at timestamptz,
      -- the token endpoint looks a client up by its id on every request
      constraint clients_client_id_key unique (client_id)
    );
    -- listing an organization's clients (admin CLI)
    create index clients_organization_idx on clients (organization_id);

    create table audit_events (
      id bigint generated always as identity,
      at timestamptz not null default now(),
      action text not null,
      outcome text not null check (outcome in ('ok', 'denied', 'error')),
      organization_id bigint references organizations (id),
      client_id text,
      practitioner text,
      patient_id bigint,
      resource_type text,
      resource_id text,
      purpose text,
      emergency boolean not null default false,
      request_id text,
      detail jsonb,
      primary key (id, at)
    ) partition by range (at);
    -- "who looked at this patient's results, when" for a patient's own audit trail
    create index audit_events_patient_idx on audit_events (patient_id, at) where patient_id is not null;
    -- an organization's look-ups over a period (authority statistics, security review)
    create index audit_events_organization_idx on audit_events (organization_id, at);
    -- rows outside every monthly partition land here rather than fail the request that audits them
    create table audit_events_default partition of audit_events default;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table audit_events; drop table clients; drop table organizations;');
}
