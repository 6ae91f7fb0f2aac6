import type { Knex } from 'knex';

/**
 * The DICOM doors' own tables.
 *
 * dicom_senders: the calling AE titles each member organization registered for C-STORE, with
 * the source addresses (hosts or networks) they may connect from. One AE title belongs to one
 * organization in the whole region, compared without regard to case (as most PACS do), so an
 * association names its organization unambiguously.
 *
 * dicom_study_owners: which organization holds each study. The first accepted instance of a
 * study claims it; an instance of that study from another organization is refused ("a
 * hospital writes only as itself"). A table of its own rather than a look-up in
 * accepted_objects: one row per study (50 M) instead of an expression index over every
 * instance (500 M), and the claim is one atomic insert, so two hospitals racing to push the
 * same new study cannot both win.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table dicom_senders (
      id bigint generated always as identity primary key,
      organization_id bigint not null references organizations (id),
      -- 1..16 characters of the default repertoire without backslash, no leading or trailing space
      ae_title text not null check (ae_title ~ '^[\\x20-\\x5b\\x5d-\\x7e]{1,16}$' and ae_title = btrim(ae_title)),
      -- null: any source address; otherwise the association's peer must be in one of them
      allowed_addresses inet[],
      created_at timestamptz not null default now()
    );
    -- every association looks its calling AE title up here
    create unique index dicom_senders_ae_title_key on dicom_senders (upper(ae_title));
    -- listing an organization's senders (admin CLI)
    create index dicom_senders_organization_idx on dicom_senders (organization_id);

    create table dicom_study_owners (
      study_instance_uid text primary key,
      organization_id bigint not null references organizations (id),
      claimed_at timestamptz not null default now()
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table dicom_study_owners, dicom_senders;');
}
